/* The SQLite dialect rewrite ($N -> ?N, lock clauses dropped) and SQLite-only behaviour. */
#include "base/buf.h"
#include "store/store_impl.h"
#include "store/testdb.h"

#include <criterion/criterion.h>
#include <stdlib.h>
#include <unistd.h>

static char *rewrite(const char *sql)
{
    buf b;
    buf_init(&b);
    store_sqlite_rewrite(sql, &b);
    return buf_steal(&b, NULL);
}

static void expect_rewrite(const char *in, const char *want)
{
    char *got = rewrite(in);
    cr_assert_str_eq(got, want, "rewrite(%s)", in);
    free(got);
}

Test(store_rewrite, params)
{
    expect_rewrite("SELECT $1", "SELECT ?1");
    expect_rewrite("SELECT $2, $1", "SELECT ?2, ?1");
    expect_rewrite("SELECT * FROM t WHERE a = $1 AND b IN ($12,$3)", "SELECT * FROM t WHERE a = ?1 AND b IN (?12,?3)");
    expect_rewrite("UPDATE t SET a=$1+$2", "UPDATE t SET a=?1+?2");
    expect_rewrite("", "");
}

Test(store_rewrite, quotes_and_comments_untouched)
{
    expect_rewrite("SELECT '$1', $1", "SELECT '$1', ?1");
    expect_rewrite("SELECT 'it''s $1', $2", "SELECT 'it''s $1', ?2");
    expect_rewrite("SELECT \"col$1\", $1 FROM t", "SELECT \"col$1\", ?1 FROM t");
    expect_rewrite("SELECT $1 -- and $2\n, $3", "SELECT ?1 -- and $2\n, ?3");
    expect_rewrite("SELECT /* $1 */ $2", "SELECT /* $1 */ ?2");
    expect_rewrite("SELECT 'unterminated $1", "SELECT 'unterminated $1");
    /* $ inside an identifier (PostgreSQL allows it) is not a parameter. */
    expect_rewrite("SELECT a$1 FROM t", "SELECT a$1 FROM t");
    expect_rewrite("SELECT $x, $", "SELECT $x, $");
}

Test(store_rewrite, lock_clauses_dropped)
{
    expect_rewrite("SELECT id FROM jobs LIMIT 1 FOR UPDATE SKIP LOCKED", "SELECT id FROM jobs LIMIT 1 ");
    expect_rewrite("SELECT id FROM t WHERE id = $1 FOR UPDATE", "SELECT id FROM t WHERE id = ?1 ");
    expect_rewrite("select id from t for update nowait;", "select id from t ;");
    expect_rewrite("SELECT 1 FOR\n  SHARE", "SELECT 1 ");
    expect_rewrite("WHERE id = (SELECT id FROM t LIMIT 1 FOR UPDATE SKIP LOCKED) RETURNING id",
                   "WHERE id = (SELECT id FROM t LIMIT 1 ) RETURNING id");
    /* Not lock clauses. */
    expect_rewrite("SELECT 'FOR UPDATE'", "SELECT 'FOR UPDATE'");
    expect_rewrite("INSERT INTO t VALUES ($1) ON CONFLICT (a) DO UPDATE SET b = 1",
                   "INSERT INTO t VALUES (?1) ON CONFLICT (a) DO UPDATE SET b = 1");
    expect_rewrite("CREATE TRIGGER x BEFORE UPDATE ON t FOR EACH ROW",
                   "CREATE TRIGGER x BEFORE UPDATE ON t FOR EACH ROW");
    expect_rewrite("SELECT format FROM t", "SELECT format FROM t");
    expect_rewrite("SELECT 1 FOR UPDATES", "SELECT 1 FOR UPDATES");
}

Test(store_sqlite, parent_folder_created_and_wal)
{
    testdb t;
    testdb_open(&t, STORE_SQLITE, 2);
    cr_assert_eq(access(t.path, F_OK), 0, "database file created under a new folder");
    store_conn *c = NULL;
    cr_assert_eq(store_acquire(t.s, &c), 0);
    store_rows *r = NULL;
    cr_assert_eq(store_query(c, "PRAGMA journal_mode", NULL, 0, &r), 0);
    cr_assert_eq(store_rows_next(r), 1);
    cr_assert_str_eq(store_rows_text(r, 0), "wal");
    store_rows_free(r);
    int64_t v = 0;
    cr_assert_eq(store_query_int(c, "PRAGMA foreign_keys", NULL, 0, &v), 0);
    cr_assert_eq(v, 1);
    cr_assert_eq(store_query_int(c, "PRAGMA synchronous", NULL, 0, &v), 0);
    cr_assert_eq(v, 2, "synchronous=FULL");
    store_release(c);
    testdb_close(&t);
}

Test(store_sqlite, strict_datatype_is_constraint)
{
    testdb t;
    testdb_open(&t, STORE_SQLITE, 1);
    store_conn *c = NULL;
    cr_assert_eq(store_acquire(t.s, &c), 0);
    cr_assert_eq(store_exec(c, "CREATE TABLE s (n INTEGER NOT NULL) STRICT", NULL, 0, NULL), 0);
    store_arg a[] = {sa_text("not a number")};
    cr_assert_eq(store_exec(c, "INSERT INTO s (n) VALUES ($1)", a, 1, NULL), AT_ECONSTRAINT);
    store_release(c);
    testdb_close(&t);
}

Test(store_sqlite, backup_copies_database)
{
    testdb t;
    testdb_open(&t, STORE_SQLITE, 1);
    store_conn *c = NULL;
    cr_assert_eq(store_acquire(t.s, &c), 0);
    cr_assert_eq(store_exec(c, "CREATE TABLE b (v TEXT)", NULL, 0, NULL), 0);
    store_arg a[] = {sa_text("kept")};
    cr_assert_eq(store_exec(c, "INSERT INTO b VALUES ($1)", a, 1, NULL), 0);
    store_release(c);

    char copy[400], err[512], url[420];
    snprintf(copy, sizeof copy, "%s/copy.db", t.dir);
    cr_assert_eq(store_backup(t.s, copy, err), 0, "%s", err);
    snprintf(url, sizeof url, "sqlite:%s", copy);
    store *s2 = NULL;
    cr_assert_eq(store_open(url, 1, &s2, err), 0, "%s", err);
    cr_assert_eq(store_acquire(s2, &c), 0);
    store_rows *r = NULL;
    cr_assert_eq(store_query(c, "SELECT v FROM b", NULL, 0, &r), 0);
    cr_assert_eq(store_rows_next(r), 1);
    cr_assert_str_eq(store_rows_text(r, 0), "kept");
    store_rows_free(r);
    store_release(c);
    store_close(s2);
    testdb_close(&t);
}

Test(store_sqlite, open_errors)
{
    store *s = NULL;
    char err[512];
    cr_assert_eq(store_open("mysql://x", 1, &s, err), AT_EINVAL);
    cr_assert(strstr(err, "unsupported store URL"), "%s", err);
    cr_assert_eq(store_open("sqlite:", 1, &s, err), AT_EINVAL);
    cr_assert_eq(store_open("sqlite:/proc/atrium-nope/x/db", 1, &s, err), AT_EUNAVAIL);
    cr_assert(err[0]);
    cr_assert_null(s);
}

Test(store_sqlite, durability_ok_and_check)
{
    testdb t;
    testdb_open(&t, STORE_SQLITE, 1);
    char err[512];
    cr_assert_eq(store_check_durability(t.s, err), 0);
    testdb_close(&t);
}
