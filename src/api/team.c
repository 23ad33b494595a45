/* Team: members, invitations, ownership transfer and leaving. */
#include "api/api.h"

#include "apikeys/apikeys.h"
#include "base/err.h"
#include "team/invitations.h"
#include "team/ownership.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* The acting member for the team domain (its audit actor lives in the request's arena). */
static team_actor team_who(http_req *req)
{
    api_principal *p = api_principal_of(req);
    audit_actor *a = arena_alloc(&req->arena, sizeof(*a));
    *a = api_actor(req);
    team_actor t = {p->user.id, p->user.name, p->ws.role, a};
    return t;
}

/* Answers 409 seats-full with the sentence the workspace may see (a sub-account whose agency provides
 * its seats learns that they are full, never how many). */
static int team_reply_seats_full(http_req *req)
{
    char *why = team_seats_refusal(api_app_of(req)->store, api_principal_of(req)->ws.id);
    const char *title = arena_strdup(&req->arena, why);
    free(why);
    return http_reply_problem(req, 409, "seats-full", title, NULL);
}

/* Answers the outcomes the team domain shares. */
static int team_reply(http_req *req, int rc, json_t *out, int status)
{
    /* Any membership change may end someone's personal API keys: verify them afresh. */
    if (rc == AT_OK && req->method != HM_GET)
        apikey_forget_cached();
    switch (rc) {
    case AT_OK: return out ? http_reply_json(req, status, out) : http_reply_empty(req, 204);
    case AT_EFORBIDDEN:
        return http_reply_problem(req, 403, "role-rules",
                                  "Your role does not allow this: only owners manage owners, and nobody grants a role "
                                  "above their own.",
                                  NULL);
    case AT_ECONFLICT:
        return http_reply_problem(req, 409, "last-owner",
                                  "This would leave the workspace without an active owner, or the member's state does "
                                  "not allow it.",
                                  "Make someone else an owner first.");
    case AT_ELIMIT:
        return team_reply_seats_full(req);
    default: return http_reply_status(req, rc);
    }
}

/* True when the caller reads the team as its directory only (the member role): names, roles and join
 * dates, without the addresses and activity that managing the team needs. */
static bool team_directory_only(http_req *req)
{
    return api_principal_of(req)->ws.role < ROLE_ADMIN;
}

/* Removes from one member row (borrowed, changed in place) what the directory does not show. */
static void team_redact(json_t *member)
{
    json_object_del(json_object_get(member, "user"), "email");
    json_object_del(member, "last_active_at");
    json_object_del(member, "invited_by");
    json_object_del(member, "usage");
}

static int team_members(http_req *req)
{
    field_errors errs;
    member_query q = {0};
    json_t *items = NULL, *transfer = NULL, *seats = NULL;
    int64_t total = 0, next = -1;
    fe_init(&errs, &req->arena);
    q.q = http_query(req, "q");
    if (q.q && strlen(q.q) > 100)
        fe_add(&errs, "q", "length", "Must be at most 100 characters long.");
    q.role = http_query(req, "role");
    if (q.role && policy_role_from_name(q.role) == ROLE_NONE)
        fe_add(&errs, "role", "format", "Must be owner, admin or member.");
    q.status = http_query(req, "status");
    if (q.status && strcmp(q.status, "active") != 0 && strcmp(q.status, "deactivated") != 0)
        fe_add(&errs, "status", "format", "Must be active or deactivated.");
    q.sort = http_query(req, "sort");
    static const char *const sorts[] = {"name", "-name", "role", "joined_at", "-joined_at", "last_active_at",
                                        "-last_active_at"};
    bool sort_ok = !q.sort;
    for (size_t i = 0; q.sort && i < sizeof(sorts) / sizeof(sorts[0]); i++)
        sort_ok = sort_ok || strcmp(q.sort, sorts[i]) == 0;
    if (!sort_ok)
        fe_add(&errs, "sort", "format", "Must be name, -name, role, joined_at, -joined_at, last_active_at or "
                                        "-last_active_at.");
    q.limit = (int)api_query_int(req, "limit", 50, 1, 100, &errs);
    q.offset = api_offset_cursor(req, &errs);
    q.names_only = team_directory_only(req);
    if (errs.count)
        return http_reply_invalid(req, &errs);
    const char *ws = api_principal_of(req)->ws.id;
    int rc = members_list(api_app_of(req)->store, ws, &q, &items, &total, &next, &seats);
    if (rc == AT_OK)
        rc = own_pending(api_app_of(req)->store, ws, &transfer);
    if (rc != AT_OK) {
        json_decref(items);
        json_decref(seats);
        return http_reply_status(req, rc);
    }
    if (q.names_only) {
        size_t i;
        json_t *m;
        json_array_foreach(items, i, m) team_redact(m);
    }
    char cur[32];
    snprintf(cur, sizeof(cur), "o%lld", (long long)next);
    return http_reply_json(req, 200,
                           json_pack("{s:o, s:I, s:s?, s:o, s:o}", "items", items, "total", (json_int_t)total,
                                     "next_cursor", next >= 0 ? cur : NULL, "seats", seats, "ownership_transfer",
                                     transfer));
}

static int team_member_get(http_req *req)
{
    json_t *out = NULL;
    int rc = members_get(api_app_of(req)->store, api_principal_of(req)->ws.id, http_param(req, "member_id"), &out);
    if (rc == AT_OK && team_directory_only(req))
        team_redact(out);
    return team_reply(req, rc, out, 200);
}

static const char *team_check_role(const char *s, size_t len)
{
    (void)len;
    return policy_role_from_name(s) == ROLE_NONE ? "Must be owner, admin or member." : NULL;
}

static const jv_field team_role_fields[] = {
    {"role", JV_STRING, JV_REQUIRED, 1, 16, team_check_role},
};

static int team_member_patch(http_req *req)
{
    json_t *body, *out = NULL;
    if (http_body_or_reply(req, team_role_fields, 1, &body) != AT_OK)
        return AT_OK;
    team_actor who = team_who(req);
    int rc = members_set_role(api_app_of(req)->store, api_principal_of(req)->ws.id, http_param(req, "member_id"),
                              json_string_value(json_object_get(body, "role")), &who, &out);
    return team_reply(req, rc, out, 200);
}

static int team_member_delete(http_req *req)
{
    team_actor who = team_who(req);
    int rc = members_remove(api_app_of(req)->store, api_principal_of(req)->ws.id, http_param(req, "member_id"), &who);
    return team_reply(req, rc, NULL, 204);
}

static int team_member_deactivate(http_req *req)
{
    json_t *out = NULL;
    team_actor who = team_who(req);
    int rc = members_set_active(api_app_of(req)->store, api_principal_of(req)->ws.id, http_param(req, "member_id"),
                                false, &who, &out);
    return team_reply(req, rc, out, 200);
}

static int team_member_reactivate(http_req *req)
{
    json_t *out = NULL;
    team_actor who = team_who(req);
    int rc = members_set_active(api_app_of(req)->store, api_principal_of(req)->ws.id, http_param(req, "member_id"),
                                true, &who, &out);
    return team_reply(req, rc, out, 200);
}

static int team_member_end_sessions(http_req *req)
{
    int64_t ended = 0;
    char *why = NULL;
    team_actor who = team_who(req);
    int rc = members_end_sessions(api_app_of(req)->store, api_principal_of(req)->ws.id, http_param(req, "member_id"),
                                  &who, &ended, &why);
    if (rc == AT_EFORBIDDEN) {
        const char *detail = arena_strdup(&req->arena, why ? why : "");
        free(why);
        return http_reply_problem(req, 403, "role-rules", "You cannot end this person's sessions.",
                                  detail[0] ? detail : NULL);
    }
    return team_reply(req, rc, rc == AT_OK ? json_pack("{s:I}", "ended", (json_int_t)ended) : NULL, 200);
}

static int team_member_activity(http_req *req)
{
    field_errors errs;
    json_t *items = NULL;
    fe_init(&errs, &req->arena);
    int limit = (int)api_query_int(req, "limit", 50, 1, 100, &errs);
    if (errs.count)
        return http_reply_invalid(req, &errs);
    int rc = members_activity(api_app_of(req)->store, api_principal_of(req)->ws.id, http_param(req, "member_id"), limit,
                              &items);
    return team_reply(req, rc, rc == AT_OK ? json_pack("{s:o}", "items", items) : NULL, 200);
}

static int team_invitations(http_req *req)
{
    json_t *items = NULL;
    const char *status = http_query(req, "status");
    if (status && strcmp(status, "pending") != 0 && strcmp(status, "expired") != 0 &&
        strcmp(status, "accepted") != 0 && strcmp(status, "revoked") != 0 && strcmp(status, "all") != 0) {
        field_errors errs;
        fe_init(&errs, &req->arena);
        fe_add(&errs, "status", "format", "Must be pending, expired, accepted, revoked or all.");
        return http_reply_invalid(req, &errs);
    }
    int rc = inv_list(api_app_of(req)->store, api_principal_of(req)->ws.id, status, &items);
    return team_reply(req, rc, rc == AT_OK ? json_pack("{s:o}", "items", items) : NULL, 200);
}

static const jv_field team_invite_fields[] = {
    {"emails", JV_ARRAY, JV_REQUIRED, 0, 0, NULL},
    {"role", JV_STRING, JV_REQUIRED, 1, 16, team_check_role},
    {"message", JV_STRING, JV_NULLABLE | JV_MULTILINE, 1, 1000, NULL},
};

static int team_invite(http_req *req)
{
    json_t *body, *results = NULL;
    field_errors errs;
    if (http_body_fields_or_reply(req, team_invite_fields, 3, &body, &errs) != AT_OK)
        return AT_OK;
    json_t *emails = json_object_get(body, "emails");
    if (json_is_array(emails) && (json_array_size(emails) == 0 || json_array_size(emails) > INV_MAX_BATCH))
        fe_add(&errs, "emails", "length", "Give from 1 to %d addresses.", INV_MAX_BATCH);
    if (errs.count)
        return http_reply_invalid(req, &errs);
    json_t *msg = json_object_get(body, "message");
    team_actor who = team_who(req);
    if (!who.user_id || !who.user_id[0])
        return http_reply_problem(req, 403, "person-required",
                                  "Invitations come from a person: use a member's own API key or the web app.", NULL);
    int rc = inv_create(api_app_of(req)->store, api_principal_of(req)->ws.id, emails,
                        json_string_value(json_object_get(body, "role")), json_is_string(msg) ? json_string_value(msg) : NULL,
                        &who, &results);
    if (rc == AT_EFORBIDDEN)
        return http_reply_problem(req, 403, "role-rules", "You cannot invite someone with a role above your own.",
                                  NULL);
    if (rc != AT_OK)
        return http_reply_status(req, rc);
    /* A single address that was refused answers with the refusal's own status, so scripts can tell. */
    if (json_array_size(results) == 1 &&
        strcmp(json_string_value(json_object_get(json_array_get(results, 0), "status")), "error") == 0) {
        json_t *e = json_object_get(json_array_get(results, 0), "error");
        /* Copy out of the results before they go: the error list only borrows its strings. */
        const char *code = arena_strdup(&req->arena, json_string_value(json_object_get(e, "code")));
        fe_init(&errs, &req->arena);
        fe_add(&errs, "emails[0]", code, "%s", json_string_value(json_object_get(e, "message")));
        json_decref(results);
        if (strcmp(code, "invalid_email") == 0)
            return http_reply_problem_errors(req, 400, "validation", "The request is not valid.", &errs);
        if (strcmp(code, "seats_full") == 0)
            return http_reply_problem_errors(req, 409, "seats-full", errs.items[0].message, &errs);
        char slug[48];
        snprintf(slug, sizeof(slug), "%s", code);
        for (char *c = slug; *c; c++)
            if (*c == '_')
                *c = '-';
        return http_reply_problem_errors(req, 409, slug, "The invitation was refused.", &errs);
    }
    return http_reply_json(req, 200, json_pack("{s:o}", "results", results));
}

static int team_invitation_resend(http_req *req)
{
    json_t *out = NULL;
    team_actor who = team_who(req);
    int rc = inv_resend(api_app_of(req)->store, api_principal_of(req)->ws.id, http_param(req, "invitation_id"), &who,
                        &out);
    if (rc == AT_ELIMIT) {
        http_set_header(req, "Retry-After", "60");
        return http_reply_problem(req, 429, "rate-limited", "This invitation was just resent; wait a minute.", NULL);
    }
    if (rc == AT_ECONFLICT)
        return http_reply_problem(req, 409, "invalid-state",
                                  "Only pending or expired invitations can be resent (or the address joined since).",
                                  NULL);
    return team_reply(req, rc, out, 200);
}

static int team_invitation_revoke(http_req *req)
{
    team_actor who = team_who(req);
    int rc = inv_revoke(api_app_of(req)->store, api_principal_of(req)->ws.id, http_param(req, "invitation_id"), &who);
    if (rc == AT_ECONFLICT)
        return http_reply_problem(req, 409, "invalid-state", "This invitation was already accepted or cancelled.", NULL);
    return team_reply(req, rc, NULL, 204);
}

static const jv_field team_transfer_fields[] = {
    {"member_id", JV_STRING, JV_REQUIRED, 1, 64, NULL},
};

static int team_transfer(http_req *req)
{
    json_t *body, *out = NULL;
    if (http_body_or_reply(req, team_transfer_fields, 1, &body) != AT_OK)
        return AT_OK;
    team_actor who = team_who(req);
    int rc = own_propose(api_app_of(req)->store, api_principal_of(req)->ws.id,
                         json_string_value(json_object_get(body, "member_id")), &who, &out);
    if (rc == AT_EFORBIDDEN)
        return http_reply_problem(req, 403, "role-rules", "Only an owner of this workspace can hand over ownership.",
                                  NULL);
    if (rc == AT_ECONFLICT)
        return http_reply_problem(req, 409, "invalid-state",
                                  "The member must be an active non-owner, and no other transfer may be pending.", NULL);
    return team_reply(req, rc, out, 201);
}

static int team_transfer_accept(http_req *req)
{
    json_t *out = NULL;
    team_actor who = team_who(req);
    int rc = own_accept(api_app_of(req)->store, api_principal_of(req)->ws.id, &who, &out);
    return team_reply(req, rc, out, 200);
}

static int team_transfer_cancel(http_req *req)
{
    team_actor who = team_who(req);
    int rc = own_cancel(api_app_of(req)->store, api_principal_of(req)->ws.id, &who);
    return team_reply(req, rc, NULL, 204);
}

static int team_leave(http_req *req)
{
    team_actor who = team_who(req);
    int rc = members_leave(api_app_of(req)->store, api_principal_of(req)->ws.id, &who);
    if (rc == AT_ENOTFOUND)
        return http_reply_problem(req, 409, "not-a-member",
                                  "You manage this workspace from its parent; there is no membership to leave.", NULL);
    return team_reply(req, rc, NULL, 204);
}

#define WS "/api/v1/workspaces/:workspace_id"
static const http_route team_rows[] = {
    {HM_GET, WS "/members", team_members, AUTH_USER, "team", ACCESS_READ, 0},
    {HM_GET, WS "/members/:member_id", team_member_get, AUTH_USER, "team", ACCESS_READ, 0},
    {HM_PATCH, WS "/members/:member_id", team_member_patch, AUTH_USER, "team", ACCESS_WRITE, 0},
    {HM_DELETE, WS "/members/:member_id", team_member_delete, AUTH_USER, "team", ACCESS_WRITE, 0},
    {HM_POST, WS "/members/:member_id/deactivate", team_member_deactivate, AUTH_USER, "team", ACCESS_WRITE, 0},
    {HM_POST, WS "/members/:member_id/reactivate", team_member_reactivate, AUTH_USER, "team", ACCESS_WRITE, 0},
    {HM_POST, WS "/members/:member_id/end-sessions", team_member_end_sessions, AUTH_USER, "team", ACCESS_WRITE, 0},
    /* Reading the team is the members' directory; a member's activity and the pending invitations (with
     * their addresses) belong to managing it, so they need the section's write role. */
    {HM_GET, WS "/members/:member_id/activity", team_member_activity, AUTH_USER, "team", ACCESS_WRITE, 0},
    {HM_GET, WS "/invitations", team_invitations, AUTH_USER, "team", ACCESS_WRITE, 0},
    {HM_POST, WS "/invitations", team_invite, AUTH_USER, "team", ACCESS_WRITE, ROUTE_IDEMPOTENT},
    {HM_POST, WS "/invitations/:invitation_id/resend", team_invitation_resend, AUTH_USER, "team", ACCESS_WRITE, 0},
    {HM_DELETE, WS "/invitations/:invitation_id", team_invitation_revoke, AUTH_USER, "team", ACCESS_WRITE, 0},
    {HM_POST, WS "/ownership-transfer", team_transfer, AUTH_SESSION, "team", ACCESS_WRITE, 0},
    {HM_POST, WS "/ownership-transfer/accept", team_transfer_accept, AUTH_SESSION, NULL, ACCESS_NONE, 0},
    {HM_DELETE, WS "/ownership-transfer", team_transfer_cancel, AUTH_SESSION, NULL, ACCESS_NONE, 0},
    {HM_POST, WS "/leave", team_leave, AUTH_SESSION, NULL, ACCESS_NONE, 0},
};

const http_route_table api_team_routes = {team_rows, sizeof(team_rows) / sizeof(team_rows[0])};
