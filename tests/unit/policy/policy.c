/* Unit tests of the Settings policy table (src/policy/policy.c) and of the generated docs. */
#include "base/config.h"
#include "policy/policy.h"

#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const char *const all_features[] = {"api_access", "voice", "sub_accounts", NULL};
static const char *const no_features[] = {NULL};

static policy_subject who(int role, int kind, bool developer, const char *const *features)
{
    policy_subject s = {role, false, developer, kind, features};
    return s;
}

Test(policy, roles_by_section)
{
    policy_subject owner = who(ROLE_OWNER, WS_ROOT, false, all_features);
    policy_subject admin = who(ROLE_ADMIN, WS_ROOT, false, all_features);
    policy_subject member = who(ROLE_MEMBER, WS_ROOT, false, all_features);
    cr_assert(policy_allows("workspace", POLICY_WRITE, &owner));
    cr_assert(policy_allows("workspace", POLICY_WRITE, &admin));
    cr_assert_not(policy_allows("workspace", POLICY_READ, &member));
    cr_assert(policy_allows("profile", POLICY_WRITE, &member));
    cr_assert(policy_allows("notifications", POLICY_WRITE, &member));
    cr_assert(policy_allows("billing", POLICY_WRITE, &owner));
    cr_assert(policy_allows("billing", POLICY_READ, &admin));
    cr_assert_not(policy_allows("billing", POLICY_WRITE, &admin));
    cr_assert(policy_allows("activity", POLICY_READ, &admin));
    cr_assert_not(policy_allows("activity", POLICY_WRITE, &owner));
    cr_assert_not(policy_allows("no_such_section", POLICY_READ, &owner));
}

Test(policy, subaccounts_only_in_a_root)
{
    policy_subject root_admin = who(ROLE_ADMIN, WS_ROOT, false, all_features);
    policy_subject sub_admin = who(ROLE_ADMIN, WS_SUB_ACCOUNT, false, all_features);
    cr_assert(policy_allows("subaccounts", POLICY_WRITE, &root_admin));
    cr_assert_not(policy_allows("subaccounts", POLICY_READ, &sub_admin));
    cr_assert_str_eq(policy_title(policy_find("workspace"), WS_SUB_ACCOUNT), "Sub Account");
    cr_assert_str_eq(policy_title(policy_find("workspace"), WS_ROOT), "Workspace Settings");
}

Test(policy, developer_only_and_features)
{
    policy_subject dev = who(ROLE_MEMBER, WS_ROOT, true, all_features);
    policy_subject owner = who(ROLE_OWNER, WS_ROOT, false, all_features);
    policy_subject owner_no_plan = who(ROLE_OWNER, WS_ROOT, false, no_features);
    cr_assert(policy_allows("labs", POLICY_READ, &dev));
    cr_assert_not(policy_allows("labs", POLICY_READ, &owner));
    cr_assert(policy_allows("api_keys", POLICY_WRITE, &owner));
    cr_assert_not(policy_allows("api_keys", POLICY_READ, &owner_no_plan));
    cr_assert_not(policy_allows("voice", POLICY_READ, &owner_no_plan));
    cr_assert_not(policy_allows("subaccounts", POLICY_READ, &owner_no_plan));
}

/* A section whose plan feature alone is missing is named, so the guard can answer 402 with the plans
 * that have it; a role or kind that would refuse anyway is not a plan matter. */
Test(policy, missing_feature_is_named_only_when_it_alone_refuses)
{
    policy_subject owner_no_plan = who(ROLE_OWNER, WS_ROOT, false, no_features);
    policy_subject member_no_plan = who(ROLE_MEMBER, WS_ROOT, false, no_features);
    policy_subject sub_owner_no_plan = who(ROLE_OWNER, WS_SUB_ACCOUNT, false, no_features);
    policy_subject owner = who(ROLE_OWNER, WS_ROOT, false, all_features);
    cr_assert_str_eq(policy_missing_feature("api_keys", POLICY_WRITE, &owner_no_plan), "api_access");
    cr_assert_str_eq(policy_missing_feature("subaccounts", POLICY_READ, &owner_no_plan), "sub_accounts");
    cr_assert_null(policy_missing_feature("api_keys", POLICY_READ, &member_no_plan));
    cr_assert_null(policy_missing_feature("subaccounts", POLICY_READ, &sub_owner_no_plan));
    cr_assert_null(policy_missing_feature("api_keys", POLICY_WRITE, &owner));
    cr_assert_null(policy_missing_feature("team", POLICY_WRITE, &owner_no_plan));
    cr_assert_null(policy_missing_feature("no_such_section", POLICY_READ, &owner_no_plan));
}

/* Why a section is absent: a plan or workspace kind is never reported as a role problem, and hidden
 * sections are never mentioned at all. */
Test(policy, absence_names_plan_kind_and_role_apart)
{
    policy_subject owner_no_plan = who(ROLE_OWNER, WS_ROOT, false, no_features);
    policy_subject member = who(ROLE_MEMBER, WS_ROOT, false, all_features);
    policy_subject sub_owner = who(ROLE_OWNER, WS_SUB_ACCOUNT, false, all_features);
    cr_assert_eq(policy_absence(policy_find("api_keys"), &owner_no_plan), ABSENT_PLAN);
    cr_assert_eq(policy_absence(policy_find("subaccounts"), &owner_no_plan), ABSENT_PLAN);
    cr_assert_eq(policy_absence(policy_find("subaccounts"), &sub_owner), ABSENT_KIND);
    cr_assert_eq(policy_absence(policy_find("billing"), &member), ABSENT_ROLE);
    cr_assert_eq(policy_absence(policy_find("api_keys"), &member), ABSENT_ROLE);
    cr_assert_eq(policy_absence(policy_find("labs"), &member), ABSENT_HIDDEN);
    cr_assert_eq(policy_absence(policy_find("usage"), &member), ABSENT_HIDDEN);
    cr_assert_eq(policy_absence(policy_find("team"), &owner_no_plan), ABSENT_NO);
    cr_assert_str_eq(policy_absence_name(ABSENT_PLAN), "plan");
}

/* Usage reporting is enforced like any section but never listed in the navigation. */
Test(policy, usage_is_api_only)
{
    const policy_section *u = policy_find("usage");
    cr_assert_not_null(u);
    cr_assert(u->flags & SECTION_NO_NAV);
    policy_subject admin = who(ROLE_ADMIN, WS_ROOT, false, all_features);
    policy_subject member = who(ROLE_MEMBER, WS_ROOT, false, all_features);
    cr_assert(policy_allows("usage", POLICY_WRITE, &admin));
    cr_assert_not(policy_allows("usage", POLICY_WRITE, &member));
}

Test(policy, nobody_without_a_role)
{
    policy_subject none = who(ROLE_NONE, WS_ROOT, true, all_features);
    for (size_t i = 0; i < policy_section_count; i++)
        cr_assert_eq(policy_access_of(&policy_sections[i], &none), POLICY_NONE, "%s", policy_sections[i].id);
}

/* Reads a file of the repository (tests run from its root). */
static char *read_file(const char *path)
{
    FILE *f = fopen(path, "rb");
    cr_assert_not_null(f, "cannot open %s (run the tests from the repository root)", path);
    fseek(f, 0, SEEK_END);
    long n = ftell(f);
    fseek(f, 0, SEEK_SET);
    char *s = malloc((size_t)n + 1);
    cr_assert_eq(fread(s, 1, (size_t)n, f), (size_t)n);
    s[n] = '\0';
    fclose(f);
    return s;
}

Test(docs, authz_md_is_generated_from_the_table)
{
    char *want = policy_authz_markdown();
    char *have = read_file("docs/security/authz.md");
    cr_assert_str_eq(have, want, "docs/security/authz.md is stale: run ./atrium policy docs > docs/security/authz.md");
    free(want);
    free(have);
}

Test(docs, configuration_md_is_generated_from_the_table)
{
    char *want = config_docs_markdown();
    char *have = read_file("docs/configuration.md");
    cr_assert_str_eq(have, want, "docs/configuration.md is stale: run make docs");
    free(want);
    free(have);
}
