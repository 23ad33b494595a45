/* `atrium audit verify [WORKSPACE_ID]` and `atrium policy docs`: operator views of the audit chain
 * and of the Settings policy table. */
#include "cli/cli.h"

#include "api/api.h"
#include "audit/audit.h"
#include "base/err.h"
#include "policy/policy.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* An unknown id must not read as "intact: 0 events". Deleted workspaces keep their rows and chains. */
static int audit_workspace_exists(store *s, const char *id)
{
    store_conn *c = NULL;
    int64_t n = 0;
    store_arg a[] = {sa_text(id)};
    int st = store_acquire(s, &c);
    if (st == AT_OK) {
        st = store_query_int(c, "SELECT COUNT(*) FROM workspaces WHERE id = $1", a, 1, &n);
        store_release(c);
    }
    if (st != AT_OK) {
        fprintf(stderr, "atrium: could not read the workspaces (%s)\n", at_status_name(st));
        return CLI_FAIL;
    }
    if (n == 0) {
        fprintf(stderr, "atrium: no such workspace: %s\n", id);
        return CLI_USAGE;
    }
    return CLI_OK;
}

int cli_audit(int argc, char **argv)
{
    config cfg;
    store *s;
    int64_t checked = 0, broken_seq = 0;
    char broken_ws[ID_MAX];
    if (argc < 2 || argc > 3 || strcmp(argv[1], "verify") != 0) {
        fprintf(stderr, "usage: atrium audit verify [WORKSPACE_ID]\n");
        return CLI_USAGE;
    }
    int rc = cli_setup(&cfg, &s);
    if (rc != CLI_OK)
        return rc;
    if (argc == 3 && (rc = audit_workspace_exists(s, argv[2])) != CLI_OK) {
        store_close(s);
        return rc;
    }
    int st = audit_verify(s, argc == 3 ? argv[2] : NULL, &checked, broken_ws, &broken_seq);
    store_close(s);
    if (st == AT_ECONSTRAINT) {
        printf("audit chain BROKEN in workspace %s at event %lld (%lld events checked before it)\n", broken_ws,
               (long long)broken_seq, (long long)(checked - 1));
        return CLI_FAIL;
    }
    if (st != AT_OK) {
        fprintf(stderr, "atrium: could not read the audit log (%s)\n", at_status_name(st));
        return CLI_FAIL;
    }
    printf("audit chain intact: %lld events checked\n", (long long)checked);
    return CLI_OK;
}

int cli_policy(int argc, char **argv)
{
    if (argc != 2 || strcmp(argv[1], "docs") != 0) {
        fprintf(stderr, "usage: atrium policy docs\n");
        return CLI_USAGE;
    }
    char *md = policy_authz_markdown();
    fputs(md, stdout);
    free(md);
    return CLI_OK;
}

/* `atrium routes`: the route inventory as JSON lines {method, pattern, auth, section, access}, for the
 * authorization-matrix test (a route missing from the matrix fails it) and for operators. Test-only
 * routes are listed only when ATRIUM_ENV=test. */
int cli_routes(int argc, char **argv)
{
    static const char *const auth_names[] = {"public", "session", "user", "test", "operator"};
    static const char *const access_names[] = {"none", "read", "write"};
    config cfg;
    char err[512];
    size_t ntables = 0;
    (void)argv;
    if (argc != 1) {
        fprintf(stderr, "usage: atrium routes\n");
        return CLI_USAGE;
    }
    if (config_load(&cfg, err) != AT_OK) {
        fprintf(stderr, "atrium: configuration error: %s\n", err);
        return CLI_USAGE;
    }
    const http_route_table *tables = api_tables(&ntables);
    for (size_t t = 0; t < ntables; t++)
        for (size_t r = 0; r < tables[t].count; r++) {
            const http_route *row = &tables[t].rows[r];
            if (row->auth == AUTH_TEST && cfg.env != ENV_TEST)
                continue;
            char allow[64];
            http_allow_header(row->method, allow);
            json_t *line = json_pack("{s:s, s:s, s:s, s:s?, s:s}", "method", allow, "pattern", row->pattern, "auth",
                                     auth_names[row->auth], "section", row->section, "access",
                                     access_names[row->access]);
            char *text = json_dumps(line, JSON_COMPACT | JSON_PRESERVE_ORDER);
            puts(text);
            free(text);
            json_decref(line);
        }
    return CLI_OK;
}
