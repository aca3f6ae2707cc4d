/* contract_state — snapshots, the store clock, trimming, durability across
 * reopen and handle lifetime. Durability tests are skipped (and say so)
 * for backends whose fixture row says the log does not survive reopen. */
#include "contract.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "base/clock.h"

static void contract_assert_snapshot(struct store *s, uint64_t want_seq, const char *want_text)
{
    uint64_t seq = 0;
    char *text = NULL;
    assert_int_equal(s->ops->snapshot_load(s, &seq, &text), 0);
    assert_int_equal(seq, want_seq);
    assert_non_null(text);
    assert_string_equal(text, want_text);
    free(text);
}

void test_store__snapshot_newest_wins(void **state)
{
    struct contract_fixture *f = *state;
    struct store *s = f->store;
    const char *five = "{\"state\":5}";

    contract_append_ok(f, 0, 10, "snap");
    assert_int_equal(s->ops->snapshot_save(s, 5, five, strlen(five)), 0);
    contract_assert_snapshot(s, 5, five);

    /* A later snapshot replaces it. */
    assert_int_equal(s->ops->snapshot_save(s, 8, "eight", 5), 0);
    contract_assert_snapshot(s, 8, "eight");

    /* An older one never replaces a newer one. */
    assert_int_equal(s->ops->snapshot_save(s, 3, "three", 5), -ERR_INVALID);
    contract_assert_snapshot(s, 8, "eight");

    /* Not past the end of the log. */
    assert_int_equal(s->ops->snapshot_save(s, 11, "eleven", 6), -ERR_INVALID);
    contract_assert_snapshot(s, 8, "eight");

    /* The same seq again: the text is refreshed. */
    assert_int_equal(s->ops->snapshot_save(s, 8, "EIGHT", 5), 0);
    contract_assert_snapshot(s, 8, "EIGHT");

    /* Exactly len bytes are kept, and the text is opaque: a NUL inside it
     * cannot be represented by snapshot_load's C string, so it is refused. */
    assert_int_equal(s->ops->snapshot_save(s, 10, "tenXXXX", 3), 0);
    contract_assert_snapshot(s, 10, "ten");
    assert_int_equal(s->ops->snapshot_save(s, 10, "a\0b", 3), -ERR_INVALID);
    contract_assert_snapshot(s, 10, "ten");

    /* Large text survives intact. */
    size_t big = 1 << 20;
    char *text = malloc(big + 1);
    assert_non_null(text);
    for (size_t i = 0; i < big; i++)
        text[i] = (char)('a' + i % 26);
    text[big] = '\0';
    assert_int_equal(s->ops->snapshot_save(s, 10, text, big), 0);
    contract_assert_snapshot(s, 10, text);
    free(text);
}

void test_store__now_is_sane_and_monotone(void **state)
{
    struct contract_fixture *f = *state;
    struct store *s = f->store;
    int64_t prev = 0;

    for (int i = 0; i < 1000; i++) {
        int64_t now = 0;
        assert_int_equal(s->ops->now(s, &now), 0);
        /* Within a minute of this machine's clock: the store clock may be
         * a server's (redis TIME), but never a different epoch or unit. */
        int64_t wall = clock_wall_ms();
        assert_true(now > wall - 60000 && now < wall + 60000);
        assert_true(now >= prev);
        prev = now;
    }
}

void test_store__durable_across_reopen(void **state)
{
    struct contract_fixture *f = *state;
    struct event_vec before, after;
    uint64_t seq = 0;

    if (!f->backend->reopen_keeps_log) {
        skip();
        return;
    }
    for (uint64_t expected = 0; expected < 20; expected += 4)
        contract_append_ok(f, expected, 4, "durable");
    assert_int_equal(f->store->ops->snapshot_save(f->store, 12, "twelve", 6), 0);

    event_vec_init(&before);
    event_vec_init(&after);
    assert_int_equal(f->store->ops->read(f->store, 0, 100, &before), 0);
    contract_reopen(f);
    assert_int_equal(f->store->ops->last_seq(f->store, &seq), 0);
    assert_int_equal(seq, 20);
    assert_int_equal(f->store->ops->read(f->store, 0, 100, &after), 0);
    assert_int_equal(after.len, before.len);
    for (size_t i = 0; i < after.len; i++)
        contract_assert_event_eq(&after.items[i], &before.items[i]);
    contract_assert_snapshot(f->store, 12, "twelve");

    /* The reopened log accepts the next append and refuses a stale one. */
    contract_append_ok(f, 20, 1, "durable");
    struct contract_ack ack;
    struct event *stale = contract_batch(20, 1, "stale");
    assert_int_equal(contract_append(f, 19, stale, 1, &ack), 0);
    assert_int_equal(ack.status, -ERR_CONFLICT);
    assert_int_equal(ack.seq, 21);
    contract_batch_free(stale, 1);

    /* Close immediately after an append, twice in a row. */
    contract_reopen(f);
    contract_reopen(f);
    assert_int_equal(f->store->ops->last_seq(f->store, &seq), 0);
    assert_int_equal(seq, 21);
    event_vec_deinit(&before);
    event_vec_deinit(&after);
}

static void contract_assert_bounds(struct store *s, uint64_t first, uint64_t last)
{
    uint64_t seq = 0;
    struct event_vec v;
    assert_int_equal(s->ops->first_seq(s, &seq), 0);
    assert_int_equal(seq, first);
    assert_int_equal(s->ops->last_seq(s, &seq), 0);
    assert_int_equal(seq, last);
    event_vec_init(&v);
    assert_int_equal(s->ops->read(s, 0, SIZE_MAX, &v), 0);
    assert_int_equal(v.len, last + 1 - first);
    for (size_t i = 0; i < v.len; i++)
        assert_int_equal(v.items[i].seq, first + i);
    event_vec_deinit(&v);
}

void test_store__trim_and_first_seq(void **state)
{
    struct contract_fixture *f = *state;
    struct store *s = f->store;

    if (!s->ops->trim) {
        skip();
        return;
    }
    contract_append_ok(f, 0, 10, "trim");
    contract_assert_bounds(s, 1, 10);

    /* Nothing may be trimmed past the newest snapshot (none yet). */
    assert_int_equal(s->ops->trim(s, 3), -ERR_INVALID);
    contract_assert_bounds(s, 1, 10);
    assert_int_equal(s->ops->trim(s, 0), 0);
    contract_assert_bounds(s, 1, 10);

    assert_int_equal(s->ops->snapshot_save(s, 6, "six", 3), 0);
    assert_int_equal(s->ops->trim(s, 7), -ERR_INVALID);
    contract_assert_bounds(s, 1, 10);
    assert_int_equal(s->ops->trim(s, 4), 0);
    contract_assert_bounds(s, 5, 10);
    /* Trimming is monotone: a lower point is a no-op. */
    assert_int_equal(s->ops->trim(s, 2), 0);
    contract_assert_bounds(s, 5, 10);
    assert_int_equal(s->ops->trim(s, 6), 0);
    contract_assert_bounds(s, 7, 10);

    /* A read from before the trim point starts at first_seq. */
    struct event_vec v;
    event_vec_init(&v);
    assert_int_equal(s->ops->read(s, 2, 2, &v), 0);
    assert_int_equal(v.len, 2);
    assert_int_equal(v.items[0].seq, 7);
    event_vec_deinit(&v);

    /* Appends continue after a trim, and the whole log may be trimmed
     * without the seq going back. */
    contract_append_ok(f, 10, 1, "trim");
    assert_int_equal(s->ops->snapshot_save(s, 11, "eleven", 6), 0);
    assert_int_equal(s->ops->trim(s, 11), 0);
    contract_assert_bounds(s, 12, 11);
    struct contract_ack ack;
    struct event *stale = contract_batch(1, 1, "stale");
    assert_int_equal(contract_append(f, 0, stale, 1, &ack), 0);
    assert_int_equal(ack.status, -ERR_CONFLICT);
    assert_int_equal(ack.seq, 11);
    contract_batch_free(stale, 1);
    contract_append_ok(f, 11, 2, "trim");
    contract_assert_bounds(s, 12, 13);

    if (f->backend->reopen_keeps_log) {
        assert_int_equal(f->store->ops->snapshot_save(f->store, 13, "13", 2), 0);
        assert_int_equal(f->store->ops->trim(f->store, 13), 0);
        contract_reopen(f);
        contract_assert_bounds(f->store, 14, 13);
        contract_append_ok(f, 13, 1, "trim");
        contract_assert_bounds(f->store, 14, 14);
    }
}

void test_store__close_null_safe(void **state)
{
    struct contract_fixture *f = *state;
    f->store->ops->close(NULL);
    store_close(NULL);
    /* Close right after open, with nothing written, then reopen. */
    contract_reopen(f);
    uint64_t seq = 1;
    assert_int_equal(f->store->ops->last_seq(f->store, &seq), 0);
    assert_int_equal(seq, 0);
}

static char *contract_claim(struct store *s, const char *key, const char *value)
{
    char *got = NULL;
    assert_int_equal(s->ops->meta_claim(s, key, value, &got), 0);
    assert_non_null(got);
    return got;
}

void test_store__meta_claim_first_wins(void **state)
{
    struct contract_fixture *f = *state;
    struct store *s = f->store;
    char *got = contract_claim(s, "caseFold", "0");
    assert_string_equal(got, "0");
    free(got);
    /* A later claim gets the recorded value, whatever it offers. */
    got = contract_claim(s, "caseFold", "1");
    assert_string_equal(got, "0");
    free(got);
    got = contract_claim(s, "other.key-2", "");
    assert_string_equal(got, "");
    free(got);
    /* Bad keys and values are refused and record nothing. */
    char long_key[STORE_META_KEY_MAX + 2];
    memset(long_key, 'k', sizeof(long_key) - 1);
    long_key[sizeof(long_key) - 1] = '\0';
    const char *bad_keys[] = {"", "a b", "a:b", "a\xc3\xa9", long_key};
    for (size_t i = 0; i < sizeof(bad_keys) / sizeof(*bad_keys); i++) {
        got = (char *)"untouched";
        assert_int_equal(s->ops->meta_claim(s, bad_keys[i], "1", &got), -ERR_INVALID);
        assert_null(got);
    }
    assert_int_equal(s->ops->meta_claim(s, "k", NULL, &got), -ERR_INVALID);
    /* The log is not touched by metadata. */
    uint64_t last = 9;
    assert_int_equal(s->ops->last_seq(s, &last), 0);
    assert_int_equal(last, 0);
    if (!f->backend->reopen_keeps_log) {
        print_message("(%s keeps no state across reopen: durability part skipped)\n",
                      f->backend->name);
        return;
    }
    /* A second handle (another hub) and a reopened one adopt it. */
    struct store *second = NULL;
    char *err = NULL;
    assert_int_equal(store_open(f->url, NULL, &second, &err), 0);
    got = contract_claim(second, "caseFold", "1");
    assert_string_equal(got, "0");
    free(got);
    store_close(second);
    contract_reopen(f);
    got = contract_claim(f->store, "caseFold", "1");
    assert_string_equal(got, "0");
    free(got);
}

/* The backend declares what it is (struct store_caps), as the fixture row
 * expects, and the declaration agrees with the optional ops it fills in:
 * the hub reads the declaration, never compares ops tables. The table the
 * URL picks is the one the open store runs on. */
void test_store__caps_declared(void **state)
{
    struct contract_fixture *f = *state;
    const struct store_ops *ops = f->store->ops;
    const struct store_caps *want = &f->backend->caps;
    assert_ptr_equal(store_ops_for_url(f->url), ops);
    assert_int_equal(ops->caps.shared, want->shared);
    assert_int_equal(ops->caps.may_go_away, want->may_go_away);
    assert_int_equal(ops->caps.trims, want->trims);
    assert_int_equal(ops->caps.ingests, want->ingests);
    assert_int_equal(ops->caps.default_retain, want->default_retain);
    assert_int_equal(ops->caps.shared, ops->listen != NULL);
    assert_int_equal(ops->caps.trims, ops->trim != NULL);
    assert_int_equal(ops->caps.ingests, ops->ingest_stats != NULL);
    /* A store that can go away is one a hub must be able to hear from:
     * its tail reports the loss (store.h, listen with n == 0). */
    if (ops->caps.may_go_away)
        assert_true(ops->caps.shared);
}
