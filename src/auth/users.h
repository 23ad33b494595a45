/* User accounts: `usr_` ids, a normalised email unique across the installation, a name, an Argon2id
 * password hash, a disabled flag and the developer-access flag that only operators grant (CLI). */
#ifndef AT_USERS_H
#define AT_USERS_H

#include "auth/password.h"
#include "base/id.h"
#include "store/store.h"

#include <jansson.h>
#include <stdbool.h>
#include <stdint.h>

enum { USER_EMAIL_MAX = 254, USER_NAME_MAX_CHARS = 100 };

typedef struct auth_user {
    char id[ID_MAX];
    char email[USER_EMAIL_MAX + 1];
    char name[USER_NAME_MAX_CHARS * 4 + 1];
    bool disabled;
    bool developer;
    int64_t created_at;
} auth_user;

/* users_normalize_email trims nothing and lower-cases ASCII; returns AT_EINVAL when (s, len) is not a
 * plausible address (one @, non-empty local part ≤ 64, a dotted domain, no spaces or controls). */
int users_normalize_email(const char *s, size_t len, char out[USER_EMAIL_MAX + 1]);
/* jv_string_check-compatible: NULL when acceptable, else why not. */
const char *users_check_email(const char *s, size_t len);
const char *users_check_name(const char *s, size_t len);

/* users_create hashes the password and inserts the user on c (the caller's transaction). The caller
 * has checked the password policy. Returns AT_OK, AT_ECONFLICT (email taken) or a store error. */
int users_create(store_conn *c, const char *email, const char *name, const char *password, size_t password_len,
                 bool developer, auth_user *out);
/* users_find_by_email loads a user and (optionally) its password hash. AT_ENOTFOUND when absent. */
int users_find_by_email(store_conn *c, const char *email, auth_user *out, char hash_out[PASSWORD_HASH_MAX]);
int users_find(store_conn *c, const char *id, auth_user *out, char hash_out[PASSWORD_HASH_MAX]);

/* Operator actions by email (CLI). Disabling also ends every session of the user. */
int users_set_disabled(store *s, const char *email, bool disabled);
int users_set_developer(store *s, const char *email, bool developer);
/* users_set_password stores a new hash and ends the user's sessions except keep_session_id (NULL: all). */
int users_set_password(store_conn *c, const char *user_id, const char *password, size_t len,
                       const char *keep_session_id);

/* users_list returns a new JSON array of every user (CLI). */
int users_list(store *s, json_t **out);
/* users_to_json returns a new object {id, email, name, developer, created_at}. */
json_t *users_to_json(const auth_user *u);

#endif
