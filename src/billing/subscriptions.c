/* Subscriptions: the record, the state transition table, entitlements and seats, and the hooks other
 * domains call when workspaces are created. */
#include "billing/billing_impl.h"

#include "base/clock.h"
#include "base/config.h"
#include "base/err.h"
#include "base/text.h"
#include "billing/money.h"

#include <stdarg.h>
#include <string.h>

const audit_actor billing_system_actor = {"system", NULL, "Billing", NULL, NULL, NULL};

/* Stripe's subscription states (billing/subscriptions/overview) and the moves between them. Anything
 * not listed is refused; canceled and incomplete_expired are terminal. */
static const struct {
    const char *from, *to;
} bsub_moves[] = {
    {"incomplete", "active"},   {"incomplete", "incomplete_expired"},
    {"incomplete", "canceled"}, {"trialing", "active"},
    {"trialing", "paused"},     {"trialing", "canceled"},
    {"trialing", "past_due"},   {"active", "past_due"},
    {"active", "canceled"},     {"active", "unpaid"},
    {"active", "paused"},       {"past_due", "active"},
    {"past_due", "unpaid"},     {"past_due", "canceled"},
    {"past_due", "paused"},     {"unpaid", "active"},
    {"unpaid", "canceled"},     {"paused", "active"},
    {"paused", "canceled"},
};

bool bsub_transition_allowed(const char *from, const char *to)
{
    for (size_t i = 0; i < sizeof(bsub_moves) / sizeof(bsub_moves[0]); i++)
        if (strcmp(bsub_moves[i].from, from) == 0 && strcmp(bsub_moves[i].to, to) == 0)
            return true;
    return false;
}

bool bsub_entitled(const char *status)
{
    return strcmp(status, "trialing") == 0 || strcmp(status, "active") == 0 || strcmp(status, "past_due") == 0;
}

void billing_time_str(int64_t us, char out[32])
{
    if (us)
        clock_format_rfc3339(us, out);
    else
        out[0] = '\0';
}

int billing_tx_out(store *s, bool write, store_tx_fn fn, void *ctx, json_t **slot, json_t **out)
{
    int rc = store_tx(s, write, fn, ctx);
    if (rc == AT_OK) {
        *out = *slot;
    } else {
        json_decref(*slot);
        *slot = NULL;
    }
    return rc;
}

json_t *billing_time_json(int64_t us)
{
    char t[32];
    if (!us)
        return json_null();
    clock_format_rfc3339(us, t);
    return json_string(t);
}

void billing_refuse(billing_refusal *r, const char *field, const char *code, const char *fmt, ...)
{
    if (!r)
        return;
    va_list ap;
    snprintf(r->field, sizeof(r->field), "%s", field ? field : "");
    snprintf(r->code, sizeof(r->code), "%s", code);
    va_start(ap, fmt);
    vsnprintf(r->message, sizeof(r->message), fmt, ap);
    va_end(ap);
}

#define BSUB_COLS                                                                                                      \
    "workspace_id, id, plan_id, interval, quantity, status, collection, anchor_at, current_period_start, "             \
    "current_period_end, trial_end, trial_notice_sent, cancel_at_period_end, cancel_reason, canceled_at, ended_at, "   \
    "pending_plan_id, pending_interval, pending_quantity, incomplete_expires_at, dunning_invoice_id, "                 \
    "dunning_started_at, dunning_step, version, created_at"

static void bsub_read(store_rows *r, void *ctx)
{
    bsub *s = ctx;
    const char *t;
    memset(s, 0, sizeof(*s));
    snprintf(s->ws, sizeof(s->ws), "%s", store_rows_text(r, 0));
    snprintf(s->id, sizeof(s->id), "%s", store_rows_text(r, 1));
    snprintf(s->plan_id, sizeof(s->plan_id), "%s", store_rows_text(r, 2));
    s->interval = billing_interval_from_name(store_rows_text(r, 3));
    s->quantity = store_rows_int(r, 4);
    snprintf(s->status, sizeof(s->status), "%s", store_rows_text(r, 5));
    snprintf(s->collection, sizeof(s->collection), "%s", store_rows_text(r, 6));
    s->anchor = store_rows_int(r, 7);
    s->period_start = store_rows_int(r, 8);
    s->period_end = store_rows_int(r, 9);
    s->trial_end = store_rows_int(r, 10);
    s->trial_notice_sent = store_rows_int(r, 11) != 0;
    s->cancel_at_period_end = store_rows_int(r, 12) != 0;
    if ((t = store_rows_text(r, 13))) {
        snprintf(s->cancel_reason, sizeof(s->cancel_reason), "%s", t);
        /* Rows written before the reason was kept whole may end inside a character: drop that tail,
         * since jansson refuses the whole object over one broken character. */
        s->cancel_reason[text_utf8_cut(s->cancel_reason, sizeof(s->cancel_reason) - 1)] = '\0';
    }
    s->canceled_at = store_rows_int(r, 14);
    s->ended_at = store_rows_int(r, 15);
    if ((t = store_rows_text(r, 16)))
        snprintf(s->pending_plan, sizeof(s->pending_plan), "%s", t);
    s->pending_interval = store_rows_is_null(r, 17) ? -1 : billing_interval_from_name(store_rows_text(r, 17));
    s->pending_quantity = store_rows_int(r, 18);
    s->incomplete_expires_at = store_rows_int(r, 19);
    if ((t = store_rows_text(r, 20)))
        snprintf(s->dunning_invoice, sizeof(s->dunning_invoice), "%s", t);
    s->dunning_started_at = store_rows_int(r, 21);
    s->dunning_step = (int)store_rows_int(r, 22);
    s->version = store_rows_int(r, 23);
    s->created_at = store_rows_int(r, 24);
}

int bsub_load(store_conn *c, const char *billing_ws, bool lock, bsub *out)
{
    store_arg args[] = {sa_text(billing_ws)};
    return store_query_one(c,
                           lock ? "SELECT " BSUB_COLS " FROM subscriptions WHERE workspace_id = $1 AND status NOT IN "
                                  "('canceled', 'incomplete_expired') FOR UPDATE"
                                : "SELECT " BSUB_COLS " FROM subscriptions WHERE workspace_id = $1 AND status NOT IN "
                                  "('canceled', 'incomplete_expired')",
                           args, 1, bsub_read, out);
}

int bsub_latest(store_conn *c, const char *billing_ws, bsub *out)
{
    store_arg args[] = {sa_text(billing_ws)};
    return store_query_one(c,
                           "SELECT " BSUB_COLS " FROM subscriptions WHERE workspace_id = $1 "
                           "ORDER BY created_at DESC, id DESC LIMIT 1",
                           args, 1, bsub_read, out);
}

int bsub_load_by_id(store_conn *c, const char *billing_ws, const char *sub_id, bool lock, bsub *out)
{
    store_arg args[] = {sa_text(billing_ws), sa_text(sub_id)};
    return store_query_one(c,
                           lock ? "SELECT " BSUB_COLS
                                  " FROM subscriptions WHERE workspace_id = $1 AND id = $2 FOR UPDATE"
                                : "SELECT " BSUB_COLS " FROM subscriptions WHERE workspace_id = $1 AND id = $2",
                           args, 2, bsub_read, out);
}

static store_arg bsub_time(int64_t us)
{
    return us ? sa_int(us) : sa_null();
}

/* The 26 values in BSUB_COLS order plus updated_at and next_event_at. */
static void bsub_args(store_conn *c, const bsub *s, store_arg a[27])
{
    int64_t next = bsub_next_event(c, s);
    a[0] = sa_text(s->ws);
    a[1] = sa_text(s->id);
    a[2] = sa_text(s->plan_id);
    a[3] = sa_text(billing_interval_name(s->interval));
    a[4] = sa_int(s->quantity);
    a[5] = sa_text(s->status);
    a[6] = sa_text(s->collection);
    a[7] = sa_int(s->anchor);
    a[8] = sa_int(s->period_start);
    a[9] = sa_int(s->period_end);
    a[10] = bsub_time(s->trial_end);
    a[11] = sa_int(s->trial_notice_sent);
    a[12] = sa_int(s->cancel_at_period_end);
    a[13] = s->cancel_reason[0] ? sa_text(s->cancel_reason) : sa_null();
    a[14] = bsub_time(s->canceled_at);
    a[15] = bsub_time(s->ended_at);
    a[16] = s->pending_plan[0] ? sa_text(s->pending_plan) : sa_null();
    a[17] = s->pending_interval >= 0 ? sa_text(billing_interval_name(s->pending_interval)) : sa_null();
    a[18] = s->pending_quantity ? sa_int(s->pending_quantity) : sa_null();
    a[19] = bsub_time(s->incomplete_expires_at);
    a[20] = s->dunning_invoice[0] ? sa_text(s->dunning_invoice) : sa_null();
    a[21] = bsub_time(s->dunning_started_at);
    a[22] = sa_int(s->dunning_step);
    a[23] = sa_int(s->version);
    a[24] = sa_int(s->created_at);
    a[25] = sa_int(clock_now_us());
    a[26] = next == INT64_MAX ? sa_null() : sa_int(next);
}

int bsub_insert(store_conn *c, bsub *s)
{
    store_arg a[27];
    s->version = 1;
    bsub_args(c, s, a);
    int rc =
        store_exec(c,
                   "INSERT INTO subscriptions (" BSUB_COLS ", updated_at, next_event_at) VALUES ($1, $2, $3, $4, $5, "
                   "$6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17, $18, $19, $20, $21, $22, $23, $24, $25, "
                   "$26, $27)",
                   a, 27, NULL);
    return rc == AT_OK && a[26].type != SA_NULL ? billing_schedule_advance(c, s->ws, a[26].i) : rc;
}

int bsub_save(store_conn *c, bsub *s)
{
    store_arg a[27];
    s->version++;
    bsub_args(c, s, a);
    int rc =
        store_exec(c,
                   "UPDATE subscriptions SET plan_id = $3, interval = $4, quantity = $5, status = $6, collection = $7, "
                   "anchor_at = $8, current_period_start = $9, current_period_end = $10, trial_end = $11, "
                   "trial_notice_sent = $12, cancel_at_period_end = $13, cancel_reason = $14, canceled_at = $15, "
                   "ended_at = $16, pending_plan_id = $17, pending_interval = $18, pending_quantity = $19, "
                   "incomplete_expires_at = $20, dunning_invoice_id = $21, dunning_started_at = $22, "
                   "dunning_step = $23, version = $24, created_at = $25, updated_at = $26, next_event_at = $27 "
                   "WHERE workspace_id = $1 AND id = $2",
                   a, 27, NULL);
    return rc == AT_OK && a[26].type != SA_NULL ? billing_schedule_advance(c, s->ws, a[26].i) : rc;
}

int bsub_set_status(store_conn *c, bsub *s, const char *to, const char *why, const audit_actor *actor)
{
    if (strcmp(s->status, to) == 0)
        return AT_OK;
    if (!bsub_transition_allowed(s->status, to))
        return AT_ECONFLICT;
    json_t *changes = json_pack("{s:{s:s, s:s}, s:{s:n, s:s}}", "status", "before", s->status, "after", to, "reason",
                                "before", "after", why);
    char action[64];
    snprintf(action, sizeof(action), "billing.subscription.%s", to);
    int rc = audit_append(c, s->ws, actor ? actor : &billing_system_actor, action, "subscription", s->id, changes);
    json_decref(changes);
    if (rc == AT_OK)
        snprintf(s->status, sizeof(s->status), "%s", to);
    return rc;
}

json_t *bsub_json(const bsub *s)
{
    const billing_plan *p = billing_plan_find(billing_catalog_get(), s->plan_id);
    json_t *pending = json_null();
    if (s->pending_plan[0] || s->pending_interval >= 0 || s->pending_quantity)
        pending =
            json_pack("{s:s, s:s, s:I, s:o}", "plan_id", s->pending_plan[0] ? s->pending_plan : s->plan_id, "interval",
                      billing_interval_name(s->pending_interval >= 0 ? s->pending_interval : s->interval), "quantity",
                      (json_int_t)(s->pending_quantity ? s->pending_quantity : s->quantity), "effective_at",
                      billing_time_json(s->period_end));
    return json_pack("{s:s, s:s, s:s, s:s, s:I, s:s, s:s, s:o, s:o, s:o, s:b, s:s?, s:o, s:o, s:o, s:o, s:I, s:o}",
                     "id", s->id, "plan_id", s->plan_id, "plan_name", p ? p->name : s->plan_id, "interval",
                     billing_interval_name(s->interval), "quantity", (json_int_t)s->quantity, "status", s->status,
                     "collection", s->collection, "current_period_start", billing_time_json(s->period_start),
                     "current_period_end", billing_time_json(s->period_end), "trial_end",
                     billing_time_json(s->trial_end), "cancel_at_period_end", s->cancel_at_period_end, "cancel_reason",
                     s->cancel_reason[0] ? s->cancel_reason : NULL, "canceled_at", billing_time_json(s->canceled_at),
                     "ended_at", billing_time_json(s->ended_at), "pending_change", pending, "past_due_since",
                     billing_time_json(s->dunning_started_at), "version", (json_int_t)s->version, "created_at",
                     billing_time_json(s->created_at));
}

/* The earliest of: the first-payment deadline, the trial notice and end, the period end (renewal,
 * scheduled change or cancellation), the next rung of the ladder, and the due date of an unpaid
 * invoice under manual collection (which starts the ladder). */
int64_t bsub_next_event(store_conn *c, const bsub *s)
{
    const billing_catalog *cat = billing_catalog_get();
    int64_t next = INT64_MAX;
#define CONSIDER(t)                                                                                                    \
    do {                                                                                                               \
        int64_t t_ = (t);                                                                                              \
        if (t_ > 0 && t_ < next)                                                                                       \
            next = t_;                                                                                                 \
    } while (0)
    if (strcmp(s->status, "canceled") == 0 || strcmp(s->status, "incomplete_expired") == 0)
        return INT64_MAX;
    if (strcmp(s->status, "incomplete") == 0) {
        CONSIDER(s->incomplete_expires_at);
        return next;
    }
    if (strcmp(s->status, "trialing") == 0) {
        if (!s->trial_notice_sent && cat->trial_notice_days > 0)
            CONSIDER(s->trial_end - cat->trial_notice_days * US_PER_DAY);
        CONSIDER(s->trial_end);
        return next;
    }
    CONSIDER(s->period_end);
    if (s->dunning_invoice[0] && (size_t)s->dunning_step < cat->dunning_count)
        CONSIDER(s->dunning_started_at + cat->dunning[s->dunning_step].day * US_PER_DAY);
    /* Only invoices sent for payment by transfer fall due; card payments fail through the provider. */
    if (!s->dunning_invoice[0] && c && strcmp(s->collection, "send_invoice") == 0) {
        int64_t due = 0;
        store_arg a[] = {sa_text(s->ws), sa_text(s->id)};
        if (store_query_int(c,
                            "SELECT MIN(due_at) FROM invoices WHERE workspace_id = $1 AND subscription_id = $2 "
                            "AND status = 'open' AND due_at IS NOT NULL",
                            a, 2, &due) == AT_OK)
            CONSIDER(due);
    }
#undef CONSIDER
    return next;
}

int billing_scope(store_conn *c, const char *ws_id, char out[ID_MAX])
{
    store_rows *r = NULL;
    store_arg args[] = {sa_text(ws_id)};
    int rc = store_query(c, "SELECT kind, parent_id, billing_mode FROM workspaces WHERE id = $1", args, 1, &r);
    if (rc != AT_OK)
        return rc;
    rc = store_rows_next(r);
    if (rc == 1) {
        const char *kind = store_rows_text(r, 0), *parent = store_rows_text(r, 1), *mode = store_rows_text(r, 2);
        bool to_parent = strcmp(kind, "sub_account") == 0 && parent && strcmp(mode, "parent") == 0;
        snprintf(out, ID_MAX, "%s", to_parent ? parent : ws_id);
        rc = AT_OK;
    } else if (rc == 0) {
        rc = AT_ENOTFOUND;
    }
    store_rows_free(r);
    return rc;
}

int billing_own_scope(store_conn *c, const char *ws_id, billing_refusal *r)
{
    char bws[ID_MAX];
    int rc = billing_scope(c, ws_id, bws);
    if (rc == AT_OK && strcmp(bws, ws_id) != 0) {
        billing_refuse(r, "", "billed_to_parent", "This sub-account is billed to its agency.");
        return AT_ECONFLICT;
    }
    return rc;
}

int64_t billing_now(store_conn *c, const char *billing_ws)
{
    int64_t t = 0;
    store_arg args[] = {sa_text(billing_ws)};
    if (store_query_int(c, "SELECT frozen_time FROM billing_clocks WHERE workspace_id = $1", args, 1, &t) == AT_OK)
        return t;
    return clock_now_us();
}

/* The members and pending invitations of the billed workspace and of every sub-account it pays for. */
static const char seats_sql[] =
    "SELECT "
    "(SELECT COUNT(*) FROM memberships m JOIN workspaces w ON w.id = m.workspace_id WHERE m.status = 'active' "
    "AND (w.id = $1 OR (w.parent_id = $1 AND w.billing_mode = 'parent' AND w.status <> 'deleted'))), "
    "(SELECT COUNT(*) FROM invitations i JOIN workspaces w ON w.id = i.workspace_id WHERE i.status = 'pending' "
    "AND i.expires_at > $2 AND (w.id = $1 OR (w.parent_id = $1 AND w.billing_mode = 'parent' "
    "AND w.status <> 'deleted'))), "
    "(SELECT COUNT(*) FROM memberships m WHERE m.workspace_id = $3 AND m.status = 'active'), "
    "(SELECT COUNT(*) FROM invitations i WHERE i.workspace_id = $3 AND i.status = 'pending' AND i.expires_at > $2)";

int64_t billing_used_seats(store_conn *c, const char *billing_ws)
{
    billing_seats s;
    return billing_seats_get(c, billing_ws, &s) == AT_OK ? s.active_members + s.pending_invitations : 0;
}

/* The seats a billed workspace may fill: its live subscription's quantity, or the fallback plan's. */
static int billing_purchased(store_conn *c, const char *billing_ws, int64_t *out)
{
    bsub s;
    int rc = bsub_load(c, billing_ws, false, &s);
    if (rc == AT_OK && bsub_entitled(s.status)) {
        *out = s.quantity;
        return AT_OK;
    }
    if (rc != AT_OK && rc != AT_ENOTFOUND)
        return rc;
    const billing_catalog *cat = billing_catalog_get();
    const billing_plan *fb = billing_plan_find(cat, cat->fallback_plan);
    *out = fb ? fb->max_seats : 1;
    return AT_OK;
}

int billing_seats_get(store_conn *c, const char *ws_id, billing_seats *out)
{
    char bws[ID_MAX];
    store_rows *r = NULL;
    int rc = billing_scope(c, ws_id, bws);
    if (rc != AT_OK)
        return rc;
    store_arg args[] = {sa_text(bws), sa_int(clock_now_us()), sa_text(ws_id)};
    if ((rc = store_query(c, seats_sql, args, 3, &r)) != AT_OK)
        return rc;
    if (store_rows_next(r) == 1) {
        out->active_members = store_rows_int(r, 0);
        out->pending_invitations = store_rows_int(r, 1);
        out->here_active = store_rows_int(r, 2);
        out->here_pending = store_rows_int(r, 3);
    } else {
        rc = AT_ENOTFOUND;
    }
    store_rows_free(r);
    snprintf(out->billed_by, sizeof(out->billed_by), "%s", bws);
    if (rc == AT_OK)
        rc = billing_purchased(c, bws, &out->purchased);
    return rc;
}

int billing_lock_seats(store_conn *c, const char *ws_id)
{
    char bws[ID_MAX];
    store_rows *r = NULL;
    int rc = billing_scope(c, ws_id, bws);
    if (rc != AT_OK)
        return rc;
    store_arg args[] = {sa_text(bws)};
    rc = store_query(c, "SELECT id FROM workspaces WHERE id = $1 FOR UPDATE", args, 1, &r);
    store_rows_free(r);
    return rc;
}

/* The features a workspace gets: the plan's while the subscription is in good standing, the fallback
 * plan's otherwise (and for a sub-account the ladder paused). */
static json_t *billing_features_json(const billing_plan *p)
{
    json_t *a = json_array();
    for (const char *const *f = p ? p->features : NULL; f && *f; f++)
        json_array_append_new(a, json_string(*f));
    return a;
}

int billing_sync(store_conn *c, const char *billing_ws)
{
    const billing_catalog *cat = billing_catalog_get();
    const billing_plan *fallback = billing_plan_find(cat, cat->fallback_plan), *plan = fallback;
    bsub s;
    int64_t seats = fallback ? fallback->max_seats : 1;
    int rc = bsub_load(c, billing_ws, false, &s);
    if (rc == AT_OK && bsub_entitled(s.status)) {
        const billing_plan *p = billing_plan_find(cat, s.plan_id);
        if (p) {
            plan = p;
            seats = s.quantity;
        }
    } else if (rc != AT_ENOTFOUND && rc != AT_OK) {
        return rc;
    }
    json_t *pj = billing_features_json(plan), *fbj = billing_features_json(fallback);
    char *features = json_dumps(pj, JSON_COMPACT), *fb = json_dumps(fbj, JSON_COMPACT);
    json_decref(pj);
    json_decref(fbj);
    store_arg args[] = {sa_text(billing_ws), sa_text(features), sa_int(seats), sa_text(fb)};
    rc = store_exec(c, "UPDATE workspaces SET entitlements = $2, seat_limit = $3 WHERE id = $1", args, 3, NULL);
    if (rc == AT_OK)
        rc = store_exec(c,
                        "UPDATE workspaces SET entitlements = CASE WHEN billing_paused_at IS NULL THEN $2 ELSE $4 END, "
                        "seat_limit = $3 WHERE parent_id = $1 AND billing_mode = 'parent'",
                        args, 4, NULL);
    free(features);
    free(fb);
    return rc;
}

/* A new subscription on plan p: a trial when the plan has one and the customer never had one, active
 * at once otherwise (manual collection sends the first invoice; a provider leaves it incomplete until
 * the first payment). */
static int billing_start(store_conn *c, const char *ws_id, const billing_plan *p, int interval, int64_t seats,
                         int64_t now, bool allow_trial, const audit_actor *actor, bsub *out)
{
    const billing_catalog *cat = billing_catalog_get();
    bsub s;
    memset(&s, 0, sizeof(s));
    snprintf(s.ws, sizeof(s.ws), "%s", ws_id);
    id_new("sub", s.id);
    snprintf(s.plan_id, sizeof(s.plan_id), "%s", p->id);
    s.interval = interval;
    s.quantity = seats;
    s.pending_interval = -1;
    s.created_at = now;
    bool manual = strcmp(billing_provider_name_for(c, ws_id), "manual") == 0;
    snprintf(s.collection, sizeof(s.collection), "%s", manual ? "send_invoice" : "charge_automatically");
    int64_t trial_used = 0;
    store_arg w[] = {sa_text(ws_id)};
    store_query_int(c, "SELECT trial_used FROM billing_customers WHERE workspace_id = $1", w, 1, &trial_used);
    bool trial = allow_trial && p->trial_days > 0 && !trial_used;
    if (trial) {
        snprintf(s.status, sizeof(s.status), "trialing");
        s.trial_end = now + p->trial_days * US_PER_DAY;
        s.anchor = s.trial_end;
        s.period_start = now;
        s.period_end = s.trial_end;
    } else {
        snprintf(s.status, sizeof(s.status), "%s", manual ? "active" : "incomplete");
        s.anchor = now;
        s.period_start = now;
        s.period_end = billing_period_end(now, interval, now);
        if (!manual)
            s.incomplete_expires_at = now + (int64_t)cat->first_payment_hours * 3600 * US_PER_S;
    }
    int rc =
        store_exec(c,
                   "INSERT INTO billing_customers (workspace_id, provider, updated_at) VALUES ($1, $2, $3) "
                   "ON CONFLICT (workspace_id) DO NOTHING",
                   (store_arg[]){sa_text(ws_id), sa_text(billing_provider_name_for(c, ws_id)), sa_int(now)}, 3, NULL);
    if (rc == AT_OK && trial)
        rc = store_exec(c, "UPDATE billing_customers SET trial_used = 1 WHERE workspace_id = $1", w, 1, NULL);
    if (rc == AT_OK)
        rc = bsub_insert(c, &s);
    if (rc == AT_OK) {
        json_t *changes =
            json_pack("{s:{s:n, s:s}, s:{s:n, s:s}, s:{s:n, s:I}, s:{s:n, s:s}}", "plan", "before", "after", p->id,
                      "interval", "before", "after", billing_interval_name(interval), "quantity", "before", "after",
                      (json_int_t)seats, "status", "before", "after", s.status);
        rc = audit_append(c, ws_id, actor ? actor : &billing_system_actor, "billing.subscription.created",
                          "subscription", s.id, changes);
        json_decref(changes);
    }
    if (rc == AT_OK && !trial) {
        bdraft d;
        memset(&d, 0, sizeof(d));
        bdraft_plan_lines(&d, p, interval, seats, s.period_start, s.period_end);
        char inv[ID_MAX];
        btotals t;
        rc = binv_create(c, &s, "subscription_create", &d, now, s.period_start, s.period_end, inv, &t);
    }
    if (rc == AT_OK)
        rc = billing_sync(c, ws_id);
    if (rc == AT_OK && out)
        *out = s;
    return rc;
}

int billing_start_subscription(store_conn *c, const char *ws_id, const billing_plan *p, int interval, int64_t seats,
                               int64_t now, bool allow_trial, const audit_actor *actor, bsub *out)
{
    return billing_start(c, ws_id, p, interval, seats, now, allow_trial, actor, out);
}

int billing_on_root_created(store_conn *c, const char *ws_id, const audit_actor *actor)
{
    const billing_catalog *cat = billing_catalog_get();
    const billing_plan *p = billing_plan_find(cat, cat->default_plan);
    if (!p)
        return AT_EINTERNAL;
    int64_t seats = config_get()->default_seat_limit;
    if (seats < p->min_seats)
        seats = p->min_seats;
    if (seats > p->max_seats)
        seats = p->max_seats;
    return billing_start(c, ws_id, p, BILLING_MONTH, seats, clock_now_us(), true, actor, NULL);
}

int billing_on_subaccount_created(store_conn *c, const char *ws_id)
{
    char bws[ID_MAX];
    int rc = billing_scope(c, ws_id, bws);
    return rc == AT_OK ? billing_sync(c, bws) : rc;
}

int billing_sub_account_quota(store_conn *c, const char *root_id, billing_refusal *r)
{
    const billing_catalog *cat = billing_catalog_get();
    bsub s;
    const billing_plan *p = NULL;
    int rc = bsub_load(c, root_id, false, &s);
    if (rc == AT_OK && bsub_entitled(s.status))
        p = billing_plan_find(cat, s.plan_id);
    else if (rc != AT_OK && rc != AT_ENOTFOUND)
        return rc;
    if (!p || !billing_plan_has_feature(p, "sub_accounts")) {
        const billing_plan *with[BILLING_MAX_PLANS];
        size_t n = billing_plans_with_feature(cat, "sub_accounts", with, BILLING_MAX_PLANS);
        billing_refuse(r, "", "plan_required", "Sub-accounts are not part of your plan.");
        r->plans[0] = '\0';
        for (size_t i = 0; i < n; i++)
            snprintf(r->plans + strlen(r->plans), sizeof(r->plans) - strlen(r->plans), "%s%s", i ? "," : "",
                     with[i]->id);
        return AT_ELIMIT;
    }
    int64_t count = 0;
    store_arg args[] = {sa_text(root_id)};
    rc = store_query_int(c, "SELECT COUNT(*) FROM workspaces WHERE parent_id = $1 AND status <> 'deleted'", args, 1,
                         &count);
    if (rc != AT_OK)
        return rc;
    if (count >= p->max_sub_accounts) {
        billing_refuse(r, "", "sub_accounts_full", "Your %s plan allows %lld sub-accounts; all are in use.", p->name,
                       (long long)p->max_sub_accounts);
        return AT_ELIMIT;
    }
    return AT_OK;
}
