/* Unit tests for lineconn: framing over a socketpair, pre-read bytes,
 * oversize lines, EOF, split input/output descriptors. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cmocka.h>
#include <event2/event.h>

#include "net/lineconn.h"

struct rec {
    char lines[8][128];
    int nlines;
    int oversize;
    int closed;
    int close_err;
    struct event_base *base;
};

static void on_line(void *arg, const char *line, size_t len)
{
    struct rec *r = arg;
    assert_true(len < sizeof(r->lines[0]));
    memcpy(r->lines[r->nlines], line, len);
    r->lines[r->nlines][len] = '\0';
    r->nlines++;
}

static void on_oversize(void *arg)
{
    ((struct rec *)arg)->oversize++;
}

static void on_closed(void *arg, int err)
{
    struct rec *r = arg;
    r->closed++;
    r->close_err = err;
    event_base_loopbreak(r->base);
}

static const struct lineconn_cbs cbs = {on_line, on_oversize, on_closed};

static void pump(struct event_base *base)
{
    for (int i = 0; i < 20; i++)
        event_base_loop(base, EVLOOP_NONBLOCK);
}

static void test_lineconn__feed_and_read_lines(void **state)
{
    (void)state;
    int sv[2];
    assert_int_equal(socketpair(AF_UNIX, SOCK_STREAM, 0, sv), 0);
    struct event_base *base = event_base_new();
    struct rec r = {.base = base};
    struct lineconn *c = lineconn_new(base, sv[0], sv[0], 64, 1024, &cbs, &r);
    lineconn_feed(c, "one\ntw", 6);
    assert_int_equal(r.nlines, 1);
    assert_string_equal(r.lines[0], "one");
    assert_int_equal(write(sv[1], "o\r\nthree\n", 9), 9);
    pump(base);
    assert_int_equal(r.nlines, 3);
    assert_string_equal(r.lines[1], "two");
    assert_string_equal(r.lines[2], "three");
    assert_int_equal(lineconn_send(c, "reply", 5), 0);
    pump(base);
    char buf[16] = {0};
    assert_int_equal(read(sv[1], buf, sizeof(buf)), 6);
    assert_string_equal(buf, "reply\n");
    close(sv[1]);
    event_base_dispatch(base);
    assert_int_equal(r.closed, 1);
    assert_int_equal(r.close_err, 0);
    assert_int_equal(lineconn_send(c, "late", 4), -ERR_STATE);
    lineconn_free(c);
    event_base_free(base);
}

static void test_lineconn__oversize_line_is_skipped(void **state)
{
    (void)state;
    int sv[2];
    assert_int_equal(socketpair(AF_UNIX, SOCK_STREAM, 0, sv), 0);
    struct event_base *base = event_base_new();
    struct rec r = {.base = base};
    struct lineconn *c = lineconn_new(base, sv[0], sv[0], 16, 1024, &cbs, &r);
    char big[200];
    memset(big, 'x', sizeof(big));
    assert_int_equal(write(sv[1], big, sizeof(big)), (ssize_t)sizeof(big));
    assert_int_equal(write(sv[1], big, sizeof(big)), (ssize_t)sizeof(big));
    assert_int_equal(write(sv[1], "\nok\n", 4), 4);
    pump(base);
    assert_int_equal(r.oversize, 1);
    assert_int_equal(r.nlines, 1);
    assert_string_equal(r.lines[0], "ok");
    lineconn_free(c);
    close(sv[1]);
    event_base_free(base);
}

static void test_lineconn__output_cap(void **state)
{
    (void)state;
    int sv[2];
    assert_int_equal(socketpair(AF_UNIX, SOCK_STREAM, 0, sv), 0);
    struct event_base *base = event_base_new();
    struct rec r = {.base = base};
    const size_t cap = 256 * 1024;
    struct lineconn *c = lineconn_new(base, sv[0], sv[0], 16, cap, &cbs, &r);
    /* The first message goes straight to the socket; once the peer stops
     * reading, the rest queues until the cap refuses more. */
    static char chunk[32 * 1024];
    memset(chunk, 'y', sizeof(chunk));
    int rc = 0;
    size_t sent = 0;
    while (rc == 0 && sent < 64 * 1024 * 1024) {
        rc = lineconn_send(c, chunk, sizeof(chunk));
        sent += sizeof(chunk);
    }
    assert_int_equal(rc, -ERR_TOO_LARGE);
    assert_true(lineconn_backlog(c) <= cap);
    assert_true(lineconn_backlog(c) + sizeof(chunk) + 1 > cap);
    /* Refusal leaves the queue as it was. */
    size_t before = lineconn_backlog(c);
    assert_int_equal(lineconn_send(c, chunk, sizeof(chunk)), -ERR_TOO_LARGE);
    assert_int_equal(lineconn_backlog(c), before);
    lineconn_free(c);
    close(sv[1]);
    event_base_free(base);
}

static void test_lineconn__split_descriptors(void **state)
{
    (void)state;
    int in[2], out[2];
    assert_int_equal(pipe(in), 0);
    assert_int_equal(pipe(out), 0);
    struct event_base *base = event_base_new();
    struct rec r = {.base = base};
    struct lineconn *c = lineconn_new(base, in[0], out[1], 64, 1024, &cbs, &r);
    assert_int_equal(write(in[1], "ping\n", 5), 5);
    pump(base);
    assert_int_equal(r.nlines, 1);
    assert_int_equal(lineconn_send(c, "pong", 4), 0);
    pump(base);
    char buf[8] = {0};
    assert_int_equal(read(out[0], buf, sizeof(buf)), 5);
    assert_string_equal(buf, "pong\n");
    close(in[1]);
    event_base_dispatch(base);
    assert_int_equal(r.closed, 1);
    lineconn_free(c);
    close(out[0]);
    event_base_free(base);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_lineconn__feed_and_read_lines),
        cmocka_unit_test(test_lineconn__oversize_line_is_skipped),
        cmocka_unit_test(test_lineconn__output_cap),
        cmocka_unit_test(test_lineconn__split_descriptors),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
