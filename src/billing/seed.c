/* The demo's billing (`atrium demo`): an agency on the Agency plan a few weeks into its period with
 * its first invoice paid, billing details that put VAT on its invoices, usage in the open period, a
 * developer test clock to move time with, one sub-account billed to the agency and one with its own
 * trial. */
#include "billing/billing_impl.h"

#include "base/err.h"

#include <string.h>

int billing_seed_demo(store_conn *c, const char *root_id, const char *parent_billed_id, const char *own_id, int64_t now)
{
    const billing_catalog *cat = billing_catalog_get();
    const billing_plan *agency = billing_plan_find(cat, "agency"), *starter = billing_plan_find(cat, "starter");
    bsub s;
    int rc = bsub_latest(c, root_id, &s);
    if (rc == AT_OK)
        return AT_OK; /* seeded before */
    if (rc != AT_ENOTFOUND || !agency || !starter)
        return rc == AT_ENOTFOUND ? AT_EINTERNAL : rc;
    audit_actor demo = {"system", NULL, "atrium demo", NULL, NULL, NULL};
    int64_t started = now - 20 * US_PER_DAY;
    store_arg cust[] = {sa_text(root_id), sa_int(now)};
    rc = store_exec(c,
                    "INSERT INTO billing_customers (workspace_id, name, email, address_line1, city, postal_code, "
                    "country, tax_id, updated_at) VALUES ($1, 'Acme Agency Ltd', 'accounts@acme.test', "
                    "'12 Shoreditch High Street', 'London', 'E1 6JE', 'GB', 'GB123456789', $2) "
                    "ON CONFLICT (workspace_id) DO NOTHING",
                    cust, 2, NULL);
    if (rc == AT_OK)
        rc = billing_start_subscription(c, root_id, agency, BILLING_MONTH, 12, started, false, &demo, &s);
    char inv[ID_MAX] = "";
    store_rows *r = NULL;
    store_arg a[] = {sa_text(root_id)};
    if (rc == AT_OK)
        rc = store_query(c, "SELECT id FROM invoices WHERE workspace_id = $1 AND status = 'open'", a, 1, &r);
    if (rc == AT_OK && store_rows_next(r) == 1)
        snprintf(inv, sizeof(inv), "%s", store_rows_text(r, 0));
    store_rows_free(r);
    if (rc == AT_OK && inv[0])
        rc = binv_paid(c, root_id, inv, started + 2 * US_PER_DAY, &demo);
    static const struct {
        const char *metric;
        int64_t quantity;
        int days_ago;
    } usage[] = {{"ai_minutes", 1200, 18},  {"ai_minutes", 1450, 9},  {"ai_minutes", 980, 2},
                 {"api_calls", 310000, 15}, {"api_calls", 402000, 4}, {"contacts", 61000, 12}};
    for (size_t i = 0; rc == AT_OK && i < sizeof(usage) / sizeof(usage[0]); i++) {
        char event[48];
        snprintf(event, sizeof(event), "demo-%zu", i);
        store_arg u[] = {sa_text(root_id),
                         sa_text(event),
                         sa_text(usage[i].metric),
                         sa_int(usage[i].quantity),
                         sa_int(now - usage[i].days_ago * US_PER_DAY),
                         sa_int(now)};
        rc = store_exec(c,
                        "INSERT INTO usage_events (workspace_id, event_id, metric, quantity, occurred_at, received_at, "
                        "reported_by) VALUES ($1, $2, $3, $4, $5, $6, 'demo') ON CONFLICT DO NOTHING",
                        u, 6, NULL);
    }
    store_arg clock[] = {sa_text(root_id), sa_int(now)};
    if (rc == AT_OK)
        rc =
            store_exec(c,
                       "INSERT INTO billing_clocks (workspace_id, frozen_time, created_at, updated_at) VALUES ($1, $2, "
                       "$2, $2) ON CONFLICT (workspace_id) DO NOTHING",
                       clock, 2, NULL);
    if (rc == AT_OK && parent_billed_id)
        rc = billing_on_subaccount_created(c, parent_billed_id);
    if (rc == AT_OK && own_id) {
        store_arg m[] = {sa_text(own_id)};
        rc = store_exec(c, "UPDATE workspaces SET billing_mode = 'own' WHERE id = $1", m, 1, NULL);
        bsub own;
        if (rc == AT_OK)
            rc = billing_start_subscription(c, own_id, starter, BILLING_MONTH, 3, now, true, &demo, &own);
    }
    if (rc == AT_OK)
        rc = billing_sync(c, root_id);
    return rc;
}
