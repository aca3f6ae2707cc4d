/* hub_outage — the hub while its store is away. */
#ifndef COORDHUB_APP_HUB_OUTAGE_H
#define COORDHUB_APP_HUB_OUTAGE_H

#include <stdbool.h>
#include <stdint.h>

#include <cjson/cJSON.h>

#include "app/hub_state.h"

struct tool_def;

/* Keep text (taken on true) as the replica snapshot when the store is one
 * that can go away; text must be a snapshot of the committed state. */
bool hub_replica_offer(struct hub *h, char *text);
/* Take a replica snapshot of the committed state when forced (after a
 * load) or when the replica lags it too far for the bus ring; no-op for
 * local stores, and while events wait for their append and the committed
 * view cannot be had. */
void hub_replica_keep(struct hub *h, bool force);
/* A workspace at committed_seq built from the replica text and the bus
 * ring (its sessions attached as the hub's are), or NULL when they do not
 * reach it. */
struct workspace *hub_replica_build(struct hub *h);
/* The committed state: h->ws when nothing waits for an append, else the
 * committed view (h->committed_view, built by hub_replica_build and kept
 * in step from the ring), or NULL when it cannot be had. The view holds
 * the durable state only (no lock wait queues). */
struct workspace *hub_committed_state(struct hub *h);
/* The store just became unreachable (store_stale is being set): answer
 * queued lock requests with the refusal, make the workspace the committed
 * state (stale_reads says whether that worked) and, at the start of an
 * outage, announce health:degraded. why names the failure. */
void hub_outage_begin(struct hub *h, const char *why);
/* The state was reloaded from the store (store_stale false): queue
 * health:degraded + health:recovered of an outage not yet in the log. */
void hub_outage_record(struct hub *h);
/* A commit ended (ok: appended) or its batch was dropped. */
void hub_outage_committed(struct hub *h, bool ok);
/* While store_stale: add stale:true and staleSince to a result object. */
void hub_stale_mark(struct hub *h, cJSON *result);
/* May tool t (NULL: unknown) be answered while the store is away? One
 * that does not need the store always; one that does only when it is
 * read-only and the replica answers reads. */
bool hub_stale_may_answer(const struct hub *h, const struct tool_def *t);
/* The refusal of a call while the store is away; what names the refused
 * thing ("lock_file"). Caller frees. */
char *hub_stale_refusal(const struct hub *h, const char *what);

#endif
