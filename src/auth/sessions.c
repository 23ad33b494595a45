/* Session storage, resolution and the derived CSRF token. */
#include "auth/sessions.h"

#include "auth/mailtoken.h"
#include "base/clock.h"
#include "base/config.h"
#include "base/err.h"

#include <stdio.h>
#include <string.h>

enum { SESSION_TOUCH_US = 60 * 1000000LL, SESSION_UA_MAX = 255 };

static int64_t sessions_min(int64_t a, int64_t b)
{
    return a < b ? a : b;
}

int sessions_create(store_conn *c, const char *user_id, const char *ip, const char *user_agent,
                    char token_out[SESSION_TOKEN_MAX], auth_session *out)
{
    const config *cfg = config_get();
    char hash[CRYPTO_DIGEST_HEX];
    int64_t now = clock_now_us();
    int64_t idle = now + (int64_t)cfg->session_idle_s * 1000000;
    int64_t absolute = now + (int64_t)cfg->session_absolute_s * 1000000;

    crypto_token(32, token_out, SESSION_TOKEN_MAX);
    crypto_keyed_hex(token_out, strlen(token_out), hash);
    /* The stored User-Agent is capped, cut on a character boundary, and borrowed until the insert. */
    const char *ua = user_agent ? user_agent : "";
    size_t ua_len = strnlen(ua, SESSION_UA_MAX + 1);
    if (ua_len > SESSION_UA_MAX)
        for (ua_len = SESSION_UA_MAX; ua_len > 0 && ((unsigned char)ua[ua_len] & 0xC0) == 0x80; ua_len--)
            ;
    memset(out, 0, sizeof(*out));
    id_new("ses", out->id);
    snprintf(out->user_id, sizeof(out->user_id), "%s", user_id);
    out->created_at = now;
    out->expires_at = sessions_min(idle, absolute);
    store_arg args[] = {sa_text(out->id), sa_text(hash),     sa_text(user_id), sa_int(now),
                        sa_int(idle),     sa_int(absolute), sa_text(ip),      sa_textn(ua, ua_len)};
    return store_exec(c,
                      "INSERT INTO sessions (id, token_hash, user_id, created_at, last_seen_at, idle_expires_at, "
                      "absolute_expires_at, ip, user_agent) VALUES ($1, $2, $3, $4, $4, $5, $6, $7, $8)",
                      args, 8, NULL);
}

int sessions_resolve(store *s, const char *token, const char *ip, auth_session *out, auth_user *user_out)
{
    store_conn *c = NULL;
    store_rows *r = NULL;
    int64_t now = clock_now_us(), last_seen = 0, idle = 0, absolute = 0;
    int rc;

    if (!token || strlen(token) < 32 || strlen(token) >= SESSION_TOKEN_MAX)
        return AT_EUNAUTH;
    rc = store_acquire(s, &c);
    if (rc != AT_OK)
        return rc;
    store_arg args[] = {sa_text(NULL)};
    rc = mailtoken_query(c,
                         "SELECT s.id, s.user_id, s.created_at, s.last_seen_at, s.idle_expires_at, "
                         "s.absolute_expires_at, u.email, u.name, u.disabled, u.developer, u.created_at "
                         "FROM sessions s JOIN users u ON u.id = s.user_id WHERE s.token_hash = $1 AND "
                         "s.ended_at IS NULL",
                         token, args, 1, &r);
    if (rc != 1) {
        rc = rc == 0 ? AT_EUNAUTH : rc;
        goto out;
    }
    snprintf(out->id, sizeof(out->id), "%s", store_rows_text(r, 0));
    snprintf(out->user_id, sizeof(out->user_id), "%s", store_rows_text(r, 1));
    out->created_at = store_rows_int(r, 2);
    last_seen = store_rows_int(r, 3);
    idle = store_rows_int(r, 4);
    absolute = store_rows_int(r, 5);
    snprintf(user_out->id, sizeof(user_out->id), "%s", out->user_id);
    snprintf(user_out->email, sizeof(user_out->email), "%s", store_rows_text(r, 6));
    snprintf(user_out->name, sizeof(user_out->name), "%s", store_rows_text(r, 7));
    user_out->disabled = store_rows_int(r, 8) != 0;
    user_out->developer = store_rows_int(r, 9) != 0;
    user_out->created_at = store_rows_int(r, 10);
    store_rows_free(r);
    r = NULL;
    if (user_out->disabled || now >= idle || now >= absolute) {
        rc = AT_EUNAUTH;
        goto out;
    }
    out->expires_at = sessions_min(idle, absolute);
    if (now - last_seen >= SESSION_TOUCH_US) {
        int64_t new_idle = now + (int64_t)config_get()->session_idle_s * 1000000;
        store_arg touch[] = {sa_int(now), sa_int(new_idle), sa_text(ip), sa_text(out->id)};
        /* A lost touch only shortens the idle window; it must not fail the request. */
        if (store_exec(c, "UPDATE sessions SET last_seen_at = $1, idle_expires_at = $2, ip = $3 WHERE id = $4", touch,
                       4, NULL) == AT_OK)
            out->expires_at = sessions_min(new_idle, absolute);
    }
    rc = AT_OK;
out:
    store_rows_free(r);
    store_release(c);
    return rc;
}

int sessions_list(store *s, const char *user_id, const char *current_id, json_t **out)
{
    store_conn *c = NULL;
    store_rows *r = NULL;
    json_t *items = json_array();
    int64_t now = clock_now_us();
    int rc = store_acquire(s, &c);
    if (rc != AT_OK)
        goto out;
    store_arg args[] = {sa_text(user_id), sa_int(now)};
    rc = store_query(c,
                     "SELECT id, user_agent, ip, created_at, last_seen_at, idle_expires_at, absolute_expires_at "
                     "FROM sessions WHERE user_id = $1 AND ended_at IS NULL AND idle_expires_at > $2 "
                     "AND absolute_expires_at > $2 ORDER BY last_seen_at DESC, id DESC",
                     args, 2, &r);
    if (rc != AT_OK)
        goto out;
    while ((rc = store_rows_next(r)) == 1) {
        char created[32], seen[32], expires[32];
        clock_format_rfc3339(store_rows_int(r, 3), created);
        clock_format_rfc3339(store_rows_int(r, 4), seen);
        clock_format_rfc3339(sessions_min(store_rows_int(r, 5), store_rows_int(r, 6)), expires);
        json_array_append_new(items, json_pack("{s:s, s:b, s:s, s:s, s:s, s:s, s:s}", "id", store_rows_text(r, 0),
                                               "current", strcmp(store_rows_text(r, 0), current_id) == 0,
                                               "user_agent", store_rows_text(r, 1), "ip", store_rows_text(r, 2),
                                               "created_at", created, "last_seen_at", seen, "expires_at", expires));
    }
out:
    store_rows_free(r);
    if (c)
        store_release(c);
    if (rc < 0) {
        json_decref(items);
        return rc;
    }
    *out = items;
    return AT_OK;
}

/* Ends sessions of a user matching one extra condition; *ended gets the count. */
static int sessions_end_where(store *s, const char *sql, const char *user_id, const char *other, int64_t *ended)
{
    store_conn *c = NULL;
    int rc = store_acquire(s, &c);
    if (rc != AT_OK)
        return rc;
    store_arg args[] = {sa_int(clock_now_us()), sa_text(user_id), sa_text(other)};
    rc = store_exec(c, sql, args, 3, ended);
    store_release(c);
    return rc;
}

int sessions_end(store *s, const char *user_id, const char *session_id)
{
    int64_t ended = 0;
    int rc = sessions_end_where(s, "UPDATE sessions SET ended_at = $1 WHERE user_id = $2 AND id = $3 AND ended_at IS NULL",
                                user_id, session_id, &ended);
    if (rc == AT_OK && ended == 0)
        return AT_ENOTFOUND;
    return rc;
}

int sessions_end_others(store *s, const char *user_id, const char *keep_id, int64_t *ended)
{
    return sessions_end_where(s,
                              "UPDATE sessions SET ended_at = $1 WHERE user_id = $2 AND id <> $3 AND ended_at IS NULL",
                              user_id, keep_id, ended);
}

void sessions_csrf(const char *token, char out[SESSION_CSRF_MAX])
{
    char material[SESSION_TOKEN_MAX + 8];
    snprintf(material, sizeof(material), "csrf:%s", token);
    crypto_keyed_hex(material, strlen(material), out);
}

bool sessions_csrf_ok(const char *token, const char *sent)
{
    char material[SESSION_TOKEN_MAX + 8], want[SESSION_CSRF_MAX];
    if (!sent)
        return false;
    snprintf(material, sizeof(material), "csrf:%s", token);
    /* Under the key the sent token names: a page loaded before a key rotation keeps its token. */
    if (crypto_keyed_hex_like(sent, material, strlen(material), want) != AT_OK)
        return false;
    return crypto_equal(sent, strlen(sent), want, strlen(want));
}
