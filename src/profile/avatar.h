/* Avatar upload: a PNG, JPEG or WebP the user sends, with the square they chose, becomes a new
 * AVATAR_SIDE x AVATAR_SIDE PNG that Atrium encoded itself (base/image.h); the upload's own bytes are
 * never stored or served. The picture gets a new id at every upload, and the profile's avatar_url
 * points at /api/v1/avatars/{id}, so the URL changes whenever the picture does (caches need no
 * revalidation). */
#ifndef AT_PROFILE_AVATAR_H
#define AT_PROFILE_AVATAR_H

#include "base/buf.h"
#include "base/image.h"
#include "store/store.h"

#include <jansson.h>

enum { AVATAR_MAX_BYTES = 5 * 1024 * 1024, AVATAR_SIDE = 256 };

/* avatar_set re-encodes (data, len) cropped to crop (NULL: centred), stores it as the user's picture
 * (replacing the previous one) and returns the updated profile (a new object, profile_get's shape).
 * AT_ETOOBIG past AVATAR_MAX_BYTES; AT_EINVAL with res->error (image.h) for a picture it will not
 * take. Borrows data. */
int avatar_set(store *s, const char *user_id, const void *data, size_t len, const image_crop *crop, image_result *res,
               json_t **out);
/* avatar_clear removes the user's picture (and an avatar_url set by hand) and returns the profile. */
int avatar_clear(store *s, const char *user_id, json_t **out);
/* avatar_get appends the stored PNG of avatar id to png (caller-owned); AT_ENOTFOUND when none. */
int avatar_get(store *s, const char *id, buf *png);

#endif
