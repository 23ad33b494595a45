/* The backend-independent part of the store: URL dispatch, the connection pool, statistics, the
 * transaction state every backend shares, store_tx with its busy retry, and the statement-cache and
 * SQL-lexing helpers both backends use. */
#include "store/store.h"

#include "base/clock.h"
#include "base/crypto.h"
#include "base/err.h"
#include "base/log.h"
#include "base/mem.h"
#include "base/text.h"
#include "store/store_impl.h"

#include <assert.h>
#include <ctype.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

enum { STORE_TX_TRIES = 20 };

static int store_parse_url(const char *url, const struct store_ops **ops_out, char **target_out, char err[512]);
static int store_pool_get(store *s, store_conn **out, char err[512]);
static void store_pool_put(store *s, store_conn *c);
static int store_note(store_conn *c, int rc);
static int store_check_args(const store_conn *c, const store_arg *args, size_t nargs);
static void store_backoff_sleep(int attempt);
static int store_commit_hook_run(store_conn *c);
static void store_cache_place(store_cache_entry **slots, size_t nslots, store_cache_entry *e);

/* ------------------------------------------------------------------------------------------------ */
/* Opening and closing                                                                              */
/* ------------------------------------------------------------------------------------------------ */

/* store_open parses url, builds the pool and opens one connection eagerly so that an unreachable or
 * unopenable store fails here. On success *out is a new store the caller releases with store_close;
 * on failure *out is untouched and err holds a message (never the URL itself: it may hold a password). */
int store_open(const char *url, int pool_size, store **out, char err[512])
{
    const struct store_ops *ops = NULL;
    char *target = NULL;
    err[0] = '\0';
    int rc = store_parse_url(url ? url : "", &ops, &target, err);
    if (rc != AT_OK)
        return rc;

    store *s = xcalloc(1, sizeof *s);
    s->ops = ops;
    s->target = target;
    s->pool_size = pool_size < 1 ? 1 : pool_size;
    /* An in-memory SQLite database exists once per connection, so a pool would split it. */
    if (ops->kind == STORE_SQLITE && strcmp(target, ":memory:") == 0)
        s->pool_size = 1;
    pthread_mutex_init(&s->mu, NULL);
    pthread_cond_init(&s->cv, NULL);

    store_conn *c = NULL;
    rc = store_pool_get(s, &c, err);
    if (rc != AT_OK) {
        store_close(s);
        return rc;
    }
    store_release(c);
    *out = s;
    return AT_OK;
}

/* store_close disconnects every pooled connection and frees s. Connections still acquired are a bug
 * of the caller; they are reported and leak. NULL is allowed. */
void store_close(store *s)
{
    if (!s)
        return;
    pthread_mutex_lock(&s->mu);
    if (s->in_use > 0)
        log_msg(LOG_ERROR, "store_close: %d connection(s) still acquired", s->in_use);
    for (store_conn *c = s->free_list; c;) {
        store_conn *next = c->next_free;
        s->ops->disconnect(c);
        c = next;
    }
    s->free_list = NULL;
    pthread_mutex_unlock(&s->mu);
    pthread_mutex_destroy(&s->mu);
    pthread_cond_destroy(&s->cv);
    free(s->target);
    free(s);
}

int store_kind(const store *s)
{
    return s->ops->kind;
}

void store_get_stats(store *s, store_stats *out)
{
    memset(out, 0, sizeof *out);
    pthread_mutex_lock(&s->mu);
    out->pool_size = s->pool_size;
    out->in_use = s->in_use;
    pthread_mutex_unlock(&s->mu);
    out->acquire_waits = atomic_load(&s->acquire_waits);
    out->queries = atomic_load(&s->queries);
    out->errors = atomic_load(&s->errors);
    out->busy_retries = atomic_load(&s->busy_retries);
}

/* ------------------------------------------------------------------------------------------------ */
/* The pool                                                                                         */
/* ------------------------------------------------------------------------------------------------ */

int store_acquire(store *s, store_conn **out)
{
    char err[512];
    int rc = store_pool_get(s, out, err);
    if (rc != AT_OK) {
        json_t *f = json_pack("{s:s, s:s}", "backend", s->ops->name, "error", err);
        log_event(LOG_ERROR, "store connection unavailable", f);
    }
    return rc;
}

/* store_release returns c to its pool. A transaction the holder left open is rolled back first, so
 * the next holder starts clean. */
void store_release(store_conn *c)
{
    if (!c)
        return;
    if (c->in_tx) {
        log_msg(LOG_WARN, "store_release: transaction left open; rolling back");
        store_rollback(c);
    }
    store_pool_put(c->owner, c);
}

/* store_pool_get hands out a free connection, opens a new one while the pool is below its size, or
 * waits for a release. A connection is opened and revived outside the lock (that may take a network
 * round trip). Returns AT_OK, or AT_EUNAVAIL with a message in err; on failure the slot or the broken
 * connection goes back to the pool. */
static int store_pool_get(store *s, store_conn **out, char err[512])
{
    store_conn *c = NULL;
    err[0] = '\0';
    pthread_mutex_lock(&s->mu);
    if (!s->free_list && s->opened >= s->pool_size) {
        atomic_fetch_add(&s->acquire_waits, 1);
        while (!s->free_list && s->opened >= s->pool_size)
            pthread_cond_wait(&s->cv, &s->mu);
    }
    if (s->free_list) {
        c = s->free_list;
        s->free_list = c->next_free;
        c->next_free = NULL;
    } else {
        s->opened++;
    }
    s->in_use++;
    pthread_mutex_unlock(&s->mu);

    if (!c) {
        int rc = s->ops->connect(s, &c, err);
        pthread_mutex_lock(&s->mu);
        if (rc != AT_OK) {
            s->opened--;
            s->in_use--;
            pthread_cond_signal(&s->cv);
        }
        pthread_mutex_unlock(&s->mu);
        if (rc != AT_OK)
            return rc;
        c->owner = s;
    } else if (s->ops->revive && s->ops->revive(c) != AT_OK) {
        store_err_set(err, "%s connection lost and could not be re-established", s->ops->name);
        store_pool_put(s, c);
        return AT_EUNAVAIL;
    }
    *out = c;
    return AT_OK;
}

static void store_pool_put(store *s, store_conn *c)
{
    pthread_mutex_lock(&s->mu);
    assert(s->in_use > 0);
    c->next_free = s->free_list;
    s->free_list = c;
    s->in_use--;
    pthread_cond_signal(&s->cv);
    pthread_mutex_unlock(&s->mu);
}

/* ------------------------------------------------------------------------------------------------ */
/* Transactions and statements                                                                      */
/* ------------------------------------------------------------------------------------------------ */

/* Transactions this thread has open, on any store and backend. Kept here, in the begin/commit/
 * rollback paths both backends share, so that code which must never run inside a transaction (an
 * Argon2 hash: issue 12, item 5) can assert it. */
static _Thread_local int store_tx_open;

int store_tx_open_count(void)
{
    return store_tx_open;
}

int store_begin(store_conn *c, bool write)
{
    if (c->in_tx) {
        log_msg(LOG_ERROR, "store_begin: a transaction is already open");
        return AT_EINTERNAL;
    }
    int rc = c->owner->ops->begin(c, write);
    if (rc == AT_OK) {
        c->in_tx = true;
        c->tx_failed = false;
        c->tx_write = write;
        store_tx_open++;
    }
    return rc;
}

/* store_commit commits the open transaction. A transaction in which a statement failed is rolled
 * back instead and AT_ESTORE returned: PostgreSQL refuses to commit it, and SQLite is made to behave
 * the same so that code tested on one backend behaves alike on the other. */
int store_commit(store_conn *c)
{
    if (!c->in_tx) {
        log_msg(LOG_ERROR, "store_commit: no transaction is open");
        return AT_EINTERNAL;
    }
    if (c->tx_failed) {
        log_msg(LOG_WARN, "store_commit: a statement failed in this transaction; rolled back");
        store_rollback(c);
        return AT_ESTORE;
    }
    int hook = c->tx_write ? store_commit_hook_run(c) : AT_OK;
    if (hook != AT_OK) {
        store_rollback(c);
        return hook;
    }
    int rc = store_note(c, c->owner->ops->commit(c));
    if (rc == AT_OK) {
        c->in_tx = false;
        store_tx_open--;
    }
    return rc;
}

int store_rollback(store_conn *c)
{
    int rc = c->owner->ops->rollback(c);
    if (c->in_tx)
        store_tx_open--;
    c->in_tx = false;
    c->tx_failed = false;
    return rc;
}

int store_exec(store_conn *c, const char *sql, const store_arg *args, size_t nargs, int64_t *changes_out)
{
    if (changes_out)
        *changes_out = 0;
    int rc = store_check_args(c, args, nargs);
    if (rc == AT_OK)
        rc = c->owner->ops->exec(c, sql, args, nargs, changes_out);
    return store_note(c, rc);
}

int store_query(store_conn *c, const char *sql, const store_arg *args, size_t nargs, store_rows **out)
{
    *out = NULL;
    int rc = store_check_args(c, args, nargs);
    if (rc == AT_OK)
        rc = c->owner->ops->query(c, sql, args, nargs, out);
    return store_note(c, rc);
}

int store_rows_next(store_rows *r)
{
    int rc = r->conn->owner->ops->rows_next(r);
    if (rc < 0)
        store_note(r->conn, rc);
    return rc;
}

const char *store_rows_text(store_rows *r, int col)
{
    return r->conn->owner->ops->rows_text(r, col);
}

int64_t store_rows_int(store_rows *r, int col)
{
    return r->conn->owner->ops->rows_int(r, col);
}

bool store_rows_is_null(store_rows *r, int col)
{
    return r->conn->owner->ops->rows_is_null(r, col);
}

void store_rows_free(store_rows *r)
{
    if (r)
        r->conn->owner->ops->rows_free(r);
}

/* store_query_int returns the first column of the first row in *out. A missing row and a NULL value
 * both give AT_ENOTFOUND (so `SELECT MAX(x)` over no rows reads as "not found"). */
int store_query_int(store_conn *c, const char *sql, const store_arg *args, size_t nargs, int64_t *out)
{
    store_rows *r = NULL;
    int rc = store_query(c, sql, args, nargs, &r);
    if (rc != AT_OK)
        return rc;
    int step = store_rows_next(r);
    if (step < 0) {
        rc = step;
    } else if (step == 0 || store_rows_is_null(r, 0)) {
        rc = AT_ENOTFOUND;
    } else {
        *out = store_rows_int(r, 0);
    }
    store_rows_free(r);
    return rc;
}

/* store_tx runs fn inside a transaction on a pooled connection and retries the whole transaction when
 * it reports AT_EBUSY, sleeping a little longer each time. The connection is held across retries.
 * fn must not call store_tx or store_acquire itself (it could wait forever for a pool slot). */
int store_tx(store *s, bool write, store_tx_fn fn, void *ctx)
{
    store_conn *c = NULL;
    int rc = store_acquire(s, &c);
    if (rc != AT_OK)
        return rc;
    for (int attempt = 0;; attempt++) {
        rc = store_begin(c, write);
        /* A pooled PostgreSQL connection finds out at its first statement that the server restarted;
         * nothing has run yet, so reconnect and begin once more. */
        if (rc == AT_EUNAVAIL && c->broken && s->ops->revive && s->ops->revive(c) == AT_OK)
            rc = store_begin(c, write);
        if (rc == AT_OK) {
            rc = fn(c, ctx);
            if (rc == AT_OK)
                rc = store_commit(c);
        }
        if (c->in_tx)
            store_rollback(c);
        if (rc != AT_EBUSY || attempt + 1 >= STORE_TX_TRIES)
            break;
        atomic_fetch_add(&s->busy_retries, 1);
        store_backoff_sleep(attempt);
    }
    store_release(c);
    return rc;
}

/* store_ping runs SELECT 1 on a pooled connection: AT_OK, or AT_EUNAVAIL when the store does not answer. */
int store_ping(store *s)
{
    store_conn *c = NULL;
    int rc = store_acquire(s, &c);
    if (rc != AT_OK)
        return rc;
    int64_t one = 0;
    rc = store_query_int(c, "SELECT 1", NULL, 0, &one);
    /* An idle PostgreSQL connection learns of a server restart only now; one reconnect is fair. */
    if (rc == AT_EUNAVAIL && c->broken && s->ops->revive && s->ops->revive(c) == AT_OK)
        rc = store_query_int(c, "SELECT 1", NULL, 0, &one);
    store_release(c);
    return rc == AT_OK && one == 1 ? AT_OK : AT_EUNAVAIL;
}

int store_check_durability(store *s, char err[512])
{
    err[0] = '\0';
    store_conn *c = NULL;
    int rc = store_acquire(s, &c);
    if (rc != AT_OK) {
        store_err_set(err, "the store is unavailable");
        return rc;
    }
    rc = s->ops->check_durability(c, err);
    store_release(c);
    return rc;
}

int store_backup(store *s, const char *path, char err[512])
{
    err[0] = '\0';
    store_conn *c = NULL;
    int rc = store_acquire(s, &c);
    if (rc != AT_OK) {
        store_err_set(err, "the store is unavailable");
        return rc;
    }
    rc = s->ops->backup(c, path, err);
    store_release(c);
    return rc;
}

int store_cap_pages(store *s, bool cap)
{
    if (!s->ops->cap_pages)
        return AT_EINVAL;
    store_conn *c = NULL;
    int rc = store_acquire(s, &c);
    if (rc != AT_OK)
        return rc;
    rc = s->ops->cap_pages(c, cap);
    store_release(c);
    return rc;
}

int store_conn_cached_statements(store_conn *c)
{
    return c->owner->ops->cached_statements(c);
}

/* ------------------------------------------------------------------------------------------------ */
/* Helpers                                                                                          */
/* ------------------------------------------------------------------------------------------------ */

/* store_parse_url recognises "sqlite:PATH" (also "sqlite://PATH") and "postgres[ql]://...". On success
 * *target_out is a new string the caller owns. */
static int store_parse_url(const char *url, const struct store_ops **ops_out, char **target_out, char err[512])
{
    if (strncmp(url, "sqlite:", 7) == 0) {
        const char *path = url + 7;
        if (strncmp(path, "//", 2) == 0)
            path += 2;
        if (!*path) {
            store_err_set(err, "store URL sqlite: needs a file path (sqlite:PATH)");
            return AT_EINVAL;
        }
        *ops_out = &store_sqlite_ops;
        *target_out = xstrdup(path);
        return AT_OK;
    }
    if (strncmp(url, "postgres://", 11) == 0 || strncmp(url, "postgresql://", 13) == 0) {
        *ops_out = &store_pg_ops;
        *target_out = xstrdup(url);
        return AT_OK;
    }
    store_err_set(err, "unsupported store URL (expected sqlite:PATH or postgres://...)");
    return AT_EINVAL;
}

/* store_note counts a statement and its failure, and marks the open transaction failed on any error
 * (busy included: PostgreSQL aborts the transaction on a serialization failure too). */
static int store_note(store_conn *c, int rc)
{
    store *s = c->owner;
    atomic_fetch_add_explicit(&s->queries, 1, memory_order_relaxed);
    if (rc < 0) {
        atomic_fetch_add_explicit(&s->errors, 1, memory_order_relaxed);
        if (c->in_tx)
            c->tx_failed = true;
    }
    return rc;
}

/* store_check_args refuses a statement in a transaction that already failed (PostgreSQL would, so
 * SQLite does too) and a text parameter holding NUL (PostgreSQL would cut it short, SQLite keep it). */
static int store_check_args(const store_conn *c, const store_arg *args, size_t nargs)
{
    if (c->in_tx && c->tx_failed) {
        log_msg(LOG_WARN, "store: statement refused; an earlier statement failed in this transaction");
        return AT_ESTORE;
    }
    for (size_t i = 0; i < nargs; i++)
        if (args[i].type == SA_TEXT && memchr(args[i].text, '\0', args[i].len))
            return AT_EINVAL;
    return AT_OK;
}

/* The calling thread's commit hook (store_set_commit_hook). */
static _Thread_local store_commit_hook_fn store_hook_fn;
static _Thread_local void *store_hook_ctx;

void store_set_commit_hook(store_commit_hook_fn fn, void *ctx)
{
    store_hook_fn = fn;
    store_hook_ctx = fn ? ctx : NULL;
}

/* Runs the thread's commit hook, if any, inside c's open transaction; store_commit rolls back when it
 * fails. */
static int store_commit_hook_run(store_conn *c)
{
    return store_hook_fn ? store_hook_fn(c, store_hook_ctx) : AT_OK;
}

/* Sleeps about 2 ms * (attempt + 1), capped at 50 ms, plus up to 50 % jitter so that retrying
 * writers do not collide again in step. */
static void store_backoff_sleep(int attempt)
{
    long base_us = 2000L * (attempt + 1);
    if (base_us > 50000)
        base_us = 50000;
    uint32_t r = 0;
    crypto_random(&r, sizeof r);
    long us = base_us + (long)(r % (uint32_t)(base_us / 2 + 1));
    struct timespec ts = {us / 1000000, (us % 1000000) * 1000};
    nanosleep(&ts, NULL);
}

/* ---- statement cache ---- */

uint64_t store_cache_hash(const char *sql, size_t len)
{
    uint64_t h = 1469598103934665603ULL;
    for (size_t i = 0; i < len; i++) {
        h ^= (unsigned char)sql[i];
        h *= 1099511628211ULL;
    }
    return h;
}

void store_cache_init(store_cache *c)
{
    c->nslots = 64;
    c->slots = xcalloc(c->nslots, sizeof *c->slots);
    c->count = 0;
}

void store_cache_free(store_cache *c)
{
    free(c->slots);
    c->slots = NULL;
    c->nslots = c->count = 0;
}

store_cache_entry *store_cache_find(const store_cache *c, const char *sql, size_t len, uint64_t hash)
{
    size_t mask = c->nslots - 1;
    for (size_t i = (size_t)hash & mask;; i = (i + 1) & mask) {
        store_cache_entry *e = c->slots[i];
        if (!e)
            return NULL;
        if (e->hash == hash && e->len == len && memcmp(e->sql, sql, len) == 0)
            return e;
    }
}

static void store_cache_place(store_cache_entry **slots, size_t nslots, store_cache_entry *e)
{
    size_t mask = nslots - 1;
    size_t i = (size_t)e->hash & mask;
    while (slots[i])
        i = (i + 1) & mask;
    slots[i] = e;
}

bool store_cache_insert(store_cache *c, store_cache_entry *e, const char *sql, size_t len, uint64_t hash)
{
    if (c->count >= STORE_CACHE_MAX)
        return false;
    /* Keep the load factor at most one half so that probes stay short. */
    if ((c->count + 1) * 2 > c->nslots) {
        size_t n = c->nslots * 2;
        store_cache_entry **slots = xcalloc(n, sizeof *slots);
        for (size_t i = 0; i < c->nslots; i++)
            if (c->slots[i])
                store_cache_place(slots, n, c->slots[i]);
        free(c->slots);
        c->slots = slots;
        c->nslots = n;
    }
    e->sql = xstrndup(sql, len);
    e->len = len;
    e->hash = hash;
    store_cache_place(c->slots, c->nslots, e);
    c->count++;
    return true;
}

store_cache_entry *store_cache_at(const store_cache *c, size_t i)
{
    return c->slots[i];
}

void store_cache_clear(store_cache *c)
{
    memset(c->slots, 0, c->nslots * sizeof *c->slots);
    c->count = 0;
}

/* ---- SQL lexing ---- */

bool store_sql_ident_char(char ch)
{
    unsigned char u = (unsigned char)ch;
    return isalnum(u) || u == '_' || u == '$' || u >= 0x80;
}

size_t store_sql_skip_quoted(const char *p)
{
    const char *q = p;
    if (*p == '\'' || *p == '"' || *p == '`') {
        /* A doubled quote inside ('it''s') ends one span and starts the next; the caller's loop
         * copies both spans verbatim, which is all that matters. */
        char quote = *q++;
        while (*q && *q != quote)
            q++;
        return (size_t)(q - p) + (*q ? 1 : 0);
    }
    if (p[0] == '-' && p[1] == '-') {
        while (*q && *q != '\n')
            q++;
        return (size_t)(q - p);
    }
    if (p[0] == '/' && p[1] == '*') {
        q += 2;
        while (*q && !(q[0] == '*' && q[1] == '/'))
            q++;
        return (size_t)(q - p) + (*q ? 2 : 0);
    }
    return 0;
}

bool store_sql_word_at(const char *p, const char *w)
{
    size_t n = strlen(w);
    for (size_t i = 0; i < n; i++)
        if (!p[i] || toupper((unsigned char)p[i]) != toupper((unsigned char)w[i]))
            return false;
    return !store_sql_ident_char(p[n]);
}

int store_query_one(store_conn *c, const char *sql, const store_arg *args, size_t nargs, store_row_fn read, void *ctx)
{
    store_rows *r = NULL;
    int rc = store_query(c, sql, args, nargs, &r);
    if (rc != AT_OK)
        return rc;
    rc = store_rows_next(r);
    if (rc == 1) {
        read(r, ctx);
        rc = AT_OK;
    } else if (rc == 0) {
        rc = AT_ENOTFOUND;
    }
    store_rows_free(r);
    return rc;
}

void store_like_contains(const char *q, char *out, size_t cap)
{
    size_t n = 0;
    if (cap < 3) {
        if (cap)
            out[0] = '\0';
        return;
    }
    out[n++] = '%';
    for (const char *p = q; *p && n + 3 < cap; p++) {
        if (*p == '%' || *p == '_' || *p == '!')
            out[n++] = '!';
        out[n++] = (*p >= 'A' && *p <= 'Z') ? (char)(*p + 32) : *p;
    }
    out[n++] = '%';
    out[n] = '\0';
}

void store_err_set(char err[512], const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(err, 512, fmt, ap);
    va_end(ap);
    err[text_utf8_cut(err, 511)] = '\0';
}
