/* Idempotency records (DESIGN.md §3, reliability.md T8): the storage behind Idempotency-Key, below
 * api/ so that the record can ride in the same transaction as the effect it guards.
 *
 * How the parts fit:
 *   1. idem_claim looks the caller's key up in its own short transaction. A first use inserts a
 *      'pending' record and the caller proceeds; a finished record is replayed; another request under
 *      the key is a mismatch; a pending record is "in progress" for a minute, then (its request died)
 *      "outcome unknown" if its effect committed, or taken over if not.
 *   2. idem_arm ties the claimed record to the calling thread: from then on every write transaction
 *      this thread commits also marks the record applied (applied_at), inside that transaction, just
 *      before COMMIT (store_set_commit_hook). The effect and the mark commit together or not at all,
 *      so a crash can never leave an effect whose record says "nothing happened".
 *   3. idem_finish (after the response is known) disarms and stores the response ('done'); on a 5xx it
 *      deletes the record instead, unless the effect committed: that record stays, and a retry gets
 *      "outcome unknown" rather than running the effect a second time.
 * A pending record whose effect never committed and that is over a minute old (its process died) may
 * be taken over by a retry; the takeover changes the record's claim token, so if the first run was
 * only slow, its effect transaction finds the token gone and rolls back.
 *
 * Records are keyed by (caller, key) and kept 24 hours. Response bodies are sealed (crypto_seal, bound
 * to the caller and key): a response may carry a secret shown once. */
#ifndef AT_IDEM_H
#define AT_IDEM_H

#include "store/store.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

enum idem_outcome {
    IDEM_PROCEED = 0,     /* first use (or a takeover): run the request */
    IDEM_REPLAY = 1,      /* the stored response is in idem_claim.replay */
    IDEM_MISMATCH = 2,    /* the key was used for another request */
    IDEM_IN_PROGRESS = 3, /* the first request is still running */
    IDEM_UNKNOWN = 4,     /* the first request died after its effect committed; its response is lost */
};

/* A stored response. Strings are owned by the idem_claim that holds it (idem_claim_cleanup). */
typedef struct idem_response {
    int status;
    char *content_type; /* or NULL */
    char *location;     /* or NULL */
    char *body;         /* NUL-terminated, or NULL */
    size_t body_len;
} idem_response;

/* One use of an Idempotency-Key. Initialised by idem_claim_open; released with idem_claim_cleanup. */
typedef struct idem_claim {
    char *caller;  /* "user:usr_..." or "key:key_..."; owned */
    char *key;     /* owned */
    int64_t token; /* the record's created_at when we claimed it */
    int outcome;   /* enum idem_outcome */
    idem_response replay;
} idem_claim;

/* idem_claim_open looks up (caller, key) for a request whose fingerprint is request_hash and decides the
 * outcome (expired records are deleted first). On AT_OK *out is filled (the caller cleans it up, also
 * on error paths: it is always initialised); otherwise a store status. */
int idem_claim_open(store *s, const char *caller, const char *key, const char *request_hash, idem_claim *out);
void idem_claim_cleanup(idem_claim *c);

/* idem_arm makes every write transaction committed by the calling thread mark c's record applied,
 * until idem_finish. It takes over c's contents (c is left cleaned up). One claim per thread at a time:
 * arming again releases the previous claim unrecorded. */
void idem_arm(idem_claim *c);

/* idem_finish disarms the calling thread and records the outcome of its armed claim (no-op when none
 * is armed): the response (status, content type, Location and body; all borrowed, any may be NULL)
 * is stored when its status is below 500; on a 5xx the record is deleted unless its effect committed.
 * Failures are logged: a lost write here leaves the record pending (a retry then conflicts, or, when
 * no effect committed, runs again after a minute). */
void idem_finish(store *s, int status, const char *content_type, const char *location, const char *body,
                 size_t body_len);

/* idem_fault_point aborts the process, without a core dump, when the build has assertions on (test
 * builds; never a release build), ATRIUM_ENV is test and ATRIUM_TEST_FAULT names this point. It lets
 * the API tests crash the server between an effect and its response. */
void idem_fault_point(const char *name);

#endif
