/* hub_mcp_http — the hub's side of Streamable HTTP MCP (src/api/mcp_http).
 *
 * An HTTP MCP session is an ordinary hub session without a line
 * connection: its engine's output goes to the HTTP transport
 * (hub_session.c's send checks `http`), it registers its agent implicitly
 * like a socket session, it is never admin, and when the transport ends it
 * (DELETE, idle timeout, teardown, its key revoked) it closes like a
 * socket whose peer left: its lock and event waits are cancelled and its
 * agent is detached. A session opened with an API key keeps the key: its
 * calls stay within the key's rights (hub_keys.c). */
#define _GNU_SOURCE
#include "app/hub_mcp_http.h"

#include "api/api.h"
#include "api/mcp_http.h"
#include "app/hub_session.h"
#include "app/options.h"
#include "base/log.h"
#include "rpc/mcp.h"

/* The "mcp-http" kind: messages go to the session's HTTP transport. */
static void hub_mcp_http_send(struct hub_session *s, const char *msg, size_t len)
{
    if (s->http)
        mcp_http_session_send(s->http, msg, len);
}

static const struct hub_session_kind hub_mcp_http_kind = {
    .name = "mcp-http",
    .send = hub_mcp_http_send,
};

static void *hub_mcp_http_open(void *arg, struct mcp_http_session *hs, const void *principal)
{
    struct hub *h = arg;
    if (h->stopping || h->sessions.count >= HUB_MAX_SESSIONS)
        return NULL;
    struct hub_session *s =
        hub_session_new(&h->sessions, &hub_mcp_http_kind, HUB_AS_AGENT, true, 0);
    s->http = hs;
    s->key = principal; /* the face passes the API key, NULL for the admin token */
    log_debug("session %llu: MCP over HTTP", (unsigned long long)s->id);
    return s;
}

static void hub_mcp_http_handle(void *arg, void *sess, const char *msg, size_t len)
{
    struct hub_session *s = sess;
    (void)arg;
    mcp_session_handle(s->mcp, msg, len);
}

static void hub_mcp_http_close(void *arg, void *sess)
{
    struct hub_session *s = sess;
    (void)arg;
    s->http = NULL; /* nothing more reaches the transport */
    hub_session_close(s);
}

void hub_mcp_http_config(struct hub *h, struct api_config *cfg)
{
    cfg->mcp.arg = h;
    cfg->mcp.open = hub_mcp_http_open;
    cfg->mcp.handle = hub_mcp_http_handle;
    cfg->mcp.close = hub_mcp_http_close;
    /* COORDHUB_MCP_IDLE_MS: 10 ms to 24 h. */
    cfg->mcp_idle_ms = options_env_int("COORDHUB_MCP_IDLE_MS", 10, 86400000, 0, " (ms)");
    /* Session quotas (docs/configuration.md); the transport keeps them
     * consistent (mcp_http.h). */
    cfg->mcp_max_sessions =
        (size_t)options_env_int("COORDHUB_MCP_MAX_SESSIONS", 2, HUB_MAX_SESSIONS, 0, NULL);
    cfg->mcp_key_sessions =
        (size_t)options_env_int("COORDHUB_MCP_KEY_SESSIONS", 1, HUB_MAX_SESSIONS, 0, NULL);
    cfg->mcp_reserved_sessions =
        (size_t)options_env_int("COORDHUB_MCP_RESERVED_SESSIONS", 1, HUB_MAX_SESSIONS - 1, 0, NULL);
}
