/* Unit tests of strict JSON parsing and table-driven validation (src/base/jsonv.c). */
#include "base/err.h"
#include "base/jsonv.h"

#include <criterion/criterion.h>
#include <string.h>

static arena a;
static field_errors errs;

static void setup(void)
{
    arena_init(&a);
    fe_init(&errs, &a);
}

static void teardown(void)
{
    arena_free(&a);
}

TestSuite(jsonv, .init = setup, .fini = teardown);

static int parse(const char *text, json_t **out)
{
    return jv_parse(text, strlen(text), out, &errs);
}

Test(jsonv, accepts_an_object)
{
    json_t *o = NULL;
    cr_assert_eq(parse("{\"a\": 1, \"b\": \"x\"}", &o), AT_OK);
    cr_assert(json_is_object(o));
    json_decref(o);
}

Test(jsonv, rejects_bad_bodies_with_codes)
{
    struct {
        const char *text;
        const char *code;
    } cases[] = {
        {"", "empty_body"},
        {"{", "invalid_json"},
        {"{\"a\":1,}", "invalid_json"},
        {"{\"a\":1,\"a\":2}", "duplicate_key"},
        {"[1,2]", "type"},
        {"\"text\"", "type"},
        {"{\"a\":\"\xff\"}", "invalid_utf8"},
        {"{\"a\":\"\\u0000\"}", "invalid_json"},
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        json_t *o = NULL;
        fe_init(&errs, &a);
        int rc = cases[i].text[0] ? parse(cases[i].text, &o) : jv_parse("", 0, &o, &errs);
        cr_assert_eq(rc, AT_EINVAL, "case %zu", i);
        cr_assert_null(o);
        cr_assert_eq(errs.count, 1);
        cr_assert_str_eq(errs.items[0].code, cases[i].code, "case %zu: got %s", i, errs.items[0].code);
    }
}

Test(jsonv, depth_limit)
{
    char deep[200];
    size_t n = 0;
    for (int i = 0; i < 33; i++)
        deep[n++] = '[';
    for (int i = 0; i < 33; i++)
        deep[n++] = ']';
    deep[n] = '\0';
    cr_assert_not(jv_depth_ok(deep, n, 32));
    cr_assert(jv_depth_ok(deep + 1, n - 2, 32));
    /* brackets inside strings do not count */
    cr_assert(jv_depth_ok("{\"a\":\"[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[\"}", 44, 2));
    json_t *o = NULL;
    char obj[300];
    snprintf(obj, sizeof(obj), "{\"a\":%s}", deep);
    cr_assert_eq(parse(obj, &o), AT_EINVAL);
    cr_assert_str_eq(errs.items[0].code, "too_deep");
}

static const char *check_lower(const char *s, size_t len)
{
    for (size_t i = 0; i < len; i++)
        if (s[i] >= 'A' && s[i] <= 'Z')
            return "Must be lower case.";
    return NULL;
}

static const jv_field fields[] = {
    {"name", JV_STRING, JV_REQUIRED | JV_TRIM, 1, 5, NULL},
    {"slug", JV_STRING, 0, 0, 0, check_lower},
    {"count", JV_INT, 0, 1, 10, NULL},
    {"on", JV_BOOL, JV_NULLABLE, 0, 0, NULL},
};

Test(jsonv, names_every_bad_field_at_once)
{
    json_t *o = NULL;
    cr_assert_eq(parse("{\"slug\":\"ABC\",\"count\":11,\"on\":\"yes\",\"extra\":1,\"more\":2}", &o), AT_OK);
    cr_assert_eq(jv_check_object(o, fields, 4, "", &errs), AT_EINVAL);
    json_decref(o);
    cr_assert_eq(errs.count, 6);
    const char *expect[][2] = {{"extra", "unknown_field"}, {"more", "unknown_field"}, {"name", "required"},
                               {"slug", "format"},          {"count", "range"},       {"on", "type"}};
    for (size_t i = 0; i < 6; i++) {
        bool found = false;
        for (size_t k = 0; k < errs.count; k++)
            found = found || (strcmp(errs.items[k].field, expect[i][0]) == 0 && strcmp(errs.items[k].code, expect[i][1]) == 0);
        cr_assert(found, "missing %s/%s", expect[i][0], expect[i][1]);
    }
}

Test(jsonv, lengths_count_characters_not_bytes)
{
    json_t *o = NULL;
    cr_assert_eq(parse("{\"name\":\"\xc3\xa9t\xc3\xa9s\"}", &o), AT_OK); /* "étés": 4 characters, 6 bytes */
    cr_assert_eq(jv_check_object(o, fields, 4, "", &errs), AT_OK);
    json_decref(o);
    cr_assert_eq(parse("{\"name\":\" ab\"}", &o), AT_OK);
    cr_assert_eq(jv_check_object(o, fields, 4, "", &errs), AT_EINVAL);
    cr_assert_str_eq(errs.items[0].code, "format");
    json_decref(o);
}

Test(jsonv, null_only_where_allowed)
{
    json_t *o = NULL;
    cr_assert_eq(parse("{\"name\":\"ok\",\"on\":null}", &o), AT_OK);
    cr_assert_eq(jv_check_object(o, fields, 4, "", &errs), AT_OK);
    json_decref(o);
    cr_assert_eq(parse("{\"name\":null}", &o), AT_OK);
    cr_assert_eq(jv_check_object(o, fields, 4, "", &errs), AT_EINVAL);
    json_decref(o);
}

Test(jsonv, utf8_length)
{
    cr_assert_eq(utf8_length("abc", 3), 3);
    cr_assert_eq(utf8_length("\xe2\x82\xac", 3), 1);
    cr_assert_eq(utf8_length("\xf0\x9f\x98\x80", 4), 1);
    cr_assert_eq(utf8_length("\xc0\xaf", 2), -1);
    cr_assert_eq(utf8_length("\xe2\x82", 2), -1);
    cr_assert_eq(utf8_length("\xf5\x80\x80\x80", 4), -1);
}
