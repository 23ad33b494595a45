/* The billing engine: every event that time brings (trial notices and ends, renewals with their
 * invoices, scheduled changes and cancellations, first-payment expiry, overdue invoices, the rungs of
 * the dunning ladder), the jobs that run it and collect payments, developer test clocks, and Billing
 * Recovery. */
#include "billing/billing_impl.h"

#include "base/clock.h"
#include "base/err.h"
#include "base/log.h"
#include "billing/money.h"
#include "billing/provider.h"
#include "jobs/jobs.h"

#include <string.h>

/* ---- The dunning ladder ------------------------------------------------------------------------- */

static int bdunning_pause(store_conn *c, const bsub *s, int64_t now)
{
    store_arg a[] = {sa_text(s->ws), sa_int(now)};
    int64_t n = 0;
    int rc = store_exec(c,
                        "UPDATE workspaces SET billing_paused_at = $2 WHERE ((parent_id = $1 AND billing_mode = "
                        "'parent') OR (id = $1 AND kind = 'sub_account')) AND billing_paused_at IS NULL "
                        "AND status <> 'deleted'",
                        a, 2, &n);
    if (rc == AT_OK && n)
        rc = audit_append(c, s->ws, &billing_system_actor, "billing.subaccounts.paused", "subscription", s->id, NULL);
    return rc;
}

static int bdunning_mail(store_conn *c, const bsub *s, const char *template_id, int step)
{
    char amount[48] = "", number[32] = "", link[160], key[128], next[32] = "";
    store_rows *r = NULL;
    store_arg a[] = {sa_text(s->ws), sa_text(s->dunning_invoice)};
    int rc = store_query(c,
                         "SELECT number, amount_due - amount_paid, next_payment_attempt FROM invoices "
                         "WHERE workspace_id = $1 AND id = $2",
                         a, 2, &r);
    if (rc == AT_OK && store_rows_next(r) == 1) {
        snprintf(number, sizeof(number), "%s", store_rows_text(r, 0) ? store_rows_text(r, 0) : "");
        money_format(store_rows_int(r, 1), billing_catalog_get()->currency, amount);
        if (!store_rows_is_null(r, 2))
            clock_format_rfc3339(store_rows_int(r, 2), next);
    }
    store_rows_free(r);
    if (rc != AT_OK)
        return rc;
    snprintf(link, sizeof(link), "/w/%s/settings/billing", s->ws);
    snprintf(key, sizeof(key), "%s:%s:%d", template_id, s->dunning_invoice, step);
    json_t *vars =
        json_pack("{s:s, s:s, s:s, s:s}", "amount", amount, "number", number, "link", link, "plan", s->plan_id);
    if (next[0])
        json_object_set_new(vars, "expires", json_string(next));
    rc = billing_notify(c, s->ws, template_id, vars, key);
    json_decref(vars);
    return rc;
}

int bdunning_rung(store_conn *c, bsub *s, int64_t now)
{
    const billing_catalog *cat = billing_catalog_get();
    if (!s->dunning_invoice[0] || (size_t)s->dunning_step >= cat->dunning_count)
        return AT_OK;
    const billing_dunning_step *rung = &cat->dunning[s->dunning_step];
    int step = s->dunning_step++;
    bool last = (size_t)s->dunning_step == cat->dunning_count;
    int64_t next_at = last ? 0 : s->dunning_started_at + cat->dunning[s->dunning_step].day * US_PER_DAY;
    store_arg ia[] = {sa_text(s->ws), sa_text(s->dunning_invoice), next_at ? sa_int(next_at) : sa_null()};
    int rc =
        store_exec(c, "UPDATE invoices SET next_payment_attempt = $3 WHERE workspace_id = $1 AND id = $2", ia, 3, NULL);
    json_t *changes = json_pack("{s:{s:n, s:i}, s:{s:n, s:s}}", "step", "before", "after", step, "invoice", "before",
                                "after", s->dunning_invoice);
    if (rc == AT_OK)
        rc = audit_append(c, s->ws, &billing_system_actor, "billing.dunning.step", "subscription", s->id, changes);
    json_decref(changes);
    if (rc == AT_OK && rung->retry) {
        store_arg ea[] = {sa_text(s->ws), sa_text(s->dunning_invoice)};
        rc = store_exec(
            c,
            "UPDATE dunning_episodes SET attempts = attempts + 1 WHERE workspace_id = $1 AND invoice_id = $2 "
            "AND outcome = 'open'",
            ea, 2, NULL);
        if (rc == AT_OK && strcmp(s->collection, "charge_automatically") == 0) {
            int64_t attempts = 0;
            store_query_int(c, "SELECT attempt_count FROM invoices WHERE workspace_id = $1 AND id = $2", ea, 2,
                            &attempts);
            rc = billing_collect_enqueue(c, s->ws, s->dunning_invoice, (int)attempts + 1);
        } else if (rc == AT_OK && !rung->mail[0]) {
            /* Manual collection: a retry is the payment request sent again. */
            rc = bdunning_mail(c, s, "payment_retry_failed", step);
        }
    }
    if (rc == AT_OK && rung->mail[0])
        rc = bdunning_mail(c, s, rung->mail, step);
    if (rc == AT_OK && rung->pause_sub_accounts)
        rc = bdunning_pause(c, s, now);
    if (rc == AT_OK && last) {
        store_arg ea[] = {sa_text(s->ws), sa_text(s->dunning_invoice), sa_int(now)};
        rc = store_exec(c,
                        "UPDATE dunning_episodes SET outcome = 'lost', ended_at = $3 WHERE workspace_id = $1 AND "
                        "invoice_id = $2 AND outcome = 'open'",
                        ea, 3, NULL);
    }
    if (rc == AT_OK && rung->state[0]) {
        if (strcmp(rung->state, "canceled") == 0)
            return billing_end_now(c, s, now, "the dunning ladder ended", NULL);
        if (bsub_transition_allowed(s->status, rung->state))
            rc = bsub_set_status(c, s, rung->state, "payment failed", NULL);
    }
    if (rc == AT_OK)
        rc = bsub_save(c, s);
    if (rc == AT_OK)
        rc = billing_sync(c, s->ws);
    return rc;
}

int bdunning_start(store_conn *c, bsub *s, const char *invoice_id, int64_t now)
{
    char id[ID_MAX];
    id_new("dun", id);
    snprintf(s->dunning_invoice, sizeof(s->dunning_invoice), "%s", invoice_id);
    s->dunning_started_at = now;
    s->dunning_step = 0;
    store_arg a[] = {sa_text(s->ws), sa_text(id), sa_text(s->id), sa_text(invoice_id), sa_int(now)};
    int rc = store_exec(c,
                        "INSERT INTO dunning_episodes (workspace_id, id, subscription_id, invoice_id, started_at, "
                        "outcome, attempts) VALUES ($1, $2, $3, $4, $5, 'open', 1)",
                        a, 5, NULL);
    return rc == AT_OK ? bdunning_rung(c, s, now) : rc;
}

/* ---- Events ------------------------------------------------------------------------------------- */

int bcycle_draft(store_conn *c, bsub *s, const bwhatif *w, bdraft *d)
{
    const billing_catalog *cat = billing_catalog_get();
    bool trial = strcmp(s->status, "trialing") == 0;
    int64_t at = trial ? s->trial_end : s->period_end;
    int rc = AT_OK;
    if (strcmp(s->status, "active") == 0 || strcmp(s->status, "past_due") == 0)
        rc = bdraft_usage_lines(c, d, s, s->period_start, at, w);
    if (rc != AT_OK)
        return rc;
    if (s->pending_plan[0])
        snprintf(s->plan_id, sizeof(s->plan_id), "%s", s->pending_plan);
    if (trial || (s->pending_interval >= 0 && s->pending_interval != s->interval))
        s->anchor = at;
    if (s->pending_interval >= 0)
        s->interval = s->pending_interval;
    if (s->pending_quantity)
        s->quantity = s->pending_quantity;
    s->pending_plan[0] = '\0';
    s->pending_interval = -1;
    s->pending_quantity = 0;
    s->period_start = at;
    s->period_end = billing_period_end(s->anchor, s->interval, at);
    if ((rc = bdraft_pending_lines(c, d, s->ws, s->id)) != AT_OK)
        return rc;
    for (size_t i = 0; w && w->waiting && i < w->waiting->n && d->n < BILLING_MAX_LINES - BILLING_PLAN_LINES; i++)
        d->lines[d->n++] = w->waiting->lines[i];
    const billing_plan *p = billing_plan_find(cat, s->plan_id);
    if (p)
        bdraft_plan_lines(d, p, s->interval, s->quantity, s->period_start, s->period_end);
    return AT_OK;
}

static int bengine_trial_end(store_conn *c, bsub *s, int64_t at)
{
    if (s->cancel_at_period_end)
        return billing_end_now(c, s, at, "canceled at the end of the trial", NULL);
    if (strcmp(s->collection, "charge_automatically") == 0) {
        char pm[80] = "";
        store_rows *r = NULL;
        store_arg a[] = {sa_text(s->ws)};
        if (store_query(c, "SELECT payment_method FROM billing_customers WHERE workspace_id = $1", a, 1, &r) == AT_OK &&
            store_rows_next(r) == 1)
            snprintf(pm, sizeof(pm), "%s", store_rows_text(r, 0));
        store_rows_free(r);
        if (!pm[0]) {
            /* Stripe: a trial that ends without a payment method pauses the subscription. */
            int rc = bsub_set_status(c, s, "paused", "the trial ended without a payment method", NULL);
            if (rc == AT_OK)
                rc = bsub_save(c, s);
            return rc == AT_OK ? billing_sync(c, s->ws) : rc;
        }
    }
    /* Priced while still trialing (no usage is billed for a trial), then made active. */
    bdraft d;
    memset(&d, 0, sizeof(d));
    s->trial_end = at;
    int rc = bcycle_draft(c, s, NULL, &d);
    if (rc == AT_OK)
        rc = bsub_set_status(c, s, "active", "the trial ended", NULL);
    if (rc == AT_OK) {
        btotals t;
        char inv[ID_MAX];
        rc = binv_create(c, s, "subscription_cycle", &d, at, s->period_start, s->period_end, inv, &t);
    }
    if (rc == AT_OK)
        rc = bsub_save(c, s);
    return rc == AT_OK ? billing_sync(c, s->ws) : rc;
}

/* The period ends at `at`: the next period invoice as bcycle_draft prices it (usage of the ending
 * period segment by segment, scheduled changes, waiting prorations, the next period in advance). */
static int bengine_renew(store_conn *c, bsub *s, int64_t at)
{
    if (s->cancel_at_period_end)
        return billing_end_now(c, s, at, "canceled at the end of the period", NULL);
    bool billable = strcmp(s->status, "active") == 0 || strcmp(s->status, "past_due") == 0;
    int rc = AT_OK;
    if (s->pending_plan[0] || s->pending_interval >= 0 || s->pending_quantity) {
        json_t *changes =
            json_pack("{s:{s:s, s:s}, s:{s:I, s:I}}", "plan", "before", s->plan_id, "after",
                      s->pending_plan[0] ? s->pending_plan : s->plan_id, "quantity", "before", (json_int_t)s->quantity,
                      "after", (json_int_t)(s->pending_quantity ? s->pending_quantity : s->quantity));
        rc = audit_append(c, s->ws, &billing_system_actor, "billing.subscription.change_applied", "subscription", s->id,
                          changes);
        json_decref(changes);
    }
    bdraft d;
    memset(&d, 0, sizeof(d));
    s->period_end = at;
    if (rc == AT_OK)
        rc = bcycle_draft(c, s, NULL, &d);
    if (rc == AT_OK && billable && billing_plan_find(billing_catalog_get(), s->plan_id)) {
        btotals t;
        char inv[ID_MAX];
        rc = binv_create(c, s, "subscription_cycle", &d, at, s->period_start, s->period_end, inv, &t);
    }
    if (rc == AT_OK)
        rc = bsub_save(c, s);
    return rc == AT_OK ? billing_sync(c, s->ws) : rc;
}

typedef struct bengine_ctx {
    const char *bws;
    int64_t until;
    bool did;
} bengine_ctx;

/* One event, the earliest due, in its own transaction. */
static int bengine_step_tx(store_conn *c, void *arg)
{
    bengine_ctx *x = arg;
    const billing_catalog *cat = billing_catalog_get();
    bsub s;
    x->did = false;
    store_rows *r = NULL;
    store_arg w[] = {sa_text(x->bws)};
    int rc = store_query(c, "SELECT id FROM workspaces WHERE id = $1 FOR UPDATE", w, 1, &r);
    store_rows_free(r);
    if (rc != AT_OK)
        return rc;
    rc = bsub_load(c, x->bws, true, &s);
    if (rc == AT_ENOTFOUND)
        return AT_OK;
    if (rc != AT_OK)
        return rc;
    int64_t at = bsub_next_event(c, &s);
    if (at == INT64_MAX || at > x->until)
        return AT_OK;
    x->did = true;
    if (strcmp(s.status, "incomplete") == 0) {
        store_arg a[] = {sa_text(s.ws), sa_text(s.id), sa_int(at)};
        rc = store_exec(c,
                        "UPDATE invoices SET status = 'void', voided_at = $3 WHERE workspace_id = $1 AND "
                        "subscription_id = $2 AND status = 'open'",
                        a, 3, NULL);
        if (rc == AT_OK)
            rc = bsub_set_status(c, &s, "incomplete_expired", "the first payment did not arrive in time", NULL);
        s.ended_at = at;
        if (rc == AT_OK)
            rc = bsub_save(c, &s);
        return rc == AT_OK ? billing_sync(c, s.ws) : rc;
    }
    if (strcmp(s.status, "trialing") == 0) {
        if (!s.trial_notice_sent && cat->trial_notice_days > 0 &&
            at == s.trial_end - cat->trial_notice_days * US_PER_DAY && at < s.trial_end) {
            char end[32], link[160], key[96];
            clock_format_rfc3339(s.trial_end, end);
            snprintf(link, sizeof(link), "/w/%s/settings/billing", s.ws);
            snprintf(key, sizeof(key), "trial_ending:%s", s.id);
            const billing_plan *p = billing_plan_find(cat, s.plan_id);
            json_t *vars = json_pack("{s:s, s:s, s:s}", "plan", p ? p->name : s.plan_id, "expires", end, "link", link);
            s.trial_notice_sent = true;
            rc = billing_notify(c, s.ws, "trial_ending", vars, key);
            json_decref(vars);
            return rc == AT_OK ? bsub_save(c, &s) : rc;
        }
        s.trial_notice_sent = true;
        return bengine_trial_end(c, &s, at);
    }
    if (s.dunning_invoice[0] && (size_t)s.dunning_step < cat->dunning_count &&
        at == s.dunning_started_at + cat->dunning[s.dunning_step].day * US_PER_DAY && at < s.period_end)
        return bdunning_rung(c, &s, at);
    if (at < s.period_end) {
        /* An invoice under manual collection passed its due date unpaid: that is the failed payment. */
        char inv[ID_MAX] = "";
        store_arg a[] = {sa_text(s.ws), sa_text(s.id), sa_int(at)};
        rc = store_query(c,
                         "SELECT id FROM invoices WHERE workspace_id = $1 AND subscription_id = $2 AND status = 'open' "
                         "AND due_at <= $3 ORDER BY due_at, id LIMIT 1",
                         a, 3, &r);
        if (rc == AT_OK && store_rows_next(r) == 1)
            snprintf(inv, sizeof(inv), "%s", store_rows_text(r, 0));
        store_rows_free(r);
        if (rc != AT_OK)
            return rc;
        if (inv[0])
            return binv_payment_failed(c, s.ws, inv, at, "overdue", NULL);
        x->did = false;
        return AT_OK;
    }
    return bengine_renew(c, &s, at);
}

int billing_advance(store *s, const char *billing_ws, int64_t until_us)
{
    bengine_ctx x = {billing_ws, until_us, false};
    /* Bounded: a decade of monthly periods with a full ladder in each stays far below this. */
    for (int i = 0; i < 5000; i++) {
        int rc = store_tx(s, true, bengine_step_tx, &x);
        if (rc != AT_OK)
            return rc;
        if (!x.did)
            return AT_OK;
    }
    return AT_EINTERNAL;
}

/* ---- Jobs --------------------------------------------------------------------------------------- */

/* billing.advance: run a billed workspace's due events (workspaces on a test clock move only when
 * their clock does). */
static int billing_advance_job(job_ctx *j)
{
    const char *ws = json_string_value(json_object_get(j->payload, "workspace_id"));
    if (!ws)
        return AT_OK;
    store_conn *c = NULL;
    int64_t clocked = 0;
    int rc = store_acquire(j->store, &c);
    if (rc != AT_OK)
        return rc;
    store_arg a[] = {sa_text(ws)};
    rc = store_query_int(c, "SELECT COUNT(*) FROM billing_clocks WHERE workspace_id = $1", a, 1, &clocked);
    store_release(c);
    if (rc != AT_OK)
        return rc;
    if (clocked)
        return AT_OK;
    rc = billing_advance(j->store, ws, clock_now_us());
    if (rc != AT_OK)
        snprintf(j->error, sizeof(j->error), "billing_advance: %s", at_status_name(rc));
    return rc;
}

typedef struct bcollect_ctx {
    const char *ws, *invoice;
    char customer_ref[80], pm[80], currency[4], sub_status[24];
    int64_t amount;
    int attempt;
    bool open;
    billing_pay_result res;
    int outcome_rc;
} bcollect_ctx;

static int bcollect_read_tx(store_conn *c, void *arg)
{
    bcollect_ctx *x = arg;
    store_rows *r = NULL;
    store_arg a[] = {sa_text(x->ws), sa_text(x->invoice)};
    int rc = store_query(c,
                         "SELECT i.status, i.amount_due - i.amount_paid, i.currency, i.attempt_count, "
                         "COALESCE(b.provider_customer_id, ''), COALESCE(b.payment_method, '') FROM invoices i "
                         "LEFT JOIN billing_customers b ON b.workspace_id = i.workspace_id "
                         "WHERE i.workspace_id = $1 AND i.id = $2",
                         a, 2, &r);
    if (rc == AT_OK && store_rows_next(r) == 1) {
        x->open = strcmp(store_rows_text(r, 0), "open") == 0;
        x->amount = store_rows_int(r, 1);
        snprintf(x->currency, sizeof(x->currency), "%s", store_rows_text(r, 2));
        x->attempt = (int)store_rows_int(r, 3) + 1;
        snprintf(x->customer_ref, sizeof(x->customer_ref), "%s", store_rows_text(r, 4));
        snprintf(x->pm, sizeof(x->pm), "%s", store_rows_text(r, 5));
    }
    store_rows_free(r);
    return rc;
}

static int bcollect_record_tx(store_conn *c, void *arg)
{
    bcollect_ctx *x = arg;
    int64_t now = billing_now(c, x->ws);
    const char *outcome = x->res.outcome == BILLING_PAY_SUCCEEDED ? "succeeded"
                          : x->res.outcome == BILLING_PAY_FAILED  ? "failed"
                                                                  : "pending";
    char id[ID_MAX], ref[96];
    id_new("pay", id);
    if (x->res.ref[0])
        snprintf(ref, sizeof(ref), "%s", x->res.ref);
    else
        snprintf(ref, sizeof(ref), "local:%s:%d", x->invoice, x->attempt);
    store_arg a[] = {sa_text(x->ws),    sa_text(id),      sa_text(x->invoice),
                     sa_text(ref),      sa_text(outcome), sa_text(x->res.decline_code),
                     sa_int(x->amount), sa_int(now)};
    /* The same fact may have come first through the provider's webhook: only a new fact (or a final
     * outcome replacing a pending one) has an effect, and success is never downgraded. */
    int64_t changed = 0;
    int rc =
        store_exec(c,
                   "INSERT INTO payment_attempts (workspace_id, id, invoice_id, provider_ref, outcome, decline_code, "
                   "amount, created_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8) ON CONFLICT (workspace_id, "
                   "provider_ref) DO UPDATE SET outcome = excluded.outcome, decline_code = excluded.decline_code "
                   "WHERE payment_attempts.outcome = 'pending' AND excluded.outcome <> 'pending'",
                   a, 8, &changed);
    if (rc != AT_OK || !changed)
        return rc;
    audit_actor actor = {"system", NULL, "Payment provider", NULL, NULL, NULL};
    if (x->res.outcome == BILLING_PAY_SUCCEEDED)
        return binv_paid(c, x->ws, x->invoice, now, &actor);
    if (x->res.outcome == BILLING_PAY_FAILED)
        return binv_payment_failed(c, x->ws, x->invoice, now, x->res.decline_code, &actor);
    return AT_OK;
}

/* billing.collect: one payment attempt of an open invoice. The provider call happens between two
 * transactions; its idempotency key (invoice and attempt) makes a re-run after a crash safe. */
static int billing_collect_job(job_ctx *j)
{
    bcollect_ctx x;
    memset(&x, 0, sizeof(x));
    x.ws = json_string_value(json_object_get(j->payload, "workspace_id"));
    x.invoice = json_string_value(json_object_get(j->payload, "invoice_id"));
    if (!x.ws || !x.invoice)
        return AT_OK;
    int rc = store_tx(j->store, false, bcollect_read_tx, &x);
    if (rc != AT_OK || !x.open || x.amount <= 0)
        return rc;
    const billing_provider *p = billing_provider_get();
    if (strcmp(p->name, "manual") == 0)
        return AT_OK;
    if (!x.pm[0] || !x.customer_ref[0]) {
        x.res.outcome = BILLING_PAY_FAILED;
        snprintf(x.res.decline_code, sizeof(x.res.decline_code), "no_payment_method");
        x.res.hard_decline = true;
    } else {
        char key[128];
        snprintf(key, sizeof(key), "atrium-%s-%d", x.invoice, x.attempt);
        rc = p->pay(x.customer_ref, x.pm, x.amount, x.currency, x.invoice, key, &x.res);
        if (rc != AT_OK) {
            snprintf(j->error, sizeof(j->error), "provider: %s", at_status_name(rc));
            return rc;
        }
    }
    return store_tx(j->store, true, bcollect_record_tx, &x);
}

void billing_register_jobs(void)
{
    jobs_register("billing.advance", billing_advance_job);
    jobs_register("billing.collect", billing_collect_job);
}

int billing_schedule_advance(store_conn *c, const char *billing_ws, int64_t at)
{
    char payload[96], key[96];
    snprintf(payload, sizeof(payload), "{\"workspace_id\":\"%s\"}", billing_ws);
    snprintf(key, sizeof(key), "billing.advance:%s:%lld", billing_ws, (long long)at);
    return jobs_enqueue(c, "billing.advance", payload, at, 8, key, NULL);
}

/* At start: make sure every subscription with work ahead has its job (a crash between a save and its
 * enqueue cannot happen, both are in one transaction; this covers databases restored from backups). */
static int billing_schedule_tx(store_conn *c, void *arg)
{
    (void)arg;
    store_rows *r = NULL;
    json_t *due = json_array();
    int rc = store_query(c,
                         "SELECT workspace_id, next_event_at FROM subscriptions WHERE next_event_at IS NOT NULL AND "
                         "status NOT IN ('canceled', 'incomplete_expired')",
                         NULL, 0, &r);
    while (rc == AT_OK && store_rows_next(r) == 1)
        json_array_append_new(due, json_pack("[s, I]", store_rows_text(r, 0), (json_int_t)store_rows_int(r, 1)));
    store_rows_free(r);
    size_t i;
    json_t *e;
    json_array_foreach(due, i, e) if (rc == AT_OK) rc =
        billing_schedule_advance(c, json_string_value(json_array_get(e, 0)), json_integer_value(json_array_get(e, 1)));
    json_decref(due);
    return rc;
}

int billing_schedule(store *s)
{
    return store_tx(s, true, billing_schedule_tx, NULL);
}

/* ---- Test clocks -------------------------------------------------------------------------------- */

static int bclock_json(store_conn *c, const char *bws, json_t **out)
{
    int64_t t = 0;
    store_arg a[] = {sa_text(bws)};
    int rc = store_query_int(c, "SELECT frozen_time FROM billing_clocks WHERE workspace_id = $1", a, 1, &t);
    if (rc == AT_ENOTFOUND) {
        *out = json_pack("{s:s, s:n, s:o, s:n}", "workspace_id", bws, "frozen_time", "now",
                         billing_time_json(clock_now_us()), "subscription");
        return AT_OK;
    }
    if (rc != AT_OK)
        return rc;
    bsub s;
    json_t *sub = bsub_load(c, bws, false, &s) == AT_OK ? bsub_json(&s) : json_null();
    *out = json_pack("{s:s, s:o, s:o, s:o}", "workspace_id", bws, "frozen_time", billing_time_json(t), "now",
                     billing_time_json(t), "subscription", sub);
    return AT_OK;
}

typedef struct bclock_ctx {
    const char *ws;
    char bws[ID_MAX];
    int64_t t;
    int op; /* 0 get, 1 create, 2 advance (set), 3 delete */
    const audit_actor *actor;
    billing_refusal *r;
    json_t *out;
} bclock_ctx;

static int bclock_tx(store_conn *c, void *arg)
{
    bclock_ctx *x = arg;
    int rc = billing_scope(c, x->ws, x->bws);
    if (rc != AT_OK)
        return rc;
    if (x->op != 0 && strcmp(x->bws, x->ws) != 0) {
        billing_refuse(x->r, "", "billed_to_parent",
                       "This sub-account is billed to its agency: use the agency's clock.");
        return AT_ECONFLICT;
    }
    int64_t current = 0, now = clock_now_us();
    store_arg a[] = {sa_text(x->bws), sa_int(x->t), sa_int(now)};
    rc = store_query_int(c, "SELECT frozen_time FROM billing_clocks WHERE workspace_id = $1", a, 1, &current);
    bool exists = rc == AT_OK;
    if (rc != AT_OK && rc != AT_ENOTFOUND)
        return rc;
    rc = AT_OK;
    if (x->op == 1) {
        if (exists) {
            billing_refuse(x->r, "", "already_exists", "This workspace already runs on a test clock.");
            return AT_ECONFLICT;
        }
        if (!x->t)
            a[1] = sa_int(x->t = now);
        if (x->t < now - 60 * US_PER_S) {
            billing_refuse(x->r, "frozen_time", "range", "A test clock starts at the present or later.");
            return AT_EINVAL;
        }
        rc = store_exec(c,
                        "INSERT INTO billing_clocks (workspace_id, frozen_time, created_at, updated_at) "
                        "VALUES ($1, $2, $3, $3)",
                        a, 3, NULL);
        if (rc == AT_OK)
            rc = audit_append(c, x->bws, x->actor, "billing.test_clock.created", "workspace", x->bws, NULL);
    } else if (x->op == 2) {
        if (!exists) {
            billing_refuse(x->r, "", "no_test_clock", "Create a test clock first.");
            return AT_ECONFLICT;
        }
        if (x->t <= current || x->t > current + 800 * US_PER_DAY) {
            billing_refuse(x->r, "frozen_time", "range",
                           "Must be later than the clock's time and at most 800 days ahead of it.");
            return AT_EINVAL;
        }
        rc = store_exec(c, "UPDATE billing_clocks SET frozen_time = $2, updated_at = $3 WHERE workspace_id = $1", a, 3,
                        NULL);
        json_t *changes = json_pack("{s:{s:o, s:o}}", "frozen_time", "before", billing_time_json(current), "after",
                                    billing_time_json(x->t));
        if (rc == AT_OK)
            rc = audit_append(c, x->bws, x->actor, "billing.test_clock.advanced", "workspace", x->bws, changes);
        json_decref(changes);
    } else if (x->op == 3) {
        if (!exists)
            return AT_ENOTFOUND;
        rc = store_exec(c, "DELETE FROM billing_clocks WHERE workspace_id = $1", a, 1, NULL);
        if (rc == AT_OK)
            rc = audit_append(c, x->bws, x->actor, "billing.test_clock.deleted", "workspace", x->bws, NULL);
        return rc;
    }
    if (rc == AT_OK && x->op == 0)
        rc = bclock_json(c, x->bws, &x->out);
    return rc;
}

static int bclock_run(store *s, bclock_ctx *x, json_t **out)
{
    int rc = store_tx(s, x->op != 0, bclock_tx, x);
    if (rc == AT_OK && (x->op == 1 || x->op == 2)) {
        json_decref(x->out);
        x->out = NULL;
        /* Each event runs in its own transaction at its own time, as the clock passes it. */
        rc = billing_advance(s, x->bws, x->t);
        if (rc == AT_OK) {
            store_conn *c = NULL;
            if ((rc = store_acquire(s, &c)) == AT_OK) {
                rc = bclock_json(c, x->bws, &x->out);
                store_release(c);
            }
        }
    }
    if (rc == AT_OK && out)
        *out = x->out;
    else
        json_decref(x->out);
    return rc;
}

int billing_clock_get(store *s, const char *ws_id, json_t **out)
{
    bclock_ctx x = {ws_id, "", 0, 0, NULL, NULL, NULL};
    return bclock_run(s, &x, out);
}

int billing_clock_create(store *s, const char *ws_id, int64_t frozen_time, const audit_actor *actor, json_t **out,
                         billing_refusal *r)
{
    bclock_ctx x = {ws_id, "", frozen_time, 1, actor, r, NULL};
    return bclock_run(s, &x, out);
}

int billing_clock_advance(store *s, const char *ws_id, int64_t frozen_time, const audit_actor *actor, json_t **out,
                          billing_refusal *r)
{
    bclock_ctx x = {ws_id, "", frozen_time, 2, actor, r, NULL};
    return bclock_run(s, &x, out);
}

int billing_clock_delete(store *s, const char *ws_id, const audit_actor *actor)
{
    bclock_ctx x = {ws_id, "", 0, 3, actor, NULL, NULL};
    return bclock_run(s, &x, NULL);
}
