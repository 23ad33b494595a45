/* Sub-accounts (features.md §1.6): the children of a root workspace, managed by the root's owners and
 * admins. Create, list (search, sort, paginate), view, rename, suspend and reactivate, schedule
 * deletion (restorable for 7 days, then deleted by a job) and restore. A suspended or
 * pending-deletion sub-account locks out its own members with its reason; agency access continues. */
#ifndef AT_SUBACCOUNTS_H
#define AT_SUBACCOUNTS_H

#include "workspace/workspace.h"

extern const jv_field sub_create_fields[];
extern const size_t sub_create_field_count;
extern const jv_field sub_rename_fields[];
extern const size_t sub_rename_field_count;

typedef struct sub_query {
    const char *q;      /* search in name, display name and slug; NULL: all */
    const char *sort;   /* "name", "-name", "created_at", "-created_at", "status" */
    const char *status; /* filter, NULL: every status but deleted */
    int limit;          /* 1..100 */
    int64_t offset;     /* from the cursor */
} sub_query;

/* sub_list returns a new array of the root's sub-accounts, *total the matching count, and *next_offset
 * (-1 when this is the last page). */
int sub_list(store *s, const char *root_id, const sub_query *q, json_t **items, int64_t *total, int64_t *next_offset);
/* sub_get returns the summary of one sub-account of root_id (AT_ENOTFOUND if it is not its child). */
int sub_get(store *s, const char *root_id, const char *sub_id, json_t **out);
/* sub_create creates a sub-account of root_id from a validated body; *out is its summary. */
int sub_create(store *s, const char *root_id, json_t *body, const audit_actor *actor, json_t **out);
/* sub_rename changes name and/or display_name. */
int sub_rename(store *s, const char *root_id, const char *sub_id, json_t *body, const audit_actor *actor,
               json_t **out);
/* Lifecycle moves; each answers AT_ECONFLICT when the current status does not allow it. */
int sub_suspend(store *s, const char *root_id, const char *sub_id, const char *reason, const audit_actor *actor,
                json_t **out);
int sub_reactivate(store *s, const char *root_id, const char *sub_id, const audit_actor *actor, json_t **out);
int sub_schedule_deletion(store *s, const char *root_id, const char *sub_id, const audit_actor *actor, json_t **out);
int sub_restore(store *s, const char *root_id, const char *sub_id, const audit_actor *actor, json_t **out);

/* sub_register_jobs binds "workspace.delete", which deletes a sub-account whose window has passed. */
void sub_register_jobs(void);

#endif
