/* Provider webhooks (issue 7 §6, reliability.md T9): one verified Stripe-compatible event applied to
 * billing state, exactly once, whatever the order of arrival.
 *
 * Exactly once: the event's id goes into provider_events in the same write transaction as its
 * effect, so a redelivery finds the row and changes nothing, and a failed effect leaves no row behind
 * (the provider retries it).
 *
 * Any order: the provider does not promise one, so every effect converges.
 *   - The saved payment method follows the newest event (event.created, kept in
 *     billing_customers.payment_method_seen_at); an older event arriving late never overwrites a
 *     newer card. Equal times are broken by the method's id, so two orders still agree.
 *   - A payment fact is recorded once per PaymentIntent (payment_attempts by provider_ref), and a
 *     success is absorbing: a late failure of the same PaymentIntent never downgrades it.
 *   - A paid invoice is absorbing too: binv_paid and binv_payment_failed do nothing to an invoice
 *     that is no longer open.
 *
 * Payloads may carry personal data: nothing here logs them, only the event's id and type (debug). */
#include "billing/billing_impl.h"

#include "base/clock.h"
#include "base/err.h"
#include "base/log.h"

#include <stdbool.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

/* The longest id or type string we take from an event; Stripe's are far shorter. */
#define BHOOK_MAX_STR 255
/* event.created is Unix seconds; beyond year 9999 it is not a time. */
#define BHOOK_MAX_CREATED INT64_C(253402300799)

/* One parsed event. Strings and obj are borrowed from the parsed document. */
typedef struct bhook_event {
    const char *provider;
    const char *id;
    const char *type;
    int64_t created_us; /* event.created in microseconds */
    json_t *obj;        /* data.object */
} bhook_event;

/* What an event is about, found before its dedupe row is written (the row names the workspace). */
typedef struct bhook_target {
    char ws[ID_MAX];      /* the billed workspace; "" when the event names none we know */
    char invoice[ID_MAX]; /* payment events: our invoice */
    int64_t amount_due;   /* payment events: what the invoice still asks for */
    char currency[8];     /* payment events: the invoice's currency */
    const char *customer; /* the provider's customer id, or NULL */
    const char *pm;       /* payment-method events: the provider's payment method id, or NULL */
    char label[64];       /* "Visa •••• 4242" when the event carries the card, else "" */
} bhook_target;

typedef int (*bhook_resolve_fn)(store_conn *c, const bhook_event *ev, bhook_target *t);
typedef int (*bhook_apply_fn)(store_conn *c, const bhook_event *ev, const bhook_target *t);

typedef struct bhook_ctx {
    const bhook_event *ev;
    const char *result; /* for the debug line: "applied", "duplicate" or "ignored" */
} bhook_ctx;

static int bhook_parse(const char *provider, json_t *root, bhook_event *ev);
static int bhook_tx(store_conn *c, void *arg);
static const char *bhook_str(const json_t *o, const char *key);
static const char *bhook_ref(const json_t *v);
static void bhook_card_label(const json_t *card, char out[64]);
static int bhook_workspace(store_conn *c, const char *hint, char out[ID_MAX]);
static int bhook_find_customer(store_conn *c, const char *ws_hint, const char *ws_hint2, const char *customer,
                               bhook_target *t);
static int bhook_resolve_checkout(store_conn *c, const bhook_event *ev, bhook_target *t);
static int bhook_resolve_customer(store_conn *c, const bhook_event *ev, bhook_target *t);
static int bhook_resolve_invoice(store_conn *c, const bhook_event *ev, bhook_target *t);
static int bhook_resolve_pm(store_conn *c, const bhook_event *ev, bhook_target *t);
static int bhook_apply_payment_method(store_conn *c, const bhook_event *ev, const bhook_target *t);
static int bhook_audit_method(store_conn *c, const char *ws, const char *was, const char *is);
static int bhook_collect_open(store_conn *c, const char *ws);
static int bhook_apply_payment(store_conn *c, const bhook_event *ev, const bhook_target *t);

static const audit_actor bhook_actor = {"system", NULL, "Stripe webhook", NULL, NULL, NULL};

/* The events we act on. Any other type is recorded (so its redelivery is recognised) and ignored. */
static const struct {
    const char *type;
    bhook_resolve_fn resolve; /* finds the target; NULL: none */
    bhook_apply_fn apply;     /* the effect; NULL: record only */
} bhook_types[] = {
    {"checkout.session.completed", bhook_resolve_checkout, bhook_apply_payment_method},
    {"customer.updated", bhook_resolve_customer, bhook_apply_payment_method},
    {"payment_intent.succeeded", bhook_resolve_invoice, bhook_apply_payment},
    {"payment_intent.payment_failed", bhook_resolve_invoice, bhook_apply_payment},
    /* customer.updated carries the new default; the attachment alone changes nothing. */
    {"payment_method.attached", bhook_resolve_pm, NULL},
};

/* ---- Entry point -------------------------------------------------------------------------------- */

/* billing_webhook applies one event whose signature the caller verified. provider names the sender
 * ("stripe"); body is the raw JSON (len bytes, borrowed). Returns AT_OK when the event was applied,
 * recognised as a duplicate or ignored (unknown type or object), AT_EINVAL when the body is not an
 * event, AT_EINTERNAL when the effect refused it, or a store error; on any error nothing was
 * written, so the provider's retry applies it later. */
int billing_webhook(store *s, const char *provider, const char *body, size_t len)
{
    json_error_t jerr;
    bhook_event ev;
    bhook_ctx x = {&ev, "applied"};
    if (!provider || !provider[0] || !body)
        return AT_EINVAL;
    json_t *root = json_loadb(body, len, JSON_REJECT_DUPLICATES, &jerr);
    int rc = bhook_parse(provider, root, &ev);
    if (rc == AT_OK) {
        rc = store_tx(s, true, bhook_tx, &x);
        /* The envelope was valid: a refusal from inside the effect is ours, not the sender's, and
         * the provider must retry rather than drop the event. */
        if (rc == AT_EINVAL)
            rc = AT_EINTERNAL;
        if (rc != AT_OK)
            log_event(LOG_WARN, "billing webhook not applied",
                      json_pack("{s:s, s:s, s:s, s:s}", "provider", provider, "event_id", ev.id, "type", ev.type,
                                "status", at_status_name(rc)));
        else if (log_enabled(LOG_DEBUG))
            log_event(LOG_DEBUG, "billing webhook",
                      json_pack("{s:s, s:s, s:s, s:s}", "provider", provider, "event_id", ev.id, "type", ev.type,
                                "result", x.result));
    }
    json_decref(root);
    return rc;
}

/* bhook_parse checks the envelope every event must have: an object with a string id and type, an
 * integer created and an object data.object. Fills ev with borrowed pointers into root (which may be
 * NULL: the body was not JSON). Returns AT_OK or AT_EINVAL. */
static int bhook_parse(const char *provider, json_t *root, bhook_event *ev)
{
    memset(ev, 0, sizeof(*ev));
    if (!json_is_object(root))
        return AT_EINVAL;
    json_t *created = json_object_get(root, "created"), *data = json_object_get(root, "data");
    ev->provider = provider;
    ev->id = bhook_str(root, "id");
    ev->type = bhook_str(root, "type");
    ev->obj = json_is_object(data) ? json_object_get(data, "object") : NULL;
    if (!ev->id || !ev->type || !json_is_integer(created) || !json_is_object(ev->obj))
        return AT_EINVAL;
    json_int_t t = json_integer_value(created);
    if (t < 0 || t > BHOOK_MAX_CREATED)
        return AT_EINVAL;
    ev->created_us = (int64_t)t * US_PER_S;
    return AT_OK;
}

/* bhook_tx is the one transaction of an event: find its target, write its dedupe row, and apply it
 * when the row is new. Runs again from the start when store_tx retries. */
static int bhook_tx(store_conn *c, void *arg)
{
    bhook_ctx *x = arg;
    const bhook_event *ev = x->ev;
    bhook_resolve_fn resolve = NULL;
    bhook_apply_fn apply = NULL;
    bhook_target t;
    int64_t inserted = 0;
    int rc;

    memset(&t, 0, sizeof(t));
    for (size_t i = 0; i < sizeof(bhook_types) / sizeof(bhook_types[0]); i++)
        if (strcmp(bhook_types[i].type, ev->type) == 0) {
            resolve = bhook_types[i].resolve;
            apply = bhook_types[i].apply;
            break;
        }
    if (resolve && (rc = resolve(c, ev, &t)) != AT_OK)
        return rc;

    store_arg a[] = {sa_text(ev->provider), sa_text(ev->id), sa_text(ev->type), t.ws[0] ? sa_text(t.ws) : sa_null(),
                     sa_int(clock_now_us())};
    rc = store_exec(c,
                    "INSERT INTO provider_events (provider, event_id, type, workspace_id, received_at) "
                    "VALUES ($1, $2, $3, $4, $5) ON CONFLICT (provider, event_id) DO NOTHING",
                    a, 5, &inserted);
    if (rc != AT_OK)
        return rc;
    if (!inserted) {
        x->result = "duplicate";
        return AT_OK;
    }
    if (!apply || !t.ws[0]) {
        x->result = "ignored";
        return AT_OK;
    }
    x->result = "applied";
    return apply(c, ev, &t);
}

/* ---- Reading the payload ------------------------------------------------------------------------ */

/* bhook_str returns o[key] when it is a string of 1..BHOOK_MAX_STR bytes without NUL, else NULL. */
static const char *bhook_str(const json_t *o, const char *key)
{
    const json_t *v = json_is_object(o) ? json_object_get(o, key) : NULL;
    if (!json_is_string(v))
        return NULL;
    const char *s = json_string_value(v);
    size_t n = json_string_length(v);
    return n && n <= BHOOK_MAX_STR && strlen(s) == n ? s : NULL;
}

/* bhook_ref returns the id of a reference that is either an id string or an expanded object. */
static const char *bhook_ref(const json_t *v)
{
    if (json_is_object(v))
        return bhook_str(v, "id");
    if (!json_is_string(v))
        return NULL;
    const char *s = json_string_value(v);
    size_t n = json_string_length(v);
    return n && n <= BHOOK_MAX_STR && strlen(s) == n ? s : NULL;
}

/* bhook_card_label writes "Brand •••• 1234" from a card object ({brand, last4}), or "" when it does
 * not have a brand and four digits. */
static void bhook_card_label(const json_t *card, char out[64])
{
    static const struct {
        const char *brand, *name;
    } brands[] = {
        {"visa", "Visa"},
        {"mastercard", "Mastercard"},
        {"amex", "American Express"},
        {"discover", "Discover"},
        {"diners", "Diners Club"},
        {"jcb", "JCB"},
        {"unionpay", "UnionPay"},
        {"cartes_bancaires", "Cartes Bancaires"},
    };
    const char *brand = bhook_str(card, "brand"), *last4 = bhook_str(card, "last4"), *name = "Card";
    out[0] = '\0';
    if (!last4 || strlen(last4) != 4 || strspn(last4, "0123456789") != 4)
        return;
    for (size_t i = 0; brand && i < sizeof(brands) / sizeof(brands[0]); i++)
        if (strcmp(brand, brands[i].brand) == 0)
            name = brands[i].name;
    snprintf(out, 64, "%s \xe2\x80\xa2\xe2\x80\xa2\xe2\x80\xa2\xe2\x80\xa2 %s", name, last4);
}

/* ---- Finding the target ------------------------------------------------------------------------- */

/* bhook_workspace writes the billed workspace of the workspace id `hint` into out ("" when hint is
 * NULL, too long or names no workspace). */
static int bhook_workspace(store_conn *c, const char *hint, char out[ID_MAX])
{
    out[0] = '\0';
    if (!hint || strlen(hint) >= ID_MAX)
        return AT_OK;
    int rc = billing_scope(c, hint, out);
    if (rc == AT_ENOTFOUND) {
        out[0] = '\0';
        return AT_OK;
    }
    return rc;
}

/* bhook_find_customer finds the billed workspace an event about a provider customer is for: the
 * workspace the first hint present names (none when it names no workspace: a contradiction is not
 * resolved by guessing), else, with no hint at all, the customer whose provider_customer_id is
 * `customer`. When that workspace already has a different provider customer, the event is about
 * another customer (an old one) and t->ws stays "". */
static int bhook_find_customer(store_conn *c, const char *ws_hint, const char *ws_hint2, const char *customer,
                               bhook_target *t)
{
    const char *hint = ws_hint ? ws_hint : ws_hint2;
    int rc = bhook_workspace(c, hint, t->ws);
    if (rc != AT_OK || (hint && !t->ws[0]))
        return rc;
    store_rows *r = NULL;
    if (!t->ws[0] && customer) {
        store_arg a[] = {sa_text(customer)};
        rc = store_query(c,
                         "SELECT workspace_id FROM billing_customers WHERE provider_customer_id = $1 "
                         "ORDER BY workspace_id LIMIT 1",
                         a, 1, &r);
        if (rc == AT_OK && (rc = store_rows_next(r)) == 1)
            snprintf(t->ws, sizeof(t->ws), "%s", store_rows_text(r, 0));
        store_rows_free(r);
        return rc < 0 ? rc : AT_OK;
    }
    if (t->ws[0] && customer) {
        store_arg a[] = {sa_text(t->ws)};
        rc = store_query(c, "SELECT provider_customer_id FROM billing_customers WHERE workspace_id = $1", a, 1, &r);
        if (rc == AT_OK && (rc = store_rows_next(r)) == 1) {
            const char *known = store_rows_text(r, 0);
            if (known && known[0] && strcmp(known, customer) != 0)
                t->ws[0] = '\0';
        }
        store_rows_free(r);
        return rc < 0 ? rc : AT_OK;
    }
    return AT_OK;
}

/* checkout.session.completed (mode setup): the workspace is client_reference_id (or the session's
 * metadata, or the customer); the method is setup_intent.payment_method, expanded or not. */
static int bhook_resolve_checkout(store_conn *c, const bhook_event *ev, bhook_target *t)
{
    const char *mode = bhook_str(ev->obj, "mode");
    if (mode && strcmp(mode, "setup") != 0)
        return AT_OK; /* Atrium only opens setup sessions; anything else is not ours to apply */
    const json_t *si = json_object_get(ev->obj, "setup_intent");
    const json_t *pm = json_is_object(si) ? json_object_get(si, "payment_method") : NULL;
    t->pm = bhook_ref(pm);
    if (json_is_object(pm))
        bhook_card_label(json_object_get(pm, "card"), t->label);
    t->customer = bhook_ref(json_object_get(ev->obj, "customer"));
    return bhook_find_customer(c, bhook_str(ev->obj, "client_reference_id"),
                               bhook_str(json_object_get(ev->obj, "metadata"), "workspace_id"), t->customer, t);
}

/* customer.updated: the workspace is metadata.workspace_id or the customer's; the method is
 * invoice_settings.default_payment_method (a null default changes nothing here). */
static int bhook_resolve_customer(store_conn *c, const bhook_event *ev, bhook_target *t)
{
    const json_t *settings = json_object_get(ev->obj, "invoice_settings");
    const json_t *pm = json_is_object(settings) ? json_object_get(settings, "default_payment_method") : NULL;
    t->pm = bhook_ref(pm);
    if (json_is_object(pm))
        bhook_card_label(json_object_get(pm, "card"), t->label);
    t->customer = bhook_str(ev->obj, "id");
    return bhook_find_customer(c, bhook_str(json_object_get(ev->obj, "metadata"), "workspace_id"), NULL, t->customer,
                               t);
}

/* payment_intent.*: the invoice is metadata.invoice_id (invoice ids are unique across workspaces),
 * its workspace the one that owns it. */
static int bhook_resolve_invoice(store_conn *c, const bhook_event *ev, bhook_target *t)
{
    const char *inv = bhook_str(json_object_get(ev->obj, "metadata"), "invoice_id");
    if (!inv || strlen(inv) >= ID_MAX)
        return AT_OK;
    store_rows *r = NULL;
    store_arg a[] = {sa_text(inv)};
    int rc = store_query(c, "SELECT workspace_id, id, amount_due - amount_paid, currency FROM invoices WHERE id = $1",
                         a, 1, &r);
    if (rc == AT_OK && (rc = store_rows_next(r)) == 1) {
        snprintf(t->ws, sizeof(t->ws), "%s", store_rows_text(r, 0));
        snprintf(t->invoice, sizeof(t->invoice), "%s", store_rows_text(r, 1));
        t->amount_due = store_rows_int(r, 2);
        snprintf(t->currency, sizeof(t->currency), "%s", store_rows_text(r, 3));
    }
    store_rows_free(r);
    return rc < 0 ? rc : AT_OK;
}

/* payment_method.attached: only names the workspace on the dedupe row. */
static int bhook_resolve_pm(store_conn *c, const bhook_event *ev, bhook_target *t)
{
    return bhook_find_customer(c, NULL, NULL, bhook_ref(json_object_get(ev->obj, "customer")), t);
}

/* ---- Effects ------------------------------------------------------------------------------------ */

/* bhook_apply_payment_method makes t->pm the customer's payment method when the event is the newest
 * that named one (ties: the greater method id, so every order agrees), records the provider and its
 * customer id, and audits a change. A late event for the current method still fills in a missing
 * card label (brand and last4 belong to the method, not to the event). When the event's method is
 * the customer's current one, collection restarts on an unpaid invoice (bhook_collect_open). */
static int bhook_apply_payment_method(store_conn *c, const bhook_event *ev, const bhook_target *t)
{
    const char *ws = t->ws, *cust = t->customer ? t->customer : "";
    int64_t now = billing_now(c, ws);
    store_rows *r = NULL;
    store_arg w[] = {sa_text(ws)};
    /* The workspace row first, as audit_append takes it, then the customer row: one lock order. */
    int rc = store_query(c, "SELECT id FROM workspaces WHERE id = $1 FOR UPDATE", w, 1, &r);
    store_rows_free(r);
    r = NULL;
    if (rc != AT_OK)
        return rc;
    store_arg ins[] = {sa_text(ws), sa_text(ev->provider), sa_text(cust), sa_int(now)};
    rc = store_exec(c,
                    "INSERT INTO billing_customers (workspace_id, provider, provider_customer_id, updated_at) "
                    "VALUES ($1, $2, $3, $4) ON CONFLICT (workspace_id) DO NOTHING",
                    ins, 4, NULL);
    if (rc != AT_OK)
        return rc;
    if (!t->pm) {
        /* Nothing to choose; keep what we learnt about the customer. */
        store_arg fa[] = {sa_text(ws), sa_text(cust), sa_int(now)};
        return store_exec(c,
                          "UPDATE billing_customers SET provider_customer_id = $2, updated_at = $3 "
                          "WHERE workspace_id = $1 AND provider_customer_id = '' AND $2 <> ''",
                          fa, 3, NULL);
    }

    char cur_pm[BHOOK_MAX_STR + 1] = "", cur_label[64] = "", cur_provider[32] = "", cur_cust[BHOOK_MAX_STR + 1] = "";
    int64_t seen = 0;
    rc = store_query(c,
                     "SELECT payment_method, payment_method_label, payment_method_seen_at, provider, "
                     "provider_customer_id FROM billing_customers WHERE workspace_id = $1 FOR UPDATE",
                     w, 1, &r);
    if (rc == AT_OK && (rc = store_rows_next(r)) == 1) {
        snprintf(cur_pm, sizeof(cur_pm), "%s", store_rows_text(r, 0));
        snprintf(cur_label, sizeof(cur_label), "%s", store_rows_text(r, 1));
        seen = store_rows_int(r, 2);
        snprintf(cur_provider, sizeof(cur_provider), "%s", store_rows_text(r, 3));
        snprintf(cur_cust, sizeof(cur_cust), "%s", store_rows_text(r, 4));
        rc = AT_OK;
    } else if (rc == 0) {
        rc = AT_EINTERNAL; /* inserted above */
    }
    store_rows_free(r);
    if (rc != AT_OK)
        return rc;

    bool same = strcmp(cur_pm, t->pm) == 0;
    bool newer = ev->created_us > seen || (ev->created_us == seen && strcmp(t->pm, cur_pm) >= 0);
    if (newer) {
        const char *label = t->label[0] ? t->label : same ? cur_label : "";
        const char *new_cust = cust[0] ? cust : cur_cust;
        bool changed = !same || strcmp(label, cur_label) != 0 || strcmp(new_cust, cur_cust) != 0 ||
                       strcmp(ev->provider, cur_provider) != 0;
        store_arg ua[] = {sa_text(ws),    sa_text(ev->provider),  sa_text(new_cust), sa_text(t->pm),
                          sa_text(label), sa_int(ev->created_us), sa_int(changed),   sa_int(now)};
        rc = store_exec(c,
                        "UPDATE billing_customers SET provider = $2, provider_customer_id = $3, payment_method = $4, "
                        "payment_method_label = $5, payment_method_seen_at = $6, version = version + $7, "
                        "updated_at = $8 WHERE workspace_id = $1",
                        ua, 8, NULL);
        if (rc == AT_OK && (!same || strcmp(label, cur_label) != 0))
            rc = bhook_audit_method(c, ws, cur_label[0] ? cur_label : cur_pm, label[0] ? label : t->pm);
        same = true;
    } else if (same && !cur_label[0] && t->label[0]) {
        store_arg la[] = {sa_text(ws), sa_text(t->label), sa_int(now)};
        rc = store_exec(c,
                        "UPDATE billing_customers SET payment_method_label = $2, version = version + 1, "
                        "updated_at = $3 WHERE workspace_id = $1",
                        la, 3, NULL);
        if (rc == AT_OK)
            rc = bhook_audit_method(c, ws, cur_pm, t->label);
    }
    if (rc == AT_OK && same)
        rc = bhook_collect_open(c, ws);
    return rc;
}

/* bhook_audit_method audits a change of the customer's payment method as people read it: the card
 * label, else the method's id ("" before: none). */
static int bhook_audit_method(store_conn *c, const char *ws, const char *was, const char *is)
{
    json_t *changes = json_object(), *before = was[0] ? json_string(was) : json_null(), *after = json_string(is);
    audit_diff(changes, "payment_method", before, after);
    int rc = audit_append(c, ws, &bhook_actor, "billing.payment_method.updated", "customer", ws, changes);
    json_decref(before);
    json_decref(after);
    json_decref(changes);
    return rc;
}

/* bhook_collect_open restarts collection after a payment method arrives: a paused subscription
 * (trial ended without a card) waits for the customer to resume it; an incomplete one, or one with
 * an open invoice whose payment is pending or failed, gets a payment attempt of its oldest open
 * invoice. The job's dedupe key (invoice and attempt number) keeps redeliveries from charging twice. */
static int bhook_collect_open(store_conn *c, const char *ws)
{
    bsub s;
    int rc = bsub_load(c, ws, false, &s);
    if (rc == AT_ENOTFOUND)
        return AT_OK;
    if (rc != AT_OK)
        return rc;
    if (strcmp(s.status, "paused") == 0)
        return AT_OK;
    bool incomplete = strcmp(s.status, "incomplete") == 0;
    char inv[ID_MAX] = "";
    int64_t attempts = 0;
    store_rows *r = NULL;
    store_arg a[] = {sa_text(ws), sa_int(incomplete)};
    rc = store_query(c,
                     "SELECT id, attempt_count FROM invoices WHERE workspace_id = $1 AND status = 'open' AND "
                     "($2 = 1 OR payment_status IN ('pending', 'failed')) ORDER BY created_at, id LIMIT 1",
                     a, 2, &r);
    if (rc == AT_OK && (rc = store_rows_next(r)) == 1) {
        snprintf(inv, sizeof(inv), "%s", store_rows_text(r, 0));
        attempts = store_rows_int(r, 1);
    }
    store_rows_free(r);
    if (rc < 0)
        return rc;
    if (!inv[0])
        return AT_OK;
    return billing_collect_enqueue(c, ws, inv, (int)attempts + 1);
}

/* bhook_apply_payment records the PaymentIntent's outcome as a payment fact and moves the invoice:
 * paid on success (after checking the amount and currency cover it), a failed attempt on failure
 * (once per PaymentIntent: a failure already known, or a PaymentIntent that already succeeded,
 * changes nothing). */
static int bhook_apply_payment(store_conn *c, const bhook_event *ev, const bhook_target *t)
{
    bool ok = strcmp(ev->type, "payment_intent.succeeded") == 0;
    const char *ref = bhook_str(ev->obj, "id");
    if (!ref)
        return AT_OK; /* a PaymentIntent without an id: nothing to record it by */
    const json_t *err = json_object_get(ev->obj, "last_payment_error");
    const char *decline = ok ? NULL : bhook_str(err, "decline_code");
    if (!ok && !decline)
        decline = bhook_str(err, "code");
    char code[64];
    snprintf(code, sizeof(code), "%s", decline ? decline : "");
    const json_t *amount_j = json_object_get(ev->obj, "amount");
    int64_t amount = json_is_integer(amount_j) ? (int64_t)json_integer_value(amount_j) : t->amount_due;
    int64_t now = billing_now(c, t->ws);
    char pay_id[ID_MAX];
    int64_t changed = 0;
    id_new("pay", pay_id);
    store_arg a[] = {
        sa_text(t->ws), sa_text(pay_id), sa_text(t->invoice), sa_text(ref), sa_text(ok ? "succeeded" : "failed"),
        sa_text(code),  sa_int(amount),  sa_int(now)};
    /* Success is absorbing; a final outcome replaces a pending fact (our own call's, say). */
    int rc =
        store_exec(c,
                   "INSERT INTO payment_attempts (workspace_id, id, invoice_id, provider_ref, outcome, decline_code, "
                   "amount, created_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8) "
                   "ON CONFLICT (workspace_id, provider_ref) DO UPDATE SET outcome = excluded.outcome, "
                   "decline_code = excluded.decline_code, amount = excluded.amount "
                   "WHERE payment_attempts.outcome <> 'succeeded' AND (excluded.outcome = 'succeeded' OR "
                   "payment_attempts.outcome = 'pending')",
                   a, 8, &changed);
    if (rc != AT_OK)
        return rc;
    if (!ok)
        return changed ? binv_payment_failed(c, t->ws, t->invoice, now, code, &bhook_actor) : AT_OK;
    const char *currency = bhook_str(ev->obj, "currency");
    if (amount < t->amount_due || (currency && strcasecmp(currency, t->currency) != 0)) {
        /* Money arrived but does not settle the invoice: an operator has to look (ids only). */
        log_event(LOG_WARN, "payment does not cover its invoice",
                  json_pack("{s:s, s:s, s:s}", "event_id", ev->id, "invoice_id", t->invoice, "payment", ref));
        return AT_OK;
    }
    return binv_paid(c, t->ws, t->invoice, now, &bhook_actor);
}
