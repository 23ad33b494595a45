/* HTTP metrics in Prometheus text format: request counts by route pattern, method and status, one
 * latency histogram, and the number of requests in flight. Counters are lock-free atomics indexed by
 * route row, so observing a request costs two atomic adds. */
#include "http/http_impl.h"

#include "base/mem.h"

#include <stdatomic.h>
#include <stdio.h>
#include <string.h>

enum { METRICS_STATUS_MIN = 100, METRICS_STATUS_SLOTS = 500, METRICS_BUCKETS = 12 };

/* Upper bounds of the latency buckets, in microseconds (0.25 ms ... 2.5 s). */
static const int64_t metrics_bounds_us[METRICS_BUCKETS] = {250,   500,    1000,   2500,   5000,    10000,
                                                           25000, 50000, 100000, 250000, 1000000, 2500000};

typedef struct metrics_route {
    const http_route *row;  /* NULL for the pseudo-route of unmatched requests */
    atomic_ullong *by_status; /* METRICS_STATUS_SLOTS counters, allocated at init */
} metrics_route;

static metrics_route *metrics_routes;
static int metrics_route_count;
static atomic_ullong metrics_buckets[METRICS_BUCKETS + 1];
static atomic_ullong metrics_sum_us;
static atomic_ullong metrics_count;
static atomic_int metrics_inflight;

void http_metrics_init(const http_route_table *tables, size_t ntables)
{
    int n = 1;
    for (size_t t = 0; t < ntables; t++)
        n += (int)tables[t].count;
    metrics_routes = xcalloc((size_t)n, sizeof(*metrics_routes));
    metrics_route_count = n;
    int i = 1;
    for (size_t t = 0; t < ntables; t++)
        for (size_t r = 0; r < tables[t].count; r++)
            metrics_routes[i++].row = &tables[t].rows[r];
    for (int k = 0; k < n; k++)
        metrics_routes[k].by_status = xcalloc(METRICS_STATUS_SLOTS, sizeof(atomic_ullong));
}

int http_metrics_route_index(const http_route *row)
{
    /* Linear, but only called once per request on a table of at most a few hundred rows, and the
     * rows are contiguous per table, so it stays in cache. */
    for (int i = 1; i < metrics_route_count; i++)
        if (metrics_routes[i].row == row)
            return i;
    return 0;
}

void http_metrics_observe(int route_index, int method, int status, int64_t micros)
{
    (void)method;
    if (!metrics_routes)
        return;
    if (route_index < 0 || route_index >= metrics_route_count)
        route_index = 0;
    if (status >= METRICS_STATUS_MIN && status < METRICS_STATUS_MIN + METRICS_STATUS_SLOTS)
        atomic_fetch_add_explicit(&metrics_routes[route_index].by_status[status - METRICS_STATUS_MIN], 1,
                                  memory_order_relaxed);
    int b = 0;
    while (b < METRICS_BUCKETS && micros > metrics_bounds_us[b])
        b++;
    atomic_fetch_add_explicit(&metrics_buckets[b], 1, memory_order_relaxed);
    atomic_fetch_add_explicit(&metrics_sum_us, (unsigned long long)(micros > 0 ? micros : 0), memory_order_relaxed);
    atomic_fetch_add_explicit(&metrics_count, 1, memory_order_relaxed);
}

void http_metrics_in_flight(int delta)
{
    atomic_fetch_add(&metrics_inflight, delta);
}

static const char *metrics_method_name(int method)
{
    switch (method) {
    case HM_GET: return "GET";
    case HM_POST: return "POST";
    case HM_PUT: return "PUT";
    case HM_PATCH: return "PATCH";
    case HM_DELETE: return "DELETE";
    case HM_HEAD: return "HEAD";
    default: return "OPTIONS";
    }
}

void http_metrics_write(buf *b)
{
    buf_puts(b, "# HELP atrium_http_requests_total HTTP requests by route pattern, method and status.\n"
                "# TYPE atrium_http_requests_total counter\n");
    for (int i = 0; i < metrics_route_count; i++) {
        const http_route *row = metrics_routes[i].row;
        for (int s = 0; s < METRICS_STATUS_SLOTS; s++) {
            unsigned long long n = atomic_load_explicit(&metrics_routes[i].by_status[s], memory_order_relaxed);
            if (!n)
                continue;
            buf_printf(b, "atrium_http_requests_total{route=\"%s\",method=\"%s\",status=\"%d\"} %llu\n",
                       row ? row->pattern : "unmatched", row ? metrics_method_name(row->method) : "any",
                       s + METRICS_STATUS_MIN, n);
        }
    }
    buf_puts(b, "# HELP atrium_http_request_duration_seconds Time from the request's arrival to its reply.\n"
                "# TYPE atrium_http_request_duration_seconds histogram\n");
    unsigned long long cumulative = 0;
    for (int k = 0; k <= METRICS_BUCKETS; k++) {
        cumulative += atomic_load_explicit(&metrics_buckets[k], memory_order_relaxed);
        if (k < METRICS_BUCKETS)
            buf_printf(b, "atrium_http_request_duration_seconds_bucket{le=\"%g\"} %llu\n",
                       (double)metrics_bounds_us[k] / 1e6, cumulative);
        else
            buf_printf(b, "atrium_http_request_duration_seconds_bucket{le=\"+Inf\"} %llu\n", cumulative);
    }
    buf_printf(b, "atrium_http_request_duration_seconds_sum %.6f\n",
               (double)atomic_load(&metrics_sum_us) / 1e6);
    buf_printf(b, "atrium_http_request_duration_seconds_count %llu\n", atomic_load(&metrics_count));
    buf_printf(b, "# HELP atrium_http_in_flight Requests being handled now.\n# TYPE atrium_http_in_flight gauge\n"
                  "atrium_http_in_flight %d\n",
               atomic_load(&metrics_inflight));
}
