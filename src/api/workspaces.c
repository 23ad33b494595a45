/* Workspaces: the switcher, the sections a caller sees, and Workspace Settings ("Sub Account"). */
#include "api/api.h"

#include "apikeys/apikeys.h"
#include "billing/billing.h"
#include "billing/catalog.h"
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

/* True when the JSON array a holds the string v. */
static bool workspaces_has(const json_t *a, const char *v)
{
    size_t i;
    json_t *e;
    json_array_foreach(a, i, e)
    {
        if (json_is_string(e) && strcmp(json_string_value(e), v) == 0)
            return true;
    }
    return false;
}

/* One section the caller cannot open, and why (policy_absence): "role", "kind", or for a missing plan
 * feature "plan" (the plan lacks it: the plans that have it) or "payment" (the plan has it but the
 * subscription is unpaid or paused: the overdue invoices, when the caller may see billing). A new
 * object; standing is borrowed and may be NULL. */
static json_t *workspaces_absent(const policy_section *s, const policy_subject *who, int why, const json_t *standing,
                                 bool sees_billing)
{
    json_t *o = json_pack("{s:s, s:s, s:s}", "id", s->id, "title", policy_title(s, who->kind), "reason",
                          policy_absence_name(why));
    if (why != ABSENT_PLAN)
        return o;
    const json_t *plan = json_object_get(standing, "plan");
    bool payment = standing && workspaces_has(json_object_get(plan, "features"), s->feature) &&
                   !json_is_true(json_object_get(standing, "entitled"));
    if (payment)
        json_object_set_new(o, "reason", json_string("payment"));
    const billing_catalog *cat = billing_catalog_get();
    const billing_plan *with[BILLING_MAX_PLANS];
    size_t n = billing_plans_with_feature(cat, s->feature, with, BILLING_MAX_PLANS);
    json_t *plans = json_array();
    for (size_t i = 0; i < n; i++)
        json_array_append_new(plans, json_pack("{s:s, s:s}", "id", with[i]->id, "name", with[i]->name));
    json_object_set_new(o, "feature", json_string(s->feature));
    json_object_set_new(o, "plans", plans);
    json_object_set_new(
        o, "plan",
        plan ? json_pack("{s:O, s:O}", "id", json_object_get(plan, "id"), "name", json_object_get(plan, "name"))
             : json_null());
    if (payment && sees_billing)
        json_object_set(o, "overdue", json_object_get(standing, "overdue"));
    return o;
}

/* The navigation: every built section the caller may read here, in order, with the title this
 * workspace kind uses; the sections the caller cannot open, each with its reason; and, for those who
 * see Billing, the payment state every page's banner shows (null while payments are in order). */
static int workspaces_sections(http_req *req)
{
    api_principal *p = api_principal_of(req);
    policy_subject who;
    json_t *items = json_array(), *absent = json_array(), *standing = NULL, *alert = json_null();
    ws_subject(&p->ws, p->user.developer, &who);
    bool sees_billing = policy_allows("billing", POLICY_READ, &who);
    if (billing_standing(api_app_of(req)->store, p->ws.id, &standing) != AT_OK)
        standing = NULL;
    for (size_t i = 0; i < policy_section_count; i++) {
        const policy_section *s = &policy_sections[i];
        int access = policy_access_of(s, &who);
        /* Through an API key, a section shows only as far as the key's scopes reach. */
        if (p->key && access == POLICY_WRITE && !apikey_allows(p->key, s->id, POLICY_WRITE))
            access = apikey_allows(p->key, s->id, POLICY_READ) ? POLICY_READ : POLICY_NONE;
        else if (p->key && access == POLICY_READ && !apikey_allows(p->key, s->id, POLICY_READ))
            access = POLICY_NONE;
        int why = policy_absence(s, &who);
        if (why == ABSENT_KIND || why == ABSENT_PLAN || why == ABSENT_ROLE)
            json_array_append_new(absent, workspaces_absent(s, &who, why, standing, sees_billing));
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
    const char *status = json_string_value(json_object_get(standing, "status"));
    if (sees_billing && status && (strcmp(status, "past_due") == 0 || strcmp(status, "unpaid") == 0)) {
        json_decref(alert);
        alert = json_pack("{s:s, s:O, s:O, s:O}", "status", status, "billed_by_agency",
                          json_object_get(standing, "billed_by_agency"), "currency",
                          json_object_get(standing, "currency"), "overdue", json_object_get(standing, "overdue"));
    }
    json_decref(standing);
    return http_reply_json(req, 200,
                           json_pack("{s:o, s:s, s:s, s:b, s:o, s:o, s:o}", "items", items, "role",
                                     policy_role_name(p->ws.role), "kind",
                                     p->ws.kind == WS_ROOT ? "root" : "sub_account", "agency", p->ws.agency,
                                     "ownership_offer", transfer, "unavailable", absent, "billing_alert", alert));
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
