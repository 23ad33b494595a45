/* Unit tests of money arithmetic, formatting and the billing calendar (src/billing/money.c). Every
 * expected value is worked out by hand in the comment beside it; none comes from the code under test. */
#include "billing/catalog.h"
#include "billing/money.h"

#include <criterion/criterion.h>
#include <stdint.h>
#include <string.h>

#define N(a) (sizeof(a) / sizeof((a)[0]))

/* A UTC instant from a day number (days since 1970-01-01, worked out in the comments) and the second
 * of that day, in microseconds. Plain arithmetic on hand-computed inputs. */
#define AT(day, sec) (((int64_t)(day)*86400 + (int64_t)(sec)) * 1000000)

/* ---------------------------------------------------------------------------------------------
 * money_muldiv and its rounding rule
 * --------------------------------------------------------------------------------------------- */

Test(billing_money, muldiv_rounds_half_away_from_zero)
{
    struct {
        int64_t a, b, d, want;
    } cases[] = {
        {0, 123, 7, 0},       /* 0 */
        {3, 5, 2, 8},         /* 15/2 = 7.5 -> 8 */
        {-3, 5, 2, -8},       /* -7.5 -> -8 */
        {3, -5, 2, -8},       /* -7.5 -> -8 */
        {-3, -5, 2, 8},       /* 7.5 -> 8 */
        {7, 1, 3, 2},         /* 2.333 -> 2 */
        {8, 1, 3, 3},         /* 2.667 -> 3 */
        {-7, 1, 3, -2},       /* -2.333 -> -2 */
        {-8, 1, 3, -3},       /* -2.667 -> -3 */
        {5, 1, 4, 1},         /* 1.25 -> 1 */
        {7, 1, 4, 2},         /* 1.75 -> 2 */
        {-5, 1, 4, -1},       /* -1.25 -> -1 */
        {-7, 1, 4, -2},       /* -1.75 -> -2 */
        {1, 1, 2, 1},         /* 0.5 -> 1 */
        {-1, 1, 2, -1},       /* -0.5 -> -1 */
        {1, 1, 3, 0},         /* 0.333 -> 0 */
        {-1, 1, 3, 0},        /* -0.333 -> 0 (never -0 issues: integers) */
        {100, 100, 1, 10000}, /* exact */
    };
    for (size_t i = 0; i < N(cases); i++)
        cr_assert_eq(money_muldiv(cases[i].a, cases[i].b, cases[i].d), cases[i].want, "case %zu: %lld", i,
                     (long long)money_muldiv(cases[i].a, cases[i].b, cases[i].d));
}

Test(billing_money, muldiv_uses_a_128_bit_intermediate)
{
    struct {
        int64_t a, b, d, want;
    } cases[] = {
        /* (2^63-1)(2^63-1)/(2^63-1) = 2^63-1; the product needs 126 bits. */
        {INT64_MAX, INT64_MAX, INT64_MAX, INT64_MAX},
        /* (2^63-1)(2^63-2)/(2^63-1) = 2^63-2 = 9223372036854775806. */
        {INT64_MAX, INT64_MAX - 1, INT64_MAX, INT64_MAX - 1},
        /* (2^63-1)*3/3 = 2^63-1; the product overflows 64 bits. */
        {INT64_MAX, 3, 3, INT64_MAX},
        /* (2^63-1)*2/4 = (2^63-1)/2 = 4611686018427387903.5 -> 4611686018427387904. */
        {INT64_MAX, 2, 4, 4611686018427387904LL},
        /* -2^63 * 1/2 = -2^62 = -4611686018427387904, exact. */
        {INT64_MIN, 1, 2, -4611686018427387904LL},
        /* -(2^63-1)/2 = -4611686018427387903.5 -> -4611686018427387904. */
        {INT64_MIN + 1, 1, 2, -4611686018427387904LL},
        /* -(2^63-1)(2^63-1)/(2^63-1) = -(2^63-1). */
        {-INT64_MAX, INT64_MAX, INT64_MAX, -INT64_MAX},
        /* 10^18 * 90 / 100 = 9 * 10^17; the product 9 * 10^19 exceeds 2^63 (about 9.22 * 10^18). */
        {1000000000000000000LL, 90, 100, 900000000000000000LL},
        /* 10^18 * 3 / 7 = 428571428571428571.43 -> 428571428571428571. */
        {1000000000000000000LL, 3, 7, 428571428571428571LL},
        /* 10^18 * 5 / 7 = 714285714285714285.71 -> 714285714285714286. */
        {1000000000000000000LL, 5, 7, 714285714285714286LL},
        /* -10^18 * 5 / 7 = -714285714285714285.71 -> -714285714285714286. */
        {-1000000000000000000LL, 5, 7, -714285714285714286LL},
    };
    for (size_t i = 0; i < N(cases); i++)
        cr_assert_eq(money_muldiv(cases[i].a, cases[i].b, cases[i].d), cases[i].want, "case %zu: %lld", i,
                     (long long)money_muldiv(cases[i].a, cases[i].b, cases[i].d));
}

/* ---------------------------------------------------------------------------------------------
 * Proration
 * --------------------------------------------------------------------------------------------- */

Test(billing_money, prorate_stripe_upgrade_example)
{
    /* Stripe's example: $10/month -> $20/month halfway through a 30-day period. The period is
     * 30 * 86400 = 2,592,000 s; 15 days = 1,296,000 s remain. Credit for the unused old plan:
     * -1000 * 1296000 / 2592000 = -500. Charge for the rest on the new plan: 2000 * 1/2 = 1000. */
    cr_assert_eq(money_prorate(-1000, 1296000, 2592000), -500);
    cr_assert_eq(money_prorate(2000, 1296000, 2592000), 1000);
}

Test(billing_money, prorate_table)
{
    struct {
        int64_t amount, remaining, period, want;
    } cases[] = {
        /* 1 s of a 31-day month (2,678,400 s) at 3900: 3900 / 2678400 = 0.00146 -> 0. */
        {3900, 1, 2678400, 0},
        /* 1000 s: 3,900,000 / 2,678,400 = 1.456 -> 1. */
        {3900, 1000, 2678400, 1},
        /* 2000 s: 7,800,000 / 2,678,400 = 2.912 -> 3. */
        {3900, 2000, 2678400, 3},
        /* 10 days of 31 (864,000 s of 2,678,400): 39000 / 31 = 1258.06 (31 * 1258 = 38998) -> 1258. */
        {3900, 864000, 2678400, 1258},
        /* Credit of the same: -1258.06 -> -1258. */
        {-3900, 864000, 2678400, -1258},
        /* 1 day of a 29-day February (86,400 of 2,505,600 s): 3900 / 29 = 134.48 (29 * 134 = 3886) -> 134. */
        {3900, 86400, 2505600, 134},
        /* Half a cent up: 1999 for 15 of 30 days = 999.5 -> 1000; as a credit -999.5 -> -1000. */
        {1999, 1296000, 2592000, 1000},
        {-1999, 1296000, 2592000, -1000},
        /* 1 for 1 of 2 s = 0.5 -> 1, and -0.5 -> -1. */
        {1, 1, 2, 1},
        {-1, 1, 2, -1},
        /* 3 for 1 of 2 s = 1.5 -> 2 and -1.5 -> -2. */
        {3, 1, 2, 2},
        {-3, 1, 2, -2},
        /* Just below half: 1999 * 1295999 / 2592000 = 999.4992 -> 999. */
        {1999, 1295999, 2592000, 999},
        /* Remaining clamped to [0, period]: more than the period is the whole amount, negative is 0. */
        {3900, 5000000, 2678400, 3900},
        {3900, -5, 2678400, 0},
        {3900, 2678400, 2678400, 3900},
        {3900, 0, 2678400, 0},
        /* A non-positive period gives 0. */
        {3900, 10, 0, 0},
        {3900, 10, -10, 0},
        /* A yearly price at the catalog's bound (10^12) for 1 s of 366 days (31,622,400 s):
         * 10^12 / 31622400 = 31623.28 -> 31623. */
        {1000000000000LL, 1, 31622400, 31623},
    };
    for (size_t i = 0; i < N(cases); i++)
        cr_assert_eq(money_prorate(cases[i].amount, cases[i].remaining, cases[i].period), cases[i].want,
                     "case %zu: %lld", i,
                     (long long)money_prorate(cases[i].amount, cases[i].remaining, cases[i].period));
}

/* ---------------------------------------------------------------------------------------------
 * Tax and usage
 * --------------------------------------------------------------------------------------------- */

Test(billing_money, tax_rounding)
{
    struct {
        int64_t subtotal, bp, want;
    } cases[] = {
        {1999, 1900, 380},   /* 1999 * 0.19 = 379.81 -> 380 */
        {5, 1000, 1},        /* 0.5 -> 1 */
        {-5, 1000, -1},      /* -0.5 -> -1 */
        {4, 1000, 0},        /* 0.4 -> 0 */
        {-4, 1000, 0},       /* -0.4 -> 0 */
        {15, 1000, 2},       /* 1.5 -> 2 */
        {25, 1000, 3},       /* 2.5 -> 3 (not banker's 2) */
        {-25, 1000, -3},     /* -2.5 -> -3 */
        {3900, 2000, 780},   /* exact */
        {12345, 825, 1018},  /* 12345 * 825 = 10,184,625 / 10000 = 1018.4625 -> 1018 */
        {0, 2000, 0},        /* nothing taxed */
        {1000, 0, 0},        /* zero rate */
        {1000, 10000, 1000}, /* 100 % */
        {-3900, 2100, -819}, /* -3900 * 0.21 = -819, exact */
        {1001, 2300, 230},   /* 1001 * 0.23 = 230.23 -> 230 */
        {1003, 2500, 251},   /* 1003 * 0.25 = 250.75 -> 251 */
        /* 10^18 at 20 %: 2 * 10^17; the product 2 * 10^21 needs the 128-bit intermediate. */
        {1000000000000000000LL, 2000, 200000000000000000LL},
    };
    for (size_t i = 0; i < N(cases); i++)
        cr_assert_eq(money_tax(cases[i].subtotal, cases[i].bp), cases[i].want, "case %zu: %lld", i,
                     (long long)money_tax(cases[i].subtotal, cases[i].bp));
}

Test(billing_money, usage_overage_and_packages)
{
    cr_assert_eq(money_usage_overage(10500, 10000), 500); /* 10500 - 10000 */
    cr_assert_eq(money_usage_overage(10000, 10000), 0);   /* exactly the allowance */
    cr_assert_eq(money_usage_overage(5, 10000), 0);       /* under it */
    cr_assert_eq(money_usage_overage(0, 0), 0);
    cr_assert_eq(money_usage_overage(1, 0), 1);

    struct {
        int64_t units, price, per, want;
    } cases[] = {
        {0, 50, 1000, 0},             /* nothing over */
        {-3, 50, 1000, 0},            /* negative units bill nothing */
        {1, 50, 1000, 50},            /* ceil(1/1000) = 1 package */
        {500, 50, 1000, 50},          /* ceil(0.5) = 1 */
        {1000, 50, 1000, 50},         /* exactly 1 */
        {1001, 50, 1000, 100},        /* ceil(1.001) = 2 -> 100 */
        {2999, 40, 1000, 120},        /* ceil(2.999) = 3 -> 120 */
        {7, 6, 1, 42},                /* 7 minutes at 6 each */
        {3, 1, 2, 2},                 /* ceil(1.5) = 2 packages of 2 contacts at 1 */
        {4, 1, 2, 2},                 /* 2 packages */
        {3, 5, 0, 15},                /* per_units 0 is 1: 3 * 5 */
        {3, 5, -4, 15},               /* per_units < 1 is 1 */
        {INT64_MAX, 1, 1, INT64_MAX}, /* 2^63-1 packages at 1 */
        /* ceil((2^63-1)/2) = 2^62 packages (no overflow from units + per - 1) at 1. */
        {INT64_MAX, 1, 2, 4611686018427387904LL},
    };
    for (size_t i = 0; i < N(cases); i++)
        cr_assert_eq(money_usage_amount(cases[i].units, cases[i].price, cases[i].per), cases[i].want, "case %zu: %lld",
                     i, (long long)money_usage_amount(cases[i].units, cases[i].price, cases[i].per));
}

/* ---------------------------------------------------------------------------------------------
 * Currencies and formatting
 * --------------------------------------------------------------------------------------------- */

Test(billing_money, exponents)
{
    struct {
        const char *code;
        int want;
    } cases[] = {
        {"USD", 2}, {"EUR", 2}, {"GBP", 2}, {"JPY", 0}, {"KRW", 0}, {"BHD", 3}, {"KWD", 3},
        {"OMR", 3}, {"JOD", 3}, {"TND", 3}, {"XYZ", 2}, {"", 2},    {"usd", 2},
    };
    for (size_t i = 0; i < N(cases); i++)
        cr_assert_eq(money_exponent(cases[i].code), cases[i].want, "%s", cases[i].code);
    cr_assert_eq(money_exponent(NULL), 2);
}

Test(billing_money, format_table)
{
    struct {
        int64_t minor;
        const char *currency, *want;
    } cases[] = {
        {0, "USD", "$0.00"},
        {1, "USD", "$0.01"},
        {99, "USD", "$0.99"},
        {-500, "USD", "-$5.00"},
        {-1, "USD", "-$0.01"},
        {99999, "USD", "$999.99"},
        {100000, "USD", "$1,000.00"},
        {1234567, "USD", "$12,345.67"},
        {100000000, "USD", "$1,000,000.00"},
        {1200, "EUR",
         "\xe2\x82\xac"
         "12.00"}, /* the euro sign is U+20AC, E2 82 AC in UTF-8 */
        {99, "GBP",
         "\xc2\xa3"
         "0.99"}, /* the pound sign is U+00A3 */
        {1200, "JPY",
         "\xc2\xa5"
         "1,200"}, /* the yen sign is U+00A5; no minor digits */
        {-1200, "JPY",
         "-\xc2\xa5"
         "1,200"},
        {0, "JPY",
         "\xc2\xa5"
         "0"},
        {123456, "AUD", "A$1,234.56"},
        {123456, "CAD", "C$1,234.56"},
        {1234567, "BHD", "1,234.567 BHD"}, /* 3 minor digits, code after */
        {5, "BHD", "0.005 BHD"},
        {-5, "BHD", "-0.005 BHD"},
        {1000000, "KRW", "1,000,000 KRW"}, /* no symbol of ours, no minor digits */
        {100, "CHF", "1.00 CHF"},
        {-123456789, "XYZ", "-1,234,567.89 XYZ"},
        /* INT64_MIN = -9223372036854775808 cents: 92,233,720,368,547,758.08 dollars. */
        {INT64_MIN, "USD", "-$92,233,720,368,547,758.08"},
        /* INT64_MAX yen, every digit a whole yen. */
        {INT64_MAX, "JPY",
         "\xc2\xa5"
         "9,223,372,036,854,775,807"},
        /* INT64_MIN in an unknown 2-digit currency: 29 bytes of amount, a space and the code. */
        {INT64_MIN, "XYZ", "-92,233,720,368,547,758.08 XYZ"},
    };
    for (size_t i = 0; i < N(cases); i++) {
        char out[48];
        memset(out, 'x', sizeof(out));
        money_format(cases[i].minor, cases[i].currency, out);
        cr_assert_str_eq(out, cases[i].want, "case %zu", i);
    }
}

/* ---------------------------------------------------------------------------------------------
 * The billing calendar
 *
 * Day numbers: 1970-01-01 to 2027-01-01 is 57 years of 365 days plus 14 leap days (1972, 76, 80, 84,
 * 88, 92, 96, 2000, 04, 08, 12, 16, 20, 24) = 20805 + 14 = 20819, so 2027-01-31 is day 20849.
 * 10:20:30 is second 37230 of the day.
 * --------------------------------------------------------------------------------------------- */

#define ANCHOR_JAN31 AT(20849, 37230) /* 2027-01-31 10:20:30 UTC */

Test(billing_money, monthly_from_jan_31_clamps_and_recovers)
{
    struct {
        int64_t k, want;
    } cases[] = {
        {0, AT(20849, 37230)},   /* 2027-01-31 */
        {1, AT(20877, 37230)},   /* 2027-02-28 = 20849 + 28 (2027 is not a leap year) */
        {2, AT(20908, 37230)},   /* 2027-03-31 = 20877 + 31, back to the 31st */
        {3, AT(20938, 37230)},   /* 2027-04-30 = 20908 + 30 */
        {12, AT(21214, 37230)},  /* 2028-01-31 = 20849 + 365 */
        {13, AT(21243, 37230)},  /* 2028-02-29 = 21214 + 29 (2028 is a leap year) */
        {14, AT(21274, 37230)},  /* 2028-03-31 = 21243 + 31 */
        {-1, AT(20818, 37230)},  /* 2026-12-31 = 20849 - 31 */
        {-2, AT(20787, 37230)},  /* 2026-11-30 = 20818 - 31 (Dec 1 .. Dec 31) */
        {-11, AT(20512, 37230)}, /* 2026-02-28 = 2026-01-31 (20849 - 365 = 20484) + 28 */
    };
    for (size_t i = 0; i < N(cases); i++)
        cr_assert_eq(billing_cycle_time(ANCHOR_JAN31, BILLING_MONTH, cases[i].k), cases[i].want, "k=%lld: %lld",
                     (long long)cases[i].k, (long long)billing_cycle_time(ANCHOR_JAN31, BILLING_MONTH, cases[i].k));
}

Test(billing_money, monthly_across_century_rules)
{
    /* 2000-01-31 12:00 is day 10987 (2000-01-01 is 30 * 365 + 7 leap days = 10957; + 30), second 43200.
     * 2000 is a leap year (divisible by 400): +1 month is 2000-02-29 = 10987 + 29 = 11016.
     * +1200 months is 2100-01-31: 100 * 365 + 25 leap days (2000 .. 2096) = 36525 -> 47512.
     * 2100 is not a leap year: +1201 months is 2100-02-28 = 47512 + 28 = 47540; +1202 is 2100-03-31 =
     * 47540 + 31 = 47571. */
    int64_t anchor = AT(10987, 43200);
    cr_assert_eq(billing_cycle_time(anchor, BILLING_MONTH, 1), AT(11016, 43200));
    cr_assert_eq(billing_cycle_time(anchor, BILLING_MONTH, 1200), AT(47512, 43200));
    cr_assert_eq(billing_cycle_time(anchor, BILLING_MONTH, 1201), AT(47540, 43200));
    cr_assert_eq(billing_cycle_time(anchor, BILLING_MONTH, 1202), AT(47571, 43200));
    cr_assert_eq(billing_cycle_time(anchor, BILLING_YEAR, 100), AT(47512, 43200));
}

Test(billing_money, yearly_from_feb_29)
{
    /* 2028-02-29 00:00 is day 21243 (above). 2029-02-28 = 21243 + 365 = 21608; 2032-02-29 =
     * 21243 + 4 * 365 + 1 = 22704; 2027-02-28 = 21243 - 366 = 20877; 2024-02-29 = 21243 - 1461 = 19782;
     * 2023-02-28 = 19782 - 366 = 19416. */
    int64_t anchor = AT(21243, 0);
    cr_assert_eq(billing_cycle_time(anchor, BILLING_YEAR, 0), AT(21243, 0));
    cr_assert_eq(billing_cycle_time(anchor, BILLING_YEAR, 1), AT(21608, 0));
    cr_assert_eq(billing_cycle_time(anchor, BILLING_YEAR, 4), AT(22704, 0));
    cr_assert_eq(billing_cycle_time(anchor, BILLING_YEAR, -1), AT(20877, 0));
    cr_assert_eq(billing_cycle_time(anchor, BILLING_YEAR, -4), AT(19782, 0));
    cr_assert_eq(billing_cycle_time(anchor, BILLING_YEAR, -5), AT(19416, 0));
}

/* billing_period_end (issue 11): the end of a period starting at a boundary is the anchor's next
 * boundary, not "start + 1 month" (Feb 28 + 1 month would be Mar 28). 2031-02-28 is day 22338
 * (2032-02-29 = 22704, minus 366); a start between boundaries ends at the next one. */
Test(billing_money, period_end_follows_the_anchor)
{
    cr_assert_eq(billing_period_end(ANCHOR_JAN31, BILLING_MONTH, AT(20877, 37230)), AT(20908, 37230)); /* Mar 31 */
    cr_assert_eq(billing_period_end(ANCHOR_JAN31, BILLING_MONTH, AT(20938, 37230)), AT(20969, 37230)); /* May 31 */
    cr_assert_eq(billing_period_end(ANCHOR_JAN31, BILLING_MONTH, ANCHOR_JAN31), AT(20877, 37230));
    cr_assert_eq(billing_period_end(ANCHOR_JAN31, BILLING_MONTH, AT(20880, 0)), AT(20908, 37230));
    cr_assert_eq(billing_period_end(AT(21243, 0), BILLING_YEAR, AT(22338, 0)), AT(22704, 0)); /* 2032-02-29 */
    /* An anchor at the start itself (a new subscription, a resume): one interval later. */
    cr_assert_eq(billing_period_end(AT(20877, 5), BILLING_MONTH, AT(20877, 5)), AT(20905, 5)); /* Feb 28 -> Mar 28 */
}

Test(billing_money, before_the_epoch)
{
    /* 1969-12-31 23:59:59.5 is -500,000 us (day -1, second 86399.5). +1 month: 1970-01-31 23:59:59.5 =
     * day 30 -> (30 * 86400 + 86399) s + 0.5 s = 2,678,399.5 s. -1 month: 1969-11-30 23:59:59.5 =
     * day -32 (Dec 1 1969 is day -31) -> -32 * 86400 + 86399.5 = -2,678,400.5 s. */
    int64_t anchor = -500000;
    cr_assert_eq(billing_cycle_time(anchor, BILLING_MONTH, 1), 2678399500000LL);
    cr_assert_eq(billing_cycle_time(anchor, BILLING_MONTH, -1), -2678400500000LL);
    cr_assert_eq(billing_cycle_index(anchor, BILLING_MONTH, 0), 0);
    cr_assert_eq(billing_cycle_index(anchor, BILLING_MONTH, -500000), 0);
    cr_assert_eq(billing_cycle_index(anchor, BILLING_MONTH, -500001), -1);
    cr_assert_eq(billing_cycle_index(anchor, BILLING_MONTH, 2678399500000LL), 1);
    cr_assert_eq(billing_cycle_index(anchor, BILLING_MONTH, 2678399499999LL), 0);
}

Test(billing_money, index_at_the_edges)
{
    cr_assert_eq(billing_cycle_index(ANCHOR_JAN31, BILLING_MONTH, ANCHOR_JAN31), 0);
    cr_assert_eq(billing_cycle_index(ANCHOR_JAN31, BILLING_MONTH, ANCHOR_JAN31 - 1), -1);
    /* 2027-03-01 00:00 (day 20878) lies between Feb 28 10:20:30 (k=1) and Mar 31 (k=2), although the
     * calendar months differ by 2. */
    cr_assert_eq(billing_cycle_index(ANCHOR_JAN31, BILLING_MONTH, AT(20878, 0)), 1);
    /* 2027-02-28 10:20:29.999999 is still period 0. */
    cr_assert_eq(billing_cycle_index(ANCHOR_JAN31, BILLING_MONTH, AT(20877, 37230) - 1), 0);
    /* 2028-02-29 10:20:30 starts period 13; one microsecond before is period 12. */
    cr_assert_eq(billing_cycle_index(ANCHOR_JAN31, BILLING_MONTH, AT(21243, 37230)), 13);
    cr_assert_eq(billing_cycle_index(ANCHOR_JAN31, BILLING_MONTH, AT(21243, 37230) - 1), 12);
    /* 2028-03-31 10:20:29.999999 is the end of period 13. */
    cr_assert_eq(billing_cycle_index(ANCHOR_JAN31, BILLING_MONTH, AT(21274, 37230) - 1), 13);
    /* 2026-12-31 00:00 (day 20818) is before 2026-12-31 10:20:30 (k=-1): k=-2. */
    cr_assert_eq(billing_cycle_index(ANCHOR_JAN31, BILLING_MONTH, AT(20818, 0)), -2);

    int64_t leap = AT(21243, 0);                                                 /* 2028-02-29 */
    cr_assert_eq(billing_cycle_index(leap, BILLING_YEAR, AT(21608, 0)), 1);      /* 2029-02-28 */
    cr_assert_eq(billing_cycle_index(leap, BILLING_YEAR, AT(21608, 0) - 1), 0);  /* just before */
    cr_assert_eq(billing_cycle_index(leap, BILLING_YEAR, AT(19782, 0)), -4);     /* 2024-02-29 */
    cr_assert_eq(billing_cycle_index(leap, BILLING_YEAR, AT(19782, 0) - 1), -5); /* 2024-02-28 end */
}

/* A fixed-seed xorshift generator, so a failure reproduces. */
static uint64_t rng_state = 0x9e3779b97f4a7c15ULL;

static uint64_t rng_next(void)
{
    rng_state ^= rng_state << 13;
    rng_state ^= rng_state >> 7;
    rng_state ^= rng_state << 17;
    return rng_state;
}

/* A random value in [-range, range]. */
static int64_t rng_span(int64_t range)
{
    return (int64_t)(rng_next() % (uint64_t)(2 * range + 1)) - range;
}

Test(billing_money, index_round_trips_for_random_times)
{
    /* Anchors on days 28 to 31 of a month stress the clamping; times span +-150 years of the anchor. */
    const int64_t anchors[] = {
        ANCHOR_JAN31,         /* 2027-01-31 10:20:30 */
        AT(21243, 0),         /* 2028-02-29 */
        AT(20938, 86399),     /* 2027-04-30 23:59:59 */
        AT(20877, 1),         /* 2027-02-28 00:00:01 */
        -500000,              /* 1969-12-31 23:59:59.5 */
        AT(10987, 43200) + 7, /* 2000-01-31 12:00:00.000007 */
    };
    const int64_t span = (int64_t)150 * 366 * 86400 * 1000000;
    for (size_t a = 0; a < N(anchors); a++)
        for (int interval = BILLING_MONTH; interval <= BILLING_YEAR; interval++)
            for (int i = 0; i < 2000; i++) {
                int64_t t = anchors[a] + rng_span(span);
                int64_t k = billing_cycle_index(anchors[a], interval, t);
                int64_t start = billing_cycle_time(anchors[a], interval, k);
                int64_t end = billing_cycle_time(anchors[a], interval, k + 1);
                cr_assert(start <= t && t < end, "anchor %zu interval %d t=%lld k=%lld [%lld, %lld)", a, interval,
                          (long long)t, (long long)k, (long long)start, (long long)end);
                /* A period start maps back to its own index, and a year is twelve months. */
                cr_assert_eq(billing_cycle_index(anchors[a], interval, start), k);
                if (interval == BILLING_YEAR)
                    cr_assert_eq(start, billing_cycle_time(anchors[a], BILLING_MONTH, 12 * k));
            }
}

Test(billing_money, periods_are_between_28_and_31_days)
{
    /* Any monthly period lasts 28 to 31 days (plus nothing: the time of day is kept), any yearly one
     * 365 or 366 days. */
    const int64_t day = (int64_t)86400 * 1000000;
    for (int64_t k = -1300; k < 1300; k++) {
        int64_t len =
            billing_cycle_time(ANCHOR_JAN31, BILLING_MONTH, k + 1) - billing_cycle_time(ANCHOR_JAN31, BILLING_MONTH, k);
        cr_assert(len >= 28 * day && len <= 31 * day && len % day == 0, "k=%lld len=%lld", (long long)k,
                  (long long)len);
    }
    for (int64_t k = -120; k < 120; k++) {
        int64_t len =
            billing_cycle_time(AT(21243, 0), BILLING_YEAR, k + 1) - billing_cycle_time(AT(21243, 0), BILLING_YEAR, k);
        cr_assert(len == 365 * day || len == 366 * day, "k=%lld len=%lld", (long long)k, (long long)len);
    }
}
