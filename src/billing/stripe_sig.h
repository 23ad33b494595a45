/* Webhook signatures (reliability.md T9): Stripe's `Stripe-Signature: t=<unix>,v1=<hex>[,v1=...]`
 * scheme, an HMAC-SHA256 over "<t>.<raw body>" keyed by the endpoint secret, compared in constant
 * time. Several v1 entries (secret rotation) and several configured secrets are accepted; the
 * timestamp must lie within `tolerance_s` of now in BOTH directions (stricter than stripe-node, which
 * only rejects old ones; stripe-php and stripe-dotnet check the absolute difference). Pure. */
#ifndef AT_BILLING_STRIPE_SIG_H
#define AT_BILLING_STRIPE_SIG_H

#include <stddef.h>
#include <stdint.h>

enum stripe_sig_result {
    STRIPE_SIG_OK = 0,
    STRIPE_SIG_MISSING = 1,   /* no header, or no t= / no v1= in it */
    STRIPE_SIG_MALFORMED = 2, /* unparseable timestamp or signature */
    STRIPE_SIG_STALE = 3,     /* |now - t| > tolerance */
    STRIPE_SIG_MISMATCH = 4,  /* no v1 matches any secret */
};

/* stripe_sig_verify checks header (len bytes, may be NULL) against the raw payload and the secrets
 * (NUL-terminated strings, e.g. "whsec_..."; the whole string is the HMAC key, as Stripe uses it).
 * Returns an enum stripe_sig_result. */
int stripe_sig_verify(const char *header, size_t header_len, const unsigned char *payload, size_t payload_len,
                      const char *const *secrets, size_t secret_count, int64_t now_s, int64_t tolerance_s);

/* stripe_sig_header writes "t=<t>,v1=<hex>" for payload signed with secret into out (for tests and
 * the stand-in). */
void stripe_sig_header(const unsigned char *payload, size_t payload_len, const char *secret, int64_t t,
                       char out[128]);

/* hmac_sha256_hex writes the lowercase hex HMAC-SHA256 of msg under key into out (65 bytes). */
void hmac_sha256_hex(const unsigned char *key, size_t key_len, const unsigned char *msg, size_t msg_len,
                     char out[65]);

#endif
