/* mcphttp — tools/call round trips over MCP Streamable HTTP (POST /mcp),
 * one request in flight on one keep-alive connection. */
#ifndef COORDHUB_BENCH_MCPHTTP_H
#define COORDHUB_BENCH_MCPHTTP_H

#include <stdbool.h>

struct mcphttp_opts {
    const char *label;      /* names the RESULT line */
    const char *addr;       /* HOST:PORT of the server */
    const char *token_file; /* bearer token to send, or NULL for none */
    bool echo;              /* the echo tool (reference server), else check_lock */
    long n;                 /* measured calls */
    long warmup;            /* discarded calls first */
};

/* initialize, notifications/initialized, then warmup + n tools/call
 * requests; prints one RESULT line on stdout. 0, or -1 with the reason on
 * stderr (a refused or malformed answer is a failure). */
int mcphttp_run(const struct mcphttp_opts *o);

#endif
