/* JSON-lines logger. */
#include "base/log.h"

#include "base/buf.h"
#include "base/clock.h"
#include "base/jsonv.h"
#include "base/text.h"

#include <stdarg.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static atomic_int log_min_level = LOG_INFO;
static atomic_int log_fd = 2;

static const char *const log_names[] = {"debug", "info", "warn", "error", "off"};

void log_set_level(int level)
{
    atomic_store(&log_min_level, level);
}

bool log_enabled(int level)
{
    return level >= atomic_load(&log_min_level);
}

int log_level_from_name(const char *name)
{
    for (int i = 0; i <= LOG_OFF; i++)
        if (strcmp(name, log_names[i]) == 0)
            return i;
    return -1;
}

void log_set_fd(int fd)
{
    atomic_store(&log_fd, fd);
}

void log_event(int level, const char *msg, json_t *fields)
{
    if (level < atomic_load(&log_min_level)) {
        json_decref(fields);
        return;
    }
    char ts[32];
    clock_format_rfc3339(clock_now_us(), ts);
    json_t *line = json_object();
    json_object_set_new(line, "ts", json_string(ts));
    json_object_set_new(line, "level", json_string(log_names[level]));
    json_object_set_new(line, "msg", log_text(msg));
    if (fields)
        json_object_update(line, fields);
    json_decref(fields);
    char *text = json_dumps(line, JSON_COMPACT | JSON_PRESERVE_ORDER);
    json_decref(line);
    if (!text)
        return;
    size_t len = strlen(text);
    text[len] = '\n'; /* replaces the NUL: one write carries the whole line */
    ssize_t off = 0;
    while ((size_t)off < len + 1) {
        ssize_t n = write(atomic_load(&log_fd), text + off, len + 1 - (size_t)off);
        if (n <= 0)
            break;
        off += n;
    }
    free(text);
}

void log_msg(int level, const char *fmt, ...)
{
    if (level < atomic_load(&log_min_level))
        return;
    buf msg;
    va_list ap;
    buf_init(&msg);
    va_start(ap, fmt);
    buf_vprintf(&msg, fmt, ap);
    va_end(ap);
    log_event(level, msg.data, NULL);
    buf_free(&msg);
}

json_t *log_text(const char *s)
{
    if (!s)
        return json_string("");
    size_t len = strlen(s);
    buf t;
    buf_init(&t);
    bool cut = len > LOG_MSG_MAX;
    if (cut)
        len = text_utf8_cut(s, LOG_MSG_MAX);
    if (utf8_length(s, len) < 0) {
        /* A caller passed bytes that are not UTF-8 (a driver message, a file name): keep the ASCII. */
        for (size_t i = 0; i < len; i++)
            buf_putc(&t, (unsigned char)s[i] < 0x80 ? s[i] : '?');
    } else {
        buf_append(&t, s, len);
    }
    if (cut)
        buf_puts(&t, LOG_TRUNCATED);
    json_t *j = json_stringn(t.data ? t.data : "", t.len);
    buf_free(&t);
    return j;
}
