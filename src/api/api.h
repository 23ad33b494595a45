/* The API layer: route tables (one per file), thin handlers (parse -> call domain -> respond), and the
 * guard that authenticates the caller and enforces each row's auth, section and access before any
 * handler runs (DESIGN.md §1–§3). */
#ifndef AT_API_H
#define AT_API_H

#include "base/config.h"
#include "http/http.h"
#include "store/store.h"

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

/* api_tables returns the route tables of every API file, in matching order; *count gets their number. */
const http_route_table *api_tables(size_t *count);

/* The guard given to the HTTP server. */
int api_guard(http_req *req);

/* api_register_jobs binds the job kinds the API layer owns (test kinds in test mode). */
void api_register_jobs(const config *cfg);

/* Route tables, one per file. */
extern const http_route_table api_system_routes;
extern const http_route_table api_test_routes;

#endif
