/* hub_rest — the HTTP face's tool calls (REST and POST /events) on the hub's two
 * internal sessions of the "rest" kind. */
#ifndef COORDHUB_APP_HUB_REST_H
#define COORDHUB_APP_HUB_REST_H

#include <stdbool.h>

#include <cjson/cJSON.h>

#include "app/hub_state.h"

struct api_caller;

/* Create the HTTP face's calls table and its two sessions (h->rest). */
void hub_rest_start(struct hub *h);
/* Drop calls in flight without answering them and free both sessions. Safe
 * when it never started. */
void hub_rest_stop(struct hub *h);
/* struct api_host.call: run a tool for the HTTP face. */
void hub_rest_call(void *arg, const struct api_caller *who, const char *name, cJSON *args,
                   void (*done)(void *done_arg, cJSON *result, bool is_error), void *done_arg);
/* struct api_host.cancel: the client of the calls made with done_arg
 * left; cancel the queued ones. True when none of them is left. */
bool hub_rest_cancel(void *arg, void *done_arg);

#endif
