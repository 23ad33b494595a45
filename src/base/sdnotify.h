/* The systemd notification protocol (sd_notify(3)) without libsystemd: a service of Type=notify tells
 * its manager that it is ready, that it is stopping, and (with WatchdogSec=) that it is alive, by
 * sending one datagram of "KEY=VALUE" lines to the AF_UNIX socket named by $NOTIFY_SOCKET. A name
 * starting with '@' is in the abstract namespace. Without $NOTIFY_SOCKET every call does nothing, so
 * the same binary runs under systemd, in a container, or by hand. */
#ifndef AT_SDNOTIFY_H
#define AT_SDNOTIFY_H

#include <stdint.h>

/* sdnotify_send sends `state` (e.g. "READY=1\nSTATUS=listening") to $NOTIFY_SOCKET. Returns AT_OK when
 * sent or when no manager listens (the variable is unset), AT_EINVAL for an unusable socket name, AT_EUNAVAIL
 * when the send failed. Never blocks for long: the socket is a datagram socket, sent non-blocking. */
int sdnotify_send(const char *state);

/* sdnotify_watchdog_interval_us returns how often to send WATCHDOG=1: half of $WATCHDOG_USEC when the
 * manager asked this process (a $WATCHDOG_PID naming another process means no), else 0. */
int64_t sdnotify_watchdog_interval_us(void);

/* sdnotify_watchdog_start starts a thread sending WATCHDOG=1 every sdnotify_watchdog_interval_us() as
 * long as `alive` (called on that thread; NULL = always alive) returns nonzero; does nothing when the
 * manager set no watchdog. sdnotify_watchdog_stop stops and joins it. Returns AT_OK or AT_EUNAVAIL. */
int sdnotify_watchdog_start(int (*alive)(void *arg), void *arg);
void sdnotify_watchdog_stop(void);

#endif
