/* Unit tests of the single-line and multi-line text rules (src/base/text.c) and of their use by every
 * string row of a validation table (src/base/jsonv.c). */
#include "base/err.h"
#include "base/jsonv.h"
#include "base/text.h"

#include <criterion/criterion.h>
#include <stdio.h>
#include <string.h>

#define LINE(s) text_is_line(s, sizeof(s) - 1)
#define MULTI(s) text_is_multiline(s, sizeof(s) - 1)

Test(text, a_line_refuses_every_control_character)
{
    cr_assert(LINE("Acme Dental, Suite 300"));
    cr_assert(LINE("東京都千代田区丸の内一丁目"));
    cr_assert(LINE("Müller & <Söhne> \"GmbH\""));
    cr_assert(LINE("\xc2\xa0non-breaking\xc2\xa9")); /* U+00A0 and U+00A9 follow the C1 block */
    cr_assert(LINE(""));
    /* Every C0 control, DEL, and every C1 control (U+0080–U+009F). */
    for (unsigned c = 0x01; c < 0x20; c++) {
        char s[] = {'a', (char)c, 'b', '\0'};
        cr_assert_not(text_is_line(s, 3), "U+%04X", c);
    }
    cr_assert_not(text_is_line("a\0b", 3), "NUL");
    cr_assert_not(LINE("a\x7f" "b"), "DEL");
    for (unsigned c = 0x80; c <= 0x9f; c++) {
        char s[] = {'a', (char)0xc2, (char)c, 'b', '\0'};
        cr_assert_not(text_is_line(s, 4), "U+%04X", c);
    }
    cr_assert_not(LINE("a\r\nb"));
    cr_assert_not(LINE("bell\a"));
    cr_assert_not(LINE("\x1b[31mred"));
    cr_assert_not(LINE("line\xe2\x80\xa8separator"));
    cr_assert_not(LINE("paragraph\xe2\x80\xa9separator"));
    cr_assert_not(LINE("tab\there"));
}

Test(text, multiline_text_allows_breaks_and_tabs_only)
{
    cr_assert(MULTI("Dear team,\r\n\tplease join.\n\nThanks"));
    cr_assert(MULTI("line\xe2\x80\xa8separator"));
    cr_assert_not(MULTI("bell\a"));
    cr_assert_not(MULTI("\x1b[2J"));
    cr_assert_not(MULTI("del\x7f"));
    cr_assert_not(MULTI("c1 \xc2\x85 next line"));
    cr_assert_null(text_check_multiline("a\nb", 3));
    cr_assert_not_null(text_check_line("a\nb", 3));
}

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

TestSuite(text_rows, .init = setup, .fini = teardown);

static const jv_field rows[] = {
    {"name", JV_STRING, 0, 1, 100, NULL},
    {"note", JV_STRING, JV_MULTILINE, 0, 500, NULL},
    {"slug", JV_STRING, 0, 1, 48, NULL},
};

/* Checks body against rows; returns the comma-joined "field:code" list. */
static const char *check(const char *body)
{
    json_t *o = NULL;
    fe_init(&errs, &a);
    cr_assert_eq(jv_parse(body, strlen(body), &o, &errs), AT_OK, "%s", body);
    jv_check_object(o, rows, sizeof(rows) / sizeof(rows[0]), "", &errs);
    json_decref(o);
    char *out = arena_strdup(&a, "");
    for (size_t i = 0; i < errs.count; i++)
        out = arena_printf(&a, "%s%s%s:%s", out, i ? "," : "", errs.items[i].field, errs.items[i].code);
    return out;
}

Test(text_rows, every_string_row_is_single_line_unless_it_says_multiline)
{
    cr_assert_str_eq(check("{\"name\": \"Acme\", \"note\": \"a\\nb\\tc\", \"slug\": \"acme\"}"), "");
    cr_assert_str_eq(check("{\"name\": \"Ac\\r\\nme\"}"), "name:format");
    cr_assert_str_eq(check("{\"name\": \"bell\\u0007\", \"slug\": \"esc\\u001b\"}"), "name:format,slug:format");
    cr_assert_str_eq(check("{\"name\": \"c1\\u0085\"}"), "name:format");
    cr_assert_str_eq(check("{\"name\": \"ok\", \"note\": \"bell\\u0007\"}"), "note:format");
    cr_assert_str_eq(check("{\"name\": \"del\\u007f\"}"), "name:format");
}

Test(text, utf8_cut_never_ends_inside_a_character)
{
    const char *s = "a\xc3\xa9\xe6\x97\xa5\xf0\x9f\x98\x80"; /* a é 日 😀: 1 + 2 + 3 + 4 bytes */
    size_t want[] = {0, 1, 1, 3, 3, 3, 6, 6, 6, 6, 10, 10};
    for (size_t max = 0; max < sizeof(want) / sizeof(want[0]); max++)
        cr_assert_eq(text_utf8_cut(s, max), want[max], "max %zu: %zu", max, text_utf8_cut(s, max));
    cr_assert_eq(text_utf8_cut("plain", 3), 3);
}

Test(text_rows, a_long_unknown_field_is_named_whole)
{
    char body[700], name[601];
    memset(name, 'x', 600);
    name[600] = '\0';
    snprintf(body, sizeof(body), "{\"name\": \"ok\", \"%s\": 1}", name);
    cr_assert_str_eq(check(body), arena_printf(&a, "%s:unknown_field", name));
}
