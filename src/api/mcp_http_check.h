/* mcp_http_check — the request checks of Streamable HTTP MCP (mcp_http.h),
 * pure: header values in, a verdict out, no I/O.
 *
 * They guard a loopback server against browsers: a page on another origin
 * may not drive the hub (Origin), and a name that resolves to 127.0.0.1 by
 * DNS rebinding may not either (Host). */
#ifndef COORDHUB_API_MCP_HTTP_CHECK_H
#define COORDHUB_API_MCP_HTTP_CHECK_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <cjson/cJSON.h>

/* True when origin is http:// or https:// followed by localhost,
 * 127.0.0.1 or [::1], with an optional port and nothing else. */
bool mcp_http_check_origin(const char *origin);
/* True when host (a Host header) is localhost, 127.0.0.1, [::1] or
 * bound_host (the bound address without port, e.g. "127.0.0.2"), with
 * port equal to bound_port (absent means 80). NULL host: false. */
bool mcp_http_check_host(const char *host, const char *bound_host, uint16_t bound_port);
/* True when the Accept header value lists the media types asked for
 * (each also satisfied by the wildcard range); NULL accept: false. */
bool mcp_http_check_accept(const char *accept, bool want_json, bool want_sse);
/* True for 2025-11-25, 2025-06-18 and 2025-03-26. */
bool mcp_http_check_version(const char *version);

/* True when the JSON-RPC request msg is answered with an SSE stream rather
 * than one JSON object (the client's Accept lists both, as it must): a
 * request that may be held for long or that reports progress, that is a
 * tools/call of wait_for_events, a tools/call of lock_file whose waitMs is
 * a positive number, or any request whose params._meta carries a
 * progressToken. Anything else (including NULL) is false. */
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
