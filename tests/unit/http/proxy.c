/* Unit tests of the client address behind trusted proxies (src/http/proxy.c) and of the CIDR lists it
 * uses (src/base/cidr.c). */
#include "base/cidr.h"
#include "base/err.h"
#include "http/http.h"

#include <criterion/criterion.h>
#include <string.h>
#include <sys/socket.h>

/* The client address for a request from peer with the given headers, trusting list. */
static const char *client(const char *list, const char *peer, const char *fwd, const char *xff, bool *via)
{
    static char out[64];
    char err[256];
    cidr_list l;
    cr_assert_eq(cidr_list_parse(list, &l, err), AT_OK, "%s", err);
    bool v = http_client_address(&l, peer, fwd, xff, out);
    if (via)
        *via = v;
    cidr_list_free(&l);
    return out;
}

Test(cidr, parse_and_contains)
{
    char err[256];
    cidr_list l;
    unsigned char a[16];
    int fam = 0;
    cr_assert_eq(cidr_list_parse("10.0.0.0/8, 192.168.1.7 ::1/128,2001:db8::/32", &l, err), AT_OK, "%s", err);
    cr_assert_eq(l.count, 4);
    const char *in[] = {"10.1.2.3", "192.168.1.7", "::1", "2001:db8:ffff::1", "::ffff:10.9.9.9"};
    for (size_t i = 0; i < sizeof in / sizeof in[0]; i++) {
        cr_assert_eq(cidr_addr_parse(in[i], strlen(in[i]), &fam, a), AT_OK, "%s", in[i]);
        cr_assert(cidr_list_contains(&l, fam, a), "%s", in[i]);
    }
    const char *out[] = {"11.0.0.1", "192.168.1.8", "::2", "2001:db9::1"};
    for (size_t i = 0; i < sizeof out / sizeof out[0]; i++) {
        cr_assert_eq(cidr_addr_parse(out[i], strlen(out[i]), &fam, a), AT_OK, "%s", out[i]);
        cr_assert(!cidr_list_contains(&l, fam, a), "%s", out[i]);
    }
    cidr_list_free(&l);
    cr_assert_eq(cidr_list_parse("", &l, err), AT_OK);
    cr_assert_eq(l.count, 0);
    const char *bad[] = {"10.0.0.1/8", "10.0.0.0/33", "host.example", "10.0.0.0/", "::1/129", "1.2.3.4/x"};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        cr_assert_eq(cidr_list_parse(bad[i], &l, err), AT_EINVAL, "%s", bad[i]);
        cr_assert(strstr(err, bad[i]) != NULL, "%s: %s", bad[i], err);
    }
}

Test(proxy, untrusted_peer_ignores_headers)
{
    bool via = true;
    cr_assert_str_eq(client("", "127.0.0.1", "for=1.2.3.4", "5.6.7.8", &via), "127.0.0.1");
    cr_assert(!via);
    cr_assert_str_eq(client("10.0.0.0/8", "127.0.0.1", "for=1.2.3.4", "5.6.7.8", &via), "127.0.0.1");
    cr_assert(!via);
}

Test(proxy, rightmost_untrusted_address)
{
    bool via = false;
    const char *t = "127.0.0.1/32, 10.0.0.0/8";
    cr_assert_str_eq(client(t, "127.0.0.1", NULL, "6.6.6.6, 1.2.3.4", &via), "1.2.3.4");
    cr_assert(via);
    cr_assert_str_eq(client(t, "127.0.0.1", NULL, "6.6.6.6, 1.2.3.4, 10.1.1.1", NULL), "1.2.3.4");
    cr_assert_str_eq(client(t, "127.0.0.1", NULL, "10.2.2.2, 10.1.1.1", NULL), "10.2.2.2"); /* all trusted */
    cr_assert_str_eq(client(t, "127.0.0.1", NULL, "1.2.3.4:5678", NULL), "1.2.3.4");
    cr_assert_str_eq(client(t, "127.0.0.1", NULL, "[2001:db8::1]:443", NULL), "2001:db8::1");
    cr_assert_str_eq(client(t, "127.0.0.1", NULL, "2001:DB8:0::1", NULL), "2001:db8::1");
    cr_assert_str_eq(client(t, "127.0.0.1", NULL, "::ffff:1.2.3.4", NULL), "1.2.3.4");
    cr_assert_str_eq(client(t, "127.0.0.1", NULL, NULL, &via), "127.0.0.1"); /* a trusted peer, no header */
    cr_assert(via);
    /* Forwarded wins; parameters, quoting and case. */
    cr_assert_str_eq(
        client(t, "127.0.0.1", "for=9.9.9.9, For=\"[2001:db8::2]:80\";proto=https;by=10.0.0.1", "1.2.3.4", NULL),
        "2001:db8::2");
    cr_assert_str_eq(client(t, "127.0.0.1", "proto=https; for=8.8.8.8 ;host=x", NULL, NULL), "8.8.8.8");
    cr_assert_str_eq(client(t, "127.0.0.1", "for=\"a,b\", for=8.8.4.4", NULL, NULL), "8.8.4.4");
}

Test(proxy, malformed_falls_back_to_the_peer)
{
    const char *t = "127.0.0.1/32";
    const char *xff[] = {"garbage", "1.2.3.4, ", "1.2.3.4,,", "1.2.3.4:99999x", "[::1", "1.2.3.4 5.6.7.8", ""};
    for (size_t i = 0; i < sizeof xff / sizeof xff[0]; i++)
        cr_assert_str_eq(client(t, "127.0.0.1", NULL, xff[i], NULL), "127.0.0.1", "%s", xff[i]);
    const char *fwd[] = {"for=unknown", "for=_hidden", "proto=https", "for=", "for=\"[::1\""};
    for (size_t i = 0; i < sizeof fwd / sizeof fwd[0]; i++)
        cr_assert_str_eq(client(t, "127.0.0.1", fwd[i], "1.2.3.4", NULL), "127.0.0.1", "%s", fwd[i]);
    /* Garbage the client wrote on the left is never read. */
    cr_assert_str_eq(client(t, "127.0.0.1", NULL, "garbage, 1.2.3.4", NULL), "1.2.3.4");
}
