/* The billing catalog (issue 7 §1): strict parsing and validation of etc/billing.json (or the file
 * named by ATRIUM_BILLING_CATALOG) into a fixed-size struct, the process-wide installed catalog, and
 * the read-only lookups drawn from it.
 *
 * Validation stops at the first bad field and names it by its path ("plans[1].prices.month.per_seat:
 * must be an integer >= 0"). Every object refuses keys it does not know, duplicate keys are refused by
 * jansson, and every amount is bounded so that billing_plan_amount and the money functions never
 * overflow for a catalog that passed. */
#include "billing/catalog.h"

#include "base/err.h"
#include "base/mem.h"

#include <assert.h>
#include <errno.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* etc/billing.json, generated into the build by the Makefile (compact JSON, not NUL-counted). */
extern const char billing_catalog_json[];
extern const size_t billing_catalog_json_len;

enum { CAT_ERR = 256, CAT_PATH = 96 };

#define CAT_MAX_AMOUNT ((int64_t)1000000000000)    /* 10^12 minor units per period, per price */
#define CAT_MAX_SEATS  ((int64_t)1000000)          /* seats, and the sub-account cap */
#define CAT_MAX_UNITS  ((int64_t)1000000000000000) /* metered quantities: included, per_units */
#define CAT_MAX_FILE   ((size_t)1 << 20)           /* a catalog file larger than 1 MiB is refused */

/* A string check returns NULL when (s, len) is acceptable, else the reason. */
typedef const char *(*cat_check)(const char *s, size_t len);

static int cat_fail(char *err, const char *path, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
static void cat_join(char out[CAT_PATH], const char *path, const char *key);
static void cat_index(char out[CAT_PATH], const char *path, size_t i);
static int cat_object(json_t *v, const char *path, const char *const *keys, char *err);
static int cat_get(json_t *obj, const char *path, const char *key, json_t **out, char *err);
static int cat_int(json_t *obj, const char *path, const char *key, int64_t min, int64_t max, int64_t *out, char *err);
static int cat_int32(json_t *obj, const char *path, const char *key, int min, int max, int *out, char *err);
static int cat_bool(json_t *obj, const char *path, const char *key, bool *out, char *err);
static int cat_str_value(json_t *v, const char *path, char *out, size_t cap, cat_check check, char *err);
static int cat_str(json_t *obj, const char *path, const char *key, char *out, size_t cap, cat_check check, char *err);
static int cat_enum(json_t *obj, const char *path, const char *key, const char *const *allowed, char *out, size_t cap,
                    char *err);
static int cat_array(json_t *obj, const char *path, const char *key, size_t min, size_t max, json_t **out, char *err);
static int cat_parse_root(json_t *root, billing_catalog *c, char *err);
static int cat_parse_issuer(json_t *v, billing_catalog *c, char *err);
static int cat_parse_tax(json_t *v, billing_catalog *c, char *err);
static int cat_parse_plan(json_t *v, const char *path, billing_plan *p, char *err);
static int cat_parse_prices(json_t *v, const char *path, billing_plan *p, char *err);
static int cat_parse_features(json_t *v, const char *path, billing_plan *p, char *err);
static int cat_parse_metered(json_t *v, const char *path, billing_metered *m, char *err);
static int cat_parse_dunning(json_t *v, const char *path, billing_dunning_step *s, char *err);
static void cat_fix_pointers(billing_catalog *c);
static int cat_read_file(const char *path, char **data, size_t *len, char *err);
static void cat_embedded_init(void);
static const char *check_text(const char *s, size_t len);
static const char *check_any(const char *s, size_t len);
static const char *check_id(const char *s, size_t len);
static const char *check_prefix(const char *s, size_t len);
static const char *check_currency(const char *s, size_t len);
static const char *check_country(const char *s, size_t len);
static const char *check_email(const char *s, size_t len);
static bool cat_in(const char *const *list, const char *s);

static const char *const cat_features[] = {"api_access", "voice", "sub_accounts", NULL};
static const char *const cat_states[] = {"", "past_due", "unpaid", "canceled", "paused", NULL};
static const char *const cat_mails[] = {
    "", "payment_failed", "payment_retry_failed", "payment_final_notice", "subscription_ended", NULL};

static const char *const keys_root[] = {"currency",
                                        "issuer",
                                        "tax",
                                        "default_plan",
                                        "fallback_plan",
                                        "payment_terms_days",
                                        "first_payment_hours",
                                        "trial_notice_days",
                                        "plans",
                                        "dunning",
                                        NULL};
static const char *const keys_issuer[] = {"name", "address", "tax_id", "email", "invoice_prefix", NULL};
static const char *const keys_tax[] = {"default_rate_bp", "rates", NULL};
static const char *const keys_rate[] = {"country", "rate_bp", "name", NULL};
static const char *const keys_plan[] = {"id",        "name",      "description", "offered",  "prices", "included_seats",
                                        "min_seats", "max_seats", "trial_days",  "features", "limits", "metered",
                                        NULL};
static const char *const keys_prices[] = {"month", "year", NULL};
static const char *const keys_price[] = {"base", "per_seat", NULL};
static const char *const keys_limits[] = {"sub_accounts", NULL};
static const char *const keys_metered[] = {"id", "name", "unit", "included", "unit_price", "per_units", NULL};
static const char *const keys_dunning[] = {"day", "retry", "state", "mail", "pause_sub_accounts", NULL};

/* The catalog installed by billing_catalog_load, else the embedded one parsed on first use. */
static billing_catalog cat_installed;
static bool cat_have_installed;
static billing_catalog cat_embedded;
static pthread_once_t cat_embedded_once = PTHREAD_ONCE_INIT;

/* ---------------------------------------------------------------------------------------------
 * Parsing and installing
 * --------------------------------------------------------------------------------------------- */

/* billing_catalog_parse: jansson with duplicate keys refused, then the tree is walked field by field
 * into *out (zeroed first, and zeroed again on failure so no half catalog is left). The jansson tree is
 * released before returning. */
int billing_catalog_parse(const char *json, size_t len, billing_catalog *out, char err[256])
{
    char scratch[CAT_ERR];
    json_error_t jerr;
    if (!err)
        err = scratch;
    err[0] = '\0';
    memset(out, 0, sizeof(*out));
    json_t *root = json_loadb(json, len, JSON_REJECT_DUPLICATES, &jerr);
    if (!root)
        return cat_fail(err, "", "not valid JSON: %s (line %d, column %d)", jerr.text, jerr.line, jerr.column);
    int rc = cat_parse_root(root, out, err);
    json_decref(root);
    if (rc != AT_OK)
        memset(out, 0, sizeof(*out));
    return rc;
}

/* billing_catalog_load: the file (or the embedded text) is parsed into a heap copy first, so a bad
 * file leaves the installed catalog as it was. */
int billing_catalog_load(const char *path, char err[256])
{
    char scratch[CAT_ERR];
    char *data = NULL;
    size_t len = 0;
    int rc;
    if (!err)
        err = scratch;
    err[0] = '\0';
    if (path && path[0]) {
        rc = cat_read_file(path, &data, &len, err);
        if (rc != AT_OK)
            return rc;
    }
    billing_catalog *c = xmalloc(sizeof(*c));
    rc = data ? billing_catalog_parse(data, len, c, err)
              : billing_catalog_parse(billing_catalog_json, billing_catalog_json_len, c, err);
    if (rc != AT_OK)
        goto free_catalog;
    memcpy(&cat_installed, c, sizeof(cat_installed));
    cat_fix_pointers(&cat_installed);
    cat_have_installed = true;
free_catalog:
    free(c);
    free(data);
    return rc;
}

/* billing_catalog_get: the installed catalog is only written before threads start; the lazy parse of
 * the embedded one runs once under pthread_once. A bad embedded catalog is a build defect (the unit
 * tests parse it), so it aborts. */
const billing_catalog *billing_catalog_get(void)
{
    if (cat_have_installed)
        return &cat_installed;
    pthread_once(&cat_embedded_once, cat_embedded_init);
    return &cat_embedded;
}

/* ---------------------------------------------------------------------------------------------
 * Lookups
 * --------------------------------------------------------------------------------------------- */

const billing_plan *billing_plan_find(const billing_catalog *c, const char *id)
{
    if (!id)
        return NULL;
    for (size_t i = 0; i < c->plan_count; i++)
        if (strcmp(c->plans[i].id, id) == 0)
            return &c->plans[i];
    return NULL;
}

bool billing_plan_has_feature(const billing_plan *p, const char *feature)
{
    if (!feature)
        return false;
    for (const char *const *f = p->features; *f; f++)
        if (strcmp(*f, feature) == 0)
            return true;
    return false;
}

const billing_metered *billing_plan_metered(const billing_plan *p, const char *metric)
{
    if (!metric)
        return NULL;
    for (size_t i = 0; i < p->metered_count; i++)
        if (strcmp(p->metered[i].id, metric) == 0)
            return &p->metered[i];
    return NULL;
}

/* billing_plan_amount: base + max(0, seats - included) * seat price, in 128 bits and saturated, so a
 * caller's absurd seat count cannot overflow (catalog bounds keep real amounts far below). */
int64_t billing_plan_amount(const billing_plan *p, int interval, int64_t seats)
{
    assert(interval == BILLING_MONTH || interval == BILLING_YEAR);
    if (interval != BILLING_MONTH && interval != BILLING_YEAR)
        return 0;
    __int128 extra = seats > p->included_seats ? (__int128)seats - p->included_seats : 0;
    __int128 total = (__int128)p->base_price[interval] + extra * p->seat_price[interval];
    if (total > INT64_MAX)
        return INT64_MAX;
    if (total < INT64_MIN)
        return INT64_MIN;
    return (int64_t)total;
}

/* billing_tax_for: a listed country returns its row in the catalog. Any other country returns a row
 * built from default_tax_bp in a thread-local slot, valid until this thread's next call. */
const billing_tax_rate *billing_tax_for(const billing_catalog *c, const char *country)
{
    static _Thread_local billing_tax_rate fallback;
    if (country)
        for (size_t i = 0; i < c->tax_rate_count; i++)
            if (strcmp(c->tax_rates[i].country, country) == 0)
                return &c->tax_rates[i];
    memset(&fallback, 0, sizeof(fallback));
    fallback.rate_bp = c->default_tax_bp;
    snprintf(fallback.name, sizeof(fallback.name), "Tax");
    return &fallback;
}

/* billing_plans_with_feature: an insertion sort on the monthly charge at min_seats keeps catalog order
 * among equal prices. */
size_t billing_plans_with_feature(const billing_catalog *c, const char *feature, const billing_plan **out, size_t cap)
{
    const billing_plan *found[BILLING_MAX_PLANS];
    int64_t price[BILLING_MAX_PLANS];
    size_t n = 0;
    for (size_t i = 0; i < c->plan_count && n < BILLING_MAX_PLANS; i++) {
        const billing_plan *p = &c->plans[i];
        if (!p->offered || !billing_plan_has_feature(p, feature))
            continue;
        int64_t amount = billing_plan_amount(p, BILLING_MONTH, p->min_seats);
        size_t j = n++;
        for (; j > 0 && price[j - 1] > amount; j--) {
            found[j] = found[j - 1];
            price[j] = price[j - 1];
        }
        found[j] = p;
        price[j] = amount;
    }
    size_t count = n < cap ? n : cap;
    for (size_t i = 0; i < count; i++)
        out[i] = found[i];
    return count;
}

/* billing_plan_json: the plan as the API shows it; limits carry sub_accounts only when the plan has
 * that feature, as in the catalog file. Returns a new reference the caller owns. */
json_t *billing_plan_json(const billing_catalog *c, const billing_plan *p)
{
    json_t *features = json_array();
    for (const char *const *f = p->features; *f; f++)
        json_array_append_new(features, json_string(*f));
    json_t *limits = json_object();
    if (billing_plan_has_feature(p, "sub_accounts"))
        json_object_set_new(limits, "sub_accounts", json_integer(p->max_sub_accounts));
    json_t *metered = json_array();
    for (size_t i = 0; i < p->metered_count; i++) {
        const billing_metered *m = &p->metered[i];
        json_array_append_new(metered, json_pack("{s:s, s:s, s:s, s:I, s:I, s:I}", "id", m->id, "name", m->name, "unit",
                                                 m->unit, "included", (json_int_t)m->included, "unit_price",
                                                 (json_int_t)m->unit_price, "per_units", (json_int_t)m->per_units));
    }
    return json_pack("{s:s, s:s, s:s, s:b, s:{s:{s:I, s:I}, s:{s:I, s:I}}, s:I, s:I, s:I, s:i, s:o, s:o, s:o, s:s}",
                     "id", p->id, "name", p->name, "description", p->description, "offered", (int)p->offered, "prices",
                     "month", "base", (json_int_t)p->base_price[BILLING_MONTH], "per_seat",
                     (json_int_t)p->seat_price[BILLING_MONTH], "year", "base", (json_int_t)p->base_price[BILLING_YEAR],
                     "per_seat", (json_int_t)p->seat_price[BILLING_YEAR], "included_seats",
                     (json_int_t)p->included_seats, "min_seats", (json_int_t)p->min_seats, "max_seats",
                     (json_int_t)p->max_seats, "trial_days", p->trial_days, "features", features, "limits", limits,
                     "metered", metered, "currency", c->currency);
}

const char *billing_interval_name(int interval)
{
    return interval == BILLING_YEAR ? "year" : "month";
}

int billing_interval_from_name(const char *name)
{
    if (name && strcmp(name, "month") == 0)
        return BILLING_MONTH;
    if (name && strcmp(name, "year") == 0)
        return BILLING_YEAR;
    return -1;
}

/* ---------------------------------------------------------------------------------------------
 * The catalog's sections
 * --------------------------------------------------------------------------------------------- */

/* Fields are read in a fixed order and the first bad one is reported; cross-field rules (unique ids,
 * default and fallback plans that exist) follow the fields they relate. */
static int cat_parse_root(json_t *root, billing_catalog *c, char *err)
{
    json_t *v;
    if (cat_object(root, "", keys_root, err) ||
        cat_str(root, "", "currency", c->currency, sizeof(c->currency), check_currency, err))
        return AT_EINVAL;
    if (cat_get(root, "", "issuer", &v, err) || cat_parse_issuer(v, c, err))
        return AT_EINVAL;
    if (cat_get(root, "", "tax", &v, err) || cat_parse_tax(v, c, err))
        return AT_EINVAL;
    if (cat_str(root, "", "default_plan", c->default_plan, sizeof(c->default_plan), check_id, err) ||
        cat_str(root, "", "fallback_plan", c->fallback_plan, sizeof(c->fallback_plan), check_id, err) ||
        cat_int32(root, "", "payment_terms_days", 0, 365, &c->payment_terms_days, err) ||
        cat_int32(root, "", "first_payment_hours", 1, 168, &c->first_payment_hours, err) ||
        cat_int32(root, "", "trial_notice_days", 0, 30, &c->trial_notice_days, err))
        return AT_EINVAL;

    if (cat_array(root, "", "plans", 1, BILLING_MAX_PLANS, &v, err))
        return AT_EINVAL;
    for (size_t i = 0; i < json_array_size(v); i++) {
        char path[CAT_PATH], id_path[CAT_PATH];
        cat_index(path, "plans", i);
        billing_plan *p = &c->plans[i];
        if (cat_parse_plan(json_array_get(v, i), path, p, err))
            return AT_EINVAL;
        for (size_t j = 0; j < i; j++)
            if (strcmp(c->plans[j].id, p->id) == 0) {
                cat_join(id_path, path, "id");
                return cat_fail(err, id_path, "duplicate plan id \"%s\" (also plans[%zu])", p->id, j);
            }
        c->plan_count = i + 1;
    }
    if (!billing_plan_find(c, c->default_plan))
        return cat_fail(err, "default_plan", "no plan has the id \"%s\"", c->default_plan);
    if (!billing_plan_find(c, c->fallback_plan))
        return cat_fail(err, "fallback_plan", "no plan has the id \"%s\"", c->fallback_plan);

    if (cat_array(root, "", "dunning", 1, BILLING_MAX_DUNNING_STEPS, &v, err))
        return AT_EINVAL;
    for (size_t i = 0; i < json_array_size(v); i++) {
        char path[CAT_PATH], day_path[CAT_PATH];
        cat_index(path, "dunning", i);
        billing_dunning_step *s = &c->dunning[i];
        if (cat_parse_dunning(json_array_get(v, i), path, s, err))
            return AT_EINVAL;
        cat_join(day_path, path, "day");
        if (i == 0 && s->day != 0)
            return cat_fail(err, day_path, "the first step must be day 0");
        if (i > 0 && s->day <= c->dunning[i - 1].day)
            return cat_fail(err, day_path, "must be greater than the previous step's day (%d)", c->dunning[i - 1].day);
        c->dunning_count = i + 1;
    }
    return AT_OK;
}

static int cat_parse_issuer(json_t *v, billing_catalog *c, char *err)
{
    json_t *lines;
    if (cat_object(v, "issuer", keys_issuer, err) ||
        cat_str(v, "issuer", "name", c->issuer.name, sizeof(c->issuer.name), check_text, err) ||
        cat_array(v, "issuer", "address", 0, BILLING_MAX_ADDRESS_LINES, &lines, err))
        return AT_EINVAL;
    for (size_t i = 0; i < json_array_size(lines); i++) {
        char path[CAT_PATH];
        cat_index(path, "issuer.address", i);
        if (cat_str_value(json_array_get(lines, i), path, c->issuer.address[i], sizeof(c->issuer.address[i]),
                          check_text, err))
            return AT_EINVAL;
        c->issuer.address_lines = i + 1;
    }
    if (cat_str(v, "issuer", "tax_id", c->issuer.tax_id, sizeof(c->issuer.tax_id), check_any, err) ||
        cat_str(v, "issuer", "email", c->issuer.email, sizeof(c->issuer.email), check_email, err) ||
        cat_str(v, "issuer", "invoice_prefix", c->issuer.invoice_prefix, sizeof(c->issuer.invoice_prefix), check_prefix,
                err))
        return AT_EINVAL;
    return AT_OK;
}

static int cat_parse_tax(json_t *v, billing_catalog *c, char *err)
{
    json_t *rates;
    if (cat_object(v, "tax", keys_tax, err) ||
        cat_int(v, "tax", "default_rate_bp", 0, 10000, &c->default_tax_bp, err) ||
        cat_array(v, "tax", "rates", 0, BILLING_MAX_TAX_RATES, &rates, err))
        return AT_EINVAL;
    for (size_t i = 0; i < json_array_size(rates); i++) {
        char path[CAT_PATH], country_path[CAT_PATH];
        json_t *r = json_array_get(rates, i);
        billing_tax_rate *t = &c->tax_rates[i];
        cat_index(path, "tax.rates", i);
        if (cat_object(r, path, keys_rate, err) ||
            cat_str(r, path, "country", t->country, sizeof(t->country), check_country, err) ||
            cat_int(r, path, "rate_bp", 0, 10000, &t->rate_bp, err) ||
            cat_str(r, path, "name", t->name, sizeof(t->name), check_text, err))
            return AT_EINVAL;
        for (size_t j = 0; j < i; j++)
            if (strcmp(c->tax_rates[j].country, t->country) == 0) {
                cat_join(country_path, path, "country");
                return cat_fail(err, country_path, "duplicate country \"%s\" (also tax.rates[%zu])", t->country, j);
            }
        c->tax_rate_count = i + 1;
    }
    return AT_OK;
}

static int cat_parse_plan(json_t *v, const char *path, billing_plan *p, char *err)
{
    json_t *sub;
    char at[CAT_PATH];
    if (cat_object(v, path, keys_plan, err) || cat_str(v, path, "id", p->id, sizeof(p->id), check_id, err) ||
        cat_str(v, path, "name", p->name, sizeof(p->name), check_text, err) ||
        cat_str(v, path, "description", p->description, sizeof(p->description), check_any, err) ||
        cat_bool(v, path, "offered", &p->offered, err))
        return AT_EINVAL;
    if (cat_get(v, path, "prices", &sub, err) || cat_parse_prices(sub, path, p, err))
        return AT_EINVAL;

    if (cat_int(v, path, "included_seats", 0, CAT_MAX_SEATS, &p->included_seats, err) ||
        cat_int(v, path, "min_seats", 1, CAT_MAX_SEATS, &p->min_seats, err) ||
        cat_int(v, path, "max_seats", 1, CAT_MAX_SEATS, &p->max_seats, err))
        return AT_EINVAL;
    if (p->max_seats < p->min_seats) {
        cat_join(at, path, "max_seats");
        return cat_fail(err, at, "must be >= min_seats (%lld)", (long long)p->min_seats);
    }
    if (p->included_seats > p->max_seats) {
        cat_join(at, path, "included_seats");
        return cat_fail(err, at, "must be <= max_seats (%lld)", (long long)p->max_seats);
    }
    if (cat_int32(v, path, "trial_days", 0, 730, &p->trial_days, err))
        return AT_EINVAL;

    if (cat_array(v, path, "features", 0, BILLING_MAX_FEATURES, &sub, err) || cat_parse_features(sub, path, p, err))
        return AT_EINVAL;

    /* limits.sub_accounts is the cap of the sub_accounts feature: required with it, refused without. */
    char limits_path[CAT_PATH];
    cat_join(limits_path, path, "limits");
    if (cat_get(v, path, "limits", &sub, err) || cat_object(sub, limits_path, keys_limits, err))
        return AT_EINVAL;
    bool capped = json_object_get(sub, "sub_accounts") != NULL;
    if (billing_plan_has_feature(p, "sub_accounts")) {
        if (cat_int(sub, limits_path, "sub_accounts", 1, CAT_MAX_SEATS, &p->max_sub_accounts, err))
            return AT_EINVAL;
    } else if (capped) {
        cat_join(at, limits_path, "sub_accounts");
        return cat_fail(err, at, "is only allowed with the sub_accounts feature");
    }

    if (cat_array(v, path, "metered", 0, BILLING_MAX_METERED, &sub, err))
        return AT_EINVAL;
    for (size_t i = 0; i < json_array_size(sub); i++) {
        char metered_path[CAT_PATH];
        cat_join(at, path, "metered");
        cat_index(metered_path, at, i);
        billing_metered *m = &p->metered[i];
        if (cat_parse_metered(json_array_get(sub, i), metered_path, m, err))
            return AT_EINVAL;
        for (size_t j = 0; j < i; j++)
            if (strcmp(p->metered[j].id, m->id) == 0) {
                cat_join(at, metered_path, "id");
                return cat_fail(err, at, "duplicate metered id \"%s\" (also metered[%zu])", m->id, j);
            }
        p->metered_count = i + 1;
    }
    return AT_OK;
}

static int cat_parse_prices(json_t *v, const char *path, billing_plan *p, char *err)
{
    char prices_path[CAT_PATH];
    cat_join(prices_path, path, "prices");
    if (cat_object(v, prices_path, keys_prices, err))
        return AT_EINVAL;
    for (int interval = BILLING_MONTH; interval <= BILLING_YEAR; interval++) {
        char at[CAT_PATH];
        json_t *price;
        const char *name = billing_interval_name(interval);
        cat_join(at, prices_path, name);
        if (cat_get(v, prices_path, name, &price, err) || cat_object(price, at, keys_price, err) ||
            cat_int(price, at, "base", 0, CAT_MAX_AMOUNT, &p->base_price[interval], err) ||
            cat_int(price, at, "per_seat", 0, CAT_MAX_AMOUNT, &p->seat_price[interval], err))
            return AT_EINVAL;
    }
    return AT_OK;
}

/* Features are copied into feature_buf and listed, NULL-terminated, in features. */
static int cat_parse_features(json_t *v, const char *path, billing_plan *p, char *err)
{
    char features_path[CAT_PATH];
    cat_join(features_path, path, "features");
    for (size_t i = 0; i < json_array_size(v); i++) {
        char at[CAT_PATH];
        cat_index(at, features_path, i);
        json_t *f = json_array_get(v, i);
        if (!json_is_string(f) || !cat_in(cat_features, json_string_value(f)))
            return cat_fail(err, at, "must be one of api_access, voice, sub_accounts");
        for (size_t j = 0; j < i; j++)
            if (strcmp(p->feature_buf[j], json_string_value(f)) == 0)
                return cat_fail(err, at, "duplicate feature \"%s\"", p->feature_buf[j]);
        snprintf(p->feature_buf[i], sizeof(p->feature_buf[i]), "%s", json_string_value(f));
        p->features[i] = p->feature_buf[i];
        p->features[i + 1] = NULL;
    }
    return AT_OK;
}

static int cat_parse_metered(json_t *v, const char *path, billing_metered *m, char *err)
{
    if (cat_object(v, path, keys_metered, err) || cat_str(v, path, "id", m->id, sizeof(m->id), check_id, err) ||
        cat_str(v, path, "name", m->name, sizeof(m->name), check_text, err) ||
        cat_str(v, path, "unit", m->unit, sizeof(m->unit), check_text, err) ||
        cat_int(v, path, "included", 0, CAT_MAX_UNITS, &m->included, err) ||
        cat_int(v, path, "unit_price", 0, CAT_MAX_AMOUNT, &m->unit_price, err) ||
        cat_int(v, path, "per_units", 1, CAT_MAX_UNITS, &m->per_units, err))
        return AT_EINVAL;
    return AT_OK;
}

static int cat_parse_dunning(json_t *v, const char *path, billing_dunning_step *s, char *err)
{
    if (cat_object(v, path, keys_dunning, err) || cat_int32(v, path, "day", 0, 365, &s->day, err) ||
        cat_bool(v, path, "retry", &s->retry, err) ||
        cat_enum(v, path, "state", cat_states, s->state, sizeof(s->state), err) ||
        cat_enum(v, path, "mail", cat_mails, s->mail, sizeof(s->mail), err) ||
        cat_bool(v, path, "pause_sub_accounts", &s->pause_sub_accounts, err))
        return AT_EINVAL;
    return AT_OK;
}

/* ---------------------------------------------------------------------------------------------
 * Field readers: each reports its own error (naming the field's path) and returns AT_EINVAL, or AT_OK.
 * --------------------------------------------------------------------------------------------- */

/* Writes "path: message" into err (CAT_ERR bytes); the root object is called "catalog". */
static int cat_fail(char *err, const char *path, const char *fmt, ...)
{
    char msg[CAT_ERR];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof(msg), fmt, ap);
    va_end(ap);
    snprintf(err, CAT_ERR, "%s: %s", path[0] ? path : "catalog", msg);
    return AT_EINVAL;
}

static void cat_join(char out[CAT_PATH], const char *path, const char *key)
{
    snprintf(out, CAT_PATH, "%s%s%s", path, path[0] ? "." : "", key);
}

static void cat_index(char out[CAT_PATH], const char *path, size_t i)
{
    snprintf(out, CAT_PATH, "%s[%zu]", path, i);
}

/* v must be an object whose keys are all in `keys` (NULL-terminated). */
static int cat_object(json_t *v, const char *path, const char *const *keys, char *err)
{
    const char *key;
    json_t *value;
    if (!json_is_object(v))
        return cat_fail(err, path, "must be an object");
    json_object_foreach(v, key, value)
    {
        if (!cat_in(keys, key)) {
            char at[CAT_PATH];
            snprintf(at, sizeof(at), "%s%s%.40s", path, path[0] ? "." : "", key);
            return cat_fail(err, at, "unknown key");
        }
    }
    return AT_OK;
}

/* A required member (null counts as missing). */
static int cat_get(json_t *obj, const char *path, const char *key, json_t **out, char *err)
{
    *out = json_object_get(obj, key);
    if (!*out || json_is_null(*out)) {
        char at[CAT_PATH];
        cat_join(at, path, key);
        return cat_fail(err, at, "is required");
    }
    return AT_OK;
}

/* A required integer in [min, max]. Open-ended ranges (max of a million or more) are described by
 * their lower bound only. */
static int cat_int(json_t *obj, const char *path, const char *key, int64_t min, int64_t max, int64_t *out, char *err)
{
    json_t *v;
    char at[CAT_PATH];
    if (cat_get(obj, path, key, &v, err))
        return AT_EINVAL;
    cat_join(at, path, key);
    json_int_t n = json_is_integer(v) ? json_integer_value(v) : 0;
    if (json_is_integer(v) && n >= min && n <= max) {
        *out = n;
        return AT_OK;
    }
    if (max >= CAT_MAX_SEATS && (!json_is_integer(v) || n < min))
        return cat_fail(err, at, "must be an integer >= %lld", (long long)min);
    return cat_fail(err, at, "must be an integer from %lld to %lld", (long long)min, (long long)max);
}

static int cat_int32(json_t *obj, const char *path, const char *key, int min, int max, int *out, char *err)
{
    int64_t n;
    if (cat_int(obj, path, key, min, max, &n, err))
        return AT_EINVAL;
    *out = (int)n;
    return AT_OK;
}

static int cat_bool(json_t *obj, const char *path, const char *key, bool *out, char *err)
{
    json_t *v;
    if (cat_get(obj, path, key, &v, err))
        return AT_EINVAL;
    if (!json_is_boolean(v)) {
        char at[CAT_PATH];
        cat_join(at, path, key);
        return cat_fail(err, at, "must be true or false");
    }
    *out = json_is_true(v);
    return AT_OK;
}

/* A string value that fits in cap bytes with its NUL and passes check, copied into out. */
static int cat_str_value(json_t *v, const char *path, char *out, size_t cap, cat_check check, char *err)
{
    if (!json_is_string(v))
        return cat_fail(err, path, "must be a string");
    const char *s = json_string_value(v);
    size_t len = json_string_length(v);
    if (len >= cap)
        return cat_fail(err, path, "must be at most %zu bytes long", cap - 1);
    if (strlen(s) != len)
        return cat_fail(err, path, "must not contain NUL");
    const char *why = check(s, len);
    if (why)
        return cat_fail(err, path, "%s", why);
    memcpy(out, s, len + 1);
    return AT_OK;
}

static int cat_str(json_t *obj, const char *path, const char *key, char *out, size_t cap, cat_check check, char *err)
{
    json_t *v;
    char at[CAT_PATH];
    if (cat_get(obj, path, key, &v, err))
        return AT_EINVAL;
    cat_join(at, path, key);
    return cat_str_value(v, at, out, cap, check, err);
}

/* A required string from `allowed` (NULL-terminated; may include ""). */
static int cat_enum(json_t *obj, const char *path, const char *key, const char *const *allowed, char *out, size_t cap,
                    char *err)
{
    json_t *v;
    char at[CAT_PATH], list[CAT_ERR] = "";
    if (cat_get(obj, path, key, &v, err))
        return AT_EINVAL;
    if (json_is_string(v) && cat_in(allowed, json_string_value(v)) && json_string_length(v) < cap) {
        memcpy(out, json_string_value(v), json_string_length(v) + 1);
        return AT_OK;
    }
    for (const char *const *a = allowed; *a; a++) {
        size_t used = strlen(list);
        snprintf(list + used, sizeof(list) - used, "%s\"%s\"", a == allowed ? "" : ", ", *a);
    }
    cat_join(at, path, key);
    return cat_fail(err, at, "must be one of %s", list);
}

/* A required array of min to max items. */
static int cat_array(json_t *obj, const char *path, const char *key, size_t min, size_t max, json_t **out, char *err)
{
    char at[CAT_PATH];
    if (cat_get(obj, path, key, out, err))
        return AT_EINVAL;
    cat_join(at, path, key);
    if (!json_is_array(*out) || json_array_size(*out) < min || json_array_size(*out) > max)
        return min ? cat_fail(err, at, "must be an array of %zu to %zu items", min, max)
                   : cat_fail(err, at, "must be an array of at most %zu items", max);
    return AT_OK;
}

/* ---------------------------------------------------------------------------------------------
 * String formats
 * --------------------------------------------------------------------------------------------- */

static const char *check_text(const char *s, size_t len)
{
    (void)s;
    return len ? NULL : "must not be empty";
}

static const char *check_any(const char *s, size_t len)
{
    (void)s;
    (void)len;
    return NULL;
}

static const char *check_id(const char *s, size_t len)
{
    if (!len)
        return "must not be empty";
    for (size_t i = 0; i < len; i++)
        if (!((s[i] >= 'a' && s[i] <= 'z') || (s[i] >= '0' && s[i] <= '9') || s[i] == '_'))
            return "must contain only a-z, 0-9 and _";
    return NULL;
}

static const char *check_prefix(const char *s, size_t len)
{
    if (len < 1 || len > 12)
        return "must be 1 to 12 characters A-Z or 0-9";
    for (size_t i = 0; i < len; i++)
        if (!((s[i] >= 'A' && s[i] <= 'Z') || (s[i] >= '0' && s[i] <= '9')))
            return "must be 1 to 12 characters A-Z or 0-9";
    return NULL;
}

static const char *check_currency(const char *s, size_t len)
{
    if (len != 3 || s[0] < 'A' || s[0] > 'Z' || s[1] < 'A' || s[1] > 'Z' || s[2] < 'A' || s[2] > 'Z')
        return "must be an ISO 4217 code of 3 upper-case letters";
    return NULL;
}

static const char *check_country(const char *s, size_t len)
{
    if (len != 2 || s[0] < 'A' || s[0] > 'Z' || s[1] < 'A' || s[1] > 'Z')
        return "must be an ISO 3166-1 alpha-2 code of 2 upper-case letters";
    return NULL;
}

/* Empty, or one '@' with text on both sides and no spaces. */
static const char *check_email(const char *s, size_t len)
{
    if (!len)
        return NULL;
    const char *at = memchr(s, '@', len);
    if (!at || at == s || at == s + len - 1 || memchr(at + 1, '@', len - (size_t)(at + 1 - s)) || memchr(s, ' ', len))
        return "must be an e-mail address";
    return NULL;
}

static bool cat_in(const char *const *list, const char *s)
{
    for (; *list; list++)
        if (strcmp(*list, s) == 0)
            return true;
    return false;
}

/* ---------------------------------------------------------------------------------------------
 * Installation helpers
 * --------------------------------------------------------------------------------------------- */

/* A plan's features point into its own feature_buf, so a copied catalog must be re-pointed. */
static void cat_fix_pointers(billing_catalog *c)
{
    for (size_t i = 0; i < c->plan_count; i++) {
        billing_plan *p = &c->plans[i];
        for (size_t j = 0; p->features[j]; j++)
            p->features[j] = p->feature_buf[j];
    }
}

/* Reads the whole file into a new malloc'd buffer (*data, *len; the caller frees *data). On failure
 * *data is NULL and err names the file. */
static int cat_read_file(const char *path, char **data, size_t *len, char *err)
{
    *data = NULL;
    *len = 0;
    FILE *f = fopen(path, "rb");
    if (!f) {
        snprintf(err, CAT_ERR, "cannot open %s: %s", path, strerror(errno));
        return AT_EINVAL;
    }
    size_t cap = 16384, n = 0;
    char *buf = xmalloc(cap);
    for (;;) {
        if (n == cap) {
            if (cap >= CAT_MAX_FILE) {
                snprintf(err, CAT_ERR, "%s: a catalog must be smaller than %zu bytes", path, CAT_MAX_FILE);
                goto fail;
            }
            cap *= 2;
            buf = xrealloc(buf, cap);
        }
        size_t got = fread(buf + n, 1, cap - n, f);
        n += got;
        if (got == 0)
            break;
    }
    if (ferror(f)) {
        snprintf(err, CAT_ERR, "cannot read %s", path);
        goto fail;
    }
    fclose(f);
    *data = buf;
    *len = n;
    return AT_OK;
fail:
    free(buf);
    fclose(f);
    return AT_EINVAL;
}

static void cat_embedded_init(void)
{
    char err[CAT_ERR];
    if (billing_catalog_parse(billing_catalog_json, billing_catalog_json_len, &cat_embedded, err) != AT_OK) {
        fprintf(stderr, "atrium: the embedded billing catalog (etc/billing.json) is invalid: %s\n", err);
        abort();
    }
}
