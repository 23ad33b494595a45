/* Money and billing time (issue 7 §2, §5): exact integer arithmetic in minor units with 128-bit
 * intermediates, the one rounding rule (half away from zero), currency formatting without setlocale,
 * and the UTC calendar of billing periods. Pure: no state, no allocation, no locale, no libc time. */
#include "billing/money.h"

#include "billing/catalog.h"

#include <assert.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>

typedef __int128 money_i128;

static int64_t money_clamp(money_i128 v);
static money_i128 money_div_round(money_i128 n, money_i128 d);
static int64_t floor_div(int64_t a, int64_t b);
static int64_t days_from_civil(int64_t y, int m, int d);
static void civil_from_days(int64_t z, int64_t *y, int *m, int *d);
static int days_in_month(int64_t y, int m);
static bool is_leap(int64_t y);

#define US_PER_DAY ((int64_t)86400 * 1000000)
/* Months of +-300,000 years: wider than the int64 microsecond range (about +-292,277 years), so a
 * clamped k still saturates the result instead of overflowing the civil arithmetic. */
#define CYCLE_MAX_MONTHS ((int64_t)300000 * 12)

/* ---------------------------------------------------------------------------------------------
 * Arithmetic
 * --------------------------------------------------------------------------------------------- */

int64_t money_muldiv(int64_t a, int64_t b, int64_t d)
{
    assert(d > 0);
    if (d <= 0)
        return 0;
    return money_clamp(money_div_round((money_i128)a * b, d));
}

int64_t money_prorate(int64_t amount, int64_t remaining, int64_t period)
{
    if (period <= 0)
        return 0;
    if (remaining < 0)
        remaining = 0;
    if (remaining > period)
        remaining = period;
    return money_muldiv(amount, remaining, period);
}

int64_t money_tax(int64_t subtotal, int64_t rate_bp)
{
    return money_muldiv(subtotal, rate_bp, 10000);
}

int64_t money_usage_overage(int64_t used, int64_t included)
{
    if (used <= included)
        return 0;
    return money_clamp((money_i128)used - included);
}

int64_t money_usage_amount(int64_t units, int64_t unit_price, int64_t per_units)
{
    if (units <= 0)
        return 0;
    if (per_units < 1)
        per_units = 1;
    /* ceil(units / per_units) for units >= 1, without the overflow of units + per_units - 1. */
    int64_t packages = (units - 1) / per_units + 1;
    return money_clamp((money_i128)packages * unit_price);
}

/* ---------------------------------------------------------------------------------------------
 * Currencies
 * --------------------------------------------------------------------------------------------- */

/* ISO 4217 currencies whose minor unit is not 2 digits. */
static const struct {
    char code[4];
    int exponent;
} money_exponents[] = {
    {"BIF", 0}, {"CLP", 0}, {"DJF", 0}, {"GNF", 0}, {"ISK", 0}, {"JPY", 0}, {"KMF", 0}, {"KRW", 0}, {"PYG", 0},
    {"RWF", 0}, {"UGX", 0}, {"UYI", 0}, {"VND", 0}, {"VUV", 0}, {"XAF", 0}, {"XOF", 0}, {"XPF", 0}, {"BHD", 3},
    {"IQD", 3}, {"JOD", 3}, {"KWD", 3}, {"LYD", 3}, {"OMR", 3}, {"TND", 3}, {"CLF", 4}, {"UYW", 4},
};

/* Symbols written before the amount; every other currency is written as "amount CODE". */
static const struct {
    char code[4];
    const char *symbol;
} money_symbols[] = {
    {"USD", "$"}, {"EUR", "\xe2\x82\xac"}, {"GBP", "\xc2\xa3"}, {"JPY", "\xc2\xa5"}, {"AUD", "A$"}, {"CAD", "C$"},
};

int money_exponent(const char *currency)
{
    if (!currency)
        return 2;
    for (size_t i = 0; i < sizeof(money_exponents) / sizeof(money_exponents[0]); i++)
        if (strcmp(money_exponents[i].code, currency) == 0)
            return money_exponents[i].exponent;
    return 2;
}

/* money_format: the sign first ("-$5.00", "-1.00 CHF"), then the symbol, the integer part grouped by
 * threes with ',', and '.' with exactly `exponent` digits. The widest output, INT64_MIN with a 3-byte
 * symbol, is 31 bytes; a code longer than 8 bytes is cut. */
void money_format(int64_t minor, const char *currency, char out[48])
{
    const char *code = currency ? currency : "";
    int exponent = money_exponent(code);
    const char *symbol = NULL;
    for (size_t i = 0; i < sizeof(money_symbols) / sizeof(money_symbols[0]); i++)
        if (strcmp(money_symbols[i].code, code) == 0)
            symbol = money_symbols[i].symbol;

    /* The magnitude as unsigned, so INT64_MIN has one too. */
    uint64_t mag = minor < 0 ? (uint64_t)0 - (uint64_t)minor : (uint64_t)minor;
    uint64_t scale = 1;
    for (int i = 0; i < exponent; i++)
        scale *= 10;
    uint64_t whole = mag / scale, frac = mag % scale;

    /* Digits of the whole part, grouped, built right to left. */
    char digits[40];
    size_t pos = sizeof(digits);
    digits[--pos] = '\0';
    int n = 0;
    do {
        if (n > 0 && n % 3 == 0)
            digits[--pos] = ',';
        digits[--pos] = (char)('0' + whole % 10);
        whole /= 10;
        n++;
    } while (whole > 0);

    char fraction[8] = "";
    if (exponent > 0)
        snprintf(fraction, sizeof(fraction), ".%0*llu", exponent, (unsigned long long)frac);

    if (symbol)
        snprintf(out, 48, "%s%s%s%s", minor < 0 ? "-" : "", symbol, digits + pos, fraction);
    else if (code[0])
        snprintf(out, 48, "%s%s%s %.8s", minor < 0 ? "-" : "", digits + pos, fraction, code);
    else
        snprintf(out, 48, "%s%s%s", minor < 0 ? "-" : "", digits + pos, fraction);
}

/* ---------------------------------------------------------------------------------------------
 * The billing calendar
 * --------------------------------------------------------------------------------------------- */

/* billing_cycle_time: the anchor split into a civil date and a time of day (UTC), the month count
 * moved by k (or 12k), the day clamped to the target month's length, and joined again. Results beyond
 * the int64 microsecond range saturate. */
int64_t billing_cycle_time(int64_t anchor_us, int interval, int64_t k)
{
    assert(interval == BILLING_MONTH || interval == BILLING_YEAR);
    int64_t day = floor_div(anchor_us, US_PER_DAY);
    int64_t tod = anchor_us - day * US_PER_DAY;
    int64_t y;
    int m, d;
    civil_from_days(day, &y, &m, &d);

    money_i128 step = interval == BILLING_YEAR ? (money_i128)k * 12 : (money_i128)k;
    if (step > CYCLE_MAX_MONTHS)
        step = CYCLE_MAX_MONTHS;
    if (step < -CYCLE_MAX_MONTHS)
        step = -CYCLE_MAX_MONTHS;
    int64_t months = y * 12 + (m - 1) + (int64_t)step;
    int64_t ny = floor_div(months, 12);
    int nm = (int)(months - ny * 12) + 1;
    int dim = days_in_month(ny, nm);
    int nd = d < dim ? d : dim;
    return money_clamp((money_i128)days_from_civil(ny, nm, nd) * US_PER_DAY + tod);
}

/* billing_cycle_index: the whole months (or years) between the two civil dates is within one of the
 * answer, since period starts strictly increase with k; the loops step it to the exact k. They are
 * bounded because near the ends of the int64 range billing_cycle_time saturates and stops increasing. */
int64_t billing_cycle_index(int64_t anchor_us, int interval, int64_t t_us)
{
    assert(interval == BILLING_MONTH || interval == BILLING_YEAR);
    int64_t ay, ty;
    int am, ad, tm, td;
    civil_from_days(floor_div(anchor_us, US_PER_DAY), &ay, &am, &ad);
    civil_from_days(floor_div(t_us, US_PER_DAY), &ty, &tm, &td);
    int64_t k = interval == BILLING_YEAR ? ty - ay : (ty * 12 + tm) - (ay * 12 + am);
    for (int i = 0; i < 3 && billing_cycle_time(anchor_us, interval, k) > t_us; i++)
        k--;
    for (int i = 0; i < 3 && billing_cycle_time(anchor_us, interval, k + 1) <= t_us; i++)
        k++;
    return k;
}

/* billing_period_end: the index of the period holding start_us, then the next boundary; when start_us
 * is itself a boundary that is the one after it (a boundary is never a period's end and its start). */
int64_t billing_period_end(int64_t anchor_us, int interval, int64_t start_us)
{
    int64_t k = billing_cycle_index(anchor_us, interval, start_us);
    int64_t end = billing_cycle_time(anchor_us, interval, k + 1);
    return end > start_us ? end : billing_cycle_time(anchor_us, interval, k + 2);
}

/* ---------------------------------------------------------------------------------------------
 * Helpers
 * --------------------------------------------------------------------------------------------- */

/* Saturates a 128-bit value to the int64 range. */
static int64_t money_clamp(money_i128 v)
{
    if (v > INT64_MAX)
        return INT64_MAX;
    if (v < INT64_MIN)
        return INT64_MIN;
    return (int64_t)v;
}

/* round_half_away(n / d) for d > 0. C division truncates toward zero, so the remainder has n's sign;
 * a remainder of at least half the divisor moves the quotient one step away from zero. */
static money_i128 money_div_round(money_i128 n, money_i128 d)
{
    money_i128 q = n / d, r = n % d;
    money_i128 twice = r < 0 ? -2 * r : 2 * r;
    if (twice >= d)
        q += n < 0 ? -1 : 1;
    return q;
}

/* Division rounding toward negative infinity, for b > 0. */
static int64_t floor_div(int64_t a, int64_t b)
{
    int64_t q = a / b;
    if (a % b != 0 && a < 0)
        q--;
    return q;
}

static bool is_leap(int64_t y)
{
    return (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
}

static int days_in_month(int64_t y, int m)
{
    static const int days[12] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
    return m == 2 && is_leap(y) ? 29 : days[m - 1];
}

/* Days since 1970-01-01 of a proleptic Gregorian date (H. Hinnant's days_from_civil): years start in
 * March so the leap day is last, and 400-year eras of 146097 days repeat exactly. */
static int64_t days_from_civil(int64_t y, int m, int d)
{
    y -= m <= 2;
    int64_t era = floor_div(y, 400);
    int64_t yoe = y - era * 400;                                   /* [0, 399] */
    int64_t doy = (153 * (m > 2 ? m - 3 : m + 9) + 2) / 5 + d - 1; /* [0, 365] */
    int64_t doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;           /* [0, 146096] */
    return era * 146097 + doe - 719468;
}

/* The inverse of days_from_civil. */
static void civil_from_days(int64_t z, int64_t *y, int *m, int *d)
{
    z += 719468;
    int64_t era = floor_div(z, 146097);
    int64_t doe = z - era * 146097;                                      /* [0, 146096] */
    int64_t yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365; /* [0, 399] */
    int64_t doy = doe - (365 * yoe + yoe / 4 - yoe / 100);               /* [0, 365] */
    int64_t mp = (5 * doy + 2) / 153;                                    /* [0, 11], from March */
    *d = (int)(doy - (153 * mp + 2) / 5 + 1);
    *m = (int)(mp < 10 ? mp + 3 : mp - 9);
    *y = yoe + era * 400 + (*m <= 2);
}
