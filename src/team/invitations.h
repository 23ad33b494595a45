/* Invitations (features.md §1.4): one or many at once, a role at most the inviter's own, a link whose
 * token (256 random bits) is stored as a keyed hash for lookup and sealed for the reminder mail. States:
 * pending -> accepted | expired | revoked. Resend keeps the invitation, issues a new token (the old link
 * dies) and pushes the expiry; reminders go out on day 2 and day 5. Pending invitations hold seats. */
#ifndef AT_TEAM_INVITATIONS_H
#define AT_TEAM_INVITATIONS_H

#include "auth/sessions.h"
#include "team/members.h"

enum { INV_MAX_BATCH = 100 };

/* inv_create invites every address of `emails` (a JSON array of strings) with `role` and an optional
 * message; *results is a new array with one entry per address: {email, status: "invited"|"error",
 * invitation?, error?: {code, message}}. Codes: invalid_email, already_member, already_invited,
 * seats_full, duplicate (twice in one request). Returns AT_EFORBIDDEN when the role is above the
 * inviter's; store errors otherwise. */
int inv_create(store *s, const char *ws_id, json_t *emails, const char *role, const char *message,
               const team_actor *who, json_t **results);
/* inv_list returns a new array of the workspace's invitations with status filter (NULL: pending). */
int inv_list(store *s, const char *ws_id, const char *status, json_t **out);
/* inv_resend: AT_ECONFLICT when accepted or revoked, AT_ELIMIT when resent too often. */
int inv_resend(store *s, const char *ws_id, const char *inv_id, const team_actor *who, json_t **out);
int inv_revoke(store *s, const char *ws_id, const char *inv_id, const team_actor *who);

/* inv_lookup describes the invitation of a link token: {workspace:{id,name}, inviter:{name}, role, email,
 * status, expires_at}. AT_ENOTFOUND for an unknown token (a dead link after a resend is unknown). */
int inv_lookup(store *s, const char *token, json_t **out);

/* How to accept: as the signed-in user (user set), or as a new person (name and password). */
typedef struct inv_accept_req {
    const char *token;
    const auth_user *user;  /* signed in, or NULL */
    const char *name;       /* new person */
    const char *password;
    size_t password_len;
    const char *ip, *user_agent, *request_id;
} inv_accept_req;

/* inv_accept turns a pending invitation into a membership. Outcomes: AT_OK (ws_out set; for a new
 * person also new_user, session and token_out); AT_ENOTFOUND unknown token; AT_ECONFLICT with
 * *why = "expired" | "revoked" | "accepted" | "email_mismatch" | "account_exists" | "already_member";
 * AT_ELIMIT when the seats are full. */
int inv_accept(store *s, const inv_accept_req *r, char ws_out[ID_MAX], auth_user *new_user, auth_session *session,
               char token_out[SESSION_TOKEN_MAX], const char **why);

/* inv_register_jobs binds "invitation.remind". */
void inv_register_jobs(void);

#endif
