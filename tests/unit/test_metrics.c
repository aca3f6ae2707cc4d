/* Unit tests for metrics: the exposition has every family from the first
 * scrape, labelled event counts with a bounded label set, escaping,
 * histograms (bucket edges, cumulative counts, +Inf, sum and count, with
 * and without labels), tool calls by outcome, cache reads, and the output
 * cap. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "api/metrics.h"

static void test_metrics__every_family_from_the_start(void **state)
{
    (void)state;
    struct metrics_hub hub;
    memset(&hub, 0, sizeof(hub));
    struct metrics_face face;
    memset(&face, 0, sizeof(face));
    struct metrics_event_counts ev;
    memset(&ev, 0, sizeof(ev));
    struct buf b;
    buf_init(&b, 0);
    assert_int_equal(metrics_render(&b, &hub, &face, &ev), 0);
    static const char *const names[] = {
        "coordhub_events_total 0\n",
        "coordhub_leases 0\n",
        "coordhub_lock_contended_total 0\n",
        "coordhub_lock_expired_total 0\n",
        "coordhub_agents 0\n",
        "coordhub_sessions 0\n",
        "coordhub_sse_clients 0\n",
        "coordhub_loop_lag_seconds 0.000000\n",
        "coordhub_store_last_seq 0\n",
        "# TYPE coordhub_events_total counter\n",
        "# TYPE coordhub_leases gauge\n",
        "# TYPE coordhub_lock_wait_seconds histogram\n",
        "coordhub_lock_wait_seconds_bucket{le=\"+Inf\"} 0\n",
        "coordhub_lock_wait_seconds_count 0\n",
        "coordhub_lock_wait_granted_total 0\n",
        "coordhub_lock_wait_timed_out_total 0\n",
        "coordhub_lock_wait_cancelled_total 0\n",
        "coordhub_tasks_completed_total 0\n",
        "coordhub_tasks_failed_total 0\n",
        "coordhub_tasks_released_total 0\n",
        "# TYPE coordhub_task_cycle_seconds histogram\n",
        "coordhub_task_cycle_seconds_sum 0.000000\n",
        "# TYPE coordhub_tool_calls_total counter\n",
        "# TYPE coordhub_tool_call_seconds histogram\n",
        "# TYPE coordhub_store_append_seconds histogram\n",
        "coordhub_store_append_errors_total 0\n",
        "coordhub_store_conflicts_total 0\n",
        "coordhub_commands_reevaluated_total 0\n",
        "# TYPE coordhub_commit_batch_events histogram\n",
        "coordhub_event_cache_hits_total{reader=\"events\"} 0\n",
        "coordhub_event_cache_misses_total{reader=\"wait_for_events\"} 0\n",
        "# TYPE coordhub_store_foreign_messages_total counter\n",
        "coordhub_store_foreign_messages_total{outcome=\"ingested\"} 0\n",
        "coordhub_store_foreign_messages_total{outcome=\"failed\"} 0\n",
        "coordhub_socket_pending 0\n",
        "coordhub_socket_refused_total 0\n",
        "coordhub_socket_dropped_total 0\n",
        "# TYPE coordhub_accept_failures_total counter\n",
        "coordhub_accept_failures_total{listener=\"http\"} 0\n",
        "coordhub_accept_failures_total{listener=\"socket\"} 0\n",
    };
    for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++)
        if (!strstr(b.data, names[i]))
            fail_msg("missing '%s' in:\n%s", names[i], b.data);
    buf_deinit(&b);
}

static void test_metrics__figures_and_labels(void **state)
{
    (void)state;
    struct metrics_hub hub;
    memset(&hub, 0, sizeof(hub));
    hub.leases = 3;
    hub.lock_contended_total = 7;
    hub.store_last_seq = 1042;
    hub.loop_lag_seconds = 0.25;
    hub.tasks_open = 2;
    hub.foreign.ingested = 4;
    hub.foreign.duplicate = 3;
    hub.foreign.ignored = 9;
    hub.foreign.invalid = 2;
    hub.foreign.reserved = 5;
    hub.foreign.failed = 1;
    struct metrics_face face;
    memset(&face, 0, sizeof(face));
    face.sse_clients = 5;
    face.http_accept_failures_total = 11;
    hub.socket_accept_failures_total = 12;
    hub.socket_pending = 6;
    struct metrics_event_counts ev;
    memset(&ev, 0, sizeof(ev));
    metrics_event_counts_add(&ev, "file:locked");
    metrics_event_counts_add(&ev, "file:locked");
    metrics_event_counts_add(&ev, "we\"ird\\");
    struct buf b;
    buf_init(&b, 0);
    assert_int_equal(metrics_render(&b, &hub, &face, &ev), 0);
    assert_non_null(strstr(b.data, "\ncoordhub_events_total 3\n"));
    assert_non_null(strstr(b.data, "\ncoordhub_events_by_type_total{type=\"file:locked\"} 2\n"));
    assert_non_null(strstr(b.data, "{type=\"we\\\"ird\\\\\"} 1\n"));
    assert_non_null(strstr(b.data, "\ncoordhub_leases 3\n"));
    assert_non_null(strstr(b.data, "\ncoordhub_lock_contended_total 7\n"));
    assert_non_null(strstr(b.data, "\ncoordhub_store_last_seq 1042\n"));
    assert_non_null(strstr(b.data, "\ncoordhub_loop_lag_seconds 0.250000\n"));
    assert_non_null(strstr(b.data, "\ncoordhub_tasks{status=\"open\"} 2\n"));
    assert_non_null(strstr(b.data, "\ncoordhub_sse_clients 5\n"));
    assert_non_null(strstr(b.data, "\ncoordhub_socket_pending 6\n"));
    assert_non_null(strstr(b.data, "\ncoordhub_accept_failures_total{listener=\"http\"} 11\n"
                                   "coordhub_accept_failures_total{listener=\"socket\"} 12\n"));
    assert_non_null(strstr(b.data,
                           "\ncoordhub_store_foreign_messages_total{outcome=\"ingested\"} 4\n"
                           "coordhub_store_foreign_messages_total{outcome=\"duplicate\"} 3\n"
                           "coordhub_store_foreign_messages_total{outcome=\"ignored\"} 9\n"
                           "coordhub_store_foreign_messages_total{outcome=\"invalid\"} 2\n"
                           "coordhub_store_foreign_messages_total{outcome=\"reserved\"} 5\n"
                           "coordhub_store_foreign_messages_total{outcome=\"failed\"} 1\n"));
    buf_deinit(&b);
}

static void test_metrics__label_set_is_bounded(void **state)
{
    (void)state;
    struct metrics_event_counts ev;
    memset(&ev, 0, sizeof(ev));
    char type[32];
    for (int i = 0; i < METRICS_MAX_TYPES + 10; i++) {
        snprintf(type, sizeof(type), "x:t%d", i);
        metrics_event_counts_add(&ev, type);
    }
    assert_int_equal(ev.ntypes, METRICS_MAX_TYPES);
    assert_int_equal(ev.other, 10);
    assert_int_equal(ev.total, METRICS_MAX_TYPES + 10);
    metrics_event_counts_add(&ev, "x:t0"); /* known types still count */
    assert_int_equal(ev.by_type[0].n, 2);
}

static void test_metrics__cap_leaves_the_buffer_unchanged(void **state)
{
    (void)state;
    struct metrics_hub hub;
    memset(&hub, 0, sizeof(hub));
    struct metrics_face face;
    memset(&face, 0, sizeof(face));
    struct metrics_event_counts ev;
    memset(&ev, 0, sizeof(ev));
    struct buf b;
    buf_init(&b, 200);
    assert_int_equal(buf_append_str(&b, "x"), 0);
    assert_int_equal(metrics_render(&b, &hub, &face, &ev), -ERR_TOO_LARGE);
    assert_int_equal(b.len, 1);
    assert_string_equal(b.data, "x");
    buf_deinit(&b);
}

/* The line of series `key` (name plus labels) in text, or fail. */
static unsigned long long series(const char *text, const char *key)
{
    char pat[256];
    snprintf(pat, sizeof(pat), "\n%s ", key);
    const char *p = strstr(text, pat);
    if (!p)
        fail_msg("no series '%s' in:\n%s", key, text);
    return strtoull(p + strlen(pat), NULL, 10);
}

static void test_metrics__histogram_buckets_are_cumulative(void **state)
{
    (void)state;
    struct metrics_hub hub;
    memset(&hub, 0, sizeof(hub));
    /* Wait scale bounds: 0.001 0.005 0.01 0.05 0.1 0.25 0.5 1 2.5 5 10 20 30 45 60. */
    const double waits[] = {0.0005, 0.001, 0.002, 0.3, 1.0, 59.0, 61.0, 3600.0};
    for (size_t i = 0; i < sizeof(waits) / sizeof(waits[0]); i++)
        metrics_histogram_observe(&hub.lock_wait_seconds, METRICS_SCALE_WAIT, waits[i]);
    assert_int_equal(hub.lock_wait_seconds.count, 8);
    struct metrics_face face;
    memset(&face, 0, sizeof(face));
    struct metrics_event_counts ev;
    memset(&ev, 0, sizeof(ev));
    struct buf b;
    buf_init(&b, 0);
    assert_int_equal(metrics_render(&b, &hub, &face, &ev), 0);
    const char *n = "coordhub_lock_wait_seconds_bucket";
    char key[128];
    static const struct {
        const char *le;
        unsigned long long cum;
    } want[] = {{"0.001", 2}, {"0.005", 3}, {"0.25", 3}, {"0.5", 4},
                {"1", 5},     {"45", 5},    {"60", 6},   {"+Inf", 8}};
    for (size_t i = 0; i < sizeof(want) / sizeof(want[0]); i++) {
        snprintf(key, sizeof(key), "%s{le=\"%s\"}", n, want[i].le);
        if (series(b.data, key) != want[i].cum)
            fail_msg("%s: %llu, want %llu", key, series(b.data, key), want[i].cum);
    }
    assert_int_equal(series(b.data, "coordhub_lock_wait_seconds_count"), 8);
    assert_non_null(strstr(b.data, "\ncoordhub_lock_wait_seconds_sum 3721.303500\n"));
    /* Batch scale: integer bounds. */
    metrics_histogram_observe(&hub.commit_batch_events, METRICS_SCALE_BATCH, 3);
    buf_deinit(&b);
    buf_init(&b, 0);
    assert_int_equal(metrics_render(&b, &hub, &face, &ev), 0);
    assert_int_equal(series(b.data, "coordhub_commit_batch_events_bucket{le=\"2\"}"), 0);
    assert_int_equal(series(b.data, "coordhub_commit_batch_events_bucket{le=\"4\"}"), 1);
    assert_int_equal(series(b.data, "coordhub_commit_batch_events_bucket{le=\"4096\"}"), 1);
    buf_deinit(&b);
}

static void test_metrics__tool_calls_by_outcome(void **state)
{
    (void)state;
    struct metrics_tool tools[3];
    memset(tools, 0, sizeof(tools));
    tools[0].name = "lock_file";
    tools[0].ok = 4;
    tools[0].refused = 2;
    tools[0].error = 1;
    metrics_histogram_observe(&tools[0].seconds, METRICS_SCALE_LATENCY, 0.0002);
    metrics_histogram_observe(&tools[0].seconds, METRICS_SCALE_LATENCY, 0.003);
    tools[1].name = "list_tasks"; /* never called: no series */
    tools[2].name = "other";
    tools[2].error = 5;
    struct metrics_hub hub;
    memset(&hub, 0, sizeof(hub));
    hub.tools = tools;
    hub.ntools = 3;
    hub.wait_cache.hits = 7;
    hub.wait_cache.misses = 1;
    struct metrics_face face;
    memset(&face, 0, sizeof(face));
    face.sse_cache.hits = 3;
    face.sse_cache.misses = 2;
    struct metrics_event_counts ev;
    memset(&ev, 0, sizeof(ev));
    struct buf b;
    buf_init(&b, 0);
    assert_int_equal(metrics_render(&b, &hub, &face, &ev), 0);
    const char *t = b.data;
    assert_int_equal(series(t, "coordhub_tool_calls_total{tool=\"lock_file\",outcome=\"ok\"}"), 4);
    assert_int_equal(series(t, "coordhub_tool_calls_total{tool=\"lock_file\",outcome=\"refused\"}"),
                     2);
    assert_int_equal(series(t, "coordhub_tool_calls_total{tool=\"lock_file\",outcome=\"error\"}"),
                     1);
    assert_int_equal(series(t, "coordhub_tool_calls_total{tool=\"other\",outcome=\"error\"}"), 5);
    assert_null(strstr(t, "list_tasks"));
    assert_int_equal(
        series(t, "coordhub_tool_call_seconds_bucket{tool=\"lock_file\",le=\"0.0001\"}"), 0);
    assert_int_equal(
        series(t, "coordhub_tool_call_seconds_bucket{tool=\"lock_file\",le=\"0.00025\"}"), 1);
    assert_int_equal(
        series(t, "coordhub_tool_call_seconds_bucket{tool=\"lock_file\",le=\"0.0025\"}"), 1);
    assert_int_equal(
        series(t, "coordhub_tool_call_seconds_bucket{tool=\"lock_file\",le=\"0.005\"}"), 2);
    assert_int_equal(series(t, "coordhub_tool_call_seconds_bucket{tool=\"lock_file\",le=\"+Inf\"}"),
                     2);
    assert_int_equal(series(t, "coordhub_tool_call_seconds_count{tool=\"lock_file\"}"), 2);
    assert_non_null(strstr(t, "\ncoordhub_tool_call_seconds_sum{tool=\"lock_file\"} 0.003200\n"));
    /* "other" has calls but no latency samples: no histogram series. */
    assert_null(strstr(t, "coordhub_tool_call_seconds_count{tool=\"other\"}"));
    assert_int_equal(series(t, "coordhub_event_cache_hits_total{reader=\"events\"}"), 3);
    assert_int_equal(series(t, "coordhub_event_cache_misses_total{reader=\"events\"}"), 2);
    assert_int_equal(series(t, "coordhub_event_cache_hits_total{reader=\"wait_for_events\"}"), 7);
    assert_int_equal(series(t, "coordhub_event_cache_misses_total{reader=\"wait_for_events\"}"), 1);
    buf_deinit(&b);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_metrics__every_family_from_the_start),
        cmocka_unit_test(test_metrics__figures_and_labels),
        cmocka_unit_test(test_metrics__label_set_is_bounded),
        cmocka_unit_test(test_metrics__histogram_buckets_are_cumulative),
        cmocka_unit_test(test_metrics__tool_calls_by_outcome),
        cmocka_unit_test(test_metrics__cap_leaves_the_buffer_unchanged),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
