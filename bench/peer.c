/* peer — descriptors, child processes and a line reader for the benches.
 *
 * The reader keeps one growable buffer per peer: lines are returned in
 * place (no copy) and consumed by the next call, and the scan offset makes
 * finding '\n' linear however the bytes arrive. The buffer is capped
 * (PEER_MAX_BUF): a peer that sends an endless line is an error, not an
 * out-of-memory.
 *
 * Children never outlive the bench: each is started with PR_SET_PDEATHSIG
 * and peer_close() reaps it, escalating to SIGKILL. */
#define _GNU_SOURCE
#include "peer.h"

#include <errno.h>
#include <fcntl.h>
#include <sched.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#define PEER_INITIAL_BUF 65536
#define PEER_MAX_BUF (16 * 1024 * 1024)

static void peer_init(struct peer *p)
{
    memset(p, 0, sizeof(*p));
    p->wfd = -1;
    p->rfd = -1;
    p->pid = -1;
    p->cap = PEER_INITIAL_BUF;
    p->buf = malloc(p->cap);
    if (!p->buf)
        abort();
}

int peer_connect_unix(struct peer *p, const char *path)
{
    peer_init(p);
    struct sockaddr_un sun;
    memset(&sun, 0, sizeof(sun));
    sun.sun_family = AF_UNIX;
    size_t n = strlen(path);
    if (n >= sizeof(sun.sun_path))
        return -ENAMETOOLONG;
    memcpy(sun.sun_path, path, n + 1);
    int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (fd < 0)
        return -errno;
    if (connect(fd, (struct sockaddr *)&sun, sizeof(sun)) != 0) {
        int e = errno;
        close(fd);
        return -e;
    }
    p->wfd = p->rfd = fd;
    return 0;
}

/* In a fresh child: die with the bench, and move to cpu if one is given
 * (a child that cannot be placed exits rather than measure elsewhere). */
static void peer_child_setup(int cpu)
{
    prctl(PR_SET_PDEATHSIG, SIGKILL);
    if (cpu >= 0) {
        cpu_set_t set;
        CPU_ZERO(&set);
        CPU_SET(cpu, &set);
        if (sched_setaffinity(0, sizeof(set), &set) != 0)
            _exit(125);
    }
}

/* The echo server: blocking read, blocking write, nothing else. */
static void peer_echo_loop(int in, int out)
{
    char tmp[65536];
    for (;;) {
        ssize_t n = read(in, tmp, sizeof(tmp));
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0)
            return;
        for (ssize_t off = 0; off < n;) {
            ssize_t w = write(out, tmp + off, (size_t)(n - off));
            if (w < 0 && errno == EINTR)
                continue;
            if (w <= 0)
                return;
            off += w;
        }
    }
}

int peer_echo(struct peer *p, enum peer_echo_kind kind, int cpu)
{
    peer_init(p);
    int a[2], b[2] = {-1, -1};
    if (kind == PEER_ECHO_UNIX) {
        if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, a) != 0)
            return -errno;
    } else {
        if (pipe2(a, O_CLOEXEC) != 0)
            return -errno;
        if (pipe2(b, O_CLOEXEC) != 0) {
            int e = errno;
            close(a[0]);
            close(a[1]);
            return -e;
        }
    }
    pid_t pid = fork();
    if (pid < 0) {
        int e = errno;
        close(a[0]);
        close(a[1]);
        if (b[0] >= 0) {
            close(b[0]);
            close(b[1]);
        }
        return -e;
    }
    if (pid == 0) {
        peer_child_setup(cpu);
        if (kind == PEER_ECHO_UNIX) {
            close(a[0]);
            peer_echo_loop(a[1], a[1]);
        } else {
            close(a[1]);
            close(b[0]);
            peer_echo_loop(a[0], b[1]);
        }
        _exit(0);
    }
    p->pid = pid;
    if (kind == PEER_ECHO_UNIX) {
        close(a[1]);
        p->wfd = p->rfd = a[0];
    } else {
        close(a[0]);
        close(b[1]);
        p->wfd = a[1];
        p->rfd = b[0];
    }
    return 0;
}

int peer_spawn(struct peer *p, char *const argv[], const char *stderr_path, int cpu)
{
    peer_init(p);
    int in[2], out[2];
    if (pipe2(in, O_CLOEXEC) != 0)
        return -errno;
    if (pipe2(out, O_CLOEXEC) != 0) {
        int e = errno;
        close(in[0]);
        close(in[1]);
        return -e;
    }
    pid_t pid = fork();
    if (pid < 0) {
        int e = errno;
        close(in[0]);
        close(in[1]);
        close(out[0]);
        close(out[1]);
        return -e;
    }
    if (pid == 0) {
        peer_child_setup(cpu);
        int err = open(stderr_path ? stderr_path : "/dev/null",
                       O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0600);
        if (dup2(in[0], 0) < 0 || dup2(out[1], 1) < 0 || (err >= 0 && dup2(err, 2) < 0))
            _exit(126);
        execvp(argv[0], argv);
        _exit(127);
    }
    close(in[0]);
    close(out[1]);
    p->pid = pid;
    p->wfd = in[1];
    p->rfd = out[0];
    return 0;
}

int peer_send(struct peer *p, const char *msg, size_t len)
{
    while (len) {
        ssize_t w = write(p->wfd, msg, len);
        if (w < 0) {
            if (errno == EINTR)
                continue;
            return -errno;
        }
        msg += w;
        len -= (size_t)w;
    }
    return 0;
}

const char *peer_next_line(struct peer *p, size_t *len)
{
    char *from = p->buf + p->start + p->scanned;
    char *nl = memchr(from, '\n', p->end - p->start - p->scanned);
    if (!nl) {
        p->scanned = p->end - p->start;
        return NULL;
    }
    const char *line = p->buf + p->start;
    *len = (size_t)(nl - line);
    p->start += *len + 1;
    p->scanned = 0;
    return line;
}

ssize_t peer_fill(struct peer *p)
{
    if (p->start == p->end) {
        p->start = p->end = 0;
    } else if (p->end == p->cap) {
        /* Make room: slide the partial line down, then grow if it fills
         * the whole buffer. */
        if (p->start > 0) {
            memmove(p->buf, p->buf + p->start, p->end - p->start);
            p->end -= p->start;
            p->start = 0;
        } else {
            if (p->cap >= PEER_MAX_BUF)
                return -EMSGSIZE;
            char *nb = realloc(p->buf, p->cap * 2);
            if (!nb)
                abort();
            p->buf = nb;
            p->cap *= 2;
        }
    }
    for (;;) {
        ssize_t n = read(p->rfd, p->buf + p->end, p->cap - p->end);
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0)
            return -errno;
        p->end += (size_t)n;
        return n;
    }
}

const char *peer_read_line(struct peer *p, size_t *len)
{
    for (;;) {
        const char *line = peer_next_line(p, len);
        if (line)
            return line;
        if (peer_fill(p) <= 0)
            return NULL;
    }
}

/* Wait up to ms for pid to exit; true once reaped. */
static int peer_reap_within(pid_t pid, int ms)
{
    struct timespec ts = {.tv_sec = 0, .tv_nsec = 10 * 1000000};
    for (int waited = 0;; waited += 10) {
        pid_t r = waitpid(pid, NULL, WNOHANG);
        if (r == pid || (r < 0 && errno == ECHILD))
            return 1;
        if (waited >= ms)
            return 0;
        nanosleep(&ts, NULL);
    }
}

void peer_close(struct peer *p)
{
    if (p->wfd >= 0)
        close(p->wfd);
    if (p->rfd >= 0 && p->rfd != p->wfd)
        close(p->rfd);
    p->wfd = p->rfd = -1;
    if (p->pid > 0) {
        if (!peer_reap_within(p->pid, 2000)) {
            kill(p->pid, SIGTERM);
            if (!peer_reap_within(p->pid, 1000)) {
                kill(p->pid, SIGKILL);
                while (waitpid(p->pid, NULL, 0) < 0 && errno == EINTR)
                    ;
            }
        }
        p->pid = -1;
    }
    free(p->buf);
    p->buf = NULL;
}
