/* Unit tests of the agency rule (src/workspace/workspace.c ws_agency_role, ws_effective_role) and of what
 * it gives in a sub-account through the policy table (issue 12, item 8). */
#include "policy/policy.h"
#include "workspace/workspace.h"

#include <criterion/criterion.h>

Test(workspace, agency_carries_the_root_role)
{
    cr_assert_eq(ws_agency_role(ROLE_OWNER), ROLE_OWNER);
    cr_assert_eq(ws_agency_role(ROLE_ADMIN), ROLE_ADMIN);
    cr_assert_eq(ws_agency_role(ROLE_MEMBER), ROLE_NONE);
    cr_assert_eq(ws_agency_role(ROLE_NONE), ROLE_NONE);
    /* The stronger of a direct membership and agency access wins. */
    cr_assert_eq(ws_effective_role(ROLE_MEMBER, ROLE_ADMIN), ROLE_ADMIN);
    cr_assert_eq(ws_effective_role(ROLE_OWNER, ROLE_ADMIN), ROLE_OWNER);
    cr_assert_eq(ws_effective_role(ROLE_ADMIN, ROLE_OWNER), ROLE_OWNER);
    cr_assert_eq(ws_effective_role(ROLE_NONE, ROLE_MEMBER), ROLE_NONE);
    cr_assert_eq(ws_effective_role(ROLE_MEMBER, ROLE_NONE), ROLE_MEMBER);
}

Test(workspace, root_owners_manage_a_sub_accounts_billing_root_admins_read_it)
{
    static const char *const features[] = {NULL};
    policy_subject owner = {ws_effective_role(ROLE_NONE, ROLE_OWNER), true, false, WS_SUB_ACCOUNT, features};
    policy_subject admin = {ws_effective_role(ROLE_NONE, ROLE_ADMIN), true, false, WS_SUB_ACCOUNT, features};
    cr_assert(policy_allows("billing", POLICY_WRITE, &owner));
    cr_assert(policy_allows("billing", POLICY_READ, &admin));
    cr_assert_not(policy_allows("billing", POLICY_WRITE, &admin));
    cr_assert(policy_allows("team", POLICY_WRITE, &admin));
}
