/* Idempotency-Key (DESIGN.md §3, reliability.md §3 and T8), the storage behind the HTTP layer's hook:
 * the first request with a key runs and its response is stored; the same key with the same request
 * replays that response for 24 hours; the same key with another request is 422; while the first is
 * still running, 409. Keys are scoped to the caller (the user of a session or the API key), so one
 * tenant can never replay another's response. A 5xx is not stored: the client may retry it. Stored
 * bodies are sealed (crypto_seal, bound to the caller and key), since a response may carry a secret
 * shown once, such as a new API key. */
#include "api/api.h"

#include "base/clock.h"
#include "base/crypto.h"
#include "base/err.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

enum { IDEM_RETAIN_US = 24LL * 3600 * 1000000, IDEM_ABANDONED_US = 60LL * 1000000, IDEM_KEY_MAX = 255 };

/* The caller's scope, or NULL for an anonymous request (which gets no idempotency). */
static const char *idem_caller(http_req *req, char out[80])
{
    const api_principal *p = api_principal_of(req);
    if (!p)
        return NULL;
    if (p->key_id[0])
        snprintf(out, 80, "key:%s", p->key_id);
    else
        snprintf(out, 80, "user:%s", p->user.id);
    return out;
}

static void idem_request_hash(http_req *req, char out[CRYPTO_DIGEST_HEX])
{
    buf b;
    buf_init(&b);
    buf_printf(&b, "%s %s\n", req->method_name, req->path);
    if (req->body)
        buf_append(&b, req->body, req->body_len);
    crypto_keyed_hex(b.data, b.len, out);
    buf_free(&b);
}

typedef struct idem_ctx {
    const char *caller, *key, *hash;
    int outcome; /* 0 proceed, 1 replay, 2 mismatch, 3 in progress */
    int status;
    char *content_type, *location, *body;
} idem_ctx;

static void idem_read(store_rows *r, void *ctx)
{
    idem_ctx *x = ctx;
    int64_t now = clock_now_us();
    const char *state = store_rows_text(r, 1);
    if (strcmp(store_rows_text(r, 0), x->hash) != 0)
        x->outcome = 2;
    else if (strcmp(state, "done") == 0) {
        x->outcome = 1;
        x->status = (int)store_rows_int(r, 2);
        x->content_type = store_rows_is_null(r, 3) ? NULL : strdup(store_rows_text(r, 3));
        x->location = store_rows_is_null(r, 4) ? NULL : strdup(store_rows_text(r, 4));
        if (!store_rows_is_null(r, 5)) {
            char aad[400];
            size_t cap = strlen(store_rows_text(r, 5)) + 1, len = 0;
            snprintf(aad, sizeof(aad), "idempotency.body:%s:%s", x->caller, x->key);
            x->body = malloc(cap);
            if (x->body && crypto_open(store_rows_text(r, 5), aad, x->body, cap, &len) != AT_OK) {
                free(x->body);
                x->body = NULL;
                x->outcome = 0; /* an unreadable record (key changed): run the request again */
            }
        }
    } else {
        /* A pending record older than a minute was abandoned (the process died mid-request). */
        x->outcome = now - store_rows_int(r, 6) > IDEM_ABANDONED_US ? 0 : 3;
    }
}

static int idem_begin_tx(store_conn *c, void *ctx)
{
    idem_ctx *x = ctx;
    int64_t now = clock_now_us();
    x->outcome = 0;
    store_arg expire[] = {sa_text(x->caller), sa_text(x->key), sa_int(now - IDEM_RETAIN_US)};
    int rc = store_exec(c, "DELETE FROM idempotency_keys WHERE caller = $1 AND idem_key = $2 AND created_at < $3",
                        expire, 3, NULL);
    store_arg key[] = {sa_text(x->caller), sa_text(x->key)};
    if (rc == AT_OK)
        rc = store_query_one(c,
                             "SELECT request_hash, state, status, content_type, location, body, created_at "
                             "FROM idempotency_keys WHERE caller = $1 AND idem_key = $2 FOR UPDATE",
                             key, 2, idem_read, x);
    if (rc == AT_ENOTFOUND) {
        /* Two first uses at once (PostgreSQL runs them side by side): the loser sees "in progress". */
        int64_t added = 0;
        store_arg ins[] = {sa_text(x->caller), sa_text(x->key), sa_text(x->hash), sa_int(now)};
        rc = store_exec(c,
                        "INSERT INTO idempotency_keys (caller, idem_key, request_hash, state, created_at) "
                        "VALUES ($1, $2, $3, 'pending', $4) ON CONFLICT (caller, idem_key) DO NOTHING",
                        ins, 4, &added);
        if (rc == AT_OK && added == 0)
            x->outcome = 3;
        return rc;
    }
    if (rc == AT_OK && x->outcome == 0) {
        store_arg take[] = {sa_int(now), sa_text(x->caller), sa_text(x->key)};
        rc = store_exec(c, "UPDATE idempotency_keys SET created_at = $1 WHERE caller = $2 AND idem_key = $3", take, 3,
                        NULL);
    }
    return rc;
}

static int idem_begin(http_req *req, const char *key)
{
    char caller[80], hash[CRYPTO_DIGEST_HEX];
    size_t n = strlen(key);
    bool ok = n >= 1 && n <= IDEM_KEY_MAX;
    for (size_t i = 0; ok && i < n; i++)
        ok = key[i] > 0x20 && key[i] < 0x7f;
    if (!ok) {
        field_errors errs;
        fe_init(&errs, &req->arena);
        fe_add(&errs, "Idempotency-Key", "format", "Must be 1 to 255 visible ASCII characters.");
        http_reply_invalid(req, &errs);
        return AT_EINVAL;
    }
    if (!idem_caller(req, caller))
        return AT_OK;
    idem_request_hash(req, hash);
    idem_ctx x = {caller, key, hash, 0, 0, NULL, NULL, NULL};
    int rc = store_tx(api_app_of(req)->store, true, idem_begin_tx, &x);
    if (rc != AT_OK) {
        http_reply_status(req, rc);
        goto out;
    }
    switch (x.outcome) {
    case 1:
        http_set_header(req, "Idempotent-Replayed", "true");
        if (x.location)
            http_set_header(req, "Location", x.location);
        if (x.body)
            http_reply_text(req, x.status, x.content_type ? arena_strdup(&req->arena, x.content_type) : NULL, x.body,
                            strlen(x.body));
        else
            http_reply_empty(req, x.status);
        rc = AT_ECONFLICT;
        break;
    case 2:
        http_reply_problem(req, 422, "idempotency-key-reused",
                           "This Idempotency-Key was used for a different request.",
                           "Use a new key for a new request; a key replays only the request it was first used with.");
        rc = AT_EINVAL;
        break;
    case 3:
        http_set_header(req, "Retry-After", "1");
        http_reply_problem(req, 409, "idempotency-key-in-progress",
                           "A request with this Idempotency-Key is still being processed.", NULL);
        rc = AT_EBUSY;
        break;
    default:
        rc = AT_OK;
    }
out:
    free(x.content_type);
    free(x.location);
    free(x.body);
    return rc;
}

static void idem_finish(http_req *req, const char *key)
{
    char caller[80];
    store_conn *c = NULL;
    if (!idem_caller(req, caller) || store_acquire(api_app_of(req)->store, &c) != AT_OK)
        return;
    if (req->status >= 500) {
        store_arg del[] = {sa_text(caller), sa_text(key)};
        (void)store_exec(c, "DELETE FROM idempotency_keys WHERE caller = $1 AND idem_key = $2 AND state = 'pending'",
                         del, 2, NULL);
    } else {
        char aad[400];
        snprintf(aad, sizeof(aad), "idempotency.body:%s:%s", caller, key);
        char *sealed = req->out.data ? crypto_seal(req->out.data, req->out.len, aad) : NULL;
        store_arg args[] = {sa_int(req->status), sa_text(req->content_type), sa_text(http_response_header(req, "Location")),
                            sa_text(sealed), sa_text(caller), sa_text(key)};
        /* A lost write here means a retry runs again; the effect's own uniqueness rules still hold. */
        (void)store_exec(c,
                         "UPDATE idempotency_keys SET state = 'done', status = $1, content_type = $2, location = $3, "
                         "body = $4 WHERE caller = $5 AND idem_key = $6",
                         args, 6, NULL);
        free(sealed);
    }
    store_release(c);
}

const http_idempotency api_idempotency = {idem_begin, idem_finish};
