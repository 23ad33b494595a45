/* Decoding untrusted PNG, JPEG and WebP bytes to RGBA, and re-encoding a square of it as a new PNG. */
#include "base/image.h"

#include "base/err.h"
#include "base/mem.h"

#include <assert.h>
#include <setjmp.h>
#include <stdio.h> /* before jpeglib.h, which uses FILE */
#include <jpeglib.h>
#include <png.h>
#include <stdlib.h>
#include <string.h>
#include <webp/decode.h>

/* Progressive JPEGs may carry thousands of tiny scans, each a full pass over the image; real
 * encoders write about ten. */
enum { IMAGE_JPEG_MAX_SCANS = 100 };

/* A decoded picture: w * h pixels of RGBA, 8 bits each, rows packed; px is heap memory. */
typedef struct image_rgba {
    uint32_t w, h;
    uint8_t *px;
} image_rgba;

typedef struct image_jerr {
    struct jpeg_error_mgr pub;
    jmp_buf jmp;
} image_jerr;

static bool image_dims_ok(uint32_t w, uint32_t h);
static int image_png_decode(const void *data, size_t len, image_rgba *img, image_result *res);
static int image_jpeg_decode(const void *data, size_t len, image_rgba *img, image_result *res);
static int image_webp_decode(const void *data, size_t len, image_rgba *img, image_result *res);
static int image_crop_resolve(const image_rgba *img, const image_crop *crop, image_crop *out);
static void image_scale(const image_rgba *img, const image_crop *box, int side, uint8_t *dst);
static int image_png_encode(const uint8_t *px, int side, buf *out);

image_type image_sniff(const void *data, size_t len)
{
    const unsigned char *p = data;
    if (len >= 8 && memcmp(p, "\x89PNG\r\n\x1a\n", 8) == 0)
        return IMAGE_PNG;
    if (len >= 3 && p[0] == 0xFF && p[1] == 0xD8 && p[2] == 0xFF)
        return IMAGE_JPEG;
    if (len >= 12 && memcmp(p, "RIFF", 4) == 0 && memcmp(p + 8, "WEBP", 4) == 0)
        return IMAGE_WEBP;
    return IMAGE_UNKNOWN;
}

const char *image_type_mime(image_type t)
{
    switch (t) {
    case IMAGE_PNG:
        return "image/png";
    case IMAGE_JPEG:
        return "image/jpeg";
    case IMAGE_WEBP:
        return "image/webp";
    default:
        return NULL;
    }
}

int image_square_png(const void *data, size_t len, const image_crop *crop, int side, buf *out, image_result *res)
{
    image_rgba img = {0, 0, NULL};
    image_crop box;
    uint8_t *dst = NULL;
    int rc;
    assert(side >= 1 && side <= IMAGE_MAX_OUT_SIDE);
    memset(res, 0, sizeof(*res));
    res->type = image_sniff(data, len);
    switch (res->type) {
    case IMAGE_PNG:
        rc = image_png_decode(data, len, &img, res);
        break;
    case IMAGE_JPEG:
        rc = image_jpeg_decode(data, len, &img, res);
        break;
    case IMAGE_WEBP:
        rc = image_webp_decode(data, len, &img, res);
        break;
    default:
        res->error = "unsupported_type";
        return AT_EINVAL;
    }
    if (rc != AT_OK)
        goto done;
    if ((rc = image_crop_resolve(&img, crop, &box)) != AT_OK) {
        res->error = "bad_crop";
        goto done;
    }
    dst = xmalloc((size_t)side * (size_t)side * 4);
    image_scale(&img, &box, side, dst);
    rc = image_png_encode(dst, side, out);
    if (rc != AT_OK)
        res->error = "corrupt";
done:
    free(dst);
    free(img.px);
    return rc;
}

/* ---- Decoders: each checks the header's dimensions before it allocates for the pixels. ---- */

static bool image_dims_ok(uint32_t w, uint32_t h)
{
    return w > 0 && h > 0 && w <= IMAGE_MAX_SIDE && h <= IMAGE_MAX_SIDE &&
           (uint64_t)w * (uint64_t)h <= IMAGE_MAX_PIXELS;
}

/* libpng's simplified API: the header first, then the whole picture converted to 8-bit RGBA (palette,
 * grey, 16-bit and gamma handled by libpng). On success img->px is a new buffer the caller frees. */
static int image_png_decode(const void *data, size_t len, image_rgba *img, image_result *res)
{
    png_image pi;
    memset(&pi, 0, sizeof(pi));
    pi.version = PNG_IMAGE_VERSION;
    if (!png_image_begin_read_from_memory(&pi, data, len)) {
        res->error = "corrupt";
        return AT_EINVAL;
    }
    res->width = pi.width;
    res->height = pi.height;
    if (!image_dims_ok(pi.width, pi.height)) {
        png_image_free(&pi);
        res->error = "too_many_pixels";
        return AT_EINVAL;
    }
    pi.format = PNG_FORMAT_RGBA;
    img->px = xmalloc(PNG_IMAGE_SIZE(pi));
    if (!png_image_finish_read(&pi, NULL, img->px, 0, NULL)) {
        png_image_free(&pi);
        free(img->px);
        img->px = NULL;
        res->error = "corrupt";
        return AT_EINVAL;
    }
    img->w = pi.width;
    img->h = pi.height;
    return AT_OK;
}

/* libjpeg reports fatal errors through error_exit, which must not return: back to the decoder. */
static void image_jpeg_fail(j_common_ptr c)
{
    image_jerr *e = (image_jerr *)(void *)c->err;
    longjmp(e->jmp, 1);
}

/* Warnings (a truncated file, extraneous bytes) are not worth a line on the server's stderr. */
static void image_jpeg_quiet(j_common_ptr c, int level)
{
    (void)c;
    (void)level;
}

/* Called between passes: stops a progressive file with too many scans. */
static void image_jpeg_progress(j_common_ptr c)
{
    struct jpeg_decompress_struct *d = (struct jpeg_decompress_struct *)(void *)c;
    if (c->is_decompressor && d->input_scan_number > IMAGE_JPEG_MAX_SCANS)
        image_jpeg_fail(c);
}

/* libjpeg-turbo straight to RGBA (grey, YCbCr; CMYK is refused as corrupt). On success img->px is a
 * new buffer the caller frees; on every error path it is freed here. */
static int image_jpeg_decode(const void *data, size_t len, image_rgba *img, image_result *res)
{
    struct jpeg_decompress_struct d;
    struct jpeg_progress_mgr prog;
    image_jerr jerr;
    volatile int rc = AT_EINVAL;
    memset(&d, 0, sizeof(d));
    memset(&prog, 0, sizeof(prog));
    d.err = jpeg_std_error(&jerr.pub);
    jerr.pub.error_exit = image_jpeg_fail;
    jerr.pub.emit_message = image_jpeg_quiet;
    img->px = NULL;
    if (setjmp(jerr.jmp)) {
        free(img->px);
        img->px = NULL;
        if (!res->error)
            res->error = "corrupt";
        rc = AT_EINVAL;
        goto destroy;
    }
    jpeg_create_decompress(&d);
    prog.progress_monitor = image_jpeg_progress;
    d.progress = &prog;
    jpeg_mem_src(&d, data, (unsigned long)len);
    jpeg_read_header(&d, TRUE);
    res->width = d.image_width;
    res->height = d.image_height;
    if (!image_dims_ok(d.image_width, d.image_height)) {
        res->error = "too_many_pixels";
        goto destroy;
    }
    d.out_color_space = JCS_EXT_RGBA;
    jpeg_start_decompress(&d);
    img->px = xmalloc((size_t)d.output_width * d.output_height * 4);
    while (d.output_scanline < d.output_height) {
        JSAMPROW row = img->px + (size_t)d.output_scanline * d.output_width * 4;
        jpeg_read_scanlines(&d, &row, 1);
    }
    img->w = d.output_width;
    img->h = d.output_height;
    jpeg_finish_decompress(&d);
    rc = AT_OK;
destroy:
    jpeg_destroy_decompress(&d);
    return rc;
}

/* libwebp: still pictures only (an animation is refused as an unsupported type). */
static int image_webp_decode(const void *data, size_t len, image_rgba *img, image_result *res)
{
    WebPBitstreamFeatures f;
    if (WebPGetFeatures(data, len, &f) != VP8_STATUS_OK || f.width <= 0 || f.height <= 0) {
        res->error = "corrupt";
        return AT_EINVAL;
    }
    res->width = (uint32_t)f.width;
    res->height = (uint32_t)f.height;
    if (!image_dims_ok(res->width, res->height)) {
        res->error = "too_many_pixels";
        return AT_EINVAL;
    }
    if (f.has_animation) {
        res->error = "unsupported_type";
        return AT_EINVAL;
    }
    size_t stride = (size_t)f.width * 4, size = stride * (size_t)f.height;
    img->px = xmalloc(size);
    if (!WebPDecodeRGBAInto(data, len, img->px, size, (int)stride)) {
        free(img->px);
        img->px = NULL;
        res->error = "corrupt";
        return AT_EINVAL;
    }
    img->w = res->width;
    img->h = res->height;
    return AT_OK;
}

/* ---- Crop, scale, encode ---- */

/* The crop box in img's pixels: the given square when it lies inside the picture, else AT_EINVAL;
 * the largest centred square when crop is NULL or its size is 0. */
static int image_crop_resolve(const image_rgba *img, const image_crop *crop, image_crop *out)
{
    int64_t w = img->w, h = img->h;
    if (!crop || crop->size == 0) {
        out->size = w < h ? w : h;
        out->x = (w - out->size) / 2;
        out->y = (h - out->size) / 2;
        return AT_OK;
    }
    /* Written as subtractions so huge values cannot overflow. */
    if (crop->x < 0 || crop->y < 0 || crop->size < 1 || crop->x > w || crop->y > h || crop->size > w - crop->x ||
        crop->size > h - crop->y)
        return AT_EINVAL;
    *out = *crop;
    return AT_OK;
}

/* Area-average scaling of the box to side x side into dst (RGBA): each output pixel averages the
 * source pixels under it, colours weighted by their alpha so transparent pixels add no fringe. When
 * the box is smaller than side, each output pixel takes the one source pixel under it. */
static void image_scale(const image_rgba *img, const image_crop *box, int side, uint8_t *dst)
{
    for (int oy = 0; oy < side; oy++) {
        int64_t y0 = box->y + oy * box->size / side, y1 = box->y + (oy + 1) * box->size / side;
        if (y1 <= y0)
            y1 = y0 + 1;
        for (int ox = 0; ox < side; ox++) {
            int64_t x0 = box->x + ox * box->size / side, x1 = box->x + (ox + 1) * box->size / side;
            if (x1 <= x0)
                x1 = x0 + 1;
            uint64_t r = 0, g = 0, b = 0, a = 0, n = 0;
            for (int64_t y = y0; y < y1; y++) {
                const uint8_t *p = img->px + ((size_t)y * img->w + (size_t)x0) * 4;
                for (int64_t x = x0; x < x1; x++, p += 4) {
                    r += (uint64_t)p[0] * p[3];
                    g += (uint64_t)p[1] * p[3];
                    b += (uint64_t)p[2] * p[3];
                    a += p[3];
                    n++;
                }
            }
            uint8_t *q = dst + ((size_t)oy * (size_t)side + (size_t)ox) * 4;
            q[0] = a ? (uint8_t)((r + a / 2) / a) : 0;
            q[1] = a ? (uint8_t)((g + a / 2) / a) : 0;
            q[2] = a ? (uint8_t)((b + a / 2) / a) : 0;
            q[3] = (uint8_t)((a + n / 2) / n);
        }
    }
}

/* Appends px (side x side RGBA) to out as a PNG written by libpng. */
static int image_png_encode(const uint8_t *px, int side, buf *out)
{
    png_image pi;
    png_alloc_size_t n = 0;
    int rc = AT_EINTERNAL;
    memset(&pi, 0, sizeof(pi));
    pi.version = PNG_IMAGE_VERSION;
    pi.width = (png_uint_32)side;
    pi.height = (png_uint_32)side;
    pi.format = PNG_FORMAT_RGBA;
    if (!png_image_write_get_memory_size(pi, n, 0, px, 0, NULL))
        return rc;
    void *mem = xmalloc(n);
    if (png_image_write_to_memory(&pi, mem, &n, 0, px, 0, NULL)) {
        buf_append(out, mem, n);
        rc = AT_OK;
    }
    png_image_free(&pi);
    free(mem);
    return rc;
}
