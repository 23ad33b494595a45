/* API key expiry notices: a daily scan that mails the owner and the workspace's owners and admins at
 * 30, 7 and 1 days before a key expires. */
#include "apikeys/apikeys.h"
#include "apikeys/apikeys_impl.h"

#include "base/buf.h"
#include "base/clock.h"
#include "base/err.h"
#include "jobs/jobs.h"
#include "mail/mail.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Mails one notice about a key to a recipient, when they want security mail (always) or team mail. */
static int apikey_notice_mail(store_conn *c, const char *ws_id, const char *ws_name, const char *key_id,
                              const char *key_name, int days, int64_t expires_at, const char *email, const char *name)
{
    if (days < 1)
        days = 1;
    char expires[32], days_text[8], link[600];
    buf dedupe;
    clock_format_rfc3339(expires_at, expires);
    snprintf(days_text, sizeof(days_text), "%d", days);
    snprintf(link, sizeof(link), "/w/%s/settings/api_keys", ws_id);
    /* The whole address: a key cut to a fixed length would make two long addresses one recipient. */
    buf_init(&dedupe);
    buf_printf(&dedupe, "api_key.expiring:%s:%d:%s", key_id, days, email);
    json_t *vars = json_pack("{s:s, s:s, s:s, s:s, s:s, s:s?}", "workspace", ws_name, "key_name", key_name, "days",
                             days_text, "expires", expires, "link", link, "name", name);
    mail_request m = {ws_id, email, name, "api_key_expiring", vars, dedupe.data};
    int rc = mail_enqueue(c, &m, NULL);
    json_decref(vars);
    buf_free(&dedupe);
    return rc;
}

/* The daily scan: for each live key crossing 30, 7 or 1 days before expiry, one notice to its owner and
 * to the workspace's owners and admins (per their preferences for the security group, which are always
 * on), once per threshold. */
static int apikey_notices_job(job_ctx *ctx)
{
    static const int thresholds[] = {1, 7, 30};
    store_conn *c = NULL;
    store_rows *r = NULL;
    int64_t now = clock_now_us();
    int rc = store_acquire(ctx->store, &c);
    if (rc != AT_OK)
        return rc;
    json_t *due = json_array();
    store_arg args[] = {sa_int(now), sa_int(now + 30LL * 86400 * 1000000)};
    rc = store_query(c,
                     "SELECT k.workspace_id, k.id, k.name, k.expires_at, k.notices_sent, k.owner_user_id, "
                     "COALESCE(w.display_name, w.name) FROM api_keys k JOIN workspaces w ON w.id = k.workspace_id "
                     "WHERE k.revoked_at IS NULL AND k.rotated_to IS NULL AND k.expires_at IS NOT NULL "
                     "AND k.expires_at > $1 AND k.expires_at <= $2 AND w.status <> 'deleted'",
                     args, 2, &r);
    while (rc == AT_OK && store_rows_next(r) == 1)
        json_array_append_new(due, json_pack("{s:s, s:s, s:s, s:I, s:s, s:s?, s:s}", "ws", store_rows_text(r, 0), "id",
                                             store_rows_text(r, 1), "name", store_rows_text(r, 2), "expires",
                                             (json_int_t)store_rows_int(r, 3), "sent", store_rows_text(r, 4), "owner",
                                             store_rows_text(r, 5), "ws_name", store_rows_text(r, 6)));
    store_rows_free(r);
    r = NULL;
    size_t i;
    json_t *k;
    json_array_foreach(due, i, k)
    {
        if (rc != AT_OK)
            break;
        int64_t left_us = json_integer_value(json_object_get(k, "expires")) - now;
        int left_days = (int)((left_us + 86400LL * 1000000 - 1) / (86400LL * 1000000)); /* rounded up */
        json_t *sent = apikey_json_text(json_string_value(json_object_get(k, "sent")));
        /* The smallest threshold crossed and not yet sent is the one to tell; the larger ones it makes
         * moot are marked sent with it, so notices never go out of order. */
        int threshold = 0;
        for (size_t t = 0; t < 3 && !threshold; t++) {
            bool done = false;
            size_t j;
            json_t *sv;
            json_array_foreach(sent, j, sv) done = done || json_integer_value(sv) == thresholds[t];
            if (left_days <= thresholds[t] && !done)
                threshold = thresholds[t];
        }
        if (!threshold) {
            json_decref(sent);
            continue;
        }
        const char *ws = json_string_value(json_object_get(k, "ws"));
        const char *owner = json_string_value(json_object_get(k, "owner"));
        rc = store_begin(c, true);
        store_arg who[] = {sa_text(ws), sa_text(owner)};
        if (rc == AT_OK)
            rc = store_query(c,
                             "SELECT u.email, u.name FROM users u JOIN memberships m ON m.user_id = u.id "
                             "WHERE m.workspace_id = $1 AND m.status = 'active' AND u.disabled = 0 "
                             "AND (m.role IN ('owner', 'admin') OR u.id = $2)",
                             who, 2, &r);
        json_t *to = json_array();
        while (rc == AT_OK && store_rows_next(r) == 1)
            json_array_append_new(to, json_pack("[s, s]", store_rows_text(r, 0), store_rows_text(r, 1)));
        store_rows_free(r);
        r = NULL;
        size_t t;
        json_t *person;
        json_array_foreach(to, t, person) if (rc == AT_OK) rc = apikey_notice_mail(
            c, ws, json_string_value(json_object_get(k, "ws_name")), json_string_value(json_object_get(k, "id")),
            json_string_value(json_object_get(k, "name")), left_days, json_integer_value(json_object_get(k, "expires")),
            json_string_value(json_array_get(person, 0)), json_string_value(json_array_get(person, 1)));
        json_decref(to);
        for (size_t th = 0; th < 3; th++)
            if (thresholds[th] >= threshold) {
                bool done = false;
                size_t j;
                json_t *sv;
                json_array_foreach(sent, j, sv) done = done || json_integer_value(sv) == thresholds[th];
                if (!done)
                    json_array_append_new(sent, json_integer(thresholds[th]));
            }
        char *sent_text = json_dumps(sent, JSON_COMPACT);
        store_arg upd[] = {sa_text(sent_text), sa_text(ws), sa_text(json_string_value(json_object_get(k, "id")))};
        if (rc == AT_OK)
            rc = store_exec(c, "UPDATE api_keys SET notices_sent = $1 WHERE workspace_id = $2 AND id = $3", upd, 3,
                            NULL);
        free(sent_text);
        json_decref(sent);
        if (rc == AT_OK)
            rc = store_commit(c);
        else
            store_rollback(c);
    }
    json_decref(due);
    int64_t live = 0;
    store_arg now_arg[] = {sa_int(now)};
    if (rc == AT_OK)
        rc = store_query_int(c,
                             "SELECT COUNT(*) FROM api_keys WHERE revoked_at IS NULL AND expires_at IS NOT NULL "
                             "AND expires_at > $1",
                             now_arg, 1, &live);
    store_release(c);
    /* The scan comes back tomorrow while any expiring key is alive; a new key schedules it again. */
    if (rc == AT_OK && live)
        rc = apikey_schedule_notices(ctx->store);
    return rc;
}

int apikey_schedule_notices(store *s)
{
    store_conn *c = NULL;
    char key[64];
    int64_t day = clock_now_us() / (86400LL * 1000000);
    int rc = store_acquire(s, &c);
    if (rc != AT_OK)
        return rc;
    /* One scan per day, whichever process schedules it first. */
    snprintf(key, sizeof(key), "api_key.notices:%lld", (long long)(day + 1));
    rc = jobs_enqueue(c, "api_key.notices", "{}", (day + 1) * 86400LL * 1000000, 3, key, NULL);
    store_release(c);
    return rc;
}

void apikey_register_jobs(void)
{
    jobs_register("api_key.notices", apikey_notices_job);
}
