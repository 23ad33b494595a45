/* Payment providers (provider.h, issue 7 §6): `manual`, where nothing leaves Atrium, and `stripe`, a
 * client for the few endpoints of Stripe's API that Atrium needs, over libcurl's easy interface.
 *
 * Requests are form-encoded (application/x-www-form-urlencoded, bracketed keys for nested fields as
 * Stripe's SDKs send them), authenticated with `Authorization: Bearer <secret key>`, pinned to one API
 * version (Stripe-Version), and answered in JSON. One easy handle per call: billing calls are rare.
 * The secret key, card data and raw provider error messages are never logged (the log carries the
 * path, the HTTP status and Stripe's error type/code only). */
#include "billing/provider.h"

#include "base/buf.h"
#include "base/config.h"
#include "base/err.h"
#include "base/log.h"
#include "base/text.h"

#include <curl/curl.h>
#include <jansson.h>
#include <sodium.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

enum {
    STRIPE_CONNECT_S = 5,              /* connection timeout */
    STRIPE_TOTAL_S = 20,               /* whole-request timeout */
    STRIPE_MAX_RESPONSE = 1024 * 1024, /* larger answers are refused */
    STRIPE_IDEMPOTENCY_KEY_MAX = 255,  /* Stripe's limit */
};

/* The API version every request is pinned to, so response shapes do not change under us when the
 * account's default version moves. The stand-in (tests/stripe-standin) reports the same one. */
#define STRIPE_API_VERSION "2024-06-20"

/* One form-encoded request being built. The sticky `failed` flag records an allocation failure inside
 * libcurl's escaping; the request then fails as a whole (c-stack.md §5 rule 11). */
typedef struct stripe_req {
    CURL *h;
    buf form;
    int failed;
} stripe_req;

/* manual */
static int manual_ensure_customer(const billing_customer_info *who, char ref[80]);
static int manual_checkout_session(const char *customer_ref, const char *client_reference, const char *success_url,
                                   const char *cancel_url, char url[1024], char session_id[80]);
static int manual_portal_session(const char *customer_ref, const char *return_url, char url[1024]);
static int manual_pay(const char *customer_ref, const char *payment_method, int64_t amount, const char *currency,
                      const char *metadata_invoice, const char *idempotency_key, billing_pay_result *out);
/* stripe */
static int stripe_ensure_customer(const billing_customer_info *who, char ref[80]);
static int stripe_checkout_session(const char *customer_ref, const char *client_reference, const char *success_url,
                                   const char *cancel_url, char url[1024], char session_id[80]);
static int stripe_portal_session(const char *customer_ref, const char *return_url, char url[1024]);
static int stripe_pay(const char *customer_ref, const char *payment_method, int64_t amount, const char *currency,
                      const char *metadata_invoice, const char *idempotency_key, billing_pay_result *out);
/* helpers */
static int stripe_req_init(stripe_req *r);
static void stripe_req_add(stripe_req *r, const char *key, const char *val);
static int stripe_req_post(stripe_req *r, const char *path, const char *idempotency_key, long *status,
                           json_t **body /* OUT */);
static void stripe_req_cleanup(stripe_req *r);
static size_t stripe_write(char *data, size_t size, size_t nmemb, void *userdata);
static int stripe_copy(const json_t *obj, const char *key, char *dst, size_t cap);
static void stripe_log_error(const char *path, long status, const json_t *body);
static int stripe_pay_outcome(long status, const json_t *body, billing_pay_result *out);
static void stripe_pay_declined(const json_t *err, billing_pay_result *out);
static int stripe_hard_decline(const char *code);
static int stripe_printable(const char *s, size_t max);
static void stripe_set(char *dst, size_t cap, const char *src);

const billing_provider billing_provider_manual = {
    .name = "manual",
    .ensure_customer = manual_ensure_customer,
    .checkout_session = manual_checkout_session,
    .portal_session = manual_portal_session,
    .pay = manual_pay,
};

const billing_provider billing_provider_stripe = {
    .name = "stripe",
    .ensure_customer = stripe_ensure_customer,
    .checkout_session = stripe_checkout_session,
    .portal_session = stripe_portal_session,
    .pay = stripe_pay,
};

/* Decline codes after which retrying the same card off-session cannot succeed: the card is gone
 * (lost, stolen, picked up, expired, closed account, wrong number), the issuer said so
 * (do_not_try_again, revocations, stop-payment orders, restricted), the card can never do this charge
 * (card/currency not supported, transaction not allowed), the issuer wants the cardholder present
 * (authentication_required: an off-session charge has no one to authenticate), or Atrium has nothing
 * to charge (no_payment_method) or an amount Stripe refuses. Chosen from the "next steps" column of
 * Stripe's decline-code reference (docs.stripe.com/declines/codes). Everything else (generic_decline,
 * insufficient_funds, do_not_honor, try_again_later, processing_error, ...) is soft: dunning retries. */
static const char *const stripe_hard_codes[] = {
    "amount_too_large",
    "amount_too_small",
    "authentication_required",
    "card_not_supported",
    "currency_not_supported",
    "do_not_try_again",
    "expired_card",
    "fraudulent",
    "incorrect_number",
    "invalid_account",
    "invalid_number",
    "lost_card",
    "merchant_blacklist",
    "new_account_information_available",
    "no_payment_method",
    "pickup_card",
    "restricted_card",
    "revocation_of_all_authorizations",
    "revocation_of_authorization",
    "security_violation",
    "stolen_card",
    "stop_payment_order",
    "transaction_not_allowed",
};

/* ================================================================================================
 * Selection
 * ================================================================================================ */

const billing_provider *billing_provider_by_name(const char *name)
{
    if (!name)
        return NULL;
    if (strcmp(name, "manual") == 0)
        return &billing_provider_manual;
    if (strcmp(name, "stripe") == 0)
        return &billing_provider_stripe;
    return NULL;
}

/* billing_provider_get: an empty setting means `manual`. An unknown name also falls back to `manual`,
 * the provider that moves no money, and is logged once as an error. */
const billing_provider *billing_provider_get(void)
{
    static atomic_int warned;
    const char *name = config_get()->billing_provider;
    if (!name[0])
        return &billing_provider_manual;
    const billing_provider *p = billing_provider_by_name(name);
    if (!p) {
        if (atomic_exchange(&warned, 1) == 0)
            log_event(LOG_ERROR, "unknown ATRIUM_BILLING_PROVIDER; using manual", json_pack("{s:s}", "provider", name));
        p = &billing_provider_manual;
    }
    return p;
}

/* ================================================================================================
 * manual: invoices are paid outside Atrium and marked paid by an operator
 * ================================================================================================ */

/* There is no customer object anywhere: ref stays as it is (empty for a new customer), so a later
 * switch to `stripe` still sees "no customer yet" and creates one. */
static int manual_ensure_customer(const billing_customer_info *who, char ref[80])
{
    (void)who;
    (void)ref;
    return AT_OK;
}

/* No hosted pages: Atrium's own billing page is used. */
static int manual_checkout_session(const char *customer_ref, const char *client_reference, const char *success_url,
                                   const char *cancel_url, char url[1024], char session_id[80])
{
    (void)customer_ref;
    (void)client_reference;
    (void)success_url;
    (void)cancel_url;
    url[0] = '\0';
    session_id[0] = '\0';
    return AT_ECONFLICT;
}

static int manual_portal_session(const char *customer_ref, const char *return_url, char url[1024])
{
    (void)customer_ref;
    (void)return_url;
    url[0] = '\0';
    return AT_ECONFLICT;
}

/* Nothing can be charged automatically: the invoice waits for an operator. */
static int manual_pay(const char *customer_ref, const char *payment_method, int64_t amount, const char *currency,
                      const char *metadata_invoice, const char *idempotency_key, billing_pay_result *out)
{
    (void)customer_ref;
    (void)payment_method;
    (void)amount;
    (void)currency;
    (void)metadata_invoice;
    (void)idempotency_key;
    memset(out, 0, sizeof(*out));
    stripe_set(out->message, sizeof(out->message),
               "the manual provider does not charge; an operator marks invoices paid");
    return AT_ECONFLICT;
}

/* ================================================================================================
 * stripe
 * ================================================================================================ */

/* POST /v1/customers with name, email, metadata[workspace_id] and address[country] (each only when
 * given). Returns AT_OK with ref set (or untouched when it already names a customer), AT_EINVAL without
 * a workspace id, AT_EUNAVAIL when Stripe cannot be reached or refuses. */
static int stripe_ensure_customer(const billing_customer_info *who, char ref[80])
{
    stripe_req r;
    json_t *body = NULL;
    long status = 0;
    int rc;

    if (ref[0])
        return AT_OK;
    if (!who || !who->workspace_id || !who->workspace_id[0])
        return AT_EINVAL;
    if ((rc = stripe_req_init(&r)) != AT_OK)
        return rc;
    /* Empty values are left out: Stripe reads "" as a value to validate, not as "unset". */
    if (who->name && who->name[0])
        stripe_req_add(&r, "name", who->name);
    if (who->email && who->email[0])
        stripe_req_add(&r, "email", who->email);
    stripe_req_add(&r, "metadata[workspace_id]", who->workspace_id);
    if (who->country && who->country[0])
        stripe_req_add(&r, "address[country]", who->country);
    /* One customer per workspace even when a response is lost and the call is made again. */
    char key[96];
    snprintf(key, sizeof(key), "atrium-customer-%s", who->workspace_id);
    rc = stripe_req_post(&r, "/v1/customers", key, &status, &body);
    if (rc != AT_OK)
        goto cleanup;
    if (status / 100 != 2) {
        stripe_log_error("/v1/customers", status, body);
        rc = AT_EUNAVAIL;
        goto cleanup;
    }
    rc = stripe_copy(body, "id", ref, 80);
cleanup:
    json_decref(body);
    stripe_req_cleanup(&r);
    return rc;
}

/* POST /v1/checkout/sessions in setup mode for cards: the customer saves a card on Stripe's page and
 * Stripe redirects to success_url (which may carry Stripe's {CHECKOUT_SESSION_ID} placeholder). The
 * workspace id goes in client_reference_id and in the metadata of the session and of its SetupIntent,
 * so every webhook about it can be traced back. */
static int stripe_checkout_session(const char *customer_ref, const char *client_reference, const char *success_url,
                                   const char *cancel_url, char url[1024], char session_id[80])
{
    static const char path[] = "/v1/checkout/sessions";
    stripe_req r;
    json_t *body = NULL;
    long status = 0;
    int rc;

    url[0] = '\0';
    session_id[0] = '\0';
    if (!customer_ref || !customer_ref[0] || !success_url || !success_url[0])
        return AT_EINVAL;
    if ((rc = stripe_req_init(&r)) != AT_OK)
        return rc;
    stripe_req_add(&r, "mode", "setup");
    stripe_req_add(&r, "customer", customer_ref);
    stripe_req_add(&r, "payment_method_types[0]", "card");
    stripe_req_add(&r, "client_reference_id", client_reference);
    stripe_req_add(&r, "success_url", success_url);
    stripe_req_add(&r, "cancel_url", cancel_url && cancel_url[0] ? cancel_url : NULL);
    stripe_req_add(&r, "metadata[workspace_id]", client_reference);
    stripe_req_add(&r, "setup_intent_data[metadata][workspace_id]", client_reference);
    rc = stripe_req_post(&r, path, NULL, &status, &body);
    if (rc != AT_OK)
        goto cleanup;
    if (status / 100 != 2) {
        stripe_log_error(path, status, body);
        rc = AT_EUNAVAIL;
        goto cleanup;
    }
    if ((rc = stripe_copy(body, "url", url, 1024)) == AT_OK)
        rc = stripe_copy(body, "id", session_id, 80);
    if (rc != AT_OK) {
        url[0] = '\0';
        session_id[0] = '\0';
    }
cleanup:
    json_decref(body);
    stripe_req_cleanup(&r);
    return rc;
}

/* POST /v1/billing_portal/sessions: a single-use link to Stripe's customer portal. */
static int stripe_portal_session(const char *customer_ref, const char *return_url, char url[1024])
{
    static const char path[] = "/v1/billing_portal/sessions";
    stripe_req r;
    json_t *body = NULL;
    long status = 0;
    int rc;

    url[0] = '\0';
    if (!customer_ref || !customer_ref[0])
        return AT_EINVAL;
    if ((rc = stripe_req_init(&r)) != AT_OK)
        return rc;
    stripe_req_add(&r, "customer", customer_ref);
    stripe_req_add(&r, "return_url", return_url && return_url[0] ? return_url : NULL);
    rc = stripe_req_post(&r, path, NULL, &status, &body);
    if (rc != AT_OK)
        goto cleanup;
    if (status / 100 != 2) {
        stripe_log_error(path, status, body);
        rc = AT_EUNAVAIL;
        goto cleanup;
    }
    rc = stripe_copy(body, "url", url, 1024);
cleanup:
    json_decref(body);
    stripe_req_cleanup(&r);
    return rc;
}

/* POST /v1/payment_intents, confirmed at once and off-session, with the caller's Idempotency-Key so
 * a retried attempt is answered from Stripe's record instead of charging again.
 *
 * Returns AT_OK with out->outcome set when Stripe gave a definite answer (succeeded, processing, or a
 * decline); AT_EINVAL for arguments Atrium should never pass; AT_EUNAVAIL when the outcome is unknown
 * or Stripe failed (transport error, 5xx, 401, 409 idempotency_key_in_use, ...): the caller retries
 * later with the same key. Without a payment method nothing is sent and the result is a hard decline
 * "no_payment_method". */
static int stripe_pay(const char *customer_ref, const char *payment_method, int64_t amount, const char *currency,
                      const char *metadata_invoice, const char *idempotency_key, billing_pay_result *out)
{
    static const char path[] = "/v1/payment_intents";
    stripe_req r;
    json_t *body = NULL;
    long status = 0;
    char amount_text[24], cur[4];
    int rc;

    memset(out, 0, sizeof(*out));
    if (!customer_ref || !customer_ref[0] || amount <= 0 || !currency || strlen(currency) != 3 || !idempotency_key ||
        !stripe_printable(idempotency_key, STRIPE_IDEMPOTENCY_KEY_MAX))
        return AT_EINVAL;
    for (int i = 0; i < 3; i++) {
        char c = currency[i];
        if (c >= 'A' && c <= 'Z')
            c = (char)(c - 'A' + 'a');
        if (c < 'a' || c > 'z')
            return AT_EINVAL;
        cur[i] = c;
    }
    cur[3] = '\0';
    if (!payment_method || !payment_method[0]) {
        out->outcome = BILLING_PAY_FAILED;
        out->hard_decline = true;
        stripe_set(out->decline_code, sizeof(out->decline_code), "no_payment_method");
        stripe_set(out->message, sizeof(out->message), "the customer has no saved payment method");
        return AT_OK;
    }
    if ((rc = stripe_req_init(&r)) != AT_OK)
        return rc;
    snprintf(amount_text, sizeof(amount_text), "%lld", (long long)amount);
    stripe_req_add(&r, "amount", amount_text);
    stripe_req_add(&r, "currency", cur);
    stripe_req_add(&r, "customer", customer_ref);
    stripe_req_add(&r, "payment_method", payment_method);
    stripe_req_add(&r, "payment_method_types[0]", "card");
    stripe_req_add(&r, "off_session", "true");
    stripe_req_add(&r, "confirm", "true");
    stripe_req_add(&r, "metadata[invoice_id]", metadata_invoice && metadata_invoice[0] ? metadata_invoice : NULL);
    rc = stripe_req_post(&r, path, idempotency_key, &status, &body);
    if (rc == AT_OK) {
        rc = stripe_pay_outcome(status, body, out);
        if (rc != AT_OK && status / 100 != 2)
            stripe_log_error(path, status, body); /* transport failures were logged by stripe_req_post */
    }
    if (rc != AT_OK)
        snprintf(out->message, sizeof(out->message),
                 "stripe: payment outcome unknown (HTTP %ld); retry with the same key", status);
    json_decref(body);
    stripe_req_cleanup(&r);
    return rc;
}

/* stripe_pay_outcome maps Stripe's answer to a billing_pay_result. See stripe_pay for the contract. */
static int stripe_pay_outcome(long status, const json_t *body, billing_pay_result *out)
{
    if (status / 100 == 2) {
        const char *st = json_string_value(json_object_get(body, "status"));
        if (stripe_copy(body, "id", out->ref, sizeof(out->ref)) != AT_OK || !st)
            return AT_EUNAVAIL;
        if (strcmp(st, "succeeded") == 0) {
            out->outcome = BILLING_PAY_SUCCEEDED;
        } else if (strcmp(st, "processing") == 0 || strcmp(st, "requires_capture") == 0) {
            out->outcome = BILLING_PAY_PENDING;
        } else if (strcmp(st, "requires_action") == 0 || strcmp(st, "requires_confirmation") == 0) {
            /* Stripe wants the cardholder (3-D Secure); off-session there is nobody to ask. */
            out->outcome = BILLING_PAY_FAILED;
            stripe_set(out->decline_code, sizeof(out->decline_code), "authentication_required");
            out->hard_decline = true;
            stripe_set(out->message, sizeof(out->message), "the card issuer requires the customer to authenticate");
        } else if (strcmp(st, "requires_payment_method") == 0 || strcmp(st, "canceled") == 0) {
            const json_t *lpe = json_object_get(body, "last_payment_error");
            if (json_is_object(lpe)) {
                stripe_pay_declined(lpe, out);
            } else {
                out->outcome = BILLING_PAY_FAILED;
                stripe_set(out->decline_code, sizeof(out->decline_code), st);
            }
        } else {
            out->outcome = BILLING_PAY_PENDING; /* a state this code does not know: wait for the webhook */
            snprintf(out->message, sizeof(out->message), "stripe: payment intent status %s", st);
        }
        return AT_OK;
    }

    const json_t *err = json_object_get(body, "error");
    if (!json_is_object(err))
        return AT_EUNAVAIL;
    const char *type = json_string_value(json_object_get(err, "type"));
    const char *code = json_string_value(json_object_get(err, "code"));
    const char *param = json_string_value(json_object_get(err, "param"));
    if (status == 402 || (type && strcmp(type, "card_error") == 0)) {
        stripe_pay_declined(err, out);
        const json_t *pi = json_object_get(err, "payment_intent");
        if (json_is_object(pi))
            stripe_copy(pi, "id", out->ref, sizeof(out->ref));
        return AT_OK;
    }
    /* Refusals that retrying with the same arguments cannot change. */
    if ((status == 400 || status == 404) && code) {
        if (strcmp(code, "resource_missing") == 0 && param && strcmp(param, "payment_method") == 0) {
            out->outcome = BILLING_PAY_FAILED;
            out->hard_decline = true;
            stripe_set(out->decline_code, sizeof(out->decline_code), "no_payment_method");
            stripe_set(out->message, sizeof(out->message), "the saved payment method no longer exists");
            return AT_OK;
        }
        if (strcmp(code, "amount_too_small") == 0 || strcmp(code, "amount_too_large") == 0) {
            out->outcome = BILLING_PAY_FAILED;
            out->hard_decline = true;
            stripe_set(out->decline_code, sizeof(out->decline_code), code);
            stripe_set(out->message, sizeof(out->message), json_string_value(json_object_get(err, "message")));
            return AT_OK;
        }
    }
    return AT_EUNAVAIL;
}

/* stripe_pay_declined fills out from a Stripe error object (the 402 `error`, or a PaymentIntent's
 * last_payment_error): decline_code when the issuer gave one, else the error code. An advice_code of
 * do_not_try_again makes any decline hard. */
static void stripe_pay_declined(const json_t *err, billing_pay_result *out)
{
    const char *decline = json_string_value(json_object_get(err, "decline_code"));
    const char *code = json_string_value(json_object_get(err, "code"));
    const char *advice = json_string_value(json_object_get(err, "advice_code"));
    const char *which = decline && decline[0] ? decline : code && code[0] ? code : "card_declined";
    out->outcome = BILLING_PAY_FAILED;
    stripe_set(out->decline_code, sizeof(out->decline_code), which);
    out->hard_decline = stripe_hard_decline(which) || (code && stripe_hard_decline(code)) ||
                        (advice && strcmp(advice, "do_not_try_again") == 0);
    stripe_set(out->message, sizeof(out->message), json_string_value(json_object_get(err, "message")));
}

static int stripe_hard_decline(const char *code)
{
    for (size_t i = 0; i < sizeof(stripe_hard_codes) / sizeof(stripe_hard_codes[0]); i++)
        if (strcmp(code, stripe_hard_codes[i]) == 0)
            return 1;
    return 0;
}

/* ================================================================================================
 * HTTP plumbing
 * ================================================================================================ */

/* stripe_req_init checks the configuration and creates the easy handle. Returns AT_OK (the caller
 * then owns r and calls stripe_req_cleanup) or AT_EUNAVAIL (nothing to clean up). */
static int stripe_req_init(stripe_req *r)
{
    const config *c = config_get();
    memset(r, 0, sizeof(*r));
    buf_init(&r->form);
    if (!c->stripe_secret_key[0] || !stripe_printable(c->stripe_secret_key, 255)) {
        log_event(LOG_ERROR, "ATRIUM_STRIPE_SECRET_KEY is empty or not printable; the Stripe call was not made", NULL);
        return AT_EUNAVAIL;
    }
    if (strncmp(c->stripe_api_base, "https://", 8) != 0 && strncmp(c->stripe_api_base, "http://", 7) != 0) {
        log_event(LOG_ERROR, "ATRIUM_STRIPE_API_BASE must be an http(s) URL; the Stripe call was not made", NULL);
        return AT_EUNAVAIL;
    }
    r->h = curl_easy_init();
    if (!r->h) {
        log_event(LOG_ERROR, "cannot initialise libcurl", NULL);
        return AT_EUNAVAIL;
    }
    return AT_OK;
}

/* stripe_req_add appends key=value to the form; the key is one of ours (brackets kept literally, as
 * Stripe's SDKs send them), the value is percent-encoded. A NULL value adds nothing. */
static void stripe_req_add(stripe_req *r, const char *key, const char *val)
{
    if (!val)
        return;
    char *esc = curl_easy_escape(r->h, val, 0);
    if (!esc) {
        r->failed = 1;
        return;
    }
    buf_printf(&r->form, "%s%s=%s", r->form.len ? "&" : "", key, esc);
    curl_free(esc);
}

/* stripe_req_post sends the form to <ATRIUM_STRIPE_API_BASE><path>. Returns AT_OK when an HTTP
 * response with a JSON object body arrived, whatever its status: *status holds the status and *body a
 * new reference the caller releases with json_decref. Returns AT_EUNAVAIL on a transport failure, a
 * timeout, an oversized or non-JSON answer (*body is then NULL; *status may hold the HTTP status). */
static int stripe_req_post(stripe_req *r, const char *path, const char *idempotency_key, long *status,
                           json_t **body /* OUT */)
{
    const config *c = config_get();
    struct curl_slist *hdr = NULL, *tmp;
    char errbuf[CURL_ERROR_SIZE];
    buf resp, url, idem, auth; /* auth holds the secret key: wiped before it is freed */
    int rc = AT_EUNAVAIL;
    CURLcode cc = CURLE_OK;

    *status = 0;
    *body = NULL;
    errbuf[0] = '\0';
    buf_init(&resp);
    buf_init(&url);
    buf_init(&idem);
    buf_init(&auth);
    size_t blen = strlen(c->stripe_api_base);
    while (blen && c->stripe_api_base[blen - 1] == '/')
        blen--;
    /* Built on the heap to their full length: a cut URL or key would send a wrong request. */
    buf_append(&url, c->stripe_api_base, blen);
    buf_puts(&url, path);
    /* One allocation on an empty buffer, so no reallocation leaves a copy of the key behind. */
    buf_printf(&auth, "Authorization: Bearer %s", c->stripe_secret_key);
    const char *fixed[] = {"Content-Type: application/x-www-form-urlencoded",
                           "Accept: application/json",
                           "Stripe-Version: " STRIPE_API_VERSION,
                           "User-Agent: Atrium",
                           "Expect:",
                           auth.data};
    for (size_t i = 0; i < sizeof(fixed) / sizeof(fixed[0]); i++) {
        if (!(tmp = curl_slist_append(hdr, fixed[i])))
            goto cleanup;
        hdr = tmp;
    }
    if (idempotency_key) {
        buf_puts(&idem, "Idempotency-Key: ");
        buf_puts(&idem, idempotency_key);
        if (!(tmp = curl_slist_append(hdr, idem.data)))
            goto cleanup;
        hdr = tmp;
    }
    if (r->failed)
        goto cleanup;

#define STRIPE_SET(opt, val)                                                                                           \
    do {                                                                                                               \
        if (cc == CURLE_OK)                                                                                            \
            cc = curl_easy_setopt(r->h, opt, val);                                                                     \
    } while (0)
    STRIPE_SET(CURLOPT_ERRORBUFFER, errbuf);
    STRIPE_SET(CURLOPT_URL, url.data);
    STRIPE_SET(CURLOPT_PROTOCOLS_STR, "http,https");
    STRIPE_SET(CURLOPT_NOSIGNAL, 1L);
    STRIPE_SET(CURLOPT_CONNECTTIMEOUT, (long)STRIPE_CONNECT_S);
    STRIPE_SET(CURLOPT_TIMEOUT, (long)STRIPE_TOTAL_S);
    STRIPE_SET(CURLOPT_FOLLOWLOCATION, 0L);
    STRIPE_SET(CURLOPT_HTTPHEADER, hdr);
    STRIPE_SET(CURLOPT_POST, 1L);
    STRIPE_SET(CURLOPT_POSTFIELDS, r->form.data ? r->form.data : "");
    STRIPE_SET(CURLOPT_POSTFIELDSIZE, (long)r->form.len);
    STRIPE_SET(CURLOPT_WRITEFUNCTION, stripe_write);
    STRIPE_SET(CURLOPT_WRITEDATA, &resp);
#undef STRIPE_SET
    if (cc == CURLE_OK)
        cc = curl_easy_perform(r->h);
    curl_easy_getinfo(r->h, CURLINFO_RESPONSE_CODE, status);
    if (cc != CURLE_OK) {
        log_event(LOG_WARN, "stripe request failed",
                  json_pack("{s:s, s:s, s:i}", "path", path, "error", errbuf[0] ? errbuf : curl_easy_strerror(cc),
                            "status", (int)*status));
        goto cleanup;
    }
    json_error_t jerr;
    json_t *j = json_loadb(resp.data ? resp.data : "", resp.len, 0, &jerr);
    if (!json_is_object(j)) {
        json_decref(j);
        log_event(LOG_WARN, "stripe answered something other than a JSON object",
                  json_pack("{s:s, s:i}", "path", path, "status", (int)*status));
        goto cleanup;
    }
    *body = j;
    rc = AT_OK;
cleanup:
    if (auth.data)
        sodium_memzero(auth.data, auth.len);
    buf_free(&auth);
    buf_free(&url);
    buf_free(&idem);
    /* libcurl keeps its own copy of the header in the list; wipe it before freeing. */
    for (tmp = hdr; tmp; tmp = tmp->next)
        if (strncmp(tmp->data, "Authorization:", 14) == 0)
            sodium_memzero(tmp->data, strlen(tmp->data));
    curl_slist_free_all(hdr);
    buf_free(&resp);
    return rc;
}

static void stripe_req_cleanup(stripe_req *r)
{
    if (r->h)
        curl_easy_cleanup(r->h);
    r->h = NULL;
    buf_free(&r->form);
}

/* The CURLOPT_WRITEFUNCTION: collects the body; a short count (an error for curl) past the limit. */
static size_t stripe_write(char *data, size_t size, size_t nmemb, void *userdata)
{
    buf *b = userdata;
    size_t n = size * nmemb;
    if (b->len + n > STRIPE_MAX_RESPONSE)
        return 0;
    buf_append(b, data, n);
    return n;
}

/* stripe_copy copies the non-empty string member `key` of obj into dst (cap bytes). Returns AT_OK, or
 * AT_EUNAVAIL when it is missing, empty or does not fit (Stripe did not answer as documented). */
static int stripe_copy(const json_t *obj, const char *key, char *dst, size_t cap)
{
    const char *s = json_string_value(json_object_get(obj, key));
    if (!s || !s[0] || strlen(s) >= cap) {
        log_event(LOG_WARN, "stripe answer lacks a field", json_pack("{s:s}", "field", key));
        return AT_EUNAVAIL;
    }
    memcpy(dst, s, strlen(s) + 1);
    return AT_OK;
}

/* stripe_log_error logs a refused request: its path, status, and Stripe's error type and code. The
 * message is left out: for a bad key it quotes part of the key. */
static void stripe_log_error(const char *path, long status, const json_t *body)
{
    const json_t *err = json_object_get(body, "error");
    const char *type = json_string_value(json_object_get(err, "type"));
    const char *code = json_string_value(json_object_get(err, "code"));
    log_event(LOG_WARN, "stripe refused a request",
              json_pack("{s:s, s:i, s:s, s:s}", "path", path, "status", (int)status, "type", type ? type : "", "code",
                        code ? code : ""));
}

/* stripe_printable reports whether s is 1..max visible ASCII characters (no spaces, no CR/LF): safe to
 * put in a header line. */
static int stripe_printable(const char *s, size_t max)
{
    size_t n = 0;
    for (; s[n]; n++)
        if (n >= max || (unsigned char)s[n] <= 0x20 || (unsigned char)s[n] >= 0x7f)
            return 0;
    return n > 0;
}

/* stripe_set copies src (NULL = empty) into dst, truncated to cap - 1 bytes at a character boundary. */
static void stripe_set(char *dst, size_t cap, const char *src)
{
    snprintf(dst, cap, "%s", src ? src : "");
    /* The provider's text is for the operator and may be cut: never inside a character. */
    dst[text_utf8_cut(dst, cap - 1)] = '\0';
}
