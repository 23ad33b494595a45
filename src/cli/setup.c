/* What every command that touches the database does first (cli_setup): configuration, crypto, the
 * data folder, the database (which must exist unless the command may create it), the schema version
 * (only `migrate` and `serve` change it; every other command refuses an older schema), and the server
 * key, which must be the one the database was made with (its fingerprint is in instance_facts). */
#include "cli/cli.h"

#include "billing/catalog.h"
#include "billing/provider.h"

#include "base/clock.h"
#include "base/crypto.h"
#include "base/err.h"
#include "base/log.h"
#include "base/mem.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

static unsigned cli_setup_default_flags;
static int cli_lock_fd = -1; /* held until the process exits */

static int cli_make_dirs(const char *path, const char *what, char err[512]);
static int cli_prepare_database(const config *cfg, unsigned flags);
static int cli_schema(store *s, unsigned flags);
static int cli_holds_data(store *s, bool *out);
static int cli_read_fingerprint(store *s, bool *have_table, char out[CRYPTO_DIGEST_HEX]);
static int cli_record_fingerprint(store_conn *c, void *ctx);
static int cli_key_ring(store *s, const config *cfg);

void cli_set_setup_flags(unsigned flags)
{
    cli_setup_default_flags = flags;
}

int cli_setup(config *cfg, store **out)
{
    return cli_setup_with(cli_setup_default_flags, cfg, out);
}

/* cli_setup_base: the part of the set-up that needs no database and creates nothing. */
int cli_setup_base(config *cfg)
{
    char err[512];
    char key_err[256];
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
    if (billing_catalog_load(cfg->billing_catalog, key_err) != AT_OK) {
        fprintf(stderr, "atrium: configuration error: ATRIUM_BILLING_CATALOG: %s\n", key_err);
        return CLI_USAGE;
    }
    if (!billing_provider_by_name(cfg->billing_provider)) {
        fprintf(stderr, "atrium: configuration error: ATRIUM_BILLING_PROVIDER: must be manual or stripe\n");
        return CLI_USAGE;
    }
    return CLI_OK;
}

int cli_setup_with(unsigned flags, config *cfg, store **out)
{
    char err[512];
    *out = NULL;
    int rc = cli_setup_base(cfg);
    if (rc != CLI_OK)
        return rc;
    if ((rc = cli_prepare_database(cfg, flags)) != CLI_OK)
        return rc;
    /* Only now: a command refused for a mistyped database path leaves no folder behind. */
    if (cli_make_dirs(cfg->data_dir, "ATRIUM_DATA_DIR", err) != AT_OK) {
        fprintf(stderr, "atrium: configuration error: %s\n", err);
        return CLI_USAGE;
    }
    if (store_open(cfg->database_url, cfg->db_pool_size, out, err) != AT_OK) {
        char *shown = config_mask_secrets(cfg, err); /* libpq may quote the URL, password and all */
        fprintf(stderr, "atrium: cannot open the database: %s\n", shown);
        free(shown);
        return CLI_FAIL;
    }
    /* The key is checked before migrating (a wrong key stops `serve` before it changes anything) and
     * again after, when the migration that holds the fingerprint may just have been applied. */
    bool keyed = !(flags & CLI_SETUP_NO_KEY);
    if (keyed && (flags & (CLI_SETUP_MIGRATE | CLI_SETUP_CREATE)) &&
        (rc = cli_key_check(*out, cfg, CLI_KEY_RECORD)) != CLI_OK)
        goto fail;
    if (!(flags & CLI_SETUP_ANY_SCHEMA) && (rc = cli_schema(*out, flags)) != CLI_OK)
        goto fail;
    if (keyed && (rc = cli_key_check(*out, cfg, CLI_KEY_RECORD)) != CLI_OK)
        goto fail;
    return CLI_OK;
fail:
    store_close(*out);
    *out = NULL;
    return rc;
}

const char *cli_sqlite_path(const char *url)
{
    if (!url || strncmp(url, "sqlite:", 7) != 0)
        return NULL;
    url += 7;
    if (strncmp(url, "//", 2) == 0)
        url += 2;
    return url;
}

/* cli_lock_database takes the database's advisory lock, PATH.lock beside a SQLite file: shared for
 * every command (a server holds it while it runs), exclusive for `atrium restore`, which must be alone.
 * flock is not SQLite's own (POSIX) lock, and the lock file is not the database, so neither disturbs
 * the other. The lock is held until the process exits. */
int cli_lock_database(const char *db_path, bool exclusive, char err[512])
{
    size_t lock_size = strlen(db_path) + sizeof(".lock");
    char *lock = xmalloc(lock_size);
    snprintf(lock, lock_size, "%s.lock", db_path);
    int rc = AT_OK;
    int fd = open(lock, O_RDWR | O_CREAT | O_CLOEXEC, 0600);
    if (fd < 0) {
        snprintf(err, 512, "cannot open the lock file %s: %s", lock, strerror(errno));
        rc = AT_EINVAL;
        goto out;
    }
    if (flock(fd, (exclusive ? LOCK_EX : LOCK_SH) | LOCK_NB) != 0) {
        snprintf(err, 512,
                 exclusive ? "%s is in use (a server or another atrium command holds %s); stop it first"
                           : "%s is being restored (atrium restore holds %s); try again when it is done",
                 db_path, lock);
        close(fd);
        rc = AT_EBUSY;
        goto out;
    }
    if (cli_lock_fd >= 0)
        close(cli_lock_fd);
    cli_lock_fd = fd;
out:
    free(lock);
    return rc;
}

/* cli_prepare_database: a SQLite file that does not exist is a mistyped path unless the command may
 * create it (CLI_SETUP_CREATE: migrate, demo, serve --init), which then also creates its folder. Then
 * the shared lock. PostgreSQL needs neither (a database that does not exist fails to connect). */
static int cli_prepare_database(const config *cfg, unsigned flags)
{
    char err[512];
    const char *path = cli_sqlite_path(cfg->database_url);
    struct stat st;
    if (!path || !*path || strcmp(path, ":memory:") == 0)
        return CLI_OK;
    if (stat(path, &st) != 0) {
        if (errno != ENOENT || !(flags & CLI_SETUP_CREATE)) {
            fprintf(stderr,
                    "atrium: no database at %s (ATRIUM_DATABASE_URL): check the path; a new database is "
                    "created only by `atrium migrate`, `atrium demo` or `atrium serve --init`\n",
                    path);
            return CLI_USAGE;
        }
        char *dir = xstrdup(path);
        char *slash = strrchr(dir, '/');
        int rc = AT_OK;
        if (slash && slash != dir) {
            *slash = '\0';
            rc = cli_make_dirs(dir, "ATRIUM_DATABASE_URL", err);
        }
        free(dir);
        if (rc != AT_OK) {
            fprintf(stderr, "atrium: configuration error: %s\n", err);
            return CLI_USAGE;
        }
    }
    if (cli_lock_database(path, false, err) != AT_OK) {
        fprintf(stderr, "atrium: %s\n", err);
        return CLI_USAGE;
    }
    return CLI_OK;
}

/* cli_schema applies migrations when the command may (CLI_SETUP_MIGRATE, or CLI_SETUP_CREATE on a
 * database that has no schema yet); otherwise the database must be at the binary's version. */
static int cli_schema(store *s, unsigned flags)
{
    char err[512];
    int db = 0, bin = 0;
    if (store_schema_version(s, &db, &bin) != AT_OK) {
        fprintf(stderr, "atrium: cannot read the schema version\n");
        return CLI_FAIL;
    }
    if ((flags & CLI_SETUP_MIGRATE) || ((flags & CLI_SETUP_CREATE) && db == 0)) {
        if (store_migrate(s, err) != AT_OK) {
            fprintf(stderr, "atrium: %s\n", err);
            return CLI_FAIL;
        }
        return CLI_OK;
    }
    if (db > bin) {
        fprintf(stderr, "atrium: database schema version %d is newer than this binary (%d); upgrade atrium\n", db, bin);
        return CLI_FAIL;
    }
    if (db < bin) {
        fprintf(stderr,
                "atrium: schema %d, binary %d: run atrium migrate (back up first: `atrium backup FILE` with the binary "
                "that made this database)\n",
                db, bin);
        return CLI_USAGE;
    }
    return CLI_OK;
}

/* ------------------------------------------------------------------------------------------------ */
/* The key and its fingerprint                                                                      */
/* ------------------------------------------------------------------------------------------------ */

/* cli_key_check installs the server key and makes sure it belongs to the database s:
 *   - no key yet: created only when the database holds no data (a fresh install); otherwise refused,
 *     since a new key would silently invalidate every session, API key and audit hash;
 *   - the database records a fingerprint: the key must match it;
 *   - none recorded yet (a fresh database, or one made before 0012): with CLI_KEY_RECORD it is recorded
 *     now (when the table exists), and a concurrent recorder with another key makes this one refuse.
 * Returns CLI_OK, CLI_USAGE (with a message saying what to restore) or CLI_FAIL. */
int cli_key_check(store *s, const config *cfg, unsigned how)
{
    char err[256];
    char mine[CRYPTO_DIGEST_HEX], theirs[CRYPTO_DIGEST_HEX];
    bool holds = false, have_table = false;
    const bool from_env = cfg->secret_key[0] != '\0';
    char where[1100];
    if (from_env)
        snprintf(where, sizeof(where), "ATRIUM_SECRET_KEY");
    else
        snprintf(where, sizeof(where), "%s/keys/hash.key", cfg->data_dir);

    if (cli_holds_data(s, &holds) != AT_OK || cli_read_fingerprint(s, &have_table, theirs) != AT_OK) {
        fprintf(stderr, "atrium: cannot read the database\n");
        return CLI_FAIL;
    }
    int rc = AT_OK;
    if (how & CLI_KEY_INSTALLED)
        snprintf(where, sizeof(where), "the backup's key file");
    else
        rc = crypto_load_key(cfg->secret_key, cfg->data_dir, !holds && !(how & CLI_KEY_NO_CREATE), NULL, err);
    if (rc == AT_ENOTFOUND) {
        fprintf(stderr,
                "atrium: this database holds data but its key is missing (%s): restore the keys/ folder that was "
                "backed up with this database into %s/ (or set ATRIUM_SECRET_KEY to that key). A new key would make "
                "every session, API key and the audit chain invalid, so none is created.\n",
                where, cfg->data_dir);
        return CLI_USAGE;
    }
    if (rc != AT_OK) {
        fprintf(stderr, "atrium: configuration error: %s: %s\n", from_env ? "ATRIUM_SECRET_KEY" : "key", err);
        return CLI_USAGE;
    }
    crypto_key_fingerprint("k1", mine);
    if (!theirs[0] && have_table && (how & CLI_KEY_RECORD)) {
        if (store_tx(s, true, cli_record_fingerprint, mine) != AT_OK ||
            cli_read_fingerprint(s, &have_table, theirs) != AT_OK) {
            fprintf(stderr, "atrium: cannot record the key fingerprint\n");
            return CLI_FAIL;
        }
    }
    if (theirs[0] && strcmp(mine, theirs) != 0) {
        fprintf(stderr,
                "atrium: the key in %s does not belong to this database (key fingerprint %.16s, the database "
                "expects %.16s): restore the keys/ folder that was backed up with this database (or point "
                "ATRIUM_DATA_DIR at the data folder it belongs to). Several processes on one database share one "
                "key.\n",
                where, mine, theirs);
        return CLI_USAGE;
    }
    return have_table ? cli_key_ring(s, cfg) : CLI_OK;
}

/* cli_key_ring checks the rotated keys: every key the database records (instance_facts
 * 'key_fingerprint:kN', written by `atrium keys rotate`) must be in keys/ with that fingerprint, since
 * digests and audit events made under it are verified with it; then the recorded active key is made
 * active. Returns CLI_OK, CLI_USAGE (saying which file to restore) or CLI_FAIL. */
static int cli_key_ring(store *s, const config *cfg)
{
    store_conn *c = NULL;
    store_rows *r = NULL;
    char mine[CRYPTO_DIGEST_HEX];
    int rc = store_acquire(s, &c);
    if (rc != AT_OK) {
        fprintf(stderr, "atrium: cannot read the database\n");
        return CLI_FAIL;
    }
    rc =
        store_query(c,
                    "SELECT name, value FROM instance_facts WHERE name LIKE 'key_fingerprint:%' OR name = 'active_key' "
                    "ORDER BY name",
                    NULL, 0, &r);
    int out = rc == AT_OK ? CLI_OK : CLI_FAIL;
    while (out == CLI_OK && store_rows_next(r) == 1) {
        const char *name = store_rows_text(r, 0), *value = store_rows_text(r, 1);
        if (strcmp(name, "active_key") == 0) {
            if (crypto_key_activate(value) != AT_OK) {
                fprintf(stderr, "atrium: the database's active key %s is not in %s/keys/\n", value, cfg->data_dir);
                out = CLI_USAGE;
            }
            continue;
        }
        const char *kid = name + strlen("key_fingerprint:");
        if (crypto_key_fingerprint(kid, mine) != AT_OK) {
            fprintf(stderr,
                    "atrium: this database uses the rotated key %s, but %s/keys/%s.key is missing: copy it (and every "
                    "keys/k*.key) from the data folder of the process that ran `atrium keys rotate`, or restore the "
                    "keys/ folder backed up with this database\n",
                    kid, cfg->data_dir, kid);
            out = CLI_USAGE;
        } else if (strcmp(mine, value) != 0) {
            fprintf(stderr,
                    "atrium: %s/keys/%s.key does not belong to this database (fingerprint %.16s, the database expects "
                    "%.16s): restore the keys/ folder that was backed up with this database\n",
                    cfg->data_dir, kid, mine, value);
            out = CLI_USAGE;
        }
    }
    store_rows_free(r);
    store_release(c);
    if (out == CLI_FAIL)
        fprintf(stderr, "atrium: cannot read the recorded keys\n");
    return out;
}

/* A database holds data once it has recorded a key or has any user or workspace. */
static int cli_holds_data(store *s, bool *out)
{
    static const struct {
        const char *table, *sql;
    } probes[] = {
        {"instance_facts", "SELECT COUNT(*) FROM instance_facts"},
        {"users", "SELECT COUNT(*) FROM users"},
        {"workspaces", "SELECT COUNT(*) FROM workspaces"},
    };
    *out = false;
    for (size_t i = 0; i < sizeof probes / sizeof probes[0] && !*out; i++) {
        bool exists = false;
        int64_t n = 0;
        store_conn *c = NULL;
        int rc = store_table_exists(s, probes[i].table, &exists);
        if (rc != AT_OK)
            return rc;
        if (!exists)
            continue;
        if ((rc = store_acquire(s, &c)) != AT_OK)
            return rc;
        rc = store_query_int(c, probes[i].sql, NULL, 0, &n);
        store_release(c);
        if (rc != AT_OK)
            return rc;
        *out = n > 0;
    }
    return AT_OK;
}

/* Reads the recorded fingerprint into out ("" when none or when the table does not exist yet). */
static int cli_read_fingerprint(store *s, bool *have_table, char out[CRYPTO_DIGEST_HEX])
{
    store_conn *c = NULL;
    store_rows *r = NULL;
    out[0] = '\0';
    int rc = store_table_exists(s, "instance_facts", have_table);
    if (rc != AT_OK || !*have_table)
        return rc;
    if ((rc = store_acquire(s, &c)) != AT_OK)
        return rc;
    rc = store_query(c, "SELECT value FROM instance_facts WHERE name = 'key_fingerprint'", NULL, 0, &r);
    if (rc == AT_OK) {
        if ((rc = store_rows_next(r)) == 1)
            snprintf(out, CRYPTO_DIGEST_HEX, "%s", store_rows_text(r, 0));
        store_rows_free(r);
    }
    store_release(c);
    return rc < 0 ? rc : AT_OK;
}

/* store_tx step: records ctx (the fingerprint) unless another process recorded one first. */
static int cli_record_fingerprint(store_conn *c, void *ctx)
{
    store_arg a[] = {sa_text(ctx), sa_int(clock_now_us())};
    return store_exec(c,
                      "INSERT INTO instance_facts (name, value, created_at) VALUES ('key_fingerprint', $1, $2) "
                      "ON CONFLICT (name) DO NOTHING",
                      a, 2, NULL);
}

/* Creates a folder and its parents (0700) if absent; `what` names the setting in the message. */
static int cli_make_dirs(const char *path, const char *what, char err[512])
{
    if (!*path)
        return AT_OK;
    char *tmp = xstrdup(path);
    int rc = AT_OK;
    for (char *p = tmp + 1;; p++) {
        if (*p != '/' && *p != '\0')
            continue;
        char was = *p;
        *p = '\0';
        if (mkdir(tmp, 0700) != 0 && errno != EEXIST) {
            snprintf(err, 512, "%s: cannot create '%s': %s", what, tmp, strerror(errno));
            rc = AT_EINVAL;
            break;
        }
        *p = was;
        if (!was)
            break;
    }
    free(tmp);
    return rc;
}
