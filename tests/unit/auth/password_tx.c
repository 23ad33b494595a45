/* Argon2 never runs inside a store transaction (issue 12, item 5): the store counts the transactions
 * each thread has open, and password.c asserts the count is zero before every hash or verification,
 * so a regression aborts the debug build and the test that reached it. */
#include "auth/password.h"
#include "base/err.h"
#include "store/testdb.h"

#include <criterion/criterion.h>
#include <signal.h>
#include <sodium.h>
#include <string.h>

static void setup(void)
{
    cr_assert_geq(sodium_init(), 0);
    password_setup(2);
}

/* The counter follows begin, commit, rollback and store_tx on both backends. */
static int password_tx_count_fn(store_conn *c, void *ctx)
{
    (void)c;
    *(int *)ctx = store_tx_open_count();
    return AT_OK;
}

STORE_TEST(password_tx, counter_follows_transactions)
{
    store_conn *c = NULL;
    int inside = -1;
    cr_assert_geq(sodium_init(), 0);
    cr_assert_eq(store_tx_open_count(), 0);
    cr_assert_eq(store_acquire(t->s, &c), AT_OK);
    cr_assert_eq(store_begin(c, true), AT_OK);
    cr_assert_eq(store_tx_open_count(), 1);
    cr_assert_eq(store_commit(c), AT_OK);
    cr_assert_eq(store_tx_open_count(), 0);
    cr_assert_eq(store_begin(c, false), AT_OK);
    cr_assert_eq(store_tx_open_count(), 1);
    cr_assert_eq(store_rollback(c), AT_OK);
    cr_assert_eq(store_rollback(c), AT_OK); /* a second rollback does not count twice */
    cr_assert_eq(store_tx_open_count(), 0);
    store_release(c);
    cr_assert_eq(store_tx(t->s, true, password_tx_count_fn, &inside), AT_OK);
    cr_assert_eq(inside, 1);
    cr_assert_eq(store_tx_open_count(), 0);
    /* Outside a transaction hashing works. */
    char hash[PASSWORD_HASH_MAX];
    cr_assert_eq(password_hash("outside-any-transaction", 23, hash), AT_OK);
    cr_assert(password_verify(hash, "outside-any-transaction", 23, NULL));
}

/* The abort test's store, cleaned up by the SIGABRT handler before the process dies. */
static testdb password_tx_db;
static store_conn *password_tx_conn;

static void password_tx_on_abort(int sig)
{
    signal(sig, SIG_DFL);
    store_rollback(password_tx_conn);
    store_release(password_tx_conn);
    testdb_close(&password_tx_db);
    raise(sig);
}

/* Hashes (or verifies) inside a write transaction of the given backend: must abort. */
static void password_tx_abort_run(int kind, bool verify)
{
    char hash[PASSWORD_HASH_MAX];
    testdb_open(&password_tx_db, kind, 1);
    cr_assert_eq(store_acquire(password_tx_db.s, &password_tx_conn), AT_OK);
    cr_assert_eq(store_begin(password_tx_conn, true), AT_OK);
    signal(SIGABRT, password_tx_on_abort);
    if (verify)
        password_verify("$argon2id$v=19$m=65536,t=2,p=1$c29tZXNhbHQ$c29tZWhhc2g", "inside", 6, NULL);
    else
        password_hash("inside-a-transaction", 20, hash);
    cr_assert_fail("Argon2 ran inside a transaction without aborting");
}

Test(password_tx, hash_inside_sqlite_transaction_aborts, .init = setup, .signal = SIGABRT, .timeout = 60)
{
    password_tx_abort_run(STORE_SQLITE, false);
}

Test(password_tx, verify_inside_sqlite_transaction_aborts, .init = setup, .signal = SIGABRT, .timeout = 60)
{
    password_tx_abort_run(STORE_SQLITE, true);
}

Test(password_tx, hash_inside_pg_transaction_aborts, .init = setup, .signal = SIGABRT, .timeout = 60)
{
    if (!testdb_pg_url())
        testdb_missing("ATRIUM_TEST_PG_URL");
    password_tx_abort_run(STORE_PG, false);
}
