/* `atrium user ...`: operator commands for accounts. Passwords never travel on the command line (they
 * would show in `ps`): --password-stdin reads one line from standard input, and otherwise a strong
 * password is generated and printed once. */
#include "cli/cli.h"

#include "auth/users.h"
#include "team/recovery.h"
#include "base/clock.h"
#include "base/crypto.h"
#include "base/err.h"
#include "base/jsonv.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const char user_usage[] =
    "Usage: atrium user COMMAND ...\n"
    "  add EMAIL [--name NAME] [--developer] [--password-stdin]\n"
    "  list\n"
    "  disable EMAIL | enable EMAIL\n"
    "  set-password EMAIL [--password-stdin]\n"
    "  grant-developer EMAIL | revoke-developer EMAIL\n"
    "  workspaces EMAIL     the person's workspaces and role in each\n"
    "  end-sessions EMAIL   sign the person out everywhere\n"
    "  erase EMAIL          erase the person's personal data (audit events keep the user id)\n"
    "Without --password-stdin a strong password is generated and printed once.\n";

/* Reads the password from stdin or generates one into out (cap bytes). Returns AT_OK, or AT_EINVAL
 * with a message when standard input holds no line (</dev/null, a closed pipe). */
static int user_password(bool from_stdin, char *out, size_t cap, bool *generated)
{
    *generated = !from_stdin;
    if (!from_stdin) {
        crypto_token(18, out, cap);
        return AT_OK;
    }
    if (!fgets(out, (int)cap, stdin)) {
        fprintf(stderr, "atrium: --password-stdin: standard input held no password (give it one line)\n");
        return AT_EINVAL;
    }
    out[strcspn(out, "\r\n")] = '\0';
    return AT_OK;
}

typedef struct user_add_ctx {
    const char *email, *name, *hash;
    bool developer;
    auth_user user;
} user_add_ctx;

static int user_add_tx(store_conn *c, void *ctx)
{
    user_add_ctx *a = ctx;
    return users_create(c, a->email, a->name, a->hash, a->developer, &a->user);
}

/* Sets the password of the user with this email through the one password-change path
 * (users_set_password: hashed before its transaction, reset links voided, sessions ended). */
static int user_set_password(store *s, const char *email, const char *password)
{
    store_conn *c = NULL;
    auth_user u;
    int rc = store_acquire(s, &c);
    if (rc != AT_OK)
        return rc;
    rc = users_find_by_email(c, email, &u, NULL);
    store_release(c);
    if (rc != AT_OK)
        return rc;
    return users_set_password(s, u.id, password, strlen(password), NULL, NULL);
}

/* Applies the policy to an operator-chosen password; prints why not. */
static int user_check_password(const char *pw, const char *email, const char *name)
{
    const char *code = NULL;
    const char *why = password_policy_check(pw, strlen(pw), config_get()->password_min_length, email, name, &code);
    if (why) {
        fprintf(stderr, "atrium: password refused: %s\n", why);
        return AT_EINVAL;
    }
    return AT_OK;
}

static int user_list(store *s)
{
    json_t *list = NULL;
    size_t i;
    json_t *u;
    if (users_list(s, &list) != AT_OK)
        return CLI_FAIL;
    printf("%-32s %-32s %-24s %-9s %s\n", "ID", "EMAIL", "NAME", "STATUS", "DEVELOPER");
    json_array_foreach(list, i, u)
    {
        printf("%-32s %-32s %-24s %-9s %s\n", json_string_value(json_object_get(u, "id")),
               json_string_value(json_object_get(u, "email")), json_string_value(json_object_get(u, "name")),
               json_is_true(json_object_get(u, "disabled")) ? "disabled" : "active",
               json_is_true(json_object_get(u, "developer")) ? "yes" : "no");
    }
    json_decref(list);
    return CLI_OK;
}

/* `atrium user workspaces EMAIL`: one line per membership. */
static int user_workspaces(store *s, const char *email)
{
    json_t *list = NULL, *w;
    size_t i;
    int st = recovery_user_workspaces(s, email, &list);
    if (st == AT_ENOTFOUND) {
        fprintf(stderr, "atrium: no user with email %s\n", email);
        return CLI_USAGE;
    }
    if (st != AT_OK) {
        fprintf(stderr, "atrium: could not read the workspaces (%s)\n", at_status_name(st));
        return CLI_FAIL;
    }
    printf("%-32s %-8s %-10s %-12s %-11s %s\n", "WORKSPACE", "ROLE", "MEMBER", "KIND", "STATUS", "NAME");
    json_array_foreach(list, i, w)
    {
        printf("%-32s %-8s %-10s %-12s %-11s %s\n", json_string_value(json_object_get(w, "workspace_id")),
               json_string_value(json_object_get(w, "role")), json_string_value(json_object_get(w, "member_status")),
               json_string_value(json_object_get(w, "kind")),
               json_string_value(json_object_get(w, "workspace_status")),
               json_string_value(json_object_get(w, "name")));
    }
    if (json_array_size(list) == 0)
        printf("(%s belongs to no workspace)\n", email);
    json_decref(list);
    return CLI_OK;
}

/* `atrium user erase EMAIL` (recovery_erase_user). */
static int user_erase(store *s, const char *email)
{
    recovery_result r;
    int st = recovery_erase_user(s, email, &recovery_operator, &r);
    int rc = CLI_FAIL;
    if (st == AT_ENOTFOUND) {
        fprintf(stderr, "atrium: no user with email %s\n", email);
        rc = CLI_USAGE;
    } else if (st == AT_ECONFLICT) {
        fprintf(stderr,
                "atrium: refused: erasing %s would leave the workspace \"%s\" (%s) without an owner; make someone "
                "else an owner first (atrium workspace add-owner %s EMAIL). Nothing was changed.\n",
                email, r.ws_name ? r.ws_name : "", r.ws_id, r.ws_id);
    } else if (st != AT_OK) {
        fprintf(stderr, "atrium: could not erase the user (%s)\n", at_status_name(st));
    } else {
        printf("erased %s: now %s (\"Erased user\", erased+%s@erased.invalid); %lld membership(s) ended, sessions "
               "and tokens deleted; audit events keep the id\n",
               email, r.user_id, r.user_id, (long long)r.count);
        rc = CLI_OK;
    }
    recovery_result_free(&r);
    return rc;
}

int cli_user(int argc, char **argv)
{
    config cfg;
    store *s = NULL;
    char email[USER_EMAIL_MAX + 1];
    char password[PASSWORD_MAX_BYTES + 2];
    const char *name = NULL;
    bool developer = false, from_stdin = false, generated = false;
    int rc = CLI_USAGE;

    if (argc < 2 || strcmp(argv[1], "help") == 0) {
        fputs(user_usage, argc < 2 ? stderr : stdout);
        return argc < 2 ? CLI_USAGE : CLI_OK;
    }
    const char *cmd = argv[1];
    bool needs_email = strcmp(cmd, "list") != 0;
    /* Each command takes only its own options: a stray one (set-password --name x) is a mistake. */
    bool takes_name = strcmp(cmd, "add") == 0, takes_developer = takes_name;
    bool takes_stdin = takes_name || strcmp(cmd, "set-password") == 0;
    if (!needs_email && argc != 2) {
        fprintf(stderr, "atrium: user list takes no arguments\n\n%s", user_usage);
        return CLI_USAGE;
    }
    if (needs_email) {
        if (argc < 3 || email_normalize(argv[2], strlen(argv[2]), email) != AT_OK) {
            fprintf(stderr, "atrium: user %s needs a valid EMAIL\n\n%s", cmd, user_usage);
            return CLI_USAGE;
        }
        for (int i = 3; i < argc; i++) {
            if (takes_name && strcmp(argv[i], "--name") == 0 && i + 1 < argc)
                name = argv[++i];
            else if (takes_developer && strcmp(argv[i], "--developer") == 0)
                developer = true;
            else if (takes_stdin && strcmp(argv[i], "--password-stdin") == 0)
                from_stdin = true;
            else {
                fprintf(stderr, "atrium: user %s does not take '%s'\n\n%s", cmd, argv[i], user_usage);
                return CLI_USAGE;
            }
        }
    }
    if ((rc = cli_setup(&cfg, &s)) != CLI_OK)
        return rc;
    rc = CLI_FAIL;
    if (strcmp(cmd, "list") == 0) {
        rc = user_list(s);
    } else if (strcmp(cmd, "add") == 0) {
        if (!name) {
            name = email;
        } else if (utf8_length(name, strlen(name)) < 1 || utf8_length(name, strlen(name)) > USER_NAME_MAX_CHARS ||
                   users_check_name(name, strlen(name))) {
            /* The rule the sign-up form applies, so the operator's name is stored whole. */
            fprintf(stderr, "atrium: --name must be 1 to %d characters of UTF-8 text without control characters\n",
                    USER_NAME_MAX_CHARS);
            rc = CLI_USAGE;
            goto out;
        }
        if (user_password(from_stdin, password, sizeof(password), &generated) != AT_OK) {
            rc = CLI_USAGE;
            goto out;
        }
        if (user_check_password(password, email, name) != AT_OK)
            goto out;
        char hash[PASSWORD_HASH_MAX];
        user_add_ctx a;
        memset(&a, 0, sizeof(a));
        a.email = email;
        a.name = name;
        a.hash = hash;
        a.developer = developer;
        int st = password_hash(password, strlen(password), hash);
        if (st == AT_OK)
            st = store_tx(s, true, user_add_tx, &a);
        if (st == AT_ECONFLICT)
            fprintf(stderr, "atrium: a user with email %s already exists\n", email);
        else if (st != AT_OK)
            fprintf(stderr, "atrium: could not add the user (%s)\n", at_status_name(st));
        else {
            printf("added %s (%s)%s\n", email, a.user.id, developer ? " with developer access" : "");
            if (generated)
                printf("password: %s\n(shown once; the user can change it after signing in)\n", password);
            rc = CLI_OK;
        }
    } else if (strcmp(cmd, "set-password") == 0) {
        if (user_password(from_stdin, password, sizeof(password), &generated) != AT_OK) {
            rc = CLI_USAGE;
            goto out;
        }
        if (user_check_password(password, email, NULL) != AT_OK)
            goto out;
        int st = user_set_password(s, email, password);
        if (st == AT_ENOTFOUND)
            fprintf(stderr, "atrium: no user with email %s\n", email);
        else if (st == AT_OK) {
            printf("password of %s changed; all of their sessions have ended\n", email);
            if (generated)
                printf("password: %s\n", password);
            rc = CLI_OK;
        }
    } else if (strcmp(cmd, "workspaces") == 0) {
        rc = user_workspaces(s, email);
    } else if (strcmp(cmd, "erase") == 0) {
        rc = user_erase(s, email);
    } else if (strcmp(cmd, "end-sessions") == 0) {
        int64_t ended = 0;
        int st = users_end_sessions(s, email, &ended);
        if (st == AT_ENOTFOUND) {
            fprintf(stderr, "atrium: no user with email %s\n", email);
            rc = CLI_USAGE;
        } else if (st != AT_OK) {
            fprintf(stderr, "atrium: failed (%s)\n", at_status_name(st));
        } else {
            printf("ended %lld session(s) of %s\n", (long long)ended, email);
            rc = CLI_OK;
        }
    } else {
        int st;
        const char *done;
        if (strcmp(cmd, "disable") == 0)
            st = users_set_disabled(s, email, true), done = "disabled; all of their sessions have ended";
        else if (strcmp(cmd, "enable") == 0)
            st = users_set_disabled(s, email, false), done = "enabled";
        else if (strcmp(cmd, "grant-developer") == 0)
            st = users_set_developer(s, email, true), done = "granted developer access";
        else if (strcmp(cmd, "revoke-developer") == 0)
            st = users_set_developer(s, email, false), done = "no longer has developer access";
        else {
            fprintf(stderr, "atrium: unknown user command '%s'\n\n%s", cmd, user_usage);
            rc = CLI_USAGE;
            goto out;
        }
        if (st == AT_ENOTFOUND)
            fprintf(stderr, "atrium: no user with email %s\n", email);
        else if (st == AT_ECONFLICT)
            fprintf(stderr, "atrium: refused: %s is the last active owner of a workspace; make someone else an owner "
                            "first\n", email);
        else if (st != AT_OK)
            fprintf(stderr, "atrium: failed (%s)\n", at_status_name(st));
        else {
            printf("%s %s\n", email, done);
            rc = CLI_OK;
        }
    }
out:
    memset(password, 0, sizeof(password));
    store_close(s);
    return rc;
}
