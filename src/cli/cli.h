/* The command-line interface: `atrium serve | migrate | demo | backup FILE | config docs | version |
 * help`, and `atrium user ...`. Exit status 0 on success, 1 on failure, 2 on bad usage or bad
 * configuration. */
#ifndef AT_CLI_H
#define AT_CLI_H

int cli_main(int argc, char **argv);

#endif
