/* `atrium demo`: seeds the demo that `make run` shows, idempotently (an existing demo user gets its
 * demo password back), and prints the logins: a root workspace "Acme Agency" with two sub-accounts
 * and a user for every role. Demo data exists only when an operator runs this command; a fresh
 * install has no accounts at all. */
#include "cli/cli.h"

#include "billing/billing.h"

#include "auth/users.h"
#include "base/clock.h"
#include "base/err.h"
#include "workspace/workspace.h"

#include <stdio.h>
#include <string.h>

typedef struct demo_user {
    const char *email;
    const char *name;
    const char *password;
    bool developer;
    const char *workspace; /* slug of the workspace they belong to */
    const char *role;
    const char *what;      /* printed beside the login */
} demo_user;

static const demo_user demo_users[] = {
    {"owner@acme.test", "Olivia Owner", "acme-owner-demo-2026", false, "acme-agency", "owner", "owner of Acme Agency"},
    {"admin@acme.test", "Adam Admin", "acme-admin-demo-2026", false, "acme-agency", "admin", "admin of Acme Agency"},
    {"member@acme.test", "Mia Member", "acme-member-demo-2026", false, "acme-agency", "member",
     "member of Acme Agency"},
    {"subadmin@acme.test", "Sam Subadmin", "acme-subadmin-demo-2026", false, "acme-dental", "admin",
     "admin of the Acme Dental sub-account"},
    {"dev@acme.test", "Dev Developer", "acme-dev-demo-2026", true, "acme-agency", "member",
     "member of Acme Agency with developer access (Billing Recovery, test clock)"},
};

static const struct {
    const char *slug, *name, *kind, *parent;
} demo_workspaces[] = {
    {"acme-agency", "Acme Agency", "root", NULL},
    {"acme-dental", "Acme Dental", "sub_account", "acme-agency"},
    {"acme-fitness", "Acme Fitness", "sub_account", "acme-agency"},
};

/* Finds a workspace id by slug on c; "" when absent. */
static int demo_ws_id(store_conn *c, const char *slug, char out[ID_MAX])
{
    store_rows *r = NULL;
    store_arg args[] = {sa_text(slug)};
    out[0] = '\0';
    int rc = store_query(c, "SELECT id FROM workspaces WHERE slug = $1", args, 1, &r);
    if (rc != AT_OK)
        return rc;
    if ((rc = store_rows_next(r)) == 1)
        snprintf(out, ID_MAX, "%s", store_rows_text(r, 0));
    store_rows_free(r);
    return rc < 0 ? rc : AT_OK;
}

/* The demo users' password hashes, made before the transaction (Argon2 never runs inside one). */
typedef struct demo_hashes {
    char h[sizeof(demo_users) / sizeof(demo_users[0])][PASSWORD_HASH_MAX];
} demo_hashes;

static int demo_tx(store_conn *c, void *ctx)
{
    const demo_hashes *hashes = ctx;
    audit_actor system = {"system", NULL, "atrium demo", NULL, NULL, NULL};
    int64_t now = clock_now_us();
    int rc = AT_OK;
    for (size_t i = 0; rc == AT_OK && i < sizeof(demo_workspaces) / sizeof(demo_workspaces[0]); i++) {
        char id[ID_MAX], parent[ID_MAX] = "";
        if ((rc = demo_ws_id(c, demo_workspaces[i].slug, id)) != AT_OK || id[0])
            continue;
        if (demo_workspaces[i].parent && (rc = demo_ws_id(c, demo_workspaces[i].parent, parent)) != AT_OK)
            break;
        id_new("ws", id);
        store_arg args[] = {sa_text(id),
                            sa_text(demo_workspaces[i].kind),
                            sa_text(parent[0] ? parent : NULL),
                            sa_text(demo_workspaces[i].name),
                            sa_text(demo_workspaces[i].slug),
                            sa_int(now),
                            sa_int(config_get()->default_seat_limit)};
        rc = store_exec(c,
                        "INSERT INTO workspaces (id, kind, parent_id, name, slug, timezone, locale, currency, status, "
                        "entitlements, created_at, updated_at, seat_limit) VALUES ($1, $2, $3, $4, $5, "
                        "'America/New_York', 'en-US', 'USD', 'active', '[]', $6, $6, $7)",
                        args, 7, NULL);
        if (rc == AT_OK)
            rc = audit_append(c, id, &system, "workspace.created", "workspace", id, NULL);
    }
    for (size_t i = 0; rc == AT_OK && i < sizeof(demo_users) / sizeof(demo_users[0]); i++) {
        const demo_user *d = &demo_users[i];
        auth_user u;
        char ws[ID_MAX];
        rc = users_find_by_email(c, d->email, &u, NULL);
        if (rc == AT_ENOTFOUND)
            rc = users_create(c, d->email, d->name, hashes->h[i], d->developer, &u);
        else if (rc == AT_OK) {
            store_arg args[] = {sa_int(d->developer), sa_text(u.id)};
            rc = store_exec(c, "UPDATE users SET disabled = 0, developer = $1 WHERE id = $2", args, 2, NULL);
            if (rc == AT_OK)
                rc = users_password_commit(c, u.id, hashes->h[i], NULL);
        }
        if (rc == AT_OK)
            rc = demo_ws_id(c, d->workspace, ws);
        if (rc == AT_OK)
            rc = ws_add_member(c, ws, u.id, d->role, NULL);
    }
    char agency[ID_MAX] = "", dental[ID_MAX] = "", fitness[ID_MAX] = "";
    if (rc == AT_OK && (rc = demo_ws_id(c, "acme-agency", agency)) == AT_OK &&
        (rc = demo_ws_id(c, "acme-dental", dental)) == AT_OK && (rc = demo_ws_id(c, "acme-fitness", fitness)) == AT_OK)
        rc = billing_seed_demo(c, agency, dental, fitness, now);
    return rc;
}

/* `atrium demo [--force]`. The demo logins and their passwords are published, so seeding them (or
 * resetting them to the demo passwords) is refused outside ATRIUM_ENV=development or test unless
 * --force says the operator means it. It may create a new database (with its schema), as `make run`
 * needs; an existing one must be at the binary's schema. */
int cli_demo(int argc, char **argv)
{
    config cfg;
    store *s;
    char err[512];
    bool force = argc == 2 && strcmp(argv[1], "--force") == 0;
    if (argc != 1 && !force) {
        fprintf(stderr, "usage: atrium demo [--force]\n");
        return CLI_USAGE;
    }
    if (config_load(&cfg, err) != AT_OK) {
        fprintf(stderr, "atrium: configuration error: %s\n", err);
        return CLI_USAGE;
    }
    if (cfg.env == ENV_PRODUCTION && !force) {
        fprintf(stderr, "atrium: refusing to seed the demo in production (ATRIUM_ENV=production): its logins and "
                        "passwords are public. Use ATRIUM_ENV=development, or --force if you really mean it.\n");
        return CLI_USAGE;
    }
    int rc = cli_setup_with(CLI_SETUP_CREATE, &cfg, &s);
    if (rc != CLI_OK)
        return rc;
    demo_hashes hashes;
    int st = AT_OK;
    for (size_t i = 0; st == AT_OK && i < sizeof(demo_users) / sizeof(demo_users[0]); i++)
        st = password_hash(demo_users[i].password, strlen(demo_users[i].password), hashes.h[i]);
    if (st == AT_OK)
        st = store_tx(s, true, demo_tx, &hashes);
    if (st != AT_OK) {
        fprintf(stderr, "atrium: could not seed the demo (%s)\n", at_status_name(st));
        store_close(s);
        return CLI_FAIL;
    }
    printf("Demo data is ready: Acme Agency with the sub-accounts Acme Dental and Acme Fitness.\n"
           "Sign in with any of these logins:\n");
    for (size_t i = 0; i < sizeof(demo_users) / sizeof(demo_users[0]); i++)
        printf("  %-20s %-26s %s\n", demo_users[i].email, demo_users[i].password, demo_users[i].what);
    store_close(s);
    return CLI_OK;
}
