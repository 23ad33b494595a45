/* Idempotency records: claiming a key, marking it applied inside the effect's own transaction (a
 * commit hook of the store), storing or dropping the outcome, and the test-only fault point. */
#include "idem/idem.h"

#include "base/buf.h"
#include "base/clock.h"
#include "base/config.h"
#include "base/crypto.h"
#include "base/err.h"
#include "base/log.h"
#include "base/mem.h"

#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>

enum { IDEM_RETAIN_US = 24LL * 3600 * 1000000, IDEM_ABANDONED_US = 60LL * 1000000 };

/* The claim armed on this thread (owned), or NULL. */
static _Thread_local idem_claim *idem_armed;

static void idem_aad(const char *caller, const char *key, buf *out);
static void idem_read(store_rows *r, void *ctx);
static int idem_claim_tx(store_conn *c, void *ctx);
static int idem_commit_hook(store_conn *c, void *ctx);

typedef struct idem_claim_ctx {
    idem_claim *claim;
    const char *hash;
    int64_t created_at, applied_at;
    bool found;
} idem_claim_ctx;

/* ------------------------------------------------------------------------------------------------ */
/* Public                                                                                           */
/* ------------------------------------------------------------------------------------------------ */

int idem_claim_open(store *s, const char *caller, const char *key, const char *request_hash, idem_claim *out)
{
    memset(out, 0, sizeof *out);
    out->caller = xstrdup(caller);
    out->key = xstrdup(key);
    idem_claim_ctx x = {out, request_hash, 0, 0, false};
    return store_tx(s, true, idem_claim_tx, &x);
}

/* Frees what c owns and zeroes it; safe on a zeroed claim. */
void idem_claim_cleanup(idem_claim *c)
{
    free(c->caller);
    free(c->key);
    free(c->replay.content_type);
    free(c->replay.location);
    free(c->replay.body);
    memset(c, 0, sizeof *c);
}

void idem_arm(idem_claim *c)
{
    if (idem_armed) {
        log_msg(LOG_ERROR, "idem_arm: a claim was still armed on this thread; released unrecorded");
        idem_claim_cleanup(idem_armed);
        free(idem_armed);
    }
    idem_armed = xmalloc(sizeof *idem_armed);
    *idem_armed = *c;
    memset(c, 0, sizeof *c);
    store_set_commit_hook(idem_commit_hook, idem_armed);
}

/* Disarms, then (after the fault point the crash tests use) stores or drops the record under the
 * claim's token, so a run that lost its record to a takeover never overwrites the new owner's. */
void idem_finish(store *s, int status, const char *content_type, const char *location, const char *body,
                 size_t body_len)
{
    idem_claim *c = idem_armed;
    store_conn *conn = NULL;
    buf aad;
    char *sealed = NULL;
    if (!c)
        return;
    idem_armed = NULL;
    store_set_commit_hook(NULL, NULL);
    idem_fault_point("idem_after_effect");
    buf_init(&aad);
    int rc = store_acquire(s, &conn);
    if (rc != AT_OK)
        goto out;
    if (status >= 500) {
        /* Nothing committed: the client may retry. Something did: keep the record, so the retry
         * answers "outcome unknown" instead of doing it twice. */
        store_arg del[] = {sa_text(c->caller), sa_text(c->key), sa_int(c->token)};
        rc = store_exec(conn,
                        "DELETE FROM idempotency_keys WHERE caller = $1 AND idem_key = $2 AND created_at = $3 "
                        "AND state = 'pending' AND applied_at IS NULL",
                        del, 3, NULL);
    } else {
        idem_aad(c->caller, c->key, &aad);
        if (body)
            sealed = crypto_seal(body, body_len, aad.data);
        store_arg args[] = {sa_int(status), sa_text(content_type), sa_text(location),
                            sa_text(sealed),      sa_text(c->caller),         sa_text(c->key),
                            sa_int(c->token)};
        rc = store_exec(conn,
                        "UPDATE idempotency_keys SET state = 'done', status = $1, content_type = $2, location = $3, "
                        "body = $4 WHERE caller = $5 AND idem_key = $6 AND created_at = $7",
                        args, 7, NULL);
    }
    store_release(conn);
out:
    if (rc != AT_OK)
        log_event(LOG_ERROR, "idempotency record not updated", json_pack("{s:s}", "status", at_status_name(rc)));
    free(sealed);
    buf_free(&aad);
    idem_claim_cleanup(c);
    free(c);
}

void idem_fault_point(const char *name)
{
#ifndef NDEBUG
    const char *want = getenv("ATRIUM_TEST_FAULT");
    if (!want || strcmp(want, name) != 0 || config_get()->env != ENV_TEST)
        return;
    log_event(LOG_ERROR, "test fault injected: aborting", json_pack("{s:s}", "point", name));
    struct rlimit none = {0, 0};
    setrlimit(RLIMIT_CORE, &none);
    abort();
#else
    (void)name;
#endif
}

/* ------------------------------------------------------------------------------------------------ */
/* Helpers                                                                                          */
/* ------------------------------------------------------------------------------------------------ */

/* The associated data that binds a sealed body to its caller and key. */
static void idem_aad(const char *caller, const char *key, buf *out)
{
    buf_printf(out, "idempotency.body:%s:%s", caller, key);
}

/* Reads the record row into the claim: the outcome for a finished or mismatched record, the stored
 * response of a finished one, and the times the claim transaction decides a pending one by. */
static void idem_read(store_rows *r, void *ctx)
{
    idem_claim_ctx *x = ctx;
    idem_claim *c = x->claim;
    x->found = true;
    x->created_at = store_rows_int(r, 6);
    x->applied_at = store_rows_is_null(r, 7) ? 0 : store_rows_int(r, 7);
    if (strcmp(store_rows_text(r, 0), x->hash) != 0) {
        c->outcome = IDEM_MISMATCH;
        return;
    }
    if (strcmp(store_rows_text(r, 1), "done") != 0) {
        c->outcome = IDEM_IN_PROGRESS; /* idem_claim_tx decides an old one */
        return;
    }
    c->outcome = IDEM_REPLAY;
    c->replay.status = (int)store_rows_int(r, 2);
    c->replay.content_type = store_rows_is_null(r, 3) ? NULL : xstrdup(store_rows_text(r, 3));
    c->replay.location = store_rows_is_null(r, 4) ? NULL : xstrdup(store_rows_text(r, 4));
    if (store_rows_is_null(r, 5))
        return;
    buf aad;
    buf_init(&aad);
    idem_aad(c->caller, c->key, &aad);
    size_t cap = strlen(store_rows_text(r, 5)) + 1;
    c->replay.body = xmalloc(cap);
    if (crypto_open(store_rows_text(r, 5), aad.data, c->replay.body, cap, &c->replay.body_len) != AT_OK) {
        /* Unreadable (the key changed): the effect happened, so it must not run again. */
        free(c->replay.body);
        c->replay.body = NULL;
        c->outcome = IDEM_UNKNOWN;
    } else {
        c->replay.body[c->replay.body_len] = '\0';
    }
    buf_free(&aad);
}

/* The claim transaction: drops an expired record, reads the live one under a row lock, and inserts
 * a first record, or judges a pending one over a minute old: lost if applied, else taken over. */
static int idem_claim_tx(store_conn *conn, void *ctx)
{
    idem_claim_ctx *x = ctx;
    idem_claim *c = x->claim;
    int64_t now = clock_now_us();
    c->outcome = IDEM_PROCEED;
    free(c->replay.content_type);
    free(c->replay.location);
    free(c->replay.body);
    memset(&c->replay, 0, sizeof c->replay);
    x->found = false;

    store_arg expire[] = {sa_text(c->caller), sa_text(c->key), sa_int(now - IDEM_RETAIN_US)};
    int rc = store_exec(conn, "DELETE FROM idempotency_keys WHERE caller = $1 AND idem_key = $2 AND created_at < $3",
                        expire, 3, NULL);
    store_arg key[] = {sa_text(c->caller), sa_text(c->key)};
    if (rc == AT_OK)
        rc = store_query_one(conn,
                             "SELECT request_hash, state, status, content_type, location, body, created_at, applied_at "
                             "FROM idempotency_keys WHERE caller = $1 AND idem_key = $2 FOR UPDATE",
                             key, 2, idem_read, x);
    if (rc == AT_ENOTFOUND) {
        /* Two first uses at once (PostgreSQL runs them side by side): the loser sees "in progress". */
        int64_t added = 0;
        store_arg ins[] = {sa_text(c->caller), sa_text(c->key), sa_text(x->hash), sa_int(now)};
        rc = store_exec(conn,
                        "INSERT INTO idempotency_keys (caller, idem_key, request_hash, state, created_at) "
                        "VALUES ($1, $2, $3, 'pending', $4) ON CONFLICT (caller, idem_key) DO NOTHING",
                        ins, 4, &added);
        c->token = now;
        if (rc == AT_OK && added == 0)
            c->outcome = IDEM_IN_PROGRESS;
        return rc;
    }
    if (rc != AT_OK || c->outcome != IDEM_IN_PROGRESS || now - x->created_at <= IDEM_ABANDONED_US)
        return rc;
    /* Pending for over a minute: its request died. If its effect committed, the response is lost and
     * the request must not run again. */
    if (x->applied_at) {
        c->outcome = IDEM_UNKNOWN;
        return AT_OK;
    }
    /* Abandoned before any effect committed: this request takes the record over under a new token. */
    store_arg take[] = {sa_int(now), sa_text(c->caller), sa_text(c->key)};
    rc = store_exec(conn,
                    "UPDATE idempotency_keys SET created_at = $1 WHERE caller = $2 AND idem_key = $3 "
                    "AND applied_at IS NULL",
                    take, 3, NULL);
    c->token = now;
    c->outcome = IDEM_PROCEED;
    return rc;
}

/* The store's commit hook while a claim is armed: marks the record applied inside the committing
 * transaction. A record no longer under our token (taken over, or expired) refuses the commit, so the
 * effect rolls back instead of happening twice. */
static int idem_commit_hook(store_conn *conn, void *ctx)
{
    idem_claim *c = ctx;
    int64_t changed = 0;
    store_arg a[] = {sa_int(clock_now_us()), sa_text(c->caller), sa_text(c->key), sa_int(c->token)};
    int rc = store_exec(conn,
                        "UPDATE idempotency_keys SET applied_at = COALESCE(applied_at, $1) "
                        "WHERE caller = $2 AND idem_key = $3 AND created_at = $4 AND state = 'pending'",
                        a, 4, &changed);
    if (rc == AT_OK && changed != 1) {
        log_msg(LOG_WARN, "idempotency record taken over or gone; the effect is rolled back");
        rc = AT_ECONFLICT;
    }
    return rc;
}
