/* roots — the directories one MCP session's relative paths resolve
 * against, and the rewriting of its path arguments into workspace keys.
 *
 * A session's roots are the MCP roots its client declares (roots/list,
 * file:// URIs) or, without them, the directory `coordhub mcp` was started
 * in. Each root is kept with the worktree it lies in (a linked git
 * worktree of the workspace's repository, or the workspace root itself)
 * and its place below that worktree, so a key is always relative to the
 * root's own worktree (docs/tools.md "How paths resolve"):
 *   - a relative file resolves against the first root under which it
 *     exists on disk, else against the first root;
 *   - a relative pattern resolves against the first root;
 *   - an absolute path against the root it lies under (else the worktree
 *     of a root it lies under); otherwise it is left for the workspace
 *     root, which refuses it when it is outside.
 * A session without roots (the HTTP face without declared roots, the
 * CLI, which resolves its own) sends workspace-relative paths unchanged. */
#ifndef COORDHUB_APP_ROOTS_H
#define COORDHUB_APP_ROOTS_H

#include <stdbool.h>
#include <stddef.h>

#include <cjson/cJSON.h>

#include "base/err.h"

struct roots;

/* Empty roots for the workspace whose root is ws_root (absolute,
 * canonical; copied). Never NULL. */
struct roots *roots_new(const char *ws_root);
void roots_free(struct roots *r); /* NULL ok */
/* Forget every root. */
void roots_clear(struct roots *r);
size_t roots_count(const struct roots *r);
/* The i-th root's directory (borrowed), or NULL. */
const char *roots_dir(const struct roots *r, size_t i);

/* Add dir (absolute) as the next root. 0; or -ENOENT when it does not
 * exist on this machine, -EXDEV when it lies outside the workspace (a
 * worktree of another repository, or no worktree of it at all): *why
 * (caller frees) then says so for the log and nothing is added. */
COORDHUB_MUST_CHECK int roots_add_dir(struct roots *r, const char *dir, char **why);
/* The same for an MCP root URI: only file:// URIs (percent-decoded, an
 * empty or "localhost" host) name directories; others are -EINVAL. */
COORDHUB_MUST_CHECK int roots_add_uri(struct roots *r, const char *uri, char **why);

/* Rewrite the path arguments named by paths (TOOL_PATH_* of rpc/tools.h,
 * a tool's struct tool_def.paths) of args in
 * place into workspace keys. 0 (also when r has no roots: nothing
 * changes), or -ERR_INVALID with *errmsg (caller frees) naming the
 * argument ("argument 'files[1]': path '../../x' escapes the workspace
 * root"); args may then be partly rewritten. */
COORDHUB_MUST_CHECK int roots_rewrite_args(const struct roots *r, unsigned paths, cJSON *args,
                                           char **errmsg);

#endif
