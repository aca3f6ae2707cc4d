/* hub_store — the hub's state and its store: loading the state
 * (newest snapshot + log tail), snapshots, a store gone stale and its
 * reload, other hubs' events on a shared store, the workspace's deadline
 * timer, and the health the hub reports (hub_store.c says how). */
#ifndef COORDHUB_APP_HUB_STORE_H
#define COORDHUB_APP_HUB_STORE_H

#include <cjson/cJSON.h>

#include "app/hub_state.h"
#include "bus/bus.h"

/* Open the store of --store, decide whether keys fold case, load the
 * state, warm the bus ring with the log's tail, subscribe on_event (arg:
 * h) and, on a shared store, listen to the other hubs. 0, or an error
 * (said on stderr). */
int hub_store_start(struct hub *h, bus_event_cb on_event);
/* Create the store's timers (the workspace's deadlines, the reload). */
void hub_store_timers(struct hub *h);
/* Re-arm the workspace deadline timer and the waits' timer. */
void hub_reschedule_timers(struct hub *h);
/* The hub's health: the loop, the store, the sessions (caller frees). */
cJSON *hub_health_json(struct hub *h);
/* Replace the workspace with the store's view (newest snapshot + tail),
 * carrying the queued lock requests over; fan out what the log has beyond
 * what the hub published. 0, or an error with *errmsg (caller frees). */
int hub_load_state(struct hub *h, char **errmsg);

/* Save a snapshot when HUB_SNAPSHOT_EVERY events went by since the last
 * (and keep the replica, hub_outage.c). */
void hub_maybe_snapshot(struct hub *h);
/* The store failed and cannot be read back: serve stale reads, refuse
 * writes, retry the reload with backoff. */
void hub_store_went_stale(struct hub *h, const char *why);
/* Read and fold what other writers appended that the store told of while
 * the state was ahead of the log (hub_commit.c, after a commit). */
void hub_store_catch_up(struct hub *h);

#endif
