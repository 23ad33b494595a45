/* The HTTP layer: libmicrohttpd glue, the router engine, request/response helpers and problem+json.
 *
 * Routes are declared as static tables of http_route rows (c-stack.md §5 rule 12) that api/ owns;
 * main hands them to http_server_start together with a guard function. For every request the server:
 *   1. accumulates the body (capped; 413 past the cap, after the body is read and dropped, or at once
 *      when the declared length is over four times the cap) — it answers only on the second callback;
 *   2. matches the path against the tables (404 unknown, 405 with Allow for a wrong method);
 *   3. runs the guard, which authenticates the caller and enforces the row's auth/section/access;
 *   4. runs the handler, which replies through http_reply_* (exactly once);
 *   5. adds the security headers and X-Request-Id, writes one access-log line, counts metrics.
 * Everything a request allocates lives in its arena and is freed when the request completes.
 * http/ knows nothing of users, workspaces or the store; it includes only base/. */
#ifndef AT_HTTP_H
#define AT_HTTP_H

#include "base/arena.h"
#include "base/cidr.h"
#include "base/buf.h"
#include "base/jsonv.h"

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

enum http_method {
    HM_GET = 1 << 0,
    HM_POST = 1 << 1,
    HM_PUT = 1 << 2,
    HM_PATCH = 1 << 3,
    HM_DELETE = 1 << 4,
    HM_HEAD = 1 << 5,
    HM_OPTIONS = 1 << 6,
};

/* Who may call a route; the guard interprets these. */
enum http_auth {
    AUTH_PUBLIC = 0,  /* anyone */
    AUTH_SESSION = 1, /* a signed-in browser session (cookie + CSRF on writes) */
    AUTH_USER = 2,    /* a session or an API key */
    AUTH_TEST = 3,    /* only when ATRIUM_ENV=test; the route does not exist otherwise */
    AUTH_OPERATOR = 4 /* the server's own operators (metrics); public on loopback only */
};

/* What a route does to its section; the policy decides who may. */
enum http_access { ACCESS_NONE = 0, ACCESS_READ = 1, ACCESS_WRITE = 2 };

typedef struct http_req http_req;
/* A handler replies through http_reply_* and returns AT_OK; a non-OK return without a reply is
 * answered with 500 (and logged). */
typedef int (*http_handler)(http_req *req);

#define ROUTE_NO_CACHE_HEADERS (1u << 0) /* the handler sets its own Cache-Control */
#define ROUTE_IDEMPOTENT (1u << 1)       /* a creating POST: honours Idempotency-Key (DESIGN.md §3) */
#define ROUTE_LARGE_BODY (1u << 2)       /* an upload: the body may reach HTTP_LARGE_BODY_BYTES (or the
                                          * configured cap, when larger); the handler sets its own limit */

enum { HTTP_LARGE_BODY_BYTES = 8 * 1024 * 1024 };

typedef struct http_route {
    int method;              /* one HM_* value */
    const char *pattern;     /* "/api/v1/workspaces/:workspace_id/members/:member_id" */
    http_handler handler;
    int auth;                /* http_auth */
    const char *section;     /* policy section id (DESIGN.md §1), or NULL for none */
    int access;              /* http_access */
    unsigned flags;
} http_route;

enum { HTTP_MAX_PARAMS = 8, HTTP_MAX_SEGMENTS = 16 };

struct http_req {
    arena arena;                 /* everything below that is allocated lives here */
    int method;                  /* HM_* */
    const char *method_name;
    const char *path;            /* percent-decoded path, without the query */
    const http_route *route;     /* NULL while unmatched */
    const char *param_names[HTTP_MAX_PARAMS];
    const char *param_values[HTTP_MAX_PARAMS];
    int nparams;
    char *body;                  /* NUL-terminated copy of the body (may contain NULs; use body_len) */
    size_t body_len;
    char request_id[72];         /* an incoming X-Request-Id of up to 64 characters, or ours */
    char client_ip[64];          /* who the client is: the peer, or what trusted proxies forwarded */
    char peer_ip[64];            /* the address of the TCP peer (a proxy, when via_proxy) */
    bool via_proxy;              /* the peer is a trusted proxy (ATRIUM_TRUSTED_PROXIES) */
    bool management;             /* served by the management listener (ATRIUM_METRICS_LISTEN) */
    int64_t start_mono_us;
    void *app;                   /* the application context given to http_server_start */
    void *principal;             /* set by the guard: who is calling (api/ defines the type) */
    struct MHD_Connection *conn; /* private to the glue */
    /* The response under construction. */
    int status;                  /* 0 until a reply was made */
    const char *content_type;
    buf out;
    const void *borrowed;        /* a body that outlives the request (embedded assets), or NULL */
    size_t borrowed_len;
    struct http_header *headers; /* extra response headers, a list in the arena */
    struct http_kept *kept;      /* JSON values released at completion (http_req_keep) */
    bool replied;
    bool too_big;
    size_t body_cap;             /* the largest body this request may send (its route's, once known) */
};

/* A guard runs before every handler. It returns AT_OK to let the handler run; otherwise it has
 * replied (401, 403, 404 ...) and the handler is skipped. */
typedef int (*http_guard)(http_req *req);

/* Idempotency-Key support, run by the server around the handler of every ROUTE_IDEMPOTENT row whose
 * request carries the header (after the guard, so the caller is known). The application supplies the
 * storage: begin returns AT_OK to let the handler run, or non-OK after replying (a replay of the
 * stored response, 422 for a key reused with another request, 409 while the first is in progress);
 * after every begin that returned AT_OK, finish runs (on the same thread) with the reply made. */
typedef struct http_idempotency {
    int (*begin)(http_req *req, const char *key);
    void (*finish)(http_req *req, const char *key);
} http_idempotency;

/* A table of routes; the server takes several (one per api/ file). */
typedef struct http_route_table {
    const http_route *rows;
    size_t count;
} http_route_table;

typedef struct http_server_config {
    const char *host;
    int port;                    /* 0: any free port */
    int max_connections;
    int max_connections_per_ip;
    int connection_timeout_s;    /* inactivity */
    int header_timeout_s;        /* from accept (or the previous response) to the end of the headers */
    int body_timeout_s;          /* from the end of the headers to the end of the body */
    int pool_threads;            /* 0: a thread per connection; else a pool of this many threads */
    size_t thread_stack_bytes;
    size_t max_body_bytes;
    bool test_routes;            /* serve AUTH_TEST rows */
    bool tls;                    /* add HSTS */
    const http_idempotency *idempotency; /* or NULL */
    const char *trusted_proxies; /* CIDR list (ATRIUM_TRUSTED_PROXIES); NULL or empty: none */
    bool management;             /* a management listener: serves AUTH_OPERATOR rows only, 404 else */
} http_server_config;

typedef struct http_server http_server;

/* http_server_start listens and serves in MHD's own threads until http_server_stop. The tables, guard
 * and app are borrowed for the server's lifetime. The socket is bound without SO_REUSEPORT, so a second
 * server on a busy address fails here instead of sharing the port. Returns AT_OK with *out set, or
 * AT_EUNAVAIL with a message naming the address in err (in use, not an address of this machine ...).
 * A client that trickles its headers past header_timeout_s, or its body past body_timeout_s, is cut
 * off by a watchdog thread, however often it sends a byte. */
int http_server_start(const http_server_config *cfg, const http_route_table *tables, size_t ntables,
                      http_guard guard, void *app, http_server **out, char err[256]);
int http_server_port(const http_server *s);
/* http_server_answers sends GET /healthz to the server's own listening address (over loopback when it
 * listens on every address) and returns true when a 200 comes back within timeout_ms: a liveness check
 * that proves the whole accept-and-answer path works, for the service manager's watchdog. */
bool http_server_answers(const http_server *s, int timeout_ms);
/* http_server_stop stops accepting at once: connections already waiting in the listen queue are
 * answered 503 (Retry-After, Connection: close) and closed in order, never reset. In-flight requests
 * may finish for up to timeout_s. When they all finished it closes every connection, frees the server
 * and returns 0. When some are still running it returns how many (logged as abandoned) and leaves
 * everything as it is: the caller exits the process, non-zero, which is the only way to bound a
 * handler that does not return. */
int http_server_stop(http_server *s, int timeout_s);

/* http_client_address works out a request's client address into out (64 bytes). When the peer (the
 * TCP connection's address) is not inside trusted, it is the peer, and the forwarding headers are
 * ignored. Otherwise the addresses in `Forwarded` (its for= parameters; preferred) or `X-Forwarded-For`
 * are read from the right, and the first that is not itself a trusted proxy is the client (all trusted:
 * the left-most); the left-most is never taken on its own, since the client writes it. An element that
 * must be read and is malformed (not an address, "unknown", an obfuscated node) leaves the peer as the
 * client. Returns whether the peer is a trusted proxy. Exposed for unit tests. */
bool http_client_address(const cidr_list *trusted, const char *peer, const char *forwarded, const char *xff,
                         char out[64]);

/* Request accessors. Returned strings are borrowed for the request's lifetime; NULL when absent. */
const char *http_param(const http_req *req, const char *name);
const char *http_header(const http_req *req, const char *name);
const char *http_query(const http_req *req, const char *name);
const char *http_cookie(const http_req *req, const char *name);

/* http_response_header returns a response header set so far (Location ...), or NULL. */
const char *http_response_header(const http_req *req, const char *name);

/* Response helpers. Each replies once; a second reply is ignored and logged as a bug. */
void http_set_header(http_req *req, const char *name, const char *value); /* copies both */
int http_reply_json(http_req *req, int status, json_t *body);              /* steals body */
int http_reply_empty(http_req *req, int status);
int http_reply_text(http_req *req, int status, const char *content_type, const char *text, size_t len);
/* http_reply_bytes sends body's bytes as they are (binary allowed; content_type borrowed, a literal)
 * and takes over its memory: body is left empty. */
int http_reply_bytes(http_req *req, int status, const char *content_type, buf *body);
/* http_reply_problem sends application/problem+json {type, title, status, detail}. `slug` names the
 * problem type ("not-found", "validation"); detail may be NULL. */
int http_reply_problem(http_req *req, int status, const char *slug, const char *title, const char *detail);
/* http_reply_invalid sends 400 with every error of errs in "errors": [{field, code, message}]. */
int http_reply_invalid(http_req *req, const field_errors *errs);
/* http_reply_problem_errors sends any problem status with an "errors" list (409 naming a taken field ...). */
int http_reply_problem_errors(http_req *req, int status, const char *slug, const char *title,
                              const field_errors *errs);
/* http_reply_status answers the shared status code (AT_ENOTFOUND -> 404 ...) with a generic problem. */
int http_reply_status(http_req *req, int at_status);
/* http_reply_problem_extra sends a problem with extra members (steals extra, an object), e.g. the plans
 * that carry a missing feature in a 402. */
int http_reply_problem_extra(http_req *req, int status, const char *slug, const char *title, const char *detail,
                             json_t *extra);

/* http_body_or_reply checks the Content-Type (application/json), parses the body strictly and
 * validates it against fields. On success *out is a new object the caller json_decref's (or the
 * request arena frees via http_req_keep). On failure it has replied (415/400) and returns AT_EINVAL. */
int http_body_or_reply(http_req *req, const jv_field *fields, size_t nfields, json_t **out);

/* http_body_fields_or_reply is http_body_or_reply for handlers with checks of their own: it replies
 * only when the body is not JSON at all (415/400). Field errors go into errs (initialised here) and the
 * object is returned anyway, so the handler can add its own errors and answer every bad field at once.
 * Returns AT_OK with *out set, or AT_EINVAL after a reply. */
int http_body_fields_or_reply(http_req *req, const jv_field *fields, size_t nfields, json_t **out, field_errors *errs);

/* http_req_keep ties a JSON value's lifetime to the request: it is json_decref'ed at completion. */
json_t *http_req_keep(http_req *req, json_t *value);

/* Metrics (Prometheus text) for the HTTP layer: requests by route and status, latency histogram,
 * connections in flight. Appends to b. */
void http_metrics_write(buf *b);

/* Route matching, exposed for unit tests and the fuzzer. http_match finds the row for (method, path)
 * among the tables. It returns 1 on a match (params filled), 0 when no pattern matches (404), or -1
 * when patterns match but not the method, with the allowed methods in *allow_mask (405). */
int http_match(const http_route_table *tables, size_t ntables, int method, const char *path, bool test_routes,
               const http_route **route_out, const char *names[HTTP_MAX_PARAMS], const char *values[HTTP_MAX_PARAMS],
               int *nparams, int *allow_mask, arena *a);
/* http_method_from_name maps "GET" ... to HM_*; 0 when unknown. */
int http_method_from_name(const char *name);
/* http_allow_header writes "GET, POST" for a mask into out (64 bytes). */
void http_allow_header(int mask, char out[64]);
/* http_path_is_safe rejects "..", ".", empty inner segments, backslashes and control bytes. */
bool http_path_is_safe(const char *path);
/* http_status_for maps a shared status code to the HTTP status it answers with. */
int http_status_for(int at_status);

#endif
