/* Response helpers: JSON, problem+json, status mapping and strict JSON bodies. Each reply is made once
 * per request; the glue in server.c turns the recorded reply into an MHD response. */
#include "http/http_impl.h"

#include "base/err.h"
#include "base/log.h"
#include "base/mem.h"

#include <stdlib.h>
#include <string.h>
#include <strings.h>

void http_reply_raw(http_req *req, int status, const char *content_type, char *body, size_t len)
{
    if (req->replied) {
        log_event(LOG_ERROR, "second reply to one request",
                  json_pack("{s:s, s:i}", "request_id", req->request_id, "status", status));
        free(body);
        return;
    }
    req->replied = true;
    req->status = status;
    req->content_type = content_type;
    buf_free(&req->out);
    if (body) {
        req->out.data = body;
        req->out.len = len;
        req->out.cap = len + 1;
    }
}

void http_reply_borrowed(http_req *req, int status, const char *content_type, const void *body, size_t len)
{
    http_reply_raw(req, status, content_type, NULL, 0);
    req->borrowed = body;
    req->borrowed_len = len;
}

const char *http_response_header(const http_req *req, const char *name)
{
    for (const struct http_header *h = req->headers; h; h = h->next)
        if (strcasecmp(h->name, name) == 0)
            return h->value;
    return NULL;
}

void http_set_header(http_req *req, const char *name, const char *value)
{
    struct http_header *h = arena_alloc(&req->arena, sizeof(*h));
    h->name = arena_strdup(&req->arena, name);
    h->value = arena_strdup(&req->arena, value);
    h->next = req->headers;
    req->headers = h;
}

int http_reply_json(http_req *req, int status, json_t *body)
{
    char *text = json_dumps(body, JSON_COMPACT | JSON_PRESERVE_ORDER);
    json_decref(body);
    if (!text) {
        http_reply_raw(req, 500, "application/problem+json",
                       xstrdup("{\"type\":\"urn:atrium:problem:internal\",\"title\":\"Internal error\",\"status\":500}"),
                       strlen("{\"type\":\"urn:atrium:problem:internal\",\"title\":\"Internal error\",\"status\":500}"));
        return AT_EINTERNAL;
    }
    http_reply_raw(req, status, "application/json", text, strlen(text));
    return AT_OK;
}

int http_reply_empty(http_req *req, int status)
{
    http_reply_raw(req, status, NULL, NULL, 0);
    return AT_OK;
}

int http_reply_text(http_req *req, int status, const char *content_type, const char *text, size_t len)
{
    http_reply_raw(req, status, content_type, xstrndup(text, len), len);
    return AT_OK;
}

int http_reply_bytes(http_req *req, int status, const char *content_type, buf *body)
{
    http_reply_raw(req, status, content_type, body->data, body->len);
    buf_init(body);
    return AT_OK;
}

/* Builds the problem object shared by every error reply. */
static json_t *response_problem(int status, const char *slug, const char *title, const char *detail)
{
    json_t *p = json_pack("{s:s+, s:s, s:i}", "type", "urn:atrium:problem:", slug, "title", title, "status", status);
    if (detail)
        json_object_set_new(p, "detail", json_string(detail));
    return p;
}

int http_reply_problem(http_req *req, int status, const char *slug, const char *title, const char *detail)
{
    json_t *p = response_problem(status, slug, title, detail);
    char *text = json_dumps(p, JSON_COMPACT | JSON_PRESERVE_ORDER);
    json_decref(p);
    http_reply_raw(req, status, "application/problem+json", text, text ? strlen(text) : 0);
    return AT_OK;
}

int http_reply_problem_extra(http_req *req, int status, const char *slug, const char *title, const char *detail,
                             json_t *extra)
{
    json_t *p = response_problem(status, slug, title, detail);
    json_object_update_missing(p, extra);
    json_decref(extra);
    char *text = json_dumps(p, JSON_COMPACT | JSON_PRESERVE_ORDER);
    json_decref(p);
    http_reply_raw(req, status, "application/problem+json", text, text ? strlen(text) : 0);
    return AT_OK;
}

int http_reply_problem_errors(http_req *req, int status, const char *slug, const char *title,
                              const field_errors *errs)
{
    json_t *p = response_problem(status, slug, title,
                                 errs->count == 1 ? errs->items[0].message : "Several fields are not valid.");
    json_t *list = json_array();
    for (size_t i = 0; i < errs->count; i++)
        json_array_append_new(list, json_pack("{s:s, s:s, s:s}", "field", errs->items[i].field, "code",
                                              errs->items[i].code, "message", errs->items[i].message));
    json_object_set_new(p, "errors", list);
    char *text = json_dumps(p, JSON_COMPACT | JSON_PRESERVE_ORDER);
    json_decref(p);
    http_reply_raw(req, status, "application/problem+json", text, text ? strlen(text) : 0);
    return AT_OK;
}

int http_reply_invalid(http_req *req, const field_errors *errs)
{
    return http_reply_problem_errors(req, 400, "validation", "The request is not valid.", errs);
}

int http_status_for(int at_status)
{
    switch (at_status) {
    case AT_OK: return 200;
    case AT_EINVAL: return 400;
    case AT_EUNAUTH: return 401;
    case AT_EFORBIDDEN: return 403;
    case AT_ENOTFOUND: return 404;
    case AT_ECONFLICT: return 409;
    case AT_EPRECOND: return 412;
    case AT_ETOOBIG: return 413;
    case AT_ECONSTRAINT: return 422;
    case AT_ELIMIT: return 429;
    case AT_EUNAVAIL: case AT_EBUSY: return 503;
    case AT_ENOSPACE: return 507;
    default: return 500;
    }
}

int http_reply_status(http_req *req, int at_status)
{
    int status = http_status_for(at_status);
    switch (status) {
    case 400: return http_reply_problem(req, 400, "bad-request", "The request is not valid.", NULL);
    case 401: return http_reply_problem(req, 401, "unauthenticated", "Sign in to continue.", NULL);
    case 403: return http_reply_problem(req, 403, "forbidden", "You do not have access to this.", NULL);
    case 404: return http_reply_problem(req, 404, "not-found", "Not found.", NULL);
    case 409: return http_reply_problem(req, 409, "conflict", "This conflicts with the current state.", NULL);
    case 412:
        return http_reply_problem(req, 412, "precondition-failed", "Someone else changed this; reload and try again.",
                                  NULL);
    case 413: return http_reply_problem(req, 413, "too-large", "The request body is too large.", NULL);
    case 422: return http_reply_problem(req, 422, "unprocessable", "The change breaks a rule of the data.", NULL);
    case 429: return http_reply_problem(req, 429, "rate-limited", "Too many requests; try again later.", NULL);
    case 503: return http_reply_problem(req, 503, "unavailable", "The service is unavailable; try again shortly.", NULL);
    case 507:
        /* A full disk is the operators' to fix, and nothing was changed: the client may retry later. */
        http_set_header(req, "Retry-After", "60");
        return http_reply_problem(req, 507, "storage-full", "The server is out of storage space.",
                                  "Nothing was changed. Try again later, once space has been freed.");
    default: return http_reply_problem(req, 500, "internal", "Something went wrong on our side.", NULL);
    }
}

/* Reports whether the Content-Type header names JSON (parameters such as charset=utf-8 allowed). */
static bool response_is_json_type(const char *ct)
{
    if (!ct)
        return false;
    while (*ct == ' ')
        ct++;
    size_t n = strcspn(ct, "; ");
    return n == strlen("application/json") && strncasecmp(ct, "application/json", n) == 0;
}

int http_body_fields_or_reply(http_req *req, const jv_field *fields, size_t nfields, json_t **out, field_errors *errs)
{
    json_t *obj = NULL;

    *out = NULL;
    fe_init(errs, &req->arena);
    if (!response_is_json_type(http_header(req, "Content-Type"))) {
        http_reply_problem(req, 415, "unsupported-media-type", "The body must be JSON.",
                           "Send Content-Type: application/json.");
        return AT_EINVAL;
    }
    if (jv_parse(req->body ? req->body : "", req->body_len, &obj, errs) != AT_OK) {
        http_reply_invalid(req, errs);
        return AT_EINVAL;
    }
    jv_check_object(obj, fields, nfields, "", errs);
    *out = http_req_keep(req, obj);
    return AT_OK;
}

int http_body_or_reply(http_req *req, const jv_field *fields, size_t nfields, json_t **out)
{
    field_errors errs;
    if (http_body_fields_or_reply(req, fields, nfields, out, &errs) != AT_OK)
        return AT_EINVAL;
    if (errs.count) {
        *out = NULL;
        http_reply_invalid(req, &errs);
        return AT_EINVAL;
    }
    return AT_OK;
}

json_t *http_req_keep(http_req *req, json_t *value)
{
    struct http_kept *k = arena_alloc(&req->arena, sizeof(*k));
    k->value = value;
    k->next = req->kept;
    req->kept = k;
    return value;
}
