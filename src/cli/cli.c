/* Command dispatch and the small commands: migrate, backup, config docs, version and help. */
#include "cli/cli.h"

#include "billing/catalog.h"
#include "billing/provider.h"

#include "base/crypto.h"
#include "base/err.h"
#include "base/log.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

static const char cli_usage[] =
    "Usage: atrium COMMAND [ARGS]\n"
    "\n"
    "Commands:\n"
    "  serve                 migrate the database, then serve the API and the web UI\n"
    "  migrate               apply pending database migrations and exit\n"
    "  demo                  seed demo data and print the demo logins\n"
    "  backup FILE           copy a SQLite database to FILE while it is in use\n"
    "  user add|list|disable|enable|set-password|grant-developer|revoke-developer ...\n"
    "                        manage user accounts (see `atrium user help`)\n"
    "  mail list [--limit N] | mail show ID\n"
    "                        the mail outbox: newest messages, or one message's headers and text\n"
    "  billing invoices WS | billing mark-paid|void|mark-uncollectible WS INVOICE | billing advance WS\n"
    "                        manual collection: list invoices, record a payment, run due billing events\n"
    "  audit verify [WS_ID]  check the audit log's hash chain; names the first broken event\n"
    "  routes                print the route table as JSON lines (method, pattern, auth, section, access)\n"
    "  policy docs           print the role table of the Settings sections (docs/security/authz.md)\n"
    "  config docs           print the settings reference (docs/configuration.md)\n"
    "  version               print the version\n"
    "  help                  print this help\n"
    "\n"
    "Configuration comes from ATRIUM_* environment variables and the optional INI file named by\n"
    "ATRIUM_CONFIG; `atrium config docs` lists every setting with its default.\n";

/* Creates the data folder (and its parents) if absent. */
static int cli_make_dirs(const char *path, char err[512])
{
    char tmp[1024];
    snprintf(tmp, sizeof(tmp), "%s", path);
    for (char *p = tmp + 1; *p; p++) {
        if (*p != '/')
            continue;
        *p = '\0';
        if (mkdir(tmp, 0700) != 0 && errno != EEXIST) {
            snprintf(err, 512, "ATRIUM_DATA_DIR: cannot create '%s': %s", tmp, strerror(errno));
            return AT_EINVAL;
        }
        *p = '/';
    }
    if (mkdir(tmp, 0700) != 0 && errno != EEXIST) {
        snprintf(err, 512, "ATRIUM_DATA_DIR: cannot create '%s': %s", tmp, strerror(errno));
        return AT_EINVAL;
    }
    return AT_OK;
}

int cli_setup(config *cfg, store **out)
{
    char err[512];
    char key_err[256];
    *out = NULL;
    if (config_load(cfg, err) != AT_OK) {
        fprintf(stderr, "atrium: configuration error: %s\n", err);
        return CLI_USAGE;
    }
    config_install(cfg);
    log_set_level(cfg->log_level);
    if (crypto_setup() != AT_OK) {
        fprintf(stderr, "atrium: libsodium failed to initialise\n");
        return CLI_FAIL;
    }
    if (cli_make_dirs(cfg->data_dir, err) != AT_OK) {
        fprintf(stderr, "atrium: configuration error: %s\n", err);
        return CLI_USAGE;
    }
    if (billing_catalog_load(cfg->billing_catalog, key_err) != AT_OK) {
        fprintf(stderr, "atrium: configuration error: ATRIUM_BILLING_CATALOG: %s\n", key_err);
        return CLI_USAGE;
    }
    if (!billing_provider_by_name(cfg->billing_provider)) {
        fprintf(stderr, "atrium: configuration error: ATRIUM_BILLING_PROVIDER: must be manual or stripe\n");
        return CLI_USAGE;
    }
    if (crypto_load_key(cfg->secret_key, cfg->data_dir, key_err) != AT_OK) {
        fprintf(stderr, "atrium: configuration error: ATRIUM_SECRET_KEY: %s\n", key_err);
        return CLI_USAGE;
    }
    if (store_open(cfg->database_url, cfg->db_pool_size, out, err) != AT_OK) {
        fprintf(stderr, "atrium: cannot open the database: %s\n", err);
        return CLI_FAIL;
    }
    if (store_migrate(*out, err) != AT_OK) {
        fprintf(stderr, "atrium: %s\n", err);
        store_close(*out);
        *out = NULL;
        return CLI_FAIL;
    }
    return CLI_OK;
}

static int cli_migrate(int argc, char **argv)
{
    config cfg;
    store *s;
    int db = 0, bin = 0;
    (void)argc;
    (void)argv;
    int rc = cli_setup(&cfg, &s);
    if (rc != CLI_OK)
        return rc;
    store_schema_version(s, &db, &bin);
    printf("database schema is at version %d (this binary knows up to %d)\n", db, bin);
    store_close(s);
    return CLI_OK;
}

static int cli_backup(int argc, char **argv)
{
    config cfg;
    store *s;
    char err[512];
    if (argc != 2) {
        fprintf(stderr, "usage: atrium backup FILE\n");
        return CLI_USAGE;
    }
    int rc = cli_setup(&cfg, &s);
    if (rc != CLI_OK)
        return rc;
    if (store_backup(s, argv[1], err) != AT_OK) {
        fprintf(stderr, "atrium: backup failed: %s\n", err);
        store_close(s);
        return CLI_FAIL;
    }
    printf("backup written to %s\n", argv[1]);
    store_close(s);
    return CLI_OK;
}

static int cli_config(int argc, char **argv)
{
    if (argc != 2 || strcmp(argv[1], "docs") != 0) {
        fprintf(stderr, "usage: atrium config docs\n");
        return CLI_USAGE;
    }
    char *md = config_docs_markdown();
    fputs(md, stdout);
    free(md);
    return CLI_OK;
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
        return cli_serve(argc - 1, argv + 1);
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
    if (strcmp(cmd, "config") == 0)
        return cli_config(argc - 1, argv + 1);
    fprintf(stderr, "atrium: unknown command '%s'\n\n%s", cmd, cli_usage);
    return CLI_USAGE;
}
