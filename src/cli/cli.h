/* The command-line interface: `atrium serve | migrate | demo | backup FILE | config docs | version |
 * help`, and `atrium user ...`. Exit status 0 on success, 1 on failure, 2 on bad usage or bad
 * configuration. */
#ifndef AT_CLI_H
#define AT_CLI_H

#include "base/config.h"
#include "store/store.h"

#define ATRIUM_VERSION "0.1.0"

enum { CLI_OK = 0, CLI_FAIL = 1, CLI_USAGE = 2 };

int cli_main(int argc, char **argv);

/* cli_setup loads and installs the configuration, prepares logging, crypto and the data folder, opens
 * the store and applies migrations. On failure it prints the reason and returns the exit status
 * (CLI_USAGE for configuration, CLI_FAIL otherwise); on success returns CLI_OK with *out open (the
 * caller closes it with store_close). */
int cli_setup(config *cfg, store **out);

/* Subcommands (one file each). argv[0] is the subcommand's name. */
int cli_serve(int argc, char **argv);
int cli_demo(int argc, char **argv);
int cli_user(int argc, char **argv);
int cli_audit(int argc, char **argv);
int cli_policy(int argc, char **argv);
int cli_routes(int argc, char **argv);
int cli_mail(int argc, char **argv);
int cli_billing(int argc, char **argv);

#endif
