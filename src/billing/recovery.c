/* Billing Recovery (developer access): the dunning ladder as configured, the past-due subscriptions of
 * a workspace's tree (a root and its sub-accounts), retry now, mark recovered, and the recovery rate. */
#include "billing/billing_impl.h"

#include "base/err.h"
#include "billing/money.h"

#include <string.h>

static json_t *brecovery_ladder(void)
{
    const billing_catalog *cat = billing_catalog_get();
    json_t *a = json_array();
    for (size_t i = 0; i < cat->dunning_count; i++) {
        const billing_dunning_step *d = &cat->dunning[i];
        json_array_append_new(a, json_pack("{s:i, s:b, s:s?, s:s?, s:b}", "day", d->day, "retry", d->retry, "state",
                                           d->state[0] ? d->state : NULL, "mail", d->mail[0] ? d->mail : NULL,
                                           "pause_sub_accounts", d->pause_sub_accounts));
    }
    return a;
}

typedef struct brec_ctx {
    const char *ws, *sub_id;
    const audit_actor *actor;
    billing_refusal *r;
    int op; /* 0 list, 1 retry, 2 recovered */
    json_t *out;
} brec_ctx;

static int brecovery_list_tx(store_conn *c, brec_ctx *x)
{
    store_rows *r = NULL;
    json_t *items = json_array();
    store_arg a[] = {sa_text(x->ws)};
    int rc = store_query(c,
                         "SELECT s.workspace_id, w.name, s.id, s.status, s.plan_id, s.dunning_invoice_id, "
                         "s.dunning_started_at, s.dunning_step, i.number, i.amount_due - i.amount_paid, "
                         "i.next_payment_attempt, COALESCE((SELECT MAX(e.attempts) FROM dunning_episodes e WHERE "
                         "e.workspace_id = s.workspace_id AND e.invoice_id = s.dunning_invoice_id), i.attempt_count), "
                         "i.currency, (SELECT e.outcome FROM dunning_episodes e WHERE e.workspace_id = "
                         "s.workspace_id AND e.invoice_id = s.dunning_invoice_id ORDER BY e.started_at DESC, e.id "
                         "DESC LIMIT 1) FROM subscriptions s JOIN workspaces w ON "
                         "w.id = s.workspace_id LEFT JOIN invoices i ON i.workspace_id = s.workspace_id AND "
                         "i.id = s.dunning_invoice_id WHERE (w.id = $1 OR w.parent_id = $1) AND "
                         "(s.status IN ('past_due', 'unpaid') OR (s.dunning_invoice_id IS NOT NULL AND s.status NOT IN "
                         "('canceled', 'incomplete_expired'))) ORDER BY s.dunning_started_at, s.id",
                         a, 1, &r);
    while (rc == AT_OK && store_rows_next(r) == 1)
        json_array_append_new(
            items,
            json_pack("{s:s, s:s, s:s, s:s, s:s, s:s?, s:s?, s:I, s:o, s:i, s:I, s:o, s:I, s:s}", "workspace_id",
                      store_rows_text(r, 0), "workspace_name", store_rows_text(r, 1), "subscription_id",
                      store_rows_text(r, 2), "status", store_rows_text(r, 3), "plan_id", store_rows_text(r, 4),
                      "invoice_id", store_rows_text(r, 5), "invoice_number", store_rows_text(r, 8), "amount_due",
                      (json_int_t)store_rows_int(r, 9), "past_due_since",
                      store_rows_is_null(r, 6) ? json_null() : billing_time_json(store_rows_int(r, 6)), "step",
                      (int)store_rows_int(r, 7), "attempts", (json_int_t)store_rows_int(r, 11), "next_attempt_at",
                      store_rows_is_null(r, 10) ? json_null() : billing_time_json(store_rows_int(r, 10)),
                      "ladder_steps", (json_int_t)billing_catalog_get()->dunning_count,
                      /* The episode's outcome, the same one the rate counts: a lost episode is no longer
                       * in recovery, though its invoice stays open. */
                      "outcome", store_rows_is_null(r, 13) ? "open" : store_rows_text(r, 13)));
    store_rows_free(r);
    if (rc != AT_OK) {
        json_decref(items);
        return rc;
    }
    int64_t recovered = 0, lost = 0, open = 0;
    const char *q = "SELECT COUNT(*) FROM dunning_episodes e JOIN workspaces w ON w.id = e.workspace_id "
                    "WHERE (w.id = $1 OR w.parent_id = $1) AND e.outcome = $2";
    store_arg ra[] = {sa_text(x->ws), sa_text("recovered")};
    store_query_int(c, q, ra, 2, &recovered);
    ra[1] = sa_text("lost");
    store_query_int(c, q, ra, 2, &lost);
    ra[1] = sa_text("open");
    store_query_int(c, q, ra, 2, &open);
    json_t *rate = recovered + lost ? json_real((double)recovered / (double)(recovered + lost)) : json_null();
    x->out = json_pack("{s:o, s:o, s:{s:I, s:I, s:I, s:o}, s:s}", "ladder", brecovery_ladder(), "past_due", items,
                       "rate", "recovered", (json_int_t)recovered, "lost", (json_int_t)lost, "open", (json_int_t)open,
                       "rate", rate, "currency", billing_catalog_get()->currency);
    return AT_OK;
}

/* Finds a subscription of the tree with an unpaid invoice the ladder works on. */
static int brecovery_find(store_conn *c, brec_ctx *x, bsub *s)
{
    char ws[ID_MAX] = "";
    store_rows *r = NULL;
    store_arg a[] = {sa_text(x->ws), sa_text(x->sub_id)};
    int rc = store_query(c,
                         "SELECT s.workspace_id FROM subscriptions s JOIN workspaces w ON w.id = s.workspace_id "
                         "WHERE (w.id = $1 OR w.parent_id = $1) AND s.id = $2",
                         a, 2, &r);
    if (rc == AT_OK)
        rc = store_rows_next(r) == 1 ? AT_OK : AT_ENOTFOUND;
    if (rc == AT_OK)
        snprintf(ws, sizeof(ws), "%s", store_rows_text(r, 0));
    store_rows_free(r);
    if (rc == AT_OK)
        rc = bsub_load_by_id(c, ws, x->sub_id, true, s);
    if (rc == AT_OK && !s->dunning_invoice[0]) {
        billing_refuse(x->r, "", "not_past_due", "This subscription has no unpaid invoice in recovery.");
        return AT_ECONFLICT;
    }
    return rc;
}

static int brecovery_tx(store_conn *c, void *arg)
{
    brec_ctx *x = arg;
    if (x->op == 0)
        return brecovery_list_tx(c, x);
    bsub s;
    int rc = brecovery_find(c, x, &s);
    if (rc != AT_OK)
        return rc;
    int64_t now = billing_now(c, s.ws);
    if (x->op == 1) {
        int64_t attempts = 0;
        store_arg a[] = {sa_text(s.ws), sa_text(s.dunning_invoice)};
        rc = store_query_int(
            c, "SELECT attempt_count FROM invoices WHERE workspace_id = $1 AND id = $2 AND status = 'open'", a, 2,
            &attempts);
        if (rc == AT_ENOTFOUND) {
            billing_refuse(x->r, "", "not_past_due", "The invoice in recovery is no longer open.");
            return AT_ECONFLICT;
        }
        if (rc == AT_OK && strcmp(s.collection, "charge_automatically") == 0)
            rc = billing_collect_enqueue(c, s.ws, s.dunning_invoice, (int)attempts + 1);
        else if (rc == AT_OK) {
            char amount[48], link[160], key[128];
            money_format(0, billing_catalog_get()->currency, amount);
            snprintf(link, sizeof(link), "/w/%s/settings/billing", s.ws);
            snprintf(key, sizeof(key), "payment_request:%s:%lld", s.dunning_invoice, (long long)now);
            json_t *vars =
                json_pack("{s:s, s:s, s:s, s:s}", "amount", "", "number", "", "link", link, "plan", s.plan_id);
            store_rows *r = NULL;
            if (store_query(c,
                            "SELECT number, amount_due - amount_paid FROM invoices WHERE workspace_id = $1 AND id = $2",
                            a, 2, &r) == AT_OK &&
                store_rows_next(r) == 1) {
                money_format(store_rows_int(r, 1), billing_catalog_get()->currency, amount);
                json_object_set_new(vars, "amount", json_string(amount));
                json_object_set_new(vars, "number", json_string(store_rows_text(r, 0)));
            }
            store_rows_free(r);
            rc = billing_notify(c, s.ws, "payment_retry_failed", vars, key);
            json_decref(vars);
        }
        if (rc == AT_OK)
            rc = audit_append(c, s.ws, x->actor, "billing.recovery.retry", "subscription", s.id, NULL);
        if (rc == AT_OK)
            x->out =
                json_pack("{s:s, s:s, s:b}", "subscription_id", s.id, "invoice_id", s.dunning_invoice, "queued", 1);
        return rc;
    }
    char inv[ID_MAX];
    snprintf(inv, sizeof(inv), "%s", s.dunning_invoice);
    rc = audit_append(c, s.ws, x->actor, "billing.recovery.recovered", "subscription", s.id, NULL);
    /* The money arrived after all: a ladder that had run out counts as recovered too. */
    store_arg ea[] = {sa_text(s.ws), sa_text(inv), sa_int(now)};
    if (rc == AT_OK)
        rc = store_exec(c,
                        "UPDATE dunning_episodes SET outcome = 'recovered', ended_at = $3 WHERE workspace_id = $1 AND "
                        "invoice_id = $2 AND outcome = 'lost'",
                        ea, 3, NULL);
    if (rc == AT_OK)
        rc = binv_paid(c, s.ws, inv, now, x->actor);
    if (rc == AT_OK && (rc = bsub_load_by_id(c, s.ws, s.id, false, &s)) == AT_OK)
        x->out = json_pack("{s:o, s:s}", "subscription", bsub_json(&s), "invoice_id", inv);
    return rc;
}

static int brecovery_run(store *s, brec_ctx *x, json_t **out)
{
    int rc = store_tx(s, x->op != 0, brecovery_tx, x);
    if (rc == AT_OK)
        *out = x->out;
    else
        json_decref(x->out);
    return rc;
}

int billing_recovery(store *s, const char *ws_id, json_t **out)
{
    brec_ctx x = {ws_id, NULL, NULL, NULL, 0, NULL};
    return brecovery_run(s, &x, out);
}

int billing_recovery_retry(store *s, const char *ws_id, const char *subscription_id, const audit_actor *actor,
                           json_t **out, billing_refusal *r)
{
    brec_ctx x = {ws_id, subscription_id, actor, r, 1, NULL};
    return brecovery_run(s, &x, out);
}

int billing_recovery_recovered(store *s, const char *ws_id, const char *subscription_id, const audit_actor *actor,
                               json_t **out, billing_refusal *r)
{
    brec_ctx x = {ws_id, subscription_id, actor, r, 2, NULL};
    return brecovery_run(s, &x, out);
}
