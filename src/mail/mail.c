/* Transactional mail (mail.h): the `mail_outbox` table (schema/0005_mail.sql), written inside the
 * caller's transaction together with its "mail.send" job, and the job that delivers a message after
 * commit, by SMTP (smtp.c) or into the mail folder. Messages are composed once, at enqueue time
 * (templates.c, mime.c), and stored whole, so every retry sends exactly the same bytes.
 *
 * Logs name the message id, the template, the recipient's domain and the outcome only: bodies and
 * links carry secrets (invitation and reset tokens), and full addresses are personal data. */
#include "mail/mail.h"

#include "base/buf.h"
#include "base/clock.h"
#include "base/config.h"
#include "base/counters.h"
#include "base/err.h"
#include "base/log.h"
#include "base/mem.h"
#include "jobs/jobs.h"
#include "mail/mime.h"
#include "mail/smtp.h"
#include "mail/templates.h"

#include <errno.h>
#include <fcntl.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

enum { MAIL_MAX_ATTEMPTS = 8, MAIL_LIST_DEFAULT = 50, MAIL_LIST_MAX = 1000, MAIL_ERR_MAX = 256 };

#define MAIL_LIST_COLS "id, to_addr, subject, template, status, attempts, created_at, sent_at, last_error"

static const char mail_insert_sql[] =
    "INSERT INTO mail_outbox (id, workspace_id, to_addr, subject, template, raw, text_body, html_body, status, "
    "attempts, dedupe_key, created_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, 'queued', 0, $9, $10) "
    "ON CONFLICT (dedupe_key) DO NOTHING";

static const char mail_sent_sql[] =
    "UPDATE mail_outbox SET status = 'sent', transport = $2, attempts = attempts + 1, last_error = NULL, "
    "sent_at = $3 WHERE id = $1";

/* A failure never downgrades a message that another run already sent. */
static const char mail_failed_sql[] =
    "UPDATE mail_outbox SET status = $2, transport = $3, attempts = attempts + 1, last_error = $4 "
    "WHERE id = $1 AND status <> 'sent'";

/* A message as the send job needs it. raw is heap-owned: release with mail_msg_clear. */
typedef struct mail_msg {
    char status[16];
    char to[MAIL_ADDR_MAX + 1];
    char template_id[64];
    char *raw;
    size_t raw_len;
} mail_msg;

/* The outcome of one delivery attempt, recorded by mail_record_tx. */
typedef struct mail_outcome {
    const char *id;
    bool sent;
    bool dead;
    const char *transport;
    const char *error;
} mail_outcome;

static int mail_send_job(job_ctx *ctx);
static int mail_load(store *s, const char *id, mail_msg *out);
static void mail_msg_clear(mail_msg *m);
static int mail_deliver(const mail_msg *m, const char *id, const char **transport, char err[MAIL_ERR_MAX]);
static int mail_write_folder(const char *id, const char *raw, size_t len, char err[MAIL_ERR_MAX]);
static int mail_record_tx(store_conn *c, void *ctx);
static bool mail_final_attempt(job_ctx *ctx);
static int mail_find_dedupe(store_conn *c, const char *key, char id[ID_MAX]);
static const char *mail_domain(const char *addr);
static void mail_log(int level, const char *what, const char *id, const char *template_id, const char *to,
                     const char *status, const char *transport, int attempt);
static json_t *mail_row_json(store_rows *r);
static void mail_set_text(json_t *o, const char *key, store_rows *r, int col);
static void mail_set_time(json_t *o, const char *key, store_rows *r, int col);

/* ------------------------------------------------------------------------------------------------ */
/* Enqueue                                                                                          */
/* ------------------------------------------------------------------------------------------------ */

/* mail_enqueue validates the request, renders and composes the whole message, then inserts it and
 * its job on c. With a dedupe key already in the outbox, the insert does nothing, no job is added and
 * the first message's id is returned. The rendering happens before the insert, so a duplicate costs a
 * render; that keeps the write to a single statement. Nothing is logged about the body. */
int mail_enqueue(store_conn *c, const mail_request *m, char id_out[ID_MAX])
{
    const config *cfg = config_get();
    char from_name[MAIL_NAME_MAX + 1], from_addr[MAIL_ADDR_MAX + 1];
    char id[ID_MAX], job_key[ID_MAX + 8];
    mail_rendered r = {0};
    char *payload = NULL;
    buf raw;
    buf_init(&raw);

    if (!m || !mail_addr_valid(m->to, true) || (m->to_name && !mail_utf8_valid(m->to_name, strlen(m->to_name))) ||
        !mail_tpl_known(m->template_id))
        return AT_EINVAL;
    if (mail_addr_split(cfg->mail_from, from_name, from_addr) != AT_OK) {
        log_msg(LOG_ERROR, "mail: ATRIUM_MAIL_FROM is not a valid address; nothing was queued");
        return AT_EINVAL;
    }
    int rc = mail_tpl_render(m->template_id, m->vars, cfg->public_url, &r);
    if (rc != AT_OK)
        goto cleanup;

    int64_t now = clock_now_us();
    id_new("msg", id);
    mail_parts parts = {.id = id,
                        .from_name = from_name,
                        .from_addr = from_addr,
                        .to_name = m->to_name,
                        .to_addr = m->to,
                        .subject = r.subject,
                        .text = r.text,
                        .html = r.html,
                        .date_us = now};
    mail_compose(&raw, &parts);

    store_arg args[] = {sa_text(id),        sa_text(m->workspace_id), sa_text(m->to),
                        sa_text(r.subject), sa_text(m->template_id),  sa_textn(raw.data, raw.len),
                        sa_text(r.text),    sa_text(r.html),          sa_text(m->dedupe_key),
                        sa_int(now)};
    int64_t changed = 0;
    rc = store_exec(c, mail_insert_sql, args, sizeof args / sizeof args[0], &changed);
    if (rc != AT_OK)
        goto cleanup;
    if (changed == 0) {
        rc = m->dedupe_key ? mail_find_dedupe(c, m->dedupe_key, id) : AT_EINTERNAL;
        goto cleanup;
    }

    json_t *p = json_pack("{s:s}", "id", id);
    payload = json_dumps(p, JSON_COMPACT);
    json_decref(p);
    snprintf(job_key, sizeof job_key, "mail:%s", id);
    rc = jobs_enqueue(c, "mail.send", payload, 0, MAIL_MAX_ATTEMPTS, job_key, NULL);
    if (rc == AT_OK)
        mail_log(LOG_DEBUG, "mail queued", id, m->template_id, m->to, "queued", NULL, 0);

cleanup:
    if (rc == AT_OK && id_out)
        memcpy(id_out, id, ID_MAX);
    free(payload);
    buf_free(&raw);
    mail_rendered_free(&r);
    return rc;
}

/* mail_find_dedupe reads the id of the message that already holds key into id. */
static int mail_find_dedupe(store_conn *c, const char *key, char id[ID_MAX])
{
    store_rows *r = NULL;
    store_arg a[] = {sa_text(key)};
    int rc = store_query(c, "SELECT id FROM mail_outbox WHERE dedupe_key = $1", a, 1, &r);
    if (rc != AT_OK)
        return rc;
    int step = store_rows_next(r);
    if (step == 1)
        snprintf(id, ID_MAX, "%s", store_rows_text(r, 0));
    store_rows_free(r);
    return step == 1 ? AT_OK : step < 0 ? step : AT_EINTERNAL;
}

/* ------------------------------------------------------------------------------------------------ */
/* Delivery                                                                                         */
/* ------------------------------------------------------------------------------------------------ */

void mail_register_jobs(void)
{
    jobs_register("mail.send", mail_send_job);
}

/* mail_send_job is the "mail.send" handler. It loads the message (a message that is gone, or already
 * sent, is done), delivers it, and records the attempt on the message: sent, or the error and, on the
 * job's last attempt, dead. A failed delivery returns AT_EUNAVAIL with curl's reason in ctx->error so
 * the queue retries with backoff. If recording a successful delivery fails, the job is retried and
 * the message may be delivered twice (at least once; the Message-ID stays the same). */
static int mail_send_job(job_ctx *ctx)
{
    mail_msg msg = {0};
    char err[MAIL_ERR_MAX] = "";
    const char *transport = NULL;
    const char *id = json_string_value(json_object_get(ctx->payload, "id"));
    if (!id || !id_valid("msg", id, strlen(id))) {
        snprintf(ctx->error, sizeof ctx->error, "mail.send: the payload has no valid message id");
        return AT_EINVAL;
    }
    int rc = mail_load(ctx->store, id, &msg);
    if (rc == AT_ENOTFOUND) {
        mail_log(LOG_WARN, "mail gone", id, NULL, NULL, "missing", NULL, ctx->attempt);
        return AT_OK;
    }
    if (rc != AT_OK) {
        snprintf(ctx->error, sizeof ctx->error, "mail.send: cannot load %s: %s", id, at_status_name(rc));
        return rc;
    }
    if (strcmp(msg.status, "sent") == 0)
        goto cleanup;

    int sent = mail_deliver(&msg, id, &transport, err);
    counters_inc(sent == AT_OK ? COUNTER_MAIL_SENT : COUNTER_MAIL_FAILED, transport ? transport : "smtp");
    mail_outcome o = {.id = id, .sent = sent == AT_OK, .transport = transport, .error = err};
    o.dead = !o.sent && mail_final_attempt(ctx);
    rc = store_tx(ctx->store, true, mail_record_tx, &o);
    const char *status = o.sent ? "sent" : o.dead ? "dead" : "retry";
    mail_log(o.sent   ? LOG_INFO
             : o.dead ? LOG_ERROR
                      : LOG_WARN,
             o.sent ? "mail sent" : "mail not sent", id, msg.template_id, msg.to, status, transport, ctx->attempt);
    if (sent != AT_OK) {
        snprintf(ctx->error, sizeof ctx->error, "%s", err);
        rc = sent;
    } else if (rc != AT_OK) {
        snprintf(ctx->error, sizeof ctx->error, "mail.send: delivered but not recorded: %s", at_status_name(rc));
    }

cleanup:
    mail_msg_clear(&msg);
    return rc;
}

/* mail_deliver sends m by the configured transport and names it in *transport ("smtp" or "folder").
 * Returns AT_OK or a failure status with the reason in err. */
static int mail_deliver(const mail_msg *m, const char *id, const char **transport, char err[MAIL_ERR_MAX])
{
    const config *cfg = config_get();
    if (!cfg->smtp_url[0]) {
        *transport = "folder";
        return mail_write_folder(id, m->raw, m->raw_len, err);
    }
    *transport = "smtp";
    char from_name[MAIL_NAME_MAX + 1], from_addr[MAIL_ADDR_MAX + 1];
    if (mail_addr_split(cfg->mail_from, from_name, from_addr) != AT_OK) {
        snprintf(err, MAIL_ERR_MAX, "ATRIUM_MAIL_FROM is not a valid address");
        return AT_EINVAL;
    }
    mail_smtp_target t = {cfg->smtp_url, cfg->smtp_username, cfg->smtp_password};
    int rc = mail_smtp_send(&t, from_addr, m->to, m->raw, m->raw_len, err);
    return rc == AT_OK ? AT_OK : AT_EUNAVAIL;
}

/* mail_write_folder writes the message to <data dir>/mail/<id>.eml (folders created 0700, the file
 * 0600) through a temporary file that is synced and renamed, so a reader never sees half a message
 * and a second run simply replaces the first. id has been checked by id_valid, so it is a plain name. */
static int mail_write_folder(const char *id, const char *raw, size_t len, char err[MAIL_ERR_MAX])
{
    char dir[1024], tmp[1200], path[1200];
    int rc = AT_EUNAVAIL, fd = -1;
    mail_folder(dir);
    const char *data_dir = config_get()->data_dir;
    if ((mkdir(data_dir, 0700) != 0 && errno != EEXIST) || (mkdir(dir, 0700) != 0 && errno != EEXIST)) {
        snprintf(err, MAIL_ERR_MAX, "cannot create the mail folder: %s", strerror(errno));
        return AT_EUNAVAIL;
    }
    snprintf(tmp, sizeof tmp, "%s/.%s.eml.tmp", dir, id);
    snprintf(path, sizeof path, "%s/%s.eml", dir, id);
    fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC | O_NOFOLLOW, 0600);
    if (fd < 0) {
        snprintf(err, MAIL_ERR_MAX, "cannot create %s.eml: %s", id, strerror(errno));
        goto cleanup;
    }
    for (size_t off = 0; off < len;) {
        ssize_t n = write(fd, raw + off, len - off);
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0) {
            snprintf(err, MAIL_ERR_MAX, "cannot write %s.eml: %s", id, n < 0 ? strerror(errno) : "short write");
            goto cleanup;
        }
        off += (size_t)n;
    }
    if (fsync(fd) != 0 || close(fd) != 0) {
        fd = -1;
        snprintf(err, MAIL_ERR_MAX, "cannot write %s.eml: %s", id, strerror(errno));
        goto cleanup;
    }
    fd = -1;
    if (rename(tmp, path) != 0) {
        snprintf(err, MAIL_ERR_MAX, "cannot rename %s.eml into place: %s", id, strerror(errno));
        goto cleanup;
    }
    rc = AT_OK;

cleanup:
    if (fd >= 0)
        close(fd);
    if (rc != AT_OK)
        unlink(tmp);
    return rc;
}

int mail_send_test(const char *to, const char **transport, char err[256])
{
    const config *cfg = config_get();
    char id[ID_MAX], from_name[MAIL_NAME_MAX + 1], from_addr[MAIL_ADDR_MAX + 1];
    *transport = cfg->smtp_url[0] ? "smtp" : "folder";
    if (!mail_addr_valid(to, true)) {
        snprintf(err, 256, "%s is not a valid address", to);
        return AT_EINVAL;
    }
    if (mail_addr_split(cfg->mail_from, from_name, from_addr) != AT_OK) {
        snprintf(err, 256, "ATRIUM_MAIL_FROM is not a valid address");
        return AT_EINVAL;
    }
    id_new("msg", id);
    mail_parts p = {id,
                    from_name,
                    from_addr,
                    NULL,
                    to,
                    "Atrium test message (atrium doctor)",
                    "This message was sent by `atrium doctor --mail-to` to check the mail transport.\n",
                    "<p>This message was sent by <code>atrium doctor --mail-to</code> to check the mail "
                    "transport.</p>",
                    clock_now_us()};
    buf raw;
    buf_init(&raw);
    mail_compose(&raw, &p);
    mail_msg m = {.raw = raw.data, .raw_len = raw.len};
    snprintf(m.to, sizeof(m.to), "%s", to);
    char why[MAIL_ERR_MAX] = "";
    int rc = mail_deliver(&m, id, transport, why);
    if (rc != AT_OK)
        snprintf(err, 256, "%s", why);
    buf_free(&raw);
    return rc;
}

/* mail_record_tx stores one attempt's outcome (store_tx body; safe to rerun). */
static int mail_record_tx(store_conn *c, void *ctx)
{
    const mail_outcome *o = ctx;
    if (o->sent) {
        store_arg a[] = {sa_text(o->id), sa_text(o->transport), sa_int(clock_now_us())};
        return store_exec(c, mail_sent_sql, a, 3, NULL);
    }
    store_arg a[] = {sa_text(o->id), sa_text(o->dead ? "dead" : "queued"), sa_text(o->transport), sa_text(o->error)};
    return store_exec(c, mail_failed_sql, a, 4, NULL);
}

/* mail_final_attempt reports whether this run is the job's last: the queue marks the job dead when it
 * fails, so the message is marked dead with it. */
static bool mail_final_attempt(job_ctx *ctx)
{
    int64_t max = MAIL_MAX_ATTEMPTS;
    json_t *job = NULL;
    if (ctx->id && jobs_describe(ctx->store, ctx->id, &job) == AT_OK) {
        json_t *v = json_object_get(job, "max_attempts");
        if (json_is_integer(v))
            max = json_integer_value(v);
        json_decref(job);
    }
    return ctx->attempt >= max;
}

/* mail_load copies message id's delivery fields into out (raw on the heap). AT_ENOTFOUND when absent. */
static int mail_load(store *s, const char *id, mail_msg *out)
{
    store_conn *c = NULL;
    store_rows *r = NULL;
    int rc = store_acquire(s, &c);
    if (rc != AT_OK)
        return rc;
    store_arg a[] = {sa_text(id)};
    rc = store_query(c, "SELECT status, to_addr, template, raw FROM mail_outbox WHERE id = $1", a, 1, &r);
    if (rc != AT_OK)
        goto cleanup;
    int step = store_rows_next(r);
    if (step != 1) {
        rc = step == 0 ? AT_ENOTFOUND : step;
        goto cleanup;
    }
    snprintf(out->status, sizeof out->status, "%s", store_rows_text(r, 0));
    snprintf(out->to, sizeof out->to, "%s", store_rows_text(r, 1));
    snprintf(out->template_id, sizeof out->template_id, "%s", store_rows_text(r, 2));
    const char *raw = store_rows_text(r, 3);
    out->raw_len = raw ? strlen(raw) : 0;
    out->raw = xstrndup(raw ? raw : "", out->raw_len);

cleanup:
    store_rows_free(r);
    store_release(c);
    return rc;
}

static void mail_msg_clear(mail_msg *m)
{
    free(m->raw);
    memset(m, 0, sizeof *m);
}

/* ------------------------------------------------------------------------------------------------ */
/* Inspection                                                                                       */
/* ------------------------------------------------------------------------------------------------ */

int mail_list(store *s, int limit, json_t **out)
{
    store_conn *c = NULL;
    store_rows *r = NULL;
    json_t *list = NULL;
    *out = NULL;
    if (limit <= 0)
        limit = MAIL_LIST_DEFAULT;
    if (limit > MAIL_LIST_MAX)
        limit = MAIL_LIST_MAX;
    int rc = store_acquire(s, &c);
    if (rc != AT_OK)
        return rc;
    store_arg a[] = {sa_int(limit)};
    rc = store_query(c, "SELECT " MAIL_LIST_COLS " FROM mail_outbox ORDER BY created_at DESC, id DESC LIMIT $1", a, 1,
                     &r);
    if (rc != AT_OK)
        goto cleanup;
    list = json_array();
    int step;
    while ((step = store_rows_next(r)) == 1)
        json_array_append_new(list, mail_row_json(r));
    if (step < 0) {
        rc = step;
        goto cleanup;
    }
    *out = list;
    list = NULL;

cleanup:
    json_decref(list);
    store_rows_free(r);
    store_release(c);
    return rc;
}

int mail_show(store *s, const char *id, json_t **out)
{
    store_conn *c = NULL;
    store_rows *r = NULL;
    *out = NULL;
    int rc = store_acquire(s, &c);
    if (rc != AT_OK)
        return rc;
    store_arg a[] = {sa_text(id)};
    rc = store_query(c,
                     "SELECT " MAIL_LIST_COLS ", workspace_id, transport, text_body, html_body, raw "
                     "FROM mail_outbox WHERE id = $1",
                     a, 1, &r);
    if (rc != AT_OK)
        goto cleanup;
    int step = store_rows_next(r);
    if (step != 1) {
        rc = step == 0 ? AT_ENOTFOUND : step;
        goto cleanup;
    }
    json_t *o = mail_row_json(r);
    mail_set_text(o, "workspace_id", r, 9);
    mail_set_text(o, "transport", r, 10);
    mail_set_text(o, "text", r, 11);
    mail_set_text(o, "html", r, 12);
    mail_set_text(o, "raw", r, 13);
    *out = o;

cleanup:
    store_rows_free(r);
    store_release(c);
    return rc;
}

void mail_folder(char out[1024])
{
    snprintf(out, 1024, "%s/mail", config_get()->data_dir);
}

/* mail_row_json returns a new object from the MAIL_LIST_COLS of the current row. */
static json_t *mail_row_json(store_rows *r)
{
    json_t *o = json_object();
    mail_set_text(o, "id", r, 0);
    mail_set_text(o, "to", r, 1);
    mail_set_text(o, "subject", r, 2);
    mail_set_text(o, "template", r, 3);
    mail_set_text(o, "status", r, 4);
    json_object_set_new(o, "attempts", json_integer(store_rows_int(r, 5)));
    mail_set_time(o, "created_at", r, 6);
    mail_set_time(o, "sent_at", r, 7);
    mail_set_text(o, "last_error", r, 8);
    return o;
}

static void mail_set_text(json_t *o, const char *key, store_rows *r, int col)
{
    const char *v = store_rows_text(r, col);
    json_object_set_new(o, key, v ? json_string(v) : json_null());
}

/* mail_set_time adds key as an RFC 3339 string, or null when the column is NULL. */
static void mail_set_time(json_t *o, const char *key, store_rows *r, int col)
{
    if (store_rows_is_null(r, col)) {
        json_object_set_new(o, key, json_null());
        return;
    }
    char ts[32];
    clock_format_rfc3339(store_rows_int(r, col), ts);
    json_object_set_new(o, key, json_string(ts));
}

/* ------------------------------------------------------------------------------------------------ */
/* Logging                                                                                          */
/* ------------------------------------------------------------------------------------------------ */

/* The part of an address after its last '@' (the whole address is personal data; the domain is not). */
static const char *mail_domain(const char *addr)
{
    const char *at = addr ? strrchr(addr, '@') : NULL;
    return at ? at + 1 : "";
}

/* mail_log writes one event with the fields that are safe to log: never a body, a link or an address. */
static void mail_log(int level, const char *what, const char *id, const char *template_id, const char *to,
                     const char *status, const char *transport, int attempt)
{
    json_t *f = json_pack("{s:s, s:s}", "mail", id, "status", status);
    if (template_id)
        json_object_set_new(f, "template", json_string(template_id));
    if (to)
        json_object_set_new(f, "domain", json_string(mail_domain(to)));
    if (transport)
        json_object_set_new(f, "transport", json_string(transport));
    if (attempt > 0)
        json_object_set_new(f, "attempt", json_integer(attempt));
    log_event(level, what, f);
}
