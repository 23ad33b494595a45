/* Profile: a user's own name, email, avatar, time zone and locale (features.md §1.2), kept apart from
 * the workspace's business profile. A new email needs the current password (checked under the one
 * current-password limit, before any transaction) and takes effect only once confirmed from the new
 * address (emailchange.h). */
#ifndef AT_PROFILE_H
#define AT_PROFILE_H

#include "audit/audit.h"
#include "auth/users.h"
#include "base/jsonv.h"
#include "store/store.h"

#include <jansson.h>

extern const jv_field profile_fields[];
extern const size_t profile_field_count;

/* What profile_patch found besides its status. */
typedef struct profile_result {
    const char *password_error; /* with AT_EINVAL: "required" or "incorrect" (current_password) */
    int64_t retry_after_s;      /* with AT_ELIMIT: too many checks of the current password */
    bool email_pending;         /* a confirmation link went to the new address */
} profile_result;

/* profile_get returns the user's profile as a new object, with pending_email ({email, expires_at}
 * or null). */
int profile_get(store *s, const char *user_id, json_t **out);
/* profile_patch applies a validated merge patch and returns the new profile (a new object). A new
 * email needs current_password and starts a pending change (AT_EINVAL with res->password_error when
 * the password is missing or wrong; AT_ELIMIT when checked too often; AT_ECONFLICT when another
 * account uses the address); the other fields apply at once. */
int profile_patch(store *s, const char *user_id, const char *session_id, json_t *patch, const audit_actor *actor,
                  profile_result *res, json_t **out);

#endif
