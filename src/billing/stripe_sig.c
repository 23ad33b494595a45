/* Stripe-Signature verification (stripe_sig.h, reliability.md §3.3 and T9).
 *
 * The header is a comma-separated list of "scheme=value" pairs: one t=<unix seconds>, one or more
 * v1=<hex HMAC-SHA256("<t>.<payload>")>, and entries this code does not know (v0, future schemes),
 * which are skipped. The comparison follows the official libraries: the expected signature is
 * computed as lowercase hex and compared as a string, in constant time, so an uppercase v1 does not
 * match (Stripe only sends lowercase; stripe-node, stripe-ruby and stripe-php compare the same way).
 *
 * The signature is checked before the timestamp, so STRIPE_SIG_STALE means "authentic but outside the
 * tolerance" (a replay or a clock problem) and a forged header always reports STRIPE_SIG_MISMATCH. */
#include "billing/stripe_sig.h"

#include <sodium.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>

enum {
    SIG_HEX_LEN = 64,     /* crypto_auth_hmacsha256_BYTES as hex */
    SIG_T_MAX_DIGITS = 18 /* fits int64 without overflow checks */
};

/* One "key=value" entry of the header, as slices into it. */
typedef struct sig_item {
    const char *key;
    size_t key_len;
    const char *val;
    size_t val_len;
} sig_item;

static bool sig_next_item(const char **p, const char *end, sig_item *out);
static bool sig_is_hex64(const char *s, size_t len);
static void sig_hmac_hex(const unsigned char *key, size_t key_len, const char *t, size_t t_len,
                         const unsigned char *payload, size_t payload_len, char out[SIG_HEX_LEN + 1]);

/* stripe_sig_verify parses the header in two passes over the slices (no allocation): the first finds
 * the one t= and checks that at least one v1= has the shape of a signature, the second (once per
 * configured secret) compares every v1 against the expected value. Empty or NULL secrets are skipped:
 * an unset secret must never turn into the well-known empty HMAC key. */
int stripe_sig_verify(const char *header, size_t header_len, const unsigned char *payload, size_t payload_len,
                      const char *const *secrets, size_t secret_count, int64_t now_s, int64_t tolerance_s)
{
    const char *t_text = NULL, *p, *end;
    size_t t_len = 0;
    bool any_v1 = false, any_v1_shaped = false, t_dup = false;
    sig_item it;

    if (!header || header_len == 0)
        return STRIPE_SIG_MISSING;
    end = header + header_len;
    for (p = header; sig_next_item(&p, end, &it);) {
        if (it.key_len == 1 && it.key[0] == 't') {
            t_dup = t_text != NULL;
            t_text = it.val;
            t_len = it.val_len;
            if (t_dup)
                break;
        } else if (it.key_len == 2 && memcmp(it.key, "v1", 2) == 0) {
            any_v1 = true;
            any_v1_shaped = any_v1_shaped || sig_is_hex64(it.val, it.val_len);
        }
    }
    if (t_dup)
        return STRIPE_SIG_MALFORMED; /* two timestamps: which one was signed is ambiguous */
    if (!t_text || !any_v1)
        return STRIPE_SIG_MISSING;
    if (t_len == 0 || t_len > SIG_T_MAX_DIGITS || !any_v1_shaped)
        return STRIPE_SIG_MALFORMED;
    int64_t t = 0;
    for (size_t i = 0; i < t_len; i++) {
        if (t_text[i] < '0' || t_text[i] > '9')
            return STRIPE_SIG_MALFORMED;
        t = t * 10 + (t_text[i] - '0');
    }

    bool matched = false;
    for (size_t s = 0; s < secret_count && !matched; s++) {
        if (!secrets[s] || !secrets[s][0])
            continue;
        char want[SIG_HEX_LEN + 1];
        sig_hmac_hex((const unsigned char *)secrets[s], strlen(secrets[s]), t_text, t_len, payload, payload_len, want);
        for (p = header; !matched && sig_next_item(&p, end, &it);) {
            if (it.key_len == 2 && memcmp(it.key, "v1", 2) == 0 && it.val_len == SIG_HEX_LEN &&
                sodium_memcmp(want, it.val, SIG_HEX_LEN) == 0)
                matched = true;
        }
        sodium_memzero(want, sizeof(want));
    }
    if (!matched)
        return STRIPE_SIG_MISMATCH;
    /* |now - t| without overflow: t is at most 18 digits, now_s is a real clock. */
    int64_t age = now_s - t;
    if (tolerance_s < 0 || age > tolerance_s || age < -tolerance_s)
        return STRIPE_SIG_STALE;
    return STRIPE_SIG_OK;
}

void stripe_sig_header(const unsigned char *payload, size_t payload_len, const char *secret, int64_t t, char out[128])
{
    char t_text[24], hex[SIG_HEX_LEN + 1];
    int n = snprintf(t_text, sizeof(t_text), "%lld", (long long)t);
    sig_hmac_hex((const unsigned char *)secret, strlen(secret), t_text, (size_t)n, payload, payload_len, hex);
    snprintf(out, 128, "t=%s,v1=%s", t_text, hex);
}

void hmac_sha256_hex(const unsigned char *key, size_t key_len, const unsigned char *msg, size_t msg_len, char out[65])
{
    crypto_auth_hmacsha256_state st;
    unsigned char mac[crypto_auth_hmacsha256_BYTES];
    /* The init/update/final form takes a key of any length (HMAC hashes keys over 64 bytes);
     * crypto_auth_hmacsha256() itself insists on a 32-byte key. */
    crypto_auth_hmacsha256_init(&st, key, key_len);
    if (msg_len)
        crypto_auth_hmacsha256_update(&st, msg, msg_len);
    crypto_auth_hmacsha256_final(&st, mac);
    sodium_bin2hex(out, 65, mac, sizeof(mac));
    sodium_memzero(&st, sizeof(st));
}

/* ------------------------------------------------------------------------------------------------ */

/* sig_next_item reads the entry at *p (up to the next ',' or the end) and advances *p past the comma.
 * Spaces and tabs around an entry are dropped (", v1=..." is tolerated); inside a pair they are kept,
 * so "v1 = ab" is neither a v1 key nor a well-formed value: Stripe's pairs have no whitespace. Entries
 * without '=' or with an empty key are skipped. Returns false at the end of the header. */
static bool sig_next_item(const char **p, const char *end, sig_item *out)
{
    while (*p < end) {
        const char *s = *p, *e = memchr(s, ',', (size_t)(end - s));
        if (!e)
            e = end;
        *p = e < end ? e + 1 : end;
        while (s < e && (*s == ' ' || *s == '\t'))
            s++;
        while (e > s && (e[-1] == ' ' || e[-1] == '\t'))
            e--;
        const char *eq = memchr(s, '=', (size_t)(e - s));
        if (!eq || eq == s)
            continue;
        out->key = s;
        out->key_len = (size_t)(eq - s);
        out->val = eq + 1;
        out->val_len = (size_t)(e - eq - 1);
        return true;
    }
    return false;
}

/* sig_is_hex64 reports whether (s, len) is 64 hexadecimal digits of either case. */
static bool sig_is_hex64(const char *s, size_t len)
{
    if (len != SIG_HEX_LEN)
        return false;
    for (size_t i = 0; i < len; i++) {
        char c = s[i];
        if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F')))
            return false;
    }
    return true;
}

/* sig_hmac_hex writes hex HMAC-SHA256(key, t "." payload) into out, streaming the three parts. */
static void sig_hmac_hex(const unsigned char *key, size_t key_len, const char *t, size_t t_len,
                         const unsigned char *payload, size_t payload_len, char out[SIG_HEX_LEN + 1])
{
    crypto_auth_hmacsha256_state st;
    unsigned char mac[crypto_auth_hmacsha256_BYTES];
    crypto_auth_hmacsha256_init(&st, key, key_len);
    crypto_auth_hmacsha256_update(&st, (const unsigned char *)t, t_len);
    crypto_auth_hmacsha256_update(&st, (const unsigned char *)".", 1);
    if (payload_len)
        crypto_auth_hmacsha256_update(&st, payload, payload_len);
    crypto_auth_hmacsha256_final(&st, mac);
    sodium_bin2hex(out, SIG_HEX_LEN + 1, mac, sizeof(mac));
    sodium_memzero(&st, sizeof(st));
}
