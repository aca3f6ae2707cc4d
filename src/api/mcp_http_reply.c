/* mcp_http_reply — SSE responses to POST /mcp (see mcp_http.h for when a
 * request gets one).
 *
 * A response stream is the answer to one POST: on 2025-11-25 it opens with
 * a priming event (an id and empty data, with `retry:`) so the client can
 * resume it at once; older revisions get `retry:` alone (their clients
 * would try to parse empty data). Then come the notifications that belong
 * to the request (progress for its progressToken), then the response, and
 * the stream ends in order (without a response when the request was
 * cancelled: MCP sends none).
 *
 * Ids are "r<k>-<n>": k numbers the session's response streams, n the
 * stream's messages. Being distinct from the GET stream's decimal ids, a
 * Last-Event-ID names the stream it came from, and a resumption replays
 * only that stream's messages (the spec forbids replaying messages of
 * another stream). The connection may break at any time without that
 * meaning cancellation: the request goes on, its response is kept, and a
 * GET with the last id the client saw delivers what followed — the
 * response exactly once, since ids are cursors. A GET after the last
 * message of an answered stream gets 204 No Content, which tells an SSE
 * client to stop reconnecting.
 *
 * Invariants: a stream is in hs->rstreams from open until the session ends
 * or it is trimmed (answered, beyond MCP_HTTP_FINISHED_KEEP newer answered
 * ones); `conn` is the one connection carrying it, cleared by its closed
 * callback or replaced by a resumption; frames are in increasing n and the
 * response, once there, is the last one. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "api/mcp_http_check.h"
#include "api/mcp_http_internal.h"
#include "base/buf.h"
#include "base/xmalloc.h"
#include "net/http.h"
#include "net/sse.h"

static void mcp_http_rstream_closed(void *arg)
{
    struct mcp_http_rstream *rs = arg;
    rs->conn = NULL;
    rs->hs->last_active_ms = mcp_http__now_ms();
}

static const struct sse_stream_cbs mcp_http_rstream_cbs = {.drained = NULL,
                                                           .closed = mcp_http_rstream_closed};

/* Start an SSE answer on req for rs. */
static void mcp_http_rstream_attach(struct mcp_http_rstream *rs, struct http_request *req,
                                    int64_t retry_ms)
{
    const struct mcp_http_config *cfg = &rs->hs->m->cfg;
    struct sse_stream_opts o = {.max_pending = cfg->max_pending,
                                .heartbeat_ms = cfg->heartbeat_ms,
                                .retry_ms = retry_ms,
                                .write_timeout_s = cfg->write_timeout_s};
    rs->conn = sse_stream_start(cfg->base, req, &o, &mcp_http_rstream_cbs, rs);
}

static bool mcp_http_rstream_live(const struct mcp_http_rstream *rs)
{
    return rs->conn && !sse_stream_closing(rs->conn);
}

struct mcp_http_rstream *mcp_http__rstream_open(struct mcp_http_session *hs,
                                                struct http_request *req)
{
    struct mcp_http_rstream *rs = xcalloc(1, sizeof(*rs));
    rs->hs = hs;
    rs->k = ++hs->next_rstream;
    rs->next_n = 1;
    rs->next = hs->rstreams;
    hs->rstreams = rs;
    int64_t retry_ms = hs->m->cfg.retry_ms;
    bool priming = strcmp(hs->version, "2025-11-25") == 0;
    mcp_http_rstream_attach(rs, req, priming ? 0 : retry_ms);
    if (!priming)
        return rs;
    char id[48];
    struct buf b;
    buf_init(&b, 0);
    int rc = mcp_http_reply_id_format(id, sizeof(id), rs->k, 0) < 0 ? -1 : 0;
    if (!rc)
        rc = buf_printf(&b, "id: %s\n", id);
    if (!rc && retry_ms > 0)
        rc = buf_printf(&b, "retry: %lld\n", (long long)retry_ms);
    if (!rc)
        rc = buf_append_str(&b, "data: \n\n");
    if (!rc && mcp_http_rstream_live(rs))
        (void)sse_stream_send(rs->conn, b.data, b.len); /* failure closes the stream */
    buf_deinit(&b);
    return rs;
}

void mcp_http__rstream_push(struct mcp_http_rstream *rs, const char *msg, size_t len, bool final)
{
    char id[48];
    uint64_t n = rs->next_n++;
    if (mcp_http_reply_id_format(id, sizeof(id), rs->k, n) < 0)
        return;
    struct buf b;
    buf_init(&b, len + 64 + len / 8);
    if (sse_encode_event(&b, id, NULL, msg, len) != 0) {
        buf_deinit(&b);
        return;
    }
    /* One slot stays free for the response: it is never the one dropped. */
    if (final || rs->nframes + 1 < MCP_HTTP_REPLY_KEEP) {
        struct mcp_http_frame *f = &rs->frames[rs->nframes++];
        f->n = n;
        f->len = b.len;
        f->frame = xmalloc(b.len ? b.len : 1);
        memcpy(f->frame, b.data, b.len);
    }
    if (mcp_http_rstream_live(rs))
        (void)sse_stream_send(rs->conn, b.data, b.len); /* failure closes the stream */
    buf_deinit(&b);
    if (final)
        mcp_http__rstream_finish(rs);
}

void mcp_http__rstream_finish(struct mcp_http_rstream *rs)
{
    rs->finished = true;
    if (mcp_http_rstream_live(rs))
        sse_stream_end(rs->conn);
}

static void mcp_http_rstream_free(struct mcp_http_rstream *rs)
{
    sse_stream_free(rs->conn);
    for (size_t i = 0; i < rs->nframes; i++)
        free(rs->frames[i].frame);
    free(rs);
}

void mcp_http__rstreams_trim(struct mcp_http_session *hs)
{
    size_t answered = 0;
    for (struct mcp_http_rstream **pp = &hs->rstreams; *pp;) {
        struct mcp_http_rstream *rs = *pp;
        if (rs->finished && ++answered > MCP_HTTP_FINISHED_KEEP) {
            *pp = rs->next;
            mcp_http_rstream_free(rs);
            continue;
        }
        pp = &rs->next;
    }
}

void mcp_http__rstream_resume(struct mcp_http_session *hs, struct http_request *req, uint64_t k,
                              uint64_t n)
{
    struct mcp_http_rstream *rs = hs->rstreams;
    while (rs && rs->k != k)
        rs = rs->next;
    if (!rs) {
        mcp_http__reply_rpc_error(req, 400, -32600,
                                  "Last-Event-ID names a response stream this session does not "
                                  "keep (unknown, or answered long ago)");
        return;
    }
    if (n >= rs->next_n) {
        mcp_http__reply_rpc_error(req, 400, -32600,
                                  "Last-Event-ID names a message this response stream never sent");
        return;
    }
    /* Nothing left of an answered stream: 204, the SSE way of telling a
     * client to stop reconnecting (a client that missed no message still
     * resumes when the response was an error rather than a result). */
    bool rest = !rs->finished;
    for (size_t i = 0; i < rs->nframes && !rest; i++)
        rest = rs->frames[i].n > n;
    if (!rest) {
        http_reply_empty(req, 204);
        return;
    }
    /* One connection per stream: a resumption replaces a stale one. */
    sse_stream_free(rs->conn);
    rs->conn = NULL;
    mcp_http_rstream_attach(rs, req, hs->m->cfg.retry_ms);
    for (size_t i = 0; i < rs->nframes && mcp_http_rstream_live(rs); i++)
        if (rs->frames[i].n > n)
            (void)sse_stream_send(rs->conn, rs->frames[i].frame, rs->frames[i].len);
    if (rs->finished && mcp_http_rstream_live(rs))
        sse_stream_end(rs->conn);
}

bool mcp_http__rstreams_connected(const struct mcp_http_session *hs)
{
    for (const struct mcp_http_rstream *rs = hs->rstreams; rs; rs = rs->next)
        if (rs->conn)
            return true;
    return false;
}

void mcp_http__rstreams_free(struct mcp_http_session *hs)
{
    while (hs->rstreams) {
        struct mcp_http_rstream *rs = hs->rstreams;
        hs->rstreams = rs->next;
        mcp_http_rstream_free(rs);
    }
}
