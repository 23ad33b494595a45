/* The user's uploaded picture: re-encoded, stored as base64 text, served by id. */
#include "profile/avatar.h"

#include "base/clock.h"
#include "base/err.h"
#include "base/id.h"
#include "base/mem.h"
#include "profile/profile.h"

#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

typedef struct avatar_ctx {
    const char *user_id;
    const char *id;  /* the new avatar's id, or NULL to clear */
    const char *b64; /* its PNG as base64 */
} avatar_ctx;

/* In one transaction: drop the user's previous picture, store the new one (if any) and point
 * avatar_url at it (or at nothing). */
static int avatar_store_tx(store_conn *c, void *ctx)
{
    avatar_ctx *a = ctx;
    char url[sizeof("/api/v1/avatars/") + ID_MAX];
    int64_t now = clock_now_us();
    store_arg del[] = {sa_text(a->user_id)};
    int rc = store_exec(c, "DELETE FROM avatars WHERE user_id = $1", del, 1, NULL);
    if (rc == AT_OK && a->id) {
        store_arg ins[] = {sa_text(a->id), sa_text(a->user_id), sa_text(a->b64), sa_int(now)};
        rc = store_exec(c, "INSERT INTO avatars (id, user_id, png_base64, created_at) VALUES ($1, $2, $3, $4)", ins, 4,
                        NULL);
    }
    if (a->id)
        snprintf(url, sizeof(url), "/api/v1/avatars/%s", a->id);
    if (rc == AT_OK) {
        store_arg up[] = {sa_text(a->id ? url : NULL), sa_int(now), sa_text(a->user_id)};
        rc = store_exec(c, "UPDATE users SET avatar_url = $1, updated_at = $2 WHERE id = $3", up, 3, NULL);
    }
    return rc;
}

int avatar_set(store *s, const char *user_id, const void *data, size_t len, const image_crop *crop, image_result *res,
               json_t **out)
{
    buf png;
    char id[ID_MAX], *b64 = NULL;
    memset(res, 0, sizeof(*res));
    if (len > AVATAR_MAX_BYTES)
        return AT_ETOOBIG;
    buf_init(&png);
    /* Decoding is the slow part; it runs before, not inside, the write transaction. */
    int rc = image_square_png(data, len, crop, AVATAR_SIDE, &png, res);
    if (rc != AT_OK)
        goto cleanup;
    size_t cap = sodium_base64_ENCODED_LEN(png.len, sodium_base64_VARIANT_ORIGINAL);
    b64 = xmalloc(cap);
    sodium_bin2base64(b64, cap, (const unsigned char *)png.data, png.len, sodium_base64_VARIANT_ORIGINAL);
    id_new("av", id);
    avatar_ctx a = {user_id, id, b64};
    if ((rc = store_tx(s, true, avatar_store_tx, &a)) == AT_OK)
        rc = profile_get(s, user_id, out);
cleanup:
    free(b64);
    buf_free(&png);
    return rc;
}

int avatar_clear(store *s, const char *user_id, json_t **out)
{
    avatar_ctx a = {user_id, NULL, NULL};
    int rc = store_tx(s, true, avatar_store_tx, &a);
    if (rc == AT_OK)
        rc = profile_get(s, user_id, out);
    return rc;
}

int avatar_get(store *s, const char *id, buf *png)
{
    store_conn *c = NULL;
    store_rows *r = NULL;
    store_arg args[] = {sa_text(id)};
    int rc = store_acquire(s, &c);
    if (rc != AT_OK)
        return rc;
    if ((rc = store_query(c, "SELECT png_base64 FROM avatars WHERE id = $1", args, 1, &r)) != AT_OK)
        goto release;
    if ((rc = store_rows_next(r)) != 1) {
        rc = rc == 0 ? AT_ENOTFOUND : rc;
        goto rows;
    }
    const char *b64 = store_rows_text(r, 0);
    size_t blen = strlen(b64), max = blen / 4 * 3 + 3, n = 0;
    unsigned char *bin = xmalloc(max);
    if (sodium_base642bin(bin, max, b64, blen, NULL, &n, NULL, sodium_base64_VARIANT_ORIGINAL) == 0) {
        buf_append(png, bin, n);
        rc = AT_OK;
    } else
        rc = AT_EINTERNAL;
    free(bin);
rows:
    store_rows_free(r);
release:
    store_release(c);
    return rc;
}
