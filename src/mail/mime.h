/* Message composition for outgoing mail (internal to src/mail): address checks, RFC 2047 encoded
 * headers folded to 78 columns, quoted-printable and base64 bodies with lines of at most 76
 * characters, and the complete RFC 5322 multipart/alternative message with CRLF line endings.
 * Nothing here touches the store or the network. */
#ifndef AT_MAIL_MIME_H
#define AT_MAIL_MIME_H

#include "base/buf.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

enum {
    MAIL_ADDR_MAX = 254,       /* RFC 5321 path limit, less the angle brackets */
    MAIL_NAME_MAX = 200,       /* bytes of a display name kept after cleaning */
    MAIL_SUBJECT_MAX = 300,    /* bytes of a subject kept after cleaning */
    MAIL_BODY_LINE_MAX = 76,   /* RFC 2045: encoded body lines, without CRLF */
    MAIL_HEADER_LINE_MAX = 78, /* RFC 5322 recommended header line length, without CRLF */
    MAIL_ENCODED_WORD_MAX = 75 /* RFC 2047: one =?UTF-8?B?...?= */
};

/* mail_addr_valid reports whether s is exactly one bare address (local@domain) we can hand to SMTP:
 * printable ASCII only, no spaces, quotes, angle brackets, commas or semicolons, at most 254 bytes, a
 * local part of 1..64 bytes without leading, trailing or doubled dots, and a domain of letters, digits,
 * hyphens and dots. With require_dot the domain must also have a dot ("example.com", not "localhost"). */
bool mail_addr_valid(const char *s, bool require_dot);

/* mail_addr_split parses ATRIUM_MAIL_FROM-style text, "Display Name <addr>" or a bare "addr", into a
 * cleaned display name (possibly empty) and the bare address. Returns AT_OK, or AT_EINVAL when the
 * address part is not valid (mail_addr_valid without require_dot). */
int mail_addr_split(const char *from, char name[MAIL_NAME_MAX + 1], char addr[MAIL_ADDR_MAX + 1]);

/* mail_utf8_valid reports whether (s, len) is well-formed UTF-8 (no overlongs, surrogates or > U+10FFFF). */
bool mail_utf8_valid(const char *s, size_t len);

/* mail_header_clean appends s to out as one header-safe line: every control character (CR and LF
 * included) becomes a space, runs of spaces collapse to one, both ends are trimmed, and the result is
 * cut at a character boundary to at most max bytes. s must be valid UTF-8. */
void mail_header_clean(buf *out, const char *s, size_t max);

/* mail_header_text appends "Name: value" CRLF for an unstructured header (Subject). value is cleaned
 * as by mail_header_clean; printable ASCII is folded at spaces, anything else (or text that looks like
 * an encoded word) becomes RFC 2047 =?UTF-8?B?...?= words split on character boundaries. */
void mail_header_text(buf *out, const char *name, const char *value);

/* mail_header_addr appends "Name: display <addr>" CRLF (or "Name: addr" without a display name). The
 * display name is cleaned, then written as a quoted string when it is short printable ASCII, or as
 * RFC 2047 words otherwise. addr must already be valid. */
void mail_header_addr(buf *out, const char *name, const char *display, const char *addr);

/* mail_qp_encode appends (s, len) as quoted-printable (RFC 2045 §6.7): LF or CRLF become CRLF hard
 * breaks, lines are soft-broken to at most 76 characters, trailing white space, '=', non-ASCII and
 * control bytes are escaped, and so are a leading '.' and a leading "From " (for careless relays). */
void mail_qp_encode(buf *out, const char *s, size_t len);

/* mail_base64_encode appends the base64 of (s, len) in lines of 76 characters, each ending in CRLF.
 * Text is canonicalised to CRLF line endings first when text is true. */
void mail_base64_encode(buf *out, const char *s, size_t len, bool text);

/* mail_date_format writes the RFC 5322 date of us (UTC), "Sat, 28 Nov 2026 00:35:56 +0000", into out. */
void mail_date_format(int64_t us, char out[40]);

/* What mail_compose assembles. Every string is borrowed; addresses are already valid, bodies are
 * UTF-8 with LF or CRLF line endings. */
typedef struct mail_parts {
    const char *id; /* "msg_..." : Message-ID <id@atrium> and the MIME boundary */
    const char *from_name, *from_addr;
    const char *to_name, *to_addr;
    const char *subject;
    const char *text, *html;
    int64_t date_us;
} mail_parts;

/* mail_compose appends the complete message (headers, multipart/alternative with a text/plain and a
 * text/html part in UTF-8) to out, CRLF throughout. Each body is quoted-printable, or base64 when
 * more than a third of its bytes are non-ASCII (base64 is then shorter). */
void mail_compose(buf *out, const mail_parts *p);

#endif
