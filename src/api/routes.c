/* The list of route tables, in matching order. Each API file owns one table; adding a file means
 * adding its table here. */
#include "api/api.h"

#include "apikeys/apikeys.h"
#include "billing/billing.h"
#include "jobs/jobs.h"
#include "mail/mail.h"
#include "team/invitations.h"
#include "workspace/subaccounts.h"

const http_route_table *api_tables(size_t *count)
{
    /* Built on first use: C cannot initialise a static array from other files' extern objects. */
    static http_route_table tables[12];
    tables[0] = api_system_routes;
    tables[1] = api_auth_routes;
    tables[2] = api_profile_routes;
    tables[3] = api_workspace_routes;
    tables[4] = api_subaccount_routes;
    tables[5] = api_activity_routes;
    tables[6] = api_team_routes;
    tables[7] = api_invitation_routes;
    tables[8] = api_apikey_routes;
    tables[9] = api_billing_routes;
    tables[10] = api_billing_public_routes;
    tables[11] = api_test_routes;
    *count = sizeof(tables) / sizeof(tables[0]);
    return tables;
}

void api_register_jobs(const config *cfg)
{
    sub_register_jobs();
    inv_register_jobs();
    mail_register_jobs();
    apikey_register_jobs();
    billing_register_jobs();
    api_register_test_jobs(cfg);
}
