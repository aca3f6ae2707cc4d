/* hub_daemon — the daemon part of the hub: the state directory, the
 * single-instance lock (hub.lock, holding the pid), the fork into the
 * background with its ready pipe, and the files beside them (hub_daemon.c
 * says how). It calls nothing of the hub's. */
#ifndef COORDHUB_APP_HUB_DAEMON_H
#define COORDHUB_APP_HUB_DAEMON_H

#include <stdbool.h>

struct options;

struct hub_daemon {
    int lock_fd;  /* flock on hub.lock; -1 */
    int ready_fd; /* a daemon's pipe to its starter until ready; -1 */
};

/* Make the state dir (0700, with its .gitignore), take hub.lock and check
 * the start against the dir's record (launch.h). 0, or the exit code of
 * `serve` (said why on stderr): 1 the dir or lock file cannot be made, 3
 * another hub holds the lock, 2 the record does not fit. */
int hub_daemon_claim(struct hub_daemon *d, const struct options *o);
/* With --daemon, fork: true in the parent (or on failure) with the exit
 * code the caller returns (the child's start-up lines printed); false in
 * the child, now detached, and without --daemon. */
bool hub_daemon_detach(struct hub_daemon *d, const struct options *o, int *exit_code);
/* Write the hub's pid into hub.lock. */
void hub_daemon_write_pid(struct hub_daemon *d);
/* Create the admin token file (0600) at first start. */
void hub_daemon_ensure_token(const struct options *o);
/* Record how this hub was started (<state-dir>/hub.json, launch.h), for
 * the hubs started automatically after it. */
void hub_daemon_write_record(const struct options *o);
/* The hub is up: hand the start-up lines to a daemon's starter, or print
 * them on stdout in the foreground. */
void hub_daemon_ready(struct hub_daemon *d, const char *lines);
/* Close the ready pipe and release the lock. */
void hub_daemon_fini(struct hub_daemon *d);

#endif
