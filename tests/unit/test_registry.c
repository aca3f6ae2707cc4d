/* Unit tests for the tool registry: providers plug in and out, lookup,
 * listing order, name clashes, lists that change at run time, dispatch
 * and cancel reaching the provider that owns the tool. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "base/err.h"
#include "rpc/registry.h"

/* The host's call context, as a host defines it. */
struct tool_call {
    const char *answered_by;
    const char *tool;
};

struct fake_provider {
    const char *name;
    const struct tool_def *defs[4];
    size_t n;
    uint64_t parked_call; /* a call it holds (0: none) */
    int calls;
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
    (void)args;
    struct fake_provider *p = self;
    p->calls++;
    call->answered_by = p->name;
    call->tool = def->name;
}

static bool fake_cancel(void *self, uint64_t session, uint64_t call_id)
{
    struct fake_provider *p = self;
    if (session != 1 || call_id != p->parked_call)
        return false;
    p->parked_call = 0;
    return true;
}

static const struct tool_provider_ops fake_ops = {
    .name = "fake",
    .list = fake_list,
    .call = fake_call,
    .cancel = fake_cancel,
};

static const struct tool_def def_a = {.name = "a_tool", .needs_store = true};
static const struct tool_def def_b = {.name = "b_tool"};
static const struct tool_def def_c = {.name = "c_tool", .streams = true};
static const struct tool_def def_a_again = {.name = "a_tool"};

static void count_changes(void *arg)
{
    (*(int *)arg)++;
}

static void test_registry__providers_in_order_and_lookup(void **state)
{
    (void)state;
    int changes = 0;
    struct tool_registry *r = tool_registry_new(count_changes, &changes);
    struct fake_provider one = {.name = "one", .defs = {&def_a, &def_b}, .n = 2};
    struct fake_provider two = {.name = "two", .defs = {&def_c}, .n = 1};
    assert_int_equal(tool_registry_add(r, &fake_ops, &one), 0);
    assert_int_equal(tool_registry_add(r, &fake_ops, &two), 0);
    assert_int_equal(changes, 2);
    assert_int_equal(tool_registry_count(r), 3);
    assert_string_equal(tool_registry_at(r, 0)->name, "a_tool");
    assert_string_equal(tool_registry_at(r, 1)->name, "b_tool");
    assert_string_equal(tool_registry_at(r, 2)->name, "c_tool");
    assert_null(tool_registry_at(r, 3));
    assert_ptr_equal(tool_registry_find(r, "c_tool"), &def_c);
    assert_true(tool_registry_find(r, "a_tool")->needs_store);
    assert_null(tool_registry_find(r, "nope"));

    struct tool_call call = {0};
    assert_int_equal(tool_registry_call(r, &call, "c_tool", NULL), 0);
    assert_string_equal(call.answered_by, "two");
    assert_string_equal(call.tool, "c_tool");
    memset(&call, 0, sizeof(call));
    assert_int_equal(tool_registry_call(r, &call, "nope", NULL), -ERR_NOT_FOUND);
    assert_null(call.answered_by);
    assert_int_equal(one.calls + two.calls, 1);
    tool_registry_free(r);
}

static void test_registry__a_taken_name_is_refused_whole(void **state)
{
    (void)state;
    int changes = 0;
    struct tool_registry *r = tool_registry_new(count_changes, &changes);
    struct fake_provider one = {.name = "one", .defs = {&def_a}, .n = 1};
    struct fake_provider clash = {.name = "clash", .defs = {&def_c, &def_a_again}, .n = 2};
    assert_int_equal(tool_registry_add(r, &fake_ops, &one), 0);
    assert_int_equal(tool_registry_add(r, &fake_ops, &clash), -ERR_CONFLICT);
    assert_int_equal(changes, 1);
    assert_int_equal(tool_registry_count(r), 1);
    assert_null(tool_registry_find(r, "c_tool")); /* nothing of it was added */
    assert_ptr_equal(tool_registry_find(r, "a_tool"), &def_a);
    tool_registry_free(r);
}

static void test_registry__a_list_that_changes_at_run_time(void **state)
{
    (void)state;
    int changes = 0;
    struct tool_registry *r = tool_registry_new(count_changes, &changes);
    struct fake_provider one = {.name = "one", .defs = {&def_a}, .n = 1};
    struct fake_provider dyn = {.name = "dyn", .n = 0};
    assert_int_equal(tool_registry_add(r, &fake_ops, &one), 0);
    assert_int_equal(tool_registry_add(r, &fake_ops, &dyn), 0);
    assert_int_equal(tool_registry_count(r), 1);

    dyn.defs[0] = &def_c; /* a tool appears */
    dyn.n = 1;
    assert_null(tool_registry_find(r, "c_tool")); /* not before it says so */
    tool_registry_changed(r, &dyn);
    assert_int_equal(changes, 3);
    assert_ptr_equal(tool_registry_find(r, "c_tool"), &def_c);
    assert_int_equal(tool_registry_count(r), 2);

    dyn.defs[1] = &def_a_again; /* one whose name is taken: dropped */
    dyn.n = 2;
    tool_registry_changed(r, &dyn);
    assert_int_equal(tool_registry_count(r), 2);
    assert_ptr_equal(tool_registry_find(r, "a_tool"), &def_a);

    dyn.n = 0; /* both leave */
    tool_registry_changed(r, &dyn);
    assert_int_equal(changes, 5);
    assert_null(tool_registry_find(r, "c_tool"));
    struct tool_call call = {0};
    assert_int_equal(tool_registry_call(r, &call, "c_tool", NULL), -ERR_NOT_FOUND);

    tool_registry_remove(r, &one);
    assert_int_equal(changes, 6);
    assert_int_equal(tool_registry_count(r), 0);
    assert_null(tool_registry_find(r, "a_tool"));
    tool_registry_remove(r, &one); /* not there: nothing changes */
    assert_int_equal(changes, 6);
    tool_registry_free(r);
}

static void test_registry__cancel_reaches_the_provider_holding_the_call(void **state)
{
    (void)state;
    struct tool_registry *r = tool_registry_new(NULL, NULL);
    struct fake_provider one = {.name = "one", .defs = {&def_a}, .n = 1};
    struct fake_provider two = {.name = "two", .defs = {&def_b}, .n = 1, .parked_call = 9};
    assert_int_equal(tool_registry_add(r, &fake_ops, &one), 0);
    assert_int_equal(tool_registry_add(r, &fake_ops, &two), 0);
    assert_false(tool_registry_cancel(r, 1, 8));
    assert_true(tool_registry_cancel(r, 1, 9));
    assert_int_equal(two.parked_call, 0);
    assert_false(tool_registry_cancel(r, 1, 9)); /* once */
    tool_registry_free(r);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_registry__providers_in_order_and_lookup),
        cmocka_unit_test(test_registry__a_taken_name_is_refused_whole),
        cmocka_unit_test(test_registry__a_list_that_changes_at_run_time),
        cmocka_unit_test(test_registry__cancel_reaches_the_provider_holding_the_call),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
