/* Fresh databases per test (testdb.h). */
#define _XOPEN_SOURCE 700 /* nftw */
#include "store/testdb.h"

#include "base/crypto.h"
#include "base/log.h"

#include <ftw.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

const char *testdb_pg_url(void)
{
    const char *u = getenv("ATRIUM_TEST_PG_URL");
    return u && *u ? u : NULL;
}

static void testdb_admin(const char *sql)
{
    store *admin = NULL;
    char err[512];
    cr_assert_eq(store_open(testdb_pg_url(), 1, &admin, err), 0, "cannot reach ATRIUM_TEST_PG_URL: %s", err);
    store_conn *c = NULL;
    cr_assert_eq(store_acquire(admin, &c), 0);
    cr_assert_eq(store_exec(c, sql, NULL, 0, NULL), 0, "%s", sql);
    store_release(c);
    store_close(admin);
}

void testdb_open(testdb *t, int kind, int pool)
{
    memset(t, 0, sizeof *t);
    t->kind = kind;
    crypto_setup();
    log_set_level(LOG_ERROR);
    char err[512];
    if (kind == STORE_SQLITE) {
        snprintf(t->dir, sizeof t->dir, "/tmp/atrium-unit-XXXXXX");
        cr_assert(mkdtemp(t->dir), "mkdtemp");
        /* A subfolder that does not exist yet: the backend creates it. */
        snprintf(t->path, sizeof t->path, "%s/data/atrium.db", t->dir);
        snprintf(t->url, sizeof t->url, "sqlite:%s", t->path);
    } else {
        const char *base = testdb_pg_url();
        if (!base) {
            testdb_missing("ATRIUM_TEST_PG_URL (start a server with scripts/pg.sh start /tmp/pgt 55433)");
        }
        unsigned char r[8];
        crypto_random(r, sizeof r);
        snprintf(t->schema, sizeof t->schema, "t_%02x%02x%02x%02x%02x%02x%02x%02x", r[0], r[1], r[2], r[3], r[4], r[5],
                 r[6], r[7]);
        char sql[128];
        snprintf(sql, sizeof sql, "CREATE SCHEMA %s", t->schema);
        testdb_admin(sql);
        snprintf(t->url, sizeof t->url, "%s%soptions=-csearch_path%%3D%s", base, strchr(base, '?') ? "&" : "?",
                 t->schema);
    }
    int rc = store_open(t->url, pool, &t->s, err);
    cr_assert_eq(rc, 0, "store_open(%s): %s", t->url, err);
    cr_assert_eq(store_kind(t->s), kind);
}

void testdb_open_migrated(testdb *t, int kind, int pool)
{
    testdb_open(t, kind, pool);
    char err[512];
    int rc = store_migrate(t->s, err);
    cr_assert_eq(rc, 0, "store_migrate: %s", err);
}

store *testdb_reopen(const testdb *t, int pool)
{
    store *s = NULL;
    char err[512];
    cr_assert_eq(store_open(t->url, pool, &s, err), 0, "%s", err);
    return s;
}

static int testdb_rm(const char *path, const struct stat *sb, int flag, struct FTW *ftw)
{
    (void)sb;
    (void)flag;
    (void)ftw;
    remove(path);
    return 0;
}

void testdb_close(testdb *t)
{
    store_close(t->s);
    t->s = NULL;
    if (t->kind == STORE_SQLITE && t->dir[0]) {
        nftw(t->dir, testdb_rm, 16, FTW_DEPTH | FTW_PHYS);
    } else if (t->kind == STORE_PG && t->schema[0]) {
        char sql[128];
        snprintf(sql, sizeof sql, "DROP SCHEMA %s CASCADE", t->schema);
        testdb_admin(sql);
    }
}
