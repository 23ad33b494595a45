/* The one storage interface (DESIGN.md §4). Two backends implement it: SQLite (sqlite.c, the default)
 * and PostgreSQL (pg.c). Domain code writes SQL once, in the common dialect below, and never knows
 * which backend runs it.
 *
 * The common dialect:
 *   - parameters are $1, $2 ... (the SQLite backend rewrites them to ?1, ?2 outside quoted text, since
 *     SQLite numbers `$N` by first appearance; c-stack.md §6);
 *   - row locks are written PostgreSQL's way (`FOR UPDATE`, `FOR UPDATE SKIP LOCKED`); the SQLite
 *     backend drops these clauses, because its writers are already serialised by BEGIN IMMEDIATE;
 *   - `RETURNING`, `ON CONFLICT ... DO UPDATE/NOTHING`, `LIMIT/OFFSET` and `COALESCE` as both support;
 *   - values are TEXT or 64-bit INTEGER (times are microseconds since the epoch; booleans 0/1; JSON is
 *     TEXT); there is no BLOB.
 * Migrations (schema/NNNN_name.sql) are written in SQLite's STRICT dialect; the PostgreSQL backend
 * maps the column type INTEGER to BIGINT and drops the STRICT table option. Nothing else differs.
 *
 * Connections come from a pool (store_acquire/store_release); a connection is used by one thread at a
 * time. Errors map to the shared status codes: unique violation -> AT_ECONFLICT, foreign key or check
 * violation -> AT_ECONSTRAINT, busy/locked/serialization failure/deadlock -> AT_EBUSY (store_tx
 * retries those), a full disk or database (SQLITE_FULL, SQLSTATE 53100) -> AT_ENOSPACE, anything else
 * -> AT_ESTORE; an unreachable server -> AT_EUNAVAIL. After a SQLite write fails for space, the
 * connection checkpoints the WAL with TRUNCATE (and the WAL is kept under journal_size_limit), so
 * writes resume by themselves once space is freed. */
#ifndef AT_STORE_H
#define AT_STORE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

typedef struct store store;
typedef struct store_conn store_conn;
typedef struct store_rows store_rows;

enum store_kind { STORE_SQLITE = 1, STORE_PG = 2 };

enum store_arg_type { SA_NULL = 0, SA_TEXT = 1, SA_INT = 2 };

/* One bound parameter. Text is borrowed (pointer and length) until the call returns. */
typedef struct store_arg {
    int type;
    const char *text;
    size_t len;
    int64_t i;
} store_arg;

static inline store_arg sa_null(void)
{
    store_arg a = {SA_NULL, NULL, 0, 0};
    return a;
}
/* sa_text of NULL binds SQL NULL. */
static inline store_arg sa_text(const char *s)
{
    store_arg a = {s ? SA_TEXT : SA_NULL, s, s ? strlen(s) : 0, 0};
    return a;
}
static inline store_arg sa_textn(const char *s, size_t len)
{
    store_arg a = {SA_TEXT, s, len, 0};
    return a;
}
static inline store_arg sa_int(int64_t v)
{
    store_arg a = {SA_INT, NULL, 0, v};
    return a;
}

/* Statistics for /metrics. */
typedef struct store_stats {
    int pool_size;
    int in_use;
    uint64_t acquire_waits; /* acquisitions that had to wait for a free connection */
    uint64_t queries;       /* statements executed */
    uint64_t errors;        /* statements that failed (busy included) */
    uint64_t busy_retries;  /* transactions retried by store_tx */
} store_stats;

/* store_open parses url ("sqlite:PATH" or "postgres://..."), opens `pool_size` connections lazily or
 * eagerly (at least one is opened to prove the store reachable), and returns a store the caller
 * releases with store_close. On failure returns AT_EUNAVAIL or AT_EINVAL with a message in err. */
int store_open(const char *url, int pool_size, store **out, char err[512]);
void store_close(store *s);
int store_kind(const store *s);
void store_get_stats(store *s, store_stats *out);

/* store_acquire blocks until a pooled connection is free. It reconnects a broken PostgreSQL
 * connection; returns AT_OK or AT_EUNAVAIL. Every acquire is paired with store_release. */
int store_acquire(store *s, store_conn **out);
void store_release(store_conn *c);

/* Transactions on an acquired connection. store_begin(c, true) takes the write lock up front
 * (SQLite BEGIN IMMEDIATE); PostgreSQL runs READ COMMITTED and relies on row locks in the SQL. */
int store_begin(store_conn *c, bool write);
int store_commit(store_conn *c);
int store_rollback(store_conn *c); /* safe to call when no transaction is open */
/* store_tx_open_count is the number of transactions the calling thread has open (any store). */
int store_tx_open_count(void);

/* store_exec runs a statement that returns no rows; *changes_out (optional) gets the rows changed. */
int store_exec(store_conn *c, const char *sql, const store_arg *args, size_t nargs, int64_t *changes_out);
/* store_query runs a statement and returns a cursor the caller frees with store_rows_free. Statements
 * are prepared once per connection and reused (keyed by SQL text). Open at most one cursor per SQL
 * text per connection at a time. */
int store_query(store_conn *c, const char *sql, const store_arg *args, size_t nargs, store_rows **out);
/* store_rows_next moves to the next row: returns 1 on a row, 0 at the end, a negative status on error. */
int store_rows_next(store_rows *r);
/* Column accessors for the current row. Text is NULL for SQL NULL and stays valid until the next
 * store_rows_next or store_rows_free. */
const char *store_rows_text(store_rows *r, int col);
int64_t store_rows_int(store_rows *r, int col);
bool store_rows_is_null(store_rows *r, int col);
void store_rows_free(store_rows *r);

/* store_query_int runs a query and returns the first column of its first row as an integer, or
 * AT_ENOTFOUND when there is no row. */
int store_query_int(store_conn *c, const char *sql, const store_arg *args, size_t nargs, int64_t *out);

/* store_query_one runs a query that returns at most one row and hands that row to `read`, which
 * builds the caller's result from it (ctx is the caller's). Returns AT_OK, AT_ENOTFOUND when there is
 * no row, or a store error. */
typedef void (*store_row_fn)(store_rows *r, void *ctx);
int store_query_one(store_conn *c, const char *sql, const store_arg *args, size_t nargs, store_row_fn read, void *ctx);

/* store_like_contains writes into out (cap bytes) a LIKE pattern that matches text containing q
 * literally, for SQL that says `LIKE $n ESCAPE '!'`: ASCII is lower-cased, and %, _ and ! escaped. */
void store_like_contains(const char *q, char *out, size_t cap);

/* store_tx acquires a connection, begins, runs fn, and commits when fn returns AT_OK (rolls back
 * otherwise). When fn or the commit returns AT_EBUSY the whole transaction is retried, up to 20 times
 * with a short growing sleep. fn must therefore have no effect outside the transaction. Returns fn's
 * status (or the commit's). */
typedef int (*store_tx_fn)(store_conn *c, void *ctx);
int store_tx(store *s, bool write, store_tx_fn fn, void *ctx);

/* store_set_commit_hook installs fn for the calling thread (NULL removes it): every write transaction
 * the thread commits from then on runs fn(c, ctx) inside the transaction, just before COMMIT. A non-OK
 * status from fn rolls the transaction back and is what store_commit (and store_tx) return. The
 * idempotency records (idem/idem.h) use it to commit with the effect they guard. ctx is borrowed. */
typedef int (*store_commit_hook_fn)(store_conn *c, void *ctx);
void store_set_commit_hook(store_commit_hook_fn fn, void *ctx);

/* store_cap_pages (SQLite; tests) caps the database at its current size with PRAGMA max_page_count,
 * applied to every pooled connection before its next use, so that writes needing a new page fail as
 * on a full disk; cap=false lifts the cap. PostgreSQL returns AT_EINVAL. */
int store_cap_pages(store *s, bool cap);

/* store_ping checks that the store answers (for /readyz). */
int store_ping(store *s);

/* Migrations (migrate.c). store_migrate applies every embedded migration newer than the database, each
 * in its own transaction, recording it in schema_migrations; several processes may race safely.
 * It refuses (AT_ECONFLICT, message in err) when the database is newer than the binary. */
int store_migrate(store *s, char err[512]);
/* store_schema_version reports the database's version and the newest one this binary knows. */
int store_schema_version(store *s, int *db_version_out, int *binary_version_out);
/* store_migrate_to applies the embedded migrations up to and including `version` (one this binary
 * knows; AT_EINVAL with a message otherwise), to build or rehearse an earlier schema. */
int store_migrate_to(store *s, int version, char err[512]);

/* One embedded migration and when the database applied it (applied_at 0: pending). */
typedef struct store_migration_state {
    int version;
    const char *name; /* borrowed from the embedded list */
    int64_t applied_at;
} store_migration_state;
/* store_migration_status returns a new array (the caller frees it) of one row per embedded migration,
 * in order. Returns AT_OK or a store status. */
int store_migration_status(store *s, store_migration_state **rows_out, int *count_out);
/* store_table_exists reports whether the database has a table of that name (in the current schema). */
int store_table_exists(store *s, const char *name, bool *out);

/* store_check_durability (PostgreSQL only; SQLite returns AT_OK) returns AT_EINVAL with a message
 * when fsync, synchronous_commit or full_page_writes is off. */
int store_check_durability(store *s, char err[512]);

/* store_backup copies a SQLite database to `path` with the online backup API; on PostgreSQL it
 * returns AT_EINVAL with advice to use pg_dump. */
int store_backup(store *s, const char *path, char err[512]);

#endif
