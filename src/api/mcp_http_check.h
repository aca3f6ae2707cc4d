/* mcp_http_check — the request checks of Streamable HTTP MCP (mcp_http.h),
 * pure: header values in, a verdict out, no I/O.
 *
 * They guard a loopback server against browsers: a page on another origin
 * may not drive the hub (Origin), and a name that resolves to 127.0.0.1 by
 * DNS rebinding may not either (Host). */
#ifndef COORDHUB_API_MCP_HTTP_CHECK_H
#define COORDHUB_API_MCP_HTTP_CHECK_H

#include <stdbool.h>
#include <stdint.h>

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

#endif
