/* Message composition: addresses, RFC 2047 headers, quoted-printable and base64 bodies, and the
 * multipart/alternative message (mime.h). Everything appends to a caller-owned buf and cannot fail:
 * the inputs have been validated by the caller, and allocation failure aborts (mem.h). */
#include "mail/mime.h"

#include "base/email.h"

#include "base/err.h"

#include <stdio.h>
#include <string.h>
#include <time.h>

/* A header being written: its buffer and the column of the current line, for folding. */
typedef struct mime_fold {
    buf *b;
    size_t col;
    int tokens; /* tokens written so far; the first one is never preceded by a fold */
} mime_fold;

static const char mime_b64[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
static const char mime_hex[] = "0123456789ABCDEF";

static size_t mime_utf8_seq_len(unsigned char c);
static bool mime_printable_ascii(const char *s);
static void mime_b64_raw(buf *out, const unsigned char *s, size_t len);
static void mime_fold_start(mime_fold *f, buf *b, const char *name);
static void mime_fold_token(mime_fold *f, const char *tok, size_t len);
static void mime_fold_words(mime_fold *f, const char *s);
static void mime_fold_encoded(mime_fold *f, const char *s);
static void mime_qp_line(buf *out, const unsigned char *s, size_t len);
static void mime_part(buf *out, const char *id, const char *type, const char *body);

/* ------------------------------------------------------------------------------------------------ */
/* Addresses and text checks                                                                        */
/* ------------------------------------------------------------------------------------------------ */

bool mail_addr_valid(const char *s, bool require_dot)
{
    if (!s)
        return false;
    size_t len = strnlen(s, MAIL_ADDR_MAX + 1);
    if (len == 0 || len > MAIL_ADDR_MAX)
        return false;
    const char *at = memchr(s, '@', len);
    if (!at || memchr(at + 1, '@', len - (size_t)(at - s) - 1))
        return false;
    size_t local = (size_t)(at - s);
    if (local == 0 || local > 64 || s[0] == '.' || s[local - 1] == '.')
        return false;
    for (size_t i = 0; i < local; i++) {
        unsigned char c = (unsigned char)s[i];
        if (c == '.') {
            if (s[i + 1] == '.')
                return false;
        } else if (!email_is_atext(c)) {
            return false;
        }
    }
    return email_host_valid(at + 1, len - local - 1, require_dot);
}

int mail_addr_split(const char *from, char name[MAIL_NAME_MAX + 1], char addr[MAIL_ADDR_MAX + 1])
{
    name[0] = addr[0] = '\0';
    if (!from)
        return AT_EINVAL;
    size_t len = strlen(from);
    while (len && (from[len - 1] == ' ' || from[len - 1] == '\t'))
        len--;
    while (len && (*from == ' ' || *from == '\t')) {
        from++;
        len--;
    }
    const char *lt = NULL;
    for (size_t i = 0; i < len; i++)
        if (from[i] == '<')
            lt = from + i;
    const char *a = from;
    size_t alen = len, nlen = 0;
    if (lt && len && from[len - 1] == '>') {
        a = lt + 1;
        alen = len - (size_t)(lt - from) - 2;
        nlen = (size_t)(lt - from);
    }
    if (alen == 0 || alen > MAIL_ADDR_MAX)
        return AT_EINVAL;
    memcpy(addr, a, alen);
    addr[alen] = '\0';
    if (!mail_addr_valid(addr, false))
        return AT_EINVAL;

    /* The display name: drop surrounding quotes and quoted-pair backslashes, then clean it. */
    char raw[MAIL_NAME_MAX * 2 + 1];
    size_t n = 0;
    const char *p = from, *end = from + nlen;
    while (end > p && (end[-1] == ' ' || end[-1] == '\t'))
        end--;
    if (end - p >= 2 && *p == '"' && end[-1] == '"') {
        p++;
        end--;
    }
    for (; p < end && n < sizeof raw - 1; p++) {
        if (*p == '\\' && p + 1 < end)
            p++;
        raw[n++] = *p;
    }
    raw[n] = '\0';
    if (!mail_utf8_valid(raw, n))
        return AT_EINVAL;
    buf clean;
    buf_init(&clean);
    mail_header_clean(&clean, raw, MAIL_NAME_MAX);
    snprintf(name, MAIL_NAME_MAX + 1, "%s", clean.data ? clean.data : "");
    buf_free(&clean);
    return AT_OK;
}

bool mail_utf8_valid(const char *s, size_t len)
{
    const unsigned char *p = (const unsigned char *)s;
    size_t i = 0;
    while (i < len) {
        unsigned c = p[i];
        if (c < 0x80) {
            i++;
            continue;
        }
        size_t n;
        unsigned cp, min;
        if ((c & 0xE0) == 0xC0) {
            n = 1, cp = c & 0x1F, min = 0x80;
        } else if ((c & 0xF0) == 0xE0) {
            n = 2, cp = c & 0x0F, min = 0x800;
        } else if ((c & 0xF8) == 0xF0) {
            n = 3, cp = c & 0x07, min = 0x10000;
        } else {
            return false;
        }
        if (len - i <= n)
            return false;
        for (size_t k = 1; k <= n; k++) {
            if ((p[i + k] & 0xC0) != 0x80)
                return false;
            cp = (cp << 6) | (p[i + k] & 0x3F);
        }
        if (cp < min || cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF))
            return false;
        i += n + 1;
    }
    return true;
}

void mail_header_clean(buf *out, const char *s, size_t max)
{
    const unsigned char *p = (const unsigned char *)s;
    size_t start = out->len;
    bool pending_space = false;
    while (*p) {
        if (*p <= 0x20 || *p == 0x7f) {
            pending_space = out->len > start;
            p++;
            continue;
        }
        size_t n = mime_utf8_seq_len(*p);
        if (strnlen((const char *)p, n) < n)
            break; /* truncated sequence; the caller promised UTF-8, so this is only the end */
        if (out->len - start + (pending_space ? 1 : 0) + n > max)
            break;
        if (pending_space)
            buf_putc(out, ' ');
        buf_append(out, p, n);
        pending_space = false;
        p += n;
    }
    if (out->len == start)
        buf_append(out, "", 0); /* data is non-NULL even when nothing was kept */
}

/* ------------------------------------------------------------------------------------------------ */
/* Headers                                                                                          */
/* ------------------------------------------------------------------------------------------------ */

void mail_header_text(buf *out, const char *name, const char *value)
{
    buf clean;
    buf_init(&clean);
    mail_header_clean(&clean, value ? value : "", MAIL_SUBJECT_MAX);
    mime_fold f;
    mime_fold_start(&f, out, name);
    if (clean.len == 0)
        buf_putc(out, ' ');
    else if (mime_printable_ascii(clean.data) && !strstr(clean.data, "=?"))
        mime_fold_words(&f, clean.data);
    else
        mime_fold_encoded(&f, clean.data);
    buf_puts(out, "\r\n");
    buf_free(&clean);
}

void mail_header_addr(buf *out, const char *name, const char *display, const char *addr)
{
    buf clean;
    buf_init(&clean);
    mail_header_clean(&clean, display ? display : "", MAIL_NAME_MAX);
    mime_fold f;
    mime_fold_start(&f, out, name);
    if (clean.len == 0) {
        mime_fold_token(&f, addr, strlen(addr));
        buf_puts(out, "\r\n");
        buf_free(&clean);
        return;
    }
    if (clean.len <= 60 && mime_printable_ascii(clean.data) && !strstr(clean.data, "=?")) {
        /* A quoted string: only '"' and '\' need a backslash inside it. */
        buf q;
        buf_init(&q);
        buf_putc(&q, '"');
        for (const char *c = clean.data; *c; c++) {
            if (*c == '"' || *c == '\\')
                buf_putc(&q, '\\');
            buf_putc(&q, *c);
        }
        buf_putc(&q, '"');
        mime_fold_token(&f, q.data, q.len);
        buf_free(&q);
    } else {
        mime_fold_encoded(&f, clean.data);
    }
    buf angle;
    buf_init(&angle);
    buf_printf(&angle, "<%s>", addr);
    mime_fold_token(&f, angle.data, angle.len);
    buf_free(&angle);
    buf_puts(out, "\r\n");
    buf_free(&clean);
}

/* mime_fold_start writes "Name:" and starts counting columns; tokens follow, each after one space. */
static void mime_fold_start(mime_fold *f, buf *b, const char *name)
{
    f->b = b;
    f->tokens = 0;
    buf_puts(b, name);
    buf_putc(b, ':');
    f->col = strlen(name) + 1;
}

/* mime_fold_token appends " token", or CRLF SP token when the line would pass 78 columns (never before
 * the first token, so the header's first line is never empty). A token longer than a line stays whole;
 * callers keep tokens short enough for the 998-byte hard limit. */
static void mime_fold_token(mime_fold *f, const char *tok, size_t len)
{
    if (f->tokens > 0 && f->col + 1 + len > MAIL_HEADER_LINE_MAX) {
        buf_puts(f->b, "\r\n ");
        f->col = 1;
    } else {
        buf_putc(f->b, ' ');
        f->col++;
    }
    buf_append(f->b, tok, len);
    f->col += len;
    f->tokens++;
}

/* mime_fold_words folds printable ASCII at its (single) spaces. */
static void mime_fold_words(mime_fold *f, const char *s)
{
    while (*s) {
        const char *sp = strchr(s, ' ');
        size_t n = sp ? (size_t)(sp - s) : strlen(s);
        mime_fold_token(f, s, n);
        s += n;
        if (*s == ' ')
            s++;
    }
}

/* mime_fold_encoded writes s as RFC 2047 B-encoded words of at most 39 bytes of text each (64
 * characters encoded), cut on character boundaries as §5 requires; decoders drop the folding white
 * space between adjacent encoded words, so the split is invisible. */
static void mime_fold_encoded(mime_fold *f, const char *s)
{
    const unsigned char *p = (const unsigned char *)s;
    size_t len = strlen(s), i = 0;
    buf w;
    buf_init(&w);
    while (i < len) {
        size_t n = 0;
        while (i + n < len) {
            size_t k = mime_utf8_seq_len(p[i + n]);
            if (n + k > 39 || i + n + k > len)
                break;
            n += k;
        }
        if (n == 0)
            n = 1; /* unreachable with valid UTF-8; guarantees progress */
        buf_reset(&w);
        buf_puts(&w, "=?UTF-8?B?");
        mime_b64_raw(&w, p + i, n);
        buf_puts(&w, "?=");
        mime_fold_token(f, w.data, w.len);
        i += n;
    }
    buf_free(&w);
}

/* ------------------------------------------------------------------------------------------------ */
/* Bodies                                                                                           */
/* ------------------------------------------------------------------------------------------------ */

void mail_qp_encode(buf *out, const char *s, size_t len)
{
    const unsigned char *p = (const unsigned char *)s;
    size_t i = 0;
    while (i < len) {
        const unsigned char *nl = memchr(p + i, '\n', len - i);
        size_t end = nl ? (size_t)(nl - p) : len;
        size_t line = end - i;
        if (line > 0 && p[i + line - 1] == '\r')
            line--;
        mime_qp_line(out, p + i, line);
        buf_puts(out, "\r\n");
        i = nl ? end + 1 : len;
    }
}

/* mime_qp_line encodes one input line without its line break. A soft break ("=" CRLF) is inserted
 * before any token that would take the line past 75 characters, so every line, '=' included, stays
 * within 76; an =XX triplet is never split. */
static void mime_qp_line(buf *out, const unsigned char *s, size_t len)
{
    size_t col = 0;
    for (size_t i = 0; i < len; i++) {
        unsigned char c = s[i];
        bool last = i + 1 == len;
        bool literal = (c >= 33 && c <= 126 && c != '=') || ((c == ' ' || c == '\t') && !last);
        if (col + (literal ? 1 : 3) > MAIL_BODY_LINE_MAX - 1) {
            buf_puts(out, "=\r\n");
            col = 0;
        }
        if (col == 0 && (c == '.' || (c == 'F' && len - i >= 5 && memcmp(s + i, "From ", 5) == 0)))
            literal = false;
        if (literal) {
            buf_putc(out, (char)c);
            col++;
        } else {
            char t[3] = {'=', mime_hex[c >> 4], mime_hex[c & 15]};
            buf_append(out, t, 3);
            col += 3;
        }
    }
}

void mail_base64_encode(buf *out, const char *s, size_t len, bool text)
{
    buf canon;
    buf_init(&canon);
    if (text) {
        for (size_t i = 0; i < len; i++) {
            if (s[i] == '\n' && (i == 0 || s[i - 1] != '\r'))
                buf_putc(&canon, '\r');
            buf_putc(&canon, s[i]);
        }
        s = canon.data ? canon.data : "";
        len = canon.len;
    }
    const unsigned char *p = (const unsigned char *)s;
    for (size_t i = 0; i < len; i += 57) {
        mime_b64_raw(out, p + i, len - i < 57 ? len - i : 57);
        buf_puts(out, "\r\n");
    }
    buf_free(&canon);
}

/* mime_b64_raw appends the base64 of (s, len) with padding and no line breaks. */
static void mime_b64_raw(buf *out, const unsigned char *s, size_t len)
{
    size_t i = 0;
    for (; i + 3 <= len; i += 3) {
        unsigned v = (unsigned)s[i] << 16 | (unsigned)s[i + 1] << 8 | s[i + 2];
        char t[4] = {mime_b64[v >> 18], mime_b64[(v >> 12) & 63], mime_b64[(v >> 6) & 63], mime_b64[v & 63]};
        buf_append(out, t, 4);
    }
    if (len - i == 1) {
        unsigned v = (unsigned)s[i] << 16;
        char t[4] = {mime_b64[v >> 18], mime_b64[(v >> 12) & 63], '=', '='};
        buf_append(out, t, 4);
    } else if (len - i == 2) {
        unsigned v = (unsigned)s[i] << 16 | (unsigned)s[i + 1] << 8;
        char t[4] = {mime_b64[v >> 18], mime_b64[(v >> 12) & 63], mime_b64[(v >> 6) & 63], '='};
        buf_append(out, t, 4);
    }
}

/* ------------------------------------------------------------------------------------------------ */
/* The message                                                                                      */
/* ------------------------------------------------------------------------------------------------ */

void mail_date_format(int64_t us, char out[40])
{
    static const char *const days[] = {"Sun", "Mon", "Tue", "Wed", "Thu", "Fri", "Sat"};
    static const char *const months[] = {"Jan", "Feb", "Mar", "Apr", "May", "Jun",
                                         "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"};
    time_t t = (time_t)(us / 1000000);
    struct tm tm;
    gmtime_r(&t, &tm);
    snprintf(out, 40, "%s, %02d %s %04d %02d:%02d:%02d +0000", days[tm.tm_wday % 7], tm.tm_mday, months[tm.tm_mon % 12],
             tm.tm_year + 1900, tm.tm_hour, tm.tm_min, tm.tm_sec);
}

void mail_compose(buf *out, const mail_parts *p)
{
    char date[40];
    mail_date_format(p->date_us, date);
    mail_header_addr(out, "From", p->from_name, p->from_addr);
    mail_header_addr(out, "To", p->to_name, p->to_addr);
    mail_header_text(out, "Subject", p->subject);
    buf_printf(out, "Date: %s\r\n", date);
    buf_printf(out, "Message-ID: <%s@atrium>\r\n", p->id);
    buf_puts(out, "MIME-Version: 1.0\r\n");
    buf_puts(out, "Auto-Submitted: auto-generated\r\n");
    /* "=_" can never occur in quoted-printable or base64 output, so this boundary cannot collide
     * with a body line. */
    buf_printf(out, "Content-Type: multipart/alternative;\r\n boundary=\"=_atrium_%s\"\r\n", p->id);
    buf_puts(out, "\r\nThis is a multi-part message in MIME format.\r\n");
    mime_part(out, p->id, "text/plain", p->text);
    mime_part(out, p->id, "text/html", p->html);
    buf_printf(out, "\r\n--=_atrium_%s--\r\n", p->id);
}

/* mime_part appends one delimiter and one UTF-8 body part, choosing its transfer encoding. */
static void mime_part(buf *out, const char *id, const char *type, const char *body)
{
    size_t len = strlen(body), high = 0;
    for (size_t i = 0; i < len; i++)
        high += (unsigned char)body[i] >= 0x80;
    bool b64 = high * 3 > len;
    buf_printf(out, "\r\n--=_atrium_%s\r\nContent-Type: %s; charset=UTF-8\r\nContent-Transfer-Encoding: %s\r\n\r\n", id,
               type, b64 ? "base64" : "quoted-printable");
    if (b64)
        mail_base64_encode(out, body, len, true);
    else
        mail_qp_encode(out, body, len);
    /* The encoders end with CRLF; the next delimiter brings its own, so the body keeps its last line
     * break. */
}

/* ------------------------------------------------------------------------------------------------ */
/* Helpers                                                                                          */
/* ------------------------------------------------------------------------------------------------ */

/* The byte length of the UTF-8 sequence that starts with c (1 for a stray continuation byte). */
static size_t mime_utf8_seq_len(unsigned char c)
{
    if (c >= 0xF0)
        return 4;
    if (c >= 0xE0)
        return 3;
    if (c >= 0xC0)
        return 2;
    return 1;
}

static bool mime_printable_ascii(const char *s)
{
    for (; *s; s++)
        if ((unsigned char)*s < 0x20 || (unsigned char)*s >= 0x7f)
            return false;
    return true;
}
