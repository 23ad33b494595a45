/* The durable job queue: the `jobs` table (schema/0001_core.sql), a registry of handlers by kind, and
 * worker threads that claim due jobs under a lease, run them outside any transaction, and record the
 * outcome: done, retry with exponential backoff and jitter, or dead. */
#include "jobs/jobs.h"

#include "base/clock.h"
#include "base/crypto.h"
#include "base/err.h"
#include "base/id.h"
#include "base/log.h"
#include "base/mem.h"
#include "base/text.h"

#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

enum { JOBS_MAX_KINDS = 64, JOBS_MAX_WORKERS = 64, JOBS_DEFAULT_ATTEMPTS = 8 };
#define JOBS_LEASE_US       (300LL * 1000000)
#define JOBS_BACKOFF_CAP_US (3600LL * 1000000)
#define JOBS_OUTAGE_CAP_MS  30000 /* the longest a worker waits between claims while the store is down */

static const char jobs_claim_sql[] =
    "UPDATE jobs SET state = 'running', attempts = attempts + 1, locked_by = $1, locked_until = $2, updated_at = $3 "
    "WHERE id = (SELECT id FROM jobs WHERE (state = 'queued' AND run_at <= $3) OR (state = 'running' AND "
    "locked_until < $3) ORDER BY run_at, id LIMIT 1 FOR UPDATE SKIP LOCKED) "
    "RETURNING id, kind, payload, attempts, max_attempts";

/* The lease guard (locked_by, state) keeps a worker whose lease ran out from overwriting the outcome of
 * the worker that reclaimed the job. */
static const char jobs_finish_sql[] =
    "UPDATE jobs SET state = $2, run_at = COALESCE($3, run_at), last_error = $4, locked_by = NULL, "
    "locked_until = NULL, updated_at = $5 WHERE id = $1 AND locked_by = $6 AND state = 'running'";

typedef struct jobs_kind {
    const char *kind;
    job_fn fn;
} jobs_kind;

/* One claimed job, copied out of the claim transaction. */
typedef struct jobs_claim {
    const char *worker;
    bool found;
    char id[ID_MAX];
    char *kind;
    char *payload;
    int attempts, max_attempts;
} jobs_claim;

typedef struct jobs_outcome {
    const char *id;
    const char *worker;
    const char *state;
    int64_t run_at; /* 0: unchanged */
    const char *error;
    int64_t changed; /* OUT */
} jobs_outcome;

static jobs_kind jobs_kinds[JOBS_MAX_KINDS];
static int jobs_nkinds;

static atomic_uint_least64_t jobs_processed;
static atomic_uint_least64_t jobs_failed;

/* The worker pool. mu guards everything but the threads array, which only jobs_start/jobs_stop touch. */
static struct {
    pthread_mutex_t mu;
    pthread_cond_t cv; /* CLOCK_MONOTONIC; initialised once by jobs_init_once */
    bool started, stopping;
    uint64_t wake_gen;
    int poll_ms;
    bool outage; /* the last claim failed on the store; logged once when it begins and once when it ends */
    store *s;
    int nthreads;
    pthread_t threads[JOBS_MAX_WORKERS];
} jobs_pool = {.mu = PTHREAD_MUTEX_INITIALIZER};
static pthread_once_t jobs_once = PTHREAD_ONCE_INIT;

static void jobs_init_once(void);
static void *jobs_worker(void *arg);
static int jobs_run_one(store *s, const char *worker);
static int jobs_claim_tx(store_conn *c, void *ctx);
static int jobs_finish_tx(store_conn *c, void *ctx);
static void jobs_claim_clear(jobs_claim *cl);
static const jobs_kind *jobs_find(const char *kind);
static int64_t jobs_backoff_us(int attempt);
static int jobs_idle_ms(int claim_rc, int *failures, int poll_ms);
static void jobs_wait_ms(uint64_t gen, int ms);
static void jobs_set_time(json_t *o, const char *key, store_rows *r, int col);
static void jobs_set_text(json_t *o, const char *key, store_rows *r, int col);

/* ------------------------------------------------------------------------------------------------ */
/* Registry and enqueue                                                                             */
/* ------------------------------------------------------------------------------------------------ */

void jobs_register(const char *kind, job_fn fn)
{
    for (int i = 0; i < jobs_nkinds; i++) {
        if (strcmp(jobs_kinds[i].kind, kind) == 0) {
            jobs_kinds[i].fn = fn;
            return;
        }
    }
    if (jobs_nkinds == JOBS_MAX_KINDS) {
        log_msg(LOG_ERROR, "jobs_register: too many job kinds; %s ignored", kind);
        return;
    }
    jobs_kinds[jobs_nkinds].kind = kind;
    jobs_kinds[jobs_nkinds].fn = fn;
    jobs_nkinds++;
}

/* jobs_enqueue inserts one queued job on c (the caller's transaction). With a dedupe key, a second
 * enqueue of the same key inserts nothing and reports the first job's id; keys are never reused, even
 * after the job is done. Returns AT_OK, AT_EINVAL for an empty kind, a negative max_attempts or a
 * payload that is not JSON, or the store's status. */
int jobs_enqueue(store_conn *c, const char *kind, const char *payload_json, int64_t run_at_us, int max_attempts,
                 const char *dedupe_key, char id_out[ID_MAX])
{
    if (!kind || !*kind || max_attempts < 0)
        return AT_EINVAL;
    const char *payload = payload_json ? payload_json : "{}";
    json_t *check = json_loads(payload, JSON_DECODE_ANY, NULL);
    if (!check)
        return AT_EINVAL;
    json_decref(check);

    int64_t now = clock_now_us();
    char id[ID_MAX];
    id_new("job", id);
    store_arg a[] = {sa_text(id),
                     sa_text(kind),
                     sa_text(payload),
                     sa_int(max_attempts ? max_attempts : JOBS_DEFAULT_ATTEMPTS),
                     sa_int(run_at_us ? run_at_us : now),
                     sa_text(dedupe_key),
                     sa_int(now)};
    int64_t changed = 0;
    int rc = store_exec(c,
                        "INSERT INTO jobs (id, kind, payload, state, attempts, max_attempts, run_at, dedupe_key, "
                        "created_at, updated_at) VALUES ($1, $2, $3, 'queued', 0, $4, $5, $6, $7, $7) "
                        "ON CONFLICT (dedupe_key) DO NOTHING",
                        a, 7, &changed);
    if (rc != AT_OK)
        return rc;
    if (changed == 0) {
        store_rows *r = NULL;
        store_arg k[] = {sa_text(dedupe_key)};
        rc = store_query(c, "SELECT id FROM jobs WHERE dedupe_key = $1", k, 1, &r);
        if (rc != AT_OK)
            return rc;
        int step = store_rows_next(r);
        if (step == 1)
            snprintf(id, sizeof id, "%s", store_rows_text(r, 0));
        store_rows_free(r);
        if (step != 1)
            return step < 0 ? step : AT_EINTERNAL;
    }
    if (id_out)
        memcpy(id_out, id, ID_MAX);
    return AT_OK;
}

/* ------------------------------------------------------------------------------------------------ */
/* Workers                                                                                          */
/* ------------------------------------------------------------------------------------------------ */

/* jobs_start launches the worker threads on s (borrowed until jobs_stop). Returns AT_OK, AT_EINVAL when
 * already started or for a bad count, or AT_EINTERNAL when a thread cannot be created (the ones that
 * started are stopped again). */
int jobs_start(store *s, int workers, int poll_ms)
{
    pthread_once(&jobs_once, jobs_init_once);
    if (workers < 1 || workers > JOBS_MAX_WORKERS)
        return AT_EINVAL;
    pthread_mutex_lock(&jobs_pool.mu);
    if (jobs_pool.started) {
        pthread_mutex_unlock(&jobs_pool.mu);
        return AT_EINVAL;
    }
    jobs_pool.started = true;
    jobs_pool.stopping = false;
    jobs_pool.s = s;
    jobs_pool.poll_ms = poll_ms > 0 ? poll_ms : 1000;
    jobs_pool.outage = false;
    pthread_mutex_unlock(&jobs_pool.mu);

    jobs_pool.nthreads = 0;
    for (int i = 0; i < workers; i++) {
        if (pthread_create(&jobs_pool.threads[i], NULL, jobs_worker, NULL) != 0) {
            log_msg(LOG_ERROR, "jobs_start: cannot create worker thread %d", i);
            jobs_stop();
            return AT_EINTERNAL;
        }
        jobs_pool.nthreads++;
    }
    return AT_OK;
}

void jobs_stop(void)
{
    pthread_once(&jobs_once, jobs_init_once);
    pthread_mutex_lock(&jobs_pool.mu);
    if (!jobs_pool.started) {
        pthread_mutex_unlock(&jobs_pool.mu);
        return;
    }
    jobs_pool.stopping = true;
    pthread_cond_broadcast(&jobs_pool.cv);
    pthread_mutex_unlock(&jobs_pool.mu);
    for (int i = 0; i < jobs_pool.nthreads; i++)
        pthread_join(jobs_pool.threads[i], NULL);
    jobs_pool.nthreads = 0;
    pthread_mutex_lock(&jobs_pool.mu);
    jobs_pool.started = false;
    jobs_pool.s = NULL;
    pthread_mutex_unlock(&jobs_pool.mu);
}

void jobs_wake(void)
{
    pthread_once(&jobs_once, jobs_init_once);
    pthread_mutex_lock(&jobs_pool.mu);
    jobs_pool.wake_gen++;
    pthread_cond_broadcast(&jobs_pool.cv);
    pthread_mutex_unlock(&jobs_pool.mu);
}

int jobs_run_due(store *s, int max)
{
    char worker[ID_MAX];
    id_new("run", worker);
    int n = 0;
    while (max <= 0 || n < max) {
        int rc = jobs_run_one(s, worker);
        if (rc < 0)
            log_msg(LOG_ERROR, "jobs: claim failed: %s", at_status_name(rc));
        if (rc != 1)
            break;
        n++;
    }
    return n;
}

/* A worker claims and runs jobs back to back while any is due, then sleeps poll_ms or until woken. A
 * wake that arrives while it is busy is remembered through the generation counter, not lost. While
 * the store fails (a PostgreSQL outage) it backs off instead of polling (jobs_idle_ms). */
static void *jobs_worker(void *arg)
{
    (void)arg;
    char worker[ID_MAX];
    int failures = 0;
    id_new("wrk", worker);
    for (;;) {
        pthread_mutex_lock(&jobs_pool.mu);
        bool stop = jobs_pool.stopping;
        uint64_t gen = jobs_pool.wake_gen;
        store *s = jobs_pool.s;
        int poll_ms = jobs_pool.poll_ms;
        pthread_mutex_unlock(&jobs_pool.mu);
        if (stop)
            break;
        int rc = jobs_run_one(s, worker);
        int idle_ms = jobs_idle_ms(rc, &failures, poll_ms);
        if (idle_ms > 0)
            jobs_wait_ms(gen, idle_ms);
    }
    return NULL;
}

/* jobs_idle_ms says how long a worker rests after a claim that returned claim_rc (1 claimed, 0 none
 * due, negative the store failed): 0 after a job, poll_ms when idle, and after consecutive failures
 * poll_ms doubled per failure up to JOBS_OUTAGE_CAP_MS. The pool-wide outage flag makes the start and
 * the end of an outage one log line each, whatever the number of workers. */
static int jobs_idle_ms(int claim_rc, int *failures, int poll_ms)
{
    bool failed = claim_rc < 0;
    pthread_mutex_lock(&jobs_pool.mu);
    bool changed = jobs_pool.outage != failed;
    jobs_pool.outage = failed;
    pthread_mutex_unlock(&jobs_pool.mu);
    if (changed && failed)
        log_msg(LOG_ERROR, "jobs: cannot claim jobs (%s); retrying with back-off up to %d s", at_status_name(claim_rc),
                JOBS_OUTAGE_CAP_MS / 1000);
    else if (changed)
        log_msg(LOG_INFO, "jobs: the store answers again; claiming resumes");
    if (!failed) {
        *failures = 0;
        return claim_rc == 1 ? 0 : poll_ms;
    }
    if (*failures < 20)
        (*failures)++;
    int64_t ms = (int64_t)poll_ms << *failures;
    return ms > JOBS_OUTAGE_CAP_MS ? JOBS_OUTAGE_CAP_MS : (int)ms;
}

/* Sleeps ms, or less when jobs_wake or jobs_stop is called after generation gen was read. */
static void jobs_wait_ms(uint64_t gen, int ms)
{
    struct timespec until;
    clock_gettime(CLOCK_MONOTONIC, &until);
    until.tv_sec += ms / 1000;
    until.tv_nsec += (long)(ms % 1000) * 1000000;
    if (until.tv_nsec >= 1000000000) {
        until.tv_sec++;
        until.tv_nsec -= 1000000000;
    }
    pthread_mutex_lock(&jobs_pool.mu);
    while (!jobs_pool.stopping && jobs_pool.wake_gen == gen) {
        if (pthread_cond_timedwait(&jobs_pool.cv, &jobs_pool.mu, &until) != 0)
            break;
    }
    pthread_mutex_unlock(&jobs_pool.mu);
}

static void jobs_init_once(void)
{
    pthread_condattr_t attr;
    pthread_condattr_init(&attr);
    pthread_condattr_setclock(&attr, CLOCK_MONOTONIC);
    pthread_cond_init(&jobs_pool.cv, &attr);
    pthread_condattr_destroy(&attr);
}

/* jobs_run_one claims one due job in its own write transaction, runs its handler with no transaction
 * open, and records the outcome in a second transaction. Returns 1 when a job was claimed (whatever
 * its outcome), 0 when none was due, or a negative status when the store failed. */
static int jobs_run_one(store *s, const char *worker)
{
    jobs_claim cl = {.worker = worker};
    int rc = store_tx(s, true, jobs_claim_tx, &cl);
    if (rc != AT_OK || !cl.found) {
        jobs_claim_clear(&cl);
        return rc != AT_OK ? rc : 0; /* the caller reports a failure (workers once per outage) */
    }

    job_ctx ctx = {.id = cl.id, .kind = cl.kind, .attempt = cl.attempts, .store = s};
    bool ok = false;
    const jobs_kind *k = jobs_find(cl.kind);
    if (cl.attempts > cl.max_attempts) {
        /* The worker of the final attempt died holding the lease; do not run it once more. */
        snprintf(ctx.error, sizeof ctx.error, "lease expired during the final attempt");
    } else if (!k) {
        snprintf(ctx.error, sizeof ctx.error, "no handler for kind %s", cl.kind);
    } else {
        json_t *payload = json_loads(cl.payload, JSON_DECODE_ANY, NULL);
        if (!payload) {
            snprintf(ctx.error, sizeof ctx.error, "payload is not valid JSON");
        } else {
            ctx.payload = payload;
            int status = k->fn(&ctx);
            json_decref(payload);
            ok = status == AT_OK;
            if (!ok && !ctx.error[0])
                snprintf(ctx.error, sizeof ctx.error, "handler returned %s", at_status_name(status));
        }
    }

    /* A handler's reason (an SMTP server's reply, say) may have been cut inside a character by its
     * snprintf into ctx.error: end it at the last whole one, so the stored text stays valid UTF-8 and
     * the job's JSON keeps its last_error. */
    ctx.error[text_utf8_cut(ctx.error, sizeof(ctx.error) - 1)] = '\0';
    jobs_outcome out = {.id = cl.id, .worker = worker};
    if (ok) {
        out.state = "done";
    } else if (k && cl.attempts < cl.max_attempts) {
        out.state = "queued";
        out.run_at = clock_now_us() + jobs_backoff_us(cl.attempts);
        out.error = ctx.error;
    } else {
        out.state = "dead";
        out.error = ctx.error;
    }
    atomic_fetch_add(&jobs_processed, 1);
    if (!ok)
        atomic_fetch_add(&jobs_failed, 1);
    rc = store_tx(s, true, jobs_finish_tx, &out);
    if (rc != AT_OK) {
        log_msg(LOG_ERROR, "jobs: cannot record the outcome of %s: %s", cl.id, at_status_name(rc));
    } else if (out.changed == 0) {
        log_msg(LOG_WARN, "jobs: lease of %s ran out before it finished; outcome dropped", cl.id);
    } else if (!ok) {
        json_t *f = json_pack("{s:s, s:s, s:i, s:s, s:s}", "job", cl.id, "kind", cl.kind, "attempt", cl.attempts,
                              "state", out.state, "error", ctx.error);
        log_event(strcmp(out.state, "dead") == 0 ? LOG_ERROR : LOG_WARN, "job failed", f);
    }
    jobs_claim_clear(&cl);
    return 1;
}

/* jobs_claim_tx takes the oldest due job (or one whose lease expired) and copies it into ctx; it may
 * run several times when store_tx retries, so it starts by dropping an earlier copy. */
static int jobs_claim_tx(store_conn *c, void *ctx)
{
    jobs_claim *cl = ctx;
    jobs_claim_clear(cl);
    int64_t now = clock_now_us();
    store_arg a[] = {sa_text(cl->worker), sa_int(now + JOBS_LEASE_US), sa_int(now)};
    store_rows *r = NULL;
    int rc = store_query(c, jobs_claim_sql, a, 3, &r);
    if (rc != AT_OK)
        return rc;
    int step = store_rows_next(r);
    if (step == 1) {
        snprintf(cl->id, sizeof cl->id, "%s", store_rows_text(r, 0));
        cl->kind = xstrdup(store_rows_text(r, 1));
        cl->payload = xstrdup(store_rows_text(r, 2));
        cl->attempts = (int)store_rows_int(r, 3);
        cl->max_attempts = (int)store_rows_int(r, 4);
        cl->found = true;
    }
    store_rows_free(r);
    return step < 0 ? step : AT_OK;
}

static int jobs_finish_tx(store_conn *c, void *ctx)
{
    jobs_outcome *o = ctx;
    store_arg a[] = {sa_text(o->id),    sa_text(o->state),      o->run_at ? sa_int(o->run_at) : sa_null(),
                     sa_text(o->error), sa_int(clock_now_us()), sa_text(o->worker)};
    return store_exec(c, jobs_finish_sql, a, 6, &o->changed);
}

static void jobs_claim_clear(jobs_claim *cl)
{
    free(cl->kind);
    free(cl->payload);
    cl->kind = cl->payload = NULL;
    cl->found = false;
}

static const jobs_kind *jobs_find(const char *kind)
{
    for (int i = 0; i < jobs_nkinds; i++)
        if (strcmp(jobs_kinds[i].kind, kind) == 0)
            return &jobs_kinds[i];
    return NULL;
}

/* The delay before the retry that follows failed attempt n: 2^n seconds, at most an hour, plus up to
 * 25 % so that jobs failing together do not retry together. */
static int64_t jobs_backoff_us(int attempt)
{
    int64_t base = attempt >= 12 ? JOBS_BACKOFF_CAP_US : (int64_t)(1LL << attempt) * 1000000;
    if (base > JOBS_BACKOFF_CAP_US)
        base = JOBS_BACKOFF_CAP_US;
    uint64_t r = 0;
    crypto_random(&r, sizeof r);
    return base + (int64_t)(r % (uint64_t)(base / 4 + 1));
}

/* ------------------------------------------------------------------------------------------------ */
/* Inspection                                                                                       */
/* ------------------------------------------------------------------------------------------------ */

int jobs_get_stats(store *s, jobs_stats *out)
{
    memset(out, 0, sizeof *out);
    out->processed = atomic_load(&jobs_processed);
    out->failed = atomic_load(&jobs_failed);
    store_conn *c = NULL;
    int rc = store_acquire(s, &c);
    if (rc != AT_OK)
        return rc;
    store_rows *r = NULL;
    rc = store_query(c, "SELECT state, COUNT(*) FROM jobs GROUP BY state", NULL, 0, &r);
    if (rc == AT_OK) {
        int step;
        while ((step = store_rows_next(r)) == 1) {
            const char *state = store_rows_text(r, 0);
            int64_t n = store_rows_int(r, 1);
            if (strcmp(state, "queued") == 0)
                out->queued = n;
            else if (strcmp(state, "running") == 0)
                out->running = n;
            else if (strcmp(state, "done") == 0)
                out->done = n;
            else if (strcmp(state, "dead") == 0)
                out->dead = n;
        }
        rc = step < 0 ? step : AT_OK;
        store_rows_free(r);
    }
    store_release(c);
    return rc;
}

int jobs_due_ages(store *s, jobs_kind_age *out, size_t cap, size_t *n)
{
    store_conn *c = NULL;
    store_rows *r = NULL;
    int64_t now = clock_now_us();
    *n = 0;
    for (int i = 0; i < jobs_nkinds && *n < cap; i++)
        out[(*n)++] = (jobs_kind_age){jobs_kinds[i].kind, 0};
    int rc = store_acquire(s, &c);
    if (rc != AT_OK)
        return rc;
    store_arg args[] = {sa_int(now)};
    rc = store_query(c, "SELECT kind, MIN(run_at) FROM jobs WHERE state = 'queued' AND run_at <= $1 GROUP BY kind",
                     args, 1, &r);
    if (rc == AT_OK) {
        int step;
        while ((step = store_rows_next(r)) == 1)
            for (size_t k = 0; k < *n; k++)
                if (strcmp(out[k].kind, store_rows_text(r, 0)) == 0)
                    out[k].age_us = now - store_rows_int(r, 1);
        rc = step < 0 ? step : AT_OK;
        store_rows_free(r);
    }
    store_release(c);
    return rc;
}

/* jobs_set_time adds key as an RFC 3339 string, or null when column col is NULL. */
static void jobs_set_time(json_t *o, const char *key, store_rows *r, int col)
{
    if (store_rows_is_null(r, col)) {
        json_object_set_new(o, key, json_null());
        return;
    }
    char ts[32];
    clock_format_rfc3339(store_rows_int(r, col), ts);
    json_object_set_new(o, key, json_string(ts));
}

static void jobs_set_text(json_t *o, const char *key, store_rows *r, int col)
{
    const char *v = store_rows_text(r, col);
    json_object_set_new(o, key, v ? json_string(v) : json_null());
}

/* jobs_describe returns a new object for job id: id, kind, state, attempts, max_attempts, run_at,
 * last_error, locked_by, locked_until, created_at, updated_at. The payload is left out: it may carry
 * personal data or tokens, and this view is for operators' logs and screens. */
int jobs_describe(store *s, const char *id, json_t **out)
{
    store_conn *c = NULL;
    int rc = store_acquire(s, &c);
    if (rc != AT_OK)
        return rc;
    store_rows *r = NULL;
    store_arg a[] = {sa_text(id)};
    rc = store_query(c,
                     "SELECT id, kind, state, attempts, max_attempts, run_at, last_error, locked_by, locked_until, "
                     "created_at, updated_at FROM jobs WHERE id = $1",
                     a, 1, &r);
    if (rc != AT_OK)
        goto release;
    int step = store_rows_next(r);
    if (step != 1) {
        rc = step < 0 ? step : AT_ENOTFOUND;
        goto free_rows;
    }
    json_t *o = json_object();
    jobs_set_text(o, "id", r, 0);
    jobs_set_text(o, "kind", r, 1);
    jobs_set_text(o, "state", r, 2);
    json_object_set_new(o, "attempts", json_integer(store_rows_int(r, 3)));
    json_object_set_new(o, "max_attempts", json_integer(store_rows_int(r, 4)));
    jobs_set_time(o, "run_at", r, 5);
    jobs_set_text(o, "last_error", r, 6);
    jobs_set_text(o, "locked_by", r, 7);
    jobs_set_time(o, "locked_until", r, 8);
    jobs_set_time(o, "created_at", r, 9);
    jobs_set_time(o, "updated_at", r, 10);
    *out = o;
free_rows:
    store_rows_free(r);
release:
    store_release(c);
    return rc;
}
