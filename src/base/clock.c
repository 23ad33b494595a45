/* The program clock: real time plus an offset that only test mode may change. */
#include "base/clock.h"

#include "base/err.h"

#include <stdatomic.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

static atomic_llong clock_offset_us;
static atomic_int clock_test_mode;
static atomic_int clock_frozen;
static atomic_llong clock_frozen_at_us;

static int64_t clock_real_us(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return (int64_t)ts.tv_sec * 1000000 + ts.tv_nsec / 1000;
}

int64_t clock_now_us(void)
{
    if (atomic_load(&clock_frozen))
        return atomic_load(&clock_frozen_at_us);
    return clock_real_us() + atomic_load(&clock_offset_us);
}

int64_t clock_mono_us(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000000 + ts.tv_nsec / 1000;
}

void clock_enable_test(void)
{
    atomic_store(&clock_test_mode, 1);
}

int clock_is_test(void)
{
    return atomic_load(&clock_test_mode);
}

int clock_set_us(int64_t now_us)
{
    if (!clock_is_test())
        return AT_EFORBIDDEN;
    atomic_store(&clock_offset_us, now_us - clock_real_us());
    atomic_store(&clock_frozen_at_us, now_us);
    return AT_OK;
}

int clock_advance_us(int64_t delta_us)
{
    if (!clock_is_test())
        return AT_EFORBIDDEN;
    atomic_fetch_add(&clock_offset_us, delta_us);
    atomic_fetch_add(&clock_frozen_at_us, delta_us);
    return AT_OK;
}

int clock_freeze(bool frozen)
{
    if (!clock_is_test())
        return AT_EFORBIDDEN;
    if (frozen && !atomic_load(&clock_frozen)) {
        atomic_store(&clock_frozen_at_us, clock_now_us());
        atomic_store(&clock_frozen, 1);
    } else if (!frozen && atomic_load(&clock_frozen)) {
        /* Resume from the frozen reading: real time runs on from here. */
        atomic_store(&clock_offset_us, atomic_load(&clock_frozen_at_us) - clock_real_us());
        atomic_store(&clock_frozen, 0);
    }
    return AT_OK;
}

void clock_format_rfc3339(int64_t us, char out[32])
{
    time_t secs = (time_t)(us >= 0 ? us / 1000000 : (us - 999999) / 1000000);
    long frac = (long)(us - (int64_t)secs * 1000000);
    struct tm tm;
    gmtime_r(&secs, &tm);
    /* Four-digit years always, so every formatted time parses back (strftime's %Y gives "1" for 0001). */
    int n = snprintf(out, 32, "%04d-%02d-%02dT%02d:%02d:%02d", tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday,
                     tm.tm_hour, tm.tm_min, tm.tm_sec);
    if (n < 0 || n >= 32)
        n = 0;
    if (frac)
        snprintf(out + n, 32 - (size_t)n, ".%06ldZ", frac);
    else
        snprintf(out + n, 32 - (size_t)n, "Z");
}

/* Parses exactly `width` decimal digits at s; returns -1 if any is not a digit. */
static int clock_digits(const char *s, int width)
{
    int v = 0;
    for (int i = 0; i < width; i++) {
        if (s[i] < '0' || s[i] > '9')
            return -1;
        v = v * 10 + (s[i] - '0');
    }
    return v;
}

/* Days since 1970-01-01 of a proleptic Gregorian date (Howard Hinnant's algorithm). */
static int64_t clock_days_from_civil(int64_t y, int m, int d)
{
    y -= m <= 2;
    int64_t era = (y >= 0 ? y : y - 399) / 400;
    int64_t yoe = y - era * 400;
    int64_t doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
    int64_t doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    return era * 146097 + doe - 719468;
}

int clock_parse_rfc3339(const char *s, size_t len, int64_t *us_out)
{
    static const int mdays[] = {31, 29, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
    if (len < 20 || s[4] != '-' || s[7] != '-' || (s[10] != 'T' && s[10] != 't') || s[13] != ':' ||
        s[16] != ':')
        return AT_EINVAL;
    int y = clock_digits(s, 4), mo = clock_digits(s + 5, 2), d = clock_digits(s + 8, 2);
    int h = clock_digits(s + 11, 2), mi = clock_digits(s + 14, 2), se = clock_digits(s + 17, 2);
    if (y < 0 || mo < 1 || mo > 12 || d < 1 || d > mdays[mo - 1] || h < 0 || h > 23 || mi < 0 || mi > 59 ||
        se < 0 || se > 59)
        return AT_EINVAL;
    if (mo == 2 && d == 29 && !((y % 4 == 0 && y % 100 != 0) || y % 400 == 0))
        return AT_EINVAL;
    size_t i = 19;
    int64_t frac = 0;
    if (i < len && s[i] == '.') {
        i++;
        int digits = 0;
        while (i < len && s[i] >= '0' && s[i] <= '9') {
            if (digits < 6)
                frac = frac * 10 + (s[i] - '0'), digits++;
            i++;
        }
        if (digits == 0)
            return AT_EINVAL;
        while (digits++ < 6)
            frac *= 10;
    }
    int64_t offset = 0;
    if (i < len && (s[i] == 'Z' || s[i] == 'z')) {
        i++;
    } else if (i + 6 == len && (s[i] == '+' || s[i] == '-') && s[i + 3] == ':') {
        int oh = clock_digits(s + i + 1, 2), om = clock_digits(s + i + 4, 2);
        if (oh < 0 || oh > 23 || om < 0 || om > 59)
            return AT_EINVAL;
        offset = (int64_t)(oh * 60 + om) * 60 * (s[i] == '+' ? 1 : -1);
        i += 6;
    } else {
        return AT_EINVAL;
    }
    if (i != len)
        return AT_EINVAL;
    int64_t secs = clock_days_from_civil(y, mo, d) * 86400 + h * 3600 + mi * 60 + se - offset;
    /* The UTC instant must stay within years 0001-9999, so it formats back to four digits. */
    if (secs < clock_days_from_civil(1, 1, 1) * 86400 || secs >= clock_days_from_civil(10000, 1, 1) * 86400)
        return AT_EINVAL;
    *us_out = secs * 1000000 + frac;
    return AT_OK;
}
