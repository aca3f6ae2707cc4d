/* lineconn — a newline-delimited message connection on the libevent loop.
 *
 * Input and output may be different descriptors (an IDE's stdin and stdout
 * handed over by the bridge) or the same socket. Lines longer than the cap
 * are discarded up to their newline and reported through `oversize`, so a
 * peer cannot make the hub buffer more than the cap. Output is queued and
 * written as the peer drains it; past the output cap, lineconn_send()
 * fails and the caller should drop the connection (a slow consumer never
 * blocks the loop). Callbacks may free the connection: the free is then
 * deferred until the callback returns. */
#ifndef COORDHUB_NET_LINECONN_H
#define COORDHUB_NET_LINECONN_H

#include <stddef.h>

#include "base/err.h"

struct event_base;
struct lineconn;

struct lineconn_cbs {
    /* One complete line, without its "\n" (and without a trailing "\r"). */
    void (*line)(void *arg, const char *line, size_t len);
    /* A line exceeded the cap and is being discarded. */
    void (*oversize)(void *arg);
    /* Input reached EOF (err 0) or a read/write error happened (-errno).
     * Called once; the owner should free the connection. */
    void (*closed)(void *arg, int err);
};

/* Wrap in_fd/out_fd (made non-blocking; owned: closed on free, once if
 * equal). Never NULL. */
struct lineconn *lineconn_new(struct event_base *base, int in_fd, int out_fd, size_t max_line,
                              size_t max_out, const struct lineconn_cbs *cbs, void *arg);
/* Free; NULL ok. Deferred if called from inside one of its callbacks. */
void lineconn_free(struct lineconn *c);
/* Process bytes that were read before the connection existed. */
void lineconn_feed(struct lineconn *c, const char *data, size_t len);
/* Queue msg plus "\n". -ERR_TOO_LARGE if the output backlog passed its cap,
 * -ERR_STATE if the connection is closing. */
COORDHUB_MUST_CHECK int lineconn_send(struct lineconn *c, const char *msg, size_t len);
/* Call drained(arg) once the output queue is empty (now, from the next
 * loop turn, if it already is). NULL cancels. */
void lineconn_on_drained(struct lineconn *c, void (*drained)(void *arg));
/* Write as much queued output as the descriptor takes right now, without
 * waiting, for a last message before the connection is freed: afterwards
 * the connection sends nothing more (lineconn_send fails). */
void lineconn_flush_now(struct lineconn *c);
/* Bytes queued for output and not yet written. */
size_t lineconn_backlog(const struct lineconn *c);

#endif
