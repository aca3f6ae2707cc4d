/* hub_limits — the descriptor budget: the caps of the socket and the HTTP face fitted
 * to the descriptor limit at start (docs/operations.md, "Descriptors"). */
#ifndef COORDHUB_APP_HUB_LIMITS_H
#define COORDHUB_APP_HUB_LIMITS_H

#include "app/hub_state.h"

/* Raise the descriptor limit and fit the socket's and the HTTP face's
 * caps inside it (logged); COORDHUB_SOCKET_MAX_SESSIONS and
 * COORDHUB_FIRST_LINE_MS override the socket's, COORDHUB_HTTP_MAX_CONNECTIONS
 * the HTTP cap wanted, for tests. */
void hub_fit_caps(struct hub *h);

#endif
