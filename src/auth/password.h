/* Passwords: Argon2id through libsodium's crypto_pwhash_str (DESIGN.md §5), with the number of hashes
 * computed at once bounded by a semaphore (each uses 64 MiB), and the sign-up/change policy of ASVS:
 * a minimum length, no composition rules, and a refusal of well-known and trivially patterned
 * passwords. */
#ifndef AT_PASSWORD_H
#define AT_PASSWORD_H

#include <stdbool.h>
#include <stddef.h>

enum { PASSWORD_HASH_MAX = 128, PASSWORD_MAX_BYTES = 1024 };

/* password_setup sizes the semaphore (ATRIUM_HASH_CONCURRENCY); call once before threads start, else
 * the first hash sizes it at 2. */
void password_setup(int concurrency);

/* password_hash writes the PHC string ($argon2id$v=19$m=65536,t=2,p=1$...) into out. Returns AT_OK or
 * AT_EINTERNAL (out of memory inside libsodium). */
int password_hash(const char *pw, size_t len, char out[PASSWORD_HASH_MAX]);
/* password_verify reports whether pw matches the stored hash; *needs_rehash (optional) is set when
 * the hash was made with other parameters than today's. */
bool password_verify(const char *stored, const char *pw, size_t len, bool *needs_rehash);
/* password_burn spends the time of one verification on nothing, so an unknown account answers as
 * slowly as a known one. */
void password_burn(const char *pw, size_t len);

/* password_policy_check returns NULL when the password is acceptable for the given account details,
 * else a sentence for the user; *code gets "length" or "common_password". */
const char *password_policy_check(const char *pw, size_t len, int min_length, const char *email, const char *name,
                                  const char **code);

#endif
