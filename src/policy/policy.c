/* The Settings map (DESIGN.md §1) as data, and the decisions drawn from it. */
#include "policy/policy.h"

#include "base/buf.h"

#include <stdio.h>
#include <string.h>

enum { NOBODY = ROLE_OWNER + 1 };

/* In navigation order. A section without SECTION_BUILT is enforced but not listed: its routes do not
 * exist yet. `activity` (the audit log) is ours: DESIGN.md's map lists no home for the log. */
const policy_section policy_sections[] = {
    {"workspace", "Workspace Settings", "Sub Account", ROLE_ADMIN, ROLE_ADMIN, NULL, SECTION_BUILT,
     "Workspace identity, business setup, parent/child context."},
    {"profile", "Profile", NULL, ROLE_MEMBER, ROLE_MEMBER, NULL, SECTION_BUILT, "Your own user profile."},
    {"notifications", "Notifications", NULL, ROLE_MEMBER, ROLE_MEMBER, NULL, SECTION_BUILT,
     "Your notification preferences in this workspace."},
    {"team", "Team", NULL, ROLE_MEMBER, ROLE_ADMIN, NULL, SECTION_BUILT,
     "Members, invitations, roles, seats; members read the directory only (no addresses)."},
    {"billing", "Billing", NULL, ROLE_ADMIN, ROLE_OWNER, NULL, SECTION_BUILT,
     "Plan, seats, usage, subscription status, invoices, billing portal."},
    {"subaccounts", "Sub-Accounts", NULL, ROLE_ADMIN, ROLE_ADMIN, "sub_accounts", SECTION_ROOT_ONLY | SECTION_BUILT,
     "Child workspaces of a root workspace."},
    {"integrations", "Integrations", NULL, ROLE_ADMIN, ROLE_ADMIN, NULL, 0, "Connected systems, tool approvals."},
    {"plugins", "Plugins", NULL, ROLE_ADMIN, ROLE_ADMIN, NULL, 0, "Workspace plugins."},
    {"import", "Import", NULL, ROLE_ADMIN, ROLE_ADMIN, NULL, 0, "Bringing data into the workspace."},
    {"api_keys", "API Keys", NULL, ROLE_ADMIN, ROLE_ADMIN, "api_access", SECTION_BUILT, "Workspace API access."},
    {"business_profile", "Business Profile", NULL, ROLE_ADMIN, ROLE_ADMIN, NULL, 0, "Business context for agents."},
    {"voice", "Voice", NULL, ROLE_ADMIN, ROLE_ADMIN, "voice", 0, "Voice behaviour."},
    {"activity", "Activity", NULL, ROLE_ADMIN, NOBODY, NULL, SECTION_BUILT, "The workspace's audit log."},
    {"snapshots", "Snapshots", NULL, ROLE_MEMBER, ROLE_MEMBER, NULL, SECTION_DEVELOPER_ONLY, "Developer only."},
    {"dev_admin", "DEV_ADMIN", NULL, ROLE_MEMBER, ROLE_MEMBER, NULL, SECTION_DEVELOPER_ONLY, "Developer only."},
    {"labs", "Labs", NULL, ROLE_MEMBER, ROLE_MEMBER, NULL, SECTION_DEVELOPER_ONLY, "Developer only."},
    {"billing_recovery", "Billing Recovery", NULL, ROLE_MEMBER, ROLE_MEMBER, NULL,
     SECTION_DEVELOPER_ONLY | SECTION_BUILT, "Developer only: the dunning ladder, past-due workspaces, test clocks."},
    {"usage", "Usage reporting", NULL, ROLE_ADMIN, ROLE_ADMIN, NULL, SECTION_NO_NAV | SECTION_BUILT,
     "API only: metered usage events (scope usage:write)."},
};

const size_t policy_section_count = sizeof(policy_sections) / sizeof(policy_sections[0]);

const policy_section *policy_find(const char *id)
{
    for (size_t i = 0; i < policy_section_count; i++)
        if (strcmp(policy_sections[i].id, id) == 0)
            return &policy_sections[i];
    return NULL;
}

static bool policy_has_feature(const policy_subject *who, const char *feature)
{
    for (const char *const *f = who->features; f && *f; f++)
        if (strcmp(*f, feature) == 0)
            return true;
    return false;
}

int policy_access_of(const policy_section *s, const policy_subject *who)
{
    if (!s || who->role == ROLE_NONE)
        return POLICY_NONE;
    if ((s->flags & SECTION_ROOT_ONLY) && who->kind != WS_ROOT)
        return POLICY_NONE;
    if ((s->flags & SECTION_DEVELOPER_ONLY) && !who->developer)
        return POLICY_NONE;
    if (s->feature && !policy_has_feature(who, s->feature))
        return POLICY_NONE;
    if (who->role >= s->write_role)
        return POLICY_WRITE;
    if (who->role >= s->read_role)
        return POLICY_READ;
    return POLICY_NONE;
}

bool policy_allows(const char *id, int access, const policy_subject *who)
{
    return policy_access_of(policy_find(id), who) >= access;
}

const char *policy_missing_feature(const char *id, int access, const policy_subject *who)
{
    const policy_section *s = policy_find(id);
    if (!s || !s->feature || policy_has_feature(who, s->feature))
        return NULL;
    policy_subject all = *who;
    const char *with[2] = {s->feature, NULL};
    all.features = with;
    return policy_access_of(s, &all) >= access ? s->feature : NULL;
}

int policy_absence(const policy_section *s, const policy_subject *who)
{
    if (policy_access_of(s, who) >= POLICY_READ)
        return ABSENT_NO;
    if (!s || !(s->flags & SECTION_BUILT) || (s->flags & SECTION_NO_NAV) ||
        ((s->flags & SECTION_DEVELOPER_ONLY) && !who->developer))
        return ABSENT_HIDDEN;
    if ((s->flags & SECTION_ROOT_ONLY) && who->kind != WS_ROOT)
        return ABSENT_KIND;
    if (policy_missing_feature(s->id, POLICY_READ, who))
        return ABSENT_PLAN;
    return ABSENT_ROLE;
}

const char *policy_absence_name(int absence)
{
    switch (absence) {
    case ABSENT_HIDDEN:
        return "hidden";
    case ABSENT_KIND:
        return "kind";
    case ABSENT_PLAN:
        return "plan";
    case ABSENT_ROLE:
        return "role";
    default:
        return "";
    }
}

const char *policy_title(const policy_section *s, int kind)
{
    return kind == WS_SUB_ACCOUNT && s->sub_title ? s->sub_title : s->title;
}

const char *policy_role_name(int role)
{
    switch (role) {
    case ROLE_OWNER: return "owner";
    case ROLE_ADMIN: return "admin";
    case ROLE_MEMBER: return "member";
    default: return "none";
    }
}

int policy_role_from_name(const char *name)
{
    if (strcmp(name, "owner") == 0)
        return ROLE_OWNER;
    if (strcmp(name, "admin") == 0)
        return ROLE_ADMIN;
    if (strcmp(name, "member") == 0)
        return ROLE_MEMBER;
    return ROLE_NONE;
}

static const char *policy_cell(const policy_section *s, int role)
{
    if (role >= s->write_role)
        return "read, write";
    if (role >= s->read_role)
        return "read";
    return "—";
}

char *policy_authz_markdown(void)
{
    buf b;
    buf_init(&b);
    buf_puts(&b, "# Who sees which Settings section\n\n"
                 "<!-- Generated by `atrium policy docs` from src/policy/policy.c; a test fails when it is stale. -->\n\n"
                 "Every route names one section and whether it reads or writes; the server checks this table before "
                 "any handler runs. A caller who cannot see a workspace gets 404 for everything in it; one who can "
                 "see it but lacks the role gets 403. Owners and admins of a root workspace have **agency access** "
                 "to its sub-accounts: they act there with their root role without being members.\n\n"
                 "**Sub-accounts' owners and billing.** An owner of the root acts as an owner in each of its "
                 "sub-accounts: where a sub-account pays for itself, the root's owners manage its billing (the "
                 "Billing section's writes need the owner role), and they may invite or promote an owner of the "
                 "sub-account. A sub-account may have owners of its own, with the same rights there; ownership "
                 "transfer works among them. An admin of the root acts as an admin. A sub-account billed by its "
                 "agency shows its admins its own usage and the agency's name, never the agency's seats or "
                 "amounts.\n\n"
                 "**Acting on a person.** Ending a member's sessions signs the person out of every workspace, so it "
                 "needs the right to manage them in every workspace where they are an active member (as a member "
                 "or agency owner/admin there, never a role above the caller's own); otherwise 403 with the "
                 "reason. Every other team action changes only the membership of the workspace it names.\n\n"
                 "**Team for members.** Reading the Team section is the workspace's directory: a member sees names, "
                 "roles and join dates, never email addresses, last activity or usage, and searches by name only. "
                 "The pending invitations and a member's activity belong to managing the team, so their routes "
                 "need the section's write role.\n\n"
                 "| Section | Title | Owner (or root owner) | Admin (or root admin) | Member | Condition | Listed now |\n"
                 "|---|---|---|---|---|---|---|\n");
    for (size_t i = 0; i < policy_section_count; i++) {
        const policy_section *s = &policy_sections[i];
        buf cond;
        buf_init(&cond);
        if (s->flags & SECTION_ROOT_ONLY)
            buf_puts(&cond, "root workspaces only");
        if (s->flags & SECTION_DEVELOPER_ONLY)
            buf_printf(&cond, "%sdeveloper access only", cond.len ? "; " : "");
        if (s->feature)
            buf_printf(&cond, "%splan feature `%s`", cond.len ? "; " : "", s->feature);
        if (s->flags & SECTION_NO_NAV)
            buf_printf(&cond, "%sAPI only, not in the navigation", cond.len ? "; " : "");
        char title[96];
        if (s->sub_title)
            snprintf(title, sizeof(title), "%s (\"%s\" in a sub-account)", s->title, s->sub_title);
        else
            snprintf(title, sizeof(title), "%s", s->title);
        buf_printf(&b, "| `%s` | %s | %s | %s | %s | %s | %s |\n", s->id, title, policy_cell(s, ROLE_OWNER),
                   policy_cell(s, ROLE_ADMIN), policy_cell(s, ROLE_MEMBER), cond.len ? cond.data : "—",
                   (s->flags & SECTION_BUILT) ? "yes" : "not built yet");
        buf_free(&cond);
    }
    return buf_steal(&b, NULL);
}
