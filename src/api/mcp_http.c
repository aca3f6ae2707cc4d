/* mcp_http — Streamable HTTP for MCP (see the header for the contract).
 *
 * Invariants:
 *  - a session is in m->sessions (keyed by its own id text) exactly while
 *    it is open; ending it removes it, answers its held requests, ends its
 *    stream and tells the host, in that order, so no message reaches a
 *    session the host has let go of;
 *  - a held POST is in its session's `held` map under the compact JSON of
 *    each of its request ids (one, or a batch's) until it is answered,
 *    except a cancelled one, which leaves it at once (the engine sends no
 *    response for it; the POST ends when none is left);
 *    a JSON one exactly while its connection's close hook points at it
 *    (answering clears the hook first), an SSE one (`rs` set) also after
 *    its connection broke: leaving is not cancelling, and its answer is
 *    kept for a resumption (mcp_http_reply.c);
 *  - the transport checks a batch whole before the engine sees it, so a
 *    refused batch changes nothing;
 *  - the server keeps reading a connection whose request is held, so a
 *    client that leaves is noticed at once and the close hook runs like
 *    for any other disconnect (REST's queued calls rely on it too);
 *  - replay ids grow by one per message; the ring keeps the newest
 *    replay_max messages and `delivered` is the highest id a stream took.
 */
#define _GNU_SOURCE
#include "api/mcp_http.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>

#include <cjson/cJSON.h>
#include <event2/buffer.h>
#include <event2/bufferevent.h>
#include <event2/event.h>
#include <event2/http.h>

#include "api/mcp_http_check.h"
#include "api/mcp_http_internal.h"
#include "base/buf.h"
#include "base/clock.h"
#include "base/json.h"
#include "base/log.h"
#include "base/map.h"
#include "base/xmalloc.h"
#include "rpc/jsonrpc.h"
#include "net/http.h"
#include "net/sse.h"

#define MCP_HTTP_IDLE_MS (30 * 60 * 1000)
#define MCP_HTTP_MAX_SESSIONS 1024
#define MCP_HTTP_REPLAY_MAX 256
#define MCP_HTTP_MAX_HELD 256 /* requests held per session (batch members count) */
#define MCP_HTTP_ID_BYTES 32
#define MCP_HTTP_KEY_SHARE_DIV 4 /* one API key: at most a quarter of the sessions */
#define MCP_HTTP_RESERVE_DIV 16  /* a sixteenth is kept for the admin token */
/* What a revoked credential's held requests are answered (docs/security.md). */
#define MCP_HTTP_REVOKED_CODE (-32001)
#define MCP_HTTP_REVOKED                                                                           \
    "unauthorized (401): the credential of this MCP session was revoked; the session has ended"

int64_t mcp_http__now_ms(void)
{
    return clock_mono_ms();
}

/* ---- replies ------------------------------------------------------------- */

/* A JSON-RPC error as the body of an HTTP error status. */
void mcp_http__reply_rpc_error(struct http_request *req, int status, int code, const char *message)
{
    mcp_http__reply_rpc_error_id(req, status, code, message, NULL);
}

void mcp_http__reply_rpc_error_id(struct http_request *req, int status, int code,
                                  const char *message, const cJSON *id)
{
    cJSON *o = cJSON_CreateObject();
    cJSON_AddStringToObject(o, "jsonrpc", "2.0");
    cJSON_AddItemToObject(o, "id", jsonrpc_id_to_wire(id));
    cJSON *e = cJSON_AddObjectToObject(o, "error");
    cJSON_AddNumberToObject(e, "code", code);
    cJSON_AddStringToObject(e, "message", message);
    http_reply_json(req, status, o);
}

/* ---- held requests --------------------------------------------------------- */

static void mcp_http_held_free(struct mcp_http_held *hd)
{
    for (size_t i = 0; i < hd->nkeys; i++)
        free(hd->keys[i]);
    free(hd->keys);
    for (size_t i = 0; i < hd->ntokens; i++)
        free(hd->tokens[i]);
    free(hd->tokens);
    free(hd);
}

/* Remove hd from its session's map (under every key still awaited; a
 * cancelled one may name a later request by now) and free it. */
static void mcp_http_held_drop(struct mcp_http_held *hd)
{
    for (size_t i = 0; i < hd->nlive; i++)
        map_del(&hd->hs->held, hd->keys[i]);
    mcp_http_held_free(hd);
}

static void mcp_http_held_closed(void *arg)
{
    struct mcp_http_held *hd = arg;
    /* The peer left before its answer: the answer will be dropped. */
    hd->hs->last_active_ms = mcp_http__now_ms();
    mcp_http_held_drop(hd);
}

/* A new held entry for hs (batch: for a JSON-RPC batch); the caller adds
 * its keys, then mcp_http_held_start. */
static struct mcp_http_held *mcp_http_held_new(struct mcp_http_session *hs, bool initialize,
                                               bool batch)
{
    struct mcp_http_held *hd = xcalloc(1, sizeof(*hd));
    hd->hs = hs;
    hd->initialize = initialize;
    hd->batch = batch;
    return hd;
}

/* Note the request id and progress token of the request r for hd. False
 * (nothing noted) when the id is in flight in hs already, or in hd. */
static bool mcp_http_held_add(struct mcp_http_held *hd, const cJSON *r)
{
    char *key = json_print(cJSON_GetObjectItemCaseSensitive(r, "id"));
    bool dup = map_get(&hd->hs->held, key) != NULL;
    for (size_t i = 0; i < hd->nkeys && !dup; i++)
        dup = strcmp(hd->keys[i], key) == 0;
    if (dup) {
        free(key);
        return false;
    }
    hd->keys = xrealloc(hd->keys, (hd->nkeys + 1) * sizeof(*hd->keys));
    hd->keys[hd->nkeys++] = key;
    hd->nlive = hd->nkeys;
    const cJSON *meta =
        cJSON_GetObjectItemCaseSensitive(cJSON_GetObjectItemCaseSensitive(r, "params"), "_meta");
    const cJSON *tok = cJSON_GetObjectItemCaseSensitive(meta, "progressToken");
    if (cJSON_IsString(tok) || cJSON_IsNumber(tok)) {
        hd->tokens = xrealloc(hd->tokens, (hd->ntokens + 1) * sizeof(*hd->tokens));
        hd->tokens[hd->ntokens++] = json_print(tok);
    }
    return true;
}

/* Hold req for hd's answer: as an SSE response stream when streamed, else
 * as a JSON answer to come (the server tells when the peer leaves). */
static void mcp_http_held_start(struct mcp_http_held *hd, struct http_request *req, bool streamed)
{
    struct mcp_http_session *hs = hd->hs;
    for (size_t i = 0; i < hd->nlive; i++)
        map_put(&hs->held, hd->keys[i], hd);
    if (streamed) {
        hd->rs = mcp_http__rstream_open(hs, req);
        return;
    }
    hd->req = req;
    http_request_on_close(req, mcp_http_held_closed, hd);
}

/* Answer hd with msg (len bytes: a response, or a batch of them) and let it
 * go. status is the HTTP status of a JSON answer; an SSE answer gets msg
 * as its last message. */
static void mcp_http_held_answer(struct mcp_http_held *hd, int status, const char *msg, size_t len)
{
    struct mcp_http_session *hs = hd->hs;
    if (hd->rs) {
        mcp_http__rstream_push(hd->rs, msg, len, true);
        mcp_http_held_drop(hd);
        mcp_http__rstreams_trim(hs);
        return;
    }
    struct http_request *req = hd->req;
    http_request_on_close(req, NULL, NULL);
    mcp_http_held_drop(hd);
    http_reply_text(req, status, "application/json", msg, len);
}

/* Answer hd with a JSON-RPC error for each of its request ids still
 * awaited, or, when none is (all were cancelled), for each of them. */
static void mcp_http_held_fail(struct mcp_http_held *hd, int status, int code, const char *message)
{
    cJSON *all = cJSON_CreateArray();
    size_t n = hd->nlive ? hd->nlive : hd->nkeys;
    for (size_t i = 0; i < n; i++) {
        cJSON *o = cJSON_CreateObject();
        cJSON_AddStringToObject(o, "jsonrpc", "2.0");
        int err = 0;
        cJSON *id = json_parse_bounded(hd->keys[i], strlen(hd->keys[i]), JSON_MAX_DEPTH, &err);
        cJSON_AddItemToObject(o, "id", jsonrpc_id_to_wire(id)); /* 1e+15 key: 1000000000000000 */
        cJSON_Delete(id);
        cJSON *e = cJSON_AddObjectToObject(o, "error");
        cJSON_AddNumberToObject(e, "code", code);
        cJSON_AddStringToObject(e, "message", message);
        cJSON_AddItemToArray(all, o);
    }
    /* One request: one object; a batch (even of one): the array. */
    char *text = hd->batch ? json_print(all) : json_print(cJSON_GetArrayItem(all, 0));
    cJSON_Delete(all);
    mcp_http_held_answer(hd, status, text, strlen(text));
    free(text);
}

/* ---- sessions ------------------------------------------------------------ */

static void mcp_http_stream_free(struct mcp_http_session *hs)
{
    sse_stream_free(hs->stream);
    hs->stream = NULL;
}

/* End hs, answering its held requests with held_status (a JSON answer;
 * an SSE one has sent its 200) and the JSON-RPC error code and message. */
static void mcp_http_session_end_with(struct mcp_http_session *hs, int held_status, int code,
                                      const char *message)
{
    struct mcp_http *m = hs->m;
    map_del(&m->sessions, hs->id);
    /* Answer what is held; collect first: answering edits the map. */
    while (map_len(&hs->held) > 0) {
        size_t it = 0;
        void *v = NULL;
        if (!map_next(&hs->held, &it, NULL, &v))
            break;
        mcp_http_held_fail(v, held_status, code, message);
    }
    map_deinit(&hs->held);
    mcp_http_stream_free(hs);
    mcp_http__rstreams_free(hs);
    if (hs->host_sess)
        m->cfg.host.close(m->cfg.host.arg, hs->host_sess);
    for (size_t i = 0; i < hs->ring_len; i++)
        free(hs->ring[(hs->ring_start + i) % m->cfg.replay_max].frame);
    free(hs->ring);
    log_debug("mcp http: a session ended (%zu open)", map_len(&m->sessions));
    free(hs);
}

static void mcp_http_session_end(struct mcp_http_session *hs, int held_status)
{
    mcp_http_session_end_with(hs, held_status, -32600, "the MCP session ended");
}

static bool mcp_http_random_id(char *out, size_t outlen)
{
    unsigned char raw[MCP_HTTP_ID_BYTES];
    size_t got = 0;
    while (got < sizeof(raw)) {
        ssize_t n = getrandom(raw + got, sizeof(raw) - got, 0);
        if (n < 0) {
            if (errno == EINTR)
                continue;
            return false;
        }
        got += (size_t)n;
    }
    static const char hex[] = "0123456789abcdef";
    if (outlen < 2 * sizeof(raw) + 1)
        return false;
    for (size_t i = 0; i < sizeof(raw); i++) {
        out[2 * i] = hex[raw[i] >> 4];
        out[2 * i + 1] = hex[raw[i] & 15];
    }
    out[2 * sizeof(raw)] = '\0';
    return true;
}

static struct mcp_http_session *mcp_http_session_open(struct mcp_http *m, const void *principal)
{
    struct mcp_http_session *hs = xcalloc(1, sizeof(*hs));
    hs->m = m;
    if (!mcp_http_random_id(hs->id, sizeof(hs->id))) {
        free(hs);
        return NULL;
    }
    map_init(&hs->held);
    hs->ring = xcalloc(m->cfg.replay_max, sizeof(*hs->ring));
    hs->next_event_id = 1;
    hs->last_active_ms = mcp_http__now_ms();
    hs->principal = principal;
    hs->host_sess = m->cfg.host.open(m->cfg.host.arg, hs, principal);
    if (!hs->host_sess) {
        map_deinit(&hs->held);
        free(hs->ring);
        free(hs);
        return NULL;
    }
    map_put(&m->sessions, hs->id, hs);
    return hs;
}

/* ---- quotas ---------------------------------------------------------------- */

/* Answer an initialize the quotas refuse: status, and a JSON-RPC error
 * naming the quota with data {"quota", "limit", "held"}. */
static void mcp_http_reply_quota(struct http_request *req, const cJSON *id, int status,
                                 const char *quota, size_t limit, size_t held, const char *message)
{
    cJSON *o = cJSON_CreateObject();
    cJSON_AddStringToObject(o, "jsonrpc", "2.0");
    cJSON_AddItemToObject(o, "id", jsonrpc_id_to_wire(id));
    cJSON *e = cJSON_AddObjectToObject(o, "error");
    cJSON_AddNumberToObject(e, "code", JSONRPC_INTERNAL_ERROR);
    cJSON_AddStringToObject(e, "message", message);
    cJSON *d = cJSON_AddObjectToObject(e, "data");
    cJSON_AddStringToObject(d, "quota", quota);
    json_add_u64(d, "limit", limit);
    json_add_u64(d, "held", held);
    http_reply_json(req, status, o);
}

/* Whether principal may open one more session (mcp_http.h, "Quotas");
 * false when req has been answered 429 or 503. */
static bool mcp_http_quota_admits(struct mcp_http *m, struct http_request *req,
                                  const void *principal, const cJSON *id)
{
    const struct mcp_http_config *c = &m->cfg;
    size_t open = map_len(&m->sessions), held = 0, keyed = 0;
    size_t it = 0;
    void *v;
    while (map_next(&m->sessions, &it, NULL, &v)) {
        const struct mcp_http_session *hs = v;
        held += hs->principal == principal;
        keyed += hs->principal != NULL;
    }
    char msg[256];
    if (principal && held >= c->key_sessions) {
        snprintf(msg, sizeof(msg),
                 "MCP session quota of this API key reached: it holds %zu of the %zu sessions one "
                 "key may open; end one (DELETE /mcp) or let one idle out",
                 held, c->key_sessions);
        mcp_http_reply_quota(req, id, 429, "key", c->key_sessions, held, msg);
        return false;
    }
    size_t for_keys = c->max_sessions - c->reserved_sessions;
    if (principal && keyed >= for_keys) {
        snprintf(msg, sizeof(msg),
                 "the %zu MCP sessions open to API keys are all in use (%zu more are reserved "
                 "for the admin token); this key holds %zu; retry later",
                 for_keys, c->reserved_sessions, held);
        mcp_http_reply_quota(req, id, 503, "keys", for_keys, held, msg);
        return false;
    }
    if (open >= c->max_sessions) {
        snprintf(msg, sizeof(msg),
                 "all %zu MCP sessions are in use (this credential holds %zu); retry later",
                 c->max_sessions, held);
        mcp_http_reply_quota(req, id, 503, "sessions", c->max_sessions, held, msg);
        return false;
    }
    return true;
}

/* ---- the GET stream ------------------------------------------------------ */

static void mcp_http_stream_closed(void *arg)
{
    struct mcp_http_session *hs = arg;
    hs->stream = NULL;
    hs->last_active_ms = mcp_http__now_ms();
}

static const struct sse_stream_cbs mcp_http_stream_cbs = {.drained = NULL,
                                                          .closed = mcp_http_stream_closed};

/* Send the replayed messages with ids > after to the open stream. */
static void mcp_http_stream_replay(struct mcp_http_session *hs, uint64_t after)
{
    size_t cap = hs->m->cfg.replay_max;
    for (size_t i = 0; i < hs->ring_len && hs->stream; i++) {
        struct mcp_http_replay *r = &hs->ring[(hs->ring_start + i) % cap];
        if (r->id <= after)
            continue;
        if (sse_stream_send(hs->stream, r->frame, r->len) != 0)
            return; /* the stream closes itself; the ring keeps the rest */
        if (r->id > hs->delivered)
            hs->delivered = r->id;
    }
}

/* Keep msg in the ring (dropping the oldest past the cap) and send it to
 * the stream if one is open. */
static void mcp_http_session_push(struct mcp_http_session *hs, const char *msg, size_t len)
{
    size_t cap = hs->m->cfg.replay_max;
    char idtext[24];
    uint64_t id = hs->next_event_id++;
    snprintf(idtext, sizeof(idtext), "%llu", (unsigned long long)id);
    struct buf b;
    buf_init(&b, len + 256 + len / 8);
    if (sse_encode_event(&b, idtext, NULL, msg, len) != 0) {
        buf_deinit(&b);
        return;
    }
    if (hs->ring_len == cap) {
        free(hs->ring[hs->ring_start].frame);
        hs->ring_start = (hs->ring_start + 1) % cap;
        hs->ring_len--;
    }
    struct mcp_http_replay *r = &hs->ring[(hs->ring_start + hs->ring_len) % cap];
    r->id = id;
    r->len = b.len;
    r->frame = xmalloc(b.len ? b.len : 1);
    memcpy(r->frame, b.data, b.len);
    hs->ring_len++;
    buf_deinit(&b);
    if (hs->stream && !sse_stream_closing(hs->stream) &&
        sse_stream_send(hs->stream, r->frame, r->len) == 0)
        hs->delivered = id;
}

/* The held entry a response (or a batch of responses) answers: by the id
 * of the first element whose id is held. NULL when none is. */
static struct mcp_http_held *mcp_http_held_for(struct mcp_http_session *hs, const cJSON *j)
{
    const cJSON *e = cJSON_IsArray(j) ? j->child : j;
    for (; e; e = cJSON_IsArray(j) ? e->next : NULL) {
        const cJSON *id = cJSON_GetObjectItemCaseSensitive(e, "id");
        if (!cJSON_IsString(id) && !cJSON_IsNumber(id))
            continue;
        char *key = json_print(id);
        struct mcp_http_held *hd = map_get(&hs->held, key);
        free(key);
        if (hd)
            return hd;
    }
    return NULL;
}

/* The SSE-answered held request whose progressToken a progress
 * notification carries, or NULL. */
static struct mcp_http_held *mcp_http_held_for_progress(struct mcp_http_session *hs, const cJSON *j)
{
    const cJSON *method = cJSON_GetObjectItemCaseSensitive(j, "method");
    if (!cJSON_IsString(method) || strcmp(method->valuestring, "notifications/progress") != 0)
        return NULL;
    const cJSON *params = cJSON_GetObjectItemCaseSensitive(j, "params");
    const cJSON *tok = cJSON_GetObjectItemCaseSensitive(params, "progressToken");
    if (!tok)
        return NULL;
    char *key = json_print(tok);
    struct mcp_http_held *found = NULL;
    size_t it = 0;
    void *v;
    while (!found && map_next(&hs->held, &it, NULL, &v)) {
        struct mcp_http_held *hd = v;
        for (size_t i = 0; hd->rs && i < hd->ntokens && !found; i++)
            if (strcmp(hd->tokens[i], key) == 0)
                found = hd;
    }
    free(key);
    return found;
}

void mcp_http_session_send(struct mcp_http_session *hs, const char *msg, size_t len)
{
    int err = 0;
    cJSON *j = json_parse_bounded(msg, len, JSON_MAX_DEPTH, &err);
    bool response =
        cJSON_IsArray(j) || (cJSON_IsObject(j) && !cJSON_GetObjectItemCaseSensitive(j, "method") &&
                             cJSON_GetObjectItemCaseSensitive(j, "id"));
    if (!response) {
        struct mcp_http_held *hd = mcp_http_held_for_progress(hs, j);
        cJSON_Delete(j);
        if (hd)
            mcp_http__rstream_push(hd->rs, msg, len, false);
        else
            mcp_http_session_push(hs, msg, len);
        return;
    }
    struct mcp_http_held *hd = mcp_http_held_for(hs, j);
    if (!hd) {
        /* Its request's connection went away: nobody is waiting. */
        cJSON_Delete(j);
        return;
    }
    bool failed_init = false;
    if (hd->initialize) {
        const cJSON *result = cJSON_GetObjectItemCaseSensitive(j, "result");
        const char *v = json_get_str(result, "protocolVersion", NULL);
        failed_init = !v;
        if (v)
            snprintf(hs->version, sizeof(hs->version), "%s", v);
    }
    cJSON_Delete(j);
    hs->last_active_ms = mcp_http__now_ms();
    if (failed_init && hd->req)
        http_request_remove_header(hd->req, "MCP-Session-Id");
    mcp_http_held_answer(hd, 200, msg, len);
    if (failed_init) {
        /* Ending it from inside the host's send: let the loop do it. */
        hs->last_active_ms = 0;
        event_active(hs->m->idle_ev, EV_TIMEOUT, 0);
    }
}

/* ---- requests ------------------------------------------------------------ */

static const char *mcp_http_header(struct http_request *req, const char *name)
{
    return http_request_header(req, name);
}

/* Host and Origin; false when req has been answered 403. */
static bool mcp_http_check_peer(struct mcp_http *m, struct http_request *req)
{
    const struct http_addr *a = http_server_addr(m->cfg.http);
    char bound_host[64];
    snprintf(bound_host, sizeof(bound_host), "%s", a->text);
    char *colon = strrchr(bound_host, ':');
    if (colon)
        *colon = '\0';
    const char *bh = bound_host;
    if (bh[0] == '[') {
        bh++;
        char *rb = strchr(bound_host, ']');
        if (rb)
            *rb = '\0';
    }
    struct mcp_http_bind b = {
        .host = bh, .port = a->port, .tls = http_server_tls(m->cfg.http), .loopback = a->loopback};
    const char *host = mcp_http_header(req, "Host");
    if (!mcp_http_check_host(host, &b)) {
        http_reply_error(req, 403, "forbidden",
                         b.loopback
                             ? "the Host header must name this hub's loopback address and port"
                             : "the Host header is missing or malformed");
        return false;
    }
    const char *origin = mcp_http_header(req, "Origin");
    if (origin && !mcp_http_check_origin(origin, host, &b)) {
        http_reply_error(req, 403, "forbidden",
                         b.loopback ? "requests from a non-loopback Origin are refused"
                                    : "requests from an Origin other than a loopback one or this "
                                      "hub's own are refused");
        return false;
    }
    return true;
}

/* The session a request names; NULL when it has been answered 400/403/404. */
static struct mcp_http_session *mcp_http_find(struct mcp_http *m, struct http_request *req,
                                              const void *principal)
{
    const char *sid = mcp_http_header(req, "MCP-Session-Id");
    if (!sid || !*sid) {
        mcp_http__reply_rpc_error(req, 400, -32600,
                                  "missing MCP-Session-Id header (send initialize first)");
        return NULL;
    }
    struct mcp_http_session *hs = map_get(&m->sessions, sid);
    if (!hs) {
        mcp_http__reply_rpc_error(req, 404, -32001, "unknown or ended MCP session");
        return NULL;
    }
    if (hs->principal != principal) {
        mcp_http__reply_rpc_error(req, 403, -32600,
                                  "this MCP session was opened with another credential");
        return NULL;
    }
    const char *ver = mcp_http_header(req, "MCP-Protocol-Version");
    if (ver && !mcp_http_check_version(ver)) {
        mcp_http__reply_rpc_error(req, 400, -32600, "unsupported MCP-Protocol-Version");
        return NULL;
    }
    hs->last_active_ms = mcp_http__now_ms();
    return hs;
}

/* notifications/cancelled for a held request: the engine will send no
 * response for it, so it is taken out of its held entry. A batch with
 * other members still awaited is left to them (the engine answers them;
 * the batch's answer then lacks the cancelled one). Once nothing is left
 * the HTTP request ends at once: an SSE answer without a response, as MCP
 * wants for a cancelled request (for a batch: no array, as JSON-RPC sends
 * none when every response is left out); a JSON answer, which needs a
 * body, gets the JSON-RPC error -32800 "request cancelled" for each of
 * its requests (a batch's in an array). */
static void mcp_http_cancel_held(struct mcp_http_session *hs, const cJSON *msg)
{
    const cJSON *method = cJSON_GetObjectItemCaseSensitive(msg, "method");
    if (!cJSON_IsString(method) || strcmp(method->valuestring, "notifications/cancelled") != 0)
        return;
    const cJSON *params = cJSON_GetObjectItemCaseSensitive(msg, "params");
    const cJSON *rid = cJSON_GetObjectItemCaseSensitive(params, "requestId");
    if (!cJSON_IsString(rid) && !cJSON_IsNumber(rid))
        return;
    char *key = json_print(rid);
    struct mcp_http_held *hd = map_get(&hs->held, key);
    if (!hd || hd->initialize) {
        free(key);
        return;
    }
    size_t i = 0;
    while (i < hd->nlive && strcmp(hd->keys[i], key) != 0)
        i++;
    free(key);
    if (i == hd->nlive)
        return; /* not reached: the map holds only awaited keys */
    map_del(&hs->held, hd->keys[i]);
    char *k = hd->keys[i];
    hd->keys[i] = hd->keys[hd->nlive - 1];
    hd->keys[hd->nlive - 1] = k;
    hd->nlive--;
    if (hd->nlive > 0)
        return;
    if (hd->rs) {
        struct mcp_http_session *owner = hd->hs;
        mcp_http__rstream_finish(hd->rs);
        mcp_http_held_drop(hd);
        mcp_http__rstreams_trim(owner);
        return;
    }
    mcp_http_held_fail(hd, 200, -32800, "request cancelled");
}

/* Classify one message of a POST body for the transport: 'q' a request
 * (method and a string or number id), 'n' a notification, 'r' a response
 * (id, result or error, no method), 0 anything else. */
static char mcp_http_kind(const cJSON *v)
{
    if (!cJSON_IsObject(v))
        return 0;
    const cJSON *method = cJSON_GetObjectItemCaseSensitive(v, "method");
    const cJSON *id = cJSON_GetObjectItemCaseSensitive(v, "id");
    if (method) {
        if (!cJSON_IsString(method))
            return 0;
        if (!id)
            return 'n';
        return jsonrpc_id_valid(id) ? 'q' : 0;
    }
    bool answered = cJSON_GetObjectItemCaseSensitive(v, "result") ||
                    cJSON_GetObjectItemCaseSensitive(v, "error");
    return id && answered ? 'r' : 0;
}

/* True when v is a request (a string method) whose id is not one
 * jsonrpc_id_valid takes: 0.5, 1e2, 2^53, true ... (jsonrpc.h). */
static bool mcp_http_bad_id(const cJSON *v)
{
    const cJSON *method = cJSON_GetObjectItemCaseSensitive(v, "method");
    const cJSON *id = cJSON_GetObjectItemCaseSensitive(v, "id");
    return cJSON_IsObject(v) && cJSON_IsString(method) && id && !jsonrpc_id_valid(id);
}

static bool mcp_http_is_initialize(const cJSON *v)
{
    const cJSON *method = cJSON_GetObjectItemCaseSensitive(v, "method");
    return cJSON_IsString(method) && strcmp(method->valuestring, "initialize") == 0;
}

/* A JSON-RPC batch (2025-03-26 sessions only): checked here as a whole —
 * any bad member refuses it with 400 and the engine never sees it — then
 * handed to the engine, which answers its requests with one array. */
static void mcp_http_post_batch(struct mcp_http *m, struct http_request *req, const cJSON *j,
                                const char *body, size_t len, const void *principal)
{
    struct mcp_http_session *hs = mcp_http_find(m, req, principal);
    if (!hs)
        return;
    char why[160];
    if (strcmp(hs->version, "2025-03-26") != 0) {
        snprintf(why, sizeof(why),
                 "JSON-RPC batches are accepted only in sessions of protocol revision 2025-03-26 "
                 "(this one is %s); send one message per request",
                 hs->version[0] ? hs->version : "not initialized");
        mcp_http__reply_rpc_error(req, 400, -32600, why);
        return;
    }
    int n = cJSON_GetArraySize(j);
    if (n == 0 || n > MCP_HTTP_MAX_HELD) {
        snprintf(why, sizeof(why), "a batch holds 1 to %d messages (this one %d)",
                 MCP_HTTP_MAX_HELD, n);
        mcp_http__reply_rpc_error(req, 400, -32600, why);
        return;
    }
    int requests = 0;
    bool streamed = false;
    const cJSON *e;
    int i = 0;
    cJSON_ArrayForEach(e, j)
    {
        char kind = mcp_http_kind(e);
        if (!kind && mcp_http_bad_id(e)) {
            snprintf(why, sizeof(why), "batch member %d: %s", i, JSONRPC_ID_REFUSED);
            mcp_http__reply_rpc_error(req, 400, -32600, why);
            return;
        }
        if (!kind || mcp_http_is_initialize(e)) {
            snprintf(why, sizeof(why),
                     kind ? "batch member %d: initialize cannot be batched"
                          : "batch member %d is not a JSON-RPC request, notification or response",
                     i);
            mcp_http__reply_rpc_error(req, 400, -32600, why);
            return;
        }
        requests += kind == 'q';
        streamed = streamed || (kind == 'q' && mcp_http_check_streamed(e));
        i++;
    }
    /* Cancellations of requests held by earlier POSTs answer those now. */
    cJSON_ArrayForEach(e, j)
    {
        mcp_http_cancel_held(hs, e);
    }
    if (requests == 0) {
        http_reply_empty(req, 202);
        m->cfg.host.handle(m->cfg.host.arg, hs->host_sess, body, len);
        return;
    }
    if (map_len(&hs->held) + (size_t)requests > MCP_HTTP_MAX_HELD) {
        mcp_http__reply_rpc_error(req, 409, -32600, "too many requests in flight in this session");
        return;
    }
    struct mcp_http_held *hd = mcp_http_held_new(hs, false, true);
    i = 0;
    cJSON_ArrayForEach(e, j)
    {
        if (mcp_http_kind(e) == 'q' && !mcp_http_held_add(hd, e)) {
            mcp_http_held_free(hd);
            snprintf(why, sizeof(why),
                     "batch member %d: a request with this id is in flight or earlier in the "
                     "batch",
                     i);
            mcp_http__reply_rpc_error(req, 409, -32600, why);
            return;
        }
        i++;
    }
    mcp_http_held_start(hd, req, streamed);
    /* The answer may come before this returns (mcp_http_session_send). */
    m->cfg.host.handle(m->cfg.host.arg, hs->host_sess, body, len);
}

static void mcp_http_post(struct mcp_http *m, struct http_request *req, const void *principal)
{
    if (!mcp_http_check_accept(mcp_http_header(req, "Accept"), true, true)) {
        mcp_http__reply_rpc_error(req, 406, -32600,
                                  "Accept must list application/json and text/event-stream");
        return;
    }
    size_t len;
    const char *body = http_request_body(req, &len);
    struct json_error je;
    cJSON *j = json_parse_checked(body, len, JSON_MAX_DEPTH, &je);
    if (!j && je.err == -ERR_INVALID) {
        /* JSON the hub refuses (docs/security.md): -32600, with the
         * request's id when the body names one for certain. */
        char msg[sizeof(je.message) + 32];
        snprintf(msg, sizeof(msg), "Invalid Request: %s", je.message);
        cJSON *id = jsonrpc_refused_id(body, len);
        mcp_http__reply_rpc_error_id(req, 400, -32600, msg, id);
        cJSON_Delete(id);
        return;
    }
    if (!j) {
        mcp_http__reply_rpc_error(req, 400, -32700, "the body is not one JSON value");
        return;
    }
    /* Numeric ids keep their text: 1e2 or 2^53 + 1 is refused below, never
     * held under a key the engine's answer would not match. */
    jsonrpc_keep_id_text(j, body, len);
    if (cJSON_IsArray(j)) {
        mcp_http_post_batch(m, req, j, body, len, principal);
        cJSON_Delete(j);
        return;
    }
    if (!cJSON_IsObject(j)) {
        cJSON_Delete(j);
        mcp_http__reply_rpc_error(req, 400, -32600,
                                  "the body must be one JSON-RPC message (an object)");
        return;
    }
    const cJSON *method = cJSON_GetObjectItemCaseSensitive(j, "method");
    const cJSON *id = cJSON_GetObjectItemCaseSensitive(j, "id");
    bool request = method && id;
    if (request && !jsonrpc_id_valid(id)) {
        /* Answered at once (its own id when an integer, else null). */
        mcp_http__reply_rpc_error_id(req, 400, -32600, JSONRPC_ID_REFUSED, id);
        cJSON_Delete(j);
        return;
    }
    bool init = request && mcp_http_is_initialize(j);
    struct mcp_http_session *hs;
    if (init) {
        if (!mcp_http_quota_admits(m, req, principal, id)) {
            cJSON_Delete(j);
            return;
        }
        if (!(hs = mcp_http_session_open(m, principal))) {
            cJSON_Delete(j);
            mcp_http__reply_rpc_error(req, 503, -32603, "too many MCP sessions; retry later");
            return;
        }
        http_request_add_header(req, "MCP-Session-Id", hs->id);
    } else if (!(hs = mcp_http_find(m, req, principal))) {
        cJSON_Delete(j);
        return;
    }
    if (!request) {
        mcp_http_cancel_held(hs, j);
        cJSON_Delete(j);
        http_reply_empty(req, 202);
        m->cfg.host.handle(m->cfg.host.arg, hs->host_sess, body, len);
        return;
    }
    struct mcp_http_held *hd = mcp_http_held_new(hs, init, false);
    if (map_len(&hs->held) >= MCP_HTTP_MAX_HELD || !mcp_http_held_add(hd, j)) {
        mcp_http_held_free(hd);
        cJSON_Delete(j);
        mcp_http__reply_rpc_error(req, 409, -32600,
                                  "a request with this id is in flight, or too many are");
        return;
    }
    /* initialize is answered in JSON: the revision is not agreed yet. */
    bool streamed = !init && mcp_http_check_streamed(j);
    cJSON_Delete(j);
    mcp_http_held_start(hd, req, streamed);
    /* The answer may come before this returns (mcp_http_session_send). */
    m->cfg.host.handle(m->cfg.host.arg, hs->host_sess, body, len);
}

static void mcp_http_get(struct mcp_http *m, struct http_request *req, const void *principal)
{
    if (!mcp_http_check_accept(mcp_http_header(req, "Accept"), false, true)) {
        mcp_http__reply_rpc_error(req, 406, -32600, "Accept must list text/event-stream");
        return;
    }
    struct mcp_http_session *hs = mcp_http_find(m, req, principal);
    if (!hs)
        return;
    uint64_t after = hs->delivered;
    const char *last = mcp_http_header(req, "Last-Event-ID");
    uint64_t k, n;
    if (last && mcp_http_reply_id_parse(last, &k, &n)) {
        mcp_http__rstream_resume(hs, req, k, n);
        return;
    }
    if (last && *last && sse_parse_id(last, &after) != 0) {
        mcp_http__reply_rpc_error(req, 400, -32600, "Last-Event-ID is not an event id of ours");
        return;
    }
    /* One stream per session: a reconnect replaces a stale one. */
    mcp_http_stream_free(hs);
    struct sse_stream_opts o = {.max_pending = m->cfg.max_pending,
                                .heartbeat_ms = m->cfg.heartbeat_ms,
                                .retry_ms = m->cfg.retry_ms,
                                .write_timeout_s = m->cfg.write_timeout_s};
    hs->stream = sse_stream_start(m->cfg.base, req, &o, &mcp_http_stream_cbs, hs);
    mcp_http_stream_replay(hs, after);
}

void mcp_http_handle(struct mcp_http *m, struct http_request *req, const void *principal)
{
    if (!mcp_http_check_peer(m, req))
        return;
    switch (http_request_method(req)) {
    case HTTP_METHOD_POST:
        mcp_http_post(m, req, principal);
        break;
    case HTTP_METHOD_GET:
        mcp_http_get(m, req, principal);
        break;
    case HTTP_METHOD_DELETE: {
        struct mcp_http_session *hs = mcp_http_find(m, req, principal);
        if (!hs)
            return;
        mcp_http_session_end(hs, 404);
        http_reply_empty(req, 204);
        break;
    }
    default:
        http_reply_error(req, 405, "method_not_allowed", "this path accepts GET, POST, DELETE");
        break;
    }
}

/* ---- life cycle ---------------------------------------------------------- */

static void mcp_http_idle_sweep(evutil_socket_t fd, short what, void *arg)
{
    struct mcp_http *m = arg;
    (void)fd;
    (void)what;
    int64_t now = mcp_http__now_ms();
    for (;;) {
        struct mcp_http_session *victim = NULL;
        size_t it = 0;
        void *v;
        while (map_next(&m->sessions, &it, NULL, &v)) {
            struct mcp_http_session *hs = v;
            if (!hs->stream && map_len(&hs->held) == 0 && !mcp_http__rstreams_connected(hs) &&
                now - hs->last_active_ms >= m->cfg.idle_ms) {
                victim = hs;
                break;
            }
        }
        if (!victim)
            break;
        mcp_http_session_end(victim, 404);
    }
}

/* Fill the quotas left 0 from max_sessions (at least 1 each) and keep
 * them consistent: the reserve below the cap, a key's share within what
 * keys may hold. */
static void mcp_http_quota_defaults(struct mcp_http_config *c)
{
    if (c->reserved_sessions == 0)
        c->reserved_sessions = c->max_sessions / MCP_HTTP_RESERVE_DIV;
    if (c->reserved_sessions == 0 || c->reserved_sessions >= c->max_sessions)
        c->reserved_sessions = c->max_sessions > 1 ? 1 : 0;
    size_t keys = c->max_sessions - c->reserved_sessions;
    if (c->key_sessions == 0)
        c->key_sessions = c->max_sessions / MCP_HTTP_KEY_SHARE_DIV;
    if (c->key_sessions == 0)
        c->key_sessions = 1;
    if (c->key_sessions > keys)
        c->key_sessions = keys;
}

struct mcp_http *mcp_http_new(const struct mcp_http_config *cfg)
{
    struct mcp_http *m = xcalloc(1, sizeof(*m));
    m->cfg = *cfg;
    if (m->cfg.idle_ms <= 0)
        m->cfg.idle_ms = MCP_HTTP_IDLE_MS;
    if (m->cfg.max_sessions == 0)
        m->cfg.max_sessions = MCP_HTTP_MAX_SESSIONS;
    if (m->cfg.replay_max == 0)
        m->cfg.replay_max = MCP_HTTP_REPLAY_MAX;
    mcp_http_quota_defaults(&m->cfg);
    map_init(&m->sessions);
    m->idle_ev = event_new(cfg->base, -1, EV_PERSIST, mcp_http_idle_sweep, m);
    if (!m->idle_ev)
        abort(); /* out of memory, as xmalloc would */
    int64_t every = m->cfg.idle_ms / 4;
    if (every > 30000)
        every = 30000;
    if (every < 10)
        every = 10;
    struct timeval tv = {.tv_sec = every / 1000, .tv_usec = (every % 1000) * 1000};
    event_add(m->idle_ev, &tv);
    return m;
}

void mcp_http_end_principal(struct mcp_http *m, const void *principal)
{
    for (;;) {
        struct mcp_http_session *victim = NULL;
        size_t it = 0;
        void *v;
        while (map_next(&m->sessions, &it, NULL, &v)) {
            struct mcp_http_session *hs = v;
            if (hs->principal == principal) {
                victim = hs;
                break;
            }
        }
        if (!victim)
            return;
        /* A JSON answer gets 401; an SSE answer (its 200 sent) ends with
         * the same error, and its resumption, like any request of the
         * credential, gets 401 from the credential check. */
        mcp_http_session_end_with(victim, 401, MCP_HTTP_REVOKED_CODE, MCP_HTTP_REVOKED);
    }
}

void mcp_http_free(struct mcp_http *m)
{
    if (!m)
        return;
    while (map_len(&m->sessions) > 0) {
        size_t it = 0;
        void *v = NULL;
        if (!map_next(&m->sessions, &it, NULL, &v))
            break;
        mcp_http_session_end(v, 503);
    }
    map_deinit(&m->sessions);
    event_free(m->idle_ev);
    free(m);
}
