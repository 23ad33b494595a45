/* Migrations, on both backends. */
#include "store/migrations.h"
#include "store/store_impl.h"
#include "store/testdb.h"

#include <criterion/criterion.h>
#include <pthread.h>
#include <string.h>

static const store_migration two[] = {
    {1, "0001_one",
     "CREATE TABLE one (id TEXT PRIMARY KEY, n INTEGER NOT NULL DEFAULT 0) STRICT;\n"
     "CREATE INDEX one_n ON one (n);\n"},
    {2, "0002_two",
     "CREATE TABLE two (id TEXT PRIMARY KEY, one_id TEXT REFERENCES one (id)) STRICT;\n"
     "INSERT INTO one (id, n) VALUES ('seed', 9007199254740993);\n"},
};

static const store_migration broken[] = {
    {1, "0001_one",
     "CREATE TABLE one (id TEXT PRIMARY KEY, n INTEGER NOT NULL DEFAULT 0) STRICT;\n"
     "CREATE INDEX one_n ON one (n);\n"},
    {2, "0002_two",
     "CREATE TABLE two (id TEXT PRIMARY KEY, one_id TEXT REFERENCES one (id)) STRICT;\n"
     "INSERT INTO one (id, n) VALUES ('seed', 9007199254740993);\n"},
    {3, "0003_bad", "CREATE TABLE three (id TEXT PRIMARY KEY);\nTHIS IS NOT SQL;\n"},
};

static int64_t query_int(testdb *t, const char *sql)
{
    store_conn *c = NULL;
    cr_assert_eq(store_acquire(t->s, &c), 0);
    int64_t v = -1;
    int rc = store_query_int(c, sql, NULL, 0, &v);
    store_release(c);
    cr_assert_eq(rc, 0, "%s", sql);
    return v;
}

static bool has_table(testdb *t, const char *name)
{
    store_conn *c = NULL;
    cr_assert_eq(store_acquire(t->s, &c), 0);
    bool yes = false;
    cr_assert_eq(t->s->ops->has_table(c, name, &yes), 0);
    store_release(c);
    return yes;
}

STORE_TEST(migrate, apply_once_record_and_noop)
{
    char err[512];
    cr_assert_not(has_table(t, "schema_migrations"));
    cr_assert_eq(store_migrate_list(t->s, two, 1, err), 0, "%s", err);
    cr_assert_eq(query_int(t, "SELECT MAX(version) FROM schema_migrations"), 1);
    cr_assert(has_table(t, "one"));
    cr_assert_not(has_table(t, "two"));

    cr_assert_eq(store_migrate_list(t->s, two, 2, err), 0, "%s", err);
    cr_assert_eq(query_int(t, "SELECT COUNT(*) FROM schema_migrations"), 2);
    cr_assert(has_table(t, "two"));
    /* INTEGER holds 64 bits on both backends (BIGINT on PostgreSQL). */
    cr_assert_eq(query_int(t, "SELECT n FROM one WHERE id = 'seed'"), 9007199254740993LL);
    int64_t applied = query_int(t, "SELECT applied_at FROM schema_migrations WHERE version = 2");
    cr_assert_gt(applied, 0);

    /* A second run changes nothing. */
    cr_assert_eq(store_migrate_list(t->s, two, 2, err), 0, "%s", err);
    cr_assert_eq(query_int(t, "SELECT COUNT(*) FROM schema_migrations"), 2);
    cr_assert_eq(query_int(t, "SELECT applied_at FROM schema_migrations WHERE version = 2"), applied);
    cr_assert_eq(query_int(t, "SELECT COUNT(*) FROM one"), 1);
}

STORE_TEST(migrate, failing_migration_rolls_back_alone)
{
    char err[512];
    cr_assert_neq(store_migrate_list(t->s, broken, 3, err), 0);
    cr_assert(strstr(err, "0003_bad"), "%s", err);
    /* 1 and 2 committed in their own transactions; 3 left nothing behind. */
    cr_assert_eq(query_int(t, "SELECT MAX(version) FROM schema_migrations"), 2);
    cr_assert(has_table(t, "two"));
    cr_assert_not(has_table(t, "three"));
}

STORE_TEST(migrate, newer_database_is_refused)
{
    char err[512];
    cr_assert_eq(store_migrate_list(t->s, two, 2, err), 0, "%s", err);
    store_conn *c = NULL;
    cr_assert_eq(store_acquire(t->s, &c), 0);
    cr_assert_eq(store_exec(c,
                            "INSERT INTO schema_migrations (version, name, applied_at) VALUES (9999, '9999_future', 1)",
                            NULL, 0, NULL),
                 0);
    store_release(c);
    cr_assert_eq(store_migrate_list(t->s, two, 2, err), AT_ECONFLICT);
    cr_assert_str_eq(err, "database schema version 9999 is newer than this binary (2); upgrade atrium before "
                          "starting it");
    cr_assert_eq(store_migrate(t->s, err), AT_ECONFLICT);
}

STORE_TEST(migrate, embedded_migrations_and_version)
{
    char err[512];
    int db = -1, bin = -1;
    cr_assert_eq(store_schema_version(t->s, &db, &bin), 0);
    cr_assert_eq(db, 0);
    cr_assert_eq(bin, store_migrations[store_migration_count - 1].version);
    cr_assert_eq(store_migrate(t->s, err), 0, "%s", err);
    cr_assert_eq(store_schema_version(t->s, &db, &bin), 0);
    cr_assert_eq(db, bin);
    cr_assert(has_table(t, "jobs"));
    cr_assert_eq(store_migrate(t->s, err), 0, "%s", err);
}

Test(migrate, out_of_order_list_refused)
{
    testdb t;
    testdb_open(&t, STORE_SQLITE, 1);
    static const store_migration bad[] = {{2, "0002_b", "SELECT 1;"}, {1, "0001_a", "SELECT 1;"}};
    char err[512];
    cr_assert_eq(store_migrate_list(t.s, bad, 2, err), AT_EINTERNAL);
    cr_assert(strstr(err, "out of order"), "%s", err);
    testdb_close(&t);
}

typedef struct racer {
    store *s;
    int rc;
    char err[512];
} racer;

static void *race_thread(void *arg)
{
    racer *r = arg;
    r->rc = store_migrate_list(r->s, two, 2, r->err);
    return NULL;
}

/* Several "processes" (separate stores on one database) migrate at once; each migration runs once. */
STORE_TEST(migrate, concurrent_migrators)
{
    racer r[3];
    pthread_t th[3];
    for (int i = 0; i < 3; i++) {
        r[i].s = testdb_reopen(t, 1);
        pthread_create(&th[i], NULL, race_thread, &r[i]);
    }
    for (int i = 0; i < 3; i++) {
        pthread_join(th[i], NULL);
        cr_assert_eq(r[i].rc, 0, "%s", r[i].err);
        store_close(r[i].s);
    }
    cr_assert_eq(query_int(t, "SELECT COUNT(*) FROM schema_migrations"), 2);
    cr_assert_eq(query_int(t, "SELECT COUNT(*) FROM one"), 1);
}
