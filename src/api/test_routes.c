/* Routes that exist only when ATRIUM_ENV=test (AUTH_TEST rows are not even matched otherwise): the
 * test clock, test jobs, a slow request for shutdown tests and a full SQLite database. Black-box tests drive time and the job
 * queue through them. */
#include "api/api.h"

#include "base/clock.h"
#include "base/err.h"
#include "jobs/jobs.h"

#include <time.h>

static json_t *test_clock_body(void)
{
    char now[32];
    int64_t us = clock_now_us();
    clock_format_rfc3339(us, now);
    return json_pack("{s:s, s:I}", "now", now, "now_us", (json_int_t)us);
}

static int test_clock_get(http_req *req)
{
    return http_reply_json(req, 200, test_clock_body());
}

static const char *test_check_rfc3339(const char *s, size_t len)
{
    int64_t us;
    return clock_parse_rfc3339(s, len, &us) == AT_OK ? NULL : "Must be an RFC 3339 time, e.g. 2026-01-31T12:00:00Z.";
}

static const jv_field test_clock_fields[] = {
    {"set", JV_STRING, 0, 1, 64, test_check_rfc3339},
    {"advance_seconds", JV_INT, 0, -315360000, 315360000, NULL},
    {"freeze", JV_BOOL, 0, 0, 0, NULL},
};

static int test_clock_post(http_req *req)
{
    json_t *body;
    field_errors errs;
    if (http_body_or_reply(req, test_clock_fields, 3, &body) != AT_OK)
        return AT_OK;
    json_t *set = json_object_get(body, "set"), *adv = json_object_get(body, "advance_seconds");
    json_t *freeze = json_object_get(body, "freeze");
    if (freeze && !set && !adv) {
        clock_freeze(json_is_true(freeze));
        return http_reply_json(req, 200, test_clock_body());
    }
    if ((set != NULL) == (adv != NULL)) {
        fe_init(&errs, &req->arena);
        fe_add(&errs, "set", "exclusive", "Give exactly one of set and advance_seconds.");
        fe_add(&errs, "advance_seconds", "exclusive", "Give exactly one of set and advance_seconds.");
        return http_reply_invalid(req, &errs);
    }
    /* Freeze first: a clock frozen after the move would stop a few microseconds past the time set. */
    if (freeze && json_is_true(freeze))
        clock_freeze(true);
    if (set) {
        int64_t us = 0;
        clock_parse_rfc3339(json_string_value(set), json_string_length(set), &us);
        clock_set_us(us);
    } else {
        clock_advance_us((int64_t)json_integer_value(adv) * 1000000);
    }
    if (freeze && !json_is_true(freeze))
        clock_freeze(false);
    jobs_wake();
    return http_reply_json(req, 200, test_clock_body());
}

static const char *test_check_kind(const char *s, size_t len)
{
    (void)len;
    return strcmp(s, "test.noop") == 0 || strcmp(s, "test.flaky") == 0 ? NULL : "Must be test.noop or test.flaky.";
}

static const jv_field test_job_fields[] = {
    {"kind", JV_STRING, JV_REQUIRED, 1, 64, test_check_kind},
    {"fail_times", JV_INT, 0, 0, 100, NULL},
    {"max_attempts", JV_INT, 0, 1, 100, NULL},
    {"dedupe_key", JV_STRING, 0, 1, 128, NULL},
};

typedef struct test_enqueue {
    json_t *body;
    char id[ID_MAX];
} test_enqueue;

static int test_enqueue_tx(store_conn *c, void *ctx)
{
    test_enqueue *e = ctx;
    json_t *payload = json_pack("{s:I}", "fail_times", (json_int_t)json_integer_value(json_object_get(e->body, "fail_times")));
    char *text = json_dumps(payload, JSON_COMPACT);
    json_decref(payload);
    json_t *max = json_object_get(e->body, "max_attempts");
    json_t *dedupe = json_object_get(e->body, "dedupe_key");
    int rc = jobs_enqueue(c, json_string_value(json_object_get(e->body, "kind")), text, 0,
                          max ? (int)json_integer_value(max) : 0, dedupe ? json_string_value(dedupe) : NULL, e->id);
    free(text);
    return rc;
}

static int test_jobs_post(http_req *req)
{
    test_enqueue e = {0};
    if (http_body_or_reply(req, test_job_fields, 4, &e.body) != AT_OK)
        return AT_OK;
    int rc = store_tx(api_app_of(req)->store, true, test_enqueue_tx, &e);
    if (rc != AT_OK)
        return http_reply_status(req, rc);
    jobs_wake();
    return http_reply_json(req, 201, json_pack("{s:s}", "id", e.id));
}

static int test_jobs_get(http_req *req)
{
    json_t *job = NULL;
    int rc = jobs_describe(api_app_of(req)->store, http_param(req, "job_id"), &job);
    if (rc != AT_OK)
        return http_reply_status(req, rc);
    return http_reply_json(req, 200, job);
}

static int test_jobs_run(http_req *req)
{
    int ran = jobs_run_due(api_app_of(req)->store, 1000);
    return http_reply_json(req, 200, json_pack("{s:i}", "ran", ran));
}

static const jv_field test_sleep_fields[] = {
    {"ms", JV_INT, JV_REQUIRED, 1, 10000, NULL},
};

static int test_sleep(http_req *req)
{
    json_t *body;
    if (http_body_or_reply(req, test_sleep_fields, 1, &body) != AT_OK)
        return AT_OK;
    json_int_t ms = json_integer_value(json_object_get(body, "ms"));
    struct timespec ts = {(time_t)(ms / 1000), (long)(ms % 1000) * 1000000L};
    while (nanosleep(&ts, &ts) != 0)
        ;
    return http_reply_json(req, 200, json_pack("{s:I}", "slept_ms", ms));
}

/* test.flaky fails its first `fail_times` attempts; test.noop always succeeds. */
static int test_job_flaky(job_ctx *ctx)
{
    json_int_t fail_times = json_integer_value(json_object_get(ctx->payload, "fail_times"));
    if (ctx->attempt <= fail_times) {
        snprintf(ctx->error, sizeof(ctx->error), "planned failure %d of %lld", ctx->attempt, (long long)fail_times);
        return AT_EUNAVAIL;
    }
    return AT_OK;
}

static int test_job_noop(job_ctx *ctx)
{
    (void)ctx;
    return AT_OK;
}

static const jv_field test_store_full_fields[] = {
    {"full", JV_BOOL, JV_REQUIRED, 0, 0, NULL},
};

/* {"full": true} caps the SQLite database at its current size, so writes fail as on a full disk;
 * {"full": false} lifts the cap. 400 on PostgreSQL, which has no such cap. */
static int test_store_full(http_req *req)
{
    json_t *body;
    if (http_body_or_reply(req, test_store_full_fields, 1, &body) != AT_OK)
        return AT_OK;
    bool full = json_is_true(json_object_get(body, "full")); /* body is the request's (http_req_keep) */
    int rc = store_cap_pages(api_app_of(req)->store, full);
    if (rc == AT_EINVAL)
        return http_reply_problem(req, 400, "bad-request", "Only a SQLite store can be capped.", NULL);
    if (rc != AT_OK)
        return http_reply_status(req, rc);
    return http_reply_json(req, 200, json_pack("{s:b}", "full", full));
}

void api_register_test_jobs(const config *cfg)
{
    if (cfg->env == ENV_TEST) {
        jobs_register("test.noop", test_job_noop);
        jobs_register("test.flaky", test_job_flaky);
    }
}

static const http_route test_rows[] = {
    {HM_GET, "/api/v1/test/clock", test_clock_get, AUTH_TEST, NULL, ACCESS_NONE, 0},
    {HM_POST, "/api/v1/test/clock", test_clock_post, AUTH_TEST, NULL, ACCESS_NONE, 0},
    {HM_POST, "/api/v1/test/jobs/run", test_jobs_run, AUTH_TEST, NULL, ACCESS_NONE, 0},
    {HM_POST, "/api/v1/test/jobs", test_jobs_post, AUTH_TEST, NULL, ACCESS_NONE, 0},
    {HM_GET, "/api/v1/test/jobs/:job_id", test_jobs_get, AUTH_TEST, NULL, ACCESS_NONE, 0},
    {HM_POST, "/api/v1/test/sleep", test_sleep, AUTH_TEST, NULL, ACCESS_NONE, 0},
    {HM_POST, "/api/v1/test/store/full", test_store_full, AUTH_TEST, NULL, ACCESS_NONE, 0},
};

const http_route_table api_test_routes = {test_rows, sizeof(test_rows) / sizeof(test_rows[0])};
