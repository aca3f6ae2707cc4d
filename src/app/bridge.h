/* bridge — `coordhub mcp`, what an IDE launches (docs/architecture.md,
 * "Sessions and the bridge").
 *
 * It finds (or starts) the workspace's hub and hands it the IDE's stdin and
 * stdout over the Unix socket (SCM_RIGHTS), so the IDE's messages reach the
 * hub with no relay hop; then it only waits on the control channel. If the
 * hub dies, it starts a new one and re-attaches the session with the
 * client's original `initialize` params and agent id, so the IDE never sees
 * the server vanish — unless the IDE has gone by then, or the hub said it
 * was stopped (`coordhub stop`): a bridge never starts a hub nobody would
 * use. It exits when the IDE closes stdin. Relaying bytes is
 * the fallback when descriptors cannot be handed over (stdin is a regular
 * file, or the hub declines). */
#ifndef COORDHUB_APP_BRIDGE_H
#define COORDHUB_APP_BRIDGE_H

struct options;

/* Run the bridge; returns the process exit code (0 when the IDE closed
 * stdin or had gone, or the hub was stopped; 1 when no hub could be
 * reached or started). */
int bridge_main(const struct options *o);

#endif
