/* gitdir — where a directory's git repository keeps its state, found by
 * reading files the way git does, without running git.
 *
 * From a start directory it walks up to the first `.git` entry. A `.git`
 * directory is the repository of a main working tree. A `.git` file
 * ("gitdir: PATH") points at the git directory of a linked worktree (or a
 * submodule, or a `--separate-git-dir` repository); that directory's
 * `commondir` file, when present, names the common directory shared by
 * every worktree of the repository. The main working tree is the parent of
 * a common directory named `.git`; a `.git` file without `commondir` makes
 * its own directory the main working tree; otherwise (bare repositories
 * with linked worktrees, worktrees of submodules) there is none. See
 * docs/configuration.md "Workspace root and state directory". */
#ifndef COORDHUB_APP_GITDIR_H
#define COORDHUB_APP_GITDIR_H

#include "base/err.h"

struct gitdir_info {
    char *toplevel;   /* owned: the working tree holding the `.git` entry */
    char *git_dir;    /* owned: that worktree's git directory */
    char *common_dir; /* owned: the repository's common directory */
    char *main_tree;  /* owned, NULL when the repository has none (bare) */
};

/* Discover the repository of start (an absolute directory). 0 and *gi
 * filled (absolute, canonical paths); -ENOENT when no ancestor has a `.git`
 * entry; -EINVAL when the first `.git` file found is not "gitdir: PATH" or
 * names a directory that does not exist (git refuses such a tree too).
 * On error *gi is left empty. */
COORDHUB_MUST_CHECK int gitdir_discover(const char *start, struct gitdir_info *gi);

/* Free what gitdir_discover() filled; accepts an empty struct. */
void gitdir_info_deinit(struct gitdir_info *gi);

#endif
