/* Accounts and sessions: sign-in, sign-up, sign-out, the current user, their sessions and password. */
#include "api/api.h"

#include "auth/login.h"
#include "base/buf.h"
#include "base/clock.h"
#include "base/err.h"

#include "workspace/workspace.h"

#include <stdio.h>
#include <string.h>

/* The body answered by sign-in, sign-up and /me: the user, the session and its CSRF token. */
static json_t *auth_session_body(const auth_user *u, const auth_session *sess, const char *csrf)
{
    char expires[32];
    clock_format_rfc3339(sess->expires_at, expires);
    return json_pack("{s:o, s:s, s:{s:s, s:s}}", "user", users_to_json(u), "csrf_token", csrf, "session", "id",
                     sess->id, "expires_at", expires);
}

/* Replies 201 with a new session's cookie and body. */
static int auth_reply_signed_in(http_req *req, const auth_user *u, const auth_session *sess, const char *token)
{
    char csrf[SESSION_CSRF_MAX];
    sessions_csrf(token, csrf);
    /* The browser may keep the cookie for the absolute lifetime; the idle expiry is enforced here. */
    api_set_session_cookie(req, token, (int64_t)api_app_of(req)->cfg->session_absolute_s);
    return http_reply_json(req, 201, auth_session_body(u, sess, csrf));
}


static int auth_options(http_req *req)
{
    const config *cfg = api_app_of(req)->cfg;
    return http_reply_json(req, 200, json_pack("{s:b, s:i}", "signup_enabled", cfg->signup_enabled,
                                               "password_min_length", cfg->password_min_length));
}

static const jv_field auth_signin_fields[] = {
    {"email", JV_STRING, JV_REQUIRED, 1, USER_EMAIL_MAX, NULL},
    {"password", JV_STRING, JV_REQUIRED, 1, PASSWORD_MAX_BYTES, NULL},
};

static int auth_signin(http_req *req)
{
    json_t *body;
    auth_user user;
    auth_session sess;
    char token[SESSION_TOKEN_MAX];

    if (!api_origin_ok(req, true))
        return http_reply_problem(req, 403, "csrf", "The request did not come from an Atrium page.", NULL);
    if (http_body_or_reply(req, auth_signin_fields, 2, &body) != AT_OK)
        return AT_OK;
    if (api_rate_or_reply(req, "login") != AT_OK)
        return AT_OK;
    json_t *email = json_object_get(body, "email"), *pw = json_object_get(body, "password");
    int rc = login_password(api_app_of(req)->store, json_string_value(email), json_string_length(email),
                            json_string_value(pw), json_string_length(pw), req->client_ip,
                            http_header(req, "User-Agent"), &user, &sess, token);
    if (rc == AT_EUNAUTH)
        return http_reply_problem(req, 401, "invalid-credentials", "The email or password is incorrect.", NULL);
    if (rc != AT_OK)
        return http_reply_status(req, rc);
    return auth_reply_signed_in(req, &user, &sess, token);
}

static const jv_field auth_signup_fields[] = {
    {"name", JV_STRING, JV_REQUIRED | JV_TRIM, 1, USER_NAME_MAX_CHARS, users_check_name},
    {"email", JV_STRING, JV_REQUIRED, 1, USER_EMAIL_MAX, email_check},
    {"password", JV_STRING, JV_REQUIRED, 1, PASSWORD_MAX_BYTES, NULL},
};

typedef struct auth_signup_ctx {
    const char *email, *name, *hash;
    const char *ip, *user_agent, *request_id;
    auth_user user;
    auth_session session;
    char token[SESSION_TOKEN_MAX];
} auth_signup_ctx;

static int auth_signup_tx(store_conn *c, void *ctx)
{
    auth_signup_ctx *s = ctx;
    char ws_id[ID_MAX];
    int rc = users_create(c, s->email, s->name, s->hash, false, &s->user);
    if (rc == AT_OK) {
        /* Every new account starts with a root workspace of its own. */
        audit_actor actor = {"user", s->user.id, s->user.email, s->ip, s->user_agent, s->request_id};
        buf ws_name;
        buf_init(&ws_name);
        buf_printf(&ws_name, "%s's workspace", s->name);
        rc = ws_create_root(c, s->user.id, ws_name.data, &actor, ws_id);
        buf_free(&ws_name);
    }
    if (rc == AT_OK)
        rc = sessions_create(c, s->user.id, s->ip, s->user_agent, s->token, &s->session);
    return rc;
}

static int auth_signup(http_req *req)
{
    const config *cfg = api_app_of(req)->cfg;
    json_t *body;
    field_errors errs;
    char email[USER_EMAIL_MAX + 1];
    const char *code = NULL;

    if (!cfg->signup_enabled)
        return http_reply_problem(req, 403, "signup-disabled", "Sign-up is turned off; ask an administrator.", NULL);
    if (!api_origin_ok(req, true))
        return http_reply_problem(req, 403, "csrf", "The request did not come from an Atrium page.", NULL);
    if (http_body_fields_or_reply(req, auth_signup_fields, 3, &body, &errs) != AT_OK)
        return AT_OK;
    json_t *pw = json_object_get(body, "password");
    json_t *name_v = json_object_get(body, "name");
    const char *name = json_is_string(name_v) ? json_string_value(name_v) : "";
    json_t *email_raw = json_object_get(body, "email");
    if (!json_is_string(email_raw) ||
        email_normalize(json_string_value(email_raw), json_string_length(email_raw), email) != AT_OK)
        email[0] = '\0';
    /* The password policy runs even when other fields are bad, so one answer names them all. */
    if (json_is_string(pw) && json_string_length(pw) > 0) {
        const char *why = password_policy_check(json_string_value(pw), json_string_length(pw),
                                                cfg->password_min_length, email, name, &code);
        if (why)
            fe_add(&errs, "password", code, "%s", why);
    }
    if (errs.count)
        return http_reply_invalid(req, &errs);
    if (api_rate_or_reply(req, "signup") != AT_OK)
        return AT_OK;
    char hash[PASSWORD_HASH_MAX];
    int rc = password_hash(json_string_value(pw), json_string_length(pw), hash);
    if (rc != AT_OK)
        return http_reply_status(req, rc);
    auth_signup_ctx s;
    memset(&s, 0, sizeof(s));
    s.email = email;
    s.name = name;
    s.hash = hash;
    s.ip = req->client_ip;
    s.user_agent = http_header(req, "User-Agent");
    s.request_id = req->request_id;
    rc = store_tx(api_app_of(req)->store, true, auth_signup_tx, &s);
    if (rc == AT_ECONFLICT) {
        fe_init(&errs, &req->arena);
        fe_add(&errs, "email", "taken", "An account with this email already exists; sign in instead.");
        return http_reply_problem_errors(req, 409, "conflict", "An account with this email already exists.", &errs);
    }
    if (rc != AT_OK)
        return http_reply_status(req, rc);
    return auth_reply_signed_in(req, &s.user, &s.session, s.token);
}

static int auth_signout(http_req *req)
{
    api_principal *p = api_principal_of(req);
    int rc = sessions_end(api_app_of(req)->store, p->user.id, p->session.id);
    if (rc != AT_OK && rc != AT_ENOTFOUND)
        return http_reply_status(req, rc);
    api_set_session_cookie(req, NULL, 0);
    return http_reply_empty(req, 204);
}

static int auth_me(http_req *req)
{
    api_principal *p = api_principal_of(req);
    return http_reply_json(req, 200, auth_session_body(&p->user, &p->session, p->csrf));
}

static int auth_sessions_list(http_req *req)
{
    api_principal *p = api_principal_of(req);
    json_t *items = NULL;
    int rc = sessions_list(api_app_of(req)->store, p->user.id, p->session.id, &items);
    if (rc != AT_OK)
        return http_reply_status(req, rc);
    return http_reply_json(req, 200, json_pack("{s:o}", "items", items));
}

static int auth_sessions_end_one(http_req *req)
{
    api_principal *p = api_principal_of(req);
    const char *id = http_param(req, "session_id");
    if (!id_valid("ses", id, strlen(id)))
        return http_reply_status(req, AT_ENOTFOUND);
    int rc = sessions_end(api_app_of(req)->store, p->user.id, id);
    if (rc != AT_OK)
        return http_reply_status(req, rc);
    if (strcmp(id, p->session.id) == 0)
        api_set_session_cookie(req, NULL, 0);
    return http_reply_empty(req, 204);
}

static int auth_sessions_end_others(http_req *req)
{
    api_principal *p = api_principal_of(req);
    int64_t ended = 0;
    int rc = sessions_end_others(api_app_of(req)->store, p->user.id, p->session.id, &ended);
    if (rc != AT_OK)
        return http_reply_status(req, rc);
    return http_reply_json(req, 200, json_pack("{s:I}", "ended", (json_int_t)ended));
}

static const jv_field auth_password_fields[] = {
    {"current_password", JV_STRING, JV_REQUIRED, 1, PASSWORD_MAX_BYTES, NULL},
    {"new_password", JV_STRING, JV_REQUIRED, 1, PASSWORD_MAX_BYTES, NULL},
};

static int auth_password(http_req *req)
{
    api_principal *p = api_principal_of(req);
    store *st = api_app_of(req)->store;
    json_t *body;
    field_errors errs;
    const char *code = NULL;
    char verified[PASSWORD_HASH_MAX] = "";

    if (http_body_fields_or_reply(req, auth_password_fields, 2, &body, &errs) != AT_OK)
        return AT_OK;
    json_t *cur = json_object_get(body, "current_password"), *nxt = json_object_get(body, "new_password");
    if (json_is_string(nxt) && json_string_length(nxt) > 0) {
        const char *why = password_policy_check(json_string_value(nxt), json_string_length(nxt),
                                                api_app_of(req)->cfg->password_min_length, p->user.email,
                                                p->user.name, &code);
        if (why)
            fe_add(&errs, "new_password", code, "%s", why);
    }
    /* The current password is checked even when the new one is refused, so both errors show at once;
     * the check is limited per account like every check of a current password. */
    if (json_is_string(cur) && json_string_length(cur) > 0) {
        int64_t retry = 0;
        int rc = login_check_current(st, p->user.id, json_string_value(cur), json_string_length(cur), verified, &retry);
        if (rc == AT_ELIMIT)
            return api_reply_rate_limited(req, retry, "Too many attempts; wait and try again.");
        if (rc == AT_EUNAUTH)
            fe_add(&errs, "current_password", "incorrect", "The current password is not correct.");
        else if (rc != AT_OK)
            return http_reply_status(req, rc);
    }
    if (errs.count)
        return http_reply_invalid(req, &errs);
    int rc = users_set_password(st, p->user.id, json_string_value(nxt), json_string_length(nxt), p->session.id,
                                verified);
    if (rc == AT_EUNAUTH) {
        fe_add(&errs, "current_password", "incorrect", "The current password is not correct.");
        return http_reply_invalid(req, &errs);
    }
    if (rc != AT_OK)
        return http_reply_status(req, rc);
    return http_reply_empty(req, 204);
}

static const http_route auth_rows[] = {
    {HM_GET, "/api/v1/auth/options", auth_options, AUTH_PUBLIC, NULL, ACCESS_NONE, 0},
    {HM_POST, "/api/v1/session", auth_signin, AUTH_PUBLIC, NULL, ACCESS_NONE, 0},
    {HM_DELETE, "/api/v1/session", auth_signout, AUTH_SESSION, NULL, ACCESS_NONE, 0},
    {HM_POST, "/api/v1/signup", auth_signup, AUTH_PUBLIC, NULL, ACCESS_NONE, 0},
    {HM_GET, "/api/v1/me", auth_me, AUTH_SESSION, "profile", ACCESS_READ, 0},
    {HM_GET, "/api/v1/me/sessions", auth_sessions_list, AUTH_SESSION, "profile", ACCESS_READ, 0},
    {HM_DELETE, "/api/v1/me/sessions", auth_sessions_end_others, AUTH_SESSION, "profile", ACCESS_WRITE, 0},
    {HM_DELETE, "/api/v1/me/sessions/:session_id", auth_sessions_end_one, AUTH_SESSION, "profile", ACCESS_WRITE, 0},
    {HM_POST, "/api/v1/me/password", auth_password, AUTH_SESSION, "profile", ACCESS_WRITE, 0},
};

const http_route_table api_auth_routes = {auth_rows, sizeof(auth_rows) / sizeof(auth_rows[0])};
