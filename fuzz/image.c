/* libFuzzer target: untrusted pictures (src/base/image.c).
 *
 * Feeds the input to image_square_png (PNG, JPEG or WebP, told by the first bytes). Byte 0 picks the
 * crop: 0 = centred, otherwise a square derived from bytes 1..3 that may lie outside the picture. It
 * must not crash, leak or read out of bounds, and:
 *   - the status is AT_OK or AT_EINVAL, and AT_EINVAL always names an error and appends nothing;
 *   - AT_OK only for a sniffed type, within the size limits, and the output is a PNG that itself goes
 *     through image_square_png again to the same side (what we write, we read);
 *   - a second call on the same bytes gives the same status and the same output (deterministic).
 * Build and run: fuzz/run.sh (see fuzz/README.md). */
#include "base/buf.h"
#include "base/err.h"
#include "base/image.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define CHECK(cond)                                                                                                    \
    do {                                                                                                               \
        if (!(cond)) {                                                                                                 \
            fprintf(stderr, "fuzz/image.c:%d: invariant failed: %s\n", __LINE__, #cond);                               \
            abort();                                                                                                   \
        }                                                                                                              \
    } while (0)

enum { SIDE = 16 };

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 4)
        return 0;
    image_crop crop = {data[1] % 64, data[2] % 64, data[3] % 64};
    const image_crop *cp = data[0] ? &crop : NULL;
    /* An exact-size heap copy of the picture, so ASan sees any read past its end. */
    size_t n = size - 4;
    uint8_t *pic = malloc(n ? n : 1);
    if (n)
        memcpy(pic, data + 4, n);

    buf out, again;
    image_result res, res2;
    buf_init(&out);
    buf_init(&again);
    int rc = image_square_png(pic, n, cp, SIDE, &out, &res);
    CHECK(rc == AT_OK || rc == AT_EINVAL);
    CHECK(res.type == image_sniff(pic, n));
    if (rc == AT_EINVAL) {
        CHECK(res.error != NULL && out.len == 0);
    } else {
        CHECK(res.type != IMAGE_UNKNOWN && res.error == NULL);
        CHECK(res.width >= 1 && res.width <= IMAGE_MAX_SIDE && res.height >= 1 && res.height <= IMAGE_MAX_SIDE);
        CHECK((uint64_t)res.width * res.height <= IMAGE_MAX_PIXELS);
        CHECK(image_sniff(out.data, out.len) == IMAGE_PNG);
        CHECK(image_square_png(out.data, out.len, NULL, SIDE, &again, &res2) == AT_OK);
        CHECK(res2.width == SIDE && res2.height == SIDE);
        buf_reset(&again);
        CHECK(image_square_png(pic, n, cp, SIDE, &again, &res2) == AT_OK);
        CHECK(again.len == out.len && memcmp(again.data, out.data, out.len) == 0);
    }
    buf_free(&again);
    buf_free(&out);
    free(pic);
    return 0;
}
