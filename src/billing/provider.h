/* Payment providers behind one interface (issue 7 §6). `manual`: nothing leaves Atrium; invoices are
 * sent to the customer and an operator marks them paid (the default). `stripe`: a Stripe-compatible
 * API at a configurable base URL (ATRIUM_STRIPE_API_BASE): customers, Checkout sessions in setup
 * mode to save a card, customer-portal sessions, and PaymentIntents that pay Atrium's invoices
 * off-session. Atrium stays the billing engine (plans, periods, invoices); the provider only moves
 * money. Calls block (libcurl) and must run outside store transactions. */
#ifndef AT_BILLING_PROVIDER_H
#define AT_BILLING_PROVIDER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

enum billing_pay_outcome { BILLING_PAY_SUCCEEDED = 1, BILLING_PAY_FAILED = 2, BILLING_PAY_PENDING = 3 };

typedef struct billing_pay_result {
    int outcome;            /* enum billing_pay_outcome */
    char ref[80];           /* the provider's payment id (pi_...) */
    char decline_code[48];  /* on failure: "card_declined", "insufficient_funds", "expired_card" ... */
    bool hard_decline;      /* lost/stolen/expired card, no payment method: retrying will not help */
    char message[200];      /* for the operator; never shown raw to customers */
} billing_pay_result;

/* What a provider needs to know about the customer. */
typedef struct billing_customer_info {
    const char *workspace_id;
    const char *name;
    const char *email;
    const char *country;
} billing_customer_info;

typedef struct billing_provider {
    const char *name; /* "manual" or "stripe" */
    /* ensure_customer creates the provider's customer when ref is empty, writing its id into ref. */
    int (*ensure_customer)(const billing_customer_info *who, char ref[80]);
    /* checkout_session starts a hosted page where the customer saves a payment method (Stripe
     * Checkout, mode=setup); url receives its address. client_reference is our workspace id. */
    int (*checkout_session)(const char *customer_ref, const char *client_reference, const char *success_url,
                            const char *cancel_url, char url[1024], char session_id[80]);
    /* portal_session opens the provider's customer portal; url receives its single-use address. */
    int (*portal_session)(const char *customer_ref, const char *return_url, char url[1024]);
    /* pay charges amount (minor units) off-session with the saved payment method. idempotency_key is
     * stable per attempt, so a retried call never charges twice. metadata_invoice names our invoice. */
    int (*pay)(const char *customer_ref, const char *payment_method, int64_t amount, const char *currency,
               const char *metadata_invoice, const char *idempotency_key, billing_pay_result *out);
} billing_provider;

/* billing_provider_get returns the provider named by ATRIUM_BILLING_PROVIDER ("manual" default). */
const billing_provider *billing_provider_get(void);
const billing_provider *billing_provider_by_name(const char *name);

extern const billing_provider billing_provider_manual;
extern const billing_provider billing_provider_stripe;

#endif
