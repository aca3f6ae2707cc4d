/* fuzz_foreign_msg — libFuzzer driver for the parser of messages on the
 * Redis channel mcp:events (store/foreign_msg.h).
 *
 * The input is one message, for workspace "shop". Invariants checked
 * (abort() = a finding):
 *   - INGEST gives 1..FOREIGN_MSG_MAX_BATCH events, each with a valid
 *     type, a non-empty source that is not the hub's, an object for data
 *     and seq 0: nothing that the core would fold, nothing unbounded;
 *   - IGNORED and INVALID give no event; INVALID always says why;
 *   - the number of items ignored never exceeds the batch bound. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "store/foreign_msg.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct event_vec evs;
    event_vec_init(&evs);
    size_t ignored = 0;
    char why[256];
    enum foreign_msg_verdict v = foreign_msg_parse(
        (const char *)data, size, "shop", 1700000000000LL, &evs, &ignored, why, sizeof(why));
    if (ignored > FOREIGN_MSG_MAX_BATCH)
        abort();
    switch (v) {
    case FOREIGN_MSG_INGEST:
        if (evs.len < 1 || evs.len > FOREIGN_MSG_MAX_BATCH)
            abort();
        for (size_t i = 0; i < evs.len; i++) {
            const struct event *ev = &evs.items[i];
            if (!event_type_valid(ev->type) || event_type_reserved(ev->type) || !ev->source ||
                !ev->source[0] || event_is_hub(ev) || !cJSON_IsObject(ev->data) || ev->seq != 0)
                abort();
        }
        break;
    case FOREIGN_MSG_IGNORED:
        if (evs.len != 0)
            abort();
        break;
    case FOREIGN_MSG_INVALID:
    case FOREIGN_MSG_RESERVED:
        if (evs.len != 0 || !why[0])
            abort();
        break;
    default:
        abort();
    }
    event_vec_deinit(&evs);
    return 0;
}
