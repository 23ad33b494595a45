/* The Billing page's documents: the overview, the plan list, the customer's billing details, and the
 * doors to the payment provider (checkout, portal, pay now). */
#include "billing/billing_impl.h"

#include "base/clock.h"
#include "base/config.h"
#include "base/err.h"
#include "base/mem.h"
#include "billing/money.h"
#include "billing/provider.h"
#include "jobs/jobs.h"

#include <stdlib.h>
#include <string.h>

const char *billing_provider_name_for(store_conn *c, const char *billing_ws)
{
    static __thread char name[16];
    store_rows *r = NULL;
    store_arg a[] = {sa_text(billing_ws)};
    snprintf(name, sizeof(name), "%s", billing_provider_get()->name);
    if (store_query(c, "SELECT provider FROM billing_customers WHERE workspace_id = $1", a, 1, &r) == AT_OK &&
        store_rows_next(r) == 1)
        snprintf(name, sizeof(name), "%s", store_rows_text(r, 0));
    store_rows_free(r);
    return name;
}

/* The status banner: what an owner must know at a glance. */
/* The unpaid invoice the ladder works on, for the banner's Pay button. */
static json_t *boverview_dunning_invoice(store_conn *c, const bsub *s)
{
    json_t *o = NULL;
    store_rows *r = NULL;
    store_arg a[] = {sa_text(s->ws), sa_text(s->dunning_invoice)};
    if (s->dunning_invoice[0] &&
        store_query(c, "SELECT id, number, amount_due - amount_paid FROM invoices WHERE workspace_id = $1 AND id = $2",
                    a, 2, &r) == AT_OK &&
        store_rows_next(r) == 1)
        o = json_pack("{s:s, s:s?, s:I}", "id", store_rows_text(r, 0), "number", store_rows_text(r, 1), "amount_due",
                      (json_int_t)store_rows_int(r, 2));
    store_rows_free(r);
    return o;
}

/* Every open invoice of the billed workspace past its due date, oldest first, and their sum:
 * {total, invoices: [{id, number, amount_due, due_at}]}. The banner and the navigation's notice both
 * read this, so the amount asked for is always the whole overdue amount. */
static json_t *boverview_overdue(store_conn *c, const char *bws, int64_t now)
{
    json_t *items = json_array();
    int64_t total = 0;
    store_rows *r = NULL;
    store_arg a[] = {sa_text(bws), sa_int(now)};
    if (store_query(c,
                    "SELECT id, number, amount_due - amount_paid, due_at FROM invoices WHERE workspace_id = $1 AND "
                    "status = 'open' AND due_at IS NOT NULL AND due_at <= $2 AND amount_due > amount_paid "
                    "ORDER BY due_at, number, id",
                    a, 2, &r) == AT_OK)
        while (store_rows_next(r) == 1) {
            total += store_rows_int(r, 2);
            json_array_append_new(items,
                                  json_pack("{s:s, s:s?, s:I, s:o}", "id", store_rows_text(r, 0), "number",
                                            store_rows_text(r, 1), "amount_due", (json_int_t)store_rows_int(r, 2),
                                            "due_at", billing_time_json(store_rows_int(r, 3))));
        }
    store_rows_free(r);
    return json_pack("{s:I, s:o}", "total", (json_int_t)total, "invoices", items);
}

static json_t *boverview_banner(store_conn *c, const bsub *s, bool have, bool own, int64_t now)
{
    char when[32] = "";
    if (!have)
        return json_pack("{s:s, s:s}", "kind", "none", "message",
                         "No subscription: the workspace runs on the free plan. Choose a plan to unlock more.");
    if (strcmp(s->status, "trialing") == 0) {
        int64_t days = (s->trial_end - now + US_PER_DAY - 1) / US_PER_DAY;
        billing_time_str(s->trial_end, when);
        return json_pack("{s:s, s:s, s:s, s:I}", "kind", "trial", "message",
                         s->cancel_at_period_end ? "The trial ends and the subscription with it."
                                                 : "Trial: the first invoice is issued when it ends.",
                         "at", when, "days_left", (json_int_t)(days > 0 ? days : 0));
    }
    if (strcmp(s->status, "past_due") == 0 || strcmp(s->status, "unpaid") == 0) {
        bool past_due = strcmp(s->status, "past_due") == 0;
        billing_time_str(s->dunning_started_at, when);
        json_t *b = json_pack("{s:s, s:s, s:s}", "kind", s->status, "message",
                              !own       ? (past_due ? "Your agency's payment is past due."
                                                     : "Your agency's subscription is unpaid: paid features are off.")
                              : past_due ? "A payment is past due. Pay the open invoice to keep every feature."
                                         : "The subscription is unpaid: paid features are off until the open invoice "
                                           "is paid.",
                              "at", when);
        json_t *inv = own ? boverview_dunning_invoice(c, s) : NULL;
        if (inv)
            json_object_set_new(b, "invoice", inv);
        if (own)
            json_object_set_new(b, "overdue", boverview_overdue(c, s->ws, now));
        return b;
    }
    if (strcmp(s->status, "paused") == 0)
        return json_pack("{s:s, s:s}", "kind", "paused", "message",
                         "The subscription is paused: add a payment method and resume it.");
    if (strcmp(s->status, "incomplete") == 0)
        return json_pack("{s:s, s:s}", "kind", "incomplete", "message",
                         "Waiting for the first payment; the subscription starts when it arrives.");
    if (s->cancel_at_period_end) {
        billing_time_str(s->period_end, when);
        return json_pack("{s:s, s:s, s:s}", "kind", "canceling", "message",
                         "The subscription ends at the end of the period.", "at", when);
    }
    return json_null();
}

static json_t *bcustomer_json(store_conn *c, const char *bws, int64_t *version)
{
    json_t *o = NULL;
    store_rows *r = NULL;
    store_arg a[] = {sa_text(bws)};
    if (store_query(c,
                    "SELECT name, email, address_line1, address_line2, city, postal_code, region, country, tax_id, "
                    "provider, payment_method_label, balance, version, payment_method FROM billing_customers "
                    "WHERE workspace_id = $1",
                    a, 1, &r) == AT_OK &&
        store_rows_next(r) == 1) {
        o = json_pack("{s:s, s:s, s:s, s:s, s:s, s:s, s:s, s:s, s:s, s:s, s:o, s:I}", "name", store_rows_text(r, 0),
                      "email", store_rows_text(r, 1), "address_line1", store_rows_text(r, 2), "address_line2",
                      store_rows_text(r, 3), "city", store_rows_text(r, 4), "postal_code", store_rows_text(r, 5),
                      "region", store_rows_text(r, 6), "country", store_rows_text(r, 7), "tax_id",
                      store_rows_text(r, 8), "provider", store_rows_text(r, 9), "payment_method",
                      store_rows_text(r, 13)[0]
                          ? json_pack("{s:s}", "label",
                                      store_rows_text(r, 10)[0] ? store_rows_text(r, 10) : "Saved payment method")
                          : json_null(),
                      "balance", (json_int_t)store_rows_int(r, 11));
        if (version)
            *version = store_rows_int(r, 12);
    }
    store_rows_free(r);
    if (!o) {
        o = json_pack("{s:s, s:s, s:s, s:s, s:s, s:s, s:s, s:s, s:s, s:s, s:n, s:i}", "name", "", "email", "",
                      "address_line1", "", "address_line2", "", "city", "", "postal_code", "", "region", "", "country",
                      "", "tax_id", "", "provider", billing_provider_get()->name, "payment_method", "balance", 0);
        if (version)
            *version = 0;
    }
    return o;
}

/* A sub-account billed by its agency: its own usage this period, counts only. The agency's meters,
 * allowances and amounts are the agency's business (issue 12, item 7). */
static json_t *boverview_own_usage(store_conn *c, const char *ws, const bsub *s)
{
    json_t *a = json_array();
    const billing_plan *p = billing_plan_find(billing_catalog_get(), s->plan_id);
    for (size_t i = 0; p && i < p->metered_count; i++) {
        int64_t used = 0;
        store_arg args[] = {sa_text(ws), sa_text(p->metered[i].id), sa_int(s->period_start), sa_int(s->period_end)};
        store_query_int(c,
                        "SELECT COALESCE(SUM(quantity), 0) FROM usage_events WHERE workspace_id = $1 AND metric = $2 "
                        "AND occurred_at >= $3 AND occurred_at < $4",
                        args, 4, &used);
        json_array_append_new(a, json_pack("{s:s, s:s, s:s, s:I}", "metric", p->metered[i].id, "name",
                                           p->metered[i].name, "unit", p->metered[i].unit, "used", (json_int_t)used));
    }
    return a;
}

/* billing_payer_name (billing.h): one query, the name the Billing page shows too: the paying
 * workspace's name as its members know it (docs/guide/workspace.md, "Which name shows where": the
 * display name is for customers only). A new string; the caller frees it. */
char *billing_payer_name(store_conn *c, const char *bws)
{
    store_rows *r = NULL;
    store_arg a[] = {sa_text(bws)};
    char *name = NULL;
    if (store_query(c, "SELECT name FROM workspaces WHERE id = $1", a, 1, &r) == AT_OK && store_rows_next(r) == 1)
        name = xstrdup(store_rows_text(r, 0));
    store_rows_free(r);
    return name ? name : xstrdup("");
}

typedef struct boverview_ctx {
    const char *ws;
    json_t *out;
} boverview_ctx;

static int boverview_tx(store_conn *c, void *arg)
{
    boverview_ctx *x = arg;
    const billing_catalog *cat = billing_catalog_get();
    char bws[ID_MAX];
    bsub s;
    billing_seats seats;
    int rc = billing_scope(c, x->ws, bws);
    if (rc != AT_OK)
        return rc;
    bool own = strcmp(bws, x->ws) == 0;
    rc = bsub_load(c, bws, false, &s);
    bool have = rc == AT_OK;
    if (rc != AT_OK && rc != AT_ENOTFOUND)
        return rc;
    if ((rc = billing_seats_get(c, x->ws, &seats)) != AT_OK)
        return rc;
    int64_t now = billing_now(c, bws), clock = 0, paused_at = 0;
    store_arg a[] = {sa_text(bws), sa_text(x->ws)};
    bool clocked =
        store_query_int(c, "SELECT frozen_time FROM billing_clocks WHERE workspace_id = $1", a, 1, &clock) == AT_OK;
    store_query_int(c, "SELECT COALESCE(billing_paused_at, 0) FROM workspaces WHERE id = $1", a + 1, 1, &paused_at);
    const billing_plan *plan = have ? billing_plan_find(cat, s.plan_id) : billing_plan_find(cat, cat->fallback_plan);
    json_t *upcoming = json_null();
    if (have && own && (bsub_entitled(s.status)) && !s.cancel_at_period_end) {
        /* Priced by the renewal's own function, on a copy of the subscription. */
        bdraft d;
        btotals t;
        bsub next = s;
        memset(&d, 0, sizeof(d));
        if (bcycle_draft(c, &next, NULL, &d) == AT_OK && binv_totals(c, bws, &d, &t) == AT_OK)
            upcoming = json_pack("{s:o, s:I, s:I, s:I, s:o, s:o}", "at", billing_time_json(next.period_start),
                                 "subtotal", (json_int_t)t.subtotal, "total", (json_int_t)t.total, "amount_due",
                                 (json_int_t)t.amount_due, "tax", btotals_tax_json(&t), "lines", bdraft_json(&d));
    }
    int64_t used = seats.active_members + seats.pending_invitations;
    json_t *seats_json = json_pack("{s:I, s:I, s:I, s:I, s:I}", "purchased", (json_int_t)seats.purchased, "used",
                                   (json_int_t)used, "available",
                                   (json_int_t)(used < seats.purchased ? seats.purchased - used : 0), "active_members",
                                   (json_int_t)seats.active_members, "pending_invitations",
                                   (json_int_t)seats.pending_invitations);
    json_t *usage = have ? billing_usage_meters(c, bws, &s) : json_array();
    if (!own) {
        /* Billed by the agency: only this workspace's own figures, never the agency's pool. */
        json_decref(seats_json);
        json_decref(usage);
        seats_json = json_pack("{s:n, s:I, s:n, s:I, s:I}", "purchased", "used",
                               (json_int_t)(seats.here_active + seats.here_pending), "available", "active_members",
                               (json_int_t)seats.here_active, "pending_invitations", (json_int_t)seats.here_pending);
        usage = have ? boverview_own_usage(c, x->ws, &s) : json_array();
    }
    bsub last;
    json_t *ended = json_null();
    if (own && !have && bsub_latest(c, bws, &last) == AT_OK) {
        json_decref(ended);
        ended = json_pack("{s:s, s:s, s:o, s:s?}", "id", last.id, "plan_id", last.plan_id, "ended_at",
                          billing_time_json(last.ended_at), "cancel_reason",
                          last.cancel_reason[0] ? last.cancel_reason : NULL);
    }
    int64_t trial_used = 0;
    store_arg tu[] = {sa_text(bws)};
    store_query_int(c, "SELECT trial_used FROM billing_customers WHERE workspace_id = $1", tu, 1, &trial_used);
    char *payer = billing_payer_name(c, bws);
    x->out = json_pack(
        "{s:s, s:s, s:s, s:s, s:s, s:s, s:o, s:o, s:b, s:o, s:o, s:o, s:o, s:o, s:o, s:o, s:o}", "workspace_id", x->ws,
        "billed_by", bws, "billed_by_name", payer, "billing_mode", own ? "own" : "parent", "provider",
        billing_provider_name_for(c, bws), "currency", cat->currency, "subscription",
        have && own ? bsub_json(&s) : json_null(), "plan", plan ? billing_plan_json(cat, plan) : json_null(),
        "entitled", have && bsub_entitled(s.status) && !paused_at, "seats", seats_json, "usage", usage,
        "upcoming_invoice", upcoming, "customer", own ? bcustomer_json(c, bws, NULL) : json_null(), "banner",
        boverview_banner(c, &s, have, own, now), "test_clock",
        clocked ? json_pack("{s:o}", "frozen_time", billing_time_json(clock)) : json_null(), "paused_at",
        billing_time_json(paused_at), "now", billing_time_json(now));
    free(payer);
    json_object_set_new(x->out, "ended_subscription", ended);
    json_object_set_new(x->out, "trial_available", json_boolean(own && !trial_used));
    return AT_OK;
}

int billing_overview(store *s, const char *ws_id, json_t **out)
{
    boverview_ctx x = {ws_id, NULL};
    return billing_tx_out(s, false, boverview_tx, &x, &x.out, out);
}

typedef struct bstanding_ctx {
    const char *ws;
    json_t *out;
} bstanding_ctx;

static int bstanding_tx(store_conn *c, void *arg)
{
    bstanding_ctx *x = arg;
    const billing_catalog *cat = billing_catalog_get();
    char bws[ID_MAX];
    bsub s;
    int rc = billing_scope(c, x->ws, bws);
    if (rc != AT_OK)
        return rc;
    bool own = strcmp(bws, x->ws) == 0;
    rc = bsub_load(c, bws, false, &s);
    bool have = rc == AT_OK;
    if (rc != AT_OK && rc != AT_ENOTFOUND)
        return rc;
    int64_t paused_at = 0;
    store_arg a[] = {sa_text(x->ws)};
    store_query_int(c, "SELECT COALESCE(billing_paused_at, 0) FROM workspaces WHERE id = $1", a, 1, &paused_at);
    const billing_plan *plan = have ? billing_plan_find(cat, s.plan_id) : billing_plan_find(cat, cat->fallback_plan);
    json_t *features = json_array();
    for (const char *const *f = plan ? plan->features : NULL; f && *f; f++)
        json_array_append_new(features, json_string(*f));
    x->out = json_pack("{s:s?, s:{s:s?, s:s?, s:o}, s:b, s:b, s:s, s:o}", "status", have ? s.status : NULL, "plan",
                       "id", plan ? plan->id : NULL, "name", plan ? plan->name : NULL, "features", features, "entitled",
                       have && bsub_entitled(s.status) && !paused_at, "billed_by_agency", !own, "currency",
                       cat->currency, "overdue", own ? boverview_overdue(c, bws, billing_now(c, bws)) : json_null());
    return AT_OK;
}

int billing_standing(store *s, const char *ws_id, json_t **out)
{
    bstanding_ctx x = {ws_id, NULL};
    return billing_tx_out(s, false, bstanding_tx, &x, &x.out, out);
}

int billing_plans_list(store *s, const char *ws_id, json_t **out)
{
    const billing_catalog *cat = billing_catalog_get();
    store_conn *c = NULL;
    char bws[ID_MAX];
    bsub sub;
    int rc = store_acquire(s, &c);
    if (rc != AT_OK)
        return rc;
    rc = billing_scope(c, ws_id, bws);
    bool have = rc == AT_OK && bsub_load(c, bws, false, &sub) == AT_OK;
    store_release(c);
    if (rc != AT_OK)
        return rc;
    json_t *items = json_array();
    for (size_t i = 0; i < cat->plan_count; i++)
        if (cat->plans[i].offered)
            json_array_append_new(items, billing_plan_json(cat, &cat->plans[i]));
    *out = json_pack("{s:s, s:s?, s:o}", "currency", cat->currency, "current_plan_id", have ? sub.plan_id : NULL,
                     "items", items);
    return AT_OK;
}

/* ---- Customer details ------------------------------------------------------------------------- */

typedef struct bcustomer_ctx {
    const char *ws;
    int64_t if_version;
    const json_t *patch;
    const audit_actor *actor;
    billing_refusal *r;
    json_t *out;
    int64_t version;
} bcustomer_ctx;

static int bcustomer_get_tx(store_conn *c, void *arg)
{
    bcustomer_ctx *x = arg;
    int rc = billing_own_scope(c, x->ws, x->r);
    if (rc == AT_OK)
        x->out = bcustomer_json(c, x->ws, &x->version);
    return rc;
}

int billing_customer_get(store *s, const char *ws_id, json_t **out, int64_t *version)
{
    billing_refusal r;
    bcustomer_ctx x = {ws_id, 0, NULL, NULL, &r, NULL, 0};
    int rc = store_tx(s, false, bcustomer_get_tx, &x);
    if (rc == AT_OK) {
        *out = x.out;
        *version = x.version;
    } else {
        json_decref(x.out);
    }
    return rc;
}

/* In the order of the UPDATE's parameters $2..$10 in bcustomer_patch_tx. */
static const char *const bcustomer_fields[] = {"name",        "email",  "address_line1", "address_line2", "city",
                                               "postal_code", "region", "country",       "tax_id"};

static int bcustomer_patch_tx(store_conn *c, void *arg)
{
    bcustomer_ctx *x = arg;
    int64_t version = 0, now = clock_now_us();
    int rc = billing_own_scope(c, x->ws, x->r);
    if (rc != AT_OK)
        return rc;
    store_arg w[] = {sa_text(x->ws), sa_text(billing_provider_get()->name), sa_int(now)};
    rc = store_exec(c,
                    "INSERT INTO billing_customers (workspace_id, provider, updated_at) VALUES ($1, $2, $3) "
                    "ON CONFLICT (workspace_id) DO NOTHING",
                    w, 3, NULL);
    if (rc == AT_OK)
        rc = store_query_int(c, "SELECT version FROM billing_customers WHERE workspace_id = $1 FOR UPDATE", w, 1,
                             &version);
    if (rc != AT_OK)
        return rc;
    if (x->if_version && x->if_version != version)
        return AT_EPRECOND;
    /* Merge the patch over the stored values, then write all of them in one fixed statement. */
    enum { NFIELDS = sizeof(bcustomer_fields) / sizeof(bcustomer_fields[0]) };
    json_t *before = bcustomer_json(c, x->ws, NULL), *changes = json_object();
    store_arg a[NFIELDS + 1];
    a[0] = sa_text(x->ws);
    for (size_t i = 0; i < NFIELDS; i++) {
        const char *old = json_string_value(json_object_get(before, bcustomer_fields[i]));
        json_t *v = json_object_get(x->patch, bcustomer_fields[i]);
        const char *val = !v ? (old ? old : "") : json_is_null(v) ? "" : json_string_value(v);
        a[i + 1] = sa_text(val);
        if (v && old && strcmp(old, val) != 0)
            json_object_set_new(changes, bcustomer_fields[i], json_pack("{s:s, s:s}", "before", old, "after", val));
    }
    if (json_object_size(changes))
        rc = store_exec(c,
                        "UPDATE billing_customers SET name = $2, email = $3, address_line1 = $4, address_line2 = $5, "
                        "city = $6, postal_code = $7, region = $8, country = $9, tax_id = $10 WHERE workspace_id = $1",
                        a, NFIELDS + 1, NULL);
    /* A patch that changes nothing keeps the version: a second editor's If-Match stays good. */
    store_arg va[] = {sa_text(x->ws), sa_int(now)};
    if (rc == AT_OK && json_object_size(changes))
        rc =
            store_exec(c, "UPDATE billing_customers SET version = version + 1, updated_at = $2 WHERE workspace_id = $1",
                       va, 2, NULL);
    if (rc == AT_OK && json_object_size(changes))
        rc = audit_append(c, x->ws, x->actor, "billing.customer.updated", "workspace", x->ws, changes);
    json_decref(before);
    json_decref(changes);
    if (rc == AT_OK)
        x->out = bcustomer_json(c, x->ws, &x->version);
    return rc;
}

int billing_customer_patch(store *s, const char *ws_id, int64_t if_version, const json_t *patch,
                           const audit_actor *actor, json_t **out, int64_t *version, billing_refusal *r)
{
    bcustomer_ctx x = {ws_id, if_version, patch, actor, r, NULL, 0};
    int rc = store_tx(s, true, bcustomer_patch_tx, &x);
    if (rc == AT_OK) {
        *out = x.out;
        *version = x.version;
    } else {
        json_decref(x.out);
    }
    return rc;
}

/* ---- The provider's doors ------------------------------------------------------------------------ */

typedef struct bprov_ctx {
    const char *ws;
    char provider[16], customer_ref[80];
    json_t *cust; /* the customer as printed on invoices (name, email, country): owned, released by bprov_prepare */
    billing_refusal *r;
} bprov_ctx;

static int bprov_read_tx(store_conn *c, void *arg)
{
    bprov_ctx *x = arg;
    int rc = billing_own_scope(c, x->ws, x->r);
    if (rc != AT_OK)
        return rc;
    snprintf(x->provider, sizeof(x->provider), "%s", billing_provider_name_for(c, x->ws));
    /* As printed on invoices: the billing details, else the workspace's name and its first owner. */
    json_decref(x->cust);
    x->cust = billing_customer_snapshot(c, x->ws);
    store_rows *r = NULL;
    store_arg a[] = {sa_text(x->ws)};
    if ((rc = store_query(c, "SELECT provider_customer_id FROM billing_customers WHERE workspace_id = $1", a, 1, &r)) ==
            AT_OK &&
        store_rows_next(r) == 1)
        snprintf(x->customer_ref, sizeof(x->customer_ref), "%s", store_rows_text(r, 0));
    store_rows_free(r);
    return rc;
}

static int bprov_save_tx(store_conn *c, void *arg)
{
    bprov_ctx *x = arg;
    store_arg a[] = {sa_text(x->ws), sa_text(x->customer_ref), sa_int(clock_now_us()), sa_text(x->provider)};
    return store_exec(c,
                      "INSERT INTO billing_customers (workspace_id, provider, provider_customer_id, updated_at) VALUES "
                      "($1, $4, $2, $3) ON CONFLICT (workspace_id) DO UPDATE SET provider_customer_id = $2, "
                      "updated_at = $3",
                      a, 4, NULL);
}

/* bprov_text borrows one string of the customer snapshot ("" when absent), valid while x->cust is. */
static const char *bprov_text(const bprov_ctx *x, const char *key)
{
    const char *v = json_string_value(json_object_get(x->cust, key));
    return v ? v : "";
}

/* Reads the customer, and with a real provider makes sure it has the provider's customer. The
 * customer snapshot is released before it returns, whatever the result: x keeps the provider's name
 * and the customer reference. */
static int bprov_prepare(store *s, const char *ws_id, billing_refusal *r, bprov_ctx *x, const billing_provider **p)
{
    memset(x, 0, sizeof(*x));
    x->ws = ws_id;
    x->r = r;
    int rc = store_tx(s, false, bprov_read_tx, x);
    if (rc != AT_OK)
        goto release_customer;
    *p = billing_provider_by_name(x->provider);
    if (!*p || strcmp((*p)->name, "manual") == 0 || x->customer_ref[0])
        goto release_customer;
    /* The name and email go to the provider whole, however long (borrowed from the snapshot). */
    billing_customer_info who = {x->ws, bprov_text(x, "name"), bprov_text(x, "email"), bprov_text(x, "country")};
    if ((rc = (*p)->ensure_customer(&who, x->customer_ref)) != AT_OK)
        goto release_customer;
    rc = store_tx(s, true, bprov_save_tx, x);
release_customer:
    json_decref(x->cust);
    x->cust = NULL;
    return rc;
}

int billing_checkout(store *s, const char *ws_id, const char *return_base, char url[1024], billing_refusal *r)
{
    bprov_ctx x;
    const billing_provider *p = NULL;
    int rc = bprov_prepare(s, ws_id, r, &x, &p);
    if (rc != AT_OK)
        return rc;
    if (!p || strcmp(p->name, "manual") == 0) {
        billing_refuse(r, "", "not_supported",
                       "Invoices are sent by email and settled by bank transfer: there is no card to save.");
        return AT_ECONFLICT;
    }
    char ok[512], cancel[512], session[80];
    snprintf(ok, sizeof(ok), "%s/w/%s/settings/billing?checkout=done", return_base, ws_id);
    snprintf(cancel, sizeof(cancel), "%s/w/%s/settings/billing?checkout=canceled", return_base, ws_id);
    return p->checkout_session(x.customer_ref, ws_id, ok, cancel, url, session);
}

int billing_portal(store *s, const char *ws_id, const char *return_base, char url[1024], billing_refusal *r)
{
    bprov_ctx x;
    const billing_provider *p = NULL;
    int rc = bprov_prepare(s, ws_id, r, &x, &p);
    if (rc != AT_OK)
        return rc;
    if (!p || strcmp(p->name, "manual") == 0) {
        snprintf(url, 1024, "/w/%s/settings/billing/portal", ws_id);
        return AT_OK;
    }
    char back[512];
    snprintf(back, sizeof(back), "%s/w/%s/settings/billing", return_base, ws_id);
    return p->portal_session(x.customer_ref, back, url);
}

typedef struct bpay_ctx {
    const char *ws, *invoice;
    const audit_actor *actor;
    billing_refusal *r;
    json_t *out;
} bpay_ctx;

static int bpay_tx(store_conn *c, void *arg)
{
    bpay_ctx *x = arg;
    int rc = billing_own_scope(c, x->ws, x->r);
    if (rc != AT_OK)
        return rc;
    char status[24] = "";
    store_rows *r = NULL;
    store_arg a[] = {sa_text(x->ws), sa_text(x->invoice)};
    rc = store_query(c, "SELECT status FROM invoices WHERE workspace_id = $1 AND id = $2 FOR UPDATE", a, 2, &r);
    if (rc == AT_OK)
        rc = store_rows_next(r) == 1 ? AT_OK : AT_ENOTFOUND;
    if (rc == AT_OK) {
        snprintf(status, sizeof(status), "%s", store_rows_text(r, 0));
    }
    store_rows_free(r);
    if (rc != AT_OK)
        return rc;
    if (strcmp(status, "open") != 0) {
        billing_refuse(x->r, "", "invalid_state", "Only an open invoice can be paid.");
        return AT_ECONFLICT;
    }
    if (strcmp(billing_provider_name_for(c, x->ws), "manual") == 0) {
        billing_refuse(x->r, "", "manual_collection",
                       "This invoice is paid by bank transfer; it is marked paid when the money arrives.");
        return AT_ECONFLICT;
    }
    /* A key of its own: an earlier attempt waiting out its backoff must not swallow this one. The
     * provider's idempotency key is per attempt number, so the two can never charge twice. */
    char payload[160], key[128];
    snprintf(payload, sizeof(payload), "{\"workspace_id\":\"%s\",\"invoice_id\":\"%s\"}", x->ws, x->invoice);
    snprintf(key, sizeof(key), "billing.collect:%s:now:%lld", x->invoice, (long long)clock_now_us());
    rc = jobs_enqueue(c, "billing.collect", payload, 0, 5, key, NULL);
    if (rc == AT_OK)
        rc = audit_append(c, x->ws, x->actor, "billing.invoice.payment_requested", "invoice", x->invoice, NULL);
    if (rc == AT_OK)
        x->out = json_pack("{s:s, s:b}", "invoice_id", x->invoice, "queued", 1);
    return rc;
}

int billing_pay_now(store *s, const char *ws_id, const char *invoice_id, const audit_actor *actor, json_t **out,
                    billing_refusal *r)
{
    bpay_ctx x = {ws_id, invoice_id, actor, r, NULL};
    return billing_tx_out(s, true, bpay_tx, &x, &x.out, out);
}
