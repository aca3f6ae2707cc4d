/* events_filter — a list of event-type patterns (`file:*`,
 * `task:completed`, `*`): the `types` filter of GET /events and the
 * canPublish / canSubscribe rights of API keys (auth/keys.h), matched with
 * event_type_matches(). Parsing does no I/O and is bounded: at most
 * EVENTS_FILTER_MAX patterns of at most EVENTS_FILTER_PATTERN_MAX bytes,
 * each made of `[a-z0-9_.:*-]`. */
#ifndef COORDHUB_CORE_EVENTS_FILTER_H
#define COORDHUB_CORE_EVENTS_FILTER_H

#include <stdbool.h>
#include <stddef.h>

#include "base/err.h"

#define EVENTS_FILTER_MAX 32
#define EVENTS_FILTER_PATTERN_MAX 64

struct events_filter {
    char **patterns; /* owned */
    size_t n;        /* 0: every event matches */
};

void events_filter_init(struct events_filter *f);
void events_filter_deinit(struct events_filter *f);

/* Add the comma-separated patterns of csv (spaces around items ignored;
 * empty items skipped, but csv must hold at least one). 0, or
 * -ERR_INVALID with *why (static text) and f unchanged. */
COORDHUB_MUST_CHECK int events_filter_parse(struct events_filter *f, const char *csv,
                                            const char **why);

/* True when f is empty or one of its patterns matches type. */
bool events_filter_match(const struct events_filter *f, const char *type);

#endif
