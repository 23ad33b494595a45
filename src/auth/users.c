/* User accounts in the store. */
#include "auth/users.h"

#include "base/clock.h"
#include "base/err.h"
#include "base/jsonv.h"
#include "workspace/workspace.h"

#include <stdio.h>
#include <string.h>

#define USER_COLS "id, email, name, disabled, developer, created_at, password_hash"

const char *users_check_name(const char *s, size_t len)
{
    for (size_t i = 0; i < len; i++)
        if ((unsigned char)s[i] < 0x20 || s[i] == 0x7f)
            return "Must not contain control characters.";
    return NULL;
}

/* Reads the current row of a USER_COLS query into out (and the hash when asked). */
static void users_read_row(store_rows *r, auth_user *out, char hash_out[PASSWORD_HASH_MAX])
{
    snprintf(out->id, sizeof(out->id), "%s", store_rows_text(r, 0));
    snprintf(out->email, sizeof(out->email), "%s", store_rows_text(r, 1));
    snprintf(out->name, sizeof(out->name), "%s", store_rows_text(r, 2));
    out->disabled = store_rows_int(r, 3) != 0;
    out->developer = store_rows_int(r, 4) != 0;
    out->created_at = store_rows_int(r, 5);
    if (hash_out)
        snprintf(hash_out, PASSWORD_HASH_MAX, "%s", store_rows_text(r, 6));
}

/* Runs a one-row user query; AT_ENOTFOUND when it returns nothing. */
static int users_find_by(store_conn *c, const char *sql, const char *value, auth_user *out,
                         char hash_out[PASSWORD_HASH_MAX])
{
    store_rows *r = NULL;
    store_arg args[] = {sa_text(value)};
    int rc = store_query(c, sql, args, 1, &r);
    if (rc != AT_OK)
        return rc;
    rc = store_rows_next(r);
    if (rc == 1) {
        users_read_row(r, out, hash_out);
        rc = AT_OK;
    } else if (rc == 0) {
        rc = AT_ENOTFOUND;
    }
    store_rows_free(r);
    return rc;
}

int users_find_by_email(store_conn *c, const char *email, auth_user *out, char hash_out[PASSWORD_HASH_MAX])
{
    return users_find_by(c, "SELECT " USER_COLS " FROM users WHERE email = $1", email, out, hash_out);
}

int users_find(store_conn *c, const char *id, auth_user *out, char hash_out[PASSWORD_HASH_MAX])
{
    return users_find_by(c, "SELECT " USER_COLS " FROM users WHERE id = $1", id, out, hash_out);
}

int users_create(store_conn *c, const char *email, const char *name, const char *hash, bool developer,
                 auth_user *out)
{
    memset(out, 0, sizeof(*out));
    /* The record's arrays hold the validated maximums in bytes; a value past them (a caller that did
     * not validate) is refused rather than stored cut. */
    if (strlen(email) > USER_EMAIL_MAX || strlen(name) >= sizeof(out->name) || utf8_length(name, strlen(name)) < 0)
        return AT_EINVAL;
    id_new("usr", out->id);
    snprintf(out->email, sizeof(out->email), "%s", email);
    snprintf(out->name, sizeof(out->name), "%s", name);
    out->developer = developer;
    out->created_at = clock_now_us();
    store_arg args[] = {sa_text(out->id), sa_text(out->email), sa_text(out->name), sa_text(hash),
                        sa_int(developer), sa_int(out->created_at)};
    return store_exec(c,
                      "INSERT INTO users (id, email, name, password_hash, disabled, developer, created_at, updated_at) "
                      "VALUES ($1, $2, $3, $4, 0, $5, $6, $6)",
                      args, 6, NULL);
}

typedef struct users_flag {
    const char *email;
    const char *update_sql; /* the whole UPDATE, one of two constants */
    bool value;
    bool end_sessions; /* disabling ends every session at once */
    char orphaned[ID_MAX]; /* the workspace the change would leave without an owner */
} users_flag;

static int users_flag_tx(store_conn *c, void *ctx)
{
    users_flag *f = ctx;
    int64_t changed = 0, now = clock_now_us();
    store_arg args[] = {sa_int(f->value), sa_int(now), sa_text(f->email)};
    int rc = store_exec(c, f->update_sql, args, 3, &changed);
    if (rc != AT_OK)
        return rc;
    if (changed == 0)
        return AT_ENOTFOUND;
    if (f->end_sessions && f->value) {
        store_arg end_args[] = {sa_int(now), sa_text(f->email)};
        rc = store_exec(c,
                        "UPDATE sessions SET ended_at = $1 WHERE ended_at IS NULL AND user_id = "
                        "(SELECT id FROM users WHERE email = $2)",
                        end_args, 2, NULL);
        /* Disabling the last active owner of a workspace would orphan it. */
        auth_user u;
        if (rc == AT_OK && (rc = users_find_by_email(c, f->email, &u, NULL)) == AT_OK)
            rc = ws_owner_invariant(c, NULL, u.id, f->orphaned);
    }
    return rc;
}

int users_set_disabled(store *s, const char *email, bool disabled)
{
    users_flag f = {email, "UPDATE users SET disabled = $1, updated_at = $2 WHERE email = $3", disabled, true, ""};
    return store_tx(s, true, users_flag_tx, &f);
}

int users_set_developer(store *s, const char *email, bool developer)
{
    users_flag f = {email, "UPDATE users SET developer = $1, updated_at = $2 WHERE email = $3", developer, false, ""};
    return store_tx(s, true, users_flag_tx, &f);
}

typedef struct users_end_ctx {
    const char *email;
    int64_t ended;
} users_end_ctx;

static int users_end_sessions_tx(store_conn *c, void *ctx)
{
    users_end_ctx *x = ctx;
    auth_user u;
    int rc = users_find_by_email(c, x->email, &u, NULL);
    if (rc != AT_OK)
        return rc;
    store_arg args[] = {sa_int(clock_now_us()), sa_text(u.id)};
    return store_exec(c, "UPDATE sessions SET ended_at = $1 WHERE user_id = $2 AND ended_at IS NULL", args, 2,
                      &x->ended);
}

int users_end_sessions(store *s, const char *email, int64_t *ended)
{
    users_end_ctx x = {email, 0};
    int rc = store_tx(s, true, users_end_sessions_tx, &x);
    *ended = x.ended;
    return rc;
}

int users_end_access(store_conn *c, const char *user_id, const char *keep_session_id)
{
    int64_t now = clock_now_us();
    /* A link mailed before the change must not set yet another password after it. */
    store_arg void_args[] = {sa_int(now), sa_text(user_id)};
    int rc = store_exec(c, "UPDATE password_resets SET used_at = $1 WHERE user_id = $2 AND used_at IS NULL",
                        void_args, 2, NULL);
    if (rc != AT_OK)
        return rc;
    store_arg end_args[] = {sa_int(now), sa_text(user_id), sa_text(keep_session_id ? keep_session_id : "")};
    return store_exec(c, "UPDATE sessions SET ended_at = $1 WHERE user_id = $2 AND ended_at IS NULL AND id <> $3",
                      end_args, 3, NULL);
}

int users_password_commit(store_conn *c, const char *user_id, const char *hash, const char *keep_session_id)
{
    int64_t now = clock_now_us(), changed = 0;
    store_arg args[] = {sa_text(hash), sa_int(now), sa_text(user_id)};
    int rc = store_exec(c,
                        "UPDATE users SET password_hash = $1, updated_at = $2, failed_logins = 0, locked_until = NULL "
                        "WHERE id = $3",
                        args, 3, &changed);
    if (rc != AT_OK)
        return rc;
    if (changed == 0)
        return AT_ENOTFOUND;
    return users_end_access(c, user_id, keep_session_id);
}

typedef struct users_pw_ctx {
    const char *user_id, *hash, *keep_session_id, *expected_hash;
} users_pw_ctx;

static int users_set_password_tx(store_conn *c, void *ctx)
{
    users_pw_ctx *x = ctx;
    if (x->expected_hash) {
        auth_user u;
        char stored[PASSWORD_HASH_MAX];
        int rc = users_find(c, x->user_id, &u, stored);
        if (rc != AT_OK)
            return rc;
        /* Changed since the current password was verified against it: that verification is void. */
        if (strcmp(stored, x->expected_hash) != 0)
            return AT_EUNAUTH;
    }
    return users_password_commit(c, x->user_id, x->hash, x->keep_session_id);
}

int users_set_password(store *s, const char *user_id, const char *password, size_t len, const char *keep_session_id,
                       const char *expected_hash)
{
    char hash[PASSWORD_HASH_MAX];
    int rc = password_hash(password, len, hash);
    if (rc != AT_OK)
        return rc;
    users_pw_ctx x = {user_id, hash, keep_session_id, expected_hash};
    return store_tx(s, true, users_set_password_tx, &x);
}

json_t *users_to_json(const auth_user *u)
{
    char created[32];
    clock_format_rfc3339(u->created_at, created);
    return json_pack("{s:s, s:s, s:s, s:b, s:s}", "id", u->id, "email", u->email, "name", u->name, "developer",
                     u->developer, "created_at", created);
}

int users_list(store *s, json_t **out)
{
    store_conn *c = NULL;
    store_rows *r = NULL;
    json_t *list = json_array();
    int rc = store_acquire(s, &c);
    if (rc != AT_OK)
        goto out;
    rc = store_query(c, "SELECT " USER_COLS " FROM users ORDER BY created_at, id", NULL, 0, &r);
    if (rc != AT_OK)
        goto out;
    while ((rc = store_rows_next(r)) == 1) {
        auth_user u;
        users_read_row(r, &u, NULL);
        json_t *j = users_to_json(&u);
        json_object_set_new(j, "disabled", json_boolean(u.disabled));
        json_array_append_new(list, j);
    }
out:
    store_rows_free(r);
    if (c)
        store_release(c);
    if (rc < 0) {
        json_decref(list);
        return rc;
    }
    *out = list;
    return AT_OK;
}
