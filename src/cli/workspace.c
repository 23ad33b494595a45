/* `atrium workspace add-owner WS_ID EMAIL`: recovery when a workspace has lost its owners (they left,
 * were erased, or nobody can sign in). The change is audited in the workspace as done by the operator. */
#include "cli/cli.h"

#include "base/email.h"
#include "base/err.h"
#include "base/id.h"
#include "team/recovery.h"

#include <stdio.h>
#include <string.h>

static const char workspace_usage[] = "Usage: atrium workspace add-owner WS_ID EMAIL\n"
                                      "  make the person an active owner of the workspace (audited as the operator)\n";

int cli_workspace(int argc, char **argv)
{
    config cfg;
    store *s = NULL;
    char email[EMAIL_MAX + 1];
    recovery_result r;
    if (argc == 2 && strcmp(argv[1], "help") == 0) {
        fputs(workspace_usage, stdout);
        return CLI_OK;
    }
    if (argc != 4 || strcmp(argv[1], "add-owner") != 0) {
        fprintf(stderr, "atrium: %s\n%s", argc < 2 ? "missing command" : "unknown workspace command or arguments",
                workspace_usage);
        return CLI_USAGE;
    }
    if (!id_valid("ws", argv[2], strlen(argv[2]))) {
        fprintf(stderr, "atrium: no such workspace: %s\n", argv[2]);
        return CLI_USAGE;
    }
    if (email_normalize(argv[3], strlen(argv[3]), email) != AT_OK) {
        fprintf(stderr, "atrium: workspace add-owner needs a valid EMAIL\n%s", workspace_usage);
        return CLI_USAGE;
    }
    int rc = cli_setup(&cfg, &s);
    if (rc != CLI_OK)
        return rc;
    int st = recovery_add_owner(s, argv[2], email, &recovery_operator, &r);
    store_close(s);
    rc = CLI_FAIL;
    if (st == AT_ENOTFOUND && strcmp(r.missing ? r.missing : "", "workspace") == 0) {
        fprintf(stderr, "atrium: no such workspace: %s\n", argv[2]);
        rc = CLI_USAGE;
    } else if (st == AT_ENOTFOUND) {
        fprintf(stderr, "atrium: no user with email %s (add one with `atrium user add %s`)\n", email, email);
        rc = CLI_USAGE;
    } else if (st == AT_EINVAL) {
        fprintf(stderr, "atrium: refused: the workspace is deleted or %s is disabled (atrium user enable %s)\n", email,
                email);
        rc = CLI_USAGE;
    } else if (st != AT_OK) {
        fprintf(stderr, "atrium: could not add the owner (%s)\n", at_status_name(st));
    } else {
        printf("%s is now an owner of \"%s\" (%s)%s\n", email, r.ws_name ? r.ws_name : "", argv[2],
               r.was_member ? "; their membership was promoted" : "");
        rc = CLI_OK;
    }
    recovery_result_free(&r);
    return rc;
}
