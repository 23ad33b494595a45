/* System routes: liveness, readiness, the store-backed system summary and Prometheus metrics. */
#include "api/api.h"

#include "base/clock.h"
#include "base/err.h"
#include "jobs/jobs.h"

#include <stdlib.h>
#include <string.h>

static int system_healthz(http_req *req)
{
    return http_reply_json(req, 200, json_pack("{s:s}", "status", "ok"));
}

static int system_readyz(http_req *req)
{
    if (store_ping(api_app_of(req)->store) != AT_OK)
        return http_reply_problem(req, 503, "not-ready", "The store does not answer.", NULL);
    return http_reply_json(req, 200, json_pack("{s:s}", "status", "ready"));
}

/* Reads the newest schema_migrations row: the one-row store read that the benchmark measures. */
static int system_info(http_req *req)
{
    api_app *app = api_app_of(req);
    store_conn *c = NULL;
    store_rows *rows = NULL;
    json_t *schema = json_null();
    char now[32], applied[32];
    int rc = store_acquire(app->store, &c);
    if (rc != AT_OK)
        goto out;
    rc = store_query(c, "SELECT version, name, applied_at FROM schema_migrations ORDER BY version DESC LIMIT 1",
                     NULL, 0, &rows);
    if (rc != AT_OK)
        goto out;
    rc = store_rows_next(rows);
    if (rc < 0)
        goto out;
    if (rc == 1) {
        clock_format_rfc3339(store_rows_int(rows, 2), applied);
        json_decref(schema);
        schema = json_pack("{s:I, s:s, s:s}", "version", (json_int_t)store_rows_int(rows, 0), "name",
                           store_rows_text(rows, 1), "applied_at", applied);
    }
    rc = AT_OK;
out:
    store_rows_free(rows);
    if (c)
        store_release(c);
    if (rc != AT_OK) {
        json_decref(schema);
        return http_reply_status(req, rc);
    }
    clock_format_rfc3339(clock_now_us(), now);
    return http_reply_json(req, 200,
                           json_pack("{s:s, s:s, s:s, s:o, s:s}", "name", "atrium", "version", app->version, "store",
                                     store_kind(app->store) == STORE_PG ? "postgres" : "sqlite", "schema", schema,
                                     "time", now));
}

/* Prometheus text for /metrics: the HTTP and event counters (http_metrics_write), then what this
 * handler reads itself: the build, the store pool, the job queue and the schema version. Every family
 * has its # HELP and # TYPE lines, also when it has no sample yet. */
static int system_metrics(http_req *req)
{
    api_app *app = api_app_of(req);
    store_stats st;
    jobs_stats js;
    jobs_kind_age ages[64];
    size_t nages = 0;
    int db_version = 0, bin_version = 0;
    buf b;

    buf_init(&b);
    http_metrics_write(&b);
    buf_printf(&b,
               "# HELP atrium_build_info The running binary's version (the value is always 1).\n"
               "# TYPE atrium_build_info gauge\natrium_build_info{version=\"%s\"} 1\n",
               app->version);
    store_get_stats(app->store, &st);
    buf_printf(&b,
               "# HELP atrium_store_pool_size Store connections in the pool.\n"
               "# TYPE atrium_store_pool_size gauge\natrium_store_pool_size %d\n"
               "# HELP atrium_store_pool_in_use Store connections lent out now.\n"
               "# TYPE atrium_store_pool_in_use gauge\natrium_store_pool_in_use %d\n"
               "# HELP atrium_store_acquire_waits_total Times a caller waited for a free store connection.\n"
               "# TYPE atrium_store_acquire_waits_total counter\natrium_store_acquire_waits_total %llu\n"
               "# HELP atrium_store_queries_total Statements run on the store.\n"
               "# TYPE atrium_store_queries_total counter\natrium_store_queries_total %llu\n"
               "# HELP atrium_store_errors_total Statements the store failed.\n"
               "# TYPE atrium_store_errors_total counter\natrium_store_errors_total %llu\n"
               "# HELP atrium_store_busy_retries_total Transactions retried after a busy or serialization error.\n"
               "# TYPE atrium_store_busy_retries_total counter\natrium_store_busy_retries_total %llu\n",
               st.pool_size, st.in_use, (unsigned long long)st.acquire_waits, (unsigned long long)st.queries,
               (unsigned long long)st.errors, (unsigned long long)st.busy_retries);
    if (jobs_get_stats(app->store, &js) == AT_OK)
        buf_printf(&b,
                   "# HELP atrium_jobs Jobs in the durable queue by state.\n# TYPE atrium_jobs gauge\n"
                   "atrium_jobs{state=\"queued\"} %lld\natrium_jobs{state=\"running\"} %lld\n"
                   "atrium_jobs{state=\"done\"} %lld\natrium_jobs{state=\"dead\"} %lld\n"
                   "# HELP atrium_jobs_processed_total Job runs finished by this process.\n"
                   "# TYPE atrium_jobs_processed_total counter\natrium_jobs_processed_total %llu\n"
                   "# HELP atrium_jobs_failed_total Job runs that failed in this process (retried or dead).\n"
                   "# TYPE atrium_jobs_failed_total counter\natrium_jobs_failed_total %llu\n",
                   (long long)js.queued, (long long)js.running, (long long)js.done, (long long)js.dead,
                   (unsigned long long)js.processed, (unsigned long long)js.failed);
    buf_puts(&b, "# HELP atrium_jobs_oldest_due_seconds How long the oldest due queued job of each kind has "
                 "waited (0: none waits).\n# TYPE atrium_jobs_oldest_due_seconds gauge\n");
    if (jobs_due_ages(app->store, ages, sizeof(ages) / sizeof(ages[0]), &nages) == AT_OK)
        for (size_t i = 0; i < nages; i++)
            buf_printf(&b, "atrium_jobs_oldest_due_seconds{kind=\"%s\"} %.3f\n", ages[i].kind,
                       (double)ages[i].age_us / 1e6);
    if (store_schema_version(app->store, &db_version, &bin_version) == AT_OK)
        buf_printf(&b,
                   "# HELP atrium_schema_version The database's schema version.\n"
                   "# TYPE atrium_schema_version gauge\natrium_schema_version %d\n",
                   db_version);
    size_t len = 0;
    char *text = buf_steal(&b, &len);
    http_reply_text(req, 200, "text/plain; version=0.0.4; charset=utf-8", text, len);
    free(text);
    return AT_OK;
}

/* docs/openapi.yaml as JSON, embedded at build time (scripts/openapi-json.py). */
extern const char openapi_json[];
extern const size_t openapi_json_len;

static int system_openapi(http_req *req)
{
    http_set_header(req, "Cache-Control", "no-cache");
    return http_reply_text(req, 200, "application/json", openapi_json, openapi_json_len);
}

/* The user guides, rendered at build time (scripts/guide-html.py from docs/guide/<section>.md). */
extern const char *const guide_sections[];
extern const char *const guide_pages[];
extern const size_t guide_count;

/* GET /guide/{section}: the guide of a Settings section as an HTML page (public, like any help). */
static int system_guide(http_req *req)
{
    const char *section = http_param(req, "section");
    for (size_t i = 0; i < guide_count; i++)
        if (strcmp(section, guide_sections[i]) == 0) {
            http_set_header(req, "Cache-Control", "no-cache");
            return http_reply_text(req, 200, "text/html; charset=utf-8", guide_pages[i], strlen(guide_pages[i]));
        }
    return http_reply_problem(req, 404, "not-found", "There is no guide for this section.", NULL);
}

static const http_route system_rows[] = {
    {HM_GET, "/api/v1/openapi.json", system_openapi, AUTH_PUBLIC, NULL, ACCESS_NONE, 0},
    {HM_GET, "/healthz", system_healthz, AUTH_PUBLIC, NULL, ACCESS_NONE, 0},
    {HM_GET, "/readyz", system_readyz, AUTH_PUBLIC, NULL, ACCESS_NONE, 0},
    {HM_GET, "/metrics", system_metrics, AUTH_OPERATOR, NULL, ACCESS_NONE, 0},
    {HM_GET, "/api/v1/system", system_info, AUTH_PUBLIC, NULL, ACCESS_NONE, 0},
    {HM_GET, "/guide/:section", system_guide, AUTH_PUBLIC, NULL, ACCESS_NONE, ROUTE_NO_CACHE_HEADERS},
};

const http_route_table api_system_routes = {system_rows, sizeof(system_rows) / sizeof(system_rows[0])};
