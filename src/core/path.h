/* path — workspace-relative lease keys from user-supplied paths.
 *
 * A lease key is the path relative to the workspace root with every `.`,
 * empty and `..` segment resolved lexically (no file system access, no
 * symlink resolution: the core does no I/O). Keys never start or end with
 * '/', never contain "//", "." or ".." segments, and are never empty.
 *
 * Files are literal: `app/[id]/page.tsx` is a file name. Patterns are
 * git-wildmatch expressions (wildmatch.h) normalised the same way, except
 * that `..` is refused (it cannot be resolved lexically next to a
 * wildcard) and a trailing '/' means "everything below": `src/` becomes
 * `src/` followed by `**`.
 *
 * Error messages name the offending value but not the argument; callers
 * prefix "argument 'file': ". */
#ifndef COORDHUB_CORE_PATH_H
#define COORDHUB_CORE_PATH_H

#include <stdbool.h>
#include <stddef.h>

#include "base/err.h"

#define PATH_MAX_LEN 4096     /* bytes in a file argument */
#define PATH_PATTERN_MAX 1024 /* bytes in a pattern argument */

/* Normalise the file argument arg (len bytes, which may contain a NUL the
 * caller did not strip) against root (an absolute directory, or NULL when
 * unknown: then absolute arguments are refused). On 0, *out is the key
 * (caller frees). On -ERR_INVALID, *errmsg (caller frees) says why: empty,
 * NUL byte, another C0 control character or DEL (CR, LF, ESC, …), too long, escapes the root,
 * outside the root, or the root itself. */
COORDHUB_MUST_CHECK int path_normalize(const char *root, const char *arg, size_t len, char **out,
                                       char **errmsg);

/* Normalise a pattern argument the same way (see the header comment) and
 * check its syntax (wildmatch_validate). 0 or -ERR_INVALID with *errmsg. */
COORDHUB_MUST_CHECK int path_pattern_normalize(const char *root, const char *arg, size_t len,
                                               char **out, char **errmsg);

/* Fold a key's case in place, for workspaces whose file system does not
 * tell "A.c" from "a.c": ASCII letters become lower-case; other bytes
 * (UTF-8 sequences included) are left as they are, since a file system's
 * Unicode folding rules cannot be matched byte-wise. Applies to patterns
 * too ("[A-Z]*.C" becomes "[a-z]*.c"). */
void path_fold_case(char *key);

/* dir relative to top, both absolute and canonical: "" when they are
 * equal, NULL when dir is not top or below it (a string comparison by
 * whole segments: "/a/bc" is not below "/a/b"). Caller frees. */
char *path_below(const char *top, const char *dir);

/* Resolve a path argument given in a directory below a worktree: prefix is
 * that directory relative to the worktree's root (NULL or "" at the root
 * itself), worktree the root's absolute path. A relative arg is taken
 * below prefix (so "../lib/x.c" given in "src" is "lib/x.c"); an absolute
 * one must lie under worktree. The key is then normalised as
 * path_normalize() or, when pattern, path_pattern_normalize() do, and the
 * same errors apply (a message names arg as given, not as joined). */
COORDHUB_MUST_CHECK int path_resolve(const char *worktree, const char *prefix, const char *arg,
                                     size_t len, bool pattern, char **out, char **errmsg);

#endif
