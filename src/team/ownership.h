/* Ownership transfer, in two steps (features.md §1.4): an owner proposes a member as the new owner;
 * that member accepts, and the roles swap atomically (the new owner becomes owner, the proposer
 * admin). One transfer may be pending per workspace; the proposer or the target can cancel it. */
#ifndef AT_TEAM_OWNERSHIP_H
#define AT_TEAM_OWNERSHIP_H

#include "team/members.h"

/* own_propose: AT_EFORBIDDEN unless who is an owner; AT_ENOTFOUND for an unknown member; AT_ECONFLICT
 * when the target is not an active non-owner member or a transfer is already pending. */
int own_propose(store *s, const char *ws_id, const char *member_id, const team_actor *who, json_t **out);
/* own_accept: the caller must be the pending transfer's target (AT_ENOTFOUND otherwise). */
int own_accept(store *s, const char *ws_id, const team_actor *who, json_t **out);
int own_cancel(store *s, const char *ws_id, const team_actor *who);
/* own_pending returns the pending transfer as a new object, or JSON null. */
int own_pending(store *s, const char *ws_id, json_t **out);

#endif
