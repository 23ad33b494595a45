/* Status codes shared by every layer.
 *
 * Functions return 0 (AT_OK) on success and one of the negative codes below on failure; outputs go
 * through pointer parameters placed last. The HTTP layer maps each code to exactly one status
 * (http_status_for), so domain code never speaks HTTP. */
#ifndef AT_ERR_H
#define AT_ERR_H

enum at_status {
    AT_OK = 0,
    AT_EINVAL = -1,      /* the caller's input is invalid (400/422) */
    AT_ENOTFOUND = -2,   /* no such thing, or not visible to the caller (404) */
    AT_ECONFLICT = -3,   /* a uniqueness rule or a state rule refused the change (409) */
    AT_EBUSY = -4,       /* retryable: SQLITE_BUSY, PostgreSQL serialization failure or deadlock */
    AT_ESTORE = -5,      /* the store failed in a way the caller cannot fix (500/503) */
    AT_EFORBIDDEN = -6,  /* authenticated but not allowed (403) */
    AT_EUNAUTH = -7,     /* not authenticated (401) */
    AT_EPRECOND = -8,    /* a precondition (If-Match) failed (412) */
    AT_ETOOBIG = -9,     /* a size limit was exceeded (413) */
    AT_ECONSTRAINT = -10, /* a foreign key or check constraint refused the change (422) */
    AT_EUNAVAIL = -11,   /* a dependency is unavailable (503) */
    AT_EINTERNAL = -12,  /* an invariant broke; a bug (500) */
    AT_ELIMIT = -13,     /* a rate limit was reached (429) */
    AT_ENOSPACE = -14,   /* the store is out of space: a full disk or database (507); nothing changed */
};

/* at_status_name returns a short stable name for a status code, for logs and tests. */
const char *at_status_name(int status);

#endif
