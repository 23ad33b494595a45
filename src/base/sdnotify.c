/* sd_notify without libsystemd: one datagram to $NOTIFY_SOCKET, and an optional watchdog thread. */
#include "base/sdnotify.h"

#include "base/err.h"

#include <errno.h>
#include <pthread.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

static pthread_t sdn_thread;
static bool sdn_running;
static pthread_mutex_t sdn_mu = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t sdn_cv = PTHREAD_COND_INITIALIZER;
static bool sdn_stop;
static int (*sdn_alive)(void *arg);
static void *sdn_alive_arg;

static void *sdnotify_watchdog_main(void *arg);

/* Builds the socket address of $NOTIFY_SOCKET: a path, or with a leading '@' an abstract name (a NUL
 * first byte, and the length counts exactly the name's bytes). Returns AT_OK, AT_ENOTFOUND when the
 * variable is unset or empty, AT_EINVAL when the name does not fit or is neither form. */
static int sdnotify_address(struct sockaddr_un *sa, socklen_t *len)
{
    const char *name = getenv("NOTIFY_SOCKET");
    if (!name || !*name)
        return AT_ENOTFOUND;
    size_t n = strlen(name);
    if ((name[0] != '/' && name[0] != '@') || n < 2 || n >= sizeof(sa->sun_path))
        return AT_EINVAL;
    memset(sa, 0, sizeof(*sa));
    sa->sun_family = AF_UNIX;
    memcpy(sa->sun_path, name, n);
    if (name[0] == '@') {
        sa->sun_path[0] = '\0';
        *len = (socklen_t)(offsetof(struct sockaddr_un, sun_path) + n);
    } else {
        *len = (socklen_t)(offsetof(struct sockaddr_un, sun_path) + n + 1);
    }
    return AT_OK;
}

int sdnotify_send(const char *state)
{
    struct sockaddr_un sa;
    socklen_t len = 0;
    int rc = sdnotify_address(&sa, &len);
    if (rc == AT_ENOTFOUND)
        return AT_OK;
    if (rc != AT_OK)
        return rc;
    int fd = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
    if (fd < 0)
        return AT_EUNAVAIL;
    size_t n = strlen(state);
    ssize_t sent;
    do
        sent = sendto(fd, state, n, MSG_NOSIGNAL, (const struct sockaddr *)&sa, len);
    while (sent < 0 && errno == EINTR);
    close(fd);
    return sent == (ssize_t)n ? AT_OK : AT_EUNAVAIL;
}

int64_t sdnotify_watchdog_interval_us(void)
{
    const char *usec = getenv("WATCHDOG_USEC");
    const char *pid = getenv("WATCHDOG_PID");
    char *end = NULL;
    if (!usec || !*usec)
        return 0;
    if (pid && *pid) {
        /* The manager set the watchdog for another process of the unit (a wrapper that exec'd us is the
         * same pid, so this only refuses a real mismatch). */
        long long p = strtoll(pid, &end, 10);
        if (*end || p != (long long)getpid())
            return 0;
    }
    errno = 0;
    long long us = strtoll(usec, &end, 10);
    if (errno || *end || us <= 0)
        return 0;
    return us / 2;
}

int sdnotify_watchdog_start(int (*alive)(void *arg), void *arg)
{
    if (sdn_running || sdnotify_watchdog_interval_us() <= 0)
        return AT_OK;
    sdn_alive = alive;
    sdn_alive_arg = arg;
    sdn_stop = false;
    if (pthread_create(&sdn_thread, NULL, sdnotify_watchdog_main, NULL) != 0)
        return AT_EUNAVAIL;
    sdn_running = true;
    return AT_OK;
}

void sdnotify_watchdog_stop(void)
{
    if (!sdn_running)
        return;
    pthread_mutex_lock(&sdn_mu);
    sdn_stop = true;
    pthread_cond_signal(&sdn_cv);
    pthread_mutex_unlock(&sdn_mu);
    pthread_join(sdn_thread, NULL);
    sdn_running = false;
}

/* The watchdog thread: a ping every interval while the liveness check passes. A check that fails
 * skips the ping, so a wedged process (a server that stopped answering, say) is restarted by the
 * manager after WatchdogSec, which is the point of the watchdog. */
static void *sdnotify_watchdog_main(void *arg)
{
    (void)arg;
    int64_t interval = sdnotify_watchdog_interval_us();
    pthread_mutex_lock(&sdn_mu);
    while (!sdn_stop) {
        pthread_mutex_unlock(&sdn_mu);
        if (!sdn_alive || sdn_alive(sdn_alive_arg))
            sdnotify_send("WATCHDOG=1");
        pthread_mutex_lock(&sdn_mu);
        struct timespec until;
        clock_gettime(CLOCK_REALTIME, &until);
        int64_t ns = (int64_t)until.tv_nsec + (interval % 1000000) * 1000;
        until.tv_sec += (time_t)(interval / 1000000 + ns / 1000000000);
        until.tv_nsec = (long)(ns % 1000000000);
        while (!sdn_stop && pthread_cond_timedwait(&sdn_cv, &sdn_mu, &until) == 0)
            ;
    }
    pthread_mutex_unlock(&sdn_mu);
    return NULL;
}
