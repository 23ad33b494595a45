/* The client address of a request: the connection's peer, or, when the peer is a trusted reverse
 * proxy (ATRIUM_TRUSTED_PROXIES), the address the proxies recorded in `Forwarded` (RFC 7239) or
 * `X-Forwarded-For`. Every consumer (rate limits, sign-in lockouts, audit events, sessions, the access
 * log) reads req->client_ip, which is set here once per request. */
#include "http/http_impl.h"

#include "base/cidr.h"
#include "base/err.h"
#include "base/mem.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>

/* One element of a comma-separated header, as a slice. */
typedef struct proxy_slice {
    const char *p;
    size_t n;
} proxy_slice;

static size_t proxy_split(const char *text, proxy_slice **out);
static int proxy_node(const char *s, size_t n, bool forwarded, int *family, unsigned char addr[16]);
static void proxy_format(int family, const unsigned char addr[16], char out[64]);

bool http_client_address(const cidr_list *trusted, const char *peer, const char *forwarded, const char *xff,
                         char out[64])
{
    int family = 0, fam = 0;
    unsigned char addr[16], a[16];
    proxy_slice *items = NULL;
    snprintf(out, 64, "%s", peer ? peer : "");
    if (!trusted || !trusted->count || !peer || cidr_addr_parse(peer, strlen(peer), &family, addr) != AT_OK ||
        !cidr_list_contains(trusted, family, addr))
        return false;
    /* Forwarded is the standard, so it wins when a proxy sends both. */
    const char *header = forwarded && *forwarded ? forwarded : xff;
    bool is_forwarded = header == forwarded;
    size_t n = header ? proxy_split(header, &items) : 0;
    /* From the right: each address a trusted proxy appended, until the first that is not a trusted
     * proxy. What lies to its left was written by the client and is never believed. */
    for (size_t i = n; i-- > 0;) {
        if (proxy_node(items[i].p, items[i].n, is_forwarded, &fam, a) != AT_OK)
            goto done; /* malformed where it matters: the peer's own address stands */
        if (!cidr_list_contains(trusted, fam, a) || i == 0) {
            proxy_format(fam, a, out);
            goto done;
        }
    }
done:
    free(items);
    return true;
}

/* Splits a header value at commas outside double quotes into trimmed, non-empty slices (a new array
 * the caller frees). Returns how many. An empty element (",,") is kept, empty, so it reads as
 * malformed. */
static size_t proxy_split(const char *text, proxy_slice **out)
{
    size_t n = 0, cap = 0;
    *out = NULL;
    const char *start = text;
    bool quoted = false;
    for (const char *p = text;; p++) {
        if (*p == '"')
            quoted = !quoted;
        if (*p && (quoted || *p != ','))
            continue;
        const char *b = start, *e = p;
        while (b < e && (*b == ' ' || *b == '\t'))
            b++;
        while (e > b && (e[-1] == ' ' || e[-1] == '\t'))
            e--;
        if (n == cap) {
            cap = cap ? cap * 2 : 8;
            *out = xrealloc(*out, cap * sizeof **out);
        }
        (*out)[n++] = (proxy_slice){b, (size_t)(e - b)};
        if (!*p)
            break;
        start = p + 1;
    }
    return n;
}

/* Parses a node: in Forwarded, the for= parameter of the element (a token or a quoted string); in
 * X-Forwarded-For, the element itself. A node is "1.2.3.4", "1.2.3.4:port", a bare IPv6 address, or
 * "[v6]" with an optional ":port". "unknown", obfuscated identifiers (RFC 7239 §6) and anything else
 * are AT_EINVAL. */
static int proxy_node(const char *s, size_t n, bool forwarded, int *family, unsigned char addr[16])
{
    if (forwarded) {
        const char *v = NULL;
        size_t vn = 0;
        for (const char *p = s; p < s + n;) {
            const char *semi = memchr(p, ';', (size_t)(s + n - p));
            const char *end = semi ? semi : s + n;
            while (p < end && (*p == ' ' || *p == '\t'))
                p++;
            if (end - p > 4 && strncasecmp(p, "for=", 4) == 0) {
                v = p + 4;
                vn = (size_t)(end - v);
                while (vn && (v[vn - 1] == ' ' || v[vn - 1] == '\t'))
                    vn--;
            }
            p = semi ? semi + 1 : end;
        }
        if (!v)
            return AT_EINVAL;
        if (vn >= 2 && v[0] == '"' && v[vn - 1] == '"') {
            v++;
            vn -= 2;
        }
        s = v;
        n = vn;
    }
    if (n && s[0] == '[') {
        const char *close = memchr(s, ']', n);
        if (!close)
            return AT_EINVAL;
        size_t rest = n - (size_t)(close - s) - 1;
        if (rest && (close[1] != ':' || rest < 2 || strspn(close + 2, "0123456789") < rest - 1))
            return AT_EINVAL;
        return cidr_addr_parse(s + 1, (size_t)(close - s - 1), family, addr);
    }
    if (cidr_addr_parse(s, n, family, addr) == AT_OK)
        return AT_OK;
    const char *colon = memchr(s, ':', n);
    if (!colon || memchr(colon + 1, ':', n - (size_t)(colon - s) - 1))
        return AT_EINVAL;
    size_t port_len = n - (size_t)(colon - s) - 1;
    if (port_len == 0 || port_len > 5)
        return AT_EINVAL;
    for (size_t i = 0; i < port_len; i++)
        if (colon[1 + i] < '0' || colon[1 + i] > '9')
            return AT_EINVAL;
    if (cidr_addr_parse(s, (size_t)(colon - s), family, addr) != AT_OK || *family != AF_INET)
        return AT_EINVAL;
    return AT_OK;
}

/* The canonical text of an address (what inet_ntop writes). */
static void proxy_format(int family, const unsigned char addr[16], char out[64])
{
    if (!inet_ntop(family, addr, out, 64))
        out[0] = '\0';
}
