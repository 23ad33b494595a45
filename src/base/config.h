/* Configuration: every setting, its default and its documentation live in one table in config.c.
 * Values come from the defaults, then the optional INI file named by ATRIUM_CONFIG (keys are the
 * setting names without the ATRIUM_ prefix, in lower case), then the environment. A bad value is
 * reported naming the setting and what is wrong; the CLI exits with status 2. docs/configuration.md
 * is generated from the table (`atrium config docs`), and a test fails when it is stale.
 *
 * A secret setting X may also come from a file: X_FILE names it (its content without the trailing
 * newline is the value; X and X_FILE together are an error), or systemd's credential
 * $CREDENTIALS_DIRECTORY/X when neither is set. Text values have no length limit: they are copied
 * into memory the config module owns for the life of the process (never freed), so a config struct
 * can be copied freely and its strings stay valid. */
#ifndef AT_CONFIG_H
#define AT_CONFIG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

enum config_env { ENV_PRODUCTION = 0, ENV_DEVELOPMENT = 1, ENV_TEST = 2 };

typedef struct config {
    int env;                 /* ATRIUM_ENV */
    const char *listen_host; /* ATRIUM_LISTEN, split */
    int listen_port;
    const char *trusted_proxies;     /* ATRIUM_TRUSTED_PROXIES: CIDRs whose forwarding headers are believed */
    const char *metrics_listen_host; /* ATRIUM_METRICS_LISTEN, split; empty = no management listener */
    int metrics_listen_port;
    const char *metrics_token;          /* ATRIUM_METRICS_TOKEN: bearer token for /metrics; empty = none */
    const char *database_url;           /* ATRIUM_DATABASE_URL */
    const char *data_dir;               /* ATRIUM_DATA_DIR */
    int log_level;                      /* ATRIUM_LOG_LEVEL */
    int64_t max_body_bytes;             /* ATRIUM_MAX_BODY_BYTES */
    int max_connections;                /* ATRIUM_MAX_CONNECTIONS */
    int max_connections_per_ip;         /* ATRIUM_MAX_CONNECTIONS_PER_IP */
    int connection_timeout_s;           /* ATRIUM_CONNECTION_TIMEOUT */
    int http_header_timeout_s;          /* ATRIUM_HTTP_HEADER_TIMEOUT */
    int http_body_timeout_s;            /* ATRIUM_HTTP_BODY_TIMEOUT */
    int thread_stack_kib;               /* ATRIUM_THREAD_STACK_KIB */
    int http_threads;                   /* ATRIUM_HTTP_THREADS */
    int shutdown_timeout_s;             /* ATRIUM_SHUTDOWN_TIMEOUT */
    int db_pool_size;                   /* ATRIUM_DB_POOL */
    int job_workers;                    /* ATRIUM_JOB_WORKERS */
    int job_poll_ms;                    /* ATRIUM_JOB_POLL_MS */
    const char *secret_key;             /* ATRIUM_SECRET_KEY (hex); empty = key file in the data dir */
    bool signup_enabled;                /* ATRIUM_SIGNUP */
    int session_idle_s;                 /* ATRIUM_SESSION_IDLE */
    int session_absolute_s;             /* ATRIUM_SESSION_ABSOLUTE */
    bool tls;                           /* ATRIUM_TLS: served behind TLS (Secure, __Host- cookies) */
    const char *public_origin;          /* ATRIUM_PUBLIC_ORIGIN: allowed Origin for cookie writes */
    int password_min_length;            /* ATRIUM_PASSWORD_MIN_LENGTH */
    int hash_concurrency;               /* ATRIUM_HASH_CONCURRENCY */
    int login_ip_per_minute;            /* ATRIUM_LOGIN_IP_PER_MINUTE */
    int lockout_threshold;              /* ATRIUM_LOCKOUT_THRESHOLD */
    int lockout_step_s;                 /* ATRIUM_LOCKOUT_STEP */
    int lockout_max_s;                  /* ATRIUM_LOCKOUT_MAX */
    int lockout_reset_s;                /* ATRIUM_LOCKOUT_RESET */
    const char *smtp_url;               /* ATRIUM_SMTP_URL: smtp://host:port or smtps://...; empty = mail folder */
    const char *smtp_username;          /* ATRIUM_SMTP_USERNAME */
    const char *smtp_password;          /* ATRIUM_SMTP_PASSWORD */
    const char *mail_from;              /* ATRIUM_MAIL_FROM */
    const char *public_url;             /* ATRIUM_PUBLIC_URL: base of links in mail */
    int invite_ttl_days;                /* ATRIUM_INVITE_TTL_DAYS */
    int default_seat_limit;             /* ATRIUM_DEFAULT_SEATS */
    int key_rate_per_minute;            /* ATRIUM_KEY_RATE_PER_MINUTE */
    int key_burst;                      /* ATRIUM_KEY_BURST */
    int workspace_rate_per_minute;      /* ATRIUM_WORKSPACE_RATE_PER_MINUTE */
    const char *billing_catalog;        /* ATRIUM_BILLING_CATALOG: path; empty = the embedded etc/billing.json */
    const char *billing_provider;       /* ATRIUM_BILLING_PROVIDER: manual | stripe */
    const char *stripe_api_base;        /* ATRIUM_STRIPE_API_BASE */
    const char *stripe_secret_key;      /* ATRIUM_STRIPE_SECRET_KEY */
    const char *stripe_webhook_secrets; /* ATRIUM_STRIPE_WEBHOOK_SECRETS: comma-separated whsec_... */
    int stripe_webhook_tolerance_s;     /* ATRIUM_STRIPE_WEBHOOK_TOLERANCE */
} config;

/* config_load fills `out` from defaults, file, environment and secret files, and checks every value and
 * the combinations (a URL's form, the From address, the Stripe provider's secret ...). On a bad value it
 * returns AT_EINVAL and writes "SETTING: what is wrong" into err (512 bytes); the message never holds a
 * secret (a database URL's password is masked). */
int config_load(config *out, char err[512]);
/* config_check_listen resolves the listen hosts (ATRIUM_LISTEN, ATRIUM_METRICS_LISTEN), so an address
 * that names no host is a configuration error found before anything else starts. Returns AT_OK, or
 * AT_EINVAL with the reason in err. */
int config_check_listen(const config *c, char err[512]);
/* config_warn_unknown writes a warning to out for every ATRIUM_* environment variable that is no
 * setting (a misspelling), naming the closest setting. Returns how many it found. */
int config_warn_unknown(FILE *out);
/* config_effective_text returns the effective configuration as "NAME=value" lines, secrets hidden and a
 * database URL's password masked; the caller frees it. */
char *config_effective_text(const config *c);
/* config_mask_secrets returns a copy of text (a message from a library, such as libpq's, which may
 * quote the database URL) with the database password and every other secret value replaced by "***";
 * the caller frees it. */
char *config_mask_secrets(const config *c, const char *text);
/* The loaded configuration, installed by config_install; read-only afterwards. */
void config_install(const config *c);
const config *config_get(void);
/* config_public_url is ATRIUM_PUBLIC_URL, or once the server listens, http://HOST:PORT of the socket
 * (set by serve through config_set_listen_url). Never ends with '/'. */
const char *config_public_url(void);
void config_set_listen_url(const char *url);
/* config_docs_markdown returns docs/configuration.md's text; the caller frees it. */
char *config_docs_markdown(void);

#endif
