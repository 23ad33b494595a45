/* The settings table, and loading it from defaults, an INI file and the environment. */
#include "base/config.h"

#include "base/buf.h"
#include "base/cidr.h"
#include "base/email.h"
#include "base/err.h"
#include "base/log.h"
#include "base/mem.h"

#include <errno.h>
#include <ini.h>
#include <pthread.h>
#include <stdatomic.h>
#include <limits.h>
#include <netdb.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

enum setting_kind { KIND_STRING, KIND_INT, KIND_BOOL, KIND_ENV, KIND_LISTEN, KIND_LOG_LEVEL };

#define SETTING_SECRET   (1u << 0) /* hidden in `config check`; may come from X_FILE or a credential */
#define SETTING_OPTIONAL (1u << 1) /* KIND_LISTEN: may be empty (no such listener) */

/* A check of a text value after loading: returns NULL when it is acceptable, else why not (a message
 * that never repeats a secret value). why is scratch space for a message that needs formatting. */
typedef const char *(*setting_check)(const char *v, char why[256]);

typedef struct setting {
    const char *name; /* environment variable */
    int kind;
    size_t offset;    /* into struct config (KIND_LISTEN: of the host) */
    size_t aux;       /* KIND_INT: the field's size; KIND_LISTEN: the port's offset */
    const char *def;  /* default as text */
    int64_t min, max; /* for ints */
    const char *doc;
    unsigned flags; /* SETTING_* */
    setting_check check;
} setting;

static const char *check_database_url(const char *v, char why[256]);
static const char *check_smtp_url(const char *v, char why[256]);
static const char *check_public_url(const char *v, char why[256]);
static const char *check_origin(const char *v, char why[256]);
static const char *check_api_base(const char *v, char why[256]);
static const char *check_mail_from(const char *v, char why[256]);
static const char *check_proxies(const char *v, char why[256]);
static const char *check_provider(const char *v, char why[256]);
static const char *check_not_empty(const char *v, char why[256]);
static void config_url_password(const char *url, const char **at, size_t *len);

#define STR(field, def, doc)         KIND_STRING, offsetof(config, field), 0, def, 0, 0, doc
#define INT(field, def, lo, hi, doc) KIND_INT, offsetof(config, field), sizeof(((config *)0)->field), def, lo, hi, doc
#define BOOL(field, def, doc)        KIND_BOOL, offsetof(config, field), 0, def, 0, 0, doc
#define LISTEN(host, port, def, doc) KIND_LISTEN, offsetof(config, host), offsetof(config, port), def, 0, 0, doc

static const setting settings[] = {
    {"ATRIUM_ENV", KIND_ENV, offsetof(config, env), 0, "production", 0, 0,
     "`production`, `development` or `test`. Test mode enables the test clock and the `/api/v1/test/*` routes; "
     "production refuses a PostgreSQL server with `fsync`, `synchronous_commit` or `full_page_writes` off.",
     0, NULL},
    {"ATRIUM_LISTEN",
     LISTEN(listen_host, listen_port, "127.0.0.1:8080",
            "Address and port to serve on, as `host:port` (port 0 picks a free port and logs it). "
            "A host name that does not resolve stops Atrium at start."),
     0, NULL},
    {"ATRIUM_TRUSTED_PROXIES",
     STR(trusted_proxies, "",
         "Reverse proxies whose forwarding headers are believed: IP addresses or CIDR "
         "ranges, comma-separated (`127.0.0.1/32, 10.0.0.0/8`). For a request from one of "
         "them the client address (for rate limits, sign-in lockouts, audit events, "
         "sessions and the access log) is the right-most address of `Forwarded` (RFC "
         "7239) or else `X-Forwarded-For` that is not itself a trusted proxy; a malformed "
         "header counts as absent. Empty: the connection's own address, headers ignored. "
         "ATRIUM_MAX_CONNECTIONS_PER_IP still counts a proxy's connections as one "
         "address: raise it behind a proxy."),
     0, check_proxies},
    {"ATRIUM_METRICS_LISTEN",
     LISTEN(metrics_listen_host, metrics_listen_port, "",
            "A separate management address for `/metrics` as `host:port` (such as "
            "`127.0.0.1:9090`), served there to anyone who can connect. Empty: none."),
     SETTING_OPTIONAL, NULL},
    {"ATRIUM_METRICS_TOKEN",
     STR(metrics_token, "",
         "A bearer token for `/metrics` on the main address (`Authorization: Bearer "
         "TOKEN`, compared in constant time). Empty: `/metrics` there answers only "
         "loopback requests that did not come through a trusted proxy."),
     SETTING_SECRET, NULL},
    {"ATRIUM_DATABASE_URL",
     STR(database_url, "sqlite:./data/atrium.db",
         "`sqlite:PATH` for the embedded store or `postgres://user@host:port/db` "
         "(any libpq connection URI) for PostgreSQL."),
     SETTING_SECRET, check_database_url},
    {"ATRIUM_DATA_DIR", STR(data_dir, "./data", "Folder for the mail folder, uploads and keys. Created if absent."), 0,
     check_not_empty},
    {"ATRIUM_LOG_LEVEL", KIND_LOG_LEVEL, offsetof(config, log_level), 0, "info", 0, 0,
     "`debug`, `info`, `warn`, `error` or `off`. Logs are JSON lines on standard error.", 0, NULL},
    {"ATRIUM_MAX_BODY_BYTES",
     INT(max_body_bytes, "1048576", 1024, 1073741824, "Largest request body accepted; larger bodies get 413."), 0,
     NULL},
    {"ATRIUM_MAX_CONNECTIONS", INT(max_connections, "1024", 4, 100000, "Concurrent connections in all."), 0, NULL},
    {"ATRIUM_MAX_CONNECTIONS_PER_IP",
     INT(max_connections_per_ip, "256", 1, 100000, "Concurrent connections from one IP address."), 0, NULL},
    {"ATRIUM_CONNECTION_TIMEOUT",
     INT(connection_timeout_s, "30", 1, 3600, "Seconds of inactivity before a connection is closed (slow clients)."), 0,
     NULL},
    {"ATRIUM_HTTP_HEADER_TIMEOUT",
     INT(http_header_timeout_s, "20", 1, 3600,
         "Seconds a client may take to send a request's headers, however slowly it "
         "trickles them; past it the connection is closed (slowloris)."),
     0, NULL},
    {"ATRIUM_HTTP_BODY_TIMEOUT",
     INT(http_body_timeout_s, "60", 1, 3600,
         "Seconds a client may take to send a request's body once the headers are in; "
         "past it the connection is closed."),
     0, NULL},
    {"ATRIUM_HTTP_THREADS",
     INT(http_threads, "0", 0, 1024,
         "0: a thread per connection; N: a pool of N threads that each poll many "
         "connections (use 32 or more: a handler that blocks holds up its thread)."),
     0, NULL},
    {"ATRIUM_THREAD_STACK_KIB",
     INT(thread_stack_kib, "512", 128, 65536, "Stack size of each connection thread, in KiB."), 0, NULL},
    {"ATRIUM_SHUTDOWN_TIMEOUT",
     INT(shutdown_timeout_s, "10", 0, 600, "Seconds to let in-flight requests finish after SIGTERM or SIGINT."), 0,
     NULL},
    {"ATRIUM_DB_POOL", INT(db_pool_size, "16", 1, 256, "Database connections in the pool."), 0, NULL},
    {"ATRIUM_JOB_WORKERS", INT(job_workers, "2", 0, 64, "Background job worker threads (0 runs no jobs)."), 0, NULL},
    {"ATRIUM_JOB_POLL_MS",
     INT(job_poll_ms, "250", 10, 60000, "How often an idle worker looks for due jobs, in milliseconds."), 0, NULL},
    {"ATRIUM_SECRET_KEY",
     STR(secret_key, "",
         "64 hex characters: the key for hashing tokens. Empty: read or create "
         "`DATA_DIR/keys/hash.key`."),
     SETTING_SECRET, NULL},
    {"ATRIUM_SIGNUP", BOOL(signup_enabled, "false", "Whether anyone may sign up (`true`/`false`)."), 0, NULL},
    {"ATRIUM_SESSION_IDLE",
     INT(session_idle_s, "43200", 60, 31536000, "Seconds a session may stay unused before it expires (12 h)."), 0,
     NULL},
    {"ATRIUM_SESSION_ABSOLUTE",
     INT(session_absolute_s, "604800", 60, 31536000,
         "Seconds after sign-in when a session expires whatever its use (7 d)."),
     0, NULL},
    {"ATRIUM_TLS",
     BOOL(tls, "false",
          "Set when Atrium is served over HTTPS (directly or behind a proxy): cookies become "
          "`Secure` and `__Host-` prefixed."),
     0, NULL},
    {"ATRIUM_PUBLIC_ORIGIN",
     STR(public_origin, "",
         "The origin browsers use, e.g. `https://atrium.example.com`. Cookie-authenticated "
         "writes must carry it as `Origin`; empty: the request's own `Host`."),
     0, check_origin},
    {"ATRIUM_PASSWORD_MIN_LENGTH", INT(password_min_length, "12", 8, 128, "Minimum password length."), 0, NULL},
    {"ATRIUM_HASH_CONCURRENCY",
     INT(hash_concurrency, "2", 1, 64, "Password hashes computed at once (each uses 64 MiB)."), 0, NULL},
    {"ATRIUM_LOGIN_IP_PER_MINUTE",
     INT(login_ip_per_minute, "10", 1, 100000, "Sign-in and sign-up attempts per IP address per minute before 429."), 0,
     NULL},
    {"ATRIUM_LOCKOUT_THRESHOLD",
     INT(lockout_threshold, "5", 1, 1000, "Failed sign-ins on one account before it is locked for a while."), 0, NULL},
    {"ATRIUM_LOCKOUT_STEP",
     INT(lockout_step_s, "60", 1, 86400, "Seconds the lock grows by with each failure past the threshold."), 0, NULL},
    {"ATRIUM_LOCKOUT_MAX", INT(lockout_max_s, "900", 1, 86400, "Longest lock, in seconds."), 0, NULL},
    {"ATRIUM_LOCKOUT_RESET",
     INT(lockout_reset_s, "43200", 60, 31536000,
         "Seconds without a failure after which an account's failure count resets."),
     0, NULL},
    {"ATRIUM_SMTP_URL",
     STR(smtp_url, "",
         "Where mail goes: `smtp://host:port` (STARTTLS when the server offers it) or "
         "`smtps://host:port` (credentials go in the two settings below, not in the URL). "
         "Empty: each message is written to `DATA_DIR/mail/`."),
     0, check_smtp_url},
    {"ATRIUM_SMTP_USERNAME", STR(smtp_username, "", "SMTP user name, if the server wants authentication."), 0, NULL},
    {"ATRIUM_SMTP_PASSWORD", STR(smtp_password, "", "SMTP password (a secret: see below)."), SETTING_SECRET, NULL},
    {"ATRIUM_MAIL_FROM",
     STR(mail_from, "Atrium <atrium@atrium.localhost>",
         "The From address of every message: `name@example.com` or `Display Name "
         "<name@example.com>`."),
     0, check_mail_from},
    {"ATRIUM_PUBLIC_URL",
     STR(public_url, "",
         "The address people open Atrium at, for links in mail, e.g. "
         "`https://atrium.example.com` (an absolute `http://` or `https://` URL). Empty: "
         "`http://` plus ATRIUM_LISTEN."),
     0, check_public_url},
    {"ATRIUM_INVITE_TTL_DAYS", INT(invite_ttl_days, "7", 1, 30, "Days an invitation stays valid."), 0, NULL},
    {"ATRIUM_DEFAULT_SEATS",
     INT(default_seat_limit, "10", 1, 100000, "Seats of the trial subscription a new root workspace starts with."), 0,
     NULL},
    {"ATRIUM_KEY_RATE_PER_MINUTE",
     INT(key_rate_per_minute, "600", 1, 10000000,
         "Requests per minute one API key may make (a token bucket, per process)."),
     0, NULL},
    {"ATRIUM_KEY_BURST", INT(key_burst, "100", 1, 10000000, "Requests an API key may make at once (the bucket size)."),
     0, NULL},
    {"ATRIUM_WORKSPACE_RATE_PER_MINUTE",
     INT(workspace_rate_per_minute, "3000", 1, 10000000,
         "Requests per minute all API keys of one workspace may make together."),
     0, NULL},
    {"ATRIUM_BILLING_CATALOG",
     STR(billing_catalog, "",
         "Path of the billing catalog (plans, prices, tax rates, issuer, dunning ladder). "
         "Empty: the catalog shipped in the binary (`etc/billing.json`). Validated at start."),
     0, NULL},
    {"ATRIUM_BILLING_PROVIDER",
     STR(billing_provider, "manual",
         "Payment provider: `manual` (an operator marks invoices paid) or `stripe` (needs "
         "ATRIUM_STRIPE_SECRET_KEY)."),
     0, check_provider},
    {"ATRIUM_STRIPE_API_BASE",
     STR(stripe_api_base, "https://api.stripe.com",
         "Base URL of the Stripe-compatible API, `https://` or `http://` (the tests point it "
         "at a stand-in)."),
     0, check_api_base},
    {"ATRIUM_STRIPE_SECRET_KEY", STR(stripe_secret_key, "", "Stripe secret API key (a secret: see below)."),
     SETTING_SECRET, NULL},
    {"ATRIUM_STRIPE_WEBHOOK_SECRETS",
     STR(stripe_webhook_secrets, "",
         "Webhook signing secrets (`whsec_...`), comma-separated: several during a "
         "rotation (a secret: see below)."),
     SETTING_SECRET, NULL},
    {"ATRIUM_STRIPE_WEBHOOK_TOLERANCE",
     INT(stripe_webhook_tolerance_s, "300", 1, 86400,
         "Seconds a webhook's signed timestamp may differ from now, either way."),
     0, NULL},
};

enum { SETTING_COUNT = sizeof(settings) / sizeof(settings[0]) };

/* Names that are no setting but are read (or are harmless) all the same. */
static const char *const config_other_names[] = {"ATRIUM_CONFIG", "ATRIUM_TEST_FAULT"};

static const char *const config_level_names[] = {"debug", "info", "warn", "error", "off"};

static config config_current;
static int config_is_installed;
/* Set once the server listens, while request threads may read it. */
static _Atomic(const char *) config_listen_url = "";
static const char *config_fallback_url = "";

/* Every text value lives in this list for the life of the process (config.h): reachable, never freed. */
typedef struct config_text {
    struct config_text *next;
    char s[];
} config_text;
static config_text *config_texts;
static pthread_mutex_t config_texts_mu = PTHREAD_MUTEX_INITIALIZER;

extern char **environ;

/* Copies n bytes of s into the process-lifetime list and returns the NUL-terminated copy. */
static const char *config_intern(const char *s, size_t n)
{
    config_text *t = xmalloc(sizeof *t + n + 1);
    memcpy(t->s, s, n);
    t->s[n] = '\0';
    pthread_mutex_lock(&config_texts_mu);
    t->next = config_texts;
    config_texts = t;
    pthread_mutex_unlock(&config_texts_mu);
    return t->s;
}

static const setting *config_find(const char *name)
{
    for (size_t i = 0; i < SETTING_COUNT; i++)
        if (strcmp(settings[i].name, name) == 0)
            return &settings[i];
    return NULL;
}

/* Parses a decimal integer strictly (no trailing bytes, no overflow). */
static int config_parse_int(const char *v, int64_t *out)
{
    char *end = NULL;
    errno = 0;
    long long n = strtoll(v, &end, 10);
    if (errno || end == v || *end != '\0')
        return AT_EINVAL;
    *out = n;
    return AT_OK;
}

/* Applies one textual value to `c`. Returns AT_OK or AT_EINVAL with the reason in err. A secret value
 * is never repeated in a message. */
static int config_apply(config *c, const setting *s, const char *v, char err[512])
{
    char *base = (char *)c;
    int64_t n = 0;
    const char *shown = (s->flags & SETTING_SECRET) ? "(hidden)" : v;

    switch (s->kind) {
    case KIND_STRING:
        *(const char **)(void *)(base + s->offset) = config_intern(v, strlen(v));
        return AT_OK;
    case KIND_INT:
        if (config_parse_int(v, &n) != AT_OK || n < s->min || n > s->max) {
            snprintf(err, 512, "%s: expected a whole number from %lld to %lld, got '%.64s'", s->name, (long long)s->min,
                     (long long)s->max, shown);
            return AT_EINVAL;
        }
        if (s->aux == sizeof(int64_t))
            *(int64_t *)(void *)(base + s->offset) = n;
        else
            *(int *)(void *)(base + s->offset) = (int)n;
        return AT_OK;
    case KIND_BOOL:
        if (strcmp(v, "true") == 0 || strcmp(v, "1") == 0 || strcmp(v, "on") == 0)
            *(bool *)(base + s->offset) = true;
        else if (strcmp(v, "false") == 0 || strcmp(v, "0") == 0 || strcmp(v, "off") == 0)
            *(bool *)(base + s->offset) = false;
        else {
            snprintf(err, 512, "%s: expected true or false, got '%.64s'", s->name, shown);
            return AT_EINVAL;
        }
        return AT_OK;
    case KIND_ENV:
        if (strcmp(v, "production") == 0)
            c->env = ENV_PRODUCTION;
        else if (strcmp(v, "development") == 0)
            c->env = ENV_DEVELOPMENT;
        else if (strcmp(v, "test") == 0)
            c->env = ENV_TEST;
        else {
            snprintf(err, 512, "%s: expected production, development or test, got '%.64s'", s->name, shown);
            return AT_EINVAL;
        }
        return AT_OK;
    case KIND_LOG_LEVEL:
        if (log_level_from_name(v) < 0) {
            snprintf(err, 512, "%s: expected debug, info, warn, error or off, got '%.64s'", s->name, shown);
            return AT_EINVAL;
        }
        c->log_level = log_level_from_name(v);
        return AT_OK;
    case KIND_LISTEN: {
        const char **host = (const char **)(void *)(base + s->offset);
        int *port = (int *)(void *)(base + s->aux);
        if (!*v && (s->flags & SETTING_OPTIONAL)) {
            *host = "";
            *port = 0;
            return AT_OK;
        }
        const char *colon = strrchr(v, ':');
        if (!colon || colon == v || config_parse_int(colon + 1, &n) != AT_OK || n < 0 || n > 65535) {
            snprintf(err, 512, "%s: expected host:port with a port from 0 to 65535, got '%.64s'", s->name, v);
            return AT_EINVAL;
        }
        size_t hl = (size_t)(colon - v);
        if (v[0] == '[' && hl >= 2 && v[hl - 1] == ']')
            *host = config_intern(v + 1, hl - 2);
        else
            *host = config_intern(v, hl);
        *port = (int)n;
        return AT_OK;
    }
    }
    return AT_EINTERNAL;
}

typedef struct ini_ctx {
    config *c;
    char *err;
    int failed;
} ini_ctx;

static int config_ini_handler(void *user, const char *section, const char *name, const char *value)
{
    ini_ctx *ctx = user;
    (void)section;
    if (ctx->failed)
        return 0;
    size_t n = strlen(name);
    char *env_name = xmalloc(n + 8);
    memcpy(env_name, "ATRIUM_", 7);
    for (size_t i = 0; i <= n; i++) {
        char ch = name[i];
        env_name[7 + i] = (ch >= 'a' && ch <= 'z') ? (char)(ch - 32) : ch;
    }
    const setting *s = config_find(env_name);
    free(env_name);
    if (!s) {
        snprintf(ctx->err, 512, "ATRIUM_CONFIG: unknown setting '%.64s'", name);
        ctx->failed = 1;
        return 0;
    }
    if (config_apply(ctx->c, s, value, ctx->err) != AT_OK) {
        ctx->failed = 1;
        return 0;
    }
    return 1;
}

/* Reads a secret file (X_FILE or a credential): its content without one trailing newline is the value.
 * Returns a new string the caller frees, or NULL with the reason in err (what names the source). */
static char *config_read_secret(const char *path, const char *what, char err[512])
{
    FILE *f = fopen(path, "rb");
    if (!f) {
        snprintf(err, 512, "%s: cannot read '%.256s': %s", what, path, strerror(errno));
        return NULL;
    }
    buf b;
    buf_init(&b);
    char chunk[4096];
    size_t n;
    while ((n = fread(chunk, 1, sizeof chunk, f)) > 0)
        buf_append(&b, chunk, n);
    bool bad = ferror(f) != 0;
    fclose(f);
    if (bad) {
        snprintf(err, 512, "%s: cannot read '%.256s'", what, path);
        buf_free(&b);
        return NULL;
    }
    if (b.len && b.data[b.len - 1] == '\n')
        b.len--;
    if (b.len && b.data[b.len - 1] == '\r')
        b.len--;
    buf_append(&b, "", 0);
    if (b.data)
        b.data[b.len] = '\0';
    if (b.data && strlen(b.data) != b.len) {
        snprintf(err, 512, "%s: '%.256s' holds a NUL byte", what, path);
        buf_free(&b);
        return NULL;
    }
    return b.data ? buf_steal(&b, NULL) : xstrdup("");
}

/* Applies the file sources of one secret setting: X_FILE (an error together with X), else systemd's
 * credential $CREDENTIALS_DIRECTORY/X when X is not set either. Returns AT_OK or AT_EINVAL. */
static int config_apply_secret_file(config *c, const setting *s, char err[512])
{
    size_t nl = strlen(s->name);
    char *file_var = xmalloc(nl + 6);
    memcpy(file_var, s->name, nl);
    memcpy(file_var + nl, "_FILE", 6);
    /* Empty counts as unset, as an orchestrator writes `X=` for a variable it has no value for. */
    const char *path = getenv(file_var);
    const char *direct = getenv(s->name);
    if (path && !*path)
        path = NULL;
    if (direct && !*direct)
        direct = NULL;
    const char *creds = getenv("CREDENTIALS_DIRECTORY");
    char *cred_path = NULL, *value = NULL;
    int rc = AT_OK;

    if (path && direct) {
        snprintf(err, 512, "%s: both %s and %s are set; give one of them", s->name, s->name, file_var);
        rc = AT_EINVAL;
        goto out;
    }
    if (path) {
        value = config_read_secret(path, file_var, err);
    } else if (!direct && creds && *creds) {
        size_t cred_size = strlen(creds) + nl + 2;
        cred_path = xmalloc(cred_size);
        snprintf(cred_path, cred_size, "%s/%s", creds, s->name);
        if (access(cred_path, F_OK) != 0)
            goto out;
        value = config_read_secret(cred_path, s->name, err);
    } else {
        goto out;
    }
    if (!value || config_apply(c, s, value, err) != AT_OK)
        rc = AT_EINVAL;
out:
    free(value);
    free(cred_path);
    free(file_var);
    return rc;
}

/* The checks that involve several settings. */
static int config_check_combinations(const config *c, char err[512])
{
    if (c->session_absolute_s < c->session_idle_s) {
        snprintf(err, 512, "ATRIUM_SESSION_ABSOLUTE: must not be shorter than ATRIUM_SESSION_IDLE");
        return AT_EINVAL;
    }
    if (strcmp(c->billing_provider, "stripe") == 0 && !c->stripe_secret_key[0]) {
        snprintf(err, 512, "ATRIUM_STRIPE_SECRET_KEY: required when ATRIUM_BILLING_PROVIDER is stripe");
        return AT_EINVAL;
    }
    return AT_OK;
}

int config_load(config *out, char err[512])
{
    memset(out, 0, sizeof(*out));
    for (size_t i = 0; i < SETTING_COUNT; i++)
        if (config_apply(out, &settings[i], settings[i].def, err) != AT_OK)
            return AT_EINTERNAL;

    const char *file = getenv("ATRIUM_CONFIG");
    if (file && *file) {
        ini_ctx ctx = {out, err, 0};
        int rc = ini_parse(file, config_ini_handler, &ctx);
        if (ctx.failed)
            return AT_EINVAL;
        if (rc < 0) {
            snprintf(err, 512, "ATRIUM_CONFIG: cannot read '%.256s'", file);
            return AT_EINVAL;
        }
        if (rc > 0) {
            snprintf(err, 512, "ATRIUM_CONFIG: syntax error on line %d of '%.256s' (lines are at most 200 characters)",
                     rc, file);
            return AT_EINVAL;
        }
    }
    for (size_t i = 0; i < SETTING_COUNT; i++) {
        const char *v = getenv(settings[i].name);
        if (v && config_apply(out, &settings[i], v, err) != AT_OK)
            return AT_EINVAL;
        if ((settings[i].flags & SETTING_SECRET) && config_apply_secret_file(out, &settings[i], err) != AT_OK)
            return AT_EINVAL;
    }
    for (size_t i = 0; i < SETTING_COUNT; i++) {
        const setting *s = &settings[i];
        char why[256];
        const char *bad = s->check ? s->check(*(const char **)(void *)((char *)out + s->offset), why) : NULL;
        if (bad) {
            snprintf(err, 512, "%s: %s", s->name, bad);
            return AT_EINVAL;
        }
    }
    return config_check_combinations(out, err);
}

/* ------------------------------------------------------------------------------------------------ */
/* Checks of single values                                                                          */
/* ------------------------------------------------------------------------------------------------ */

/* The parts of "SCHEME://HOST[:PORT]REST" when the scheme is one of schemes (a NULL-terminated list):
 * a host of letters, digits, dots, hyphens and underscores or a bracketed IPv6 address, a port from 1
 * to 65535, no user information; rest is what follows (a path ...), printable ASCII without spaces.
 * Returns NULL when the text has that form, else why not. */
static const char *config_url_check(const char *v, const char *const *schemes, const char **rest)
{
    const char *p = NULL;
    for (const char *const *sc = schemes; *sc && !p; sc++) {
        size_t n = strlen(*sc);
        if (strncmp(v, *sc, n) == 0 && strncmp(v + n, "://", 3) == 0)
            p = v + n + 3;
    }
    if (!p)
        return "wrong scheme";
    const char *host = p;
    if (*p == '[') {
        p++;
        while (*p && (strchr("0123456789abcdefABCDEF:.", *p)))
            p++;
        if (*p != ']' || p == host + 1)
            return "bad IPv6 host";
        p++;
    } else {
        while (*p && ((*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') || (*p >= '0' && *p <= '9') || *p == '.' ||
                      *p == '-' || *p == '_'))
            p++;
        if (p == host)
            return "no host";
    }
    if (*p == '@')
        return "user information in the URL";
    if (*p == ':') {
        int64_t port = 0;
        const char *d = ++p;
        while (*p >= '0' && *p <= '9' && p - d < 6)
            port = port * 10 + (*p++ - '0');
        if (p == d || port < 1 || port > 65535)
            return "bad port";
    }
    if (*p && *p != '/')
        return "unexpected characters after the host";
    for (const char *q = p; *q; q++)
        if ((unsigned char)*q <= 0x20 || (unsigned char)*q >= 0x7f)
            return "spaces or control characters";
    *rest = p;
    return NULL;
}

static const char *check_database_url(const char *v, char why[256])
{
    (void)why;
    if (strncmp(v, "sqlite:", 7) == 0)
        return v[7] ? NULL : "sqlite: needs a file path";
    if (strncmp(v, "postgres://", 11) == 0 || strncmp(v, "postgresql://", 13) == 0)
        return NULL;
    /* Never echo the value: a URL of another kind may still carry a password. */
    return "expected sqlite:PATH or postgres://USER@HOST:PORT/DB (the value is not shown: it may hold a password)";
}

static const char *check_smtp_url(const char *v, char why[256])
{
    static const char *const schemes[] = {"smtp", "smtps", NULL};
    const char *rest = NULL, *bad;
    if (!*v)
        return NULL;
    if ((bad = config_url_check(v, schemes, &rest))) {
        snprintf(why, 256,
                 "expected smtp://HOST[:PORT] or smtps://HOST[:PORT] (%s; credentials go in "
                 "ATRIUM_SMTP_USERNAME and ATRIUM_SMTP_PASSWORD)",
                 bad);
        return why;
    }
    return NULL;
}

/* An absolute http(s) URL; empty_ok for settings whose empty value means "derive it". */
static const char *check_http_url(const char *v, bool empty_ok, bool origin_only, char why[256])
{
    static const char *const schemes[] = {"http", "https", NULL};
    const char *rest = NULL, *bad;
    if (!*v && empty_ok)
        return NULL;
    bad = config_url_check(v, schemes, &rest);
    if (!bad && origin_only && *rest)
        bad = "an origin has no path";
    if (!bad && strpbrk(rest, "?#"))
        bad = "no query or fragment";
    if (bad) {
        snprintf(why, 256, "expected an absolute http:// or https:// URL%s (%s), got '%.64s'",
                 origin_only ? " without a path, such as https://atrium.example.com" : "", bad, v);
        return why;
    }
    return NULL;
}

static const char *check_public_url(const char *v, char why[256])
{
    return check_http_url(v, true, false, why);
}

static const char *check_origin(const char *v, char why[256])
{
    return check_http_url(v, true, true, why);
}

static const char *check_api_base(const char *v, char why[256])
{
    return check_http_url(v, false, false, why);
}

/* "name@example.com" or "Display Name <name@example.com>" (the name may be quoted), the address
 * checked by the shared rule of base/email.h. */
static const char *check_mail_from(const char *v, char why[256])
{
    const char *addr = v, *lt = strrchr(v, '<');
    size_t alen = strlen(v);
    if (lt) {
        const char *gt = strchr(lt, '>');
        if (!gt || gt[1] != '\0' || lt == v || lt[-1] != ' ')
            goto bad;
        addr = lt + 1;
        alen = (size_t)(gt - addr);
        for (const char *q = v; q < lt; q++)
            if ((unsigned char)*q < 0x20 || *q == '<' || *q == '>' || *q == 0x7f)
                goto bad;
    }
    if (email_valid(addr, alen))
        return NULL;
bad:
    snprintf(why, 256, "expected name@example.com or Display Name <name@example.com>, got '%.64s'", v);
    return why;
}

static const char *check_proxies(const char *v, char why[256])
{
    cidr_list l;
    if (cidr_list_parse(v, &l, why) != AT_OK)
        return why;
    cidr_list_free(&l);
    return NULL;
}

static const char *check_provider(const char *v, char why[256])
{
    (void)why;
    return strcmp(v, "manual") == 0 || strcmp(v, "stripe") == 0 ? NULL : "expected manual or stripe";
}

static const char *check_not_empty(const char *v, char why[256])
{
    (void)why;
    return *v ? NULL : "must not be empty";
}

/* ------------------------------------------------------------------------------------------------ */
/* Start-up checks, unknown names and the effective configuration                                   */
/* ------------------------------------------------------------------------------------------------ */

/* Resolves one listen host; name is the setting for the message. */
static int config_resolve(const char *name, const char *host, char err[512])
{
    struct addrinfo hints = {0}, *ai = NULL;
    hints.ai_family = AF_UNSPEC;
    hints.ai_socktype = SOCK_STREAM;
    hints.ai_flags = AI_PASSIVE;
    int rc = getaddrinfo(host, NULL, &hints, &ai);
    if (rc != 0 || !ai) {
        snprintf(err, 512, "%s: cannot resolve host '%.128s' (%s)", name, host, gai_strerror(rc));
        return AT_EINVAL;
    }
    freeaddrinfo(ai);
    return AT_OK;
}

int config_check_listen(const config *c, char err[512])
{
    if (config_resolve("ATRIUM_LISTEN", c->listen_host, err) != AT_OK)
        return AT_EINVAL;
    if (c->metrics_listen_host[0] && config_resolve("ATRIUM_METRICS_LISTEN", c->metrics_listen_host, err) != AT_OK)
        return AT_EINVAL;
    return AT_OK;
}

/* The edit distance of two names (for "did you mean"); both are short. */
static size_t config_distance(const char *a, size_t an, const char *b)
{
    size_t bn = strlen(b);
    size_t *row = xmalloc((bn + 1) * sizeof *row);
    for (size_t j = 0; j <= bn; j++)
        row[j] = j;
    for (size_t i = 1; i <= an; i++) {
        size_t diag = row[0];
        row[0] = i;
        for (size_t j = 1; j <= bn; j++) {
            size_t up = row[j];
            size_t best = diag + (a[i - 1] == b[j - 1] ? 0 : 1);
            if (up + 1 < best)
                best = up + 1;
            if (row[j - 1] + 1 < best)
                best = row[j - 1] + 1;
            row[j] = best;
            diag = up;
        }
    }
    size_t d = row[bn];
    free(row);
    return d;
}

/* Whether an environment variable name (n bytes) is a setting, a secret's _FILE or another known name. */
static bool config_name_known(const char *name, size_t n)
{
    for (size_t i = 0; i < sizeof config_other_names / sizeof config_other_names[0]; i++)
        if (strlen(config_other_names[i]) == n && strncmp(name, config_other_names[i], n) == 0)
            return true;
    for (size_t i = 0; i < SETTING_COUNT; i++) {
        size_t sl = strlen(settings[i].name);
        if (strncmp(name, settings[i].name, sl) != 0)
            continue;
        if (n == sl || ((settings[i].flags & SETTING_SECRET) && n == sl + 5 && strncmp(name + sl, "_FILE", 5) == 0))
            return true;
    }
    return false;
}

int config_warn_unknown(FILE *out)
{
    int found = 0;
    for (char **e = environ; e && *e; e++) {
        if (strncmp(*e, "ATRIUM_", 7) != 0)
            continue;
        const char *eq = strchr(*e, '=');
        size_t n = eq ? (size_t)(eq - *e) : strlen(*e);
        if (config_name_known(*e, n))
            continue;
        const char *best = settings[0].name;
        size_t best_d = (size_t)-1;
        for (size_t i = 0; i < SETTING_COUNT; i++) {
            size_t d = config_distance(*e, n, settings[i].name);
            if (d < best_d) {
                best_d = d;
                best = settings[i].name;
            }
        }
        fprintf(out, "atrium: warning: %.*s is not a setting and is ignored (did you mean %s?)\n", (int)n, *e, best);
        found++;
    }
    return found;
}

/* Appends a database URL with its password replaced by "***". */
static void config_put_masked_url(buf *b, const char *url)
{
    const char *pw = NULL;
    size_t len = 0;
    config_url_password(url, &pw, &len);
    if (!len) {
        buf_puts(b, url);
        return;
    }
    buf_append(b, url, (size_t)(pw - url));
    buf_puts(b, "***");
    buf_puts(b, pw + len);
}

char *config_effective_text(const config *c)
{
    buf b;
    buf_init(&b);
    const char *base = (const char *)c;
    for (size_t i = 0; i < SETTING_COUNT; i++) {
        const setting *s = &settings[i];
        buf_printf(&b, "%s=", s->name);
        switch (s->kind) {
        case KIND_STRING: {
            const char *v = *(const char *const *)(const void *)(base + s->offset);
            if (strcmp(s->name, "ATRIUM_DATABASE_URL") == 0)
                config_put_masked_url(&b, v);
            else if ((s->flags & SETTING_SECRET) && *v)
                buf_puts(&b, "(set, hidden)");
            else
                buf_puts(&b, v);
            break;
        }
        case KIND_INT:
            buf_printf(&b, "%lld",
                       s->aux == sizeof(int64_t) ? (long long)*(const int64_t *)(const void *)(base + s->offset)
                                                 : (long long)*(const int *)(const void *)(base + s->offset));
            break;
        case KIND_BOOL:
            buf_puts(&b, *(const bool *)(base + s->offset) ? "true" : "false");
            break;
        case KIND_ENV:
            buf_puts(&b, c->env == ENV_PRODUCTION ? "production" : c->env == ENV_TEST ? "test" : "development");
            break;
        case KIND_LOG_LEVEL:
            for (size_t l = 0; l < sizeof config_level_names / sizeof config_level_names[0]; l++)
                if (log_level_from_name(config_level_names[l]) == c->log_level)
                    buf_puts(&b, config_level_names[l]);
            break;
        case KIND_LISTEN: {
            const char *h = *(const char *const *)(const void *)(base + s->offset);
            int port = *(const int *)(const void *)(base + s->aux);
            if (*h)
                buf_printf(&b, strchr(h, ':') ? "[%s]:%d" : "%s:%d", h, port);
            break;
        }
        }
        buf_putc(&b, '\n');
    }
    return buf_steal(&b, NULL);
}

/* Finds the password of a database URL (user information or a password= parameter), as written:
 * sets *at and *len, or *len = 0 when there is none. */
static void config_url_password(const char *url, const char **at, size_t *len)
{
    const char *scheme = strstr(url, "://");
    *len = 0;
    if (!scheme)
        return;
    const char *host_end = strpbrk(scheme + 3, "/?");
    const char *sign = strrchr(scheme + 3, '@');
    if (sign && (!host_end || sign < host_end)) {
        const char *colon = memchr(scheme + 3, ':', (size_t)(sign - scheme - 3));
        if (colon) {
            *at = colon + 1;
            *len = (size_t)(sign - colon - 1);
            return;
        }
    }
    const char *pw = strstr(url, "password=");
    if (pw) {
        *at = pw + 9;
        *len = strcspn(*at, "&");
    }
}

char *config_mask_secrets(const config *c, const char *text)
{
    const char *secret[8];
    size_t secret_len[8], n = 0;
    const char *pw = NULL;
    size_t pw_len = 0;
    config_url_password(c->database_url, &pw, &pw_len);
    if (pw_len) {
        secret[n] = pw;
        secret_len[n++] = pw_len;
    }
    for (size_t i = 0; i < SETTING_COUNT && n < 8; i++) {
        const setting *s = &settings[i];
        if (!(s->flags & SETTING_SECRET) || s->kind != KIND_STRING || strcmp(s->name, "ATRIUM_DATABASE_URL") == 0)
            continue;
        const char *v = *(const char *const *)(const void *)((const char *)c + s->offset);
        if (*v) {
            secret[n] = v;
            secret_len[n++] = strlen(v);
        }
    }
    buf b;
    buf_init(&b);
    for (const char *p = text; *p;) {
        size_t hit = 0;
        for (size_t i = 0; i < n && !hit; i++)
            if (strncmp(p, secret[i], secret_len[i]) == 0)
                hit = secret_len[i];
        if (hit) {
            buf_puts(&b, "***");
            p += hit;
        } else {
            buf_putc(&b, *p++);
        }
    }
    return b.data ? buf_steal(&b, NULL) : xstrdup("");
}

/* ------------------------------------------------------------------------------------------------ */
/* The installed configuration                                                                      */
/* ------------------------------------------------------------------------------------------------ */

/* Sets the fallback public URL from the listen address (before the server knows its port). */
static void config_update_fallback(void)
{
    buf b;
    buf_init(&b);
    buf_printf(&b, "http://%s:%d", config_current.listen_host, config_current.listen_port);
    config_fallback_url = config_intern(b.data, b.len);
    buf_free(&b);
}

void config_install(const config *c)
{
    config_current = *c;
    config_is_installed = 1;
    config_update_fallback();
}

const config *config_get(void)
{
    if (!config_is_installed) {
        char err[512];
        config tmp;
        config_load(&tmp, err);
        config_install(&tmp);
    }
    return &config_current;
}

void config_set_listen_url(const char *url)
{
    size_t n = strlen(url);
    if (n && url[n - 1] == '/')
        n--;
    atomic_store(&config_listen_url, config_intern(url, n));
}

const char *config_public_url(void)
{
    const config *c = config_get();
    if (c->public_url[0])
        return c->public_url;
    const char *listen = atomic_load(&config_listen_url);
    if (listen[0])
        return listen;
    return config_fallback_url;
}

char *config_docs_markdown(void)
{
    buf b;
    buf_init(&b);
    buf_puts(&b, "# Configuration\n\n"
                 "<!-- Generated by `atrium config docs` from src/base/config.c; a test fails when it is stale. -->\n\n"
                 "Atrium reads its settings from the environment. `ATRIUM_CONFIG` may name an INI file whose keys "
                 "are the same names without the `ATRIUM_` prefix, in lower case (`listen = 127.0.0.1:9000`); the "
                 "environment wins over the file. Lines in the file are limited to 200 characters, so give long "
                 "values (database URLs, keys) through the environment. A bad value stops Atrium with a message "
                 "naming the setting, and exit status 2; an `ATRIUM_*` variable that is no setting (a "
                 "misspelling) is reported with the closest name. `atrium config check` checks everything "
                 "and prints the effective configuration with secrets hidden.\n\n"
                 "**Secrets** (marked below) can also come from files, so they stay out of the environment: "
                 "`X_FILE=/path` reads the value of `X` from that file (without its trailing newline; setting "
                 "both `X` and `X_FILE` is an error), and under systemd a credential named `X` "
                 "(`LoadCredential=X:/path`, read from `$CREDENTIALS_DIRECTORY/X`) is used when neither is "
                 "set.\n\n"
                 "| Setting | Default | Meaning |\n|---|---|---|\n"
                 "| `ATRIUM_CONFIG` | (none) | Path of an optional INI file with further settings. |\n");
    for (size_t i = 0; i < SETTING_COUNT; i++) {
        const setting *s = &settings[i];
        buf_printf(&b, "| `%s` | %s%s%s | %s%s |\n", s->name, *s->def ? "`" : "", *s->def ? s->def : "(empty)",
                   *s->def ? "`" : "", (s->flags & SETTING_SECRET) ? "**Secret** (`_FILE`, credential). " : "", s->doc);
    }
    return buf_steal(&b, NULL);
}
