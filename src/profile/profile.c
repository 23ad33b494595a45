/* The user's own profile. */
#include "profile/profile.h"

#include "auth/login.h"
#include "base/clock.h"
#include "base/err.h"
#include "profile/emailchange.h"
#include "workspace/workspace.h"

#include <stdio.h>
#include <string.h>

const jv_field profile_fields[] = {
    {"name", JV_STRING, JV_TRIM, 1, USER_NAME_MAX_CHARS, users_check_name},
    {"email", JV_STRING, 0, 3, USER_EMAIL_MAX, email_check},
    {"current_password", JV_STRING, 0, 1, PASSWORD_MAX_BYTES, NULL},
    {"avatar_url", JV_STRING, JV_NULLABLE, 1, 2048, ws_check_https_url},
    {"timezone", JV_STRING, JV_NULLABLE, 1, 64, ws_check_timezone},
    {"locale", JV_STRING, JV_NULLABLE, 2, 35, ws_check_locale},
};
const size_t profile_field_count = sizeof(profile_fields) / sizeof(profile_fields[0]);

/* Loads the user's profile on c as a new object, with the pending email change (or null). */
static int profile_load(store_conn *c, const char *user_id, json_t **out)
{
    store_rows *r = NULL;
    json_t *pending = NULL;
    store_arg args[] = {sa_text(user_id)};
    int rc = store_query(c,
                         "SELECT id, email, name, avatar_url, timezone, locale, developer, created_at "
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
    store_rows_free(r);
    rc = emailchange_pending(c, user_id, &pending);
    if (rc == AT_OK)
        json_object_set_new(*out, "pending_email", pending);
    else {
        json_decref(*out);
        *out = NULL;
    }
    return rc;
}

int profile_get(store *s, const char *user_id, json_t **out)
{
    store_conn *c = NULL;
    int rc = store_acquire(s, &c);
    if (rc != AT_OK)
        return rc;
    rc = profile_load(c, user_id, out);
    store_release(c);
    return rc;
}

typedef struct profile_ctx {
    const char *user_id, *session_id;
    json_t *patch, *cur;   /* cur: read before the transaction, to tell whether the email changes */
    const char *new_email; /* normalised, when the patch asks for another address; else NULL */
    const char *verified;  /* the hash the current password was verified against */
    const audit_actor *actor;
    profile_result *res;
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
    int64_t now = clock_now_us();
    int rc;
    /* A busy retry runs this again: drop what the previous attempt built. */
    json_decref(p->out);
    p->out = NULL;
    if (p->new_email) {
        auth_user u;
        char stored[PASSWORD_HASH_MAX];
        if ((rc = users_find(c, p->user_id, &u, stored)) != AT_OK)
            return rc;
        /* The password changed since it was verified outside this transaction: that check is void. */
        if (strcmp(stored, p->verified) != 0) {
            p->res->password_error = "incorrect";
            return AT_EINVAL;
        }
    }
    /* The fields the patch leaves out keep their values as of this transaction, not of the read
     * made before it, so a concurrent change of another field is not overwritten. */
    json_t *cur = NULL;
    if ((rc = profile_load(c, p->user_id, &cur)) != AT_OK)
        return rc;
    store_arg args[] = {sa_text(profile_value(p->patch, cur, "name")),
                        sa_text(profile_value(p->patch, cur, "avatar_url")),
                        sa_text(profile_value(p->patch, cur, "timezone")),
                        sa_text(profile_value(p->patch, cur, "locale")),
                        sa_int(now),
                        sa_text(p->user_id)};
    rc = store_exec(c,
                    "UPDATE users SET name = $1, avatar_url = $2, timezone = $3, locale = $4, updated_at = $5 "
                    "WHERE id = $6",
                    args, 6, NULL);
    json_decref(cur);
    /* A new address only becomes the sign-in address once its owner follows the mailed link. */
    if (rc == AT_OK && p->new_email) {
        rc = emailchange_request(c, p->user_id, p->new_email, p->session_id, p->actor);
        p->res->email_pending = rc == AT_OK;
    }
    if (rc == AT_OK)
        rc = profile_load(c, p->user_id, &p->out);
    return rc;
}

int profile_patch(store *s, const char *user_id, const char *session_id, json_t *patch, const audit_actor *actor,
                  profile_result *res, json_t **out)
{
    char email[EMAIL_MAX + 1], verified[PASSWORD_HASH_MAX];
    profile_ctx p = {user_id, session_id, patch, NULL, NULL, verified, actor, res, NULL};
    json_t *em = json_object_get(patch, "email"), *pw = json_object_get(patch, "current_password");
    memset(res, 0, sizeof(*res));
    int rc = profile_get(s, user_id, &p.cur);
    if (rc != AT_OK)
        return rc;
    if (em && email_normalize(json_string_value(em), json_string_length(em), email) == AT_OK &&
        strcmp(email, json_string_value(json_object_get(p.cur, "email"))) != 0)
        p.new_email = email;
    if (p.new_email) {
        /* Verified before the write transaction (Argon2 never runs inside one), under the limit every
         * check of a current password shares. */
        rc = pw ? login_check_current(s, user_id, json_string_value(pw), json_string_length(pw), verified,
                                      &res->retry_after_s)
                : AT_EINVAL;
        if (rc == AT_EINVAL || rc == AT_EUNAUTH) {
            res->password_error = pw ? "incorrect" : "required";
            rc = AT_EINVAL;
        }
    }
    if (rc == AT_OK)
        rc = store_tx(s, true, profile_patch_tx, &p);
    json_decref(p.cur);
    if (rc == AT_OK)
        *out = p.out;
    else
        json_decref(p.out);
    return rc;
}
