/* hub_http — the hub's side of the HTTP face (src/api): where it listens,
 * what it tells the user, and how the face reads the hub.
 *
 * Address: --http ADDR:PORT, else env COORDHUB_HTTP, else 127.0.0.1:7420;
 * --no-http turns the face off. One hub runs per repository and test
 * suites start dozens at once, so the default port is often taken: when
 * the *default* cannot be bound the hub warns and runs without HTTP (its
 * Unix socket is the primary face), but an address the user chose that
 * cannot be served is a start-up error. Asking for TLS (--tls-cert and
 * --tls-key, or COORDHUB_TLS_CERT/COORDHUB_TLS_KEY) is such a choice too:
 * a hub told to speak HTTPS never quietly runs without it.
 *
 * A non-loopback address is served only when API keys exist (docs/security.md):
 * at start the hub asks its key store whether any unrevoked key exists
 * (keys_any_active); without TLS such an address is served with a loud
 * warning.
 *
 * The bound address is written to <state-dir>/http.addr ("127.0.0.1:7420",
 * the kernel's port when 0 was asked; "https://127.0.0.1:7420" when TLS is
 * on, so a reader that prepends "http://" fails loudly instead of speaking
 * plain HTTP to a TLS port) so tests and scripts can find the face; it is
 * removed at shutdown, and a stale one from a crashed hub is removed at
 * start. The admin token is read from <state-dir>/token; it is
 * printed only in the URL on a foreground hub's stdout, never logged. */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "api/api.h"
#include "auth/keys.h"
#include "auth/token.h"
#include "app/hub_http.h"
#include "app/hub_mcp_http.h"
#include "app/hub_rest.h"
#include "app/hub_store.h"
#include "app/hub_tools.h"
#include "app/options.h"
#include "base/clock.h"
#include "base/log.h"
#include "base/xmalloc.h"
#include "net/listener.h"
#include "store/store.h"

#ifndef COORDHUB_VERSION
#define COORDHUB_VERSION "0.0.0"
#endif

#define HUB_HTTP_DEFAULT "127.0.0.1:7420"

/* The admin token (caller frees), or NULL if the file is missing/empty. */
static char *hub_http_read_token(struct hub *h)
{
    char *path = options_state_path(h->opt, "token");
    char *token = NULL;
    if (token_file_read(path, &token) != 0)
        token = NULL;
    free(path);
    return token;
}

static cJSON *hub_http_status(void *arg)
{
    return hub_resource_read(arg, "coord://status");
}

/* /healthz while the store is away: what get_unified_health says of it,
 * without the figures a caller without a credential need not see. */
static cJSON *hub_http_store_down(void *arg)
{
    struct hub *h = arg;
    if (!h->store_stale)
        return NULL;
    cJSON *full = hub_health_json(h);
    const cJSON *st = cJSON_GetObjectItemCaseSensitive(full, "store");
    cJSON *o = cJSON_CreateObject();
    static const char *const keep[] = {"status", "backend", "reason", "since", "staleReads"};
    for (size_t i = 0; i < sizeof(keep) / sizeof(keep[0]); i++) {
        const cJSON *v = cJSON_GetObjectItemCaseSensitive(st, keep[i]);
        if (v)
            cJSON_AddItemToObject(o, keep[i], cJSON_Duplicate(v, 1));
    }
    cJSON_Delete(full);
    return o;
}

static void hub_http_stats(void *arg, struct metrics_hub *m)
{
    struct hub *h = arg;
    struct workspace_stats ws;
    workspace_stats_get(h->ws, &ws);
    *m = h->metrics; /* counters and histograms measured as they happen */
    m->store_last_seq = h->committed_seq;
    m->store_first_seq = h->first_seq;
    m->loop_lag_seconds = h->loop_lag_ms / 1000.0;
    m->uptime_seconds = (double)(clock_wall_ms() - h->started_ms) / 1000.0;
    m->sessions = h->sessions.count;
    m->socket_pending = h->sessions.npending;
    if (h->sessions.listener) {
        struct listener_stats ls;
        listener_stats(h->sessions.listener, &ls);
        m->socket_accept_failures_total = ls.failures;
    }
    m->agents = ws.agents;
    m->agents_active = ws.agents_active;
    m->leases = ws.leases;
    m->lock_waiters = ws.waiters;
    m->tasks_open = ws.tasks_open;
    m->tasks_claimed = ws.tasks_claimed;
    m->lock_granted_total = ws.lock_granted;
    m->lock_contended_total = ws.lock_contended;
    m->lock_expired_total = ws.lock_expired;
    m->publish_reserved_total = ws.publish_reserved;
    if (h->store->ops->caps.ingests) {
        struct store_ingest_stats st;
        h->store->ops->ingest_stats(h->store, &st);
        m->foreign.ingested = st.ingested;
        m->foreign.duplicate = st.duplicate;
        m->foreign.ignored = st.ignored;
        m->foreign.invalid = st.invalid;
        m->foreign.reserved = st.reserved;
        m->foreign.failed = st.failed;
    }
}

/* Write <state-dir>/http.addr atomically (temp file + rename). */
static int hub_http_write_addr(struct hub *h, const char *addr)
{
    char *path = options_state_path(h->opt, "http.addr");
    char *tmp = options_state_path(h->opt, "http.addr.tmp");
    int rc = 0;
    int fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
    if (fd < 0) {
        rc = -errno;
        goto out;
    }
    char line[96];
    int n = snprintf(line, sizeof(line), "%s\n", addr);
    if (n < 0 || (size_t)n >= sizeof(line) || write(fd, line, (size_t)n) != n) {
        rc = -EIO;
        close(fd);
        unlink(tmp);
        goto out;
    }
    close(fd);
    if (rename(tmp, path) != 0) {
        rc = -errno;
        unlink(tmp);
    }
out:
    free(path);
    free(tmp);
    return rc;
}

int hub_http_start(struct hub *h)
{
    const struct options *o = h->opt;
    char *addr_path = options_state_path(o, "http.addr");
    unlink(addr_path); /* a stale one from a hub that died */
    free(addr_path);
    if (o->no_http) {
        log_info("HTTP face disabled (--no-http)");
        return 0;
    }
    /* o->http is --http, or COORDHUB_HTTP (options_init): both are choices;
     * so is asking for TLS. */
    bool chosen = o->http != NULL || o->tls_cert != NULL || o->tls_key != NULL;
    const char *addr = o->http ? o->http : HUB_HTTP_DEFAULT;
    char *errmsg = NULL;
    char *token = hub_http_read_token(h);
    struct api_config cfg = {
        .addr = addr,
        .tls_cert = o->tls_cert,
        .tls_key = o->tls_key,
        .remote_allowed = keys_any_active(h->keys), /* docs/security.md: keys must exist */
        .token = token,
        .keys = h->keys,
        .bus = h->bus,
        .store = h->store,
        .workspace = o->workspace,
        .version = COORDHUB_VERSION,
        /* Tests use short ones (docs/operations.md, "Sizing the HTTP caps"). */
        .sse_heartbeat_ms = options_env_int("COORDHUB_SSE_HEARTBEAT_MS", 10, 3600000, 0, NULL),
        .header_timeout_ms =
            (int)options_env_int("COORDHUB_HTTP_HEADER_TIMEOUT_MS", 100, 600000, 0, NULL),
        .max_connections = h->http_max_connections,
        .sse_max_clients = h->sse_max_clients,
        .host = {.arg = h,
                 .status = hub_http_status,
                 .store_down = hub_http_store_down,
                 .stats = hub_http_stats,
                 .call = hub_rest_call,
                 .cancel = hub_rest_cancel},
    };
    hub_rest_start(h);
    hub_mcp_http_config(h, &cfg);
    int rc = token ? api_new(h->base, &cfg, &h->api, &errmsg) : -ERR_INVALID;
    if (!token)
        errmsg = xstrdup("the admin token file (<state-dir>/token) is missing or empty");
    if (rc) {
        if (chosen) {
            fprintf(stderr, "coordhub: HTTP: %s\n", errmsg);
            log_error("HTTP: %s", errmsg);
        } else {
            log_warn("HTTP: %s; running without the HTTP face (choose another address with "
                     "--http 127.0.0.1:PORT, port 0 for any free one; --no-http to silence this)",
                     errmsg);
            rc = 0;
        }
        free(errmsg);
        free(token);
        hub_rest_stop(h);
        return rc;
    }
    const char *bound = api_address(h->api);
    const char *scheme = api_scheme(h->api);
    if (api_insecure(h->api)) {
        fprintf(stderr,
                "coordhub: WARNING: HTTP on %s without TLS: tokens, keys and all data cross the "
                "network in clear text; give --tls-cert FILE --tls-key FILE\n",
                bound);
        log_warn("HTTP on a non-loopback address (%s) without TLS: credentials and data cross "
                 "the network in clear text; give --tls-cert FILE --tls-key FILE",
                 bound);
    }
    char line[96];
    snprintf(line, sizeof(line), "%s%s", strcmp(scheme, "https") == 0 ? "https://" : "", bound);
    int wrc = hub_http_write_addr(h, line);
    if (wrc)
        log_warn("cannot write %s/http.addr: %s", o->state_dir, coordhub_strerror(wrc));
    else
        h->http_addr_written = true;
    log_info("HTTP on %s://%s/ (admin token in %s/token)", scheme, bound, o->state_dir);
    h->http_token = token;
    return 0;
}

void hub_http_announce(struct hub *h, FILE *out)
{
    if (!h->api)
        return;
    fprintf(out, "coordhub: %s://%s/?token=%s\n", api_scheme(h->api), api_address(h->api),
            h->http_token);
}

void hub_http_stop(struct hub *h)
{
    if (h->http_addr_written) {
        char *path = options_state_path(h->opt, "http.addr");
        unlink(path);
        free(path);
        h->http_addr_written = false;
    }
    api_free(h->api); /* first: no answer may reach a freed face */
    h->api = NULL;
    hub_rest_stop(h);
    free(h->http_token);
    h->http_token = NULL;
}
