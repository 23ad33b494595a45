/* Process-wide event counters for /metrics. They live in base/ so that every layer may count without
 * reaching up to http/: the domain and the services count (mail sent, sign-in failures, 429s...), and
 * http/metrics.c prints them with the HTTP metrics. Each family has a name, a HELP text and at most one
 * label; label values are code constants (a transport, a limiter's name), never user input, and a
 * family holds at most COUNTERS_SERIES of them (later values count under "other"), so the number of
 * series stays small whatever happens. Counting is a mutex-free atomic add once a label has its slot. */
#ifndef AT_COUNTERS_H
#define AT_COUNTERS_H

#include "base/buf.h"

typedef enum counter_id {
    COUNTER_MAIL_SENT,       /* atrium_mail_sent_total{transport} */
    COUNTER_MAIL_FAILED,     /* atrium_mail_failed_total{transport}: failed delivery attempts */
    COUNTER_SIGNIN_FAILURES, /* atrium_signin_failures_total{reason} */
    COUNTER_LOCKOUTS,        /* atrium_signin_lockouts_total: accounts locked by failed sign-ins */
    COUNTER_RATE_LIMITED,    /* atrium_rate_limited_total{limiter}: requests refused with 429 */
    COUNTER__COUNT
} counter_id;

enum { COUNTERS_SERIES = 16 };

/* counters_inc adds one to family `id`'s series for `label` (borrowed; NULL or "" for a family without
 * a label). Thread-safe. */
void counters_inc(counter_id id, const char *label);

/* counters_inc_prefix is counters_inc with the part of `key` before its first ':' as the label (the
 * limiter of a rate-limit bucket such as "login:203.0.113.9"), or "other" when there is none. */
void counters_inc_prefix(counter_id id, const char *key);

/* counters_get returns the current value of one series (0 when it never moved); for tests. */
unsigned long long counters_get(counter_id id, const char *label);

/* counters_write appends every family, with its # HELP and # TYPE lines, in Prometheus text format. */
void counters_write(buf *b);

#endif
