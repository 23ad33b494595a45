/* Unit tests of the process-wide event counters (src/base/counters.c): labels by value and by a
 * bucket key's prefix, the bounded number of series, and the Prometheus text. */
#include "base/buf.h"
#include "base/counters.h"

#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* The text counters_write produces now; the caller frees it. */
static char *counters_text(void)
{
    buf b;
    size_t len = 0;
    buf_init(&b);
    counters_write(&b);
    return buf_steal(&b, &len);
}

Test(counters, labels_count_apart_and_keys_count_by_their_prefix)
{
    unsigned long long smtp = counters_get(COUNTER_MAIL_SENT, "smtp");
    unsigned long long folder = counters_get(COUNTER_MAIL_SENT, "folder");
    counters_inc(COUNTER_MAIL_SENT, "smtp");
    counters_inc(COUNTER_MAIL_SENT, "smtp");
    counters_inc(COUNTER_MAIL_SENT, "folder");
    cr_assert_eq(counters_get(COUNTER_MAIL_SENT, "smtp"), smtp + 2);
    cr_assert_eq(counters_get(COUNTER_MAIL_SENT, "folder"), folder + 1);

    unsigned long long login = counters_get(COUNTER_RATE_LIMITED, "login");
    counters_inc_prefix(COUNTER_RATE_LIMITED, "login:203.0.113.9");
    counters_inc_prefix(COUNTER_RATE_LIMITED, "login:2001:db8::1");
    cr_assert_eq(counters_get(COUNTER_RATE_LIMITED, "login"), login + 2);
    unsigned long long other = counters_get(COUNTER_RATE_LIMITED, "other");
    counters_inc_prefix(COUNTER_RATE_LIMITED, "no-prefix-here");
    counters_inc_prefix(COUNTER_RATE_LIMITED, ":empty");
    cr_assert_eq(counters_get(COUNTER_RATE_LIMITED, "other"), other + 2);
}

Test(counters, the_number_of_series_is_bounded)
{
    char label[32];
    for (int i = 0; i < 3 * COUNTERS_SERIES; i++) {
        snprintf(label, sizeof(label), "reason%d", i);
        counters_inc(COUNTER_SIGNIN_FAILURES, label);
    }
    counters_inc(COUNTER_SIGNIN_FAILURES, "a-label-far-too-long-to-be-a-code-constant-at-all");
    char *text = counters_text();
    int series = 0;
    for (const char *p = text; (p = strstr(p, "atrium_signin_failures_total{")); p++)
        series++;
    cr_assert_leq(series, COUNTERS_SERIES);
    cr_assert_geq(counters_get(COUNTER_SIGNIN_FAILURES, "other"), 2 * COUNTERS_SERIES);
    free(text);
}

Test(counters, every_family_has_help_and_type_and_an_unlabelled_one_shows_zero)
{
    char *text = counters_text();
    const char *names[] = {"atrium_mail_sent_total", "atrium_mail_failed_total", "atrium_signin_failures_total",
                           "atrium_signin_lockouts_total", "atrium_rate_limited_total"};
    char want[128];
    for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
        snprintf(want, sizeof(want), "# HELP %s ", names[i]);
        cr_assert_not_null(strstr(text, want), "%s", want);
        snprintf(want, sizeof(want), "# TYPE %s counter\n", names[i]);
        cr_assert_not_null(strstr(text, want), "%s", want);
    }
    cr_assert(strstr(text, "\natrium_signin_lockouts_total ") != NULL);
    free(text);
    unsigned long long n = counters_get(COUNTER_LOCKOUTS, NULL);
    counters_inc(COUNTER_LOCKOUTS, "ignored");
    cr_assert_eq(counters_get(COUNTER_LOCKOUTS, NULL), n + 1);
}
