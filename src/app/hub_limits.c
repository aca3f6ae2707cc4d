/* hub_limits — the hub's descriptor budget (docs/operations.md,
 * "Descriptors").
 *
 * At start the soft RLIMIT_NOFILE is raised toward the hard limit (at
 * most FDLIMIT_CEILING) and logged. Then the caps that hold descriptors
 * are fitted inside it, after HUB_FD_RESERVE for the hub itself and
 * HUB_FD_OVERFLOW for connections accepted past a cap only to be
 * refused: the socket's sessions (HUB_SOCKET_SESSION_FDS each: an
 * attached session holds the IDE's stdin and stdout besides the socket),
 * its pending connections, and the HTTP connections; /events streams are
 * HTTP connections, and at most half of them. If the defaults do not fit,
 * the caps are scaled down (net/fdlimit.c shares fairly) and what they
 * became is logged. With the caps inside the limit accept() does not run
 * out of descriptors in normal running; the listener's pause is the last
 * line of defence. Invariant: sock_admin_reserve < sock_max_sessions when
 * the cap is at least 2. */
#include <string.h>

#include "api/api.h"
#include "app/hub_limits.h"
#include "app/options.h"
#include "base/log.h"
#include "net/fdlimit.h"

#define HUB_SOCKET_MIN_SESSIONS 8
#define HUB_SOCKET_MIN_PENDING 8
#define HUB_HTTP_MIN_CONNECTIONS 16

static size_t hub_limits_min(size_t a, size_t b)
{
    return a < b ? a : b;
}

void hub_fit_caps(struct hub *h)
{
    size_t before = 0, limit = 0;
    int rc = fdlimit_raise(FDLIMIT_CEILING, &before, &limit);
    if (rc)
        log_warn("open files: %zu; cannot raise the soft limit: %s", before, strerror(-rc));
    else if (limit != before)
        log_info("open files: %zu → %zu", before, limit);
    else
        log_info("open files: %zu (the hard limit, or above %d)", limit, FDLIMIT_CEILING);

    size_t want_sessions = (size_t)options_env_int("COORDHUB_SOCKET_MAX_SESSIONS", 1,
                                                   HUB_MAX_SESSIONS, HUB_MAX_SESSIONS, NULL);
    h->sessions.first_line_ms =
        options_env_int("COORDHUB_FIRST_LINE_MS", 10, 600000, HUB_FIRST_LINE_MS, NULL);
    /* The HTTP server's own test knob sets the cap it wants; it is fitted
     * like the default. */
    size_t want_http = (size_t)options_env_int("COORDHUB_HTTP_MAX_CONNECTIONS", 16, 1000000,
                                               API_MAX_CONNECTIONS, NULL);
    struct fdlimit_share sh[] = {
        {.what = "socket sessions",
         .want = want_sessions,
         .cost = HUB_SOCKET_SESSION_FDS,
         .min = hub_limits_min(want_sessions, HUB_SOCKET_MIN_SESSIONS)},
        {.what = "socket connections awaiting their first line",
         .want = HUB_SOCKET_MAX_PENDING,
         .cost = 1,
         .min = HUB_SOCKET_MIN_PENDING},
        {.what = "HTTP connections", .want = want_http, .cost = 1, .min = HUB_HTTP_MIN_CONNECTIONS},
    };
    bool scaled = fdlimit_fit(limit, HUB_FD_RESERVE + HUB_FD_OVERFLOW, sh, 3);
    h->sessions.sock_max_sessions = sh[0].got;
    h->sessions.sock_max_pending = sh[1].got;
    h->http_max_connections = sh[2].got;
    /* Streams never take more than half the connections: requests, and
     * /healthz, still get in. */
    h->sse_max_clients = hub_limits_min(API_SSE_MAX_CLIENTS, h->http_max_connections / 2);
    h->sessions.sock_admin_reserve =
        hub_limits_min(HUB_SOCKET_ADMIN_RESERVE, h->sessions.sock_max_sessions / 4
                                                     ? h->sessions.sock_max_sessions / 4
                                                     : h->sessions.sock_max_sessions / 2);
    if (scaled)
        log_warn("open files: %zu are too few for the default caps; scaled down to %zu socket "
                 "sessions (of %zu), %zu pending socket connections (of %d), %zu HTTP "
                 "connections (of %zu), %zu /events streams (of %d); raise the hard limit "
                 "(ulimit -Hn, LimitNOFILE=) to serve more",
                 limit, h->sessions.sock_max_sessions, want_sessions, h->sessions.sock_max_pending,
                 HUB_SOCKET_MAX_PENDING, h->http_max_connections, want_http, h->sse_max_clients,
                 API_SSE_MAX_CLIENTS);
    log_info("caps: %zu socket sessions (%zu kept for the admin token), %zu pending socket "
             "connections (first line within %lld ms), %zu HTTP connections, %zu /events streams",
             h->sessions.sock_max_sessions, h->sessions.sock_admin_reserve,
             h->sessions.sock_max_pending, (long long)h->sessions.first_line_ms,
             h->http_max_connections, h->sse_max_clients);
}
