/* Profile (the caller's own user) and Notifications (the caller's preferences in a workspace). */
#include "api/api.h"

#include "base/err.h"
#include "profile/emailchange.h"
#include "profile/notifications.h"
#include "profile/profile.h"

static int profile_get_route(http_req *req)
{
    json_t *out = NULL;
    int rc = profile_get(api_app_of(req)->store, api_principal_of(req)->user.id, &out);
    if (rc != AT_OK)
        return http_reply_status(req, rc);
    return http_reply_json(req, 200, out);
}

static int profile_patch_route(http_req *req)
{
    api_principal *p = api_principal_of(req);
    json_t *patch, *out = NULL;
    field_errors errs;
    profile_result res;
    if (http_body_or_reply(req, profile_fields, profile_field_count, &patch) != AT_OK)
        return AT_OK;
    fe_init(&errs, &req->arena);
    if (json_object_size(patch) == 0 ||
        (json_object_size(patch) == 1 && json_object_get(patch, "current_password")))
        fe_add(&errs, "", "empty_patch", "Send at least one field to change.");
    if (errs.count)
        return http_reply_invalid(req, &errs);
    audit_actor actor = api_actor(req);
    int rc = profile_patch(api_app_of(req)->store, p->user.id, p->session.id, patch, &actor, &res, &out);
    if (rc == AT_ELIMIT)
        return api_reply_rate_limited(req, res.retry_after_s, "Too many attempts; wait and try again.");
    if (rc == AT_EINVAL && res.password_error) {
        fe_add(&errs, "current_password", res.password_error, "Enter your current password to change your email.");
        return http_reply_invalid(req, &errs);
    }
    if (rc == AT_ECONFLICT) {
        fe_add(&errs, "email", "taken", "Another account uses this email.");
        return http_reply_problem_errors(req, 409, "conflict", "The email is taken.", &errs);
    }
    if (rc != AT_OK)
        return http_reply_status(req, rc);
    return http_reply_json(req, 200, out);
}

static const jv_field email_change_fields[] = {
    {"token", JV_STRING, JV_REQUIRED, 1, 128, NULL},
};

/* Confirm and undo share their shape: a public token route, limited per IP like a password reset. */
static int email_change_step(http_req *req, int (*step)(store *, const char *, const audit_actor *))
{
    json_t *body;
    field_errors errs;
    if (!api_origin_ok(req, true))
        return http_reply_problem(req, 403, "csrf", "The request did not come from an Atrium page.", NULL);
    if (http_body_or_reply(req, email_change_fields, 1, &body) != AT_OK)
        return AT_OK;
    if (api_rate_or_reply(req, "email-change") != AT_OK)
        return AT_OK;
    audit_actor actor = {"user", NULL, "email link", req->client_ip, http_header(req, "User-Agent"), req->request_id};
    int rc = step(api_app_of(req)->store, json_string_value(json_object_get(body, "token")), &actor);
    fe_init(&errs, &req->arena);
    if (rc == AT_EINVAL) {
        fe_add(&errs, "token", "invalid", "This link is not valid any more.");
        return http_reply_invalid(req, &errs);
    }
    if (rc == AT_ECONFLICT)
        return http_reply_problem(req, 409, "email-taken", "Another account uses this email now.", NULL);
    if (rc != AT_OK)
        return http_reply_status(req, rc);
    return http_reply_empty(req, 204);
}

static int email_change_confirm(http_req *req)
{
    return email_change_step(req, emailchange_confirm);
}

static int email_change_undo(http_req *req)
{
    return email_change_step(req, emailchange_undo);
}

static int notifications_get(http_req *req)
{
    api_principal *p = api_principal_of(req);
    json_t *out = NULL;
    int rc = notif_get(api_app_of(req)->store, p->ws.id, p->user.id, &out);
    if (rc != AT_OK)
        return http_reply_status(req, rc);
    return http_reply_json(req, 200, out);
}

static int notifications_patch(http_req *req)
{
    api_principal *p = api_principal_of(req);
    json_t *patch, *out = NULL;
    field_errors errs;
    if (http_body_or_reply(req, notif_fields, notif_field_count, &patch) != AT_OK)
        return AT_OK;
    fe_init(&errs, &req->arena);
    notif_check(patch, &errs);
    if (errs.count)
        return http_reply_invalid(req, &errs);
    audit_actor actor = api_actor(req);
    int rc = notif_patch(api_app_of(req)->store, p->ws.id, p->user.id, patch, &actor, &out);
    if (rc != AT_OK)
        return http_reply_status(req, rc);
    return http_reply_json(req, 200, out);
}

static int notifications_reset(http_req *req)
{
    api_principal *p = api_principal_of(req);
    json_t *out = NULL;
    audit_actor actor = api_actor(req);
    int rc = notif_reset(api_app_of(req)->store, p->ws.id, p->user.id, &actor, &out);
    if (rc != AT_OK)
        return http_reply_status(req, rc);
    return http_reply_json(req, 200, out);
}

static const http_route profile_rows[] = {
    {HM_GET, "/api/v1/me/profile", profile_get_route, AUTH_SESSION, "profile", ACCESS_READ, 0},
    {HM_PATCH, "/api/v1/me/profile", profile_patch_route, AUTH_SESSION, "profile", ACCESS_WRITE, 0},
    {HM_POST, "/api/v1/email-change/confirm", email_change_confirm, AUTH_PUBLIC, NULL, ACCESS_NONE, 0},
    {HM_POST, "/api/v1/email-change/undo", email_change_undo, AUTH_PUBLIC, NULL, ACCESS_NONE, 0},
    {HM_GET, "/api/v1/workspaces/:workspace_id/notifications", notifications_get, AUTH_SESSION, "notifications",
     ACCESS_READ, 0},
    {HM_PATCH, "/api/v1/workspaces/:workspace_id/notifications", notifications_patch, AUTH_SESSION, "notifications",
     ACCESS_WRITE, 0},
    {HM_POST, "/api/v1/workspaces/:workspace_id/notifications/reset", notifications_reset, AUTH_SESSION,
     "notifications", ACCESS_WRITE, 0},
};

const http_route_table api_profile_routes = {profile_rows, sizeof(profile_rows) / sizeof(profile_rows[0])};
