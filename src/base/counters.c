/* Process-wide event counters, printed by /metrics. */
#include "base/counters.h"

#include <pthread.h>
#include <stdatomic.h>
#include <string.h>

enum { COUNTERS_LABEL_MAX = 32 };

typedef struct counter_series {
    char label[COUNTERS_LABEL_MAX];
    atomic_ullong n;
} counter_series;

typedef struct counter_family {
    const char *name;
    const char *help;
    const char *label_name; /* NULL: the family has one series and no label */
    counter_series series[COUNTERS_SERIES];
    atomic_int used; /* series[0..used) have their label set; published with release order */
} counter_family;

#define COUNTER_FAMILY(n, h, l)                                                                                        \
    {                                                                                                                  \
        .name = n, .help = h, .label_name = l                                                                          \
    }
static counter_family counters[COUNTER__COUNT] = {
    [COUNTER_MAIL_SENT] = COUNTER_FAMILY("atrium_mail_sent_total",
                                         "Messages delivered, by transport (smtp or the mail folder).", "transport"),
    [COUNTER_MAIL_FAILED] =
        COUNTER_FAMILY("atrium_mail_failed_total",
                       "Failed delivery attempts, by transport (each is retried until the job is dead).", "transport"),
    [COUNTER_SIGNIN_FAILURES] =
        COUNTER_FAMILY("atrium_signin_failures_total",
                       "Refused password sign-ins, by reason (password, unknown, locked, disabled).", "reason"),
    [COUNTER_LOCKOUTS] = COUNTER_FAMILY("atrium_signin_lockouts_total",
                                        "Accounts locked (or their lock extended) by repeated failed sign-ins.", NULL),
    [COUNTER_RATE_LIMITED] =
        COUNTER_FAMILY("atrium_rate_limited_total",
                       "Requests refused with 429, by limiter (login, reset, key, ws, password ...).", "limiter"),
};

static pthread_mutex_t counters_mu = PTHREAD_MUTEX_INITIALIZER;

static counter_series *counters_find(counter_family *f, const char *label, int used);

/* Returns the series of `label` in f, giving it a slot on first use; past the last free slot every new
 * label shares the final slot, labelled "other". */
static counter_series *counters_series(counter_family *f, const char *label)
{
    if (!f->label_name || !label)
        label = "";
    else if (strlen(label) >= COUNTERS_LABEL_MAX)
        label = "other";
    counter_series *s = counters_find(f, label, atomic_load_explicit(&f->used, memory_order_acquire));
    if (s)
        return s;
    pthread_mutex_lock(&counters_mu);
    int used = atomic_load_explicit(&f->used, memory_order_relaxed);
    s = counters_find(f, label, used);
    if (!s && used >= COUNTERS_SERIES - 1) {
        label = "other";
        s = counters_find(f, label, used);
    }
    if (!s) {
        s = &f->series[used]; /* used < COUNTERS_SERIES: the last slot is only ever "other" */
        size_t n = strlen(label);
        if (n >= COUNTERS_LABEL_MAX)
            n = COUNTERS_LABEL_MAX - 1;
        memcpy(s->label, label, n);
        s->label[n] = '\0';
        atomic_store_explicit(&f->used, used + 1, memory_order_release);
    }
    pthread_mutex_unlock(&counters_mu);
    return s;
}

void counters_inc(counter_id id, const char *label)
{
    if (id < 0 || id >= COUNTER__COUNT)
        return;
    atomic_fetch_add_explicit(&counters_series(&counters[id], label)->n, 1, memory_order_relaxed);
}

void counters_inc_prefix(counter_id id, const char *key)
{
    char label[COUNTERS_LABEL_MAX];
    const char *colon = key ? strchr(key, ':') : NULL;
    size_t n = colon ? (size_t)(colon - key) : 0;
    if (!n || n >= sizeof(label)) {
        counters_inc(id, "other");
        return;
    }
    memcpy(label, key, n);
    label[n] = '\0';
    counters_inc(id, label);
}

unsigned long long counters_get(counter_id id, const char *label)
{
    if (id < 0 || id >= COUNTER__COUNT)
        return 0;
    counter_family *f = &counters[id];
    counter_series *s =
        counters_find(f, f->label_name && label ? label : "", atomic_load_explicit(&f->used, memory_order_acquire));
    return s ? atomic_load_explicit(&s->n, memory_order_relaxed) : 0;
}

void counters_write(buf *b)
{
    for (int i = 0; i < COUNTER__COUNT; i++) {
        counter_family *f = &counters[i];
        buf_printf(b, "# HELP %s %s\n# TYPE %s counter\n", f->name, f->help, f->name);
        int used = atomic_load_explicit(&f->used, memory_order_acquire);
        if (!f->label_name) {
            buf_printf(b, "%s %llu\n", f->name, used ? atomic_load(&f->series[0].n) : 0ULL);
            continue;
        }
        /* Labels are code constants of [a-z0-9_.-]; anything else is dropped rather than escaped. */
        for (int k = 0; k < used; k++) {
            const char *l = f->series[k].label;
            if (strspn(l, "abcdefghijklmnopqrstuvwxyz0123456789_.-") != strlen(l))
                continue;
            buf_printf(b, "%s{%s=\"%s\"} %llu\n", f->name, f->label_name, l, atomic_load(&f->series[k].n));
        }
    }
}

/* The series of `label` among the first `used` of f, or NULL. */
static counter_series *counters_find(counter_family *f, const char *label, int used)
{
    for (int k = 0; k < used; k++)
        if (strcmp(f->series[k].label, label) == 0)
            return &f->series[k];
    return NULL;
}
