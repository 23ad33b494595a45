/* The billing catalog (issue 7 §1): plans, prices, metered items, features and limits, tax rates per
 * country, the invoice issuer and the dunning ladder, as data. A JSON file shipped with Atrium
 * (etc/billing.json, embedded in the binary) or the file named by ATRIUM_BILLING_CATALOG; loaded and
 * validated once at start, read-only afterwards (no locking needed). Money is integer minor units of
 * the catalog's one currency. */
#ifndef AT_BILLING_CATALOG_H
#define AT_BILLING_CATALOG_H

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

enum billing_interval { BILLING_MONTH = 0, BILLING_YEAR = 1 };

#define BILLING_MAX_PLANS 16
#define BILLING_MAX_METERED 8
#define BILLING_MAX_FEATURES 16
#define BILLING_MAX_TAX_RATES 64
#define BILLING_MAX_DUNNING_STEPS 16
#define BILLING_MAX_ADDRESS_LINES 4

/* A metered item: `included` units per period are free; beyond, each `per_units` units cost
 * `unit_price` (the overage amount is rounded as billing_usage_amount says). */
typedef struct billing_metered {
    char id[32]; /* [a-z0-9_]+, e.g. "ai_minutes" */
    char name[64];
    char unit[24]; /* singular, e.g. "minute" */
    int64_t included;
    int64_t unit_price;
    int64_t per_units; /* >= 1 */
} billing_metered;

/* A plan. The charge for a period is base_price + max(0, seats - included_seats) * seat_price. */
typedef struct billing_plan {
    char id[32]; /* [a-z0-9_]+ */
    char name[64];
    char description[200];
    bool offered;                   /* listed for purchase; the fallback plan usually is not */
    int64_t base_price[2];          /* per period, indexed by enum billing_interval */
    int64_t seat_price[2];          /* per seat beyond included_seats, per period */
    int64_t included_seats;         /* covered by base_price */
    int64_t min_seats, max_seats;   /* purchasable seat range, min >= 1, max >= min */
    int trial_days;                 /* 0: no trial */
    const char *features[BILLING_MAX_FEATURES + 1]; /* NULL-terminated, into feature_buf */
    char feature_buf[BILLING_MAX_FEATURES][32];
    int64_t max_sub_accounts;       /* when "sub_accounts" is a feature: its cap; 0 otherwise */
    billing_metered metered[BILLING_MAX_METERED];
    size_t metered_count;
} billing_plan;

/* One rung of the dunning ladder: `day` days after the first failed payment, retry the payment
 * (or, with the manual provider, send the payment request again), move the subscription to `state`
 * ("" keeps it; otherwise past_due, unpaid, canceled or paused), send `mail` ("" none: one of
 * payment_failed, payment_retry_failed, payment_final_notice, subscription_ended), and pause the
 * sub-accounts billed to this workspace when pause_sub_accounts is set. Days are strictly increasing;
 * the first step is day 0. */
typedef struct billing_dunning_step {
    int day;
    bool retry;
    char state[24];
    char mail[32];
    bool pause_sub_accounts;
} billing_dunning_step;

typedef struct billing_tax_rate {
    char country[3]; /* ISO 3166-1 alpha-2, upper case */
    int64_t rate_bp; /* basis points: 1900 = 19 % */
    char name[32];   /* "VAT", "GST", "Sales tax" */
} billing_tax_rate;

typedef struct billing_catalog {
    char currency[4]; /* ISO 4217, upper case, e.g. "USD" */
    struct {
        char name[100];
        char address[BILLING_MAX_ADDRESS_LINES][100];
        size_t address_lines;
        char tax_id[64];
        char email[120];
        char invoice_prefix[16]; /* [A-Z0-9]+; invoice numbers are PREFIX-000001 */
    } issuer;
    billing_tax_rate tax_rates[BILLING_MAX_TAX_RATES];
    size_t tax_rate_count;
    int64_t default_tax_bp; /* for countries not listed (and for no country) */
    char default_plan[32];  /* a new root workspace starts a trial of it */
    char fallback_plan[32]; /* the entitlements of a workspace with no live subscription */
    int payment_terms_days; /* manual collection: an invoice is due this many days after it is issued */
    int first_payment_hours; /* incomplete -> incomplete_expired after this (Stripe: 23) */
    int trial_notice_days;   /* mail owners this many days before a trial ends */
    billing_plan plans[BILLING_MAX_PLANS];
    size_t plan_count;
    billing_dunning_step dunning[BILLING_MAX_DUNNING_STEPS];
    size_t dunning_count;
} billing_catalog;

/* billing_catalog_parse validates a catalog's JSON text into *out. On a bad catalog it returns
 * AT_EINVAL and writes a message naming the bad field ("plans[1].seat_price.month: must be an integer
 * >= 0") into err. Unknown keys are refused too. No allocation survives the call. */
int billing_catalog_parse(const char *json, size_t len, billing_catalog *out, char err[256]);

/* billing_catalog_load parses the file at path (NULL or "": the embedded etc/billing.json) and
 * installs it as the process catalog. Returns AT_EINVAL with err set on a bad file (the server then
 * refuses to start, exit 2). Call once, before threads start. */
int billing_catalog_load(const char *path, char err[256]);

/* billing_catalog_get returns the installed catalog (the embedded one when none was loaded). */
const billing_catalog *billing_catalog_get(void);

/* billing_plan_find returns the plan with that id, or NULL. */
const billing_plan *billing_plan_find(const billing_catalog *c, const char *id);
bool billing_plan_has_feature(const billing_plan *p, const char *feature);
/* billing_plan_metered returns the plan's metered item with that id, or NULL. */
const billing_metered *billing_plan_metered(const billing_plan *p, const char *metric);
/* billing_plan_amount is the plan's charge for one full period at `seats` seats. */
int64_t billing_plan_amount(const billing_plan *p, int interval, int64_t seats);

/* billing_tax_for returns the tax rate of a country (NULL or unknown: default_tax_bp, name "Tax"). */
const billing_tax_rate *billing_tax_for(const billing_catalog *c, const char *country);

/* billing_plans_with_feature writes the offered plans that have the feature into out (at most cap)
 * and returns their count, cheapest first; for a 402 problem naming the plans that have it. */
size_t billing_plans_with_feature(const billing_catalog *c, const char *feature, const billing_plan **out, size_t cap);

/* billing_plan_json returns a new JSON object describing the plan for the API:
 * {id, name, description, offered, prices: {month: {base, per_seat}, year: {...}}, included_seats,
 *  min_seats, max_seats, trial_days, features: [...], limits: {sub_accounts}, metered: [{id, name, unit,
 *  included, unit_price, per_units}], currency}. The caller owns it. */
json_t *billing_plan_json(const billing_catalog *c, const billing_plan *p);

/* billing_interval_name returns "month" or "year"; billing_interval_from_name returns -1 for others. */
const char *billing_interval_name(int interval);
int billing_interval_from_name(const char *name);

#endif
