/* Sub-accounts of a root workspace and their lifecycle. */
#include "workspace/subaccounts.h"

#include "billing/billing.h"

#include "base/clock.h"
#include "base/err.h"
#include "base/mem.h"
#include "jobs/jobs.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define SUB_COLS                                                                                                       \
    "id, name, display_name, slug, status, status_reason, deletion_due_at, created_at, updated_at, timezone, "         \
    "billing_mode"

/* The children of $1 (not deleted), filtered by status $2 and search pattern $3. */
#define SUB_MATCH                                                                                                      \
    "parent_id = $1 AND status <> 'deleted' AND (CAST($2 AS TEXT) IS NULL OR status = $2) AND (CAST($3 AS TEXT) IS " \
    "NULL OR LOWER(name) LIKE $3 ESCAPE '!' OR LOWER(COALESCE(display_name, '')) LIKE $3 ESCAPE '!' OR slug LIKE $3 " \
    "ESCAPE '!')"
#define SUB_LIST_SQL(order)                                                                                            \
    "SELECT " SUB_COLS ", (SELECT COUNT(*) FROM memberships m WHERE m.workspace_id = w.id) FROM workspaces w WHERE "  \
    SUB_MATCH " ORDER BY " order " LIMIT $4 OFFSET $5"

const jv_field sub_create_fields[] = {
    {"name", JV_STRING, JV_REQUIRED | JV_TRIM, 1, 100, NULL},
    {"display_name", JV_STRING, JV_NULLABLE | JV_TRIM, 1, 100, NULL},
    {"slug", JV_STRING, 0, 3, 48, ws_check_slug},
    {"timezone", JV_STRING, 0, 1, 64, ws_check_timezone},
    {"locale", JV_STRING, 0, 2, 35, ws_check_locale},
    {"currency", JV_STRING, 0, 3, 3, ws_check_currency},
};
const size_t sub_create_field_count = sizeof(sub_create_fields) / sizeof(sub_create_fields[0]);

const jv_field sub_rename_fields[] = {
    {"name", JV_STRING, JV_TRIM, 1, 100, NULL},
    {"display_name", JV_STRING, JV_NULLABLE | JV_TRIM, 1, 100, NULL},
};
const size_t sub_rename_field_count = sizeof(sub_rename_fields) / sizeof(sub_rename_fields[0]);

/* Builds a summary object from a SUB_COLS row, plus the member count in column 11 when present. */
static json_t *sub_row_json(store_rows *r, bool with_members)
{
    char created[32], updated[32], due[32];
    clock_format_rfc3339(store_rows_int(r, 7), created);
    clock_format_rfc3339(store_rows_int(r, 8), updated);
    if (!store_rows_is_null(r, 6))
        clock_format_rfc3339(store_rows_int(r, 6), due);
    json_t *o = json_pack("{s:s, s:s, s:s?, s:s, s:s, s:s?, s:s?, s:s, s:s, s:s?}", "id", store_rows_text(r, 0), "name",
                          store_rows_text(r, 1), "display_name", store_rows_text(r, 2), "slug", store_rows_text(r, 3),
                          "status", store_rows_text(r, 4), "status_reason", store_rows_text(r, 5), "deletion_due_at",
                          store_rows_is_null(r, 6) ? NULL : due, "created_at", created, "updated_at", updated,
                          "timezone", store_rows_text(r, 9));
    /* Who pays for it: its agency ("parent", the default) or its own subscription ("own"). */
    json_object_set_new(o, "billing_mode", json_string(store_rows_text(r, 10)));
    if (with_members)
        json_object_set_new(o, "member_count", json_integer(store_rows_int(r, 11)));
    return o;
}

int sub_list(store *s, const char *root_id, const sub_query *q, json_t **items, int64_t *total, int64_t *next_offset)
{
    static const struct {
        const char *key, *sql;
    } sorts[] = {
        {"name", SUB_LIST_SQL("LOWER(name), id")},
        {"-name", SUB_LIST_SQL("LOWER(name) DESC, id DESC")},
        {"created_at", SUB_LIST_SQL("created_at, id")},
        {"-created_at", SUB_LIST_SQL("created_at DESC, id DESC")},
        {"status", SUB_LIST_SQL("status, LOWER(name), id")},
    };
    const char *sql = sorts[0].sql;
    for (size_t i = 0; i < sizeof(sorts) / sizeof(sorts[0]); i++)
        if (q->sort && strcmp(q->sort, sorts[i].key) == 0)
            sql = sorts[i].sql;
    /* The pattern on the heap at its longest (every byte escaped, two '%', the NUL): a fixed buffer
     * would search for a cut, possibly mid-character, query. */
    char *like = NULL;
    if (q->q && *q->q) {
        size_t cap = 2 * strlen(q->q) + 3;
        like = xmalloc(cap);
        store_like_contains(q->q, like, cap);
    }
    store_conn *c = NULL;
    store_rows *r = NULL;
    json_t *list = json_array();
    int limit = q->limit > 0 && q->limit <= 100 ? q->limit : 25;
    int rc = store_acquire(s, &c);
    if (rc != AT_OK)
        goto out;
    store_arg count_args[] = {sa_text(root_id), sa_text(q->status), sa_text(like)};
    rc = store_query_int(c, "SELECT COUNT(*) FROM workspaces WHERE " SUB_MATCH, count_args, 3, total);
    if (rc != AT_OK)
        goto out;
    store_arg args[] = {sa_text(root_id), sa_text(q->status), sa_text(like), sa_int(limit), sa_int(q->offset)};
    rc = store_query(c, sql, args, 5, &r);
    if (rc != AT_OK)
        goto out;
    int n = 0;
    while ((rc = store_rows_next(r)) == 1) {
        json_array_append_new(list, sub_row_json(r, true));
        n++;
    }
    if (rc < 0)
        goto out;
    rc = AT_OK;
    *next_offset = q->offset + n < *total ? q->offset + n : -1;
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

static void sub_read_row(store_rows *r, void *ctx)
{
    *(json_t **)ctx = sub_row_json(r, true);
}

/* Loads one child of root_id on c, optionally locking it. */
static int sub_load(store_conn *c, const char *root_id, const char *sub_id, bool for_update, json_t **out)
{
    if (!sub_id || !id_valid("ws", sub_id, strlen(sub_id)))
        return AT_ENOTFOUND;
    store_arg args[] = {sa_text(sub_id), sa_text(root_id)};
    return store_query_one(c,
                           for_update ? "SELECT " SUB_COLS ", (SELECT COUNT(*) FROM memberships m WHERE m.workspace_id "
                                        "= w.id) FROM workspaces w WHERE id = $1 AND parent_id = $2 AND status <> "
                                        "'deleted' FOR UPDATE"
                                      : "SELECT " SUB_COLS ", (SELECT COUNT(*) FROM memberships m WHERE m.workspace_id "
                                        "= w.id) FROM workspaces w WHERE id = $1 AND parent_id = $2 AND status <> "
                                        "'deleted'",
                           args, 2, sub_read_row, out);
}

int sub_get(store *s, const char *root_id, const char *sub_id, json_t **out)
{
    store_conn *c = NULL;
    int rc = store_acquire(s, &c);
    if (rc != AT_OK)
        return rc;
    rc = sub_load(c, root_id, sub_id, false, out);
    store_release(c);
    return rc;
}

/* The actor as recorded in the sub-account's own log: a root's user acting on it from the root is
 * acting through agency access there. */
static audit_actor sub_agency_actor(const audit_actor *a)
{
    audit_actor copy = *a;
    if (strcmp(copy.type, "user") == 0)
        copy.type = "agency";
    return copy;
}

typedef struct sub_ctx {
    const char *root_id;
    const char *sub_id;
    json_t *body;
    const char *reason;
    const audit_actor *actor;
    int move; /* for lifecycle: which move */
    json_t *out;
    char new_id[ID_MAX];
} sub_ctx;

static int sub_create_tx(store_conn *c, void *ctx)
{
    sub_ctx *x = ctx;
    store_rows *r = NULL;
    store_arg root[] = {sa_text(x->root_id)};
    /* The root must be a live root; lock it so its chain and counts stay consistent. */
    int rc = store_query(c, "SELECT kind, timezone, locale, currency FROM workspaces WHERE id = $1 FOR UPDATE", root, 1,
                         &r);
    if (rc != AT_OK)
        return rc;
    if ((rc = store_rows_next(r)) != 1 || strcmp(store_rows_text(r, 0), "root") != 0) {
        store_rows_free(r);
        return rc < 0 ? rc : AT_ENOTFOUND;
    }
    char tz[65], locale[36], currency[4];
    snprintf(tz, sizeof(tz), "%s", store_rows_text(r, 1) ? store_rows_text(r, 1) : "UTC");
    snprintf(locale, sizeof(locale), "%s", store_rows_text(r, 2) ? store_rows_text(r, 2) : "en-US");
    snprintf(currency, sizeof(currency), "%s", store_rows_text(r, 3) ? store_rows_text(r, 3) : "USD");
    store_rows_free(r);

    const char *name = json_string_value(json_object_get(x->body, "name"));
    json_t *dn = json_object_get(x->body, "display_name"), *slug = json_object_get(x->body, "slug");
    json_t *v;
    char slug_buf[49];
    if (slug)
        snprintf(slug_buf, sizeof(slug_buf), "%s", json_string_value(slug));
    else {
        /* Derived like a root's: the name's letters plus a random tail. */
        size_t n = 0;
        for (const char *p = name; *p && n < 36; p++) {
            char ch = *p;
            if ((ch >= 'a' && ch <= 'z') || (ch >= '0' && ch <= '9'))
                slug_buf[n++] = ch;
            else if (ch >= 'A' && ch <= 'Z')
                slug_buf[n++] = (char)(ch + 32);
            else if (n && slug_buf[n - 1] != '-')
                slug_buf[n++] = '-';
        }
        while (n && slug_buf[n - 1] == '-')
            n--;
        if (n < 3)
            n = (size_t)snprintf(slug_buf, sizeof(slug_buf), "sub");
        char id[ID_MAX];
        id_new("x", id);
        snprintf(slug_buf + n, sizeof(slug_buf) - n, "-%c%c%c%c%c%c", id[21] | 32, id[22] | 32, id[23] | 32,
                 id[24] | 32, id[25] | 32, id[26] | 32);
    }
    billing_refusal refusal;
    if ((rc = billing_sub_account_quota(c, x->root_id, &refusal)) != AT_OK)
        return rc;
    int64_t now = clock_now_us();
    id_new("ws", x->new_id);
    store_arg args[] = {sa_text(x->new_id),
                        sa_text(x->root_id),
                        sa_text(name),
                        sa_text(json_is_string(dn) ? json_string_value(dn) : NULL),
                        sa_text(slug_buf),
                        sa_text((v = json_object_get(x->body, "timezone")) ? json_string_value(v) : tz),
                        sa_text((v = json_object_get(x->body, "locale")) ? json_string_value(v) : locale),
                        sa_text((v = json_object_get(x->body, "currency")) ? json_string_value(v) : currency),
                        sa_text(x->actor->id),
                        sa_int(now)};
    rc = store_exec(c,
                    "INSERT INTO workspaces (id, kind, parent_id, name, display_name, slug, timezone, locale, currency, "
                    "status, entitlements, created_by, created_at, updated_at, seat_limit) VALUES ($1, 'sub_account', "
                    "$2, $3, $4, $5, $6, $7, $8, 'active', (SELECT entitlements FROM workspaces WHERE id = $2), $9, "
                    "$10, $10, (SELECT seat_limit FROM workspaces WHERE id = $2))",
                    args, 10, NULL);
    if (rc != AT_OK)
        return rc;
    json_t *changes = json_pack("{s:{s:n, s:s}}", "name", "before", "after", name);
    audit_actor agency = sub_agency_actor(x->actor);
    rc = audit_append(c, x->root_id, x->actor, "subaccount.created", "workspace", x->new_id, changes);
    if (rc == AT_OK)
        rc = audit_append(c, x->new_id, &agency, "workspace.created", "workspace", x->new_id, changes);
    json_decref(changes);
    if (rc == AT_OK)
        rc = sub_load(c, x->root_id, x->new_id, false, &x->out);
    return rc;
}

int sub_create(store *s, const char *root_id, json_t *body, const audit_actor *actor, json_t **out)
{
    sub_ctx x;
    memset(&x, 0, sizeof(x));
    x.root_id = root_id;
    x.body = body;
    x.actor = actor;
    int rc = store_tx(s, true, sub_create_tx, &x);
    if (rc == AT_OK)
        *out = x.out;
    else
        json_decref(x.out);
    return rc;
}

static int sub_rename_tx(store_conn *c, void *ctx)
{
    sub_ctx *x = ctx;
    json_t *before = NULL;
    int rc = sub_load(c, x->root_id, x->sub_id, true, &before);
    if (rc != AT_OK)
        return rc;
    json_t *changes = json_object();
    json_t *name = json_object_get(x->body, "name"), *dn = json_object_get(x->body, "display_name");
    if (name)
        audit_diff(changes, "name", json_object_get(before, "name"), name);
    if (dn)
        audit_diff(changes, "display_name", json_object_get(before, "display_name"), dn);
    if (json_object_size(changes)) {
        json_t *nn = name ? name : json_object_get(before, "name");
        json_t *nd = dn ? dn : json_object_get(before, "display_name");
        store_arg args[] = {sa_text(json_string_value(nn)), sa_text(json_is_string(nd) ? json_string_value(nd) : NULL),
                            sa_int(clock_now_us()), sa_text(x->sub_id)};
        rc = store_exec(c,
                        "UPDATE workspaces SET name = $1, display_name = $2, updated_at = $3, version = version + 1 "
                        "WHERE id = $4",
                        args, 4, NULL);
        if (rc == AT_OK)
            rc = audit_append(c, x->root_id, x->actor, "subaccount.renamed", "workspace", x->sub_id, changes);
        audit_actor agency = sub_agency_actor(x->actor);
        if (rc == AT_OK)
            rc = audit_append(c, x->sub_id, &agency, "workspace.updated", "workspace", x->sub_id, changes);
    }
    json_decref(changes);
    json_decref(before);
    if (rc == AT_OK)
        rc = sub_load(c, x->root_id, x->sub_id, false, &x->out);
    return rc;
}

int sub_rename(store *s, const char *root_id, const char *sub_id, json_t *body, const audit_actor *actor, json_t **out)
{
    sub_ctx x;
    memset(&x, 0, sizeof(x));
    x.root_id = root_id;
    x.sub_id = sub_id;
    x.body = body;
    x.actor = actor;
    int rc = store_tx(s, true, sub_rename_tx, &x);
    if (rc == AT_OK)
        *out = x.out;
    else
        json_decref(x.out);
    return rc;
}

enum { MOVE_SUSPEND, MOVE_REACTIVATE, MOVE_SCHEDULE_DELETION, MOVE_RESTORE };

static const struct {
    const char *from;   /* the status the move starts from */
    const char *to;
    const char *action; /* audit action */
} sub_moves[] = {
    [MOVE_SUSPEND] = {"active", "suspended", "subaccount.suspended"},
    [MOVE_REACTIVATE] = {"suspended", "active", "subaccount.reactivated"},
    [MOVE_SCHEDULE_DELETION] = {NULL, "pending_deletion", "subaccount.deletion_scheduled"},
    [MOVE_RESTORE] = {"pending_deletion", "active", "subaccount.restored"},
};

static int sub_move_tx(store_conn *c, void *ctx)
{
    sub_ctx *x = ctx;
    json_t *before = NULL;
    int rc = sub_load(c, x->root_id, x->sub_id, true, &before);
    if (rc != AT_OK)
        return rc;
    const char *status = json_string_value(json_object_get(before, "status"));
    const char *from = sub_moves[x->move].from;
    /* Deletion may be scheduled from active or suspended; every other move needs its exact status. */
    if ((from && strcmp(status, from) != 0) || (!from && strcmp(status, "pending_deletion") == 0)) {
        json_decref(before);
        return AT_ECONFLICT;
    }
    int64_t now = clock_now_us();
    int64_t due = now + (int64_t)WS_DELETION_DAYS * 86400 * 1000000;
    const char *reason = x->move == MOVE_SUSPEND ? x->reason
                         : x->move == MOVE_SCHEDULE_DELETION ? "This workspace is scheduled for deletion."
                                                              : NULL;
    store_arg args[] = {sa_text(sub_moves[x->move].to), sa_text(reason),
                        x->move == MOVE_SCHEDULE_DELETION ? sa_int(due) : sa_null(), sa_int(now), sa_text(x->sub_id)};
    rc = store_exec(c,
                    "UPDATE workspaces SET status = $1, status_reason = $2, deletion_due_at = $3, updated_at = $4, "
                    "version = version + 1 WHERE id = $5",
                    args, 5, NULL);
    json_t *changes = json_pack("{s:{s:s, s:s}}", "status", "before", status, "after", sub_moves[x->move].to);
    if (reason && x->move == MOVE_SUSPEND)
        json_object_set_new(changes, "status_reason", json_pack("{s:n, s:s}", "before", "after", reason));
    if (rc == AT_OK)
        rc = audit_append(c, x->root_id, x->actor, sub_moves[x->move].action, "workspace", x->sub_id, changes);
    audit_actor agency = sub_agency_actor(x->actor);
    if (rc == AT_OK)
        rc = audit_append(c, x->sub_id, &agency, sub_moves[x->move].action, "workspace", x->sub_id, changes);
    json_decref(changes);
    if (rc == AT_OK && x->move == MOVE_SCHEDULE_DELETION) {
        char payload[128], key[128];
        snprintf(payload, sizeof(payload), "{\"workspace_id\":\"%s\"}", x->sub_id);
        snprintf(key, sizeof(key), "workspace.delete:%s:%lld", x->sub_id, (long long)due);
        rc = jobs_enqueue(c, "workspace.delete", payload, due, 0, key, NULL);
    }
    json_decref(before);
    if (rc == AT_OK)
        rc = sub_load(c, x->root_id, x->sub_id, false, &x->out);
    return rc;
}

static int sub_move(store *s, const char *root_id, const char *sub_id, int move, const char *reason,
                    const audit_actor *actor, json_t **out)
{
    sub_ctx x;
    memset(&x, 0, sizeof(x));
    x.root_id = root_id;
    x.sub_id = sub_id;
    x.move = move;
    x.reason = reason;
    x.actor = actor;
    int rc = store_tx(s, true, sub_move_tx, &x);
    if (rc == AT_OK)
        *out = x.out;
    else
        json_decref(x.out);
    return rc;
}

int sub_suspend(store *s, const char *root_id, const char *sub_id, const char *reason, const audit_actor *actor,
                json_t **out)
{
    return sub_move(s, root_id, sub_id, MOVE_SUSPEND, reason, actor, out);
}

int sub_reactivate(store *s, const char *root_id, const char *sub_id, const audit_actor *actor, json_t **out)
{
    return sub_move(s, root_id, sub_id, MOVE_REACTIVATE, NULL, actor, out);
}

int sub_schedule_deletion(store *s, const char *root_id, const char *sub_id, const audit_actor *actor, json_t **out)
{
    return sub_move(s, root_id, sub_id, MOVE_SCHEDULE_DELETION, NULL, actor, out);
}

int sub_restore(store *s, const char *root_id, const char *sub_id, const audit_actor *actor, json_t **out)
{
    return sub_move(s, root_id, sub_id, MOVE_RESTORE, NULL, actor, out);
}

typedef struct sub_delete_ctx {
    const char *ws_id;
    bool deleted;
} sub_delete_ctx;

/* Deletes a sub-account whose deletion is still scheduled and due: it leaves every list and every
 * access check, its memberships and preferences go, and its audit trail stays for the record. A
 * restored workspace (or a rescheduled one) is left alone, so the job is safe to run twice. */
static int sub_delete_tx(store_conn *c, void *ctx)
{
    sub_delete_ctx *d = ctx;
    int64_t now = clock_now_us(), changed = 0;
    store_arg args[] = {sa_int(now), sa_text(d->ws_id)};
    /* The slug is freed for reuse; the row stays for the audit trail's sake. */
    int rc = store_exec(c,
                        "UPDATE workspaces SET status = 'deleted', slug = 'deleted-' || LOWER(id), updated_at = $1, "
                        "version = version + 1 WHERE id = $2 AND status = 'pending_deletion' AND deletion_due_at <= $1",
                        args, 2, &changed);
    if (rc != AT_OK || changed == 0)
        return rc;
    store_arg ws[] = {sa_text(d->ws_id)};
    rc = store_exec(c, "DELETE FROM memberships WHERE workspace_id = $1", ws, 1, NULL);
    if (rc == AT_OK)
        rc = store_exec(c, "DELETE FROM notification_prefs WHERE workspace_id = $1", ws, 1, NULL);
    audit_actor system = {"system", NULL, "Atrium", NULL, NULL, NULL};
    if (rc == AT_OK)
        rc = audit_append(c, d->ws_id, &system, "workspace.deleted", "workspace", d->ws_id, NULL);
    /* The root's own log says so too: the deleted chain is unreachable from now on. */
    char parent[ID_MAX] = "";
    store_rows *r = NULL;
    if (rc == AT_OK && (rc = store_query(c, "SELECT parent_id FROM workspaces WHERE id = $1", ws, 1, &r)) == AT_OK &&
        store_rows_next(r) == 1 && !store_rows_is_null(r, 0))
        snprintf(parent, sizeof(parent), "%s", store_rows_text(r, 0));
    store_rows_free(r);
    if (rc == AT_OK && parent[0])
        rc = audit_append(c, parent, &system, "subaccount.deleted", "workspace", d->ws_id, NULL);
    d->deleted = rc == AT_OK;
    return rc;
}

static int sub_delete_job(job_ctx *ctx)
{
    const char *ws = json_string_value(json_object_get(ctx->payload, "workspace_id"));
    if (!ws) {
        snprintf(ctx->error, sizeof(ctx->error), "payload has no workspace_id");
        return AT_EINVAL;
    }
    sub_delete_ctx d = {ws, false};
    return store_tx(ctx->store, true, sub_delete_tx, &d);
}

void sub_register_jobs(void)
{
    jobs_register("workspace.delete", sub_delete_job);
}
