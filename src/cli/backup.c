/* `atrium backup FILE` and `atrium restore FILE` on SQLite (PostgreSQL: pg_dump and pg_restore, see
 * docs/operations.md).
 *
 * A backup is written beside its target under a temporary name, made 0600, checksummed and renamed
 * into place, so FILE is either the previous file or a whole backup; FILE.sha256 holds its checksum in
 * `sha256sum` form. A restore takes the database's exclusive lock (so no server or command uses it),
 * copies the backup to a temporary file beside the database and checks that copy (checksum, integrity,
 * schema version, key fingerprint, audit chain) before it removes the old -wal/-shm and renames the
 * copy over the database. */
#include "cli/cli.h"

#include "audit/audit.h"
#include "base/crypto.h"
#include "base/err.h"
#include "base/mem.h"

#include <errno.h>
#include <fcntl.h>
#include <libgen.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

static const char backup_usage[] =
    "usage: atrium backup FILE [--with-key]\n"
    "  Copies the SQLite database to FILE (mode 0600) while it is in use, and writes its\n"
    "  checksum to FILE.sha256. Keep the key (DATA_DIR/keys/) with the backup; --with-key\n"
    "  also writes it to FILE.key, sealed with a passphrase read from standard input.\n";
static const char restore_usage[] =
    "usage: atrium restore FILE [--with-key]\n"
    "  Replaces the SQLite database with the backup FILE, after checking it (FILE.sha256 when\n"
    "  present, integrity, schema version, key fingerprint, audit chain). Stop the server first.\n"
    "  --with-key installs the key from FILE.key (passphrase on standard input) into a data\n"
    "  folder that has none.\n";

enum { BACKUP_PASSPHRASE_MIN = 12 };

enum { BACKUP_HELP = -1 }; /* backup_file_arg: the usage was asked for and printed */

static char *backup_concat(const char *a, const char *b);
static int backup_file_arg(int argc, char **argv, const char *usage, const char **file, bool *with_key);
static char *backup_read_passphrase(void);
static int backup_write_key(const char *file, const char *pass);
static int restore_install_key(const config *cfg, const char *file);
static bool backup_is_live(const char *target, const char *db);
static int backup_fsync_path(const char *path, bool dir);
static int backup_write_checksum(const char *file, const char *hex);
static int backup_verify_checksum(const char *file);
static int backup_copy(const char *from, const char *to);
static int restore_check(const config *cfg, const char *copy, bool key_installed);

/* The files of the temporary copy a failed restore removes. */
static const char *const copy_parts[] = {"", "-wal", "-shm"};

/* cli_backup: the online backup (store_backup) into a temporary file, then 0600, fsync, checksum and
 * rename. Refuses an empty or option-like name and the live database itself. */
int cli_backup(int argc, char **argv)
{
    config cfg;
    store *s = NULL;
    char err[512], hex[CRYPTO_DIGEST_HEX];
    char *tmp = NULL;
    const char *file = NULL;
    bool with_key = false;
    int rc = backup_file_arg(argc, argv, backup_usage, &file, &with_key);
    if (rc != CLI_OK)
        return rc == BACKUP_HELP ? CLI_OK : rc;
    /* The passphrase first: a backup must not be written when its key cannot be. */
    char *pass = with_key ? backup_read_passphrase() : NULL;
    if (with_key && !pass)
        return CLI_USAGE;
    if ((rc = cli_setup(&cfg, &s)) != CLI_OK)
        goto wipe_pass;
    rc = CLI_FAIL;
    if (with_key && crypto_key_count() > 1) {
        fprintf(stderr, "atrium: --with-key carries one key, and the keys have been rotated (atrium keys list): back "
                        "up without it and copy %s/keys/ (every file) with the backup\n",
                cfg.data_dir);
        rc = CLI_USAGE;
        goto close_store;
    }
    const char *db = cli_sqlite_path(cfg.database_url);
    if (!db) { /* PostgreSQL: store_backup explains pg_dump */
        if (store_backup(s, file, err) != AT_OK)
            fprintf(stderr, "atrium: backup failed: %s\n", err);
        goto close_store;
    }
    struct stat st;
    if (stat(file, &st) == 0 && S_ISDIR(st.st_mode)) {
        fprintf(stderr, "atrium: %s is a folder; name the backup file inside it\n", file);
        rc = CLI_USAGE;
        goto close_store;
    }
    if (backup_is_live(file, db)) {
        fprintf(stderr, "atrium: %s is the live database (or one of its files); name another file\n", file);
        rc = CLI_USAGE;
        goto close_store;
    }
    char suffix[32];
    snprintf(suffix, sizeof suffix, ".tmp-%ld", (long)getpid());
    tmp = backup_concat(file, suffix);
    mode_t old_mask = umask(077);
    int st_backup = store_backup(s, tmp, err);
    umask(old_mask);
    if (st_backup != AT_OK) {
        fprintf(stderr, "atrium: backup failed: %s\n", err);
        goto remove_tmp;
    }
    if (chmod(tmp, 0600) != 0 || backup_fsync_path(tmp, false) != AT_OK || crypto_sha256_file(tmp, hex) != AT_OK ||
        rename(tmp, file) != 0) {
        fprintf(stderr, "atrium: backup failed: cannot finish %s: %s\n", file, strerror(errno));
        goto remove_tmp;
    }
    if (backup_write_checksum(file, hex) != AT_OK) {
        fprintf(stderr, "atrium: backup written to %s, but its checksum file could not be: %s\n", file,
                strerror(errno));
        goto close_store;
    }
    printf("backup written to %s (checksum in %s.sha256)\n", file, file);
    if (with_key) {
        if ((rc = backup_write_key(file, pass)) != CLI_OK)
            goto close_store;
        printf("The key is in %s.key, sealed with your passphrase: keep the passphrase apart from the backup.\n", file);
    } else if (cfg.secret_key[0])
        printf("Keep ATRIUM_SECRET_KEY with this backup: without that key it cannot be restored.\n");
    else
        printf("Keep the key with this backup: copy %s/keys/ (hash.key and any rotated kN.key) to where the backup "
               "goes; without it the backup cannot be restored.\n",
               cfg.data_dir);
    rc = CLI_OK;
    goto close_store;
remove_tmp:
    unlink(tmp);
close_store:
    free(tmp);
    store_close(s);
wipe_pass:
    if (pass) {
        sodium_memzero(pass, strlen(pass));
        free(pass);
    }
    return rc;
}

/* cli_restore: see the file comment. Every check runs on the copy, so a refused restore leaves the
 * database as it was. */
int cli_restore(int argc, char **argv)
{
    config cfg;
    char err[512];
    char *copy = NULL;
    const char *file = NULL;
    bool with_key = false;
    int rc = backup_file_arg(argc, argv, restore_usage, &file, &with_key);
    if (rc != CLI_OK)
        return rc == BACKUP_HELP ? CLI_OK : rc;
    if ((rc = cli_setup_base(&cfg)) != CLI_OK)
        return rc;
    const char *db = cli_sqlite_path(cfg.database_url);
    struct stat st;
    if (!db || !*db || strcmp(db, ":memory:") == 0) {
        fprintf(stderr, "atrium: restore works on a SQLite database; on PostgreSQL restore a pg_dump with "
                        "pg_restore (docs/operations.md)\n");
        return CLI_USAGE;
    }
    if (stat(file, &st) != 0 || !S_ISREG(st.st_mode)) {
        fprintf(stderr, "atrium: %s is not a backup file\n", file);
        return CLI_USAGE;
    }
    if (backup_is_live(file, db)) {
        fprintf(stderr, "atrium: %s is the live database itself\n", file);
        return CLI_USAGE;
    }
    if ((rc = backup_verify_checksum(file)) != CLI_OK)
        return rc;
    if (with_key && (rc = restore_install_key(&cfg, file)) != CLI_OK)
        return rc;
    if (cli_lock_database(db, true, err) != AT_OK) {
        fprintf(stderr, "atrium: refusing to restore: %s\n", err);
        return CLI_USAGE;
    }
    char suffix[32];
    snprintf(suffix, sizeof suffix, ".restore-%ld", (long)getpid());
    copy = backup_concat(db, suffix);
    if (backup_copy(file, copy) != AT_OK) {
        fprintf(stderr, "atrium: cannot copy %s beside the database: %s\n", file, strerror(errno));
        rc = CLI_FAIL;
        goto remove_copy;
    }
    if ((rc = restore_check(&cfg, copy, with_key)) != CLI_OK)
        goto remove_copy;
    /* The old database's WAL would be replayed onto the restored file: it goes first. */
    static const char *const stale[] = {"-wal", "-shm", "-journal"};
    for (size_t i = 0; i < sizeof stale / sizeof stale[0]; i++) {
        char *p = backup_concat(db, stale[i]);
        int gone = unlink(p) == 0 || errno == ENOENT;
        free(p);
        if (!gone) {
            fprintf(stderr, "atrium: cannot remove %s%s: %s\n", db, stale[i], strerror(errno));
            rc = CLI_FAIL;
            goto remove_copy;
        }
    }
    char key_err[256];
    if (with_key && crypto_key_save(cfg.data_dir, key_err) != AT_OK) {
        fprintf(stderr, "atrium: cannot install the backup's key: %s\n", key_err);
        rc = CLI_FAIL;
        goto remove_copy;
    }
    if (rename(copy, db) != 0) {
        fprintf(stderr, "atrium: cannot move the restored copy into place: %s\n", strerror(errno));
        rc = CLI_FAIL;
        goto remove_copy;
    }
    backup_fsync_path(db, true);
    printf("restored %s into %s\n", file, db);
    rc = CLI_OK;
    goto free_copy;
remove_copy:
    for (size_t i = 0; i < sizeof copy_parts / sizeof copy_parts[0]; i++) {
        char *p = backup_concat(copy, copy_parts[i]);
        unlink(p);
        free(p);
    }
free_copy:
    free(copy);
    return rc;
}

/* restore_check opens the copy as a store and checks it: integrity, a schema this binary can run, the
 * key (which must exist and match the copy's fingerprint) and the audit chain. Prints why not;
 * returns CLI_OK, CLI_USAGE (a bad backup or a wrong key) or CLI_FAIL. */
static int restore_check(const config *cfg, const char *copy, bool key_installed)
{
    store *s = NULL;
    store_conn *c = NULL;
    store_rows *r = NULL;
    char err[512], broken_ws[ID_MAX];
    int64_t checked = 0, broken_seq = 0;
    int db = 0, bin = 0, rc = CLI_USAGE;
    char *url = backup_concat("sqlite:", copy);
    if (store_open(url, 1, &s, err) != AT_OK) {
        fprintf(stderr, "atrium: the backup does not open as a database: %s\n", err);
        goto free_url;
    }
    bool intact = false;
    if (store_acquire(s, &c) == AT_OK) {
        if (store_query(c, "PRAGMA integrity_check", NULL, 0, &r) == AT_OK) {
            intact = store_rows_next(r) == 1 && strcmp(store_rows_text(r, 0), "ok") == 0;
            store_rows_free(r);
        }
        store_release(c);
    }
    if (!intact) {
        fprintf(stderr, "atrium: the backup fails SQLite's integrity check; it is damaged\n");
        goto close_store;
    }
    if (store_schema_version(s, &db, &bin) != AT_OK || db == 0) {
        fprintf(stderr, "atrium: the backup holds no Atrium schema\n");
        goto close_store;
    }
    if (db > bin) {
        fprintf(stderr, "atrium: the backup's schema %d is newer than this binary (%d); restore it with that binary\n",
                db, bin);
        goto close_store;
    }
    if ((rc = cli_key_check(s, cfg, CLI_KEY_NO_CREATE | (key_installed ? CLI_KEY_INSTALLED : 0))) != CLI_OK)
        goto close_store;
    int st = audit_verify(s, NULL, &checked, broken_ws, &broken_seq);
    if (st != AT_OK) {
        if (st == AT_ECONSTRAINT)
            fprintf(stderr,
                    "atrium: the backup's audit chain is broken in workspace %s at event %lld (a damaged backup, or "
                    "the key of another installation)\n",
                    broken_ws, (long long)broken_seq);
        else
            fprintf(stderr, "atrium: cannot read the backup's audit log (%s)\n", at_status_name(st));
        rc = CLI_USAGE;
        goto close_store;
    }
    printf("backup checked: integrity ok, schema %d%s, key matches, %lld audit events verified\n", db,
           db < bin ? " (older: `atrium migrate` upgrades it)" : "", (long long)checked);
    rc = CLI_OK;
close_store:
    store_close(s);
free_url:
    free(url);
    return rc;
}

/* The arguments of backup and restore: one FILE and optionally --with-key. Returns CLI_OK with *file
 * set; BACKUP_HELP when --help printed the usage; or CLI_USAGE for an empty or option-like name (a
 * mistake every time) or anything else. */
static int backup_file_arg(int argc, char **argv, const char *usage, const char **file, bool *with_key)
{
    *file = NULL;
    *with_key = false;
    if (argc == 2 && (strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0)) {
        fputs(usage, stdout);
        return BACKUP_HELP;
    }
    for (int i = 1; i < argc; i++) {
        if (strcmp(argv[i], "--with-key") == 0 && !*with_key) {
            *with_key = true;
        } else if (argv[i][0] == '-') {
            fprintf(stderr, "atrium: unknown option '%s' (a file whose name starts with '-' is written ./%s)\n%s",
                    argv[i], argv[i], usage);
            return CLI_USAGE;
        } else if (*file || !argv[i][0]) {
            *file = NULL;
            break;
        } else {
            *file = argv[i];
        }
    }
    if (!*file) {
        fprintf(stderr, "atrium: %s needs one FILE name\n%s", argv[0], usage);
        return CLI_USAGE;
    }
    return CLI_OK;
}

/* Reads one line from standard input as the passphrase (a new string the caller wipes and frees), or
 * prints why not and returns NULL: nothing there, or shorter than BACKUP_PASSPHRASE_MIN. */
static char *backup_read_passphrase(void)
{
    char *line = NULL;
    size_t cap = 0;
    ssize_t n = getline(&line, &cap, stdin);
    if (n > 0)
        line[strcspn(line, "\r\n")] = '\0';
    if (n <= 0 || strlen(line) < BACKUP_PASSPHRASE_MIN) {
        fprintf(stderr, "atrium: --with-key reads a passphrase of at least %d characters from standard input\n",
                BACKUP_PASSPHRASE_MIN);
        if (line)
            sodium_memzero(line, cap);
        free(line);
        return NULL;
    }
    return line;
}

/* Writes FILE.key (0600, temporary name then rename): the installed key sealed with pass (borrowed).
 * CLI_OK or CLI_FAIL. */
static int backup_write_key(const char *file, const char *pass)
{
    char *sealed = crypto_key_wrap(pass, strlen(pass));
    char *path = backup_concat(file, ".key");
    char *tmp = backup_concat(path, ".tmp");
    int rc = CLI_FAIL;
    int fd = sealed ? open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600) : -1;
    if (fd >= 0) {
        size_t len = strlen(sealed);
        bool ok = write(fd, sealed, len) == (ssize_t)len && write(fd, "\n", 1) == 1 && fsync(fd) == 0;
        ok = close(fd) == 0 && ok;
        if (ok && rename(tmp, path) == 0)
            rc = CLI_OK;
    }
    if (rc != CLI_OK) {
        fprintf(stderr, "atrium: cannot write %s\n", path);
        unlink(tmp);
    }
    free(sealed);
    free(tmp);
    free(path);
    return rc;
}

/* restore --with-key: opens FILE.key with the passphrase from standard input and installs the key in
 * memory (saved to keys/ only once the backup passed its checks). The data folder must have no key of
 * its own, which would be the database's key or another installation's. */
static int restore_install_key(const config *cfg, const char *file)
{
    char *path = backup_concat(file, ".key");
    char *existing = backup_concat(cfg->data_dir, "/keys/hash.key");
    char *text = NULL, *pass = NULL;
    size_t cap = 0;
    int rc = CLI_USAGE;
    FILE *f = NULL;
    if (cfg->secret_key[0] || access(existing, F_OK) == 0) {
        fprintf(stderr,
                "atrium: --with-key installs the backup's key into a data folder without one, but %s is set; "
                "restore without --with-key, or move it away first\n",
                cfg->secret_key[0] ? "ATRIUM_SECRET_KEY" : existing);
        goto out;
    }
    if (!(f = fopen(path, "r")) || getline(&text, &cap, f) <= 0) {
        fprintf(stderr, "atrium: cannot read %s (written by `atrium backup FILE --with-key`)\n", path);
        goto out;
    }
    if (!(pass = backup_read_passphrase()))
        goto out;
    if (crypto_key_unwrap(text, pass, strlen(pass)) != AT_OK) {
        fprintf(stderr, "atrium: %s does not open with that passphrase (or is damaged)\n", path);
        goto out;
    }
    rc = CLI_OK;
out:
    if (pass) {
        sodium_memzero(pass, strlen(pass));
        free(pass);
    }
    if (f)
        fclose(f);
    free(text);
    free(existing);
    free(path);
    return rc;
}

/* Whether target is the database file or one of its companions (same inode). */
static bool backup_is_live(const char *target, const char *db)
{
    static const char *const parts[] = {"", "-wal", "-shm", "-journal", ".lock"};
    struct stat t, d;
    if (stat(target, &t) != 0)
        return false;
    for (size_t i = 0; i < sizeof parts / sizeof parts[0]; i++) {
        char *p = backup_concat(db, parts[i]);
        bool same = stat(p, &d) == 0 && d.st_dev == t.st_dev && d.st_ino == t.st_ino;
        free(p);
        if (same)
            return true;
    }
    return false;
}

/* FILE.sha256 in `sha256sum` form ("HEX  NAME"), written to a temporary file and renamed, 0600. */
static int backup_write_checksum(const char *file, const char *hex)
{
    char *sum = backup_concat(file, ".sha256");
    char *tmp = backup_concat(sum, ".tmp");
    char *name_copy = xstrdup(file);
    int rc = AT_EINVAL;
    int fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
    if (fd >= 0) {
        FILE *f = fdopen(fd, "w");
        if (f) {
            bool ok = fprintf(f, "%s  %s\n", hex, basename(name_copy)) > 0;
            ok = fflush(f) == 0 && fsync(fileno(f)) == 0 && ok;
            ok = fclose(f) == 0 && ok;
            rc = ok && rename(tmp, sum) == 0 ? AT_OK : AT_EINVAL;
        } else {
            close(fd);
        }
    }
    if (rc != AT_OK)
        unlink(tmp);
    else
        backup_fsync_path(sum, true);
    free(name_copy);
    free(tmp);
    free(sum);
    return rc;
}

/* Checks FILE against FILE.sha256 when that exists. CLI_OK, or CLI_USAGE with a message. */
static int backup_verify_checksum(const char *file)
{
    char *sum = backup_concat(file, ".sha256");
    char want[CRYPTO_DIGEST_HEX] = "", have[CRYPTO_DIGEST_HEX];
    int rc = CLI_OK;
    FILE *f = fopen(sum, "r");
    if (!f) {
        if (errno != ENOENT) {
            fprintf(stderr, "atrium: cannot read %s: %s\n", sum, strerror(errno));
            rc = CLI_USAGE;
        } else {
            printf("no %s beside the backup; checking the database itself\n", sum);
        }
        goto out;
    }
    if (fscanf(f, "%64s", want) != 1 || strlen(want) != 64 || crypto_sha256_file(file, have) != AT_OK ||
        strcmp(want, have) != 0) {
        fprintf(stderr, "atrium: %s does not match its checksum in %s: the backup is damaged or incomplete\n", file,
                sum);
        rc = CLI_USAGE;
    }
    fclose(f);
out:
    free(sum);
    return rc;
}

/* Copies from → to (created 0600, replaced if present) and fsyncs it. AT_OK or AT_EINVAL (errno set). */
static int backup_copy(const char *from, const char *to)
{
    int rc = AT_EINVAL;
    char *chunk = xmalloc(1 << 16);
    int in = open(from, O_RDONLY | O_CLOEXEC);
    int out = in < 0 ? -1 : open(to, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
    if (in < 0 || out < 0)
        goto close_fds;
    for (;;) {
        ssize_t n = read(in, chunk, 1 << 16);
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0)
            goto close_fds;
        if (n == 0)
            break;
        for (ssize_t done = 0; done < n;) {
            ssize_t w = write(out, chunk + done, (size_t)(n - done));
            if (w < 0 && errno == EINTR)
                continue;
            if (w < 0)
                goto close_fds;
            done += w;
        }
    }
    rc = fsync(out) == 0 ? AT_OK : AT_EINVAL;
close_fds:
    if (out >= 0)
        close(out);
    if (in >= 0)
        close(in);
    free(chunk);
    return rc;
}

/* fsyncs a file, or with dir the folder that holds it (so a rename is durable). Best effort. */
static int backup_fsync_path(const char *path, bool dir)
{
    char *copy = xstrdup(path);
    int fd = open(dir ? dirname(copy) : path, O_RDONLY | O_CLOEXEC);
    int rc = fd >= 0 && fsync(fd) == 0 ? AT_OK : AT_EINVAL;
    if (fd >= 0)
        close(fd);
    free(copy);
    return rc;
}

/* A new string a + b; the caller frees it. */
static char *backup_concat(const char *a, const char *b)
{
    size_t la = strlen(a), lb = strlen(b);
    char *out = xmalloc(la + lb + 1);
    memcpy(out, a, la);
    memcpy(out + la, b, lb + 1);
    return out;
}
