/* peer — one newline-delimited conversation partner for the benchmarks.
 *
 * A peer is a pair of descriptors (requests out, lines back: the same
 * socket, or two pipes) plus, when the bench started it, the child process
 * serving the other end. Every benchmark — raw ping-pong, the hub socket,
 * `coordhub mcp`, the reference Node server — talks through this one type
 * with the same buffered reader, so the client's own cost is identical in
 * a measurement and its baseline. */
#ifndef COORDHUB_BENCH_PEER_H
#define COORDHUB_BENCH_PEER_H

#include <stddef.h>
#include <sys/types.h>

enum peer_echo_kind { PEER_ECHO_UNIX, PEER_ECHO_PIPE };

struct peer {
    int wfd;        /* requests are written here */
    int rfd;        /* lines are read from here (may equal wfd) */
    pid_t pid;      /* child serving the other end, or -1 */
    char *buf;      /* owned: bytes read and not yet consumed */
    size_t cap;     /* allocated size of buf */
    size_t start;   /* first unconsumed byte */
    size_t end;     /* one past the last byte read */
    size_t scanned; /* bytes after start already searched for '\n' */
};

/* Connect to a Unix stream socket at path. 0 or -errno; on error p is
 * left closed (peer_close is still safe). */
int peer_connect_unix(struct peer *p, const char *path);

/* Fork a child that copies every byte it reads back to its writer — the
 * cheapest possible server — over a socketpair or a pair of pipes. The
 * child runs on CPU cpu (-1: wherever the bench may run). 0 or -errno. */
int peer_echo(struct peer *p, enum peer_echo_kind kind, int cpu);

/* Start argv[0] (searched in PATH) with stdin and stdout on pipes to p,
 * on CPU cpu (-1: wherever the bench may run); its stderr goes to
 * stderr_path (appended; /dev/null if NULL). The child gets SIGKILL if
 * the bench dies. 0 or -errno. */
int peer_spawn(struct peer *p, char *const argv[], const char *stderr_path, int cpu);

/* Write all of msg. 0 or -errno (EPIPE when the other end is gone). */
int peer_send(struct peer *p, const char *msg, size_t len);

/* The next complete line, without its '\n', valid until the next read.
 * Blocks until one arrives; NULL at EOF or on error. */
const char *peer_read_line(struct peer *p, size_t *len);

/* The next complete line already buffered, or NULL (never reads). */
const char *peer_next_line(struct peer *p, size_t *len);

/* One read() into the buffer: bytes read, 0 at EOF, -errno (-EAGAIN on a
 * non-blocking descriptor with nothing to read). */
ssize_t peer_fill(struct peer *p);

/* Close the descriptors (the child sees EOF), then reap the child: it gets
 * a grace period to exit on its own, then SIGTERM, then SIGKILL. */
void peer_close(struct peer *p);

#endif
