/* mcp_content — the fixed texts and listings the MCP engine serves: the
 * initialize instructions, the coordination_protocol prompt and the
 * coord:// resource catalogue. Data only; mcp.c renders it per protocol
 * revision. */
#ifndef COORDHUB_RPC_MCP_CONTENT_H
#define COORDHUB_RPC_MCP_CONTENT_H

#include <stddef.h>

#define MCP_CONTENT_PROMPT_NAME "coordination_protocol"
#define MCP_CONTENT_MIME "application/json"

struct mcp_content_resource {
    const char *uri;
    const char *name;
    const char *title;
    const char *description;
};

/* The short protocol returned as initialize `instructions` (< 1200 bytes). */
const char *mcp_content_instructions(void);

/* Title and description of the coordination_protocol prompt. */
const char *mcp_content_prompt_title(void);
const char *mcp_content_prompt_description(void);
/* The prompt's full text (caller frees). */
char *mcp_content_prompt_text(void);

/* The coord:// resources, in resources/list order. */
const struct mcp_content_resource *mcp_content_resources(size_t *n);
/* Index of uri in the resource list, or -1 when unknown. */
int mcp_content_resource_index(const char *uri);

#endif
