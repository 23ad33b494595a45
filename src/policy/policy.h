/* The Settings map and its access policy (DESIGN.md §1): one declarative table of sections that drives
 * the navigation (GET .../sections), the enforcement of every route (each route row names a section and
 * an access), the role table in docs/security/authz.md and the authorization-matrix tests.
 * Pure: no I/O, no store, no HTTP. */
#ifndef AT_POLICY_H
#define AT_POLICY_H

#include <stdbool.h>
#include <stddef.h>

enum policy_role { ROLE_NONE = 0, ROLE_MEMBER = 1, ROLE_ADMIN = 2, ROLE_OWNER = 3 };
enum policy_access { POLICY_NONE = 0, POLICY_READ = 1, POLICY_WRITE = 2 };
enum policy_kind { WS_ROOT = 1, WS_SUB_ACCOUNT = 2 };

/* Who is asking, in which workspace. */
typedef struct policy_subject {
    int role;                     /* the effective role: agency access carries the root role (owner or admin) */
    bool agency;                  /* acting from the parent root, not as a member */
    bool developer;               /* the user's developer-access flag */
    int kind;                     /* the workspace's kind */
    const char *const *features;  /* the workspace's entitlements (plan features), NULL-terminated */
} policy_subject;

#define SECTION_ROOT_ONLY (1u << 0)      /* never visible inside a sub-account */
#define SECTION_DEVELOPER_ONLY (1u << 1) /* only for users with developer access */
#define SECTION_BUILT (1u << 2)          /* the capability exists; unbuilt sections are not listed */
#define SECTION_NO_NAV (1u << 3)         /* enforced, never listed: an API-only capability (usage reporting) */

typedef struct policy_section {
    const char *id;          /* stable key used by the API, the UI and route rows */
    const char *title;       /* title in a root workspace */
    const char *sub_title;   /* title inside a sub-account (NULL: same) */
    int read_role;           /* lowest role that may read */
    int write_role;          /* lowest role that may write (ROLE_NONE + 1 > owner: nobody) */
    const char *feature;     /* plan feature required, or NULL */
    unsigned flags;
    const char *summary;     /* one line for the docs */
} policy_section;

extern const policy_section policy_sections[];
extern const size_t policy_section_count;

const policy_section *policy_find(const char *id);
/* policy_access_of returns what the subject may do in the section: POLICY_NONE, READ or WRITE. */
int policy_access_of(const policy_section *s, const policy_subject *who);
/* policy_allows reports whether the subject may perform `access` (READ/WRITE) in section `id`. */
bool policy_allows(const char *id, int access, const policy_subject *who);
/* policy_missing_feature returns the plan feature that alone keeps the subject from `access` in
 * section `id` (the role, kind and developer conditions all hold), or NULL. The guard answers 402
 * naming the plans that have it. */
const char *policy_missing_feature(const char *id, int access, const policy_subject *who);
/* Why a subject cannot read a section (policy_absence). */
enum policy_absence {
    ABSENT_NO = 0, /* the subject may read it */
    ABSENT_HIDDEN, /* not built, API only, or developer-only without developer access: never mentioned */
    ABSENT_KIND,   /* not offered in this kind of workspace (Sub-Accounts inside a sub-account) */
    ABSENT_PLAN,   /* the role allows it; the workspace's entitlements lack the section's plan feature */
    ABSENT_ROLE,   /* the subject's role is below the section's read role */
};
/* policy_absence returns why the subject cannot read section s, checked in the order above, so a plan
 * or kind reason is never reported as a role problem. */
int policy_absence(const policy_section *s, const policy_subject *who);
/* policy_absence_name is the API's word for an absence: "hidden", "kind", "plan", "role" ("" for
 * ABSENT_NO). */
const char *policy_absence_name(int absence);
/* policy_title is the section's title for the subject's workspace kind. */
const char *policy_title(const policy_section *s, int kind);

const char *policy_role_name(int role);
/* policy_role_from_name returns ROLE_NONE for unknown names. */
int policy_role_from_name(const char *name);

/* policy_authz_markdown returns docs/security/authz.md's text, generated from the table; the caller
 * frees it. */
char *policy_authz_markdown(void);

#endif
