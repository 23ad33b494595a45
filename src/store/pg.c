/* The PostgreSQL backend over libpq: one PGconn per pooled connection, parameters and results as
 * text, statements prepared once per connection (stmt_N, keyed by SQL text) and run with
 * PQexecPrepared. The common dialect is PostgreSQL's own, so statements pass through unchanged; only
 * migration DDL is translated from SQLite's STRICT dialect (store.h). */
#include "base/err.h"
#include "base/log.h"
#include "base/mem.h"
#include "store/store_impl.h"

#include <ctype.h>
#include <libpq-fe.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Any constant works as long as every Atrium process uses the same one ("atrium" in ASCII). */
#define PG_MIGRATION_LOCK_KEY "97116114105117109"

typedef struct pg_entry pg_entry;

typedef struct pg_rows {
    store_rows base;
    PGresult *res;
    int row, nrows;
    pg_entry *entry; /* NULL: a cursor allocated for this query alone */
} pg_rows;

/* A prepared statement with its cursor embedded: a query on cached SQL allocates only libpq's result. */
struct pg_entry {
    store_cache_entry base; /* base.busy: the embedded cursor is open */
    char name[24];
    pg_rows rows;
};

typedef struct pg_conn {
    store_conn base;
    PGconn *pg;
    store_cache cache;
    unsigned next_stmt;
    buf params;          /* parameter texts, NUL-separated */
    size_t *offsets;     /* where each parameter starts in params */
    const char **values; /* the pointers PQexecPrepared reads */
    size_t params_cap;
} pg_conn;

static int pg_run(pg_conn *c, const char *sql, const store_arg *args, size_t nargs, pg_entry **entry_out,
                  PGresult **res_out);
static int pg_simple(pg_conn *c, const char *sql);
static int pg_fail(pg_conn *c, const PGresult *res, const char *sql);
static int pg_session_setup(pg_conn *c);
static void pg_cache_drop(pg_conn *c);
static void pg_quiet(void *arg, const char *message);
static void pg_disconnect(store_conn *base);

/* ------------------------------------------------------------------------------------------------ */
/* Connections                                                                                      */
/* ------------------------------------------------------------------------------------------------ */

/* pg_connect opens a connection with the URL in s->target (the URL's own settings win over our
 * defaults: a 10 s connect timeout, UTF-8) and sets the session up. On success *out is a new
 * connection that pg_disconnect frees. */
static int pg_connect(store *s, store_conn **out, char err[512])
{
    static const char *const keys[] = {"connect_timeout", "client_encoding", "dbname", NULL};
    const char *vals[] = {"10", "UTF8", s->target, NULL};
    pg_conn *c = xcalloc(1, sizeof *c);
    store_cache_init(&c->cache);
    buf_init(&c->params);
    c->pg = PQconnectdbParams(keys, vals, 1);
    if (!c->pg || PQstatus(c->pg) != CONNECTION_OK) {
        store_err_set(err, "cannot connect to PostgreSQL: %s", c->pg ? PQerrorMessage(c->pg) : "out of memory");
        size_t n = strlen(err);
        while (n > 0 && (err[n - 1] == '\n' || err[n - 1] == ' '))
            err[--n] = '\0';
        goto fail;
    }
    PQsetNoticeProcessor(c->pg, pg_quiet, NULL);
    if (pg_session_setup(c) != AT_OK) {
        store_err_set(err, "cannot set up the PostgreSQL session: %s", PQerrorMessage(c->pg));
        goto fail;
    }
    *out = &c->base;
    return AT_OK;

fail:
    pg_disconnect(&c->base);
    return AT_EUNAVAIL;
}

static void pg_disconnect(store_conn *base)
{
    pg_conn *c = (pg_conn *)base;
    pg_cache_drop(c);
    store_cache_free(&c->cache);
    PQfinish(c->pg);
    buf_free(&c->params);
    free(c->offsets);
    free(c->values);
    free(c);
}

/* pg_revive reconnects a connection that failed (or that libpq reports bad) and forgets its prepared
 * statements, which died with the old session. Cheap when the connection is fine: one status read. */
static int pg_revive(store_conn *base)
{
    pg_conn *c = (pg_conn *)base;
    if (!c->base.broken && PQstatus(c->pg) == CONNECTION_OK)
        return AT_OK;
    pg_cache_drop(c);
    PQreset(c->pg);
    if (PQstatus(c->pg) != CONNECTION_OK || pg_session_setup(c) != AT_OK) {
        c->base.broken = true;
        return AT_EUNAVAIL;
    }
    c->base.broken = false;
    log_msg(LOG_INFO, "PostgreSQL connection re-established");
    return AT_OK;
}

static int pg_session_setup(pg_conn *c)
{
    return pg_simple(c, "SET TIME ZONE 'UTC'");
}

/* ------------------------------------------------------------------------------------------------ */
/* Transactions                                                                                     */
/* ------------------------------------------------------------------------------------------------ */

static int pg_begin(store_conn *base, bool write)
{
    (void)write; /* READ COMMITTED either way; writers rely on row locks in their SQL (store.h) */
    return pg_simple((pg_conn *)base, "BEGIN");
}

/* pg_commit commits; PostgreSQL answers COMMIT on an aborted transaction with a silent ROLLBACK, which
 * is reported here as the failure it is. */
static int pg_commit(store_conn *base)
{
    pg_conn *c = (pg_conn *)base;
    if (PQtransactionStatus(c->pg) == PQTRANS_INERROR) {
        pg_simple(c, "ROLLBACK");
        return AT_ESTORE;
    }
    PGresult *res = PQexec(c->pg, "COMMIT");
    int status = AT_OK;
    if (PQresultStatus(res) != PGRES_COMMAND_OK)
        status = pg_fail(c, res, "COMMIT");
    else if (strcmp(PQcmdStatus(res), "ROLLBACK") == 0)
        status = AT_ESTORE;
    PQclear(res);
    return status;
}

static int pg_rollback(store_conn *base)
{
    pg_conn *c = (pg_conn *)base;
    if (PQstatus(c->pg) != CONNECTION_OK || PQtransactionStatus(c->pg) == PQTRANS_IDLE)
        return AT_OK;
    return pg_simple(c, "ROLLBACK");
}

/* ------------------------------------------------------------------------------------------------ */
/* Statements                                                                                       */
/* ------------------------------------------------------------------------------------------------ */

static int pg_exec(store_conn *base, const char *sql, const store_arg *args, size_t nargs, int64_t *changes_out)
{
    pg_conn *c = (pg_conn *)base;
    pg_entry *e = NULL;
    PGresult *res = NULL;
    int status = pg_run(c, sql, args, nargs, &e, &res);
    if (status == AT_OK && changes_out)
        *changes_out = strtoll(PQcmdTuples(res), NULL, 10);
    PQclear(res);
    return status;
}

/* pg_query runs the statement and returns a cursor over its (fully received) result: the cached
 * entry's embedded cursor when free, else a new one. store_rows_free releases either. */
static int pg_query(store_conn *base, const char *sql, const store_arg *args, size_t nargs, store_rows **out)
{
    pg_conn *c = (pg_conn *)base;
    pg_entry *e = NULL;
    PGresult *res = NULL;
    int status = pg_run(c, sql, args, nargs, &e, &res);
    if (status != AT_OK)
        return status;
    pg_rows *r;
    if (e && !e->base.busy) {
        e->base.busy = true;
        r = &e->rows;
        r->entry = e;
    } else {
        r = xcalloc(1, sizeof *r);
        r->entry = NULL;
    }
    r->base.conn = base;
    r->res = res;
    r->row = -1;
    r->nrows = PQntuples(res);
    *out = &r->base;
    return AT_OK;
}

static int pg_rows_next(store_rows *base)
{
    pg_rows *r = (pg_rows *)base;
    if (r->row + 1 < r->nrows) {
        r->row++;
        return 1;
    }
    r->row = r->nrows;
    return 0;
}

static const char *pg_rows_text(store_rows *base, int col)
{
    pg_rows *r = (pg_rows *)base;
    if (r->row < 0 || r->row >= r->nrows || col < 0 || col >= PQnfields(r->res) || PQgetisnull(r->res, r->row, col))
        return NULL;
    return PQgetvalue(r->res, r->row, col);
}

static int64_t pg_rows_int(store_rows *base, int col)
{
    const char *v = pg_rows_text(base, col);
    return v ? strtoll(v, NULL, 10) : 0;
}

static bool pg_rows_is_null(store_rows *base, int col)
{
    return pg_rows_text(base, col) == NULL;
}

static void pg_rows_free(store_rows *base)
{
    pg_rows *r = (pg_rows *)base;
    PQclear(r->res);
    r->res = NULL;
    if (r->entry)
        r->entry->base.busy = false;
    else
        free(r);
}

/* pg_run executes sql with args as text parameters. Known SQL runs its prepared statement; new SQL is
 * prepared (one extra round trip, once per connection) and cached, or, when the cache is full, run
 * unnamed. On AT_OK *res_out is a result the caller clears and *entry_out the cache entry or NULL. */
static int pg_run(pg_conn *c, const char *sql, const store_arg *args, size_t nargs, pg_entry **entry_out,
                  PGresult **res_out)
{
    size_t len = strlen(sql);
    uint64_t hash = store_cache_hash(sql, len);
    pg_entry *e = (pg_entry *)store_cache_find(&c->cache, sql, len, hash);
    if (!e && c->cache.count < STORE_CACHE_MAX) {
        char name[24];
        snprintf(name, sizeof name, "stmt_%u", c->next_stmt++);
        PGresult *prep = PQprepare(c->pg, name, sql, 0, NULL);
        if (PQresultStatus(prep) != PGRES_COMMAND_OK) {
            int status = pg_fail(c, prep, sql);
            PQclear(prep);
            return status;
        }
        PQclear(prep);
        e = xcalloc(1, sizeof *e);
        memcpy(e->name, name, sizeof name);
        store_cache_insert(&c->cache, &e->base, sql, len, hash);
    }

    /* Text parameters must be NUL-terminated for libpq; copy them into one reused buffer. */
    if (nargs > c->params_cap) {
        c->params_cap = nargs;
        c->offsets = xrealloc(c->offsets, nargs * sizeof *c->offsets);
        c->values = xrealloc(c->values, nargs * sizeof *c->values);
    }
    buf_reset(&c->params);
    for (size_t i = 0; i < nargs; i++) {
        c->offsets[i] = c->params.len;
        if (args[i].type == SA_TEXT) {
            buf_append(&c->params, args[i].text, args[i].len);
        } else if (args[i].type == SA_INT) {
            char num[24];
            int n = snprintf(num, sizeof num, "%lld", (long long)args[i].i);
            buf_append(&c->params, num, (size_t)n);
        }
        buf_append(&c->params, "", 1);
    }
    for (size_t i = 0; i < nargs; i++)
        c->values[i] = args[i].type == SA_NULL ? NULL : c->params.data + c->offsets[i];

    const char *const *values = nargs ? c->values : NULL;
    PGresult *res = e ? PQexecPrepared(c->pg, e->name, (int)nargs, values, NULL, NULL, 0)
                      : PQexecParams(c->pg, sql, (int)nargs, NULL, values, NULL, NULL, 0);
    ExecStatusType st = PQresultStatus(res);
    if (st != PGRES_COMMAND_OK && st != PGRES_TUPLES_OK) {
        int status = pg_fail(c, res, sql);
        PQclear(res);
        return status;
    }
    *entry_out = e;
    *res_out = res;
    return AT_OK;
}

/* pg_simple runs one parameterless statement that returns no rows, over the simple protocol. */
static int pg_simple(pg_conn *c, const char *sql)
{
    PGresult *res = PQexec(c->pg, sql);
    int status = AT_OK;
    ExecStatusType st = PQresultStatus(res);
    if (st != PGRES_COMMAND_OK && st != PGRES_TUPLES_OK)
        status = pg_fail(c, res, sql);
    PQclear(res);
    return status;
}

/* ------------------------------------------------------------------------------------------------ */
/* Migrations, checks, backup                                                                       */
/* ------------------------------------------------------------------------------------------------ */

/* pg_exec_script translates migration SQL and runs all its statements in one PQexec (the simple
 * protocol accepts several); inside the caller's transaction they commit or roll back together. */
static int pg_exec_script(store_conn *base, const char *sql, char err[512])
{
    pg_conn *c = (pg_conn *)base;
    buf text;
    buf_init(&text);
    store_pg_translate_ddl(sql, &text);
    PGresult *res = PQexec(c->pg, text.data);
    int status = AT_OK;
    ExecStatusType st = PQresultStatus(res);
    if (st != PGRES_COMMAND_OK && st != PGRES_TUPLES_OK) {
        const char *msg = res ? PQresultErrorField(res, PG_DIAG_MESSAGE_PRIMARY) : NULL;
        store_err_set(err, "%s", msg ? msg : PQerrorMessage(c->pg));
        status = pg_fail(c, res, "(migration script)");
    }
    PQclear(res);
    buf_free(&text);
    return status;
}

/* Held until the migration transaction ends; a second migrator waits here, then re-reads the version. */
static int pg_migration_lock(store_conn *base)
{
    return pg_simple((pg_conn *)base, "SELECT pg_advisory_xact_lock(" PG_MIGRATION_LOCK_KEY ")");
}

static int pg_has_table(store_conn *base, const char *name, bool *out)
{
    int64_t n = 0;
    store_arg a[] = {sa_text(name)};
    int rc = store_query_int(
        base, "SELECT COUNT(*) FROM pg_catalog.pg_tables WHERE schemaname = current_schema() AND tablename = $1", a, 1,
        &n);
    *out = rc == AT_OK && n > 0;
    return rc;
}

/* pg_check_durability refuses a server that can lose committed transactions: any of fsync,
 * synchronous_commit, full_page_writes off. */
static int pg_check_durability(store_conn *base, char err[512])
{
    static const char *const settings[] = {"fsync", "synchronous_commit", "full_page_writes"};
    pg_conn *c = (pg_conn *)base;
    for (size_t i = 0; i < sizeof settings / sizeof settings[0]; i++) {
        char sql[64];
        snprintf(sql, sizeof sql, "SHOW %s", settings[i]);
        PGresult *res = PQexec(c->pg, sql);
        if (PQresultStatus(res) != PGRES_TUPLES_OK || PQntuples(res) != 1) {
            int status = pg_fail(c, res, sql);
            store_err_set(err, "cannot read the PostgreSQL setting %s", settings[i]);
            PQclear(res);
            return status;
        }
        bool off = strcmp(PQgetvalue(res, 0, 0), "off") == 0;
        PQclear(res);
        if (off) {
            store_err_set(err,
                          "PostgreSQL setting %s is off: committed data can be lost in a crash; turn it on "
                          "(postgresql.conf) before running Atrium",
                          settings[i]);
            return AT_EINVAL;
        }
    }
    return AT_OK;
}

static int pg_backup(store_conn *base, const char *path, char err[512])
{
    (void)base;
    (void)path;
    store_err_set(err, "use pg_dump on PostgreSQL");
    return AT_EINVAL;
}

static int pg_cached_statements(store_conn *base)
{
    return (int)((pg_conn *)base)->cache.count;
}

/* ------------------------------------------------------------------------------------------------ */
/* Helpers                                                                                          */
/* ------------------------------------------------------------------------------------------------ */

/* pg_fail maps a failed result (or a lost connection) to a status and logs the primary message with
 * the SQL text. The DETAIL field is never logged: it quotes row values ("Key (email)=(...)"). */
static int pg_fail(pg_conn *c, const PGresult *res, const char *sql)
{
    int status = AT_ESTORE;
    const char *state = res ? PQresultErrorField(res, PG_DIAG_SQLSTATE) : NULL;
    const char *msg = res ? PQresultErrorField(res, PG_DIAG_MESSAGE_PRIMARY) : NULL;
    if (PQstatus(c->pg) != CONNECTION_OK) {
        c->base.broken = true;
        status = AT_EUNAVAIL;
        if (!msg)
            msg = PQerrorMessage(c->pg);
    } else if (state) {
        if (strcmp(state, "23505") == 0)
            status = AT_ECONFLICT;
        else if (!strcmp(state, "23503") || !strcmp(state, "23514") || !strcmp(state, "23502"))
            status = AT_ECONSTRAINT;
        else if (!strcmp(state, "40001") || !strcmp(state, "40P01") || !strcmp(state, "55P03"))
            status = AT_EBUSY;
        else if (strcmp(state, "53100") == 0) /* disk_full */
            status = AT_ENOSPACE;
    }
    json_t *f = json_pack("{s:s, s:s, s:s}", "sqlstate", state ? state : "", "error", msg ? msg : PQerrorMessage(c->pg),
                          "sql", sql);
    log_event(status == AT_ESTORE || status == AT_EUNAVAIL || status == AT_ENOSPACE ? LOG_ERROR : LOG_DEBUG,
              "postgres error", f);
    return status;
}

/* pg_cache_drop frees every cached entry (no cursor may be open) and empties the cache; the server's
 * prepared statements are left to die with the session. */
static void pg_cache_drop(pg_conn *c)
{
    for (size_t i = 0; i < c->cache.nslots; i++) {
        pg_entry *e = (pg_entry *)store_cache_at(&c->cache, i);
        if (!e)
            continue;
        free(e->base.sql);
        free(e);
    }
    store_cache_clear(&c->cache);
}

/* NOTICEs (e.g. "relation already exists, skipping") would go to stderr; Atrium's logs are JSON. */
static void pg_quiet(void *arg, const char *message)
{
    (void)arg;
    (void)message;
}

void store_pg_translate_ddl(const char *sql, buf *out)
{
    const char *p = sql;
    char prev = ' ', last = '\0'; /* last: the previous significant character, comments excluded */
    while (*p) {
        size_t n = store_sql_skip_quoted(p);
        if (n) {
            buf_append(out, p, n);
            if (*p != '-' && *p != '/')
                last = *p;
            p += n;
            prev = p[-1];
            continue;
        }
        if (!store_sql_ident_char(prev) && store_sql_ident_char(*p)) {
            const char *w = p;
            while (store_sql_ident_char(*p))
                p++;
            if (store_sql_word_at(w, "INTEGER"))
                buf_puts(out, "BIGINT");
            else if (!(store_sql_word_at(w, "STRICT") && last == ')'))
                buf_append(out, w, (size_t)(p - w));
            prev = last = p[-1];
            continue;
        }
        buf_putc(out, *p);
        if (!isspace((unsigned char)*p))
            last = *p;
        prev = *p++;
    }
    if (!out->data)
        buf_append(out, "", 0);
}

const struct store_ops store_pg_ops = {
    .kind = STORE_PG,
    .name = "postgres",
    .connect = pg_connect,
    .disconnect = pg_disconnect,
    .revive = pg_revive,
    .begin = pg_begin,
    .commit = pg_commit,
    .rollback = pg_rollback,
    .exec = pg_exec,
    .query = pg_query,
    .rows_next = pg_rows_next,
    .rows_text = pg_rows_text,
    .rows_int = pg_rows_int,
    .rows_is_null = pg_rows_is_null,
    .rows_free = pg_rows_free,
    .exec_script = pg_exec_script,
    .migration_lock = pg_migration_lock,
    .has_table = pg_has_table,
    .check_durability = pg_check_durability,
    .backup = pg_backup,
    .cached_statements = pg_cached_statements,
};
