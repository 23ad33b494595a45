/* Operator recovery: a user's workspaces, adding an owner, erasing a person (recovery.h). */
#include "team/recovery.h"

#include "auth/users.h"
#include "base/clock.h"
#include "base/err.h"
#include "base/mem.h"
#include "team/members.h"
#include "workspace/workspace.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

const audit_actor recovery_operator = {"system", NULL, "operator (atrium CLI)", NULL, NULL, NULL};

void recovery_result_free(recovery_result *r)
{
    free(r->ws_name);
    r->ws_name = NULL;
}

/* Finds the user id of an email on c; AT_ENOTFOUND with out->missing = "user". */
static int recovery_user(store_conn *c, const char *email, recovery_result *out, bool *disabled)
{
    auth_user u;
    int rc = users_find_by_email(c, email, &u, NULL);
    if (rc == AT_ENOTFOUND)
        out->missing = "user";
    if (rc == AT_OK) {
        snprintf(out->user_id, sizeof(out->user_id), "%s", u.id);
        if (disabled)
            *disabled = u.disabled;
    }
    return rc;
}

int recovery_user_workspaces(store *s, const char *email, json_t **out)
{
    store_conn *c = NULL;
    store_rows *r = NULL;
    recovery_result who;
    json_t *list = json_array();
    memset(&who, 0, sizeof(who));
    int rc = store_acquire(s, &c);
    if (rc != AT_OK)
        goto out;
    if ((rc = recovery_user(c, email, &who, NULL)) != AT_OK)
        goto out;
    store_arg args[] = {sa_text(who.user_id)};
    rc = store_query(c,
                     "SELECT w.id, COALESCE(w.display_name, w.name), w.kind, w.status, m.role, m.status "
                     "FROM memberships m JOIN workspaces w ON w.id = m.workspace_id WHERE m.user_id = $1 "
                     "ORDER BY 2, 1",
                     args, 1, &r);
    while (rc == AT_OK && (rc = store_rows_next(r)) == 1) {
        rc = AT_OK;
        json_array_append_new(list, json_pack("{s:s, s:s, s:s, s:s, s:s, s:s}", "workspace_id", store_rows_text(r, 0),
                                              "name", store_rows_text(r, 1), "kind", store_rows_text(r, 2),
                                              "workspace_status", store_rows_text(r, 3), "role", store_rows_text(r, 4),
                                              "member_status", store_rows_text(r, 5)));
    }
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

/* Reads the workspace's name and status (AT_ENOTFOUND with out->missing = "workspace"). */
static int recovery_workspace(store_conn *c, const char *ws_id, recovery_result *out, bool *deleted)
{
    store_rows *r = NULL;
    store_arg args[] = {sa_text(ws_id)};
    int rc = store_query(c, "SELECT COALESCE(display_name, name), status FROM workspaces WHERE id = $1", args, 1, &r);
    if (rc == AT_OK && (rc = store_rows_next(r)) == 1) {
        free(out->ws_name);
        out->ws_name = xstrdup(store_rows_text(r, 0));
        snprintf(out->ws_id, sizeof(out->ws_id), "%s", ws_id);
        *deleted = strcmp(store_rows_text(r, 1), "deleted") == 0;
        rc = AT_OK;
    } else if (rc == 0) {
        out->missing = "workspace";
        rc = AT_ENOTFOUND;
    }
    store_rows_free(r);
    return rc;
}

typedef struct recovery_ctx {
    const char *ws_id, *email;
    const audit_actor *actor;
    recovery_result *out;
} recovery_ctx;

static int recovery_add_owner_tx(store_conn *c, void *ctx)
{
    recovery_ctx *x = ctx;
    store_rows *r = NULL;
    bool deleted = false, disabled = false;
    char member_id[ID_MAX] = "", role[16] = "", status[16] = "";
    int rc = ws_lock(c, x->ws_id);
    if (rc == AT_OK)
        rc = recovery_workspace(c, x->ws_id, x->out, &deleted);
    if (rc == AT_OK)
        rc = recovery_user(c, x->email, x->out, &disabled);
    if (rc != AT_OK)
        return rc;
    if (deleted || disabled)
        return AT_EINVAL;
    store_arg args[] = {sa_text(x->ws_id), sa_text(x->out->user_id)};
    rc = store_query(c, "SELECT id, role, status FROM memberships WHERE workspace_id = $1 AND user_id = $2", args, 2,
                     &r);
    if (rc == AT_OK && store_rows_next(r) == 1) {
        snprintf(member_id, sizeof(member_id), "%s", store_rows_text(r, 0));
        snprintf(role, sizeof(role), "%s", store_rows_text(r, 1));
        snprintf(status, sizeof(status), "%s", store_rows_text(r, 2));
    }
    store_rows_free(r);
    if (rc != AT_OK)
        return rc;
    json_t *changes = json_object();
    const char *action = "member.role_changed";
    x->out->was_member = member_id[0] != '\0';
    if (x->out->was_member) {
        store_arg up[] = {sa_text(x->ws_id), sa_text(member_id)};
        rc = store_exec(c,
                        "UPDATE memberships SET role = 'owner', status = 'active', deactivated_at = NULL "
                        "WHERE workspace_id = $1 AND id = $2",
                        up, 2, NULL);
        json_t *was_role = json_string(role), *was_status = json_string(status);
        json_t *owner = json_string("owner"), *active = json_string("active");
        audit_diff(changes, "role", was_role, owner);
        audit_diff(changes, "status", was_status, active);
        json_decref(was_role), json_decref(was_status), json_decref(owner), json_decref(active);
    } else {
        rc = ws_add_member(c, x->ws_id, x->out->user_id, "owner", NULL);
        store_arg q[] = {sa_text(x->ws_id), sa_text(x->out->user_id)};
        store_rows *m = NULL;
        if (rc == AT_OK)
            rc = store_query(c, "SELECT id FROM memberships WHERE workspace_id = $1 AND user_id = $2", q, 2, &m);
        if (rc == AT_OK && store_rows_next(m) == 1)
            snprintf(member_id, sizeof(member_id), "%s", store_rows_text(m, 0));
        store_rows_free(m);
        action = "member.added";
        json_object_set_new(changes, "role", json_pack("{s:n, s:s}", "before", "after", "owner"));
        json_object_set_new(changes, "user", json_pack("{s:n, s:s}", "before", "after", x->out->user_id));
    }
    if (rc == AT_OK)
        rc = audit_append(c, x->ws_id, x->actor, action, "member", member_id, changes);
    json_decref(changes);
    return rc;
}

int recovery_add_owner(store *s, const char *ws_id, const char *email, const audit_actor *actor, recovery_result *out)
{
    memset(out, 0, sizeof(*out));
    recovery_ctx x = {ws_id, email, actor, out};
    return store_tx(s, true, recovery_add_owner_tx, &x);
}

/* The statements that remove what identifies the person beyond their memberships; $1 is the user id,
 * $2 the time. Audit events are left alone (their hashes cover them). */
static const char *const recovery_erase_sql[] = {
    "DELETE FROM sessions WHERE user_id = $1 AND CAST($2 AS BIGINT) IS NOT NULL",
    "DELETE FROM password_resets WHERE user_id = $1 AND CAST($2 AS BIGINT) IS NOT NULL",
    "DELETE FROM email_changes WHERE user_id = $1 AND CAST($2 AS BIGINT) IS NOT NULL",
    "DELETE FROM notification_prefs WHERE user_id = $1 AND CAST($2 AS BIGINT) IS NOT NULL",
    "UPDATE api_keys SET revoked_at = $2 WHERE owner_user_id = $1 AND revoked_at IS NULL",
    "UPDATE invitations SET status = 'revoked', revoked_at = $2, revoked_reason = 'person erased' "
    "WHERE status = 'pending' AND email = (SELECT email FROM users WHERE id = $1)",
    "UPDATE users SET email = 'erased+' || id || '@erased.invalid', name = 'Erased user', password_hash = '!', "
    "avatar_url = NULL, disabled = 1, developer = 0, failed_logins = 0, last_failed_at = NULL, locked_until = NULL, "
    "updated_at = $2 WHERE id = $1",
};

static int recovery_erase_tx(store_conn *c, void *ctx)
{
    recovery_ctx *x = ctx;
    store_rows *r = NULL;
    json_t *members = json_array();
    size_t i;
    json_t *m;
    int rc = recovery_user(c, x->email, x->out, NULL);
    if (rc != AT_OK)
        goto out;
    store_arg args[] = {sa_text(x->out->user_id)};
    rc = store_query(c, "SELECT workspace_id, id FROM memberships WHERE user_id = $1 ORDER BY workspace_id", args, 1,
                     &r);
    while (rc == AT_OK && (rc = store_rows_next(r)) == 1) {
        rc = AT_OK;
        json_array_append_new(members, json_pack("[s, s]", store_rows_text(r, 0), store_rows_text(r, 1)));
    }
    store_rows_free(r);
    if (rc != AT_OK)
        goto out;
    json_array_foreach(members, i, m)
    {
        const char *ws_id = json_string_value(json_array_get(m, 0));
        rc = members_end_membership(c, ws_id, json_string_value(json_array_get(m, 1)), x->actor, "member.removed");
        if (rc == AT_ECONFLICT) {
            bool deleted = false;
            if (recovery_workspace(c, ws_id, x->out, &deleted) != AT_OK)
                snprintf(x->out->ws_id, sizeof(x->out->ws_id), "%s", ws_id);
            rc = AT_ECONFLICT;
        }
        if (rc != AT_OK)
            goto out;
        x->out->count++;
    }
    store_arg erase[] = {sa_text(x->out->user_id), sa_int(clock_now_us())};
    for (i = 0; rc == AT_OK && i < sizeof recovery_erase_sql / sizeof recovery_erase_sql[0]; i++)
        rc = store_exec(c, recovery_erase_sql[i], erase, 2, NULL);
out:
    json_decref(members);
    return rc;
}

int recovery_erase_user(store *s, const char *email, const audit_actor *actor, recovery_result *out)
{
    memset(out, 0, sizeof(*out));
    recovery_ctx x = {NULL, email, actor, out};
    return store_tx(s, true, recovery_erase_tx, &x);
}
