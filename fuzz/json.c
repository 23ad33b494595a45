/* libFuzzer target: strict JSON input (src/base/jsonv.c).
 *
 * Drives jv_parse and jv_check_object over a realistic field table (a member invitation with nested
 * settings), and cross-checks utf8_length against the strict RFC 3629 decoder below.
 *
 * Invariants asserted (any violation aborts, which libFuzzer reports as a crash):
 *   - jv_parse returns AT_OK with an object, or AT_EINVAL with no value and at least one error;
 *   - an accepted document nests at most JV_MAX_DEPTH deep and round-trips through json_dumps;
 *   - jv_check_object returns AT_OK exactly when it added no error; every error names a field and a
 *     code; the error list never exceeds JV_MAX_ERRORS;
 *   - when the object passes, every string field it holds is within its [min, max] length;
 *   - utf8_length(s) equals the strict reference decoder's count (or both say invalid).
 * Build and run: fuzz/run.sh (see fuzz/README.md). */
#include "base/arena.h"
#include "base/err.h"
#include "base/jsonv.h"

#include <jansson.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define CHECK(cond)                                                                                          \
    do {                                                                                                     \
        if (!(cond)) {                                                                                       \
            fprintf(stderr, "fuzz/json.c:%d: invariant failed: %s\n", __LINE__, #cond);                       \
            abort();                                                                                         \
        }                                                                                                    \
    } while (0)

/* ---------------------------------------------------------------------------------------------- */
/* Reference decoder                                                                               */
/* ---------------------------------------------------------------------------------------------- */

/* ref_utf8_length counts code points of (s, len) per RFC 3629 §4 (no overlong forms, no surrogates
 * U+D800..U+DFFF, nothing above U+10FFFF), or returns -1. Written for clarity, not speed: it decodes
 * each sequence to its scalar value and checks the value's range against the sequence length. */
static int64_t ref_utf8_length(const unsigned char *s, size_t len)
{
    int64_t count = 0;
    size_t i = 0;
    while (i < len) {
        unsigned c = s[i];
        size_t n;
        uint32_t cp, min;
        if (c < 0x80) {
            n = 1, cp = c, min = 0;
        } else if (c >= 0xc0 && c < 0xe0) {
            n = 2, cp = c & 0x1f, min = 0x80;
        } else if (c >= 0xe0 && c < 0xf0) {
            n = 3, cp = c & 0x0f, min = 0x800;
        } else if (c >= 0xf0 && c < 0xf8) {
            n = 4, cp = c & 0x07, min = 0x10000;
        } else {
            return -1;
        }
        if (len - i < n)
            return -1;
        for (size_t k = 1; k < n; k++) {
            if ((s[i + k] & 0xc0) != 0x80)
                return -1;
            cp = (cp << 6) | (s[i + k] & 0x3f);
        }
        if (cp < min || cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff))
            return -1;
        i += n;
        count++;
    }
    return count;
}

/* ---------------------------------------------------------------------------------------------- */
/* Field table                                                                                     */
/* ---------------------------------------------------------------------------------------------- */

static const char *check_email(const char *s, size_t len)
{
    const char *at = memchr(s, '@', len);
    if (!at || at == s || at == s + len - 1)
        return "Must be an e-mail address.";
    return NULL;
}

static const char *check_role(const char *s, size_t len)
{
    static const char *roles[] = {"owner", "admin", "member", "billing"};
    for (size_t i = 0; i < sizeof(roles) / sizeof(roles[0]); i++)
        if (strlen(roles[i]) == len && memcmp(roles[i], s, len) == 0)
            return NULL;
    return "Must be one of owner, admin, member, billing.";
}

static const jv_field invite_fields[] = {
    {"email", JV_STRING, JV_REQUIRED | JV_TRIM, 3, 254, check_email},
    {"role", JV_STRING, JV_REQUIRED, 1, 0, check_role},
    {"name", JV_STRING, JV_TRIM | JV_NULLABLE, 1, 100, NULL},
    {"message", JV_STRING, JV_NULLABLE, 0, 2000, NULL},
    {"seats", JV_INT, 0, 1, 10000, NULL},
    {"expires_in_days", JV_INT, JV_NULLABLE, 1, 30, NULL},
    {"notify", JV_BOOL, 0, 0, 0, NULL},
    {"settings", JV_OBJECT, JV_NULLABLE, 0, 0, NULL},
    {"tags", JV_ARRAY, 0, 0, 0, NULL},
    {"discount", JV_NUMBER, JV_NULLABLE, 0, 0, NULL},
};

static const jv_field settings_fields[] = {
    {"locale", JV_STRING, 0, 2, 35, NULL},
    {"timezone", JV_STRING, JV_REQUIRED, 1, 64, NULL},
    {"digest", JV_BOOL, JV_NULLABLE, 0, 0, NULL},
    {"page_size", JV_INT, 0, 10, 200, NULL},
};

/* ---------------------------------------------------------------------------------------------- */
/* Checks                                                                                          */
/* ---------------------------------------------------------------------------------------------- */

static int json_depth(const json_t *v)
{
    int deepest = 0;
    if (json_is_object(v)) {
        const char *k;
        json_t *child;
        json_object_foreach((json_t *)v, k, child)
        {
            int d = json_depth(child);
            if (d > deepest)
                deepest = d;
        }
        return deepest + 1;
    }
    if (json_is_array(v)) {
        size_t i;
        json_t *child;
        json_array_foreach(v, i, child)
        {
            int d = json_depth(child);
            if (d > deepest)
                deepest = d;
        }
        return deepest + 1;
    }
    return 0;
}

static void check_errors(const field_errors *errs, size_t before)
{
    CHECK(errs->count <= JV_MAX_ERRORS);
    for (size_t i = before; i < errs->count; i++) {
        CHECK(errs->items[i].field != NULL);
        CHECK(errs->items[i].code != NULL && errs->items[i].code[0] != '\0');
        CHECK(errs->items[i].message != NULL && errs->items[i].message[0] != '\0');
    }
}

/* Runs jv_check_object on obj and asserts its contract; `fields` must be a table whose string rows
 * carry a max or min worth checking when the object passes. */
static void check_object(json_t *obj, const jv_field *fields, size_t nfields, const char *prefix,
                         field_errors *errs)
{
    size_t before = errs->count;
    int rc = jv_check_object(obj, fields, nfields, prefix, errs);
    check_errors(errs, before);
    if (before >= JV_MAX_ERRORS)
        return; /* the list is full, so rc cannot be related to what was added */
    CHECK(rc == AT_OK || rc == AT_EINVAL);
    CHECK((rc == AT_OK) == (errs->count == before));
    if (rc != AT_OK)
        return;
    for (size_t i = 0; i < nfields; i++) {
        const json_t *v = json_object_get(obj, fields[i].name);
        if (fields[i].flags & JV_REQUIRED)
            CHECK(v != NULL);
        if (!v || !json_is_string(v))
            continue;
        int64_t chars = ref_utf8_length((const unsigned char *)json_string_value(v), json_string_length(v));
        CHECK(chars >= 0); /* jansson only lets valid UTF-8 through */
        if (fields[i].min)
            CHECK(chars >= fields[i].min);
        if (fields[i].max)
            CHECK(chars <= fields[i].max);
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    /* 1. utf8_length over the raw bytes, against the reference. */
    int64_t got = utf8_length((const char *)data, size);
    int64_t want = ref_utf8_length(data, size);
    if (got != want) {
        fprintf(stderr, "utf8_length disagrees with RFC 3629: got %lld, reference %lld\n", (long long)got,
                (long long)want);
        abort();
    }

    /* 2. Parse and validate. */
    arena a;
    arena_init(&a);
    field_errors errs;
    fe_init(&errs, &a);
    json_t *obj = NULL;
    int rc = jv_parse((const char *)data, size, &obj, &errs);
    check_errors(&errs, 0);
    if (rc != AT_OK) {
        CHECK(rc == AT_EINVAL);
        CHECK(obj == NULL);
        CHECK(errs.count >= 1);
        arena_free(&a);
        return 0;
    }
    CHECK(obj != NULL && json_is_object(obj));
    CHECK(errs.count == 0);
    CHECK(json_depth(obj) <= JV_MAX_DEPTH);

    /* An accepted document survives a dump and a strict re-parse unchanged. */
    char *text = json_dumps(obj, JSON_COMPACT | JSON_ENCODE_ANY);
    CHECK(text != NULL);
    field_errors errs2;
    fe_init(&errs2, &a);
    json_t *again = NULL;
    CHECK(jv_parse(text, strlen(text), &again, &errs2) == AT_OK);
    CHECK(json_equal(obj, again));
    json_decref(again);
    free(text);

    check_object(obj, invite_fields, sizeof(invite_fields) / sizeof(invite_fields[0]), "", &errs);
    json_t *settings = json_object_get(obj, "settings");
    if (json_is_object(settings))
        check_object(settings, settings_fields, sizeof(settings_fields) / sizeof(settings_fields[0]), "settings.",
                     &errs);

    /* Every string value anywhere at the top level goes through utf8_length as well. */
    const char *key;
    json_t *value;
    json_object_foreach(obj, key, value)
    {
        CHECK(utf8_length(key, strlen(key)) == ref_utf8_length((const unsigned char *)key, strlen(key)));
        if (json_is_string(value)) {
            const char *s = json_string_value(value);
            size_t n = json_string_length(value);
            CHECK(utf8_length(s, n) == ref_utf8_length((const unsigned char *)s, n));
        }
    }

    json_decref(obj);
    arena_free(&a);
    return 0;
}
