/* Money and billing time (issue 7 §2, §5): exact integer arithmetic in minor units, the one rounding
 * rule, proration on the stored microseconds (Stripe's per-second proration on whole seconds), tax,
 * usage overage, currency formatting without setlocale, and the calendar of billing periods.
 *
 * The rounding rule (docs/billing.md): every computed amount is an exact rational number rounded once
 * to a whole minor unit, half away from zero (0.5 cent -> 1 cent, -0.5 -> -1). Proration lines are
 * rounded each on its own (as Stripe does); tax is computed on the invoice subtotal, not per line.
 * Intermediate products use 128-bit integers, so no amount a catalog allows can overflow. Pure. */
#ifndef AT_BILLING_MONEY_H
#define AT_BILLING_MONEY_H

#include <stdint.h>

/* money_muldiv returns round_half_away(a * b / d) for d > 0, exact for all int64 inputs whose result
 * fits in int64 (128-bit intermediate). */
int64_t money_muldiv(int64_t a, int64_t b, int64_t d);

/* money_prorate returns the share of `amount` (one full period's price) for `remaining` of a `period`
 * long period, both in the same unit (billing passes the stored microseconds, so a sub-second boundary
 * is rounded once, at the end): round_half_away(amount * remaining / period). remaining is clamped to
 * [0, period]; period <= 0 gives 0. Negative amounts (credits) round symmetrically. */
int64_t money_prorate(int64_t amount, int64_t remaining, int64_t period);

/* money_tax returns round_half_away(subtotal * rate_bp / 10000); negative subtotals give negative tax. */
int64_t money_tax(int64_t subtotal, int64_t rate_bp);

/* money_usage_overage returns the billable units beyond `included` (0 when used <= included). */
int64_t money_usage_overage(int64_t used, int64_t included);
/* money_usage_amount returns the charge for `units` overage units at unit_price per per_units units:
 * ceil(units / per_units) packages * unit_price (a started package is a whole package, as Stripe's
 * transform_quantity round=up does). per_units < 1 is treated as 1. */
int64_t money_usage_amount(int64_t units, int64_t unit_price, int64_t per_units);

/* money_exponent returns the number of minor-unit digits of an ISO 4217 currency (2 for USD and EUR,
 * 0 for JPY and KRW, 3 for BHD, KWD, OMR, JOD, TND); unknown codes give 2. */
int money_exponent(const char *currency);

/* money_format writes a human amount: "$1,234.56", "-$5.00", "€12.00", "£0.99", "¥1,200",
 * "1,234.567 BHD" (unknown symbols: the amount then the code). UTF-8; never locale-dependent. */
void money_format(int64_t minor, const char *currency, char out[48]);

/* The billing calendar. A subscription's periods are anchored at `anchor_us` (UTC): period k starts
 * at billing_cycle_time(anchor, interval, k). Adding months keeps the anchor's day of month and time
 * of day, clamped to the month's last day (an anchor on Jan 31 bills on Feb 28 or 29, Mar 31, Apr 30,
 * ...), as Stripe's billing cycle anchor does. Years work the same (Feb 29 -> Feb 28). k may be
 * negative. Times are microseconds since the epoch. */
int64_t billing_cycle_time(int64_t anchor_us, int interval, int64_t k);
/* billing_cycle_index returns the k with billing_cycle_time(anchor, interval, k) <= t_us <
 * billing_cycle_time(anchor, interval, k + 1). */
int64_t billing_cycle_index(int64_t anchor_us, int interval, int64_t t_us);
/* billing_period_end is the end of the period that starts at start_us on a calendar anchored at
 * anchor_us: the first period boundary of the anchor strictly after start_us. Every period end the API
 * shows (renewals, the upcoming invoice, a preview's next invoice) comes from here, so an anchor on the
 * 31st gives Feb 28 -> Mar 31 and an anchor on Feb 29 gives 2031-02-28 -> 2032-02-29. */
int64_t billing_period_end(int64_t anchor_us, int interval, int64_t start_us);

#endif
