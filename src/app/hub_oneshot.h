/* hub_oneshot — one-shot tool calls on the socket ({"coordhub":"call",…}), on a
 * session of the "one-shot" kind. */
#ifndef COORDHUB_APP_HUB_ONESHOT_H
#define COORDHUB_APP_HUB_ONESHOT_H

#include <stdbool.h>

#include "app/hub_state.h"

/* Run the one-shot call ctl ({"coordhub":"call",…}) on fd (taken) and
 * answer it in one line; admin: it carried the admin token (checked). */
void hub_oneshot_start(struct hub *h, int fd, const struct control_msg *ctl, bool admin);

#endif
