/* `atrium serve`: the server's life from start-up to graceful shutdown. */
#include "cli/cli.h"

#include "api/api.h"
#include "auth/password.h"
#include "billing/billing.h"
#include "billing/render.h"
#include "base/clock.h"
#include "base/err.h"
#include "base/log.h"
#include "base/sdnotify.h"
#include "jobs/jobs.h"
#include "mail/mail.h"

#include <curl/curl.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>

/* Blocks the shutdown signals in this thread before any other starts, so every thread inherits the
 * mask and only sigwait in main receives them; SIGPIPE is ignored (a client closing early is normal). */
static void serve_block_signals(sigset_t *set)
{
    sigemptyset(set);
    sigaddset(set, SIGTERM);
    sigaddset(set, SIGINT);
    sigaddset(set, SIGHUP); /* drains like SIGTERM (a closing terminal or a supervisor's HUP) */
    pthread_sigmask(SIG_BLOCK, set, NULL);
    signal(SIGPIPE, SIG_IGN);
}

/* The watchdog's liveness check (sdnotify_watchdog_start): the server answers its own /healthz. Not
 * the store: during a database outage the process stays up and recovers by itself (/readyz says
 * 503), whereas a restart would only fail to start until the database is back. */
static int serve_alive(void *arg)
{
    return http_server_answers(arg, 5000);
}

int cli_serve(int argc, char **argv)
{
    config cfg;
    store *s = NULL;
    http_server *server = NULL, *management = NULL;
    sigset_t set;
    char err[512];
    int sig = 0;
    (void)argv;

    if (argc != 1) {
        fprintf(stderr, "usage: atrium serve\n");
        return CLI_USAGE;
    }
    int64_t started = clock_mono_us();
    serve_block_signals(&set);
    curl_global_init(CURL_GLOBAL_DEFAULT);
    /* Settings that only matter to the server are checked before the database is opened (or created
     * and migrated): a listen host that does not resolve is a bad setting, exit 2. */
    config_warn_unknown(stderr);
    if (config_load(&cfg, err) == AT_OK && config_check_listen(&cfg, err) != AT_OK) {
        fprintf(stderr, "atrium: configuration error: %s\n", err);
        return CLI_USAGE;
    }
    int rc = cli_setup(&cfg, &s);
    if (rc != CLI_OK)
        return rc;
    if (cfg.env == ENV_PRODUCTION && store_check_durability(s, err) != AT_OK) {
        fprintf(stderr, "atrium: refusing to start in production: %s\n", err);
        store_close(s);
        return CLI_FAIL;
    }
    if (cfg.env == ENV_TEST)
        clock_enable_test();

    static api_app app;
    app.store = s;
    app.cfg = config_get();
    app.version = ATRIUM_VERSION;
    password_setup(cfg.hash_concurrency);
    api_register_jobs(&cfg);
    if (billing_schedule(s) != AT_OK) {
        fprintf(stderr, "atrium: cannot schedule the billing jobs\n");
        store_close(s);
        return CLI_FAIL;
    }
    if (cfg.job_workers > 0 && jobs_start(s, cfg.job_workers, cfg.job_poll_ms) != AT_OK) {
        fprintf(stderr, "atrium: cannot start the job workers\n");
        store_close(s);
        return CLI_FAIL;
    }

    http_server_config hc = {
        .host = cfg.listen_host,
        .port = cfg.listen_port,
        .max_connections = cfg.max_connections,
        .max_connections_per_ip = cfg.max_connections_per_ip,
        .connection_timeout_s = cfg.connection_timeout_s,
        .header_timeout_s = cfg.http_header_timeout_s,
        .body_timeout_s = cfg.http_body_timeout_s,
        .pool_threads = cfg.http_threads,
        .thread_stack_bytes = (size_t)cfg.thread_stack_kib * 1024,
        .max_body_bytes = (size_t)cfg.max_body_bytes,
        .test_routes = cfg.env == ENV_TEST,
        .tls = cfg.tls,
        .idempotency = &api_idempotency,
        .trusted_proxies = cfg.trusted_proxies,
    };
    size_t ntables = 0;
    const http_route_table *tables = api_tables(&ntables);
    char herr[256];
    if (http_server_start(&hc, tables, ntables, api_guard, &app, &server, herr) != AT_OK) {
        /* Exit status 2, as for any other bad setting: the address is taken or not ours. */
        fprintf(stderr, "atrium: %s\n", herr);
        jobs_stop();
        store_close(s);
        return CLI_USAGE;
    }
    if (cfg.metrics_listen_host[0]) {
        /* The management listener: /metrics only, for a scraper on an address the public never reaches. */
        http_server_config mc = hc;
        mc.host = cfg.metrics_listen_host;
        mc.port = cfg.metrics_listen_port;
        mc.max_connections = 16;
        mc.max_connections_per_ip = 16;
        mc.trusted_proxies = NULL;
        mc.idempotency = NULL;
        mc.management = true;
        if (http_server_start(&mc, tables, ntables, api_guard, &app, &management, herr) != AT_OK) {
            fprintf(stderr, "atrium: %s\n", herr);
            http_server_stop(server, 0);
            jobs_stop();
            store_close(s);
            return CLI_USAGE;
        }
        bool m6 = strchr(cfg.metrics_listen_host, ':') != NULL;
        printf("Metrics are served at http://%s%s%s:%d/metrics\n", m6 ? "[" : "", cfg.metrics_listen_host,
               m6 ? "]" : "", http_server_port(management));
    }
    char url[320];
    bool v6 = strchr(cfg.listen_host, ':') != NULL;
    snprintf(url, sizeof(url), "http://%s%s%s:%d/", v6 ? "[" : "", cfg.listen_host, v6 ? "]" : "",
             http_server_port(server));
    log_event(LOG_INFO, "listening",
              json_pack("{s:s, s:s, s:s, s:I}", "url", url, "store", store_kind(s) == STORE_PG ? "postgres" : "sqlite",
                        "env", cfg.env == ENV_PRODUCTION ? "production" : cfg.env == ENV_TEST ? "test" : "development",
                        "startup_us", (json_int_t)(clock_mono_us() - started)));
    config_set_listen_url(url);
    if (!cfg.smtp_url[0]) {
        char folder[1024];
        mail_folder(folder);
        printf("No ATRIUM_SMTP_URL is set: outgoing mail is written to %s/ (see `atrium mail list`).\n", folder);
    }
    printf("Atrium is ready at %s\n", url);
    fflush(stdout);
    /* Under systemd (Type=notify) the unit counts as started only now, when the port answers; the
     * watchdog pings only while the server answers, so a wedged process is restarted. */
    if (sdnotify_send("READY=1\nSTATUS=Serving requests") != AT_OK)
        log_event(LOG_WARN, "cannot notify the service manager", json_pack("{s:s}", "state", "READY"));
    if (sdnotify_watchdog_start(serve_alive, server) != AT_OK)
        log_event(LOG_WARN, "cannot start the watchdog thread", NULL);

    sigwait(&set, &sig);
    sdnotify_send("STOPPING=1\nSTATUS=Draining requests");
    sdnotify_watchdog_stop();
    log_event(LOG_INFO, "shutting down",
              json_pack("{s:s}", "signal", sig == SIGINT ? "SIGINT" : sig == SIGHUP ? "SIGHUP" : "SIGTERM"));
    if (http_server_stop(management, 1) > 0)
        log_event(LOG_WARN, "the management listener did not drain", NULL);
    int abandoned = http_server_stop(server, cfg.shutdown_timeout_s);
    if (abandoned > 0) {
        /* Handlers still hold the store; leave it to the process exit rather than pull it away. The
         * status says the shutdown was not clean, so a supervisor can tell. */
        log_event(LOG_ERROR, "stopped", json_pack("{s:b, s:i}", "drained", false, "abandoned", abandoned));
        return CLI_FAIL;
    }
    jobs_stop();
    store_close(s);
    curl_global_cleanup();
    billing_render_release();
    log_event(LOG_INFO, "stopped", NULL);
    return CLI_OK;
}
