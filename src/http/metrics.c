/* HTTP metrics in Prometheus text format: request counts by route pattern, method and status, a
 * latency histogram per route, and the number of requests in flight; then the process-wide event
 * counters of base/counters.h. Counters are lock-free atomics indexed by route row, so observing a
 * request costs a few atomic adds. */
#include "http/http_impl.h"

#include "base/counters.h"
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
    atomic_ullong buckets[METRICS_BUCKETS + 1]; /* the latency histogram; the last is +Inf */
    atomic_ullong sum_us;
    atomic_ullong count;
} metrics_route;

static metrics_route *metrics_routes;
static int metrics_route_count;
static atomic_int metrics_inflight;

static void metrics_write_latency(buf *b, const metrics_route *r);

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
    metrics_route *r = &metrics_routes[route_index];
    int b = 0;
    while (b < METRICS_BUCKETS && micros > metrics_bounds_us[b])
        b++;
    atomic_fetch_add_explicit(&r->buckets[b], 1, memory_order_relaxed);
    atomic_fetch_add_explicit(&r->sum_us, (unsigned long long)(micros > 0 ? micros : 0), memory_order_relaxed);
    atomic_fetch_add_explicit(&r->count, 1, memory_order_relaxed);
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
    buf_puts(b, "# HELP atrium_http_request_duration_seconds Time from a request's arrival to its reply, by route "
                "pattern and method.\n"
                "# TYPE atrium_http_request_duration_seconds histogram\n");
    for (int i = 0; i < metrics_route_count; i++)
        if (atomic_load_explicit(&metrics_routes[i].count, memory_order_relaxed))
            metrics_write_latency(b, &metrics_routes[i]);
    buf_printf(b, "# HELP atrium_http_in_flight Requests being handled now.\n# TYPE atrium_http_in_flight gauge\n"
                  "atrium_http_in_flight %d\n",
               atomic_load(&metrics_inflight));
    counters_write(b);
}

/* Writes one route's histogram: cumulative buckets, +Inf, sum and count. A scrape may see a request
 * in a bucket before it is in the count; Prometheus tolerates that, and +Inf is the bucket total. */
static void metrics_write_latency(buf *b, const metrics_route *r)
{
    const char *route = r->row ? r->row->pattern : "unmatched";
    const char *method = r->row ? metrics_method_name(r->row->method) : "any";
    unsigned long long cumulative = 0;
    for (int k = 0; k <= METRICS_BUCKETS; k++) {
        cumulative += atomic_load_explicit(&r->buckets[k], memory_order_relaxed);
        if (k < METRICS_BUCKETS)
            buf_printf(b, "atrium_http_request_duration_seconds_bucket{route=\"%s\",method=\"%s\",le=\"%g\"} %llu\n",
                       route, method, (double)metrics_bounds_us[k] / 1e6, cumulative);
        else
            buf_printf(b, "atrium_http_request_duration_seconds_bucket{route=\"%s\",method=\"%s\",le=\"+Inf\"} %llu\n",
                       route, method, cumulative);
    }
    buf_printf(b, "atrium_http_request_duration_seconds_sum{route=\"%s\",method=\"%s\"} %.6f\n", route, method,
               (double)atomic_load(&r->sum_us) / 1e6);
    buf_printf(b, "atrium_http_request_duration_seconds_count{route=\"%s\",method=\"%s\"} %llu\n", route, method,
               cumulative);
}

