/* The hash-chained audit log. */
#include "audit/audit.h"

#include "base/buf.h"
#include "base/clock.h"
#include "base/crypto.h"
#include "base/err.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const char audit_genesis[] = "0000000000000000000000000000000000000000000000000000000000000000";

/* The text that is hashed: every stored field, length-prefixed so no two events share an encoding.
 * A new event is hashed under the active key (`like` NULL); a stored one is verified under the key its
 * hash names (`like`: the stored hash), so events written before a key rotation still verify. */
static void audit_digest(const char *const fields[], size_t n, const char *like, char out[CRYPTO_DIGEST_HEX])
{
    buf b;
    buf_init(&b);
    for (size_t i = 0; i < n; i++) {
        const char *f = fields[i] ? fields[i] : "";
        buf_printf(&b, "%zu:%s;", strlen(f), f);
    }
    if (like)
        crypto_keyed_hex_like(like, b.data, b.len, out); /* "" for a key not held: the event reads as broken */
    else
        crypto_keyed_hex(b.data, b.len, out);
    buf_free(&b);
}

void audit_diff(json_t *changes, const char *key, const json_t *before, const json_t *after)
{
    json_t *nb = before ? json_deep_copy(before) : json_null();
    json_t *na = after ? json_deep_copy(after) : json_null();
    if (json_equal(nb, na)) {
        json_decref(nb);
        json_decref(na);
        return;
    }
    json_object_set_new(changes, key, json_pack("{s:o, s:o}", "before", nb, "after", na));
}

int audit_append(store_conn *c, const char *workspace_id, const audit_actor *actor, const char *action,
                 const char *target_type, const char *target_id, const json_t *changes)
{
    store_rows *r = NULL;
    char id[ID_MAX], hash[CRYPTO_DIGEST_HEX], prev[CRYPTO_DIGEST_HEX], seq_text[24], at_text[24];
    char *changes_text = NULL;
    int64_t seq = 1, now = clock_now_us();
    store_arg ws[] = {sa_text(workspace_id)};

    /* The chain's head lives on the workspace row; locking it serialises appends to one chain. */
    int rc = store_query(c, "SELECT audit_seq, audit_hash FROM workspaces WHERE id = $1 FOR UPDATE", ws, 1, &r);
    if (rc != AT_OK)
        return rc;
    if ((rc = store_rows_next(r)) == 1) {
        seq = store_rows_int(r, 0) + 1;
        snprintf(prev, sizeof(prev), "%s", store_rows_text(r, 1));
    }
    store_rows_free(r);
    if (rc != 1)
        return rc < 0 ? rc : AT_ENOTFOUND;

    id_new("aud", id);
    if (changes && json_object_size(changes))
        changes_text = json_dumps(changes, JSON_COMPACT | JSON_SORT_KEYS);
    snprintf(seq_text, sizeof(seq_text), "%lld", (long long)seq);
    snprintf(at_text, sizeof(at_text), "%lld", (long long)now);
    const char *fields[] = {prev,         workspace_id,  seq_text,      id,           actor->type,
                            actor->id,    actor->label,  action,        target_type,  target_id,
                            changes_text, actor->ip,     actor->user_agent, actor->request_id, at_text};
    audit_digest(fields, sizeof(fields) / sizeof(fields[0]), NULL, hash);
    store_arg args[] = {sa_text(workspace_id), sa_int(seq),          sa_text(id),           sa_text(actor->type),
                        sa_text(actor->id),    sa_text(actor->label), sa_text(action),      sa_text(target_type),
                        sa_text(target_id),    sa_text(changes_text), sa_text(actor->ip),   sa_text(actor->user_agent),
                        sa_text(actor->request_id), sa_int(now),     sa_text(prev),         sa_text(hash)};
    rc = store_exec(c,
                    "INSERT INTO audit_events (workspace_id, seq, id, actor_type, actor_id, actor_label, action, "
                    "target_type, target_id, changes, ip, user_agent, request_id, created_at, prev_hash, hash) "
                    "VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16)",
                    args, 16, NULL);
    free(changes_text);
    if (rc == AT_OK) {
        store_arg head[] = {sa_int(seq), sa_text(hash), sa_text(workspace_id)};
        rc = store_exec(c, "UPDATE workspaces SET audit_seq = $1, audit_hash = $2 WHERE id = $3", head, 3, NULL);
    }
    return rc;
}

#define AUDIT_COLS                                                                                                     \
    "workspace_id, seq, id, actor_type, actor_id, actor_label, action, target_type, target_id, changes, ip, "       \
    "user_agent, request_id, created_at, prev_hash, hash"

/* One workspace's events matching the filter ($2 actor, $3 action, $4 action prefix, $5 target, $6..$7
 * time bounds, $8 before this seq), newest first, at most $9, with the actor's current name last. */
#define AUDIT_SELECT_MATCHING                                                                                          \
    "SELECT " AUDIT_COLS ", (SELECT u.name FROM users u WHERE u.id = actor_id) "                                   \
    "FROM audit_events WHERE workspace_id = $1 "                                                                   \
    "AND (CAST($2 AS TEXT) IS NULL OR actor_id = $2) AND (CAST($3 AS TEXT) IS NULL OR action = $3) "               \
    "AND (CAST($4 AS TEXT) IS NULL OR action LIKE $4) AND (CAST($5 AS TEXT) IS NULL OR target_id = $5) "           \
    "AND created_at >= $6 AND created_at <= $7 AND seq < $8 ORDER BY seq DESC LIMIT $9"

/* Splits a filter's action into an exact match or a LIKE prefix ("member." → "member.%", written into
 * prefix, which the caller owns; the filter is at most 100 bytes, checked by the API). */
static void audit_action_match(const char *filter, char prefix[160], const char **exact, const char **like)
{
    *exact = filter;
    *like = NULL;
    if (filter && *filter && filter[strlen(filter) - 1] == '.') {
        snprintf(prefix, 160, "%s%%", filter);
        *like = prefix;
        *exact = NULL;
    }
}

static json_t *audit_row_json(store_rows *r)
{
    char at[32];
    clock_format_rfc3339(store_rows_int(r, 13), at);
    json_t *changes = NULL;
    const char *ct = store_rows_text(r, 9);
    if (ct)
        changes = json_loads(ct, 0, NULL);
    return json_pack("{s:s, s:I, s:s, s:{s:s, s:s?, s:s?, s:s?}, s:s, s:{s:s?, s:s?}, s:o, s:s?, s:s?, s:s?, s:s}",
                     "id", store_rows_text(r, 2), "seq", (json_int_t)store_rows_int(r, 1), "action",
                     store_rows_text(r, 6), "actor", "type", store_rows_text(r, 3), "id", store_rows_text(r, 4), "label",
                     store_rows_text(r, 5), "name", store_rows_text(r, 16), "workspace_id", store_rows_text(r, 0), "target", "type",
                     store_rows_text(r, 7), "id", store_rows_text(r, 8), "changes", changes ? changes : json_object(),
                     "ip", store_rows_text(r, 10), "user_agent", store_rows_text(r, 11), "request_id",
                     store_rows_text(r, 12), "created_at", at);
}

int audit_list(store *s, const char *workspace_id, const audit_filter *f, json_t **items, int64_t *next_seq)
{
    store_conn *c = NULL;
    store_rows *r = NULL;
    json_t *list = json_array();
    char prefix[160];
    int limit = f->limit > 0 && f->limit <= 100 ? f->limit : 50;
    int count = 0;
    int64_t last_seq = 0;
    bool more = false;

    *next_seq = 0;
    const char *action = NULL, *action_prefix = NULL;
    audit_action_match(f->action, prefix, &action, &action_prefix);
    int rc = store_acquire(s, &c);
    if (rc != AT_OK)
        goto out;
    store_arg args[] = {sa_text(workspace_id),
                        sa_text(f->actor_id),
                        sa_text(action),
                        sa_text(action_prefix),
                        sa_text(f->target_id),
                        sa_int(f->since_us),
                        sa_int(f->until_us),
                        sa_int(f->before_seq ? f->before_seq : INT64_MAX),
                        sa_int(limit + 1)};
    rc = store_query(c, AUDIT_SELECT_MATCHING, args, 9, &r);
    if (rc != AT_OK)
        goto out;
    while ((rc = store_rows_next(r)) == 1) {
        if (count == limit) {
            more = true;
            break;
        }
        last_seq = store_rows_int(r, 1);
        json_array_append_new(list, audit_row_json(r));
        count++;
    }
    if (rc >= 0)
        rc = AT_OK;
    if (more)
        *next_seq = last_seq;
out:
    store_rows_free(r);
    if (c)
        store_release(c);
    if (rc != AT_OK) {
        json_decref(list);
        return rc;
    }
    *items = list;
    return AT_OK;
}

/* Appends one CSV cell (RFC 4180) to b: quoted when it holds a comma, quote, CR or LF, quotes doubled.
 * A cell a spreadsheet would read as a formula (starting with = + - @, TAB or CR) gets a leading '
 * so opening the export never runs anything a user typed (OWASP "CSV injection"). */
static void audit_csv_cell(buf *b, const char *v, bool last)
{
    if (!v)
        v = "";
    bool guard = strchr("=+-@\t\r", v[0]) != NULL && v[0] != '\0';
    bool quote = guard || strpbrk(v, ",\"\r\n") != NULL;
    if (quote)
        buf_putc(b, '"');
    if (guard)
        buf_putc(b, '\'');
    for (const char *p = v; *p; p++) {
        if (*p == '"')
            buf_putc(b, '"');
        buf_putc(b, *p);
    }
    if (quote)
        buf_putc(b, '"');
    buf_puts(b, last ? "\r\n" : ",");
}

int audit_export_csv(store *s, const char *workspace_id, const audit_filter *f, int64_t max_rows, buf *out,
                     int64_t *rows, bool *truncated)
{
    store_conn *c = NULL;
    store_rows *r = NULL;
    char prefix[160];
    const char *action = NULL, *action_prefix = NULL;

    *rows = 0;
    *truncated = false;
    audit_action_match(f->action, prefix, &action, &action_prefix);
    int rc = store_acquire(s, &c);
    if (rc != AT_OK)
        return rc;
    store_arg args[] = {sa_text(workspace_id), sa_text(f->actor_id), sa_text(action),
                        sa_text(action_prefix), sa_text(f->target_id), sa_int(f->since_us),
                        sa_int(f->until_us),    sa_int(INT64_MAX),     sa_int(max_rows + 1)};
    rc = store_query(c, AUDIT_SELECT_MATCHING, args, 9, &r);
    if (rc != AT_OK)
        goto out;
    buf_puts(out, "time,actor_name,actor,actor_type,action,target_type,target_id,changes,ip,user_agent,request_id,"
                  "seq,id\r\n");
    while ((rc = store_rows_next(r)) == 1) {
        if (*rows == max_rows) {
            *truncated = true;
            break;
        }
        char at[32], seq[24];
        clock_format_rfc3339(store_rows_int(r, 13), at);
        snprintf(seq, sizeof(seq), "%lld", (long long)store_rows_int(r, 1));
        const char *cells[] = {at,
                               store_rows_text(r, 16),
                               store_rows_text(r, 5),
                               store_rows_text(r, 3),
                               store_rows_text(r, 6),
                               store_rows_text(r, 7),
                               store_rows_text(r, 8),
                               store_rows_text(r, 9),
                               store_rows_text(r, 10),
                               store_rows_text(r, 11),
                               store_rows_text(r, 12),
                               seq,
                               store_rows_text(r, 2)};
        size_t n = sizeof(cells) / sizeof(cells[0]);
        for (size_t i = 0; i < n; i++)
            audit_csv_cell(out, cells[i], i + 1 == n);
        (*rows)++;
    }
    if (rc >= 0)
        rc = AT_OK;
out:
    store_rows_free(r);
    store_release(c);
    return rc;
}

/* Compares the end of one workspace's walked chain with the head stored on its row. */
static bool audit_head_matches(json_t *heads, const char *ws, int64_t last_seq, const char *last_hash)
{
    json_t *h = json_object_get(heads, ws);
    if (!h)
        return last_seq == 0;
    return json_integer_value(json_array_get(h, 0)) == last_seq &&
           strcmp(json_string_value(json_array_get(h, 1)), last_hash) == 0;
}

int audit_verify(store *s, const char *workspace_id_or_null, int64_t *events_checked, char broken_ws[ID_MAX],
                 int64_t *broken_seq)
{
    store_conn *c = NULL;
    store_rows *r = NULL;
    json_t *heads = json_object();
    char prev_ws[ID_MAX] = "", expect_prev[CRYPTO_DIGEST_HEX], hash[CRYPTO_DIGEST_HEX];
    int64_t expect_seq = 1;
    *events_checked = 0;
    *broken_seq = 0;
    broken_ws[0] = '\0';
    int rc = store_acquire(s, &c);
    if (rc != AT_OK) {
        json_decref(heads);
        return rc;
    }
    store_arg args[] = {sa_text(workspace_id_or_null)};
    rc = store_query(c,
                     "SELECT id, audit_seq, audit_hash FROM workspaces WHERE (CAST($1 AS TEXT) IS NULL OR id = $1)",
                     args, 1, &r);
    while (rc == AT_OK && store_rows_next(r) == 1)
        json_object_set_new(heads, store_rows_text(r, 0),
                            json_pack("[I, s]", (json_int_t)store_rows_int(r, 1), store_rows_text(r, 2)));
    store_rows_free(r);
    r = NULL;
    if (rc != AT_OK)
        goto out;
    rc = store_query(c,
                     "SELECT " AUDIT_COLS " FROM audit_events WHERE (CAST($1 AS TEXT) IS NULL OR workspace_id = $1) "
                     "ORDER BY workspace_id, seq",
                     args, 1, &r);
    if (rc != AT_OK)
        goto out;
    while ((rc = store_rows_next(r)) == 1) {
        const char *ws = store_rows_text(r, 0);
        if (strcmp(ws, prev_ws) != 0) {
            if (prev_ws[0] && !audit_head_matches(heads, prev_ws, expect_seq - 1, expect_prev)) {
                snprintf(broken_ws, ID_MAX, "%s", prev_ws);
                *broken_seq = expect_seq;
                rc = AT_ECONSTRAINT;
                goto out;
            }
            json_object_del(heads, prev_ws);
            snprintf(prev_ws, sizeof(prev_ws), "%s", ws);
            snprintf(expect_prev, sizeof(expect_prev), "%s", audit_genesis);
            expect_seq = 1;
        }
        char seq_text[24], at_text[24];
        snprintf(seq_text, sizeof(seq_text), "%lld", (long long)store_rows_int(r, 1));
        snprintf(at_text, sizeof(at_text), "%lld", (long long)store_rows_int(r, 13));
        const char *fields[] = {store_rows_text(r, 14), ws, seq_text, store_rows_text(r, 2), store_rows_text(r, 3),
                                store_rows_text(r, 4), store_rows_text(r, 5), store_rows_text(r, 6),
                                store_rows_text(r, 7), store_rows_text(r, 8), store_rows_text(r, 9),
                                store_rows_text(r, 10), store_rows_text(r, 11), store_rows_text(r, 12), at_text};
        audit_digest(fields, sizeof(fields) / sizeof(fields[0]), store_rows_text(r, 15), hash);
        (*events_checked)++;
        if (store_rows_int(r, 1) != expect_seq || strcmp(store_rows_text(r, 14), expect_prev) != 0 ||
            strcmp(store_rows_text(r, 15), hash) != 0) {
            snprintf(broken_ws, ID_MAX, "%s", ws);
            *broken_seq = store_rows_int(r, 1) != expect_seq ? expect_seq : store_rows_int(r, 1);
            rc = AT_ECONSTRAINT;
            goto out;
        }
        snprintf(expect_prev, sizeof(expect_prev), "%s", store_rows_text(r, 15));
        expect_seq++;
    }
    if (rc < 0)
        goto out;
    rc = AT_OK;
    /* The last chain walked, then every workspace whose head names events that are all gone. */
    if (prev_ws[0] && !audit_head_matches(heads, prev_ws, expect_seq - 1, expect_prev)) {
        snprintf(broken_ws, ID_MAX, "%s", prev_ws);
        *broken_seq = expect_seq;
        rc = AT_ECONSTRAINT;
        goto out;
    }
    json_object_del(heads, prev_ws);
    const char *key;
    json_t *h;
    json_object_foreach(heads, key, h)
    {
        if (json_integer_value(json_array_get(h, 0)) != 0) {
            snprintf(broken_ws, ID_MAX, "%s", key);
            *broken_seq = 1;
            rc = AT_ECONSTRAINT;
            goto out;
        }
    }
out:
    json_decref(heads);
    store_rows_free(r);
    store_release(c);
    return rc;
}
