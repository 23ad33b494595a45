/* Structured logging: one JSON object per line on stderr, written with a single write() so lines from
 * concurrent threads never interleave. Values pass through jansson, so control characters and quotes
 * in attacker-controlled strings are escaped (T17). Never pass a secret, token, cookie or password. */
#ifndef AT_LOG_H
#define AT_LOG_H

#include <jansson.h>
#include <stdbool.h>

enum log_level { LOG_DEBUG = 0, LOG_INFO = 1, LOG_WARN = 2, LOG_ERROR = 3, LOG_OFF = 4 };

void log_set_level(int level);
int log_level_from_name(const char *name); /* -1 when unknown */
/* log_enabled reports whether a line at `level` would be written (to skip building it). */
bool log_enabled(int level);
/* log_set_fd redirects output (tests capture it); default 2. */
void log_set_fd(int fd);

/* LOG_MSG_MAX bounds a formatted message in bytes: a longer one is cut at a UTF-8 character boundary
 * and ends in LOG_TRUNCATED, so a long line is shortened visibly, never dropped. */
enum { LOG_MSG_MAX = 8192 };
#define LOG_TRUNCATED " [truncated]"

/* log_event writes {"ts","level","msg", ...fields}. Takes ownership of `fields` (may be NULL). A msg
 * that is not valid UTF-8 is written with its non-ASCII bytes replaced by '?' rather than lost. */
void log_event(int level, const char *msg, json_t *fields);
/* printf-style convenience without extra fields. */
void log_msg(int level, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* log_text returns a new JSON string for a log field: s cut to LOG_MSG_MAX bytes at a character
 * boundary (with LOG_TRUNCATED), and non-ASCII bytes replaced by '?' when s is not valid UTF-8, so
 * the value is never refused by jansson. The caller owns the reference (json_decref, or `o` in
 * json_pack). s NULL gives "". */
json_t *log_text(const char *s);

#endif
