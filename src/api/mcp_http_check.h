/* mcp_http_check — the request checks of Streamable HTTP MCP (mcp_http.h),
 * pure: header values in, a verdict out, no I/O.
 *
 * They guard a loopback server against browsers: a page on another origin
 * may not drive the hub (Origin), and a name that resolves to 127.0.0.1 by
 * DNS rebinding may not either (Host). A hub on a non-loopback address
 * requires a credential (docs/security.md, "Threat model"), which is what protects it there: any
 * Host is accepted, and an Origin must be a loopback one or the hub's own. */
#ifndef COORDHUB_API_MCP_HTTP_CHECK_H
#define COORDHUB_API_MCP_HTTP_CHECK_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <cjson/cJSON.h>

/* Where the hub listens, as the Host and Origin checks need it. */
struct mcp_http_bind {
    const char *host; /* the bound address without port or brackets, e.g. "127.0.0.2" */
    uint16_t port;    /* the bound port */
    bool tls;         /* HTTPS: a Host or https Origin without port means 443, else 80 */
    bool loopback;    /* a loopback address: the DNS-rebinding rules apply */
};

/* True when origin (an Origin header) may drive the hub: http:// or
 * https:// followed by localhost, 127.0.0.1 or [::1] with an optional
 * port and nothing else, on any bind; on a non-loopback bind also the
 * hub's own origin as the request reaches it, that is with the hub's
 * scheme and the host and port of host (the request's Host header; the
 * absent ports being the schemes'). NULL origin or b: false. */
bool mcp_http_check_origin(const char *origin, const char *host, const struct mcp_http_bind *b);
/* True when host (a Host header) is acceptable. On a loopback bind it
 * must be localhost, 127.0.0.1, [::1] or b->host with port b->port (an
 * absent port is 443 with TLS, else 80): a name that resolves to a
 * loopback address by DNS rebinding is refused. On a non-loopback bind
 * any well-formed host[:port] is (the credential protects that hub; it
 * may be reached under any name, through any forwarded port). NULL host
 * or b, or a malformed host: false. */
bool mcp_http_check_host(const char *host, const struct mcp_http_bind *b);
/* True when the Accept header value lists the media types asked for
 * (each also satisfied by the wildcard range); NULL accept: false. */
bool mcp_http_check_accept(const char *accept, bool want_json, bool want_sse);
/* True for 2025-11-25, 2025-06-18 and 2025-03-26. */
bool mcp_http_check_version(const char *version);

/* True when the JSON-RPC request msg is answered with an SSE stream rather
 * than one JSON object (the client's Accept lists both, as it must): a
 * request that may be held for long or that reports progress, that is a
 * tools/call of a tool whose definition streams (struct tool_def.streams:
 * wait_for_events; lock_file when its wait_arg, waitMs, is a positive
 * number), or any request whose params._meta carries a progressToken.
 * Anything else (including NULL) is false. */
bool mcp_http_check_streamed(const cJSON *msg);

/* Event ids of an SSE response to a POST: "r<stream>-<n>", stream (>= 1)
 * numbering the session's response streams and n the message within the
 * stream (0: the priming event). They are distinct from the GET stream's
 * decimal ids, so a Last-Event-ID names its stream. format: the length
 * written, or -1 when out is too small. parse: false unless text is
 * exactly that form (decimal digits, no sign, no spaces, no overflow). */
int mcp_http_reply_id_format(char *out, size_t outlen, uint64_t stream, uint64_t n);
bool mcp_http_reply_id_parse(const char *text, uint64_t *stream, uint64_t *n);

#endif
