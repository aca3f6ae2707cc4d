/* testprov — the coordhub executable with one more tool provider, for the
 * tests of tools that come and go at run time (tests/e2e/providers.test.mjs).
 * Built by cmake for the tests only; the product binary has none of it.
 *
 * The provider plugs in through the seam providers use (app/tool_host.h)
 * and owns two tools: test_toggle, always there, which adds test_extra
 * when it is absent and removes it when it is there, and reports the
 * change (every MCP session then gets notifications/tools/list_changed);
 * and test_extra, which echoes its `text` with the caller's agent. The
 * rest is the ordinary CLI (`serve`, `mcp`, …), so the bridge started as
 * `testprov mcp` starts a hub of this binary. */
#include <stdbool.h>
#include <stddef.h>

#include <cjson/cJSON.h>

#include "app/cli.h"
#include "app/tool_host.h"
#include "base/json.h"
#include "rpc/registry.h"
#include "rpc/tools.h"

static const struct tool_def testprov_toggle = {
    .name = "test_toggle",
    .title = "Toggle test_extra",
    .description = "Test provider: adds the tool test_extra when it is absent, removes it when "
                   "it is there.",
    .input_schema = "{\"type\":\"object\",\"additionalProperties\":false,\"properties\":{}}",
    .output_schema = "{\"type\":\"object\",\"required\":[\"extra\"],\"properties\":{"
                     "\"extra\":{\"type\":\"boolean\"}}}",
};

static const struct tool_def testprov_extra = {
    .name = "test_extra",
    .title = "Echo (test)",
    .description = "Test provider: echoes text, with the caller's agent.",
    .input_schema = "{\"type\":\"object\",\"additionalProperties\":false,\"required\":[\"text\"],"
                    "\"properties\":{\"text\":{\"type\":\"string\",\"maxLength\":16}}}",
    .output_schema = "{\"type\":\"object\",\"required\":[\"echo\"],\"properties\":{"
                     "\"echo\":{\"type\":\"string\"},\"agent\":{\"type\":[\"string\",\"null\"]}}}",
    .read_only = true,
    .idempotent = true,
};

struct testprov {
    struct tool_host *host;
    const struct tool_def *defs[2];
    size_t n;
};

static struct testprov testprov_self = {.defs = {&testprov_toggle}, .n = 1};

static const struct tool_def *const *testprov_list(void *self, size_t *n)
{
    struct testprov *p = self;
    *n = p->n;
    return p->defs;
}

static void testprov_call(void *self, struct tool_call *call, const struct tool_def *def,
                          const cJSON *args)
{
    struct testprov *p = self;
    cJSON *r = cJSON_CreateObject();
    if (def == &testprov_toggle) {
        if (p->n == 2) {
            p->n = 1;
        } else {
            p->defs[1] = &testprov_extra;
            p->n = 2;
        }
        tool_host_changed(p->host, p); /* the host it was attached to */
        cJSON_AddBoolToObject(r, "extra", p->n == 2);
    } else {
        cJSON_AddStringToObject(r, "echo", json_get_str(args, "text", ""));
        const char *agent = tool_call_agent(call);
        cJSON_AddItemToObject(r, "agent", agent ? cJSON_CreateString(agent) : cJSON_CreateNull());
    }
    tool_call_reply(call, r, false);
}

static void testprov_attach(void *self, struct tool_host *host)
{
    struct testprov *p = self;
    p->host = host;
}

static const struct tool_provider_ops testprov_ops = {
    .name = "test",
    .list = testprov_list,
    .call = testprov_call,
};

static const struct tool_host_plugin testprov_plugin = {
    .ops = &testprov_ops,
    .self = &testprov_self,
    .attach = testprov_attach,
};

int main(int argc, char **argv)
{
    json_use_xmalloc();
    if (tool_host_plug(&testprov_plugin) != 0)
        return 1;
    return cli_main(argc, argv);
}
