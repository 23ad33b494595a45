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

/* CRYPTO_DIGEST_HEX holds a digest's text: an optional key id prefix "kN." and 32 bytes as hex + NUL. */
enum { CRYPTO_KEY_BYTES = 32, CRYPTO_KEYS_MAX = 32, CRYPTO_KID_MAX = 8, CRYPTO_DIGEST_HEX = 64 + CRYPTO_KID_MAX + 1 };

/* crypto_setup must run once in main() before any thread starts. Returns AT_OK or AT_EINTERNAL. */
int crypto_setup(void);
/* crypto_load_key installs the hashing key from hex text (64 chars) or from the key file under
 * data_dir. An absent file is created only when may_create (then *created_out, optional, is set);
 * otherwise the answer is AT_ENOTFOUND. Returns AT_OK, AT_ENOTFOUND or AT_EINVAL, with a message in
 * err (256 bytes) on failure. */
int crypto_load_key(const char *hex_or_null, const char *data_dir, bool may_create, bool *created_out, char err[256]);
/* crypto_kid_number is N of a key id "kN" (1..99999), or 0 when the text is no key id. */
int crypto_kid_number(const char *kid);
/* Key rotation. The keys form a ring: "k1" is the instance's first key (keys/hash.key or
 * ATRIUM_SECRET_KEY); `atrium keys rotate` adds keys/kN.key (N = 2, 3, ...), which crypto_load_key also
 * loads. One key is active: it makes every new digest and sealed value; the others only verify. Every
 * keyed digest names its key: digests under k1 are plain hex (as before rotation existed), under kN
 * they are "kN." + hex; sealed values start "v1." (k1) or "kN.". The database records each key's
 * fingerprint and which one is active (src/cli/setup.c, which calls crypto_key_activate).
 * crypto_key_count and crypto_key_id enumerate the ring (slot 0 is k1, then ascending N);
 * crypto_key_activate makes a loaded key active (AT_ENOTFOUND when it is not loaded).
 * crypto_key_fingerprint writes a key's fingerprint (hex, no prefix): what the database records to
 * recognise it; AT_ENOTFOUND when that key is not loaded. crypto_key_new creates the next key file
 * keys/kN.key under data_dir (N above every loaded key and above `above`, 0600, never overwriting) and
 * adds it to the ring, not active; its id goes to kid_out. AT_OK or AT_EINVAL with a message. */
int crypto_key_count(void);
const char *crypto_key_id(int slot);
const char *crypto_key_active(void);
int crypto_key_activate(const char *kid);
int crypto_key_fingerprint(const char *kid, char out[CRYPTO_DIGEST_HEX]);
int crypto_key_new(const char *data_dir, int above, char kid_out[CRYPTO_KID_MAX], char err[256]);

void crypto_random(void *out, size_t len);
/* crypto_token writes `bytes` random bytes as unpadded base64url + NUL into out (cap bytes). */
void crypto_token(size_t bytes, char *out, size_t cap);
/* crypto_keyed_hex writes the keyed BLAKE2b-256 of (data, len) under the active key as lowercase hex,
 * prefixed with the key id ("kN.") unless the key is k1. To find a stored digest of a presented token,
 * try crypto_keyed_hex_nth for n = 0, 1, ... (the active key first, then the older ones) until it
 * returns false. crypto_keyed_hex_like computes the digest under the key a stored digest names, to
 * verify it (AT_ENOTFOUND, out "", when this process does not hold that key). */
void crypto_keyed_hex(const void *data, size_t len, char out[CRYPTO_DIGEST_HEX]);
bool crypto_keyed_hex_nth(int n, const void *data, size_t len, char out[CRYPTO_DIGEST_HEX]);
int crypto_keyed_hex_like(const char *stored, const void *data, size_t len, char out[CRYPTO_DIGEST_HEX]);
/* Secrets we must replay (DESIGN.md §5) are sealed: XChaCha20-Poly1305 under a key derived from the
 * server key, a random nonce per value, and `aad` (the owning workspace and row) bound in, so a value
 * copied to another row does not open. The text form is "v1." (k1) or "kN." + base64url(nonce |
 * ciphertext): the prefix names the key, so a value sealed before a rotation still opens. crypto_seal returns a new
 * string the caller frees. crypto_open writes the plaintext into out (cap bytes, NUL-terminated) and returns AT_OK, or
 * AT_EINVAL when the value was tampered with, moved, or sealed under another key. */
char *crypto_seal(const void *plain, size_t len, const char *aad);
int crypto_open(const char *sealed, const char *aad, char *out, size_t cap, size_t *len_out);

/* The key travelling with a backup (`atrium backup --with-key`): crypto_key_wrap returns a new text
 * (the caller frees it; NULL when Argon2 lacks memory) holding the installed key sealed under the
 * passphrase (Argon2id + XSalsa20-Poly1305); only k1, so `backup --with-key` refuses after a rotation.
 * crypto_key_unwrap opens such a text and installs its key: AT_OK, or AT_EINVAL for a wrong passphrase or a damaged
 * text. crypto_key_save writes the installed key to <data_dir>/keys/hash.key, which must not exist yet (AT_EINVAL with
 * a message otherwise). */
char *crypto_key_wrap(const char *passphrase, size_t len);
int crypto_key_unwrap(const char *text, const char *passphrase, size_t len);
int crypto_key_save(const char *data_dir, char err[256]);

/* crypto_sha256_file writes the SHA-256 of a file's contents as lowercase hex (the checksum beside a
 * backup, as `sha256sum` prints it). AT_OK, or AT_EINVAL when the file cannot be read. */
int crypto_sha256_file(const char *path, char out[CRYPTO_DIGEST_HEX]);

/* Constant-time comparison of two equal-length byte strings; false when lengths differ. */
bool crypto_equal(const void *a, size_t alen, const void *b, size_t blen);

#endif
