/* Idempotency-Key (DESIGN.md §3, reliability.md §3 and T8), the HTTP side of the server's hook: it
 * validates the key, names the caller's scope and fingerprints the request, then lets idem/ (the
 * records, which commit with the effect) decide, and answers: a replay of the stored response, 422 for
 * a key reused with another request, 409 while the first is in progress or when its effect committed
 * but its response was lost. Keys are scoped to the caller (the user of a session or the API key), so
 * one tenant can never replay another's response. */
#include "api/api.h"

#include "base/crypto.h"
#include "base/err.h"
#include "idem/idem.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

enum { IDEM_KEY_MAX = 255 };

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

/* Answers a claim that does not proceed: the replay, or the problem for its outcome. */
static int idem_reply(http_req *req, const idem_claim *c)
{
    switch (c->outcome) {
    case IDEM_REPLAY:
        http_set_header(req, "Idempotent-Replayed", "true");
        if (c->replay.location)
            http_set_header(req, "Location", c->replay.location);
        if (c->replay.body)
            http_reply_text(req, c->replay.status,
                            c->replay.content_type ? arena_strdup(&req->arena, c->replay.content_type) : NULL,
                            c->replay.body, c->replay.body_len);
        else
            http_reply_empty(req, c->replay.status);
        return AT_ECONFLICT;
    case IDEM_MISMATCH:
        http_reply_problem(req, 422, "idempotency-key-reused", "This Idempotency-Key was used for a different request.",
                           "Use a new key for a new request; a key replays only the request it was first used with.");
        return AT_EINVAL;
    case IDEM_UNKNOWN:
        http_reply_problem(req, 409, "idempotency-key-outcome-unknown",
                           "The request with this Idempotency-Key took effect, but its response was lost.",
                           "It is not run again. Look the result up (for example in the list it created an "
                           "entry in) instead of retrying with this key.");
        return AT_ECONFLICT;
    default:
        http_set_header(req, "Retry-After", "1");
        http_reply_problem(req, 409, "idempotency-key-in-progress",
                           "A request with this Idempotency-Key is still being processed.", NULL);
        return AT_EBUSY;
    }
}

static int idem_begin(http_req *req, const char *key)
{
    char caller[80], hash[CRYPTO_DIGEST_HEX];
    idem_claim claim;
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
    int rc = idem_claim_open(api_app_of(req)->store, caller, key, hash, &claim);
    if (rc != AT_OK)
        http_reply_status(req, rc);
    else if (claim.outcome == IDEM_PROCEED)
        idem_arm(&claim);
    else
        rc = idem_reply(req, &claim);
    idem_claim_cleanup(&claim);
    return rc;
}

/* Records the handler's response for the claim armed by idem_begin (nothing when none was). */
static void idem_finish_reply(http_req *req, const char *key)
{
    (void)key;
    idem_finish(api_app_of(req)->store, req->status, req->content_type, http_response_header(req, "Location"),
                req->out.data, req->out.len);
}

const http_idempotency api_idempotency = {idem_begin, idem_finish_reply};
