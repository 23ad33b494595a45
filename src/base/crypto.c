/* libsodium wrappers and the server hashing key. */
#include "base/crypto.h"

#include "base/err.h"
#include "base/mem.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

/* The key ring: slot 0 is "k1", the instance's first key (keys/hash.key or ATRIUM_SECRET_KEY); the
 * others are keys/kN.key made by rotation, in ascending N. Filled before any thread starts. */
typedef struct crypto_ring_key {
    char id[CRYPTO_KID_MAX];
    unsigned char key[CRYPTO_KEY_BYTES];
} crypto_ring_key;

static crypto_ring_key crypto_ring[CRYPTO_KEYS_MAX] = {{.id = "k1"}};
static int crypto_ring_len = 1, crypto_ring_active;

int crypto_setup(void)
{
    return sodium_init() < 0 ? AT_EINTERNAL : AT_OK;
}

/* Reads <dir>/keys/hash.key (32 raw bytes) or, when absent and may_create, creates it (folder 0700,
 * file 0600, written with O_EXCL so two processes never both create it) and sets *created. */
static int crypto_key_file(const char *data_dir, bool may_create, bool *created, char err[256])
{
    char path[4096];
    int fd = -1, rc = AT_EINVAL;
    snprintf(path, sizeof(path), "%s/keys/hash.key", data_dir);
    fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd >= 0) {
        if (read(fd, crypto_ring[0].key, sizeof(crypto_ring[0].key)) != (ssize_t)sizeof(crypto_ring[0].key)) {
            snprintf(err, 256, "key file %s is shorter than %d bytes", path, CRYPTO_KEY_BYTES);
            goto out;
        }
        rc = AT_OK;
        goto out;
    }
    if (errno != ENOENT) {
        snprintf(err, 256, "cannot read key file %s: %s", path, strerror(errno));
        goto out;
    }
    if (!may_create) {
        snprintf(err, 256, "key file %s is missing", path);
        rc = AT_ENOTFOUND;
        goto out;
    }
    /* O_EXCL in crypto_key_save: of two processes creating the key at once, one fails here. */
    randombytes_buf(crypto_ring[0].key, sizeof(crypto_ring[0].key));
    if ((rc = crypto_key_save(data_dir, err)) != AT_OK)
        goto out;
    *created = true;
    rc = AT_OK;
out:
    if (fd >= 0)
        close(fd);
    return rc;
}

/* The number N of a rotated key's file name "kN.key" (N >= 2, at most 5 digits), or 0 for any other. */
static int crypto_ring_number(const char *name)
{
    int n = 0;
    size_t i = 1;
    if (name[0] != 'k')
        return 0;
    for (; name[i] >= '0' && name[i] <= '9' && i <= 5; i++)
        n = n * 10 + (name[i] - '0');
    return i > 1 && name[1] != '0' && n >= 2 && strcmp(name + i, ".key") == 0 ? n : 0;
}

int crypto_kid_number(const char *kid)
{
    int n = 0;
    size_t i = 1;
    if (!kid || kid[0] != 'k')
        return 0;
    for (; kid[i] >= '0' && kid[i] <= '9' && i <= 5; i++)
        n = n * 10 + (kid[i] - '0');
    return i > 1 && kid[i] == '\0' ? n : 0;
}

static int crypto_ring_cmp(const void *a, const void *b)
{
    return crypto_kid_number(((const crypto_ring_key *)a)->id) - crypto_kid_number(((const crypto_ring_key *)b)->id);
}

/* Adds every keys/kN.key of data_dir to the ring (after k1), in ascending N. AT_OK, or AT_EINVAL with a
 * message for a file that cannot be read or is too short, or too many keys. */
static int crypto_ring_load(const char *data_dir, char err[256])
{
    char path[4096];
    int rc = AT_OK;
    snprintf(path, sizeof(path), "%s/keys", data_dir);
    DIR *d = opendir(path);
    if (!d)
        return AT_OK; /* no folder: k1 came from ATRIUM_SECRET_KEY, or a missing k1 is reported elsewhere */
    struct dirent *e;
    while (rc == AT_OK && (e = readdir(d)) != NULL) {
        int n = crypto_ring_number(e->d_name);
        if (!n)
            continue;
        if (crypto_ring_len == CRYPTO_KEYS_MAX) {
            snprintf(err, 256, "more than %d keys in %s", CRYPTO_KEYS_MAX, path);
            rc = AT_EINVAL;
            break;
        }
        crypto_ring_key *k = &crypto_ring[crypto_ring_len];
        snprintf(path, sizeof(path), "%s/keys/%s", data_dir, e->d_name);
        int fd = open(path, O_RDONLY | O_CLOEXEC);
        if (fd < 0 || read(fd, k->key, sizeof(k->key)) != (ssize_t)sizeof(k->key)) {
            snprintf(err, 256, "cannot read the key file %s (%d bytes expected)", path, CRYPTO_KEY_BYTES);
            rc = AT_EINVAL;
        } else {
            snprintf(k->id, sizeof(k->id), "k%d", n);
            crypto_ring_len++;
        }
        if (fd >= 0)
            close(fd);
    }
    closedir(d);
    qsort(crypto_ring + 1, (size_t)crypto_ring_len - 1, sizeof(crypto_ring[0]), crypto_ring_cmp);
    return rc;
}

int crypto_load_key(const char *hex_or_null, const char *data_dir, bool may_create, bool *created_out, char err[256])
{
    bool created = false;
    int rc = AT_OK;
    snprintf(crypto_ring[0].id, sizeof(crypto_ring[0].id), "k1");
    crypto_ring_len = 1;
    crypto_ring_active = 0;
    if (hex_or_null && *hex_or_null) {
        size_t bin_len = 0;
        if (strlen(hex_or_null) != 2 * CRYPTO_KEY_BYTES ||
            sodium_hex2bin(crypto_ring[0].key, sizeof(crypto_ring[0].key), hex_or_null, strlen(hex_or_null), NULL,
                           &bin_len, NULL) != 0 ||
            bin_len != CRYPTO_KEY_BYTES) {
            snprintf(err, 256, "must be %d hexadecimal characters", 2 * CRYPTO_KEY_BYTES);
            rc = AT_EINVAL;
        }
    } else {
        rc = crypto_key_file(data_dir, may_create, &created, err);
    }
    if (rc == AT_OK)
        rc = crypto_ring_load(data_dir, err);
    if (created_out)
        *created_out = created;
    return rc;
}

/* The ring slot of a key id, or -1. */
static int crypto_ring_find(const char *kid, size_t len)
{
    for (int i = 0; i < crypto_ring_len; i++)
        if (strlen(crypto_ring[i].id) == len && strncmp(crypto_ring[i].id, kid, len) == 0)
            return i;
    return -1;
}

/* The key id a stored digest or sealed value starts with ("kN." with N >= 2), as a ring slot: 0 (k1)
 * for text without one, -1 for a key this process does not hold. *skip gets the prefix length. */
static int crypto_ring_of(const char *text, size_t *skip)
{
    const char *dot = text[0] == 'k' ? memchr(text, '.', strnlen(text, CRYPTO_KID_MAX)) : NULL;
    *skip = 0;
    if (!dot)
        return 0;
    *skip = (size_t)(dot - text) + 1;
    return crypto_ring_find(text, (size_t)(dot - text));
}

/* The keyed BLAKE2b-256 of (data, len) under ring slot k, as hex, prefixed "kN." unless k is k1. */
static void crypto_keyed_under(int k, const void *data, size_t len, char out[CRYPTO_DIGEST_HEX])
{
    unsigned char digest[32];
    size_t at = 0;
    if (k > 0)
        at = (size_t)snprintf(out, CRYPTO_DIGEST_HEX, "%s.", crypto_ring[k].id);
    crypto_generichash(digest, sizeof(digest), data, len, crypto_ring[k].key, sizeof(crypto_ring[k].key));
    sodium_bin2hex(out + at, CRYPTO_DIGEST_HEX - at, digest, sizeof(digest));
}

int crypto_key_count(void)
{
    return crypto_ring_len;
}

const char *crypto_key_id(int slot)
{
    return slot >= 0 && slot < crypto_ring_len ? crypto_ring[slot].id : NULL;
}

const char *crypto_key_active(void)
{
    return crypto_ring[crypto_ring_active].id;
}

int crypto_key_activate(const char *kid)
{
    int k = crypto_ring_find(kid, strlen(kid));
    if (k < 0)
        return AT_ENOTFOUND;
    crypto_ring_active = k;
    return AT_OK;
}

/* The fingerprint is a keyed digest of a fixed text, not of the key itself: it identifies the key and
 * reveals nothing a stored token digest does not. It carries no key id prefix. */
int crypto_key_fingerprint(const char *kid, char out[CRYPTO_DIGEST_HEX])
{
    static const char what[] = "atrium key fingerprint v1";
    unsigned char digest[32];
    int k = crypto_ring_find(kid, strlen(kid));
    out[0] = '\0';
    if (k < 0)
        return AT_ENOTFOUND;
    crypto_generichash(digest, sizeof(digest), (const unsigned char *)what, sizeof(what) - 1, crypto_ring[k].key,
                       sizeof(crypto_ring[k].key));
    sodium_bin2hex(out, CRYPTO_DIGEST_HEX, digest, sizeof(digest));
    return AT_OK;
}

int crypto_key_new(const char *data_dir, int above, char kid_out[CRYPTO_KID_MAX], char err[256])
{
    char path[4096];
    int n = above > 1 ? above : 1;
    for (int i = 1; i < crypto_ring_len; i++)
        if (crypto_kid_number(crypto_ring[i].id) > n)
            n = crypto_kid_number(crypto_ring[i].id);
    n++;
    if (crypto_ring_len == CRYPTO_KEYS_MAX || n > 99999) {
        snprintf(err, 256, "no room for another key (at most %d)", CRYPTO_KEYS_MAX);
        return AT_EINVAL;
    }
    crypto_ring_key *k = &crypto_ring[crypto_ring_len];
    randombytes_buf(k->key, sizeof(k->key));
    snprintf(k->id, sizeof(k->id), "k%d", n);
    snprintf(path, sizeof(path), "%s/keys", data_dir);
    if (mkdir(path, 0700) != 0 && errno != EEXIST) {
        snprintf(err, 256, "cannot create %s: %s", path, strerror(errno));
        return AT_EINVAL;
    }
    snprintf(path, sizeof(path), "%s/keys/%s.key", data_dir, k->id);
    int fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
    if (fd < 0) {
        snprintf(err, 256, "cannot create the key file %s: %s", path, strerror(errno));
        return AT_EINVAL;
    }
    int rc = AT_OK;
    if (write(fd, k->key, sizeof(k->key)) != (ssize_t)sizeof(k->key) || fsync(fd) != 0) {
        snprintf(err, 256, "cannot write the key file %s", path);
        unlink(path);
        rc = AT_EINVAL;
    }
    close(fd);
    if (rc == AT_OK) {
        snprintf(kid_out, CRYPTO_KID_MAX, "%s", k->id);
        crypto_ring_len++;
    }
    return rc;
}

/* The wrapped form of the key: "atrium-key-v1." + base64url(salt | nonce | secretbox(key)), where the
 * box key is Argon2id(passphrase, salt) with libsodium's interactive limits. */
static const char crypto_wrap_prefix[] = "atrium-key-v1.";
enum {
    CRYPTO_WRAP_BYTES =
        crypto_pwhash_SALTBYTES + crypto_secretbox_NONCEBYTES + crypto_secretbox_MACBYTES + CRYPTO_KEY_BYTES
};

/* Derives the box key from the passphrase; AT_OK or AT_EINTERNAL (out of memory in Argon2). */
static int crypto_wrap_key(unsigned char box_key[crypto_secretbox_KEYBYTES], const char *pass, size_t len,
                           const unsigned char salt[crypto_pwhash_SALTBYTES])
{
    return crypto_pwhash(box_key, crypto_secretbox_KEYBYTES, pass, len, salt, crypto_pwhash_OPSLIMIT_INTERACTIVE,
                         crypto_pwhash_MEMLIMIT_INTERACTIVE, crypto_pwhash_ALG_ARGON2ID13) == 0
               ? AT_OK
               : AT_EINTERNAL;
}

char *crypto_key_wrap(const char *passphrase, size_t len)
{
    unsigned char raw[CRYPTO_WRAP_BYTES], box_key[crypto_secretbox_KEYBYTES];
    unsigned char *salt = raw, *nonce = raw + crypto_pwhash_SALTBYTES;
    char *out = NULL;
    randombytes_buf(raw, crypto_pwhash_SALTBYTES + crypto_secretbox_NONCEBYTES);
    if (crypto_wrap_key(box_key, passphrase, len, salt) != AT_OK)
        goto wipe;
    crypto_secretbox_easy(nonce + crypto_secretbox_NONCEBYTES, crypto_ring[0].key, sizeof(crypto_ring[0].key), nonce,
                          box_key);
    size_t tlen = sodium_base64_ENCODED_LEN(sizeof(raw), sodium_base64_VARIANT_URLSAFE_NO_PADDING);
    out = xmalloc(sizeof(crypto_wrap_prefix) - 1 + tlen);
    memcpy(out, crypto_wrap_prefix, sizeof(crypto_wrap_prefix) - 1);
    sodium_bin2base64(out + sizeof(crypto_wrap_prefix) - 1, tlen, raw, sizeof(raw),
                      sodium_base64_VARIANT_URLSAFE_NO_PADDING);
wipe:
    sodium_memzero(box_key, sizeof(box_key));
    return out;
}

int crypto_key_unwrap(const char *text, const char *passphrase, size_t len)
{
    unsigned char raw[CRYPTO_WRAP_BYTES], box_key[crypto_secretbox_KEYBYTES], key[CRYPTO_KEY_BYTES];
    size_t plen = sizeof(crypto_wrap_prefix) - 1, rlen = 0;
    int rc = AT_EINVAL;
    if (strncmp(text, crypto_wrap_prefix, plen) != 0 ||
        sodium_base642bin(raw, sizeof(raw), text + plen, strcspn(text + plen, "\r\n"), NULL, &rlen, NULL,
                          sodium_base64_VARIANT_URLSAFE_NO_PADDING) != 0 ||
        rlen != sizeof(raw))
        return AT_EINVAL;
    unsigned char *salt = raw, *nonce = raw + crypto_pwhash_SALTBYTES;
    if (crypto_wrap_key(box_key, passphrase, len, salt) != AT_OK)
        goto wipe;
    if (crypto_secretbox_open_easy(key, nonce + crypto_secretbox_NONCEBYTES,
                                   crypto_secretbox_MACBYTES + CRYPTO_KEY_BYTES, nonce, box_key) == 0) {
        memcpy(crypto_ring[0].key, key, sizeof(key));
        rc = AT_OK;
    }
wipe:
    sodium_memzero(key, sizeof(key));
    sodium_memzero(box_key, sizeof(box_key));
    return rc;
}

int crypto_key_save(const char *data_dir, char err[256])
{
    char path[4096];
    int rc = AT_EINVAL;
    snprintf(path, sizeof(path), "%s/keys", data_dir);
    if (mkdir(path, 0700) != 0 && errno != EEXIST) {
        snprintf(err, 256, "cannot create %s: %s", path, strerror(errno));
        return AT_EINVAL;
    }
    snprintf(path, sizeof(path), "%s/keys/hash.key", data_dir);
    int fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
    if (fd < 0) {
        snprintf(err, 256, "cannot create key file %s: %s", path, strerror(errno));
        return AT_EINVAL;
    }
    if (write(fd, crypto_ring[0].key, sizeof(crypto_ring[0].key)) == (ssize_t)sizeof(crypto_ring[0].key) &&
        fsync(fd) == 0)
        rc = AT_OK;
    else
        snprintf(err, 256, "cannot write key file %s", path);
    close(fd);
    return rc;
}

/* The sealing key, derived from the hashing key so one secret backs both (KDF context "atrseal1"). */
static void crypto_seal_key(int k, unsigned char key[crypto_aead_xchacha20poly1305_ietf_KEYBYTES])
{
    crypto_kdf_derive_from_key(key, crypto_aead_xchacha20poly1305_ietf_KEYBYTES, 1, "atrseal1", crypto_ring[k].key);
}

char *crypto_seal(const void *plain, size_t len, const char *aad)
{
    unsigned char key[crypto_aead_xchacha20poly1305_ietf_KEYBYTES];
    size_t blen = crypto_aead_xchacha20poly1305_ietf_NPUBBYTES + len + crypto_aead_xchacha20poly1305_ietf_ABYTES;
    unsigned char *box = xmalloc(blen);
    unsigned long long clen = 0;
    crypto_seal_key(crypto_ring_active, key);
    randombytes_buf(box, crypto_aead_xchacha20poly1305_ietf_NPUBBYTES);
    crypto_aead_xchacha20poly1305_ietf_encrypt(box + crypto_aead_xchacha20poly1305_ietf_NPUBBYTES, &clen, plain, len,
                                               (const unsigned char *)aad, strlen(aad), NULL, box, key);
    size_t tlen = sodium_base64_ENCODED_LEN(blen, sodium_base64_VARIANT_URLSAFE_NO_PADDING);
    /* "v1." names k1 (values sealed before rotation existed); "kN." any later key. */
    char prefix[CRYPTO_KID_MAX + 1];
    size_t plen = (size_t)snprintf(prefix, sizeof(prefix), "%s.", crypto_ring_active ? crypto_key_active() : "v1");
    char *out = xmalloc(plen + tlen);
    memcpy(out, prefix, plen);
    sodium_bin2base64(out + plen, tlen, box, blen, sodium_base64_VARIANT_URLSAFE_NO_PADDING);
    sodium_memzero(key, sizeof(key));
    free(box);
    return out;
}

int crypto_open(const char *sealed, const char *aad, char *out, size_t cap, size_t *len_out)
{
    unsigned char key[crypto_aead_xchacha20poly1305_ietf_KEYBYTES];
    size_t blen = 0, skip = 3;
    int k = strncmp(sealed, "v1.", 3) == 0 ? 0 : crypto_ring_of(sealed, &skip);
    if (k < 0 || skip == 0)
        return AT_EINVAL;
    const char *body = sealed + skip;
    size_t tlen = strlen(body);
    unsigned long long plen = 0;
    int rc = AT_EINVAL;
    if (!tlen)
        return AT_EINVAL;
    unsigned char *box = xmalloc(tlen); /* base64 text is longer than the bytes it carries */
    if (sodium_base642bin(box, tlen, body, tlen, NULL, &blen, NULL, sodium_base64_VARIANT_URLSAFE_NO_PADDING) != 0 ||
        blen < crypto_aead_xchacha20poly1305_ietf_NPUBBYTES + crypto_aead_xchacha20poly1305_ietf_ABYTES ||
        blen - crypto_aead_xchacha20poly1305_ietf_NPUBBYTES - crypto_aead_xchacha20poly1305_ietf_ABYTES >= cap)
        goto out;
    crypto_seal_key(k, key);
    if (crypto_aead_xchacha20poly1305_ietf_decrypt((unsigned char *)out, &plen, NULL,
                                                   box + crypto_aead_xchacha20poly1305_ietf_NPUBBYTES,
                                                   blen - crypto_aead_xchacha20poly1305_ietf_NPUBBYTES,
                                                   (const unsigned char *)aad, strlen(aad), box, key) == 0) {
        out[plen] = '\0';
        if (len_out)
            *len_out = (size_t)plen;
        rc = AT_OK;
    }
    sodium_memzero(key, sizeof(key));
out:
    free(box);
    return rc;
}

void crypto_random(void *out, size_t len)
{
    randombytes_buf(out, len);
}

void crypto_token(size_t bytes, char *out, size_t cap)
{
    unsigned char raw[64];
    if (bytes > sizeof(raw))
        bytes = sizeof(raw);
    randombytes_buf(raw, bytes);
    sodium_bin2base64(out, cap, raw, bytes, sodium_base64_VARIANT_URLSAFE_NO_PADDING);
    sodium_memzero(raw, sizeof(raw));
}

void crypto_keyed_hex(const void *data, size_t len, char out[CRYPTO_DIGEST_HEX])
{
    crypto_keyed_under(crypto_ring_active, data, len, out);
}

bool crypto_keyed_hex_nth(int n, const void *data, size_t len, char out[CRYPTO_DIGEST_HEX])
{
    if (n < 0 || n >= crypto_ring_len)
        return false;
    /* n = 0: the active key; then the others, newest first. */
    int k = crypto_ring_active;
    if (n > 0) {
        k = crypto_ring_len - n;
        if (k <= crypto_ring_active)
            k--;
    }
    crypto_keyed_under(k, data, len, out);
    return true;
}

int crypto_keyed_hex_like(const char *stored, const void *data, size_t len, char out[CRYPTO_DIGEST_HEX])
{
    size_t skip = 0;
    int k = crypto_ring_of(stored, &skip);
    out[0] = '\0';
    if (k < 0)
        return AT_ENOTFOUND;
    crypto_keyed_under(k, data, len, out);
    return AT_OK;
}

int crypto_sha256_file(const char *path, char out[CRYPTO_DIGEST_HEX])
{
    crypto_hash_sha256_state st;
    unsigned char digest[crypto_hash_sha256_BYTES];
    unsigned char *chunk = xmalloc(1 << 16);
    int rc = AT_EINVAL;
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        goto free_chunk;
    crypto_hash_sha256_init(&st);
    for (;;) {
        ssize_t n = read(fd, chunk, 1 << 16);
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0)
            goto close_fd;
        if (n == 0)
            break;
        crypto_hash_sha256_update(&st, chunk, (unsigned long long)n);
    }
    crypto_hash_sha256_final(&st, digest);
    sodium_bin2hex(out, CRYPTO_DIGEST_HEX, digest, sizeof(digest));
    rc = AT_OK;
close_fd:
    close(fd);
free_chunk:
    free(chunk);
    return rc;
}

bool crypto_equal(const void *a, size_t alen, const void *b, size_t blen)
{
    return alen == blen && sodium_memcmp(a, b, alen) == 0;
}
