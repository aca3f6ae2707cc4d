/* hub — `coordhub serve`: the daemon that owns one workspace.
 *
 * One process, one libevent loop (docs/architecture.md). The hub holds the workspace
 * state machine, the store, the event bus and every MCP session (Unix
 * socket clients and IDE stdio handed over by `coordhub mcp`). Every
 * command follows the flow of docs/architecture.md, "Group commit": evaluate → events → append (one
 * store transaction per loop turn: group commit) → fold, answer, fan out. */
#ifndef COORDHUB_APP_HUB_H
#define COORDHUB_APP_HUB_H

struct options;

/* Run the hub until SIGTERM/SIGINT. Prints one line per face it listens
 * on. With o->daemon, detaches once the socket is listening (the parent
 * returns 0 then). Returns a process exit code: 0 ok, 3 another hub holds
 * the workspace, 1 other failures (message on stderr / hub.log). */
int hub_serve(const struct options *o);

#endif
