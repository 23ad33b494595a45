/* `atrium keys list | keys rotate`: the server's key ring (base/crypto.h). Rotation makes a new active
 * key, keys/kN.key, and records its fingerprint and that it is active in the database; the older keys
 * stay and keep verifying what was made under them (sessions, API keys, mailed links, sealed values,
 * audit events). Servers pick up the new key when they restart. */
#include "cli/cli.h"

#include "base/clock.h"
#include "base/crypto.h"
#include "base/err.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static const char keys_usage[] = "Usage: atrium keys list | atrium keys rotate\n"
                                 "  list     the key ids, when each was recorded, and which one is active\n"
                                 "  rotate   make a new active key (keys/kN.key); older keys keep verifying\n";

/* Prints one line per key in the ring, with the time its fingerprint was recorded in the database. */
static int keys_list(store *s)
{
    store_conn *c = NULL;
    char fp[CRYPTO_DIGEST_HEX];
    int rc = store_acquire(s, &c);
    if (rc != AT_OK)
        return CLI_FAIL;
    printf("%-6s %-25s %-16s %s\n", "ID", "CREATED", "FINGERPRINT", "STATE");
    for (int i = 0; i < crypto_key_count() && rc == AT_OK; i++) {
        const char *kid = crypto_key_id(i);
        char name[64], when[32] = "(not recorded)";
        int64_t at = 0;
        snprintf(name, sizeof(name), i == 0 ? "key_fingerprint" : "key_fingerprint:%s", kid);
        store_arg a[] = {sa_text(name)};
        rc = store_query_int(c, "SELECT COALESCE(MAX(created_at), 0) FROM instance_facts WHERE name = $1", a, 1, &at);
        if (at)
            clock_format_rfc3339(at, when);
        crypto_key_fingerprint(kid, fp);
        printf("%-6s %-25s %.16s %s\n", kid, when, fp,
               strcmp(kid, crypto_key_active()) == 0 ? "active" : "verifies only");
    }
    store_release(c);
    return rc == AT_OK ? CLI_OK : CLI_FAIL;
}

typedef struct keys_rotate_ctx {
    const char *kid;
    char fp[CRYPTO_DIGEST_HEX];
} keys_rotate_ctx;

/* store_tx step: records the new key's fingerprint (a second rotation to the same id fails) and makes
 * it the active key. */
static int keys_rotate_tx(store_conn *c, void *ctx)
{
    keys_rotate_ctx *x = ctx;
    char name[64];
    int64_t now = clock_now_us();
    snprintf(name, sizeof(name), "key_fingerprint:%s", x->kid);
    store_arg a[] = {sa_text(name), sa_text(x->fp), sa_int(now)};
    int rc = store_exec(c, "INSERT INTO instance_facts (name, value, created_at) VALUES ($1, $2, $3)", a, 3, NULL);
    store_arg b[] = {sa_text(x->kid), sa_int(now)};
    if (rc == AT_OK)
        rc = store_exec(c,
                        "INSERT INTO instance_facts (name, value, created_at) VALUES ('active_key', $1, $2) "
                        "ON CONFLICT (name) DO UPDATE SET value = excluded.value, created_at = excluded.created_at",
                        b, 2, NULL);
    return rc;
}

/* The highest key number the database records ("key_fingerprint:kN"), so a new key never reuses an id
 * another data folder already made. */
static int keys_highest(store *s, int *out)
{
    store_conn *c = NULL;
    store_rows *r = NULL;
    *out = 1;
    int rc = store_acquire(s, &c);
    if (rc != AT_OK)
        return rc;
    rc = store_query(c, "SELECT name FROM instance_facts WHERE name LIKE 'key_fingerprint:k%'", NULL, 0, &r);
    while (rc == AT_OK && store_rows_next(r) == 1) {
        int n = crypto_kid_number(store_rows_text(r, 0) + strlen("key_fingerprint:"));
        if (n > *out)
            *out = n;
    }
    store_rows_free(r);
    store_release(c);
    return rc;
}

static int keys_rotate(store *s, const config *cfg)
{
    char err[256], path[4200];
    int highest = 1;
    keys_rotate_ctx x;
    char kid[CRYPTO_KID_MAX];
    if (keys_highest(s, &highest) != AT_OK) {
        fprintf(stderr, "atrium: cannot read the recorded keys\n");
        return CLI_FAIL;
    }
    if (crypto_key_new(cfg->data_dir, highest, kid, err) != AT_OK) {
        fprintf(stderr, "atrium: %s\n", err);
        return CLI_FAIL;
    }
    x.kid = kid;
    crypto_key_fingerprint(kid, x.fp);
    snprintf(path, sizeof(path), "%s/keys/%s.key", cfg->data_dir, kid);
    int st = store_tx(s, true, keys_rotate_tx, &x);
    if (st != AT_OK) {
        unlink(path);
        fprintf(stderr, "atrium: could not record the new key (%s); nothing changed\n", at_status_name(st));
        return CLI_FAIL;
    }
    printf("new active key %s (fingerprint %.16s) written to %s\n"
           "The older keys stay: what was made under them keeps working. Restart every server on this database,\n"
           "after copying %s into the keys/ folder of each one's data folder, and back up keys/ again.\n",
           kid, x.fp, path, path);
    return CLI_OK;
}

int cli_keys(int argc, char **argv)
{
    config cfg;
    store *s = NULL;
    if (argc == 2 && strcmp(argv[1], "help") == 0) {
        fputs(keys_usage, stdout);
        return CLI_OK;
    }
    if (argc != 2 || (strcmp(argv[1], "list") != 0 && strcmp(argv[1], "rotate") != 0)) {
        fprintf(stderr, "atrium: unknown keys command or arguments\n%s", keys_usage);
        return CLI_USAGE;
    }
    int rc = cli_setup(&cfg, &s);
    if (rc != CLI_OK)
        return rc;
    rc = strcmp(argv[1], "list") == 0 ? keys_list(s) : keys_rotate(s, &cfg);
    store_close(s);
    return rc;
}
