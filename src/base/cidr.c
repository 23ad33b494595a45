/* IP addresses and CIDR ranges (cidr.h). */
#include "base/cidr.h"

#include "base/err.h"
#include "base/mem.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

static int cidr_entry_parse(const char *s, size_t len, cidr *out);

int cidr_list_parse(const char *text, cidr_list *out, char err[256])
{
    out->items = NULL;
    out->count = 0;
    size_t cap = 0;
    const char *p = text ? text : "";
    while (*p) {
        while (*p == ',' || *p == ' ' || *p == '\t')
            p++;
        size_t n = strcspn(p, ", \t");
        if (n == 0)
            break;
        cidr c;
        if (cidr_entry_parse(p, n, &c) != AT_OK) {
            snprintf(err, 256, "'%.*s' is not an IP address or a CIDR range (such as 10.0.0.0/8 or ::1/128)",
                     n > 64 ? 64 : (int)n, p);
            cidr_list_free(out);
            return AT_EINVAL;
        }
        if (out->count == cap) {
            cap = cap ? cap * 2 : 4;
            out->items = xrealloc(out->items, cap * sizeof *out->items);
        }
        out->items[out->count++] = c;
        p += n;
    }
    return AT_OK;
}

void cidr_list_free(cidr_list *l)
{
    free(l->items);
    l->items = NULL;
    l->count = 0;
}

int cidr_addr_parse(const char *s, size_t len, int *family, unsigned char addr[16])
{
    char text[INET6_ADDRSTRLEN + 1];
    if (len == 0 || len >= sizeof text)
        return AT_EINVAL;
    memcpy(text, s, len);
    text[len] = '\0';
    memset(addr, 0, 16);
    if (inet_pton(AF_INET, text, addr) == 1) {
        *family = AF_INET;
        return AT_OK;
    }
    if (inet_pton(AF_INET6, text, addr) != 1)
        return AT_EINVAL;
    static const unsigned char mapped[12] = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff};
    if (memcmp(addr, mapped, 12) == 0) {
        memmove(addr, addr + 12, 4);
        memset(addr + 4, 0, 12);
        *family = AF_INET;
        return AT_OK;
    }
    *family = AF_INET6;
    return AT_OK;
}

/* One "ADDRESS[/LENGTH]" entry; the host bits past LENGTH must be zero. */
static int cidr_entry_parse(const char *s, size_t len, cidr *out)
{
    const char *slash = memchr(s, '/', len);
    size_t alen = slash ? (size_t)(slash - s) : len;
    if (cidr_addr_parse(s, alen, &out->family, out->addr) != AT_OK)
        return AT_EINVAL;
    int max = out->family == AF_INET ? 32 : 128;
    out->bits = max;
    if (slash) {
        size_t dl = len - alen - 1;
        if (dl == 0 || dl > 3)
            return AT_EINVAL;
        int bits = 0;
        for (size_t i = 0; i < dl; i++) {
            if (slash[1 + i] < '0' || slash[1 + i] > '9')
                return AT_EINVAL;
            bits = bits * 10 + (slash[1 + i] - '0');
        }
        if (bits > max)
            return AT_EINVAL;
        out->bits = bits;
    }
    for (int b = out->bits; b < max; b++)
        if (out->addr[b / 8] & (0x80 >> (b % 8)))
            return AT_EINVAL;
    return AT_OK;
}

bool cidr_list_contains(const cidr_list *l, int family, const unsigned char addr[16])
{
    for (size_t i = 0; l && i < l->count; i++) {
        const cidr *c = &l->items[i];
        if (c->family != family)
            continue;
        int full = c->bits / 8, rest = c->bits % 8;
        if (memcmp(c->addr, addr, (size_t)full) != 0)
            continue;
        if (rest && ((c->addr[full] ^ addr[full]) & (0xff << (8 - rest)) & 0xff))
            continue;
        return true;
    }
    return false;
}
