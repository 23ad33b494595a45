/* `atrium doctor [--mail-to ADDR]`: checks an installation the way an operator would before trusting
 * it, one line per check (ok / FAIL / skip): the database (SQLite's integrity check; on PostgreSQL a
 * query and the core tables), the schema version against the binary, the keys against the
 * fingerprints the database records, every audit chain, and with --mail-to a test message through the
 * configured transport. Exit 0 only when every check passed. Changes nothing but the mail sent. */
#include "cli/cli.h"

#include "audit/audit.h"
#include "base/crypto.h"
#include "base/err.h"
#include "mail/mail.h"

#include <stdio.h>
#include <string.h>

static const char doctor_usage[] =
    "Usage: atrium doctor [--mail-to ADDR]\n"
    "  check the database, schema version, keys, audit chains and (with --mail-to) mail\n";

/* Prints one check's line; returns whether it passed. */
static bool doctor_line(bool ok, const char *check, const char *detail)
{
    printf("%-4s %-9s %s\n", ok ? "ok" : "FAIL", check, detail);
    return ok;
}

/* The database answers and is whole: SQLite's integrity check, or on PostgreSQL a query and the core
 * tables present. */
static bool doctor_database(store *s, bool sqlite)
{
    static const char *const tables[] = {"schema_migrations", "users", "workspaces", "memberships", "audit_events"};
    store_conn *c = NULL;
    store_rows *r = NULL;
    char detail[160];
    bool ok = false;
    if (store_acquire(s, &c) != AT_OK)
        return doctor_line(false, "database", "cannot connect");
    if (sqlite) {
        if (store_query(c, "PRAGMA integrity_check", NULL, 0, &r) == AT_OK) {
            ok = store_rows_next(r) == 1 && strcmp(store_rows_text(r, 0), "ok") == 0;
            store_rows_free(r);
        }
        store_release(c);
        return doctor_line(ok, "database", ok ? "SQLite integrity_check ok" : "SQLite integrity_check failed");
    }
    int64_t one = 0;
    ok = store_query_int(c, "SELECT 1", NULL, 0, &one) == AT_OK && one == 1;
    store_release(c);
    snprintf(detail, sizeof(detail), "PostgreSQL answers; core tables present");
    for (size_t i = 0; ok && i < sizeof tables / sizeof tables[0]; i++) {
        bool exists = false;
        if (store_table_exists(s, tables[i], &exists) != AT_OK || !exists) {
            snprintf(detail, sizeof(detail), "table %s is missing", tables[i]);
            ok = false;
        }
    }
    return doctor_line(ok, "database", ok || one == 1 ? detail : "PostgreSQL does not answer SELECT 1");
}

static bool doctor_schema(store *s)
{
    char detail[200];
    int db = 0, bin = 0;
    if (store_schema_version(s, &db, &bin) != AT_OK)
        return doctor_line(false, "schema", "cannot read the schema version");
    if (db == bin)
        snprintf(detail, sizeof(detail), "version %d, as the binary", db);
    else if (db < bin)
        snprintf(detail, sizeof(detail), "version %d, binary %d: back up, then run atrium migrate", db, bin);
    else
        snprintf(detail, sizeof(detail), "version %d is newer than the binary (%d): upgrade atrium", db, bin);
    return doctor_line(db == bin, "schema", detail);
}

/* The keys: cli_key_check explains a failure on standard error. */
static bool doctor_keys(store *s, const config *cfg)
{
    char detail[400], fp[CRYPTO_DIGEST_HEX];
    if (cli_key_check(s, cfg, CLI_KEY_NO_CREATE) != CLI_OK)
        return doctor_line(false, "keys", "the keys do not match the database (see above)");
    crypto_key_fingerprint(crypto_key_active(), fp);
    snprintf(detail, sizeof(detail), "%d key(s), active %s (fingerprint %.16s) matches the database",
             crypto_key_count(), crypto_key_active(), fp);
    return doctor_line(true, "keys", detail);
}

static bool doctor_audit(store *s, bool keys_ok)
{
    char detail[200], broken_ws[ID_MAX];
    int64_t checked = 0, broken_seq = 0;
    if (!keys_ok)
        return doctor_line(false, "audit", "not verified: the keys check failed");
    int st = audit_verify(s, NULL, &checked, broken_ws, &broken_seq);
    if (st == AT_ECONSTRAINT)
        snprintf(detail, sizeof(detail), "chain BROKEN in workspace %s at event %lld", broken_ws,
                 (long long)broken_seq);
    else if (st != AT_OK)
        snprintf(detail, sizeof(detail), "cannot read the audit log (%s)", at_status_name(st));
    else
        snprintf(detail, sizeof(detail), "every chain intact (%lld events)", (long long)checked);
    return doctor_line(st == AT_OK, "audit", detail);
}

static bool doctor_mail(const char *to)
{
    char err[256] = "", detail[600];
    const char *transport = "";
    if (!to) {
        printf("%-4s %-9s %s\n", "skip", "mail", "not checked (--mail-to ADDR sends a test message)");
        return true;
    }
    int st = mail_send_test(to, &transport, err);
    if (st == AT_OK)
        snprintf(detail, sizeof(detail), "test message to %s sent (%s)", to, transport);
    else
        snprintf(detail, sizeof(detail), "test message to %s not sent (%s): %s", to, transport, err);
    return doctor_line(st == AT_OK, "mail", detail);
}

int cli_doctor(int argc, char **argv)
{
    config cfg;
    store *s = NULL;
    const char *mail_to = NULL;
    if (argc == 2 && (strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "help") == 0)) {
        fputs(doctor_usage, stdout);
        return CLI_OK;
    }
    if (argc == 3 && strcmp(argv[1], "--mail-to") == 0 && argv[2][0])
        mail_to = argv[2];
    else if (argc != 1) {
        fprintf(stderr, "atrium: doctor does not take '%s'\n%s", argv[1], doctor_usage);
        return CLI_USAGE;
    }
    /* The checks below report the schema and the keys themselves instead of stopping at the first. */
    int rc = cli_setup_with(CLI_SETUP_NO_KEY | CLI_SETUP_ANY_SCHEMA, &cfg, &s);
    if (rc != CLI_OK)
        return rc;
    bool ok = doctor_database(s, cli_sqlite_path(cfg.database_url) != NULL);
    ok = doctor_schema(s) && ok;
    bool keys_ok = doctor_keys(s, &cfg);
    ok = doctor_audit(s, keys_ok) && keys_ok && ok;
    ok = doctor_mail(mail_to) && ok;
    store_close(s);
    printf("%s\n", ok ? "all checks passed" : "some checks FAILED");
    return ok ? CLI_OK : CLI_FAIL;
}
