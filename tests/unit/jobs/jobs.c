/* The durable job queue, on both backends. The program clock is moved, never slept on. */
#include "jobs/jobs.h"

#include "base/clock.h"
#include "store/testdb.h"

#include <criterion/criterion.h>
#include <stdatomic.h>
#include <string.h>
#include <unistd.h>

#define SEC 1000000LL

static atomic_int ok_runs;
static atomic_int ran_index[64];
static char last_payload_name[64];

static int job_ok(job_ctx *ctx)
{
    json_t *n = json_object_get(ctx->payload, "name");
    if (json_is_string(n))
        snprintf(last_payload_name, sizeof last_payload_name, "%s", json_string_value(n));
    json_t *i = json_object_get(ctx->payload, "i");
    if (json_is_integer(i) && json_integer_value(i) >= 0 && json_integer_value(i) < 64)
        atomic_fetch_add(&ran_index[json_integer_value(i)], 1);
    atomic_fetch_add(&ok_runs, 1);
    return AT_OK;
}

static int job_fail(job_ctx *ctx)
{
    snprintf(ctx->error, sizeof ctx->error, "smtp said no (attempt %d)", ctx->attempt);
    return AT_EUNAVAIL;
}

static void enqueue(testdb *t, const char *kind, const char *payload, int64_t run_at, int max, const char *dedupe,
                    char id[ID_MAX])
{
    store_conn *c = NULL;
    cr_assert_eq(store_acquire(t->s, &c), 0);
    int rc = jobs_enqueue(c, kind, payload, run_at, max, dedupe, id);
    store_release(c);
    cr_assert_eq(rc, 0);
}

static json_t *describe(testdb *t, const char *id)
{
    json_t *o = NULL;
    cr_assert_eq(jobs_describe(t->s, id, &o), 0);
    return o;
}

static const char *str(json_t *o, const char *key)
{
    return json_string_value(json_object_get(o, key));
}

static int64_t num(json_t *o, const char *key)
{
    return json_integer_value(json_object_get(o, key));
}

static int64_t run_at_us(json_t *o)
{
    int64_t us = 0;
    const char *s = str(o, "run_at");
    cr_assert_eq(clock_parse_rfc3339(s, strlen(s), &us), 0, "%s", s);
    return us;
}

static void setup(void)
{
    clock_enable_test();
    jobs_register("ok", job_ok);
    jobs_register("fail", job_fail);
}

STORE_TEST_MIGRATED(jobs, enqueue_describe_run, 1)
{
    setup();
    char id[ID_MAX];
    enqueue(t, "ok", "{\"name\":\"welcome\"}", 0, 0, NULL, id);
    cr_assert_eq(strncmp(id, "job_", 4), 0);
    json_t *o = describe(t, id);
    cr_assert_str_eq(str(o, "id"), id);
    cr_assert_str_eq(str(o, "kind"), "ok");
    cr_assert_str_eq(str(o, "state"), "queued");
    cr_assert_eq(num(o, "attempts"), 0);
    cr_assert_eq(num(o, "max_attempts"), 8);
    cr_assert(json_is_null(json_object_get(o, "last_error")));
    cr_assert(str(o, "run_at") && strchr(str(o, "run_at"), 'T') &&
              str(o, "run_at")[strlen(str(o, "run_at")) - 1] == 'Z');
    cr_assert_null(json_object_get(o, "payload"));
    json_decref(o);

    cr_assert_eq(jobs_run_due(t->s, 10), 1);
    cr_assert_eq(ok_runs, 1);
    cr_assert_str_eq(last_payload_name, "welcome");
    o = describe(t, id);
    cr_assert_str_eq(str(o, "state"), "done");
    cr_assert_eq(num(o, "attempts"), 1);
    cr_assert(json_is_null(json_object_get(o, "locked_by")));
    json_decref(o);
    cr_assert_eq(jobs_run_due(t->s, 10), 0);

    jobs_stats st;
    cr_assert_eq(jobs_get_stats(t->s, &st), 0);
    cr_assert_eq(st.done, 1);
    cr_assert_eq(st.queued, 0);
    cr_assert_eq(st.processed, 1);
    cr_assert_eq(st.failed, 0);

    json_t *none = NULL;
    cr_assert_eq(jobs_describe(t->s, "job_nope", &none), AT_ENOTFOUND);

    store_conn *c = NULL;
    cr_assert_eq(store_acquire(t->s, &c), 0);
    cr_assert_eq(jobs_enqueue(c, "ok", "{not json", 0, 0, NULL, id), AT_EINVAL);
    cr_assert_eq(jobs_enqueue(c, "", "{}", 0, 0, NULL, id), AT_EINVAL);
    cr_assert_eq(jobs_enqueue(c, "ok", NULL, 0, 0, NULL, NULL), 0);
    store_release(c);
}

STORE_TEST_MIGRATED(jobs, dedupe_key_returns_the_first_job, 1)
{
    setup();
    char a[ID_MAX], b[ID_MAX], other[ID_MAX];
    enqueue(t, "ok", "{}", 0, 0, "welcome:usr_1", a);
    enqueue(t, "ok", "{\"x\":1}", 0, 0, "welcome:usr_1", b);
    cr_assert_str_eq(a, b);
    enqueue(t, "ok", "{}", 0, 0, "welcome:usr_2", other);
    cr_assert_str_neq(a, other);
    jobs_stats st;
    cr_assert_eq(jobs_get_stats(t->s, &st), 0);
    cr_assert_eq(st.queued, 2);
}

/* Enqueued inside a transaction that rolls back, the job never exists. */
static int enqueue_then_fail(store_conn *c, void *ctx)
{
    int rc = jobs_enqueue(c, "ok", "{}", 0, 0, NULL, ctx);
    return rc != AT_OK ? rc : AT_EINVAL;
}

STORE_TEST_MIGRATED(jobs, enqueue_is_transactional, 1)
{
    setup();
    char id[ID_MAX];
    cr_assert_eq(store_tx(t->s, true, enqueue_then_fail, id), AT_EINVAL);
    json_t *o = NULL;
    cr_assert_eq(jobs_describe(t->s, id, &o), AT_ENOTFOUND);
    cr_assert_eq(jobs_run_due(t->s, 10), 0);
}

STORE_TEST_MIGRATED(jobs, future_job_waits_for_its_time, 1)
{
    setup();
    char id[ID_MAX];
    enqueue(t, "ok", "{}", clock_now_us() + 60 * SEC, 0, NULL, id);
    cr_assert_eq(jobs_run_due(t->s, 10), 0);
    cr_assert_eq(clock_advance_us(61 * SEC), 0);
    cr_assert_eq(jobs_run_due(t->s, 10), 1);
}

STORE_TEST_MIGRATED(jobs, retry_with_backoff_then_dead, 1)
{
    setup();
    char id[ID_MAX];
    enqueue(t, "fail", "{}", 0, 3, NULL, id);

    for (int attempt = 1; attempt <= 2; attempt++) {
        cr_assert_eq(jobs_run_due(t->s, 10), 1, "attempt %d", attempt);
        int64_t now = clock_now_us();
        json_t *o = describe(t, id);
        cr_assert_str_eq(str(o, "state"), "queued");
        cr_assert_eq(num(o, "attempts"), attempt);
        char want[64];
        snprintf(want, sizeof want, "smtp said no (attempt %d)", attempt);
        cr_assert_str_eq(str(o, "last_error"), want);
        /* 2^attempt seconds plus at most 25 % jitter. */
        int64_t delay = run_at_us(o) - now;
        int64_t base = (1LL << attempt) * SEC;
        cr_assert_geq(delay, base - SEC / 10, "delay %lld", (long long)delay);
        cr_assert_leq(delay, base + base / 4 + SEC / 10, "delay %lld", (long long)delay);
        json_decref(o);

        cr_assert_eq(jobs_run_due(t->s, 10), 0, "not due before its backoff");
        cr_assert_eq(clock_advance_us(base + base / 4 + SEC), 0);
    }
    cr_assert_eq(jobs_run_due(t->s, 10), 1);
    json_t *o = describe(t, id);
    cr_assert_str_eq(str(o, "state"), "dead");
    cr_assert_eq(num(o, "attempts"), 3);
    cr_assert_str_eq(str(o, "last_error"), "smtp said no (attempt 3)");
    json_decref(o);
    cr_assert_eq(clock_advance_us(7200 * SEC), 0);
    cr_assert_eq(jobs_run_due(t->s, 10), 0, "dead jobs stay dead");

    jobs_stats st;
    cr_assert_eq(jobs_get_stats(t->s, &st), 0);
    cr_assert_eq(st.dead, 1);
    cr_assert_eq(st.failed, 3);
    cr_assert_eq(st.processed, 3);
}

STORE_TEST_MIGRATED(jobs, unknown_kind_goes_dead, 1)
{
    setup();
    char id[ID_MAX];
    enqueue(t, "nope", "{}", 0, 0, NULL, id);
    cr_assert_eq(jobs_run_due(t->s, 10), 1);
    json_t *o = describe(t, id);
    cr_assert_str_eq(str(o, "state"), "dead");
    cr_assert_str_eq(str(o, "last_error"), "no handler for kind nope");
    cr_assert_eq(num(o, "attempts"), 1);
    json_decref(o);
}

/* A worker that died holding a job: the lease runs out and another worker takes the job again. */
STORE_TEST_MIGRATED(jobs, expired_lease_is_reclaimed, 1)
{
    setup();
    char id[ID_MAX];
    enqueue(t, "ok", "{}", 0, 2, NULL, id);
    store_conn *c = NULL;
    cr_assert_eq(store_acquire(t->s, &c), 0);
    store_arg a[] = {sa_text(id), sa_int(clock_now_us() + 300 * SEC)};
    int64_t changed = 0;
    cr_assert_eq(store_exec(c,
                            "UPDATE jobs SET state = 'running', attempts = 1, locked_by = 'wrk_dead', "
                            "locked_until = $2 WHERE id = $1",
                            a, 2, &changed),
                 0);
    cr_assert_eq(changed, 1);
    store_release(c);

    cr_assert_eq(jobs_run_due(t->s, 10), 0, "leased to a live worker");
    cr_assert_eq(clock_advance_us(301 * SEC), 0);
    cr_assert_eq(jobs_run_due(t->s, 10), 1);
    json_t *o = describe(t, id);
    cr_assert_str_eq(str(o, "state"), "done");
    cr_assert_eq(num(o, "attempts"), 2);
    json_decref(o);
}

/* If the worker of the final attempt died, the job is not run a time too many. */
STORE_TEST_MIGRATED(jobs, expired_final_attempt_goes_dead, 1)
{
    setup();
    char id[ID_MAX];
    enqueue(t, "ok", "{}", 0, 1, NULL, id);
    store_conn *c = NULL;
    cr_assert_eq(store_acquire(t->s, &c), 0);
    store_arg a[] = {sa_text(id), sa_int(clock_now_us() + 300 * SEC)};
    cr_assert_eq(store_exec(c,
                            "UPDATE jobs SET state = 'running', attempts = 1, locked_by = 'wrk_dead', "
                            "locked_until = $2 WHERE id = $1",
                            a, 2, NULL),
                 0);
    store_release(c);
    cr_assert_eq(clock_advance_us(301 * SEC), 0);
    cr_assert_eq(jobs_run_due(t->s, 10), 1);
    cr_assert_eq(ok_runs, 0);
    json_t *o = describe(t, id);
    cr_assert_str_eq(str(o, "state"), "dead");
    json_decref(o);
}

typedef struct batch {
    int n;
} batch;

static int enqueue_batch(store_conn *c, void *ctx)
{
    batch *b = ctx;
    for (int i = 0; i < b->n; i++) {
        char payload[32];
        snprintf(payload, sizeof payload, "{\"i\":%d}", i);
        int rc = jobs_enqueue(c, "ok", payload, 0, 0, NULL, NULL);
        if (rc != AT_OK)
            return rc;
    }
    return AT_OK;
}

STORE_TEST_MIGRATED(jobs, worker_threads_run_each_job_once, 1)
{
    setup();
    cr_assert_eq(jobs_start(t->s, 3, 20), 0);
    cr_assert_eq(jobs_start(t->s, 3, 20), AT_EINVAL, "already started");
    batch b = {40};
    cr_assert_eq(store_tx(t->s, true, enqueue_batch, &b), 0);
    jobs_wake();
    for (int i = 0; i < 1000 && atomic_load(&ok_runs) < 40; i++)
        usleep(10000);
    jobs_stop();
    cr_assert_eq(ok_runs, 40);
    for (int i = 0; i < 40; i++)
        cr_assert_eq(ran_index[i], 1, "job %d ran %d times", i, ran_index[i]);
    jobs_stats st;
    cr_assert_eq(jobs_get_stats(t->s, &st), 0);
    cr_assert_eq(st.done, 40);
    cr_assert_eq(st.running, 0);

    /* Stopped workers run nothing; a restart picks up what was queued meanwhile. */
    b.n = 1;
    cr_assert_eq(store_tx(t->s, true, enqueue_batch, &b), 0);
    usleep(100000);
    cr_assert_eq(ok_runs, 40);
    cr_assert_eq(jobs_start(t->s, 1, 20), 0);
    for (int i = 0; i < 500 && atomic_load(&ok_runs) < 41; i++)
        usleep(10000);
    jobs_stop();
    cr_assert_eq(ok_runs, 41);
}

/* Two "processes" (separate stores) drain one queue; no job runs twice. */
STORE_TEST_MIGRATED(jobs, two_stores_share_the_queue, 1)
{
    setup();
    batch b = {30};
    cr_assert_eq(store_tx(t->s, true, enqueue_batch, &b), 0);
    store *other = testdb_reopen(t, 2);
    cr_assert_eq(jobs_start(other, 2, 20), 0);
    int mine = jobs_run_due(t->s, 0);
    for (int i = 0; i < 500 && atomic_load(&ok_runs) < 30; i++)
        usleep(10000);
    jobs_stop();
    store_close(other);
    cr_assert_eq(ok_runs, 30);
    cr_assert_leq(mine, 30);
    for (int i = 0; i < 30; i++)
        cr_assert_eq(ran_index[i], 1, "job %d ran %d times", i, ran_index[i]);
}
