/* Test databases for the store and every suite above it: each test gets a fresh, empty store on
 * SQLite (a new temporary folder) or on PostgreSQL (a new schema in the database named by
 * ATRIUM_TEST_PG_URL). STORE_TEST defines one body and runs it as two Criterion tests,
 * <suite>_sqlite/<name> and <suite>_pg/<name>. Without ATRIUM_TEST_PG_URL the PostgreSQL variant warns
 * and is reported as skipped, never as passed. */
#ifndef AT_TEST_TESTDB_H
#define AT_TEST_TESTDB_H

#include "base/err.h"
#include "store/store.h"

#include <criterion/criterion.h>
#include <stdlib.h>
#include <string.h>
#include <stdio.h>

typedef struct testdb {
    int kind;
    store *s;
    char dir[256];   /* SQLite: the temporary folder */
    char path[320];  /* SQLite: the database file */
    char schema[40]; /* PostgreSQL: the test's schema */
    char url[1024];  /* the URL the store was opened with */
} testdb;

/* testdb_open opens an empty store of kind with a pool of `pool` connections, or skips the test. */
void testdb_open(testdb *t, int kind, int pool);
/* testdb_open_migrated also applies the embedded migrations. */
void testdb_open_migrated(testdb *t, int kind, int pool);
/* testdb_close closes the store and drops what testdb_open created. */
void testdb_close(testdb *t);
/* testdb_reopen opens another store on the same database (a second "process"); caller closes it. */
store *testdb_reopen(const testdb *t, int pool);
/* testdb_pg_url returns ATRIUM_TEST_PG_URL or NULL. */
const char *testdb_pg_url(void);

#define STORE_TEST_MIGRATED(suite, name, migrated)                                                                     \
    static void suite##_##name##_body(testdb *t);                                                                      \
    static void suite##_##name##_run(int kind)                                                                         \
    {                                                                                                                  \
        testdb t;                                                                                                      \
        if (migrated)                                                                                                  \
            testdb_open_migrated(&t, kind, 4);                                                                         \
        else                                                                                                           \
            testdb_open(&t, kind, 4);                                                                                  \
        suite##_##name##_body(&t);                                                                                     \
        testdb_close(&t);                                                                                              \
    }                                                                                                                  \
    Test(suite##_sqlite, name, .timeout = 60)                                                                          \
    {                                                                                                                  \
        suite##_##name##_run(STORE_SQLITE);                                                                            \
    }                                                                                                                  \
    Test(suite##_pg, name, .timeout = 60)                                                                              \
    {                                                                                                                  \
        suite##_##name##_run(STORE_PG);                                                                                \
    }                                                                                                                  \
    static void suite##_##name##_body(testdb *t)

#define STORE_TEST(suite, name) STORE_TEST_MIGRATED(suite, name, 0)

/* testdb_missing fails the test for a missing prerequisite (a PostgreSQL URL, an SMTP server): every
 * way the project runs these tests (`make test`, `make test-unit`, scripts/test.sh) provides them, so a
 * missing one is a broken set-up, never a reason to pass quietly. Never returns. */
#define testdb_missing(what)                                                                                 \
    cr_assert_fail("missing prerequisite: %s (run the unit tests through `make test-unit`, which starts "     \
                   "PostgreSQL, or set it up by hand)", what)

#endif
