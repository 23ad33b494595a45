/* API keys (features.md §1.10): workspace access for programs and agents. A key is "atr_" + 40 random
 * base62 characters + a 6-character CRC-32 checksum, so secret scanners can recognise a leaked key
 * (and we reject mistyped ones without a lookup). It is shown once and stored only as a keyed hash.
 * Keys have scopes ("section:access", owned by the policy table), a required expiry under the
 * workspace's maximum ("never" only where the workspace allows it), an optional CIDR allowlist, and an
 * owner: the workspace (a service key, acting as an admin) or a member (acting with that member's
 * current role, and dead once they leave or are deactivated). Rotation issues a new key and keeps the
 * old one alive for an overlap window. Verified keys are cached in memory for a few seconds; revoking
 * or rotating drops them from the cache at once. */
#ifndef AT_APIKEYS_H
#define AT_APIKEYS_H

#include "audit/audit.h"
#include "base/id.h"
#include "policy/policy.h"
#include "store/store.h"

#include <jansson.h>
#include <stdbool.h>

/* APIKEY_MAX_CIDRS bounds a key's IP allowlist: a longer list is refused (400), and a stored list that
 * is longer or unreadable makes the key unusable rather than unrestricted. */
enum { APIKEY_SECRET_MAX = 64, APIKEY_MAX_SCOPES = 40, APIKEY_MAX_CIDRS = 100 };
#define APIKEY_MAX_CIDRS_TEXT "100" /* APIKEY_MAX_CIDRS, for messages */

/* What a verified key may do. */
typedef struct apikey_auth {
    char id[ID_MAX];
    char workspace_id[ID_MAX];
    char owner_user_id[ID_MAX]; /* "" for a service key */
    int role;                   /* the owner's current role; admin for a service key */
    char scopes[APIKEY_MAX_SCOPES][40];
    int nscopes;
} apikey_auth;

/* apikey_authenticate verifies a bearer secret from ip. AT_EUNAUTH for anything wrong (malformed,
 * unknown, revoked, expired, past its rotation overlap, outside its CIDR allowlist, owner gone). */
int apikey_authenticate(store *s, const char *secret, const char *ip, apikey_auth *out);
/* apikey_allows reports whether the key's scopes cover `access` (POLICY_READ/WRITE) in `section`;
 * a :write scope covers reading too. */
bool apikey_allows(const apikey_auth *k, const char *section, int access);

/* apikey_forget_cached empties the verified-key cache: called when memberships or users change, so a
 * personal key of someone who left stops at the next request, not a few seconds later. */
void apikey_forget_cached(void);

/* The documented scope list, derived from the policy table: a new array of {id, section, access,
 * description}. */
json_t *apikey_scopes_json(void);

/* Who manages keys. */
typedef struct apikey_actor {
    const char *user_id;
    int role;
    const audit_actor *audit;
} apikey_actor;

/* apikey_create makes a key from a validated body ({name, scopes, expires_in_days?, never_expires?,
 * allowed_cidrs?, owner?}); *key_out is its description and secret_out the secret (shown once).
 * AT_EINVAL with reasons in errs for values the table cannot check (unknown scopes, expiry past the
 * workspace maximum, never not allowed, bad CIDR). */
int apikey_create(store *s, const char *ws_id, json_t *body, const apikey_actor *who, json_t **key_out,
                  char secret_out[APIKEY_SECRET_MAX], json_t **errors_out);
int apikey_list(store *s, const char *ws_id, json_t **out);
int apikey_get(store *s, const char *ws_id, const char *key_id, json_t **out);
/* apikey_revoke revokes the key and every key it replaced by rotation (an old secret still in its
 * overlap stops with its successor); revoking an old secret leaves its successor alive. AT_ENOTFOUND,
 * or AT_ECONFLICT when already revoked. Takes effect at once. */
int apikey_revoke(store *s, const char *ws_id, const char *key_id, const apikey_actor *who);
/* apikey_rotate issues a replacement with the same name, scopes, owner and allowlist; the old key
 * keeps working for overlap_hours. */
int apikey_rotate(store *s, const char *ws_id, const char *key_id, int overlap_hours, const apikey_actor *who,
                  json_t **key_out, char secret_out[APIKEY_SECRET_MAX]);
int apikey_policy_get(store *s, const char *ws_id, json_t **out);
int apikey_policy_patch(store *s, const char *ws_id, json_t *patch, const audit_actor *actor, json_t **out);

/* apikey_register_jobs binds "api_key.notices", the daily scan that mails expiry notices at 30, 7 and
 * 1 days before a key expires; apikey_schedule_notices queues tomorrow's scan (once per day; creating
 * a key calls it, and the scan calls it while expiring keys remain). */
void apikey_register_jobs(void);
int apikey_schedule_notices(store *s);

#endif
