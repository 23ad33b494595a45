/* The API layer: route tables (one per file), thin handlers (parse -> call domain -> respond), and the
 * guard that authenticates the caller and enforces each row's auth, section and access before any
 * handler runs (DESIGN.md §1–§3). */
#ifndef AT_API_H
#define AT_API_H

#include "audit/audit.h"
#include "auth/sessions.h"
#include "base/config.h"
#include "http/http.h"
#include "store/store.h"
#include "workspace/workspace.h"

/* What every handler can reach through req->app. */
typedef struct api_app {
    store *store;
    const config *cfg;
    const char *version;
} api_app;

static inline api_app *api_app_of(const http_req *req)
{
    return (api_app *)req->app;
}

/* Who is calling, set by the guard on authenticated routes (req->principal). */
typedef struct api_principal {
    auth_user user;
    auth_session session;
    char token[SESSION_TOKEN_MAX]; /* the session cookie's secret; never logged or returned */
    char csrf[SESSION_CSRF_MAX];
    char key_id[ID_MAX]; /* set when an API key authenticated the request ("" for a session) */
    const struct apikey_auth *key; /* that key's scopes, or NULL */
    bool has_ws;  /* the route names a workspace and the guard resolved it */
    ws_access ws; /* what the caller may do there */
} api_principal;

static inline api_principal *api_principal_of(const http_req *req)
{
    return (api_principal *)req->principal;
}

/* api_actor describes the caller for the audit log (agency when acting through a parent root). */
audit_actor api_actor(const http_req *req);
/* api_query_int parses an optional integer query parameter within [min, max]; on a bad value it adds
 * an error for it to errs. */
int64_t api_query_int(http_req *req, const char *name, int64_t def, int64_t min, int64_t max, field_errors *errs);
/* api_rate_or_reply counts one attempt of `what` (e.g. "login") from the caller's IP against
 * ATRIUM_LOGIN_IP_PER_MINUTE; past the limit it replies 429 with Retry-After and returns AT_ELIMIT. */
int api_rate_or_reply(http_req *req, const char *what);
/* api_reply_rate_limited answers 429 rate-limited with Retry-After and the given title. */
int api_reply_rate_limited(http_req *req, int64_t retry_after_s, const char *title);
/* api_offset_cursor reads the ?cursor= of offset-paged lists ("o<offset>", 0 when absent); a bad one
 * adds an error to errs. */
int64_t api_offset_cursor(http_req *req, field_errors *errs);

/* api_etag writes "\"v<version>\"" into out; api_if_match parses If-Match into *version (0 for "*",
 * any version) or replies 428/412 and returns non-OK. */
void api_etag(int64_t version, char out[32]);
int api_if_match_or_reply(http_req *req, int64_t *version);

/* api_optional_session is for public routes that also serve signed-in users (accepting an
 * invitation): *out is the caller when a live session cookie came with the request (its CSRF header
 * checked; 403 replied otherwise), NULL when none did. Returns AT_OK, or non-OK after a reply. */
int api_optional_session(http_req *req, api_principal **out);

/* api_reply_plan_required answers 402 plan-required for a plan feature the workspace lacks, naming
 * the offered plans that have it ({feature, plans: [{id, name}]}). */
int api_reply_plan_required(http_req *req, const char *feature);

/* The session cookie's name: __Host- prefixed when served over TLS. */
const char *api_session_cookie_name(const config *cfg);
/* api_set_session_cookie sets (token != NULL) or clears the session cookie on the response. */
void api_set_session_cookie(http_req *req, const char *token, int64_t max_age_s);
/* api_origin_ok reports whether the request's Origin (or, without one, Sec-Fetch-Site) shows it comes
 * from our own pages. With allow_missing, a request carrying neither header passes (scripts). */
bool api_origin_ok(http_req *req, bool allow_missing);

/* api_tables returns the route tables of every API file, in matching order; *count gets their number. */
const http_route_table *api_tables(size_t *count);

/* The Idempotency-Key storage handed to the HTTP server (idempotency.c). */
extern const http_idempotency api_idempotency;

/* The guard given to the HTTP server. */
int api_guard(http_req *req);

/* api_register_jobs binds every job kind (deletions, reminders, mail; test kinds in test mode). */
void api_register_jobs(const config *cfg);
void api_register_test_jobs(const config *cfg);

/* Route tables, one per file. */
extern const http_route_table api_system_routes;
extern const http_route_table api_test_routes;
extern const http_route_table api_auth_routes;
extern const http_route_table api_workspace_routes;
extern const http_route_table api_subaccount_routes;
extern const http_route_table api_profile_routes;
extern const http_route_table api_activity_routes;
extern const http_route_table api_team_routes;
extern const http_route_table api_invitation_routes;
extern const http_route_table api_apikey_routes;
extern const http_route_table api_billing_routes;
extern const http_route_table api_billing_public_routes;

#endif
