/* Private declarations shared by the files of the HTTP layer; nothing outside src/http includes it. */
#ifndef AT_HTTP_IMPL_H
#define AT_HTTP_IMPL_H

#include "http/http.h"

#include <stdint.h>

struct http_header {
    const char *name;
    const char *value;
    struct http_header *next;
};

/* A JSON value released when the request completes (http_req_keep). */
struct http_kept {
    json_t *value;
    struct http_kept *next;
};

/* static.c: answers GET/HEAD for a non-API path from the embedded UI (or a 400/404). */
int http_static_serve(http_req *req);

/* metrics.c */
void http_metrics_init(const http_route_table *tables, size_t ntables);
/* route_index: position among all rows, or -1 for requests that matched no row. */
void http_metrics_observe(int route_index, int method, int status, int64_t micros);
int http_metrics_route_index(const http_route *row);
void http_metrics_in_flight(int delta);

/* response.c */
/* http_reply_raw records a reply whose body (heap, may be NULL) it takes over. */
void http_reply_raw(http_req *req, int status, const char *content_type, char *body, size_t len);
/* http_reply_borrowed records a reply whose body lives for the whole process (no copy is made). */
void http_reply_borrowed(http_req *req, int status, const char *content_type, const void *body, size_t len);

#endif
