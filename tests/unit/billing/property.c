/* Billing invariants over random histories (issue 11), on both backends. 200 seeded sequences, each on
 * its own root workspace with a billing test clock: an active monthly subscription, then 6 to 12 random
 * steps among plan, seat and interval changes (every proration mode, half of them priced from a
 * preview's proration_date), usage reports, clock moves (each renewal, trial and ladder event they
 * pass), payments, cancellations and resumes. After each sequence every invoice must satisfy:
 *
 *   subtotal = Σ lines; tax = round_half_away(subtotal × rate_bp / 10000); total = subtotal + tax;
 *   0 ≤ amount_due ≤ max(total, 0); every claimed waiting proration shows on its invoice, once;
 *   a subscription that ended leaves none unbilled;
 *
 * and at the end the invoice numbers are gapless. The domain functions are called directly (the API
 * tests cover the HTTP layer), which keeps 200 sequences within seconds. A failure names the seed. */
#include "billing/billing_impl.h"

#include "base/clock.h"
#include "billing/money.h"
#include "store/testdb.h"

#include <criterion/criterion.h>
#include <stdio.h>
#include <string.h>

#define US        1000000LL
#define DAY_US    (86400LL * US)
#define T0        1893456000LL /* 2030-01-01T00:00:00Z (seconds): after any real clock the tests meet */
#define SEQUENCES 200

/* xorshift64*: small, seeded, the same on every machine. */
static uint64_t rnd_state;
static uint64_t rnd(void)
{
    rnd_state ^= rnd_state >> 12;
    rnd_state ^= rnd_state << 25;
    rnd_state ^= rnd_state >> 27;
    return rnd_state * 2685821657736338717ULL;
}
static int64_t rnd_in(int64_t lo, int64_t hi)
{
    return lo + (int64_t)(rnd() % (uint64_t)(hi - lo + 1));
}

static void exec_ok(store_conn *c, const char *sql, const store_arg *a, size_t n)
{
    int rc = store_exec(c, sql, a, n, NULL);
    cr_assert_eq(rc, AT_OK, "%s: %s", at_status_name(rc), sql);
}

static int64_t q_int(testdb *t, const char *sql, const store_arg *a, size_t n)
{
    store_conn *c = NULL;
    int64_t v = -1;
    cr_assert_eq(store_acquire(t->s, &c), AT_OK);
    int rc = store_query_int(c, sql, a, n, &v);
    store_release(c);
    cr_assert_eq(rc, AT_OK, "%s: %s", at_status_name(rc), sql);
    return v;
}

typedef struct seed_ctx {
    const char *ws;
    const char *plan;
    int64_t seats;
    const char *country;
} seed_ctx;

/* The workspace, its owner, the customer, the clock at T0 and an active monthly subscription. */
static int seed_tx(store_conn *c, void *arg)
{
    seed_ctx *x = arg;
    int64_t now = T0 * US;
    char user[ID_MAX], mem[ID_MAX], email[96], slug[64];
    id_new("usr", user);
    id_new("mem", mem);
    snprintf(email, sizeof(email), "%s@prop.example", x->ws);
    snprintf(slug, sizeof(slug), "p-%s", x->ws + 3);
    store_arg u[] = {sa_text(user), sa_text(email), sa_int(now)};
    exec_ok(
        c,
        "INSERT INTO users (id, email, name, password_hash, created_at, updated_at) VALUES ($1, $2, 'P', 'x', $3, $3)",
        u, 3);
    store_arg w[] = {sa_text(x->ws), sa_text(slug), sa_int(now)};
    exec_ok(c,
            "INSERT INTO workspaces (id, kind, name, slug, created_at, updated_at) VALUES ($1, 'root', 'Prop', $2, $3, "
            "$3)",
            w, 3);
    store_arg m[] = {sa_text(x->ws), sa_text(user), sa_text(mem), sa_int(now)};
    exec_ok(c, "INSERT INTO memberships (workspace_id, user_id, id, role, joined_at) VALUES ($1, $2, $3, 'owner', $4)",
            m, 4);
    store_arg b[] = {sa_text(x->ws), sa_text(x->country), sa_int(now)};
    exec_ok(c,
            "INSERT INTO billing_customers (workspace_id, name, country, provider, trial_used, updated_at) VALUES "
            "($1, 'Prop', $2, 'manual', 1, $3)",
            b, 3);
    exec_ok(c, "INSERT INTO billing_clocks (workspace_id, frozen_time, created_at, updated_at) VALUES ($1, $2, $2, $2)",
            (store_arg[]){sa_text(x->ws), sa_int(now)}, 2);
    const billing_plan *p = billing_plan_find(billing_catalog_get(), x->plan);
    cr_assert_not_null(p);
    return billing_start_subscription(c, x->ws, p, BILLING_MONTH, x->seats, now, false, &billing_system_actor, NULL);
}

static const char *const plans[] = {"starter", "pro", "agency"};
static const char *const countries[] = {"US", "DE", "CA", "GB", "JP"};
static const char *const modes[] = {NULL, "invoice_now", "prorate", "at_renewal"};

/* The live subscription's plan (or "" when none is live). */
static void live_plan(testdb *t, const char *ws, char out[32])
{
    store_conn *c = NULL;
    bsub s;
    out[0] = '\0';
    cr_assert_eq(store_acquire(t->s, &c), AT_OK);
    if (bsub_load(c, ws, false, &s) == AT_OK)
        snprintf(out, 32, "%s", s.plan_id);
    store_release(c);
}

static int64_t clock_now(testdb *t, const char *ws)
{
    store_arg a[] = {sa_text(ws)};
    return q_int(t, "SELECT frozen_time FROM billing_clocks WHERE workspace_id = $1", a, 1);
}

static void step_change(testdb *t, const char *ws)
{
    const billing_plan *p = billing_plan_find(billing_catalog_get(), plans[rnd() % 3]);
    billing_change ch = {0};
    billing_refusal r = {0};
    json_t *out = NULL;
    ch.plan_id = rnd() % 2 ? p->id : NULL;
    ch.quantity = rnd_in(p->min_seats, p->min_seats + 6);
    ch.proration = modes[rnd() % 4];
    ch.interval = rnd() % 8 == 0 ? "year" : NULL;
    if (rnd() % 2) {
        /* Priced from a preview, as the UI does. */
        json_t *pv = NULL;
        if (billing_preview(t->s, ws, &ch, &pv, &r) == AT_OK) {
            const char *pd = json_string_value(json_object_get(pv, "proration_date"));
            cr_assert_not_null(pd);
            cr_assert_eq(clock_parse_rfc3339(pd, strlen(pd), &ch.proration_date), AT_OK);
        }
        json_decref(pv);
    }
    int rc = billing_change_apply(t->s, ws, &ch, &billing_system_actor, &out, &r);
    cr_assert(rc == AT_OK || rc == AT_EINVAL || rc == AT_ECONFLICT, "change: %s (%s %s)", at_status_name(rc), r.field,
              r.code);
    json_decref(out);
}

static void step_usage(testdb *t, const char *ws, int n)
{
    char plan[32];
    live_plan(t, ws, plan);
    const billing_plan *p = plan[0] ? billing_plan_find(billing_catalog_get(), plan) : NULL;
    if (!p || !p->metered_count)
        return;
    const billing_metered *m = &p->metered[rnd() % p->metered_count];
    char id[48];
    snprintf(id, sizeof(id), "ev-%d", n);
    json_t *events = json_pack("[{s:s, s:s, s:I}]", "event_id", id, "metric", m->id, "quantity",
                               (json_int_t)rnd_in(1, m->included + m->included / 2 + 10));
    json_t *out = NULL;
    billing_refusal r = {0};
    int rc = billing_usage_record(t->s, ws, events, "property", &out, &r);
    cr_assert(rc == AT_OK || rc == AT_ECONFLICT || rc == AT_EINVAL, "usage: %s", at_status_name(rc));
    json_decref(out);
    json_decref(events);
}

static void step_clock(testdb *t, const char *ws)
{
    int64_t to = clock_now(t, ws) + rnd_in(1, 40 * 24) * 3600 * US + rnd_in(0, 999999);
    json_t *out = NULL;
    billing_refusal r = {0};
    int rc = billing_clock_advance(t->s, ws, to, &billing_system_actor, &out, &r);
    cr_assert_eq(rc, AT_OK, "advance: %s (%s)", at_status_name(rc), r.message);
    json_decref(out);
}

static void step_pay(testdb *t, const char *ws)
{
    store_conn *c = NULL;
    store_rows *rows = NULL;
    char ids[16][ID_MAX];
    size_t n = 0;
    store_arg a[] = {sa_text(ws)};
    cr_assert_eq(store_acquire(t->s, &c), AT_OK);
    cr_assert_eq(
        store_query(c, "SELECT id FROM invoices WHERE workspace_id = $1 AND status = 'open' ORDER BY id", a, 1, &rows),
        AT_OK);
    while (n < 16 && store_rows_next(rows) == 1)
        snprintf(ids[n++], ID_MAX, "%s", store_rows_text(rows, 0));
    store_rows_free(rows);
    store_release(c);
    for (size_t i = 0; i < n; i++) {
        json_t *out = NULL;
        billing_refusal r = {0};
        int rc = billing_invoice_action(t->s, ws, ids[i], "mark_paid", &billing_system_actor, &out, &r);
        cr_assert(rc == AT_OK || rc == AT_ECONFLICT, "mark_paid: %s", at_status_name(rc));
        json_decref(out);
    }
}

static void step_cancel_or_resume(testdb *t, const char *ws)
{
    json_t *out = NULL;
    billing_refusal r = {0};
    int rc;
    switch (rnd() % 3) {
    case 0:
        rc = billing_cancel(t->s, ws, true, "property", &billing_system_actor, &out, &r);
        break;
    case 1:
        rc = billing_resume(t->s, ws, &billing_system_actor, &out, &r);
        break;
    default:
        rc = billing_cancel(t->s, ws, rnd() % 4 != 0, "property", &billing_system_actor, &out, &r);
        break;
    }
    cr_assert(rc == AT_OK || rc == AT_ECONFLICT || rc == AT_EINVAL, "cancel/resume: %s", at_status_name(rc));
    json_decref(out);
}

/* Every invoice of ws against the invariants; seed names the failing sequence. */
static void check_invoices(testdb *t, const char *ws, uint64_t seed)
{
    store_conn *c = NULL;
    store_rows *r = NULL;
    store_arg a[] = {sa_text(ws)};
    cr_assert_eq(store_acquire(t->s, &c), AT_OK);
    cr_assert_eq(
        store_query(c,
                    "SELECT i.number, i.subtotal, i.tax_rate_bp, i.tax, i.total, i.amount_due, "
                    "COALESCE((SELECT SUM(l.amount) FROM invoice_lines l WHERE l.workspace_id = i.workspace_id "
                    "AND l.invoice_id = i.id), 0) FROM invoices i WHERE i.workspace_id = $1",
                    a, 1, &r),
        AT_OK);
    while (store_rows_next(r) == 1) {
        const char *num = store_rows_text(r, 0);
        int64_t subtotal = store_rows_int(r, 1), bp = store_rows_int(r, 2), tax = store_rows_int(r, 3);
        int64_t total = store_rows_int(r, 4), due = store_rows_int(r, 5), sum = store_rows_int(r, 6);
        cr_expect_eq(subtotal, sum, "seed %llu, %s: subtotal %lld, lines %lld", (unsigned long long)seed, num,
                     (long long)subtotal, (long long)sum);
        cr_expect_eq(tax, money_tax(subtotal, bp), "seed %llu, %s: tax", (unsigned long long)seed, num);
        cr_expect_eq(total, subtotal + tax, "seed %llu, %s: total", (unsigned long long)seed, num);
        cr_expect(due >= 0 && due <= (total > 0 ? total : 0), "seed %llu, %s: amount_due %lld of %lld",
                  (unsigned long long)seed, num, (long long)due, (long long)total);
    }
    store_rows_free(r);
    int64_t bad = -1;
    /* Claimed waiting prorations: each on its invoice as a proration line, as often as claimed. */
    cr_assert_eq(
        store_query_int(c,
                        "SELECT COUNT(*) FROM (SELECT p.invoice_id FROM pending_invoice_items p WHERE "
                        "p.workspace_id = $1 AND p.invoice_id IS NOT NULL GROUP BY p.workspace_id, "
                        "p.invoice_id, p.description, p.amount HAVING COUNT(*) > (SELECT COUNT(*) FROM "
                        "invoice_lines l WHERE l.workspace_id = p.workspace_id AND l.invoice_id = p.invoice_id "
                        "AND l.kind = 'proration' AND l.description = p.description AND l.amount = p.amount)) x",
                        a, 1, &bad),
        AT_OK);
    cr_expect_eq(bad, 0, "seed %llu: claimed waiting prorations missing from their invoice", (unsigned long long)seed);
    cr_assert_eq(
        store_query_int(c,
                        "SELECT COUNT(*) FROM pending_invoice_items p JOIN subscriptions s ON s.workspace_id = "
                        "p.workspace_id AND s.id = p.subscription_id WHERE p.workspace_id = $1 AND "
                        "p.invoice_id IS NULL AND s.status IN ('canceled', 'incomplete_expired')",
                        a, 1, &bad),
        AT_OK);
    cr_expect_eq(bad, 0, "seed %llu: an ended subscription left prorations unbilled", (unsigned long long)seed);
    store_release(c);
}

static void property_run(int kind)
{
    testdb t;
    testdb_open_migrated(&t, kind, 4);
    for (int i = 0; i < SEQUENCES; i++) {
        uint64_t seed = 0x9E3779B97F4A7C15ULL * (uint64_t)(i + 1);
        rnd_state = seed;
        char ws[ID_MAX];
        id_new("ws", ws);
        seed_ctx sx = {ws, plans[rnd() % 3], 0, countries[rnd() % 5]};
        const billing_plan *p = billing_plan_find(billing_catalog_get(), sx.plan);
        sx.seats = rnd_in(p->min_seats, p->min_seats + 4);
        cr_assert_eq(store_tx(t.s, true, seed_tx, &sx), AT_OK, "seed %llu: seeding", (unsigned long long)seed);
        int steps = (int)rnd_in(6, 12);
        for (int k = 0; k < steps; k++) {
            switch (rnd() % 10) {
            case 0:
            case 1:
            case 2:
                step_change(&t, ws);
                break;
            case 3:
            case 4:
                step_usage(&t, ws, k);
                break;
            case 5:
            case 6:
                step_clock(&t, ws);
                break;
            case 7:
            case 8:
                step_pay(&t, ws);
                break;
            default:
                step_cancel_or_resume(&t, ws);
                break;
            }
        }
        check_invoices(&t, ws, seed);
    }
    /* Gapless: the numbers of every invoice are PREFIX-000001 … PREFIX-N, each once. */
    int64_t n = q_int(&t, "SELECT COUNT(*) FROM invoices", NULL, 0);
    int64_t distinct = q_int(&t, "SELECT COUNT(DISTINCT number) FROM invoices", NULL, 0);
    int64_t last = q_int(&t, "SELECT last_number FROM invoice_counters", NULL, 0);
    cr_expect_eq(distinct, n, "numbers are unique");
    cr_expect_eq(last, n, "the counter ends at the number of invoices (%lld of %lld)", (long long)last, (long long)n);
    cr_expect_gt(n, SEQUENCES, "every sequence issued invoices");
    /* The histories reach what the invariants are about: waiting prorations billed, plan segments,
     * previews used, cancellations. */
    int64_t claimed = q_int(&t, "SELECT COUNT(*) FROM pending_invoice_items WHERE invoice_id IS NOT NULL", NULL, 0);
    int64_t segments =
        q_int(&t, "SELECT COUNT(*) FROM subscription_changes WHERE immediate = 1 AND from_plan <> to_plan", NULL, 0);
    int64_t canceled = q_int(&t, "SELECT COUNT(*) FROM subscriptions WHERE status = 'canceled'", NULL, 0);
    cr_log_info("%lld invoices, %lld waiting prorations billed, %lld plan segments, %lld canceled", (long long)n,
                (long long)claimed, (long long)segments, (long long)canceled);
    cr_expect_gt(claimed, 20);
    cr_expect_gt(segments, 20);
    cr_expect_gt(canceled, 5);
    testdb_close(&t);
}

Test(billing_property_sqlite, invariants_over_random_sequences, .timeout = 240)
{
    property_run(STORE_SQLITE);
}

Test(billing_property_pg, invariants_over_random_sequences, .timeout = 240)
{
    property_run(STORE_PG);
}
