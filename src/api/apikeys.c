/* API Keys: creating, listing, revoking and rotating workspace keys, the key policy, and the scope list. */
#include "api/api.h"

#include "apikeys/apikeys.h"
#include "base/err.h"

#include <sodium.h>
#include <stdio.h>
#include <string.h>

static apikey_actor apikeys_who(http_req *req)
{
    api_principal *p = api_principal_of(req);
    audit_actor *a = arena_alloc(&req->arena, sizeof(*a));
    *a = api_actor(req);
    apikey_actor w = {p->user.id, p->ws.role, a};
    return w;
}

static int apikeys_scopes(http_req *req)
{
    return http_reply_json(req, 200, json_pack("{s:o}", "items", apikey_scopes_json()));
}

static int apikeys_list(http_req *req)
{
    json_t *items = NULL;
    int rc = apikey_list(api_app_of(req)->store, api_principal_of(req)->ws.id, &items);
    if (rc != AT_OK)
        return http_reply_status(req, rc);
    return http_reply_json(req, 200, json_pack("{s:o}", "items", items));
}

static const char *apikeys_check_owner(const char *s, size_t len)
{
    (void)len;
    return strcmp(s, "workspace") == 0 || strcmp(s, "me") == 0 ? NULL : "Must be workspace or me.";
}

static const jv_field apikeys_create_fields[] = {
    {"name", JV_STRING, JV_REQUIRED | JV_TRIM, 1, 100, NULL},
    {"scopes", JV_ARRAY, JV_REQUIRED, 0, 0, NULL},
    {"expires_in_days", JV_INT, 0, 1, 3650, NULL},
    {"never_expires", JV_BOOL, 0, 0, 0, NULL},
    {"allowed_cidrs", JV_ARRAY, 0, 0, 0, NULL},
    {"owner", JV_STRING, 0, 1, 16, apikeys_check_owner},
};

/* Replies 201 with the key and its secret (the only time the secret is shown). */
static int apikeys_reply_secret(http_req *req, json_t *key, char secret[APIKEY_SECRET_MAX])
{
    char location[200];
    snprintf(location, sizeof(location), "/api/v1/workspaces/%s/api-keys/%s", api_principal_of(req)->ws.id,
             json_string_value(json_object_get(key, "id")));
    http_set_header(req, "Location", location);
    json_t *body = json_pack("{s:o, s:s}", "key", key, "secret", secret);
    sodium_memzero(secret, APIKEY_SECRET_MAX);
    return http_reply_json(req, 201, body);
}

static int apikeys_create(http_req *req)
{
    json_t *body, *key = NULL, *errors = NULL;
    field_errors errs;
    char secret[APIKEY_SECRET_MAX];
    if (http_body_fields_or_reply(req, apikeys_create_fields, 6, &body, &errs) != AT_OK)
        return AT_OK;
    if (errs.count)
        return http_reply_invalid(req, &errs);
    apikey_actor who = apikeys_who(req);
    int rc = apikey_create(api_app_of(req)->store, api_principal_of(req)->ws.id, body, &who, &key, secret, &errors);
    if (rc == AT_EINVAL) {
        size_t i;
        json_t *e;
        /* The error list keeps its code pointer: copy it out of the JSON before that goes. */
        json_array_foreach(errors, i, e) fe_add(&errs, json_string_value(json_object_get(e, "field")),
                                                arena_strdup(&req->arena, json_string_value(json_object_get(e, "code"))),
                                                "%s", json_string_value(json_object_get(e, "message")));
        json_decref(errors);
        return http_reply_invalid(req, &errs);
    }
    if (rc != AT_OK)
        return http_reply_status(req, rc);
    return apikeys_reply_secret(req, key, secret);
}

static int apikeys_get(http_req *req)
{
    json_t *key = NULL;
    int rc = apikey_get(api_app_of(req)->store, api_principal_of(req)->ws.id, http_param(req, "key_id"), &key);
    if (rc != AT_OK)
        return http_reply_status(req, rc);
    return http_reply_json(req, 200, key);
}

static int apikeys_revoke(http_req *req)
{
    apikey_actor who = apikeys_who(req);
    int rc = apikey_revoke(api_app_of(req)->store, api_principal_of(req)->ws.id, http_param(req, "key_id"), &who);
    if (rc == AT_ECONFLICT)
        return http_reply_problem(req, 409, "invalid-state", "This key is already revoked.", NULL);
    if (rc != AT_OK)
        return http_reply_status(req, rc);
    return http_reply_empty(req, 204);
}

static const jv_field apikeys_rotate_fields[] = {
    {"overlap_hours", JV_INT, 0, 0, 168, NULL},
};

static int apikeys_rotate(http_req *req)
{
    json_t *body = NULL, *key = NULL;
    char secret[APIKEY_SECRET_MAX];
    if (req->body_len && http_body_or_reply(req, apikeys_rotate_fields, 1, &body) != AT_OK)
        return AT_OK;
    json_t *overlap = body ? json_object_get(body, "overlap_hours") : NULL;
    apikey_actor who = apikeys_who(req);
    int rc = apikey_rotate(api_app_of(req)->store, api_principal_of(req)->ws.id, http_param(req, "key_id"),
                           overlap ? (int)json_integer_value(overlap) : 24, &who, &key, secret);
    if (rc == AT_ECONFLICT)
        return http_reply_problem(req, 409, "invalid-state", "Only a live key that was not rotated yet can be rotated.",
                                  NULL);
    if (rc != AT_OK)
        return http_reply_status(req, rc);
    return apikeys_reply_secret(req, key, secret);
}

static int apikeys_policy_get(http_req *req)
{
    json_t *out = NULL;
    int rc = apikey_policy_get(api_app_of(req)->store, api_principal_of(req)->ws.id, &out);
    if (rc != AT_OK)
        return http_reply_status(req, rc);
    return http_reply_json(req, 200, out);
}

static const jv_field apikeys_policy_fields[] = {
    {"max_days", JV_INT, 0, 1, 3650, NULL},
    {"default_days", JV_INT, 0, 1, 3650, NULL},
    {"allow_never", JV_BOOL, 0, 0, 0, NULL},
};

static int apikeys_policy_patch(http_req *req)
{
    json_t *patch, *out = NULL;
    field_errors errs;
    if (http_body_or_reply(req, apikeys_policy_fields, 3, &patch) != AT_OK)
        return AT_OK;
    audit_actor actor = api_actor(req);
    int rc = apikey_policy_patch(api_app_of(req)->store, api_principal_of(req)->ws.id, patch, &actor, &out);
    if (rc == AT_ECONSTRAINT) {
        fe_init(&errs, &req->arena);
        fe_add(&errs, "default_days", "range", "The default expiry cannot be longer than the maximum.");
        return http_reply_invalid(req, &errs);
    }
    if (rc != AT_OK)
        return http_reply_status(req, rc);
    return http_reply_json(req, 200, out);
}

#define KEYS "/api/v1/workspaces/:workspace_id/api-keys"
static const http_route apikey_rows[] = {
    {HM_GET, "/api/v1/scopes", apikeys_scopes, AUTH_PUBLIC, NULL, ACCESS_NONE, 0},
    {HM_GET, KEYS, apikeys_list, AUTH_SESSION, "api_keys", ACCESS_READ, 0},
    {HM_POST, KEYS, apikeys_create, AUTH_SESSION, "api_keys", ACCESS_WRITE, ROUTE_IDEMPOTENT},
    {HM_GET, KEYS "/:key_id", apikeys_get, AUTH_SESSION, "api_keys", ACCESS_READ, 0},
    {HM_DELETE, KEYS "/:key_id", apikeys_revoke, AUTH_SESSION, "api_keys", ACCESS_WRITE, 0},
    {HM_POST, KEYS "/:key_id/rotate", apikeys_rotate, AUTH_SESSION, "api_keys", ACCESS_WRITE, ROUTE_IDEMPOTENT},
    {HM_GET, "/api/v1/workspaces/:workspace_id/api-key-policy", apikeys_policy_get, AUTH_SESSION, "api_keys",
     ACCESS_READ, 0},
    {HM_PATCH, "/api/v1/workspaces/:workspace_id/api-key-policy", apikeys_policy_patch, AUTH_SESSION, "api_keys",
     ACCESS_WRITE, 0},
};

const http_route_table api_apikey_routes = {apikey_rows, sizeof(apikey_rows) / sizeof(apikey_rows[0])};
