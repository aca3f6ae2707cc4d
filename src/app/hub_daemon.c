/* hub_daemon — the daemon part of the hub (docs/architecture.md, "The
 * parts of the hub"): the state directory a hub serves, the single
 * instance, the fork into the background and the files beside it.
 *
 * Start-up: flock(hub.lock) makes the hub the only one for its state dir
 * (ten bridges racing to start a hub yield exactly one); the lock file
 * then holds the hub's pid. With --daemon the hub forks: the parent waits
 * on a pipe until the child listens (or fails), prints the start-up lines
 * the child hands it and returns; the child leaves the terminal (setsid),
 * its stdin/stdout on /dev/null and its stderr (the log) on
 * <state-dir>/hub.log. The state dir also holds the admin token (made at
 * first start), a .gitignore, and the record of how the hub was started
 * (hub.json, launch.h), which a later hub on another store must override.
 * The part calls nothing of the hub's. */
#define _GNU_SOURCE
#include "app/hub_daemon.h"

#include <errno.h>
#include <fcntl.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/random.h>
#include <sys/stat.h>
#include <unistd.h>

#include "app/launch.h"
#include "app/options.h"
#include "auth/token.h"
#include "base/log.h"

static int hub_mkdir_p(const char *path, mode_t mode)
{
    char tmp[4096];
    if (snprintf(tmp, sizeof(tmp), "%s", path) >= (int)sizeof(tmp))
        return -ENAMETOOLONG;
    for (char *p = tmp + 1; *p; p++) {
        if (*p != '/')
            continue;
        *p = '\0';
        if (mkdir(tmp, 0755) != 0 && errno != EEXIST)
            return -errno;
        *p = '/';
    }
    if (mkdir(tmp, mode) != 0 && errno != EEXIST)
        return -errno;
    return 0;
}

void hub_daemon_ensure_token(const struct options *o)
{
    char *path = options_state_path(o, "token");
    int fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
    if (fd >= 0) {
        unsigned char raw[24];
        char hex[sizeof(raw) * 2 + 2];
        if (getrandom(raw, sizeof(raw), 0) == (ssize_t)sizeof(raw)) {
            for (size_t i = 0; i < sizeof(raw); i++)
                snprintf(hex + i * 2, 3, "%02x", raw[i]);
            hex[sizeof(raw) * 2] = '\n';
            ssize_t w = write(fd, hex, sizeof(raw) * 2 + 1);
            (void)w;
        }
        close(fd);
    }
    free(path);
}

/* Keep the state directory out of git (docs/configuration.md): it holds
 * the admin token and the database. A `.gitignore` of `*` (which ignores
 * itself too) is written at every start when it is missing — so a state
 * directory made by an older hub gets one as well — unless the directory
 * is a working tree's top (it has a `.git`: a --state-dir naming the
 * repository itself), where `*` would hide the user's files. An existing
 * .gitignore is never changed. */
static void hub_ensure_gitignore(const struct options *o)
{
    char *git = options_state_path(o, ".git");
    bool top = access(git, F_OK) == 0;
    free(git);
    if (top)
        return;
    char *path = options_state_path(o, ".gitignore");
    int fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0644);
    if (fd >= 0) {
        static const char text[] = "# coordhub state (admin token, database): never commit it\n*\n";
        if (write(fd, text, sizeof(text) - 1) != (ssize_t)(sizeof(text) - 1))
            fprintf(stderr, "coordhub: cannot write %s: %s\n", path, strerror(errno));
        close(fd);
    } else if (errno != EEXIST) {
        fprintf(stderr, "coordhub: cannot create %s: %s\n", path, strerror(errno));
    }
    free(path);
}

void hub_daemon_write_pid(struct hub_daemon *d)
{
    char line[32];
    int n = snprintf(line, sizeof(line), "%d\n", (int)getpid());
    if (ftruncate(d->lock_fd, 0) == 0 && pwrite(d->lock_fd, line, (size_t)n, 0) == n)
        fsync(d->lock_fd);
}

void hub_daemon_write_record(const struct options *o)
{
    struct launch_record rec;
    launch_record_from_options(o, &rec);
    char *path = options_state_path(o, "hub.json");
    int rc = launch_record_save(path, &rec);
    if (rc)
        log_warn("cannot write %s: %s", path, strerror(-rc));
    free(path);
    launch_record_deinit(&rec);
}

/* The parent of a daemon: wait on the ready pipe (taken) for "R" and the
 * start-up lines, print them, and give the exit code (1 when the child
 * failed before it was ready: it said why in hub.log or on stderr). */
static int hub_daemon_wait(int fd)
{
    char buf[4096];
    size_t len = 0;
    for (;;) {
        ssize_t n = read(fd, buf + len, sizeof(buf) - 1 - len);
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0)
            break;
        len += (size_t)n;
        if (len == sizeof(buf) - 1)
            break;
    }
    close(fd);
    buf[len] = '\0';
    if (len == 0 || buf[0] != 'R')
        return 1;
    fputs(buf + 1, stdout);
    fflush(stdout);
    token_cleanse(buf, len);
    return 0;
}

/* Read the pid of the hub holding the lock, or 0. */
static int hub_lock_owner(int fd)
{
    char buf[32] = {0};
    ssize_t n = pread(fd, buf, sizeof(buf) - 1, 0);
    if (n <= 0)
        return 0;
    return (int)strtol(buf, NULL, 10);
}

/* Is the state dir's record of how its hub was started (launch.h) one
 * this start fits? A hub on another store than the record's must be asked
 * for with --store. 0, or the message on stderr and false. */
static bool hub_daemon_record_fits(const struct options *o)
{
    char *errmsg = NULL;
    char *record_path = options_state_path(o, "hub.json");
    struct launch_record rec;
    int rc = launch_record_load(record_path, &rec, &errmsg);
    if (rc == 0)
        rc = launch_serve_check(&rec, o, record_path, &errmsg);
    else if (rc == -ENOENT)
        rc = 0;
    launch_record_deinit(&rec);
    free(record_path);
    if (rc)
        fprintf(stderr, "coordhub serve: %s\n", errmsg);
    free(errmsg);
    return rc == 0;
}

int hub_daemon_claim(struct hub_daemon *d, const struct options *o)
{
    d->lock_fd = -1;
    d->ready_fd = -1;
    int rc = hub_mkdir_p(o->state_dir, 0700);
    if (rc) {
        fprintf(stderr, "coordhub: cannot create state dir %s: %s\n", o->state_dir, strerror(-rc));
        return 1;
    }
    hub_ensure_gitignore(o);
    char *lock_path = options_state_path(o, "hub.lock");
    d->lock_fd = open(lock_path, O_RDWR | O_CREAT | O_CLOEXEC, 0600);
    free(lock_path);
    if (d->lock_fd < 0) {
        fprintf(stderr, "coordhub: cannot open hub.lock: %s\n", strerror(errno));
        return 1;
    }
    if (flock(d->lock_fd, LOCK_EX | LOCK_NB) != 0) {
        int owner = hub_lock_owner(d->lock_fd);
        fprintf(stderr, "coordhub: a hub is already running for %s (pid %d)\n", o->state_dir,
                owner);
        hub_daemon_fini(d);
        return 3;
    }
    if (!hub_daemon_record_fits(o)) {
        hub_daemon_fini(d);
        return 2;
    }
    return 0;
}

/* The child of a daemon: leave the terminal; stdin and stdout on
 * /dev/null, stderr (the log) appended to <state-dir>/hub.log. */
static void hub_daemon_child(const struct options *o)
{
    setsid();
    char *log_path = options_state_path(o, "hub.log");
    int logfd = open(log_path, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0600);
    free(log_path);
    int devnull = open("/dev/null", O_RDWR);
    if (devnull >= 0) {
        dup2(devnull, 0);
        dup2(devnull, 1);
        if (devnull > 2)
            close(devnull);
    }
    if (logfd >= 0) {
        dup2(logfd, 2);
        close(logfd);
    }
}

bool hub_daemon_detach(struct hub_daemon *d, const struct options *o, int *exit_code)
{
    if (!o->daemon)
        return false;
    int ready_pipe[2] = {-1, -1};
    pid_t pid = -1;
    if (pipe2(ready_pipe, O_CLOEXEC) != 0 || (pid = fork()) < 0) {
        fprintf(stderr, "coordhub: cannot start the daemon: %s\n", strerror(errno));
        if (ready_pipe[0] >= 0) {
            close(ready_pipe[0]);
            close(ready_pipe[1]);
        }
        hub_daemon_fini(d);
        *exit_code = 1;
        return true;
    }
    if (pid > 0) {
        /* Parent: wait until the child listens (or fails), print the
         * lines it sent (pid, socket, URL), then return. */
        close(ready_pipe[1]);
        hub_daemon_fini(d);
        *exit_code = hub_daemon_wait(ready_pipe[0]);
        return true;
    }
    close(ready_pipe[0]);
    d->ready_fd = ready_pipe[1];
    hub_daemon_child(o);
    return false;
}

void hub_daemon_ready(struct hub_daemon *d, const char *lines)
{
    if (d->ready_fd < 0) {
        fputs(lines, stdout);
        fflush(stdout);
        return;
    }
    size_t len = strlen(lines);
    if (write(d->ready_fd, "R", 1) != 1 || write(d->ready_fd, lines, len) != (ssize_t)len)
        log_warn("cannot hand the start-up lines to the starter: %s", strerror(errno));
    close(d->ready_fd);
    d->ready_fd = -1;
}

void hub_daemon_fini(struct hub_daemon *d)
{
    if (d->ready_fd >= 0)
        close(d->ready_fd);
    d->ready_fd = -1;
    if (d->lock_fd >= 0)
        close(d->lock_fd);
    d->lock_fd = -1;
}
