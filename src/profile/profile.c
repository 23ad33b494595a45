/* The user's own profile. */
#include "profile/profile.h"

#include "base/clock.h"
#include "base/err.h"
#include "workspace/workspace.h"

#include <stdio.h>
#include <string.h>

const jv_field profile_fields[] = {
    {"name", JV_STRING, JV_TRIM, 1, USER_NAME_MAX_CHARS, users_check_name},
    {"email", JV_STRING, 0, 3, USER_EMAIL_MAX, users_check_email},
    {"current_password", JV_STRING, 0, 1, PASSWORD_MAX_BYTES, NULL},
    {"avatar_url", JV_STRING, JV_NULLABLE, 1, 2048, ws_check_https_url},
    {"timezone", JV_STRING, JV_NULLABLE, 1, 64, ws_check_timezone},
    {"locale", JV_STRING, JV_NULLABLE, 2, 35, ws_check_locale},
};
const size_t profile_field_count = sizeof(profile_fields) / sizeof(profile_fields[0]);

static int profile_load(store_conn *c, const char *user_id, json_t **out, char hash[PASSWORD_HASH_MAX])
{
    store_rows *r = NULL;
    store_arg args[] = {sa_text(user_id)};
    int rc = store_query(c,
                         "SELECT id, email, name, avatar_url, timezone, locale, developer, created_at, password_hash "
                         "FROM users WHERE id = $1",
                         args, 1, &r);
    if (rc != AT_OK)
        return rc;
    if ((rc = store_rows_next(r)) != 1) {
        store_rows_free(r);
        return rc == 0 ? AT_ENOTFOUND : rc;
    }
    char created[32];
    clock_format_rfc3339(store_rows_int(r, 7), created);
    *out = json_pack("{s:s, s:s, s:s, s:s?, s:s?, s:s?, s:b, s:s}", "id", store_rows_text(r, 0), "email",
                     store_rows_text(r, 1), "name", store_rows_text(r, 2), "avatar_url", store_rows_text(r, 3),
                     "timezone", store_rows_text(r, 4), "locale", store_rows_text(r, 5), "developer",
                     store_rows_int(r, 6) != 0, "created_at", created);
    if (hash)
        snprintf(hash, PASSWORD_HASH_MAX, "%s", store_rows_text(r, 8));
    store_rows_free(r);
    return AT_OK;
}

int profile_get(store *s, const char *user_id, json_t **out)
{
    store_conn *c = NULL;
    int rc = store_acquire(s, &c);
    if (rc != AT_OK)
        return rc;
    rc = profile_load(c, user_id, out, NULL);
    store_release(c);
    return rc;
}

typedef struct profile_ctx {
    const char *user_id, *keep_session_id;
    json_t *patch;
    bool wrong_password;
    json_t *out;
} profile_ctx;

/* The text value of a patched field, or the current one when the patch leaves it out. */
static const char *profile_value(json_t *patch, json_t *current, const char *key)
{
    json_t *v = json_object_get(patch, key);
    if (!v)
        v = json_object_get(current, key);
    return json_is_string(v) ? json_string_value(v) : NULL;
}

static int profile_patch_tx(store_conn *c, void *ctx)
{
    profile_ctx *p = ctx;
    json_t *cur = NULL;
    char hash[PASSWORD_HASH_MAX], email[USER_EMAIL_MAX + 1];
    int rc = profile_load(c, p->user_id, &cur, hash);
    if (rc != AT_OK)
        return rc;
    const char *new_email = json_string_value(json_object_get(cur, "email"));
    json_t *em = json_object_get(p->patch, "email");
    bool email_changes = false;
    if (em) {
        users_normalize_email(json_string_value(em), json_string_length(em), email);
        email_changes = strcmp(email, new_email) != 0;
        new_email = email;
    }
    if (email_changes) {
        json_t *pw = json_object_get(p->patch, "current_password");
        if (!pw || !password_verify(hash, json_string_value(pw), json_string_length(pw), NULL)) {
            p->wrong_password = true;
            json_decref(cur);
            return AT_EINVAL;
        }
    }
    int64_t now = clock_now_us();
    store_arg args[] = {sa_text(profile_value(p->patch, cur, "name")), sa_text(new_email),
                        sa_text(profile_value(p->patch, cur, "avatar_url")),
                        sa_text(profile_value(p->patch, cur, "timezone")),
                        sa_text(profile_value(p->patch, cur, "locale")), sa_int(now), sa_text(p->user_id)};
    rc = store_exec(c,
                    "UPDATE users SET name = $1, email = $2, avatar_url = $3, timezone = $4, locale = $5, "
                    "updated_at = $6 WHERE id = $7",
                    args, 7, NULL);
    if (rc == AT_OK && email_changes) {
        store_arg end[] = {sa_int(now), sa_text(p->user_id), sa_text(p->keep_session_id)};
        rc = store_exec(c, "UPDATE sessions SET ended_at = $1 WHERE user_id = $2 AND id <> $3 AND ended_at IS NULL",
                        end, 3, NULL);
    }
    json_decref(cur);
    if (rc == AT_OK)
        rc = profile_load(c, p->user_id, &p->out, NULL);
    return rc;
}

int profile_patch(store *s, const char *user_id, const char *keep_session_id, json_t *patch, bool *wrong_password,
                  json_t **out)
{
    profile_ctx p = {user_id, keep_session_id, patch, false, NULL};
    int rc = store_tx(s, true, profile_patch_tx, &p);
    *wrong_password = p.wrong_password;
    if (rc == AT_OK)
        *out = p.out;
    else
        json_decref(p.out);
    return rc;
}
