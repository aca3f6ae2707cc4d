/* mcpline — MCP request lines and response matching for the benches.
 *
 * Matching relies on two facts of the servers measured: a response carries
 * its id as a top-level `"id":<n>` (JSON text inside a result is a string,
 * so its quotes are escaped and cannot match), and it has a "result" or
 * "error" member. Notifications and server-to-client requests in between
 * are skipped. The protocol version asked for, 2025-06-18, is one every
 * server measured speaks. */
#define _GNU_SOURCE
#include "mcpline.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "peer.h"

#define MCPLINE_PROTOCOL "2025-06-18"

size_t mcpline_format_call(char *out, size_t cap, enum mcpline_call call, unsigned long long id,
                           const char *arg, const char *agent)
{
    int n;
    if (call == MCPLINE_ECHO)
        n = snprintf(out, cap,
                     "{\"jsonrpc\":\"2.0\",\"id\":%llu,\"method\":\"tools/call\",\"params\":"
                     "{\"name\":\"echo\",\"arguments\":{\"message\":\"%s\"}}}\n",
                     id, arg);
    else
        n = snprintf(out, cap,
                     "{\"jsonrpc\":\"2.0\",\"id\":%llu,\"method\":\"tools/call\",\"params\":"
                     "{\"name\":\"%s\",\"arguments\":{\"file\":\"%s\",\"agentId\":\"%s\"}}}\n",
                     id, call == MCPLINE_LOCK ? "lock_file" : "unlock_file", arg, agent);
    if (n < 0 || (size_t)n >= cap)
        return 0;
    return (size_t)n;
}

bool mcpline_is_response(const char *line, size_t len, unsigned long long id)
{
    static const char key[] = "\"id\":";
    const char *end = line + len;
    const char *p = line;
    bool found = false;
    while (!found && (p = memmem(p, (size_t)(end - p), key, sizeof(key) - 1))) {
        p += sizeof(key) - 1;
        unsigned long long v = 0;
        const char *d = p;
        while (d < end && *d >= '0' && *d <= '9')
            v = v * 10 + (unsigned long long)(*d++ - '0');
        found = d > p && d < end && (*d == ',' || *d == '}') && v == id;
    }
    return found && (memmem(line, len, "\"result\":", 9) || memmem(line, len, "\"error\":", 8));
}

bool mcpline_call_ok(enum mcpline_call call, const char *line, size_t len)
{
    if (!memmem(line, len, "\"result\":", 9) || memmem(line, len, "\"isError\":true", 14))
        return false;
    if (call == MCPLINE_ECHO)
        return memmem(line, len, "Echo: ", 6) != NULL;
    return memmem(line, len, "\"success\":true", 14) != NULL;
}

const char *mcpline_wait(struct peer *p, unsigned long long id, size_t *len)
{
    const char *line;
    while ((line = peer_read_line(p, len)))
        if (mcpline_is_response(line, *len, id))
            return line;
    return NULL;
}

/* Copy the first `"agentId":"…"` value of line into out. */
static bool mcpline_agent_of(const char *line, size_t len, char *out, size_t cap)
{
    static const char key[] = "\"agentId\":\"";
    const char *p = memmem(line, len, key, sizeof(key) - 1);
    if (!p)
        return false;
    p += sizeof(key) - 1;
    const char *q = memchr(p, '"', (size_t)(line + len - p));
    if (!q || (size_t)(q - p) >= cap)
        return false;
    memcpy(out, p, (size_t)(q - p));
    out[q - p] = '\0';
    return true;
}

int mcpline_handshake(struct peer *p, const char *agent, char *agent_out, size_t agent_cap)
{
    static const char init[] =
        "{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"initialize\",\"params\":{\"protocolVersion\":"
        "\"" MCPLINE_PROTOCOL "\",\"capabilities\":{},\"clientInfo\":{\"name\":\"coordhub-bench\","
        "\"version\":\"1\"}}}\n"
        "{\"jsonrpc\":\"2.0\",\"method\":\"notifications/initialized\"}\n";
    /* The notification may only follow the answer; send it separately. */
    const char *split = strchr(init, '\n') + 1;
    size_t len;
    if (peer_send(p, init, (size_t)(split - init)) != 0) {
        fprintf(stderr, "lockbench: cannot send initialize\n");
        return -1;
    }
    const char *line = mcpline_wait(p, 1, &len);
    if (!line || !memmem(line, len, "\"result\":", 9)) {
        fprintf(stderr, "lockbench: initialize failed: %.*s\n", line ? (int)len : 0,
                line ? line : "");
        return -1;
    }
    if (peer_send(p, split, strlen(split)) != 0)
        return -1;
    if (!agent)
        return 0;
    char req[512];
    int n = snprintf(req, sizeof(req),
                     "{\"jsonrpc\":\"2.0\",\"id\":2,\"method\":\"tools/call\",\"params\":{\"name\":"
                     "\"register_agent\",\"arguments\":{\"agentId\":\"%s\"}}}\n",
                     agent);
    if (n < 0 || (size_t)n >= sizeof(req) || peer_send(p, req, (size_t)n) != 0)
        return -1;
    line = mcpline_wait(p, 2, &len);
    if (!line || !memmem(line, len, "\"result\":", 9) ||
        memmem(line, len, "\"isError\":true", 14) ||
        !mcpline_agent_of(line, len, agent_out, agent_cap)) {
        fprintf(stderr, "lockbench: register_agent failed: %.*s\n", line ? (int)len : 0,
                line ? line : "");
        return -1;
    }
    return 0;
}
