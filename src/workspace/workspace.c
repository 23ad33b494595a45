/* Workspaces: access resolution, the switcher, creation, and the settings document. */
#include "workspace/workspace.h"

#include "billing/billing.h"

#include "base/clock.h"
#include "base/config.h"
#include "base/crypto.h"
#include "base/err.h"
#include "base/text.h"

#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Resolves the workspace for user_id; with forced_role set (a service API key, which is no member),
 * the workspace's own facts are loaded and that role is given. */
static int ws_resolve_internal(store *s, const char *user_id, const char *ws_id, int forced_role, ws_access *out);

int ws_resolve(store *s, const char *user_id, const char *ws_id, ws_access *out)
{
    return ws_resolve_internal(s, user_id, ws_id, ROLE_NONE, out);
}

int ws_resolve_as(store *s, const char *ws_id, int role, ws_access *out)
{
    return ws_resolve_internal(s, "", ws_id, role, out);
}

static int ws_resolve_internal(store *s, const char *user_id, const char *ws_id, int forced_role, ws_access *out)
{
    store_conn *c = NULL;
    store_rows *r = NULL;
    memset(out, 0, sizeof(*out));
    if (!ws_id || !id_valid("ws", ws_id, strlen(ws_id)))
        return AT_ENOTFOUND;
    int rc = store_acquire(s, &c);
    if (rc != AT_OK)
        return rc;
    store_arg args[] = {sa_text(ws_id), sa_text(user_id)};
    rc = store_query(c,
                     "SELECT w.id, w.kind, w.parent_id, w.status, w.status_reason, w.entitlements, m.role, pm.role, "
                     "m.status, m.last_active_at FROM workspaces w "
                     "LEFT JOIN memberships m ON m.workspace_id = w.id AND m.user_id = $2 "
                     "LEFT JOIN memberships pm ON pm.workspace_id = w.parent_id AND pm.user_id = $2 "
                     "AND pm.status = 'active' "
                     "WHERE w.id = $1 AND w.status <> 'deleted'",
                     args, 2, &r);
    if (rc != AT_OK)
        goto out;
    if ((rc = store_rows_next(r)) != 1) {
        rc = rc == 0 ? AT_ENOTFOUND : rc;
        goto out;
    }
    bool deactivated = !store_rows_is_null(r, 8) && strcmp(store_rows_text(r, 8), "active") != 0;
    int direct = store_rows_is_null(r, 6) || deactivated ? ROLE_NONE : policy_role_from_name(store_rows_text(r, 6));
    int parent = store_rows_is_null(r, 7) ? ROLE_NONE : policy_role_from_name(store_rows_text(r, 7));
    int agency = ws_agency_role(parent);
    out->role = ws_effective_role(direct, parent);
    out->agency = agency > direct;
    if (forced_role != ROLE_NONE) {
        out->role = forced_role;
        out->agency = false;
    }
    out->last_active_at = store_rows_is_null(r, 9) ? 0 : store_rows_int(r, 9);
    if (out->role == ROLE_NONE) {
        rc = deactivated ? AT_EFORBIDDEN : AT_ENOTFOUND;
        goto out;
    }
    snprintf(out->id, sizeof(out->id), "%s", store_rows_text(r, 0));
    out->kind = strcmp(store_rows_text(r, 1), "root") == 0 ? WS_ROOT : WS_SUB_ACCOUNT;
    snprintf(out->parent_id, sizeof(out->parent_id), "%s", store_rows_is_null(r, 2) ? "" : store_rows_text(r, 2));
    snprintf(out->status, sizeof(out->status), "%s", store_rows_text(r, 3));
    /* Valid reasons always fit; an older, longer one is cut at a character boundary, never inside one. */
    const char *reason = store_rows_is_null(r, 4) ? "" : store_rows_text(r, 4);
    size_t rlen = text_utf8_cut(reason, sizeof(out->status_reason) - 1);
    memcpy(out->status_reason, reason, rlen);
    out->status_reason[rlen] = '\0';
    json_t *features = json_loads(store_rows_text(r, 5), 0, NULL);
    size_t i, n = 0;
    json_t *f;
    json_array_foreach(features, i, f)
    {
        if (n < WS_MAX_FEATURES && json_is_string(f)) {
            snprintf(out->feature_buf[n], sizeof(out->feature_buf[n]), "%s", json_string_value(f));
            out->features[n] = out->feature_buf[n];
            n++;
        }
    }
    out->features[n] = NULL;
    json_decref(features);
    rc = AT_OK;
out:
    store_rows_free(r);
    store_release(c);
    return rc;
}

int ws_agency_role(int root_role)
{
    return root_role >= ROLE_ADMIN ? root_role : ROLE_NONE;
}

int ws_effective_role(int direct, int root_role)
{
    int agency = ws_agency_role(root_role);
    return direct > agency ? direct : agency;
}

bool ws_locked(const ws_access *a)
{
    return !a->agency && strcmp(a->status, "active") != 0;
}

void ws_subject(const ws_access *a, bool developer, policy_subject *out)
{
    out->role = a->role;
    out->agency = a->agency;
    out->developer = developer;
    out->kind = a->kind;
    out->features = a->features;
}

/* Makes a slug from a name: lower-case ASCII letters and digits joined by dashes, plus a random tail
 * so two workspaces of the same name never collide. */
static void ws_slug_from(const char *name, char out[49])
{
    size_t n = 0;
    bool dash = false;
    for (const char *p = name; *p && n < 36; p++) {
        unsigned char ch = (unsigned char)*p;
        if (isalnum(ch) && ch < 0x80) {
            if (dash && n)
                out[n++] = '-';
            out[n++] = (char)tolower(ch);
            dash = false;
        } else {
            dash = true;
        }
    }
    if (n == 0)
        n = (size_t)snprintf(out, 49, "workspace");
    unsigned char rnd[3];
    crypto_random(rnd, sizeof(rnd));
    snprintf(out + n, 49 - n, "-%02x%02x%02x", rnd[0], rnd[1], rnd[2]);
}

int ws_lock(store_conn *c, const char *ws_id)
{
    store_rows *r = NULL;
    store_arg args[] = {sa_text(ws_id)};
    int rc = store_query(c, "SELECT id FROM workspaces WHERE id = $1 FOR UPDATE", args, 1, &r);
    if (rc == AT_OK)
        rc = store_rows_next(r) == 1 ? AT_OK : AT_ENOTFOUND;
    store_rows_free(r);
    return rc;
}

int ws_owner_invariant(store_conn *c, const char *ws_id, const char *user_id, char ws_out[ID_MAX])
{
    store_rows *r = NULL;
    store_arg args[] = {sa_text(ws_id), sa_text(user_id)};
    /* Lock the workspaces first. Under READ COMMITTED the count below then sees every change committed
     * by a concurrent transaction that held the lock before us: two owners demoting each other at once
     * cannot both pass. */
    int rc = store_query(c,
                         "SELECT id FROM workspaces WHERE (CAST($1 AS TEXT) IS NOT NULL AND id = $1) OR "
                         "(CAST($2 AS TEXT) IS NOT NULL AND id IN (SELECT workspace_id FROM memberships "
                         "WHERE user_id = $2)) ORDER BY id FOR UPDATE",
                         args, 2, &r);
    while (rc == AT_OK && store_rows_next(r) == 1)
        ;
    store_rows_free(r);
    r = NULL;
    if (rc != AT_OK)
        return rc;
    /* Sub-accounts are exempt: their root's owners manage them through agency access. */
    rc = store_query(c,
                         "SELECT w.id FROM workspaces w WHERE w.kind = 'root' AND w.status <> 'deleted' "
                         "AND (CAST($1 AS TEXT) IS NULL OR w.id = $1) "
                         "AND (CAST($2 AS TEXT) IS NULL OR w.id IN (SELECT workspace_id FROM memberships "
                         "WHERE user_id = $2)) "
                         "AND NOT EXISTS (SELECT 1 FROM memberships o JOIN users u ON u.id = o.user_id "
                         "WHERE o.workspace_id = w.id AND o.role = 'owner' AND o.status = 'active' AND u.disabled = 0) "
                         "LIMIT 1",
                         args, 2, &r);
    if (rc != AT_OK)
        return rc;
    rc = store_rows_next(r);
    if (rc == 1 && ws_out)
        snprintf(ws_out, ID_MAX, "%s", store_rows_text(r, 0));
    store_rows_free(r);
    return rc == 1 ? AT_ECONFLICT : rc;
}

int ws_add_member(store_conn *c, const char *ws_id, const char *user_id, const char *role, const char *invited_by)
{
    char id[ID_MAX];
    id_new("mem", id);
    store_arg args[] = {sa_text(ws_id), sa_text(user_id), sa_text(id), sa_text(role), sa_int(clock_now_us()),
                        sa_text(invited_by)};
    return store_exec(c,
                      "INSERT INTO memberships (workspace_id, user_id, id, role, joined_at, invited_by) "
                      "VALUES ($1, $2, $3, $4, $5, $6) ON CONFLICT (workspace_id, user_id) DO UPDATE SET role = $4",
                      args, 6, NULL);
}

int ws_create_root(store_conn *c, const char *user_id, const char *name, const audit_actor *actor, char id_out[ID_MAX])
{
    char slug[49];
    int64_t now = clock_now_us();
    id_new("ws", id_out);
    ws_slug_from(name, slug);
    store_arg args[] = {sa_text(id_out), sa_text(name), sa_text(slug), sa_text(user_id), sa_int(now),
                        sa_int(config_get()->default_seat_limit)};
    int rc = store_exec(c,
                        "INSERT INTO workspaces (id, kind, name, slug, timezone, locale, currency, status, entitlements, "
                        "created_by, created_at, updated_at, seat_limit) VALUES ($1, 'root', $2, $3, 'UTC', 'en-US', "
                        "'USD', 'active', '[]', $4, $5, $5, $6)",
                        args, 6, NULL);
    if (rc == AT_OK)
        rc = ws_add_member(c, id_out, user_id, "owner", NULL);
    if (rc == AT_OK) {
        json_t *changes = json_pack("{s:{s:n, s:s}}", "name", "before", "after", name);
        rc = audit_append(c, id_out, actor, "workspace.created", "workspace", id_out, changes);
        json_decref(changes);
    }
    if (rc == AT_OK)
        rc = billing_on_root_created(c, id_out, actor);
    return rc;
}

int ws_list_for_user(store *s, const char *user_id, json_t **out)
{
    store_conn *c = NULL;
    store_rows *r = NULL;
    json_t *roots = json_array(), *subs = json_array();
    int rc = store_acquire(s, &c);
    if (rc != AT_OK)
        goto out;
    store_arg args[] = {sa_text(user_id)};
    /* Direct memberships, then sub-accounts reached through an owner/admin role in their root. */
    rc = store_query(c,
                     "SELECT w.id, w.kind, w.parent_id, w.name, w.display_name, w.slug, w.status, m.role, 0, w.deletion_due_at "
                     "FROM memberships m JOIN workspaces w ON w.id = m.workspace_id "
                     "WHERE m.user_id = $1 AND m.status = 'active' AND w.status <> 'deleted' "
                     "UNION ALL "
                     "SELECT w.id, w.kind, w.parent_id, w.name, w.display_name, w.slug, w.status, m.role, 1, w.deletion_due_at "
                     "FROM memberships m JOIN workspaces w ON w.parent_id = m.workspace_id "
                     "WHERE m.user_id = $1 AND m.status = 'active' AND m.role IN ('owner', 'admin') "
                     "AND w.status <> 'deleted' "
                     "ORDER BY 4, 1",
                     args, 1, &r);
    if (rc != AT_OK)
        goto out;
    while ((rc = store_rows_next(r)) == 1) {
        const char *id = store_rows_text(r, 0);
        bool agency = store_rows_int(r, 8) != 0;
        json_t *target = strcmp(store_rows_text(r, 1), "root") == 0 ? roots : subs;
        size_t i;
        json_t *e, *dup = NULL;
        json_array_foreach(target, i, e) if (strcmp(json_string_value(json_object_get(e, "id")), id) == 0) dup = e;
        if (dup) {
            /* A member of a sub-account who is also an admin of its root: keep the stronger access,
             * whichever of the two rows came first (a tie is the membership's). */
            int had = policy_role_from_name(json_string_value(json_object_get(dup, "role")));
            int role = policy_role_from_name(store_rows_text(r, 7));
            if (agency)
                role = ws_agency_role(role);
            if (role > had || (role == had && !agency)) {
                json_object_set_new(dup, "role", json_string(policy_role_name(role)));
                json_object_set_new(dup, "agency", json_boolean(agency));
            }
            continue;
        }
        char due[32];
        if (!store_rows_is_null(r, 9))
            clock_format_rfc3339(store_rows_int(r, 9), due);
        json_array_append_new(
            target, json_pack("{s:s, s:s, s:s?, s:s, s:s?, s:s, s:s, s:s, s:b, s:s?}", "id", id, "kind",
                              store_rows_text(r, 1), "parent_id", store_rows_text(r, 2), "name", store_rows_text(r, 3),
                              "display_name", store_rows_text(r, 4), "slug", store_rows_text(r, 5), "status",
                              store_rows_text(r, 6), "role", store_rows_text(r, 7), "agency", agency, "deletion_due_at",
                              store_rows_is_null(r, 9) ? NULL : due));
    }
    if (rc < 0)
        goto out;
    rc = AT_OK;
    /* Each root, then its sub-accounts; sub-accounts whose root the user does not reach come last. */
    json_t *list = json_array();
    size_t i, k;
    json_t *root, *sub;
    json_array_foreach(roots, i, root)
    {
        json_array_append(list, root);
        json_array_foreach(subs, k, sub) if (json_equal(json_object_get(sub, "parent_id"), json_object_get(root, "id")))
            json_array_append(list, sub);
    }
    json_array_foreach(subs, k, sub)
    {
        bool placed = false;
        json_array_foreach(roots, i, root) placed = placed || json_equal(json_object_get(sub, "parent_id"),
                                                                         json_object_get(root, "id"));
        if (!placed)
            json_array_append(list, sub);
    }
    *out = list;
out:
    json_decref(roots);
    json_decref(subs);
    store_rows_free(r);
    if (c)
        store_release(c);
    return rc;
}

/* ---- The settings document ---- */

#define WS_COLS                                                                                                        \
    "id, kind, parent_id, name, display_name, slug, logo_url, timezone, locale, currency, legal_name, business_type, " \
    "industry, country, address, phone, website, tax_id, status, status_reason, deletion_due_at, version, "          \
    "created_at, updated_at"

/* The settable columns, in WS_COLS order from column 3 (name) to 17 (tax_id). */
static const char *const ws_settable[] = {"name",     "display_name", "slug",    "logo_url", "timezone",
                                          "locale",   "currency",     "legal_name", "business_type", "industry",
                                          "country",  "address",      "phone",   "website",  "tax_id"};
enum { WS_SETTABLE = sizeof(ws_settable) / sizeof(ws_settable[0]), WS_FIRST_SETTABLE = 3 };

static const char *ws_check_business_type(const char *s, size_t len)
{
    static const char *const types[] = {"sole_proprietorship", "partnership", "llc",        "corporation",
                                        "nonprofit",           "government",  "individual", "other"};
    (void)len;
    for (size_t i = 0; i < sizeof(types) / sizeof(types[0]); i++)
        if (strcmp(s, types[i]) == 0)
            return NULL;
    return "Must be one of sole_proprietorship, partnership, llc, corporation, nonprofit, government, individual, "
           "other.";
}

const jv_field ws_settings_fields[] = {
    {"name", JV_STRING, JV_TRIM, 1, 100, NULL},
    {"display_name", JV_STRING, JV_NULLABLE | JV_TRIM, 1, 100, NULL},
    {"slug", JV_STRING, 0, 3, 48, ws_check_slug},
    {"logo_url", JV_STRING, JV_NULLABLE, 1, 2048, ws_check_https_url},
    {"timezone", JV_STRING, JV_NULLABLE, 1, 64, ws_check_timezone},
    {"locale", JV_STRING, JV_NULLABLE, 2, 35, ws_check_locale},
    {"currency", JV_STRING, JV_NULLABLE, 3, 3, ws_check_currency},
    {"legal_name", JV_STRING, JV_NULLABLE | JV_TRIM, 1, 200, NULL},
    {"business_type", JV_STRING, JV_NULLABLE, 1, 32, ws_check_business_type},
    {"industry", JV_STRING, JV_NULLABLE | JV_TRIM, 1, 100, NULL},
    {"country", JV_STRING, JV_NULLABLE, 2, 2, ws_check_country},
    {"address", JV_STRING, JV_NULLABLE | JV_TRIM, 1, 500, NULL},
    {"phone", JV_STRING, JV_NULLABLE, 1, 32, ws_check_phone},
    {"website", JV_STRING, JV_NULLABLE, 1, 2048, ws_check_website},
    {"tax_id", JV_STRING, JV_NULLABLE | JV_TRIM, 1, 64, NULL},
};
const size_t ws_settings_field_count = sizeof(ws_settings_fields) / sizeof(ws_settings_fields[0]);

void ws_check_settings(json_t *patch, field_errors *errs)
{
    if (json_object_size(patch) == 0)
        fe_add(errs, "", "empty_patch", "Send at least one field to change.");
}

/* The checklist "before you invite the team", computed from the document. */
static json_t *ws_checklist(const json_t *doc)
{
    static const struct {
        const char *id, *field, *label;
    } items[] = {
        {"timezone", "timezone", "Set the workspace time zone"},
        {"logo", "logo_url", "Add a logo"},
        {"legal_name", "legal_name", "Enter the legal business name"},
        {"business_type", "business_type", "Choose the business type"},
        {"country", "country", "Choose the country"},
        {"address", "address", "Add the business address"},
        {"phone", "phone", "Add a business phone number"},
        {"website", "website", "Add the website"},
    };
    json_t *list = json_array();
    for (size_t i = 0; i < sizeof(items) / sizeof(items[0]); i++) {
        const json_t *v = json_object_get(doc, items[i].field);
        json_array_append_new(list, json_pack("{s:s, s:s, s:s, s:b}", "id", items[i].id, "label", items[i].label,
                                              "field", items[i].field, "done", v && !json_is_null(v)));
    }
    return list;
}

/* Reads the document's row on c into a new object (settable fields + identity + status). */
static int ws_load(store_conn *c, const char *id, bool for_update, json_t **out, int64_t *version)
{
    store_rows *r = NULL;
    store_arg args[] = {sa_text(id)};
    int rc = store_query(c, for_update ? "SELECT " WS_COLS " FROM workspaces WHERE id = $1 FOR UPDATE"
                                       : "SELECT " WS_COLS " FROM workspaces WHERE id = $1",
                         args, 1, &r);
    if (rc != AT_OK)
        return rc;
    if ((rc = store_rows_next(r)) != 1) {
        store_rows_free(r);
        return rc == 0 ? AT_ENOTFOUND : rc;
    }
    char created[32], updated[32], due[32];
    clock_format_rfc3339(store_rows_int(r, 22), created);
    clock_format_rfc3339(store_rows_int(r, 23), updated);
    json_t *doc = json_pack("{s:s, s:s, s:s?}", "id", store_rows_text(r, 0), "kind", store_rows_text(r, 1),
                            "parent_id", store_rows_text(r, 2));
    for (int i = 0; i < WS_SETTABLE; i++) {
        const char *v = store_rows_text(r, WS_FIRST_SETTABLE + i);
        json_object_set_new(doc, ws_settable[i], v ? json_string(v) : json_null());
    }
    json_object_set_new(doc, "status", json_string(store_rows_text(r, 18)));
    json_object_set_new(doc, "status_reason", store_rows_is_null(r, 19) ? json_null() : json_string(store_rows_text(r, 19)));
    if (!store_rows_is_null(r, 20)) {
        clock_format_rfc3339(store_rows_int(r, 20), due);
        json_object_set_new(doc, "deletion_due_at", json_string(due));
    } else {
        json_object_set_new(doc, "deletion_due_at", json_null());
    }
    json_object_set_new(doc, "created_at", json_string(created));
    json_object_set_new(doc, "updated_at", json_string(updated));
    *version = store_rows_int(r, 21);
    store_rows_free(r);
    *out = doc;
    return AT_OK;
}

/* Adds "context": the parent and who manages a sub-account, or the counts of a root. */
static int ws_context(store_conn *c, const ws_access *a, json_t *doc)
{
    int64_t members = 0, subs = 0;
    store_arg me[] = {sa_text(a->id)};
    int rc = store_query_int(c, "SELECT COUNT(*) FROM memberships WHERE workspace_id = $1", me, 1, &members);
    if (rc != AT_OK)
        return rc;
    json_t *ctx = json_pack("{s:s, s:I, s:b}", "kind", a->kind == WS_ROOT ? "root" : "sub_account", "member_count",
                            (json_int_t)members, "agency_access", a->agency);
    if (a->kind == WS_ROOT) {
        rc = store_query_int(c, "SELECT COUNT(*) FROM workspaces WHERE parent_id = $1 AND status <> 'deleted'", me, 1,
                             &subs);
        json_object_set_new(ctx, "subaccount_count", json_integer(subs));
    } else {
        store_rows *r = NULL;
        store_arg parent[] = {sa_text(a->parent_id)};
        rc = store_query(c, "SELECT id, name, display_name FROM workspaces WHERE id = $1", parent, 1, &r);
        if (rc == AT_OK && store_rows_next(r) == 1)
            json_object_set_new(ctx, "parent", json_pack("{s:s, s:s, s:s?}", "id", store_rows_text(r, 0), "name",
                                                         store_rows_text(r, 1), "display_name", store_rows_text(r, 2)));
        store_rows_free(r);
        r = NULL;
        json_t *managers = json_array();
        if (rc == AT_OK)
            rc = store_query(c,
                             "SELECT u.name, u.email, m.role FROM memberships m JOIN users u ON u.id = m.user_id "
                             "WHERE m.workspace_id = $1 AND m.role IN ('owner', 'admin') ORDER BY m.role DESC, u.name",
                             parent, 1, &r);
        while (rc == AT_OK && store_rows_next(r) == 1)
            json_array_append_new(managers, json_pack("{s:s, s:s, s:s}", "name", store_rows_text(r, 0), "email",
                                                      store_rows_text(r, 1), "role", store_rows_text(r, 2)));
        store_rows_free(r);
        json_object_set_new(ctx, "managed_by", managers);
    }
    json_object_set_new(doc, "context", ctx);
    return rc;
}

int ws_get(store *s, const ws_access *a, json_t **out, int64_t *version)
{
    store_conn *c = NULL;
    json_t *doc = NULL;
    int rc = store_acquire(s, &c);
    if (rc != AT_OK)
        return rc;
    rc = ws_load(c, a->id, false, &doc, version);
    if (rc == AT_OK)
        rc = ws_context(c, a, doc);
    store_release(c);
    if (rc != AT_OK) {
        json_decref(doc);
        return rc;
    }
    json_object_set_new(doc, "checklist", ws_checklist(doc));
    *out = doc;
    return AT_OK;
}

typedef struct ws_patch_ctx {
    const ws_access *a;
    int64_t if_version;
    json_t *patch;
    const audit_actor *actor;
    int64_t new_version;
} ws_patch_ctx;

static int ws_patch_tx(store_conn *c, void *ctx)
{
    ws_patch_ctx *p = ctx;
    json_t *doc = NULL;
    int64_t version = 0;
    int rc = ws_load(c, p->a->id, true, &doc, &version);
    if (rc != AT_OK)
        return rc;
    if (p->if_version != 0 && version != p->if_version) {
        json_decref(doc);
        return AT_EPRECOND;
    }
    json_t *changes = json_object();
    store_arg args[WS_SETTABLE + 3];
    for (int i = 0; i < WS_SETTABLE; i++) {
        json_t *before = json_object_get(doc, ws_settable[i]);
        json_t *after = json_object_get(p->patch, ws_settable[i]);
        if (after)
            audit_diff(changes, ws_settable[i], before, after);
        json_t *v = after ? after : before;
        args[i] = json_is_string(v) ? sa_text(json_string_value(v)) : sa_null();
    }
    args[WS_SETTABLE] = sa_int(clock_now_us());
    args[WS_SETTABLE + 1] = sa_text(p->a->id);
    args[WS_SETTABLE + 2] = sa_int(version);
    int64_t changed = 0;
    if (json_object_size(changes) == 0) {
        p->new_version = version; /* nothing differs: no write, no event, same ETag */
        rc = AT_OK;
        goto out;
    }
    rc = store_exec(c,
                    "UPDATE workspaces SET name = $1, display_name = $2, slug = $3, logo_url = $4, timezone = $5, "
                    "locale = $6, currency = $7, legal_name = $8, business_type = $9, industry = $10, country = $11, "
                    "address = $12, phone = $13, website = $14, tax_id = $15, updated_at = $16, version = version + 1 "
                    "WHERE id = $17 AND version = $18",
                    args, WS_SETTABLE + 3, &changed);
    if (rc == AT_OK && changed == 0)
        rc = AT_EPRECOND;
    if (rc == AT_OK)
        rc = audit_append(c, p->a->id, p->actor, "workspace.updated", "workspace", p->a->id, changes);
    p->new_version = version + 1;
out:
    json_decref(changes);
    json_decref(doc);
    return rc;
}

int ws_patch(store *s, const ws_access *a, int64_t if_version, json_t *patch, const audit_actor *actor,
             int64_t *new_version)
{
    ws_patch_ctx p = {a, if_version, patch, actor, 0};
    int rc = store_tx(s, true, ws_patch_tx, &p);
    if (rc == AT_OK)
        *new_version = p.new_version;
    return rc;
}
