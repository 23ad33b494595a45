/* Team members (features.md §1.4): the members list with usage, role changes under the role rules,
 * deactivation, removal, leaving, and per-member activity. Every membership change goes through
 * ws_owner_invariant in its transaction, writes its audit event, and revokes the pending invitations
 * of a member who is removed, demoted or deactivated. Seats: active members plus pending invitations
 * count against the workspace's seat limit. */
#ifndef AT_TEAM_MEMBERS_H
#define AT_TEAM_MEMBERS_H

#include "audit/audit.h"
#include "workspace/workspace.h"

#include <jansson.h>

/* Who acts: their user id and effective role in the workspace (agency counts as admin). */
typedef struct team_actor {
    const char *user_id;
    const char *name; /* shown in mail ("Olivia Owner changed your role") */
    int role;
    const audit_actor *audit;
} team_actor;

typedef struct member_query {
    const char *q;      /* name or email contains */
    bool names_only;    /* q matches names only (the viewer may not see email addresses) */
    const char *role;   /* owner | admin | member */
    const char *status; /* active | deactivated */
    const char *sort;   /* name, -name, role, joined_at, -joined_at, last_active_at, -last_active_at */
    int limit;
    int64_t offset;
} member_query;

/* The seat picture of a workspace. */
typedef struct team_seats {
    int64_t limit, active_members, pending_invitations;
} team_seats;

int team_seats_get(store_conn *c, const char *ws_id, team_seats *out);
json_t *team_seats_json(const team_seats *s);

int members_list(store *s, const char *ws_id, const member_query *q, json_t **items, int64_t *total,
                 int64_t *next_offset, team_seats *seats);
int members_get(store *s, const char *ws_id, const char *member_id, json_t **out);
/* members_get_on is members_get on the caller's connection (inside its transaction, row locked). */
int members_get_on(store_conn *c, const char *ws_id, const char *member_id, json_t **out);
/* members_set_role: owners grant or remove owner; admins manage members and admins; nobody grants
 * above their own role. AT_EFORBIDDEN when the rules refuse, AT_ECONFLICT when the last owner would
 * go. */
int members_set_role(store *s, const char *ws_id, const char *member_id, const char *role, const team_actor *who,
                     json_t **out);
int members_set_active(store *s, const char *ws_id, const char *member_id, bool active, const team_actor *who,
                       json_t **out);
int members_remove(store *s, const char *ws_id, const char *member_id, const team_actor *who);
/* members_leave removes the caller's own membership (AT_ENOTFOUND when they are not a member). */
int members_leave(store *s, const char *ws_id, const team_actor *who);
/* members_end_sessions ends every session of the member's user; *ended gets the count. Sessions belong
 * to the person, not the membership: ending them signs the person out of every workspace, so the caller
 * must manage the person here and in every other workspace where they are an active member (directly
 * or through agency access to a sub-account, never a role above the caller's own there), and may not
 * end their own. AT_EFORBIDDEN with *why set to a new string saying why (the caller frees it). */
int members_end_sessions(store *s, const char *ws_id, const char *member_id, const team_actor *who, int64_t *ended,
                         char **why);
/* members_activity returns the member's timeline: audit events by them or about them, newest first. */
int members_activity(store *s, const char *ws_id, const char *member_id, int limit, json_t **out);
/* members_touch records that the user was active in the workspace (at most once a minute). */
void members_touch(store *s, const char *ws_id, const char *user_id);
/* members_ws_name returns a new string (the caller frees it): the workspace's name for mail to its
 * team (docs/guide/names.md), or a copy of `fallback` when it cannot be read. */
char *members_ws_name(store_conn *c, const char *ws_id, const char *fallback);
/* members_revoke_invitations_by revokes the pending invitations a user sent in a workspace. */
int members_revoke_invitations_by(store_conn *c, const char *ws_id, const char *user_id, const char *reason);

#endif
