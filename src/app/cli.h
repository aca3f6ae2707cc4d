/* cli — the `coordhub` command line (docs/cli.md): argument parsing,
 * dispatch to serve / mcp / client subcommands, human tables and --json.
 *
 * Exit codes (docs/cli.md, "Exit codes"):
 *   0  success
 *   1  failure: hub unreachable or not answering in time, store error
 *   2  usage error: unknown command or option, missing argument or value,
 *      wrong number of arguments
 *   3  refused: the hub said no (file locked by another agent, task
 *      claimed by someone else, …) — or, for `serve`, another hub already
 *      runs here
 *   4  invalid value: not a number, out of range, not UTF-8, bad mode, or
 *      rejected by the hub (bad path, unknown task, …) */
#ifndef COORDHUB_APP_CLI_H
#define COORDHUB_APP_CLI_H

/* Run the command line; returns the process exit code. */
int cli_main(int argc, char **argv);

#endif
