/* gitdir — file-based discovery of a repository's common directory.
 *
 * Reading two small files answers what `git rev-parse --show-toplevel
 * --git-common-dir` would, without forking git on every CLI call: a `.git`
 * file's "gitdir:" line and the git directory's `commondir` file, each
 * relative to the file's own directory when not absolute. Every path
 * handed back is canonical (realpath), so two worktrees of a repository
 * compare equal on their common directory and main working tree. */
#include "app/gitdir.h"

#include <errno.h>
#include <limits.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "base/str.h"
#include "base/xmalloc.h"

/* Bytes read from a `.git` or `commondir` file: one path and a newline. */
#define GITDIR_FILE_MAX (PATH_MAX + 64)

/* The first line of file (trailing whitespace cut), or NULL when it cannot
 * be read or is empty. Caller frees. */
static char *gitdir_read_line(const char *file)
{
    FILE *f = fopen(file, "re");
    if (!f)
        return NULL;
    char buf[GITDIR_FILE_MAX];
    size_t n = fread(buf, 1, sizeof(buf) - 1, f);
    fclose(f);
    buf[n] = '\0';
    char *nl = strchr(buf, '\n');
    if (nl)
        *nl = '\0';
    n = strlen(buf);
    while (n > 0 && (buf[n - 1] == '\r' || buf[n - 1] == ' ' || buf[n - 1] == '\t'))
        buf[--n] = '\0';
    return n ? xstrdup(buf) : NULL;
}

/* realpath of rel taken relative to dir when not absolute; NULL when it
 * does not exist. Caller frees. */
static char *gitdir_resolve(const char *dir, const char *rel)
{
    char *joined = rel[0] == '/' ? xstrdup(rel) : str_printf("%s/%s", dir, rel);
    char real[PATH_MAX];
    char *r = realpath(joined, real) ? xstrdup(real) : NULL;
    free(joined);
    return r;
}

static bool gitdir_is_dir(const char *p)
{
    struct stat st;
    return stat(p, &st) == 0 && S_ISDIR(st.st_mode);
}

/* Fill gi from the `.git` entry found in top. */
static int gitdir_from_entry(const char *top, const char *entry, bool is_file,
                             struct gitdir_info *gi)
{
    if (is_file) {
        char *line = gitdir_read_line(entry);
        if (!line || strncmp(line, "gitdir:", 7) != 0) {
            free(line);
            return -EINVAL;
        }
        const char *p = line + 7;
        while (*p == ' ' || *p == '\t')
            p++;
        gi->git_dir = *p ? gitdir_resolve(top, p) : NULL;
        free(line);
        if (!gi->git_dir || !gitdir_is_dir(gi->git_dir)) {
            free(gi->git_dir);
            gi->git_dir = NULL;
            return -EINVAL;
        }
    } else {
        gi->git_dir = gitdir_resolve(top, ".git");
        if (!gi->git_dir)
            return -EINVAL;
    }
    char *cfile = str_printf("%s/commondir", gi->git_dir);
    char *common = gitdir_read_line(cfile);
    free(cfile);
    gi->common_dir = common ? gitdir_resolve(gi->git_dir, common) : NULL;
    free(common);
    bool has_common = gi->common_dir != NULL;
    if (!has_common)
        gi->common_dir = xstrdup(gi->git_dir);
    const char *slash = strrchr(gi->common_dir, '/');
    if (slash && strcmp(slash, "/.git") == 0)
        gi->main_tree = slash == gi->common_dir
                            ? xstrdup("/")
                            : str_printf("%.*s", (int)(slash - gi->common_dir), gi->common_dir);
    else if (!has_common)
        gi->main_tree = xstrdup(top); /* submodule or a separate git directory */
    gi->toplevel = xstrdup(top);
    return 0;
}

int gitdir_discover(const char *start, struct gitdir_info *gi)
{
    memset(gi, 0, sizeof(*gi));
    char dir[PATH_MAX];
    if (!realpath(start, dir))
        return -errno;
    for (;;) {
        char *entry = str_printf("%s/.git", strcmp(dir, "/") == 0 ? "" : dir);
        struct stat st;
        int rc = -ENOENT;
        if (stat(entry, &st) == 0 && (S_ISDIR(st.st_mode) || S_ISREG(st.st_mode)))
            rc = gitdir_from_entry(dir, entry, S_ISREG(st.st_mode), gi);
        free(entry);
        if (rc != -ENOENT) {
            if (rc)
                gitdir_info_deinit(gi);
            return rc;
        }
        char *slash = strrchr(dir, '/');
        if (!slash || strcmp(dir, "/") == 0)
            return -ENOENT;
        if (slash == dir)
            dir[1] = '\0';
        else
            *slash = '\0';
    }
}

void gitdir_info_deinit(struct gitdir_info *gi)
{
    if (!gi)
        return;
    free(gi->toplevel);
    free(gi->git_dir);
    free(gi->common_dir);
    free(gi->main_tree);
    memset(gi, 0, sizeof(*gi));
}
