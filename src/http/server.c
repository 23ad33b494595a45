/* The libmicrohttpd glue: the listening socket (exclusive: no SO_REUSEPORT), daemon setup in
 * thread-per-connection mode with poll() (c-stack.md §2.1), the two-phase access callback with a
 * capped body, dispatch through the router and the guard, the headers every response carries, the
 * access log, the watchdog that cuts clients trickling headers or bodies, and graceful shutdown. */
#include "http/http_impl.h"

#include "base/buf.h"
#include "base/clock.h"
#include "base/err.h"
#include "base/id.h"
#include "base/log.h"
#include "base/mem.h"

#include <arpa/inet.h>
#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <microhttpd.h>
#include <netdb.h>
#include <netinet/in.h>
#include <poll.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

/* One open TCP connection, for the watchdog: the deadline by which the client must have sent what it
 * is sending now (headers or body), or 0 while the server has the turn (a handler runs, a response is
 * sent). Allocated when MHD reports the connection started, freed when it reports it closed. */
typedef struct server_conn {
    int fd;
    int64_t deadline_us; /* guarded by http_server.conns_mu */
    bool cut;            /* the watchdog shut the socket down */
    struct server_conn *prev, *next;
} server_conn;

struct http_server {
    struct MHD_Daemon *daemon;
    http_server_config cfg;
    const http_route_table *tables;
    size_t ntables;
    cidr_list trusted; /* parsed cfg.trusted_proxies */
    http_guard guard;
    void *app;
    atomic_int in_flight;
    int port;
    int listen_fd;
    pthread_mutex_t conns_mu;
    server_conn *conns; /* guarded by conns_mu */
    pthread_t watchdog;
    bool watchdog_started;
    atomic_bool stopping;
};

enum { SERVER_WATCHDOG_TICK_MS = 100, SERVER_LISTEN_BACKLOG = 511 };

/* The setting that names a listener's address, for messages. */
#define SERVER_SETTING(cfg) ((cfg)->management ? "ATRIUM_METRICS_LISTEN" : "ATRIUM_LISTEN")

static void server_conn_deadline(http_server *s, struct MHD_Connection *conn, int64_t deadline_us);

static const char server_csp[] = "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data: https:; "
                                 "connect-src 'self'; font-src 'self'; object-src 'none'; base-uri 'none'; "
                                 "frame-ancestors 'none'; form-action 'self'";

/* Copies a well-formed incoming X-Request-Id, or makes a new one. */
static void server_request_id(struct MHD_Connection *conn, char out[72])
{
    const char *in = MHD_lookup_connection_value(conn, MHD_HEADER_KIND, "X-Request-Id");
    if (in) {
        size_t n = strlen(in);
        bool ok = n >= 1 && n <= 64;
        for (size_t i = 0; ok && i < n; i++) {
            char c = in[i];
            ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '-' ||
                 c == '_' || c == '.';
        }
        if (ok) {
            memcpy(out, in, n + 1);
            return;
        }
    }
    id_new("req", out);
}

/* What server_header_collect gathers: the lines of one header name. */
typedef struct server_collect {
    const char *name;
    buf *b;
} server_collect;

/* Appends a header line to the buf when its name is the one sought (MHD_get_connection_values). */
static enum MHD_Result server_header_collect(void *cls, enum MHD_ValueKind kind, const char *key, const char *value)
{
    server_collect *c = cls;
    (void)kind;
    if (!key || !value || strcasecmp(key, c->name) != 0)
        return MHD_YES;
    if (c->b->len)
        buf_puts(c->b, ", ");
    buf_puts(c->b, value);
    return MHD_YES;
}

/* Every line of a header that may be sent more than once (Forwarded, X-Forwarded-For), joined with
 * ", " as RFC 9110 §5.3 allows, in the request's arena; NULL when absent. */
static const char *server_header_joined(http_req *req, const char *name)
{
    if (!MHD_lookup_connection_value(req->conn, MHD_HEADER_KIND, name))
        return NULL;
    buf b;
    buf_init(&b);
    MHD_get_connection_values(req->conn, MHD_HEADER_KIND, server_header_collect, &(server_collect){name, &b});
    const char *out = arena_strdup(&req->arena, b.data ? b.data : "");
    buf_free(&b);
    return out;
}

static void server_client_ip(struct MHD_Connection *conn, char out[64])
{
    const union MHD_ConnectionInfo *ci = MHD_get_connection_info(conn, MHD_CONNECTION_INFO_CLIENT_ADDRESS);
    out[0] = '\0';
    if (!ci || !ci->client_addr)
        return;
    const struct sockaddr *sa = ci->client_addr;
    if (sa->sa_family == AF_INET)
        inet_ntop(AF_INET, &((const struct sockaddr_in *)(const void *)sa)->sin_addr, out, 64);
    else if (sa->sa_family == AF_INET6)
        inet_ntop(AF_INET6, &((const struct sockaddr_in6 *)(const void *)sa)->sin6_addr, out, 64);
}

/* Adds the headers every response carries. API responses are never cached; static assets set their
 * own Cache-Control in static.c (ROUTE_NO_CACHE_HEADERS or a header already present). */
static void server_common_headers(const http_server *s, http_req *req, struct MHD_Response *resp)
{
    bool has_cache = false, has_csp = false, has_frame = false;
    for (struct http_header *h = req->headers; h; h = h->next) {
        MHD_add_response_header(resp, h->name, h->value);
        if (strcasecmp(h->name, "Cache-Control") == 0)
            has_cache = true;
        /* A document with a stricter policy of its own (an invoice's HTML view) replaces the default. */
        if (strcasecmp(h->name, "Content-Security-Policy") == 0)
            has_csp = true;
        if (strcasecmp(h->name, "X-Frame-Options") == 0)
            has_frame = true;
    }
    if (!has_cache)
        MHD_add_response_header(resp, "Cache-Control", "no-store");
    if (req->content_type)
        MHD_add_response_header(resp, "Content-Type", req->content_type);
    MHD_add_response_header(resp, "X-Request-Id", req->request_id);
    if (!has_csp)
        MHD_add_response_header(resp, "Content-Security-Policy", server_csp);
    MHD_add_response_header(resp, "X-Content-Type-Options", "nosniff");
    if (!has_frame)
        MHD_add_response_header(resp, "X-Frame-Options", "DENY");
    MHD_add_response_header(resp, "Referrer-Policy", "no-referrer");
    MHD_add_response_header(resp, "Cross-Origin-Opener-Policy", "same-origin");
    MHD_add_response_header(resp, "Cross-Origin-Resource-Policy", "same-origin");
    MHD_add_response_header(resp, "Permissions-Policy", "camera=(), microphone=(), geolocation=(), payment=()");
    if (s->cfg.tls)
        MHD_add_response_header(resp, "Strict-Transport-Security", "max-age=31536000; includeSubDomains");
}

/* The body cap of req, known from its headers: the configured one, or HTTP_LARGE_BODY_BYTES for an
 * upload route (ROUTE_LARGE_BODY) when that is larger. The match is repeated at dispatch. */
static size_t server_body_cap(http_server *s, http_req *req)
{
    const http_route *route = NULL;
    const char *names[HTTP_MAX_PARAMS], *values[HTTP_MAX_PARAMS];
    int n = 0, allow = 0;
    size_t cap = s->cfg.max_body_bytes;
    if (req->method && http_match(s->tables, s->ntables, req->method, req->path, s->cfg.test_routes, &route, names,
                                  values, &n, &allow, &req->arena) == 1 &&
        (route->flags & ROUTE_LARGE_BODY) && cap < HTTP_LARGE_BODY_BYTES)
        cap = HTTP_LARGE_BODY_BYTES;
    return cap;
}

/* Routes a complete request to its handler (or to a 404/405/413 or the static UI). */
static void server_dispatch(http_server *s, http_req *req)
{
    int allow = 0;
    if (req->too_big) {
        http_reply_problem(req, 413, "too-large", "The request body is too large.", NULL);
        return;
    }
    if (!req->method) {
        http_reply_problem(req, 501, "not-implemented", "This HTTP method is not supported.", NULL);
        return;
    }
    int m = http_match(s->tables, s->ntables, req->method, req->path, s->cfg.test_routes, &req->route,
                       req->param_names, req->param_values, &req->nparams, &allow, &req->arena);
    /* The management listener serves the operators' rows and nothing else (no API, no UI). */
    if (s->cfg.management && (m != 1 || req->route->auth != AUTH_OPERATOR)) {
        req->route = NULL;
        http_reply_problem(req, 404, "not-found", "Not found.", NULL);
        return;
    }
    if (m == 1) {
        if (s->guard && s->guard(req) != AT_OK) {
            if (!req->replied)
                http_reply_status(req, AT_EFORBIDDEN);
            return;
        }
        const char *idem = (req->route->flags & ROUTE_IDEMPOTENT) && s->cfg.idempotency
                               ? http_header(req, "Idempotency-Key")
                               : NULL;
        if (idem && s->cfg.idempotency->begin(req, idem) != AT_OK) {
            if (!req->replied)
                http_reply_status(req, AT_EINTERNAL);
            return;
        }
        int rc = req->route->handler(req);
        if (!req->replied) {
            if (rc != AT_OK)
                log_event(LOG_ERROR, "handler failed without a reply",
                          json_pack("{s:s, s:s, s:s}", "route", req->route->pattern, "status", at_status_name(rc),
                                    "request_id", req->request_id));
            http_reply_status(req, rc == AT_OK ? AT_EINTERNAL : rc);
        }
        /* Always after a successful begin, whatever the reply: it also ends what begin started. */
        if (idem)
            s->cfg.idempotency->finish(req, idem);
        return;
    }
    if (m == -1) {
        char allow_text[64];
        http_allow_header(allow, allow_text);
        http_set_header(req, "Allow", allow_text);
        http_reply_problem(req, 405, "method-not-allowed", "This method is not allowed here.", NULL);
        return;
    }
    if ((req->method == HM_GET || req->method == HM_HEAD) && strncmp(req->path, "/api/", 5) != 0 &&
        strcmp(req->path, "/api") != 0) {
        http_static_serve(req);
        return;
    }
    http_reply_problem(req, 404, "not-found", "Not found.", NULL);
}

/* Turns the recorded reply into an MHD response and queues it. */
static enum MHD_Result server_queue(http_server *s, struct MHD_Connection *conn, http_req *req)
{
    struct MHD_Response *resp;
    if (req->borrowed && req->status != 304) {
        free(req->out.data);
        resp = MHD_create_response_from_buffer(req->borrowed_len, (void *)(uintptr_t)req->borrowed,
                                               MHD_RESPMEM_PERSISTENT);
    } else if (req->out.data && req->out.len && req->status != 304)
        resp = MHD_create_response_from_buffer(req->out.len, req->out.data, MHD_RESPMEM_MUST_FREE);
    else {
        free(req->out.data);
        resp = MHD_create_response_from_buffer(0, NULL, MHD_RESPMEM_PERSISTENT);
    }
    buf_init(&req->out); /* MHD owns the data now */
    if (!resp)
        return MHD_NO;
    server_common_headers(s, req, resp);
    enum MHD_Result r = MHD_queue_response(conn, (unsigned)req->status, resp);
    MHD_destroy_response(resp);
    return r;
}

/* Static (persistent) bodies are queued by static.c through this hook. */
static enum MHD_Result server_access(void *cls, struct MHD_Connection *conn, const char *url, const char *method,
                                     const char *version, const char *upload_data, size_t *upload_data_size,
                                     void **con_cls)
{
    http_server *s = cls;
    http_req *req = *con_cls;
    (void)version;

    if (!req) {
        req = xcalloc(1, sizeof(*req));
        arena_init(&req->arena);
        buf_init(&req->out);
        req->start_mono_us = clock_mono_us();
        req->conn = conn;
        req->app = s->app;
        req->method = http_method_from_name(method);
        req->method_name = arena_strdup(&req->arena, method);
        req->path = arena_strdup(&req->arena, url);
        server_request_id(conn, req->request_id);
        server_client_ip(conn, req->peer_ip);
        /* Without trusted proxies the headers are not even read. */
        bool proxied = s->trusted.count > 0;
        req->via_proxy = http_client_address(&s->trusted, req->peer_ip,
                                             proxied ? server_header_joined(req, "Forwarded") : NULL,
                                             proxied ? server_header_joined(req, "X-Forwarded-For") : NULL,
                                             req->client_ip);
        req->management = s->cfg.management;
        *con_cls = req;
        atomic_fetch_add(&s->in_flight, 1);
        http_metrics_in_flight(1);
        /* The headers are in; the body (if any) must follow within the body timeout. */
        server_conn_deadline(s, conn, req->start_mono_us + (int64_t)s->cfg.body_timeout_s * 1000000);
        const char *cl = MHD_lookup_connection_value(conn, MHD_HEADER_KIND, MHD_HTTP_HEADER_CONTENT_LENGTH);
        unsigned long long declared = cl ? strtoull(cl, NULL, 10) : 0;
        req->body_cap = server_body_cap(s, req);
        if (declared > 4ull * (unsigned long long)req->body_cap) {
            /* Answer at once so a client sending a huge body is not read in full. */
            req->too_big = true;
            server_conn_deadline(s, conn, 0);
            server_dispatch(s, req);
            return server_queue(s, conn, req);
        }
        /* Somewhat over the cap: read and drop the body, then answer 413. Answering before the body is
         * in would close a socket with unread data, and the reset can destroy the answer in flight. */
        if (declared > (unsigned long long)req->body_cap)
            req->too_big = true;
        return MHD_YES;
    }
    if (*upload_data_size) {
        if (!req->too_big) {
            size_t have = req->body_len;
            if (have + *upload_data_size > req->body_cap) {
                req->too_big = true;
                free(req->body);
                req->body = NULL;
                req->body_len = 0;
            } else {
                char *nb = xrealloc(req->body, have + *upload_data_size + 1);
                memcpy(nb + have, upload_data, *upload_data_size);
                nb[have + *upload_data_size] = '\0';
                req->body = nb;
                req->body_len = have + *upload_data_size;
            }
        }
        *upload_data_size = 0;
        return MHD_YES;
    }
    if (req->replied)
        return MHD_YES; /* already answered (413 on the first call) */
    server_conn_deadline(s, conn, 0);
    server_dispatch(s, req);
    return server_queue(s, conn, req);
}

/* Frees the request, writes its access-log line and counts it. */
static void server_completed(void *cls, struct MHD_Connection *conn, void **con_cls, enum MHD_RequestTerminationCode toe)
{
    http_server *s = cls;
    http_req *req = *con_cls;
    if (!req)
        return;
    /* A kept-alive connection may idle for the inactivity timeout, then has the header timeout to
     * send its next request's headers: a bound however slowly it trickles them. */
    server_conn_deadline(s, conn,
                         clock_mono_us() + (int64_t)(s->cfg.connection_timeout_s + s->cfg.header_timeout_s) * 1000000);
    int64_t us = clock_mono_us() - req->start_mono_us;
    http_metrics_observe(req->route ? http_metrics_route_index(req->route) : 0, req->method, req->status, us);
    if (!log_enabled(LOG_INFO))
        goto release;
    json_t *fields = json_pack("{s:s, s:s, s:i, s:I, s:s}", "method", req->method_name ? req->method_name : "",
                               "route", req->route ? req->route->pattern : "-", "status", req->status, "us",
                               (json_int_t)us, "request_id", req->request_id);
    json_object_set_new(fields, "ip", json_string(req->client_ip));
    if (req->via_proxy)
        json_object_set_new(fields, "peer", json_string(req->peer_ip));
    if (toe != MHD_REQUEST_TERMINATED_COMPLETED_OK)
        json_object_set_new(fields, "aborted", json_true());
    log_event(LOG_INFO, "request", fields);
release:
    for (struct http_kept *k = req->kept; k; k = k->next)
        json_decref(k->value);
    buf_free(&req->out);
    free(req->body);
    arena_free(&req->arena);
    free(req);
    *con_cls = NULL;
    atomic_fetch_sub(&s->in_flight, 1);
    http_metrics_in_flight(-1);
}

/* Percent-decodes a URI component in place. Bytes that would decode to control characters become
 * DEL (0x7f), so an encoded NUL cannot cut the path short; http_path_is_safe then refuses them. */
static size_t server_unescape(void *cls, struct MHD_Connection *conn, char *uri)
{
    (void)cls;
    (void)conn;
    char *w = uri;
    for (const char *r = uri; *r; r++) {
        if (r[0] == '%' && isxdigit((unsigned char)r[1]) && isxdigit((unsigned char)r[2])) {
            char hex[3] = {r[1], r[2], 0};
            unsigned long v = strtoul(hex, NULL, 16);
            *w++ = (v < 0x20 || v == 0x7f) ? (char)0x7f : (char)v;
            r += 2;
            continue;
        }
        *w++ = *r;
    }
    *w = '\0';
    return (size_t)(w - uri);
}

static void server_mhd_log(void *cls, const char *fmt, va_list ap)
{
    buf msg;
    (void)cls;
    buf_init(&msg);
    buf_vprintf(&msg, fmt, ap);
    while (msg.len && (msg.data[msg.len - 1] == '\n' || msg.data[msg.len - 1] == '\r'))
        msg.data[--msg.len] = '\0';
    /* MHD quotes request bytes in some messages: log_text keeps them whatever their encoding. */
    log_event(LOG_DEBUG, "libmicrohttpd", json_pack("{s:o}", "detail", log_text(msg.data)));
    buf_free(&msg);
}

/* ------------------------------------------------------------------------------------------------ */
/* Read timeouts: the watchdog                                                                      */
/* ------------------------------------------------------------------------------------------------ */

/* Sets the deadline of conn's TCP connection (0: none). MHD's own timeout only counts inactivity, so a
 * client sending one byte a second would hold its connection forever; this one does not reset. */
static void server_conn_deadline(http_server *s, struct MHD_Connection *conn, int64_t deadline_us)
{
    const union MHD_ConnectionInfo *ci = MHD_get_connection_info(conn, MHD_CONNECTION_INFO_SOCKET_CONTEXT);
    server_conn *sc = ci ? ci->socket_context : NULL;
    if (!sc)
        return;
    pthread_mutex_lock(&s->conns_mu);
    sc->deadline_us = deadline_us;
    pthread_mutex_unlock(&s->conns_mu);
}

/* MHD's connection notifications: a started connection gets a tracking record (owned by the server's
 * list) whose header deadline starts now; a closed one loses it. MHD reports the close before it
 * closes the descriptor, so the watchdog never shuts down a descriptor that was reused. */
static void server_notify_connection(void *cls, struct MHD_Connection *conn, void **socket_context,
                                     enum MHD_ConnectionNotificationCode toe)
{
    http_server *s = cls;
    if (toe == MHD_CONNECTION_NOTIFY_STARTED) {
        const union MHD_ConnectionInfo *ci = MHD_get_connection_info(conn, MHD_CONNECTION_INFO_CONNECTION_FD);
        if (!ci)
            return;
        server_conn *sc = xcalloc(1, sizeof *sc);
        sc->fd = ci->connect_fd;
        sc->deadline_us = clock_mono_us() + (int64_t)s->cfg.header_timeout_s * 1000000;
        pthread_mutex_lock(&s->conns_mu);
        sc->next = s->conns;
        if (s->conns)
            s->conns->prev = sc;
        s->conns = sc;
        pthread_mutex_unlock(&s->conns_mu);
        *socket_context = sc;
        return;
    }
    server_conn *sc = *socket_context;
    if (!sc)
        return;
    pthread_mutex_lock(&s->conns_mu);
    if (sc->prev)
        sc->prev->next = sc->next;
    else
        s->conns = sc->next;
    if (sc->next)
        sc->next->prev = sc->prev;
    pthread_mutex_unlock(&s->conns_mu);
    free(sc);
    *socket_context = NULL;
}

/* The watchdog thread: every tick it shuts down the socket of each connection past its deadline. The
 * connection's own thread then reads end-of-stream and MHD closes and frees it as usual. */
static void *server_watchdog_main(void *arg)
{
    http_server *s = arg;
    while (!atomic_load(&s->stopping)) {
        struct timespec ts = {0, SERVER_WATCHDOG_TICK_MS * 1000 * 1000};
        nanosleep(&ts, NULL);
        int64_t now = clock_mono_us();
        int cut = 0;
        pthread_mutex_lock(&s->conns_mu);
        for (server_conn *sc = s->conns; sc; sc = sc->next) {
            if (sc->cut || sc->deadline_us == 0 || now < sc->deadline_us)
                continue;
            shutdown(sc->fd, SHUT_RDWR);
            sc->cut = true;
            cut++;
        }
        pthread_mutex_unlock(&s->conns_mu);
        if (cut)
            log_event(LOG_INFO, "slow clients cut off", json_pack("{s:i}", "connections", cut));
    }
    return NULL;
}

/* ------------------------------------------------------------------------------------------------ */
/* Listening and shutting down                                                                      */
/* ------------------------------------------------------------------------------------------------ */

/* Opens the listening socket for cfg's host and port. SO_REUSEADDR lets a restart bind while old
 * connections linger in TIME_WAIT; SO_REUSEPORT is never set, so a second process cannot bind the same
 * address and split the traffic. Returns AT_OK with *fd_out (the caller closes it), or AT_EUNAVAIL with
 * a message naming the address in err. */
static int server_listen(const http_server_config *cfg, int *fd_out, char err[256])
{
    struct addrinfo hints = {0}, *ai = NULL;
    char port_text[16];
    bool v6 = strchr(cfg->host, ':') != NULL;
    int fd = -1, one = 1, rc = AT_EUNAVAIL;

    hints.ai_family = AF_UNSPEC;
    hints.ai_socktype = SOCK_STREAM;
    hints.ai_flags = AI_NUMERICSERV | AI_PASSIVE;
    snprintf(port_text, sizeof(port_text), "%d", cfg->port);
    if (getaddrinfo(cfg->host, port_text, &hints, &ai) != 0 || !ai) {
        snprintf(err, 256, "%s: cannot resolve host '%s'", SERVER_SETTING(cfg), cfg->host);
        return AT_EUNAVAIL;
    }
    fd = socket(ai->ai_family, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (fd < 0) {
        snprintf(err, 256, "%s: cannot open a socket for %s%s%s:%d: %s", SERVER_SETTING(cfg), v6 ? "[" : "", cfg->host,
                 v6 ? "]" : "", cfg->port, strerror(errno));
        goto free_ai;
    }
    setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
    if (ai->ai_family == AF_INET6)
        setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &one, sizeof one);
    if (bind(fd, ai->ai_addr, ai->ai_addrlen) != 0 || listen(fd, SERVER_LISTEN_BACKLOG) != 0) {
        int e = errno;
        snprintf(err, 256, "%s: cannot listen on %s%s%s:%d: %s", SERVER_SETTING(cfg), v6 ? "[" : "", cfg->host, v6 ? "]" : "",
                 cfg->port,
                 e == EADDRINUSE       ? "the address is already in use (is another server running?)"
                 : e == EADDRNOTAVAIL ? "not an address of this machine"
                                      : strerror(e));
        goto close_fd;
    }
    fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) | O_NONBLOCK);
    *fd_out = fd;
    fd = -1;
    rc = AT_OK;
close_fd:
    if (fd >= 0)
        close(fd);
free_ai:
    freeaddrinfo(ai);
    return rc;
}

/* Waits until fd is ready for `events` or the deadline passes; true when ready. */
static bool server_wait_fd(int fd, short events, int64_t deadline_us)
{
    struct pollfd p = {.fd = fd, .events = events};
    int64_t left_ms = (deadline_us - clock_mono_us()) / 1000;
    return left_ms > 0 && poll(&p, 1, (int)left_ms) == 1 && (p.revents & events);
}

bool http_server_answers(const http_server *s, int timeout_ms)
{
    static const char request[] = "GET /healthz HTTP/1.0\r\nHost: localhost\r\nUser-Agent: atrium-watchdog\r\n\r\n";
    struct sockaddr_storage ss;
    socklen_t len = sizeof(ss);
    char answer[16];
    size_t got = 0;
    bool ok = false;
    int64_t deadline = clock_mono_us() + (int64_t)timeout_ms * 1000;
    if (!s || s->listen_fd < 0 || getsockname(s->listen_fd, (struct sockaddr *)&ss, &len) != 0)
        return false;
    /* A wildcard listener is reached over loopback, as a local client would. */
    if (ss.ss_family == AF_INET && ((struct sockaddr_in *)&ss)->sin_addr.s_addr == htonl(INADDR_ANY))
        ((struct sockaddr_in *)&ss)->sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    else if (ss.ss_family == AF_INET6 && IN6_IS_ADDR_UNSPECIFIED(&((struct sockaddr_in6 *)&ss)->sin6_addr))
        ((struct sockaddr_in6 *)&ss)->sin6_addr = in6addr_loopback;
    int fd = socket(ss.ss_family, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
    if (fd < 0)
        return false;
    if (connect(fd, (struct sockaddr *)&ss, len) != 0 &&
        (errno != EINPROGRESS || !server_wait_fd(fd, POLLOUT, deadline)))
        goto close_fd;
    if (send(fd, request, sizeof(request) - 1, MSG_NOSIGNAL) != (ssize_t)(sizeof(request) - 1))
        goto close_fd;
    while (got < sizeof(answer) - 1 && server_wait_fd(fd, POLLIN, deadline)) {
        ssize_t n = recv(fd, answer + got, sizeof(answer) - 1 - got, 0);
        if (n <= 0)
            break;
        got += (size_t)n;
    }
    answer[got] = '\0';
    ok = strncmp(answer, "HTTP/1.1 200 ", 13) == 0 || strncmp(answer, "HTTP/1.0 200 ", 13) == 0;
close_fd:
    close(fd);
    return ok;
}

/* Refuses one connection taken from the listen queue after shutdown began: reads what the client sent
 * (its request, up to 16 KiB, briefly), answers 503 with Connection: close, half-closes, and waits
 * briefly for the client to close, so that no unread byte turns the close into a reset. Closes fd. */
static void server_refuse_one(int fd, int64_t deadline_us)
{
    static const char body[] = "{\"type\":\"urn:atrium:problem:shutting-down\",\"title\":\"The server is "
                               "shutting down.\",\"status\":503,\"detail\":\"Retry the request; another instance "
                               "or the restarted server will answer it.\"}";
    static const char end_of_head[] = "\r\n\r\n";
    char head[320], in[4096];
    size_t seen = 0, matched = 0;
    struct pollfd p = {fd, POLLIN, 0};

    while (matched < 4 && seen < 16384 && clock_mono_us() < deadline_us) {
        if (poll(&p, 1, 50) <= 0)
            continue;
        ssize_t n = recv(fd, in, sizeof in, MSG_DONTWAIT);
        if (n <= 0)
            break;
        for (ssize_t i = 0; i < n && matched < 4; i++)
            matched = in[i] == end_of_head[matched] ? matched + 1 : in[i] == '\r' ? 1 : 0;
        seen += (size_t)n;
    }
    int hl = snprintf(head, sizeof head,
                      "HTTP/1.1 503 Service Unavailable\r\nContent-Type: application/problem+json\r\n"
                      "Content-Length: %zu\r\nRetry-After: 1\r\nCache-Control: no-store\r\n"
                      "X-Content-Type-Options: nosniff\r\nConnection: close\r\n\r\n",
                      sizeof body - 1);
    (void)!send(fd, head, (size_t)hl, MSG_NOSIGNAL | MSG_DONTWAIT);
    (void)!send(fd, body, sizeof body - 1, MSG_NOSIGNAL | MSG_DONTWAIT);
    shutdown(fd, SHUT_WR);
    while (clock_mono_us() < deadline_us) {
        if (poll(&p, 1, 50) <= 0)
            continue;
        if (recv(fd, in, sizeof in, MSG_DONTWAIT) <= 0)
            break;
    }
    close(fd);
}

/* Takes every connection still waiting in the listen queue and refuses it cleanly (server_refuse_one),
 * within about two seconds in all. Closing the listening socket with connections queued would reset
 * them. Returns how many were refused. */
static int server_refuse_queued(int listen_fd)
{
    int64_t deadline = clock_mono_us() + 2000000;
    int refused = 0;
    for (;;) {
        int fd = accept(listen_fd, NULL, NULL);
        if (fd < 0) {
            if (errno == EINTR || errno == ECONNABORTED)
                continue;
            break; /* EAGAIN: the queue is empty */
        }
        fcntl(fd, F_SETFD, FD_CLOEXEC);
        server_refuse_one(fd, deadline > clock_mono_us() + 500000 ? clock_mono_us() + 500000 : deadline);
        refused++;
    }
    return refused;
}

int http_server_start(const http_server_config *cfg, const http_route_table *tables, size_t ntables,
                      http_guard guard, void *app, http_server **out, char err[256])
{
    http_server *s = xcalloc(1, sizeof(*s));

    s->cfg = *cfg;
    s->tables = tables;
    s->ntables = ntables;
    s->guard = guard;
    s->app = app;
    s->listen_fd = -1;
    pthread_mutex_init(&s->conns_mu, NULL);

    char perr[256];
    if (cidr_list_parse(cfg->trusted_proxies, &s->trusted, perr) != AT_OK) {
        snprintf(err, 256, "ATRIUM_TRUSTED_PROXIES: %.200s", perr);
        goto fail;
    }
    /* One set of counters per process: the management listener counts into the main one's. */
    if (!cfg->management)
        http_metrics_init(tables, ntables);
    if (server_listen(cfg, &s->listen_fd, err) != AT_OK)
        goto fail;
    /* Either a thread per connection (cfg->pool_threads == 0), or a pool of threads each polling many
     * connections: fewer context switches per request, and with a pool of 32 or more a handler that
     * blocks (an Argon2 hash, a slow query) delays only the connections of its own thread
     * (c-stack.md §2.1). poll(), not epoll: MHD 0.9.75's epoll mode stalls at 128 and 256 connections. */
    unsigned flags = MHD_USE_INTERNAL_POLLING_THREAD | MHD_USE_POLL | MHD_USE_ERROR_LOG | MHD_USE_ITC;
    if (cfg->pool_threads == 0)
        flags |= MHD_USE_THREAD_PER_CONNECTION;
    if (strchr(cfg->host, ':'))
        flags |= MHD_USE_IPv6;
    /* The logger goes first: MHD reports on later options (such as a pool size of 0) through it. */
    s->daemon = MHD_start_daemon(
        flags, (uint16_t)cfg->port, NULL, NULL, server_access, s, MHD_OPTION_EXTERNAL_LOGGER, server_mhd_log, NULL,
        MHD_OPTION_LISTEN_SOCKET, s->listen_fd, MHD_OPTION_CONNECTION_LIMIT, (unsigned)cfg->max_connections,
        MHD_OPTION_PER_IP_CONNECTION_LIMIT, (unsigned)cfg->max_connections_per_ip, MHD_OPTION_CONNECTION_TIMEOUT,
        (unsigned)cfg->connection_timeout_s, MHD_OPTION_THREAD_POOL_SIZE, (unsigned)cfg->pool_threads,
        MHD_OPTION_THREAD_STACK_SIZE, cfg->thread_stack_bytes, MHD_OPTION_CONNECTION_MEMORY_LIMIT, (size_t)(16 * 1024),
        MHD_OPTION_NOTIFY_COMPLETED, server_completed, s, MHD_OPTION_NOTIFY_CONNECTION, server_notify_connection, s,
        MHD_OPTION_UNESCAPE_CALLBACK, server_unescape, NULL, MHD_OPTION_END);
    if (!s->daemon) {
        snprintf(err, 256, "%s: cannot serve on %s:%d", SERVER_SETTING(cfg), cfg->host, cfg->port);
        goto fail;
    }
    if (pthread_create(&s->watchdog, NULL, server_watchdog_main, s) != 0) {
        snprintf(err, 256, "cannot start the HTTP watchdog thread");
        goto fail;
    }
    s->watchdog_started = true;
    const union MHD_DaemonInfo *di = MHD_get_daemon_info(s->daemon, MHD_DAEMON_INFO_BIND_PORT);
    s->port = di ? di->port : cfg->port;
    *out = s;
    return AT_OK;
fail:
    if (s->daemon)
        MHD_stop_daemon(s->daemon);
    else if (s->listen_fd >= 0)
        close(s->listen_fd);
    pthread_mutex_destroy(&s->conns_mu);
    cidr_list_free(&s->trusted);
    free(s);
    return AT_EUNAVAIL;
}

int http_server_port(const http_server *s)
{
    return s->port;
}

int http_server_stop(http_server *s, int timeout_s)
{
    if (!s)
        return 0;
    MHD_socket fd = MHD_quiesce_daemon(s->daemon);
    if (fd != MHD_INVALID_SOCKET) {
        int refused = server_refuse_queued(fd);
        close(fd);
        if (refused)
            log_event(LOG_INFO, "refused queued connections at shutdown", json_pack("{s:i}", "connections", refused));
    }
    int64_t deadline = clock_mono_us() + (int64_t)timeout_s * 1000000;
    while (atomic_load(&s->in_flight) > 0 && clock_mono_us() < deadline) {
        struct timespec ts = {0, 20 * 1000 * 1000};
        nanosleep(&ts, NULL);
    }
    int abandoned = atomic_load(&s->in_flight);
    if (abandoned > 0) {
        log_event(LOG_ERROR, "shutdown timeout; abandoning requests still in flight",
                  json_pack("{s:i, s:i}", "abandoned", abandoned, "timeout_s", timeout_s));
        return abandoned;
    }
    atomic_store(&s->stopping, true);
    if (s->watchdog_started)
        pthread_join(s->watchdog, NULL);
    MHD_stop_daemon(s->daemon);
    pthread_mutex_destroy(&s->conns_mu);
    cidr_list_free(&s->trusted);
    free(s);
    return 0;
}

const char *http_param(const http_req *req, const char *name)
{
    for (int i = 0; i < req->nparams; i++)
        if (strcmp(req->param_names[i], name) == 0)
            return req->param_values[i];
    return NULL;
}

const char *http_header(const http_req *req, const char *name)
{
    return MHD_lookup_connection_value(req->conn, MHD_HEADER_KIND, name);
}

const char *http_query(const http_req *req, const char *name)
{
    return MHD_lookup_connection_value(req->conn, MHD_GET_ARGUMENT_KIND, name);
}

const char *http_cookie(const http_req *req, const char *name)
{
    return MHD_lookup_connection_value(req->conn, MHD_COOKIE_KIND, name);
}
