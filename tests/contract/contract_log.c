/* contract_log — the write path and reads of the store contract:
 * compare-and-append, batch atomicity, round trips and read windows.
 * Every test checks what is in the log afterwards, not only the status, so
 * a backend that reports failure but writes anyway fails here. */
#include "contract.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "base/xmalloc.h"

/* Assert the log holds exactly seqs first..last with the given tag
 * (contract_batch's data), in order. */
static void contract_assert_log(struct contract_fixture *f, uint64_t first, uint64_t last,
                                const char *tag)
{
    struct event_vec v;
    uint64_t seq = 0;
    event_vec_init(&v);
    assert_int_equal(f->store->ops->last_seq(f->store, &seq), 0);
    assert_int_equal(seq, last);
    assert_int_equal(f->store->ops->read(f->store, 0, SIZE_MAX, &v), 0);
    assert_int_equal(v.len, last - first + 1);
    for (size_t i = 0; i < v.len; i++) {
        assert_int_equal(v.items[i].seq, first + i);
        const cJSON *i_val = cJSON_GetObjectItemCaseSensitive(v.items[i].data, "i");
        assert_true(cJSON_IsNumber(i_val));
        assert_true(i_val->valuedouble == (double)(first + i));
        assert_string_equal(cJSON_GetStringValue(cJSON_GetObjectItem(v.items[i].data, "tag")), tag);
    }
    event_vec_deinit(&v);
}

void test_store__empty_log(void **state)
{
    struct contract_fixture *f = *state;
    struct store *s = f->store;
    struct event_vec v;
    uint64_t seq = 99;
    char *text = (char *)"sentinel";

    event_vec_init(&v);
    assert_int_equal(s->ops->last_seq(s, &seq), 0);
    assert_int_equal(seq, 0);
    assert_int_equal(s->ops->first_seq(s, &seq), 0);
    assert_int_equal(seq, 1);
    assert_int_equal(s->ops->read(s, 0, 100, &v), 0);
    assert_int_equal(v.len, 0);
    assert_int_equal(s->ops->snapshot_load(s, &seq, &text), 0);
    assert_int_equal(seq, 0);
    assert_null(text);
    event_vec_deinit(&v);
}

/* Events whose fields exercise what a store could mangle: NULL and
 * non-NULL optional strings, extreme timestamps, Unicode, escapes,
 * control characters, nesting, and numbers. Numbers stay within what
 * cJSON itself round-trips: it prints doubles with 15 significant digits
 * whenever that compares "equal" within DBL_EPSILON, so 2^53 comes back as
 * 9007199254740990 and DBL_MAX as null, whatever the store does. */
static void contract_make_varied(struct event *evs)
{
    const char *json0 = "{\"file\":\"src/\xc3\xa9t\xc3\xa9/\xe6\xbc\xa2\xe5\xad\x97.rs\","
                        "\"agentId\":\"cursor-1a2b3c\",\"reason\":\"line1\\nline2\\t\\\"q\\\" "
                        "\\\\ \\u0001 \xf0\x9f\x99\x82\",\"mode\":\"exclusive\",\"token\":1,"
                        "\"big\":123456789012345,\"neg\":-12345678901,\"frac\":0.1,"
                        "\"tiny\":1e-300,\"huge\":1e300}";
    const char *json1 = "{\"nested\":{\"a\":[1,[2,[3,{\"b\":null}]],true,false],\"\":\"\"},"
                        "\"list\":[],\"obj\":{}}";
    event_init(&evs[0], EVENT_FILE_LOCKED, 1790000000123, cJSON_Parse(json0));
    evs[0].seq = 1;
    evs[0].source_id = xstrdup("hub-3f2a");

    event_init(&evs[1], "custom.ns:thing-happened", -1, cJSON_Parse(json1));
    evs[1].seq = 2;
    free(evs[1].source);
    evs[1].source = xstrdup("backend-service");
    evs[1].source_id = xstrdup("pub-9");
    evs[1].signature = xstrdup("t=1790000000,v1=0123456789abcdef");

    event_init(&evs[2], EVENT_TASK_CREATED, INT64_MAX, NULL);
    evs[2].seq = 3;

    event_init(&evs[3], EVENT_GUIDANCE_MESSAGE, INT64_MIN, cJSON_CreateObject());
    evs[3].seq = 4;
    cJSON_AddStringToObject(evs[3].data, "text", "");
}

void test_store__append_read_round_trip(void **state)
{
    struct contract_fixture *f = *state;
    struct store *s = f->store;
    struct event evs[4];
    struct event_vec v;
    struct contract_ack ack;

    contract_make_varied(evs);
    assert_non_null(evs[0].data);
    assert_non_null(evs[1].data);
    assert_int_equal(contract_append(f, 0, evs, 4, &ack), 0);
    assert_int_equal(ack.calls, 1);
    assert_int_equal(ack.status, 0);
    assert_int_equal(ack.seq, 4);

    event_vec_init(&v);
    assert_int_equal(s->ops->read(s, 0, 10, &v), 0);
    assert_int_equal(v.len, 4);
    for (size_t i = 0; i < 4; i++)
        contract_assert_event_eq(&v.items[i], &evs[i]);
    /* The wire form, which is what subscribers see, is identical too. */
    for (size_t i = 0; i < 4; i++) {
        char *a = event_to_text(&v.items[i], "ws");
        char *b = event_to_text(&evs[i], "ws");
        assert_string_equal(a, b);
        free(a);
        free(b);
    }
    event_vec_deinit(&v);
    for (size_t i = 0; i < 4; i++)
        event_deinit(&evs[i]);
}

void test_store__seqs_must_be_consecutive(void **state)
{
    struct contract_fixture *f = *state;
    struct contract_ack ack;
    struct event *evs = contract_batch(1, 3, "bad");

    contract_append_ok(f, 0, 2, "good");

    /* A gap inside the batch. */
    evs[0].seq = 3;
    evs[1].seq = 5;
    evs[2].seq = 6;
    assert_int_equal(contract_append(f, 2, evs, 3, &ack), -ERR_INVALID);
    assert_int_equal(ack.calls, 0);
    /* Consecutive, but not starting at expected+1. */
    evs[0].seq = 4;
    evs[1].seq = 5;
    evs[2].seq = 6;
    assert_int_equal(contract_append(f, 2, evs, 3, &ack), -ERR_INVALID);
    assert_int_equal(ack.calls, 0);
    /* Reusing a seq that already exists. */
    evs[0].seq = 2;
    evs[1].seq = 3;
    evs[2].seq = 4;
    assert_int_equal(contract_append(f, 2, evs, 3, &ack), -ERR_INVALID);
    assert_int_equal(ack.calls, 0);
    /* Descending. */
    evs[0].seq = 5;
    evs[1].seq = 4;
    evs[2].seq = 3;
    assert_int_equal(contract_append(f, 2, evs, 3, &ack), -ERR_INVALID);
    assert_int_equal(ack.calls, 0);
    /* seq 0 is "not yet assigned". */
    evs[0].seq = 0;
    assert_int_equal(contract_append(f, 2, evs, 1, &ack), -ERR_INVALID);
    assert_int_equal(ack.calls, 0);

    contract_assert_log(f, 1, 2, "good");
    contract_batch_free(evs, 3);
}

void test_store__conflict_reports_current_seq(void **state)
{
    struct contract_fixture *f = *state;
    struct contract_ack ack;

    contract_append_ok(f, 0, 3, "first");

    /* A writer that missed events 2 and 3. */
    struct event *stale = contract_batch(2, 1, "stale");
    assert_int_equal(contract_append(f, 1, stale, 1, &ack), 0);
    assert_int_equal(ack.calls, 1);
    assert_int_equal(ack.status, -ERR_CONFLICT);
    assert_int_equal(ack.seq, 3);
    contract_batch_free(stale, 1);

    /* A writer that believes the log is ahead of where it is. */
    struct event *ahead = contract_batch(8, 1, "ahead");
    assert_int_equal(contract_append(f, 7, ahead, 1, &ack), 0);
    assert_int_equal(ack.calls, 1);
    assert_int_equal(ack.status, -ERR_CONFLICT);
    assert_int_equal(ack.seq, 3);
    contract_batch_free(ahead, 1);

    /* An empty-log writer. */
    struct event *fresh = contract_batch(1, 1, "fresh");
    assert_int_equal(contract_append(f, 0, fresh, 1, &ack), 0);
    assert_int_equal(ack.status, -ERR_CONFLICT);
    assert_int_equal(ack.seq, 3);
    contract_batch_free(fresh, 1);

    contract_assert_log(f, 1, 3, "first");
    /* The reported seq is the one to retry with. */
    contract_append_ok(f, 3, 1, "first");
    contract_assert_log(f, 1, 4, "first");
}

void test_store__conflicting_batch_writes_nothing(void **state)
{
    struct contract_fixture *f = *state;
    struct contract_ack ack;

    contract_append_ok(f, 0, 5, "kept");
    /* 100 events that would be valid after seq 4, offered after 5 was
     * written by someone else: none of them may land. */
    struct event *evs = contract_batch(5, 100, "lost");
    assert_int_equal(contract_append(f, 4, evs, 100, &ack), 0);
    assert_int_equal(ack.calls, 1);
    assert_int_equal(ack.status, -ERR_CONFLICT);
    assert_int_equal(ack.seq, 5);
    contract_batch_free(evs, 100);
    contract_assert_log(f, 1, 5, "kept");
}

void test_store__read_windows(void **state)
{
    struct contract_fixture *f = *state;
    struct store *s = f->store;
    struct event_vec v;
    static const struct {
        uint64_t since;
        size_t limit;
        uint64_t first; /* expected first seq (0: nothing) */
        size_t count;
    } cases[] = {
        {0, 10, 1, 10},        {10, 10, 11, 10},     {45, 10, 46, 5}, {49, 1, 50, 1},
        {50, 10, 0, 0},        {1000, 10, 0, 0},     {0, 0, 0, 0},    {0, SIZE_MAX, 1, 50},
        {UINT64_MAX, 5, 0, 0}, {7, SIZE_MAX, 8, 43},
    };

    for (uint64_t expected = 0; expected < 50; expected += 10)
        contract_append_ok(f, expected, 10, "w");

    event_vec_init(&v);
    for (size_t c = 0; c < sizeof(cases) / sizeof(*cases); c++) {
        event_vec_clear(&v);
        assert_int_equal(s->ops->read(s, cases[c].since, cases[c].limit, &v), 0);
        assert_int_equal(v.len, cases[c].count);
        for (size_t i = 0; i < v.len; i++)
            assert_int_equal(v.items[i].seq, cases[c].first + i);
    }

    /* read appends to what the caller already holds. */
    event_vec_clear(&v);
    assert_int_equal(s->ops->read(s, 0, 3, &v), 0);
    assert_int_equal(s->ops->read(s, 3, 3, &v), 0);
    assert_int_equal(v.len, 6);
    for (size_t i = 0; i < v.len; i++)
        assert_int_equal(v.items[i].seq, i + 1);
    event_vec_deinit(&v);
}

void test_store__large_batches(void **state)
{
    struct contract_fixture *f = *state;
    struct store *s = f->store;
    struct event_vec v;
    const size_t n = 10000;

    contract_append_ok(f, 0, n, "big");
    for (uint64_t expected = n; expected < 2 * n; expected += 1000)
        contract_append_ok(f, expected, 1000, "big");

    /* Read back in pages, checking contiguity and content. */
    event_vec_init(&v);
    uint64_t since = 0;
    for (;;) {
        event_vec_clear(&v);
        assert_int_equal(s->ops->read(s, since, 1500, &v), 0);
        if (v.len == 0)
            break;
        for (size_t i = 0; i < v.len; i++) {
            assert_int_equal(v.items[i].seq, since + 1 + i);
            const cJSON *iv = cJSON_GetObjectItemCaseSensitive(v.items[i].data, "i");
            assert_true(cJSON_IsNumber(iv) && iv->valuedouble == (double)(since + 1 + i));
        }
        since += v.len;
    }
    assert_int_equal(since, 2 * n);
    event_vec_deinit(&v);
}

void test_store__callback_exactly_once(void **state)
{
    struct contract_fixture *f = *state;
    struct contract_ack ack;

    for (uint64_t i = 0; i < 20; i++) {
        struct event *evs = contract_batch(i + 1, 1, "once");
        assert_int_equal(contract_append(f, i, evs, 1, &ack), 0);
        assert_int_equal(ack.calls, 1);
        assert_int_equal(ack.status, 0);
        assert_int_equal(ack.seq, i + 1);
        /* The same batch again is now a conflict, reported once too. */
        assert_int_equal(contract_append(f, i, evs, 1, &ack), 0);
        assert_int_equal(ack.calls, 1);
        assert_int_equal(ack.status, -ERR_CONFLICT);
        assert_int_equal(ack.seq, i + 1);
        contract_batch_free(evs, 1);
    }
    contract_assert_log(f, 1, 20, "once");
}

/* Appends issued back to back, each after the previous one's last seq,
 * without waiting in between (a network store has them in flight
 * together): each is called back once, all recorded in order. */
void test_store__appends_in_flight_in_order(void **state)
{
    struct contract_fixture *f = *state;
    struct contract_ack acks[3];
    struct event *evs[3];
    memset(acks, 0, sizeof(acks));
    for (uint64_t i = 0; i < 3; i++) {
        evs[i] = contract_batch(2 * i + 1, 2, "flight");
        assert_int_equal(
            f->store->ops->append(f->store, 2 * i, evs[i], 2, contract_ack_cb, &acks[i]), 0);
    }
    for (size_t i = 0; i < 3; i++) {
        contract_run_until(f, &acks[i].calls, 1);
        assert_int_equal(acks[i].calls, 1);
        assert_int_equal(acks[i].status, 0);
        assert_int_equal(acks[i].seq, 2 * i + 2);
        contract_batch_free(evs[i], 2);
    }
    contract_assert_log(f, 1, 6, "flight");
}

/* close() completes what is still in flight: its callback runs once,
 * before close returns, with -ERR_UNAVAILABLE (a synchronous store had
 * completed it already). */
void test_store__close_completes_in_flight(void **state)
{
    struct contract_fixture *f = *state;
    struct contract_ack ack = {0};
    struct event *evs = contract_batch(1, 1, "closing");
    assert_int_equal(f->store->ops->append(f->store, 0, evs, 1, contract_ack_cb, &ack), 0);
    store_close(f->store);
    f->store = NULL;
    assert_int_equal(ack.calls, 1);
    assert_int_equal(ack.status, f->backend->synchronous ? 0 : -ERR_UNAVAILABLE);
    contract_batch_free(evs, 1);
}

struct contract_read {
    int calls;
    int status;
    struct event_vec evs; /* moved out of the store's */
};

static void contract_read_cb(void *arg, int status, struct event_vec *evs)
{
    struct contract_read *r = arg;
    r->calls++;
    r->status = status;
    r->evs = *evs; /* take the items */
    event_vec_init(evs);
}

/* read_async, where a backend has it, reads what read() reads, calls back
 * once and never from inside the call; a cancelled read never calls
 * back. */
void test_store__read_async_matches_read(void **state)
{
    struct contract_fixture *f = *state;
    struct store *s = f->store;
    if (!s->ops->read_async) {
        print_message("(%s reads synchronously only: skipped)\n", f->backend->name);
        return;
    }
    contract_append_ok(f, 0, 6, "async");
    struct contract_read cancelled = {0}, r = {0};
    struct store_read *h1 = NULL, *h2 = NULL;
    assert_int_equal(s->ops->read_async(s, 0, 10, contract_read_cb, &cancelled, &h1), 0);
    s->ops->read_cancel(s, h1);
    assert_int_equal(s->ops->read_async(s, 2, 3, contract_read_cb, &r, &h2), 0);
    assert_int_equal(r.calls, 0);
    contract_run_until(f, &r.calls, 1);
    assert_int_equal(r.status, 0);
    struct event_vec want;
    event_vec_init(&want);
    assert_int_equal(s->ops->read(s, 2, 3, &want), 0);
    assert_int_equal(r.evs.len, 3);
    for (size_t i = 0; i < want.len; i++)
        contract_assert_event_eq(&r.evs.items[i], &want.items[i]);
    assert_int_equal(cancelled.calls, 0);
    event_vec_deinit(&want);
    event_vec_deinit(&r.evs);
    assert_int_equal(s->ops->read_async(s, 0, 0, contract_read_cb, &r, &h2), -ERR_INVALID);
}

void test_store__error_return_never_calls_back(void **state)
{
    struct contract_fixture *f = *state;
    struct store *s = f->store;
    struct contract_ack ack;
    struct event *evs = contract_batch(1, 2, "err");

    /* An empty batch. */
    assert_int_equal(contract_append(f, 0, evs, 0, &ack), -ERR_INVALID);
    assert_int_equal(ack.calls, 0);
    assert_int_equal(contract_append(f, 0, NULL, 1, &ack), -ERR_INVALID);
    assert_int_equal(ack.calls, 0);
    /* No callback to report through. */
    assert_int_equal(s->ops->append(s, 0, evs, 2, NULL, NULL), -ERR_INVALID);
    /* An event without a type. */
    char *type = evs[1].type;
    evs[1].type = NULL;
    assert_int_equal(contract_append(f, 0, evs, 2, &ack), -ERR_INVALID);
    assert_int_equal(ack.calls, 0);
    evs[1].type = type;
    /* seqs past what every backend can hold (SQLite: signed 64 bit). */
    evs[0].seq = (uint64_t)INT64_MAX + 1;
    assert_int_equal(contract_append(f, INT64_MAX, evs, 1, &ack), -ERR_INVALID);
    assert_int_equal(ack.calls, 0);

    uint64_t seq = 1;
    assert_int_equal(s->ops->last_seq(s, &seq), 0);
    assert_int_equal(seq, 0);
    contract_batch_free(evs, 2);
}
