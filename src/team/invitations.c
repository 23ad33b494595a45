/* Invitations: batch creation under the seat limit, resend, revoke, reminders, lookup and acceptance. */
#include "team/invitations.h"

#include "billing/billing.h"

#include "base/buf.h"
#include "base/clock.h"
#include "base/config.h"
#include "base/crypto.h"
#include "base/err.h"
#include "base/mem.h"
#include "jobs/jobs.h"
#include "auth/login.h"
#include "auth/mailtoken.h"
#include "mail/mail.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define INV_COLS                                                                                                       \
    "i.id, i.email, i.role, i.status, i.expires_at, i.sent_at, i.resend_count, i.created_at, i.message, "            \
    "u.id, u.name, u.email, i.accepted_at, i.revoked_at, i.revoked_reason, i.workspace_id"

/* The status as people see it: a pending invitation past its expiry is expired. */
static const char *inv_status(store_rows *r, int64_t now)
{
    const char *st = store_rows_text(r, 3);
    return strcmp(st, "pending") == 0 && store_rows_int(r, 4) <= now ? "expired" : st;
}

static json_t *inv_row_json(store_rows *r, int64_t now)
{
    char expires[32], sent[32], created[32];
    clock_format_rfc3339(store_rows_int(r, 4), expires);
    clock_format_rfc3339(store_rows_int(r, 5), sent);
    clock_format_rfc3339(store_rows_int(r, 7), created);
    return json_pack("{s:s, s:s, s:s, s:s, s:s, s:s, s:I, s:s, s:s?, s:{s:s, s:s, s:s}}", "id", store_rows_text(r, 0),
                     "email", store_rows_text(r, 1), "role", store_rows_text(r, 2), "status", inv_status(r, now),
                     "expires_at", expires, "sent_at", sent, "resend_count", (json_int_t)store_rows_int(r, 6),
                     "created_at", created, "message", store_rows_text(r, 8), "inviter", "id", store_rows_text(r, 9),
                     "name", store_rows_text(r, 10), "email", store_rows_text(r, 11));
}

static void inv_read_row(store_rows *r, void *ctx)
{
    *(json_t **)ctx = inv_row_json(r, clock_now_us());
}

static int inv_load(store_conn *c, const char *ws_id, const char *inv_id, bool for_update, json_t **out)
{
    if (!inv_id || !id_valid("inv", inv_id, strlen(inv_id)))
        return AT_ENOTFOUND;
    store_arg args[] = {sa_text(ws_id), sa_text(inv_id)};
    return store_query_one(c,
                           for_update ? "SELECT " INV_COLS " FROM invitations i JOIN users u ON u.id = i.inviter_id "
                                        "WHERE i.workspace_id = $1 AND i.id = $2 FOR UPDATE"
                                      : "SELECT " INV_COLS " FROM invitations i JOIN users u ON u.id = i.inviter_id "
                                        "WHERE i.workspace_id = $1 AND i.id = $2",
                           args, 2, inv_read_row, out);
}

/* The associated data that binds a sealed token to its invitation. */
static void inv_aad(const char *ws_id, const char *inv_id, char out[128])
{
    snprintf(out, 128, "invitations.token:%s:%s", ws_id, inv_id);
}

/* Workspace and inviter names for the mail, as new strings the caller frees ("a workspace" and
 * "Someone" when they cannot be read). */
static void inv_names(store_conn *c, const char *ws_id, const char *user_id, char **ws_name, char **inviter)
{
    store_rows *r = NULL;
    store_arg args[] = {sa_text(ws_id), sa_text(user_id)};
    *ws_name = *inviter = NULL;
    if (store_query(c,
                    "SELECT w.name, u.name FROM workspaces w, users u "
                    "WHERE w.id = $1 AND u.id = $2",
                    args, 2, &r) == AT_OK &&
        store_rows_next(r) == 1) {
        *ws_name = xstrdup(store_rows_text(r, 0));
        *inviter = xstrdup(store_rows_text(r, 1));
    }
    store_rows_free(r);
    if (!*ws_name) {
        *ws_name = xstrdup("a workspace");
        *inviter = xstrdup("Someone");
    }
}

/* Enqueues the invitation (or reminder) mail carrying the link with `token`. */
static int inv_mail(store_conn *c, const char *ws_id, const char *inv_id, const char *email, const char *role,
                    const char *inviter_id, const char *message, const char *token, int64_t expires_at,
                    const char *template_id, const char *dedupe)
{
    char *ws_name, *inviter, expires[32];
    buf link;
    buf_init(&link);
    inv_names(c, ws_id, inviter_id, &ws_name, &inviter);
    buf_printf(&link, "%s/invitations/%s", config_public_url(), token);
    clock_format_rfc3339(expires_at, expires);
    json_t *vars = json_pack("{s:s, s:s, s:s, s:s, s:s}", "workspace", ws_name, "inviter", inviter, "role", role, "link",
                             link.data, "expires", expires);
    if (message)
        json_object_set_new(vars, "message", json_string(message));
    mail_request m = {ws_id, email, NULL, template_id, vars, dedupe};
    int rc = mail_enqueue(c, &m, NULL);
    json_decref(vars);
    free(ws_name);
    free(inviter);
    buf_free(&link);
    (void)inv_id;
    return rc;
}

/* Schedules the day-2 and day-5 reminders of the invitation's current link (generation = resends). */
static int inv_schedule_reminders(store_conn *c, const char *ws_id, const char *inv_id, int64_t sent_at,
                                  int64_t generation)
{
    static const int days[] = {2, 5};
    int rc = AT_OK;
    for (size_t i = 0; rc == AT_OK && i < 2; i++) {
        char payload[256], key[160];
        snprintf(payload, sizeof(payload), "{\"workspace_id\":\"%s\",\"invitation_id\":\"%s\",\"generation\":%lld}",
                 ws_id, inv_id, (long long)generation);
        snprintf(key, sizeof(key), "invitation.remind:%s:%lld:%d", inv_id, (long long)generation, days[i]);
        rc = jobs_enqueue(c, "invitation.remind", payload, sent_at + (int64_t)days[i] * 86400 * 1000000, 3, key, NULL);
    }
    return rc;
}

typedef struct inv_one {
    const char *ws_id, *email, *role, *message;
    const team_actor *who;
    const char *code; /* the refusal, when any */
    json_t *out;
} inv_one;

static int inv_create_tx(store_conn *c, void *ctx)
{
    inv_one *x = ctx;
    int64_t now = clock_now_us(), n = 0;
    team_seats seats;
    store_rows *r = NULL;
    store_arg ws[] = {sa_text(x->ws_id)};
    x->code = NULL;
    /* Lock the workspace row: concurrent invitations then count seats one after another. */
    int rc = store_query(c, "SELECT id FROM workspaces WHERE id = $1 FOR UPDATE", ws, 1, &r);
    store_rows_free(r);
    if (rc != AT_OK)
        return rc;
    store_arg member[] = {sa_text(x->ws_id), sa_text(x->email)};
    rc = store_query_int(c,
                         "SELECT COUNT(*) FROM memberships m JOIN users u ON u.id = m.user_id "
                         "WHERE m.workspace_id = $1 AND u.email = $2",
                         member, 2, &n);
    if (rc != AT_OK)
        return rc;
    if (n) {
        x->code = "already_member";
        return AT_ECONFLICT;
    }
    store_arg stale[] = {sa_text(x->ws_id), sa_text(x->email), sa_int(now)};
    rc = store_exec(c,
                    "UPDATE invitations SET status = 'expired' WHERE workspace_id = $1 AND email = $2 "
                    "AND status = 'pending' AND expires_at <= $3",
                    stale, 3, NULL);
    if (rc == AT_OK)
        rc = store_query_int(c,
                             "SELECT COUNT(*) FROM invitations WHERE workspace_id = $1 AND email = $2 "
                             "AND status = 'pending'",
                             member, 2, &n);
    if (rc != AT_OK)
        return rc;
    if (n) {
        x->code = "already_invited";
        return AT_ECONFLICT;
    }
    if ((rc = billing_lock_seats(c, x->ws_id)) != AT_OK || (rc = team_seats_get(c, x->ws_id, &seats)) != AT_OK)
        return rc;
    if (team_seats_full(&seats)) {
        x->code = "seats_full";
        return AT_ELIMIT;
    }
    char id[ID_MAX], token[SESSION_TOKEN_MAX], hash[CRYPTO_DIGEST_HEX], aad[128];
    id_new("inv", id);
    crypto_token(32, token, sizeof(token));
    crypto_keyed_hex(token, strlen(token), hash);
    inv_aad(x->ws_id, id, aad);
    char *sealed = crypto_seal(token, strlen(token), aad);
    int64_t expires = now + (int64_t)config_get()->invite_ttl_days * 86400 * 1000000;
    store_arg args[] = {sa_text(x->ws_id), sa_text(id),     sa_text(x->email), sa_text(x->role),
                        sa_text(x->who->user_id), sa_text(x->message), sa_text(hash), sa_text(sealed),
                        sa_int(expires),     sa_int(now)};
    rc = store_exec(c,
                    "INSERT INTO invitations (workspace_id, id, email, role, inviter_id, message, token_hash, "
                    "token_sealed, status, expires_at, sent_at, created_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, "
                    "'pending', $9, $10, $10)",
                    args, 10, NULL);
    free(sealed);
    json_t *changes = json_pack("{s:{s:n, s:s}, s:{s:n, s:s}}", "email", "before", "after", x->email, "role", "before",
                                "after", x->role);
    if (rc == AT_OK)
        rc = audit_append(c, x->ws_id, x->who->audit, "invitation.created", "invitation", id, changes);
    json_decref(changes);
    if (rc == AT_OK)
        rc = inv_mail(c, x->ws_id, id, x->email, x->role, x->who->user_id, x->message, token, expires, "invitation",
                      NULL);
    if (rc == AT_OK)
        rc = inv_schedule_reminders(c, x->ws_id, id, now, 0);
    memset(token, 0, sizeof(token));
    if (rc == AT_OK)
        rc = inv_load(c, x->ws_id, id, false, &x->out);
    return rc;
}

int inv_create(store *s, const char *ws_id, json_t *emails, const char *role, const char *message,
               const team_actor *who, json_t **results)
{
    if (policy_role_from_name(role) > who->role)
        return AT_EFORBIDDEN;
    json_t *list = json_array(), *seen = json_object();
    size_t i;
    json_t *e;
    json_array_foreach(emails, i, e)
    {
        char email[USER_EMAIL_MAX + 1];
        const char *raw = json_string_value(e);
        if (!raw || email_normalize(raw, json_string_length(e), email) != AT_OK) {
            json_array_append_new(list, json_pack("{s:s?, s:s, s:{s:s, s:s}}", "email", raw, "status", "error", "error",
                                                  "code", "invalid_email", "message", "This is not an email address."));
            continue;
        }
        if (json_object_get(seen, email)) {
            json_array_append_new(list, json_pack("{s:s, s:s, s:{s:s, s:s}}", "email", email, "status", "error",
                                                  "error", "code", "duplicate", "message",
                                                  "This address appears twice in the list."));
            continue;
        }
        json_object_set_new(seen, email, json_true());
        inv_one x = {ws_id, email, role, message, who, NULL, NULL};
        int rc = store_tx(s, true, inv_create_tx, &x);
        if (rc == AT_OK) {
            json_array_append_new(list, json_pack("{s:s, s:s, s:o}", "email", email, "status", "invited",
                                                  "invitation", x.out));
            continue;
        }
        json_decref(x.out);
        if (!x.code && rc == AT_EINVAL)
            x.code = "invalid_email"; /* the mail layer refused the address */
        if (!x.code) {
            json_decref(list);
            json_decref(seen);
            return rc;
        }
        const char *msg = strcmp(x.code, "already_member") == 0    ? "This person is already a member."
                          : strcmp(x.code, "already_invited") == 0 ? "This address already has a pending invitation."
                          : strcmp(x.code, "invalid_email") == 0   ? "This address cannot receive mail."
                                                                   : NULL;
        /* A sub-account whose agency provides its seats learns that they are full, never how many. */
        char *seats_msg = msg ? NULL : team_seats_refusal(s, ws_id);
        if (!msg)
            msg = seats_msg;
        json_array_append_new(list, json_pack("{s:s, s:s, s:{s:s, s:s}}", "email", email, "status", "error", "error",
                                              "code", x.code, "message", msg));
        free(seats_msg);
    }
    json_decref(seen);
    *results = list;
    return AT_OK;
}

int inv_list(store *s, const char *ws_id, const char *status, json_t **out)
{
    store_conn *c = NULL;
    store_rows *r = NULL;
    json_t *list = json_array();
    int64_t now = clock_now_us();
    const char *want = status ? status : "pending";
    int rc = store_acquire(s, &c);
    if (rc != AT_OK)
        goto out;
    store_arg args[] = {sa_text(ws_id)};
    rc = store_query(c,
                     "SELECT " INV_COLS " FROM invitations i JOIN users u ON u.id = i.inviter_id "
                     "WHERE i.workspace_id = $1 ORDER BY i.created_at DESC, i.id DESC LIMIT 500",
                     args, 1, &r);
    if (rc != AT_OK)
        goto out;
    while ((rc = store_rows_next(r)) == 1)
        if (strcmp(want, "all") == 0 || strcmp(inv_status(r, now), want) == 0)
            json_array_append_new(list, inv_row_json(r, now));
    if (rc >= 0)
        rc = AT_OK;
out:
    store_rows_free(r);
    if (c)
        store_release(c);
    if (rc != AT_OK) {
        json_decref(list);
        return rc;
    }
    *out = list;
    return AT_OK;
}

typedef struct inv_ctx {
    const char *ws_id, *inv_id;
    const team_actor *who;
    json_t *out;
} inv_ctx;

static int inv_resend_tx(store_conn *c, void *ctx)
{
    inv_ctx *x = ctx;
    json_t *cur = NULL;
    int rc = inv_load(c, x->ws_id, x->inv_id, true, &cur);
    if (rc != AT_OK)
        return rc;
    const char *status = json_string_value(json_object_get(cur, "status"));
    if (strcmp(status, "pending") != 0 && strcmp(status, "expired") != 0) {
        json_decref(cur);
        return AT_ECONFLICT;
    }
    /* The address may have joined, or been invited again, since this invitation expired. */
    if (strcmp(status, "expired") == 0) {
        int64_t n = 0;
        store_arg args[] = {sa_text(x->ws_id), sa_text(json_string_value(json_object_get(cur, "email"))),
                            sa_text(x->inv_id)};
        rc = store_query_int(c,
                             "SELECT (SELECT COUNT(*) FROM memberships m JOIN users u ON u.id = m.user_id WHERE "
                             "m.workspace_id = $1 AND u.email = $2) + (SELECT COUNT(*) FROM invitations WHERE "
                             "workspace_id = $1 AND email = $2 AND status = 'pending' AND id <> $3)",
                             args, 3, &n);
        if (rc == AT_OK && n)
            rc = AT_ECONFLICT;
        if (rc != AT_OK) {
            json_decref(cur);
            return rc;
        }
    }
    int64_t now = clock_now_us();
    int64_t generation = json_integer_value(json_object_get(cur, "resend_count")) + 1;
    char token[SESSION_TOKEN_MAX], hash[CRYPTO_DIGEST_HEX], aad[128];
    crypto_token(32, token, sizeof(token));
    crypto_keyed_hex(token, strlen(token), hash);
    inv_aad(x->ws_id, x->inv_id, aad);
    char *sealed = crypto_seal(token, strlen(token), aad);
    int64_t expires = now + (int64_t)config_get()->invite_ttl_days * 86400 * 1000000;
    store_arg args[] = {sa_text(hash), sa_text(sealed), sa_int(expires), sa_int(now), sa_text(x->ws_id),
                        sa_text(x->inv_id)};
    rc = store_exec(c,
                    "UPDATE invitations SET token_hash = $1, token_sealed = $2, status = 'pending', expires_at = $3, "
                    "sent_at = $4, resend_count = resend_count + 1 WHERE workspace_id = $5 AND id = $6",
                    args, 6, NULL);
    free(sealed);
    if (rc == AT_OK)
        rc = audit_append(c, x->ws_id, x->who->audit, "invitation.resent", "invitation", x->inv_id, NULL);
    if (rc == AT_OK)
        rc = inv_mail(c, x->ws_id, x->inv_id, json_string_value(json_object_get(cur, "email")),
                      json_string_value(json_object_get(cur, "role")), x->who->user_id,
                      json_string_value(json_object_get(cur, "message")), token, expires, "invitation", NULL);
    if (rc == AT_OK)
        rc = inv_schedule_reminders(c, x->ws_id, x->inv_id, now, generation);
    memset(token, 0, sizeof(token));
    json_decref(cur);
    if (rc == AT_OK)
        rc = inv_load(c, x->ws_id, x->inv_id, false, &x->out);
    return rc;
}

int inv_resend(store *s, const char *ws_id, const char *inv_id, const team_actor *who, json_t **out)
{
    inv_ctx x = {ws_id, inv_id, who, NULL};
    char bucket[128];
    int64_t retry = 0;
    store_conn *c = NULL;
    json_t *cur = NULL;
    /* The invitation must be this workspace's before anything is counted, so another tenant cannot
     * spend its resend allowance. */
    int rc = store_acquire(s, &c);
    if (rc != AT_OK)
        return rc;
    rc = inv_load(c, ws_id, inv_id, false, &cur);
    store_release(c);
    json_decref(cur);
    if (rc != AT_OK)
        return rc;
    /* At most 2 resends of one invitation and 30 in one workspace per minute. */
    snprintf(bucket, sizeof(bucket), "resend:%s:%s", ws_id, inv_id);
    rc = login_rate_hit(s, bucket, 2, &retry);
    if (rc == AT_OK) {
        snprintf(bucket, sizeof(bucket), "resend-ws:%s", ws_id);
        rc = login_rate_hit(s, bucket, 30, &retry);
    }
    if (rc != AT_OK)
        return rc;
    rc = store_tx(s, true, inv_resend_tx, &x);
    if (rc == AT_OK)
        *out = x.out;
    else
        json_decref(x.out);
    return rc;
}

static int inv_revoke_tx(store_conn *c, void *ctx)
{
    inv_ctx *x = ctx;
    json_t *cur = NULL;
    int rc = inv_load(c, x->ws_id, x->inv_id, true, &cur);
    if (rc != AT_OK)
        return rc;
    const char *status = json_string_value(json_object_get(cur, "status"));
    bool revocable = strcmp(status, "pending") == 0 || strcmp(status, "expired") == 0;
    json_decref(cur);
    if (!revocable)
        return AT_ECONFLICT;
    store_arg args[] = {sa_int(clock_now_us()), sa_text(x->ws_id), sa_text(x->inv_id)};
    rc = store_exec(c,
                    "UPDATE invitations SET status = 'revoked', revoked_at = $1, revoked_reason = 'cancelled' "
                    "WHERE workspace_id = $2 AND id = $3",
                    args, 3, NULL);
    if (rc == AT_OK)
        rc = audit_append(c, x->ws_id, x->who->audit, "invitation.revoked", "invitation", x->inv_id, NULL);
    return rc;
}

int inv_revoke(store *s, const char *ws_id, const char *inv_id, const team_actor *who)
{
    inv_ctx x = {ws_id, inv_id, who, NULL};
    return store_tx(s, true, inv_revoke_tx, &x);
}

/* Finds the invitation of a token on c: its workspace, id, email, role, status as people see it. */
static int inv_by_token(store_conn *c, const char *token, bool for_update, json_t **out)
{
    store_rows *r = NULL;
    if (!token || strlen(token) < 32 || strlen(token) >= SESSION_TOKEN_MAX)
        return AT_ENOTFOUND;
    store_arg args[] = {sa_text(NULL)};
    int rc = mailtoken_query(c,
                             for_update ? "SELECT " INV_COLS " FROM invitations i JOIN users u ON u.id = i.inviter_id "
                                          "WHERE i.token_hash = $1 FOR UPDATE"
                                        : "SELECT " INV_COLS " FROM invitations i JOIN users u ON u.id = i.inviter_id "
                                          "WHERE i.token_hash = $1",
                             token, args, 1, &r);
    if (rc == 1) {
        *out = inv_row_json(r, clock_now_us());
        json_object_set_new(*out, "workspace_id", json_string(store_rows_text(r, 15)));
        rc = AT_OK;
    } else if (rc == 0) {
        rc = AT_ENOTFOUND;
    }
    store_rows_free(r);
    return rc;
}

int inv_lookup(store *s, const char *token, json_t **out)
{
    store_conn *c = NULL;
    json_t *inv = NULL;
    char *ws_name = NULL, *inviter = NULL;
    int rc = store_acquire(s, &c);
    if (rc != AT_OK)
        return rc;
    rc = inv_by_token(c, token, false, &inv);
    if (rc == AT_OK) {
        const char *ws_id = json_string_value(json_object_get(inv, "workspace_id"));
        inv_names(c, ws_id, json_string_value(json_object_get(json_object_get(inv, "inviter"), "id")), &ws_name,
                  &inviter);
        *out = json_pack("{s:{s:s, s:s}, s:{s:s}, s:O, s:O, s:O, s:O, s:O}", "workspace", "id", ws_id, "name", ws_name,
                         "inviter", "name", inviter, "role", json_object_get(inv, "role"), "email",
                         json_object_get(inv, "email"), "status", json_object_get(inv, "status"), "expires_at",
                         json_object_get(inv, "expires_at"), "message", json_object_get(inv, "message"));
    }
    json_decref(inv);
    free(ws_name);
    free(inviter);
    store_release(c);
    return rc;
}

typedef struct inv_accept_ctx {
    const inv_accept_req *r;
    char ws_id[ID_MAX];
    auth_user *new_user;
    auth_session *session;
    char *token;
    const char *why;
    bool created_user;
    char hash[PASSWORD_HASH_MAX]; /* a new person's password, hashed before the transaction */
} inv_accept_ctx;

static int inv_accept_tx(store_conn *c, void *ctx)
{
    inv_accept_ctx *x = ctx;
    json_t *inv = NULL;
    team_seats seats;
    store_rows *rows = NULL;
    x->why = NULL;
    x->created_user = false;
    int rc = inv_by_token(c, x->r->token, true, &inv);
    if (rc != AT_OK)
        return rc;
    const char *status = json_string_value(json_object_get(inv, "status"));
    const char *email = json_string_value(json_object_get(inv, "email"));
    const char *inv_id = json_string_value(json_object_get(inv, "id"));
    snprintf(x->ws_id, sizeof(x->ws_id), "%s", json_string_value(json_object_get(inv, "workspace_id")));
    if (strcmp(status, "pending") != 0) {
        x->why = strcmp(status, "expired") == 0 ? "expired" : strcmp(status, "revoked") == 0 ? "revoked" : "accepted";
        rc = AT_ECONFLICT;
        goto out;
    }
    store_arg ws[] = {sa_text(x->ws_id)};
    rc = store_query(c, "SELECT status FROM workspaces WHERE id = $1 AND status <> 'deleted' FOR UPDATE", ws, 1, &rows);
    if (rc == AT_OK)
        rc = store_rows_next(rows) == 1 ? AT_OK : AT_ENOTFOUND;
    store_rows_free(rows);
    if (rc != AT_OK)
        goto out;
    auth_user user;
    if (x->r->user) {
        if (strcmp(x->r->user->email, email) != 0) {
            x->why = "email_mismatch";
            rc = AT_ECONFLICT;
            goto out;
        }
        user = *x->r->user;
    } else {
        rc = users_find_by_email(c, email, &user, NULL);
        if (rc == AT_OK) {
            x->why = "account_exists";
            rc = AT_ECONFLICT;
            goto out;
        }
        if (rc != AT_ENOTFOUND)
            goto out;
        rc = users_create(c, email, x->r->name, x->hash, false, &user);
        if (rc != AT_OK)
            goto out;
        x->created_user = true;
    }
    int64_t existing = 0;
    store_arg mem[] = {sa_text(x->ws_id), sa_text(user.id)};
    rc = store_query_int(c, "SELECT COUNT(*) FROM memberships WHERE workspace_id = $1 AND user_id = $2", mem, 2,
                         &existing);
    if (rc == AT_OK && existing) {
        x->why = "already_member";
        rc = AT_ECONFLICT;
    }
    /* Accepting needs a free seat among active members; other pending invitations do not block it. */
    if (rc == AT_OK)
        rc = billing_lock_seats(c, x->ws_id);
    if (rc == AT_OK && (rc = team_seats_get(c, x->ws_id, &seats)) == AT_OK && seats.active_members >= seats.limit)
        rc = AT_ELIMIT;
    if (rc == AT_OK)
        rc = ws_add_member(c, x->ws_id, user.id, json_string_value(json_object_get(inv, "role")),
                           json_string_value(json_object_get(json_object_get(inv, "inviter"), "id")));
    store_arg done[] = {sa_text(user.id), sa_int(clock_now_us()), sa_text(x->ws_id), sa_text(inv_id)};
    if (rc == AT_OK)
        rc = store_exec(c,
                        "UPDATE invitations SET status = 'accepted', accepted_by = $1, accepted_at = $2 "
                        "WHERE workspace_id = $3 AND id = $4",
                        done, 4, NULL);
    audit_actor actor = {"user", user.id, user.email, x->r->ip, x->r->user_agent, x->r->request_id};
    json_t *changes = json_pack("{s:{s:n, s:O}}", "role", "before", "after", json_object_get(inv, "role"));
    if (rc == AT_OK)
        rc = audit_append(c, x->ws_id, &actor, "invitation.accepted", "invitation", inv_id, changes);
    json_decref(changes);
    if (rc == AT_OK && !x->r->user) {
        *x->new_user = user;
        rc = sessions_create(c, user.id, x->r->ip, x->r->user_agent, x->token, x->session);
    }
out:
    json_decref(inv);
    return rc;
}

int inv_accept(store *s, const inv_accept_req *r, char ws_out[ID_MAX], auth_user *new_user, auth_session *session,
               char token_out[SESSION_TOKEN_MAX], const char **why)
{
    inv_accept_ctx x;
    memset(&x, 0, sizeof(x));
    x.r = r;
    x.new_user = new_user;
    x.session = session;
    x.token = token_out;
    /* Argon2 never runs inside a write transaction (issue 12, item 5). */
    int rc = r->user ? AT_OK : r->password ? password_hash(r->password, r->password_len, x.hash) : AT_EINVAL;
    if (rc == AT_OK)
        rc = store_tx(s, true, inv_accept_tx, &x);
    *why = x.why;
    if (rc == AT_OK)
        snprintf(ws_out, ID_MAX, "%s", x.ws_id);
    return rc;
}

/* The reminder job: when the invitation is still pending on the same link, mail the link again. */
static int inv_remind_job(job_ctx *ctx)
{
    const char *ws_id = json_string_value(json_object_get(ctx->payload, "workspace_id"));
    const char *inv_id = json_string_value(json_object_get(ctx->payload, "invitation_id"));
    json_int_t generation = json_integer_value(json_object_get(ctx->payload, "generation"));
    store_conn *c = NULL;
    store_rows *r = NULL;
    if (!ws_id || !inv_id) {
        snprintf(ctx->error, sizeof(ctx->error), "payload lacks workspace_id or invitation_id");
        return AT_EINVAL;
    }
    int rc = store_acquire(ctx->store, &c);
    if (rc != AT_OK)
        return rc;
    rc = store_begin(c, true);
    store_arg args[] = {sa_text(ws_id), sa_text(inv_id), sa_int(clock_now_us()), sa_int(generation)};
    if (rc == AT_OK)
        rc = store_query(c,
                         "SELECT email, role, inviter_id, token_sealed, expires_at, resend_count FROM invitations "
                         "WHERE workspace_id = $1 AND id = $2 AND status = 'pending' AND expires_at > $3 "
                         "AND resend_count = $4 FOR UPDATE",
                         args, 4, &r);
    if (rc == AT_OK && store_rows_next(r) == 1) {
        char aad[128], token[SESSION_TOKEN_MAX], dedupe[160];
        inv_aad(ws_id, inv_id, aad);
        if (crypto_open(store_rows_text(r, 3), aad, token, sizeof(token), NULL) == AT_OK) {
            /* One reminder mail per reminder job, however often the job runs. */
            snprintf(dedupe, sizeof(dedupe), "%s", ctx->id);
            rc = inv_mail(c, ws_id, inv_id, store_rows_text(r, 0), store_rows_text(r, 1), store_rows_text(r, 2), NULL,
                          token, store_rows_int(r, 4), "invitation_reminder", dedupe);
            memset(token, 0, sizeof(token));
        } else {
            snprintf(ctx->error, sizeof(ctx->error), "the sealed token does not open (key changed?)");
            rc = AT_EINTERNAL;
        }
    }
    store_rows_free(r);
    if (rc == AT_OK)
        rc = store_commit(c);
    else
        store_rollback(c);
    store_release(c);
    return rc;
}

void inv_register_jobs(void)
{
    jobs_register("invitation.remind", inv_remind_job);
}
