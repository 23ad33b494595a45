/* Configuration: every setting, its default and its documentation live in one table in config.c.
 * Values come from the defaults, then the optional INI file named by ATRIUM_CONFIG (keys are the
 * setting names without the ATRIUM_ prefix, in lower case), then the environment. A bad value is
 * reported naming the setting and what is wrong; the CLI exits with status 2. docs/configuration.md
 * is generated from the table (`atrium config docs`), and a test fails when it is stale. */
#ifndef AT_CONFIG_H
#define AT_CONFIG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

enum config_env { ENV_PRODUCTION = 0, ENV_DEVELOPMENT = 1, ENV_TEST = 2 };

typedef struct config {
    int env;                      /* ATRIUM_ENV */
    char listen_host[256];        /* ATRIUM_LISTEN, split */
    int listen_port;
    char database_url[1024];      /* ATRIUM_DATABASE_URL */
    char data_dir[1024];          /* ATRIUM_DATA_DIR */
    int log_level;                /* ATRIUM_LOG_LEVEL */
    int64_t max_body_bytes;       /* ATRIUM_MAX_BODY_BYTES */
    int max_connections;          /* ATRIUM_MAX_CONNECTIONS */
    int max_connections_per_ip;   /* ATRIUM_MAX_CONNECTIONS_PER_IP */
    int connection_timeout_s;     /* ATRIUM_CONNECTION_TIMEOUT */
    int http_header_timeout_s;    /* ATRIUM_HTTP_HEADER_TIMEOUT */
    int http_body_timeout_s;      /* ATRIUM_HTTP_BODY_TIMEOUT */
    int thread_stack_kib;         /* ATRIUM_THREAD_STACK_KIB */
    int http_threads;             /* ATRIUM_HTTP_THREADS */
    int shutdown_timeout_s;       /* ATRIUM_SHUTDOWN_TIMEOUT */
    int db_pool_size;             /* ATRIUM_DB_POOL */
    int job_workers;              /* ATRIUM_JOB_WORKERS */
    int job_poll_ms;              /* ATRIUM_JOB_POLL_MS */
    char secret_key[80];          /* ATRIUM_SECRET_KEY (hex); empty = key file in the data dir */
    bool signup_enabled;          /* ATRIUM_SIGNUP */
    int session_idle_s;           /* ATRIUM_SESSION_IDLE */
    int session_absolute_s;       /* ATRIUM_SESSION_ABSOLUTE */
    bool tls;                     /* ATRIUM_TLS: served behind TLS (Secure, __Host- cookies) */
    char public_origin[512];      /* ATRIUM_PUBLIC_ORIGIN: allowed Origin for cookie writes */
    int password_min_length;      /* ATRIUM_PASSWORD_MIN_LENGTH */
    int hash_concurrency;         /* ATRIUM_HASH_CONCURRENCY */
    int login_ip_per_minute;      /* ATRIUM_LOGIN_IP_PER_MINUTE */
    int lockout_threshold;        /* ATRIUM_LOCKOUT_THRESHOLD */
    int lockout_step_s;           /* ATRIUM_LOCKOUT_STEP */
    int lockout_max_s;            /* ATRIUM_LOCKOUT_MAX */
    int lockout_reset_s;          /* ATRIUM_LOCKOUT_RESET */
    char smtp_url[512];           /* ATRIUM_SMTP_URL: smtp://host:port or smtps://...; empty = mail folder */
    char smtp_username[256];      /* ATRIUM_SMTP_USERNAME */
    char smtp_password[256];      /* ATRIUM_SMTP_PASSWORD */
    char mail_from[320];          /* ATRIUM_MAIL_FROM */
    char public_url[512];         /* ATRIUM_PUBLIC_URL: base of links in mail */
    int invite_ttl_days;          /* ATRIUM_INVITE_TTL_DAYS */
    int default_seat_limit;       /* ATRIUM_DEFAULT_SEATS */
    int key_rate_per_minute;      /* ATRIUM_KEY_RATE_PER_MINUTE */
    int key_burst;                /* ATRIUM_KEY_BURST */
    int workspace_rate_per_minute; /* ATRIUM_WORKSPACE_RATE_PER_MINUTE */
    char billing_catalog[1024];   /* ATRIUM_BILLING_CATALOG: path; empty = the embedded etc/billing.json */
    char billing_provider[16];    /* ATRIUM_BILLING_PROVIDER: manual | stripe */
    char stripe_api_base[512];    /* ATRIUM_STRIPE_API_BASE */
    char stripe_secret_key[256];  /* ATRIUM_STRIPE_SECRET_KEY */
    char stripe_webhook_secrets[1024]; /* ATRIUM_STRIPE_WEBHOOK_SECRETS: comma-separated whsec_... */
    int stripe_webhook_tolerance_s; /* ATRIUM_STRIPE_WEBHOOK_TOLERANCE */
} config;

/* config_load fills `out` from defaults, file and environment. On a bad value it returns AT_EINVAL and
 * writes "SETTING: what is wrong" into err (512 bytes). */
int config_load(config *out, char err[512]);
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
