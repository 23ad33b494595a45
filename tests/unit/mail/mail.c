/* The mail outbox (src/mail/mail.c) on both backends: enqueue inside the caller's transaction,
 * dedupe, the folder transport, SMTP delivery to a real local server (Python's aiosmtpd, started
 * here), a failing server, and what reaches the log. Parsing of the delivered messages is done by
 * Python's email package, an independent MIME implementation. */
#define _XOPEN_SOURCE 700 /* nftw */
#include "mail/mail.h"

#include "base/buf.h"
#include "base/clock.h"
#include "base/config.h"
#include "base/log.h"
#include "jobs/jobs.h"
#include "store/testdb.h"

#include <arpa/inet.h>
#include <criterion/criterion.h>
#include <fcntl.h>
#include <ftw.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#define SEC 1000000LL
#define T0  (1795826156LL * SEC) /* 2026-11-28T00:35:56Z */

/* The helper: `parse EML OUT` describes a message as JSON; `serve OUT` runs an SMTP server on a free
 * port of 127.0.0.1, prints the port, and writes each message it receives as JSON (exit 3 without
 * aiosmtpd). */
static const char py_helper[] =
    "import sys, os, json, email\n"
    "from email import policy\n"
    "def names(h):\n"
    "    return [type(d).__name__ for d in getattr(h, 'defects', [])]\n"
    "def describe(data):\n"
    "    msg = email.message_from_bytes(data, policy=policy.default)\n"
    "    parts = []\n"
    "    for p in msg.walk():\n"
    "        if p.is_multipart():\n"
    "            continue\n"
    "        parts.append({'type': p.get_content_type(), 'charset': p.get_content_charset(),\n"
    "                      'cte': p.get('Content-Transfer-Encoding'),\n"
    "                      'body': p.get_content().replace('\\r\\n', '\\n'),\n"
    "                      'defects': names(p)})\n"
    "    to, frm = msg['to'], msg['from']\n"
    "    return {'subject': str(msg['subject']), 'to_name': to.addresses[0].display_name,\n"
    "            'to_addr': to.addresses[0].addr_spec, 'to_count': len(to.addresses),\n"
    "            'from_name': frm.addresses[0].display_name, 'from_addr': frm.addresses[0].addr_spec,\n"
    "            'date': msg['date'].datetime.isoformat(), 'message_id': str(msg['message-id']),\n"
    "            'mime': msg.get_content_type(), 'parts': parts,\n"
    "            'defects': names(msg) + names(to) + names(frm) + names(msg['subject']),\n"
    "            'headers': list(msg.keys())}\n"
    "def write(path, obj):\n"
    "    with open(path + '.tmp', 'w') as f:\n"
    "        json.dump(obj, f)\n"
    "    os.replace(path + '.tmp', path)\n"
    "if sys.argv[1] == 'parse':\n"
    "    with open(sys.argv[2], 'rb') as f:\n"
    "        write(sys.argv[3], describe(f.read()))\n"
    "    sys.exit(0)\n"
    "try:\n"
    "    from aiosmtpd.controller import Controller\n"
    "except ImportError:\n"
    "    sys.exit(3)\n"
    "import socket, time\n"
    "out = sys.argv[2]\n"
    "class Handler:\n"
    "    async def handle_DATA(self, server, session, envelope):\n"
    "        rec = describe(envelope.content)\n"
    "        rec['mail_from'] = envelope.mail_from\n"
    "        rec['rcpt_tos'] = envelope.rcpt_tos\n"
    "        write(out, rec)\n"
    "        return '250 OK'\n"
    "s = socket.socket()\n"
    "s.bind(('127.0.0.1', 0))\n"
    "port = s.getsockname()[1]\n"
    "s.close()\n"
    "c = Controller(Handler(), hostname='127.0.0.1', port=port)\n"
    "c.start()\n"
    "print(port, flush=True)\n"
    "while True:\n"
    "    time.sleep(3600)\n";

static const char *const pythons[] = {"/usr/bin/python3", "python3"};

static char tmpdir[256]; /* this test's folder: data dir, helper output */

/* ------------------------------------------------------------------------------------------------ */
/* Helpers                                                                                          */
/* ------------------------------------------------------------------------------------------------ */

static int rm_one(const char *path, const struct stat *sb, int flag, struct FTW *ftw)
{
    (void)sb;
    (void)flag;
    (void)ftw;
    remove(path);
    return 0;
}

static void cleanup_tmp(void)
{
    if (tmpdir[0])
        nftw(tmpdir, rm_one, 16, FTW_DEPTH | FTW_PHYS);
}

/* Installs a configuration for mail tests: data dir in a fresh temporary folder (not created yet),
 * the given SMTP URL and credentials, a From with a display name, and a public URL. */
static void setup(const char *smtp_url, const char *user, const char *pass)
{
    char err[512];
    config cfg;
    clock_enable_test();
    cr_assert_eq(clock_set_us(T0), 0);
    cr_assert_eq(config_load(&cfg, err), 0, "%s", err);
    snprintf(tmpdir, sizeof tmpdir, "/tmp/atrium-mail-XXXXXX");
    cr_assert(mkdtemp(tmpdir));
    atexit(cleanup_tmp);
    static char data_dir[300];
    snprintf(data_dir, sizeof data_dir, "%s/data", tmpdir);
    cfg.data_dir = data_dir;
    cfg.smtp_url = smtp_url;
    cfg.smtp_username = user;
    cfg.smtp_password = pass;
    cfg.mail_from = "Atrium Team <noreply@atrium.example.com>";
    cfg.public_url = "https://atrium.example.com";
    config_install(&cfg);
    mail_register_jobs();
    log_set_level(LOG_OFF); /* the failure tests log errors on purpose */
}

/* Runs mail_enqueue in its own write transaction, committed when it succeeds. */
static int enqueue(testdb *t, const mail_request *m, char id[ID_MAX])
{
    store_conn *c = NULL;
    cr_assert_eq(store_acquire(t->s, &c), 0);
    cr_assert_eq(store_begin(c, true), 0);
    int rc = mail_enqueue(c, m, id);
    if (rc == AT_OK)
        cr_assert_eq(store_commit(c), 0);
    else
        store_rollback(c);
    store_release(c);
    return rc;
}

static json_t *invitation_vars(const char *workspace)
{
    return json_pack("{s:s, s:s, s:s, s:s, s:s, s:s}", "workspace", workspace, "inviter", "Ana Lima", "role", "admin",
                     "link", "/invitations/tok-SECRET-123", "expires", "2026-12-05T14:05:00Z", "message",
                     "Come and help us!");
}

static int64_t count(testdb *t, const char *sql, const char *arg)
{
    store_conn *c = NULL;
    int64_t n = -1;
    store_arg a[] = {sa_text(arg)};
    cr_assert_eq(store_acquire(t->s, &c), 0);
    cr_assert_eq(store_query_int(c, sql, a, arg ? 1 : 0, &n), 0, "%s", sql);
    store_release(c);
    return n;
}

static json_t *show(testdb *t, const char *id)
{
    json_t *o = NULL;
    cr_assert_eq(mail_show(t->s, id, &o), 0);
    return o;
}

static const char *str(json_t *o, const char *key)
{
    return json_string_value(json_object_get(o, key));
}

static int64_t num(json_t *o, const char *key)
{
    return json_integer_value(json_object_get(o, key));
}

/* A TCP port on 127.0.0.1 that nothing listens on (bound, then released). */
static int closed_port(void)
{
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    struct sockaddr_in a = {.sin_family = AF_INET, .sin_port = 0, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
    socklen_t len = sizeof a;
    cr_assert_eq(bind(fd, (struct sockaddr *)&a, sizeof a), 0);
    cr_assert_eq(getsockname(fd, (struct sockaddr *)&a, &len), 0);
    close(fd);
    return ntohs(a.sin_port);
}

/* Starts the helper with python `py` and argv (mode, paths); stdout goes to *out_fd when asked. */
static pid_t spawn_py(const char *py, const char *mode, const char *a1, const char *a2, int *out_fd)
{
    int p[2] = {-1, -1};
    if (out_fd)
        cr_assert_eq(pipe(p), 0);
    pid_t pid = fork();
    cr_assert_geq(pid, 0);
    if (pid == 0) {
        if (out_fd) {
            dup2(p[1], 1);
            close(p[0]);
            close(p[1]);
        }
        int devnull = open("/dev/null", O_RDWR);
        dup2(devnull, 0);
        dup2(devnull, 2);
        execlp(py, py, "-c", py_helper, mode, a1, a2, (char *)NULL);
        _exit(127);
    }
    if (out_fd) {
        close(p[1]);
        *out_fd = p[0];
    }
    return pid;
}

/* Starts the SMTP server, or skips the test when no Python with aiosmtpd is installed. */
static pid_t smtp_start(const char *out_json, int *port)
{
    for (size_t i = 0; i < sizeof pythons / sizeof pythons[0]; i++) {
        int fd = -1;
        pid_t pid = spawn_py(pythons[i], "serve", out_json, NULL, &fd);
        FILE *f = fdopen(fd, "r");
        char line[32] = "";
        bool ok = f && fgets(line, sizeof line, f) && atoi(line) > 0;
        if (f)
            fclose(f);
        if (ok) {
            *port = atoi(line);
            return pid;
        }
        waitpid(pid, NULL, 0);
    }
    testdb_missing("a python3 with aiosmtpd (Debian: python3-aiosmtpd)");
    return -1;
}

static void smtp_stop(pid_t pid)
{
    kill(pid, SIGTERM);
    waitpid(pid, NULL, 0);
}

/* Parses an .eml file with Python's email package into JSON. */
static json_t *py_parse(const char *eml)
{
    char out[400];
    snprintf(out, sizeof out, "%s/parsed.json", tmpdir);
    for (size_t i = 0; i < sizeof pythons / sizeof pythons[0]; i++) {
        int status = 0;
        pid_t pid = spawn_py(pythons[i], "parse", eml, out, NULL);
        waitpid(pid, &status, 0);
        if (WIFEXITED(status) && WEXITSTATUS(status) == 0) {
            json_error_t e;
            json_t *j = json_load_file(out, 0, &e);
            cr_assert(j, "%s", e.text);
            return j;
        }
    }
    cr_assert_fail("python3 could not parse %s", eml);
    return NULL;
}

static char *slurp(const char *path, size_t *len)
{
    FILE *f = fopen(path, "rb");
    cr_assert(f, "cannot open %s", path);
    buf b;
    buf_init(&b);
    char tmp[4096];
    size_t n;
    while ((n = fread(tmp, 1, sizeof tmp, f)) > 0)
        buf_append(&b, tmp, n);
    fclose(f);
    buf_append(&b, "", 0);
    return buf_steal(&b, len);
}

/* Checks the parts Python found: text/plain and text/html in UTF-8, with the expected content. */
static void assert_parts(json_t *p, const char *text_has, const char *html_has)
{
    cr_assert_str_eq(str(p, "mime"), "multipart/alternative");
    cr_assert_eq(json_array_size(json_object_get(p, "defects")), 0, "defects: %s",
                 json_dumps(json_object_get(p, "defects"), 0));
    json_t *parts = json_object_get(p, "parts");
    cr_assert_eq(json_array_size(parts), 2);
    json_t *text = json_array_get(parts, 0), *html = json_array_get(parts, 1);
    cr_assert_str_eq(str(text, "type"), "text/plain");
    cr_assert_str_eq(str(html, "type"), "text/html");
    cr_assert_str_eq(str(text, "charset"), "utf-8");
    cr_assert_str_eq(str(html, "charset"), "utf-8");
    cr_assert_eq(json_array_size(json_object_get(text, "defects")), 0);
    cr_assert_eq(json_array_size(json_object_get(html, "defects")), 0);
    cr_assert(strstr(str(text, "body"), text_has), "text: %s", str(text, "body"));
    cr_assert(strstr(str(html, "body"), html_has), "html: %s", str(html, "body"));
}

/* ------------------------------------------------------------------------------------------------ */
/* Tests                                                                                            */
/* ------------------------------------------------------------------------------------------------ */

STORE_TEST_MIGRATED(mail, enqueue_list_show, 1)
{
    setup("", "", "");
    char id[ID_MAX];
    json_t *vars = invitation_vars("Acme");
    mail_request m = {"ws_1", "zoe@example.org", "Zoë", "invitation", vars, NULL};
    cr_assert_eq(enqueue(t, &m, id), 0);
    cr_assert_eq(strncmp(id, "msg_", 4), 0);

    json_t *o = show(t, id);
    cr_assert_str_eq(str(o, "id"), id);
    cr_assert_str_eq(str(o, "to"), "zoe@example.org");
    cr_assert_str_eq(str(o, "subject"), "Ana Lima invited you to Acme on Atrium");
    cr_assert_str_eq(str(o, "template"), "invitation");
    cr_assert_str_eq(str(o, "status"), "queued");
    cr_assert_str_eq(str(o, "workspace_id"), "ws_1");
    cr_assert_eq(num(o, "attempts"), 0);
    cr_assert_eq(strncmp(str(o, "created_at"), "2026-11-28T00:35:5", 18), 0, "%s", str(o, "created_at"));
    cr_assert(json_is_null(json_object_get(o, "sent_at")));
    cr_assert(json_is_null(json_object_get(o, "last_error")));
    cr_assert(json_is_null(json_object_get(o, "transport")));
    cr_assert(strstr(str(o, "text"), "https://atrium.example.com/invitations/tok-SECRET-123"));
    cr_assert(strstr(str(o, "html"), "<strong>Acme</strong>"));
    const char *raw = str(o, "raw");
    cr_assert(strstr(raw, "From: \"Atrium Team\" <noreply@atrium.example.com>\r\n"));
    cr_assert(strstr(raw, "To: =?UTF-8?B?"));
    cr_assert(strstr(raw, "Date: Sat, 28 Nov 2026 00:35:56 +0000\r\n"));
    char mid[80];
    snprintf(mid, sizeof mid, "Message-ID: <%s@atrium>\r\n", id);
    cr_assert(strstr(raw, mid));
    json_decref(o);

    /* The job exists, keyed by the message. */
    char key[80];
    snprintf(key, sizeof key, "mail:%s", id);
    cr_assert_eq(count(t, "SELECT COUNT(*) FROM jobs WHERE kind = 'mail.send' AND dedupe_key = $1", key), 1);

    /* The list is newest first and capped by the limit. */
    char id2[ID_MAX], id3[ID_MAX];
    clock_advance_us(SEC);
    cr_assert_eq(enqueue(t, &m, id2), 0);
    clock_advance_us(SEC);
    json_t *rv = json_pack("{s:s, s:s}", "workspace", "Acme", "by", "Ana");
    mail_request m2 = {"ws_1", "bob@example.org", NULL, "member_removed", rv, NULL};
    cr_assert_eq(enqueue(t, &m2, id3), 0);
    json_t *list = NULL;
    cr_assert_eq(mail_list(t->s, 2, &list), 0);
    cr_assert_eq(json_array_size(list), 2);
    json_t *first = json_array_get(list, 0);
    cr_assert_str_eq(str(first, "id"), id3);
    cr_assert_str_eq(str(json_array_get(list, 1), "id"), id2);
    cr_assert_str_eq(str(first, "to"), "bob@example.org");
    cr_assert_str_eq(str(first, "subject"), "You were removed from Acme");
    cr_assert_str_eq(str(first, "template"), "member_removed");
    cr_assert_str_eq(str(first, "status"), "queued");
    cr_assert(json_is_integer(json_object_get(first, "attempts")));
    cr_assert(json_object_get(first, "sent_at") && json_object_get(first, "last_error"));
    cr_assert_null(json_object_get(first, "raw"));
    json_decref(list);
    cr_assert_eq(mail_list(t->s, 0, &list), 0);
    cr_assert_eq(json_array_size(list), 3);
    json_decref(list);

    json_t *none = NULL;
    cr_assert_eq(mail_show(t->s, "msg_nope", &none), AT_ENOTFOUND);
    cr_assert_null(none);

    char folder[1024], want[1100];
    mail_folder(folder);
    snprintf(want, sizeof want, "%s/data/mail", tmpdir);
    cr_assert_str_eq(folder, want);
    json_decref(rv);
    json_decref(vars);
}

STORE_TEST_MIGRATED(mail, refuses_bad_requests, 1)
{
    setup("", "", "");
    char id[ID_MAX];
    json_t *vars = invitation_vars("Acme");
    const char *bad_to[] = {"not-an-address",
                            "zoe@localhost",
                            "zoe@example.org\r\nBcc: eve@example.com",
                            "zoe@example.org, eve@example.com",
                            "Zoe <zoe@example.org>",
                            "zoe@example.org\n",
                            ""};
    for (size_t i = 0; i < sizeof bad_to / sizeof bad_to[0]; i++) {
        mail_request m = {NULL, bad_to[i], NULL, "invitation", vars, NULL};
        cr_assert_eq(enqueue(t, &m, id), AT_EINVAL, "%s", bad_to[i]);
    }
    mail_request nul = {NULL, NULL, NULL, "invitation", vars, NULL};
    cr_assert_eq(enqueue(t, &nul, id), AT_EINVAL);
    mail_request unknown = {NULL, "zoe@example.org", NULL, "welcome_pack", vars, NULL};
    cr_assert_eq(enqueue(t, &unknown, id), AT_EINVAL);
    mail_request missing = {NULL, "zoe@example.org", NULL, "role_changed", vars, NULL};
    cr_assert_eq(enqueue(t, &missing, id), AT_EINVAL);
    mail_request badname = {NULL, "zoe@example.org", "\xC3\x28", "invitation", vars, NULL};
    cr_assert_eq(enqueue(t, &badname, id), AT_EINVAL);

    /* A bad ATRIUM_MAIL_FROM refuses rather than sending from nowhere. */
    config cfg = *config_get();
    cfg.mail_from = "Atrium <>";
    config_install(&cfg);
    mail_request ok = {NULL, "zoe@example.org", NULL, "invitation", vars, NULL};
    cr_assert_eq(enqueue(t, &ok, id), AT_EINVAL);
    cr_assert_eq(count(t, "SELECT COUNT(*) FROM mail_outbox", NULL), 0);
    cr_assert_eq(count(t, "SELECT COUNT(*) FROM jobs", NULL), 0);

    /* A display name with line breaks is neutralised, never a new header. */
    cfg.mail_from = "Atrium <atrium@localhost>";
    config_install(&cfg);
    mail_request evil = {NULL, "zoe@example.org", "Zoe\r\nBcc: eve@example.com", "invitation", vars, NULL};
    cr_assert_eq(enqueue(t, &evil, id), 0);
    json_t *o = show(t, id);
    cr_assert_null(strstr(str(o, "raw"), "\nBcc:"));
    cr_assert(strstr(str(o, "raw"), "To: \"Zoe Bcc: eve@example.com\" <zoe@example.org>\r\n"));
    json_decref(o);
    json_decref(vars);
}

STORE_TEST_MIGRATED(mail, dedupe_and_rollback, 1)
{
    setup("", "", "");
    char a[ID_MAX], b[ID_MAX], c3[ID_MAX];
    json_t *vars = invitation_vars("Acme");
    mail_request m = {"ws_1", "zoe@example.org", NULL, "invitation", vars, "invite:inv_1:0"};
    cr_assert_eq(enqueue(t, &m, a), 0);
    clock_advance_us(SEC);
    cr_assert_eq(enqueue(t, &m, b), 0);
    cr_assert_str_eq(a, b);
    cr_assert_eq(count(t, "SELECT COUNT(*) FROM mail_outbox", NULL), 1);
    cr_assert_eq(count(t, "SELECT COUNT(*) FROM jobs WHERE kind = 'mail.send'", NULL), 1);
    /* The same key stays used after the message is sent. */
    cr_assert_eq(jobs_run_due(t->s, 10), 1);
    cr_assert_eq(enqueue(t, &m, b), 0);
    cr_assert_str_eq(a, b);
    cr_assert_eq(jobs_run_due(t->s, 10), 0);

    m.dedupe_key = "invite:inv_1:1";
    cr_assert_eq(enqueue(t, &m, c3), 0);
    cr_assert_str_neq(a, c3);
    m.dedupe_key = NULL;
    cr_assert_eq(enqueue(t, &m, a), 0);
    cr_assert_eq(enqueue(t, &m, b), 0);
    cr_assert_str_neq(a, b);
    cr_assert_eq(count(t, "SELECT COUNT(*) FROM mail_outbox", NULL), 4);

    /* Outbox rule: a rolled-back change leaves neither the message nor its job. */
    store_conn *c = NULL;
    cr_assert_eq(store_acquire(t->s, &c), 0);
    cr_assert_eq(store_begin(c, true), 0);
    m.dedupe_key = "invite:inv_2:0";
    cr_assert_eq(mail_enqueue(c, &m, a), 0);
    cr_assert_eq(store_rollback(c), 0);
    store_release(c);
    cr_assert_eq(count(t, "SELECT COUNT(*) FROM mail_outbox WHERE dedupe_key = $1", "invite:inv_2:0"), 0);
    cr_assert_eq(count(t, "SELECT COUNT(*) FROM mail_outbox", NULL), 4);
    cr_assert_eq(count(t, "SELECT COUNT(*) FROM jobs WHERE kind = 'mail.send'", NULL), 4);
    json_decref(vars);
}

STORE_TEST_MIGRATED(mail, folder_transport, 1)
{
    setup("", "", "");
    char id[ID_MAX];
    json_t *vars = json_pack("{s:s, s:s, s:s}", "name", "Bea Ñúñez", "link", "/reset-password/tok-SECRET-456",
                             "expires", "2026-11-28T01:35:56Z");
    mail_request m = {NULL, "bea@example.net", "Bea Ñúñez", "password_reset", vars, NULL};
    cr_assert_eq(enqueue(t, &m, id), 0);
    cr_assert_eq(jobs_run_due(t->s, 10), 1);

    json_t *o = show(t, id);
    cr_assert_str_eq(str(o, "status"), "sent");
    cr_assert_str_eq(str(o, "transport"), "folder");
    cr_assert_eq(num(o, "attempts"), 1);
    cr_assert_eq(strncmp(str(o, "sent_at"), "2026-11-28T00:35:5", 18), 0, "%s", str(o, "sent_at"));

    char folder[1024], path[1200];
    mail_folder(folder);
    snprintf(path, sizeof path, "%s/%s.eml", folder, id);
    struct stat st;
    cr_assert_eq(stat(folder, &st), 0);
    cr_assert_eq(st.st_mode & 0777, 0700);
    cr_assert_eq(stat(path, &st), 0);
    cr_assert_eq(st.st_mode & 0777, 0600);
    size_t len = 0;
    char *eml = slurp(path, &len);
    cr_assert_eq(len, strlen(str(o, "raw")));
    cr_assert_str_eq(eml, str(o, "raw"));
    free(eml);

    json_t *p = py_parse(path);
    cr_assert_str_eq(str(p, "subject"), "Reset your Atrium password");
    cr_assert_str_eq(str(p, "to_name"), "Bea Ñúñez");
    cr_assert_str_eq(str(p, "to_addr"), "bea@example.net");
    cr_assert_str_eq(str(p, "from_name"), "Atrium Team");
    cr_assert_str_eq(str(p, "from_addr"), "noreply@atrium.example.com");
    cr_assert_str_eq(str(p, "date"), "2026-11-28T00:35:56+00:00");
    char mid[80];
    snprintf(mid, sizeof mid, "<%s@atrium>", id);
    cr_assert_str_eq(str(p, "message_id"), mid);
    assert_parts(p, "Hi Bea Ñúñez,\n", "https://atrium.example.com/reset-password/tok-SECRET-456");
    cr_assert(strstr(str(json_array_get(json_object_get(p, "parts"), 0), "body"),
                     "valid for 1 hour (until 28 November 2026 at 01:35 UTC)"));
    json_decref(p);

    /* Running the job again (a retry after a crash) sends nothing more. */
    store_conn *c = NULL;
    char payload[80];
    snprintf(payload, sizeof payload, "{\"id\":\"%s\"}", id);
    cr_assert_eq(store_acquire(t->s, &c), 0);
    cr_assert_eq(jobs_enqueue(c, "mail.send", payload, 0, 8, NULL, NULL), 0);
    store_release(c);
    cr_assert_eq(unlink(path), 0);
    cr_assert_eq(jobs_run_due(t->s, 10), 1);
    cr_assert_neq(stat(path, &st), 0, "an already-sent message was written again");
    json_decref(o);
    o = show(t, id);
    cr_assert_eq(num(o, "attempts"), 1);
    cr_assert_str_eq(str(o, "status"), "sent");
    json_decref(o);
    json_decref(vars);
}

STORE_TEST_MIGRATED(mail, smtp_delivery, 1)
{
    char received[300];
    int port = 0;
    snprintf(received, sizeof received, "/tmp/atrium-mail-smtp-%d.json", (int)getpid());
    pid_t server = smtp_start(received, &port);
    char url[64];
    snprintf(url, sizeof url, "smtp://127.0.0.1:%d", port);
    setup(url, "", "");

    char id[ID_MAX];
    json_t *vars = invitation_vars("Café Crème");
    mail_request m = {"ws_1", "zoe@example.org", "Zoë Ünïcode", "invitation", vars, NULL};
    cr_assert_eq(enqueue(t, &m, id), 0);
    cr_assert_eq(jobs_run_due(t->s, 10), 1);
    json_t *o = show(t, id);
    cr_assert_str_eq(str(o, "status"), "sent", "last_error: %s", str(o, "last_error"));
    cr_assert_str_eq(str(o, "transport"), "smtp");
    cr_assert_eq(num(o, "attempts"), 1);
    cr_assert(json_is_null(json_object_get(o, "last_error")));
    json_decref(o);

    json_error_t e;
    json_t *p = json_load_file(received, 0, &e);
    unlink(received);
    smtp_stop(server);
    cr_assert(p, "nothing received: %s", e.text);
    cr_assert_str_eq(str(p, "mail_from"), "noreply@atrium.example.com");
    cr_assert_eq(json_array_size(json_object_get(p, "rcpt_tos")), 1);
    cr_assert_str_eq(json_string_value(json_array_get(json_object_get(p, "rcpt_tos"), 0)), "zoe@example.org");
    cr_assert_str_eq(str(p, "subject"), "Ana Lima invited you to Café Crème on Atrium");
    cr_assert_str_eq(str(p, "to_name"), "Zoë Ünïcode");
    cr_assert_str_eq(str(p, "to_addr"), "zoe@example.org");
    cr_assert_eq(json_integer_value(json_object_get(p, "to_count")), 1);
    cr_assert_str_eq(str(p, "from_name"), "Atrium Team");
    assert_parts(p, "> Come and help us!", "<strong>Café Crème</strong>");
    cr_assert(strstr(str(json_array_get(json_object_get(p, "parts"), 0), "body"),
                     "\nhttps://atrium.example.com/invitations/tok-SECRET-123\n"),
              "%s", str(json_array_get(json_object_get(p, "parts"), 0), "body"));
    json_decref(p);
    cr_assert_eq(jobs_run_due(t->s, 10), 0);
    json_decref(vars);
}

/* With credentials configured, a server without STARTTLS gets nothing: the password never crosses the
 * network in clear. */
STORE_TEST_MIGRATED(mail, smtp_credentials_need_tls, 1)
{
    char received[300];
    int port = 0;
    snprintf(received, sizeof received, "/tmp/atrium-mail-smtp-%d.json", (int)getpid());
    pid_t server = smtp_start(received, &port);
    char url[64];
    snprintf(url, sizeof url, "smtp://127.0.0.1:%d", port);
    setup(url, "mailer", "pw-S3cret-value");
    char id[ID_MAX];
    json_t *vars = json_pack("{s:s, s:s}", "workspace", "Acme", "by", "Ana");
    mail_request m = {"ws_1", "bob@example.org", NULL, "member_removed", vars, NULL};
    cr_assert_eq(enqueue(t, &m, id), 0);
    cr_assert_eq(jobs_run_due(t->s, 10), 1);
    struct stat st;
    bool got = stat(received, &st) == 0;
    unlink(received);
    smtp_stop(server);
    cr_assert_not(got, "the message went out over a connection without TLS");
    json_t *o = show(t, id);
    cr_assert_str_eq(str(o, "status"), "queued");
    cr_assert(strstr(str(o, "last_error"), "credentials are only sent over TLS"), "%s", str(o, "last_error"));
    cr_assert_null(strstr(str(o, "last_error"), "S3cret"));
    json_decref(o);
    json_decref(vars);
}

STORE_TEST_MIGRATED(mail, smtp_failure_retries_then_dead, 1)
{
    char url[64];
    snprintf(url, sizeof url, "smtp://127.0.0.1:%d", closed_port());
    setup(url, "mailer", "pw-S3cret-value");
    char id[ID_MAX], key[80];
    json_t *vars = json_pack("{s:s, s:s}", "workspace", "Acme", "by", "Ana");
    mail_request m = {"ws_1", "bob@example.org", NULL, "member_removed", vars, NULL};
    cr_assert_eq(enqueue(t, &m, id), 0);
    snprintf(key, sizeof key, "mail:%s", id);

    cr_assert_eq(jobs_run_due(t->s, 10), 1);
    json_t *o = show(t, id);
    cr_assert_str_eq(str(o, "status"), "queued");
    cr_assert_str_eq(str(o, "transport"), "smtp");
    cr_assert_eq(num(o, "attempts"), 1);
    cr_assert(json_is_null(json_object_get(o, "sent_at")));
    const char *err = str(o, "last_error");
    cr_assert(err && *err, "no error recorded");
    cr_assert_null(strstr(err, "S3cret"), "the password leaked into last_error: %s", err);
    cr_assert_eq(count(t, "SELECT COUNT(*) FROM jobs WHERE dedupe_key = $1 AND state = 'queued' AND attempts = 1", key),
                 1);
    json_decref(o);

    /* The queue retries with backoff; after the last attempt both the job and the message are dead. */
    for (int i = 2; i <= 8; i++) {
        clock_advance_us(2 * 3600 * SEC);
        cr_assert_eq(jobs_run_due(t->s, 10), 1, "attempt %d", i);
    }
    o = show(t, id);
    cr_assert_str_eq(str(o, "status"), "dead");
    cr_assert_eq(num(o, "attempts"), 8);
    cr_assert(json_is_null(json_object_get(o, "sent_at")));
    json_decref(o);
    cr_assert_eq(count(t, "SELECT COUNT(*) FROM jobs WHERE dedupe_key = $1 AND state = 'dead'", key), 1);
    clock_advance_us(24 * 3600 * SEC);
    cr_assert_eq(jobs_run_due(t->s, 10), 0);
    json_decref(vars);
}

STORE_TEST_MIGRATED(mail, logs_carry_no_secrets, 1)
{
    setup("", "", "");
    char logpath[400];
    snprintf(logpath, sizeof logpath, "%s/log.txt", tmpdir);
    int fd = open(logpath, O_WRONLY | O_CREAT | O_TRUNC, 0600);
    cr_assert_geq(fd, 0);
    log_set_fd(fd);
    log_set_level(LOG_DEBUG);
    char id[ID_MAX];
    json_t *vars = invitation_vars("Acme");
    mail_request m = {"ws_1", "zoe.private@example.org", "Zoë", "invitation", vars, NULL};
    cr_assert_eq(enqueue(t, &m, id), 0);
    cr_assert_eq(jobs_run_due(t->s, 10), 1);
    log_set_fd(2);
    log_set_level(LOG_ERROR);
    close(fd);
    char *log = slurp(logpath, NULL);
    cr_assert(strstr(log, id), "the message id is logged: %s", log);
    cr_assert(strstr(log, "example.org"), "the domain is logged: %s", log);
    cr_assert(strstr(log, "\"template\":\"invitation\""), "%s", log);
    cr_assert_null(strstr(log, "tok-SECRET"), "a link token reached the log: %s", log);
    cr_assert_null(strstr(log, "zoe.private"), "a full address reached the log: %s", log);
    cr_assert_null(strstr(log, "Come and help"), "a body reached the log: %s", log);
    free(log);
    json_decref(vars);
}
