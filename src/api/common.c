/* Small helpers shared by the API files: the audit actor, query parameters, ETags. */
#include "api/api.h"

#include "auth/login.h"
#include "base/err.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

audit_actor api_actor(const http_req *req)
{
    const api_principal *p = api_principal_of(req);
    audit_actor a = {p && p->key_id[0] ? "api_key" : p && p->has_ws && p->ws.agency ? "agency" : "user",
                     p ? (p->key_id[0] ? p->key_id : p->user.id) : NULL,
                     p ? p->user.email : NULL,
                     req->client_ip,
                     http_header(req, "User-Agent"),
                     req->request_id};
    return a;
}

int64_t api_query_int(http_req *req, const char *name, int64_t def, int64_t min, int64_t max, field_errors *errs)
{
    const char *v = http_query(req, name);
    char *end = NULL;
    if (!v)
        return def;
    errno = 0;
    long long n = strtoll(v, &end, 10);
    if (errno || end == v || *end || n < min || n > max) {
        fe_add(errs, name, "range", "Must be a whole number from %lld to %lld.", (long long)min, (long long)max);
        return def;
    }
    return n;
}

void api_etag(int64_t version, char out[32])
{
    snprintf(out, 32, "\"v%lld\"", (long long)version);
}

int api_if_match_or_reply(http_req *req, int64_t *version)
{
    const char *im = http_header(req, "If-Match");
    char *end = NULL;
    if (!im) {
        http_reply_problem(req, 428, "precondition-required", "Send If-Match with the ETag you last read.",
                           "Changes need the version they were made against, so two people never overwrite each "
                           "other silently.");
        return AT_EPRECOND;
    }
    /* "*" matches whatever version is current (RFC 9110 §13.1.1); a weak tag never matches, since
     * If-Match compares strongly. */
    if (strcmp(im, "*") == 0) {
        *version = 0;
        return AT_OK;
    }
    size_t n = strlen(im);
    if (n < 4 || im[0] != '"' || im[1] != 'v' || im[n - 1] != '"') {
        http_reply_problem(req, 412, "precondition-failed", "Someone else changed this; reload and try again.", NULL);
        return AT_EPRECOND;
    }
    errno = 0;
    long long v = strtoll(im + 2, &end, 10);
    if (errno || end != im + n - 1 || v < 1) {
        http_reply_problem(req, 412, "precondition-failed", "Someone else changed this; reload and try again.", NULL);
        return AT_EPRECOND;
    }
    *version = v;
    return AT_OK;
}

int api_reply_rate_limited(http_req *req, int64_t retry_after_s, const char *title)
{
    char text[32];
    snprintf(text, sizeof(text), "%lld", (long long)retry_after_s);
    http_set_header(req, "Retry-After", text);
    return http_reply_problem(req, 429, "rate-limited", title, NULL);
}

int api_rate_or_reply(http_req *req, const char *what)
{
    char bucket[128];
    int64_t retry = 0;
    snprintf(bucket, sizeof(bucket), "%s:%s", what, req->client_ip);
    int rc = login_rate_hit(api_app_of(req)->store, bucket, api_app_of(req)->cfg->login_ip_per_minute, &retry);
    if (rc == AT_ELIMIT) {
        api_reply_rate_limited(req, retry, "Too many attempts from your network; wait and try again.");
        return AT_ELIMIT;
    }
    if (rc != AT_OK)
        http_reply_status(req, rc);
    return rc;
}

int64_t api_offset_cursor(http_req *req, field_errors *errs)
{
    const char *cursor = http_query(req, "cursor");
    char *end = NULL;
    if (!cursor)
        return 0;
    long long off = cursor[0] == 'o' ? strtoll(cursor + 1, &end, 10) : -1;
    if (off < 0 || !end || *end || end == cursor + 1) {
        fe_add(errs, "cursor", "format", "Must be a cursor from a previous page.");
        return 0;
    }
    return off;
}
