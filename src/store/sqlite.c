/* The SQLite backend (the embedded default): one sqlite3 handle per pooled connection, opened NOMUTEX
 * because the pool gives a connection to one thread at a time; WAL, synchronous=FULL, foreign keys;
 * BEGIN IMMEDIATE for writes. A write that fails for space (SQLITE_FULL) answers AT_ENOSPACE, and the
 * connection then checkpoints the WAL with TRUNCATE; journal_size_limit keeps the WAL file from
 * staying large after a checkpoint, so the space comes back and writes resume without a restart. Statements are prepared once per connection, after the common dialect's
 * $N -> ?N rewrite, and kept in a cache keyed by the caller's SQL text (c-stack.md §2.3, §6). */
#include "base/err.h"
#include "base/log.h"
#include "base/mem.h"
#include "store/store_impl.h"

#include <ctype.h>
#include <errno.h>
#include <pthread.h>
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

enum { SQ_PENDING = 0 /* query fetched the first row; next hands it out */, SQ_ROW, SQ_DONE_PENDING, SQ_DONE };
enum { TX_BEGIN = 0, TX_BEGIN_IMMEDIATE, TX_COMMIT, TX_ROLLBACK, TX_COUNT };

typedef struct sqlite_entry sqlite_entry;

typedef struct sqlite_rows {
    store_rows base;
    sqlite3_stmt *stmt;
    sqlite_entry *entry; /* NULL: an uncached cursor that owns stmt and itself */
    int state;
} sqlite_rows;

/* A cached statement with its cursor embedded: a query on cached SQL allocates nothing. */
struct sqlite_entry {
    store_cache_entry base;
    sqlite3_stmt *stmt;
    sqlite_rows rows;
};

typedef struct sqlite_conn {
    store_conn base;
    sqlite3 *db;
    store_cache cache;
    sqlite3_stmt *tx[TX_COUNT];
    buf scratch; /* the rewritten SQL while preparing */
    bool full;             /* a statement failed for space: checkpoint when no transaction is open */
    unsigned cap_version;  /* the store_cap_pages version applied to this connection */
} sqlite_conn;

/* The WAL is truncated to this size after a checkpoint (about the size of an automatic checkpoint of
 * 1000 pages), so one burst of writes does not keep its disk space for good. */
enum { SQLITE_JOURNAL_LIMIT = 4 * 1024 * 1024 };

static const char *const sqlite_tx_sql[TX_COUNT] = {"BEGIN", "BEGIN IMMEDIATE", "COMMIT", "ROLLBACK"};

static int sqlite_status(int ext);
static int sqlite_fail(sqlite_conn *c, const char *sql);
static int sqlite_make_parent(const char *path, char err[512]);
static int sqlite_prepare(sqlite_conn *c, const char *sql, sqlite3_stmt **out);
static int sqlite_statement(sqlite_conn *c, const char *sql, sqlite_entry **entry_out, sqlite3_stmt **stmt_out);
static int sqlite_bind(sqlite_conn *c, sqlite3_stmt *st, const store_arg *args, size_t nargs,
                       sqlite3_destructor_type d);
static int sqlite_tx_step(sqlite_conn *c, int which);
static void sqlite_disconnect(store_conn *base);
static size_t sqlite_lock_clause(const char *p);
static void sqlite_reclaim(sqlite_conn *c);
static void sqlite_apply_cap(sqlite_conn *c);

/* ------------------------------------------------------------------------------------------------ */
/* Connections                                                                                      */
/* ------------------------------------------------------------------------------------------------ */

/* sqlite_connect opens s->target (creating the file and its parent folder if missing) and applies the
 * durability pragmas. On success *out is a new connection that sqlite_disconnect frees. */
/* Turns off SQLite's global memory statistics once, before the first connection: they take a global
 * mutex on every allocation, which every request thread would then contend for. */
static void sqlite_global_setup(void)
{
    sqlite3_config(SQLITE_CONFIG_MEMSTATUS, 0);
}

static int sqlite_connect(store *s, store_conn **out, char err[512])
{
    static pthread_once_t once = PTHREAD_ONCE_INIT;
    pthread_once(&once, sqlite_global_setup);
    const char *path = s->target;
    if (strcmp(path, ":memory:") != 0 && sqlite_make_parent(path, err) != AT_OK)
        return AT_EUNAVAIL;

    sqlite_conn *c = xcalloc(1, sizeof *c);
    store_cache_init(&c->cache);
    buf_init(&c->scratch);
    int rc = sqlite3_open_v2(path, &c->db, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_NOMUTEX, NULL);
    if (rc != SQLITE_OK) {
        store_err_set(err, "cannot open SQLite database %s: %s", path,
                      c->db ? sqlite3_errmsg(c->db) : sqlite3_errstr(rc));
        goto fail;
    }
    sqlite3_extended_result_codes(c->db, 1);
    /* busy_timeout first: switching to WAL needs a lock another process may hold. */
    char pragmas[256];
    snprintf(pragmas, sizeof pragmas,
             "PRAGMA busy_timeout=5000; PRAGMA synchronous=FULL; PRAGMA foreign_keys=ON; PRAGMA cache_size=-1024; "
             "PRAGMA journal_size_limit=%d;",
             SQLITE_JOURNAL_LIMIT);
    rc = sqlite3_exec(c->db, pragmas, NULL, NULL, NULL);
    if (rc != SQLITE_OK) {
        store_err_set(err, "cannot configure SQLite database %s: %s", path, sqlite3_errmsg(c->db));
        goto fail;
    }
    sqlite3_stmt *st = NULL;
    rc = sqlite3_prepare_v2(c->db, "PRAGMA journal_mode=WAL", -1, &st, NULL);
    if (rc == SQLITE_OK && (rc = sqlite3_step(st)) == SQLITE_ROW) {
        const char *mode = (const char *)sqlite3_column_text(st, 0);
        if (mode && strcmp(mode, "wal") != 0 && strcmp(path, ":memory:") != 0)
            log_msg(LOG_WARN, "SQLite database %s is in journal mode %s, not WAL", path, mode);
        rc = SQLITE_OK;
    }
    sqlite3_finalize(st);
    if (rc != SQLITE_OK) {
        store_err_set(err, "cannot switch SQLite database %s to WAL: %s", path, sqlite3_errmsg(c->db));
        goto fail;
    }
    for (int i = 0; i < TX_COUNT; i++) {
        if (sqlite3_prepare_v3(c->db, sqlite_tx_sql[i], -1, SQLITE_PREPARE_PERSISTENT, &c->tx[i], NULL) != SQLITE_OK) {
            store_err_set(err, "cannot prepare %s: %s", sqlite_tx_sql[i], sqlite3_errmsg(c->db));
            goto fail;
        }
    }
    c->base.owner = s;
    sqlite_apply_cap(c);
    *out = &c->base;
    return AT_OK;

fail:
    sqlite_disconnect(&c->base);
    return AT_EUNAVAIL;
}

/* sqlite_disconnect finalizes every statement (no cursor may be open) and frees the connection. */
static void sqlite_disconnect(store_conn *base)
{
    sqlite_conn *c = (sqlite_conn *)base;
    for (size_t i = 0; i < c->cache.nslots; i++) {
        sqlite_entry *e = (sqlite_entry *)store_cache_at(&c->cache, i);
        if (!e)
            continue;
        sqlite3_finalize(e->stmt);
        free(e->base.sql);
        free(e);
    }
    store_cache_free(&c->cache);
    for (int i = 0; i < TX_COUNT; i++)
        sqlite3_finalize(c->tx[i]);
    sqlite3_close_v2(c->db);
    buf_free(&c->scratch);
    free(c);
}

/* ------------------------------------------------------------------------------------------------ */
/* Transactions                                                                                     */
/* ------------------------------------------------------------------------------------------------ */

static int sqlite_begin(store_conn *base, bool write)
{
    return sqlite_tx_step((sqlite_conn *)base, write ? TX_BEGIN_IMMEDIATE : TX_BEGIN);
}

static int sqlite_commit(store_conn *base)
{
    return sqlite_tx_step((sqlite_conn *)base, TX_COMMIT);
}

static int sqlite_rollback(store_conn *base)
{
    sqlite_conn *c = (sqlite_conn *)base;
    /* SQLite rolls back by itself on some errors; there is nothing left to undo then. */
    int rc = sqlite3_get_autocommit(c->db) ? AT_OK : sqlite_tx_step(c, TX_ROLLBACK);
    sqlite_reclaim(c);
    return rc;
}

/* Runs on every acquire: applies a changed page cap (store_cap_pages) and finishes a reclaim that
 * could not run inside the failed statement's transaction. */
static int sqlite_revive(store_conn *base)
{
    sqlite_conn *c = (sqlite_conn *)base;
    sqlite_apply_cap(c);
    sqlite_reclaim(c);
    return AT_OK;
}

/* After a write failed for space, and once no transaction is open: folds the WAL back into the
 * database and truncates it, giving its disk space back (the WAL otherwise only shrinks at the next
 * automatic checkpoint, which a full disk may never reach). Runs once per failure. */
static void sqlite_reclaim(sqlite_conn *c)
{
    if (!c->full || !sqlite3_get_autocommit(c->db))
        return;
    c->full = false;
    int wal_pages = 0, moved = 0;
    int rc = sqlite3_wal_checkpoint_v2(c->db, NULL, SQLITE_CHECKPOINT_TRUNCATE, &wal_pages, &moved);
    log_event(rc == SQLITE_OK ? LOG_WARN : LOG_ERROR, "sqlite out of space; WAL checkpointed",
              json_pack("{s:s, s:i, s:i}", "result", sqlite3_errstr(rc), "wal_pages", wal_pages, "moved_pages", moved));
}

/* Applies the store's page cap to this connection when it changed since the last time. */
static void sqlite_apply_cap(sqlite_conn *c)
{
    store *s = c->base.owner;
    unsigned version = atomic_load(&s->page_cap_version);
    if (version == c->cap_version)
        return;
    int64_t cap = atomic_load(&s->page_cap);
    char sql[64];
    snprintf(sql, sizeof sql, "PRAGMA max_page_count=%lld", (long long)(cap > 0 ? cap : 4294967294LL));
    if (sqlite3_exec(c->db, sql, NULL, NULL, NULL) == SQLITE_OK)
        c->cap_version = version;
}

/* store_cap_pages on SQLite: the cap is the database's current page count. */
static int sqlite_cap_pages(store_conn *base, bool cap)
{
    sqlite_conn *c = (sqlite_conn *)base;
    store *s = base->owner;
    int64_t pages = 0;
    if (cap) {
        sqlite3_stmt *st = NULL;
        if (sqlite3_prepare_v2(c->db, "PRAGMA page_count", -1, &st, NULL) == SQLITE_OK && sqlite3_step(st) == SQLITE_ROW)
            pages = sqlite3_column_int64(st, 0);
        sqlite3_finalize(st);
        if (pages <= 0)
            return AT_ESTORE;
    }
    atomic_store(&s->page_cap, pages);
    atomic_fetch_add(&s->page_cap_version, 1);
    return AT_OK;
}

static int sqlite_tx_step(sqlite_conn *c, int which)
{
    sqlite3_stmt *st = c->tx[which];
    int rc = sqlite3_step(st);
    int status = rc == SQLITE_DONE ? AT_OK : sqlite_fail(c, sqlite_tx_sql[which]);
    sqlite3_reset(st);
    return status;
}

/* ------------------------------------------------------------------------------------------------ */
/* Statements                                                                                       */
/* ------------------------------------------------------------------------------------------------ */

/* sqlite_exec binds args without copying them (the statement finishes before we return), steps to
 * the end, and leaves the statement reset and unbound so it keeps no pointer into the caller's data. */
static int sqlite_exec(store_conn *base, const char *sql, const store_arg *args, size_t nargs, int64_t *changes_out)
{
    sqlite_conn *c = (sqlite_conn *)base;
    sqlite_entry *e = NULL;
    sqlite3_stmt *st = NULL;
    int status = sqlite_statement(c, sql, &e, &st);
    if (status != AT_OK)
        return status;
    status = sqlite_bind(c, st, args, nargs, SQLITE_STATIC);
    if (status == AT_OK) {
        int rc;
        while ((rc = sqlite3_step(st)) == SQLITE_ROW)
            ;
        if (rc == SQLITE_DONE) {
            if (changes_out)
                *changes_out = sqlite3_changes64(c->db);
        } else {
            status = sqlite_fail(c, sql);
        }
    }
    sqlite3_reset(st);
    sqlite3_clear_bindings(st);
    if (e)
        e->base.busy = false;
    else
        sqlite3_finalize(st);
    return status;
}

/* sqlite_query binds copies of args (the cursor outlives the caller's buffers), runs the statement to
 * its first row so that errors (a unique violation in INSERT ... RETURNING) surface here as they do
 * on PostgreSQL, and returns a cursor: the cached entry's embedded one, or a new one when the SQL is
 * uncached. store_rows_free releases it either way. */
static int sqlite_query(store_conn *base, const char *sql, const store_arg *args, size_t nargs, store_rows **out)
{
    sqlite_conn *c = (sqlite_conn *)base;
    sqlite_entry *e = NULL;
    sqlite3_stmt *st = NULL;
    int status = sqlite_statement(c, sql, &e, &st);
    if (status != AT_OK)
        return status;
    status = sqlite_bind(c, st, args, nargs, SQLITE_TRANSIENT);
    int rc = SQLITE_OK;
    if (status == AT_OK) {
        rc = sqlite3_step(st);
        if (rc != SQLITE_ROW && rc != SQLITE_DONE)
            status = sqlite_fail(c, sql);
    }
    if (status != AT_OK) {
        sqlite3_reset(st);
        if (e)
            e->base.busy = false;
        else
            sqlite3_finalize(st);
        return status;
    }
    sqlite_rows *r = e ? &e->rows : xcalloc(1, sizeof *r);
    r->base.conn = base;
    r->stmt = st;
    r->entry = e;
    r->state = rc == SQLITE_ROW ? SQ_PENDING : SQ_DONE_PENDING;
    *out = &r->base;
    return AT_OK;
}

static int sqlite_rows_next(store_rows *base)
{
    sqlite_rows *r = (sqlite_rows *)base;
    switch (r->state) {
    case SQ_PENDING:
        r->state = SQ_ROW;
        return 1;
    case SQ_DONE_PENDING:
    case SQ_DONE:
        r->state = SQ_DONE;
        return 0;
    default:
        break;
    }
    int rc = sqlite3_step(r->stmt);
    if (rc == SQLITE_ROW)
        return 1;
    r->state = SQ_DONE;
    if (rc == SQLITE_DONE)
        return 0;
    return sqlite_fail((sqlite_conn *)base->conn, sqlite3_sql(r->stmt));
}

static const char *sqlite_rows_text(store_rows *base, int col)
{
    sqlite_rows *r = (sqlite_rows *)base;
    if (r->state != SQ_ROW)
        return NULL;
    return (const char *)sqlite3_column_text(r->stmt, col);
}

static int64_t sqlite_rows_int(store_rows *base, int col)
{
    sqlite_rows *r = (sqlite_rows *)base;
    return r->state == SQ_ROW ? sqlite3_column_int64(r->stmt, col) : 0;
}

static bool sqlite_rows_is_null(store_rows *base, int col)
{
    sqlite_rows *r = (sqlite_rows *)base;
    return r->state != SQ_ROW || sqlite3_column_type(r->stmt, col) == SQLITE_NULL;
}

/* sqlite_rows_free resets the statement (keeping its bound copies for reuse) and frees an uncached
 * cursor. */
static void sqlite_rows_free(store_rows *base)
{
    sqlite_rows *r = (sqlite_rows *)base;
    sqlite3_reset(r->stmt);
    if (r->entry) {
        r->entry->base.busy = false;
        return;
    }
    sqlite3_finalize(r->stmt);
    free(r);
}

/* sqlite_statement returns a prepared statement for sql, ready to bind. A cache hit costs a hash of
 * the text; a miss rewrites and prepares once and caches the result. When the cached statement has a
 * cursor open, or the cache is full, a fresh statement is prepared that the caller finalizes
 * (*entry_out is NULL then). The entry, if any, is marked busy. */
static int sqlite_statement(sqlite_conn *c, const char *sql, sqlite_entry **entry_out, sqlite3_stmt **stmt_out)
{
    size_t len = strlen(sql);
    uint64_t hash = store_cache_hash(sql, len);
    sqlite_entry *e = (sqlite_entry *)store_cache_find(&c->cache, sql, len, hash);
    if (e && !e->base.busy) {
        e->base.busy = true;
        *entry_out = e;
        *stmt_out = e->stmt;
        return AT_OK;
    }
    sqlite3_stmt *st = NULL;
    int status = sqlite_prepare(c, sql, &st);
    if (status != AT_OK)
        return status;
    *entry_out = NULL;
    *stmt_out = st;
    if (e)
        return AT_OK;
    e = xcalloc(1, sizeof *e);
    if (!store_cache_insert(&c->cache, &e->base, sql, len, hash)) {
        free(e);
        return AT_OK;
    }
    e->stmt = st;
    e->base.busy = true;
    *entry_out = e;
    return AT_OK;
}

/* sqlite_prepare rewrites sql to SQLite's dialect and prepares it; *out belongs to the caller. A text
 * with more than one statement is refused (PostgreSQL's extended protocol refuses it too). */
static int sqlite_prepare(sqlite_conn *c, const char *sql, sqlite3_stmt **out)
{
    buf_reset(&c->scratch);
    store_sqlite_rewrite(sql, &c->scratch);
    const char *text = c->scratch.data ? c->scratch.data : "";
    const char *tail = NULL;
    sqlite3_stmt *st = NULL;
    if (sqlite3_prepare_v3(c->db, text, (int)c->scratch.len + 1, SQLITE_PREPARE_PERSISTENT, &st, &tail) != SQLITE_OK)
        return sqlite_fail(c, sql);
    while (tail && (isspace((unsigned char)*tail) || *tail == ';'))
        tail++;
    if (!st || (tail && *tail)) {
        sqlite3_finalize(st);
        log_event(LOG_ERROR, "sqlite error",
                  json_pack("{s:s, s:s}", "error", st ? "more than one statement" : "empty statement", "sql", sql));
        return AT_ESTORE;
    }
    *out = st;
    return AT_OK;
}

/* sqlite_bind binds args 1..n. The count must match the statement's parameters exactly, as it must on
 * PostgreSQL, so no stale binding from an earlier run can leak into this one. */
static int sqlite_bind(sqlite_conn *c, sqlite3_stmt *st, const store_arg *args, size_t nargs, sqlite3_destructor_type d)
{
    if ((size_t)sqlite3_bind_parameter_count(st) != nargs) {
        log_event(LOG_ERROR, "sqlite error",
                  json_pack("{s:s, s:I, s:I, s:s}", "error", "wrong number of parameters", "expected",
                            (json_int_t)sqlite3_bind_parameter_count(st), "given", (json_int_t)nargs, "sql",
                            sqlite3_sql(st)));
        return AT_ESTORE;
    }
    for (size_t i = 0; i < nargs; i++) {
        int idx = (int)i + 1, rc;
        switch (args[i].type) {
        case SA_TEXT:
            rc = sqlite3_bind_text64(st, idx, args[i].text, args[i].len, d, SQLITE_UTF8);
            break;
        case SA_INT:
            rc = sqlite3_bind_int64(st, idx, args[i].i);
            break;
        default:
            rc = sqlite3_bind_null(st, idx);
            break;
        }
        if (rc != SQLITE_OK)
            return sqlite_fail(c, sqlite3_sql(st));
    }
    return AT_OK;
}

/* ------------------------------------------------------------------------------------------------ */
/* Migrations, checks, backup                                                                       */
/* ------------------------------------------------------------------------------------------------ */

/* Migration SQL is written in SQLite's dialect, so it runs unchanged, all statements at once. */
static int sqlite_exec_script(store_conn *base, const char *sql, char err[512])
{
    sqlite_conn *c = (sqlite_conn *)base;
    char *msg = NULL;
    int rc = sqlite3_exec(c->db, sql, NULL, NULL, &msg);
    if (rc == SQLITE_OK)
        return AT_OK;
    store_err_set(err, "%s", msg ? msg : sqlite3_errstr(rc));
    sqlite3_free(msg);
    return sqlite_status(sqlite3_extended_errcode(c->db));
}

/* BEGIN IMMEDIATE already holds the database's write lock: migrators are serialised by it. */
static int sqlite_migration_lock(store_conn *base)
{
    (void)base;
    return AT_OK;
}

static int sqlite_has_table(store_conn *base, const char *name, bool *out)
{
    int64_t n = 0;
    store_arg a[] = {sa_text(name)};
    int rc = store_query_int(base, "SELECT COUNT(*) FROM sqlite_master WHERE type = 'table' AND name = $1", a, 1, &n);
    *out = rc == AT_OK && n > 0;
    return rc;
}

static int sqlite_check_durability(store_conn *base, char err[512])
{
    (void)base;
    err[0] = '\0';
    return AT_OK;
}

/* sqlite_backup copies the whole database to path (created or overwritten) with the online backup API,
 * in one step, so the copy is a consistent snapshot. */
static int sqlite_backup(store_conn *base, const char *path, char err[512])
{
    sqlite_conn *c = (sqlite_conn *)base;
    sqlite3 *dst = NULL;
    int status = AT_OK;
    int rc = sqlite3_open_v2(path, &dst, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_NOMUTEX, NULL);
    if (rc != SQLITE_OK) {
        store_err_set(err, "cannot open backup file %s: %s", path, dst ? sqlite3_errmsg(dst) : sqlite3_errstr(rc));
        status = AT_EINVAL;
        goto close_dst;
    }
    sqlite3_backup *b = sqlite3_backup_init(dst, "main", c->db, "main");
    if (!b) {
        store_err_set(err, "cannot start backup to %s: %s", path, sqlite3_errmsg(dst));
        status = AT_ESTORE;
        goto close_dst;
    }
    rc = sqlite3_backup_step(b, -1);
    sqlite3_backup_finish(b);
    if (rc != SQLITE_DONE) {
        store_err_set(err, "backup to %s failed: %s", path, sqlite3_errstr(rc));
        status = sqlite_status(rc);
    }
close_dst:
    sqlite3_close_v2(dst);
    return status;
}

static int sqlite_cached_statements(store_conn *base)
{
    return (int)((sqlite_conn *)base)->cache.count;
}

/* ------------------------------------------------------------------------------------------------ */
/* Helpers                                                                                          */
/* ------------------------------------------------------------------------------------------------ */

/* sqlite_status maps an extended result code to a shared status (store.h). */
static int sqlite_status(int ext)
{
    switch (ext) {
    case SQLITE_CONSTRAINT_UNIQUE:
    case SQLITE_CONSTRAINT_PRIMARYKEY:
        return AT_ECONFLICT;
    case SQLITE_CONSTRAINT_FOREIGNKEY:
    case SQLITE_CONSTRAINT_CHECK:
    case SQLITE_CONSTRAINT_NOTNULL:
    case SQLITE_CONSTRAINT_DATATYPE:
        return AT_ECONSTRAINT;
    default:
        break;
    }
    if ((ext & 0xff) == SQLITE_BUSY || (ext & 0xff) == SQLITE_LOCKED)
        return AT_EBUSY;
    if ((ext & 0xff) == SQLITE_FULL)
        return AT_ENOSPACE;
    return AT_ESTORE;
}

/* sqlite_fail maps the connection's last error and logs SQLite's message with the SQL text (never the
 * parameter values). Expected outcomes (conflicts, busy) log at debug level. */
static int sqlite_fail(sqlite_conn *c, const char *sql)
{
    int ext = sqlite3_extended_errcode(c->db);
    int status = sqlite_status(ext);
    if (status == AT_ENOSPACE)
        c->full = true;
    json_t *f = json_pack("{s:i, s:s, s:s}", "code", ext, "error", sqlite3_errmsg(c->db), "sql", sql ? sql : "");
    log_event(status == AT_ESTORE || status == AT_ENOSPACE ? LOG_ERROR : LOG_DEBUG, "sqlite error", f);
    return status;
}

/* sqlite_make_parent creates the folders above path (mode 0700) when they are missing. */
static int sqlite_make_parent(const char *path, char err[512])
{
    char *dir = xstrdup(path);
    int status = AT_OK;
    char *slash = strrchr(dir, '/');
    if (!slash || slash == dir)
        goto done;
    *slash = '\0';
    for (char *p = dir + 1;; p++) {
        bool last = *p == '\0';
        if (*p != '/' && !last)
            continue;
        *p = '\0';
        if (mkdir(dir, 0700) != 0 && errno != EEXIST) {
            store_err_set(err, "cannot create folder %s: %s", dir, strerror(errno));
            status = AT_EUNAVAIL;
            goto done;
        }
        if (last)
            break;
        *p = '/';
    }
done:
    free(dir);
    return status;
}

/* sqlite_lock_clause returns the length of `FOR UPDATE|SHARE [SKIP LOCKED|NOWAIT]` at p, or 0. */
static size_t sqlite_lock_clause(const char *p)
{
    const char *q = p + 3;
    while (isspace((unsigned char)*q))
        q++;
    if (store_sql_word_at(q, "UPDATE"))
        q += 6;
    else if (store_sql_word_at(q, "SHARE"))
        q += 5;
    else
        return 0;
    const char *r = q;
    while (isspace((unsigned char)*r))
        r++;
    if (store_sql_word_at(r, "NOWAIT")) {
        q = r + 6;
    } else if (store_sql_word_at(r, "SKIP")) {
        r += 4;
        while (isspace((unsigned char)*r))
            r++;
        if (store_sql_word_at(r, "LOCKED"))
            q = r + 6;
    }
    return (size_t)(q - p);
}

void store_sqlite_rewrite(const char *sql, buf *out)
{
    const char *p = sql;
    char prev = ' ';
    while (*p) {
        size_t n = store_sql_skip_quoted(p);
        if (n) {
            buf_append(out, p, n);
            p += n;
            prev = p[-1];
            continue;
        }
        if (store_sql_ident_char(prev)) {
            buf_putc(out, *p);
            prev = *p++;
            continue;
        }
        if (*p == '$' && isdigit((unsigned char)p[1])) {
            buf_putc(out, '?');
            for (p++; isdigit((unsigned char)*p); p++)
                buf_putc(out, *p);
            prev = p[-1];
            continue;
        }
        if (store_sql_word_at(p, "FOR") && (n = sqlite_lock_clause(p)) > 0) {
            p += n;
            continue;
        }
        buf_putc(out, *p);
        prev = *p++;
    }
    if (!out->data)
        buf_append(out, "", 0);
}

const struct store_ops store_sqlite_ops = {
    .kind = STORE_SQLITE,
    .name = "sqlite",
    .connect = sqlite_connect,
    .disconnect = sqlite_disconnect,
    .revive = sqlite_revive,
    .begin = sqlite_begin,
    .commit = sqlite_commit,
    .rollback = sqlite_rollback,
    .exec = sqlite_exec,
    .query = sqlite_query,
    .rows_next = sqlite_rows_next,
    .rows_text = sqlite_rows_text,
    .rows_int = sqlite_rows_int,
    .rows_is_null = sqlite_rows_is_null,
    .rows_free = sqlite_rows_free,
    .exec_script = sqlite_exec_script,
    .migration_lock = sqlite_migration_lock,
    .has_table = sqlite_has_table,
    .check_durability = sqlite_check_durability,
    .backup = sqlite_backup,
    .cached_statements = sqlite_cached_statements,
    .cap_pages = sqlite_cap_pages,
};
