/* The settings table, and loading it from defaults, an INI file and the environment. */
#include "base/config.h"

#include "base/buf.h"
#include "base/err.h"
#include "base/log.h"

#include <errno.h>
#include <ini.h>
#include <limits.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

enum setting_kind { KIND_STRING, KIND_INT, KIND_BOOL, KIND_ENV, KIND_LISTEN, KIND_LOG_LEVEL };

typedef struct setting {
    const char *name; /* environment variable */
    int kind;
    size_t offset;    /* into struct config */
    size_t size;      /* for strings: the buffer size */
    const char *def;  /* default as text */
    int64_t min, max; /* for ints */
    const char *doc;
} setting;

#define STR(field, def, doc) KIND_STRING, offsetof(config, field), sizeof(((config *)0)->field), def, 0, 0, doc
#define INT(field, def, lo, hi, doc) KIND_INT, offsetof(config, field), sizeof(((config *)0)->field), def, lo, hi, doc
#define BOOL(field, def, doc) KIND_BOOL, offsetof(config, field), 0, def, 0, 0, doc

static const setting settings[] = {
    {"ATRIUM_ENV", KIND_ENV, offsetof(config, env), 0, "production", 0, 0,
     "`production`, `development` or `test`. Test mode enables the test clock and the `/api/v1/test/*` routes; "
     "production refuses a PostgreSQL server with `fsync`, `synchronous_commit` or `full_page_writes` off."},
    {"ATRIUM_LISTEN", KIND_LISTEN, 0, 0, "127.0.0.1:8080", 0, 0,
     "Address and port to serve on, as `host:port` (port 0 picks a free port and logs it)."},
    {"ATRIUM_DATABASE_URL", STR(database_url, "sqlite:./data/atrium.db",
                                "`sqlite:PATH` for the embedded store or `postgres://user@host:port/db` "
                                "(any libpq connection URI) for PostgreSQL.")},
    {"ATRIUM_DATA_DIR", STR(data_dir, "./data", "Folder for the mail folder, uploads and keys. Created if absent.")},
    {"ATRIUM_LOG_LEVEL", KIND_LOG_LEVEL, offsetof(config, log_level), 0, "info", 0, 0,
     "`debug`, `info`, `warn`, `error` or `off`. Logs are JSON lines on standard error."},
    {"ATRIUM_MAX_BODY_BYTES", INT(max_body_bytes, "1048576", 1024, 1073741824,
                                  "Largest request body accepted; larger bodies get 413.")},
    {"ATRIUM_MAX_CONNECTIONS", INT(max_connections, "1024", 4, 100000, "Concurrent connections in all.")},
    {"ATRIUM_MAX_CONNECTIONS_PER_IP", INT(max_connections_per_ip, "256", 1, 100000,
                                          "Concurrent connections from one IP address.")},
    {"ATRIUM_CONNECTION_TIMEOUT", INT(connection_timeout_s, "30", 1, 3600,
                                      "Seconds of inactivity before a connection is closed (slow clients).")},
    {"ATRIUM_HTTP_HEADER_TIMEOUT", INT(http_header_timeout_s, "20", 1, 3600,
                                       "Seconds a client may take to send a request's headers, however slowly it "
                                       "trickles them; past it the connection is closed (slowloris).")},
    {"ATRIUM_HTTP_BODY_TIMEOUT", INT(http_body_timeout_s, "60", 1, 3600,
                                     "Seconds a client may take to send a request's body once the headers are in; "
                                     "past it the connection is closed.")},
    {"ATRIUM_HTTP_THREADS", INT(http_threads, "0", 0, 1024,
                                "0: a thread per connection; N: a pool of N threads that each poll many "
                                "connections (use 32 or more: a handler that blocks holds up its thread).")},
    {"ATRIUM_THREAD_STACK_KIB", INT(thread_stack_kib, "512", 128, 65536,
                                    "Stack size of each connection thread, in KiB.")},
    {"ATRIUM_SHUTDOWN_TIMEOUT", INT(shutdown_timeout_s, "10", 0, 600,
                                    "Seconds to let in-flight requests finish after SIGTERM or SIGINT.")},
    {"ATRIUM_DB_POOL", INT(db_pool_size, "16", 1, 256, "Database connections in the pool.")},
    {"ATRIUM_JOB_WORKERS", INT(job_workers, "2", 0, 64, "Background job worker threads (0 runs no jobs).")},
    {"ATRIUM_JOB_POLL_MS", INT(job_poll_ms, "250", 10, 60000,
                               "How often an idle worker looks for due jobs, in milliseconds.")},
    {"ATRIUM_SECRET_KEY", STR(secret_key, "",
                              "64 hex characters: the key for hashing tokens. Empty: read or create "
                              "`DATA_DIR/keys/hash.key`.")},
    {"ATRIUM_SIGNUP", BOOL(signup_enabled, "false", "Whether anyone may sign up (`true`/`false`).")},
    {"ATRIUM_SESSION_IDLE", INT(session_idle_s, "43200", 60, 31536000,
                                "Seconds a session may stay unused before it expires (12 h).")},
    {"ATRIUM_SESSION_ABSOLUTE", INT(session_absolute_s, "604800", 60, 31536000,
                                    "Seconds after sign-in when a session expires whatever its use (7 d).")},
    {"ATRIUM_TLS", BOOL(tls, "false",
                        "Set when Atrium is served over HTTPS (directly or behind a proxy): cookies become "
                        "`Secure` and `__Host-` prefixed.")},
    {"ATRIUM_PUBLIC_ORIGIN", STR(public_origin, "",
                                 "The origin browsers use, e.g. `https://atrium.example.com`. Cookie-authenticated "
                                 "writes must carry it as `Origin`; empty: the request's own `Host`.")},
    {"ATRIUM_PASSWORD_MIN_LENGTH", INT(password_min_length, "12", 8, 128, "Minimum password length.")},
    {"ATRIUM_HASH_CONCURRENCY", INT(hash_concurrency, "2", 1, 64,
                                    "Password hashes computed at once (each uses 64 MiB).")},
    {"ATRIUM_LOGIN_IP_PER_MINUTE", INT(login_ip_per_minute, "10", 1, 100000,
                                       "Sign-in and sign-up attempts per IP address per minute before 429.")},
    {"ATRIUM_LOCKOUT_THRESHOLD", INT(lockout_threshold, "5", 1, 1000,
                                     "Failed sign-ins on one account before it is locked for a while.")},
    {"ATRIUM_LOCKOUT_STEP", INT(lockout_step_s, "60", 1, 86400,
                                "Seconds the lock grows by with each failure past the threshold.")},
    {"ATRIUM_LOCKOUT_MAX", INT(lockout_max_s, "900", 1, 86400, "Longest lock, in seconds.")},
    {"ATRIUM_LOCKOUT_RESET", INT(lockout_reset_s, "43200", 60, 31536000,
                                 "Seconds without a failure after which an account's failure count resets.")},
    {"ATRIUM_SMTP_URL", STR(smtp_url, "",
                            "Where mail goes: `smtp://host:port` (STARTTLS when the server offers it) or "
                            "`smtps://host:port`. Empty: each message is written to `DATA_DIR/mail/`.")},
    {"ATRIUM_SMTP_USERNAME", STR(smtp_username, "", "SMTP user name, if the server wants authentication.")},
    {"ATRIUM_SMTP_PASSWORD", STR(smtp_password, "", "SMTP password (give it through the environment).")},
    {"ATRIUM_MAIL_FROM", STR(mail_from, "Atrium <atrium@localhost>", "The From address of every message.")},
    {"ATRIUM_PUBLIC_URL", STR(public_url, "",
                              "The address people open Atrium at, for links in mail, e.g. "
                              "`https://atrium.example.com`. Empty: `http://` plus ATRIUM_LISTEN.")},
    {"ATRIUM_INVITE_TTL_DAYS", INT(invite_ttl_days, "7", 1, 30, "Days an invitation stays valid.")},
    {"ATRIUM_DEFAULT_SEATS", INT(default_seat_limit, "10", 1, 100000,
                                 "Seats of the trial subscription a new root workspace starts with.")},
    {"ATRIUM_KEY_RATE_PER_MINUTE", INT(key_rate_per_minute, "600", 1, 10000000,
                                       "Requests per minute one API key may make (a token bucket, per process).")},
    {"ATRIUM_KEY_BURST", INT(key_burst, "100", 1, 10000000, "Requests an API key may make at once (the bucket size).")},
    {"ATRIUM_WORKSPACE_RATE_PER_MINUTE", INT(workspace_rate_per_minute, "3000", 1, 10000000,
                                             "Requests per minute all API keys of one workspace may make together.")},
    {"ATRIUM_BILLING_CATALOG", STR(billing_catalog, "",
                                   "Path of the billing catalog (plans, prices, tax rates, issuer, dunning ladder). "
                                   "Empty: the catalog shipped in the binary (`etc/billing.json`). Validated at start.")},
    {"ATRIUM_BILLING_PROVIDER", STR(billing_provider, "manual",
                                    "Payment provider: `manual` (an operator marks invoices paid) or `stripe`.")},
    {"ATRIUM_STRIPE_API_BASE", STR(stripe_api_base, "https://api.stripe.com",
                                   "Base URL of the Stripe-compatible API (the tests point it at a stand-in).")},
    {"ATRIUM_STRIPE_SECRET_KEY", STR(stripe_secret_key, "", "Stripe secret API key (give it through the environment).")},
    {"ATRIUM_STRIPE_WEBHOOK_SECRETS", STR(stripe_webhook_secrets, "",
                                          "Webhook signing secrets (`whsec_...`), comma-separated: several during a "
                                          "rotation (give them through the environment).")},
    {"ATRIUM_STRIPE_WEBHOOK_TOLERANCE", INT(stripe_webhook_tolerance_s, "300", 1, 86400,
                                            "Seconds a webhook's signed timestamp may differ from now, either way.")},
};

enum { SETTING_COUNT = sizeof(settings) / sizeof(settings[0]) };

static config config_current;
static int config_is_installed;

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

/* Applies one textual value to `c`. Returns AT_OK or AT_EINVAL with the reason in err. */
static int config_apply(config *c, const setting *s, const char *v, char err[512])
{
    char *base = (char *)c;
    int64_t n = 0;

    switch (s->kind) {
    case KIND_STRING:
        if (strlen(v) >= s->size) {
            snprintf(err, 512, "%s: longer than %zu characters", s->name, s->size - 1);
            return AT_EINVAL;
        }
        snprintf(base + s->offset, s->size, "%s", v);
        return AT_OK;
    case KIND_INT:
        if (config_parse_int(v, &n) != AT_OK || n < s->min || n > s->max) {
            snprintf(err, 512, "%s: expected a whole number from %lld to %lld, got '%.64s'", s->name,
                     (long long)s->min, (long long)s->max, v);
            return AT_EINVAL;
        }
        if (s->size == sizeof(int64_t))
            *(int64_t *)(base + s->offset) = n;
        else
            *(int *)(base + s->offset) = (int)n;
        return AT_OK;
    case KIND_BOOL:
        if (strcmp(v, "true") == 0 || strcmp(v, "1") == 0 || strcmp(v, "on") == 0)
            *(bool *)(base + s->offset) = true;
        else if (strcmp(v, "false") == 0 || strcmp(v, "0") == 0 || strcmp(v, "off") == 0)
            *(bool *)(base + s->offset) = false;
        else {
            snprintf(err, 512, "%s: expected true or false, got '%.64s'", s->name, v);
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
            snprintf(err, 512, "%s: expected production, development or test, got '%.64s'", s->name, v);
            return AT_EINVAL;
        }
        return AT_OK;
    case KIND_LOG_LEVEL:
        if (log_level_from_name(v) < 0) {
            snprintf(err, 512, "%s: expected debug, info, warn, error or off, got '%.64s'", s->name, v);
            return AT_EINVAL;
        }
        c->log_level = log_level_from_name(v);
        return AT_OK;
    case KIND_LISTEN: {
        const char *colon = strrchr(v, ':');
        if (!colon || colon == v || (size_t)(colon - v) >= sizeof(c->listen_host) ||
            config_parse_int(colon + 1, &n) != AT_OK || n < 0 || n > 65535) {
            snprintf(err, 512, "%s: expected host:port with a port from 0 to 65535, got '%.64s'", s->name, v);
            return AT_EINVAL;
        }
        size_t hl = (size_t)(colon - v);
        if (v[0] == '[' && hl >= 2 && v[hl - 1] == ']')
            snprintf(c->listen_host, sizeof(c->listen_host), "%.*s", (int)(hl - 2), v + 1);
        else
            snprintf(c->listen_host, sizeof(c->listen_host), "%.*s", (int)hl, v);
        c->listen_port = (int)n;
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
    char env_name[128];
    (void)section;
    if (ctx->failed)
        return 0;
    size_t n = strlen(name);
    if (n + 8 >= sizeof(env_name)) {
        snprintf(ctx->err, 512, "ATRIUM_CONFIG: unknown setting '%.64s'", name);
        ctx->failed = 1;
        return 0;
    }
    memcpy(env_name, "ATRIUM_", 7);
    for (size_t i = 0; i <= n; i++) {
        char ch = name[i];
        env_name[7 + i] = (ch >= 'a' && ch <= 'z') ? (char)(ch - 32) : ch;
    }
    const setting *s = config_find(env_name);
    if (!s || strcmp(env_name, "ATRIUM_CONFIG") == 0) {
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
    }
    if (strncmp(out->database_url, "sqlite:", 7) != 0 && strncmp(out->database_url, "postgres://", 11) != 0 &&
        strncmp(out->database_url, "postgresql://", 13) != 0) {
        snprintf(err, 512, "ATRIUM_DATABASE_URL: expected sqlite:PATH or postgres://..., got '%.32s...'",
                 out->database_url);
        return AT_EINVAL;
    }
    if (strncmp(out->database_url, "sqlite:", 7) == 0 && out->database_url[7] == '\0') {
        snprintf(err, 512, "ATRIUM_DATABASE_URL: sqlite: needs a file path");
        return AT_EINVAL;
    }
    if (out->data_dir[0] == '\0') {
        snprintf(err, 512, "ATRIUM_DATA_DIR: must not be empty");
        return AT_EINVAL;
    }
    if (out->session_absolute_s < out->session_idle_s) {
        snprintf(err, 512, "ATRIUM_SESSION_ABSOLUTE: must not be shorter than ATRIUM_SESSION_IDLE");
        return AT_EINVAL;
    }
    return AT_OK;
}

void config_install(const config *c)
{
    config_current = *c;
    config_is_installed = 1;
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

static char config_listen_url[512];

void config_set_listen_url(const char *url)
{
    snprintf(config_listen_url, sizeof(config_listen_url), "%s", url);
    size_t n = strlen(config_listen_url);
    if (n && config_listen_url[n - 1] == '/')
        config_listen_url[n - 1] = '\0';
}

const char *config_public_url(void)
{
    static char fallback[300];
    const config *c = config_get();
    if (c->public_url[0])
        return c->public_url;
    if (config_listen_url[0])
        return config_listen_url;
    snprintf(fallback, sizeof(fallback), "http://%s:%d", c->listen_host, c->listen_port);
    return fallback;
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
                 "naming the setting, and exit status 2.\n\n"
                 "| Setting | Default | Meaning |\n|---|---|---|\n"
                 "| `ATRIUM_CONFIG` | (none) | Path of an optional INI file with further settings. |\n");
    for (size_t i = 0; i < SETTING_COUNT; i++) {
        const setting *s = &settings[i];
        buf_printf(&b, "| `%s` | %s%s%s | %s |\n", s->name, *s->def ? "`" : "", *s->def ? s->def : "(empty)",
                   *s->def ? "`" : "", s->doc);
    }
    return buf_steal(&b, NULL);
}
