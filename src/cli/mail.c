/* `atrium mail list [--limit N]` and `atrium mail show ID`: the operator's view of the mail outbox.
 * Everything printed comes from the database and partly from users (names, workspace titles), so
 * control characters are replaced before they reach the terminal. */
#include "cli/cli.h"

#include "base/err.h"
#include "mail/mail.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Also declared in cli.h (by the dispatcher's owner); repeated here so this file builds on its own. */
int cli_mail(int argc, char **argv);

static const char cli_mail_usage[] = "usage: atrium mail list [--limit N]\n"
                                     "       atrium mail show ID\n";

static int cli_mail_list(int limit);
static int cli_mail_show(const char *id);
static void cli_mail_cell(const char *s, int width);
static void cli_mail_text(const char *s);
static const char *cli_mail_str(json_t *o, const char *key);

int cli_mail(int argc, char **argv)
{
    if (argc == 3 && strcmp(argv[1], "show") == 0)
        return cli_mail_show(argv[2]);
    if (argc >= 2 && strcmp(argv[1], "list") == 0) {
        const char *n = NULL;
        if (argc == 4 && strcmp(argv[2], "--limit") == 0)
            n = argv[3];
        else if (argc == 3 && strncmp(argv[2], "--limit=", 8) == 0)
            n = argv[2] + 8;
        else if (argc != 2)
            n = "";
        char *end = NULL;
        long limit = n ? strtol(n, &end, 10) : 50;
        if (n && (!*n || *end || limit < 1 || limit > 1000)) {
            fprintf(stderr, "atrium: --limit takes a number from 1 to 1000\n%s", cli_mail_usage);
            return CLI_USAGE;
        }
        return cli_mail_list((int)limit);
    }
    fputs(cli_mail_usage, stderr);
    return CLI_USAGE;
}

/* Prints the newest messages as a table: id, to, subject, status, created. */
static int cli_mail_list(int limit)
{
    config cfg;
    store *s = NULL;
    json_t *list = NULL;
    int rc = cli_setup(&cfg, &s);
    if (rc != CLI_OK)
        return rc;
    int st = mail_list(s, limit, &list);
    store_close(s);
    if (st != AT_OK) {
        fprintf(stderr, "atrium: cannot read the mail outbox (%s)\n", at_status_name(st));
        return CLI_FAIL;
    }
    printf("%-30s  %-28s  %-40s  %-6s  %s\n", "ID", "TO", "SUBJECT", "STATUS", "CREATED");
    size_t i;
    json_t *m;
    json_array_foreach(list, i, m)
    {
        cli_mail_cell(cli_mail_str(m, "id"), 30);
        fputs("  ", stdout);
        cli_mail_cell(cli_mail_str(m, "to"), 28);
        fputs("  ", stdout);
        cli_mail_cell(cli_mail_str(m, "subject"), 40);
        fputs("  ", stdout);
        cli_mail_cell(cli_mail_str(m, "status"), 6);
        fputs("  ", stdout);
        cli_mail_cell(cli_mail_str(m, "created_at"), 0);
        fputc('\n', stdout);
    }
    if (json_array_size(list) == 0)
        printf("(no mail yet; with no ATRIUM_SMTP_URL, messages are also written to DATA_DIR/mail/)\n");
    json_decref(list);
    return CLI_OK;
}

/* Prints one message: a summary of its headers and delivery, then its text body. */
static int cli_mail_show(const char *id)
{
    config cfg;
    store *s = NULL;
    json_t *m = NULL;
    int rc = cli_setup(&cfg, &s);
    if (rc != CLI_OK)
        return rc;
    int st = mail_show(s, id, &m);
    store_close(s);
    if (st == AT_ENOTFOUND) {
        fprintf(stderr, "atrium: no message %s\n", id);
        return CLI_FAIL;
    }
    if (st != AT_OK) {
        fprintf(stderr, "atrium: cannot read the mail outbox (%s)\n", at_status_name(st));
        return CLI_FAIL;
    }
    static const char *const rows[][2] = {
        {"ID", "id"},
        {"To", "to"},
        {"Subject", "subject"},
        {"Template", "template"},
        {"Status", "status"},
        {"Transport", "transport"},
        {"Created", "created_at"},
        {"Sent", "sent_at"},
        {"Workspace", "workspace_id"},
        {"Last error", "last_error"},
    };
    for (size_t r = 0; r < sizeof rows / sizeof rows[0]; r++) {
        const char *v = cli_mail_str(m, rows[r][1]);
        if (!*v)
            continue;
        printf("%-11s ", rows[r][0]);
        cli_mail_cell(v, 0);
        fputc('\n', stdout);
    }
    printf("%-11s %lld\n\n", "Attempts", (long long)json_integer_value(json_object_get(m, "attempts")));
    cli_mail_text(cli_mail_str(m, "text"));
    json_decref(m);
    return CLI_OK;
}

/* Prints s on one line, control characters as '?'; with width > 0, cut or padded to that many
 * characters (UTF-8 sequences count as one, cut ones end in "~"). */
static void cli_mail_cell(const char *s, int width)
{
    int chars = 0;
    for (const unsigned char *p = (const unsigned char *)s; *p;) {
        size_t n = *p >= 0xF0 ? 4 : *p >= 0xE0 ? 3 : *p >= 0xC0 ? 2 : 1;
        if (strnlen((const char *)p, n) < n)
            break;
        if (width > 0 && chars == width - 1 && p[n] != '\0') {
            fputc('~', stdout);
            chars++;
            break;
        }
        if (*p < 0x20 || *p == 0x7f)
            fputc('?', stdout);
        else
            fwrite(p, 1, n, stdout);
        chars++;
        p += n;
    }
    for (; chars < width; chars++)
        fputc(' ', stdout);
}

/* Prints a multi-line body; control characters other than line feeds and tabs become '?'. */
static void cli_mail_text(const char *s)
{
    for (const unsigned char *p = (const unsigned char *)s; *p; p++) {
        if (*p == '\r')
            continue;
        fputc((*p < 0x20 && *p != '\n' && *p != '\t') || *p == 0x7f ? '?' : *p, stdout);
    }
    if (*s && s[strlen(s) - 1] != '\n')
        fputc('\n', stdout);
}

static const char *cli_mail_str(json_t *o, const char *key)
{
    const char *v = json_string_value(json_object_get(o, key));
    return v ? v : "";
}
