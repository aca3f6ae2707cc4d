/* path — lexical normalisation of file and pattern arguments.
 *
 * Both kinds go through path_lexical(), which rebuilds the argument
 * segment by segment into a buffer no longer than the input: empty and "."
 * segments vanish, ".." pops the previous segment. The result never has a
 * leading, trailing or doubled '/'. Absolute arguments are normalised
 * whole (".." at "/" stays at "/", as the kernel does) and then must lie
 * strictly below the normalised root. Nothing here touches the file
 * system, so a symlink inside the root that points outside is not caught:
 * keys are names, not inodes. */
#include "core/path.h"

#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "base/str.h"
#include "base/xmalloc.h"
#include "core/wildmatch.h"

/* Shown in messages: enough of the argument to recognise it. */
#define PATH_SHOW 200

struct path_lex {
    char *out;       /* owned, NUL-terminated */
    bool escaped;    /* a ".." found nothing to pop */
    bool saw_dotdot; /* any ".." segment at all */
    bool trailing;   /* the input ended with '/' */
};

static void path_lexical(const char *s, size_t n, struct path_lex *lx)
{
    size_t o = 0;
    lx->out = xmalloc(n + 1);
    lx->escaped = lx->saw_dotdot = false;
    lx->trailing = n > 0 && s[n - 1] == '/';
    size_t i = 0;
    while (i < n) {
        size_t j = i;
        while (j < n && s[j] != '/')
            j++;
        size_t len = j - i;
        const char *seg = s + i;
        i = j + 1;
        if (len == 0 || (len == 1 && seg[0] == '.'))
            continue;
        if (len == 2 && seg[0] == '.' && seg[1] == '.') {
            lx->saw_dotdot = true;
            if (o == 0) {
                lx->escaped = true;
                continue;
            }
            while (o > 0 && lx->out[o - 1] != '/')
                o--;
            if (o > 0)
                o--; /* the separator before the popped segment */
            continue;
        }
        if (o > 0)
            lx->out[o++] = '/';
        memcpy(lx->out + o, seg, len);
        o += len;
    }
    lx->out[o] = '\0';
}

/* Make an absolute, normalised arg (abs, without its leading '/')
 * relative to root. Returns the relative key (owned) or NULL with *errmsg. */
static char *path_strip_root(const char *root, const char *abs, const char *shown, char **errmsg)
{
    if (!root || root[0] != '/') {
        *errmsg = str_printf("absolute path '%.*s' given but the workspace root is unknown",
                             PATH_SHOW, shown);
        return NULL;
    }
    struct path_lex rl;
    path_lexical(root, strlen(root), &rl);
    size_t rn = strlen(rl.out);
    char *key = NULL;
    if (rn == 0) {
        key = xstrdup(abs); /* root is "/" */
    } else if (strncmp(abs, rl.out, rn) == 0 && abs[rn] == '/') {
        key = xstrdup(abs + rn + 1);
    } else if (strcmp(abs, rl.out) == 0) {
        key = xstrdup("");
    } else {
        *errmsg =
            str_printf("path '%.*s' is outside the workspace root '/%s'", PATH_SHOW, shown, rl.out);
    }
    free(rl.out);
    return key;
}

/* Shared checks on the raw argument; the argument as given starts skip
 * bytes in (path_resolve joins a prefix before it), which is where byte
 * offsets in messages count from. */
static int path_check_raw(const char *arg, size_t len, size_t skip, size_t max, const char *what,
                          char **errmsg)
{
    if (len == 0) {
        *errmsg = str_printf("%s must not be empty", what);
        return -ERR_INVALID;
    }
    if (memchr(arg, '\0', len)) {
        *errmsg = str_printf("%s contains a NUL byte", what);
        return -ERR_INVALID;
    }
    /* No name anyone means holds a line break, an escape sequence or
     * another C0 control or DEL; refused here, they never reach a lease, a
     * task or a terminal that lists them (docs/tools.md). */
    for (size_t i = skip; i < len; i++) {
        unsigned char ch = (unsigned char)arg[i];
        if (ch < 0x20 || ch == 0x7f) {
            char one[2] = {(char)ch, '\0'};
            char *shown = str_escape_controls(one);
            *errmsg = str_printf("%s contains the control character %s at byte %zu; control "
                                 "characters are not allowed in file names",
                                 what, shown, i - skip);
            free(shown);
            return -ERR_INVALID;
        }
    }
    if (len > max) {
        *errmsg = str_printf("%s is longer than %zu bytes", what, max);
        return -ERR_INVALID;
    }
    return 0;
}

/* path_normalize() naming arg + skip (NUL-terminated: the argument as
 * given) in its messages. */
static int path_normalize_shown(const char *root, const char *arg, size_t len, size_t skip,
                                char **out, char **errmsg)
{
    const char *shown = arg + skip;
    struct path_lex lx = {0};
    char *key = NULL;
    *out = NULL;
    *errmsg = NULL;
    int rc = path_check_raw(arg, len, skip, PATH_MAX_LEN, "path", errmsg);
    if (rc)
        return rc;
    path_lexical(arg, len, &lx);
    if (arg[0] == '/') {
        key = path_strip_root(root, lx.out, shown, errmsg);
        if (!key)
            goto fail;
    } else {
        if (lx.escaped) {
            *errmsg = str_printf("path '%.*s' escapes the workspace root", PATH_SHOW, shown);
            goto fail;
        }
        key = lx.out;
        lx.out = NULL;
    }
    if (key[0] == '\0') {
        *errmsg =
            str_printf("path '%.*s' is the workspace root itself, not a file", PATH_SHOW, shown);
        goto fail;
    }
    free(lx.out);
    *out = key;
    return 0;
fail:
    free(lx.out);
    free(key);
    return -ERR_INVALID;
}

int path_normalize(const char *root, const char *arg, size_t len, char **out, char **errmsg)
{
    return path_normalize_shown(root, arg, len, 0, out, errmsg);
}

/* path_pattern_normalize() naming arg + skip in its messages. */
static int path_pattern_normalize_shown(const char *root, const char *arg, size_t len, size_t skip,
                                        char **out, char **errmsg)
{
    const char *shown = arg + skip;
    struct path_lex lx = {0};
    char *key = NULL;
    *out = NULL;
    *errmsg = NULL;
    int rc = path_check_raw(arg, len, skip, PATH_PATTERN_MAX, "pattern", errmsg);
    if (rc)
        return rc;
    path_lexical(arg, len, &lx);
    if (lx.saw_dotdot) {
        *errmsg = str_printf("pattern '%.*s' contains '..', which is not allowed in patterns",
                             PATH_SHOW, shown);
        goto fail;
    }
    if (arg[0] == '/') {
        key = path_strip_root(root, lx.out, shown, errmsg);
        if (!key)
            goto fail;
    } else {
        key = lx.out;
        lx.out = NULL;
    }
    if (key[0] == '\0') {
        *errmsg = str_printf("pattern '%.*s' names the workspace root itself", PATH_SHOW, shown);
        goto fail;
    }
    if (lx.trailing) {
        char *dir = str_printf("%s/**", key);
        free(key);
        key = dir;
    }
    char *why = NULL;
    if (wildmatch_validate(key, &why)) {
        *errmsg = str_printf("pattern '%.*s': %s", PATH_SHOW, shown, why);
        free(why);
        goto fail;
    }
    free(lx.out);
    *out = key;
    return 0;
fail:
    free(lx.out);
    free(key);
    return -ERR_INVALID;
}

int path_pattern_normalize(const char *root, const char *arg, size_t len, char **out, char **errmsg)
{
    return path_pattern_normalize_shown(root, arg, len, 0, out, errmsg);
}

int path_resolve(const char *worktree, const char *prefix, const char *arg, size_t len,
                 bool pattern, char **out, char **errmsg)
{
    if (!prefix || !*prefix || len == 0 || arg[0] == '/')
        return pattern ? path_pattern_normalize(worktree, arg, len, out, errmsg)
                       : path_normalize(worktree, arg, len, out, errmsg);
    /* A NUL inside arg must still be caught, so both the join and the name
     * in messages keep len bytes rather than stopping at the first NUL. */
    size_t plen = strlen(prefix);
    size_t jlen = plen + 1 + len;
    char *joined = xmalloc(jlen + 1);
    memcpy(joined, prefix, plen);
    joined[plen] = '/';
    memcpy(joined + plen + 1, arg, len);
    joined[jlen] = '\0';
    int rc = pattern ? path_pattern_normalize_shown(worktree, joined, jlen, plen + 1, out, errmsg)
                     : path_normalize_shown(worktree, joined, jlen, plen + 1, out, errmsg);
    free(joined);
    return rc;
}

void path_fold_case(char *key)
{
    for (char *p = key; *p; p++)
        if (*p >= 'A' && *p <= 'Z')
            *p = (char)(*p - 'A' + 'a');
}

char *path_below(const char *top, const char *dir)
{
    if (strcmp(top, "/") == 0)
        return dir[0] == '/' ? xstrdup(dir + 1) : NULL;
    size_t n = strlen(top);
    if (strncmp(dir, top, n) != 0 || (dir[n] != '\0' && dir[n] != '/'))
        return NULL;
    return xstrdup(dir[n] ? dir + n + 1 : "");
}
