/* contract — the store contract suite shared by every backend
 * (docs/architecture.md, "The store layer").
 *
 * One executable, `test_store_contract <backend>`, runs every test against
 * the backend named on the command line. A backend joins the suite with one
 * row in the fixture table (contract_main.c): how to build a URL for a fresh
 * store in a temporary directory and what it promises beyond the common
 * contract (durability across reopen, synchronous completion, trimming)
 * and the capabilities its ops table must declare (struct store_caps).
 * Tests reach the store only through struct store_ops. */
#ifndef COORDHUB_TESTS_CONTRACT_CONTRACT_H
#define COORDHUB_TESTS_CONTRACT_CONTRACT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "store/store.h"

struct event_base;

struct contract_backend {
    const char *name; /* argv[1]: "memory", "sqlite", … */
    /* URL of a fresh, empty store whose files (if any) live in dir.
     * Caller frees. */
    char *(*make_url)(const char *dir);
    bool reopen_keeps_log; /* close + open of the same URL sees the same log */
    /* append calls its callback before it returns; else later, from the
     * loop the store was opened with (opts.async), never before */
    bool synchronous;
    struct store_caps caps; /* what its ops table must declare it is */
};

struct contract_fixture {
    const struct contract_backend *backend;
    char *dir;               /* owned: temporary directory, removed at teardown */
    char *url;               /* owned */
    struct store *store;     /* owned; NULL after contract_close() */
    struct event_base *loop; /* owned: opts.loop of every open */
};

#define CONTRACT_WAIT_S 10 /* longest wait for a callback */

/* The outcome of one append, filled by contract_ack_cb. */
struct contract_ack {
    int calls;
    int status;
    uint64_t seq;
};

void contract_ack_cb(void *arg, int status, uint64_t current_seq);

/* A batch of n events with seqs first, first+1, …; event i carries
 * data {"i": first+i, "tag": tag}. Free with contract_batch_free(). */
struct event *contract_batch(uint64_t first, size_t n, const char *tag);
void contract_batch_free(struct event *evs, size_t n);

/* Append and wait for the callback. Returns append()'s own return value;
 * the callback outcome is in *ack (ack->calls stays 0 on an error return). */
int contract_append(struct contract_fixture *f, uint64_t expected, const struct event *evs,
                    size_t n, struct contract_ack *ack);
/* Run the fixture's loop until *calls reaches want; fails the test when
 * CONTRACT_WAIT_S pass first. */
void contract_run_until(struct contract_fixture *f, const int *calls, int want);
/* Append a fresh batch of n events after expected and assert success. */
void contract_append_ok(struct contract_fixture *f, uint64_t expected, size_t n, const char *tag);

/* Close and reopen the fixture's store at the same URL. */
void contract_reopen(struct contract_fixture *f);

/* Assert two events are identical in every stored field. */
void contract_assert_event_eq(const struct event *a, const struct event *b);

/* The tests, defined in contract_log.c and contract_state.c. */
void test_store__empty_log(void **state);
void test_store__append_read_round_trip(void **state);
void test_store__seqs_must_be_consecutive(void **state);
void test_store__conflict_reports_current_seq(void **state);
void test_store__conflicting_batch_writes_nothing(void **state);
void test_store__read_windows(void **state);
void test_store__large_batches(void **state);
void test_store__callback_exactly_once(void **state);
void test_store__appends_in_flight_in_order(void **state);
void test_store__close_completes_in_flight(void **state);
void test_store__read_async_matches_read(void **state);
void test_store__error_return_never_calls_back(void **state);
void test_store__snapshot_newest_wins(void **state);
void test_store__now_is_sane_and_monotone(void **state);
void test_store__durable_across_reopen(void **state);
void test_store__trim_and_first_seq(void **state);
void test_store__close_null_safe(void **state);
void test_store__meta_claim_first_wins(void **state);
void test_store__caps_declared(void **state);

#endif
