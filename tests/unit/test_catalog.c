/* Unit tests for the tools/list catalog: both flavours of every tool's
 * text equal what tools_to_json gives, pages join those texts into a
 * valid ListToolsResult, a rebuild follows the registry (order, a tool
 * coming and going, the generation), and calls are validated against the
 * parsed inputSchema — a schema beyond schema_check passed on, one that
 * is not JSON refused. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "base/json.h"
#include "rpc/catalog.h"
#include "rpc/registry.h"
#include "rpc/tools.h"

struct fake_provider {
    const struct tool_def *defs[4];
    size_t n;
};

static const struct tool_def *const *fake_list(void *self, size_t *n)
{
    struct fake_provider *p = self;
    *n = p->n;
    return p->defs;
}

static void fake_call(void *self, struct tool_call *call, const struct tool_def *def,
                      const cJSON *args)
{
    (void)self;
    (void)call;
    (void)def;
    (void)args;
}

static const struct tool_provider_ops fake_ops = {
    .name = "fake", .list = fake_list, .call = fake_call};

static const struct tool_def def_echo = {
    .name = "echo",
    .title = "Echo",
    .description = "says it back",
    .input_schema = "{\"type\":\"object\",\"additionalProperties\":false,\"required\":[\"text\"],"
                    "\"properties\":{\"text\":{\"type\":\"string\",\"maxLength\":4}}}",
    .output_schema = "{\"type\":\"object\"}",
    .read_only = true,
};
static const struct tool_def def_proxied = {
    .name = "srv__tool",
    .input_schema = "{\"type\":\"object\",\"anyOf\":[{\"required\":[\"a\"]}]}",
};
static const struct tool_def def_broken = {.name = "broken", .input_schema = "{not json"};

/* The text tools_to_json gives for def, legacy or not. */
static char *expected_text(const struct tool_def *def, bool legacy)
{
    cJSON *t = tools_to_json(def);
    if (legacy) {
        cJSON_DeleteItemFromObjectCaseSensitive(t, "title");
        cJSON_DeleteItemFromObjectCaseSensitive(t, "outputSchema");
    }
    char *s = json_print(t);
    cJSON_Delete(t);
    return s;
}

static void rebuild(void *arg)
{
    void **pair = arg;
    tool_catalog_build(pair[0], pair[1]);
}

static void test_catalog__texts_are_the_tools_json_in_both_flavours(void **state)
{
    (void)state;
    size_t n;
    const struct tool_def *all = tools_all(&n);
    struct fake_provider core = {.n = 0};
    for (size_t i = 0; i < n && core.n < 2; i++)
        core.defs[core.n++] = &all[i];
    core.defs[core.n++] = &def_echo;
    struct tool_catalog *c = tool_catalog_new();
    void *pair[2] = {c, NULL};
    struct tool_registry *r = tool_registry_new(rebuild, pair);
    pair[1] = r;
    assert_int_equal(tool_registry_add(r, &fake_ops, &core), 0);
    assert_int_equal(tool_catalog_count(c), 3);
    for (size_t i = 0; i < 3; i++) {
        for (int legacy = 0; legacy < 2; legacy++) {
            char *want = expected_text(core.defs[i], legacy);
            assert_string_equal(tool_catalog_text(c, i, legacy), want);
            free(want);
        }
    }
    assert_null(strstr(tool_catalog_text(c, 2, true), "outputSchema"));
    assert_non_null(strstr(tool_catalog_text(c, 2, false), "\"title\":\"Echo\""));
    assert_null(tool_catalog_text(c, 3, false));

    /* A page is the texts joined, with the cursor when one is given. */
    char *page = tool_catalog_page(c, 1, 3, false, "abc");
    cJSON *v = cJSON_Parse(page);
    assert_non_null(v);
    const cJSON *tools = cJSON_GetObjectItemCaseSensitive(v, "tools");
    assert_int_equal(cJSON_GetArraySize(tools), 2);
    assert_string_equal(json_get_str(cJSON_GetArrayItem(tools, 1), "name", ""), "echo");
    assert_string_equal(json_get_str(v, "nextCursor", ""), "abc");
    cJSON_Delete(v);
    free(page);
    page = tool_catalog_page(c, 2, 99, true, NULL); /* clamped; no cursor */
    char *want = expected_text(&def_echo, true);
    char expect[4096];
    snprintf(expect, sizeof(expect), "{\"tools\":[%s]}", want);
    assert_string_equal(page, expect);
    free(want);
    free(page);
    page = tool_catalog_page(c, 3, 3, false, NULL);
    assert_string_equal(page, "{\"tools\":[]}");
    free(page);
    tool_registry_free(r);
    tool_catalog_free(c);
}

static void test_catalog__rebuilt_when_the_registry_changes(void **state)
{
    (void)state;
    struct tool_catalog *c = tool_catalog_new();
    assert_int_equal(tool_catalog_generation(c), 0);
    assert_int_equal(tool_catalog_count(c), 0);
    void *pair[2] = {c, NULL};
    struct tool_registry *r = tool_registry_new(rebuild, pair);
    pair[1] = r;
    struct fake_provider one = {.defs = {&def_echo}, .n = 1};
    struct fake_provider dyn = {.n = 0};
    assert_int_equal(tool_registry_add(r, &fake_ops, &one), 0);
    assert_int_equal(tool_registry_add(r, &fake_ops, &dyn), 0);
    uint64_t g = tool_catalog_generation(c);
    assert_int_equal(g, 2);
    assert_null(tool_catalog_find(c, "srv__tool"));

    dyn.defs[0] = &def_proxied;
    dyn.n = 1;
    assert_null(tool_catalog_find(c, "srv__tool")); /* not before it says so */
    tool_registry_changed(r, &dyn);
    assert_int_equal(tool_catalog_generation(c), g + 1);
    assert_ptr_equal(tool_catalog_find(c, "srv__tool"), &def_proxied);
    assert_int_equal(tool_catalog_count(c), 2);

    dyn.n = 0; /* it goes */
    tool_registry_changed(r, &dyn);
    assert_null(tool_catalog_find(c, "srv__tool"));
    assert_int_equal(tool_catalog_count(c), 1);
    assert_ptr_equal(tool_catalog_find(c, "echo"), &def_echo);
    assert_null(tool_catalog_find(c, NULL));
    tool_registry_free(r);
    tool_catalog_free(c);
    tool_catalog_free(NULL);
}

static void test_catalog__calls_are_validated_against_the_schema(void **state)
{
    (void)state;
    struct tool_catalog *c = tool_catalog_new();
    void *pair[2] = {c, NULL};
    struct tool_registry *r = tool_registry_new(rebuild, pair);
    pair[1] = r;
    struct fake_provider p = {.defs = {&def_echo, &def_proxied, &def_broken}, .n = 3};
    assert_int_equal(tool_registry_add(r, &fake_ops, &p), 0);
    char *msg = NULL;
    cJSON *ok = cJSON_Parse("{\"text\":\"hi\"}");
    cJSON *too_long = cJSON_Parse("{\"text\":\"hello\"}");
    cJSON *other = cJSON_Parse("{\"b\":1}");
    assert_true(tool_catalog_validate(c, &def_echo, ok, &msg));
    assert_null(msg);
    assert_false(tool_catalog_validate(c, &def_echo, too_long, &msg));
    assert_string_equal(msg, "argument 'text': must be a string of at most 4 characters");
    free(msg);
    assert_false(tool_catalog_validate(c, &def_echo, NULL, &msg));
    assert_string_equal(msg, "missing required argument 'text'");
    free(msg);
    /* anyOf is beyond schema_check: the call is passed on. */
    assert_true(tool_catalog_validate(c, &def_proxied, other, &msg));
    assert_null(msg);
    assert_false(tool_catalog_validate(c, &def_broken, ok, &msg));
    assert_string_equal(msg, "tool has no valid inputSchema");
    free(msg);
    cJSON_Delete(ok);
    cJSON_Delete(too_long);
    cJSON_Delete(other);
    tool_registry_free(r);
    tool_catalog_free(c);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_catalog__texts_are_the_tools_json_in_both_flavours),
        cmocka_unit_test(test_catalog__rebuilt_when_the_registry_changes),
        cmocka_unit_test(test_catalog__calls_are_validated_against_the_schema),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
