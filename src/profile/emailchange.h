/* Email changes proven before they take effect (issue 12, item 14; GitHub and Clerk do the same).
 *
 * A signed-in user who asks for a new sign-in address (PATCH /me/profile with the current password)
 * gets a pending change: a confirmation link goes to the NEW address, valid EMAILCHANGE_CONFIRM_TTL_S,
 * and nothing else changes. Following it switches the address, ends the user's other sessions (the
 * one that asked stays) and mails the OLD address a notice with an undo link valid
 * EMAILCHANGE_UNDO_TTL_S. Undoing restores the old address, ends every session and voids every
 * outstanding reset link (someone who took over the new address may have asked for one). A newer
 * request replaces a pending one. Tokens are mailtoken.h's (256 bits, keyed hash at rest). Each step
 * is written to the audit log of every workspace the user belongs to. */
#ifndef AT_EMAILCHANGE_H
#define AT_EMAILCHANGE_H

#include "audit/audit.h"
#include "store/store.h"

#include <jansson.h>

enum { EMAILCHANGE_CONFIRM_TTL_S = 24 * 3600, EMAILCHANGE_UNDO_TTL_S = 7 * 24 * 3600 };

/* emailchange_request records a pending change of user_id's address to new_email (normalised) on c
 * (the caller's write transaction) and queues the confirmation mail. session_id is the session that
 * asked. AT_ECONFLICT when another account already uses new_email. */
int emailchange_request(store_conn *c, const char *user_id, const char *new_email, const char *session_id,
                        const audit_actor *actor);
/* emailchange_pending returns a new object {email, expires_at} for the user's live pending change, or
 * json null when there is none. */
int emailchange_pending(store_conn *c, const char *user_id, json_t **out);
/* emailchange_confirm switches the address of a live confirmation token. AT_EINVAL when the token is
 * unknown, used or expired; AT_ECONFLICT when another account took the address meanwhile. */
int emailchange_confirm(store *s, const char *token, const audit_actor *actor);
/* emailchange_undo restores the old address of a live undo token. AT_EINVAL when the token is unknown,
 * used or expired; AT_ECONFLICT when another account took the old address meanwhile. */
int emailchange_undo(store *s, const char *token, const audit_actor *actor);

#endif
