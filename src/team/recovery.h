/* Operator recovery (issue 13, `atrium user workspaces | user erase | workspace add-owner`): the
 * use cases an operator needs when nobody can sign in to fix things through the API. Every change
 * runs in one write transaction, keeps the rule "every root workspace keeps an active owner"
 * (ws_owner_invariant) and writes audit events attributed to the operator (`recovery_operator`). */
#ifndef AT_TEAM_RECOVERY_H
#define AT_TEAM_RECOVERY_H

#include "audit/audit.h"
#include "store/store.h"

#include <jansson.h>

/* The audit actor of operator commands: type "system", labelled as the command line. */
extern const audit_actor recovery_operator;

/* What a recovery change did or why it was refused. ws_name (a new string, or NULL) names the
 * workspace a refusal is about; the caller frees it with recovery_result_free. */
typedef struct recovery_result {
    char user_id[ID_MAX];
    char ws_id[ID_MAX];
    char *ws_name;
    const char *missing; /* on AT_ENOTFOUND: "user" or "workspace" */
    int64_t count;       /* memberships ended (erase) */
    bool was_member;     /* add-owner: the person already had a membership (now owner, active) */
} recovery_result;

void recovery_result_free(recovery_result *r);

/* recovery_user_workspaces returns a new array of the user's direct memberships with their
 * workspaces: {workspace_id, name, kind, workspace_status, role, member_status}. AT_ENOTFOUND for
 * an unknown email. */
int recovery_user_workspaces(store *s, const char *email, json_t **out);

/* recovery_add_owner makes the person with this email an active owner of ws_id: a new membership,
 * or the existing one promoted and reactivated; audited as "member.added" or "member.role_changed"
 * by `actor`. AT_ENOTFOUND (out->missing says which), AT_EINVAL when the user is disabled or the
 * workspace deleted. */
int recovery_add_owner(store *s, const char *ws_id, const char *email, const audit_actor *actor, recovery_result *out);

/* recovery_erase_user erases a person's personal data: every membership ends (audited as
 * "member.removed" by `actor`, with their pending invitations and transfers), their sessions, reset
 * and email-change tokens, notification preferences and pending invitations to their address are
 * deleted, the API keys they own are revoked, and the user row keeps only its id: the email becomes
 * the tombstone "erased+ID@erased.invalid", the name "Erased user", the password hash unusable, the
 * account disabled. Audit events are never rewritten: they keep their attribution by user id and the
 * hash chain stays intact. AT_ECONFLICT (out->ws_id, out->ws_name) when a root workspace would be left
 * without an active owner; AT_ENOTFOUND for an unknown email; nothing changes on failure. */
int recovery_erase_user(store *s, const char *email, const audit_actor *actor, recovery_result *out);

#endif
