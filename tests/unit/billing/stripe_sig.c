/* Webhook signature verification (src/billing/stripe_sig.c, reliability.md T9): published HMAC
 * vectors, Stripe-Signature parsing, tolerance in both directions, secret rotation, and the `manual`
 * provider plus the argument checks of the `stripe` one that need no network (src/billing/provider.c;
 * the stripe provider's HTTP side is exercised against tests/stripe-standin). */
#include "billing/provider.h"
#include "billing/stripe_sig.h"

#include "base/err.h"

#include <criterion/criterion.h>
#include <sodium.h>
#include <stdio.h>
#include <string.h>

#define NOW ((int64_t)1700000000)
#define TOL ((int64_t)300)

static const char payload[] = "{\"id\":\"evt_1\",\"object\":\"event\"}";
static const char *const one_secret[] = {"whsec_test_secret"};

static void setup(void)
{
    cr_assert_geq(sodium_init(), 0);
}

/* verify runs stripe_sig_verify on a NUL-terminated header over `payload` with the given secrets. */
static int verify(const char *header, const char *const *secrets, size_t n, int64_t now)
{
    return stripe_sig_verify(header, header ? strlen(header) : 0, (const unsigned char *)payload, strlen(payload),
                             secrets, n, now, TOL);
}

/* signed_header writes "t=<t>,v1=<hex>" for payload under secret, through the public signer. */
static void signed_header(const char *secret, int64_t t, char out[128])
{
    stripe_sig_header((const unsigned char *)payload, strlen(payload), secret, t, out);
}

TestSuite(billing_stripe_sig, .init = setup);

Test(billing_stripe_sig, github_published_vector)
{
    static const char key[] = "It's a Secret to Everybody";
    static const char msg[] = "Hello, World!";
    char out[65];
    hmac_sha256_hex((const unsigned char *)key, strlen(key), (const unsigned char *)msg, strlen(msg), out);
    cr_assert_str_eq(out, "757107ea0eb2509fc211221cce984b8a37570b6d7586c22c46f4379c8b043e17");
}

Test(billing_stripe_sig, rfc4231_key_longer_than_a_block)
{
    /* RFC 4231 test case 6: a 131-byte key is hashed first; crypto_auth_hmacsha256() could not take it. */
    unsigned char key[131];
    static const char msg[] = "Test Using Larger Than Block-Size Key - Hash Key First";
    char out[65];
    memset(key, 0xaa, sizeof(key));
    hmac_sha256_hex(key, sizeof(key), (const unsigned char *)msg, strlen(msg), out);
    cr_assert_str_eq(out, "60e431591ee0b67f0d8a26aacbf5b77f8e0bc6213728c5140546040f0ee37f54");
}

Test(billing_stripe_sig, known_stripe_header_from_an_independent_hmac)
{
    /* Expected value computed with Node's crypto: HMAC-SHA256("whsec_test_secret", "1700000000.<payload>"). */
    char h[128];
    signed_header("whsec_test_secret", NOW, h);
    cr_assert_str_eq(h, "t=1700000000,v1=0c8670ed117751cc551a20e35839447075c42800ea3cf3e8a2fbda99cd1e6edd");
    cr_assert_eq(verify(h, one_secret, 1, NOW), STRIPE_SIG_OK);
}

Test(billing_stripe_sig, valid_header_verifies)
{
    char h[128];
    signed_header("whsec_test_secret", NOW - 10, h);
    cr_assert_eq(verify(h, one_secret, 1, NOW), STRIPE_SIG_OK);
}

Test(billing_stripe_sig, one_byte_tamper_of_the_body_is_rejected)
{
    char h[128], body[sizeof(payload)];
    signed_header("whsec_test_secret", NOW, h);
    for (size_t i = 0; i < strlen(payload); i++) {
        memcpy(body, payload, sizeof(payload));
        body[i] ^= 0x01;
        cr_assert_eq(
            stripe_sig_verify(h, strlen(h), (const unsigned char *)body, strlen(body), one_secret, 1, NOW, TOL),
            STRIPE_SIG_MISMATCH, "byte %zu", i);
    }
    /* A byte more or less is a different body too. */
    cr_assert_eq(
        stripe_sig_verify(h, strlen(h), (const unsigned char *)payload, strlen(payload) - 1, one_secret, 1, NOW, TOL),
        STRIPE_SIG_MISMATCH);
}

Test(billing_stripe_sig, tampered_signature_or_timestamp_is_rejected)
{
    char h[128];
    signed_header("whsec_test_secret", NOW, h);
    char *sig = strstr(h, "v1=") + 3;
    sig[10] = sig[10] == '0' ? '1' : '0';
    cr_assert_eq(verify(h, one_secret, 1, NOW), STRIPE_SIG_MISMATCH);

    /* The timestamp is signed: moving it breaks the signature even inside the tolerance. */
    signed_header("whsec_test_secret", NOW, h);
    h[11] = '1'; /* t=1700000001 */
    cr_assert_eq(verify(h, one_secret, 1, NOW), STRIPE_SIG_MISMATCH);
}

Test(billing_stripe_sig, wrong_secret_is_rejected)
{
    char h[128];
    static const char *const other[] = {"whsec_other"};
    signed_header("whsec_test_secret", NOW, h);
    cr_assert_eq(verify(h, other, 1, NOW), STRIPE_SIG_MISMATCH);
    /* A secret that is a prefix of the real one is just another key. */
    static const char *const prefix[] = {"whsec_test_secre"};
    cr_assert_eq(verify(h, prefix, 1, NOW), STRIPE_SIG_MISMATCH);
}

Test(billing_stripe_sig, tolerance_applies_in_both_directions)
{
    char h[128];
    signed_header("whsec_test_secret", NOW - 301, h);
    cr_assert_eq(verify(h, one_secret, 1, NOW), STRIPE_SIG_STALE);
    signed_header("whsec_test_secret", NOW + 301, h);
    cr_assert_eq(verify(h, one_secret, 1, NOW), STRIPE_SIG_STALE);
    signed_header("whsec_test_secret", NOW - 300, h);
    cr_assert_eq(verify(h, one_secret, 1, NOW), STRIPE_SIG_OK);
    signed_header("whsec_test_secret", NOW + 300, h);
    cr_assert_eq(verify(h, one_secret, 1, NOW), STRIPE_SIG_OK);
    signed_header("whsec_test_secret", 0, h);
    cr_assert_eq(verify(h, one_secret, 1, NOW), STRIPE_SIG_STALE);
}

Test(billing_stripe_sig, stale_is_only_reported_for_authentic_headers)
{
    /* A forged header with an old timestamp is a mismatch, so STALE always means "ours, but late". */
    char h[128];
    signed_header("whsec_forger", NOW - 1000, h);
    cr_assert_eq(verify(h, one_secret, 1, NOW), STRIPE_SIG_MISMATCH);
}

Test(billing_stripe_sig, two_v1_during_rotation_accept_with_either_secret)
{
    char h_old[128], h_new[128], both[300];
    signed_header("whsec_old", NOW, h_old);
    signed_header("whsec_new", NOW, h_new);
    snprintf(both, sizeof(both), "%s,%s", h_old, strchr(h_new, ',') + 1); /* t=..,v1=<old>,v1=<new> */
    static const char *const only_old[] = {"whsec_old"};
    static const char *const only_new[] = {"whsec_new"};
    static const char *const neither[] = {"whsec_x"};
    static const char *const both_secrets[] = {"whsec_x", "whsec_new"};
    cr_assert_eq(verify(both, only_old, 1, NOW), STRIPE_SIG_OK);
    cr_assert_eq(verify(both, only_new, 1, NOW), STRIPE_SIG_OK);
    cr_assert_eq(verify(both, both_secrets, 2, NOW), STRIPE_SIG_OK);
    cr_assert_eq(verify(both, neither, 1, NOW), STRIPE_SIG_MISMATCH);
    /* One v1 and several configured secrets (our side rotating). */
    static const char *const configured[] = {"whsec_new", "whsec_old"};
    cr_assert_eq(verify(h_old, configured, 2, NOW), STRIPE_SIG_OK);
}

Test(billing_stripe_sig, empty_or_null_secrets_never_match)
{
    char h[128];
    signed_header("", NOW, h);
    static const char *const empty[] = {"", NULL};
    cr_assert_eq(verify(h, empty, 2, NOW), STRIPE_SIG_MISMATCH);
    cr_assert_eq(verify(h, NULL, 0, NOW), STRIPE_SIG_MISMATCH);
}

Test(billing_stripe_sig, missing_header_or_parts)
{
    cr_assert_eq(verify(NULL, one_secret, 1, NOW), STRIPE_SIG_MISSING);
    cr_assert_eq(verify("", one_secret, 1, NOW), STRIPE_SIG_MISSING);
    cr_assert_eq(verify("t=1700000000", one_secret, 1, NOW), STRIPE_SIG_MISSING);
    cr_assert_eq(verify("v1=0c8670ed117751cc551a20e35839447075c42800ea3cf3e8a2fbda99cd1e6edd", one_secret, 1, NOW),
                 STRIPE_SIG_MISSING);
    /* Only a v0 (the test-mode scheme) is no v1. */
    cr_assert_eq(
        verify("t=1700000000,v0=0c8670ed117751cc551a20e35839447075c42800ea3cf3e8a2fbda99cd1e6edd", one_secret, 1, NOW),
        STRIPE_SIG_MISSING);
    cr_assert_eq(verify("garbage", one_secret, 1, NOW), STRIPE_SIG_MISSING);
}

Test(billing_stripe_sig, malformed_timestamp_or_signature)
{
    static const char *const cases[] = {
        "t=,v1=0c8670ed117751cc551a20e35839447075c42800ea3cf3e8a2fbda99cd1e6edd",
        "t=17e8,v1=0c8670ed117751cc551a20e35839447075c42800ea3cf3e8a2fbda99cd1e6edd",
        "t=-1700000000,v1=0c8670ed117751cc551a20e35839447075c42800ea3cf3e8a2fbda99cd1e6edd",
        "t=+1700000000,v1=0c8670ed117751cc551a20e35839447075c42800ea3cf3e8a2fbda99cd1e6edd",
        "t=1700000000x,v1=0c8670ed117751cc551a20e35839447075c42800ea3cf3e8a2fbda99cd1e6edd",
        "t=99999999999999999999,v1=0c8670ed117751cc551a20e35839447075c42800ea3cf3e8a2fbda99cd1e6edd",
        "t=1700000000,t=1700000000,v1=0c8670ed117751cc551a20e35839447075c42800ea3cf3e8a2fbda99cd1e6edd",
        "t=1700000000,v1=",
        "t=1700000000,v1=0c8670ed",
        "t=1700000000,v1=0c8670ed117751cc551a20e35839447075c42800ea3cf3e8a2fbda99cd1e6eddff",
        "t=1700000000,v1=zc8670ed117751cc551a20e35839447075c42800ea3cf3e8a2fbda99cd1e6edd",
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++)
        cr_assert_eq(verify(cases[i], one_secret, 1, NOW), STRIPE_SIG_MALFORMED, "%s", cases[i]);
}

Test(billing_stripe_sig, unknown_schemes_and_surrounding_spaces_are_tolerated)
{
    static const char sig[] = "0c8670ed117751cc551a20e35839447075c42800ea3cf3e8a2fbda99cd1e6edd";
    char h[400];
    snprintf(h, sizeof(h), "v0=%s,t=1700000000,x=y,flag,v2=abc,v1=%s", sig, sig);
    cr_assert_eq(verify(h, one_secret, 1, NOW), STRIPE_SIG_OK);
    snprintf(h, sizeof(h), "t=1700000000, v1=%s", sig);
    cr_assert_eq(verify(h, one_secret, 1, NOW), STRIPE_SIG_OK);
    /* A malformed v1 next to a good one does not spoil it. */
    snprintf(h, sizeof(h), "t=1700000000,v1=nothex,v1=%s", sig);
    cr_assert_eq(verify(h, one_secret, 1, NOW), STRIPE_SIG_OK);
    /* Whitespace inside a pair makes the value something else. */
    snprintf(h, sizeof(h), "t=1700000000,v1= %s", sig);
    cr_assert_eq(verify(h, one_secret, 1, NOW), STRIPE_SIG_MALFORMED);
    /* The length is taken from header_len, not from a NUL. */
    snprintf(h, sizeof(h), "t=1700000000,v1=%sJUNK", sig);
    cr_assert_eq(
        stripe_sig_verify(h, strlen(h) - 4, (const unsigned char *)payload, strlen(payload), one_secret, 1, NOW, TOL),
        STRIPE_SIG_OK);
}

Test(billing_stripe_sig, uppercase_hex_does_not_match)
{
    /* Decision: Stripe sends lowercase hex, and its libraries compare the hex strings; so do we. An
     * uppercase copy of a valid signature is well-formed but does not match. */
    char h[128];
    signed_header("whsec_test_secret", NOW, h);
    for (char *p = strstr(h, "v1=") + 3; *p; p++)
        if (*p >= 'a' && *p <= 'f')
            *p = (char)(*p - 'a' + 'A');
    cr_assert_eq(verify(h, one_secret, 1, NOW), STRIPE_SIG_MISMATCH);
}

Test(billing_stripe_sig, empty_payload_and_binary_bytes)
{
    char h[128];
    static const unsigned char bin[] = {0x00, 0xff, 0x0a, 0x00, 0x7f};
    stripe_sig_header(bin, sizeof(bin), "whsec_test_secret", NOW, h);
    cr_assert_eq(stripe_sig_verify(h, strlen(h), bin, sizeof(bin), one_secret, 1, NOW, TOL), STRIPE_SIG_OK);
    cr_assert_eq(stripe_sig_verify(h, strlen(h), bin, sizeof(bin) - 1, one_secret, 1, NOW, TOL), STRIPE_SIG_MISMATCH);
    stripe_sig_header((const unsigned char *)"", 0, "whsec_test_secret", NOW, h);
    cr_assert_eq(stripe_sig_verify(h, strlen(h), (const unsigned char *)"", 0, one_secret, 1, NOW, TOL), STRIPE_SIG_OK);
}

/* ------------------------------------------------------------------------------------------------ */

Test(billing_provider, names)
{
    cr_assert_eq(billing_provider_by_name("manual"), &billing_provider_manual);
    cr_assert_eq(billing_provider_by_name("stripe"), &billing_provider_stripe);
    cr_assert_null(billing_provider_by_name("paypal"));
    cr_assert_null(billing_provider_by_name(NULL));
    cr_assert_str_eq(billing_provider_manual.name, "manual");
    cr_assert_str_eq(billing_provider_stripe.name, "stripe");
}

Test(billing_provider, manual_moves_no_money)
{
    const billing_provider *p = &billing_provider_manual;
    billing_customer_info who = {.workspace_id = "ws_1", .name = "Acme", .email = "a@x.test", .country = "DE"};
    char ref[80] = "", url[1024] = "x", sid[80] = "x";
    billing_pay_result res;
    cr_assert_eq(p->ensure_customer(&who, ref), AT_OK);
    cr_assert_str_eq(ref, "");
    cr_assert_eq(p->checkout_session("", "ws_1", "https://a.test/ok", "https://a.test/no", url, sid), AT_ECONFLICT);
    cr_assert_str_eq(url, "");
    cr_assert_eq(p->portal_session("", "https://a.test/back", url), AT_ECONFLICT);
    cr_assert_eq(p->pay("", "pm_x", 1000, "eur", "inv_1", "key-1", &res), AT_ECONFLICT);
}

Test(billing_provider, stripe_checks_arguments_before_calling)
{
    const billing_provider *p = &billing_provider_stripe;
    billing_pay_result res;
    char url[1024], sid[80], ref[80] = "cus_existing";
    billing_customer_info who = {.workspace_id = "ws_1"};
    /* An existing customer needs no call. */
    cr_assert_eq(p->ensure_customer(&who, ref), AT_OK);
    cr_assert_str_eq(ref, "cus_existing");
    cr_assert_eq(p->pay("", "pm_card_visa", 1000, "eur", "inv_1", "k1", &res), AT_EINVAL);
    cr_assert_eq(p->pay("cus_1", "pm_card_visa", 0, "eur", "inv_1", "k1", &res), AT_EINVAL);
    cr_assert_eq(p->pay("cus_1", "pm_card_visa", 1000, "euro", "inv_1", "k1", &res), AT_EINVAL);
    cr_assert_eq(p->pay("cus_1", "pm_card_visa", 1000, "e1r", "inv_1", "k1", &res), AT_EINVAL);
    cr_assert_eq(p->pay("cus_1", "pm_card_visa", 1000, "eur", "inv_1", "", &res), AT_EINVAL);
    cr_assert_eq(p->pay("cus_1", "pm_card_visa", 1000, "eur", "inv_1", "bad key", &res), AT_EINVAL);
    cr_assert_eq(p->pay("cus_1", "pm_card_visa", 1000, "eur", "inv_1", "k\r\nX-Evil: 1", &res), AT_EINVAL);
    cr_assert_eq(p->checkout_session("", "ws_1", "https://a.test/ok", NULL, url, sid), AT_EINVAL);
    cr_assert_eq(p->portal_session("", "https://a.test/back", url), AT_EINVAL);

    /* No saved payment method: a hard decline decided locally, nothing sent. */
    cr_assert_eq(p->pay("cus_1", "", 1000, "EUR", "inv_1", "k1", &res), AT_OK);
    cr_assert_eq(res.outcome, BILLING_PAY_FAILED);
    cr_assert_str_eq(res.decline_code, "no_payment_method");
    cr_assert(res.hard_decline);
}
