/* Unit tests for http: the pure parts (HOST:PORT parsing with loopback
 * detection, bracketed IPv6, bare ports, refusals; Bearer credentials) and
 * the server on an ephemeral loopback port (routing, credentials, the
 * connection cap and its accounting as connections come and go;
 * pipelined requests answered in order, HEAD, a body with Expect,
 * HTTP/1.0; a held request answered later or whose peer hangs up; a
 * streamed answer followed by the next request; the header and body
 * deadlines). */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>
#include <event2/event.h>

#include "base/clock.h"
#include "net/http.h"

static void test_http__addr_ipv4(void **state)
{
    (void)state;
    struct http_addr a;
    const char *why;
    assert_int_equal(http_addr_parse("127.0.0.1:7420", &a, &why), 0);
    assert_string_equal(a.text, "127.0.0.1:7420");
    assert_int_equal(a.port, 7420);
    assert_true(a.loopback);
    assert_int_equal(http_addr_parse("127.1.2.3:0", &a, &why), 0);
    assert_true(a.loopback);
    assert_int_equal(a.port, 0);
    assert_int_equal(http_addr_parse("0.0.0.0:80", &a, &why), 0);
    assert_false(a.loopback);
    assert_int_equal(http_addr_parse("192.168.1.5:8080", &a, &why), 0);
    assert_false(a.loopback);
    assert_string_equal(a.text, "192.168.1.5:8080");
}

static void test_http__addr_ipv6_localhost_and_bare_port(void **state)
{
    (void)state;
    struct http_addr a;
    const char *why;
    assert_int_equal(http_addr_parse("[::1]:7420", &a, &why), 0);
    assert_true(a.loopback);
    assert_string_equal(a.text, "[::1]:7420");
    assert_int_equal(http_addr_parse("[::]:7420", &a, &why), 0);
    assert_false(a.loopback);
    assert_int_equal(http_addr_parse("localhost:9000", &a, &why), 0);
    assert_string_equal(a.text, "127.0.0.1:9000");
    assert_int_equal(http_addr_parse("8080", &a, &why), 0);
    assert_string_equal(a.text, "127.0.0.1:8080");
    assert_true(a.loopback);
}

static void test_http__addr_refusals(void **state)
{
    (void)state;
    static const char *const bad[] = {
        "",
        "127.0.0.1:",
        "127.0.0.1:65536",
        "127.0.0.1:-1",
        "127.0.0.1:80x",
        ":80",
        "::1:80",
        "[::1]80",
        "[::1",
        "example.com:80",
        "127.0.0.1:123456",
        "300.1.1.1:80",
        "[127.0.0.1]:80",
    };
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        struct http_addr a;
        const char *why = NULL;
        int rc = http_addr_parse(bad[i], &a, &why);
        if (rc != -ERR_INVALID)
            fail_msg("'%s' was accepted", bad[i]);
        assert_non_null(why);
    }
    struct http_addr a;
    const char *why;
    assert_int_equal(http_addr_parse(NULL, &a, &why), -ERR_INVALID);
}

static void test_http__bearer(void **state)
{
    (void)state;
    const char *tok;
    size_t len;
    assert_true(http_bearer_parse("Bearer abc123", &tok, &len));
    assert_int_equal(len, 6);
    assert_memory_equal(tok, "abc123", 6);
    assert_true(http_bearer_parse("bearer   abc  ", &tok, &len));
    assert_int_equal(len, 3);
    assert_memory_equal(tok, "abc", 3);
    assert_true(http_bearer_parse("  BEARER\tx", &tok, &len));
    assert_int_equal(len, 1);
    assert_false(http_bearer_parse("Bearer", &tok, &len));
    assert_false(http_bearer_parse("Bearer   ", &tok, &len));
    assert_false(http_bearer_parse("Basic dXNlcjpwYXNz", &tok, &len));
    assert_false(http_bearer_parse("Bearerabc", &tok, &len));
    assert_false(http_bearer_parse("", &tok, &len));
    assert_false(http_bearer_parse(NULL, &tok, &len));
}

/* ---- the server ---------------------------------------------------------- */

static void ping(void *arg, struct http_request *req, const struct evkeyvalq *query)
{
    (void)arg;
    (void)query;
    http_reply_text(req, 200, "text/plain", "pong", 4);
}

static enum http_auth check_secret(void *arg, const char *cred, size_t len, const void **who)
{
    (void)arg;
    *who = NULL;
    return len == 6 && memcmp(cred, "secret", 6) == 0 ? HTTP_AUTH_ADMIN : HTTP_AUTH_INVALID;
}

/* A held request (/hold): answered later by the test, or its close hook
 * runs when the peer hangs up. */
static struct http_request *held;
static int held_closed;

static void held_gone(void *arg)
{
    (void)arg;
    held_closed++;
    held = NULL;
}

static void hold(void *arg, struct http_request *req, const struct evkeyvalq *query)
{
    (void)arg;
    (void)query;
    held = req;
    http_request_on_close(req, held_gone, NULL);
}

/* A stream (/stream): two pieces, then its end. */
static void stream(void *arg, struct http_request *req, const struct evkeyvalq *query)
{
    (void)arg;
    (void)query;
    http_reply_start(req, 200, 5);
    assert_int_equal(http_reply_chunk(req, "abc", 3), 0);
    assert_int_equal(http_reply_chunk(req, "defgh", 5), 0);
    http_reply_end(req);
}

/* A stream ended later (/stream-late): one piece now, the end when the
 * test says. */
static struct http_request *streaming;

static void stream_late(void *arg, struct http_request *req, const struct evkeyvalq *query)
{
    (void)arg;
    (void)query;
    http_reply_start(req, 200, 5);
    assert_int_equal(http_reply_chunk(req, "xyz", 3), 0);
    streaming = req;
}

/* /echo: the body back, with the header X-Tag. */
static void echo(void *arg, struct http_request *req, const struct evkeyvalq *query)
{
    (void)arg;
    (void)query;
    size_t n;
    const char *body = http_request_body(req, &n);
    const char *tag = http_request_header(req, "x-tag");
    http_request_add_header(req, "X-Tag", tag ? tag : "none");
    http_reply_text(req, 200, "text/plain", body, n);
}

static const struct http_route routes[] = {
    {"/ping", HTTP_METHOD_GET | HTTP_METHOD_HEAD, true, false, ping},
    {"/hold", HTTP_METHOD_GET, true, false, hold},
    {"/stream", HTTP_METHOD_GET, true, false, stream},
    {"/stream-late", HTTP_METHOD_GET, true, false, stream_late},
    {"/echo", HTTP_METHOD_POST, true, false, echo},
    {"/private", HTTP_METHOD_GET | HTTP_METHOD_DELETE, false, false, ping},
    {"/tree/*", HTTP_METHOD_GET, true, false, ping},
};

/* Deadlines for the next server_new (0: the server's defaults). */
static int header_ms, body_ms;

static struct http_server *server_new(struct event_base *base, size_t max_connections)
{
    struct http_config cfg;
    memset(&cfg, 0, sizeof(cfg));
    const char *why;
    assert_int_equal(http_addr_parse("127.0.0.1:0", &cfg.addr, &why), 0);
    cfg.max_body = 1024;
    cfg.max_headers = 8192;
    cfg.max_connections = max_connections;
    cfg.idle_timeout_s = 30;
    cfg.routes = routes;
    cfg.nroutes = sizeof(routes) / sizeof(routes[0]);
    cfg.authorize = check_secret;
    cfg.header_timeout_ms = header_ms;
    cfg.body_timeout_ms = body_ms;
    struct http_server *s = NULL;
    char *err = NULL;
    if (http_server_new(base, &cfg, &s, &err) != 0)
        fail_msg("http_server_new: %s", err ? err : "?");
    assert_int_not_equal(http_server_addr(s)->port, 0);
    return s;
}

/* Run the loop a little (the server and our blocking-free clients share
 * this thread). */
static void spin(struct event_base *base)
{
    for (int i = 0; i < 5; i++) {
        struct timeval tv = {0, 2000};
        event_base_loopexit(base, &tv);
        event_base_dispatch(base);
    }
}

static int client_connect(const struct http_server *s)
{
    const struct http_addr *a = http_server_addr(s);
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    assert_true(fd >= 0);
    assert_int_equal(connect(fd, (const struct sockaddr *)&a->ss, a->len), 0);
    return fd;
}

/* Send a request on fd and return the response's status (0 if the
 * connection closed without one); *closed tells whether the server then
 * closed the connection. */
static int client_request(struct event_base *base, int fd, const char *head, bool *closed)
{
    size_t n = strlen(head);
    assert_int_equal(write(fd, head, n), (ssize_t)n);
    char resp[4096];
    size_t got = 0;
    int64_t deadline = clock_mono_ns() + 5LL * 1000000000;
    *closed = false;
    while (clock_mono_ns() < deadline) {
        spin(base);
        ssize_t r = recv(fd, resp + got, sizeof(resp) - 1 - got, MSG_DONTWAIT);
        if (r == 0) {
            *closed = true;
            break;
        }
        if (r > 0) {
            got += (size_t)r;
            resp[got] = '\0';
            char *body = strstr(resp, "\r\n\r\n");
            const char *cl = strstr(resp, "Content-Length: ");
            if (body && cl && got >= (size_t)(body + 4 - resp) + strtoul(cl + 16, NULL, 10))
                break;
        }
    }
    resp[got] = '\0';
    if (strncmp(resp, "HTTP/1.1 ", 9) != 0)
        return 0;
    if (!*closed) {
        spin(base);
        char c;
        *closed = recv(fd, &c, 1, MSG_DONTWAIT) == 0;
    }
    return (int)strtol(resp + 9, NULL, 10);
}

#define GET(path) "GET " path " HTTP/1.1\r\nHost: t\r\n\r\n"

static void test_http__routing_and_credentials(void **state)
{
    (void)state;
    struct event_base *base = event_base_new();
    struct http_server *s = server_new(base, 16);
    int fd = client_connect(s);
    bool closed;
    assert_int_equal(client_request(base, fd, GET("/ping"), &closed), 200);
    assert_int_equal(client_request(base, fd, GET("/private"), &closed), 401);
    assert_int_equal(client_request(base, fd, GET("/private?token=nope"), &closed), 401);
    assert_int_equal(client_request(base, fd, GET("/private?token=secret"), &closed), 200);
    assert_int_equal(client_request(base, fd,
                                    "GET /private HTTP/1.1\r\nHost: t\r\n"
                                    "Authorization: Bearer secret\r\n\r\n",
                                    &closed),
                     200);
    /* The header wins over the query. */
    assert_int_equal(client_request(base, fd,
                                    "GET /private?token=secret HTTP/1.1\r\nHost: t\r\n"
                                    "Authorization: Bearer nope\r\n\r\n",
                                    &closed),
                     401);
    assert_int_equal(client_request(base, fd, GET("/missing"), &closed), 401);
    assert_int_equal(client_request(base, fd, GET("/missing?token=secret"), &closed), 404);
    assert_int_equal(client_request(base, fd,
                                    "POST /private?token=secret HTTP/1.1\r\nHost: t\r\n"
                                    "Content-Length: 0\r\n\r\n",
                                    &closed),
                     405);
    /* A route ending in slash-asterisk serves the paths under it, not
     * the bare prefix, and keeps its methods. */
    assert_int_equal(client_request(base, fd, GET("/tree/a/b"), &closed), 200);
    assert_int_equal(client_request(base, fd, GET("/tree/x"), &closed), 200);
    assert_int_equal(client_request(base, fd, GET("/tree/?token=secret"), &closed), 404);
    assert_int_equal(client_request(base, fd, GET("/tree?token=secret"), &closed), 404);
    assert_int_equal(client_request(base, fd, GET("/treex/a?token=secret"), &closed), 404);
    assert_int_equal(
        client_request(base, fd, "DELETE /tree/a HTTP/1.1\r\nHost: t\r\n\r\n", &closed), 405);
    assert_int_equal(client_request(base, fd,
                                    "POST /ping HTTP/1.1\r\nHost: t\r\n"
                                    "Content-Length: 2000\r\n\r\n",
                                    &closed),
                     413);
    struct http_stats st;
    http_server_stats(s, &st);
    assert_int_equal(st.unauthorized, 4);
    close(fd);
    http_server_free(s);
    event_base_free(base);
}

static void test_http__connection_cap_and_accounting(void **state)
{
    (void)state;
    struct event_base *base = event_base_new();
    struct http_server *s = server_new(base, 2);
    bool closed;
    int c1 = client_connect(s), c2 = client_connect(s);
    assert_int_equal(client_request(base, c1, GET("/ping"), &closed), 200);
    assert_false(closed); /* kept alive */
    assert_int_equal(client_request(base, c2, GET("/ping"), &closed), 200);
    struct http_stats st;
    http_server_stats(s, &st);
    assert_int_equal(st.connections, 2);
    /* A third connection is refused and closed. */
    int c3 = client_connect(s);
    assert_int_equal(client_request(base, c3, GET("/ping"), &closed), 503);
    assert_true(closed);
    close(c3);
    http_server_stats(s, &st);
    assert_int_equal(st.rejected, 1);
    assert_int_equal(st.connections, 2);
    /* A connection that goes frees its place. */
    close(c1);
    spin(base);
    http_server_stats(s, &st);
    assert_int_equal(st.connections, 1);
    /* Many short connections one after another never leak a place. */
    for (int i = 0; i < 20; i++) {
        int c = client_connect(s);
        assert_int_equal(client_request(base, c, GET("/ping"), &closed), 200);
        close(c);
        spin(base);
    }
    http_server_stats(s, &st);
    assert_int_equal(st.connections, 1);
    assert_int_equal(st.rejected, 1);
    close(c2);
    http_server_free(s);
    event_base_free(base);
}

/* Send text on fd, run the loop, and return everything read within
 * ms (caller frees); *closed when the server closed. */
static char *client_exchange(struct event_base *base, int fd, const char *text, int ms,
                             bool *closed)
{
    if (text)
        assert_int_equal(write(fd, text, strlen(text)), (ssize_t)strlen(text));
    char *all = calloc(1, 65536);
    size_t got = 0;
    *closed = false;
    int64_t deadline = clock_mono_ns() + (int64_t)ms * 1000000;
    while (clock_mono_ns() < deadline && !*closed) {
        spin(base);
        ssize_t r = recv(fd, all + got, 65535 - got, MSG_DONTWAIT);
        if (r == 0)
            *closed = true;
        else if (r > 0)
            got += (size_t)r;
    }
    all[got] = '\0';
    return all;
}

static int count(const char *hay, const char *needle)
{
    int n = 0;
    for (const char *p = strstr(hay, needle); p; p = strstr(p + 1, needle))
        n++;
    return n;
}

static void test_http__pipelined_head_and_body(void **state)
{
    (void)state;
    struct event_base *base = event_base_new();
    struct http_server *s = server_new(base, 16);
    int fd = client_connect(s);
    bool closed;
    /* Three requests in one write: answered in order, the HEAD one with
     * its length and no body, the POST with its body echoed. */
    char *r = client_exchange(base, fd,
                              GET("/ping") "HEAD /ping HTTP/1.1\r\nHost: t\r\n\r\n"
                                           "POST /echo HTTP/1.1\r\nHost: t\r\nX-Tag: seven\r\n"
                                           "Content-Length: 5\r\n\r\nhello",
                              300, &closed);
    assert_false(closed);
    assert_int_equal(count(r, "HTTP/1.1 200 OK\r\n"), 3);
    assert_int_equal(count(r, "Content-Length: 4\r\n"), 2);
    assert_int_equal(count(r, "pong"), 1); /* not for HEAD */
    const char *e = strstr(r, "X-Tag: seven\r\n");
    assert_non_null(e);
    assert_non_null(strstr(e, "\r\n\r\nhello"));
    free(r);
    /* Expect: 100-continue gets its interim answer before the body. */
    r = client_exchange(base, fd,
                        "POST /echo HTTP/1.1\r\nHost: t\r\nExpect: 100-continue\r\n"
                        "Content-Length: 2\r\n\r\n",
                        100, &closed);
    assert_string_equal(r, "HTTP/1.1 100 Continue\r\n\r\n");
    free(r);
    r = client_exchange(base, fd, "ok", 100, &closed);
    assert_non_null(strstr(r, "HTTP/1.1 200 OK\r\n"));
    assert_non_null(strstr(r, "\r\n\r\nok"));
    free(r);
    /* HTTP/1.0 closes after its answer unless it asks to keep alive. */
    r = client_exchange(base, fd, "GET /ping HTTP/1.0\r\n\r\n", 300, &closed);
    assert_true(closed);
    assert_non_null(strstr(r, "HTTP/1.0 200 OK\r\n"));
    assert_non_null(strstr(r, "Connection: close\r\n"));
    free(r);
    close(fd);
    http_server_free(s);
    event_base_free(base);
}

static void test_http__held_and_streamed(void **state)
{
    (void)state;
    struct event_base *base = event_base_new();
    struct http_server *s = server_new(base, 16);
    int fd = client_connect(s);
    bool closed;
    /* Held, then answered: the answer reaches the peer, the connection
     * goes on. */
    char *r = client_exchange(base, fd, GET("/hold"), 100, &closed);
    assert_string_equal(r, "");
    free(r);
    assert_non_null(held);
    http_reply_text(held, 200, "text/plain", "late", 4);
    held = NULL;
    r = client_exchange(base, fd, NULL, 100, &closed);
    assert_non_null(strstr(r, "\r\n\r\nlate"));
    free(r);
    assert_int_equal(held_closed, 0); /* answering removed the hook */
    /* A stream: chunked pieces and the last chunk, then the next request. */
    r = client_exchange(base, fd, GET("/stream"), 100, &closed);
    assert_non_null(strstr(r, "Transfer-Encoding: chunked\r\n"));
    assert_non_null(strstr(r, "\r\n\r\n3\r\nabc\r\n5\r\ndefgh\r\n0\r\n\r\n"));
    free(r);
    r = client_exchange(base, fd, GET("/ping"), 100, &closed);
    assert_non_null(strstr(r, "pong"));
    free(r);
    /* An HTTP/1.0 stream: a plain body to the connection's end. */
    int fd10 = client_connect(s);
    r = client_exchange(base, fd10, "GET /stream HTTP/1.0\r\n\r\n", 300, &closed);
    assert_true(closed);
    assert_null(strstr(r, "chunked"));
    assert_non_null(strstr(r, "\r\n\r\nabcdefgh"));
    free(r);
    close(fd10);
    /* Ended once all of it was written: the connection still closes. */
    fd10 = client_connect(s);
    r = client_exchange(base, fd10, "GET /stream-late HTTP/1.0\r\n\r\n", 100, &closed);
    assert_false(closed);
    assert_non_null(strstr(r, "\r\n\r\nxyz"));
    free(r);
    assert_non_null(streaming);
    http_reply_end(streaming);
    streaming = NULL;
    r = client_exchange(base, fd10, NULL, 300, &closed);
    assert_true(closed);
    free(r);
    close(fd10);
    /* Held, then the peer hangs up: its hook runs at once. */
    r = client_exchange(base, fd, GET("/hold"), 100, &closed);
    free(r);
    assert_non_null(held);
    close(fd);
    spin(base);
    assert_int_equal(held_closed, 1);
    assert_null(held);
    struct http_stats st;
    http_server_stats(s, &st);
    assert_int_equal(st.connections, 0);
    http_server_free(s);
    event_base_free(base);
}

static void test_http__deadlines(void **state)
{
    (void)state;
    header_ms = 200;
    body_ms = 200;
    struct event_base *base = event_base_new();
    struct http_server *s = server_new(base, 16);
    bool closed;
    /* A head that keeps trickling is cut 200 ms after its first byte. */
    int fd = client_connect(s);
    char *r = client_exchange(base, fd, "GET /ping HTTP/1.1\r\n", 120, &closed);
    assert_false(closed);
    free(r);
    r = client_exchange(base, fd, "Host: t\r\n", 300, &closed);
    assert_true(closed);
    assert_non_null(strstr(r, "HTTP/1.1 408 Request Timeout\r\n"));
    assert_non_null(strstr(r, "\"request_timeout\""));
    free(r);
    close(fd);
    /* A connection that sends nothing is closed without an answer. */
    fd = client_connect(s);
    r = client_exchange(base, fd, NULL, 400, &closed);
    assert_true(closed);
    assert_string_equal(r, "");
    free(r);
    close(fd);
    /* A body that does not come in time: 408. */
    fd = client_connect(s);
    r = client_exchange(base, fd, "POST /echo HTTP/1.1\r\nHost: t\r\nContent-Length: 9\r\n\r\nab",
                        400, &closed);
    assert_true(closed);
    assert_non_null(strstr(r, "HTTP/1.1 408 "));
    free(r);
    close(fd);
    /* A keep-alive connection idle between requests is not cut by the
     * header deadline (its idle timeout is 30 s). */
    fd = client_connect(s);
    r = client_exchange(base, fd, GET("/ping"), 100, &closed);
    free(r);
    r = client_exchange(base, fd, NULL, 400, &closed);
    assert_false(closed);
    free(r);
    close(fd);
    struct http_stats st;
    http_server_stats(s, &st);
    assert_int_equal(st.timeouts, 3);
    http_server_free(s);
    event_base_free(base);
    header_ms = body_ms = 0;
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_http__routing_and_credentials),
        cmocka_unit_test(test_http__connection_cap_and_accounting),
        cmocka_unit_test(test_http__pipelined_head_and_body),
        cmocka_unit_test(test_http__held_and_streamed),
        cmocka_unit_test(test_http__deadlines),
        cmocka_unit_test(test_http__addr_ipv4),
        cmocka_unit_test(test_http__addr_ipv6_localhost_and_bare_port),
        cmocka_unit_test(test_http__addr_refusals),
        cmocka_unit_test(test_http__bearer),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
