/* The audit log (features.md §1.14, reliability.md T17): every change writes one event in the same
 * transaction as the change. Events are chained per workspace: each stores the keyed BLAKE2b of its
 * own content and of the previous event's hash, so editing, deleting or reordering rows breaks the
 * chain, and `atrium audit verify` names the first broken link. Secrets never enter an event: callers
 * pass changes with secret fields already redacted. */
#ifndef AT_AUDIT_H
#define AT_AUDIT_H

#include "base/buf.h"
#include "base/id.h"
#include "store/store.h"

#include <jansson.h>

/* Who did it and from where; strings are borrowed. */
typedef struct audit_actor {
    const char *type;  /* "user", "api_key", "system", "agency" */
    const char *id;    /* usr_..., key_... or NULL */
    const char *label; /* email or name shown in the log */
    const char *ip;
    const char *user_agent;
    const char *request_id;
} audit_actor;

/* audit_append writes one event on c (inside the caller's write transaction). `changes` (borrowed,
 * may be NULL) is {"field": {"before": x, "after": y}}. The workspace row is locked first so appends
 * to one chain are serialised on PostgreSQL too. */
int audit_append(store_conn *c, const char *workspace_id, const audit_actor *actor, const char *action,
                 const char *target_type, const char *target_id, const json_t *changes);

/* Filters for audit_list; NULL strings mean "any". */
typedef struct audit_filter {
    const char *actor_id;
    const char *action;      /* exact, or a prefix ending in '.' ("workspace.") */
    const char *target_id;
    int64_t since_us, until_us; /* inclusive bounds; INT64_MIN / INT64_MAX for none */
    int64_t before_seq;      /* cursor: only events older than this */
    int limit;               /* 1..100 */
} audit_filter;

/* audit_list returns a new array of events, newest first, and *next_seq (0 when there are no more). */
int audit_list(store *s, const char *workspace_id, const audit_filter *f, json_t **items, int64_t *next_seq);

/* audit_export_csv appends to out (caller-owned, initialised) the events matching f (its cursor and
 * limit ignored) as CSV, newest first, a header row first: at most max_rows rows; *truncated says
 * whether more matched. Cells are RFC 4180-quoted and guarded against spreadsheet formulas. */
int audit_export_csv(store *s, const char *workspace_id, const audit_filter *f, int64_t max_rows, buf *out,
                     int64_t *rows, bool *truncated);

/* audit_verify walks every chain (or one workspace's). Returns AT_OK when intact; otherwise
 * AT_ECONSTRAINT with the workspace id and sequence of the first broken event in the outputs. */
int audit_verify(store *s, const char *workspace_id_or_null, int64_t *events_checked, char broken_ws[ID_MAX],
                 int64_t *broken_seq);

/* audit_diff adds {"before": b, "after": a} under key to changes when the two differ (both borrowed). */
void audit_diff(json_t *changes, const char *key, const json_t *before, const json_t *after);

#endif
