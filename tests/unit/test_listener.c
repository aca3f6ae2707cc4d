/* Unit tests for listener: accepted descriptors are non-blocking and
 * close-on-exec; out of descriptors the loop pauses instead of spinning,
 * logs a bounded number of lines and accepts again once descriptors are
 * free; the listener can be freed from its callback; bad configs are
 * refused. The descriptor table is filled by lowering RLIMIT_NOFILE in
 * this process (restored after). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <fcntl.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <cmocka.h>
#include <event2/event.h>

#include "base/log.h"
#include "net/listener.h"

struct rec {
    int fds[64];
    int nfds;
    int nonblock;
    int cloexec;
    int family;
    struct listener *free_me; /* freed by the callback when set */
};

static void on_accept(void *arg, int fd, const struct sockaddr *peer, socklen_t len)
{
    struct rec *r = arg;
    assert_true(len >= sizeof(sa_family_t));
    r->family = peer->sa_family;
    if (fcntl(fd, F_GETFL) & O_NONBLOCK)
        r->nonblock++;
    if (fcntl(fd, F_GETFD) & FD_CLOEXEC)
        r->cloexec++;
    if (r->nfds < 64)
        r->fds[r->nfds++] = fd;
    else
        close(fd);
    if (r->free_me) {
        listener_free(r->free_me);
        r->free_me = NULL;
    }
}

static void rec_close(struct rec *r)
{
    for (int i = 0; i < r->nfds; i++)
        close(r->fds[i]);
    r->nfds = 0;
}

/* A listening Unix socket in the abstract namespace (nothing on disk). */
static int listen_unix(struct sockaddr_un *sun, socklen_t *len)
{
    static int seq;
    memset(sun, 0, sizeof(*sun));
    sun->sun_family = AF_UNIX;
    int n = snprintf(sun->sun_path + 1, sizeof(sun->sun_path) - 1, "coordhub-listener-%d-%d",
                     (int)getpid(), seq++);
    *len = (socklen_t)(offsetof(struct sockaddr_un, sun_path) + 1 + (size_t)n);
    int fd = socket(AF_UNIX, SOCK_STREAM, 0);
    assert_true(fd >= 0);
    assert_int_equal(bind(fd, (struct sockaddr *)sun, *len), 0);
    assert_int_equal(listen(fd, 64), 0);
    return fd;
}

static int connect_unix(const struct sockaddr_un *sun, socklen_t len)
{
    int fd = socket(AF_UNIX, SOCK_STREAM, 0);
    assert_true(fd >= 0);
    assert_int_equal(connect(fd, (const struct sockaddr *)sun, len), 0);
    return fd;
}

/* Run the loop for ms milliseconds. */
static void run_for(struct event_base *base, int ms)
{
    struct timeval tv = {.tv_sec = ms / 1000, .tv_usec = (ms % 1000) * 1000};
    event_base_loopexit(base, &tv);
    event_base_dispatch(base);
}

static int count_lines(int fd)
{
    char buf[4096];
    int lines = 0;
    off_t off = 0;
    ssize_t n;
    while ((n = pread(fd, buf, sizeof(buf), off)) > 0) {
        for (ssize_t i = 0; i < n; i++)
            lines += buf[i] == '\n';
        off += n;
    }
    return lines;
}

/* What the descriptor test changed, undone by its teardown even when an
 * assertion failed half-way. */
static struct rlimit saved_limit;
static int filler[1024];
static int nfill;

static int restore_limit(void **state)
{
    (void)state;
    for (int i = 0; i < nfill; i++)
        close(filler[i]);
    nfill = 0;
    return setrlimit(RLIMIT_NOFILE, &saved_limit);
}

static int teardown_limit(void **state)
{
    log_setup(2, LOG_LEVEL_INFO);
    return restore_limit(state);
}

static void test_listener__accepts_nonblocking_cloexec(void **state)
{
    (void)state;
    struct event_base *base = event_base_new();
    struct sockaddr_un sun;
    socklen_t len;
    int lfd = listen_unix(&sun, &len);
    struct rec r = {0};
    struct listener *l = NULL;
    const struct listener_config cfg = {.what = "test", .pause_ms = 50, .log_interval_ms = 1000};
    assert_int_equal(listener_new(base, lfd, &cfg, on_accept, &r, &l), 0);
    assert_int_equal(listener_fd(l), lfd);
    int c[3];
    for (int i = 0; i < 3; i++)
        c[i] = connect_unix(&sun, len);
    run_for(base, 50);
    assert_int_equal(r.nfds, 3);
    assert_int_equal(r.nonblock, 3);
    assert_int_equal(r.cloexec, 3);
    assert_int_equal(r.family, AF_UNIX);
    struct listener_stats st;
    listener_stats(l, &st);
    assert_int_equal(st.accepted, 3);
    assert_int_equal(st.failures, 0);
    assert_false(st.paused);
    for (int i = 0; i < 3; i++)
        close(c[i]);
    rec_close(&r);
    listener_free(l);
    event_base_free(base);
}

/* The table full: the listener pauses between tries (a bounded number of
 * failed accept calls and of log lines over the window), and accepts the
 * waiting connections once descriptors are free. */
static void test_listener__out_of_descriptors_pauses(void **state)
{
    (void)state;
    assert_int_equal(getrlimit(RLIMIT_NOFILE, &saved_limit), 0);
    char logpath[] = "/tmp/coordhub-listener-log-XXXXXX";
    int logfd = mkstemp(logpath);
    assert_true(logfd >= 0);
    unlink(logpath);
    log_setup(logfd, LOG_LEVEL_INFO);

    struct event_base *base = event_base_new();
    struct sockaddr_un sun;
    socklen_t len;
    int lfd = listen_unix(&sun, &len);
    struct rec r = {0};
    struct listener *l = NULL;
    const int pause_ms = 50, interval_ms = 200, window_ms = 600;
    const struct listener_config cfg = {
        .what = "test", .pause_ms = pause_ms, .log_interval_ms = interval_ms};
    assert_int_equal(listener_new(base, lfd, &cfg, on_accept, &r, &l), 0);
    int c[6];
    for (int i = 0; i < 4; i++)
        c[i] = connect_unix(&sun, len);

    /* Fill every descriptor the (lowered) limit allows. */
    struct rlimit low = saved_limit;
    low.rlim_cur = 128;
    if (low.rlim_max != RLIM_INFINITY && low.rlim_max < low.rlim_cur)
        low.rlim_cur = low.rlim_max;
    assert_int_equal(setrlimit(RLIMIT_NOFILE, &low), 0);
    int fd;
    while (nfill < 1024 && (fd = open("/dev/null", O_RDONLY | O_CLOEXEC)) >= 0)
        filler[nfill++] = fd;
    assert_true(nfill < 1024);

    run_for(base, window_ms);
    struct listener_stats st;
    listener_stats(l, &st);
    assert_int_equal(r.nfds, 0);
    assert_int_equal(st.accepted, 0);
    assert_true(st.failures >= 1);
    /* One failed accept per pause, not a spin: at most window/pause plus
     * slack for timer rounding. */
    assert_true(st.failures <= (uint64_t)(window_ms / pause_ms + 4));
    assert_int_equal(st.pauses, st.failures);
    /* The first failure, then at most one line per interval. */
    int lines = count_lines(logfd);
    assert_true(lines >= 1);
    assert_true(lines <= 1 + window_ms / interval_ms + 1);

    /* Descriptors free again: the waiting connections and new ones are
     * accepted, within a few pauses (more under valgrind, which runs
     * slowly). Valgrind keeps its own soft limit: there the kernel's
     * accept succeeded and valgrind closed the descriptor past its limit,
     * so the connections waiting during the window are gone and only the
     * new ones count. */
    assert_int_equal(restore_limit(NULL), 0);
    for (int i = 4; i < 6; i++)
        c[i] = connect_unix(&sun, len);
    const char *preload = getenv("LD_PRELOAD");
    int want = preload && strstr(preload, "vgpreload") ? 2 : 6;
    for (int i = 0; i < 100 && r.nfds < want; i++)
        run_for(base, pause_ms);
    listener_stats(l, &st);
    assert_true(r.nfds >= want);
    assert_int_equal(st.accepted, (uint64_t)r.nfds);
    assert_false(st.paused);
    /* A quiet interval ends the episode with a notice. */
    char buf[8192] = {0};
    for (int i = 0; i < 50 && !strstr(buf, "accepting connections again"); i++) {
        run_for(base, interval_ms);
        assert_true(pread(logfd, buf, sizeof(buf) - 1, 0) > 0);
    }
    assert_non_null(strstr(buf, "test: accept failed: Too many open files; paused 50 ms"));
    assert_non_null(strstr(buf, "test: accepting connections again"));

    close(logfd);
    for (int i = 0; i < 6; i++)
        close(c[i]);
    rec_close(&r);
    listener_free(l);
    event_base_free(base);
}

static void test_listener__free_from_callback(void **state)
{
    (void)state;
    struct event_base *base = event_base_new();
    struct sockaddr_un sun;
    socklen_t len;
    int lfd = listen_unix(&sun, &len);
    struct rec r = {0};
    struct listener *l = NULL;
    const struct listener_config cfg = {.what = "test", .pause_ms = 50, .log_interval_ms = 1000};
    assert_int_equal(listener_new(base, lfd, &cfg, on_accept, &r, &l), 0);
    r.free_me = l;
    int c1 = connect_unix(&sun, len);
    int c2 = connect_unix(&sun, len);
    run_for(base, 50);
    /* The first connection freed the listener: the batch stopped there
     * and the listening socket is closed. */
    assert_int_equal(r.nfds, 1);
    assert_int_equal(fcntl(lfd, F_GETFD), -1);
    close(c1);
    close(c2);
    rec_close(&r);
    event_base_free(base);
}

static void test_listener__bad_config(void **state)
{
    (void)state;
    struct event_base *base = event_base_new();
    struct sockaddr_un sun;
    socklen_t len;
    struct rec r = {0};
    struct listener *l = (struct listener *)&r;
    int lfd = listen_unix(&sun, &len);
    const struct listener_config no_pause = {.what = "t", .pause_ms = 0, .log_interval_ms = 10};
    assert_int_equal(listener_new(base, lfd, &no_pause, on_accept, &r, &l), -ERR_INVALID);
    assert_null(l);
    assert_int_equal(fcntl(lfd, F_GETFD), -1); /* taken: closed */
    lfd = listen_unix(&sun, &len);
    const struct listener_config no_log = {.what = "t", .pause_ms = 10, .log_interval_ms = 0};
    assert_int_equal(listener_new(base, lfd, &no_log, on_accept, &r, &l), -ERR_INVALID);
    assert_int_equal(fcntl(lfd, F_GETFD), -1);
    event_base_free(base);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_listener__accepts_nonblocking_cloexec),
        cmocka_unit_test_teardown(test_listener__out_of_descriptors_pauses, teardown_limit),
        cmocka_unit_test(test_listener__free_from_callback),
        cmocka_unit_test(test_listener__bad_config),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
