/* `atrium demo`: seeds the demo accounts that `make run` shows, idempotently (an existing demo user
 * gets its demo password back), and prints the logins. Demo data exists only when an operator runs
 * this command; a fresh install has no accounts at all. */
#include "cli/cli.h"

#include "auth/users.h"
#include "base/err.h"

#include <stdio.h>
#include <string.h>

typedef struct demo_user {
    const char *email;
    const char *name;
    const char *password;
    bool developer;
    const char *role; /* what the login is for, printed beside it */
} demo_user;

static const demo_user demo_users[] = {
    {"owner@acme.test", "Olivia Owner", "acme-owner-demo-2026", false, "workspace owner"},
    {"admin@acme.test", "Adam Admin", "acme-admin-demo-2026", false, "workspace admin"},
    {"member@acme.test", "Mia Member", "acme-member-demo-2026", false, "member"},
    {"dev@acme.test", "Dev Developer", "acme-dev-demo-2026", true, "developer access"},
};

static int demo_user_tx(store_conn *c, void *ctx)
{
    const demo_user *d = ctx;
    auth_user u;
    int rc = users_find_by_email(c, d->email, &u, NULL);
    if (rc == AT_ENOTFOUND)
        return users_create(c, d->email, d->name, d->password, strlen(d->password), d->developer, &u);
    if (rc != AT_OK)
        return rc;
    store_arg args[] = {sa_int(d->developer), sa_text(u.id)};
    rc = store_exec(c, "UPDATE users SET disabled = 0, developer = $1 WHERE id = $2", args, 2, NULL);
    return rc == AT_OK ? users_set_password(c, u.id, d->password, strlen(d->password), NULL) : rc;
}

int cli_demo(int argc, char **argv)
{
    config cfg;
    store *s;
    (void)argv;
    if (argc != 1) {
        fprintf(stderr, "usage: atrium demo\n");
        return CLI_USAGE;
    }
    int rc = cli_setup(&cfg, &s);
    if (rc != CLI_OK)
        return rc;
    for (size_t i = 0; i < sizeof(demo_users) / sizeof(demo_users[0]); i++) {
        demo_user d = demo_users[i];
        int st = store_tx(s, true, demo_user_tx, &d);
        if (st != AT_OK) {
            fprintf(stderr, "atrium: could not seed %s (%s)\n", demo_users[i].email, at_status_name(st));
            store_close(s);
            return CLI_FAIL;
        }
    }
    printf("Demo data is ready. Sign in with any of these logins:\n");
    for (size_t i = 0; i < sizeof(demo_users) / sizeof(demo_users[0]); i++)
        printf("  %-20s %-24s (%s)\n", demo_users[i].email, demo_users[i].password, demo_users[i].role);
    store_close(s);
    return CLI_OK;
}
