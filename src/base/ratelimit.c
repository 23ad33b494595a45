/* In-memory token buckets. */
#include "base/ratelimit.h"

#include "base/counters.h"

#include <pthread.h>
#include <stdio.h>
#include <string.h>

enum { RL_SLOTS = 4096, RL_KEY = 64 };

typedef struct rl_bucket {
    char key[RL_KEY];
    double tokens;
    int64_t updated_us;
} rl_bucket;

static rl_bucket rl_table[RL_SLOTS];
static pthread_mutex_t rl_mu = PTHREAD_MUTEX_INITIALIZER;

static uint32_t rl_hash(const char *s)
{
    uint32_t h = 2166136261u;
    for (; *s; s++)
        h = (h ^ (unsigned char)*s) * 16777619u;
    return h;
}

bool ratelimit_take(const char *key, int per_minute, int burst, int64_t now_us, ratelimit_info *out)
{
    double rate = per_minute / 60e6; /* tokens per microsecond */
    rl_bucket *b = &rl_table[rl_hash(key) % RL_SLOTS];
    bool ok;
    pthread_mutex_lock(&rl_mu);
    if (strncmp(b->key, key, RL_KEY - 1) != 0) {
        /* A new bucket (or a collision taking the slot over): it starts full. */
        snprintf(b->key, sizeof(b->key), "%s", key);
        b->tokens = burst;
        b->updated_us = now_us;
    }
    if (now_us > b->updated_us) {
        b->tokens += (double)(now_us - b->updated_us) * rate;
        if (b->tokens > burst)
            b->tokens = burst;
        b->updated_us = now_us;
    }
    ok = b->tokens >= 1.0;
    if (ok)
        b->tokens -= 1.0;
    else
        counters_inc_prefix(COUNTER_RATE_LIMITED, key);
    out->limit = burst;
    out->remaining = (int)b->tokens;
    out->reset_s = rate > 0 ? (int)((burst - b->tokens) / rate / 1e6 + 0.999) : 0;
    out->retry_after_s = ok || rate <= 0 ? 0 : (int)((1.0 - b->tokens) / rate / 1e6 + 0.999);
    if (!ok && out->retry_after_s < 1)
        out->retry_after_s = 1;
    pthread_mutex_unlock(&rl_mu);
    return ok;
}
