/* Message composition (src/mail/mime.c): addresses, RFC 2047 headers, quoted-printable and base64
 * line lengths, header injection, and the shape of a whole message. */
#include "mail/mime.h"

#include "base/err.h"

#include <criterion/criterion.h>
#include <sodium.h>
#include <stdlib.h>
#include <string.h>

/* Decodes quoted-printable (soft breaks removed, CRLF hard breaks kept as CRLF). */
static char *qp_decode(const char *s)
{
    buf b;
    buf_init(&b);
    for (size_t i = 0; s[i];) {
        if (s[i] == '=' && s[i + 1] == '\r' && s[i + 2] == '\n') {
            i += 3;
        } else if (s[i] == '=') {
            char hex[3] = {s[i + 1], s[i + 2], 0};
            cr_assert(hex[0] && hex[1], "truncated escape");
            buf_putc(&b, (char)strtol(hex, NULL, 16));
            i += 3;
        } else {
            buf_putc(&b, s[i++]);
        }
    }
    buf_append(&b, "", 0);
    return buf_steal(&b, NULL);
}

/* Decodes base64 that may contain CRLF line breaks. */
static char *b64_decode(const char *s, size_t len, size_t *out_len)
{
    size_t cap = len + 1;
    unsigned char *out = malloc(cap);
    size_t n = 0;
    cr_assert_eq(sodium_base642bin(out, cap, s, len, "\r\n", &n, NULL, sodium_base64_VARIANT_ORIGINAL), 0,
                 "bad base64: %.*s", (int)len, s);
    out[n] = 0;
    if (out_len)
        *out_len = n;
    return (char *)out;
}

/* Checks that every line of s ends in CRLF and has at most max characters. */
static void assert_lines(const char *s, size_t max)
{
    const char *line = s;
    for (const char *p = s; *p; p++) {
        if (*p == '\n')
            cr_assert(p > s && p[-1] == '\r', "bare LF at %ld", (long)(p - s));
        if (*p == '\r') {
            cr_assert_eq(p[1], '\n', "bare CR at %ld", (long)(p - s));
            cr_assert_leq((size_t)(p - line), max, "line of %ld > %zu: %.*s", (long)(p - line), max, (int)(p - line),
                          line);
            line = p + 2;
        }
    }
    cr_assert_eq(*line, '\0', "the last line has no CRLF");
}

/* Unfolds a header block (CRLF SP -> SP) and decodes the RFC 2047 B words of one header's value;
 * the white space between two adjacent encoded words is dropped, as RFC 2047 §6.2 says. */
static char *header_decode(const char *hdr)
{
    buf u, out;
    buf_init(&u);
    buf_init(&out);
    const char *colon = strchr(hdr, ':');
    cr_assert(colon);
    for (const char *p = colon + 1; *p; p++) {
        if (p[0] == '\r' && p[1] == '\n' && p[2] == ' ') {
            p += 1;
            continue;
        }
        if (p[0] == '\r' && p[1] == '\n')
            break;
        buf_putc(&u, *p);
    }
    buf_append(&u, "", 0);
    const char *p = u.data;
    while (*p == ' ')
        p++;
    while (*p) {
        if (strncmp(p, "=?UTF-8?B?", 10) == 0) {
            const char *end = strstr(p + 10, "?=");
            cr_assert(end);
            cr_assert_leq((size_t)(end + 2 - p), 75, "encoded word longer than 75");
            size_t n = 0;
            char *d = b64_decode(p + 10, (size_t)(end - p - 10), &n);
            cr_assert(mail_utf8_valid(d, n), "an encoded word splits a character");
            buf_append(&out, d, n);
            free(d);
            p = end + 2;
            const char *q = p;
            while (*q == ' ')
                q++;
            if (strncmp(q, "=?UTF-8?B?", 10) == 0)
                p = q;
            continue;
        }
        buf_putc(&out, *p++);
    }
    buf_append(&out, "", 0);
    buf_free(&u);
    return buf_steal(&out, NULL);
}

static void setup(void)
{
    cr_assert(sodium_init() >= 0);
}

Test(mail_mime, address_validation, .init = setup)
{
    const char *good[] = {"ana@example.com", "a.b+tag@mail.example.co.uk", "o'brien@example.ie", "x@a-b.io",
                          "UPPER@Example.COM"};
    for (size_t i = 0; i < sizeof good / sizeof good[0]; i++)
        cr_assert(mail_addr_valid(good[i], true), "%s", good[i]);
    char longaddr[300];
    memset(longaddr, 'a', sizeof longaddr);
    memcpy(longaddr + 250, "@x.io", 6); /* 255 bytes */
    const char *bad[] = {"",
                         "ana",
                         "ana@localhost",
                         "a@b@example.com",
                         "ana @example.com",
                         "ana@example.com\r\nBcc: eve@example.com",
                         "ana@example.com\n",
                         "ana@exa\tmple.com",
                         "<ana@example.com>",
                         "Ana <ana@example.com>",
                         "ana@example.com, bob@example.com",
                         "ana@example.com;bob@example.com",
                         ".ana@example.com",
                         "ana.@example.com",
                         "an..a@example.com",
                         "ana@-example.com",
                         "ana@example-.com",
                         "ana@example..com",
                         "ana@.example.com",
                         "ana@example.com.",
                         "ana@exa_mple.com",
                         "\"ana\"@example.com",
                         "ána@example.com",
                         "ana@exámple.com",
                         "@example.com",
                         "ana@",
                         longaddr};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++)
        cr_assert_not(mail_addr_valid(bad[i], true), "accepted %s", bad[i]);
    cr_assert_not(mail_addr_valid(NULL, true));
    cr_assert(mail_addr_valid("atrium@localhost", false));
    char local65[80];
    memset(local65, 'l', 65);
    memcpy(local65 + 65, "@example.com", 13);
    cr_assert_not(mail_addr_valid(local65, true));
}

Test(mail_mime, from_split, .init = setup)
{
    char name[MAIL_NAME_MAX + 1], addr[MAIL_ADDR_MAX + 1];
    cr_assert_eq(mail_addr_split("Atrium <atrium@localhost>", name, addr), AT_OK);
    cr_assert_str_eq(name, "Atrium");
    cr_assert_str_eq(addr, "atrium@localhost");
    cr_assert_eq(mail_addr_split("  \"Team, \\\"Inc\\\"\" <team@x.io> ", name, addr), AT_OK);
    cr_assert_str_eq(name, "Team, \"Inc\"");
    cr_assert_str_eq(addr, "team@x.io");
    cr_assert_eq(mail_addr_split("bare@x.io", name, addr), AT_OK);
    cr_assert_str_eq(name, "");
    cr_assert_str_eq(addr, "bare@x.io");
    cr_assert_eq(mail_addr_split("Équipe\r\nBcc: x <e@x.io>", name, addr), AT_OK);
    cr_assert_str_eq(name, "Équipe Bcc: x");
    cr_assert_eq(mail_addr_split("Bad <no>", name, addr), AT_EINVAL);
    cr_assert_eq(mail_addr_split("a@x.io, b@x.io", name, addr), AT_EINVAL);
    cr_assert_eq(mail_addr_split("", name, addr), AT_EINVAL);
    cr_assert_eq(mail_addr_split("x <a@x.io>\r\nBcc: b@x.io", name, addr), AT_EINVAL);
}

Test(mail_mime, utf8_validation, .init = setup)
{
    cr_assert(mail_utf8_valid("plain", 5));
    cr_assert(mail_utf8_valid("Café ☕ 𝄞", strlen("Café ☕ 𝄞")));
    cr_assert_not(mail_utf8_valid("\xC3", 1));             /* truncated */
    cr_assert_not(mail_utf8_valid("\xC0\xAF", 2));         /* overlong '/' */
    cr_assert_not(mail_utf8_valid("\xED\xA0\x80", 3));     /* surrogate */
    cr_assert_not(mail_utf8_valid("\xF4\x90\x80\x80", 4)); /* > U+10FFFF */
    cr_assert_not(mail_utf8_valid("\xFF", 1));
}

Test(mail_mime, rfc2047_subject, .init = setup)
{
    const char *subject = "Zoë invited you to Café Ünïcorn ☕ on Atrium — join the team";
    buf b;
    buf_init(&b);
    mail_header_text(&b, "Subject", subject);
    cr_assert_eq(strncmp(b.data, "Subject: =?UTF-8?B?", 19), 0, "%s", b.data);
    assert_lines(b.data, MAIL_HEADER_LINE_MAX);
    char *d = header_decode(b.data);
    cr_assert_str_eq(d, subject);
    free(d);

    /* Long non-ASCII text: many words, each a whole number of characters. */
    buf_reset(&b);
    char big[600] = "";
    for (int i = 0; i < 40; i++)
        strcat(big, "日本語ü ");
    big[strlen(big) - 1] = '\0';
    mail_header_text(&b, "Subject", big);
    assert_lines(b.data, MAIL_HEADER_LINE_MAX);
    d = header_decode(b.data);
    cr_assert_eq(strncmp(d, "日本語ü 日本語ü", strlen("日本語ü 日本語ü")), 0);
    cr_assert_leq(strlen(d), MAIL_SUBJECT_MAX);
    cr_assert(mail_utf8_valid(d, strlen(d)));
    free(d);

    /* ASCII that looks like an encoded word is encoded, so it reads back literally. */
    buf_reset(&b);
    mail_header_text(&b, "Subject", "=?UTF-8?B?ZXZpbA==?= ok");
    cr_assert_eq(strncmp(b.data, "Subject: =?UTF-8?B?", 19), 0);
    d = header_decode(b.data);
    cr_assert_str_eq(d, "=?UTF-8?B?ZXZpbA==?= ok");
    free(d);
    buf_free(&b);
}

Test(mail_mime, ascii_subject_folds, .init = setup)
{
    buf b;
    buf_init(&b);
    mail_header_text(&b, "Subject", "Short and sweet");
    cr_assert_str_eq(b.data, "Subject: Short and sweet\r\n");
    buf_reset(&b);
    const char *lng = "A rather long subject line that keeps going well past the seventy eight column "
                      "recommendation of RFC 5322 so that it has to be folded at least once or twice";
    mail_header_text(&b, "Subject", lng);
    assert_lines(b.data, MAIL_HEADER_LINE_MAX);
    cr_assert(strstr(b.data, "\r\n "), "not folded: %s", b.data);
    char *d = header_decode(b.data);
    cr_assert_str_eq(d, lng);
    free(d);
    buf_free(&b);
}

/* No input can end a header line early: every CRLF but the last is a fold (followed by a space). */
static void assert_one_header(const char *h)
{
    size_t len = strlen(h);
    cr_assert(len >= 2 && strcmp(h + len - 2, "\r\n") == 0);
    for (const char *p = h; *p; p++) {
        if (*p == '\r' || *p == '\n') {
            cr_assert(p[0] == '\r' && p[1] == '\n', "bare CR or LF in %s", h);
            cr_assert(p[2] == ' ' || p[2] == '\0', "header ended early: %s", h);
            p++;
        } else {
            cr_assert((unsigned char)*p >= 0x20 && *p != 0x7f, "control character in %s", h);
        }
    }
}

Test(mail_mime, header_injection_neutralised, .init = setup)
{
    const char *evil[] = {"Hello\r\nBcc: eve@example.com", "Hello\nBcc: eve@example.com",
                          "Hello\rBcc: eve@example.com",   "Hello\r\n\r\n<html>body</html>",
                          "Tab\there\x01\x1b[31m\x7f",     "Ünï\r\nBcc: eve@example.com"};
    buf b;
    buf_init(&b);
    for (size_t i = 0; i < sizeof evil / sizeof evil[0]; i++) {
        buf_reset(&b);
        mail_header_text(&b, "Subject", evil[i]);
        assert_one_header(b.data);
        char *d = header_decode(b.data);
        cr_assert_null(strchr(d, '\r'));
        cr_assert_null(strchr(d, '\n'));
        free(d);
        buf_reset(&b);
        mail_header_addr(&b, "To", evil[i], "ana@example.com");
        assert_one_header(b.data);
        cr_assert(strstr(b.data, " <ana@example.com>\r\n"), "%s", b.data);
    }
    buf_reset(&b);
    mail_header_text(&b, "Subject", "Hello\r\nBcc: eve@example.com");
    cr_assert_str_eq(b.data, "Subject: Hello Bcc: eve@example.com\r\n");
    buf_free(&b);
}

Test(mail_mime, display_names, .init = setup)
{
    buf b;
    buf_init(&b);
    mail_header_addr(&b, "To", "Ana \"The\" Smith\\", "ana@example.com");
    cr_assert_str_eq(b.data, "To: \"Ana \\\"The\\\" Smith\\\\\" <ana@example.com>\r\n");
    buf_reset(&b);
    mail_header_addr(&b, "To", NULL, "ana@example.com");
    cr_assert_str_eq(b.data, "To: ana@example.com\r\n");
    buf_reset(&b);
    mail_header_addr(&b, "To", " \r\n ", "ana@example.com");
    cr_assert_str_eq(b.data, "To: ana@example.com\r\n");
    buf_reset(&b);
    mail_header_addr(&b, "To", "José Müller-Lüdenscheidt", "jose@example.com");
    cr_assert_eq(strncmp(b.data, "To: =?UTF-8?B?", 14), 0, "%s", b.data);
    assert_lines(b.data, MAIL_HEADER_LINE_MAX);
    char *d = header_decode(b.data);
    cr_assert_str_eq(d, "José Müller-Lüdenscheidt <jose@example.com>");
    free(d);
    buf_free(&b);
}

Test(mail_mime, quoted_printable, .init = setup)
{
    buf in, out;
    buf_init(&in);
    buf_init(&out);
    for (int i = 0; i < 300; i++)
        buf_putc(&in, (char)('a' + i % 26));
    buf_puts(&in, "\nA line with a trailing space \nequals = and tab\t\n");
    for (int i = 0; i < 60; i++)
        buf_puts(&in, "é=");
    buf_puts(&in, "\n.leading dot\nFrom the start\r\nCRLF line\n\nlast line without newline");
    mail_qp_encode(&out, in.data, in.len);
    assert_lines(out.data, MAIL_BODY_LINE_MAX);
    cr_assert(strstr(out.data, "space=20\r\n"), "trailing space not escaped");
    cr_assert(strstr(out.data, "equals =3D and tab=09\r\n"));
    cr_assert(strstr(out.data, "\r\n=2Eleading dot\r\n"));
    cr_assert(strstr(out.data, "\r\n=46rom the start\r\n"));
    for (const char *p = out.data; *p; p++)
        cr_assert((unsigned char)*p < 0x80, "raw 8-bit byte in QP output");
    char *d = qp_decode(out.data);
    /* The decoded text is the input with CRLF line ends and a final CRLF. */
    buf want;
    buf_init(&want);
    for (size_t i = 0; i < in.len; i++) {
        if (in.data[i] == '\n' && (i == 0 || in.data[i - 1] != '\r'))
            buf_putc(&want, '\r');
        buf_putc(&want, in.data[i]);
    }
    buf_puts(&want, "\r\n");
    cr_assert_str_eq(d, want.data);
    free(d);
    buf_free(&want);
    buf_free(&in);
    buf_free(&out);
}

Test(mail_mime, base64_lines, .init = setup)
{
    buf in, out;
    buf_init(&in);
    buf_init(&out);
    for (int i = 0; i < 500; i++)
        buf_puts(&in, i % 10 == 9 ? "語\n" : "語");
    mail_base64_encode(&out, in.data, in.len, true);
    assert_lines(out.data, MAIL_BODY_LINE_MAX);
    /* Every line but the last is exactly 76 characters. */
    const char *last = out.data;
    for (const char *p = out.data; (p = strstr(p, "\r\n")) && p[2]; p += 2) {
        cr_assert_eq(p - last, 76);
        last = p + 2;
    }
    size_t n = 0;
    char *d = b64_decode(out.data, out.len, &n);
    cr_assert_eq(n, in.len + 50, "LF became CRLF");
    for (size_t i = 0; i < n; i++)
        if (d[i] == '\n')
            cr_assert(i > 0 && d[i - 1] == '\r', "bare LF in the decoded text");
    cr_assert_not_null(strstr(d, "語\r\n"));
    free(d);
    buf_reset(&out);
    mail_base64_encode(&out, "ab", 2, false);
    cr_assert_str_eq(out.data, "YWI=\r\n");
    buf_free(&in);
    buf_free(&out);
}

Test(mail_mime, date_format, .init = setup)
{
    char d[40];
    mail_date_format(1795826156LL * 1000000 + 123456, d);
    cr_assert_str_eq(d, "Sat, 28 Nov 2026 00:35:56 +0000");
    mail_date_format(0, d);
    cr_assert_str_eq(d, "Thu, 01 Jan 1970 00:00:00 +0000");
}

Test(mail_mime, compose_message, .init = setup)
{
    buf b;
    buf_init(&b);
    buf html;
    buf_init(&html);
    buf_puts(&html, "<p>");
    for (int i = 0; i < 100; i++)
        buf_puts(&html, "word ");
    buf_puts(&html, "</p>\n");
    mail_parts p = {.id = "msg_01JDXYZABCDEFGHJKMNPQRSTVW",
                    .from_name = "Atrium",
                    .from_addr = "atrium@example.com",
                    .to_name = "Zoë",
                    .to_addr = "zoe@example.com",
                    .subject = "Hello Zoë",
                    .text = "Hi,\n\nA line.\n",
                    .html = html.data,
                    .date_us = 1795826156LL * 1000000};
    mail_compose(&b, &p);
    assert_lines(b.data, 998);
    const char *body = strstr(b.data, "\r\n\r\n");
    cr_assert(body);
    /* Headers first, each exactly once. */
    const char *want[] = {
        "From: \"Atrium\" <atrium@example.com>\r\n",
        "To: =?UTF-8?B?",
        "Subject: =?UTF-8?B?",
        "Date: Sat, 28 Nov 2026 00:35:56 +0000\r\n",
        "Message-ID: <msg_01JDXYZABCDEFGHJKMNPQRSTVW@atrium>\r\n",
        "MIME-Version: 1.0\r\n",
        "Content-Type: multipart/alternative;\r\n boundary=\"=_atrium_msg_01JDXYZABCDEFGHJKMNPQRSTVW\"\r\n"};
    for (size_t i = 0; i < sizeof want / sizeof want[0]; i++) {
        const char *at = strstr(b.data, want[i]);
        cr_assert(at && at < body, "missing header %s", want[i]);
    }
    cr_assert(strstr(body,
                     "\r\n--=_atrium_msg_01JDXYZABCDEFGHJKMNPQRSTVW\r\nContent-Type: text/plain; charset=UTF-8\r\n"
                     "Content-Transfer-Encoding: quoted-printable\r\n\r\nHi,\r\n\r\nA line.\r\n\r\n--=_atrium_"));
    cr_assert(strstr(body, "Content-Type: text/html; charset=UTF-8\r\n"));
    cr_assert(strstr(body, "\r\n--=_atrium_msg_01JDXYZABCDEFGHJKMNPQRSTVW--\r\n"));
    /* Body lines (after the header block) stay within 76 characters. */
    assert_lines(body + 4, MAIL_BODY_LINE_MAX);
    /* Mostly non-ASCII text goes out as base64. */
    buf_reset(&b);
    p.text = "日本語のテキストです。\n";
    mail_compose(&b, &p);
    cr_assert(strstr(b.data, "text/plain; charset=UTF-8\r\nContent-Transfer-Encoding: base64\r\n"));
    buf_free(&b);
    buf_free(&html);
}
