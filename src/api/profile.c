/* Profile (the caller's own user) and Notifications (the caller's preferences in a workspace). */
#include "api/api.h"

#include "base/id.h"

#include <string.h>
#include <strings.h>

#include "base/err.h"
#include "profile/avatar.h"
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

/* What to say about an image the server would not take, per image_result.error. */
static const char *avatar_message(const char *error)
{
    if (strcmp(error, "unsupported_type") == 0)
        return "Upload a PNG, JPEG or WebP picture (not an animation).";
    if (strcmp(error, "too_many_pixels") == 0)
        return "The picture is too large: at most 8000 pixels a side and 40 megapixels.";
    if (strcmp(error, "bad_crop") == 0)
        return "The square must lie inside the picture.";
    return "The picture could not be read.";
}

/* Whether a Content-Type header names mime (parameters after ';' allowed). */
static bool avatar_type_is(const char *ct, const char *mime)
{
    size_t n = strlen(mime);
    return ct && strncasecmp(ct, mime, n) == 0 && (ct[n] == '\0' || ct[n] == ';' || ct[n] == ' ');
}

/* PUT /me/avatar: the body is the picture itself (Content-Type image/png, image/jpeg or image/webp,
 * which must match what its bytes are); the square to keep comes as ?x=&y=&size= in the picture's
 * pixels (all three, or none for the centred square). Answers the profile with its new avatar_url. */
static int avatar_put_route(http_req *req)
{
    field_errors errs;
    image_result res;
    json_t *out = NULL;
    fe_init(&errs, &req->arena);
    const char *ct = http_header(req, "Content-Type");
    image_type sent = image_sniff(req->body, req->body_len);
    const char *mime = image_type_mime(sent);
    if (!avatar_type_is(ct, "image/png") && !avatar_type_is(ct, "image/jpeg") && !avatar_type_is(ct, "image/webp"))
        return http_reply_problem(req, 415, "unsupported-media-type",
                                  "Send the picture as image/png, image/jpeg or image/webp.", NULL);
    if (req->body_len > AVATAR_MAX_BYTES) {
        fe_add(&errs, "image", "too_large", "The picture is larger than 5 MiB.");
        return http_reply_problem_errors(req, 413, "too-large", "The picture is too large.", &errs);
    }
    image_crop crop = {0, 0, 0};
    bool any = http_query(req, "x") || http_query(req, "y") || http_query(req, "size");
    if (any) {
        crop.x = api_query_int(req, "x", -1, 0, IMAGE_MAX_SIDE, &errs);
        crop.y = api_query_int(req, "y", -1, 0, IMAGE_MAX_SIDE, &errs);
        crop.size = api_query_int(req, "size", -1, 1, IMAGE_MAX_SIDE, &errs);
        if (!errs.count && (crop.x < 0 || crop.y < 0 || crop.size < 1))
            fe_add(&errs, "size", "required", "Send x, y and size together, or none of them.");
    }
    if (!errs.count && mime && !avatar_type_is(ct, mime))
        fe_add(&errs, "image", "type_mismatch", "The picture's bytes do not match its Content-Type.");
    if (errs.count)
        return http_reply_invalid(req, &errs);
    int rc = avatar_set(api_app_of(req)->store, api_principal_of(req)->user.id, req->body, req->body_len,
                        any ? &crop : NULL, &res, &out);
    if (rc == AT_EINVAL && res.error) {
        fe_add(&errs, strcmp(res.error, "bad_crop") == 0 ? "size" : "image", res.error, "%s",
               avatar_message(res.error));
        return http_reply_problem_errors(req, 422, "invalid-image", "The picture was not accepted.", &errs);
    }
    if (rc != AT_OK)
        return http_reply_status(req, rc);
    return http_reply_json(req, 200, out);
}

static int avatar_delete_route(http_req *req)
{
    json_t *out = NULL;
    int rc = avatar_clear(api_app_of(req)->store, api_principal_of(req)->user.id, &out);
    if (rc != AT_OK)
        return http_reply_status(req, rc);
    return http_reply_json(req, 200, out);
}

/* GET /avatars/{id}: the stored PNG, never anything a user sent. The id changes with every upload,
 * so the answer is cached for good; it is public like any profile picture, and the id is random. */
static int avatar_get_route(http_req *req)
{
    buf png;
    const char *id = http_param(req, "avatar_id");
    if (!id_valid("av", id, strlen(id)))
        return http_reply_problem(req, 404, "not-found", "Not found.", NULL);
    buf_init(&png);
    int rc = avatar_get(api_app_of(req)->store, id, &png);
    if (rc != AT_OK) {
        buf_free(&png);
        return rc == AT_ENOTFOUND ? http_reply_problem(req, 404, "not-found", "Not found.", NULL)
                                  : http_reply_status(req, rc);
    }
    http_set_header(req, "Cache-Control", "public, max-age=31536000, immutable");
    http_set_header(req, "Content-Security-Policy", "default-src 'none'; sandbox");
    http_set_header(req, "Content-Disposition", "inline; filename=\"avatar.png\"");
    return http_reply_bytes(req, 200, "image/png", &png);
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
    {HM_PUT, "/api/v1/me/avatar", avatar_put_route, AUTH_SESSION, "profile", ACCESS_WRITE, ROUTE_LARGE_BODY},
    {HM_DELETE, "/api/v1/me/avatar", avatar_delete_route, AUTH_SESSION, "profile", ACCESS_WRITE, 0},
    {HM_GET, "/api/v1/avatars/:avatar_id", avatar_get_route, AUTH_PUBLIC, NULL, ACCESS_NONE, ROUTE_NO_CACHE_HEADERS},
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
