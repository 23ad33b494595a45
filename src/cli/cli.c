/* Command dispatch and the small commands: migrate, config docs, version and help. */
#include "cli/cli.h"

#include "base/clock.h"
#include "base/err.h"
#include "base/log.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const char cli_usage[] =
    "Usage: atrium COMMAND [ARGS]\n"
    "\n"
    "Commands:\n"
    "  serve [--init]        migrate the database, then serve the API and the web UI (--init: may create a\n"
    "                        new database; without it a missing database is an error)\n"
    "  migrate [--status | --dry-run | --to VERSION]\n"
    "                        apply pending database migrations and exit (the only command besides serve\n"
    "                        that changes the schema; creates a new database)\n"
    "  demo [--force]        seed demo data and print the demo logins (development and test only)\n"
    "  backup FILE [--with-key]\n"
    "                        copy a SQLite database to FILE (0600, with FILE.sha256) while it is in use;\n"
    "                        --with-key adds FILE.key, the key sealed with a passphrase from stdin\n"
    "  restore FILE [--with-key]\n"
    "                        replace the (stopped) SQLite database with a checked backup\n"
    "  user add|list|disable|enable|set-password|grant-developer|revoke-developer ...\n"
    "                        manage user accounts (see `atrium user help`)\n"
    "  user workspaces|end-sessions|erase EMAIL\n"
    "                        recovery: the person's workspaces and roles, sign them out everywhere, erase\n"
    "                        their personal data (audit events keep the user id)\n"
    "  workspace add-owner WS_ID EMAIL\n"
    "                        recovery: make the person an owner of the workspace (audited as the operator)\n"
    "  doctor [--mail-to ADDR]\n"
    "                        check the database, the keys, the schema version, the audit chains and mail\n"
    "  keys list | keys rotate\n"
    "                        the server keys: list them, or make a new active key (old ones keep verifying)\n"
    "  mail list [--limit N] | mail show ID\n"
    "                        the mail outbox: newest messages, or one message's headers and text\n"
    "  billing invoices WS | billing mark-paid|void|mark-uncollectible WS INVOICE | billing advance WS\n"
    "                        manual collection: list invoices, record a payment, run due billing events\n"
    "  audit verify [WS_ID]  check the audit log's hash chain; names the first broken event\n"
    "  routes                print the route table as JSON lines (method, pattern, auth, section, access)\n"
    "  policy docs           print the role table of the Settings sections (docs/security/authz.md)\n"
    "  config docs           print the settings reference (docs/configuration.md)\n"
    "  config check          check every setting, warn about unknown ATRIUM_* variables and print the\n"
    "                        effective configuration with secrets hidden (exit 2 when a setting is bad)\n"
    "  version               print the version\n"
    "  help                  print this help\n"
    "\n"
    "Configuration comes from ATRIUM_* environment variables and the optional INI file named by\n"
    "ATRIUM_CONFIG; `atrium config docs` lists every setting with its default.\n";

static const char cli_migrate_usage[] = "usage: atrium migrate [--status | --dry-run | --to VERSION]\n"
                                        "  (no option)    apply every pending migration (creates a new database)\n"
                                        "  --status       list the applied and the pending migrations; change nothing\n"
                                        "  --dry-run      list what `atrium migrate` would apply; change nothing\n"
                                        "  --to VERSION   apply the pending migrations up to VERSION only\n";

/* Prints the embedded migrations with their state: all of them (--status) or the pending ones
 * (--dry-run). */
static int cli_migrate_report(store *s, bool pending_only)
{
    store_migration_state *rows = NULL;
    int n = 0, db = 0, bin = 0, pending = 0;
    if (store_schema_version(s, &db, &bin) != AT_OK || store_migration_status(s, &rows, &n) != AT_OK) {
        fprintf(stderr, "atrium: cannot read the schema version\n");
        return CLI_FAIL;
    }
    printf("database schema %d, binary %d%s\n", db, bin, db > bin ? " (the database is newer: upgrade atrium)" : "");
    for (int i = 0; i < n; i++) {
        char when[32];
        if (rows[i].applied_at) {
            if (pending_only)
                continue;
            clock_format_rfc3339(rows[i].applied_at, when);
            printf("applied  %-32s %s\n", rows[i].name, when);
        } else {
            printf("%s  %s\n", pending_only ? "would apply" : "pending", rows[i].name);
            pending++;
        }
    }
    if (pending_only && pending)
        printf("dry run: nothing was applied; `atrium migrate` would apply the %d above\n", pending);
    else if (pending_only)
        printf("nothing to apply: the database is up to date\n");
    free(rows);
    return CLI_OK;
}

/* `atrium migrate [--status | --dry-run | --to VERSION]`. Migrating needs no server key, so none is
 * loaded or created here; the first `serve` records the key's fingerprint. */
static int cli_migrate(int argc, char **argv)
{
    config cfg;
    store *s = NULL;
    char err[512];
    int db = 0, bin = 0, rc;
    long to = 0;
    const char *opt = argc >= 2 ? argv[1] : "";
    if (argc == 2 && (strcmp(opt, "--help") == 0 || strcmp(opt, "-h") == 0)) {
        fputs(cli_migrate_usage, stdout);
        return CLI_OK;
    }
    bool report = argc == 2 && (strcmp(opt, "--status") == 0 || strcmp(opt, "--dry-run") == 0);
    if (argc == 3 && strcmp(opt, "--to") == 0) {
        char *end = NULL;
        to = strtol(argv[2], &end, 10);
        if (!*argv[2] || *end || to < 1 || to > 1000000) {
            fprintf(stderr, "atrium: --to takes a migration number\n%s", cli_migrate_usage);
            return CLI_USAGE;
        }
    } else if (argc != 1 && !report) {
        fprintf(stderr, "atrium: unknown migrate arguments\n%s", cli_migrate_usage);
        return CLI_USAGE;
    }
    unsigned flags = report ? CLI_SETUP_NO_KEY | CLI_SETUP_ANY_SCHEMA
                     : to   ? CLI_SETUP_NO_KEY | CLI_SETUP_ANY_SCHEMA | CLI_SETUP_CREATE
                            : CLI_SETUP_NO_KEY | CLI_SETUP_MIGRATE | CLI_SETUP_CREATE;
    if ((rc = cli_setup_with(flags, &cfg, &s)) != CLI_OK)
        return rc;
    if (report) {
        rc = cli_migrate_report(s, strcmp(opt, "--dry-run") == 0);
        goto out;
    }
    if (to) {
        store_schema_version(s, &db, &bin);
        if (db > to) {
            fprintf(stderr, "atrium: the database is already at schema %d; migrations are never undone\n", db);
            rc = CLI_USAGE;
            goto out;
        }
        int st = store_migrate_to(s, (int)to, err);
        if (st != AT_OK) {
            fprintf(stderr, "atrium: %s\n", err);
            rc = st == AT_EINVAL ? CLI_USAGE : CLI_FAIL;
            goto out;
        }
    }
    store_schema_version(s, &db, &bin);
    printf("database schema is at version %d (this binary knows up to %d)\n", db, bin);
out:
    store_close(s);
    return rc;
}

static int cli_config(int argc, char **argv)
{
    if (argc == 2 && strcmp(argv[1], "check") == 0)
        return cli_config_check();
    if (argc != 2 || strcmp(argv[1], "docs") != 0) {
        fprintf(stderr, "usage: atrium config docs | atrium config check\n");
        return CLI_USAGE;
    }
    char *md = config_docs_markdown();
    fputs(md, stdout);
    free(md);
    return CLI_OK;
}

/* `atrium serve [--init]`: the set-up options are taken here, so serve.c sees only its own arguments.
 * serve migrates; with --init it may also create a new SQLite database (a fresh install). */
static int cli_serve_dispatch(int argc, char **argv)
{
    unsigned flags = CLI_SETUP_MIGRATE;
    if (argc >= 2 && strcmp(argv[1], "--init") == 0) {
        flags |= CLI_SETUP_CREATE;
        argv[1] = argv[0];
        argc--;
        argv++;
    }
    cli_set_setup_flags(flags);
    return cli_serve(argc, argv);
}

int cli_main(int argc, char **argv)
{
    if (argc < 2 || strcmp(argv[1], "help") == 0 || strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0) {
        fputs(cli_usage, argc < 2 ? stderr : stdout);
        return argc < 2 ? CLI_USAGE : CLI_OK;
    }
    const char *cmd = argv[1];
    if (strcmp(cmd, "version") == 0 || strcmp(cmd, "--version") == 0) {
        printf("atrium %s\n", ATRIUM_VERSION);
        return CLI_OK;
    }
    if (strcmp(cmd, "serve") == 0)
        return cli_serve_dispatch(argc - 1, argv + 1);
    if (strcmp(cmd, "migrate") == 0)
        return cli_migrate(argc - 1, argv + 1);
    if (strcmp(cmd, "demo") == 0)
        return cli_demo(argc - 1, argv + 1);
    if (strcmp(cmd, "audit") == 0)
        return cli_audit(argc - 1, argv + 1);
    if (strcmp(cmd, "mail") == 0)
        return cli_mail(argc - 1, argv + 1);
    if (strcmp(cmd, "billing") == 0)
        return cli_billing(argc - 1, argv + 1);
    if (strcmp(cmd, "routes") == 0)
        return cli_routes(argc - 1, argv + 1);
    if (strcmp(cmd, "policy") == 0)
        return cli_policy(argc - 1, argv + 1);
    if (strcmp(cmd, "user") == 0)
        return cli_user(argc - 1, argv + 1);
    if (strcmp(cmd, "backup") == 0)
        return cli_backup(argc - 1, argv + 1);
    if (strcmp(cmd, "restore") == 0)
        return cli_restore(argc - 1, argv + 1);
    if (strcmp(cmd, "workspace") == 0)
        return cli_workspace(argc - 1, argv + 1);
    if (strcmp(cmd, "keys") == 0)
        return cli_keys(argc - 1, argv + 1);
    if (strcmp(cmd, "doctor") == 0)
        return cli_doctor(argc - 1, argv + 1);
    if (strcmp(cmd, "config") == 0)
        return cli_config(argc - 1, argv + 1);
    fprintf(stderr, "atrium: unknown command '%s'\n\n%s", cmd, cli_usage);
    return CLI_USAGE;
}
