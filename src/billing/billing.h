/* Billing (issue 7, features.md §1.5, §1.13): the source of truth for a workspace's plan, seats, usage,
 * subscription status and invoices. Atrium is the billing engine: it keeps the periods, computes
 * prorations and invoices, numbers them, and asks a payment provider (provider.h) only to move money.
 *
 * Who pays: a root workspace has its own subscription; a sub-account is billed to its root (the agency
 * pays, the default) or has its own, chosen per sub-account. The "billed workspace" of ws is the one
 * whose subscription covers it. Its seats cover the root and every sub-account billed to it.
 *
 * Time: every billing decision reads billing_now(), the billed workspace's developer test clock when it
 * has one, else the program clock. billing_advance() runs, in order and each in its own transaction,
 * every event due up to a time: trial notices and ends, renewals (invoice at each period end),
 * scheduled changes, cancellations at period end, first-payment expiry, overdue invoices and the
 * rungs of the dunning ladder. A job runs it for workspaces without a test clock; moving a test clock
 * runs it for that workspace.
 *
 * Every change is one transaction with its audit event; amounts follow money.h's rounding rule. */
#ifndef AT_BILLING_H
#define AT_BILLING_H

#include "audit/audit.h"
#include "base/id.h"
#include "store/store.h"

#include <jansson.h>
#include <stdbool.h>
#include <stdint.h>

/* Why a request was refused, for the API's problem+json: `field` names the bad input ("" when the
 * refusal is about state), `code` is stable, `message` is a sentence for people. */
typedef struct billing_refusal {
    char field[48];
    char code[40];
    char message[240];
    char plans[160]; /* for "plan_required": comma-separated plan ids that have the feature */
} billing_refusal;

/* A requested subscription change. Unset members keep the current value. */
typedef struct billing_change {
    const char *plan_id;    /* NULL: unchanged */
    const char *interval;   /* "month" | "year" | NULL */
    int64_t quantity;       /* 0: unchanged */
    const char *proration;  /* "invoice_now" | "prorate" | "at_renewal" | NULL (the default for the direction) */
    int64_t proration_date; /* 0: now; else the time a preview issued (within 15 minutes, after the last change) */
} billing_change;

/* ---- Time and scope ------------------------------------------------------------------------------ */

/* billing_scope writes the billed workspace of ws_id into out (itself, or its root). */
int billing_scope(store_conn *c, const char *ws_id, char out[ID_MAX]);
/* billing_now returns the billing time of a billed workspace (its test clock, else the program clock). */
int64_t billing_now(store_conn *c, const char *billing_ws);

/* ---- Lifecycle hooks called by other domains (inside their transactions) -------------------------- */

/* billing_on_root_created starts the catalog's default plan for a new root workspace: a trial when the
 * plan has one, with ATRIUM_DEFAULT_SEATS seats (clamped to the plan's range); writes entitlements. */
int billing_on_root_created(store_conn *c, const char *ws_id, const audit_actor *actor);
/* billing_on_subaccount_created gives a new sub-account its root's entitlements (billed to the root). */
int billing_on_subaccount_created(store_conn *c, const char *ws_id);
/* billing_sub_account_quota checks the root's plan allows one more sub-account: AT_OK, or AT_ELIMIT
 * with r filled ("plan_required" or "sub_accounts_full"). */
int billing_sub_account_quota(store_conn *c, const char *root_id, billing_refusal *r);

/* ---- Seats (the team's seat check reads these) --------------------------------------------------- */

typedef struct billing_seats {
    int64_t purchased;           /* the live subscription's quantity, or the fallback plan's seats */
    int64_t active_members;      /* across the billed workspace and the sub-accounts it pays for */
    int64_t pending_invitations; /* likewise; pending invitations hold seats */
    int64_t here_active;         /* in ws_id alone */
    int64_t here_pending;
    char billed_by[ID_MAX]; /* the workspace whose subscription pays: ws_id itself when it pays its own */
} billing_seats;
int billing_seats_get(store_conn *c, const char *ws_id, billing_seats *out);
/* billing_payer_name returns the name of the paying workspace billed_ws as its members know it (its
 * workspace name; the display name is for customers), a new string the caller frees ("" when the
 * workspace is gone). */
char *billing_payer_name(store_conn *c, const char *billed_ws);
/* billing_lock_seats takes the billed workspace's row lock (after ws_id's own), so concurrent seat
 * takers anywhere under one subscription count one after another. */
int billing_lock_seats(store_conn *c, const char *ws_id);

/* ---- The Billing page ---------------------------------------------------------------------------- */

/* billing_overview returns {workspace_id, billed_by, billing_mode, provider, subscription, plan, seats,
 * usage[], upcoming_invoice, customer, payment_method, banner, test_clock, now}. */
int billing_overview(store *s, const char *ws_id, json_t **out);
/* billing_standing returns what the navigation needs to explain a section the plan or the payment
 * state removes, and to show the payment banner on every page: {status (null without a subscription),
 * plan: {id, name, features[]}, entitled, billed_by_agency, currency, overdue} where overdue is
 * {total, invoices: [{id, number, amount_due, due_at}]} when ws_id pays for itself, else null. The
 * caller owns *out. */
int billing_standing(store *s, const char *ws_id, json_t **out);
/* billing_plans returns {currency, current_plan_id, items: [plan...]} (offered plans). */
int billing_plans_list(store *s, const char *ws_id, json_t **out);

/* billing_preview prices a change without making it: {effective, amount_due_now, lines, subtotal, tax,
 * total, applied_balance, credit_to_balance, proration_date, next_invoice, after}. AT_EINVAL or
 * AT_ECONFLICT with r filled when the change is not allowed. */
int billing_preview(store *s, const char *ws_id, const billing_change *ch, json_t **out, billing_refusal *r);
/* billing_change_apply makes the change; *out is {subscription, invoice (or null)}. */
int billing_change_apply(store *s, const char *ws_id, const billing_change *ch, const audit_actor *actor, json_t **out,
                         billing_refusal *r);
/* billing_subscribe starts a subscription when the billed workspace has no live one. */
int billing_subscribe(store *s, const char *ws_id, const char *plan_id, const char *interval, int64_t quantity,
                      const audit_actor *actor, json_t **out, billing_refusal *r);
/* billing_cancel ends the subscription now or at the period end. The reason (NULL or text of at most
 * BILLING_REASON_MAX_CHARS characters, which the API checks) is kept whole: a longer one in bytes
 * than BILLING_REASON_MAX_BYTES is refused with AT_EINVAL, never cut. */
enum { BILLING_REASON_MAX_CHARS = 500, BILLING_REASON_MAX_BYTES = 4 * BILLING_REASON_MAX_CHARS + 1 };
int billing_cancel(store *s, const char *ws_id, bool at_period_end, const char *reason, const audit_actor *actor,
                   json_t **out, billing_refusal *r);
/* billing_resume undoes a scheduled cancellation, or resumes a paused subscription. */
int billing_resume(store *s, const char *ws_id, const audit_actor *actor, json_t **out, billing_refusal *r);

/* ---- Customer details ---------------------------------------------------------------------------- */

int billing_customer_get(store *s, const char *ws_id, json_t **out, int64_t *version);
/* billing_customer_patch merges a validated patch (name, email, address_line1, address_line2, city,
 * postal_code, region, country, tax_id) when if_version matches (0: any): AT_EPRECOND otherwise. */
int billing_customer_patch(store *s, const char *ws_id, int64_t if_version, const json_t *patch,
                           const audit_actor *actor, json_t **out, int64_t *version, billing_refusal *r);

/* ---- Invoices ------------------------------------------------------------------------------------ */

/* billing_invoice_list returns the billed workspace's invoices, newest first ({id, number, status,
 * payment_status, total, amount_due, currency, created_at, due_at, period_start, period_end}). */
int billing_invoice_list(store *s, const char *ws_id, int limit, int64_t offset, json_t **items, int64_t *next_offset);
/* billing_invoice_get returns the full invoice document (render.h renders it). */
int billing_invoice_get(store *s, const char *ws_id, const char *invoice_id, json_t **out);
/* Operator actions on an invoice (developer access; also `atrium billing`): mark paid out of band,
 * void (open or uncollectible only) or mark uncollectible (open only). */
int billing_invoice_action(store *s, const char *ws_id, const char *invoice_id, const char *action,
                           const audit_actor *actor, json_t **out, billing_refusal *r);

/* ---- Usage --------------------------------------------------------------------------------------- */

/* billing_usage_record stores usage events ([{event_id, metric, quantity, occurred_at?}], validated by
 * the caller for shape) for ws_id, idempotent by event_id: *out is {accepted, duplicates}. Refuses
 * metrics outside the plan and times outside the open period (r names the event's field). */
int billing_usage_record(store *s, const char *ws_id, const json_t *events, const char *reported_by, json_t **out,
                         billing_refusal *r);

/* ---- Payments and the provider ------------------------------------------------------------------- */

/* billing_checkout asks the provider for a hosted page to save a payment method; *url receives it. */
int billing_checkout(store *s, const char *ws_id, const char *return_base, char url[1024], billing_refusal *r);
/* billing_portal returns the provider's customer portal, or Atrium's own page with `manual`. */
int billing_portal(store *s, const char *ws_id, const char *return_base, char url[1024], billing_refusal *r);
/* billing_pay_now attempts an open invoice's payment through the provider at once. */
int billing_pay_now(store *s, const char *ws_id, const char *invoice_id, const audit_actor *actor, json_t **out,
                    billing_refusal *r);
/* billing_webhook applies one verified provider event (raw JSON body). Duplicates are recognised by
 * event id in the transaction of their effect; events for unknown objects are accepted and ignored. */
int billing_webhook(store *s, const char *provider, const char *body, size_t len);

/* ---- Time, test clocks, recovery ----------------------------------------------------------------- */

/* billing_advance runs every billing event of the billed workspace due at or before until_us. */
int billing_advance(store *s, const char *billing_ws, int64_t until_us);
/* Test clocks (developer access): get/create/advance/delete the clock of ws_id's billed workspace. */
int billing_clock_get(store *s, const char *ws_id, json_t **out);
int billing_clock_create(store *s, const char *ws_id, int64_t frozen_time, const audit_actor *actor, json_t **out,
                         billing_refusal *r);
int billing_clock_advance(store *s, const char *ws_id, int64_t frozen_time, const audit_actor *actor, json_t **out,
                          billing_refusal *r);
int billing_clock_delete(store *s, const char *ws_id, const audit_actor *actor);

/* billing_recovery returns {ladder, past_due: [...], rate: {...}} for ws_id's tree (a root and its
 * sub-accounts). */
int billing_recovery(store *s, const char *ws_id, json_t **out);
/* billing_recovery_retry runs the next payment attempt now; billing_recovery_recovered closes the
 * episode as recovered (the operator saw the money arrive another way: the invoice is marked paid). */
int billing_recovery_retry(store *s, const char *ws_id, const char *subscription_id, const audit_actor *actor,
                           json_t **out, billing_refusal *r);
int billing_recovery_recovered(store *s, const char *ws_id, const char *subscription_id, const audit_actor *actor,
                               json_t **out, billing_refusal *r);

/* billing_set_mode sets a sub-account's billing mode ("parent" or "own") from its root. */
int billing_set_mode(store *s, const char *root_id, const char *sub_id, const char *mode, const char *plan_id,
                     const audit_actor *actor, json_t **out, billing_refusal *r);

/* billing_seed_demo gives the demo workspaces their billing (seed.c); a second run changes nothing. */
int billing_seed_demo(store_conn *c, const char *root_id, const char *parent_billed_id, const char *own_id,
                      int64_t now);

/* billing_register_jobs binds "billing.tick" (runs due events of workspaces without a test clock) and
 * "billing.collect" (one payment attempt); billing_schedule enqueues the first tick. */
void billing_register_jobs(void);
int billing_schedule(store *s);

#endif
