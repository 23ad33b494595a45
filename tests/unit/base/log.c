/* Unit tests of the JSON-lines logger (src/base/log.c): a long message is kept or visibly shortened at
 * a character boundary, never dropped; bytes that are not UTF-8 never cost the line its message. */
#include "base/jsonv.h"
#include "base/log.h"

#include <criterion/criterion.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

/* Runs one logging call with output captured in a pipe; returns the parsed line (caller decrefs). */
static json_t *captured(void (*emit)(const char *arg), const char *arg)
{
    int fds[2];
    cr_assert_eq(pipe(fds), 0);
    log_set_fd(fds[1]);
    log_set_level(LOG_DEBUG);
    emit(arg);
    log_set_fd(2);
    log_set_level(LOG_ERROR);
    close(fds[1]);
    size_t cap = 1 << 16, len = 0;
    char *text = malloc(cap);
    ssize_t n;
    while ((n = read(fds[0], text + len, cap - len)) > 0)
        len += (size_t)n;
    close(fds[0]);
    json_error_t err;
    json_t *line = json_loadb(text, len, JSON_DISABLE_EOF_CHECK, &err);
    cr_assert_not_null(line, "the log line is JSON: %.*s (%s)", (int)len, text, err.text);
    free(text);
    return line;
}

static void emit_msg(const char *s)
{
    log_msg(LOG_WARN, "%s", s);
}

static void emit_event(const char *s)
{
    log_event(LOG_WARN, s, json_pack("{s:o}", "detail", log_text(s)));
}

Test(log, a_message_longer_than_the_old_buffer_is_written_whole)
{
    /* 1,500 bytes of three-byte characters: a 1,024-byte buffer used to cut one in half, and jansson
     * then refused the message, so the line went out without it. */
    char s[1501];
    for (int i = 0; i < 500; i++)
        memcpy(s + 3 * i, "\xe7\x90\x86", 3); /* 理 */
    s[1500] = '\0';
    json_t *line = captured(emit_msg, s);
    cr_assert_str_eq(json_string_value(json_object_get(line, "msg")), s);
    json_decref(line);
}

Test(log, a_message_past_the_maximum_is_cut_at_a_character_with_a_marker)
{
    size_t chars = LOG_MSG_MAX / 4 + 10, len = 4 * chars;
    char *s = malloc(len + 1);
    for (size_t i = 0; i < chars; i++)
        memcpy(s + 4 * i, "\xf0\x9f\x98\x80", 4); /* 😀 */
    s[len] = '\0';
    json_t *line = captured(emit_msg, s);
    const char *msg = json_string_value(json_object_get(line, "msg"));
    cr_assert_not_null(msg, "the message is kept");
    size_t mlen = strlen(msg), tail = strlen(LOG_TRUNCATED);
    cr_assert_gt(mlen, tail);
    cr_assert_str_eq(msg + mlen - tail, LOG_TRUNCATED);
    cr_assert_leq(mlen - tail, (size_t)LOG_MSG_MAX);
    cr_assert_eq((mlen - tail) % 4, 0, "cut between characters: %zu bytes", mlen - tail);
    cr_assert_eq(memcmp(msg, s, mlen - tail), 0);
    json_decref(line);
    free(s);
}

Test(log, bytes_that_are_not_utf8_keep_the_message_and_the_field)
{
    json_t *line = captured(emit_event, "driver said: caf\xe9 \xe7\x90 ok");
    cr_assert_str_eq(json_string_value(json_object_get(line, "msg")), "driver said: caf? ?? ok");
    cr_assert_str_eq(json_string_value(json_object_get(line, "detail")), "driver said: caf? ?? ok");
    json_decref(line);
    json_t *empty = log_text(NULL);
    cr_assert_str_eq(json_string_value(empty), "");
    json_decref(empty);
}
