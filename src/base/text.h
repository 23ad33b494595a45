/* Text rules for values people type: one rule for every single-line field (names, titles, address
 * lines, ids people choose ...) and one for the few multi-line ones (messages, reasons). A single line
 * holds no control character at all: no C0 (U+0000–U+001F: CR, LF, TAB, BEL, ESC ...), no DEL
 * (U+007F), no C1 (U+0080–U+009F), and no Unicode line or paragraph separator (U+2028, U+2029), so a
 * value can never break a mail header, a log line, a CSV row or a PDF line, or carry a terminal escape.
 * Multi-line text may also hold LF, CR and TAB. Both expect valid UTF-8 (jansson has checked it). */
#ifndef AT_TEXT_H
#define AT_TEXT_H

#include <stdbool.h>
#include <stddef.h>

/* text_is_line reports whether (s, len) is acceptable single-line text. */
bool text_is_line(const char *s, size_t len);
/* text_is_multiline reports whether (s, len) is acceptable multi-line text. */
bool text_is_multiline(const char *s, size_t len);

/* The validation-table form (jv_string_check): NULL when acceptable, else the sentence saying why. */
const char *text_check_line(const char *s, size_t len);
const char *text_check_multiline(const char *s, size_t len);

/* text_utf8_cut returns the length of the longest prefix of (s, max) that does not end inside a UTF-8
 * character, for the rare bounded copy of text (s holds at least max bytes, or is NUL-terminated
 * before them). */
size_t text_utf8_cut(const char *s, size_t max);

#endif
