/* libFuzzer target: RFC 3339 timestamps (src/base/clock.c).
 *
 * Feeds the input to clock_parse_rfc3339. It must not crash, and whenever it accepts a timestamp:
 *   - clock_format_rfc3339 of the value writes a NUL-terminated string of fewer than 32 bytes;
 *   - that string parses again to exactly the same microsecond value (the formatter emits UTC with
 *     six fraction digits, so the round trip must be lossless);
 *   - the parser itself is deterministic (a second call on the same bytes gives the same value);
 *   - the accepted text has the fixed shape the parser documents (length >= 20, 'T' at 10).
 * Build and run: fuzz/run.sh (see fuzz/README.md). */
#include "base/clock.h"
#include "base/err.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define CHECK(cond)                                                                                          \
    do {                                                                                                     \
        if (!(cond)) {                                                                                       \
            fprintf(stderr, "fuzz/rfc3339.c:%d: invariant failed: %s\n", __LINE__, #cond);                   \
            abort();                                                                                         \
        }                                                                                                    \
    } while (0)

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    /* An exact-size heap copy, so ASan sees any read past `size`. */
    char *s = malloc(size ? size : 1);
    if (size)
        memcpy(s, data, size);

    int64_t us = 0;
    int rc = clock_parse_rfc3339(s, size, &us);
    CHECK(rc == AT_OK || rc == AT_EINVAL);
    if (rc == AT_OK) {
        CHECK(size >= 20 && (s[10] == 'T' || s[10] == 't'));
        int64_t us2 = 0;
        CHECK(clock_parse_rfc3339(s, size, &us2) == AT_OK && us2 == us);

        char out[32];
        memset(out, 0x7f, sizeof(out));
        clock_format_rfc3339(us, out);
        size_t n = strnlen(out, sizeof(out));
        CHECK(n < sizeof(out));

        int64_t back = 0;
        int rc2 = clock_parse_rfc3339(out, n, &back);
        if (rc2 != AT_OK || back != us) {
            fprintf(stderr, "round trip failed: input \"%.*s\" -> %lld us -> \"%s\" -> %s %lld\n", (int)size, s,
                    (long long)us, out, rc2 == AT_OK ? "parsed as" : "rejected", (long long)back);
            abort();
        }
    }
    free(s);
    return 0;
}
