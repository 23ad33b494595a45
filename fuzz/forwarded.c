/* libFuzzer target: the client address behind trusted proxies (src/http/proxy.c), which reads the
 * Forwarded and X-Forwarded-For headers a client can write.
 *
 * The first input byte picks the header (even: Forwarded, odd: X-Forwarded-For); the rest is its value.
 * The peer 127.0.0.1 is trusted together with 10.0.0.0/8 and fd00::/8. It must not crash, and:
 *   - the peer counts as a proxy, and the result is an address that parses again;
 *   - the function is deterministic;
 *   - for an untrusted peer the headers are ignored (the result is the peer).
 * Build and run: fuzz/run.sh (see fuzz/README.md). */
#include "base/cidr.h"
#include "base/err.h"
#include "http/http.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define CHECK(cond)                                                                                                    \
    do {                                                                                                               \
        if (!(cond)) {                                                                                                 \
            fprintf(stderr, "fuzz/forwarded.c:%d: invariant failed: %s\n", __LINE__, #cond);                           \
            abort();                                                                                                   \
        }                                                                                                              \
    } while (0)

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 1)
        return 0;
    char err[256], out[64], again[64];
    cidr_list trusted;
    CHECK(cidr_list_parse("127.0.0.1/32, 10.0.0.0/8, fd00::/8", &trusted, err) == AT_OK);
    bool forwarded = (data[0] & 1) == 0;
    /* An exact-size NUL-terminated copy (headers are C strings), cut at an inner NUL. */
    char *h = malloc(size);
    memcpy(h, data + 1, size - 1);
    h[size - 1] = '\0';

    bool via = http_client_address(&trusted, "127.0.0.1", forwarded ? h : NULL, forwarded ? NULL : h, out);
    CHECK(via);
    size_t n = strnlen(out, sizeof out);
    CHECK(n > 0 && n < sizeof out);
    int family = 0;
    unsigned char addr[16];
    CHECK(cidr_addr_parse(out, n, &family, addr) == AT_OK);
    http_client_address(&trusted, "127.0.0.1", forwarded ? h : NULL, forwarded ? NULL : h, again);
    CHECK(strcmp(out, again) == 0);
    /* An untrusted peer: the headers are never read. */
    cidr_list none = {NULL, 0};
    CHECK(!http_client_address(&none, "192.0.2.1", h, h, again) && strcmp(again, "192.0.2.1") == 0);

    free(h);
    cidr_list_free(&trusted);
    return 0;
}
