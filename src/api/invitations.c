/* Public routes for people arriving from a mailed link: looking at and accepting an invitation, and
 * resetting a forgotten password. All are limited per IP address. */
#include "api/api.h"

#include "auth/login.h"
#include "auth/reset.h"
#include "base/clock.h"
#include "base/err.h"
#include "team/invitations.h"

#include <stdio.h>
#include <string.h>


static int invitations_lookup(http_req *req)
{
    json_t *out = NULL;
    if (api_rate_or_reply(req, "invitation") != AT_OK)
        return AT_OK;
    int rc = inv_lookup(api_app_of(req)->store, http_param(req, "token"), &out);
    if (rc == AT_ENOTFOUND)
        return http_reply_problem(req, 404, "invitation-not-found",
                                  "This invitation link is not valid. It may have been replaced by a newer one.", NULL);
    if (rc != AT_OK)
        return http_reply_status(req, rc);
    return http_reply_json(req, 200, out);
}

static const jv_field invitations_accept_fields[] = {
    {"name", JV_STRING, JV_TRIM, 1, USER_NAME_MAX_CHARS, users_check_name},
    {"password", JV_STRING, 0, 1, PASSWORD_MAX_BYTES, NULL},
};

static int invitations_accept(http_req *req)
{
    api_principal *p = NULL;
    json_t *body;
    field_errors errs;
    auth_user new_user;
    auth_session sess;
    char token[SESSION_TOKEN_MAX], ws_id[ID_MAX];
    const char *why = NULL;

    if (!api_origin_ok(req, true))
        return http_reply_problem(req, 403, "csrf", "The request did not come from an Atrium page.", NULL);
    if (api_optional_session(req, &p) != AT_OK)
        return AT_OK;
    if (http_body_fields_or_reply(req, invitations_accept_fields, 2, &body, &errs) != AT_OK)
        return AT_OK;
    json_t *name = json_object_get(body, "name"), *pw = json_object_get(body, "password");
    if (!p) {
        json_t *inv = NULL;
        const char *email = ""; /* borrowed from inv, released below */
        if (inv_lookup(api_app_of(req)->store, http_param(req, "token"), &inv) == AT_OK &&
            json_is_string(json_object_get(inv, "email")))
            email = json_string_value(json_object_get(inv, "email"));
        if (!name)
            fe_add(&errs, "name", "required", "Enter your name.");
        if (!pw)
            fe_add(&errs, "password", "required", "Choose a password.");
        else if (json_is_string(pw) && json_string_length(pw) > 0) {
            const char *code = NULL;
            const char *bad = password_policy_check(json_string_value(pw), json_string_length(pw),
                                                    api_app_of(req)->cfg->password_min_length, email,
                                                    json_is_string(name) ? json_string_value(name) : NULL, &code);
            if (bad)
                fe_add(&errs, "password", code, "%s", bad);
        }
        json_decref(inv);
    }
    if (errs.count)
        return http_reply_invalid(req, &errs);
    if (api_rate_or_reply(req, "accept") != AT_OK)
        return AT_OK;
    inv_accept_req r = {http_param(req, "token"),
                        p ? &p->user : NULL,
                        json_is_string(name) ? json_string_value(name) : NULL,
                        json_is_string(pw) ? json_string_value(pw) : NULL,
                        json_is_string(pw) ? json_string_length(pw) : 0,
                        req->client_ip,
                        http_header(req, "User-Agent"),
                        req->request_id};
    int rc = inv_accept(api_app_of(req)->store, &r, ws_id, &new_user, &sess, token, &why);
    if (rc == AT_ENOTFOUND)
        return http_reply_problem(req, 404, "invitation-not-found",
                                  "This invitation link is not valid. It may have been replaced by a newer one.", NULL);
    if (rc == AT_ELIMIT)
        return http_reply_problem(req, 409, "seats-full",
                                  "The workspace has no free seat right now; ask whoever invited you to free one.",
                                  NULL);
    if (rc == AT_ECONFLICT) {
        static const struct {
            const char *why, *title;
        } reasons[] = {
            {"expired", "This invitation has expired. Ask for a new one."},
            {"revoked", "This invitation was cancelled."},
            {"accepted", "This invitation was already used."},
            {"email_mismatch", "This invitation was sent to another email address than the one you are signed in "
                               "with. Sign out, then open the link again."},
            {"account_exists", "An account with this email already exists. Sign in, then open the link again."},
            {"already_member", "You are already a member of this workspace."},
        };
        for (size_t i = 0; i < sizeof(reasons) / sizeof(reasons[0]); i++)
            if (why && strcmp(why, reasons[i].why) == 0) {
                char slug[64];
                snprintf(slug, sizeof(slug), "invitation-%s", why);
                for (char *c = slug; *c; c++)
                    if (*c == '_')
                        *c = '-';
                return http_reply_problem(req, 409, slug, reasons[i].title, NULL);
            }
        return http_reply_status(req, rc);
    }
    if (rc != AT_OK)
        return http_reply_status(req, rc);
    json_t *out = json_pack("{s:s}", "workspace_id", ws_id);
    if (!p) {
        char csrf[SESSION_CSRF_MAX];
        sessions_csrf(token, csrf);
        api_set_session_cookie(req, token, (int64_t)api_app_of(req)->cfg->session_absolute_s);
        char expires[32];
        clock_format_rfc3339(sess.expires_at, expires);
        json_object_set_new(out, "user", users_to_json(&new_user));
        json_object_set_new(out, "csrf_token", json_string(csrf));
        json_object_set_new(out, "session", json_pack("{s:s, s:s}", "id", sess.id, "expires_at", expires));
    }
    return http_reply_json(req, p ? 200 : 201, out);
}

static const jv_field invitations_forgot_fields[] = {
    {"email", JV_STRING, JV_REQUIRED, 1, USER_EMAIL_MAX, NULL},
};

static int invitations_forgot(http_req *req)
{
    json_t *body;
    if (!api_origin_ok(req, true))
        return http_reply_problem(req, 403, "csrf", "The request did not come from an Atrium page.", NULL);
    if (http_body_or_reply(req, invitations_forgot_fields, 1, &body) != AT_OK)
        return AT_OK;
    if (api_rate_or_reply(req, "forgot") != AT_OK)
        return AT_OK;
    json_t *email = json_object_get(body, "email");
    int rc = reset_request(api_app_of(req)->store, json_string_value(email), json_string_length(email));
    if (rc != AT_OK)
        return http_reply_status(req, rc);
    return http_reply_json(req, 202, json_pack("{s:s}", "message",
                                               "If an account uses this address, a link to reset its password is on "
                                               "its way. It works for one hour."));
}

static const jv_field invitations_reset_fields[] = {
    {"token", JV_STRING, JV_REQUIRED, 1, 128, NULL},
    {"password", JV_STRING, JV_REQUIRED, 1, PASSWORD_MAX_BYTES, NULL},
};

static int invitations_reset(http_req *req)
{
    json_t *body;
    field_errors errs;
    char *email = NULL, *name = NULL;
    if (!api_origin_ok(req, true))
        return http_reply_problem(req, 403, "csrf", "The request did not come from an Atrium page.", NULL);
    if (http_body_fields_or_reply(req, invitations_reset_fields, 2, &body, &errs) != AT_OK)
        return AT_OK;
    if (api_rate_or_reply(req, "reset") != AT_OK)
        return AT_OK;
    json_t *tok = json_object_get(body, "token"), *pw = json_object_get(body, "password");
    bool live = json_is_string(tok) &&
                reset_email_of(api_app_of(req)->store, json_string_value(tok), &req->arena, &email, &name) == AT_OK;
    if (!live && json_is_string(tok))
        fe_add(&errs, "token", "invalid", "This reset link is not valid any more; ask for a new one.");
    if (json_is_string(pw) && json_string_length(pw) > 0) {
        const char *code = NULL;
        const char *bad = password_policy_check(json_string_value(pw), json_string_length(pw),
                                                api_app_of(req)->cfg->password_min_length, live ? email : NULL,
                                                live ? name : NULL, &code);
        if (bad)
            fe_add(&errs, "password", code, "%s", bad);
    }
    if (errs.count)
        return http_reply_invalid(req, &errs);
    int rc = reset_complete(api_app_of(req)->store, json_string_value(tok), json_string_value(pw),
                            json_string_length(pw));
    if (rc == AT_EINVAL) {
        fe_add(&errs, "token", "invalid", "This reset link is not valid any more; ask for a new one.");
        return http_reply_invalid(req, &errs);
    }
    if (rc != AT_OK)
        return http_reply_status(req, rc);
    return http_reply_empty(req, 204);
}

static const http_route invitation_rows[] = {
    {HM_GET, "/api/v1/invitations/:token", invitations_lookup, AUTH_PUBLIC, NULL, ACCESS_NONE, 0},
    {HM_POST, "/api/v1/invitations/:token/accept", invitations_accept, AUTH_PUBLIC, NULL, ACCESS_NONE, 0},
    {HM_POST, "/api/v1/password/forgot", invitations_forgot, AUTH_PUBLIC, NULL, ACCESS_NONE, 0},
    {HM_POST, "/api/v1/password/reset", invitations_reset, AUTH_PUBLIC, NULL, ACCESS_NONE, 0},
};

const http_route_table api_invitation_routes = {invitation_rows, sizeof(invitation_rows) / sizeof(invitation_rows[0])};
