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

/* The seat picture of a workspace. limit and the counts are those of the pool that pays (the agency's,
 * for a sub-account billed by its agency): they decide whether a seat is free. They are never shown to
 * a sub-account that does not pay (issue 12, item 7): it sees here_* and who provides its seats. */
typedef struct team_seats {
    int64_t limit, active_members, pending_invitations; /* the paying pool */
    int64_t here_active, here_pending;                  /* this workspace alone */
    bool provided;                                      /* seats come from payer's subscription, not its own */
    char payer[ID_MAX];                                 /* the paying workspace (ws_id itself when it pays) */
} team_seats;

int team_seats_get(store_conn *c, const char *ws_id, team_seats *out);
/* team_seats_full reports whether the pool has no seat left for one more member or invitation. */
bool team_seats_full(const team_seats *s);
/* team_seats_json returns the members list's "seats" object, a new reference: {limit, used, available,
 * active_members, pending_invitations, full, provided_by}. For a workspace whose seats are provided by
 * its agency, limit and available are null, the counts are its own, and provided_by is {id, name} of
 * the agency (payer_name, borrowed); otherwise provided_by is null. */
json_t *team_seats_json(const team_seats *s, const char *payer_name);
/* team_seats_full_message returns the sentence refusing a new seat, a new string the caller frees: the
 * seat count for a workspace that pays, or "at <agency>" without any figure for one whose seats the
 * agency provides. Reads the agency's name on c. */
char *team_seats_full_message(store_conn *c, const team_seats *s);
/* team_seats_refusal is team_seats_full_message for ws_id on a connection of its own (a general
 * sentence without figures when the store cannot answer); a new string the caller frees. */
char *team_seats_refusal(store *s, const char *ws_id);

/* members_list returns a page of members (*items) and the seat picture (*seats, team_seats_json), both
 * new references the caller owns. */
int members_list(store *s, const char *ws_id, const member_query *q, json_t **items, int64_t *total,
                 int64_t *next_offset, json_t **seats);
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
/* members_end_membership deletes one membership on c (the caller's write transaction) without a role
 * check, for operator recovery: pending invitations and transfers of the person in the workspace and
 * their notification preferences go with it, the event `action` is audited by `actor`. AT_ENOTFOUND;
 * AT_ECONFLICT when the workspace would be left without an active owner. */
int members_end_membership(store_conn *c, const char *ws_id, const char *member_id, const audit_actor *actor,
                           const char *action);
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
 * team (docs/guide/workspace.md, "Which name shows where"), or a copy of `fallback` when it cannot
 * be read. */
char *members_ws_name(store_conn *c, const char *ws_id, const char *fallback);
/* members_revoke_invitations_by revokes the pending invitations a user sent in a workspace. */
int members_revoke_invitations_by(store_conn *c, const char *ws_id, const char *user_id, const char *reason);

#endif
