/* Pending, confirmed and undone email changes (emailchange.h). */
#include "profile/emailchange.h"

#include "auth/mailtoken.h"
#include "auth/users.h"
#include "base/clock.h"
#include "base/err.h"
#include "base/mem.h"
#include "mail/mail.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* One email_changes row as the confirm and undo steps need it; the strings are heap-owned. */
typedef struct emailchange_row {
    char id[ID_MAX];
    char user_id[ID_MAX];
    char *old_email, *new_email, *session_id;
} emailchange_row;

static void emailchange_row_free(emailchange_row *r)
{
    free(r->old_email);
    free(r->new_email);
    free(r->session_id);
    memset(r, 0, sizeof(*r));
}

/* Writes one event per workspace the user belongs to: the address is how admins know the person. */
static int emailchange_audit(store_conn *c, const char *user_id, const audit_actor *actor, const char *action,
                             const char *before, const char *after)
{
    store_rows *r = NULL;
    json_t *changes = json_object(), *ws = json_array();
    json_t *b = json_string(before), *a = json_string(after);
    audit_diff(changes, "email", b, a);
    store_arg args[] = {sa_text(user_id)};
    int rc =
        store_query(c, "SELECT workspace_id FROM memberships WHERE user_id = $1 ORDER BY workspace_id", args, 1, &r);
    /* Collected first: one cursor at a time, and audit_append runs statements of its own. */
    while (rc == AT_OK && (rc = store_rows_next(r)) == 1)
        json_array_append_new(ws, json_string(store_rows_text(r, 0)));
    store_rows_free(r);
    rc = rc < 0 ? rc : AT_OK;
    size_t i;
    json_t *w;
    json_array_foreach(ws, i, w)
    {
        if (rc == AT_OK)
            rc = audit_append(c, json_string_value(w), actor, action, "user", user_id, changes);
    }
    json_decref(ws);
    json_decref(changes);
    json_decref(b);
    json_decref(a);
    return rc;
}

/* Queues one of the two mails with a token link; to_name may be empty. */
static int emailchange_mail(store_conn *c, const char *template_id, const char *to, const char *to_name,
                            const char *new_email, const char *page, const char *token, int64_t expires_at)
{
    char expires[32];
    char *link = mailtoken_link(page, token);
    clock_format_rfc3339(expires_at, expires);
    json_t *vars =
        json_pack("{s:s, s:s, s:s, s:s}", "name", to_name, "new_email", new_email, "link", link, "expires", expires);
    mail_request m = {NULL, to, to_name, template_id, vars, NULL};
    int rc = vars ? mail_enqueue(c, &m, NULL) : AT_EINTERNAL;
    json_decref(vars);
    xfree_secret(link, strlen(link));
    return rc;
}

int emailchange_request(store_conn *c, const char *user_id, const char *new_email, const char *session_id,
                        const audit_actor *actor)
{
    auth_user u, other;
    char id[ID_MAX], token[MAILTOKEN_MAX], hash[CRYPTO_DIGEST_HEX];
    int64_t now = clock_now_us(), exp = now + EMAILCHANGE_CONFIRM_TTL_S * 1000000LL;
    int rc = users_find(c, user_id, &u, NULL);
    if (rc != AT_OK)
        return rc;
    rc = users_find_by_email(c, new_email, &other, NULL);
    if (rc == AT_OK)
        return AT_ECONFLICT;
    if (rc != AT_ENOTFOUND)
        return rc;
    /* A newer request replaces the pending one: only the latest link works. */
    store_arg cancel[] = {sa_int(now), sa_text(user_id)};
    rc = store_exec(c,
                    "UPDATE email_changes SET status = 'cancelled', decided_at = $1 WHERE user_id = $2 "
                    "AND status = 'pending'",
                    cancel, 2, NULL);
    if (rc != AT_OK)
        return rc;
    id_new("ech", id);
    mailtoken_new(token, hash);
    store_arg args[] = {sa_text(id),         sa_text(user_id), sa_text(u.email), sa_text(new_email),
                        sa_text(session_id), sa_text(hash),    sa_int(exp),      sa_int(now)};
    rc = store_exec(c,
                    "INSERT INTO email_changes (id, user_id, old_email, new_email, session_id, confirm_hash, "
                    "confirm_expires_at, status, created_at) VALUES ($1, $2, $3, $4, $5, $6, $7, 'pending', $8)",
                    args, 8, NULL);
    if (rc == AT_OK)
        rc = emailchange_mail(c, "email_change_confirm", new_email, u.name, new_email, "confirm-email", token, exp);
    if (rc == AT_OK)
        rc = emailchange_audit(c, user_id, actor, "user.email_change_requested", u.email, new_email);
    memset(token, 0, sizeof(token));
    return rc;
}

int emailchange_pending(store_conn *c, const char *user_id, json_t **out)
{
    store_rows *r = NULL;
    store_arg args[] = {sa_text(user_id), sa_int(clock_now_us())};
    int rc = store_query(c,
                         "SELECT new_email, confirm_expires_at FROM email_changes WHERE user_id = $1 "
                         "AND status = 'pending' AND confirm_expires_at > $2 ORDER BY created_at DESC LIMIT 1",
                         args, 2, &r);
    if (rc != AT_OK)
        return rc;
    rc = store_rows_next(r);
    if (rc == 1) {
        char expires[32];
        clock_format_rfc3339(store_rows_int(r, 1), expires);
        *out = json_pack("{s:s, s:s}", "email", store_rows_text(r, 0), "expires_at", expires);
        rc = AT_OK;
    } else if (rc == 0) {
        *out = json_null();
    }
    store_rows_free(r);
    return rc;
}

/* Finds the change whose confirm (or undo) token is live, locking it; AT_EINVAL when none. */
static int emailchange_find(store_conn *c, const char *sql, const char *token, emailchange_row *out)
{
    char hash[CRYPTO_DIGEST_HEX];
    store_rows *r = NULL;
    if (mailtoken_hash(token, hash) != AT_OK)
        return AT_EINVAL;
    store_arg args[] = {sa_text(NULL), sa_int(clock_now_us())};
    int rc = mailtoken_query(c, sql, token, args, 2, &r);
    if (rc == 1) {
        snprintf(out->id, sizeof(out->id), "%s", store_rows_text(r, 0));
        snprintf(out->user_id, sizeof(out->user_id), "%s", store_rows_text(r, 1));
        out->old_email = xstrdup(store_rows_text(r, 2));
        out->new_email = xstrdup(store_rows_text(r, 3));
        out->session_id = xstrdup(store_rows_is_null(r, 4) ? "" : store_rows_text(r, 4));
        rc = AT_OK;
    } else if (rc == 0) {
        rc = AT_EINVAL;
    }
    store_rows_free(r);
    return rc;
}

/* Sets the user's address to `to`; AT_ECONFLICT when another account uses it. */
static int emailchange_set_address(store_conn *c, const char *user_id, const char *to)
{
    store_arg args[] = {sa_text(to), sa_int(clock_now_us()), sa_text(user_id)};
    return store_exec(c, "UPDATE users SET email = $1, updated_at = $2 WHERE id = $3", args, 3, NULL);
}

typedef struct emailchange_step {
    const char *token;
    const audit_actor *actor;
} emailchange_step;

static int emailchange_confirm_tx(store_conn *c, void *ctx)
{
    emailchange_step *x = ctx;
    emailchange_row row = {0};
    auth_user u;
    char undo[MAILTOKEN_MAX], undo_hash[CRYPTO_DIGEST_HEX];
    int64_t now = clock_now_us(), undo_exp = now + EMAILCHANGE_UNDO_TTL_S * 1000000LL;
    int rc = emailchange_find(c,
                              "SELECT id, user_id, old_email, new_email, session_id FROM email_changes "
                              "WHERE confirm_hash = $1 AND status = 'pending' AND confirm_expires_at > $2 FOR UPDATE",
                              x->token, &row);
    if (rc != AT_OK)
        return rc;
    if ((rc = users_find(c, row.user_id, &u, NULL)) != AT_OK)
        goto cleanup_row;
    /* The address the change started from must still be the user's (an undo may have run since). */
    if (strcmp(u.email, row.old_email) != 0) {
        rc = AT_EINVAL;
        goto cleanup_row;
    }
    if ((rc = emailchange_set_address(c, row.user_id, row.new_email)) != AT_OK)
        goto cleanup_row;
    /* The link's holder proved the new address: the audit names the user by it. */
    audit_actor who = *x->actor;
    who.id = row.user_id;
    who.label = row.new_email;
    mailtoken_new(undo, undo_hash);
    store_arg done[] = {sa_int(now), sa_text(undo_hash), sa_int(undo_exp), sa_text(row.id)};
    rc = store_exec(c,
                    "UPDATE email_changes SET status = 'confirmed', decided_at = $1, undo_hash = $2, "
                    "undo_expires_at = $3 WHERE id = $4",
                    done, 4, NULL);
    /* The new address is the sign-in address now: other sessions end, reset links to the old one die. */
    if (rc == AT_OK)
        rc = users_end_access(c, row.user_id, row.session_id);
    if (rc == AT_OK)
        rc = emailchange_mail(c, "email_change_notice", row.old_email, u.name, row.new_email, "undo-email-change", undo,
                              undo_exp);
    if (rc == AT_OK)
        rc = emailchange_audit(c, row.user_id, &who, "user.email_changed", row.old_email, row.new_email);
    memset(undo, 0, sizeof(undo));
cleanup_row:
    emailchange_row_free(&row);
    return rc;
}

int emailchange_confirm(store *s, const char *token, const audit_actor *actor)
{
    emailchange_step x = {token, actor};
    return store_tx(s, true, emailchange_confirm_tx, &x);
}

static int emailchange_undo_tx(store_conn *c, void *ctx)
{
    emailchange_step *x = ctx;
    emailchange_row row = {0};
    int64_t now = clock_now_us();
    int rc = emailchange_find(c,
                              "SELECT id, user_id, old_email, new_email, session_id FROM email_changes "
                              "WHERE undo_hash = $1 AND status = 'confirmed' AND undo_expires_at > $2 FOR UPDATE",
                              x->token, &row);
    if (rc != AT_OK)
        return rc;
    /* Only the change that made the current address can be undone; a later one has replaced it. */
    auth_user u;
    if ((rc = users_find(c, row.user_id, &u, NULL)) == AT_OK && strcmp(u.email, row.new_email) != 0)
        rc = AT_EINVAL;
    if (rc == AT_OK)
        rc = emailchange_set_address(c, row.user_id, row.old_email);
    store_arg done[] = {sa_int(now), sa_text(row.id)};
    if (rc == AT_OK)
        rc = store_exec(c, "UPDATE email_changes SET status = 'undone', decided_at = $1 WHERE id = $2", done, 2, NULL);
    /* Whoever made the change may hold sessions, reset links or a newer pending change: all end. */
    store_arg cancel[] = {sa_int(now), sa_text(row.user_id)};
    if (rc == AT_OK)
        rc = store_exec(c,
                        "UPDATE email_changes SET status = 'cancelled', decided_at = $1 WHERE user_id = $2 "
                        "AND status = 'pending'",
                        cancel, 2, NULL);
    if (rc == AT_OK)
        rc = users_end_access(c, row.user_id, NULL);
    /* The link's holder proved the old address. */
    audit_actor who = *x->actor;
    who.id = row.user_id;
    who.label = row.old_email;
    if (rc == AT_OK)
        rc = emailchange_audit(c, row.user_id, &who, "user.email_change_undone", row.new_email, row.old_email);
    emailchange_row_free(&row);
    return rc;
}

int emailchange_undo(store *s, const char *token, const audit_actor *actor)
{
    emailchange_step x = {token, actor};
    return store_tx(s, true, emailchange_undo_tx, &x);
}
