/* User accounts: `usr_` ids, a normalised email unique across the installation, a name, an Argon2id
 * password hash, a disabled flag and the developer-access flag that only operators grant (CLI). */
#ifndef AT_USERS_H
#define AT_USERS_H

#include "auth/password.h"
#include "base/email.h"
#include "base/id.h"
#include "store/store.h"

#include <jansson.h>
#include <stdbool.h>
#include <stdint.h>

enum { USER_EMAIL_MAX = EMAIL_MAX, USER_NAME_MAX_CHARS = 100 };

typedef struct auth_user {
    char id[ID_MAX];
    char email[USER_EMAIL_MAX + 1];
    char name[USER_NAME_MAX_CHARS * 4 + 1];
    bool disabled;
    bool developer;
    int64_t created_at;
} auth_user;

/* Email addresses are checked and normalised by base/email.h (email_normalize, email_check). */
/* jv_string_check-compatible: NULL when acceptable, else why not. */
const char *users_check_name(const char *s, size_t len);

/* users_create inserts the user on c (the caller's transaction) with a password hash that the caller
 * made with password_hash before the transaction opened (Argon2 never runs inside one). The caller
 * has checked the password policy. Returns AT_OK, AT_ECONFLICT (email taken), AT_EINVAL (an email
 * or name longer in bytes than auth_user holds, or a name that is not UTF-8: never stored cut) or a
 * store error. */
int users_create(store_conn *c, const char *email, const char *name, const char *hash, bool developer,
                 auth_user *out);
/* users_find_by_email loads a user and (optionally) its password hash. AT_ENOTFOUND when absent. */
int users_find_by_email(store_conn *c, const char *email, auth_user *out, char hash_out[PASSWORD_HASH_MAX]);
int users_find(store_conn *c, const char *id, auth_user *out, char hash_out[PASSWORD_HASH_MAX]);

/* Operator actions by email (CLI). Disabling also ends every session of the user. */
int users_set_disabled(store *s, const char *email, bool disabled);
int users_set_developer(store *s, const char *email, bool developer);
/* users_end_sessions ends every live session of the user with this email (an operator signing a
 * person out everywhere); *ended gets the count. AT_ENOTFOUND for an unknown email. */
int users_end_sessions(store *s, const char *email, int64_t *ended);
/* users_password_commit is the one place a password change takes effect, whatever asked for it (a
 * reset link, /me/password, `atrium user set-password`): on c (the caller's write transaction) it
 * stores `hash` (made before the transaction), clears the sign-in lock, voids every outstanding reset
 * token of the user and ends their sessions except keep_session_id (NULL: all). AT_ENOTFOUND when the
 * user does not exist. */
/* users_end_access voids every outstanding reset token of the user and ends their sessions except
 * keep_session_id (NULL: all), on c (the caller's write transaction): what follows any change of the
 * credentials (password or sign-in address). */
int users_end_access(store_conn *c, const char *user_id, const char *keep_session_id);
int users_password_commit(store_conn *c, const char *user_id, const char *hash, const char *keep_session_id);
/* users_set_password hashes the password (no transaction open), then in one write transaction checks
 * that the stored hash is still expected_hash (when not NULL: the hash the caller verified the current
 * password against; AT_EUNAUTH when it changed meanwhile) and calls users_password_commit. The caller
 * has checked the password policy. */
int users_set_password(store *s, const char *user_id, const char *password, size_t len, const char *keep_session_id,
                       const char *expected_hash);

/* users_list returns a new JSON array of every user (CLI). */
int users_list(store *s, json_t **out);
/* users_to_json returns a new object {id, email, name, developer, created_at}. */
json_t *users_to_json(const auth_user *u);

#endif
