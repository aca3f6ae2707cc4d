/* mcp_roots — the client's MCP roots, asked for with roots/list.
 *
 * A host that resolves paths against the client's roots calls
 * mcp_session_request_roots() once the session is initialised. When the
 * client declared the `roots` capability the engine sends roots/list and,
 * from then on, again on every notifications/roots/list_changed. While a
 * roots/list is unanswered, tools/call requests are registered (so they
 * can be cancelled and batches count them) but held: their paths depend on
 * the answer. The answer reaches the host's roots_listed() first, then the
 * held calls go to the host oldest first. A client that never answers is
 * released by the host's mcp_session_roots_give_up() (it arms a timer on
 * roots_requested()); a late answer is still applied.
 *
 * Invariants: at most one roots/list in flight (a list_changed meanwhile
 * asks once more after it); held calls are released exactly when no
 * roots/list is in flight. */
#include "rpc/mcp.h"

#include "base/json.h"
#include "rpc/mcp_internal.h"

static void roots_ask(struct mcp_session *s);

static void roots_answer(struct mcp_session *s, const cJSON *result, const cJSON *error)
{
    s->roots_inflight = false;
    const cJSON *roots = cJSON_GetObjectItemCaseSensitive(result, "roots");
    if (error || !cJSON_IsArray(roots))
        roots = NULL;
    s->ops->roots_listed(s->host, s, roots);
    if (s->roots_again) {
        s->roots_again = false;
        roots_ask(s);
    }
    if (!s->roots_inflight)
        mcp__calls_release(s);
}

static void roots_ask(struct mcp_session *s)
{
    if (s->roots_inflight) {
        s->roots_again = true;
        return;
    }
    if (!mcp__request(s, "roots/list", NULL, roots_answer))
        return;
    s->roots_inflight = true;
    if (s->ops->roots_requested)
        s->ops->roots_requested(s->host, s);
}

bool mcp_session_client_has_roots(const struct mcp_session *s)
{
    const cJSON *caps = cJSON_GetObjectItemCaseSensitive(s->init_params, "capabilities");
    return cJSON_IsObject(cJSON_GetObjectItemCaseSensitive(caps, "roots"));
}

void mcp_session_request_roots(struct mcp_session *s)
{
    if (!s->initialized || !s->ops->roots_listed || !mcp_session_client_has_roots(s))
        return;
    s->roots_wanted = true;
    roots_ask(s);
}

void mcp__roots_list_changed(struct mcp_session *s)
{
    if (s->roots_wanted)
        roots_ask(s);
}

void mcp_session_roots_give_up(struct mcp_session *s)
{
    if (!s->roots_inflight)
        return;
    s->roots_inflight = false;
    s->roots_again = false;
    mcp__calls_release(s);
}
