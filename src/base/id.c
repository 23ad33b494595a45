/* ULID-based identifiers. */
#include "base/id.h"

#include "base/clock.h"

#include <sodium.h>
#include <stdint.h>
#include <string.h>

static const char id_alphabet[] = "0123456789ABCDEFGHJKMNPQRSTVWXYZ";

void id_new(const char *prefix, char out[ID_MAX])
{
    unsigned char raw[16];
    uint64_t ms = (uint64_t)(clock_now_us() / 1000);
    for (int i = 5; i >= 0; i--) {
        raw[i] = (unsigned char)(ms & 0xff);
        ms >>= 8;
    }
    randombytes_buf(raw + 6, 10);

    size_t plen = strlen(prefix);
    if (plen > 16)
        plen = 16;
    memcpy(out, prefix, plen);
    out[plen] = '_';
    char *u = out + plen + 1;
    /* 128 bits as 26 base32 digits: the first digit carries the top 3 bits. */
    for (int i = 0; i < ID_ULID_LEN; i++) {
        int bit = 128 - (ID_ULID_LEN - i) * 5; /* may be negative for the first digit */
        unsigned v = 0;
        for (int k = 0; k < 5; k++) {
            int b = bit + k;
            v <<= 1;
            if (b >= 0)
                v |= (raw[b / 8] >> (7 - b % 8)) & 1u;
        }
        u[i] = id_alphabet[v];
    }
    u[ID_ULID_LEN] = '\0';
}

bool id_valid(const char *prefix, const char *s, size_t len)
{
    size_t plen = strlen(prefix);
    if (len != plen + 1 + ID_ULID_LEN || memcmp(s, prefix, plen) != 0 || s[plen] != '_')
        return false;
    if (s[plen + 1] > '7')
        return false;
    for (size_t i = plen + 1; i < len; i++)
        if (!memchr(id_alphabet, s[i], sizeof(id_alphabet) - 1))
            return false;
    return true;
}
