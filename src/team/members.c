/* Team members: list, roles, deactivation, removal, leaving, sessions and activity. */
#include "team/members.h"

#include "billing/billing.h"

#include "base/buf.h"
#include "base/clock.h"
#include "base/err.h"
#include "base/mem.h"
#include "mail/mail.h"
#include "profile/notifications.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define MEMBER_COLS                                                                                                    \
    "m.id, u.id, u.name, u.email, u.avatar_url, u.disabled, m.role, m.status, m.joined_at, m.last_active_at, "       \
    "m.invited_by, (SELECT COUNT(*) FROM audit_events e WHERE e.workspace_id = m.workspace_id AND e.actor_id = u.id " \
    "AND e.created_at >= $2), (SELECT COUNT(*) FROM sessions s WHERE s.user_id = u.id AND s.ended_at IS NULL AND "   \
    "s.idle_expires_at > $3 AND s.absolute_expires_at > $3)"

/* Members of $1 matching role $4, status $5 and the escaped pattern $6 (ESCAPE '!') in the name, or in the
 * email when $9 is 1 (a viewer who may not see addresses must not find people by them either). */
#define MEMBER_MATCH                                                                                                   \
    "m.workspace_id = $1 AND (CAST($4 AS TEXT) IS NULL OR m.role = $4) AND (CAST($5 AS TEXT) IS NULL OR m.status = "  \
    "$5) AND (CAST($6 AS TEXT) IS NULL OR LOWER(u.name) LIKE $6 ESCAPE '!' OR (CAST($9 AS BIGINT) = 1 AND u.email "   \
    "LIKE $6 ESCAPE '!'))"
#define MEMBER_LIST_SQL(order)                                                                                         \
    "SELECT " MEMBER_COLS " FROM memberships m JOIN users u ON u.id = m.user_id WHERE " MEMBER_MATCH               \
    " ORDER BY " order " LIMIT $7 OFFSET $8"

static int members_cancel_transfers(store_conn *c, const char *ws_id, const char *user_id);

static int team_role_rank(const char *role)
{
    return policy_role_from_name(role);
}

static json_t *members_row_json(store_rows *r)
{
    char joined[32], active[32];
    clock_format_rfc3339(store_rows_int(r, 8), joined);
    if (!store_rows_is_null(r, 9))
        clock_format_rfc3339(store_rows_int(r, 9), active);
    return json_pack("{s:s, s:{s:s, s:s, s:s, s:s?, s:b}, s:s, s:s, s:s, s:s?, s:s?, s:{s:I, s:I}}", "id",
                     store_rows_text(r, 0), "user", "id", store_rows_text(r, 1), "name", store_rows_text(r, 2),
                     "email", store_rows_text(r, 3), "avatar_url", store_rows_text(r, 4), "disabled",
                     store_rows_int(r, 5) != 0, "role", store_rows_text(r, 6), "status", store_rows_text(r, 7),
                     "joined_at", joined, "last_active_at", store_rows_is_null(r, 9) ? NULL : active, "invited_by",
                     store_rows_text(r, 10), "usage", "actions_30d", (json_int_t)store_rows_int(r, 11),
                     "open_sessions", (json_int_t)store_rows_int(r, 12));
}

/* The seat picture reads the subscription that pays for the workspace (its own, or its agency's): the
 * seats purchased there, and the members and pending invitations of every workspace it covers. */
int team_seats_get(store_conn *c, const char *ws_id, team_seats *out)
{
    billing_seats b;
    memset(out, 0, sizeof(*out));
    int rc = billing_seats_get(c, ws_id, &b);
    if (rc != AT_OK)
        return rc;
    out->limit = b.purchased;
    out->active_members = b.active_members;
    out->pending_invitations = b.pending_invitations;
    out->here_active = b.here_active;
    out->here_pending = b.here_pending;
    out->provided = strcmp(b.billed_by, ws_id) != 0;
    snprintf(out->payer, sizeof(out->payer), "%s", b.billed_by);
    return AT_OK;
}

bool team_seats_full(const team_seats *s)
{
    return s->active_members + s->pending_invitations >= s->limit;
}

json_t *team_seats_json(const team_seats *s, const char *payer_name)
{
    if (s->provided)
        return json_pack("{s:n, s:I, s:n, s:I, s:I, s:b, s:{s:s, s:s}}", "limit", "used",
                         (json_int_t)(s->here_active + s->here_pending), "available", "active_members",
                         (json_int_t)s->here_active, "pending_invitations", (json_int_t)s->here_pending, "full",
                         team_seats_full(s), "provided_by", "id", s->payer, "name", payer_name ? payer_name : "");
    int64_t used = s->active_members + s->pending_invitations;
    return json_pack("{s:I, s:I, s:I, s:I, s:I, s:b, s:n}", "limit", (json_int_t)s->limit, "used", (json_int_t)used,
                     "available", (json_int_t)(used < s->limit ? s->limit - used : 0), "active_members",
                     (json_int_t)s->active_members, "pending_invitations", (json_int_t)s->pending_invitations, "full",
                     team_seats_full(s), "provided_by");
}

char *team_seats_full_message(store_conn *c, const team_seats *s)
{
    buf m;
    buf_init(&m);
    if (s->provided) {
        char *payer = billing_payer_name(c, s->payer);
        buf_printf(&m, "All seats provided by %s are in use; ask %s to free one or add seats.",
                   *payer ? payer : "your agency", *payer ? payer : "it");
        free(payer);
    } else {
        buf_printf(&m, "All %lld seats are in use; free one or add seats in Billing.", (long long)s->limit);
    }
    return buf_steal(&m, NULL);
}

char *team_seats_refusal(store *s, const char *ws_id)
{
    store_conn *c = NULL;
    team_seats st;
    char *msg = NULL;
    if (store_acquire(s, &c) == AT_OK) {
        if (team_seats_get(c, ws_id, &st) == AT_OK)
            msg = team_seats_full_message(c, &st);
        store_release(c);
    }
    return msg ? msg : xstrdup("All seats are in use.");
}

int members_list(store *s, const char *ws_id, const member_query *q, json_t **items, int64_t *total,
                 int64_t *next_offset, json_t **seats)
{
    static const struct {
        const char *key, *sql;
    } sorts[] = {
        {"name", MEMBER_LIST_SQL("LOWER(u.name), m.id")},
        {"-name", MEMBER_LIST_SQL("LOWER(u.name) DESC, m.id DESC")},
        {"role", MEMBER_LIST_SQL("CASE m.role WHEN 'owner' THEN 0 WHEN 'admin' THEN 1 ELSE 2 END, LOWER(u.name), m.id")},
        {"joined_at", MEMBER_LIST_SQL("m.joined_at, m.id")},
        {"-joined_at", MEMBER_LIST_SQL("m.joined_at DESC, m.id DESC")},
        {"last_active_at", MEMBER_LIST_SQL("COALESCE(m.last_active_at, 0), m.id")},
        {"-last_active_at", MEMBER_LIST_SQL("COALESCE(m.last_active_at, 0) DESC, m.id DESC")},
    };
    const char *sql = sorts[0].sql;
    for (size_t i = 0; i < sizeof(sorts) / sizeof(sorts[0]); i++)
        if (q->sort && strcmp(q->sort, sorts[i].key) == 0)
            sql = sorts[i].sql;
    char *like = NULL;
    if (q->q && *q->q) {
        /* Escaping at most doubles each byte. */
        size_t cap = 2 * strlen(q->q) + 3;
        like = xmalloc(cap);
        store_like_contains(q->q, like, cap);
    }
    store_conn *c = NULL;
    store_rows *r = NULL;
    json_t *list = json_array();
    int64_t now = clock_now_us();
    int limit = q->limit > 0 && q->limit <= 100 ? q->limit : 50;
    int rc = store_acquire(s, &c);
    if (rc != AT_OK)
        goto out;
    store_arg count_args[] = {sa_text(ws_id), sa_int(0),          sa_int(0),
                              sa_text(q->role), sa_text(q->status), sa_text(like),
                              sa_int(0),        sa_int(0),          sa_int(q->names_only ? 0 : 1)};
    rc = store_query_int(c,
                         "SELECT COUNT(*) FROM memberships m JOIN users u ON u.id = m.user_id WHERE " MEMBER_MATCH
                         " AND CAST($2 AS BIGINT) <= CAST($3 AS BIGINT) AND CAST($7 AS BIGINT) <= CAST($8 AS BIGINT)",
                         count_args, 9, total);
    if (rc != AT_OK)
        goto out;
    store_arg args[] = {sa_text(ws_id),      sa_int(now - 30LL * 86400 * 1000000), sa_int(now),
                        sa_text(q->role),    sa_text(q->status),                  sa_text(like),
                        sa_int(limit),       sa_int(q->offset),                   sa_int(q->names_only ? 0 : 1)};
    rc = store_query(c, sql, args, 9, &r);
    if (rc != AT_OK)
        goto out;
    int n = 0;
    while ((rc = store_rows_next(r)) == 1) {
        json_array_append_new(list, members_row_json(r));
        n++;
    }
    if (rc < 0)
        goto out;
    *next_offset = q->offset + n < *total ? q->offset + n : -1;
    team_seats st;
    if ((rc = team_seats_get(c, ws_id, &st)) != AT_OK)
        goto out;
    char *payer = st.provided ? billing_payer_name(c, st.payer) : NULL;
    *seats = team_seats_json(&st, payer);
    free(payer);
out:
    free(like);
    store_rows_free(r);
    if (c)
        store_release(c);
    if (rc != AT_OK) {
        json_decref(list);
        return rc;
    }
    *items = list;
    return AT_OK;
}

static void members_read_row(store_rows *r, void *ctx)
{
    *(json_t **)ctx = members_row_json(r);
}

/* Loads one member of ws_id on c (optionally locked) with the user id and role. */
static int members_load(store_conn *c, const char *ws_id, const char *member_id, bool for_update, json_t **out)
{
    int64_t now = clock_now_us();
    if (!member_id || !id_valid("mem", member_id, strlen(member_id)))
        return AT_ENOTFOUND;
    store_arg args[] = {sa_text(ws_id), sa_int(now - 30LL * 86400 * 1000000), sa_int(now), sa_text(member_id)};
    return store_query_one(c,
                           for_update ? "SELECT " MEMBER_COLS " FROM memberships m JOIN users u ON u.id = m.user_id "
                                        "WHERE m.workspace_id = $1 AND m.id = $4 FOR UPDATE"
                                      : "SELECT " MEMBER_COLS " FROM memberships m JOIN users u ON u.id = m.user_id "
                                        "WHERE m.workspace_id = $1 AND m.id = $4",
                           args, 4, members_read_row, out);
}

int members_get_on(store_conn *c, const char *ws_id, const char *member_id, json_t **out)
{
    return members_load(c, ws_id, member_id, true, out);
}

int members_get(store *s, const char *ws_id, const char *member_id, json_t **out)
{
    store_conn *c = NULL;
    int rc = store_acquire(s, &c);
    if (rc != AT_OK)
        return rc;
    rc = members_load(c, ws_id, member_id, false, out);
    store_release(c);
    return rc;
}

int members_revoke_invitations_by(store_conn *c, const char *ws_id, const char *user_id, const char *reason)
{
    store_arg args[] = {sa_int(clock_now_us()), sa_text(reason), sa_text(ws_id), sa_text(user_id)};
    return store_exec(c,
                      "UPDATE invitations SET status = 'revoked', revoked_at = $1, revoked_reason = $2 "
                      "WHERE workspace_id = $3 AND inviter_id = $4 AND status = 'pending'",
                      args, 4, NULL);
}

/* May someone with role `actor` act on a member whose role is `cur`, leaving them with `nxt` (ROLE_NONE:
 * removal)? Owners act on anyone; admins on members and admins; nobody grants above their own role. */
static bool members_role_may(int actor, int cur, int nxt)
{
    if (actor < ROLE_ADMIN)
        return false;
    if (cur == ROLE_OWNER || nxt == ROLE_OWNER)
        return actor == ROLE_OWNER;
    return nxt <= actor && cur <= actor;
}

/* members_role_may for `who` in the workspace the request names, with roles by name (next NULL: removal). */
static bool members_may(const team_actor *who, const char *current, const char *next)
{
    return members_role_may(who->role, team_role_rank(current), next ? team_role_rank(next) : ROLE_NONE);
}

/* Sends the "team" mail a member gets when their membership changes, if they want it. */
static int members_mail(store_conn *c, const char *ws_id, json_t *member, const char *template_id, json_t *vars)
{
    const char *user_id = json_string_value(json_object_get(json_object_get(member, "user"), "id"));
    int rc = AT_OK;
    if (notif_wants(c, ws_id, user_id, "team", "email")) {
        mail_request m = {ws_id, json_string_value(json_object_get(json_object_get(member, "user"), "email")),
                          json_string_value(json_object_get(json_object_get(member, "user"), "name")), template_id,
                          vars, NULL};
        rc = mail_enqueue(c, &m, NULL);
    }
    json_decref(vars);
    return rc;
}

char *members_ws_name(store_conn *c, const char *ws_id, const char *fallback)
{
    store_rows *r = NULL;
    store_arg args[] = {sa_text(ws_id)};
    char *name = NULL;
    if (store_query(c, "SELECT name FROM workspaces WHERE id = $1", args, 1, &r) == AT_OK && store_rows_next(r) == 1)
        name = xstrdup(store_rows_text(r, 0));
    store_rows_free(r);
    return name ? name : xstrdup(fallback);
}

typedef struct members_ctx {
    const char *ws_id, *member_id, *role;
    bool active;
    const team_actor *who;
    json_t *out;
    int64_t ended;
    char *why; /* end-sessions: the reason of a refusal (owned) */
} members_ctx;

static int members_role_tx(store_conn *c, void *ctx)
{
    members_ctx *x = ctx;
    json_t *before = NULL;
    int rc = members_load(c, x->ws_id, x->member_id, true, &before);
    if (rc != AT_OK)
        return rc;
    const char *current = json_string_value(json_object_get(before, "role"));
    const char *user_id = json_string_value(json_object_get(json_object_get(before, "user"), "id"));
    if (strcmp(current, x->role) == 0) {
        x->out = before;
        return AT_OK;
    }
    if (!members_may(x->who, current, x->role)) {
        json_decref(before);
        return AT_EFORBIDDEN;
    }
    store_arg args[] = {sa_text(x->role), sa_text(x->ws_id), sa_text(x->member_id)};
    rc = store_exec(c, "UPDATE memberships SET role = $1 WHERE workspace_id = $2 AND id = $3", args, 3, NULL);
    if (rc == AT_OK)
        rc = ws_owner_invariant(c, x->ws_id, NULL, NULL);
    if (rc == AT_OK && team_role_rank(x->role) < team_role_rank(current))
        rc = members_revoke_invitations_by(c, x->ws_id, user_id, "inviter demoted");
    json_t *changes = json_pack("{s:{s:s, s:s}}", "role", "before", current, "after", x->role);
    if (rc == AT_OK)
        rc = audit_append(c, x->ws_id, x->who->audit, "member.role_changed", "member", x->member_id, changes);
    json_decref(changes);
    if (rc == AT_OK) {
        char *ws_name = members_ws_name(c, x->ws_id, "your workspace");
        rc = members_mail(c, x->ws_id, before, "role_changed",
                          json_pack("{s:s, s:s, s:s, s:s, s:s}", "name",
                                    json_string_value(json_object_get(json_object_get(before, "user"), "name")),
                                    "workspace", ws_name, "old_role", current, "new_role", x->role, "by",
                                    x->who->name ? x->who->name : "an administrator"));
        free(ws_name);
    }
    json_decref(before);
    if (rc == AT_OK)
        rc = members_load(c, x->ws_id, x->member_id, false, &x->out);
    return rc;
}

int members_set_role(store *s, const char *ws_id, const char *member_id, const char *role, const team_actor *who,
                     json_t **out)
{
    members_ctx x = {ws_id, member_id, role, false, who, NULL, 0, NULL};
    int rc = store_tx(s, true, members_role_tx, &x);
    if (rc == AT_OK)
        *out = x.out;
    else
        json_decref(x.out);
    return rc;
}

static int members_active_tx(store_conn *c, void *ctx)
{
    members_ctx *x = ctx;
    json_t *before = NULL;
    int rc = members_load(c, x->ws_id, x->member_id, true, &before);
    if (rc != AT_OK)
        return rc;
    const char *status = json_string_value(json_object_get(before, "status"));
    const char *role = json_string_value(json_object_get(before, "role"));
    const char *user_id = json_string_value(json_object_get(json_object_get(before, "user"), "id"));
    const char *next = x->active ? "active" : "deactivated";
    if (strcmp(status, next) == 0) {
        x->out = before;
        return AT_OK;
    }
    if (!members_may(x->who, role, role)) {
        json_decref(before);
        return AT_EFORBIDDEN;
    }
    if (x->active) {
        /* Coming back takes a seat again; the workspace row lock orders concurrent reactivations. */
        team_seats seats;
        rc = ws_lock(c, x->ws_id);
        if (rc == AT_OK)
            rc = billing_lock_seats(c, x->ws_id);
        if (rc == AT_OK)
            rc = team_seats_get(c, x->ws_id, &seats);
        if (rc == AT_OK && team_seats_full(&seats))
            rc = AT_ELIMIT;
    }
    store_arg args[] = {sa_text(next), x->active ? sa_null() : sa_int(clock_now_us()), sa_text(x->ws_id),
                        sa_text(x->member_id)};
    if (rc == AT_OK)
        rc = store_exec(c, "UPDATE memberships SET status = $1, deactivated_at = $2 WHERE workspace_id = $3 AND id = $4",
                        args, 4, NULL);
    if (rc == AT_OK)
        rc = ws_owner_invariant(c, x->ws_id, NULL, NULL);
    if (rc == AT_OK && !x->active)
        rc = members_revoke_invitations_by(c, x->ws_id, user_id, "inviter deactivated");
    if (rc == AT_OK && !x->active)
        rc = members_cancel_transfers(c, x->ws_id, user_id);
    json_t *changes = json_pack("{s:{s:s, s:s}}", "status", "before", status, "after", next);
    if (rc == AT_OK)
        rc = audit_append(c, x->ws_id, x->who->audit, x->active ? "member.reactivated" : "member.deactivated",
                          "member", x->member_id, changes);
    json_decref(changes);
    json_decref(before);
    if (rc == AT_OK)
        rc = members_load(c, x->ws_id, x->member_id, false, &x->out);
    return rc;
}

int members_set_active(store *s, const char *ws_id, const char *member_id, bool active, const team_actor *who,
                       json_t **out)
{
    members_ctx x = {ws_id, member_id, NULL, active, who, NULL, 0, NULL};
    int rc = store_tx(s, true, members_active_tx, &x);
    if (rc == AT_OK)
        *out = x.out;
    else
        json_decref(x.out);
    return rc;
}

/* Cancels a pending ownership transfer offered to or by the user: it must not outlive their
 * membership (a re-invited member could otherwise accept an old offer). */
static int members_cancel_transfers(store_conn *c, const char *ws_id, const char *user_id)
{
    store_arg args[] = {sa_int(clock_now_us()), sa_text(ws_id), sa_text(user_id)};
    return store_exec(c,
                      "UPDATE ownership_transfers SET status = 'cancelled', decided_at = $1 WHERE workspace_id = $2 "
                      "AND status = 'pending' AND (to_user = $3 OR from_user = $3)",
                      args, 3, NULL);
}

/* Deletes a membership row and everything that hangs on it; shared by removal and leaving. */
static int members_delete(store_conn *c, const char *ws_id, json_t *member, const audit_actor *actor,
                          const char *action)
{
    const char *member_id = json_string_value(json_object_get(member, "id"));
    const char *user_id = json_string_value(json_object_get(json_object_get(member, "user"), "id"));
    store_arg args[] = {sa_text(ws_id), sa_text(member_id)};
    int rc = store_exec(c, "DELETE FROM memberships WHERE workspace_id = $1 AND id = $2", args, 2, NULL);
    if (rc == AT_OK)
        rc = ws_owner_invariant(c, ws_id, NULL, NULL);
    if (rc == AT_OK)
        rc = members_revoke_invitations_by(c, ws_id, user_id, "inviter removed");
    if (rc == AT_OK)
        rc = members_cancel_transfers(c, ws_id, user_id);
    store_arg prefs[] = {sa_text(ws_id), sa_text(user_id)};
    if (rc == AT_OK)
        rc = store_exec(c, "DELETE FROM notification_prefs WHERE workspace_id = $1 AND user_id = $2", prefs, 2, NULL);
    json_t *changes = json_pack("{s:{s:s, s:n}, s:{s:s, s:n}}", "role", "before",
                                json_string_value(json_object_get(member, "role")), "after", "user", "before", user_id,
                                "after");
    if (rc == AT_OK)
        rc = audit_append(c, ws_id, actor, action, "member", member_id, changes);
    json_decref(changes);
    return rc;
}

int members_end_membership(store_conn *c, const char *ws_id, const char *member_id, const audit_actor *actor,
                           const char *action)
{
    json_t *before = NULL;
    int rc = members_load(c, ws_id, member_id, true, &before);
    if (rc == AT_OK)
        rc = members_delete(c, ws_id, before, actor, action);
    json_decref(before);
    return rc;
}

static int members_remove_tx(store_conn *c, void *ctx)
{
    members_ctx *x = ctx;
    json_t *before = NULL;
    int rc = members_load(c, x->ws_id, x->member_id, true, &before);
    if (rc != AT_OK)
        return rc;
    if (!members_may(x->who, json_string_value(json_object_get(before, "role")), NULL)) {
        json_decref(before);
        return AT_EFORBIDDEN;
    }
    /* The mail first: its preference check reads the preferences the removal deletes. */
    char *ws_name = members_ws_name(c, x->ws_id, "your workspace");
    rc = members_mail(c, x->ws_id, before, "member_removed",
                      json_pack("{s:s, s:s, s:s}", "name",
                                json_string_value(json_object_get(json_object_get(before, "user"), "name")),
                                "workspace", ws_name, "by", x->who->name ? x->who->name : "an administrator"));
    free(ws_name);
    if (rc == AT_OK)
        rc = members_delete(c, x->ws_id, before, x->who->audit, "member.removed");
    json_decref(before);
    return rc;
}

int members_remove(store *s, const char *ws_id, const char *member_id, const team_actor *who)
{
    members_ctx x = {ws_id, member_id, NULL, false, who, NULL, 0, NULL};
    return store_tx(s, true, members_remove_tx, &x);
}

static int members_leave_tx(store_conn *c, void *ctx)
{
    members_ctx *x = ctx;
    store_rows *r = NULL;
    char member_id[ID_MAX] = "";
    store_arg args[] = {sa_text(x->ws_id), sa_text(x->who->user_id)};
    int rc = store_query(c, "SELECT id FROM memberships WHERE workspace_id = $1 AND user_id = $2", args, 2, &r);
    if (rc == AT_OK && store_rows_next(r) == 1)
        snprintf(member_id, sizeof(member_id), "%s", store_rows_text(r, 0));
    store_rows_free(r);
    if (rc != AT_OK)
        return rc;
    if (!member_id[0])
        return AT_ENOTFOUND;
    return members_end_membership(c, x->ws_id, member_id, x->who->audit, "member.left");
}

int members_leave(store *s, const char *ws_id, const team_actor *who)
{
    members_ctx x = {ws_id, NULL, NULL, false, who, NULL, 0, NULL};
    return store_tx(s, true, members_leave_tx, &x);
}

/* Checks that `who` may act on the person user_id as a whole (ending their sessions signs them out
 * everywhere): in every other workspace where the person is an active member, the caller's own role
 * there (direct, or agency through its root: ws_effective_role) must manage the person's role there
 * (members_role_may). The workspace the request names is the caller's (checked by the caller of
 * this). AT_OK; AT_EFORBIDDEN with *why set to a new string (the caller frees it); a store error. */
static int members_person_check(store_conn *c, const char *ws_id, const char *user_id, const team_actor *who,
                                char **why)
{
    store_rows *r = NULL;
    store_arg args[] = {sa_text(user_id), sa_text(who->user_id ? who->user_id : ""), sa_text(ws_id)};
    int rc = store_query(c,
                         "SELECT w.name, m.role, dm.role, pm.role FROM memberships m "
                         "JOIN workspaces w ON w.id = m.workspace_id "
                         "LEFT JOIN memberships dm ON dm.workspace_id = w.id AND dm.user_id = $2 "
                         "AND dm.status = 'active' "
                         "LEFT JOIN memberships pm ON pm.workspace_id = w.parent_id AND pm.user_id = $2 "
                         "AND pm.status = 'active' "
                         "WHERE m.user_id = $1 AND m.status = 'active' AND w.status <> 'deleted' AND w.id <> $3 "
                         "ORDER BY w.id",
                         args, 3, &r);
    while (rc == AT_OK && store_rows_next(r) == 1) {
        int target = team_role_rank(store_rows_text(r, 1));
        int direct = store_rows_is_null(r, 2) ? ROLE_NONE : team_role_rank(store_rows_text(r, 2));
        int root = store_rows_is_null(r, 3) ? ROLE_NONE : team_role_rank(store_rows_text(r, 3));
        int mine = ws_effective_role(direct, root);
        if (members_role_may(mine, target, target))
            continue;
        buf b;
        buf_init(&b);
        /* Name only a workspace the caller reaches: elsewhere, saying where would tell them too much. */
        if (mine < ROLE_ADMIN)
            buf_puts(&b, "Ending sessions signs the person out of every workspace, and they are also a member of a "
                         "workspace you do not manage.");
        else
            buf_printf(&b, "Ending sessions signs the person out of every workspace, and in %s they are %s %s, a "
                           "role above yours there.",
                       store_rows_text(r, 0), target == ROLE_OWNER || target == ROLE_ADMIN ? "an" : "a",
                       store_rows_text(r, 1));
        *why = buf_steal(&b, NULL);
        rc = AT_EFORBIDDEN;
    }
    store_rows_free(r);
    return rc;
}

static int members_sessions_tx(store_conn *c, void *ctx)
{
    members_ctx *x = ctx;
    json_t *before = NULL;
    free(x->why);
    x->why = NULL;
    int rc = members_load(c, x->ws_id, x->member_id, true, &before);
    if (rc != AT_OK)
        return rc;
    const char *role = json_string_value(json_object_get(before, "role"));
    const char *user_id = json_string_value(json_object_get(json_object_get(before, "user"), "id"));
    if (strcmp(user_id, x->who->user_id ? x->who->user_id : "") == 0) {
        x->why = xstrdup("These are your own sessions: end them from your profile's list of sessions.");
        rc = AT_EFORBIDDEN;
    } else if (!members_may(x->who, role, role)) {
        x->why = xstrdup("Their role in this workspace is above yours.");
        rc = AT_EFORBIDDEN;
    } else {
        /* Sessions belong to the person, not to this membership. */
        rc = members_person_check(c, x->ws_id, user_id, x->who, &x->why);
    }
    store_arg args[] = {sa_int(clock_now_us()), sa_text(user_id)};
    if (rc == AT_OK)
        rc = store_exec(c, "UPDATE sessions SET ended_at = $1 WHERE user_id = $2 AND ended_at IS NULL", args, 2,
                        &x->ended);
    if (rc == AT_OK)
        rc = audit_append(c, x->ws_id, x->who->audit, "member.sessions_ended", "member", x->member_id, NULL);
    json_decref(before);
    return rc;
}

int members_end_sessions(store *s, const char *ws_id, const char *member_id, const team_actor *who, int64_t *ended,
                         char **why)
{
    members_ctx x = {ws_id, member_id, NULL, false, who, NULL, 0, NULL};
    int rc = store_tx(s, true, members_sessions_tx, &x);
    *ended = x.ended;
    if (rc == AT_EFORBIDDEN && x.why) {
        *why = x.why;
        x.why = NULL;
    }
    free(x.why);
    return rc;
}

int members_activity(store *s, const char *ws_id, const char *member_id, int limit, json_t **out)
{
    json_t *member = NULL;
    int rc = members_get(s, ws_id, member_id, &member);
    if (rc != AT_OK)
        return rc;
    const char *user_id = json_string_value(json_object_get(json_object_get(member, "user"), "id"));
    /* Events by the member, then events about them; merged newest first. */
    audit_filter by = {0}, about = {0}, about_user = {0};
    json_t *a = NULL, *b = NULL, *cc = NULL;
    int64_t next = 0;
    by.actor_id = user_id;
    about.target_id = member_id;
    about_user.target_id = user_id;
    by.since_us = about.since_us = about_user.since_us = INT64_MIN;
    by.until_us = about.until_us = about_user.until_us = INT64_MAX;
    by.limit = about.limit = about_user.limit = limit;
    rc = audit_list(s, ws_id, &by, &a, &next);
    if (rc == AT_OK)
        rc = audit_list(s, ws_id, &about, &b, &next);
    if (rc == AT_OK)
        rc = audit_list(s, ws_id, &about_user, &cc, &next);
    json_t *all = json_array();
    if (rc == AT_OK) {
        json_array_extend(all, a);
        size_t i;
        json_t *e;
        json_t *extra[] = {b, cc};
        for (int k = 0; k < 2; k++)
            json_array_foreach(extra[k], i, e)
            {
                bool dup = false;
                size_t j;
                json_t *have;
                json_array_foreach(all, j, have) dup = dup || json_equal(json_object_get(have, "id"), json_object_get(e, "id"));
                if (!dup)
                    json_array_append(all, e);
            }
        /* Newest first by sequence number. */
        size_t n = json_array_size(all);
        for (size_t x = 1; x < n; x++)
            for (size_t y = x; y > 0; y--) {
                json_t *p = json_array_get(all, y - 1), *q = json_array_get(all, y);
                if (json_integer_value(json_object_get(p, "seq")) >= json_integer_value(json_object_get(q, "seq")))
                    break;
                json_incref(p);
                json_array_set(all, y - 1, q);
                json_array_set_new(all, y, p);
            }
        while (json_array_size(all) > (size_t)limit)
            json_array_remove(all, json_array_size(all) - 1);
    }
    json_decref(a);
    json_decref(b);
    json_decref(cc);
    json_decref(member);
    if (rc != AT_OK) {
        json_decref(all);
        return rc;
    }
    *out = all;
    return AT_OK;
}

void members_touch(store *s, const char *ws_id, const char *user_id)
{
    store_conn *c = NULL;
    int64_t now = clock_now_us();
    if (store_acquire(s, &c) != AT_OK)
        return;
    store_arg args[] = {sa_int(now), sa_text(ws_id), sa_text(user_id), sa_int(now - 60 * 1000000LL)};
    /* Best effort: a lost update only makes "last active" a minute older. */
    (void)store_exec(c,
                     "UPDATE memberships SET last_active_at = $1 WHERE workspace_id = $2 AND user_id = $3 "
                     "AND (last_active_at IS NULL OR last_active_at < $4)",
                     args, 4, NULL);
    store_release(c);
}
