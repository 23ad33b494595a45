/* Untrusted images in, a fixed-size PNG out. image_square_png reads a PNG, JPEG or WebP (the type is
 * told by its first bytes, never by what the sender claims), refuses pictures whose header announces
 * more than IMAGE_MAX_SIDE pixels a side or IMAGE_MAX_PIXELS in all before any pixel is decoded (a
 * decompression bomb then costs a header read), crops a square and scales it (area average, alpha
 * weighted) to side x side, and writes a new PNG. Nothing of the input's bytes (metadata, extra chunks,
 * a polyglot tail) survives into the output. No domain knowledge; the avatar upload is its user. */
#ifndef AT_IMAGE_H
#define AT_IMAGE_H

#include "base/buf.h"

#include <stdbool.h>

#include <stddef.h>
#include <stdint.h>

enum { IMAGE_MAX_SIDE = 8000, IMAGE_MAX_PIXELS = 40000000, IMAGE_MAX_OUT_SIDE = 1024 };

typedef enum image_type { IMAGE_UNKNOWN = 0, IMAGE_PNG, IMAGE_JPEG, IMAGE_WEBP } image_type;

/* A square crop in source pixels; size 0 means "the largest centred square". */
typedef struct image_crop {
    int64_t x, y, size;
} image_crop;

/* What image_square_png found besides its status. */
typedef struct image_result {
    image_type type; /* as sniffed */
    uint32_t width;  /* the source's size, once its header was read (0 before) */
    uint32_t height;
    const char *error; /* with AT_EINVAL: "unsupported_type", "too_many_pixels", "corrupt" or "bad_crop" */
} image_result;

/* image_sniff tells the type from the first bytes of (data, len). */
image_type image_sniff(const void *data, size_t len);
/* image_type_mime is "image/png", "image/jpeg", "image/webp", or NULL for IMAGE_UNKNOWN. */
const char *image_type_mime(image_type t);

/* image_square_png decodes (data, len), crops it (crop may be NULL: centred), scales the square to
 * side x side (1..IMAGE_MAX_OUT_SIDE) and appends the PNG to out (caller-owned, initialised). Returns
 * AT_OK, or AT_EINVAL with res->error set and nothing appended. Borrows data; allocates nothing that
 * outlives the call besides what it appends to out. */
int image_square_png(const void *data, size_t len, const image_crop *crop, int side, buf *out, image_result *res);

#endif
