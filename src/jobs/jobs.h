/* The durable job queue (DESIGN.md §4): a `jobs` table and worker threads.
 *
 * Work that leaves the process (mail, webhooks) or takes long (imports, invoices) is enqueued inside
 * the business transaction that causes it (jobs_enqueue takes the caller's connection), so it exists
 * exactly when the change commits. Workers claim due jobs with `FOR UPDATE SKIP LOCKED` on PostgreSQL,
 * so several Atrium processes can share one database; a claim is a lease, and a job whose worker died
 * is claimed again when its lease runs out. A handler that fails is retried with exponential backoff
 * and jitter until max_attempts, then the job is `dead`. Handlers must be safe to run twice.
 * All times come from the program clock, so tests move them. */
#ifndef AT_JOBS_H
#define AT_JOBS_H

#include "base/id.h"
#include "store/store.h"

#include <jansson.h>
#include <stdint.h>

/* What a handler receives. `payload` is borrowed; write a failure reason into error. */
typedef struct job_ctx {
    const char *id;
    const char *kind;
    const json_t *payload;
    int attempt; /* 1 for the first run */
    store *store;
    char error[256];
} job_ctx;

/* A handler returns AT_OK when done; any other status schedules a retry (or `dead`). */
typedef int (*job_fn)(job_ctx *ctx);

/* jobs_register binds a kind to its handler. Call before jobs_start; kind is borrowed (static). */
void jobs_register(const char *kind, job_fn fn);

/* jobs_enqueue inserts a job on the caller's connection (inside its transaction). payload_json is a
 * JSON text ("{}" if NULL); run_at_us 0 means now; max_attempts 0 means the default (8). A non-NULL
 * dedupe_key makes the enqueue idempotent: a second job with the same key is not created and the
 * existing id is returned. id_out (optional) receives the job id. */
int jobs_enqueue(store_conn *c, const char *kind, const char *payload_json, int64_t run_at_us, int max_attempts,
                 const char *dedupe_key, char id_out[ID_MAX]);

/* jobs_start launches `workers` threads polling every poll_ms (and woken by jobs_wake). */
int jobs_start(store *s, int workers, int poll_ms);
/* jobs_stop asks the workers to finish the job in hand and joins them. */
void jobs_stop(void);
/* jobs_wake nudges idle workers, e.g. after an enqueue or a test clock change. */
void jobs_wake(void);
/* jobs_run_due runs due jobs on the calling thread until none is due or `max` ran; returns the count.
 * The CLI and tests use it to drain the queue without threads. */
int jobs_run_due(store *s, int max);

typedef struct jobs_stats {
    int64_t queued, running, done, dead; /* current counts by state */
    uint64_t processed, failed;          /* since start, in this process */
} jobs_stats;
int jobs_get_stats(store *s, jobs_stats *out);

/* How long the oldest due job of one kind has waited past its run_at (0 when none is due): a queue
 * that stops moving shows as a growing age long before the counts say anything. */
typedef struct jobs_kind_age {
    const char *kind; /* the registered (static) kind name */
    int64_t age_us;
} jobs_kind_age;

/* jobs_due_ages fills out[0..cap) with every registered kind and its oldest due queued job's age, at
 * the program clock's now, and sets *n to the number filled. Jobs of kinds this process did not
 * register are not reported. Returns AT_OK or a store error. */
int jobs_due_ages(store *s, jobs_kind_age *out, size_t cap, size_t *n);

/* jobs_describe returns a new JSON object for job `id` ({id, kind, state, attempts, max_attempts,
 * run_at, last_error, ...}) or AT_ENOTFOUND. The caller owns *out. */
int jobs_describe(store *s, const char *id, json_t **out);

#endif
