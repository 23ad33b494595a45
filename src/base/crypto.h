/* Cryptographic helpers over libsodium (DESIGN.md §5).
 *
 * Tokens we only verify (sessions, API keys, invitations, resets) are random, shown once, and stored as
 * a keyed BLAKE2b digest under the server's hashing key. The key comes from ATRIUM_SECRET_KEY or from
 * <data dir>/keys/hash.key (created with mode 0600 on a fresh install), never from the database. The
 * database keeps only the key's fingerprint, so a process with another key (or none) is refused. */
#ifndef AT_CRYPTO_H
#define AT_CRYPTO_H

#include <stdbool.h>
#include <stddef.h>

enum { CRYPTO_KEY_BYTES = 32, CRYPTO_DIGEST_HEX = 65 /* 32 bytes as hex + NUL */ };

/* crypto_setup must run once in main() before any thread starts. Returns AT_OK or AT_EINTERNAL. */
int crypto_setup(void);
/* crypto_load_key installs the hashing key from hex text (64 chars) or from the key file under
 * data_dir. An absent file is created only when may_create (then *created_out, optional, is set);
 * otherwise the answer is AT_ENOTFOUND. Returns AT_OK, AT_ENOTFOUND or AT_EINVAL, with a message in
 * err (256 bytes) on failure. */
int crypto_load_key(const char *hex_or_null, const char *data_dir, bool may_create, bool *created_out, char err[256]);
/* crypto_key_fingerprint writes the installed key's fingerprint (hex): what the database records to
 * recognise its key (src/cli/setup.c). */
void crypto_key_fingerprint(char out[CRYPTO_DIGEST_HEX]);

void crypto_random(void *out, size_t len);
/* crypto_token writes `bytes` random bytes as unpadded base64url + NUL into out (cap bytes). */
void crypto_token(size_t bytes, char *out, size_t cap);
/* crypto_keyed_hex writes the keyed BLAKE2b-256 of (data, len) as lowercase hex into out. */
void crypto_keyed_hex(const void *data, size_t len, char out[CRYPTO_DIGEST_HEX]);
/* Secrets we must replay (DESIGN.md §5) are sealed: XChaCha20-Poly1305 under a key derived from the
 * server key, a random nonce per value, and `aad` (the owning workspace and row) bound in, so a value
 * copied to another row does not open. The text form is "v1." + base64url(nonce | ciphertext), where
 * "v1" names the key for rotation. crypto_seal returns a new string the caller frees. crypto_open writes
 * the plaintext into out (cap bytes, NUL-terminated) and returns AT_OK, or AT_EINVAL when the value was
 * tampered with, moved, or sealed under another key. */
char *crypto_seal(const void *plain, size_t len, const char *aad);
int crypto_open(const char *sealed, const char *aad, char *out, size_t cap, size_t *len_out);

/* The key travelling with a backup (`atrium backup --with-key`): crypto_key_wrap returns a new text
 * (the caller frees it; NULL when Argon2 lacks memory) holding the installed key sealed under the
 * passphrase (Argon2id + XSalsa20-Poly1305). crypto_key_unwrap opens such a text and installs its key:
 * AT_OK, or AT_EINVAL for a wrong passphrase or a damaged text. crypto_key_save writes the installed
 * key to <data_dir>/keys/hash.key, which must not exist yet (AT_EINVAL with a message otherwise). */
char *crypto_key_wrap(const char *passphrase, size_t len);
int crypto_key_unwrap(const char *text, const char *passphrase, size_t len);
int crypto_key_save(const char *data_dir, char err[256]);

/* crypto_sha256_file writes the SHA-256 of a file's contents as lowercase hex (the checksum beside a
 * backup, as `sha256sum` prints it). AT_OK, or AT_EINVAL when the file cannot be read. */
int crypto_sha256_file(const char *path, char out[CRYPTO_DIGEST_HEX]);

/* Constant-time comparison of two equal-length byte strings; false when lengths differ. */
bool crypto_equal(const void *a, size_t alen, const void *b, size_t blen);

#endif
