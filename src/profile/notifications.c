/* Notification preferences: defaults in a table, the user's choices as overriding rows. */
#include "profile/notifications.h"

#include "base/buf.h"
#include "base/err.h"

#include <stdio.h>
#include <string.h>

typedef struct notif_group {
    const char *id, *title, *description;
    bool email, in_app; /* defaults */
    bool locked;        /* cannot be turned off */
} notif_group;

static const notif_group notif_groups[] = {
    {"team", "Team", "Invitations accepted, members joining, leaving or changing role.", true, true, false},
    {"billing", "Billing", "Payments, failed charges, plan and seat changes, invoices.", true, true, false},
    {"integrations", "Integrations", "Connections that need attention, approvals waiting for you.", false, true, false},
    {"imports", "Imports", "Imports finishing or failing, with their reports.", true, true, false},
    {"reviews", "Reviews", "The monthly and pre-rollout review reminders.", true, true, false},
    {"security", "Security", "Sign-ins from new devices, password and API key changes. Always on.", true, true, true},
};
enum { NOTIF_GROUPS = sizeof(notif_groups) / sizeof(notif_groups[0]) };
static const char *const notif_channels[] = {"email", "in_app"};

const jv_field notif_fields[] = {
    {"groups", JV_OBJECT, JV_REQUIRED, 0, 0, NULL},
};
const size_t notif_field_count = 1;

static const notif_group *notif_find(const char *id)
{
    for (int i = 0; i < NOTIF_GROUPS; i++)
        if (strcmp(notif_groups[i].id, id) == 0)
            return &notif_groups[i];
    return NULL;
}

void notif_check(json_t *patch, field_errors *errs)
{
    const char *gk, *ck;
    json_t *gv, *cv;
    json_object_foreach(json_object_get(patch, "groups"), gk, gv)
    {
        const notif_group *g = notif_find(gk);
        /* Field names carry the caller's keys whole, in the error list's arena. */
        const char *name = arena_printf(errs->arena, "groups.%s", gk);
        if (!g) {
            fe_add(errs, name, "unknown_field", "There is no such notification group.");
            continue;
        }
        if (!json_is_object(gv)) {
            fe_add(errs, name, "type", "Must be an object of channels, e.g. {\"email\": false}.");
            continue;
        }
        json_object_foreach(gv, ck, cv)
        {
            name = arena_printf(errs->arena, "groups.%s.%s", gk, ck);
            if (strcmp(ck, "email") != 0 && strcmp(ck, "in_app") != 0)
                fe_add(errs, name, "unknown_field", "Channels are email and in_app.");
            else if (!json_is_boolean(cv))
                fe_add(errs, name, "type", "Must be true or false.");
            else if (g->locked && json_is_false(cv))
                fe_add(errs, name, "locked", "Security notices cannot be turned off.");
        }
    }
}

bool notif_wants(store_conn *c, const char *ws_id, const char *user_id, const char *group, const char *channel)
{
    const notif_group *g = notif_find(group);
    int64_t enabled = 0;
    if (!g)
        return false;
    bool def = strcmp(channel, "email") == 0 ? g->email : g->in_app;
    if (g->locked)
        return true;
    store_arg args[] = {sa_text(ws_id), sa_text(user_id), sa_text(group), sa_text(channel)};
    if (store_query_int(c,
                        "SELECT enabled FROM notification_prefs WHERE workspace_id = $1 AND user_id = $2 AND "
                        "event_group = $3 AND channel = $4",
                        args, 4, &enabled) != AT_OK)
        return def;
    return enabled != 0;
}

static int notif_load(store_conn *c, const char *ws_id, const char *user_id, json_t **out)
{
    json_t *groups = json_array();
    for (int i = 0; i < NOTIF_GROUPS; i++) {
        const notif_group *g = &notif_groups[i];
        json_array_append_new(groups,
                              json_pack("{s:s, s:s, s:s, s:b, s:b, s:b}", "id", g->id, "title", g->title, "description",
                                        g->description, "locked", g->locked, "email",
                                        notif_wants(c, ws_id, user_id, g->id, "email"), "in_app",
                                        notif_wants(c, ws_id, user_id, g->id, "in_app")));
    }
    *out = json_pack("{s:o}", "groups", groups);
    return AT_OK;
}

int notif_get(store *s, const char *ws_id, const char *user_id, json_t **out)
{
    store_conn *c = NULL;
    int rc = store_acquire(s, &c);
    if (rc != AT_OK)
        return rc;
    rc = notif_load(c, ws_id, user_id, out);
    store_release(c);
    return rc;
}

typedef struct notif_ctx {
    const char *ws_id, *user_id;
    json_t *patch; /* NULL: reset */
    const audit_actor *actor;
    json_t *out;
} notif_ctx;

static int notif_write_tx(store_conn *c, void *ctx)
{
    notif_ctx *n = ctx;
    json_t *before = NULL, *changes = json_object();
    int rc = notif_load(c, n->ws_id, n->user_id, &before);
    store_arg who[] = {sa_text(n->ws_id), sa_text(n->user_id)};
    if (!n->patch) {
        rc = store_exec(c, "DELETE FROM notification_prefs WHERE workspace_id = $1 AND user_id = $2", who, 2, NULL);
    } else {
        const char *gk, *ck;
        json_t *gv, *cv;
        json_object_foreach(json_object_get(n->patch, "groups"), gk, gv) json_object_foreach(gv, ck, cv)
        {
            if (rc != AT_OK)
                break;
            store_arg args[] = {sa_text(n->ws_id), sa_text(n->user_id), sa_text(gk), sa_text(ck),
                                sa_int(json_is_true(cv))};
            rc = store_exec(c,
                            "INSERT INTO notification_prefs (workspace_id, user_id, event_group, channel, enabled) "
                            "VALUES ($1, $2, $3, $4, $5) ON CONFLICT (workspace_id, user_id, event_group, channel) "
                            "DO UPDATE SET enabled = $5",
                            args, 5, NULL);
        }
    }
    if (rc == AT_OK)
        rc = notif_load(c, n->ws_id, n->user_id, &n->out);
    if (rc == AT_OK) {
        /* One change entry per group and channel that moved. */
        size_t i;
        json_t *b;
        json_array_foreach(json_object_get(before, "groups"), i, b)
        {
            json_t *a = json_array_get(json_object_get(n->out, "groups"), i);
            for (size_t k = 0; k < 2; k++) {
                buf key;
                buf_init(&key);
                buf_printf(&key, "%s.%s", json_string_value(json_object_get(b, "id")), notif_channels[k]);
                audit_diff(changes, key.data, json_object_get(b, notif_channels[k]), json_object_get(a, notif_channels[k]));
                buf_free(&key);
            }
        }
        if (json_object_size(changes))
            rc = audit_append(c, n->ws_id, n->actor, n->patch ? "notifications.updated" : "notifications.reset",
                              "user", n->user_id, changes);
    }
    json_decref(before);
    json_decref(changes);
    return rc;
}

int notif_patch(store *s, const char *ws_id, const char *user_id, json_t *patch, const audit_actor *actor,
                json_t **out)
{
    notif_ctx n = {ws_id, user_id, patch, actor, NULL};
    int rc = store_tx(s, true, notif_write_tx, &n);
    if (rc == AT_OK)
        *out = n.out;
    else
        json_decref(n.out);
    return rc;
}

int notif_reset(store *s, const char *ws_id, const char *user_id, const audit_actor *actor, json_t **out)
{
    return notif_patch(s, ws_id, user_id, NULL, actor, out);
}
