/* Sub-Accounts: a root's owners and admins manage its child workspaces. */
#include "api/api.h"

#include "base/err.h"
#include "workspace/subaccounts.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static int subaccounts_list(http_req *req)
{
    api_principal *p = api_principal_of(req);
    field_errors errs;
    sub_query q = {0};
    json_t *items = NULL;
    int64_t total = 0, next = -1;

    fe_init(&errs, &req->arena);
    q.q = http_query(req, "q");
    /* Characters, as the message says (a name of 100 CJK characters is 300 bytes and must be findable). */
    int64_t q_chars = q.q ? utf8_length(q.q, strlen(q.q)) : 0;
    if (q_chars < 0)
        fe_add(&errs, "q", "format", "Must be UTF-8 text.");
    else if (q_chars > 100)
        fe_add(&errs, "q", "length", "Must be at most 100 characters long.");
    q.sort = http_query(req, "sort");
    if (q.sort && strcmp(q.sort, "name") != 0 && strcmp(q.sort, "-name") != 0 && strcmp(q.sort, "created_at") != 0 &&
        strcmp(q.sort, "-created_at") != 0 && strcmp(q.sort, "status") != 0)
        fe_add(&errs, "sort", "format", "Must be name, -name, created_at, -created_at or status.");
    q.status = http_query(req, "status");
    if (q.status && strcmp(q.status, "active") != 0 && strcmp(q.status, "suspended") != 0 &&
        strcmp(q.status, "pending_deletion") != 0)
        fe_add(&errs, "status", "format", "Must be active, suspended or pending_deletion.");
    q.limit = (int)api_query_int(req, "limit", 25, 1, 100, &errs);
    q.offset = api_offset_cursor(req, &errs);
    if (errs.count)
        return http_reply_invalid(req, &errs);
    int rc = sub_list(api_app_of(req)->store, p->ws.id, &q, &items, &total, &next);
    if (rc != AT_OK)
        return http_reply_status(req, rc);
    char cur[32];
    snprintf(cur, sizeof(cur), "o%lld", (long long)next);
    return http_reply_json(req, 200, json_pack("{s:o, s:I, s:s?}", "items", items, "total", (json_int_t)total,
                                               "next_cursor", next >= 0 ? cur : NULL));
}

static int subaccounts_create(http_req *req)
{
    json_t *body, *out = NULL;
    field_errors errs;
    if (http_body_or_reply(req, sub_create_fields, sub_create_field_count, &body) != AT_OK)
        return AT_OK;
    audit_actor actor = api_actor(req);
    int rc = sub_create(api_app_of(req)->store, api_principal_of(req)->ws.id, body, &actor, &out);
    if (rc == AT_ECONFLICT) {
        fe_init(&errs, &req->arena);
        fe_add(&errs, "slug", "taken", "Another workspace already uses this slug.");
        return http_reply_problem_errors(req, 409, "conflict", "The slug is taken.", &errs);
    }
    if (rc == AT_ELIMIT)
        return http_reply_problem(req, 409, "sub-accounts-full", "Every sub-account your plan allows is in use.",
                                  "Change to a plan with more sub-accounts in Billing, or delete one.");
    if (rc != AT_OK)
        return http_reply_status(req, rc);
    char location[160];
    snprintf(location, sizeof(location), "/api/v1/workspaces/%s/subaccounts/%s", api_principal_of(req)->ws.id,
             json_string_value(json_object_get(out, "id")));
    http_set_header(req, "Location", location);
    return http_reply_json(req, 201, out);
}

static int subaccounts_get(http_req *req)
{
    json_t *out = NULL;
    int rc = sub_get(api_app_of(req)->store, api_principal_of(req)->ws.id, http_param(req, "subaccount_id"), &out);
    if (rc != AT_OK)
        return http_reply_status(req, rc);
    return http_reply_json(req, 200, out);
}

static int subaccounts_rename(http_req *req)
{
    json_t *body, *out = NULL;
    field_errors errs;
    if (http_body_or_reply(req, sub_rename_fields, sub_rename_field_count, &body) != AT_OK)
        return AT_OK;
    if (json_object_size(body) == 0) {
        fe_init(&errs, &req->arena);
        fe_add(&errs, "", "empty_patch", "Send name or display_name.");
        return http_reply_invalid(req, &errs);
    }
    audit_actor actor = api_actor(req);
    int rc = sub_rename(api_app_of(req)->store, api_principal_of(req)->ws.id, http_param(req, "subaccount_id"), body,
                        &actor, &out);
    if (rc != AT_OK)
        return http_reply_status(req, rc);
    return http_reply_json(req, 200, out);
}

/* Answers a lifecycle move: 200 with the summary, 404, or 409 naming the status that forbids it. */
static int subaccounts_reply_move(http_req *req, int rc, json_t *out)
{
    if (rc == AT_ECONFLICT)
        return http_reply_problem(req, 409, "invalid-state", "The sub-account's status does not allow this now.", NULL);
    if (rc != AT_OK)
        return http_reply_status(req, rc);
    return http_reply_json(req, 200, out);
}

static const jv_field subaccounts_suspend_fields[] = {
    {"reason", JV_STRING, JV_REQUIRED | JV_TRIM, 1, WS_REASON_MAX_CHARS, NULL},
};

static int subaccounts_suspend(http_req *req)
{
    json_t *body, *out = NULL;
    if (http_body_or_reply(req, subaccounts_suspend_fields, 1, &body) != AT_OK)
        return AT_OK;
    audit_actor actor = api_actor(req);
    int rc = sub_suspend(api_app_of(req)->store, api_principal_of(req)->ws.id, http_param(req, "subaccount_id"),
                         json_string_value(json_object_get(body, "reason")), &actor, &out);
    return subaccounts_reply_move(req, rc, out);
}

static int subaccounts_reactivate(http_req *req)
{
    json_t *out = NULL;
    audit_actor actor = api_actor(req);
    int rc = sub_reactivate(api_app_of(req)->store, api_principal_of(req)->ws.id, http_param(req, "subaccount_id"),
                            &actor, &out);
    return subaccounts_reply_move(req, rc, out);
}

static int subaccounts_schedule_deletion(http_req *req)
{
    json_t *out = NULL;
    audit_actor actor = api_actor(req);
    int rc = sub_schedule_deletion(api_app_of(req)->store, api_principal_of(req)->ws.id,
                                   http_param(req, "subaccount_id"), &actor, &out);
    return subaccounts_reply_move(req, rc, out);
}

static int subaccounts_restore(http_req *req)
{
    json_t *out = NULL;
    audit_actor actor = api_actor(req);
    int rc = sub_restore(api_app_of(req)->store, api_principal_of(req)->ws.id, http_param(req, "subaccount_id"),
                         &actor, &out);
    return subaccounts_reply_move(req, rc, out);
}

#define SUB_BASE "/api/v1/workspaces/:workspace_id/subaccounts"
static const http_route subaccount_rows[] = {
    {HM_GET, SUB_BASE, subaccounts_list, AUTH_USER, "subaccounts", ACCESS_READ, 0},
    {HM_POST, SUB_BASE, subaccounts_create, AUTH_USER, "subaccounts", ACCESS_WRITE, ROUTE_IDEMPOTENT},
    {HM_GET, SUB_BASE "/:subaccount_id", subaccounts_get, AUTH_USER, "subaccounts", ACCESS_READ, 0},
    {HM_PATCH, SUB_BASE "/:subaccount_id", subaccounts_rename, AUTH_USER, "subaccounts", ACCESS_WRITE, 0},
    {HM_POST, SUB_BASE "/:subaccount_id/suspend", subaccounts_suspend, AUTH_USER, "subaccounts", ACCESS_WRITE, 0},
    {HM_POST, SUB_BASE "/:subaccount_id/reactivate", subaccounts_reactivate, AUTH_USER, "subaccounts", ACCESS_WRITE,
     0},
    {HM_POST, SUB_BASE "/:subaccount_id/schedule-deletion", subaccounts_schedule_deletion, AUTH_USER,
     "subaccounts", ACCESS_WRITE, 0},
    {HM_POST, SUB_BASE "/:subaccount_id/restore", subaccounts_restore, AUTH_USER, "subaccounts", ACCESS_WRITE, 0},
};

const http_route_table api_subaccount_routes = {subaccount_rows, sizeof(subaccount_rows) / sizeof(subaccount_rows[0])};
