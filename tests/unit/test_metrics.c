/* Unit tests for metrics: the exposition has every family from the first
 * scrape, labelled event counts with a bounded label set, escaping, and
 * the output cap. */
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
    struct metrics_face face;
    memset(&face, 0, sizeof(face));
    face.sse_clients = 5;
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

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_metrics__every_family_from_the_start),
        cmocka_unit_test(test_metrics__figures_and_labels),
        cmocka_unit_test(test_metrics__label_set_is_bounded),
        cmocka_unit_test(test_metrics__cap_leaves_the_buffer_unchanged),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
