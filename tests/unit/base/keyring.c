/* Unit tests of the key ring (base/crypto.h): digests and sealed values name their key, lookups try
 * the active key then the older ones, and what was made under an old key still verifies and opens. */
#include "base/crypto.h"
#include "base/err.h"

#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static const char k1_hex[] = "000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f";

/* A scratch data folder with k1 from hex and `extra` rotated keys; returns the folder (freed by the
 * caller). */
static char *keyring_setup(int extra)
{
    char err[256];
    char *dir = strdup("/tmp/atrium-keyring-XXXXXX");
    cr_assert(mkdtemp(dir));
    cr_assert_eq(crypto_setup(), AT_OK);
    cr_assert_eq(crypto_load_key(k1_hex, dir, false, NULL, err), AT_OK, "%s", err);
    for (int i = 0; i < extra; i++) {
        char kid[CRYPTO_KID_MAX];
        cr_assert_eq(crypto_key_new(dir, 1, kid, err), AT_OK, "%s", err);
    }
    return dir;
}

static void keyring_cleanup(char *dir)
{
    char path[512];
    for (int n = 2; n < 10; n++) {
        snprintf(path, sizeof(path), "%s/keys/k%d.key", dir, n);
        unlink(path);
    }
    snprintf(path, sizeof(path), "%s/keys", dir);
    rmdir(path);
    rmdir(dir);
    free(dir);
}

Test(keyring, digests_name_their_key_and_verify_after_rotation)
{
    char *dir = keyring_setup(0);
    char old[CRYPTO_DIGEST_HEX], fresh[CRYPTO_DIGEST_HEX], again[CRYPTO_DIGEST_HEX], err[256], kid[CRYPTO_KID_MAX];
    crypto_keyed_hex("token", 5, old);
    cr_assert_eq(strlen(old), 64, "k1 digests stay plain hex: %s", old);
    cr_assert_eq(crypto_key_new(dir, 1, kid, err), AT_OK, "%s", err);
    cr_assert_str_eq(kid, "k2");
    cr_assert_str_eq(crypto_key_active(), "k1", "a new key is not active until activated");
    cr_assert_eq(crypto_key_activate("k2"), AT_OK);
    crypto_keyed_hex("token", 5, fresh);
    cr_assert(strncmp(fresh, "k2.", 3) == 0 && strlen(fresh) == 67, "%s", fresh);
    /* Verification under the key a stored digest names. */
    cr_assert_eq(crypto_keyed_hex_like(old, "token", 5, again), AT_OK);
    cr_assert_str_eq(again, old);
    cr_assert_eq(crypto_keyed_hex_like(fresh, "token", 5, again), AT_OK);
    cr_assert_str_eq(again, fresh);
    cr_assert_eq(crypto_keyed_hex_like("k9.00", "token", 5, again), AT_ENOTFOUND);
    cr_assert_str_eq(again, "");
    /* Lookups: the active key first, then the older ones, then no more. */
    cr_assert(crypto_keyed_hex_nth(0, "token", 5, again));
    cr_assert_str_eq(again, fresh);
    cr_assert(crypto_keyed_hex_nth(1, "token", 5, again));
    cr_assert_str_eq(again, old);
    cr_assert_not(crypto_keyed_hex_nth(2, "token", 5, again));
    keyring_cleanup(dir);
}

Test(keyring, rotated_keys_load_from_the_folder_in_order)
{
    char *dir = keyring_setup(2);
    char err[256], fp2[CRYPTO_DIGEST_HEX], fp2_again[CRYPTO_DIGEST_HEX];
    cr_assert_eq(crypto_key_fingerprint("k2", fp2), AT_OK);
    cr_assert_eq(crypto_key_fingerprint("k7", fp2_again), AT_ENOTFOUND);
    /* A new process: the ring comes back from keys/ with the same keys. */
    cr_assert_eq(crypto_load_key(k1_hex, dir, false, NULL, err), AT_OK, "%s", err);
    cr_assert_eq(crypto_key_count(), 3);
    cr_assert_str_eq(crypto_key_id(0), "k1");
    cr_assert_str_eq(crypto_key_id(1), "k2");
    cr_assert_str_eq(crypto_key_id(2), "k3");
    cr_assert_str_eq(crypto_key_active(), "k1");
    cr_assert_eq(crypto_key_fingerprint("k2", fp2_again), AT_OK);
    cr_assert_str_eq(fp2, fp2_again);
    /* With k2 active, lookups go k2, k3, k1. */
    char a[CRYPTO_DIGEST_HEX];
    cr_assert_eq(crypto_key_activate("k2"), AT_OK);
    cr_assert(crypto_keyed_hex_nth(1, "x", 1, a));
    cr_assert(strncmp(a, "k3.", 3) == 0, "%s", a);
    cr_assert(crypto_keyed_hex_nth(2, "x", 1, a));
    cr_assert_eq(strlen(a), 64);
    /* The next key number is above every loaded one and above what the database records. */
    char kid[CRYPTO_KID_MAX];
    cr_assert_eq(crypto_key_new(dir, 5, kid, err), AT_OK, "%s", err);
    cr_assert_str_eq(kid, "k6");
    keyring_cleanup(dir);
}

Test(keyring, sealed_values_name_their_key_and_open_after_rotation)
{
    char *dir = keyring_setup(1);
    char out[64];
    char *old = crypto_seal("secret", 6, "aad");
    cr_assert(strncmp(old, "v1.", 3) == 0, "%s", old);
    cr_assert_eq(crypto_key_activate("k2"), AT_OK);
    char *fresh = crypto_seal("secret", 6, "aad");
    cr_assert(strncmp(fresh, "k2.", 3) == 0, "%s", fresh);
    cr_assert_eq(crypto_open(old, "aad", out, sizeof(out), NULL), AT_OK);
    cr_assert_str_eq(out, "secret");
    cr_assert_eq(crypto_open(fresh, "aad", out, sizeof(out), NULL), AT_OK);
    cr_assert_str_eq(out, "secret");
    cr_assert_eq(crypto_open(fresh, "other", out, sizeof(out), NULL), AT_EINVAL);
    /* Relabelled with another key id: does not open. */
    char *moved = strdup(fresh);
    memcpy(moved, "v1.", 3);
    cr_assert_eq(crypto_open(moved, "aad", out, sizeof(out), NULL), AT_EINVAL);
    cr_assert_eq(crypto_open("k9.AAAA", "aad", out, sizeof(out), NULL), AT_EINVAL);
    free(moved);
    free(old);
    free(fresh);
    keyring_cleanup(dir);
}
