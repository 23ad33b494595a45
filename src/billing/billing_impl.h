/* Internal to src/billing: the subscription record, the invoice builder and helpers shared by the
 * billing files. Nothing outside src/billing includes it. */
#ifndef AT_BILLING_IMPL_H
#define AT_BILLING_IMPL_H

#include "billing/billing.h"
#include "billing/catalog.h"

#include <stdio.h>

#define US_PER_S           INT64_C(1000000)
#define US_PER_DAY         (INT64_C(86400) * US_PER_S)
#define BILLING_MAX_LINES  64
#define BILLING_PLAN_LINES 2 /* a period's plan charge: the base line and the seats beyond those included */

/* A subscription row. Times are microseconds; 0 means unset (SQL NULL). */
typedef struct bsub {
    char ws[ID_MAX];
    char id[ID_MAX];
    char plan_id[32];
    int interval;
    int64_t quantity;
    char status[24];
    char collection[24];
    int64_t anchor, period_start, period_end;
    int64_t trial_end;
    bool trial_notice_sent;
    bool cancel_at_period_end;
    char cancel_reason[BILLING_REASON_MAX_BYTES]; /* whole: the API bounds it in characters */
    int64_t canceled_at, ended_at;
    char pending_plan[32];    /* "" none */
    int pending_interval;     /* -1 none */
    int64_t pending_quantity; /* 0 none */
    int64_t incomplete_expires_at;
    char dunning_invoice[ID_MAX];
    int64_t dunning_started_at;
    int dunning_step;
    int64_t version, created_at;
} bsub;

/* bsub_load reads the live subscription of a billed workspace (FOR UPDATE when lock): AT_ENOTFOUND
 * when there is none. bsub_latest also finds an ended one (the newest). */
int bsub_load(store_conn *c, const char *billing_ws, bool lock, bsub *out);
int bsub_latest(store_conn *c, const char *billing_ws, bsub *out);
int bsub_load_by_id(store_conn *c, const char *billing_ws, const char *sub_id, bool lock, bsub *out);
/* bsub_insert writes a new row; bsub_save writes every column back and bumps the version. Both
 * recompute next_event_at. */
int bsub_insert(store_conn *c, bsub *s);
int bsub_save(store_conn *c, bsub *s);
/* bsub_set_status moves the subscription along the transition table (AT_ECONFLICT for a move the
 * table does not allow), audited as billing.subscription.<to> with the reason. Saves nothing: the
 * caller saves. */
int bsub_set_status(store_conn *c, bsub *s, const char *to, const char *why, const audit_actor *actor);
bool bsub_transition_allowed(const char *from, const char *to);
/* bsub_live_status reports whether the status grants the plan's entitlements. */
bool bsub_entitled(const char *status);
/* bsub_json returns the subscription's API object. */
json_t *bsub_json(const bsub *s);
/* bsub_next_event is the earliest time billing_advance has work for it (INT64_MAX: none). */
int64_t bsub_next_event(store_conn *c, const bsub *s);

/* billing_sync writes the entitlements and seat limit that the subscription (or its absence) gives to
 * the billed workspace and every sub-account billed to it. */
int billing_sync(store_conn *c, const char *billing_ws);

/* The system actor for work the engine does on its own. */
extern const audit_actor billing_system_actor;

/* ---- Invoices (invoices.c) ----------------------------------------------------------------------- */

typedef struct bline {
    char kind[16]; /* base, seats, proration, usage */
    char description[200];
    int64_t quantity, unit_amount, amount;
    int64_t period_start, period_end;
    char pending_id[ID_MAX]; /* a waiting proration's id ("" for other lines): the invoice claims it */
} bline;

typedef struct bdraft {
    bline lines[BILLING_MAX_LINES];
    size_t n;
} bdraft;

/* The totals of a draft for a customer (tax from the customer's country, the credit balance applied). */
typedef struct btotals {
    int64_t subtotal, tax, total, applied_balance, amount_due, credit_to_balance;
    int64_t tax_rate_bp;
    char tax_name[32], tax_country[3];
} btotals;

bline *bdraft_add(bdraft *d, const char *kind, int64_t quantity, int64_t unit_amount, int64_t amount,
                  int64_t period_start, int64_t period_end, const char *fmt, ...) __attribute__((format(printf, 8, 9)));
/* bdraft_plan_lines adds the plan's charge for one period (base line, then the seats beyond those
 * included). */
void bdraft_plan_lines(bdraft *d, const billing_plan *p, int interval, int64_t seats, int64_t from, int64_t to);
/* A change that is not made yet, as a preview prices it into the next invoice. */
typedef struct bwhatif {
    int64_t at;                      /* its proration instant */
    const char *from_plan, *to_plan; /* the plan before and after at `at` (equal: the plan stays) */
    const bdraft *waiting;           /* the prorations it would leave waiting (NULL: none) */
} bwhatif;

/* bdraft_usage_lines is the one pricing of metered usage: the usage of s's billed workspace in
 * [from, to), split into segments at each immediate plan change of s (and at w's, when w is given),
 * each segment priced by the plan in force then, with that plan's whole included quantity. */
int bdraft_usage_lines(store_conn *c, bdraft *d, const bsub *s, int64_t from, int64_t to, const bwhatif *w);
/* bdraft_pending_lines adds the subscription's waiting prorations to the draft, each line carrying its
 * item's id; binv_create claims exactly those items. */
int bdraft_pending_lines(store_conn *c, bdraft *d, const char *billing_ws, const char *sub_id);
/* bcycle_draft is the one pricing of the next period invoice, used by the renewal, the trial's end,
 * the overview's upcoming invoice and a preview's next_invoice: at s's period end (its trial end for a
 * trial) the ending period's usage (active and past_due only), the scheduled change applied, the next
 * period from the anchor-day calendar (billing_period_end), the waiting prorations (and w's), then the
 * next period's plan charge. Moves *s to the next period: the caller saves it or works on a copy. */
int bcycle_draft(store_conn *c, bsub *s, const bwhatif *w, bdraft *d);
/* binv_totals prices a draft for the billed workspace's customer (reads its balance and country). */
int binv_totals(store_conn *c, const char *billing_ws, const bdraft *d, btotals *out);
/* binv_totals_adjusted prices it as if the customer's balance were moved by balance_delta first (a
 * preview of the invoice after another one that uses or leaves credit). */
int binv_totals_adjusted(store_conn *c, const char *billing_ws, const bdraft *d, int64_t balance_delta, btotals *out);
/* binv_create writes the draft as an invoice, finalizes it (number, open; paid at once when nothing is
 * due), applies the credit balance, claims the pending items whose lines are on the draft (and only
 * those: a waiting proration is billed on the invoice that shows it), then starts collection: with manual
 * collection a due date and a mail to the billing contacts; with a provider a "billing.collect" job.
 * id_out receives the invoice id. */
int binv_create(store_conn *c, const bsub *s, const char *reason, const bdraft *d, int64_t now, int64_t period_start,
                int64_t period_end, char id_out[ID_MAX], btotals *totals);
/* binv_json_lines returns the draft's lines as API objects. */
json_t *bdraft_json(const bdraft *d);
json_t *btotals_tax_json(const btotals *t);
/* binv_paid marks an invoice paid (amount_paid = amount_due) and, when it was the ladder's invoice or
 * the first one, brings the subscription back to active; recovers paused sub-accounts. */
int binv_paid(store_conn *c, const char *billing_ws, const char *invoice_id, int64_t now, const audit_actor *actor);
/* binv_settled ends the ladder's episode on an invoice no longer owed (outcome "recovered" or "lost")
 * and, with nothing else overdue, brings the subscription back to active. */
int binv_settled(store_conn *c, const char *billing_ws, const char *invoice_id, int64_t now, const char *outcome,
                 const audit_actor *actor);
/* binv_payment_failed records a failed attempt on an open invoice and starts the ladder when it has
 * not started. */
int binv_payment_failed(store_conn *c, const char *billing_ws, const char *invoice_id, int64_t now,
                        const char *decline_code, const audit_actor *actor);
/* billing_customer_snapshot is the customer as invoices print it: {name, email, address[], country,
 * tax_id}, falling back to the workspace's name and its first owner's email. The caller owns it. */
json_t *billing_customer_snapshot(store_conn *c, const char *billing_ws);
/* billing_notify mails a billing template to the billed workspace's owners (and billing email). */
int billing_notify(store_conn *c, const char *billing_ws, const char *template_id, json_t *vars, const char *dedupe);

/* billing_start_subscription creates a subscription (a trial when allowed and the plan has one),
 * its first invoice when it is not a trial, and syncs entitlements. */
int billing_start_subscription(store_conn *c, const char *ws_id, const billing_plan *p, int interval, int64_t seats,
                               int64_t now, bool allow_trial, const audit_actor *actor, bsub *out);
/* billing_schedule_advance enqueues the "billing.advance" job of a billed workspace at `at`. */
int billing_schedule_advance(store_conn *c, const char *billing_ws, int64_t at);
/* billing_end_now ends the subscription at `now` (final invoice for usage and pending prorations, the
 * ladder's episode lost, fallback entitlements) and saves it. */
int billing_end_now(store_conn *c, bsub *s, int64_t now, const char *why, const audit_actor *actor);
/* billing_provider_name_for is the provider of the billed workspace's customer (the configured one
 * for a new customer). */
const char *billing_provider_name_for(store_conn *c, const char *billing_ws);
/* bdunning_rung runs the ladder's next rung for the subscription at `now` (engine.c) and saves it. */
int bdunning_rung(store_conn *c, bsub *s, int64_t now);
/* bdunning_start opens an episode for a failed invoice and runs rung 0. */
int bdunning_start(store_conn *c, bsub *s, const char *invoice_id, int64_t now);
/* billing_collect_enqueue schedules one payment attempt of an open invoice through the provider. */
int billing_collect_enqueue(store_conn *c, const char *billing_ws, const char *invoice_id, int attempt);

/* billing_usage_meters returns the open period's meters (usage.c). */
json_t *billing_usage_meters(store_conn *c, const char *billing_ws, const bsub *s);

/* ---- Small helpers (subscriptions.c) --------------------------------------------------------------- */

void billing_time_str(int64_t us, char out[32]); /* RFC 3339, "" for 0 */
/* billing_own_scope checks ws_id pays for itself (AT_ECONFLICT "billed_to_parent" in r otherwise). */
int billing_own_scope(store_conn *c, const char *ws_id, billing_refusal *r);
/* billing_tx_out runs fn in a transaction; on success the document fn left in *slot goes to *out (the
 * caller owns it), otherwise it is freed. */
int billing_tx_out(store *s, bool write, store_tx_fn fn, void *ctx, json_t **slot, json_t **out);
json_t *billing_time_json(int64_t us); /* string or null */
int64_t billing_used_seats(store_conn *c, const char *billing_ws);
void billing_refuse(billing_refusal *r, const char *field, const char *code, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));

#endif
