/* Activity: the workspace's audit log, for owners and admins. */
#include "api/api.h"

#include "base/buf.h"
#include "base/clock.h"
#include "base/err.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Parses an optional RFC 3339 query parameter; adds an error on a bad value. */
static int64_t activity_time(http_req *req, const char *name, int64_t def, field_errors *errs)
{
    const char *v = http_query(req, name);
    int64_t us = def;
    if (v && clock_parse_rfc3339(v, strlen(v), &us) != AT_OK)
        fe_add(errs, name, "format", "Must be an RFC 3339 time, e.g. 2026-01-31T12:00:00Z.");
    return us;
}

/* Reads the filters the list and the export share (actor, action, target, since, until) into f. */
static void activity_filter(http_req *req, audit_filter *f, field_errors *errs)
{
    f->actor_id = http_query(req, "actor");
    f->action = http_query(req, "action");
    f->target_id = http_query(req, "target");
    if (f->actor_id && strlen(f->actor_id) > 64)
        fe_add(errs, "actor", "length", "Must be at most 64 characters long.");
    if (f->action && strlen(f->action) > 100)
        fe_add(errs, "action", "length", "Must be at most 100 characters long.");
    if (f->target_id && strlen(f->target_id) > 64)
        fe_add(errs, "target", "length", "Must be at most 64 characters long.");
    f->since_us = activity_time(req, "since", INT64_MIN, errs);
    f->until_us = activity_time(req, "until", INT64_MAX, errs);
}

static int activity_list(http_req *req)
{
    field_errors errs;
    audit_filter f = {0};
    json_t *items = NULL;
    int64_t next = 0;

    fe_init(&errs, &req->arena);
    activity_filter(req, &f, &errs);
    f.limit = (int)api_query_int(req, "limit", 50, 1, 100, &errs);
    const char *cursor = http_query(req, "cursor");
    if (cursor) {
        char *end = NULL;
        long long seq = cursor[0] == 's' ? strtoll(cursor + 1, &end, 10) : 0;
        if (seq <= 0 || !end || *end)
            fe_add(&errs, "cursor", "format", "Must be a cursor from a previous page.");
        f.before_seq = seq;
    }
    if (errs.count)
        return http_reply_invalid(req, &errs);
    int rc = audit_list(api_app_of(req)->store, api_principal_of(req)->ws.id, &f, &items, &next);
    if (rc != AT_OK)
        return http_reply_status(req, rc);
    char cur[32];
    snprintf(cur, sizeof(cur), "s%lld", (long long)next);
    return http_reply_json(req, 200, json_pack("{s:o, s:s?}", "items", items, "next_cursor", next ? cur : NULL));
}

/* The most rows one export holds; a longer log is exported a date range at a time. */
enum { ACTIVITY_EXPORT_MAX = 100000 };

/* The audit log (with the list's filters) as a CSV download. The export is built in memory up to
 * ACTIVITY_EXPORT_MAX rows; past that it answers 422 naming `since`, so nobody gets a silently cut file. */
static int activity_export(http_req *req)
{
    field_errors errs;
    audit_filter f = {0};
    buf out;
    int64_t rows = 0;
    bool truncated = false;

    fe_init(&errs, &req->arena);
    activity_filter(req, &f, &errs);
    if (errs.count)
        return http_reply_invalid(req, &errs);
    buf_init(&out);
    int rc = audit_export_csv(api_app_of(req)->store, api_principal_of(req)->ws.id, &f, ACTIVITY_EXPORT_MAX, &out,
                              &rows, &truncated);
    if (rc == AT_OK && truncated) {
        buf_free(&out);
        fe_add(&errs, "since", "too_many", "More than %d events match; export a shorter date range.",
               ACTIVITY_EXPORT_MAX);
        return http_reply_problem_errors(req, 422, "export-too-large", "Too many events for one export.", &errs);
    }
    if (rc != AT_OK) {
        buf_free(&out);
        return http_reply_status(req, rc);
    }
    char disposition[96];
    snprintf(disposition, sizeof(disposition), "attachment; filename=\"activity-%s.csv\"",
             api_principal_of(req)->ws.id);
    http_set_header(req, "Content-Disposition", disposition);
    rc = http_reply_text(req, 200, "text/csv; charset=utf-8", out.data ? out.data : "", out.len);
    buf_free(&out);
    return rc;
}

static const http_route activity_rows[] = {
    {HM_GET, "/api/v1/workspaces/:workspace_id/audit-events", activity_list, AUTH_USER, "activity", ACCESS_READ, 0},
    {HM_GET, "/api/v1/workspaces/:workspace_id/audit/export.csv", activity_export, AUTH_USER, "activity", ACCESS_READ,
     0},
};

const http_route_table api_activity_routes = {activity_rows, sizeof(activity_rows) / sizeof(activity_rows[0])};
