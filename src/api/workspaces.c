/* Workspaces: the switcher, the sections a caller sees, and Workspace Settings ("Sub Account"). */
#include "api/api.h"

#include "apikeys/apikeys.h"
#include "base/err.h"
#include "team/ownership.h"

#include <string.h>

static int workspaces_list(http_req *req)
{
    json_t *items = NULL;
    int rc = ws_list_for_user(api_app_of(req)->store, api_principal_of(req)->user.id, &items);
    if (rc != AT_OK)
        return http_reply_status(req, rc);
    return http_reply_json(req, 200, json_pack("{s:o}", "items", items));
}

/* The navigation: every built section the caller may read here, in order, with the title this
 * workspace kind uses. */
static int workspaces_sections(http_req *req)
{
    api_principal *p = api_principal_of(req);
    policy_subject who;
    json_t *items = json_array();
    ws_subject(&p->ws, p->user.developer, &who);
    for (size_t i = 0; i < policy_section_count; i++) {
        const policy_section *s = &policy_sections[i];
        int access = policy_access_of(s, &who);
        /* Through an API key, a section shows only as far as the key's scopes reach. */
        if (p->key && access == POLICY_WRITE && !apikey_allows(p->key, s->id, POLICY_WRITE))
            access = apikey_allows(p->key, s->id, POLICY_READ) ? POLICY_READ : POLICY_NONE;
        else if (p->key && access == POLICY_READ && !apikey_allows(p->key, s->id, POLICY_READ))
            access = POLICY_NONE;
        if (!(s->flags & SECTION_BUILT) || (s->flags & SECTION_NO_NAV) || access == POLICY_NONE)
            continue;
        json_array_append_new(items, json_pack("{s:s, s:s, s:s}", "id", s->id, "title", policy_title(s, who.kind),
                                               "access", access == POLICY_WRITE ? "write" : "read"));
    }
    /* A pending ownership transfer offered to the caller shows here, where every member can see it. */
    json_t *transfer = NULL;
    if (own_pending(api_app_of(req)->store, p->ws.id, &transfer) != AT_OK || json_is_null(transfer) ||
        strcmp(json_string_value(json_object_get(json_object_get(transfer, "to"), "id")), p->user.id) != 0) {
        json_decref(transfer);
        transfer = json_null();
    }
    return http_reply_json(req, 200,
                           json_pack("{s:o, s:s, s:s, s:b, s:o}", "items", items, "role", policy_role_name(p->ws.role),
                                     "kind", p->ws.kind == WS_ROOT ? "root" : "sub_account", "agency", p->ws.agency,
                                     "ownership_offer", transfer));
}

static int workspaces_reply_doc(http_req *req, int status)
{
    api_principal *p = api_principal_of(req);
    json_t *doc = NULL;
    int64_t version = 0;
    char etag[32];
    int rc = ws_get(api_app_of(req)->store, &p->ws, &doc, &version);
    if (rc != AT_OK)
        return http_reply_status(req, rc);
    api_etag(version, etag);
    http_set_header(req, "ETag", etag);
    return http_reply_json(req, status, doc);
}

static int workspaces_get(http_req *req)
{
    return workspaces_reply_doc(req, 200);
}

static int workspaces_patch(http_req *req)
{
    api_principal *p = api_principal_of(req);
    json_t *patch;
    field_errors errs;
    int64_t version = 0, new_version = 0;
    if (api_if_match_or_reply(req, &version) != AT_OK)
        return AT_OK;
    if (http_body_or_reply(req, ws_settings_fields, ws_settings_field_count, &patch) != AT_OK)
        return AT_OK;
    fe_init(&errs, &req->arena);
    ws_check_settings(patch, &errs);
    if (errs.count)
        return http_reply_invalid(req, &errs);
    audit_actor actor = api_actor(req);
    int rc = ws_patch(api_app_of(req)->store, &p->ws, version, patch, &actor, &new_version);
    if (rc == AT_EPRECOND)
        return http_reply_problem(req, 412, "precondition-failed",
                                  "Someone else changed these settings; reload to see their change.", NULL);
    if (rc == AT_ECONFLICT) {
        fe_add(&errs, "slug", "taken", "Another workspace already uses this slug.");
        return http_reply_problem_errors(req, 409, "conflict", "The slug is taken.", &errs);
    }
    if (rc != AT_OK)
        return http_reply_status(req, rc);
    return workspaces_reply_doc(req, 200);
}

static const http_route workspace_rows[] = {
    {HM_GET, "/api/v1/workspaces", workspaces_list, AUTH_SESSION, NULL, ACCESS_NONE, 0},
    {HM_GET, "/api/v1/workspaces/:workspace_id/sections", workspaces_sections, AUTH_USER, NULL, ACCESS_NONE, 0},
    {HM_GET, "/api/v1/workspaces/:workspace_id", workspaces_get, AUTH_USER, "workspace", ACCESS_READ, 0},
    {HM_PATCH, "/api/v1/workspaces/:workspace_id", workspaces_patch, AUTH_USER, "workspace", ACCESS_WRITE, 0},
};

const http_route_table api_workspace_routes = {workspace_rows, sizeof(workspace_rows) / sizeof(workspace_rows[0])};
