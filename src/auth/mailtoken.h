/* Tokens that travel in a mailed link (password reset, email-change confirmation and undo): 256
 * random bits as base64url, shown once in the link and stored only as a keyed hash (DESIGN.md §5). */
#ifndef AT_MAILTOKEN_H
#define AT_MAILTOKEN_H

#include "base/crypto.h"
#include "store/store.h"

enum { MAILTOKEN_MAX = 64 };

/* mailtoken_new writes a fresh token and its keyed hash. */
void mailtoken_new(char token[MAILTOKEN_MAX], char hash[CRYPTO_DIGEST_HEX]);
/* mailtoken_hash writes the keyed hash of a token someone presented; AT_EINVAL when it cannot be one
 * of ours (NULL, or a length no token has). */
int mailtoken_hash(const char *token, char hash[CRYPTO_DIGEST_HEX]);
/* mailtoken_query finds the row of a presented token that is stored as a keyed digest (a mailed
 * link, a session, an invitation): it runs sql with args[0] set to the token's digest under each key
 * in turn, the active key first, since a token issued before a key rotation is stored under the key of
 * its day (args[0] is overwritten; the other args are the caller's). Returns 1 with *r on the row, 0
 * with *r NULL when no key finds one, or a store error; the caller frees *r. */
int mailtoken_query(store_conn *c, const char *sql, const char *token, store_arg *args, size_t nargs, store_rows **r);
/* mailtoken_link returns a new string "<public URL>/<page>/<token>" (the public URL as configured, or
 * as derived from the listen address); the caller frees it. */
char *mailtoken_link(const char *page, const char *token);

#endif
