/* API keys: format, storage, verification with a short in-memory cache, management and notices. */
#include "apikeys/apikeys.h"
#include "apikeys/apikeys_impl.h"

#include "base/clock.h"
#include "base/config.h"
#include "base/crypto.h"
#include "base/err.h"
#include "base/log.h"
#include "base/mem.h"
#include "jobs/jobs.h"
#include "mail/mail.h"
#include "profile/notifications.h"

#include <arpa/inet.h>
#include <pthread.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

enum { APIKEY_RANDOM = 40, APIKEY_CHECK = 6, APIKEY_LEN = 4 + APIKEY_RANDOM + APIKEY_CHECK, APIKEY_PREFIX = 12 };
enum { APIKEY_CACHE_SLOTS = 1024, APIKEY_CACHE_TTL_US = 1 * 1000000, APIKEY_TOUCH_US = 60 * 1000000 };

static const char apikey_alphabet[] = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz";

/* ---- Format ---- */

static uint32_t apikey_crc32(const char *s, size_t len)
{
    uint32_t crc = 0xffffffffu;
    for (size_t i = 0; i < len; i++) {
        crc ^= (unsigned char)s[i];
        for (int k = 0; k < 8; k++)
            crc = (crc >> 1) ^ (0xedb88320u & (0u - (crc & 1u)));
    }
    return ~crc;
}

/* Writes the 6 base62 digits of the checksum of the random part. */
static void apikey_checksum(const char *random_part, char out[APIKEY_CHECK + 1])
{
    uint32_t crc = apikey_crc32(random_part, APIKEY_RANDOM);
    for (int i = APIKEY_CHECK - 1; i >= 0; i--) {
        out[i] = apikey_alphabet[crc % 62];
        crc /= 62;
    }
    out[APIKEY_CHECK] = '\0';
}

static void apikey_new_secret(char out[APIKEY_SECRET_MAX])
{
    memcpy(out, "atr_", 4);
    for (int i = 0; i < APIKEY_RANDOM; i++)
        out[4 + i] = apikey_alphabet[randombytes_uniform(62)];
    out[4 + APIKEY_RANDOM] = '\0';
    apikey_checksum(out + 4, out + 4 + APIKEY_RANDOM);
}

/* A well-formed secret with a good checksum; anything else is refused without touching the store. */
static bool apikey_well_formed(const char *s)
{
    char check[APIKEY_CHECK + 1];
    if (strlen(s) != APIKEY_LEN || strncmp(s, "atr_", 4) != 0)
        return false;
    for (int i = 4; i < APIKEY_LEN; i++)
        if (!strchr(apikey_alphabet, s[i]))
            return false;
    apikey_checksum(s + 4, check);
    return memcmp(check, s + 4 + APIKEY_RANDOM, APIKEY_CHECK) == 0;
}

/* ---- CIDR allowlists ---- */

/* Parses "a.b.c.d/n" or "x::y/n" (or a bare address) into family, bytes and prefix length. */
static bool apikey_parse_cidr(const char *text, int *family, unsigned char addr[16], int *bits)
{
    char host[64];
    const char *slash = strchr(text, '/');
    size_t hl = slash ? (size_t)(slash - text) : strlen(text);
    if (hl == 0 || hl >= sizeof(host))
        return false;
    memcpy(host, text, hl);
    host[hl] = '\0';
    if (inet_pton(AF_INET, host, addr) == 1)
        *family = AF_INET, *bits = 32;
    else if (inet_pton(AF_INET6, host, addr) == 1)
        *family = AF_INET6, *bits = 128;
    else
        return false;
    if (slash) {
        char *end = NULL;
        long n = strtol(slash + 1, &end, 10);
        if (!slash[1] || *end || n < 0 || n > *bits)
            return false;
        *bits = (int)n;
    }
    return true;
}

/* One parsed allowlist entry. */
typedef struct apikey_range {
    unsigned char addr[16];
    unsigned char family; /* AF_INET or AF_INET6 */
    unsigned char bits;
} apikey_range;

/* A stored allowlist, parsed once when the key is loaded. `invalid` is set when the stored text is
 * not an array of at most APIKEY_MAX_CIDRS valid ranges: such a key is refused from everywhere, never
 * treated as "no allowlist" (an unreadable list must fail closed). */
typedef struct apikey_allowlist {
    apikey_range ranges[APIKEY_MAX_CIDRS];
    int n;
    bool invalid;
} apikey_allowlist;

/* apikey_allowlist_parse reads the stored JSON text of allowed_cidrs (borrowed) into out. Any defect
 * (unparseable JSON, not an array, a non-string or malformed entry, too many entries) marks the list
 * invalid. */
static void apikey_allowlist_parse(const char *text, apikey_allowlist *out)
{
    memset(out, 0, sizeof(*out));
    json_t *list = text ? json_loads(text, JSON_REJECT_DUPLICATES, NULL) : NULL;
    size_t i;
    json_t *v;
    if (!json_is_array(list) || json_array_size(list) > APIKEY_MAX_CIDRS) {
        out->invalid = true;
        goto done;
    }
    json_array_foreach(list, i, v)
    {
        int fam = 0, bits = 0;
        apikey_range *r = &out->ranges[out->n];
        if (!json_is_string(v) || !apikey_parse_cidr(json_string_value(v), &fam, r->addr, &bits)) {
            out->invalid = true;
            goto done;
        }
        r->family = (unsigned char)fam;
        r->bits = (unsigned char)bits;
        out->n++;
    }
done:
    json_decref(list);
}

/* apikey_ip_in reports whether the client address ip falls inside the parsed range r. */
static bool apikey_ip_in(const char *ip, const apikey_range *r)
{
    unsigned char a[16];
    int fam_ip, bits_ip;
    if (!apikey_parse_cidr(ip, &fam_ip, a, &bits_ip))
        return false;
    if (fam_ip == AF_INET6 && r->family == AF_INET && memcmp(a, "\0\0\0\0\0\0\0\0\0\0\xff\xff", 12) == 0) {
        memmove(a, a + 12, 4); /* an IPv4-mapped client against an IPv4 range */
        fam_ip = AF_INET;
    }
    if (r->family != fam_ip)
        return false;
    for (int i = 0; i < r->bits; i++)
        if (((r->addr[i / 8] >> (7 - i % 8)) & 1) != ((a[i / 8] >> (7 - i % 8)) & 1))
            return false;
    return true;
}

/* apikey_allowlist_admits: an empty valid list admits every address; an invalid one admits none. */
static bool apikey_allowlist_admits(const apikey_allowlist *l, const char *ip)
{
    if (l->invalid)
        return false;
    if (l->n == 0)
        return true;
    for (int i = 0; i < l->n; i++)
        if (apikey_ip_in(ip, &l->ranges[i]))
            return true;
    return false;
}

/* ---- The verified-key cache ---- */

typedef struct apikey_cached {
    char hash[CRYPTO_DIGEST_HEX];
    int64_t cached_at;
    int64_t touched_at;
    char last_ip[64];
    apikey_allowlist allow;
    apikey_auth auth;
} apikey_cached;

static apikey_cached apikey_cache[APIKEY_CACHE_SLOTS];
static pthread_mutex_t apikey_cache_mu = PTHREAD_MUTEX_INITIALIZER;

static size_t apikey_slot(const char *hash)
{
    const char *dot = strchr(hash, '.'); /* after the key id of a digest made under a rotated key */
    if (dot)
        hash = dot + 1;
    return strtoul((char[9]){hash[0], hash[1], hash[2], hash[3], hash[4], hash[5], hash[6], hash[7], 0}, NULL, 16) %
           APIKEY_CACHE_SLOTS;
}

/* Drops every cached entry of a key id (revoke, rotate, owner change). */
static void apikey_cache_drop(const char *key_id)
{
    pthread_mutex_lock(&apikey_cache_mu);
    for (size_t i = 0; i < APIKEY_CACHE_SLOTS; i++)
        if (apikey_cache[i].hash[0] && (!key_id || strcmp(apikey_cache[i].auth.id, key_id) == 0))
            apikey_cache[i].hash[0] = '\0';
    pthread_mutex_unlock(&apikey_cache_mu);
}

void apikey_forget_cached(void)
{
    apikey_cache_drop(NULL);
}

/* Records a use: the time and the last five distinct client addresses. */
static void apikey_touch(store *s, const char *ws_id, const char *key_id, const char *ip)
{
    store_conn *c = NULL;
    store_rows *r = NULL;
    if (store_acquire(s, &c) != AT_OK)
        return;
    store_arg args[] = {sa_text(ws_id), sa_text(key_id)};
    json_t *ips = NULL;
    if (store_query(c, "SELECT last_used_ips FROM api_keys WHERE workspace_id = $1 AND id = $2", args, 2, &r) ==
            AT_OK &&
        store_rows_next(r) == 1)
        ips = json_loads(store_rows_text(r, 0), 0, NULL);
    store_rows_free(r);
    if (!json_is_array(ips)) {
        json_decref(ips);
        ips = json_array();
    }
    json_t *fresh = json_pack("[s]", ip);
    size_t i;
    json_t *v;
    json_array_foreach(ips, i, v) if (json_array_size(fresh) < 5 && strcmp(json_string_value(v), ip) != 0)
        json_array_append(fresh, v);
    char *text = json_dumps(fresh, JSON_COMPACT);
    store_arg upd[] = {sa_int(clock_now_us()), sa_text(text), sa_text(ws_id), sa_text(key_id)};
    /* Best effort: a lost update only makes "last used" a little older. */
    (void)store_exec(c, "UPDATE api_keys SET last_used_at = $1, last_used_ips = $2 WHERE workspace_id = $3 AND id = $4",
                     upd, 4, NULL);
    free(text);
    json_decref(fresh);
    json_decref(ips);
    store_release(c);
}

/* Loads and checks a key by hash from the store into a cache entry. AT_EUNAUTH for a key that is not
 * usable now; *retired is set when the secret is one that rotation replaced and that may no longer be
 * used (its overlap is over, or its family was revoked), a sign that an old copy of it leaked. */
static int apikey_load(store *s, const char *hash, apikey_cached *e, bool *retired)
{
    store_conn *c = NULL;
    store_rows *r = NULL;
    int64_t now = clock_now_us();
    *retired = false;
    int rc = store_acquire(s, &c);
    if (rc != AT_OK)
        return rc;
    store_arg args[] = {sa_text(hash)};
    rc = store_query(c,
                     "SELECT k.id, k.workspace_id, k.owner_type, k.owner_user_id, k.scopes, k.allowed_cidrs, "
                     "m.role, m.status, u.disabled, w.status, k.revoked_at, k.expires_at, k.overlap_until, "
                     "k.rotated_to FROM api_keys k "
                     "JOIN workspaces w ON w.id = k.workspace_id "
                     "LEFT JOIN memberships m ON m.workspace_id = k.workspace_id AND m.user_id = k.owner_user_id "
                     "LEFT JOIN users u ON u.id = k.owner_user_id "
                     "WHERE k.secret_hash = $1",
                     args, 1, &r);
    if (rc != AT_OK)
        goto out;
    if ((rc = store_rows_next(r)) != 1) {
        rc = rc == 0 ? AT_EUNAUTH : rc;
        goto out;
    }
    memset(e, 0, sizeof(*e));
    snprintf(e->hash, sizeof(e->hash), "%s", hash);
    snprintf(e->auth.id, sizeof(e->auth.id), "%s", store_rows_text(r, 0));
    snprintf(e->auth.workspace_id, sizeof(e->auth.workspace_id), "%s", store_rows_text(r, 1));
    bool revoked = !store_rows_is_null(r, 10);
    bool expired = !store_rows_is_null(r, 11) && store_rows_int(r, 11) <= now;
    bool overlap_over = !store_rows_is_null(r, 12) && store_rows_int(r, 12) <= now;
    if (revoked || expired || overlap_over) {
        *retired = !store_rows_is_null(r, 13) && (revoked || overlap_over);
        rc = AT_EUNAUTH;
        goto out;
    }
    bool service = strcmp(store_rows_text(r, 2), "workspace") == 0;
    if (service) {
        e->auth.role = ROLE_ADMIN;
    } else {
        /* A personal key lives only as long as its owner's active membership and account. */
        if (store_rows_is_null(r, 6) || strcmp(store_rows_text(r, 7), "active") != 0 || store_rows_int(r, 8) != 0) {
            rc = AT_EUNAUTH;
            goto out;
        }
        snprintf(e->auth.owner_user_id, sizeof(e->auth.owner_user_id), "%s", store_rows_text(r, 3));
        e->auth.role = policy_role_from_name(store_rows_text(r, 6));
    }
    if (strcmp(store_rows_text(r, 9), "deleted") == 0) {
        rc = AT_EUNAUTH;
        goto out;
    }
    json_t *scopes = json_loads(store_rows_text(r, 4), 0, NULL);
    size_t i;
    json_t *v;
    json_array_foreach(scopes, i, v) if (e->auth.nscopes < APIKEY_MAX_SCOPES && json_is_string(v))
        snprintf(e->auth.scopes[e->auth.nscopes++], sizeof(e->auth.scopes[0]), "%s", json_string_value(v));
    json_decref(scopes);
    apikey_allowlist_parse(store_rows_text(r, 5), &e->allow);
    if (e->allow.invalid)
        log_event(LOG_WARN, "an API key's stored IP allowlist is unreadable: the key is refused everywhere",
                  json_pack("{s:s}", "key_id", e->auth.id));
    e->cached_at = now;
    rc = AT_OK;
out:
    store_rows_free(r);
    store_release(c);
    return rc;
}

/* ---- Reuse of rotated-out secrets ---- */

enum { APIKEY_REUSE_SLOTS = 64 };
#define APIKEY_REUSE_CHECK_US (60LL * 1000000) /* a (key, address) pair is looked up at most once a minute */

/* When each (key, address) pair was last looked up, so a flood of requests with an old secret costs
 * one query a minute, not one per request. */
static struct {
    char key_id[ID_MAX];
    char ip[64];
    int64_t at;
} apikey_reuse_seen[APIKEY_REUSE_SLOTS];

typedef struct apikey_reuse {
    const char *ws_id, *key_id, *ip;
} apikey_reuse;

/* Appends the event unless this address's reuse of the key is already in the key's activity. */
static int apikey_reuse_tx(store_conn *c, void *ctx)
{
    apikey_reuse *u = ctx;
    int64_t known = 0;
    store_arg args[] = {sa_text(u->ws_id), sa_text(u->key_id), sa_text(u->ip)};
    int rc = store_query_int(c,
                             "SELECT COUNT(*) FROM audit_events WHERE workspace_id = $1 AND target_id = $2 "
                             "AND action = 'api_key.reuse_detected' AND ip = $3",
                             args, 3, &known);
    if (rc != AT_OK || known)
        return rc;
    audit_actor actor = {"api_key", u->key_id, u->key_id, u->ip, NULL, NULL};
    return audit_append(c, u->ws_id, &actor, "api_key.reuse_detected", "api_key", u->key_id, NULL);
}

/* apikey_report_reuse records, in the key's activity, that a secret replaced by rotation was presented
 * from ip after it stopped working (like GitLab's token reuse detection): once per key and address,
 * so a client retrying with the old secret is one event, and a new address shows up as a new one.
 * Best effort: a failure is logged, and the request is refused either way. */
static void apikey_report_reuse(store *s, const char *ws_id, const char *key_id, const char *ip)
{
    int64_t now = clock_now_us();
    size_t slot = 0;
    for (const char *k = key_id; *k; k++)
        slot = slot * 31 + (unsigned char)*k;
    for (const char *k = ip; *k; k++)
        slot = slot * 31 + (unsigned char)*k;
    slot %= APIKEY_REUSE_SLOTS;
    bool check;
    pthread_mutex_lock(&apikey_cache_mu);
    check = strcmp(apikey_reuse_seen[slot].key_id, key_id) != 0 || strcmp(apikey_reuse_seen[slot].ip, ip) != 0 ||
            now - apikey_reuse_seen[slot].at >= APIKEY_REUSE_CHECK_US;
    if (check) {
        snprintf(apikey_reuse_seen[slot].key_id, sizeof(apikey_reuse_seen[slot].key_id), "%s", key_id);
        snprintf(apikey_reuse_seen[slot].ip, sizeof(apikey_reuse_seen[slot].ip), "%s", ip);
        apikey_reuse_seen[slot].at = now;
    }
    pthread_mutex_unlock(&apikey_cache_mu);
    if (!check)
        return;
    apikey_reuse u = {ws_id, key_id, ip};
    if (store_tx(s, true, apikey_reuse_tx, &u) != AT_OK)
        log_event(LOG_WARN, "could not record the reuse of a rotated-out API key",
                  json_pack("{s:s}", "key_id", key_id));
}

int apikey_authenticate(store *s, const char *secret, const char *ip, apikey_auth *out)
{
    char hash[CRYPTO_DIGEST_HEX];
    apikey_cached e;
    bool hit = false, touch = false, retired = false;
    int64_t now = clock_now_us();
    if (!secret || !apikey_well_formed(secret))
        return AT_EUNAUTH;
    /* The secret's digest under each key, the active one first: a key made before a key rotation is
     * stored under the key of its day. */
    size_t slot = 0;
    int rc = AT_EUNAUTH;
    for (int n = 0; !hit && rc == AT_EUNAUTH && !retired && crypto_keyed_hex_nth(n, secret, strlen(secret), hash);
         n++) {
        slot = apikey_slot(hash);
        pthread_mutex_lock(&apikey_cache_mu);
        if (strcmp(apikey_cache[slot].hash, hash) == 0 && now - apikey_cache[slot].cached_at < APIKEY_CACHE_TTL_US) {
            e = apikey_cache[slot];
            hit = true;
        }
        pthread_mutex_unlock(&apikey_cache_mu);
        if (!hit)
            rc = apikey_load(s, hash, &e, &retired);
    }
    if (!hit) {
        if (rc == AT_EUNAUTH && retired)
            apikey_report_reuse(s, e.auth.workspace_id, e.auth.id, ip);
        if (rc != AT_OK)
            return rc == AT_EUNAUTH ? AT_EUNAUTH : rc;
    }
    if (!apikey_allowlist_admits(&e.allow, ip))
        return AT_EUNAUTH;
    if (now - e.touched_at >= APIKEY_TOUCH_US || strcmp(e.last_ip, ip) != 0) {
        touch = true;
        e.touched_at = now;
        snprintf(e.last_ip, sizeof(e.last_ip), "%s", ip);
    }
    pthread_mutex_lock(&apikey_cache_mu);
    apikey_cache[slot] = e;
    pthread_mutex_unlock(&apikey_cache_mu);
    if (touch)
        apikey_touch(s, e.auth.workspace_id, e.auth.id, ip);
    *out = e.auth;
    return AT_OK;
}

bool apikey_allows(const apikey_auth *k, const char *section, int access)
{
    char want_read[40], want_write[40];
    snprintf(want_read, sizeof(want_read), "%s:read", section);
    snprintf(want_write, sizeof(want_write), "%s:write", section);
    for (int i = 0; i < k->nscopes; i++)
        if (strcmp(k->scopes[i], want_write) == 0 || (access == POLICY_READ && strcmp(k->scopes[i], want_read) == 0))
            return true;
    return false;
}

json_t *apikey_scopes_json(void)
{
    json_t *list = json_array();
    for (size_t i = 0; i < policy_section_count; i++) {
        const policy_section *sec = &policy_sections[i];
        if (sec->flags & SECTION_DEVELOPER_ONLY)
            continue;
        char id[64];
        snprintf(id, sizeof(id), "%s:read", sec->id);
        json_array_append_new(list, json_pack("{s:s, s:s, s:s, s:o}", "id", id, "section", sec->id, "access", "read",
                                              "description", json_sprintf("Read %s: %s", sec->title, sec->summary)));
        if (sec->write_role <= ROLE_OWNER) {
            snprintf(id, sizeof(id), "%s:write", sec->id);
            json_array_append_new(list, json_pack("{s:s, s:s, s:s, s:o}", "id", id, "section", sec->id, "access",
                                                  "write", "description",
                                                  json_sprintf("Change %s (includes reading it).", sec->title)));
        }
    }
    return list;
}

static bool apikey_scope_known(const char *scope)
{
    json_t *all = apikey_scopes_json();
    size_t i;
    json_t *v;
    bool known = false;
    json_array_foreach(all, i, v) known = known || strcmp(json_string_value(json_object_get(v, "id")), scope) == 0;
    json_decref(all);
    return known;
}

/* ---- Management ---- */

#define KEY_COLS                                                                                                       \
    "k.id, k.name, k.prefix, k.scopes, k.owner_type, k.owner_user_id, ou.name, ou.email, k.created_by, cu.name, "    \
    "k.created_at, k.expires_at, k.last_used_at, k.last_used_ips, k.revoked_at, k.overlap_until, k.allowed_cidrs, "  \
    "k.rotated_to"
#define KEY_FROM                                                                                                       \
    " FROM api_keys k LEFT JOIN users ou ON ou.id = k.owner_user_id JOIN users cu ON cu.id = k.created_by "

static json_t *apikey_time(store_rows *r, int col)
{
    char t[32];
    if (store_rows_is_null(r, col))
        return json_null();
    clock_format_rfc3339(store_rows_int(r, col), t);
    return json_string(t);
}

json_t *apikey_json_text(const char *text)
{
    json_t *v = text ? json_loads(text, 0, NULL) : NULL;
    return v ? v : json_array();
}

static json_t *apikey_row_json(store_rows *r)
{
    int64_t now = clock_now_us();
    const char *status = "active";
    if (!store_rows_is_null(r, 14))
        status = "revoked";
    else if (!store_rows_is_null(r, 11) && store_rows_int(r, 11) <= now)
        status = "expired";
    else if (!store_rows_is_null(r, 15))
        status = store_rows_int(r, 15) > now ? "expiring" : "expired";
    bool member = strcmp(store_rows_text(r, 4), "member") == 0;
    json_t *owner = member ? json_pack("{s:s, s:{s:s, s:s?, s:s?}}", "type", "member", "user", "id",
                                       store_rows_text(r, 5), "name", store_rows_text(r, 6), "email",
                                       store_rows_text(r, 7))
                           : json_pack("{s:s}", "type", "workspace");
    return json_pack("{s:s, s:s, s:s, s:o, s:o, s:{s:s, s:s}, s:o, s:o, s:o, s:o, s:s, s:o, s:s?}", "id",
                     store_rows_text(r, 0), "name", store_rows_text(r, 1), "prefix", store_rows_text(r, 2), "scopes",
                     apikey_json_text(store_rows_text(r, 3)), "owner", owner, "created_by", "id", store_rows_text(r, 8),
                     "name", store_rows_text(r, 9), "created_at", apikey_time(r, 10), "expires_at",
                     apikey_time(r, 11), "last_used_at", apikey_time(r, 12), "last_used_ips",
                     apikey_json_text(store_rows_text(r, 13)), "status", status, "allowed_cidrs",
                     apikey_json_text(store_rows_text(r, 16)), "rotated_to", store_rows_text(r, 17));
}

static void apikey_read_row(store_rows *r, void *ctx)
{
    *(json_t **)ctx = apikey_row_json(r);
}

static int apikey_load_json(store_conn *c, const char *ws_id, const char *key_id, json_t **out)
{
    if (!key_id || !id_valid("key", key_id, strlen(key_id)))
        return AT_ENOTFOUND;
    store_arg args[] = {sa_text(ws_id), sa_text(key_id)};
    return store_query_one(c, "SELECT " KEY_COLS KEY_FROM "WHERE k.workspace_id = $1 AND k.id = $2", args, 2,
                           apikey_read_row, out);
}

int apikey_list(store *s, const char *ws_id, json_t **out)
{
    store_conn *c = NULL;
    store_rows *r = NULL;
    json_t *list = json_array();
    int rc = store_acquire(s, &c);
    if (rc != AT_OK)
        goto out;
    store_arg args[] = {sa_text(ws_id)};
    rc = store_query(c, "SELECT " KEY_COLS KEY_FROM "WHERE k.workspace_id = $1 ORDER BY k.created_at DESC, k.id DESC",
                     args, 1, &r);
    if (rc != AT_OK)
        goto out;
    while ((rc = store_rows_next(r)) == 1)
        json_array_append_new(list, apikey_row_json(r));
    if (rc >= 0)
        rc = AT_OK;
out:
    store_rows_free(r);
    if (c)
        store_release(c);
    if (rc != AT_OK) {
        json_decref(list);
        return rc;
    }
    *out = list;
    return AT_OK;
}

int apikey_get(store *s, const char *ws_id, const char *key_id, json_t **out)
{
    store_conn *c = NULL;
    int rc = store_acquire(s, &c);
    if (rc != AT_OK)
        return rc;
    rc = apikey_load_json(c, ws_id, key_id, out);
    store_release(c);
    return rc;
}

/* The workspace's key policy on c. */
typedef struct apikey_policy {
    int64_t max_days, default_days;
    bool allow_never;
} apikey_policy;

static void apikey_read_policy(store_rows *r, void *ctx)
{
    apikey_policy *p = ctx;
    p->max_days = store_rows_int(r, 0);
    p->default_days = store_rows_int(r, 1);
    p->allow_never = store_rows_int(r, 2) != 0;
}

static int apikey_policy_load(store_conn *c, const char *ws_id, apikey_policy *out)
{
    store_arg args[] = {sa_text(ws_id)};
    return store_query_one(c,
                           "SELECT api_key_max_days, api_key_default_days, api_key_allow_never FROM workspaces "
                           "WHERE id = $1",
                           args, 1, apikey_read_policy, out);
}

typedef struct apikey_new {
    const char *ws_id;
    const char *name;
    const char *scopes_json, *cidrs_json;
    const char *owner_type, *owner_user_id;
    int64_t expires_at; /* 0: never */
    const apikey_actor *who;
    const char *replaces; /* rotation: the old key id */
    int overlap_hours;
    char secret[APIKEY_SECRET_MAX];
    char id[ID_MAX];
    json_t *out;
} apikey_new;

static int apikey_insert_tx(store_conn *c, void *ctx)
{
    apikey_new *n = ctx;
    char hash[CRYPTO_DIGEST_HEX], prefix[APIKEY_PREFIX + 1];
    int64_t now = clock_now_us();
    apikey_new_secret(n->secret);
    crypto_keyed_hex(n->secret, strlen(n->secret), hash);
    snprintf(prefix, sizeof(prefix), "%.*s", APIKEY_PREFIX, n->secret);
    id_new("key", n->id);
    store_arg args[] = {sa_text(n->ws_id),        sa_text(n->id),          sa_text(n->name),
                        sa_text(prefix),          sa_text(hash),           sa_text(n->scopes_json),
                        sa_text(n->owner_type),   sa_text(n->owner_user_id), sa_text(n->who->user_id),
                        sa_int(now),              n->expires_at ? sa_int(n->expires_at) : sa_null(),
                        sa_text(n->cidrs_json)};
    int rc = store_exec(c,
                        "INSERT INTO api_keys (workspace_id, id, name, prefix, secret_hash, scopes, owner_type, "
                        "owner_user_id, created_by, created_at, expires_at, allowed_cidrs) "
                        "VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12)",
                        args, 12, NULL);
    json_t *changes = json_pack("{s:{s:n, s:s}, s:{s:n, s:s}}", "name", "before", "after", n->name, "scopes", "before",
                                "after", n->scopes_json);
    if (rc == AT_OK && n->replaces) {
        store_arg old[] = {sa_text(n->id), sa_int(now + (int64_t)n->overlap_hours * 3600 * 1000000), sa_text(n->ws_id),
                           sa_text(n->replaces)};
        rc = store_exec(c,
                        "UPDATE api_keys SET rotated_to = $1, overlap_until = $2 WHERE workspace_id = $3 AND id = $4",
                        old, 4, NULL);
        json_object_set_new(changes, "replaces", json_pack("{s:n, s:s}", "before", "after", n->replaces));
    }
    if (rc == AT_OK)
        rc = audit_append(c, n->ws_id, n->who->audit, n->replaces ? "api_key.rotated" : "api_key.created", "api_key",
                          n->id, changes);
    json_decref(changes);
    if (rc == AT_OK)
        rc = apikey_load_json(c, n->ws_id, n->id, &n->out);
    return rc;
}

int apikey_create(store *s, const char *ws_id, json_t *body, const apikey_actor *who, json_t **key_out,
                  char secret_out[APIKEY_SECRET_MAX], json_t **errors_out)
{
    store_conn *c = NULL;
    apikey_policy pol;
    json_t *errors = json_array();
    int64_t now = clock_now_us();
    int rc = store_acquire(s, &c);
    if (rc != AT_OK) {
        json_decref(errors);
        return rc;
    }
    rc = apikey_policy_load(c, ws_id, &pol);
    store_release(c);
    if (rc != AT_OK) {
        json_decref(errors);
        return rc;
    }
    /* Scopes: known ones only, each once. */
    json_t *scopes = json_array();
    size_t i;
    json_t *v;
    json_array_foreach(json_object_get(body, "scopes"), i, v)
    {
        char field[32];
        snprintf(field, sizeof(field), "scopes[%zu]", i);
        if (!json_is_string(v) || !apikey_scope_known(json_string_value(v)))
            json_array_append_new(errors, json_pack("{s:s, s:s, s:s}", "field", field, "code", "unknown_scope",
                                                    "message", "Not a scope; GET /api/v1/scopes lists them."));
        else {
            bool dup = false;
            size_t k;
            json_t *have;
            json_array_foreach(scopes, k, have) dup = dup || json_equal(have, v);
            if (!dup)
                json_array_append(scopes, v);
        }
    }
    if (json_array_size(json_object_get(body, "scopes")) == 0)
        json_array_append_new(errors, json_pack("{s:s, s:s, s:s}", "field", "scopes", "code", "required", "message",
                                                "Choose at least one scope."));
    /* Expiry: required, within the workspace's maximum; never only where allowed. */
    json_t *days = json_object_get(body, "expires_in_days"), *never = json_object_get(body, "never_expires");
    int64_t expires_at = now + pol.default_days * 86400 * 1000000;
    if (json_is_true(never)) {
        if (days)
            json_array_append_new(errors, json_pack("{s:s, s:s, s:s}", "field", "never_expires", "code", "exclusive",
                                                    "message", "Give either an expiry or never_expires, not both."));
        else if (!pol.allow_never)
            json_array_append_new(errors, json_pack("{s:s, s:s, s:s}", "field", "never_expires", "code", "not_allowed",
                                                    "message", "This workspace requires keys to expire."));
        expires_at = 0;
    } else if (days) {
        if (json_integer_value(days) > pol.max_days) {
            char msg[128];
            snprintf(msg, sizeof(msg), "This workspace allows at most %lld days.", (long long)pol.max_days);
            json_array_append_new(errors, json_pack("{s:s, s:s, s:s}", "field", "expires_in_days", "code", "range",
                                                    "message", msg));
        }
        expires_at = now + json_integer_value(days) * 86400 * 1000000;
    }
    /* CIDR allowlist: at most APIKEY_MAX_CIDRS entries (a longer list is refused as a whole, not cut),
     * each a valid address or range. */
    json_t *cidrs = json_array(), *cidrs_in = json_object_get(body, "allowed_cidrs");
    if (json_array_size(cidrs_in) > APIKEY_MAX_CIDRS) {
        json_array_append_new(errors, json_pack("{s:s, s:s, s:s}", "field", "allowed_cidrs", "code", "length",
                                                "message", "At most " APIKEY_MAX_CIDRS_TEXT " ranges."));
        cidrs_in = NULL;
    }
    json_array_foreach(cidrs_in, i, v)
    {
        int fam, bits;
        unsigned char addr[16];
        char field[40];
        snprintf(field, sizeof(field), "allowed_cidrs[%zu]", i);
        if (!json_is_string(v) || !apikey_parse_cidr(json_string_value(v), &fam, addr, &bits))
            json_array_append_new(errors, json_pack("{s:s, s:s, s:s}", "field", field, "code", "format", "message",
                                                    "Must be an address or range such as 203.0.113.0/24 or 2001:db8::/32."));
        else
            json_array_append(cidrs, v);
    }
    const char *owner = json_string_value(json_object_get(body, "owner"));
    bool service = owner && strcmp(owner, "workspace") == 0;
    if (!service && strcmp(who->audit->type, "agency") == 0)
        json_array_append_new(errors, json_pack("{s:s, s:s, s:s}", "field", "owner", "code", "not_a_member", "message",
                                                "You manage this workspace from its parent: make a workspace key."));
    if (json_array_size(errors)) {
        json_decref(scopes);
        json_decref(cidrs);
        *errors_out = errors;
        return AT_EINVAL;
    }
    json_decref(errors);
    char *scopes_text = json_dumps(scopes, JSON_COMPACT), *cidrs_text = json_dumps(cidrs, JSON_COMPACT);
    json_decref(scopes);
    json_decref(cidrs);
    apikey_new n;
    memset(&n, 0, sizeof(n));
    n.ws_id = ws_id;
    n.name = json_string_value(json_object_get(body, "name"));
    n.scopes_json = scopes_text;
    n.cidrs_json = cidrs_text;
    n.owner_type = service ? "workspace" : "member";
    n.owner_user_id = service ? NULL : who->user_id;
    n.expires_at = expires_at;
    n.who = who;
    rc = store_tx(s, true, apikey_insert_tx, &n);
    free(scopes_text);
    free(cidrs_text);
    if (rc == AT_OK && apikey_schedule_notices(s) != AT_OK)
        log_event(LOG_WARN, "could not schedule the API key expiry notices", NULL);
    if (rc == AT_OK) {
        *key_out = n.out;
        memcpy(secret_out, n.secret, APIKEY_SECRET_MAX);
    } else {
        json_decref(n.out);
    }
    sodium_memzero(n.secret, sizeof(n.secret));
    return rc;
}

typedef struct apikey_op {
    const char *ws_id, *key_id;
    const apikey_actor *who;
} apikey_op;

/* A key's family as revocation sees it: the key and every key it replaced by rotation, followed back
 * through rotated_to ($1 the workspace, $2 the key). The keys that replaced it are not in it: revoking
 * an old secret during its overlap ("revoke old secret now") ends that secret, not its successor.
 * Written once for both backends. */
#define APIKEY_FAMILY_CTE                                                                                     \
    "WITH RECURSIVE family(id) AS (SELECT CAST($2 AS TEXT) UNION SELECT k.id FROM api_keys k "                \
    "JOIN family f ON k.rotated_to = f.id WHERE k.workspace_id = $1) "

/* Revokes a key and the keys it replaced in one transaction: after a rotation with overlap, revoking
 * the new key ends the old secret too. One audit event on the key named, listing the others revoked
 * with it. */
static int apikey_revoke_tx(store_conn *c, void *ctx)
{
    apikey_op *o = ctx;
    json_t *cur = NULL, *others = NULL, *changes = NULL;
    store_rows *r = NULL;
    int rc = apikey_load_json(c, o->ws_id, o->key_id, &cur);
    if (rc != AT_OK)
        return rc;
    bool already = strcmp(json_string_value(json_object_get(cur, "status")), "revoked") == 0;
    json_decref(cur);
    if (already)
        return AT_ECONFLICT;
    store_arg args[] = {sa_text(o->ws_id), sa_text(o->key_id), sa_int(clock_now_us())};
    rc = store_query(c,
                     APIKEY_FAMILY_CTE "SELECT k.id FROM api_keys k WHERE k.workspace_id = $1 AND k.id <> $2 "
                                       "AND k.revoked_at IS NULL AND k.id IN (SELECT id FROM family) "
                                       "ORDER BY k.created_at, k.id",
                     args, 2, &r);
    others = json_array();
    while (rc == AT_OK && (rc = store_rows_next(r)) == 1)
        json_array_append_new(others, json_string(store_rows_text(r, 0)));
    store_rows_free(r);
    if (rc < 0)
        goto out;
    rc = store_exec(c,
                    APIKEY_FAMILY_CTE "UPDATE api_keys SET revoked_at = $3 WHERE workspace_id = $1 AND revoked_at IS "
                                      "NULL AND id IN (SELECT id FROM family)",
                    args, 3, NULL);
    if (rc != AT_OK)
        goto out;
    if (json_array_size(others))
        changes = json_pack("{s:{s:n, s:O}}", "family_revoked", "before", "after", others);
    rc = audit_append(c, o->ws_id, o->who->audit, "api_key.revoked", "api_key", o->key_id, changes);
out:
    json_decref(changes);
    json_decref(others);
    return rc;
}

int apikey_revoke(store *s, const char *ws_id, const char *key_id, const apikey_actor *who)
{
    apikey_op o = {ws_id, key_id, who};
    int rc = store_tx(s, true, apikey_revoke_tx, &o);
    /* The family's other members are cached under their own ids: drop every entry (revocation is rare). */
    if (rc == AT_OK)
        apikey_cache_drop(NULL);
    return rc;
}

/* What a rotation copies from the old key. The strings are heap copies of the stored values (any
 * length: the allowlist and the scopes are stored JSON), released by apikey_old_cleanup. */
typedef struct apikey_old {
    char *name, *scopes, *cidrs;
    char owner_type[16], owner_user[ID_MAX];
    int64_t expires_at, created_at;
    bool usable;
} apikey_old;

static void apikey_old_cleanup(apikey_old *o)
{
    free(o->name);
    free(o->scopes);
    free(o->cidrs);
    memset(o, 0, sizeof(*o));
}

static void apikey_read_old(store_rows *r, void *ctx)
{
    apikey_old *o = ctx;
    int64_t now = clock_now_us();
    o->name = xstrdup(store_rows_text(r, 0));
    o->scopes = xstrdup(store_rows_text(r, 1));
    o->cidrs = xstrdup(store_rows_text(r, 2));
    snprintf(o->owner_type, sizeof(o->owner_type), "%s", store_rows_text(r, 3));
    snprintf(o->owner_user, sizeof(o->owner_user), "%s", store_rows_is_null(r, 4) ? "" : store_rows_text(r, 4));
    o->expires_at = store_rows_is_null(r, 5) ? 0 : store_rows_int(r, 5);
    o->created_at = store_rows_int(r, 6);
    o->usable = store_rows_is_null(r, 7) && store_rows_is_null(r, 8) && (!o->expires_at || o->expires_at > now);
}

/* apikey_rotate: the old key's stored allowlist is copied as it is (the new key is exactly as
 * restricted); one that no longer reads as a valid list is refused with AT_ECONFLICT rather than
 * copied, so a rotation can never widen a key. */
int apikey_rotate(store *s, const char *ws_id, const char *key_id, int overlap_hours, const apikey_actor *who,
                  json_t **key_out, char secret_out[APIKEY_SECRET_MAX])
{
    store_conn *c = NULL;
    apikey_old old;
    apikey_allowlist allow;
    memset(&old, 0, sizeof(old));
    if (!key_id || !id_valid("key", key_id, strlen(key_id)))
        return AT_ENOTFOUND;
    int rc = store_acquire(s, &c);
    if (rc != AT_OK)
        return rc;
    store_arg args[] = {sa_text(ws_id), sa_text(key_id)};
    rc = store_query_one(c,
                         "SELECT name, scopes, allowed_cidrs, owner_type, owner_user_id, expires_at, created_at, "
                         "revoked_at, rotated_to FROM api_keys WHERE workspace_id = $1 AND id = $2",
                         args, 2, apikey_read_old, &old);
    store_release(c);
    if (rc != AT_OK)
        goto out;
    apikey_allowlist_parse(old.cidrs, &allow);
    if (!old.usable || allow.invalid) {
        rc = AT_ECONFLICT;
        goto out;
    }
    apikey_new n;
    memset(&n, 0, sizeof(n));
    n.ws_id = ws_id;
    n.name = old.name;
    n.scopes_json = old.scopes;
    n.cidrs_json = old.cidrs;
    n.owner_type = old.owner_type;
    n.owner_user_id = old.owner_user[0] ? old.owner_user : NULL;
    /* The new key lives as long as the old one was meant to (counted from now). */
    n.expires_at = old.expires_at ? clock_now_us() + (old.expires_at - old.created_at) : 0;
    n.who = who;
    n.replaces = key_id;
    n.overlap_hours = overlap_hours;
    rc = store_tx(s, true, apikey_insert_tx, &n);
    if (rc == AT_OK) {
        apikey_cache_drop(key_id);
        *key_out = n.out;
        memcpy(secret_out, n.secret, APIKEY_SECRET_MAX);
    } else {
        json_decref(n.out);
    }
    sodium_memzero(n.secret, sizeof(n.secret));
out:
    apikey_old_cleanup(&old);
    return rc;
}

int apikey_policy_get(store *s, const char *ws_id, json_t **out)
{
    store_conn *c = NULL;
    apikey_policy p;
    int rc = store_acquire(s, &c);
    if (rc != AT_OK)
        return rc;
    rc = apikey_policy_load(c, ws_id, &p);
    store_release(c);
    if (rc == AT_OK)
        *out = json_pack("{s:I, s:I, s:b}", "max_days", (json_int_t)p.max_days, "default_days",
                         (json_int_t)p.default_days, "allow_never", p.allow_never);
    return rc;
}

typedef struct apikey_policy_ctx {
    const char *ws_id;
    json_t *patch;
    const audit_actor *actor;
    bool bad_default;
} apikey_policy_ctx;

static int apikey_policy_tx(store_conn *c, void *ctx)
{
    apikey_policy_ctx *x = ctx;
    apikey_policy p;
    int rc = apikey_policy_load(c, x->ws_id, &p);
    if (rc != AT_OK)
        return rc;
    json_t *before = json_pack("{s:I, s:I, s:b}", "max_days", (json_int_t)p.max_days, "default_days",
                               (json_int_t)p.default_days, "allow_never", p.allow_never);
    json_t *v;
    if ((v = json_object_get(x->patch, "max_days")))
        p.max_days = json_integer_value(v);
    if ((v = json_object_get(x->patch, "default_days")))
        p.default_days = json_integer_value(v);
    if ((v = json_object_get(x->patch, "allow_never")))
        p.allow_never = json_is_true(v);
    if (p.default_days > p.max_days) {
        x->bad_default = true;
        json_decref(before);
        return AT_EINVAL;
    }
    store_arg args[] = {sa_int(p.max_days), sa_int(p.default_days), sa_int(p.allow_never), sa_text(x->ws_id)};
    rc = store_exec(c,
                    "UPDATE workspaces SET api_key_max_days = $1, api_key_default_days = $2, api_key_allow_never = $3 "
                    "WHERE id = $4",
                    args, 4, NULL);
    json_t *changes = json_object();
    const char *key;
    json_t *val;
    json_object_foreach(x->patch, key, val) audit_diff(changes, key, json_object_get(before, key), val);
    if (rc == AT_OK && json_object_size(changes))
        rc = audit_append(c, x->ws_id, x->actor, "api_key.policy_updated", "workspace", x->ws_id, changes);
    json_decref(changes);
    json_decref(before);
    return rc;
}

int apikey_policy_patch(store *s, const char *ws_id, json_t *patch, const audit_actor *actor, json_t **out)
{
    apikey_policy_ctx x = {ws_id, patch, actor, false};
    int rc = store_tx(s, true, apikey_policy_tx, &x);
    if (x.bad_default)
        return AT_ECONSTRAINT;
    if (rc != AT_OK)
        return rc;
    return apikey_policy_get(s, ws_id, out);
}

