/* Strict JSON input: parsing with the limits of DESIGN.md §3 and declarative validation of request
 * bodies that names every bad field at once.
 *
 * A request body is parsed by jv_parse (rejects duplicate keys, invalid UTF-8, NUL in strings, nesting
 * deeper than JV_MAX_DEPTH, anything but an object at the top), then checked against a static table of
 * jv_field rows by jv_check_object, which also rejects fields the table does not name. Errors collect in
 * a field_errors list that the HTTP layer renders as problem+json. */
#ifndef AT_JSONV_H
#define AT_JSONV_H

#include "base/arena.h"

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

enum { JV_MAX_DEPTH = 32, JV_MAX_ERRORS = 64 };

typedef struct field_error {
    const char *field;   /* JSON pointer-ish name: "email", "address.city", or "" for the whole body */
    const char *code;    /* stable machine code: required, type, length, range, format, unknown_field ... */
    const char *message; /* human sentence */
} field_error;

/* A list of errors whose strings live in `arena`. Initialise with fe_init. */
typedef struct field_errors {
    arena *arena;
    field_error items[JV_MAX_ERRORS];
    size_t count;
} field_errors;

void fe_init(field_errors *e, arena *a);
void fe_add(field_errors *e, const char *field, const char *code, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));

enum jv_type { JV_STRING, JV_INT, JV_BOOL, JV_OBJECT, JV_ARRAY, JV_NUMBER };

#define JV_REQUIRED  (1u << 0) /* the field must be present */
#define JV_NULLABLE  (1u << 1) /* null is accepted (clears the value in PATCH) */
#define JV_TRIM      (1u << 2) /* leading/trailing white space is not allowed in strings */
#define JV_MULTILINE (1u << 3) /* the string may hold line breaks and tabs (text_check_multiline) */

/* Every JV_STRING is single-line text unless its row says JV_MULTILINE: jv_check_object refuses
 * control characters in it (base/text.h, text_check_line) with code "format", before the row's own
 * check runs. Multi-line fields are the exception, named in their row. */

/* check returns NULL when (s, len) is acceptable, else a sentence saying why not. */
typedef const char *(*jv_string_check)(const char *s, size_t len);

typedef struct jv_field {
    const char *name;
    int type;
    unsigned flags;
    int64_t min, max;      /* string length in characters, or integer range; max 0 = no limit */
    jv_string_check check; /* optional format check for strings */
} jv_field;

/* jv_parse parses (data, len) into a new object the caller owns (json_decref). Returns AT_OK or
 * AT_EINVAL with the reason added to errs under field "". */
int jv_parse(const char *data, size_t len, json_t **out, field_errors *errs);

/* jv_check_object validates obj against fields; adds one error per bad field. Returns AT_OK when no
 * error was added by this call, else AT_EINVAL. Field names in errors are prefixed with `prefix`
 * ("" for the top level). */
int jv_check_object(json_t *obj, const jv_field *fields, size_t nfields, const char *prefix,
                    field_errors *errs);

/* jv_depth_ok reports whether the raw text nests arrays/objects at most max_depth deep. */
bool jv_depth_ok(const char *data, size_t len, int max_depth);

/* utf8_length counts code points of valid UTF-8, or returns -1 for invalid UTF-8. */
int64_t utf8_length(const char *s, size_t len);

#endif
