/* Subscription changes: plan, interval and seat changes with their proration (priced the same way by
 * the preview and by the change itself), starting, cancelling and resuming a subscription, and a
 * sub-account's billing mode. */
#include "billing/billing_impl.h"

#include "base/clock.h"
#include "base/err.h"
#include "billing/money.h"

#include <string.h>

/* A priced change. */
typedef struct bchange {
    const billing_plan *from, *to;
    int from_interval, to_interval;
    int64_t from_qty, to_qty;
    char mode[16]; /* invoice_now, prorate, at_renewal, trial */
    int64_t at;    /* the proration time */
    bool new_period;
    int64_t new_period_end;
    bdraft d; /* the lines priced now (prorations, or a new period) */
} bchange;

static bool bchange_mode_ok(const char *m)
{
    return strcmp(m, "invoice_now") == 0 || strcmp(m, "prorate") == 0 || strcmp(m, "at_renewal") == 0;
}

static int64_t billing_sub_account_count(store_conn *c, const char *ws)
{
    int64_t n = 0;
    store_arg a[] = {sa_text(ws)};
    store_query_int(c, "SELECT COUNT(*) FROM workspaces WHERE parent_id = $1 AND status <> 'deleted'", a, 1, &n);
    return n;
}

/* Checks a plan, interval and seat count for the billed workspace; fills r and returns AT_EINVAL or
 * AT_ECONFLICT on a refusal. */
static int bchange_check_target(store_conn *c, const char *bws, const billing_plan *to, int interval, int64_t qty,
                                const char *current_plan, billing_refusal *r)
{
    if (!to || (!to->offered && (!current_plan || strcmp(current_plan, to->id) != 0))) {
        billing_refuse(r, "plan_id", "unknown_plan", "There is no plan with this id to choose.");
        return AT_EINVAL;
    }
    if (interval < 0) {
        billing_refuse(r, "interval", "enum", "Must be month or year.");
        return AT_EINVAL;
    }
    if (qty < to->min_seats || qty > to->max_seats) {
        billing_refuse(r, "quantity", "range", "The %s plan takes between %lld and %lld seats.", to->name,
                       (long long)to->min_seats, (long long)to->max_seats);
        return AT_EINVAL;
    }
    int64_t used = billing_used_seats(c, bws);
    if (qty < used) {
        billing_refuse(r, "quantity", "seats_in_use",
                       "%lld seats are in use (members and pending invitations); remove some before going below that.",
                       (long long)used);
        return AT_EINVAL;
    }
    int64_t subs = billing_sub_account_count(c, bws);
    if (subs && (!billing_plan_has_feature(to, "sub_accounts") || subs > to->max_sub_accounts)) {
        billing_refuse(r, "plan_id", "sub_accounts_over_limit",
                       "This workspace has %lld sub-accounts; the %s plan allows %lld.", (long long)subs, to->name,
                       (long long)(billing_plan_has_feature(to, "sub_accounts") ? to->max_sub_accounts : 0));
        return AT_EINVAL;
    }
    return AT_OK;
}

/* A proration_date is only taken from a preview: one issued to this subscription within the last
 * BILLING_PREVIEW_TTL of billing time, and not earlier than the subscription's last change. Anything
 * else would let a customer be credited for time already used (issue 11): 422 naming the field. */
#define BILLING_PREVIEW_TTL (15 * 60 * US_PER_S)

static int bchange_check_issued(store_conn *c, const bsub *s, int64_t at, int64_t now, billing_refusal *r)
{
    int64_t issued = 0, last = 0;
    store_arg a[] = {sa_text(s->ws), sa_text(s->id), sa_int(at), sa_int(now - BILLING_PREVIEW_TTL)};
    int rc = store_query_int(c,
                             "SELECT COUNT(*) FROM billing_previews WHERE workspace_id = $1 AND subscription_id = $2 "
                             "AND proration_date = $3 AND issued_at >= $4",
                             a, 4, &issued);
    if (rc == AT_OK)
        rc = store_query_int(c,
                             "SELECT COALESCE(MAX(made_at), 0) FROM subscription_changes WHERE workspace_id = $1 AND "
                             "subscription_id = $2",
                             a, 2, &last);
    if (rc != AT_OK)
        return rc;
    if (!issued) {
        billing_refuse(r, "proration_date", "not_previewed",
                       "Must be the proration_date of a preview of this subscription from the last 15 minutes.");
        return AT_ECONSTRAINT;
    }
    if (at < last) {
        billing_refuse(r, "proration_date", "before_last_change",
                       "The subscription changed after this preview: preview the change again.");
        return AT_ECONSTRAINT;
    }
    return AT_OK;
}

/* Records that a preview priced a change at `at` (its own "now"), so a change may use it within
 * BILLING_PREVIEW_TTL; older records of the workspace are dropped on the way. */
static int bchange_issue(store_conn *c, const bsub *s, int64_t at)
{
    store_arg a[] = {sa_text(s->ws), sa_text(s->id), sa_int(at)},
              old[] = {sa_text(s->ws), sa_int(at - BILLING_PREVIEW_TTL)};
    int rc = store_exec(c, "DELETE FROM billing_previews WHERE workspace_id = $1 AND issued_at < $2", old, 2, NULL);
    if (rc == AT_OK)
        rc = store_exec(c,
                        "INSERT INTO billing_previews (workspace_id, subscription_id, proration_date, issued_at) "
                        "VALUES ($1, $2, $3, $3) ON CONFLICT (workspace_id, subscription_id, proration_date) "
                        "DO UPDATE SET issued_at = excluded.issued_at",
                        a, 3, NULL);
    return rc;
}

static void bchange_desc(const billing_plan *p, int interval, int64_t qty, char out[96])
{
    snprintf(out, 96, "%s, %lld seat%s, %sly", p->name, (long long)qty, qty == 1 ? "" : "s",
             billing_interval_name(interval));
}

/* Prices ch against the live subscription s at `now`: validates, picks the mode (the caller's, or the
 * default for the direction: increases invoiced now, decreases at renewal, monthly to yearly invoiced
 * now, yearly to monthly at renewal), and computes the lines. */
static int bchange_price(store_conn *c, const bsub *s, const billing_change *ch, int64_t now, bchange *x,
                         billing_refusal *r)
{
    const billing_catalog *cat = billing_catalog_get();
    memset(x, 0, sizeof(*x));
    if (strcmp(s->status, "trialing") != 0 && strcmp(s->status, "active") != 0) {
        billing_refuse(r, "", "invalid_state", "The subscription is %s: settle it before changing it.", s->status);
        return AT_ECONFLICT;
    }
    x->from = billing_plan_find(cat, s->plan_id);
    x->from_interval = s->interval;
    x->from_qty = s->quantity;
    x->to = ch->plan_id ? billing_plan_find(cat, ch->plan_id) : x->from;
    x->to_interval = ch->interval ? billing_interval_from_name(ch->interval) : s->interval;
    x->to_qty = ch->quantity ? ch->quantity : s->quantity;
    if (!x->from)
        return AT_EINTERNAL;
    if (ch->proration && !bchange_mode_ok(ch->proration)) {
        billing_refuse(r, "proration", "enum", "Must be invoice_now, prorate or at_renewal.");
        return AT_EINVAL;
    }
    int rc = bchange_check_target(c, s->ws, x->to, x->to_interval, x->to_qty, s->plan_id, r);
    if (rc != AT_OK)
        return rc;
    if (x->to == x->from && x->to_interval == x->from_interval && x->to_qty == x->from_qty) {
        billing_refuse(r, "", "no_change", "This is already the subscription's plan, interval and seat count.");
        return AT_ECONFLICT;
    }
    x->at = ch->proration_date ? ch->proration_date : now;
    if (x->at < s->period_start || x->at > now || x->at >= s->period_end) {
        billing_refuse(r, "proration_date", "range", "Must lie between the current period's start and now.");
        return AT_EINVAL;
    }
    if (ch->proration_date && (rc = bchange_check_issued(c, s, x->at, now, r)) != AT_OK)
        return rc;
    if (strcmp(s->status, "trialing") == 0) {
        snprintf(x->mode, sizeof(x->mode), "trial");
        return AT_OK;
    }
    int64_t old_amount = billing_plan_amount(x->from, x->from_interval, x->from_qty);
    int64_t new_amount = billing_plan_amount(x->to, x->to_interval, x->to_qty);
    const char *mode = ch->proration;
    if (x->to_interval != x->from_interval) {
        if (x->to_interval == BILLING_MONTH) {
            if (mode && strcmp(mode, "at_renewal") != 0) {
                billing_refuse(r, "proration", "not_allowed",
                               "Moving from yearly to monthly billing takes effect at the end of the paid year.");
                return AT_EINVAL;
            }
            mode = "at_renewal";
        } else {
            if (mode && strcmp(mode, "prorate") == 0) {
                billing_refuse(r, "proration", "not_allowed",
                               "Moving to yearly billing starts a new year now: invoice_now or at_renewal.");
                return AT_EINVAL;
            }
            if (!mode)
                mode = "invoice_now";
        }
    } else if (!mode) {
        mode = new_amount > old_amount ? "invoice_now" : "at_renewal";
    }
    snprintf(x->mode, sizeof(x->mode), "%s", mode);
    if (strcmp(mode, "at_renewal") == 0)
        return AT_OK;
    /* On the stored microseconds: a sub-second boundary is not cut first, so each line is rounded once. */
    int64_t remaining = s->period_end - x->at, period = s->period_end - s->period_start;
    char from_desc[96], to_desc[96], when[32];
    bchange_desc(x->from, x->from_interval, x->from_qty, from_desc);
    bchange_desc(x->to, x->to_interval, x->to_qty, to_desc);
    clock_format_rfc3339(x->at, when);
    when[10] = '\0';
    /* A new period starts now: the open period's metered usage is billed with it, at the old plan. */
    if (x->to_interval != x->from_interval) {
        int rc2 = bdraft_usage_lines(c, &x->d, s, s->period_start, x->at, NULL);
        if (rc2 != AT_OK)
            return rc2;
    }
    int64_t credit = money_prorate(old_amount, remaining, period);
    if (credit)
        bdraft_add(&x->d, "proration", 1, -credit, -credit, x->at, s->period_end, "Unused time on %s after %s",
                   from_desc, when);
    if (x->to_interval != x->from_interval) {
        x->new_period = true;
        x->new_period_end = billing_period_end(x->at, x->to_interval, x->at);
        bdraft_plan_lines(&x->d, x->to, x->to_interval, x->to_qty, x->at, x->new_period_end);
    } else {
        int64_t debit = money_prorate(new_amount, remaining, period);
        if (debit)
            bdraft_add(&x->d, "proration", 1, debit, debit, x->at, s->period_end, "Remaining time on %s after %s",
                       to_desc, when);
    }
    return AT_OK;
}

/* The next period invoice as it would be after the change: the subscription as the change leaves it,
 * priced by bcycle_draft (the renewal's own pricing) with the change's plan segment and waiting
 * prorations, and the credit balance as the change's own invoice leaves it (balance_delta). */
static int bchange_next_invoice(store_conn *c, const bsub *s, const bchange *x, int64_t balance_delta, json_t **out)
{
    bsub n = *s;
    bwhatif w = {x->at, x->from->id, x->from->id, NULL};
    bdraft d;
    btotals t;
    memset(&d, 0, sizeof(d));
    if (strcmp(x->mode, "at_renewal") == 0) {
        snprintf(n.pending_plan, sizeof(n.pending_plan), "%s", x->to->id);
        n.pending_interval = x->to_interval;
        n.pending_quantity = x->to_qty;
    } else {
        snprintf(n.plan_id, sizeof(n.plan_id), "%s", x->to->id);
        n.interval = x->to_interval;
        n.quantity = x->to_qty;
        n.pending_plan[0] = '\0';
        n.pending_interval = -1;
        n.pending_quantity = 0;
        if (x->new_period) {
            n.anchor = x->at;
            n.period_start = x->at;
            n.period_end = x->new_period_end;
        } else {
            w.to_plan = x->to->id;
        }
        if (strcmp(x->mode, "prorate") == 0)
            w.waiting = &x->d;
    }
    int rc = bcycle_draft(c, &n, &w, &d);
    if (rc == AT_OK)
        rc = binv_totals_adjusted(c, s->ws, &d, balance_delta, &t);
    if (rc != AT_OK)
        return rc;
    *out = json_pack("{s:o, s:I, s:o}", "at", billing_time_json(n.period_start), "amount", (json_int_t)t.amount_due,
                     "lines", bdraft_json(&d));
    return AT_OK;
}

typedef struct bchange_ctx {
    const char *ws_id;
    const billing_change *ch;
    const audit_actor *actor;
    billing_refusal *r;
    bool apply;
    json_t *out;
} bchange_ctx;

static json_t *bchange_after(const bchange *x)
{
    return json_pack("{s:s, s:s, s:I}", "plan_id", x->to->id, "interval", billing_interval_name(x->to_interval),
                     "quantity", (json_int_t)x->to_qty);
}

static int bchange_preview_tx(store_conn *c, void *arg)
{
    bchange_ctx *x = arg;
    char bws[ID_MAX];
    bsub s;
    bchange ch;
    btotals t;
    json_t *next = NULL;
    int rc = billing_own_scope(c, x->ws_id, x->r);
    snprintf(bws, sizeof(bws), "%s", x->ws_id);
    if (rc == AT_OK && (rc = bsub_load(c, bws, false, &s)) == AT_ENOTFOUND) {
        billing_refuse(x->r, "", "no_subscription", "There is no live subscription to change; start one.");
        return AT_ECONFLICT;
    }
    if (rc != AT_OK)
        return rc;
    int64_t now = billing_now(c, bws);
    if ((rc = bchange_price(c, &s, x->ch, now, &ch, x->r)) != AT_OK)
        return rc;
    bool immediate = strcmp(ch.mode, "invoice_now") == 0;
    if ((rc = binv_totals(c, bws, &ch.d, &t)) != AT_OK)
        return rc;
    if (!immediate) {
        char name[32], country[3];
        int64_t rate = t.tax_rate_bp;
        memcpy(name, t.tax_name, sizeof(name));
        memcpy(country, t.tax_country, sizeof(country));
        memset(&t, 0, sizeof(t));
        t.tax_rate_bp = rate;
        memcpy(t.tax_name, name, sizeof(name));
        memcpy(t.tax_country, country, sizeof(country));
    }
    /* An immediate invoice uses credit, or leaves some when its total is negative. */
    int64_t delta = immediate ? -t.applied_balance - t.credit_to_balance : 0;
    if ((rc = bchange_next_invoice(c, &s, &ch, delta, &next)) != AT_OK)
        return rc;
    if (!x->ch->proration_date && (rc = bchange_issue(c, &s, ch.at)) != AT_OK) {
        json_decref(next);
        return rc;
    }
    char at[32];
    clock_format_rfc3339(ch.at, at);
    x->out = json_pack("{s:s, s:s, s:s, s:I, s:o, s:I, s:o, s:I, s:I, s:I, s:o, s:o, s:s}", "effective",
                       strcmp(ch.mode, "at_renewal") == 0 ? "period_end" : "now", "proration", ch.mode,
                       "proration_date", at, "amount_due_now", (json_int_t)(immediate ? t.amount_due : 0), "lines",
                       bdraft_json(&ch.d), "subtotal", (json_int_t)(immediate ? t.subtotal : 0), "tax",
                       btotals_tax_json(&t), "total", (json_int_t)(immediate ? t.total : 0), "applied_balance",
                       (json_int_t)t.applied_balance, "credit_to_balance", (json_int_t)t.credit_to_balance,
                       "next_invoice", next, "after", bchange_after(&ch), "currency", billing_catalog_get()->currency);
    return AT_OK;
}

int billing_preview(store *s, const char *ws_id, const billing_change *ch, json_t **out, billing_refusal *r)
{
    bchange_ctx x = {ws_id, ch, NULL, r, false, NULL};
    /* A write: the preview records the proration_date it issued. */
    return billing_tx_out(s, true, bchange_preview_tx, &x, &x.out, out);
}

static json_t *bchange_audit(const bchange *x)
{
    json_t *changes = json_object();
    if (x->from != x->to)
        json_object_set_new(changes, "plan", json_pack("{s:s, s:s}", "before", x->from->id, "after", x->to->id));
    if (x->from_interval != x->to_interval)
        json_object_set_new(changes, "interval",
                            json_pack("{s:s, s:s}", "before", billing_interval_name(x->from_interval), "after",
                                      billing_interval_name(x->to_interval)));
    if (x->from_qty != x->to_qty)
        json_object_set_new(changes, "quantity",
                            json_pack("{s:I, s:I}", "before", (json_int_t)x->from_qty, "after", (json_int_t)x->to_qty));
    json_object_set_new(changes, "proration", json_pack("{s:n, s:s}", "before", "after", x->mode));
    return changes;
}

/* Writes the change's row of subscription_changes (usage segments, the last change's time). */
static int bchange_record(store_conn *c, const bsub *s, const bchange *x, int64_t now)
{
    char id[ID_MAX];
    id_new("sch", id);
    store_arg a[] = {
        sa_text(s->ws), sa_text(id),          sa_text(s->id),     sa_int(x->at),
        sa_int(now),    sa_text(x->from->id), sa_text(x->to->id), sa_int(strcmp(x->mode, "at_renewal") != 0)};
    return store_exec(c,
                      "INSERT INTO subscription_changes (workspace_id, id, subscription_id, effective_at, made_at, "
                      "from_plan, to_plan, immediate) VALUES ($1, $2, $3, $4, $5, $6, $7, $8)",
                      a, 8, NULL);
}

static int bchange_apply_tx(store_conn *c, void *arg)
{
    bchange_ctx *x = arg;
    char bws[ID_MAX], inv[ID_MAX] = "";
    bsub s;
    bchange ch;
    int rc = billing_own_scope(c, x->ws_id, x->r);
    snprintf(bws, sizeof(bws), "%s", x->ws_id);
    if (rc == AT_OK)
        rc = billing_lock_seats(c, bws);
    if (rc == AT_OK && (rc = bsub_load(c, bws, true, &s)) == AT_ENOTFOUND) {
        billing_refuse(x->r, "", "no_subscription", "There is no live subscription to change; start one.");
        return AT_ECONFLICT;
    }
    if (rc != AT_OK)
        return rc;
    int64_t now = billing_now(c, bws);
    if ((rc = bchange_price(c, &s, x->ch, now, &ch, x->r)) != AT_OK)
        return rc;
    if ((rc = bchange_record(c, &s, &ch, now)) != AT_OK)
        return rc;
    json_t *changes = bchange_audit(&ch);
    if (strcmp(ch.mode, "at_renewal") == 0) {
        snprintf(s.pending_plan, sizeof(s.pending_plan), "%s", ch.to->id);
        s.pending_interval = ch.to_interval;
        s.pending_quantity = ch.to_qty;
        rc = audit_append(c, bws, x->actor, "billing.subscription.change_scheduled", "subscription", s.id, changes);
    } else {
        snprintf(s.plan_id, sizeof(s.plan_id), "%s", ch.to->id);
        s.interval = ch.to_interval;
        s.quantity = ch.to_qty;
        s.pending_plan[0] = '\0';
        s.pending_interval = -1;
        s.pending_quantity = 0;
        if (ch.new_period) {
            s.anchor = ch.at;
            s.period_start = ch.at;
            s.period_end = ch.new_period_end;
        }
        rc = audit_append(c, bws, x->actor, "billing.subscription.updated", "subscription", s.id, changes);
        if (rc == AT_OK && strcmp(ch.mode, "prorate") == 0) {
            for (size_t i = 0; rc == AT_OK && i < ch.d.n; i++) {
                const bline *l = &ch.d.lines[i];
                char id[ID_MAX];
                id_new("ii", id);
                store_arg a[] = {sa_text(bws),          sa_text(id),
                                 sa_text(s.id),         sa_text(l->description),
                                 sa_int(l->quantity),   sa_int(l->unit_amount),
                                 sa_int(l->amount),     sa_int(l->period_start),
                                 sa_int(l->period_end), sa_int(now),
                                 sa_int((int64_t)i)};
                rc = store_exec(c,
                                "INSERT INTO pending_invoice_items (workspace_id, id, subscription_id, description, "
                                "quantity, unit_amount, amount, period_start, period_end, created_at, seq) VALUES ($1, "
                                "$2, $3, $4, $5, $6, $7, $8, $9, $10, $11)",
                                a, 11, NULL);
            }
        } else if (rc == AT_OK && strcmp(ch.mode, "invoice_now") == 0 && ch.d.n) {
            btotals t;
            rc = binv_create(c, &s, "subscription_update", &ch.d, now, ch.at,
                             ch.new_period ? ch.new_period_end : s.period_end, inv, &t);
        }
    }
    json_decref(changes);
    if (rc == AT_OK)
        rc = bsub_save(c, &s);
    if (rc == AT_OK)
        rc = billing_sync(c, bws);
    if (rc != AT_OK)
        return rc;
    json_t *invoice = json_null();
    if (inv[0]) {
        json_decref(invoice);
        invoice = json_pack("{s:s}", "id", inv);
    }
    x->out = json_pack("{s:o, s:o, s:s}", "subscription", bsub_json(&s), "invoice", invoice, "proration", ch.mode);
    return AT_OK;
}

int billing_change_apply(store *s, const char *ws_id, const billing_change *ch, const audit_actor *actor, json_t **out,
                         billing_refusal *r)
{
    bchange_ctx x = {ws_id, ch, actor, r, true, NULL};
    return billing_tx_out(s, true, bchange_apply_tx, &x, &x.out, out);
}

/* ---- Start, cancel, resume ------------------------------------------------------------------------ */

typedef struct bsub_ctx {
    const char *ws_id;
    const char *plan_id, *interval, *reason;
    int64_t quantity;
    bool at_period_end;
    const audit_actor *actor;
    billing_refusal *r;
    json_t *out;
} bsub_ctx;

static int billing_subscribe_tx(store_conn *c, void *arg)
{
    bsub_ctx *x = arg;
    const billing_catalog *cat = billing_catalog_get();
    bsub s;
    int rc = billing_own_scope(c, x->ws_id, x->r);
    if (rc == AT_OK)
        rc = billing_lock_seats(c, x->ws_id);
    if (rc != AT_OK)
        return rc;
    rc = bsub_load(c, x->ws_id, true, &s);
    if (rc == AT_OK) {
        billing_refuse(x->r, "", "already_subscribed", "This workspace already has a live subscription; change it.");
        return AT_ECONFLICT;
    }
    if (rc != AT_ENOTFOUND)
        return rc;
    const billing_plan *p = billing_plan_find(cat, x->plan_id);
    int interval = billing_interval_from_name(x->interval ? x->interval : "month");
    if ((rc = bchange_check_target(c, x->ws_id, p, interval, x->quantity, NULL, x->r)) != AT_OK)
        return rc;
    rc =
        billing_start_subscription(c, x->ws_id, p, interval, x->quantity, billing_now(c, x->ws_id), true, x->actor, &s);
    if (rc == AT_OK)
        x->out = json_pack("{s:o}", "subscription", bsub_json(&s));
    return rc;
}

int billing_subscribe(store *s, const char *ws_id, const char *plan_id, const char *interval, int64_t quantity,
                      const audit_actor *actor, json_t **out, billing_refusal *r)
{
    bsub_ctx x = {ws_id, plan_id, interval, NULL, quantity, false, actor, r, NULL};
    return billing_tx_out(s, true, billing_subscribe_tx, &x, &x.out, out);
}

/* Ends the subscription now: a final invoice for usage and pending prorations (when there is any),
 * the open ladder episode lost, the fallback entitlements. */
int billing_end_now(store_conn *c, bsub *s, int64_t now, const char *why, const audit_actor *actor)
{
    const billing_plan *p = billing_plan_find(billing_catalog_get(), s->plan_id);
    bdraft d;
    memset(&d, 0, sizeof(d));
    int rc = AT_OK;
    if (p && strcmp(s->status, "trialing") != 0)
        rc = bdraft_usage_lines(c, &d, s, s->period_start, now, NULL);
    if (rc == AT_OK)
        rc = bdraft_pending_lines(c, &d, s->ws, s->id);
    if (rc == AT_OK && d.n) {
        char inv[ID_MAX];
        btotals t;
        rc = binv_create(c, s, "subscription_final", &d, now, s->period_start, now, inv, &t);
    }
    if (rc == AT_OK)
        rc = bsub_set_status(c, s, "canceled", why, actor);
    if (rc == AT_OK) {
        s->canceled_at = s->canceled_at ? s->canceled_at : now;
        s->ended_at = now;
        s->cancel_at_period_end = false;
        store_arg a[] = {sa_text(s->ws), sa_text(s->id), sa_int(now)};
        rc = store_exec(c,
                        "UPDATE dunning_episodes SET outcome = 'lost', ended_at = $3 WHERE workspace_id = $1 AND "
                        "subscription_id = $2 AND outcome = 'open'",
                        a, 3, NULL);
    }
    if (rc == AT_OK)
        rc = bsub_save(c, s);
    if (rc == AT_OK)
        rc = billing_sync(c, s->ws);
    return rc;
}

/* Loads the live subscription of a workspace that pays for itself, locked, or refuses: billed to its
 * agency, or nothing live to `what` ("cancel", "resume"). */
static int bsub_load_own(store_conn *c, const char *ws_id, const char *refusal, billing_refusal *r, bsub *out)
{
    int rc = billing_own_scope(c, ws_id, r);
    if (rc == AT_OK && (rc = bsub_load(c, ws_id, true, out)) == AT_ENOTFOUND) {
        billing_refuse(r, "", "no_subscription", "%s", refusal);
        return AT_ECONFLICT;
    }
    return rc;
}

static int billing_cancel_tx(store_conn *c, void *arg)
{
    bsub_ctx *x = arg;
    bsub s;
    int rc = bsub_load_own(c, x->ws_id, "There is no live subscription to cancel.", x->r, &s);
    if (rc != AT_OK)
        return rc;
    int64_t now = billing_now(c, x->ws_id);
    if (x->at_period_end) {
        if (s.cancel_at_period_end) {
            billing_refuse(x->r, "", "already_scheduled", "The subscription already ends at the end of the period.");
            return AT_ECONFLICT;
        }
        if (strcmp(s.status, "trialing") != 0 && strcmp(s.status, "active") != 0 && strcmp(s.status, "past_due") != 0) {
            billing_refuse(x->r, "at_period_end", "invalid_state",
                           "The subscription is %s: it can only be canceled now, not at the period end.", s.status);
            return AT_ECONFLICT;
        }
        s.cancel_at_period_end = true;
        s.canceled_at = now;
        snprintf(s.cancel_reason, sizeof(s.cancel_reason), "%s", x->reason ? x->reason : "");
        json_t *changes = json_pack("{s:{s:b, s:b}, s:{s:n, s:s}}", "cancel_at_period_end", "before", 0, "after", 1,
                                    "reason", "before", "after", x->reason ? x->reason : "");
        rc =
            audit_append(c, x->ws_id, x->actor, "billing.subscription.cancel_scheduled", "subscription", s.id, changes);
        json_decref(changes);
        if (rc == AT_OK)
            rc = bsub_save(c, &s);
    } else {
        snprintf(s.cancel_reason, sizeof(s.cancel_reason), "%s", x->reason ? x->reason : "");
        s.canceled_at = now;
        rc = billing_end_now(c, &s, now, x->reason && x->reason[0] ? x->reason : "canceled by the customer", x->actor);
    }
    if (rc == AT_OK)
        x->out = json_pack("{s:o}", "subscription", bsub_json(&s));
    return rc;
}

int billing_cancel(store *s, const char *ws_id, bool at_period_end, const char *reason, const audit_actor *actor,
                   json_t **out, billing_refusal *r)
{
    if (reason && strlen(reason) >= BILLING_REASON_MAX_BYTES) {
        billing_refuse(r, "reason", "length", "Must be at most %d characters long.", BILLING_REASON_MAX_CHARS);
        return AT_EINVAL;
    }
    bsub_ctx x = {ws_id, NULL, NULL, reason, 0, at_period_end, actor, r, NULL};
    return billing_tx_out(s, true, billing_cancel_tx, &x, &x.out, out);
}

static int billing_resume_tx(store_conn *c, void *arg)
{
    bsub_ctx *x = arg;
    bsub s;
    int rc = bsub_load_own(c, x->ws_id, "There is no live subscription to resume; start a new one.", x->r, &s);
    if (rc != AT_OK)
        return rc;
    int64_t now = billing_now(c, x->ws_id);
    if (s.cancel_at_period_end) {
        s.cancel_at_period_end = false;
        s.canceled_at = 0;
        s.cancel_reason[0] = '\0';
        rc = audit_append(c, x->ws_id, x->actor, "billing.subscription.cancel_undone", "subscription", s.id, NULL);
    } else if (strcmp(s.status, "paused") == 0) {
        const billing_plan *p = billing_plan_find(billing_catalog_get(), s.plan_id);
        bdraft d;
        btotals t;
        char inv[ID_MAX];
        memset(&d, 0, sizeof(d));
        s.anchor = now;
        s.period_start = now;
        s.period_end = billing_period_end(now, s.interval, now);
        rc = bsub_set_status(c, &s, "active", "resumed", x->actor);
        /* The resumed period's invoice is the next invoice: the waiting prorations go on it. */
        if (rc == AT_OK)
            rc = bdraft_pending_lines(c, &d, s.ws, s.id);
        if (rc == AT_OK && p) {
            bdraft_plan_lines(&d, p, s.interval, s.quantity, s.period_start, s.period_end);
            rc = binv_create(c, &s, "subscription_cycle", &d, now, s.period_start, s.period_end, inv, &t);
        }
    } else {
        billing_refuse(x->r, "", "nothing_to_resume", "The subscription is neither paused nor ending.");
        return AT_ECONFLICT;
    }
    if (rc == AT_OK)
        rc = bsub_save(c, &s);
    if (rc == AT_OK)
        rc = billing_sync(c, x->ws_id);
    if (rc == AT_OK)
        x->out = json_pack("{s:o}", "subscription", bsub_json(&s));
    return rc;
}

int billing_resume(store *s, const char *ws_id, const audit_actor *actor, json_t **out, billing_refusal *r)
{
    bsub_ctx x = {ws_id, NULL, NULL, NULL, 0, false, actor, r, NULL};
    return billing_tx_out(s, true, billing_resume_tx, &x, &x.out, out);
}

/* ---- A sub-account's billing mode ----------------------------------------------------------------- */

typedef struct bmode_ctx {
    const char *root, *sub, *mode, *plan_id;
    const audit_actor *actor;
    billing_refusal *r;
    json_t *out;
} bmode_ctx;

/* Locks the root, then the sub-account: the order every seat taker uses (billing_lock_seats). */
static int ws_lock_pair(store_conn *c, const char *root, const char *sub)
{
    store_rows *r = NULL;
    store_arg a[] = {sa_text(root), sa_text(sub)};
    int rc = store_query(c, "SELECT id FROM workspaces WHERE id = $1 FOR UPDATE", a, 1, &r);
    store_rows_free(r);
    r = NULL;
    if (rc == AT_OK)
        rc = store_query(c, "SELECT id FROM workspaces WHERE id = $1 FOR UPDATE", a + 1, 1, &r);
    store_rows_free(r);
    return rc;
}

static int billing_set_mode_tx(store_conn *c, void *arg)
{
    bmode_ctx *x = arg;
    char current[16] = "";
    store_rows *rows = NULL;
    store_arg a[] = {sa_text(x->sub), sa_text(x->root)};
    int rc = ws_lock_pair(c, x->root, x->sub);
    if (rc == AT_OK)
        rc = store_query(c,
                         "SELECT billing_mode FROM workspaces WHERE id = $1 AND parent_id = $2 AND status <> 'deleted'",
                         a, 2, &rows);
    if (rc == AT_OK)
        rc = store_rows_next(rows) == 1 ? AT_OK : AT_ENOTFOUND;
    if (rc == AT_OK)
        snprintf(current, sizeof(current), "%s", store_rows_text(rows, 0));
    store_rows_free(rows);
    if (rc != AT_OK)
        return rc;
    if (strcmp(current, x->mode) == 0) {
        billing_refuse(x->r, "mode", "no_change", "The sub-account is already billed this way.");
        return AT_ECONFLICT;
    }
    /* The sub-account's own billing time: a test clock of the agency does not move it. */
    int64_t now = billing_now(c, x->sub);
    store_arg m[] = {sa_text(x->sub), sa_text(x->mode)};
    if (strcmp(x->mode, "own") == 0) {
        const billing_catalog *cat = billing_catalog_get();
        const billing_plan *p = billing_plan_find(cat, x->plan_id ? x->plan_id : cat->default_plan);
        if ((rc = store_exec(c, "UPDATE workspaces SET billing_mode = $2 WHERE id = $1", m, 2, NULL)) != AT_OK)
            return rc;
        int64_t used = billing_used_seats(c, x->sub);
        int64_t qty = p && used > p->min_seats ? used : (p ? p->min_seats : 1);
        if ((rc = bchange_check_target(c, x->sub, p, BILLING_MONTH, qty, NULL, x->r)) != AT_OK)
            return rc;
        bsub s;
        rc = bsub_load(c, x->sub, true, &s);
        if (rc == AT_ENOTFOUND)
            rc = billing_start_subscription(c, x->sub, p, BILLING_MONTH, qty, now, true, x->actor, &s);
    } else {
        bsub s;
        rc = bsub_load(c, x->sub, true, &s);
        if (rc == AT_OK)
            rc = billing_end_now(c, &s, now, "billed to the agency from now on", x->actor);
        else if (rc == AT_ENOTFOUND)
            rc = AT_OK;
        if (rc == AT_OK)
            rc = store_exec(c, "UPDATE workspaces SET billing_mode = $2 WHERE id = $1", m, 2, NULL);
        billing_seats seats;
        if (rc == AT_OK && (rc = billing_seats_get(c, x->root, &seats)) == AT_OK &&
            seats.active_members + seats.pending_invitations > seats.purchased) {
            billing_refuse(x->r, "mode", "seats_full",
                           "The agency's subscription has %lld seats; with this sub-account %lld would be in use.",
                           (long long)seats.purchased, (long long)(seats.active_members + seats.pending_invitations));
            return AT_ECONFLICT;
        }
    }
    json_t *changes = json_pack("{s:{s:s, s:s}}", "billing_mode", "before", current, "after", x->mode);
    if (rc == AT_OK)
        rc = audit_append(c, x->root, x->actor, "billing.subaccount.mode_changed", "workspace", x->sub, changes);
    if (rc == AT_OK)
        rc = audit_append(c, x->sub, x->actor, "billing.subaccount.mode_changed", "workspace", x->sub, changes);
    json_decref(changes);
    if (rc == AT_OK)
        rc = billing_sync(c, x->root);
    if (rc == AT_OK)
        rc = billing_sync(c, x->sub);
    if (rc == AT_OK)
        x->out = json_pack("{s:s, s:s}", "workspace_id", x->sub, "billing_mode", x->mode);
    return rc;
}

int billing_set_mode(store *s, const char *root_id, const char *sub_id, const char *mode, const char *plan_id,
                     const audit_actor *actor, json_t **out, billing_refusal *r)
{
    bmode_ctx x = {root_id, sub_id, mode, plan_id, actor, r, NULL};
    return billing_tx_out(s, true, billing_set_mode_tx, &x, &x.out, out);
}
