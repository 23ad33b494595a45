/* The built-in mail templates (internal to src/mail). Each template is a subject, a text body and an
 * HTML body with placeholders, rendered from the JSON variables that mail.h lists per template.
 *
 * Placeholders: {name} inserts a variable; {name|quote} inserts a multi-line variable with every line
 * prefixed by "> " ; {name|br} inserts it with line breaks as <br>; {?name}...{/name} keeps the text
 * between only when the variable is a non-empty string. Values are inserted once and never scanned
 * again, so a variable cannot smuggle in a placeholder. In HTML every value is escaped; outside the
 * two filters, line breaks and other control characters in values become spaces, so a variable can
 * neither add header lines to the subject nor fake lines in a body.
 *
 * Variable conventions for callers: all values are strings of at most 4096 bytes. `link` is an
 * absolute http(s) URL, or a path starting with "/" that is resolved against ATRIUM_PUBLIC_URL.
 * `expires` is an RFC 3339 time (reworded "5 December 2026 at 14:05 UTC") or a date phrase that reads
 * after "on" / "until".
 * `name` (the recipient's) is optional everywhere; "Hi," is used without it. */
#ifndef AT_MAIL_TEMPLATES_H
#define AT_MAIL_TEMPLATES_H

#include "base/buf.h"

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>

enum { MAIL_VAR_MAX = 4096 };

/* A rendered message. The three strings are heap-owned by the struct: release with
 * mail_rendered_free (safe on a zeroed struct and after a failed render). */
typedef struct mail_rendered {
    char *subject; /* one cleaned line, UTF-8, at most MAIL_SUBJECT_MAX bytes */
    char *text;    /* the text/plain body, LF line endings */
    char *html;    /* the text/html body, LF line endings */
} mail_rendered;

/* mail_tpl_known reports whether template_id names a built-in template. */
bool mail_tpl_known(const char *template_id);

/* mail_tpl_render renders template_id with vars (borrowed; NULL means none) into out. public_url
 * (borrowed, may be empty) resolves a link that is a path. Returns AT_OK, or AT_EINVAL for an unknown
 * template, vars that are not an object, a required variable missing, empty or not a string, a string
 * variable over MAIL_VAR_MAX bytes, or a link that is neither http(s) nor a path; AT_EINTERNAL for a
 * malformed built-in template (a bug). On failure out is left zeroed. */
int mail_tpl_render(const char *template_id, const json_t *vars, const char *public_url, mail_rendered *out);

void mail_rendered_free(mail_rendered *r);

/* mail_html_escape appends (s, len) with &, <, >, " and ' replaced by character references. */
void mail_html_escape(buf *out, const char *s, size_t len);

#endif
