/* Strict JSON parsing and table-driven validation. */
#include "base/jsonv.h"

#include "base/err.h"
#include "base/text.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

void fe_init(field_errors *e, arena *a)
{
    e->arena = a;
    e->count = 0;
}

void fe_add(field_errors *e, const char *field, const char *code, const char *fmt, ...)
{
    if (e->count >= JV_MAX_ERRORS)
        return;
    va_list ap;
    va_start(ap, fmt);
    field_error *f = &e->items[e->count++];
    f->field = arena_strdup(e->arena, field);
    f->code = code;
    f->message = arena_vprintf(e->arena, fmt, ap);
    va_end(ap);
}

bool jv_depth_ok(const char *data, size_t len, int max_depth)
{
    int depth = 0;
    bool in_string = false;
    for (size_t i = 0; i < len; i++) {
        char c = data[i];
        if (in_string) {
            if (c == '\\')
                i++;
            else if (c == '"')
                in_string = false;
            continue;
        }
        if (c == '"')
            in_string = true;
        else if (c == '{' || c == '[') {
            if (++depth > max_depth)
                return false;
        } else if (c == '}' || c == ']')
            depth--;
    }
    return true;
}

int jv_parse(const char *data, size_t len, json_t **out, field_errors *errs)
{
    json_error_t jerr;
    *out = NULL;
    if (len == 0) {
        fe_add(errs, "", "empty_body", "The request body is empty; a JSON object is expected.");
        return AT_EINVAL;
    }
    if (!jv_depth_ok(data, len, JV_MAX_DEPTH)) {
        fe_add(errs, "", "too_deep", "The JSON nests deeper than %d levels.", JV_MAX_DEPTH);
        return AT_EINVAL;
    }
    json_t *root = json_loadb(data, len, JSON_REJECT_DUPLICATES | JSON_DECODE_ANY, &jerr);
    if (!root) {
        enum json_error_code jc = json_error_code(&jerr);
        const char *code = jc == json_error_duplicate_key ? "duplicate_key"
                           : jc == json_error_invalid_utf8 ? "invalid_utf8"
                                                           : "invalid_json";
        /* A duplicate key is named as the field; jansson reports it as "... near '\"key\"'". */
        const char *key = "";
        const char *near = jc == json_error_duplicate_key ? strstr(jerr.text, "near '\"") : NULL;
        if (near) {
            near += 7;
            /* jansson's message has a fixed size: a long key may be cut there, so cut it cleanly. */
            size_t n = strcspn(near, "\"");
            key = arena_strndup(errs->arena, near, text_utf8_cut(near, n));
        }
        fe_add(errs, key, code, "The body is not valid JSON: %s (line %d, column %d).", jerr.text, jerr.line,
               jerr.column);
        return AT_EINVAL;
    }
    if (!json_is_object(root)) {
        json_decref(root);
        fe_add(errs, "", "type", "The body must be a JSON object.");
        return AT_EINVAL;
    }
    *out = root;
    return AT_OK;
}

int64_t utf8_length(const char *s, size_t len)
{
    int64_t count = 0;
    const unsigned char *p = (const unsigned char *)s;
    size_t i = 0;
    while (i < len) {
        unsigned c = p[i];
        size_t n;
        if (c < 0x80)
            n = 1;
        else if ((c & 0xe0) == 0xc0 && c >= 0xc2)
            n = 2;
        else if ((c & 0xf0) == 0xe0)
            n = 3;
        else if ((c & 0xf8) == 0xf0 && c <= 0xf4)
            n = 4;
        else
            return -1;
        if (i + n > len)
            return -1;
        for (size_t k = 1; k < n; k++)
            if ((p[i + k] & 0xc0) != 0x80)
                return -1;
        /* No overlong forms, no UTF-16 surrogates, nothing above U+10FFFF (RFC 3629). */
        if ((c == 0xe0 && p[i + 1] < 0xa0) || (c == 0xed && p[i + 1] > 0x9f) || (c == 0xf0 && p[i + 1] < 0x90) ||
            (c == 0xf4 && p[i + 1] > 0x8f))
            return -1;
        i += n;
        count++;
    }
    return count;
}

static const char *jv_type_name(int type)
{
    switch (type) {
    case JV_STRING: return "a string";
    case JV_INT: return "a whole number";
    case JV_BOOL: return "true or false";
    case JV_OBJECT: return "an object";
    case JV_ARRAY: return "an array";
    default: return "a number";
    }
}

static bool jv_type_matches(const json_t *v, int type)
{
    switch (type) {
    case JV_STRING: return json_is_string(v);
    case JV_INT: return json_is_integer(v);
    case JV_BOOL: return json_is_boolean(v);
    case JV_OBJECT: return json_is_object(v);
    case JV_ARRAY: return json_is_array(v);
    default: return json_is_number(v);
    }
}

/* Checks one present value against its row; adds at most one error. */
static void jv_check_value(const json_t *v, const jv_field *f, const char *name, field_errors *errs)
{
    if (json_is_null(v)) {
        if (!(f->flags & JV_NULLABLE))
            fe_add(errs, name, "type", "Must be %s, not null.", jv_type_name(f->type));
        return;
    }
    if (!jv_type_matches(v, f->type)) {
        fe_add(errs, name, "type", "Must be %s.", jv_type_name(f->type));
        return;
    }
    if (f->type == JV_STRING) {
        const char *s = json_string_value(v);
        size_t len = json_string_length(v);
        int64_t chars = utf8_length(s, len);
        if (f->min && chars < f->min) {
            fe_add(errs, name, f->min == 1 ? "required" : "length",
                   f->min == 1 ? "Must not be empty." : "Must be at least %lld characters long.", (long long)f->min);
            return;
        }
        if (f->max && chars > f->max) {
            fe_add(errs, name, "length", "Must be at most %lld characters long.", (long long)f->max);
            return;
        }
        if ((f->flags & JV_TRIM) && len && (s[0] == ' ' || s[len - 1] == ' ' || s[0] == '\t' || s[len - 1] == '\t')) {
            fe_add(errs, name, "format", "Must not start or end with spaces.");
            return;
        }
        /* One text rule for every string field: single-line unless the row says otherwise. */
        const char *why = (f->flags & JV_MULTILINE) ? text_check_multiline(s, len) : text_check_line(s, len);
        if (!why && f->check)
            why = f->check(s, len);
        if (why)
            fe_add(errs, name, "format", "%s", why);
    } else if (f->type == JV_INT && (f->min || f->max)) {
        json_int_t n = json_integer_value(v);
        if (n < f->min || n > f->max)
            fe_add(errs, name, "range", "Must be from %lld to %lld.", (long long)f->min, (long long)f->max);
    }
}

int jv_check_object(json_t *obj, const jv_field *fields, size_t nfields, const char *prefix,
                    field_errors *errs)
{
    size_t before = errs->count;
    const char *key;
    json_t *value;
    const char *name;

    /* Field names come from the body (unknown fields) and may be long: built in the errors' arena. */
    json_object_foreach(obj, key, value)
    {
        bool known = false;
        for (size_t i = 0; i < nfields && !known; i++)
            known = strcmp(fields[i].name, key) == 0;
        if (!known) {
            name = arena_printf(errs->arena, "%s%s", prefix, key);
            fe_add(errs, name, "unknown_field", "This field is not part of the request.");
        }
    }
    for (size_t i = 0; i < nfields; i++) {
        const jv_field *f = &fields[i];
        const json_t *v = json_object_get(obj, f->name);
        name = arena_printf(errs->arena, "%s%s", prefix, f->name);
        if (!v) {
            if (f->flags & JV_REQUIRED)
                fe_add(errs, name, "required", "This field is required.");
            continue;
        }
        jv_check_value(v, f, name, errs);
    }
    return errs->count == before ? AT_OK : AT_EINVAL;
}
