/* The guard that runs before every handler (DESIGN.md §2): it authenticates the caller the route row
 * asks for and checks CSRF on cookie-authenticated writes, before any handler code runs.
 *   AUTH_PUBLIC, AUTH_TEST: pass (test rows do not even match outside test mode).
 *   AUTH_OPERATOR: the management listener, the metrics token, or else a loopback peer that is not a
 *     trusted proxy (guard_operator); 404 elsewhere, so the endpoint is not advertised.
 *   AUTH_SESSION, AUTH_USER: a live session cookie (401 otherwise); a state-changing method also needs
 *     the session's X-CSRF-Token and an Origin (or Sec-Fetch-Site) of our own (403 otherwise). */
#include "api/api.h"

#include "base/clock.h"
#include "base/crypto.h"
#include "base/err.h"
#include "apikeys/apikeys.h"
#include "base/ratelimit.h"
#include "team/members.h"

#include <stdio.h>
#include <string.h>
#include <strings.h>

static bool guard_is_loopback(const char *ip)
{
    return strncmp(ip, "127.", 4) == 0 || strcmp(ip, "::1") == 0 || strncmp(ip, "::ffff:127.", 11) == 0;
}

/* Who may call the operators' routes (/metrics): anyone who reaches the management listener
 * (ATRIUM_METRICS_LISTEN); on the main listener, a caller with the metrics token when one is set (both
 * sides hashed with the server key first, so the comparison takes the same time whatever the length),
 * else a loopback peer that is not a trusted proxy: a proxy on the same host is loopback too, and
 * would otherwise hand the route to anyone on the internet. */
static bool guard_operator(http_req *req)
{
    const config *cfg = api_app_of(req)->cfg;
    if (req->management)
        return true;
    if (cfg->metrics_token[0]) {
        const char *authz = http_header(req, "Authorization");
        if (!authz || strncasecmp(authz, "Bearer ", 7) != 0)
            return false;
        char given[CRYPTO_DIGEST_HEX], want[CRYPTO_DIGEST_HEX];
        crypto_keyed_hex(authz + 7, strlen(authz + 7), given);
        crypto_keyed_hex(cfg->metrics_token, strlen(cfg->metrics_token), want);
        return crypto_equal(given, strlen(given), want, strlen(want));
    }
    return !req->via_proxy && guard_is_loopback(req->peer_ip);
}

const char *api_session_cookie_name(const config *cfg)
{
    return cfg->tls ? "__Host-atrium_session" : "atrium_session";
}

void api_set_session_cookie(http_req *req, const char *token, int64_t max_age_s)
{
    const config *cfg = api_app_of(req)->cfg;
    char cookie[256];
    snprintf(cookie, sizeof(cookie), "%s=%s; Path=/; HttpOnly; SameSite=Lax; Max-Age=%lld%s",
             api_session_cookie_name(cfg), token ? token : "", token ? (long long)max_age_s : 0LL,
             cfg->tls ? "; Secure" : "");
    http_set_header(req, "Set-Cookie", cookie);
}

bool api_origin_ok(http_req *req, bool allow_missing)
{
    const config *cfg = api_app_of(req)->cfg;
    const char *origin = http_header(req, "Origin");
    if (origin) {
        if (cfg->public_origin[0])
            return strcmp(origin, cfg->public_origin) == 0;
        const char *host = http_header(req, "Host");
        if (!host)
            return false;
        /* origin == scheme "://" Host, compared in place: a copy into a fixed buffer would cut a long
         * Host header and compare only its beginning. */
        const char *scheme = cfg->tls ? "https://" : "http://";
        size_t sl = strlen(scheme);
        return strncmp(origin, scheme, sl) == 0 && strcmp(origin + sl, host) == 0;
    }
    const char *site = http_header(req, "Sec-Fetch-Site");
    if (site)
        return strcmp(site, "same-origin") == 0;
    return allow_missing;
}

static int guard_workspace(http_req *req, api_principal *p, const apikey_auth *key);

/* Resolves the session cookie into a principal on the request arena; replies 401 when it fails. */
static int guard_session(http_req *req)
{
    api_app *app = api_app_of(req);
    const char *token = http_cookie(req, api_session_cookie_name(app->cfg));
    api_principal *p = arena_zalloc(&req->arena, sizeof(*p));
    if (!token) {
        http_reply_problem(req, 401, "unauthenticated", "Sign in to continue.", NULL);
        return AT_EUNAUTH;
    }
    int rc = sessions_resolve(app->store, token, req->client_ip, &p->session, &p->user);
    if (rc != AT_OK) {
        if (rc == AT_EUNAUTH) {
            api_set_session_cookie(req, NULL, 0);
            http_reply_problem(req, 401, "unauthenticated", "Your session has ended; sign in again.", NULL);
        } else {
            http_reply_status(req, rc);
        }
        return rc;
    }
    snprintf(p->token, sizeof(p->token), "%s", token);
    sessions_csrf(token, p->csrf);
    req->principal = p;
    if (req->method != HM_GET && req->method != HM_HEAD && req->method != HM_OPTIONS) {
        const char *sent = http_header(req, "X-CSRF-Token");
        if (!sessions_csrf_ok(token, sent) || !api_origin_ok(req, false)) {
            http_reply_problem(req, 403, "csrf", "The request did not come from an Atrium page.",
                               "Send the X-CSRF-Token header of your session from the same origin.");
            return AT_EFORBIDDEN;
        }
    }
    return guard_workspace(req, p, NULL);
}

/* For routes under /api/v1/workspaces/:workspace_id: the caller must reach the workspace (404 with the
 * same body as a missing one otherwise), its status must not lock them out, and the policy table must
 * allow the row's section and access (403). */
static int guard_workspace(http_req *req, api_principal *p, const apikey_auth *key)
{
    const char *ws_id = http_param(req, "workspace_id");
    if (!ws_id)
        return AT_OK;
    int rc;
    if (!key)
        rc = ws_resolve(api_app_of(req)->store, p->user.id, ws_id, &p->ws);
    else if (strcmp(ws_id, key->workspace_id) != 0)
        rc = AT_ENOTFOUND; /* a key reaches its own workspace only */
    else if (key->owner_user_id[0])
        rc = ws_resolve(api_app_of(req)->store, key->owner_user_id, ws_id, &p->ws);
    else
        rc = ws_resolve_as(api_app_of(req)->store, ws_id, ROLE_ADMIN, &p->ws);
    if (key && rc == AT_EFORBIDDEN)
        rc = AT_ENOTFOUND;
    if (rc == AT_EFORBIDDEN) {
        http_reply_problem(req, 403, "membership-deactivated", "Your membership in this workspace is deactivated.",
                           "Ask an owner or admin of the workspace to reactivate it.");
        return rc;
    }
    if (rc != AT_OK) {
        http_reply_status(req, rc);
        return rc;
    }
    p->has_ws = true;
    if (ws_locked(&p->ws)) {
        http_reply_problem(req, 403, "workspace-suspended",
                           strcmp(p->ws.status, "pending_deletion") == 0 ? "This workspace is scheduled for deletion."
                                                                          : "This workspace is suspended.",
                           p->ws.status_reason[0] ? p->ws.status_reason : NULL);
        return AT_EFORBIDDEN;
    }
    if (req->route->section) {
        policy_subject who;
        ws_subject(&p->ws, p->user.developer, &who);
        int want = req->route->access == ACCESS_WRITE ? POLICY_WRITE : POLICY_READ;
        const char *feature = policy_missing_feature(req->route->section, want, &who);
        if (feature) {
            api_reply_plan_required(req, feature);
            return AT_EFORBIDDEN;
        }
        if (!policy_allows(req->route->section, want, &who)) {
            http_reply_problem(req, 403, "forbidden", "Your role does not allow this here.", NULL);
            return AT_EFORBIDDEN;
        }
        if (key && !apikey_allows(key, req->route->section,
                                  req->route->access == ACCESS_WRITE ? POLICY_WRITE : POLICY_READ)) {
            char detail[96];
            snprintf(detail, sizeof(detail), "This key needs the scope %s:%s.", req->route->section,
                     req->route->access == ACCESS_WRITE ? "write" : "read");
            http_reply_problem(req, 403, "insufficient-scope", "This API key's scopes do not cover this.", detail);
            return AT_EFORBIDDEN;
        }
    }
    /* Only requests that got through count as activity in the workspace (people, not keys). */
    if (!key && !p->ws.agency && p->ws.last_active_at < clock_now_us() - 60 * 1000000LL)
        members_touch(api_app_of(req)->store, p->ws.id, p->user.id);
    return AT_OK;
}

int api_optional_session(http_req *req, api_principal **out)
{
    api_app *app = api_app_of(req);
    const char *token = http_cookie(req, api_session_cookie_name(app->cfg));
    *out = NULL;
    if (!token)
        return AT_OK;
    api_principal *p = arena_zalloc(&req->arena, sizeof(*p));
    int rc = sessions_resolve(app->store, token, req->client_ip, &p->session, &p->user);
    if (rc == AT_EUNAUTH)
        return AT_OK;
    if (rc != AT_OK) {
        http_reply_status(req, rc);
        return rc;
    }
    snprintf(p->token, sizeof(p->token), "%s", token);
    sessions_csrf(token, p->csrf);
    const char *sent = http_header(req, "X-CSRF-Token");
    if (!sessions_csrf_ok(token, sent) || !api_origin_ok(req, false)) {
        http_reply_problem(req, 403, "csrf", "The request did not come from an Atrium page.",
                           "Send the X-CSRF-Token header of your session from the same origin.");
        return AT_EFORBIDDEN;
    }
    req->principal = p;
    *out = p;
    return AT_OK;
}

/* Sets the RateLimit-* headers of a bucket and, when it is empty, replies 429 with Retry-After. */
static bool guard_rate(http_req *req, const char *bucket, int per_minute, int burst, bool headers)
{
    ratelimit_info rl;
    char text[32];
    bool ok = ratelimit_take(bucket, per_minute, burst, clock_now_us(), &rl);
    if (!headers && ok)
        return ok;
    snprintf(text, sizeof(text), "%d", rl.limit);
    http_set_header(req, "RateLimit-Limit", text);
    snprintf(text, sizeof(text), "%d", rl.remaining);
    http_set_header(req, "RateLimit-Remaining", text);
    snprintf(text, sizeof(text), "%d", rl.reset_s);
    http_set_header(req, "RateLimit-Reset", text);
    if (!ok) {
        snprintf(text, sizeof(text), "%d", rl.retry_after_s);
        http_set_header(req, "Retry-After", text);
        http_reply_problem(req, 429, "rate-limited", "Too many requests with this API key; slow down.", NULL);
    }
    return ok;
}

/* A request with `Authorization: Bearer ...`: the API key decides, and cookies are ignored. */
static int guard_key(http_req *req, const char *secret)
{
    api_app *app = api_app_of(req);
    apikey_auth k;
    if (req->route->auth != AUTH_USER) {
        http_reply_problem(req, 401, "session-required", "This needs a signed-in session; API keys cannot use it.",
                           NULL);
        return AT_EUNAUTH;
    }
    int rc = apikey_authenticate(app->store, secret, req->client_ip, &k);
    if (rc == AT_EUNAUTH) {
        http_set_header(req, "WWW-Authenticate", "Bearer realm=\"atrium\", error=\"invalid_token\"");
        http_reply_problem(req, 401, "invalid-api-key",
                           "The API key is not valid: unknown, revoked, expired, or not allowed from this address.",
                           NULL);
        return rc;
    }
    if (rc != AT_OK) {
        http_reply_status(req, rc);
        return rc;
    }
    char bucket[96];
    snprintf(bucket, sizeof(bucket), "ws:%s", k.workspace_id);
    /* The workspace's shared bucket speaks only when it refuses; the key's own sets the headers. */
    if (!guard_rate(req, bucket, app->cfg->workspace_rate_per_minute, app->cfg->workspace_rate_per_minute, false))
        return AT_ELIMIT;
    snprintf(bucket, sizeof(bucket), "key:%s", k.id);
    if (!guard_rate(req, bucket, app->cfg->key_rate_per_minute, app->cfg->key_burst, true))
        return AT_ELIMIT;
    api_principal *p = arena_zalloc(&req->arena, sizeof(*p));
    apikey_auth *kept = arena_alloc(&req->arena, sizeof(*kept));
    *kept = k;
    p->key = kept;
    snprintf(p->key_id, sizeof(p->key_id), "%s", k.id);
    snprintf(p->user.id, sizeof(p->user.id), "%s", k.owner_user_id);
    snprintf(p->user.email, sizeof(p->user.email), "%s", k.id);
    snprintf(p->user.name, sizeof(p->user.name), "API key %s", k.id);
    req->principal = p;
    return guard_workspace(req, p, &k);
}

int api_guard(http_req *req)
{
    const char *authz = http_header(req, "Authorization");
    if (authz && strncasecmp(authz, "Bearer ", 7) == 0 && req->route->auth != AUTH_PUBLIC &&
        req->route->auth != AUTH_TEST && req->route->auth != AUTH_OPERATOR)
        return guard_key(req, authz + 7);
    switch (req->route->auth) {
    case AUTH_PUBLIC:
    case AUTH_TEST:
        return AT_OK;
    case AUTH_OPERATOR:
        if (guard_operator(req))
            return AT_OK;
        http_reply_status(req, AT_ENOTFOUND);
        return AT_ENOTFOUND;
    case AUTH_SESSION:
    case AUTH_USER:
        return guard_session(req);
    default:
        http_reply_status(req, AT_EUNAUTH);
        return AT_EUNAUTH;
    }
}
