/* hub_http — the HTTP face of the hub (api/api.h): started, announced, stopped. */
#ifndef COORDHUB_APP_HUB_HTTP_H
#define COORDHUB_APP_HUB_HTTP_H

#include <stdio.h>

#include "app/hub_state.h"

/* Start the HTTP face. 0 (also when it is off or the default address was
 * unavailable: warned), or an error when a chosen address cannot be
 * served (message on stderr). */
int hub_http_start(struct hub *h);
/* Print the face's URL (with the admin token) on out, if it is up. */
void hub_http_announce(struct hub *h, FILE *out);
/* Stop the face and remove http.addr. Safe when it never started. */
void hub_http_stop(struct hub *h);

#endif
