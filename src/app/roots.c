/* roots — a session's resolution roots (see roots.h for the rules).
 *
 * Everything that touches the file system for path resolution lives
 * here, in the app layer: canonicalising a root, finding its worktree
 * (gitdir.h) and checking whether a relative file exists below it. The
 * key itself is computed by the core's path_resolve(), so a key made here
 * is exactly what the CLI would send from that directory. */
#include "app/roots.h"

#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "app/gitdir.h"
#include "base/str.h"
#include "base/xmalloc.h"
#include "core/path.h"
#include "rpc/tools.h"

/* More roots than any client declares; the rest are ignored. */
#define ROOTS_MAX 64

struct roots_entry {
    char *dir;      /* owned: canonical absolute directory */
    char *worktree; /* owned: the worktree root it lies in */
    char *prefix;   /* owned: dir relative to worktree ("" at its root) */
};

struct roots {
    char *ws_root;   /* owned */
    char *ws_common; /* owned: the workspace repository's common git dir, or NULL */
    struct roots_entry v[ROOTS_MAX];
    size_t n;
};

struct roots *roots_new(const char *ws_root)
{
    struct roots *r = xcalloc(1, sizeof(*r));
    r->ws_root = xstrdup(ws_root);
    struct gitdir_info gi;
    if (gitdir_discover(ws_root, &gi) == 0)
        r->ws_common = xstrdup(gi.common_dir);
    gitdir_info_deinit(&gi);
    return r;
}

void roots_clear(struct roots *r)
{
    for (size_t i = 0; i < r->n; i++) {
        free(r->v[i].dir);
        free(r->v[i].worktree);
        free(r->v[i].prefix);
    }
    r->n = 0;
}

void roots_free(struct roots *r)
{
    if (!r)
        return;
    roots_clear(r);
    free(r->ws_root);
    free(r->ws_common);
    free(r);
}

size_t roots_count(const struct roots *r)
{
    return r ? r->n : 0;
}

const char *roots_dir(const struct roots *r, size_t i)
{
    return r && i < r->n ? r->v[i].dir : NULL;
}

int roots_add_dir(struct roots *r, const char *dir, char **why)
{
    *why = NULL;
    char real[PATH_MAX];
    if (dir[0] != '/' || !realpath(dir, real)) {
        *why = str_printf("root '%.300s' is not a directory on this machine", dir);
        return -ENOENT;
    }
    if (r->n == ROOTS_MAX) {
        *why = str_printf("root '%.300s' ignored: more than %d roots", real, ROOTS_MAX);
        return -ENOSPC;
    }
    /* Its own worktree when that is one of the workspace's repository;
     * else the workspace root when it lies below it. */
    struct gitdir_info gi;
    char *worktree = NULL;
    if (r->ws_common && gitdir_discover(real, &gi) == 0) {
        if (strcmp(gi.common_dir, r->ws_common) == 0)
            worktree = xstrdup(gi.toplevel);
        gitdir_info_deinit(&gi);
    }
    char *prefix = worktree ? path_below(worktree, real) : NULL;
    if (!prefix) {
        free(worktree);
        worktree = xstrdup(r->ws_root);
        prefix = path_below(worktree, real);
    }
    if (!prefix) {
        *why = str_printf("root '%.300s' is outside the workspace '%.300s'", real, r->ws_root);
        free(worktree);
        return -EXDEV;
    }
    struct roots_entry *e = &r->v[r->n++];
    e->dir = xstrdup(real);
    e->worktree = worktree;
    e->prefix = prefix;
    return 0;
}

int roots_add_uri(struct roots *r, const char *uri, char **why)
{
    *why = NULL;
    const char *p = NULL;
    if (strncmp(uri, "file:///", 8) == 0)
        p = uri + 7;
    else if (strncmp(uri, "file://localhost/", 17) == 0)
        p = uri + 16;
    if (!p) {
        *why = str_printf("root '%.300s' is not a local file:// URI", uri);
        return -EINVAL;
    }
    char *dir = str_percent_decode(p, strlen(p), true);
    if (!dir) {
        *why = str_printf("root '%.300s' has a malformed escape", uri);
        return -EINVAL;
    }
    int rc = roots_add_dir(r, dir, why);
    free(dir);
    return rc;
}

/* The root a relative file arg resolves against: the first under which
 * it exists, else the first. */
static const struct roots_entry *roots_pick_relative(const struct roots *r, const char *arg,
                                                     bool pattern)
{
    for (size_t i = 0; !pattern && i < r->n; i++) {
        char *p = str_printf("%s/%s", r->v[i].dir, arg);
        struct stat st;
        bool there = lstat(p, &st) == 0;
        free(p);
        if (there)
            return &r->v[i];
    }
    return &r->v[0];
}

/* The worktree an absolute arg is keyed on: that of the first root it is
 * under, else the first root's worktree it is under; NULL: none. */
static const char *roots_pick_absolute(const struct roots *r, const char *arg)
{
    for (int pass = 0; pass < 2; pass++) {
        for (size_t i = 0; i < r->n; i++) {
            const char *top = pass == 0 ? r->v[i].dir : r->v[i].worktree;
            char *key = NULL, *why = NULL;
            bool under = path_normalize(top, arg, strlen(arg), &key, &why) == 0;
            free(key);
            free(why);
            if (under)
                return r->v[i].worktree;
        }
    }
    return NULL;
}

/* One path value into a key (owned), or NULL with *errmsg. An absolute
 * path under no root is returned as it is, for the core to judge. */
static char *roots_key(const struct roots *r, const char *argname, const char *arg, bool pattern,
                       char **errmsg)
{
    char *key = NULL, *why = NULL;
    int rc;
    if (arg[0] == '/') {
        const char *top = roots_pick_absolute(r, arg);
        if (!top)
            return xstrdup(arg);
        rc = path_resolve(top, NULL, arg, strlen(arg), pattern, &key, &why);
    } else {
        const struct roots_entry *e = roots_pick_relative(r, arg, pattern);
        rc = path_resolve(e->worktree, e->prefix, arg, strlen(arg), pattern, &key, &why);
    }
    if (rc) {
        *errmsg = str_printf("argument '%s': %s", argname, why);
        free(why);
        return NULL;
    }
    return key;
}

/* Rewrite args[name] (a string, or with array each string element). */
static int roots_rewrite_one(const struct roots *r, cJSON *args, const char *name, bool array,
                             bool pattern, char **errmsg)
{
    cJSON *v = cJSON_GetObjectItemCaseSensitive(args, name);
    if (!v)
        return 0;
    int n = array ? cJSON_GetArraySize(v) : 1;
    for (int i = 0; i < n; i++) {
        cJSON *item = array ? cJSON_GetArrayItem(v, i) : v;
        if (!cJSON_IsString(item) || !item->valuestring[0])
            continue; /* the core refuses it with its own message */
        char argname[80];
        if (array)
            snprintf(argname, sizeof(argname), "%s[%d]", name, i);
        else
            snprintf(argname, sizeof(argname), "%s", name);
        char *key = roots_key(r, argname, item->valuestring, pattern, errmsg);
        if (!key)
            return -ERR_INVALID;
        cJSON *nv = cJSON_CreateString(key);
        free(key);
        if (array)
            cJSON_ReplaceItemInArray(v, i, nv);
        else
            cJSON_ReplaceItemInObjectCaseSensitive(args, name, nv);
    }
    return 0;
}

int roots_rewrite_args(const struct roots *r, unsigned paths, cJSON *args, char **errmsg)
{
    *errmsg = NULL;
    if (!r || r->n == 0 || !cJSON_IsObject(args))
        return 0;
    int rc = 0;
    if (!rc && (paths & TOOL_PATH_FILE))
        rc = roots_rewrite_one(r, args, "file", false, false, errmsg);
    if (!rc && (paths & TOOL_PATH_PATTERN))
        rc = roots_rewrite_one(r, args, "pattern", false, true, errmsg);
    if (!rc && (paths & TOOL_PATH_FILES))
        rc = roots_rewrite_one(r, args, "files", true, false, errmsg);
    if (!rc && (paths & TOOL_PATH_PATTERNS))
        rc = roots_rewrite_one(r, args, "patterns", true, true, errmsg);
    return rc;
}
