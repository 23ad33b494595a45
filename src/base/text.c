/* Text rules for single-line and multi-line values (text.h). */
#include "base/text.h"

/* text_scan finds the first control character of (s, len) that the rule refuses; line breaks and
 * tabs pass when multiline is set. Returns true when none is found. */
static bool text_scan(const char *s, size_t len, bool multiline)
{
    const unsigned char *p = (const unsigned char *)s;
    for (size_t i = 0; i < len; i++) {
        unsigned c = p[i];
        if (c < 0x20 || c == 0x7f) {
            if (multiline && (c == '\n' || c == '\r' || c == '\t'))
                continue;
            return false;
        }
        /* C1 controls are U+0080–U+009F: 0xC2 0x80–0x9F in UTF-8. */
        if (c == 0xc2 && i + 1 < len && p[i + 1] >= 0x80 && p[i + 1] <= 0x9f)
            return false;
        /* U+2028 LINE SEPARATOR and U+2029 PARAGRAPH SEPARATOR: 0xE2 0x80 0xA8/0xA9. */
        if (!multiline && c == 0xe2 && i + 2 < len && p[i + 1] == 0x80 && (p[i + 2] == 0xa8 || p[i + 2] == 0xa9))
            return false;
    }
    return true;
}

bool text_is_line(const char *s, size_t len)
{
    return text_scan(s, len, false);
}

bool text_is_multiline(const char *s, size_t len)
{
    return text_scan(s, len, true);
}

const char *text_check_line(const char *s, size_t len)
{
    return text_is_line(s, len) ? NULL : "Must be one line without control characters (line breaks, tabs, escapes).";
}

const char *text_check_multiline(const char *s, size_t len)
{
    return text_is_multiline(s, len) ? NULL : "Must not contain control characters other than line breaks and tabs.";
}

size_t text_utf8_cut(const char *s, size_t max)
{
    const unsigned char *p = (const unsigned char *)s;
    size_t len = 0;
    while (len < max && p[len])
        len++;
    /* Step back over continuation bytes to the character's first byte; keep the character only when
     * all of its bytes are inside the prefix. */
    size_t start = len;
    while (start > 0 && (p[start - 1] & 0xc0) == 0x80 && len - start < 3)
        start--;
    if (start == 0 || (len == start && (p[start - 1] & 0x80) == 0))
        return len;
    unsigned lead = p[start - 1];
    size_t need = lead >= 0xf0 ? 4 : lead >= 0xe0 ? 3 : lead >= 0xc0 ? 2 : 1;
    return len - (start - 1) >= need ? len : start - 1;
}
