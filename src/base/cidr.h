/* IP addresses and CIDR ranges, as the trusted-proxies setting (ATRIUM_TRUSTED_PROXIES) gives them:
 * "127.0.0.1/32, 10.0.0.0/8, ::1" (an address without a length is the address alone). Parsing is
 * strict: every entry must be a numeric IPv4 or IPv6 address with an optional /LENGTH in range, and
 * the host bits of a range must be zero, so a typo cannot quietly trust more than was meant. */
#ifndef AT_CIDR_H
#define AT_CIDR_H

#include <stdbool.h>
#include <stddef.h>

typedef struct cidr {
    int family;             /* AF_INET or AF_INET6 */
    unsigned char addr[16]; /* network order; 4 bytes used for IPv4 */
    int bits;               /* prefix length */
} cidr;

/* A parsed list; owned by the caller: cidr_list_free releases it. */
typedef struct cidr_list {
    cidr *items;
    size_t count;
} cidr_list;

/* cidr_list_parse parses comma- or space-separated entries (an empty text gives an empty list). On
 * success returns AT_OK with *out filled (the caller frees it); on a bad entry returns AT_EINVAL, leaves
 * *out empty and writes what is wrong, naming the entry, into err. */
int cidr_list_parse(const char *text, cidr_list *out, char err[256]);
void cidr_list_free(cidr_list *l);
/* cidr_addr_parse parses one numeric address of len bytes (no brackets, no port) into family and
 * addr. An IPv4-mapped IPv6 address (::ffff:a.b.c.d) is taken as the IPv4 address. Returns AT_OK or
 * AT_EINVAL. */
int cidr_addr_parse(const char *s, size_t len, int *family, unsigned char addr[16]);
/* cidr_list_contains reports whether the address is inside one of the list's ranges. */
bool cidr_list_contains(const cidr_list *l, int family, const unsigned char addr[16]);

#endif
