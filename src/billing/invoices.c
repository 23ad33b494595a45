/* Invoices: drafts built from plan, proration, pending and usage lines; totals with tax and the
 * credit balance; finalization with gapless numbers; collection; payment facts; the invoice
 * document; operator actions. */
#include "billing/billing_impl.h"

#include "base/buf.h"
#include "base/clock.h"
#include "base/config.h"
#include "base/err.h"
#include "billing/money.h"
#include "jobs/jobs.h"
#include "mail/mail.h"

#include <stdarg.h>
#include <string.h>

bline *bdraft_add(bdraft *d, const char *kind, int64_t quantity, int64_t unit_amount, int64_t amount,
                  int64_t period_start, int64_t period_end, const char *fmt, ...)
{
    if (d->n >= BILLING_MAX_LINES)
        return NULL;
    bline *l = &d->lines[d->n++];
    va_list ap;
    memset(l, 0, sizeof(*l));
    snprintf(l->kind, sizeof(l->kind), "%s", kind);
    va_start(ap, fmt);
    vsnprintf(l->description, sizeof(l->description), fmt, ap);
    va_end(ap);
    l->quantity = quantity;
    l->unit_amount = unit_amount;
    l->amount = amount;
    l->period_start = period_start;
    l->period_end = period_end;
    return l;
}

void bdraft_plan_lines(bdraft *d, const billing_plan *p, int interval, int64_t seats, int64_t from, int64_t to)
{
    const char *per = interval == BILLING_YEAR ? "year" : "month";
    if (p->base_price[interval] || p->included_seats)
        bdraft_add(d, "base", 1, p->base_price[interval], p->base_price[interval], from, to,
                   "%s plan (per %s, %lld seats included)", p->name, per, (long long)p->included_seats);
    int64_t extra = seats > p->included_seats ? seats - p->included_seats : 0;
    if (extra && p->seat_price[interval] >= 0)
        bdraft_add(d, "seats", extra, p->seat_price[interval], extra * p->seat_price[interval], from, to,
                   "%s seats (per %s)%s", p->name, per, p->included_seats ? ", beyond those included" : "");
}

/* The overage of each metered item of plan p used in [from, to) by the billed workspace and the
 * sub-accounts it pays for; `on` names the plan in the descriptions when the period has segments. */
static int bdraft_usage_segment(store_conn *c, bdraft *d, const char *billing_ws, const billing_plan *p, int64_t from,
                                int64_t to, bool on)
{
    char suffix[96] = "";
    if (on)
        snprintf(suffix, sizeof(suffix), " on the %s plan", p->name);
    for (size_t i = 0; i < p->metered_count; i++) {
        const billing_metered *m = &p->metered[i];
        int64_t used = 0;
        store_arg args[] = {sa_text(billing_ws), sa_text(m->id), sa_int(from), sa_int(to)};
        int rc = store_query_int(c,
                                 "SELECT COALESCE(SUM(e.quantity), 0) FROM usage_events e JOIN workspaces w "
                                 "ON w.id = e.workspace_id WHERE (w.id = $1 OR (w.parent_id = $1 AND "
                                 "w.billing_mode = 'parent')) AND e.metric = $2 AND e.occurred_at >= $3 "
                                 "AND e.occurred_at < $4",
                                 args, 4, &used);
        if (rc != AT_OK)
            return rc;
        int64_t over = money_usage_overage(used, m->included);
        if (!over)
            continue;
        int64_t amount = money_usage_amount(over, m->unit_price, m->per_units);
        if (m->per_units > 1)
            bdraft_add(d, "usage", over, m->unit_price, amount, from, to,
                       "%s: %lld %ss beyond the %lld included (per %lld)%s", m->name, (long long)over, m->unit,
                       (long long)m->included, (long long)m->per_units, suffix);
        else
            bdraft_add(d, "usage", over, m->unit_price, amount, from, to, "%s: %lld %ss beyond the %lld included%s",
                       m->name, (long long)over, m->unit, (long long)m->included, suffix);
    }
    return AT_OK;
}

/* The segments are read from subscription_changes (the immediate plan changes strictly inside
 * [from, to), oldest first); the first segment's plan is the first change's from_plan, or the
 * subscription's plan when nothing changed. A change without a row (made before the table existed)
 * leaves its period priced at the plan in force at its end, as before. */
int bdraft_usage_lines(store_conn *c, bdraft *d, const bsub *s, int64_t from, int64_t to, const bwhatif *w)
{
    enum { MAX_SEGMENTS = 32 };
    struct {
        int64_t at;
        char plan[32];
    } seg[MAX_SEGMENTS + 2];
    size_t n = 0;
    char first[32];
    snprintf(first, sizeof(first), "%s", s->plan_id);
    store_rows *r = NULL;
    store_arg a[] = {sa_text(s->ws), sa_text(s->id), sa_int(from), sa_int(to)};
    int rc = store_query(c,
                         "SELECT effective_at, from_plan, to_plan FROM subscription_changes WHERE workspace_id = $1 "
                         "AND subscription_id = $2 AND immediate = 1 AND from_plan <> to_plan AND effective_at > $3 "
                         "AND effective_at < $4 ORDER BY effective_at, made_at, id",
                         a, 4, &r);
    if (rc != AT_OK)
        return rc;
    while ((rc = store_rows_next(r)) == 1 && n < MAX_SEGMENTS) {
        if (n == 0)
            snprintf(first, sizeof(first), "%s", store_rows_text(r, 1));
        seg[n].at = store_rows_int(r, 0);
        snprintf(seg[n].plan, sizeof(seg[n].plan), "%s", store_rows_text(r, 2));
        n++;
    }
    store_rows_free(r);
    if (rc < 0)
        return rc;
    if (w && w->to_plan && strcmp(w->from_plan, w->to_plan) != 0 && w->at > from && w->at < to) {
        if (n == 0)
            snprintf(first, sizeof(first), "%s", w->from_plan);
        seg[n].at = w->at;
        snprintf(seg[n].plan, sizeof(seg[n].plan), "%s", w->to_plan);
        n++;
    }
    const billing_catalog *cat = billing_catalog_get();
    int64_t start = from;
    const char *plan = first;
    for (size_t i = 0; i <= n; i++) {
        int64_t end = i < n ? seg[i].at : to;
        const billing_plan *p = billing_plan_find(cat, plan);
        if (p && end > start && (rc = bdraft_usage_segment(c, d, s->ws, p, start, end, n > 0)) != AT_OK)
            return rc;
        if (i < n) {
            start = end;
            plan = seg[i].plan;
        }
    }
    return AT_OK;
}

int bdraft_pending_lines(store_conn *c, bdraft *d, const char *billing_ws, const char *sub_id)
{
    store_rows *r = NULL;
    store_arg args[] = {sa_text(billing_ws), sa_text(sub_id)};
    int rc =
        store_query(c,
                    "SELECT description, quantity, unit_amount, amount, period_start, period_end, id FROM "
                    "pending_invoice_items WHERE workspace_id = $1 AND subscription_id = $2 AND invoice_id IS NULL "
                    "ORDER BY created_at, seq, id",
                    args, 2, &r);
    if (rc != AT_OK)
        return rc;
    /* Room is kept for the plan's lines; items that do not fit stay waiting, oldest first, for the
     * invoice after (unclaimed, so never lost nor billed twice). */
    while (d->n < BILLING_MAX_LINES - BILLING_PLAN_LINES && (rc = store_rows_next(r)) == 1) {
        bline *l = bdraft_add(d, "proration", store_rows_int(r, 1), store_rows_int(r, 2), store_rows_int(r, 3),
                              store_rows_int(r, 4), store_rows_int(r, 5), "%s", store_rows_text(r, 0));
        snprintf(l->pending_id, sizeof(l->pending_id), "%s", store_rows_text(r, 6));
    }
    store_rows_free(r);
    return rc < 0 ? rc : AT_OK;
}

int binv_totals(store_conn *c, const char *billing_ws, const bdraft *d, btotals *out)
{
    return binv_totals_adjusted(c, billing_ws, d, 0, out);
}

int binv_totals_adjusted(store_conn *c, const char *billing_ws, const bdraft *d, int64_t balance_delta, btotals *out)
{
    const billing_catalog *cat = billing_catalog_get();
    char country[3] = "";
    int64_t balance = 0;
    store_rows *r = NULL;
    store_arg args[] = {sa_text(billing_ws)};
    int rc = store_query(c, "SELECT country, balance FROM billing_customers WHERE workspace_id = $1", args, 1, &r);
    if (rc != AT_OK)
        return rc;
    if (store_rows_next(r) == 1) {
        snprintf(country, sizeof(country), "%s", store_rows_text(r, 0));
        balance = store_rows_int(r, 1);
    }
    store_rows_free(r);
    balance += balance_delta;
    memset(out, 0, sizeof(*out));
    for (size_t i = 0; i < d->n; i++)
        out->subtotal += d->lines[i].amount;
    const billing_tax_rate *tr = billing_tax_for(cat, country[0] ? country : NULL);
    out->tax_rate_bp = tr->rate_bp;
    snprintf(out->tax_name, sizeof(out->tax_name), "%s", tr->name);
    snprintf(out->tax_country, sizeof(out->tax_country), "%s", country);
    out->tax = money_tax(out->subtotal, out->tax_rate_bp);
    out->total = out->subtotal + out->tax;
    if (out->total > 0) {
        out->applied_balance = balance < 0 ? (balance > -out->total ? balance : -out->total) : 0;
        out->amount_due = out->total + out->applied_balance;
    } else {
        out->credit_to_balance = -out->total;
        out->amount_due = 0;
    }
    return AT_OK;
}

json_t *bdraft_json(const bdraft *d)
{
    json_t *a = json_array();
    for (size_t i = 0; i < d->n; i++) {
        const bline *l = &d->lines[i];
        json_array_append_new(a, json_pack("{s:s, s:s, s:I, s:I, s:I, s:o, s:o}", "kind", l->kind, "description",
                                           l->description, "quantity", (json_int_t)l->quantity, "unit_amount",
                                           (json_int_t)l->unit_amount, "amount", (json_int_t)l->amount, "period_start",
                                           billing_time_json(l->period_start), "period_end",
                                           billing_time_json(l->period_end)));
    }
    return a;
}

json_t *btotals_tax_json(const btotals *t)
{
    return json_pack("{s:s, s:s, s:I, s:I}", "name", t->tax_name, "country", t->tax_country, "rate_bp",
                     (json_int_t)t->tax_rate_bp, "amount", (json_int_t)t->tax);
}

/* The customer as printed on the invoice: its billing details, falling back to the workspace's name
 * and its first owner's address. */
json_t *billing_customer_snapshot(store_conn *c, const char *billing_ws)
{
    json_t *o = NULL;
    store_rows *r = NULL;
    store_arg args[] = {sa_text(billing_ws)};
    if (store_query(c,
                    "SELECT COALESCE(NULLIF(b.name, ''), NULLIF(w.legal_name, ''), w.name), COALESCE(NULLIF(b.email, "
                    "''), (SELECT u.email FROM "
                    "memberships m JOIN users u ON u.id = m.user_id WHERE m.workspace_id = w.id AND m.role = 'owner' "
                    "AND m.status = 'active' ORDER BY m.joined_at, m.id LIMIT 1), ''), COALESCE(b.address_line1, ''), "
                    "COALESCE(b.address_line2, ''), COALESCE(b.city, ''), COALESCE(b.postal_code, ''), "
                    "COALESCE(b.region, ''), COALESCE(b.country, ''), COALESCE(b.tax_id, '') FROM workspaces w "
                    "LEFT JOIN billing_customers b ON b.workspace_id = w.id WHERE w.id = $1",
                    args, 1, &r) == AT_OK &&
        store_rows_next(r) == 1) {
        json_t *addr = json_array();
        for (int i = 2; i <= 3; i++)
            if (store_rows_text(r, i)[0])
                json_array_append_new(addr, json_string(store_rows_text(r, i)));
        /* "postal code city, region" at any length: a fixed buffer cut long (CJK) lines mid-character,
         * and json_string then refused them, so the line vanished from the invoice. */
        buf line;
        buf_init(&line);
        buf_printf(&line, "%s%s%s%s%s", store_rows_text(r, 5), store_rows_text(r, 5)[0] ? " " : "",
                   store_rows_text(r, 4), store_rows_text(r, 6)[0] ? ", " : "", store_rows_text(r, 6));
        if (line.len)
            json_array_append_new(addr, json_stringn(line.data, line.len));
        buf_free(&line);
        if (store_rows_text(r, 7)[0])
            json_array_append_new(addr, json_string(store_rows_text(r, 7)));
        o = json_pack("{s:s, s:s, s:o, s:s, s:s}", "name", store_rows_text(r, 0), "email", store_rows_text(r, 1),
                      "address", addr, "country", store_rows_text(r, 7), "tax_id", store_rows_text(r, 8));
    }
    store_rows_free(r);
    return o ? o
             : json_pack("{s:s, s:s, s:[], s:s, s:s}", "name", "", "email", "", "address", "country", "", "tax_id", "");
}

static json_t *binv_issuer_snapshot(void)
{
    const billing_catalog *cat = billing_catalog_get();
    json_t *addr = json_array();
    for (size_t i = 0; i < cat->issuer.address_lines; i++)
        json_array_append_new(addr, json_string(cat->issuer.address[i]));
    return json_pack("{s:s, s:o, s:s, s:s}", "name", cat->issuer.name, "address", addr, "tax_id", cat->issuer.tax_id,
                     "email", cat->issuer.email);
}

/* The next number of the issuer's sequence, taken in the caller's transaction: a rollback gives it
 * back, so numbers stay gapless; the counter row's lock orders concurrent finalizations. */
static int binv_next_number(store_conn *c, char out[32])
{
    const billing_catalog *cat = billing_catalog_get();
    int64_t n = 0;
    store_arg args[] = {sa_text(cat->issuer.invoice_prefix)};
    int rc = store_query_int(c,
                             "INSERT INTO invoice_counters (issuer, last_number) VALUES ($1, 1) ON CONFLICT (issuer) "
                             "DO UPDATE SET last_number = invoice_counters.last_number + 1 RETURNING last_number",
                             args, 1, &n);
    if (rc == AT_OK)
        snprintf(out, 32, "%s-%06lld", cat->issuer.invoice_prefix, (long long)n);
    return rc;
}

int billing_collect_enqueue(store_conn *c, const char *billing_ws, const char *invoice_id, int attempt)
{
    char payload[160], key[128];
    snprintf(payload, sizeof(payload), "{\"workspace_id\":\"%s\",\"invoice_id\":\"%s\"}", billing_ws, invoice_id);
    snprintf(key, sizeof(key), "billing.collect:%s:%d", invoice_id, attempt);
    return jobs_enqueue(c, "billing.collect", payload, 0, 5, key, NULL);
}

static void binv_amount_str(int64_t amount, char out[48])
{
    money_format(amount, billing_catalog_get()->currency, out);
}

int binv_create(store_conn *c, const bsub *s, const char *reason, const bdraft *d, int64_t now, int64_t period_start,
                int64_t period_end, char id_out[ID_MAX], btotals *t)
{
    const billing_catalog *cat = billing_catalog_get();
    char number[32];
    int rc = binv_totals(c, s->ws, d, t);
    if (rc != AT_OK)
        return rc;
    if ((rc = binv_next_number(c, number)) != AT_OK)
        return rc;
    id_new("in", id_out);
    bool manual = strcmp(s->collection, "send_invoice") == 0;
    bool settled = t->amount_due == 0;
    int64_t due = manual ? now + cat->payment_terms_days * US_PER_DAY : now;
    json_t *cust = billing_customer_snapshot(c, s->ws), *iss = binv_issuer_snapshot();
    char *cust_s = json_dumps(cust, JSON_COMPACT), *iss_s = json_dumps(iss, JSON_COMPACT);
    json_decref(cust);
    json_decref(iss);
    store_arg a[] = {sa_text(s->ws),
                     sa_text(id_out),
                     sa_text(number),
                     sa_text(s->id),
                     sa_text(settled ? "paid" : "open"),
                     sa_text(settled ? "succeeded" : "pending"),
                     sa_text(reason),
                     sa_text(cat->currency),
                     sa_text(iss_s),
                     sa_text(cust_s),
                     sa_int(t->subtotal),
                     sa_text(t->tax_name),
                     sa_text(t->tax_country),
                     sa_int(t->tax_rate_bp),
                     sa_int(t->tax),
                     sa_int(t->total),
                     sa_int(t->applied_balance),
                     sa_int(t->amount_due),
                     period_start ? sa_int(period_start) : sa_null(),
                     period_end ? sa_int(period_end) : sa_null(),
                     settled ? sa_null() : sa_int(due),
                     sa_int(now),
                     settled ? sa_int(now) : sa_null()};
    rc =
        store_exec(c,
                   "INSERT INTO invoices (workspace_id, id, number, subscription_id, status, payment_status, reason, "
                   "currency, issuer, customer, subtotal, tax_name, tax_country, tax_rate_bp, tax, total, "
                   "applied_balance, amount_due, period_start, period_end, due_at, created_at, finalized_at, paid_at) "
                   "VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17, $18, $19, $20, "
                   "$21, $22, $22, $23)",
                   a, 23, NULL);
    free(cust_s);
    free(iss_s);
    for (size_t i = 0; rc == AT_OK && i < d->n; i++) {
        const bline *l = &d->lines[i];
        store_arg la[] = {sa_text(s->ws),
                          sa_text(id_out),
                          sa_int((int64_t)i + 1),
                          sa_text(l->kind),
                          sa_text(l->description),
                          sa_int(l->quantity),
                          sa_int(l->unit_amount),
                          sa_int(l->amount),
                          l->period_start ? sa_int(l->period_start) : sa_null(),
                          l->period_end ? sa_int(l->period_end) : sa_null()};
        rc = store_exec(
            c,
            "INSERT INTO invoice_lines (workspace_id, invoice_id, seq, kind, description, quantity, "
            "unit_amount, amount, period_start, period_end) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)",
            la, 10, NULL);
    }
    /* Each waiting proration on the draft is claimed by its id; one already claimed means it would be
     * billed twice, so the invoice is refused (the transaction rolls back). */
    for (size_t i = 0; rc == AT_OK && i < d->n; i++) {
        if (!d->lines[i].pending_id[0])
            continue;
        int64_t n = 0;
        store_arg pa[] = {sa_text(s->ws), sa_text(d->lines[i].pending_id), sa_text(id_out)};
        rc = store_exec(c,
                        "UPDATE pending_invoice_items SET invoice_id = $3 WHERE workspace_id = $1 AND id = $2 AND "
                        "invoice_id IS NULL",
                        pa, 3, &n);
        if (rc == AT_OK && n != 1)
            rc = AT_EINTERNAL;
    }
    if (rc == AT_OK && (t->applied_balance || t->credit_to_balance)) {
        store_arg ba[] = {sa_text(s->ws), sa_int(-t->applied_balance - t->credit_to_balance), sa_int(now)};
        rc = store_exec(c,
                        "UPDATE billing_customers SET balance = balance + $2, updated_at = $3 WHERE workspace_id = $1",
                        ba, 3, NULL);
    }
    if (rc == AT_OK) {
        json_t *changes =
            json_pack("{s:{s:n, s:s}, s:{s:n, s:I}, s:{s:n, s:s}}", "number", "before", "after", number, "total",
                      "before", "after", (json_int_t)t->total, "reason", "before", "after", reason);
        rc = audit_append(c, s->ws, &billing_system_actor, "billing.invoice.finalized", "invoice", id_out, changes);
        json_decref(changes);
    }
    if (rc == AT_OK && !settled) {
        if (manual) {
            char amount[48], due_s[32], link[160];
            binv_amount_str(t->amount_due, amount);
            clock_format_rfc3339(due, due_s);
            snprintf(link, sizeof(link), "/w/%s/settings/billing/invoices/%s", s->ws, id_out);
            json_t *vars =
                json_pack("{s:s, s:s, s:s, s:s}", "number", number, "amount", amount, "expires", due_s, "link", link);
            char key[96];
            snprintf(key, sizeof(key), "invoice_issued:%s", id_out);
            rc = billing_notify(c, s->ws, "invoice_issued", vars, key);
            json_decref(vars);
        } else {
            rc = billing_collect_enqueue(c, s->ws, id_out, 1);
        }
    }
    return rc;
}

int billing_notify(store_conn *c, const char *billing_ws, const char *template_id, json_t *vars, const char *dedupe)
{
    store_rows *r = NULL;
    json_t *to = json_array();
    store_arg args[] = {sa_text(billing_ws)};
    int rc = store_query(c,
                         "SELECT u.email, u.name, w.name FROM memberships m JOIN users u ON u.id = m.user_id JOIN "
                         "workspaces w ON w.id = m.workspace_id WHERE m.workspace_id = $1 AND m.role = 'owner' AND "
                         "m.status = 'active' AND u.disabled = 0 ORDER BY m.joined_at, m.id",
                         args, 1, &r);
    if (rc != AT_OK) {
        json_decref(to);
        return rc;
    }
    while (store_rows_next(r) == 1) {
        json_array_append_new(to,
                              json_pack("{s:s, s:s?}", "email", store_rows_text(r, 0), "name", store_rows_text(r, 1)));
        json_object_set_new(vars, "workspace", json_string(store_rows_text(r, 2)));
    }
    store_rows_free(r);
    size_t i;
    json_t *who;
    json_array_foreach(to, i, who)
    {
        char key[200];
        json_t *v = json_deep_copy(vars);
        const char *name = json_string_value(json_object_get(who, "name"));
        if (name && name[0])
            json_object_set_new(v, "name", json_string(name));
        if (!json_object_get(v, "workspace"))
            json_object_set_new(v, "workspace", json_string("your workspace"));
        snprintf(key, sizeof(key), "%s:%s", dedupe, json_string_value(json_object_get(who, "email")));
        mail_request m = {billing_ws, json_string_value(json_object_get(who, "email")), name, template_id, v, key};
        rc = mail_enqueue(c, &m, NULL);
        json_decref(v);
        if (rc != AT_OK)
            break;
    }
    json_decref(to);
    return rc;
}

int binv_paid(store_conn *c, const char *billing_ws, const char *invoice_id, int64_t now, const audit_actor *actor)
{
    int64_t changed = 0;
    store_arg args[] = {sa_text(billing_ws), sa_text(invoice_id), sa_int(now)};
    int rc = store_exec(c,
                        "UPDATE invoices SET status = 'paid', payment_status = 'succeeded', amount_paid = amount_due, "
                        "paid_at = $3, next_payment_attempt = NULL WHERE workspace_id = $1 AND id = $2 "
                        "AND status IN ('open', 'uncollectible')",
                        args, 3, &changed);
    if (rc != AT_OK || !changed)
        return rc;
    if ((rc = audit_append(c, billing_ws, actor ? actor : &billing_system_actor, "billing.invoice.paid", "invoice",
                           invoice_id, NULL)) != AT_OK)
        return rc;
    return binv_settled(c, billing_ws, invoice_id, now, "recovered", actor);
}

/* An invoice stopped being owed (paid, voided, written off): when the ladder was working on it, its
 * episode ends with `outcome`; with nothing else overdue, a subscription held back by unpaid money
 * returns to active and its paused sub-accounts come back. */
int binv_settled(store_conn *c, const char *billing_ws, const char *invoice_id, int64_t now, const char *outcome,
                 const audit_actor *actor)
{
    bsub s;
    int rc = bsub_load(c, billing_ws, true, &s);
    if (rc == AT_ENOTFOUND)
        return AT_OK;
    if (rc != AT_OK)
        return rc;
    int64_t open_overdue = 0;
    store_arg oa[] = {sa_text(billing_ws), sa_text(s.id), sa_int(now)};
    /* Under card collection an invoice is due when issued; only the provider's answer fails it. */
    if (strcmp(s.collection, "send_invoice") == 0)
        rc = store_query_int(c,
                             "SELECT COUNT(*) FROM invoices WHERE workspace_id = $1 AND subscription_id = $2 AND "
                             "status = 'open' AND due_at <= $3",
                             oa, 3, &open_overdue);
    if (rc != AT_OK)
        return rc;
    if (strcmp(s.dunning_invoice, invoice_id) == 0) {
        store_arg ea[] = {sa_text(billing_ws), sa_text(s.id), sa_text(invoice_id), sa_int(now), sa_text(outcome)};
        rc = store_exec(c,
                        "UPDATE dunning_episodes SET outcome = $5, ended_at = $4 WHERE workspace_id = $1 "
                        "AND subscription_id = $2 AND invoice_id = $3 AND outcome = 'open'",
                        ea, 5, NULL);
        s.dunning_invoice[0] = '\0';
        s.dunning_started_at = 0;
        s.dunning_step = 0;
    }
    bool back = strcmp(s.status, "incomplete") == 0 || strcmp(s.status, "past_due") == 0 ||
                strcmp(s.status, "unpaid") == 0 || (strcmp(s.status, "paused") == 0 && strcmp(outcome, "recovered") == 0);
    if (rc == AT_OK && back && !open_overdue && !s.dunning_invoice[0]) {
        s.incomplete_expires_at = 0;
        rc = bsub_set_status(c, &s, "active", strcmp(outcome, "recovered") == 0 ? "invoice paid" : "nothing owed",
                             actor);
        if (rc == AT_OK) {
            store_arg pa[] = {sa_text(billing_ws)};
            rc = store_exec(c,
                            "UPDATE workspaces SET billing_paused_at = NULL WHERE (id = $1 OR (parent_id = $1 AND "
                            "billing_mode = 'parent')) AND billing_paused_at IS NOT NULL",
                            pa, 1, NULL);
        }
    }
    if (rc == AT_OK)
        rc = bsub_save(c, &s);
    if (rc == AT_OK)
        rc = billing_sync(c, billing_ws);
    return rc;
}

int binv_payment_failed(store_conn *c, const char *billing_ws, const char *invoice_id, int64_t now,
                        const char *decline_code, const audit_actor *actor)
{
    int64_t changed = 0;
    store_arg args[] = {sa_text(billing_ws), sa_text(invoice_id)};
    int rc = store_exec(c,
                        "UPDATE invoices SET payment_status = 'failed', attempt_count = attempt_count + 1 "
                        "WHERE workspace_id = $1 AND id = $2 AND status = 'open'",
                        args, 2, &changed);
    if (rc != AT_OK || !changed)
        return rc;
    json_t *changes = json_pack("{s:{s:n, s:s}}", "decline_code", "before", "after", decline_code ? decline_code : "");
    rc = audit_append(c, billing_ws, actor ? actor : &billing_system_actor, "billing.invoice.payment_failed", "invoice",
                      invoice_id, changes);
    json_decref(changes);
    if (rc != AT_OK)
        return rc;
    bsub s;
    rc = bsub_load(c, billing_ws, true, &s);
    if (rc == AT_ENOTFOUND)
        return AT_OK;
    if (rc != AT_OK)
        return rc;
    if (s.dunning_invoice[0] || strcmp(s.status, "incomplete") == 0)
        return AT_OK; /* the ladder is already at work, or the first-payment deadline governs */
    return bdunning_start(c, &s, invoice_id, now);
}

/* ---- The invoice document ---------------------------------------------------------------------- */

#define BINV_COLS                                                                                                      \
    "id, number, subscription_id, status, payment_status, reason, currency, issuer, customer, subtotal, tax_name, "    \
    "tax_country, tax_rate_bp, tax, total, applied_balance, amount_due, amount_paid, period_start, period_end, "       \
    "due_at, attempt_count, next_payment_attempt, created_at, finalized_at, paid_at, voided_at, "                      \
    "marked_uncollectible_at, workspace_id"

static json_t *binv_time_col(store_rows *r, int col)
{
    return store_rows_is_null(r, col) ? json_null() : billing_time_json(store_rows_int(r, col));
}

static void binv_read(store_rows *r, void *ctx)
{
    json_t **out = ctx;
    json_t *issuer = json_loads(store_rows_text(r, 7), 0, NULL), *customer = json_loads(store_rows_text(r, 8), 0, NULL);
    int64_t due = store_rows_int(r, 16), paid = store_rows_int(r, 17);
    const char *status = store_rows_text(r, 3);
    int64_t remaining = strcmp(status, "open") == 0 || strcmp(status, "uncollectible") == 0 ? due - paid : 0;
    *out = json_pack("{s:s, s:s?, s:s?, s:s, s:s, s:s, s:s, s:s, s:o, s:o, s:I, s:{s:s, s:s, s:I, s:I}, s:I, s:I, "
                     "s:I, s:I, s:I, s:o, s:o, s:o, s:I, s:o, s:o, s:o, s:o, s:o, s:o}",
                     "id", store_rows_text(r, 0), "number", store_rows_text(r, 1), "subscription_id",
                     store_rows_text(r, 2), "status", status, "payment_status", store_rows_text(r, 4), "reason",
                     store_rows_text(r, 5), "currency", store_rows_text(r, 6), "workspace_id", store_rows_text(r, 28),
                     "issuer", issuer ? issuer : json_object(), "customer", customer ? customer : json_object(),
                     "subtotal", (json_int_t)store_rows_int(r, 9), "tax", "name", store_rows_text(r, 10), "country",
                     store_rows_text(r, 11), "rate_bp", (json_int_t)store_rows_int(r, 12), "amount",
                     (json_int_t)store_rows_int(r, 13), "total", (json_int_t)store_rows_int(r, 14), "applied_balance",
                     (json_int_t)store_rows_int(r, 15), "amount_due", (json_int_t)due, "amount_paid", (json_int_t)paid,
                     "amount_remaining", (json_int_t)remaining, "period_start", binv_time_col(r, 18), "period_end",
                     binv_time_col(r, 19), "due_at", binv_time_col(r, 20), "attempt_count",
                     (json_int_t)store_rows_int(r, 21), "next_payment_attempt", binv_time_col(r, 22), "created_at",
                     binv_time_col(r, 23), "finalized_at", binv_time_col(r, 24), "paid_at", binv_time_col(r, 25),
                     "voided_at", binv_time_col(r, 26), "marked_uncollectible_at", binv_time_col(r, 27));
}

static int binv_load_json(store_conn *c, const char *billing_ws, const char *invoice_id, json_t **out)
{
    store_arg args[] = {sa_text(billing_ws), sa_text(invoice_id)};
    *out = NULL;
    int rc = store_query_one(c, "SELECT " BINV_COLS " FROM invoices WHERE workspace_id = $1 AND id = $2", args, 2,
                             binv_read, out);
    if (rc != AT_OK)
        return rc;
    store_rows *r = NULL;
    json_t *lines = json_array();
    rc = store_query(c,
                     "SELECT kind, description, quantity, unit_amount, amount, period_start, period_end FROM "
                     "invoice_lines WHERE workspace_id = $1 AND invoice_id = $2 ORDER BY seq",
                     args, 2, &r);
    while (rc == AT_OK && store_rows_next(r) == 1)
        json_array_append_new(
            lines, json_pack("{s:s, s:s, s:I, s:I, s:I, s:o, s:o}", "kind", store_rows_text(r, 0), "description",
                             store_rows_text(r, 1), "quantity", (json_int_t)store_rows_int(r, 2), "unit_amount",
                             (json_int_t)store_rows_int(r, 3), "amount", (json_int_t)store_rows_int(r, 4),
                             "period_start", binv_time_col(r, 5), "period_end", binv_time_col(r, 6)));
    store_rows_free(r);
    json_object_set_new(*out, "lines", lines);
    if (rc != AT_OK) {
        json_decref(*out);
        *out = NULL;
    }
    return rc;
}

int billing_invoice_get(store *s, const char *ws_id, const char *invoice_id, json_t **out)
{
    store_conn *c = NULL;
    char bws[ID_MAX];
    int rc = store_acquire(s, &c);
    if (rc != AT_OK)
        return rc;
    rc = billing_scope(c, ws_id, bws);
    /* A sub-account billed to its root sees its root's invoices read-only through the root only. */
    if (rc == AT_OK && strcmp(bws, ws_id) != 0)
        rc = AT_ENOTFOUND;
    if (rc == AT_OK)
        rc = binv_load_json(c, ws_id, invoice_id, out);
    store_release(c);
    return rc;
}

int billing_invoice_list(store *s, const char *ws_id, int limit, int64_t offset, json_t **items, int64_t *next_offset)
{
    store_conn *c = NULL;
    store_rows *r = NULL;
    int rc = store_acquire(s, &c);
    *items = json_array();
    *next_offset = 0;
    if (rc != AT_OK)
        return rc;
    store_arg args[] = {sa_text(ws_id), sa_int(limit + 1), sa_int(offset)};
    rc = store_query(c,
                     "SELECT id, number, status, payment_status, total, amount_due, amount_paid, currency, created_at, "
                     "due_at, period_start, period_end, reason FROM invoices WHERE workspace_id = $1 "
                     "ORDER BY created_at DESC, id DESC LIMIT $2 OFFSET $3",
                     args, 3, &r);
    int n = 0;
    while (rc == AT_OK && (rc = store_rows_next(r)) == 1) {
        if (n++ == limit) {
            *next_offset = offset + limit;
            break;
        }
        json_array_append_new(
            *items, json_pack("{s:s, s:s?, s:s, s:s, s:I, s:I, s:I, s:s, s:o, s:o, s:o, s:o, s:s}", "id",
                              store_rows_text(r, 0), "number", store_rows_text(r, 1), "status", store_rows_text(r, 2),
                              "payment_status", store_rows_text(r, 3), "total", (json_int_t)store_rows_int(r, 4),
                              "amount_due", (json_int_t)store_rows_int(r, 5), "amount_paid",
                              (json_int_t)store_rows_int(r, 6), "currency", store_rows_text(r, 7), "created_at",
                              binv_time_col(r, 8), "due_at", binv_time_col(r, 9), "period_start", binv_time_col(r, 10),
                              "period_end", binv_time_col(r, 11), "reason", store_rows_text(r, 12)));
        rc = AT_OK;
    }
    if (rc == 1 || rc == 0)
        rc = AT_OK;
    store_rows_free(r);
    store_release(c);
    return rc;
}

typedef struct binv_action_ctx {
    const char *ws, *id, *action;
    const audit_actor *actor;
    billing_refusal *r;
    json_t *out;
} binv_action_ctx;

static int binv_action_tx(store_conn *c, void *arg)
{
    binv_action_ctx *x = arg;
    char status[24] = "";
    store_rows *r = NULL;
    store_arg args[] = {sa_text(x->ws), sa_text(x->id)};
    int rc = store_query(c, "SELECT status FROM invoices WHERE workspace_id = $1 AND id = $2 FOR UPDATE", args, 2, &r);
    if (rc == AT_OK)
        rc = store_rows_next(r) == 1 ? AT_OK : AT_ENOTFOUND;
    if (rc == AT_OK)
        snprintf(status, sizeof(status), "%s", store_rows_text(r, 0));
    store_rows_free(r);
    if (rc != AT_OK)
        return rc;
    int64_t now = billing_now(c, x->ws);
    bool open = strcmp(status, "open") == 0, uncollectible = strcmp(status, "uncollectible") == 0;
    if (strcmp(x->action, "mark_paid") == 0) {
        if (!open && !uncollectible)
            goto refuse;
        rc = binv_paid(c, x->ws, x->id, now, x->actor);
    } else if (strcmp(x->action, "void") == 0) {
        if (!open && !uncollectible)
            goto refuse;
        store_arg va[] = {sa_text(x->ws), sa_text(x->id), sa_int(now)};
        rc = store_exec(c,
                        "UPDATE invoices SET status = 'void', voided_at = $3, next_payment_attempt = NULL "
                        "WHERE workspace_id = $1 AND id = $2",
                        va, 3, NULL);
        if (rc == AT_OK)
            rc = audit_append(c, x->ws, x->actor, "billing.invoice.voided", "invoice", x->id, NULL);
        if (rc == AT_OK)
            rc = binv_settled(c, x->ws, x->id, now, "lost", x->actor);
    } else {
        if (!open)
            goto refuse;
        store_arg ua[] = {sa_text(x->ws), sa_text(x->id), sa_int(now)};
        rc = store_exec(c,
                        "UPDATE invoices SET status = 'uncollectible', marked_uncollectible_at = $3 "
                        "WHERE workspace_id = $1 AND id = $2",
                        ua, 3, NULL);
        if (rc == AT_OK)
            rc = audit_append(c, x->ws, x->actor, "billing.invoice.marked_uncollectible", "invoice", x->id, NULL);
        if (rc == AT_OK)
            rc = binv_settled(c, x->ws, x->id, now, "lost", x->actor);
    }
    if (rc == AT_OK)
        rc = binv_load_json(c, x->ws, x->id, &x->out);
    return rc;
refuse:
    billing_refuse(x->r, "", "invalid_state", "A %s invoice cannot be %s.", status,
                   strcmp(x->action, "mark_paid") == 0 ? "marked paid"
                   : strcmp(x->action, "void") == 0    ? "voided"
                                                       : "marked uncollectible");
    return AT_ECONFLICT;
}

int billing_invoice_action(store *s, const char *ws_id, const char *invoice_id, const char *action,
                           const audit_actor *actor, json_t **out, billing_refusal *r)
{
    binv_action_ctx x = {ws_id, invoice_id, action, actor, r, NULL};
    return billing_tx_out(s, true, binv_action_tx, &x, &x.out, out);
}
