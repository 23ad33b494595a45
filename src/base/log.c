/* JSON-lines logger. */
#include "base/log.h"

#include "base/clock.h"

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
    json_object_set_new(line, "msg", json_string(msg ? msg : ""));
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
    char msg[1024];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof(msg), fmt, ap);
    va_end(ap);
    log_event(level, msg, NULL);
}
