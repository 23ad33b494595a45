/* Two-step ownership transfer. */
#include "team/ownership.h"

#include "base/buf.h"
#include "base/clock.h"
#include "base/config.h"
#include "base/err.h"
#include "mail/mail.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static int own_load(store_conn *c, const char *ws_id, bool for_update, json_t **out)
{
    store_rows *r = NULL;
    store_arg args[] = {sa_text(ws_id)};
    int rc = store_query(c,
                         for_update
                             ? "SELECT t.id, t.from_user, f.name, t.to_user, u.name, t.created_at FROM ownership_transfers t "
                               "JOIN users f ON f.id = t.from_user JOIN users u ON u.id = t.to_user "
                               "WHERE t.workspace_id = $1 AND t.status = 'pending' FOR UPDATE"
                             : "SELECT t.id, t.from_user, f.name, t.to_user, u.name, t.created_at FROM ownership_transfers t "
                               "JOIN users f ON f.id = t.from_user JOIN users u ON u.id = t.to_user "
                               "WHERE t.workspace_id = $1 AND t.status = 'pending'",
                         args, 1, &r);
    if (rc != AT_OK)
        return rc;
    rc = store_rows_next(r);
    if (rc == 1) {
        char at[32];
        clock_format_rfc3339(store_rows_int(r, 5), at);
        *out = json_pack("{s:s, s:{s:s, s:s}, s:{s:s, s:s}, s:s}", "id", store_rows_text(r, 0), "from", "id",
                         store_rows_text(r, 1), "name", store_rows_text(r, 2), "to", "id", store_rows_text(r, 3),
                         "name", store_rows_text(r, 4), "created_at", at);
        rc = AT_OK;
    } else if (rc == 0) {
        *out = json_null();
        rc = AT_OK;
    }
    store_rows_free(r);
    return rc;
}

int own_pending(store *s, const char *ws_id, json_t **out)
{
    store_conn *c = NULL;
    int rc = store_acquire(s, &c);
    if (rc != AT_OK)
        return rc;
    rc = own_load(c, ws_id, false, out);
    store_release(c);
    return rc;
}

typedef struct own_ctx {
    const char *ws_id, *member_id;
    const team_actor *who;
    json_t *out;
} own_ctx;

static int own_propose_tx(store_conn *c, void *ctx)
{
    own_ctx *x = ctx;
    json_t *member = NULL, *pending = NULL;
    int rc = members_get_on(c, x->ws_id, x->member_id, &member);
    if (rc != AT_OK)
        return rc;
    const char *to_user = json_string_value(json_object_get(json_object_get(member, "user"), "id"));
    if (strcmp(json_string_value(json_object_get(member, "status")), "active") != 0 ||
        strcmp(json_string_value(json_object_get(member, "role")), "owner") == 0) {
        json_decref(member);
        return AT_ECONFLICT;
    }
    rc = own_load(c, x->ws_id, true, &pending);
    if (rc == AT_OK && !json_is_null(pending))
        rc = AT_ECONFLICT;
    json_decref(pending);
    char id[ID_MAX];
    id_new("otr", id);
    store_arg args[] = {sa_text(x->ws_id), sa_text(id), sa_text(x->who->user_id), sa_text(to_user),
                        sa_int(clock_now_us())};
    if (rc == AT_OK)
        rc = store_exec(c,
                        "INSERT INTO ownership_transfers (workspace_id, id, from_user, to_user, status, created_at) "
                        "VALUES ($1, $2, $3, $4, 'pending', $5)",
                        args, 5, NULL);
    if (rc == AT_OK)
        rc = audit_append(c, x->ws_id, x->who->audit, "ownership.transfer_proposed", "member", x->member_id, NULL);
    if (rc == AT_OK) {
        char *ws_name = members_ws_name(c, x->ws_id, "your workspace");
        buf link;
        buf_init(&link);
        buf_printf(&link, "%s/w/%s/settings/team", config_public_url(), x->ws_id);
        json_t *vars = json_pack("{s:s, s:s, s:s, s:s}", "name",
                                 json_string_value(json_object_get(json_object_get(member, "user"), "name")),
                                 "workspace", ws_name, "from", x->who->name ? x->who->name : "An owner",
                                 "link", link.data);
        free(ws_name);
        buf_free(&link);
        /* A security notice: it always goes, whatever the preferences. */
        mail_request m = {x->ws_id, json_string_value(json_object_get(json_object_get(member, "user"), "email")),
                          json_string_value(json_object_get(json_object_get(member, "user"), "name")),
                          "ownership_transfer", vars, NULL};
        rc = mail_enqueue(c, &m, NULL);
        json_decref(vars);
    }
    json_decref(member);
    if (rc == AT_OK)
        rc = own_load(c, x->ws_id, false, &x->out);
    return rc;
}

int own_propose(store *s, const char *ws_id, const char *member_id, const team_actor *who, json_t **out)
{
    if (who->role != ROLE_OWNER || (who->audit && strcmp(who->audit->type, "agency") == 0))
        return AT_EFORBIDDEN;
    own_ctx x = {ws_id, member_id, who, NULL};
    int rc = store_tx(s, true, own_propose_tx, &x);
    if (rc == AT_OK)
        *out = x.out;
    else
        json_decref(x.out);
    return rc;
}

static int own_accept_tx(store_conn *c, void *ctx)
{
    own_ctx *x = ctx;
    json_t *pending = NULL;
    int rc = own_load(c, x->ws_id, true, &pending);
    if (rc != AT_OK)
        return rc;
    if (json_is_null(pending) ||
        strcmp(json_string_value(json_object_get(json_object_get(pending, "to"), "id")), x->who->user_id) != 0) {
        json_decref(pending);
        return AT_ENOTFOUND;
    }
    const char *from = json_string_value(json_object_get(json_object_get(pending, "from"), "id"));
    int64_t now = clock_now_us();
    store_arg swap_from[] = {sa_text(x->ws_id), sa_text(from)};
    store_arg swap_to[] = {sa_text(x->ws_id), sa_text(x->who->user_id)};
    store_arg done[] = {sa_int(now), sa_text(x->ws_id), sa_text(json_string_value(json_object_get(pending, "id")))};
    rc = store_exec(c,
                    "UPDATE memberships SET role = 'admin' WHERE workspace_id = $1 AND user_id = $2 AND role = 'owner'",
                    swap_from, 2, NULL);
    if (rc == AT_OK)
        rc = store_exec(c,
                        "UPDATE memberships SET role = 'owner' WHERE workspace_id = $1 AND user_id = $2 "
                        "AND status = 'active'",
                        swap_to, 2, NULL);
    if (rc == AT_OK)
        rc = store_exec(c,
                        "UPDATE ownership_transfers SET status = 'accepted', decided_at = $1 "
                        "WHERE workspace_id = $2 AND id = $3",
                        done, 3, NULL);
    if (rc == AT_OK)
        rc = ws_owner_invariant(c, x->ws_id, NULL, NULL);
    json_t *changes = json_pack("{s:{s:s, s:s}}", "owner", "before", from, "after", x->who->user_id);
    if (rc == AT_OK)
        rc = audit_append(c, x->ws_id, x->who->audit, "ownership.transferred", "workspace", x->ws_id, changes);
    json_decref(changes);
    json_decref(pending);
    if (rc == AT_OK)
        x->out = json_pack("{s:s}", "status", "accepted");
    return rc;
}

int own_accept(store *s, const char *ws_id, const team_actor *who, json_t **out)
{
    own_ctx x = {ws_id, NULL, who, NULL};
    int rc = store_tx(s, true, own_accept_tx, &x);
    if (rc == AT_OK)
        *out = x.out;
    else
        json_decref(x.out);
    return rc;
}

static int own_cancel_tx(store_conn *c, void *ctx)
{
    own_ctx *x = ctx;
    json_t *pending = NULL;
    int rc = own_load(c, x->ws_id, true, &pending);
    if (rc != AT_OK)
        return rc;
    bool party = !json_is_null(pending) &&
                 (strcmp(json_string_value(json_object_get(json_object_get(pending, "to"), "id")), x->who->user_id) == 0 ||
                  x->who->role == ROLE_OWNER);
    if (!party) {
        json_decref(pending);
        return AT_ENOTFOUND;
    }
    store_arg args[] = {sa_int(clock_now_us()), sa_text(x->ws_id),
                        sa_text(json_string_value(json_object_get(pending, "id")))};
    rc = store_exec(c,
                    "UPDATE ownership_transfers SET status = 'cancelled', decided_at = $1 WHERE workspace_id = $2 "
                    "AND id = $3",
                    args, 3, NULL);
    if (rc == AT_OK)
        rc = audit_append(c, x->ws_id, x->who->audit, "ownership.transfer_cancelled", "workspace", x->ws_id, NULL);
    json_decref(pending);
    return rc;
}

int own_cancel(store *s, const char *ws_id, const team_actor *who)
{
    own_ctx x = {ws_id, NULL, who, NULL};
    return store_tx(s, true, own_cancel_tx, &x);
}
