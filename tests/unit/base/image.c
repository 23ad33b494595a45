/* Unit tests of the image re-encoder (src/base/image.c): the type comes from the bytes, the crop box
 * chooses the pixels, scaling averages by alpha, headers announcing too many pixels are refused before
 * decoding, and what comes out is a new PNG of the asked size. */
#include "base/buf.h"
#include "base/err.h"
#include "base/image.h"

#include <criterion/criterion.h>
#include <png.h>
#include <stdlib.h>
#include <string.h>

/* The CRC-32 of PNG chunks (ISO 3309), bit by bit: fast enough for a 17-byte header. */
static uint32_t png_crc(const uint8_t *p, size_t n)
{
    uint32_t c = 0xffffffffu;
    for (size_t i = 0; i < n; i++) {
        c ^= p[i];
        for (int k = 0; k < 8; k++)
            c = c & 1 ? 0xedb88320u ^ (c >> 1) : c >> 1;
    }
    return c ^ 0xffffffffu;
}

/* A w x h RGBA PNG whose pixel (x, y) is px(x, y), appended to out. */
static void make_png(buf *out, unsigned w, unsigned h, void (*px)(unsigned, unsigned, uint8_t[4]))
{
    uint8_t *data = malloc((size_t)w * h * 4);
    for (unsigned y = 0; y < h; y++)
        for (unsigned x = 0; x < w; x++)
            px(x, y, data + ((size_t)y * w + x) * 4);
    png_image pi;
    memset(&pi, 0, sizeof(pi));
    pi.version = PNG_IMAGE_VERSION;
    pi.width = w;
    pi.height = h;
    pi.format = PNG_FORMAT_RGBA;
    png_alloc_size_t n = 0;
    cr_assert(png_image_write_get_memory_size(pi, n, 0, data, 0, NULL));
    void *mem = malloc(n);
    cr_assert(png_image_write_to_memory(&pi, mem, &n, 0, data, 0, NULL));
    buf_append(out, mem, n);
    free(mem);
    free(data);
}

/* Decodes a PNG to RGBA (a new buffer) and checks its size. */
static uint8_t *read_png(const buf *b, unsigned want_side)
{
    png_image pi;
    memset(&pi, 0, sizeof(pi));
    pi.version = PNG_IMAGE_VERSION;
    cr_assert(png_image_begin_read_from_memory(&pi, b->data, b->len));
    cr_assert_eq(pi.width, want_side);
    cr_assert_eq(pi.height, want_side);
    pi.format = PNG_FORMAT_RGBA;
    uint8_t *px = malloc(PNG_IMAGE_SIZE(pi));
    cr_assert(png_image_finish_read(&pi, NULL, px, 0, NULL));
    return px;
}

/* Left half red, right half blue, opaque. */
static void red_blue(unsigned x, unsigned y, uint8_t p[4])
{
    (void)y;
    p[0] = x < 20 ? 255 : 0;
    p[1] = 0;
    p[2] = x < 20 ? 0 : 255;
    p[3] = 255;
}

/* Alternating columns: opaque white and transparent black. */
static void half_clear(unsigned x, unsigned y, uint8_t p[4])
{
    (void)y;
    uint8_t v = x % 2 ? 0 : 255;
    p[0] = p[1] = p[2] = v;
    p[3] = v;
}

Test(image, the_crop_box_chooses_the_pixels)
{
    buf src, out;
    image_result res;
    buf_init(&src);
    make_png(&src, 40, 20, red_blue);
    struct {
        image_crop crop;
        bool left_red, right_red;
    } cases[] = {{{0, 0, 20}, true, true}, {{20, 0, 20}, false, false}, {{0, 0, 0}, true, false}};
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        buf_init(&out);
        cr_assert_eq(image_square_png(src.data, src.len, &cases[i].crop, 8, &out, &res), AT_OK, "case %zu", i);
        cr_assert_eq(res.type, IMAGE_PNG);
        cr_assert_eq(res.width, 40);
        cr_assert_eq(res.height, 20);
        uint8_t *px = read_png(&out, 8);
        cr_assert_eq(px[(3 * 8 + 0) * 4] == 255, cases[i].left_red, "case %zu left", i);
        cr_assert_eq(px[(3 * 8 + 7) * 4] == 255, cases[i].right_red, "case %zu right", i);
        free(px);
        buf_free(&out);
    }
    buf_free(&src);
}

Test(image, scaling_weights_colour_by_alpha)
{
    buf src, out;
    image_result res;
    buf_init(&src);
    buf_init(&out);
    make_png(&src, 16, 16, half_clear);
    cr_assert_eq(image_square_png(src.data, src.len, NULL, 8, &out, &res), AT_OK);
    uint8_t *px = read_png(&out, 8);
    /* Two source columns per output pixel: white at full alpha and clear black average to white at half. */
    cr_assert_eq(px[0], 255);
    cr_assert_eq(px[3], 128);
    free(px);
    buf_free(&out);
    buf_free(&src);
}

Test(image, refusals_name_their_reason_and_write_nothing)
{
    buf src, out;
    image_result res;
    buf_init(&src);
    buf_init(&out);
    make_png(&src, 40, 20, red_blue);
    image_crop outside = {21, 0, 20};
    cr_assert_eq(image_square_png(src.data, src.len, &outside, 8, &out, &res), AT_EINVAL);
    cr_assert_str_eq(res.error, "bad_crop");
    image_crop huge = {INT64_MAX, INT64_MAX, INT64_MAX};
    cr_assert_eq(image_square_png(src.data, src.len, &huge, 8, &out, &res), AT_EINVAL);
    cr_assert_str_eq(res.error, "bad_crop");
    cr_assert_eq(image_square_png("GIF89a", 6, NULL, 8, &out, &res), AT_EINVAL);
    cr_assert_str_eq(res.error, "unsupported_type");
    cr_assert_eq(image_square_png(src.data, src.len / 2, NULL, 8, &out, &res), AT_EINVAL);
    cr_assert_str_eq(res.error, "corrupt");
    /* The same PNG with its header saying 7000 x 7000 (49 megapixels): refused from the header. The
     * header's CRC no longer matches, so put a right one in. */
    uint8_t *p = (uint8_t *)src.data;
    p[16] = 0, p[17] = 0, p[18] = 0x1b, p[19] = 0x58; /* width 7000 */
    p[20] = 0, p[21] = 0, p[22] = 0x1b, p[23] = 0x58; /* height 7000 */
    uint32_t crc = png_crc(p + 12, 17);
    p[29] = (uint8_t)(crc >> 24), p[30] = (uint8_t)(crc >> 16), p[31] = (uint8_t)(crc >> 8), p[32] = (uint8_t)crc;
    cr_assert_eq(image_square_png(src.data, src.len, NULL, 8, &out, &res), AT_EINVAL);
    cr_assert_str_eq(res.error, "too_many_pixels");
    cr_assert_eq(res.width, 7000);
    cr_assert_eq(out.len, 0);
    cr_assert_eq(image_sniff("\xff\xd8\xff", 3), IMAGE_JPEG);
    cr_assert_eq(image_sniff("RIFF\0\0\0\0WEBP", 12), IMAGE_WEBP);
    cr_assert_str_eq(image_type_mime(IMAGE_WEBP), "image/webp");
    buf_free(&out);
    buf_free(&src);
}
