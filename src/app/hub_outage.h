/* hub_outage — the hub while its store is away. */
#ifndef COORDHUB_APP_HUB_OUTAGE_H
#define COORDHUB_APP_HUB_OUTAGE_H

#include <stdbool.h>
#include <stdint.h>

#include <cjson/cJSON.h>

#include "app/hub_state.h"

struct tool_def;

/* Keep text (taken on true) as the replica snapshot: it is a snapshot of
 * the committed state and the store is one that can go away. */
bool hub_replica_offer(struct hub *h, char *text);
/* Take a replica snapshot when forced (after a load) or when the replica
 * lags the committed state too far for the bus ring; no-op for local
 * stores and while events wait for their append. */
void hub_replica_keep(struct hub *h, bool force);
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
