/* hub_metrics — the figures the hub measures for /metrics. */
#ifndef COORDHUB_APP_HUB_METRICS_H
#define COORDHUB_APP_HUB_METRICS_H

#include <stdbool.h>

#include <cjson/cJSON.h>

#include "app/hub_state.h"

/* Zero the figures; label slots ("other", then each tool) come with
 * the first calls. */
void hub_metrics_init(struct hub *h);
void hub_metrics_fini(struct hub *h);
/* The slot of tool `name`, made on its first call ("other" for a name
 * the registry does not serve). */
int hub_metrics_tool(struct hub *h, const char *name);
/* An answer was sent: count its outcome and latency. */
void hub_metrics_answered(struct hub *h, struct hub_call_clock clock, const cJSON *result,
                          bool is_error);
/* A committed event: task totals and cycle time. */
void hub_metrics_event(struct hub *h, const struct event *ev);
/* A queued lock request ended: granted or timed out, after waiting
 * since clock.start_ns. */
void hub_metrics_lock_wait_done(struct hub *h, struct hub_call_clock clock, bool granted);

#endif
