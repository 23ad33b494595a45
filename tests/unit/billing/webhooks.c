/* Provider webhooks (src/billing/webhooks.c, reliability.md T9), on both backends: malformed events
 * are refused; a redelivered event has one effect; payment events converge whatever their order
 * (paid is absorbing, success is absorbing per PaymentIntent); the newest payment method wins; and
 * 1,000 random orders of a realistic sequence, duplicates included, end in the in-order state.
 *
 * Each test seeds one root workspace with an owner, a customer known to the provider, an active
 * subscription and its open renewal invoice, with a billing test clock so billing_now is fixed. */
#include "billing/billing_impl.h"

#include "base/err.h"
#include "store/testdb.h"

#include <criterion/criterion.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#define WS     "ws_01HOOKS0000000000000000001"
#define INV    "in_01HOOKS0000000000000000001"
#define SUB    "sub_01HOOKS000000000000000001"
#define CUS    "cus_hooks1"
#define US     1000000LL
#define T0     1772323200LL /* 2026-03-01T00:00:00Z, the billing clock (seconds) */
#define AMOUNT 11700LL      /* 3 Pro seats */

/* ---- Seeding and reading ------------------------------------------------------------------------ */

static void exec_ok(store_conn *c, const char *sql, const store_arg *a, size_t n)
{
    int rc = store_exec(c, sql, a, n, NULL);
    cr_assert_eq(rc, AT_OK, "%s: %s", at_status_name(rc), sql);
}

/* The workspace, its owner and the billing clock: written once per test. */
static void seed_workspace(testdb *t)
{
    store_conn *c = NULL;
    int64_t now = T0 * US;
    cr_assert_eq(store_acquire(t->s, &c), AT_OK);
    store_arg u[] = {sa_int(now)};
    exec_ok(c,
            "INSERT INTO users (id, email, name, password_hash, created_at, updated_at) VALUES "
            "('usr_01HOOKS0000000000000000001', 'olive@example.com', 'Olive Owner', 'x', $1, $1)",
            u, 1);
    exec_ok(c,
            "INSERT INTO workspaces (id, kind, name, slug, created_at, updated_at) VALUES "
            "('" WS "', 'root', 'Hooks Inc', 'hooks-inc', $1, $1)",
            u, 1);
    exec_ok(c,
            "INSERT INTO memberships (workspace_id, user_id, id, role, joined_at) VALUES "
            "('" WS "', 'usr_01HOOKS0000000000000000001', 'mem_01HOOKS0000000000000000001', 'owner', $1)",
            u, 1);
    store_release(c);
}

/* The billing rows (customer, clock, subscription in `status`, its open renewal invoice), written
 * again before every permutation after reset_billing. */
static void seed_billing(testdb *t, const char *status)
{
    store_conn *c = NULL;
    int64_t now = T0 * US, start = now - 31 * 86400 * US;
    cr_assert_eq(store_acquire(t->s, &c), AT_OK);
    store_arg a[] = {sa_int(now)};
    exec_ok(c,
            "INSERT INTO billing_customers (workspace_id, name, email, country, provider, provider_customer_id, "
            "updated_at) VALUES ('" WS "', 'Hooks Inc', 'ap@hooks.example', 'US', 'stripe', '" CUS "', $1)",
            a, 1);
    exec_ok(c,
            "INSERT INTO billing_clocks (workspace_id, frozen_time, created_at, updated_at) VALUES "
            "('" WS "', $1, $1, $1)",
            a, 1);
    store_arg s[] = {sa_text(status), sa_int(start), sa_int(now), sa_int(now + 31 * 86400 * US)};
    exec_ok(c,
            "INSERT INTO subscriptions (workspace_id, id, plan_id, interval, quantity, status, collection, anchor_at, "
            "current_period_start, current_period_end, created_at, updated_at) VALUES ('" WS "', '" SUB "', 'pro', "
            "'month', 3, $1, 'charge_automatically', $2, $3, $4, $2, $2)",
            s, 4);
    store_arg i[] = {sa_int(now), sa_int(AMOUNT)};
    exec_ok(c,
            "INSERT INTO invoices (workspace_id, id, number, subscription_id, status, payment_status, reason, "
            "currency, issuer, customer, subtotal, tax_name, tax_country, tax_rate_bp, tax, total, amount_due, "
            "period_start, period_end, due_at, created_at, finalized_at) VALUES ('" WS "', '" INV "', 'ATR-000001', "
            "'" SUB "', 'open', 'pending', 'subscription_cycle', 'USD', '{}', '{}', $2, 'Sales tax', 'US', 0, 0, $2, "
            "$2, $1, $1, $1, $1, $1)",
            i, 2);
    store_release(c);
}

/* reset_billing removes everything the billing rows and the webhooks wrote, keeping the workspace,
 * its owner and the schema (cheaper than a fresh migrated database per permutation). */
static void reset_billing(testdb *t)
{
    static const char *const sql[] = {
        "DELETE FROM provider_events",
        "DELETE FROM payment_attempts",
        "DELETE FROM dunning_episodes",
        "DELETE FROM pending_invoice_items",
        "DELETE FROM invoice_lines",
        "DELETE FROM invoices",
        "DELETE FROM subscriptions",
        "DELETE FROM billing_clocks",
        "DELETE FROM billing_customers",
        "DELETE FROM mail_outbox",
        "DELETE FROM jobs",
        "DELETE FROM audit_events",
        "UPDATE workspaces SET audit_seq = 0, audit_hash = "
        "'0000000000000000000000000000000000000000000000000000000000000000', billing_paused_at = NULL",
    };
    store_conn *c = NULL;
    cr_assert_eq(store_acquire(t->s, &c), AT_OK);
    cr_assert_eq(store_begin(c, true), AT_OK);
    for (size_t i = 0; i < sizeof(sql) / sizeof(sql[0]); i++)
        exec_ok(c, sql[i], NULL, 0);
    cr_assert_eq(store_commit(c), AT_OK);
    store_release(c);
}

static int64_t q_int(testdb *t, const char *sql)
{
    store_conn *c = NULL;
    int64_t v = -1;
    cr_assert_eq(store_acquire(t->s, &c), AT_OK);
    int rc = store_query_int(c, sql, NULL, 0, &v);
    store_release(c);
    cr_assert_eq(rc, AT_OK, "%s: %s", at_status_name(rc), sql);
    return v;
}

/* q_text writes the first column of the first row (NULL as "(null)"; several rows joined by '|'). */
static void q_text(testdb *t, const char *sql, char *out, size_t cap)
{
    store_conn *c = NULL;
    store_rows *r = NULL;
    out[0] = '\0';
    cr_assert_eq(store_acquire(t->s, &c), AT_OK);
    cr_assert_eq(store_query(c, sql, NULL, 0, &r), AT_OK, "%s", sql);
    int rc;
    while ((rc = store_rows_next(r)) == 1) {
        const char *v = store_rows_text(r, 0);
        size_t n = strlen(out);
        snprintf(out + n, cap - n, "%s%s", n ? "|" : "", v ? v : "(null)");
    }
    cr_assert_eq(rc, 0);
    store_rows_free(r);
    store_release(c);
}

#define TEXT(t, sql, buf) q_text((t), (sql), (buf), sizeof(buf))

/* ---- Events -------------------------------------------------------------------------------------- */

/* An event body: the envelope around data.object (a JSON object text). */
static char *event(char *out, size_t cap, const char *id, const char *type, long long created, const char *object)
{
    snprintf(out, cap,
             "{\"id\":\"%s\",\"object\":\"event\",\"api_version\":\"2024-06-20\",\"type\":\"%s\","
             "\"created\":%lld,\"livemode\":false,\"data\":{\"object\":%s}}",
             id, type, created, object);
    return out;
}

/* checkout.session.completed in setup mode with an expanded SetupIntent and card. */
static char *ev_checkout(char *out, size_t cap, const char *id, long long created, const char *ws, const char *pm,
                         const char *brand, const char *last4)
{
    char obj[1024];
    snprintf(obj, sizeof obj,
             "{\"id\":\"cs_%s\",\"object\":\"checkout.session\",\"mode\":\"setup\",\"status\":\"complete\","
             "\"client_reference_id\":\"%s\",\"customer\":\"" CUS "\",\"metadata\":{\"workspace_id\":\"%s\"},"
             "\"setup_intent\":{\"id\":\"seti_%s\",\"object\":\"setup_intent\",\"status\":\"succeeded\","
             "\"payment_method\":{\"id\":\"%s\",\"object\":\"payment_method\",\"type\":\"card\","
             "\"card\":{\"brand\":\"%s\",\"last4\":\"%s\",\"exp_month\":12,\"exp_year\":2030}}}}",
             id, ws, ws, id, pm, brand, last4);
    return event(out, cap, id, "checkout.session.completed", created, obj);
}

static char *ev_customer(char *out, size_t cap, const char *id, long long created, const char *pm)
{
    char obj[512];
    snprintf(obj, sizeof obj,
             "{\"id\":\"" CUS "\",\"object\":\"customer\",\"email\":\"ap@hooks.example\","
             "\"metadata\":{\"workspace_id\":\"" WS "\"},\"invoice_settings\":{\"default_payment_method\":\"%s\"}}",
             pm);
    return event(out, cap, id, "customer.updated", created, obj);
}

/* payment_intent.succeeded (decline NULL) or payment_intent.payment_failed. */
static char *ev_pi(char *out, size_t cap, const char *id, long long created, const char *pi, const char *decline)
{
    char obj[768], err[256] = "null";
    if (decline)
        snprintf(err, sizeof err,
                 "{\"type\":\"card_error\",\"code\":\"card_declined\",\"decline_code\":\"%s\","
                 "\"message\":\"Your card was declined.\"}",
                 decline);
    snprintf(obj, sizeof obj,
             "{\"id\":\"%s\",\"object\":\"payment_intent\",\"amount\":%lld,\"currency\":\"usd\",\"customer\":\"" CUS
             "\",\"status\":\"%s\",\"metadata\":{\"invoice_id\":\"" INV "\"},\"last_payment_error\":%s}",
             pi, AMOUNT, decline ? "requires_payment_method" : "succeeded", err);
    return event(out, cap, id, decline ? "payment_intent.payment_failed" : "payment_intent.succeeded", created, obj);
}

static int deliver(testdb *t, const char *body)
{
    return billing_webhook(t->s, "stripe", body, strlen(body));
}

static void deliver_ok(testdb *t, const char *body)
{
    int rc = deliver(t, body);
    cr_assert_eq(rc, AT_OK, "%s for %.80s", at_status_name(rc), body);
}

/* ---- Malformed events ---------------------------------------------------------------------------- */

STORE_TEST_MIGRATED(billing_webhooks, malformed_is_einval, 1)
{
    seed_workspace(t);
    seed_billing(t, "active");
    static const char *const bad[] = {
        "",
        "not json",
        "[]",
        "\"evt_1\"",
        "{}",
        "{\"id\":\"evt_1\",\"type\":\"customer.updated\",\"created\":1}",
        "{\"id\":7,\"type\":\"customer.updated\",\"created\":1,\"data\":{\"object\":{}}}",
        "{\"id\":\"\",\"type\":\"customer.updated\",\"created\":1,\"data\":{\"object\":{}}}",
        "{\"id\":\"evt_1\",\"type\":null,\"created\":1,\"data\":{\"object\":{}}}",
        "{\"id\":\"evt_1\",\"type\":\"customer.updated\",\"created\":\"1\",\"data\":{\"object\":{}}}",
        "{\"id\":\"evt_1\",\"type\":\"customer.updated\",\"created\":1.5,\"data\":{\"object\":{}}}",
        "{\"id\":\"evt_1\",\"type\":\"customer.updated\",\"created\":-1,\"data\":{\"object\":{}}}",
        "{\"id\":\"evt_1\",\"type\":\"customer.updated\",\"created\":1,\"data\":{}}",
        "{\"id\":\"evt_1\",\"type\":\"customer.updated\",\"created\":1,\"data\":[]}",
        "{\"id\":\"evt_1\",\"type\":\"customer.updated\",\"created\":1,\"data\":{\"object\":\"cus_1\"}}",
        "{\"id\":\"evt_1\",\"type\":\"customer.updated\",\"created\":1,\"data\":{\"object\":null}}",
        "{\"id\":\"evt_1\",\"id\":\"evt_2\",\"type\":\"customer.updated\",\"created\":1,\"data\":{\"object\":{}}}",
        "{\"id\":\"evt_1\",\"type\":\"customer.updated\",\"created\":1,\"data\":{\"object\":{}}} trailing",
    };
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
        cr_expect_eq(deliver(t, bad[i]), AT_EINVAL, "accepted: %s", bad[i]);
    /* A NUL inside the id, and a body cut short. */
    static const char nul[] = "{\"id\":\"evt\\u0000x\",\"type\":\"a\",\"created\":1,\"data\":{\"object\":{}}}";
    cr_expect_eq(deliver(t, nul), AT_EINVAL);
    char body[2048];
    ev_pi(body, sizeof body, "evt_cut", T0, "pi_cut", NULL);
    cr_expect_eq(billing_webhook(t->s, "stripe", body, strlen(body) - 1), AT_EINVAL);
    cr_expect_eq(billing_webhook(t->s, "", body, strlen(body)), AT_EINVAL);
    cr_expect_eq(q_int(t, "SELECT COUNT(*) FROM provider_events"), 0);
    cr_expect_eq(q_int(t, "SELECT COUNT(*) FROM payment_attempts"), 0);

    /* A well-formed event of a type we do not act on, or about objects we do not know: recorded,
     * ignored. */
    deliver_ok(t, event(body, sizeof body, "evt_other", "invoice.created", T0, "{\"id\":\"in_stripe\"}"));
    deliver_ok(t, event(body, sizeof body, "evt_noinv", "payment_intent.succeeded", T0,
                        "{\"id\":\"pi_x\",\"amount\":1,\"metadata\":{\"invoice_id\":\"in_nobody\"}}"));
    deliver_ok(t, event(body, sizeof body, "evt_nometa", "payment_intent.succeeded", T0, "{\"id\":\"pi_y\"}"));
    deliver_ok(t, ev_checkout(body, sizeof body, "evt_nows", T0, "ws_nobody", "pm_x", "visa", "4242"));
    deliver_ok(t, event(body, sizeof body, "evt_pma", "payment_method.attached", T0,
                        "{\"id\":\"pm_x\",\"object\":\"payment_method\",\"customer\":\"" CUS "\"}"));
    cr_expect_eq(q_int(t, "SELECT COUNT(*) FROM provider_events"), 5);
    char ws[128];
    TEXT(t, "SELECT workspace_id FROM provider_events WHERE event_id = 'evt_pma'", ws);
    cr_expect_str_eq(ws, WS);
    TEXT(t, "SELECT workspace_id FROM provider_events WHERE event_id = 'evt_nows'", ws);
    cr_expect_str_eq(ws, "(null)");
    cr_expect_eq(q_int(t, "SELECT COUNT(*) FROM payment_attempts"), 0);
    char st[64];
    TEXT(t, "SELECT status || ':' || payment_status FROM invoices", st);
    cr_expect_str_eq(st, "open:pending");
    TEXT(t, "SELECT payment_method FROM billing_customers", st);
    cr_expect_str_eq(st, "");
}

/* ---- Duplicates -------------------------------------------------------------------------------- */

STORE_TEST_MIGRATED(billing_webhooks, duplicate_twenty_times_one_effect, 1)
{
    seed_workspace(t);
    seed_billing(t, "active");
    char body[2048];

    ev_pi(body, sizeof body, "evt_fail_1", T0 + 10, "pi_1", "insufficient_funds");
    for (int i = 0; i < 20; i++)
        deliver_ok(t, body);
    cr_expect_eq(q_int(t, "SELECT COUNT(*) FROM payment_attempts"), 1);
    cr_expect_eq(q_int(t, "SELECT attempt_count FROM invoices"), 1);
    cr_expect_eq(q_int(t, "SELECT COUNT(*) FROM audit_events WHERE action = 'billing.invoice.payment_failed'"), 1);
    char s[160];
    TEXT(t, "SELECT outcome || ':' || decline_code || ':' || amount FROM payment_attempts", s);
    cr_expect_str_eq(s, "failed:insufficient_funds:11700");
    int64_t audits = q_int(t, "SELECT COUNT(*) FROM audit_events");

    ev_pi(body, sizeof body, "evt_ok_1", T0 + 20, "pi_2", NULL);
    deliver_ok(t, body);
    int64_t after_one = q_int(t, "SELECT COUNT(*) FROM audit_events");
    cr_expect_gt(after_one, audits);
    for (int i = 0; i < 19; i++)
        deliver_ok(t, body);
    cr_expect_eq(q_int(t, "SELECT COUNT(*) FROM audit_events"), after_one);
    cr_expect_eq(q_int(t, "SELECT COUNT(*) FROM audit_events WHERE action = 'billing.invoice.paid'"), 1);
    cr_expect_eq(q_int(t, "SELECT COUNT(*) FROM payment_attempts"), 2);
    cr_expect_eq(q_int(t, "SELECT COUNT(*) FROM payment_attempts WHERE provider_ref = 'pi_2' AND "
                          "outcome = 'succeeded'"),
                 1);
    cr_expect_eq(q_int(t, "SELECT COUNT(*) FROM provider_events"), 2);
    TEXT(t, "SELECT status || ':' || payment_status || ':' || amount_paid FROM invoices", s);
    cr_expect_str_eq(s, "paid:succeeded:11700");
    TEXT(t, "SELECT status FROM subscriptions", s);
    cr_expect_str_eq(s, "active");

    /* The same PaymentIntent's failure under another event id counts once too. */
    ev_pi(body, sizeof body, "evt_fail_1b", T0 + 11, "pi_1", "insufficient_funds");
    deliver_ok(t, body);
    cr_expect_eq(q_int(t, "SELECT COUNT(*) FROM payment_attempts"), 2);
    cr_expect_eq(q_int(t, "SELECT COUNT(*) FROM audit_events"), after_one);
}

/* Four connections deliver the same event at once: the dedupe row and the effect commit together,
 * so exactly one of them applies it. */
typedef struct racer {
    testdb *t;
    const char *body;
    int failures;
} racer;

static void *race(void *arg)
{
    racer *r = arg;
    for (int i = 0; i < 5; i++)
        if (deliver(r->t, r->body) != AT_OK)
            r->failures++;
    return NULL;
}

STORE_TEST_MIGRATED(billing_webhooks, concurrent_duplicates_one_effect, 1)
{
    seed_workspace(t);
    seed_billing(t, "active");
    char body[2048];
    ev_pi(body, sizeof body, "evt_race", T0 + 10, "pi_race", NULL);
    racer r[4];
    pthread_t th[4];
    for (int i = 0; i < 4; i++) {
        r[i] = (racer){t, body, 0};
        cr_assert_eq(pthread_create(&th[i], NULL, race, &r[i]), 0);
    }
    for (int i = 0; i < 4; i++) {
        pthread_join(th[i], NULL);
        cr_expect_eq(r[i].failures, 0);
    }
    cr_expect_eq(q_int(t, "SELECT COUNT(*) FROM provider_events"), 1);
    cr_expect_eq(q_int(t, "SELECT COUNT(*) FROM payment_attempts"), 1);
    cr_expect_eq(q_int(t, "SELECT COUNT(*) FROM audit_events WHERE action = 'billing.invoice.paid'"), 1);
}

/* ---- Order of payment events ------------------------------------------------------------------- */

/* The final (subscription status, invoice status, payment status) after delivering bodies in order. */
static void final_state(testdb *t, char out[256])
{
    char sub[64], inv[64];
    TEXT(t, "SELECT status FROM subscriptions", sub);
    TEXT(t, "SELECT status || ':' || payment_status FROM invoices", inv);
    snprintf(out, 256, "%s/%s", sub, inv);
}

STORE_TEST_MIGRATED(billing_webhooks, failed_and_succeeded_any_order, 1)
{
    seed_workspace(t);
    char fail[2048], ok[2048], a[256], b[256];
    ev_pi(fail, sizeof fail, "evt_f", T0 + 10, "pi_1", "card_declined");
    ev_pi(ok, sizeof ok, "evt_s", T0 + 20, "pi_2", NULL);

    seed_billing(t, "active");
    deliver_ok(t, fail);
    deliver_ok(t, ok);
    final_state(t, a);

    reset_billing(t);
    seed_billing(t, "active");
    deliver_ok(t, ok);
    deliver_ok(t, fail);
    final_state(t, b);
    cr_expect_str_eq(a, "active/paid:succeeded");
    cr_expect_str_eq(a, b);
    /* The late failure is still a fact of its own PaymentIntent. */
    cr_expect_eq(q_int(t, "SELECT COUNT(*) FROM payment_attempts WHERE provider_ref = 'pi_1' AND outcome = 'failed'"),
                 1);

    /* A first invoice of an incomplete subscription converges the same way. */
    reset_billing(t);
    seed_billing(t, "incomplete");
    deliver_ok(t, fail);
    deliver_ok(t, ok);
    final_state(t, a);
    reset_billing(t);
    seed_billing(t, "incomplete");
    deliver_ok(t, ok);
    deliver_ok(t, fail);
    final_state(t, b);
    cr_expect_str_eq(a, "active/paid:succeeded");
    cr_expect_str_eq(a, b);

    /* One PaymentIntent, success first: its late failure never downgrades the fact. */
    reset_billing(t);
    seed_billing(t, "active");
    char same_fail[2048];
    ev_pi(same_fail, sizeof same_fail, "evt_f2", T0 + 5, "pi_2", "card_declined");
    deliver_ok(t, ok);
    deliver_ok(t, same_fail);
    char s[128];
    TEXT(t, "SELECT outcome || ':' || decline_code FROM payment_attempts", s);
    cr_expect_str_eq(s, "succeeded:");
    final_state(t, a);
    cr_expect_str_eq(a, "active/paid:succeeded");
    cr_expect_eq(q_int(t, "SELECT attempt_count FROM invoices"), 0);

    /* Failure first, then success of the same PaymentIntent: the fact moves up to succeeded. */
    reset_billing(t);
    seed_billing(t, "active");
    deliver_ok(t, same_fail);
    deliver_ok(t, ok);
    TEXT(t, "SELECT outcome || ':' || decline_code FROM payment_attempts", s);
    cr_expect_str_eq(s, "succeeded:");
    final_state(t, b);
    cr_expect_str_eq(b, a);
}

STORE_TEST_MIGRATED(billing_webhooks, short_payment_does_not_settle, 1)
{
    seed_workspace(t);
    seed_billing(t, "active");
    char body[2048];
    event(body, sizeof body, "evt_short", "payment_intent.succeeded", T0,
          "{\"id\":\"pi_short\",\"amount\":100,\"currency\":\"usd\",\"metadata\":{\"invoice_id\":\"" INV "\"}}");
    deliver_ok(t, body);
    char s[64];
    TEXT(t, "SELECT status FROM invoices", s);
    cr_expect_str_eq(s, "open");
    cr_expect_eq(q_int(t, "SELECT COUNT(*) FROM payment_attempts WHERE outcome = 'succeeded'"), 1);
    event(body, sizeof body, "evt_eur", "payment_intent.succeeded", T0,
          "{\"id\":\"pi_eur\",\"amount\":11700,\"currency\":\"eur\",\"metadata\":{\"invoice_id\":\"" INV "\"}}");
    deliver_ok(t, body);
    TEXT(t, "SELECT status FROM invoices", s);
    cr_expect_str_eq(s, "open");
}

/* ---- Payment methods ---------------------------------------------------------------------------- */

STORE_TEST_MIGRATED(billing_webhooks, late_older_checkout_keeps_newer_card, 1)
{
    seed_workspace(t);
    seed_billing(t, "active");
    char body[2048], s[256];

    /* The newer card arrives first (customer.updated, portal change), the older checkout later. */
    deliver_ok(t, ev_customer(body, sizeof body, "evt_cu", T0 + 100, "pm_new"));
    deliver_ok(t, ev_checkout(body, sizeof body, "evt_co", T0 + 50, WS, "pm_old", "visa", "4242"));
    TEXT(t, "SELECT provider || ':' || provider_customer_id || ':' || payment_method FROM billing_customers", s);
    cr_expect_str_eq(s, "stripe:" CUS ":pm_new");
    cr_expect_eq(q_int(t, "SELECT payment_method_seen_at FROM billing_customers"), (T0 + 100) * US);

    /* A checkout for the current card fills in its label even when it is older. */
    deliver_ok(t, ev_checkout(body, sizeof body, "evt_co2", T0 + 60, WS, "pm_new", "mastercard", "5555"));
    TEXT(t, "SELECT payment_method || ' ' || payment_method_label FROM billing_customers", s);
    cr_expect_str_eq(s, "pm_new Mastercard \xe2\x80\xa2\xe2\x80\xa2\xe2\x80\xa2\xe2\x80\xa2 5555");

    /* A newer checkout replaces it, with its label; a newer customer.updated naming the same card keeps
     * the label. */
    deliver_ok(t, ev_checkout(body, sizeof body, "evt_co3", T0 + 200, WS, "pm_newest", "visa", "4242"));
    deliver_ok(t, ev_customer(body, sizeof body, "evt_cu2", T0 + 300, "pm_newest"));
    TEXT(t, "SELECT payment_method || ' ' || payment_method_label FROM billing_customers", s);
    cr_expect_str_eq(s, "pm_newest Visa \xe2\x80\xa2\xe2\x80\xa2\xe2\x80\xa2\xe2\x80\xa2 4242");
    cr_expect_eq(q_int(t, "SELECT COUNT(*) FROM audit_events WHERE action = 'billing.payment_method.updated'"), 3);

    /* The same second: the greater method id wins whichever arrives first. */
    deliver_ok(t, ev_customer(body, sizeof body, "evt_tie_b", T0 + 400, "pm_b"));
    deliver_ok(t, ev_customer(body, sizeof body, "evt_tie_a", T0 + 400, "pm_a"));
    TEXT(t, "SELECT payment_method FROM billing_customers", s);
    cr_expect_str_eq(s, "pm_b");

    /* An event about another provider customer leaves ours alone. */
    deliver_ok(t, event(body, sizeof body, "evt_other_cus", "customer.updated", T0 + 500,
                        "{\"id\":\"cus_other\",\"metadata\":{\"workspace_id\":\"" WS "\"},"
                        "\"invoice_settings\":{\"default_payment_method\":\"pm_evil\"}}"));
    TEXT(t, "SELECT payment_method FROM billing_customers", s);
    cr_expect_str_eq(s, "pm_b");
}

STORE_TEST_MIGRATED(billing_webhooks, checkout_restarts_collection, 1)
{
    seed_workspace(t);
    char body[2048];

    /* An unpaid invoice: one billing.collect job, whose dedupe key makes a redelivery harmless. */
    seed_billing(t, "past_due");
    deliver_ok(t, ev_checkout(body, sizeof body, "evt_co", T0 + 10, WS, "pm_1", "visa", "4242"));
    deliver_ok(t, ev_customer(body, sizeof body, "evt_cu", T0 + 10, "pm_1"));
    cr_expect_eq(q_int(t, "SELECT COUNT(*) FROM jobs WHERE kind = 'billing.collect'"), 1);
    char s[256];
    TEXT(t, "SELECT dedupe_key FROM jobs WHERE kind = 'billing.collect'", s);
    cr_expect_str_eq(s, "billing.collect:" INV ":1");

    /* A paused subscription waits for the customer to resume it. */
    reset_billing(t);
    seed_billing(t, "paused");
    deliver_ok(t, ev_checkout(body, sizeof body, "evt_co", T0 + 10, WS, "pm_1", "visa", "4242"));
    cr_expect_eq(q_int(t, "SELECT COUNT(*) FROM jobs WHERE kind = 'billing.collect'"), 0);
    TEXT(t, "SELECT payment_method FROM billing_customers", s);
    cr_expect_str_eq(s, "pm_1");

    /* A workspace without a customer row gets one. */
    reset_billing(t);
    deliver_ok(t, ev_checkout(body, sizeof body, "evt_co", T0 + 10, WS, "pm_2", "amex", "0005"));
    TEXT(t, "SELECT provider || ':' || provider_customer_id || ':' || payment_method FROM billing_customers", s);
    cr_expect_str_eq(s, "stripe:" CUS ":pm_2");
}

/* ---- Convergence: 1,000 orders ----------------------------------------------------------------- */

/* xorshift64*: a fixed seed, so a failure names a permutation that can be replayed. */
static uint64_t rng_next(uint64_t *s)
{
    *s ^= *s >> 12;
    *s ^= *s << 25;
    *s ^= *s >> 27;
    return *s * 0x2545F4914F6CDD1DULL;
}

/* Everything the order must not change. */
static void converged_state(testdb *t, char *out, size_t cap)
{
    char sub[64], inv[64], pm[128], pays[256], events[32];
    TEXT(t, "SELECT status FROM subscriptions", sub);
    TEXT(t, "SELECT status || ':' || payment_status FROM invoices", inv);
    TEXT(t, "SELECT payment_method || ':' || payment_method_label FROM billing_customers", pm);
    TEXT(t, "SELECT provider_ref || '=' || outcome FROM payment_attempts ORDER BY provider_ref", pays);
    snprintf(events, sizeof events, "%lld", (long long)q_int(t, "SELECT COUNT(*) FROM provider_events"));
    snprintf(out, cap, "sub=%s inv=%s pm=%s pays=%s events=%s", sub, inv, pm, pays, events);
}

#define N_EVENTS       11
#define N_PERMUTATIONS 1000

STORE_TEST_MIGRATED(billing_webhooks, thousand_orders_converge, 1)
{
    static char bodies[N_EVENTS][2048];
    seed_workspace(t);
    ev_checkout(bodies[0], sizeof bodies[0], "evt_co", T0 + 10, WS, "pm_A", "visa", "4242");
    event(bodies[1], sizeof bodies[1], "evt_pma", "payment_method.attached", T0 + 10,
          "{\"id\":\"pm_A\",\"object\":\"payment_method\",\"customer\":\"" CUS "\"}");
    ev_pi(bodies[2], sizeof bodies[2], "evt_f1", T0 + 20, "pi_1", "card_declined");
    ev_pi(bodies[3], sizeof bodies[3], "evt_f2", T0 + 30, "pi_2", "insufficient_funds");
    ev_customer(bodies[4], sizeof bodies[4], "evt_cu", T0 + 40, "pm_B");
    ev_pi(bodies[5], sizeof bodies[5], "evt_s3", T0 + 50, "pi_3", NULL);
    /* Redeliveries. */
    memcpy(bodies[6], bodies[0], sizeof bodies[0]);
    memcpy(bodies[7], bodies[2], sizeof bodies[0]);
    memcpy(bodies[8], bodies[4], sizeof bodies[0]);
    memcpy(bodies[9], bodies[5], sizeof bodies[0]);
    memcpy(bodies[10], bodies[5], sizeof bodies[0]);

    char want[1024], got[1024];
    seed_billing(t, "active");
    for (int i = 0; i < N_EVENTS; i++)
        deliver_ok(t, bodies[i]);
    converged_state(t, want, sizeof want);
    cr_assert_str_eq(want, "sub=active inv=paid:succeeded pm=pm_B: pays=pi_1=failed|pi_2=failed|pi_3=succeeded "
                           "events=6");

    uint64_t seed = 0x9E3779B97F4A7C15ULL;
    int order[N_EVENTS];
    for (int p = 0; p < N_PERMUTATIONS; p++) {
        for (int i = 0; i < N_EVENTS; i++)
            order[i] = i;
        for (int i = N_EVENTS - 1; i > 0; i--) {
            int j = (int)(rng_next(&seed) % (uint64_t)(i + 1));
            int tmp = order[i];
            order[i] = order[j];
            order[j] = tmp;
        }
        reset_billing(t);
        seed_billing(t, "active");
        for (int i = 0; i < N_EVENTS; i++)
            deliver_ok(t, bodies[order[i]]);
        converged_state(t, got, sizeof got);
        if (strcmp(got, want) != 0) {
            char seq[128] = "";
            for (int i = 0; i < N_EVENTS; i++)
                snprintf(seq + strlen(seq), sizeof seq - strlen(seq), "%d ", order[i]);
            cr_assert_fail("permutation %d (%s) ended in\n  %s\nnot\n  %s", p, seq, got, want);
        }
    }
}
