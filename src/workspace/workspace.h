/* Workspaces (DESIGN.md §1, features.md §1.1): a root workspace or a sub-account of one root; its
 * identity and business setup; its status; who reaches it and with which role.
 *
 * Reaching a workspace: a member acts with their role; an owner or admin of the parent root acts in a
 * sub-account with that root role without being a member (agency access: a root owner is an owner
 * there, so manages the sub-account's billing and its owners; a root admin is an admin). Nobody else sees it at all. A
 * suspended or pending-deletion sub-account locks its own members out, with its reason, while agency
 * access continues. Every change writes its audit event in the same transaction. */
#ifndef AT_WORKSPACE_H
#define AT_WORKSPACE_H

#include "audit/audit.h"
#include "base/arena.h"
#include "base/id.h"
#include "base/jsonv.h"
#include "policy/policy.h"
#include "store/store.h"

#include <jansson.h>
#include <stdbool.h>

/* WS_REASON_MAX_CHARS bounds a status reason (the suspension's, shown to the members it locks out);
 * ws_access keeps it whole in WS_REASON_MAX_BYTES (four UTF-8 bytes a character, and the NUL). */
enum { WS_MAX_FEATURES = 16, WS_DELETION_DAYS = 7, WS_REASON_MAX_CHARS = 200, WS_REASON_MAX_BYTES = 4 * 200 + 1 };

/* What one user may do in one workspace, resolved once per request. */
typedef struct ws_access {
    char id[ID_MAX];
    char parent_id[ID_MAX]; /* "" for a root */
    int kind;               /* WS_ROOT or WS_SUB_ACCOUNT */
    char status[24];        /* active, suspended, pending_deletion */
    char status_reason[WS_REASON_MAX_BYTES];
    int role;               /* effective role (agency carries the root role, ws_agency_role) */
    bool agency;
    int64_t last_active_at; /* of the direct membership, 0 when none */
    char feature_buf[WS_MAX_FEATURES][32];
    const char *features[WS_MAX_FEATURES + 1]; /* NULL-terminated, pointing into feature_buf */
} ws_access;

/* ws_agency_role is the role that `root_role` (an active membership of a sub-account's root) gives in
 * the sub-account: an owner stays an owner, an admin an admin, a member reaches nothing (ROLE_NONE).
 * The one statement of the rule; access resolution, the switcher and the team rules use it. */
int ws_agency_role(int root_role);
/* ws_effective_role combines a direct role (ROLE_NONE without an active membership) and the role in
 * the parent root (ROLE_NONE for a root or without one): the stronger of the direct and agency roles. */
int ws_effective_role(int direct, int root_role);

/* ws_resolve finds what user_id may do in ws_id. AT_ENOTFOUND when the workspace does not exist, is
 * deleted, or the user cannot reach it; AT_EFORBIDDEN when their only way in is a deactivated
 * membership (they know the workspace; they are told why they cannot enter). */
int ws_resolve(store *s, const char *user_id, const char *ws_id, ws_access *out);
/* ws_resolve_as loads the workspace and gives the caller `role` without a membership (service API
 * keys act as admins of their own workspace). AT_ENOTFOUND when absent or deleted. */
int ws_resolve_as(store *s, const char *ws_id, int role, ws_access *out);
/* ws_locked reports whether the access is blocked by the workspace's status (members of a suspended
 * or pending-deletion sub-account; agency access is never blocked). */
bool ws_locked(const ws_access *a);
/* ws_subject fills a policy subject for the access. */
void ws_subject(const ws_access *a, bool developer, policy_subject *out);

/* ws_create_root creates a root workspace owned by user_id on c (sign-up, demo). */
int ws_create_root(store_conn *c, const char *user_id, const char *name, const audit_actor *actor,
                   char id_out[ID_MAX]);
/* ws_owner_invariant is the one check of the rule "every root workspace keeps at least one active
 * owner" (an active membership of a user who is not disabled). Every path that changes memberships or
 * disables users calls it inside its transaction, after the change: with ws_id, for that workspace;
 * with user_id, for every workspace the user belongs to. Returns AT_OK, or AT_ECONFLICT with the id of
 * a workspace that would be left without an owner in ws_out (optional). */
int ws_owner_invariant(store_conn *c, const char *ws_id, const char *user_id, char ws_out[ID_MAX]);

/* ws_lock takes the workspace row's lock for the rest of the transaction (FOR UPDATE; SQLite's write
 * transaction already serialises): membership, seat and audit changes of one workspace then happen
 * one after another on PostgreSQL too. */
int ws_lock(store_conn *c, const char *ws_id);

/* ws_add_member adds a membership on c (demo and later the team capability). */
int ws_add_member(store_conn *c, const char *ws_id, const char *user_id, const char *role, const char *invited_by);

/* ws_list_for_user returns a new array for the switcher: every workspace the user reaches, each root
 * followed by its sub-accounts, with {id, kind, parent_id, name, display_name, slug, status, role, agency}. */
int ws_list_for_user(store *s, const char *user_id, json_t **out);

/* ws_get returns the settings document as a new object, with "context" and "checklist", and its
 * version for the ETag. */
int ws_get(store *s, const ws_access *a, json_t **out, int64_t *version);

/* The settable fields, for the PATCH body (merge semantics: absent = unchanged, null = cleared). */
extern const jv_field ws_settings_fields[];
extern const size_t ws_settings_field_count;
/* ws_check_settings adds field errors for values that need more than the table (slug uniqueness is
 * the store's). */
void ws_check_settings(json_t *patch, field_errors *errs);

/* ws_patch applies a validated merge patch when the version still matches (if_version 0: any
 * version, for If-Match: *): AT_EPRECOND when it does not, AT_ECONFLICT when the slug is taken. *new_version gets the new version. */
int ws_patch(store *s, const ws_access *a, int64_t if_version, json_t *patch, const audit_actor *actor,
             int64_t *new_version);

/* Field checks shared with the sub-account and profile code. */
const char *ws_check_timezone(const char *s, size_t len);
const char *ws_check_locale(const char *s, size_t len);
const char *ws_check_currency(const char *s, size_t len);
const char *ws_check_https_url(const char *s, size_t len);
const char *ws_check_slug(const char *s, size_t len);
const char *ws_check_country(const char *s, size_t len);
const char *ws_check_website(const char *s, size_t len);
const char *ws_check_phone(const char *s, size_t len);

#endif
