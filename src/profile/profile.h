/* Profile: a user's own name, email, avatar, time zone and locale (features.md §1.2), kept apart from
 * the workspace's business profile. Changing the email needs the current password and ends the
 * user's other sessions. */
#ifndef AT_PROFILE_H
#define AT_PROFILE_H

#include "auth/users.h"
#include "base/jsonv.h"
#include "store/store.h"

#include <jansson.h>

extern const jv_field profile_fields[];
extern const size_t profile_field_count;

/* profile_get returns the user's profile as a new object. */
int profile_get(store *s, const char *user_id, json_t **out);
/* profile_patch applies a validated merge patch. When the email changes, current_password must match
 * (else *wrong_password is set and AT_EINVAL returned) and the other sessions end. AT_ECONFLICT when
 * the email belongs to another account. */
int profile_patch(store *s, const char *user_id, const char *keep_session_id, json_t *patch, bool *wrong_password,
                  json_t **out);

#endif
