/* Unit tests of the sd_notify sender (src/base/sdnotify.c): path and abstract sockets, no socket, bad
 * names, and the watchdog interval and thread. */
#include "base/err.h"
#include "base/sdnotify.h"

#include <criterion/criterion.h>
#include <poll.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

/* Binds a datagram socket at `name` (a path, or '@' + an abstract name) and returns it. */
static int sdn_listen(const char *name)
{
    struct sockaddr_un sa;
    memset(&sa, 0, sizeof(sa));
    sa.sun_family = AF_UNIX;
    size_t n = strlen(name);
    memcpy(sa.sun_path, name, n);
    socklen_t len = (socklen_t)(offsetof(struct sockaddr_un, sun_path) + n + (name[0] == '@' ? 0 : 1));
    if (name[0] == '@')
        sa.sun_path[0] = '\0';
    int fd = socket(AF_UNIX, SOCK_DGRAM, 0);
    cr_assert(fd >= 0);
    cr_assert_eq(bind(fd, (struct sockaddr *)&sa, len), 0, "bind %s", name);
    return fd;
}

/* Receives one datagram within a second into out (NUL-terminated); returns its length or -1. */
static int sdn_recv(int fd, char *out, size_t cap)
{
    struct pollfd p = {.fd = fd, .events = POLLIN};
    if (poll(&p, 1, 1000) != 1)
        return -1;
    ssize_t n = recv(fd, out, cap - 1, 0);
    if (n < 0)
        return -1;
    out[n] = '\0';
    return (int)n;
}

Test(sdnotify, without_a_socket_nothing_is_sent_and_all_is_well)
{
    unsetenv("NOTIFY_SOCKET");
    cr_assert_eq(sdnotify_send("READY=1"), AT_OK);
    setenv("NOTIFY_SOCKET", "", 1);
    cr_assert_eq(sdnotify_send("READY=1"), AT_OK);
}

Test(sdnotify, an_abstract_socket_receives_the_state)
{
    char name[64], got[128];
    snprintf(name, sizeof(name), "@atrium-sdn-test-%d", (int)getpid());
    int fd = sdn_listen(name);
    setenv("NOTIFY_SOCKET", name, 1);
    cr_assert_eq(sdnotify_send("READY=1\nSTATUS=listening"), AT_OK);
    cr_assert_gt(sdn_recv(fd, got, sizeof(got)), 0);
    cr_assert_str_eq(got, "READY=1\nSTATUS=listening");
    close(fd);
    unsetenv("NOTIFY_SOCKET");
}

Test(sdnotify, a_path_socket_receives_the_state)
{
    char dir[] = "/tmp/atrium-sdn-XXXXXX", path[128], got[128];
    cr_assert_not_null(mkdtemp(dir));
    snprintf(path, sizeof(path), "%s/notify", dir);
    int fd = sdn_listen(path);
    setenv("NOTIFY_SOCKET", path, 1);
    cr_assert_eq(sdnotify_send("STOPPING=1"), AT_OK);
    cr_assert_gt(sdn_recv(fd, got, sizeof(got)), 0);
    cr_assert_str_eq(got, "STOPPING=1");
    close(fd);
    unlink(path);
    rmdir(dir);
    unsetenv("NOTIFY_SOCKET");
}

Test(sdnotify, bad_names_and_a_missing_listener_are_errors)
{
    setenv("NOTIFY_SOCKET", "relative/path", 1);
    cr_assert_eq(sdnotify_send("READY=1"), AT_EINVAL);
    setenv("NOTIFY_SOCKET", "@", 1);
    cr_assert_eq(sdnotify_send("READY=1"), AT_EINVAL);
    char longname[200];
    memset(longname, 'a', sizeof(longname) - 1);
    longname[0] = '/';
    longname[sizeof(longname) - 1] = '\0';
    setenv("NOTIFY_SOCKET", longname, 1);
    cr_assert_eq(sdnotify_send("READY=1"), AT_EINVAL);
    setenv("NOTIFY_SOCKET", "/nonexistent/atrium-notify", 1);
    cr_assert_eq(sdnotify_send("READY=1"), AT_EUNAVAIL);
    unsetenv("NOTIFY_SOCKET");
}

Test(sdnotify, the_watchdog_pings_at_half_the_interval_for_this_process_only)
{
    char pid[32], name[64], got[128];
    unsetenv("WATCHDOG_USEC");
    unsetenv("WATCHDOG_PID");
    cr_assert_eq(sdnotify_watchdog_interval_us(), 0);
    setenv("WATCHDOG_USEC", "200000", 1);
    cr_assert_eq(sdnotify_watchdog_interval_us(), 100000);
    setenv("WATCHDOG_PID", "1", 1);
    cr_assert_eq(sdnotify_watchdog_interval_us(), getpid() == 1 ? 100000 : 0);
    snprintf(pid, sizeof(pid), "%d", (int)getpid());
    setenv("WATCHDOG_PID", pid, 1);
    cr_assert_eq(sdnotify_watchdog_interval_us(), 100000);
    setenv("WATCHDOG_USEC", "soon", 1);
    cr_assert_eq(sdnotify_watchdog_interval_us(), 0);

    snprintf(name, sizeof(name), "@atrium-sdn-wd-%d", (int)getpid());
    int fd = sdn_listen(name);
    setenv("NOTIFY_SOCKET", name, 1);
    setenv("WATCHDOG_USEC", "100000", 1);
    cr_assert_eq(sdnotify_watchdog_start(NULL, NULL), AT_OK);
    for (int i = 0; i < 3; i++) {
        cr_assert_gt(sdn_recv(fd, got, sizeof(got)), 0);
        cr_assert_str_eq(got, "WATCHDOG=1");
    }
    sdnotify_watchdog_stop();
    close(fd);
    unsetenv("NOTIFY_SOCKET");
    unsetenv("WATCHDOG_USEC");
    unsetenv("WATCHDOG_PID");
}
