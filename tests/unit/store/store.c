/* The store interface, run on both backends (STORE_TEST: <suite>_sqlite and <suite>_pg). */
#include "base/jsonv.h"
#include "store/store_impl.h"
#include "store/testdb.h"

#include <criterion/criterion.h>
#include <pthread.h>
#include <string.h>
#include <unistd.h>

static store_conn *acquire(testdb *t)
{
    store_conn *c = NULL;
    cr_assert_eq(store_acquire(t->s, &c), 0);
    return c;
}

static void exec_ok(store_conn *c, const char *sql)
{
    cr_assert_eq(store_exec(c, sql, NULL, 0, NULL), 0, "%s", sql);
}

static int64_t count_rows(store_conn *c, const char *table)
{
    char sql[128];
    snprintf(sql, sizeof sql, "SELECT COUNT(*) FROM %s", table);
    int64_t n = -1;
    cr_assert_eq(store_query_int(c, sql, NULL, 0, &n), 0);
    return n;
}

STORE_TEST(store, params_bind_by_number)
{
    store_conn *c = acquire(t);
    store_rows *r = NULL;
    store_arg a[] = {sa_text("one"), sa_text("two")};
    cr_assert_eq(store_query(c, "SELECT $2, $1", a, 2, &r), 0);
    cr_assert_eq(store_rows_next(r), 1);
    cr_assert_str_eq(store_rows_text(r, 0), "two");
    cr_assert_str_eq(store_rows_text(r, 1), "one");
    cr_assert_eq(store_rows_next(r), 0);
    store_rows_free(r);

    /* The same parameter twice, and a parameter inside quotes that is not one. */
    store_arg b[] = {sa_text("x")};
    cr_assert_eq(store_query(c, "SELECT $1 || '-$1-' || $1", b, 1, &r), 0);
    cr_assert_eq(store_rows_next(r), 1);
    cr_assert_str_eq(store_rows_text(r, 0), "x-$1-x");
    store_rows_free(r);
    store_release(c);
}

STORE_TEST(store, exec_query_rows)
{
    store_conn *c = acquire(t);
    exec_ok(c, "CREATE TABLE item (id TEXT PRIMARY KEY, n BIGINT NOT NULL, note TEXT)");
    for (int i = 0; i < 3; i++) {
        char id[8];
        snprintf(id, sizeof id, "i%d", i);
        store_arg a[] = {sa_text(id), sa_int(i * 1000000000000LL), i == 1 ? sa_null() : sa_textn("note!", 4)};
        int64_t changes = 0;
        cr_assert_eq(store_exec(c, "INSERT INTO item (id, n, note) VALUES ($1, $2, $3)", a, 3, &changes), 0);
        cr_assert_eq(changes, 1);
    }
    store_rows *r = NULL;
    store_arg lim[] = {sa_int(0)};
    cr_assert_eq(store_query(c, "SELECT id, n, note FROM item WHERE n >= $1 ORDER BY id", lim, 1, &r), 0);
    for (int i = 0; i < 3; i++) {
        cr_assert_eq(store_rows_next(r), 1);
        char id[8];
        snprintf(id, sizeof id, "i%d", i);
        cr_assert_str_eq(store_rows_text(r, 0), id);
        cr_assert_eq(store_rows_int(r, 1), i * 1000000000000LL);
        if (i == 1) {
            cr_assert(store_rows_is_null(r, 2));
            cr_assert_null(store_rows_text(r, 2));
        } else {
            cr_assert_not(store_rows_is_null(r, 2));
            cr_assert_str_eq(store_rows_text(r, 2), "note");
        }
    }
    cr_assert_eq(store_rows_next(r), 0);
    cr_assert_eq(store_rows_next(r), 0);
    store_rows_free(r);

    int64_t changes = 0;
    cr_assert_eq(store_exec(c, "UPDATE item SET note = 'x' WHERE n > 0", NULL, 0, &changes), 0);
    cr_assert_eq(changes, 2);

    store_arg a[] = {sa_text("i9"), sa_int(9)};
    cr_assert_eq(store_query(c, "INSERT INTO item (id, n) VALUES ($1, $2) RETURNING id, n", a, 2, &r), 0);
    cr_assert_eq(store_rows_next(r), 1);
    cr_assert_str_eq(store_rows_text(r, 0), "i9");
    cr_assert_eq(store_rows_int(r, 1), 9);
    store_rows_free(r);

    int64_t v = 0;
    store_arg none[] = {sa_text("nope")};
    cr_assert_eq(store_query_int(c, "SELECT n FROM item WHERE id = $1", none, 1, &v), AT_ENOTFOUND);
    cr_assert_eq(store_query_int(c, "SELECT MAX(n) FROM item WHERE id = $1", none, 1, &v), AT_ENOTFOUND);
    cr_assert_eq(count_rows(c, "item"), 4);
    store_release(c);
}

STORE_TEST(store, errors_map_to_statuses)
{
    store_conn *c = acquire(t);
    exec_ok(c, "CREATE TABLE parent (id TEXT PRIMARY KEY, email TEXT UNIQUE)");
    exec_ok(c, "CREATE TABLE child (id TEXT PRIMARY KEY, parent_id TEXT NOT NULL REFERENCES parent (id), "
               "qty INTEGER CHECK (qty >= 0))");
    store_arg p[] = {sa_text("p1"), sa_text("a@example.com")};
    cr_assert_eq(store_exec(c, "INSERT INTO parent (id, email) VALUES ($1, $2)", p, 2, NULL), 0);

    store_arg dup_pk[] = {sa_text("p1"), sa_text("b@example.com")};
    cr_assert_eq(store_exec(c, "INSERT INTO parent (id, email) VALUES ($1, $2)", dup_pk, 2, NULL), AT_ECONFLICT);
    store_arg dup_email[] = {sa_text("p2"), sa_text("a@example.com")};
    cr_assert_eq(store_exec(c, "INSERT INTO parent (id, email) VALUES ($1, $2)", dup_email, 2, NULL), AT_ECONFLICT);

    store_arg orphan[] = {sa_text("c1"), sa_text("nobody"), sa_int(1)};
    cr_assert_eq(store_exec(c, "INSERT INTO child (id, parent_id, qty) VALUES ($1, $2, $3)", orphan, 3, NULL),
                 AT_ECONSTRAINT);
    store_arg neg[] = {sa_text("c1"), sa_text("p1"), sa_int(-1)};
    cr_assert_eq(store_exec(c, "INSERT INTO child (id, parent_id, qty) VALUES ($1, $2, $3)", neg, 3, NULL),
                 AT_ECONSTRAINT);
    store_arg nul[] = {sa_text("c1"), sa_null(), sa_int(1)};
    cr_assert_eq(store_exec(c, "INSERT INTO child (id, parent_id, qty) VALUES ($1, $2, $3)", nul, 3, NULL),
                 AT_ECONSTRAINT);

    /* An error in INSERT ... RETURNING surfaces at store_query, on both backends. */
    store_rows *r = NULL;
    cr_assert_eq(store_query(c, "INSERT INTO parent (id, email) VALUES ($1, $2) RETURNING id", dup_pk, 2, &r),
                 AT_ECONFLICT);
    cr_assert_null(r);

    cr_assert_eq(store_exec(c, "SELEKT nonsense", NULL, 0, NULL), AT_ESTORE);
    cr_assert_eq(store_exec(c, "SELECT * FROM no_such_table", NULL, 0, NULL), AT_ESTORE);
    /* Wrong parameter counts are refused, not half-bound. */
    cr_assert_eq(store_exec(c, "INSERT INTO parent (id, email) VALUES ($1, $2)", p, 1, NULL), AT_ESTORE);
    /* NUL inside a text parameter is refused on both backends. */
    store_arg nulbyte[] = {sa_textn("a\0b", 3), sa_text("z@example.com")};
    cr_assert_eq(store_exec(c, "INSERT INTO parent (id, email) VALUES ($1, $2)", nulbyte, 2, NULL), AT_EINVAL);
    cr_assert_eq(count_rows(c, "parent"), 1);
    store_release(c);

    store_stats st;
    store_get_stats(t->s, &st);
    cr_assert_geq(st.errors, 9);
    cr_assert_geq(st.queries, st.errors);
}

static int tx_insert(store_conn *c, void *ctx)
{
    const char *id = ctx;
    store_arg a[] = {sa_text(id)};
    return store_exec(c, "INSERT INTO tx (id) VALUES ($1)", a, 1, NULL);
}

static int tx_insert_then_fail(store_conn *c, void *ctx)
{
    int rc = tx_insert(c, ctx);
    return rc != AT_OK ? rc : AT_EINVAL;
}

typedef struct busy_ctx {
    const char *prefix;
    int calls, busy_times;
} busy_ctx;

static int tx_busy_then_insert(store_conn *c, void *ctx)
{
    busy_ctx *b = ctx;
    char id[16];
    snprintf(id, sizeof id, "%s%d", b->prefix, b->calls);
    b->calls++;
    int rc = tx_insert(c, id);
    if (rc != AT_OK)
        return rc;
    return b->calls <= b->busy_times ? AT_EBUSY : AT_OK;
}

static int tx_swallow_error(store_conn *c, void *ctx)
{
    (void)ctx;
    cr_assert_eq(tx_insert(c, "ok1"), 0);
    cr_assert_eq(tx_insert(c, "ok1"), AT_ECONFLICT);
    /* After a failed statement nothing more runs, on either backend. */
    cr_assert_eq(tx_insert(c, "ok2"), AT_ESTORE);
    return AT_OK;
}

STORE_TEST(store, tx_commit_rollback_retry)
{
    store_conn *c = acquire(t);
    exec_ok(c, "CREATE TABLE tx (id TEXT PRIMARY KEY)");
    store_release(c);

    cr_assert_eq(store_tx(t->s, true, tx_insert, "a"), 0);
    cr_assert_eq(store_tx(t->s, true, tx_insert_then_fail, "b"), AT_EINVAL);
    cr_assert_eq(store_tx(t->s, true, tx_insert, "a"), AT_ECONFLICT);

    busy_ctx b = {"b", 0, 2};
    cr_assert_eq(store_tx(t->s, true, tx_busy_then_insert, &b), 0);
    cr_assert_eq(b.calls, 3, "retried twice after AT_EBUSY");

    busy_ctx forever = {"f", 0, 1000};
    cr_assert_eq(store_tx(t->s, true, tx_busy_then_insert, &forever), AT_EBUSY);
    cr_assert_eq(forever.calls, 20, "gives up after 20 tries");

    /* A transaction in which a statement failed does not commit, even when fn says AT_OK. */
    cr_assert_eq(store_tx(t->s, true, tx_swallow_error, NULL), AT_ESTORE);

    c = acquire(t);
    store_rows *r = NULL;
    cr_assert_eq(store_query(c, "SELECT id FROM tx ORDER BY id", NULL, 0, &r), 0);
    cr_assert_eq(store_rows_next(r), 1);
    cr_assert_str_eq(store_rows_text(r, 0), "a");
    cr_assert_eq(store_rows_next(r), 1);
    cr_assert_str_eq(store_rows_text(r, 0), "b2", "only the third try of the busy transaction committed");
    cr_assert_eq(store_rows_next(r), 0);
    store_rows_free(r);

    /* Explicit begin/rollback on a connection; rollback without a transaction is harmless. */
    cr_assert_eq(store_rollback(c), 0);
    cr_assert_eq(store_begin(c, true), 0);
    cr_assert_eq(store_begin(c, true), AT_EINTERNAL);
    cr_assert_eq(tx_insert(c, "z"), 0);
    cr_assert_eq(store_rollback(c), 0);
    cr_assert_eq(store_begin(c, false), 0);
    cr_assert_eq(count_rows(c, "tx"), 2);
    cr_assert_eq(store_commit(c), 0);
    cr_assert_eq(store_commit(c), AT_EINTERNAL);
    /* A transaction left open at release is rolled back. */
    cr_assert_eq(store_begin(c, true), 0);
    cr_assert_eq(tx_insert(c, "leak"), 0);
    store_release(c);
    c = acquire(t);
    cr_assert_eq(count_rows(c, "tx"), 2);
    store_release(c);

    store_stats st;
    store_get_stats(t->s, &st);
    cr_assert_eq(st.busy_retries, 2 + 19);
    cr_assert_eq(st.in_use, 0);
}

STORE_TEST(store, prepared_statements_are_reused)
{
    store_conn *c = acquire(t);
    int before = store_conn_cached_statements(c);
    const char *sql = "SELECT $1 || 'x'";
    for (int i = 0; i < 10; i++) {
        char v[8];
        snprintf(v, sizeof v, "%d", i);
        store_arg a[] = {sa_text(v)};
        store_rows *r = NULL;
        cr_assert_eq(store_query(c, sql, a, 1, &r), 0);
        cr_assert_eq(store_rows_next(r), 1);
        char want[16];
        snprintf(want, sizeof want, "%dx", i);
        cr_assert_str_eq(store_rows_text(r, 0), want);
        store_rows_free(r);
    }
    cr_assert_eq(store_conn_cached_statements(c), before + 1);

    /* The same text in another buffer hits the same entry. */
    char copy[64];
    snprintf(copy, sizeof copy, "%s", sql);
    store_arg a[] = {sa_text("y")};
    store_rows *r = NULL;
    cr_assert_eq(store_query(c, copy, a, 1, &r), 0);
    cr_assert_eq(store_conn_cached_statements(c), before + 1);

    /* A second cursor on the same SQL while the first is open still works. */
    store_rows *r2 = NULL;
    store_arg b[] = {sa_text("z")};
    cr_assert_eq(store_query(c, sql, b, 1, &r2), 0);
    cr_assert_eq(store_rows_next(r2), 1);
    cr_assert_eq(store_rows_next(r), 1);
    cr_assert_str_eq(store_rows_text(r, 0), "yx");
    cr_assert_str_eq(store_rows_text(r2, 0), "zx");
    store_rows_free(r2);
    store_rows_free(r);
    cr_assert_eq(store_conn_cached_statements(c), before + 1);

    /* A failed prepare is not cached. */
    cr_assert_eq(store_exec(c, "SELECT FROM WHERE", NULL, 0, NULL), AT_ESTORE);
    cr_assert_eq(store_conn_cached_statements(c), before + 1);
    store_release(c);
}

typedef struct pool_waiter {
    store *s;
    int rc;
} pool_waiter;

static void *pool_wait_thread(void *arg)
{
    pool_waiter *w = arg;
    store_conn *c = NULL;
    w->rc = store_acquire(w->s, &c);
    if (w->rc == AT_OK) {
        int64_t v = 0;
        w->rc = store_query_int(c, "SELECT 7", NULL, 0, &v);
        if (v != 7)
            w->rc = AT_EINTERNAL;
        store_release(c);
    }
    return NULL;
}

STORE_TEST(store, pool_waits_for_a_free_connection)
{
    store_conn *c[4];
    for (int i = 0; i < 4; i++)
        c[i] = acquire(t);
    store_stats st;
    store_get_stats(t->s, &st);
    cr_assert_eq(st.pool_size, 4);
    cr_assert_eq(st.in_use, 4);

    pool_waiter w = {t->s, 1};
    pthread_t th;
    pthread_create(&th, NULL, pool_wait_thread, &w);
    for (int i = 0; i < 200; i++) {
        store_get_stats(t->s, &st);
        if (st.acquire_waits > 0)
            break;
        usleep(5000);
    }
    cr_assert_eq(st.acquire_waits, 1, "the fifth acquire waits");
    store_release(c[2]);
    pthread_join(th, NULL);
    cr_assert_eq(w.rc, 0);
    for (int i = 0; i < 4; i++)
        if (i != 2)
            store_release(c[i]);
    store_get_stats(t->s, &st);
    cr_assert_eq(st.in_use, 0);
    cr_assert_eq(store_ping(t->s), 0);
}

typedef struct writer {
    store *s;
    int n;
    int failures;
} writer;

static int tx_counter(store_conn *c, void *ctx)
{
    writer *w = ctx;
    char id[32];
    snprintf(id, sizeof id, "w%d", w->n);
    store_arg a[] = {sa_text(id)};
    int rc = store_exec(c, "INSERT INTO tx (id) VALUES ($1)", a, 1, NULL);
    if (rc != AT_OK)
        return rc;
    return store_exec(c, "UPDATE counter SET n = n + 1 WHERE k = 1", NULL, 0, NULL);
}

static void *writer_thread(void *arg)
{
    writer *w = arg;
    for (int i = 0; i < 25; i++) {
        writer one = {w->s, w->n * 100 + i, 0};
        if (store_tx(w->s, true, tx_counter, &one) != AT_OK)
            w->failures++;
    }
    return NULL;
}

/* Four threads race on one row through store_tx; every transaction commits exactly once. */
STORE_TEST(store, concurrent_writers_all_commit)
{
    store_conn *c = acquire(t);
    exec_ok(c, "CREATE TABLE tx (id TEXT PRIMARY KEY)");
    exec_ok(c, "CREATE TABLE counter (k INTEGER PRIMARY KEY, n INTEGER NOT NULL)");
    exec_ok(c, "INSERT INTO counter (k, n) VALUES (1, 0)");
    store_release(c);
    writer w[4];
    pthread_t th[4];
    for (int i = 0; i < 4; i++) {
        w[i] = (writer){t->s, i + 1, 0};
        pthread_create(&th[i], NULL, writer_thread, &w[i]);
    }
    for (int i = 0; i < 4; i++) {
        pthread_join(th[i], NULL);
        cr_assert_eq(w[i].failures, 0);
    }
    c = acquire(t);
    int64_t n = 0;
    cr_assert_eq(store_query_int(c, "SELECT n FROM counter WHERE k = 1", NULL, 0, &n), 0);
    cr_assert_eq(n, 100);
    cr_assert_eq(count_rows(c, "tx"), 100);
    store_release(c);
}

/* A driver's or a path's text longer than err[512] is cut at a character boundary, never inside
 * one: the message is logged through jansson, which refuses broken UTF-8. */
Test(store, err_set_cuts_long_messages_between_characters)
{
    char err[512], path[700];
    path[0] = 'x'; /* so that 511 bytes end inside a character */
    for (size_t i = 0; i < 232; i++)
        memcpy(path + 1 + 3 * i, "\xe6\x97\xa5", 3); /* 日 */
    path[697] = '\0';
    store_err_set(err, "cannot open SQLite database %s: %s", path, "disk I/O error");
    size_t len = strlen(err);
    cr_assert_leq(len, 511);
    cr_assert_geq(utf8_length(err, len), 0, "the message is valid UTF-8 (%zu bytes)", len);
    cr_assert_eq(strncmp(err, "cannot open SQLite database x\xe6\x97\xa5", 32), 0);
    cr_assert_eq(len, 509, "29 bytes, then the 160 whole characters that fit in 511: %zu", len);
}
