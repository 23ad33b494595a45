/* Usage events: reported with an API key (scope usage:write) or by a signed-in admin, idempotent by the
 * reporter's event id, counted in the billing period they occurred in and billed beyond the plan's
 * included quantity at period end. */
#include "billing/billing_impl.h"

#include "base/clock.h"
#include "base/err.h"

#include <string.h>

typedef struct busage_ctx {
    const char *ws;
    const json_t *events;
    const char *reported_by;
    billing_refusal *r;
    json_t *out;
} busage_ctx;

static int busage_tx(store_conn *c, void *arg)
{
    busage_ctx *x = arg;
    char bws[ID_MAX];
    bsub s;
    int rc = billing_scope(c, x->ws, bws);
    if (rc != AT_OK)
        return rc;
    rc = bsub_load(c, bws, false, &s);
    if (rc == AT_ENOTFOUND || (rc == AT_OK && !bsub_entitled(s.status))) {
        billing_refuse(x->r, "", "no_subscription", "Usage is only recorded for a subscription in good standing.");
        return AT_ECONFLICT;
    }
    if (rc != AT_OK)
        return rc;
    const billing_plan *p = billing_plan_find(billing_catalog_get(), s.plan_id);
    int64_t now = billing_now(c, bws), accepted = 0, duplicates = 0;
    size_t i;
    json_t *e;
    json_array_foreach(x->events, i, e)
    {
        const char *metric = json_string_value(json_object_get(e, "metric"));
        const char *event_id = json_string_value(json_object_get(e, "event_id"));
        int64_t qty = json_integer_value(json_object_get(e, "quantity"));
        const char *when = json_string_value(json_object_get(e, "occurred_at"));
        int64_t at = now;
        char field[48];
        if (!p || !billing_plan_metered(p, metric)) {
            snprintf(field, sizeof(field), "events[%zu].metric", i);
            billing_refuse(x->r, field, "unknown_metric", "The %s plan meters no \"%s\".", p ? p->name : s.plan_id,
                           metric);
            return AT_EINVAL;
        }
        if (when && clock_parse_rfc3339(when, strlen(when), &at) != AT_OK) {
            snprintf(field, sizeof(field), "events[%zu].occurred_at", i);
            billing_refuse(x->r, field, "format", "Must be an RFC 3339 time.");
            return AT_EINVAL;
        }
        if (at < s.period_start || at > now + 300 * US_PER_S) {
            snprintf(field, sizeof(field), "events[%zu].occurred_at", i);
            billing_refuse(
                x->r, field, "period_closed",
                "Usage is accepted for the open billing period only (from its start to five minutes ahead).");
            return AT_EINVAL;
        }
        int64_t n = 0;
        store_arg a[] = {sa_text(x->ws), sa_text(event_id), sa_text(metric),        sa_int(qty),
                         sa_int(at),     sa_int(now),       sa_text(x->reported_by)};
        rc = store_exec(
            c,
            "INSERT INTO usage_events (workspace_id, event_id, metric, quantity, occurred_at, received_at, "
            "reported_by) VALUES ($1, $2, $3, $4, $5, $6, $7) ON CONFLICT (workspace_id, event_id) DO NOTHING",
            a, 7, &n);
        if (rc != AT_OK)
            return rc;
        if (n)
            accepted++;
        else
            duplicates++;
    }
    x->out = json_pack("{s:I, s:I}", "accepted", (json_int_t)accepted, "duplicates", (json_int_t)duplicates);
    return AT_OK;
}

int billing_usage_record(store *s, const char *ws_id, const json_t *events, const char *reported_by, json_t **out,
                         billing_refusal *r)
{
    busage_ctx x = {ws_id, events, reported_by, r, NULL};
    return billing_tx_out(s, true, busage_tx, &x, &x.out, out);
}

/* The usage meters of the open period: for each metered item, used against included and the overage
 * so far (what the period-end invoice would bill if the period ended now). */
json_t *billing_usage_meters(store_conn *c, const char *billing_ws, const bsub *s)
{
    json_t *a = json_array();
    const billing_plan *p = billing_plan_find(billing_catalog_get(), s->plan_id);
    for (size_t i = 0; p && i < p->metered_count; i++) {
        const billing_metered *m = &p->metered[i];
        bdraft d;
        int64_t used = 0;
        memset(&d, 0, sizeof(d));
        store_arg args[] = {sa_text(billing_ws), sa_text(m->id), sa_int(s->period_start), sa_int(s->period_end)};
        store_query_int(c,
                        "SELECT COALESCE(SUM(e.quantity), 0) FROM usage_events e JOIN workspaces w ON "
                        "w.id = e.workspace_id WHERE (w.id = $1 OR (w.parent_id = $1 AND w.billing_mode = 'parent')) "
                        "AND e.metric = $2 AND e.occurred_at >= $3 AND e.occurred_at < $4",
                        args, 4, &used);
        int64_t over = used > m->included ? used - m->included : 0;
        bdraft_usage_lines(c, &d, s, s->period_start, s->period_end, NULL);
        int64_t amount = 0;
        for (size_t k = 0; k < d.n; k++)
            if (strncmp(d.lines[k].description, m->name, strlen(m->name)) == 0 &&
                d.lines[k].description[strlen(m->name)] == ':')
                amount += d.lines[k].amount;
        json_array_append_new(a, json_pack("{s:s, s:s, s:s, s:I, s:I, s:I, s:I, s:I, s:I}", "metric", m->id, "name",
                                           m->name, "unit", m->unit, "used", (json_int_t)used, "included",
                                           (json_int_t)m->included, "overage", (json_int_t)over, "unit_price",
                                           (json_int_t)m->unit_price, "per_units", (json_int_t)m->per_units,
                                           "overage_amount", (json_int_t)amount));
    }
    return a;
}
