/* Temporary dispatcher; replaced by the full CLI. */
#include "cli/cli.h"

#include <stdio.h>

int cli_main(int argc, char **argv)
{
    (void)argc;
    (void)argv;
    puts("atrium");
    return 0;
}
