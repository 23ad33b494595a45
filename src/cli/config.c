/* `atrium config check`: the start-up checks of the configuration without starting anything. */
#include "cli/cli.h"

#include "billing/catalog.h"

#include "base/err.h"

#include <stdio.h>
#include <stdlib.h>

/* Loads and checks the configuration as `serve` does before it opens anything (values, combinations,
 * the listen hosts, the billing catalog), warns about unknown ATRIUM_* variables, and prints the
 * effective configuration with secrets hidden on standard output. Opens no database and creates
 * nothing. Returns CLI_OK, or CLI_USAGE after naming the bad setting on standard error. */
int cli_config_check(void)
{
    config cfg;
    char err[512], cat_err[256];
    int unknown = config_warn_unknown(stderr);
    if (config_load(&cfg, err) != AT_OK || config_check_listen(&cfg, err) != AT_OK) {
        fprintf(stderr, "atrium: configuration error: %s\n", err);
        return CLI_USAGE;
    }
    if (billing_catalog_load(cfg.billing_catalog, cat_err) != AT_OK) {
        fprintf(stderr, "atrium: configuration error: ATRIUM_BILLING_CATALOG: %s\n", cat_err);
        return CLI_USAGE;
    }
    char *text = config_effective_text(&cfg);
    fputs(text, stdout);
    free(text);
    printf("# configuration OK%s\n", unknown ? " (see the warnings about unknown variables)" : "");
    return CLI_OK;
}
