/* Tokens that travel in a mailed link (password reset, email-change confirmation and undo): 256
 * random bits as base64url, shown once in the link and stored only as a keyed hash (DESIGN.md §5). */
#ifndef AT_MAILTOKEN_H
#define AT_MAILTOKEN_H

#include "base/crypto.h"

enum { MAILTOKEN_MAX = 64 };

/* mailtoken_new writes a fresh token and its keyed hash. */
void mailtoken_new(char token[MAILTOKEN_MAX], char hash[CRYPTO_DIGEST_HEX]);
/* mailtoken_hash writes the keyed hash of a token someone presented; AT_EINVAL when it cannot be one
 * of ours (NULL, or a length no token has). */
int mailtoken_hash(const char *token, char hash[CRYPTO_DIGEST_HEX]);
/* mailtoken_link returns a new string "<public URL>/<page>/<token>" (the public URL as configured, or
 * as derived from the listen address); the caller frees it. */
char *mailtoken_link(const char *page, const char *token);

#endif
