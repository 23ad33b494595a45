/* The store's per-thread commit hook and the out-of-space status (issue 12 items 15 and 16), on both
 * backends. */
#include "store/store_impl.h"
#include "store/testdb.h"

#include <criterion/criterion.h>
#include <string.h>

typedef struct hook_seen {
    int calls;
    int answer; /* what the hook returns */
} hook_seen;

/* Counts its calls and writes a marker row inside the committing transaction. */
static int hook_mark(store_conn *c, void *ctx)
{
    hook_seen *h = ctx;
    h->calls++;
    if (h->answer != AT_OK)
        return h->answer;
    return store_exec(c, "INSERT INTO marks (n) VALUES (1)", NULL, 0, NULL);
}

static int64_t count_of(store *s, const char *sql)
{
    store_conn *c = NULL;
    int64_t n = -1;
    cr_assert_eq(store_acquire(s, &c), AT_OK);
    cr_assert_eq(store_query_int(c, sql, NULL, 0, &n), AT_OK);
    store_release(c);
    return n;
}

static int tx_insert_item(store_conn *c, void *ctx)
{
    (void)ctx;
    return store_exec(c, "INSERT INTO items (n) VALUES (1)", NULL, 0, NULL);
}

static int tx_read(store_conn *c, void *ctx)
{
    int64_t n = 0;
    (void)ctx;
    return store_query_int(c, "SELECT COUNT(*) FROM items", NULL, 0, &n);
}

STORE_TEST(store_hooks, commit_hook_runs_inside_write_transactions_only)
{
    store_conn *c = NULL;
    cr_assert_eq(store_acquire(t->s, &c), AT_OK);
    cr_assert_eq(store_exec(c, "CREATE TABLE items (n INTEGER)", NULL, 0, NULL), AT_OK);
    cr_assert_eq(store_exec(c, "CREATE TABLE marks (n INTEGER)", NULL, 0, NULL), AT_OK);
    store_release(c);

    hook_seen h = {0, AT_OK};
    store_set_commit_hook(hook_mark, &h);
    cr_assert_eq(store_tx(t->s, true, tx_insert_item, NULL), AT_OK);
    cr_assert_eq(h.calls, 1);
    cr_assert_eq(count_of(t->s, "SELECT COUNT(*) FROM marks"), 1, "the hook's write committed with the effect");
    cr_assert_eq(store_tx(t->s, false, tx_read, NULL), AT_OK);
    cr_assert_eq(h.calls, 1, "a read transaction does not run the hook");

    /* A refusing hook rolls the effect back and its status is what store_tx returns. */
    h.answer = AT_ECONFLICT;
    cr_assert_eq(store_tx(t->s, true, tx_insert_item, NULL), AT_ECONFLICT);
    cr_assert_eq(count_of(t->s, "SELECT COUNT(*) FROM items"), 1, "the effect was rolled back");

    store_set_commit_hook(NULL, NULL);
    cr_assert_eq(store_tx(t->s, true, tx_insert_item, NULL), AT_OK);
    cr_assert_eq(h.calls, 2, "a removed hook does not run");
    cr_assert_eq(count_of(t->s, "SELECT COUNT(*) FROM items"), 2);
}

static int tx_insert_blob(store_conn *c, void *ctx)
{
    const char *text = ctx;
    store_arg a[] = {sa_text(text)};
    return store_exec(c, "INSERT INTO blobs (t) VALUES ($1)", a, 1, NULL);
}

STORE_TEST(store_hooks, out_of_space_is_its_own_status_and_recovers)
{
    store_conn *c = NULL;
    char *text = calloc(1, 16 * 1024 + 1);
    memset(text, 'x', 16 * 1024);
    cr_assert_eq(store_acquire(t->s, &c), AT_OK);
    cr_assert_eq(store_exec(c, "CREATE TABLE blobs (t TEXT)", NULL, 0, NULL), AT_OK);
    store_release(c);
    if (t->kind == STORE_SQLITE) {
        cr_assert_eq(store_cap_pages(t->s, true), AT_OK);
    } else {
        cr_assert_eq(store_cap_pages(t->s, true), AT_EINVAL, "PostgreSQL has no page cap");
        cr_assert_eq(store_acquire(t->s, &c), AT_OK);
        cr_assert_eq(store_exec(c,
                                "CREATE FUNCTION full_disk() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN "
                                "RAISE EXCEPTION 'No space left on device' USING ERRCODE = '53100'; END $$",
                                NULL, 0, NULL),
                     AT_OK);
        cr_assert_eq(store_exec(c,
                                "CREATE TRIGGER full_disk BEFORE INSERT ON blobs FOR EACH ROW "
                                "EXECUTE FUNCTION full_disk()",
                                NULL, 0, NULL),
                     AT_OK);
        store_release(c);
    }
    cr_assert_eq(store_tx(t->s, true, tx_insert_blob, text), AT_ENOSPACE);
    cr_assert_eq(count_of(t->s, "SELECT COUNT(*) FROM blobs"), 0);
    if (t->kind == STORE_SQLITE) {
        cr_assert_eq(store_cap_pages(t->s, false), AT_OK);
    } else {
        cr_assert_eq(store_acquire(t->s, &c), AT_OK);
        cr_assert_eq(store_exec(c, "DROP TRIGGER full_disk ON blobs", NULL, 0, NULL), AT_OK);
        store_release(c);
    }
    cr_assert_eq(store_tx(t->s, true, tx_insert_blob, text), AT_OK, "writes resume once there is space");
    cr_assert_eq(count_of(t->s, "SELECT COUNT(*) FROM blobs"), 1);
    free(text);
}
