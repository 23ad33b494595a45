/* Token buckets in memory, keyed by a string ("key:key_...", "ws:ws_..."): a bucket holds up to
 * `burst` tokens and refills at `per_minute` tokens a minute; each request takes one. Buckets live in
 * this process (several Atrium processes each allow the full rate; documented). Thread-safe; a fixed
 * table, so memory stays bounded whatever the number of keys. */
#ifndef AT_RATELIMIT_H
#define AT_RATELIMIT_H

#include <stdbool.h>
#include <stdint.h>

typedef struct ratelimit_info {
    int limit;         /* the bucket size (RateLimit-Limit) */
    int remaining;     /* whole tokens left after this request (RateLimit-Remaining) */
    int reset_s;       /* seconds until the bucket is full again (RateLimit-Reset) */
    int retry_after_s; /* when refused: seconds until one token is back */
} ratelimit_info;

/* ratelimit_take takes one token from the bucket of `key` at time now_us; returns false (and fills
 * retry_after_s) when it is empty. */
bool ratelimit_take(const char *key, int per_minute, int burst, int64_t now_us, ratelimit_info *out);

#endif
