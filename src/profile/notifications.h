/* Personal notification preferences per user and workspace (features.md §1.3): event groups × channels
 * with documented defaults. Security notices cannot be turned off (Novu's "critical" workflows). Mail
 * sent by later capabilities asks notif_wants before sending. */
#ifndef AT_NOTIFICATIONS_H
#define AT_NOTIFICATIONS_H

#include "audit/audit.h"
#include "base/jsonv.h"
#include "store/store.h"

#include <jansson.h>

/* notif_get returns {groups: [{id, title, description, locked, email, in_app}]} as a new object. */
int notif_get(store *s, const char *ws_id, const char *user_id, json_t **out);
/* notif_check validates a patch {groups: {group: {channel: bool}}}, naming each bad field. */
void notif_check(json_t *patch, field_errors *errs);
/* notif_patch stores a validated patch and returns the new document. */
int notif_patch(store *s, const char *ws_id, const char *user_id, json_t *patch, const audit_actor *actor,
                json_t **out);
/* notif_reset forgets the user's choices in the workspace: every group back to its default. */
int notif_reset(store *s, const char *ws_id, const char *user_id, const audit_actor *actor, json_t **out);
/* notif_wants reports whether the user wants `group` on `channel` in the workspace. */
bool notif_wants(store_conn *c, const char *ws_id, const char *user_id, const char *group, const char *channel);

extern const jv_field notif_fields[];
extern const size_t notif_field_count;

#endif
