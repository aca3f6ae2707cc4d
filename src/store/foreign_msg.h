/* foreign_msg — what a message on the Redis channel mcp:events means to a
 * hub (docs/events.md, "Foreign events"; docs/operations.md).
 *
 * Other systems PUBLISH JSON events on mcp:events (the seed's backend
 * reports health:status and task:completed this way): one event object
 * {type, source, data, timestamp?, sourceId?, signature?, workspace?} or
 * an array of them. Every hub also PUBLISHes its own events there. This
 * parser does no I/O: bytes in, the events to ingest (or the reason for
 * ignoring or refusing the message) out, so it is unit tested and fuzzed
 * on its own.
 *
 * A message that begins as a hub's publication does (event_to_text's
 * {"id":"<digits>","type":"<type>","source":"agent-coordination", …) is
 * ignored from that prefix alone, unparsed: every hub hears every hub's
 * events there, and they are most of the traffic.
 *
 * An item is *ignored* (not an error: it is not ours to ingest) when its
 * source is the hub's own (EVENT_SOURCE_HUB: a hub's publication; no
 * foreign system may claim that source) or when it names a workspace that
 * is not ours. A message is *invalid* when it is not UTF-8 JSON within
 * FOREIGN_MSG_MAX_BYTES and FOREIGN_MSG_MAX_DEPTH, holds a string with
 * U+0000 or an object with a duplicate key (json_parse_checked; why then
 * names the offset), is neither an object nor an array of
 * 1..FOREIGN_MSG_MAX_BATCH objects, or when any item breaks a rule: type
 * `<ns>:<name>` (event_type_valid, the syntax publish_event accepts),
 * source a non-empty string of at most FOREIGN_MSG_MAX_ID chars, data an
 * object of at most FOREIGN_MSG_MAX_DATA bytes printed, sourceId /
 * signature / workspace strings within their caps. A message is
 * *reserved* when an item that is not ignored has a type in the hub's own
 * namespaces (event_type_reserved, the rule publish_event and POST
 * /events apply): an outsider's "file:unlocked" or "guidance:message"
 * would be streamed as if the hub had said it. One invalid or reserved
 * item refuses the whole message (as POST /events does with a batch), so
 * nothing of it is ingested. */
#ifndef COORDHUB_STORE_FOREIGN_MSG_H
#define COORDHUB_STORE_FOREIGN_MSG_H

#include <stddef.h>
#include <stdint.h>

#include "core/event.h"

#define FOREIGN_MSG_MAX_BYTES (1024 * 1024) /* a message, raw */
#define FOREIGN_MSG_MAX_DEPTH 64            /* JSON nesting */
#define FOREIGN_MSG_MAX_BATCH 100           /* events in an array message */
#define FOREIGN_MSG_MAX_DATA 65536          /* data printed, as publish_event */
#define FOREIGN_MSG_MAX_ID 128              /* source, sourceId, workspace */
#define FOREIGN_MSG_MAX_SIGNATURE 1024      /* signature */

enum foreign_msg_verdict {
    FOREIGN_MSG_INGEST,   /* out holds the events to ingest (ignored items dropped) */
    FOREIGN_MSG_IGNORED,  /* every item is the hub's own or another workspace's */
    FOREIGN_MSG_INVALID,  /* why says what is wrong; out is empty */
    FOREIGN_MSG_RESERVED, /* an item's type is the hub's; why names it; out is empty */
};

/* Parse one message of len bytes (not NUL-terminated) for workspace ws.
 * Events to ingest are appended to out (which must be empty) in message
 * order, with seq 0, the publisher's source, sourceId and signature, and
 * ts_ms the publisher's timestamp when it is an RFC 3339 string or a
 * number of ms since epoch in (0, 2^53) — else now_ms (the store's
 * clock). *ignored is set to the number of items dropped as ignored. why
 * (whylen bytes) receives the reason of an INVALID or RESERVED verdict, or for IGNORED
 * which rule applied ("own" or "workspace"). */
enum foreign_msg_verdict foreign_msg_parse(const char *msg, size_t len, const char *ws,
                                           int64_t now_ms, struct event_vec *out, size_t *ignored,
                                           char *why, size_t whylen);

#endif
