/* The PostgreSQL migration translation and PostgreSQL-only behaviour (reconnect, durability, backup). */
#include "base/buf.h"
#include "store/store_impl.h"
#include "store/testdb.h"

#include <criterion/criterion.h>
#include <stdlib.h>
#include <unistd.h>

static void expect_ddl(const char *in, const char *want)
{
    buf b;
    buf_init(&b);
    store_pg_translate_ddl(in, &b);
    cr_assert_str_eq(b.data, want, "translate(%s)", in);
    buf_free(&b);
}

Test(store_pg_ddl, integer_and_strict)
{
    expect_ddl("CREATE TABLE t (a INTEGER NOT NULL, b TEXT) STRICT;", "CREATE TABLE t (a BIGINT NOT NULL, b TEXT) ;");
    expect_ddl("create table t (a integer primary key)\n  strict ;", "create table t (a BIGINT primary key)\n   ;");
    expect_ddl("CREATE TABLE t (n INTEGER CHECK (typeof(n) = 'integer'), s TEXT DEFAULT 'STRICT') STRICT",
               "CREATE TABLE t (n BIGINT CHECK (typeof(n) = 'integer'), s TEXT DEFAULT 'STRICT') ");
    expect_ddl("CREATE TABLE t (integer_count INTEGER, strict_mode INTEGER)",
               "CREATE TABLE t (integer_count BIGINT, strict_mode BIGINT)");
    expect_ddl("-- INTEGER in a comment\nSELECT 1", "-- INTEGER in a comment\nSELECT 1");
    expect_ddl("CREATE TABLE t (a INTEGER) /* c */ STRICT", "CREATE TABLE t (a BIGINT) /* c */ ");
}

static store_conn *acquire(testdb *t)
{
    store_conn *c = NULL;
    cr_assert_eq(store_acquire(t->s, &c), 0);
    return c;
}

static void pg_open(testdb *t, int pool)
{
    testdb_open(t, STORE_PG, pool);
}

Test(store_pg, reconnects_after_server_kills_the_session, .timeout = 60)
{
    testdb t;
    pg_open(&t, 1);
    store_conn *c = acquire(&t);
    int64_t pid = 0;
    cr_assert_eq(store_query_int(c, "SELECT pg_backend_pid()", NULL, 0, &pid), 0);
    cr_assert_eq(store_exec(c, "CREATE TABLE r (v BIGINT)", NULL, 0, NULL), 0);
    store_release(c);

    store *other = testdb_reopen(&t, 1);
    store_conn *oc = NULL;
    cr_assert_eq(store_acquire(other, &oc), 0);
    store_arg a[] = {sa_int(pid)};
    int64_t killed = 0;
    cr_assert_eq(store_query_int(oc, "SELECT CASE WHEN pg_terminate_backend($1::int) THEN 1 ELSE 0 END", a, 1, &killed),
                 0);
    cr_assert_eq(killed, 1);
    store_release(oc);
    store_close(other);

    /* The first statement on the dead session reports the outage; the next acquire reconnects. */
    c = acquire(&t);
    int64_t v = 0;
    int rc = AT_OK;
    for (int i = 0; i < 50 && rc == AT_OK; i++) {
        rc = store_query_int(c, "SELECT 1", NULL, 0, &v);
        if (rc == AT_OK)
            usleep(20000); /* the termination may take a moment to arrive */
    }
    cr_assert_eq(rc, AT_EUNAVAIL);
    store_release(c);
    c = acquire(&t);
    int64_t pid2 = 0;
    cr_assert_eq(store_query_int(c, "SELECT pg_backend_pid()", NULL, 0, &pid2), 0);
    cr_assert_neq(pid2, pid);
    cr_assert_eq(store_conn_cached_statements(c), 1, "statement cache dropped with the old session");
    store_release(c);
    cr_assert_eq(store_ping(t.s), 0);
    testdb_close(&t);
}

static int insert_one(store_conn *c, void *ctx)
{
    (void)ctx;
    return store_exec(c, "INSERT INTO r2 (v) VALUES (1)", NULL, 0, NULL);
}

Test(store_pg, store_tx_survives_a_restarted_session, .timeout = 60)
{
    testdb t;
    pg_open(&t, 1);
    store_conn *c = acquire(&t);
    int64_t pid = 0;
    cr_assert_eq(store_query_int(c, "SELECT pg_backend_pid()", NULL, 0, &pid), 0);
    cr_assert_eq(store_exec(c, "CREATE TABLE r2 (v BIGINT)", NULL, 0, NULL), 0);
    store_release(c);
    store *other = testdb_reopen(&t, 1);
    cr_assert_eq(store_acquire(other, &c), 0);
    store_arg a[] = {sa_int(pid)};
    cr_assert_eq(store_exec(c, "SELECT pg_terminate_backend($1::int)", a, 1, NULL), 0);
    /* Wait until the session is really gone. */
    int64_t n = 1;
    for (int i = 0; i < 100 && n > 0; i++) {
        cr_assert_eq(store_query_int(c, "SELECT COUNT(*) FROM pg_stat_activity WHERE pid = $1::int", a, 1, &n), 0);
        if (n > 0)
            usleep(20000);
    }
    store_release(c);
    store_close(other);
    cr_assert_eq(store_tx(t.s, true, insert_one, NULL), 0);
    testdb_close(&t);
}

Test(store_pg, prepared_statements_live_on_the_server)
{
    testdb t;
    pg_open(&t, 1);
    store_conn *c = acquire(&t);
    const char *q = "SELECT COUNT(*) FROM pg_prepared_statements";
    int64_t first = 0, again = 0;
    cr_assert_eq(store_query_int(c, q, NULL, 0, &first), 0);
    for (int i = 0; i < 5; i++) {
        int64_t x = 0;
        store_arg a[] = {sa_int(i)};
        cr_assert_eq(store_query_int(c, "SELECT $1::bigint + 1", a, 1, &x), 0);
        cr_assert_eq(x, i + 1);
    }
    cr_assert_eq(store_query_int(c, q, NULL, 0, &again), 0);
    cr_assert_eq(again, first + 1, "one server-side statement for five runs");
    store_release(c);
    testdb_close(&t);
}

Test(store_pg, durability_and_backup)
{
    testdb t;
    pg_open(&t, 1);
    char err[512];
    int rc = store_check_durability(t.s, err);
    if (rc == AT_EINVAL) /* a --fast cluster: the message must name the setting */
        cr_assert(strstr(err, "fsync") || strstr(err, "synchronous_commit") || strstr(err, "full_page_writes"), "%s",
                  err);
    else
        cr_assert_eq(rc, 0, "%s", err);
    cr_assert_eq(store_backup(t.s, "/tmp/x", err), AT_EINVAL);
    cr_assert(strstr(err, "pg_dump"), "%s", err);
    testdb_close(&t);
}

Test(store_pg, unreachable_server_is_unavailable)
{
    if (!testdb_pg_url()) {
        testdb_missing("ATRIUM_TEST_PG_URL");
    }
    store *s = NULL;
    char err[512];
    cr_assert_eq(store_open("postgres://postgres@127.0.0.1:1/postgres?connect_timeout=2", 1, &s, err), AT_EUNAVAIL);
    cr_assert(strstr(err, "cannot connect"), "%s", err);
}
