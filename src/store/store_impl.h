/* Private to src/store: the backend vtable, the structs store.c shares with sqlite.c and pg.c, and a few
 * internal helpers the unit tests reach. Nothing outside src/store (and tests/unit/store) includes it.
 *
 * A backend connection embeds `struct store_conn` as its first member and a backend cursor embeds
 * `struct store_rows` (c-stack.md §5 rule 13); store.c casts through them and never sees the rest. */
#ifndef AT_STORE_IMPL_H
#define AT_STORE_IMPL_H

#include "base/buf.h"
#include "store/migrations.h"
#include "store/store.h"

#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct store_ops;

struct store_conn {
    store *owner;
    bool in_tx;            /* between a successful store_begin and commit/rollback */
    bool tx_write;         /* the open transaction was begun for writing (runs the commit hook) */
    bool tx_failed;        /* a statement failed inside the transaction: only rollback is allowed (as PG does) */
    bool broken;           /* the backend lost the connection; store_acquire revives it */
    store_conn *next_free; /* pool free list, guarded by store.mu */
};

struct store_rows {
    store_conn *conn;
};

/* What each backend provides. Every function gets a connection that one thread holds; store.c has
 * already checked the transaction state, counts statements and errors, and logs nothing itself:
 * backends log their own errors (message and SQL text, never parameter values). */
struct store_ops {
    int kind;
    const char *name;
    /* connect opens one connection to s->target; AT_OK or AT_EUNAVAIL with a message in err. */
    int (*connect)(store *s, store_conn **out, char err[512]);
    void (*disconnect)(store_conn *c);
    /* revive (optional) makes a connection usable again after a failure; called on every acquire. */
    int (*revive)(store_conn *c);
    int (*begin)(store_conn *c, bool write);
    int (*commit)(store_conn *c);
    int (*rollback)(store_conn *c);
    int (*exec)(store_conn *c, const char *sql, const store_arg *args, size_t nargs, int64_t *changes_out);
    int (*query)(store_conn *c, const char *sql, const store_arg *args, size_t nargs, store_rows **out);
    int (*rows_next)(store_rows *r);
    const char *(*rows_text)(store_rows *r, int col);
    int64_t (*rows_int)(store_rows *r, int col);
    bool (*rows_is_null)(store_rows *r, int col);
    void (*rows_free)(store_rows *r);
    /* exec_script runs several statements of migration SQL (SQLite STRICT dialect; the backend
     * translates); AT_OK or a status with a message in err. */
    int (*exec_script)(store_conn *c, const char *sql, char err[512]);
    /* migration_lock serialises migrators inside the current write transaction. */
    int (*migration_lock)(store_conn *c);
    int (*has_table)(store_conn *c, const char *name, bool *out);
    int (*check_durability)(store_conn *c, char err[512]);
    int (*backup)(store_conn *c, const char *path, char err[512]);
    /* cached_statements reports how many prepared statements the connection keeps (tests). */
    int (*cached_statements)(store_conn *c);
    /* cap_pages (optional) records the page cap of store_cap_pages, read on c; connections apply it
     * at their next acquire (revive). */
    int (*cap_pages)(store_conn *c, bool cap);
};

struct store {
    const struct store_ops *ops;
    char *target; /* SQLite file path or libpq connection URL; owned */
    int pool_size;

    pthread_mutex_t mu;
    pthread_cond_t cv;
    store_conn *free_list; /* guarded by mu */
    int opened;            /* connections opened or being opened; guarded by mu */
    int in_use;            /* guarded by mu */

    atomic_uint_least64_t acquire_waits;
    atomic_uint_least64_t queries;
    atomic_uint_least64_t errors;
    atomic_uint_least64_t busy_retries;

    atomic_int_least64_t page_cap;  /* store_cap_pages: pages, or 0 for none */
    atomic_uint page_cap_version;   /* bumped by each store_cap_pages */
};

extern const struct store_ops store_sqlite_ops;
extern const struct store_ops store_pg_ops;

/* ---- The per-connection statement cache (store.c), shared by both backends. ----
 * Keyed by SQL text; an entry embeds store_cache_entry as its first member and belongs to the backend,
 * which frees entries itself (store_cache_free only releases the table). Bounded: when
 * STORE_CACHE_MAX entries exist, store_cache_insert refuses and the backend runs the statement
 * uncached. */
enum { STORE_CACHE_MAX = 512 };

typedef struct store_cache_entry {
    char *sql; /* owned copy of the key */
    size_t len;
    uint64_t hash;
    bool busy; /* a cursor is open on the entry's embedded rows */
} store_cache_entry;

typedef struct store_cache {
    store_cache_entry **slots; /* open addressing, power-of-two size */
    size_t nslots;
    size_t count;
} store_cache;

uint64_t store_cache_hash(const char *sql, size_t len);
void store_cache_init(store_cache *c);
void store_cache_free(store_cache *c);
store_cache_entry *store_cache_find(const store_cache *c, const char *sql, size_t len, uint64_t hash);
/* store_cache_insert fills e->sql (a copy), len and hash and adds e; false when the cache is full. */
bool store_cache_insert(store_cache *c, store_cache_entry *e, const char *sql, size_t len, uint64_t hash);
/* store_cache_at walks the table: returns slot i's entry or NULL; i < c->nslots. */
store_cache_entry *store_cache_at(const store_cache *c, size_t i);
/* store_cache_clear empties the table (the backend has freed or will free the entries). */
void store_cache_clear(store_cache *c);

/* store_sql_skip_quoted returns the length of the quoted string ('...', "...", `...`) or comment
 * (-- to end of line, / * ... * /) starting at p, or 0 when none starts there. */
size_t store_sql_skip_quoted(const char *p);
/* store_sql_word_at reports whether the case-insensitive word w is at p and ends there. */
bool store_sql_word_at(const char *p, const char *w);
bool store_sql_ident_char(char ch);

/* store_sqlite_rewrite turns common-dialect SQL into SQLite SQL: $N -> ?N outside quoted text and
 * comments, `FOR UPDATE|SHARE [SKIP LOCKED|NOWAIT]` dropped. Appends to out. */
void store_sqlite_rewrite(const char *sql, buf *out);
/* store_pg_translate_ddl turns migration SQL into PostgreSQL SQL: the word INTEGER -> BIGINT and the
 * STRICT table option dropped, outside quoted text. Appends to out. */
void store_pg_translate_ddl(const char *sql, buf *out);

/* store_err_set formats a driver or setup message into err (the err[512] of the store API), cut at a
 * UTF-8 character boundary when it is longer, so a path or a driver's text in another language never
 * leaves a broken character that jansson would refuse when the message is logged. */
void store_err_set(char err[512], const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* store_migrate_list is store_migrate over an explicit list (tests pass their own). */
int store_migrate_list(store *s, const store_migration *list, int count, char err[512]);

/* store_conn_cached_statements reports the size of c's statement cache (tests). */
int store_conn_cached_statements(store_conn *c);

#endif
