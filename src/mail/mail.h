/* Transactional mail (issue: Team): an outbox written in the same transaction as the change that
 * causes the mail, delivered after commit by the job queue ("mail.send"), at least once and
 * deduplicated by a stable message id. Delivery is SMTP through libcurl (STARTTLS when the server
 * offers it, authentication from configuration) or, with no SMTP server configured, a file per
 * message in <data dir>/mail/. Messages are MIME multipart/alternative (text and HTML, UTF-8), with
 * RFC 2047 encoded headers. Templates are built in; each renders from a small JSON of variables. */
#ifndef AT_MAIL_H
#define AT_MAIL_H

#include "base/id.h"
#include "store/store.h"

#include <jansson.h>
#include <stdbool.h>

/* The built-in templates and the variables each one reads (all strings):
 *   "invitation"        workspace, inviter, role, link, expires, message (optional)
 *   "invitation_reminder" workspace, inviter, role, link, expires
 *   "password_reset"    name, link, expires
 *   "email_change_confirm" name, new_email, link, expires (to the new address)
 *   "email_change_notice"  name, new_email, link (to undo), expires (to the old address)
 *   "role_changed"      name, workspace, old_role, new_role, by
 *   "member_removed"    name, workspace, by
 *   "ownership_transfer" name, workspace, from, link
 *   "api_key_expiring"  name, workspace, key_name, days, expires, link
 *   "invoice_issued"    workspace, number, amount, expires (the due date), link
 *   "payment_failed", "payment_retry_failed", "payment_final_notice"   workspace, number, amount, link
 *   "subscription_ended" workspace, link
 *   "trial_ending"      workspace, plan, expires, link
 * Every template also reads "product" (default "Atrium"). */

/* What to send. Strings are borrowed for the call. */
typedef struct mail_request {
    const char *workspace_id; /* or NULL for mail outside a workspace (password reset) */
    const char *to;           /* one address */
    const char *to_name;      /* display name, or NULL */
    const char *template_id;
    const json_t *vars;
    const char *dedupe_key;   /* stable key: the same key never sends twice (NULL: always new) */
} mail_request;

/* mail_enqueue renders the template, writes the outbox row and its "mail.send" job on c (inside the
 * caller's transaction). id_out (optional) receives the message id ("msg_..."). Returns AT_OK,
 * AT_EINVAL for an unknown template or a bad address, or a store error. With a dedupe_key already
 * used, nothing new is written and the existing id is returned. */
int mail_enqueue(store_conn *c, const mail_request *m, char id_out[ID_MAX]);

/* mail_register_jobs binds "mail.send"; call before jobs_start. */
void mail_register_jobs(void);

/* mail_list returns a new array of the newest outbox messages (id, to, subject, template, status,
 * attempts, created_at, sent_at, last_error), at most `limit`. */
int mail_list(store *s, int limit, json_t **out);
/* mail_show returns one message with its full text and HTML bodies, or AT_ENOTFOUND. */
int mail_show(store *s, const char *id, json_t **out);

/* mail_send_test sends a short test message to `to` now, by the configured transport (named in
 * *transport: "smtp" or "folder"), without the outbox: what `atrium doctor --mail-to` checks. AT_OK,
 * or a failure with the reason in err. */
int mail_send_test(const char *to, const char **transport, char err[256]);

/* mail_folder writes the folder where messages go when no SMTP server is configured into out. */
void mail_folder(char out[1024]);

#endif
