/* libFuzzer target: Stripe-Signature verification (src/billing/stripe_sig.c), the parser that meets
 * webhook headers from anyone on the internet.
 *
 * Input layout: byte 0 picks the clock skew and tolerance; the rest is "<header>\n<payload>" (no
 * newline: all header, empty payload). Besides "no crash, leak or UB" it asserts:
 *   - the result is one of the documented values, and a second call gives the same one;
 *   - a header made by stripe_sig_header for the payload verifies (with the secret alone, and as the
 *     second of two secrets), at any skew within the tolerance and fails as stale beyond it;
 *   - changing any one byte of the payload makes that header fail;
 *   - the fuzzed header never verifies against a secret it could not know.
 * Build and run: fuzz/run.sh (see fuzz/README.md). */
#include "billing/stripe_sig.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define CHECK(cond)                                                                                                    \
    do {                                                                                                               \
        if (!(cond)) {                                                                                                 \
            fprintf(stderr, "fuzz/stripe_sig.c:%d: invariant failed: %s\n", __LINE__, #cond);                         \
            abort();                                                                                                   \
        }                                                                                                              \
    } while (0)

static const int64_t now_s = 1795000000;

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size == 0)
        return 0;
    int64_t tolerance = 1 + (data[0] & 0x0f) * 40;
    int64_t skew = ((int64_t)(data[0] >> 4) - 8) * 45;
    data++;
    size--;
    const uint8_t *nl = memchr(data, '\n', size);
    size_t hlen = nl ? (size_t)(nl - data) : size;
    size_t plen = nl ? size - hlen - 1 : 0;
    /* Exact-size heap copies, so ASan sees any read past the end. */
    char *header = malloc(hlen ? hlen : 1);
    unsigned char *payload = malloc(plen ? plen : 1);
    if (hlen)
        memcpy(header, data, hlen);
    if (plen)
        memcpy(payload, nl + 1, plen);

    static const char *const unknown[] = {"whsec_fuzz_unknowable_0123456789abcdef"};
    int r1 = stripe_sig_verify(header, hlen, payload, plen, unknown, 1, now_s, tolerance);
    int r2 = stripe_sig_verify(header, hlen, payload, plen, unknown, 1, now_s, tolerance);
    CHECK(r1 == r2);
    CHECK(r1 >= STRIPE_SIG_OK && r1 <= STRIPE_SIG_MISMATCH);
    CHECK(r1 != STRIPE_SIG_OK);

    static const char *const secrets[] = {"whsec_old_secret", "whsec_test_secret"};
    char made[128];
    stripe_sig_header(payload, plen, secrets[1], now_s + skew, made);
    int expect = (skew > tolerance || skew < -tolerance) ? STRIPE_SIG_STALE : STRIPE_SIG_OK;
    CHECK(stripe_sig_verify(made, strlen(made), payload, plen, secrets + 1, 1, now_s, tolerance) == expect);
    CHECK(stripe_sig_verify(made, strlen(made), payload, plen, secrets, 2, now_s, tolerance) == expect);
    if (plen && expect == STRIPE_SIG_OK) {
        size_t at = (size_t)data[0] % plen;
        payload[at] ^= 0x01;
        CHECK(stripe_sig_verify(made, strlen(made), payload, plen, secrets + 1, 1, now_s, tolerance) ==
              STRIPE_SIG_MISMATCH);
    }
    free(header);
    free(payload);
    return 0;
}
