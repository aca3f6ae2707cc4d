/* testprov — the coordhub executable with one more tool provider, for the
 * tests of tools that come and go at run time (tests/e2e/providers.test.mjs).
 * Built by cmake for the tests only; the product binary has none of it.
 *
 * The provider plugs in through the seam providers use (app/tool_host.h)
 * and owns these tools: test_toggle, always there, which adds test_extra
 * when it is absent and removes it when it is there, and reports the
 * change (every MCP session then gets notifications/tools/list_changed);
 * test_extra, which echoes its `text` with the caller's agent; test_later,
 * held (answered later, by test_release, unless cancelled or its session
 * leaves first: the host offers it to `cancel`); and test_release,
 * which answers every held test_later and says how many it held and how
 * many the host took. The rest is the ordinary CLI (`serve`, `mcp`, …), so the bridge started as
 * `testprov mcp` starts a hub of this binary. */
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

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

static const struct tool_def testprov_later = {
    .name = "test_later",
    .title = "Echo later (test)",
    .description = "Test provider: echoes text once test_release is called.",
    .input_schema = "{\"type\":\"object\",\"additionalProperties\":false,\"required\":[\"text\"],"
                    "\"properties\":{\"text\":{\"type\":\"string\",\"maxLength\":16}}}",
    .output_schema = "{\"type\":\"object\",\"required\":[\"echo\"],\"properties\":{"
                     "\"echo\":{\"type\":\"string\"}}}",
    .read_only = true,
    .streams = true,
};

static const struct tool_def testprov_release = {
    .name = "test_release",
    .title = "Answer the held calls (test)",
    .description = "Test provider: answers every held test_later; returns how many it held "
                   "and how many of those the host took an answer for.",
    .input_schema = "{\"type\":\"object\",\"additionalProperties\":false,\"properties\":{}}",
    .output_schema = "{\"type\":\"object\",\"required\":[\"released\"],\"properties\":{"
                     "\"released\":{\"type\":\"integer\"},\"held\":{\"type\":\"integer\"}}}",
};

#define TESTPROV_HELD_MAX 16

struct testprov_held {
    uint64_t session, call_id;
    char text[17];
};

struct testprov {
    struct tool_host *host;
    const struct tool_def *defs[4];
    size_t n;
    struct testprov_held held[TESTPROV_HELD_MAX];
    size_t nheld;
};

static struct testprov testprov_self = {
    .defs = {&testprov_toggle, &testprov_later, &testprov_release}, .n = 3};

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
    if (def == &testprov_later && p->nheld < TESTPROV_HELD_MAX) {
        struct testprov_held *d = &p->held[p->nheld++];
        d->session = tool_call_session(call);
        d->call_id = tool_call_id(call);
        snprintf(d->text, sizeof(d->text), "%s", json_get_str(args, "text", ""));
        tool_call_hold(call);
        return;
    }
    cJSON *r = cJSON_CreateObject();
    if (def == &testprov_toggle) {
        if (p->n == 4) {
            p->n = 3;
        } else {
            p->defs[3] = &testprov_extra;
            p->n = 4;
        }
        tool_host_changed(p->host, p); /* the host it was attached to */
        cJSON_AddBoolToObject(r, "extra", p->n == 4);
    } else if (def == &testprov_release) {
        int released = 0;
        for (size_t i = 0; i < p->nheld; i++) {
            cJSON *e = cJSON_CreateObject();
            cJSON_AddStringToObject(e, "echo", p->held[i].text);
            if (tool_host_reply(p->host, p->held[i].session, p->held[i].call_id, e, false) == 0)
                released++;
        }
        cJSON_AddNumberToObject(r, "held", (double)p->nheld);
        p->nheld = 0;
        cJSON_AddNumberToObject(r, "released", released);
    } else if (def == &testprov_later) {
        cJSON_AddStringToObject(r, "error", "too many held calls");
        tool_call_reply(call, r, true);
        return;
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

/* A held test_later is cancelled (or its session left): drop it. */
static bool testprov_cancel(void *self, uint64_t session, uint64_t call_id)
{
    struct testprov *p = self;
    for (size_t i = 0; i < p->nheld; i++) {
        if (p->held[i].session == session && p->held[i].call_id == call_id) {
            p->held[i] = p->held[--p->nheld];
            return true;
        }
    }
    return false;
}

static const struct tool_provider_ops testprov_ops = {
    .name = "test",
    .list = testprov_list,
    .call = testprov_call,
    .cancel = testprov_cancel,
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
