/* The command-line interface: `atrium serve | migrate | demo | backup FILE | restore FILE | doctor |
 * config docs | version | help`, and `atrium user|workspace|keys|mail|billing|audit ...`. Exit status 0
 * on success, 1 on failure, 2 on bad usage or bad configuration. */
#ifndef AT_CLI_H
#define AT_CLI_H

#include "base/config.h"
#include "store/store.h"

#define ATRIUM_VERSION "0.1.0"

enum { CLI_OK = 0, CLI_FAIL = 1, CLI_USAGE = 2 };

int cli_main(int argc, char **argv);

/* What a command's set-up may do (setup.c). Without flags the database must exist, be at the binary's
 * schema version, and match the server key. */
#define CLI_SETUP_MIGRATE    (1u << 0) /* apply pending migrations (migrate, serve) */
#define CLI_SETUP_CREATE     (1u << 1) /* may create a missing SQLite file; a schema-less database is migrated */
#define CLI_SETUP_NO_KEY     (1u << 2) /* do not load or check the server key (migrate needs none) */
#define CLI_SETUP_ANY_SCHEMA (1u << 3) /* neither check nor change the schema (migrate --status/--dry-run/--to) */

/* cli_setup_with loads and installs the configuration, prepares logging, crypto and the data folder,
 * checks that a SQLite file exists (unless CLI_SETUP_CREATE) and takes its shared lock, opens the
 * store, checks or applies the schema, and loads the server key and checks it against the database's
 * fingerprint. On failure it prints the reason and returns the exit status (CLI_USAGE for what the
 * operator must fix: configuration, a missing database or key, an older schema; CLI_FAIL otherwise);
 * on success returns CLI_OK with *out open (the caller closes it with store_close).
 * cli_setup is cli_setup_with the flags the dispatcher set for this command (cli_set_setup_flags;
 * none unless it is `serve`). */
int cli_setup_with(unsigned flags, config *cfg, store **out);
int cli_setup(config *cfg, store **out);
void cli_set_setup_flags(unsigned flags);
/* cli_setup_base is the part of the set-up that needs no database and creates nothing (configuration,
 * logging, crypto, billing catalog). Returns CLI_OK, CLI_USAGE or CLI_FAIL, having printed why. */
int cli_setup_base(config *cfg);
/* cli_sqlite_path returns the file path inside a sqlite: URL (a pointer into url), or NULL for
 * another kind of URL. */
const char *cli_sqlite_path(const char *url);
/* cli_lock_database takes the advisory lock of a SQLite database (DB.lock beside it), shared or
 * exclusive, without waiting; held until the process exits. AT_OK, AT_EBUSY (another process holds
 * it) or AT_EINVAL, with a message in err. */
int cli_lock_database(const char *db_path, bool exclusive, char err[512]);
/* cli_key_check loads the server key and checks it against the fingerprint in s (setup.c). */
#define CLI_KEY_RECORD    (1u << 0) /* record the fingerprint when the database has none yet */
#define CLI_KEY_NO_CREATE (1u << 1) /* never create a key file, even for an empty database */
#define CLI_KEY_INSTALLED (1u << 2) /* the key is already installed (restore --with-key); check it only */
int cli_key_check(store *s, const config *cfg, unsigned how);

/* Subcommands (one file each). argv[0] is the subcommand's name. */
int cli_serve(int argc, char **argv);
int cli_demo(int argc, char **argv);
int cli_user(int argc, char **argv);
int cli_audit(int argc, char **argv);
int cli_policy(int argc, char **argv);
int cli_routes(int argc, char **argv);
/* `atrium config check` (config.c): every setting checked as at start, unknown ATRIUM_* variables
 * warned about, the effective configuration printed with secrets hidden. Returns CLI_OK or CLI_USAGE. */
int cli_config_check(void);
int cli_mail(int argc, char **argv);
int cli_billing(int argc, char **argv);
int cli_backup(int argc, char **argv);
int cli_restore(int argc, char **argv);
int cli_workspace(int argc, char **argv);
int cli_keys(int argc, char **argv);
int cli_doctor(int argc, char **argv);

#endif
