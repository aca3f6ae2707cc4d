/* options — one parser for every subcommand's flags, so `--state-dir`,
 * `--json` and friends mean the same everywhere. Values are copied; the
 * struct owns every string it holds. */
#include "app/options.h"

#include <errno.h>
#include <limits.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "app/gitdir.h"
#include "base/log.h"
#include "base/str.h"
#include "base/utf8.h"
#include "base/xmalloc.h"
#include "core/path.h"

static int opt_parse_int(const char *s, long long *out)
{
    char *end;
    errno = 0;
    long long v = strtoll(s, &end, 10);
    if (errno || end == s || *end)
        return -1;
    *out = v;
    return 0;
}

void options_init(struct options *o)
{
    memset(o, 0, sizeof(*o));
    const char *e;
    if ((e = getenv("COORDHUB_STATE_DIR")) && *e)
        o->state_dir = xstrdup(e);
    if ((e = getenv("COORDHUB_ROOT")) && *e)
        o->root = xstrdup(e);
    if ((e = getenv("COORDHUB_AGENT")) && *e)
        o->agent = xstrdup(e);
    if ((e = getenv("COORDHUB_HTTP")) && *e)
        o->http = xstrdup(e);
    if ((e = getenv("COORDHUB_TLS_CERT")) && *e)
        o->tls_cert = xstrdup(e);
    if ((e = getenv("COORDHUB_TLS_KEY")) && *e)
        o->tls_key = xstrdup(e);
    if ((e = getenv("COORDHUB_STORE")) && *e)
        o->store_url = xstrdup(e);
    long long ms = 0;
    if ((e = getenv("COORDHUB_CLIENT_TIMEOUT_MS")) && *e && opt_parse_int(e, &ms) == 0 && ms > 0)
        o->reply_timeout_ms = ms;
    if ((e = getenv("COORDHUB_IDLE_EXIT")) && *e)
        o->idle_exit = xstrdup(e);
}

void options_deinit(struct options *o)
{
    char **strs[] = {&o->state_dir,       &o->root,        &o->workspace, &o->config,
                     &o->store_url,       &o->http,        &o->agent,     &o->log_level,
                     &o->since,           &o->mode,        &o->reason,    &o->status,
                     &o->title,           &o->description, &o->files,     &o->patterns,
                     &o->depends,         &o->caps,        &o->result,    &o->task_id,
                     &o->tls_cert,        &o->tls_key,     &o->name,      &o->publish,
                     &o->subscribe,       &o->access,      &o->rate,      &o->burst,
                     &o->retain,          &o->types,       &o->pattern,   &o->idle_exit,
                     &o->agent_retention, &o->worktree,    &o->prefix};
    for (size_t i = 0; i < sizeof(strs) / sizeof(strs[0]); i++) {
        free(*strs[i]);
        *strs[i] = NULL;
    }
}

/* OPT_STR values are sent to the hub, so they must be UTF-8 (JSON text
 * is); OPT_PATH values name local files and are used as given. */
enum opt_kind { OPT_STR, OPT_PATH, OPT_BOOL, OPT_INT };

struct opt_def {
    const char *name;
    enum opt_kind kind;
    size_t offset;
    size_t given; /* OPT_INT: offset of the bool saying it was given */
};

#define OPT_S(n, f)                                                                                \
    {                                                                                              \
        n, OPT_STR, offsetof(struct options, f), 0                                                 \
    }
#define OPT_P(n, f)                                                                                \
    {                                                                                              \
        n, OPT_PATH, offsetof(struct options, f), 0                                                \
    }
#define OPT_B(n, f)                                                                                \
    {                                                                                              \
        n, OPT_BOOL, offsetof(struct options, f), 0                                                \
    }
#define OPT_I(n, f, g)                                                                             \
    {                                                                                              \
        n, OPT_INT, offsetof(struct options, f), offsetof(struct options, g)                       \
    }

static const struct opt_def opt_defs[] = {
    OPT_P("state-dir", state_dir),
    OPT_P("root", root),
    OPT_S("workspace", workspace),
    OPT_P("config", config),
    OPT_P("store", store_url),
    OPT_P("http", http),
    OPT_P("tls-cert", tls_cert),
    OPT_P("tls-key", tls_key),
    OPT_S("agent", agent),
    OPT_S("log-level", log_level),
    OPT_S("retain-events", retain),
    OPT_S("idle-exit", idle_exit),
    OPT_B("no-http", no_http),
    OPT_B("daemon", daemon),
    OPT_B("json", json),
    OPT_B("help", help),
    OPT_B("follow", follow),
    OPT_B("from-now", from_now),
    OPT_B("force", force),
    OPT_B("brief", brief),
    OPT_S("since", since),
    OPT_S("types", types),
    OPT_I("ttl", ttl, ttl_given),
    OPT_S("mode", mode),
    OPT_S("reason", reason),
    OPT_S("status", status),
    OPT_I("wait", wait_ms, wait_given),
    OPT_S("pattern", pattern),
    OPT_B("failed", failed),
    OPT_S("title", title),
    OPT_S("description", description),
    OPT_S("files", files),
    OPT_S("patterns", patterns),
    OPT_S("depends-on", depends),
    OPT_S("capabilities", caps),
    OPT_I("priority", priority, priority_given),
    OPT_S("result", result),
    OPT_S("id", task_id),
    OPT_S("name", name),
    OPT_S("publish", publish),
    OPT_S("subscribe", subscribe),
    OPT_S("state", access),
    OPT_B("require-signature", require_signature),
    OPT_S("rate", rate),
    OPT_S("burst", burst),
    OPT_B("all", all),
    OPT_S("agent-retention", agent_retention),
};

static int opt_fail(char **errmsg, int kind, char *msg)
{
    free(*errmsg);
    *errmsg = msg;
    return kind;
}

int options_parse(struct options *o, int argc, char **argv, int from, int *nargs, char **errmsg)
{
    *errmsg = NULL;
    int out = from;
    int rc = 0;
    for (int i = from; i < argc && !rc; i++) {
        char *a = argv[i];
        if (strcmp(a, "-h") == 0) {
            o->help = true;
            continue;
        }
        if (strcmp(a, "--") == 0) {
            for (i++; i < argc; i++)
                argv[out++] = argv[i];
            break;
        }
        if (strncmp(a, "--", 2) != 0 || a[2] == '\0') {
            argv[out++] = a;
            continue;
        }
        const char *name = a + 2;
        const char *eq = strchr(name, '=');
        size_t nlen = eq ? (size_t)(eq - name) : strlen(name);
        const struct opt_def *d = NULL;
        for (size_t k = 0; k < sizeof(opt_defs) / sizeof(opt_defs[0]); k++)
            if (strlen(opt_defs[k].name) == nlen && strncmp(opt_defs[k].name, name, nlen) == 0)
                d = &opt_defs[k];
        if (!d) {
            rc = opt_fail(errmsg, OPTIONS_USAGE,
                          str_printf("unknown option '%.*s'", (int)nlen + 2, a));
            break;
        }
        char *field = (char *)o + d->offset;
        if (d->kind == OPT_BOOL) {
            if (eq)
                rc = opt_fail(errmsg, OPTIONS_USAGE, str_printf("--%s takes no value", d->name));
            else
                *(bool *)field = true;
            continue;
        }
        const char *val = eq ? eq + 1 : (i + 1 < argc ? argv[++i] : NULL);
        if (!val) {
            rc = opt_fail(errmsg, OPTIONS_USAGE, str_printf("--%s needs a value", d->name));
        } else if (d->kind != OPT_PATH && !utf8_valid(val, strlen(val))) {
            rc = opt_fail(errmsg, OPTIONS_INVALID, str_printf("--%s is not valid UTF-8", d->name));
        } else if (d->kind == OPT_INT) {
            if (opt_parse_int(val, (long long *)field) != 0)
                rc = opt_fail(errmsg, OPTIONS_INVALID,
                              str_printf("--%s: '%s' is not an integer", d->name, val));
            else
                *(bool *)((char *)o + d->given) = true;
        } else {
            free(*(char **)field);
            *(char **)field = xstrdup(val);
            /* Only a --store on the command line may move a workspace to
             * another store than its record's (docs/configuration.md). */
            if (d->offset == offsetof(struct options, store_url))
                o->store_arg = true;
        }
    }
    /* The environment's agent id is sent like --agent. */
    if (!rc && o->agent && !utf8_valid(o->agent, strlen(o->agent)))
        rc = opt_fail(errmsg, OPTIONS_INVALID,
                      xstrdup("--agent (or COORDHUB_AGENT) is not valid UTF-8"));
    *nargs = out - from;
    return rc;
}

static char *opt_absolute(const char *p)
{
    if (p[0] == '/')
        return xstrdup(p);
    char cwd[PATH_MAX];
    if (!getcwd(cwd, sizeof(cwd)))
        return xstrdup(p);
    size_t n = strlen(cwd) + strlen(p) + 2;
    char *r = xmalloc(n);
    snprintf(r, n, "%s/%s", cwd, p);
    return r;
}

/* Canonicalise an existing directory; keep the absolute form otherwise. */
static char *opt_canonical(const char *p)
{
    char *abs = opt_absolute(p);
    char real[PATH_MAX];
    if (realpath(abs, real)) {
        free(abs);
        return xstrdup(real);
    }
    return abs;
}

/* The nearest ancestor of cwd (itself included) holding a .coordhub
 * directory, or NULL. */
static char *opt_state_ancestor(const char *cwd)
{
    char dir[PATH_MAX];
    snprintf(dir, sizeof(dir), "%s", cwd);
    for (;;) {
        char probe[PATH_MAX + 16];
        struct stat st;
        snprintf(probe, sizeof(probe), "%s/.coordhub", strcmp(dir, "/") == 0 ? "" : dir);
        if (stat(probe, &st) == 0 && S_ISDIR(st.st_mode))
            return xstrdup(dir);
        char *slash = strrchr(dir, '/');
        if (!slash || strcmp(dir, "/") == 0)
            return NULL;
        if (slash == dir)
            dir[1] = '\0';
        else
            *slash = '\0';
    }
}

/* A repository's name for a workspace without a main working tree: its
 * common directory's name without a ".git" suffix ("shop.git" -> "shop"). */
static char *opt_bare_name(const char *common)
{
    const char *base = strrchr(common, '/');
    base = base && base[1] ? base + 1 : common;
    size_t n = strlen(base);
    if (n > 4 && strcmp(base + n - 4, ".git") == 0)
        n -= 4;
    return str_printf("%.*s", (int)n, base);
}

/* dir (canonicalised) relative to top: "" when equal, NULL when dir is
 * not below top. */
static char *opt_below(const char *top, const char *dir)
{
    char real[PATH_MAX];
    if (!realpath(dir, real))
        return NULL;
    return path_below(top, real);
}

int options_resolve(struct options *o)
{
    char cwd[PATH_MAX];
    if (!getcwd(cwd, sizeof(cwd)))
        return -errno;
    o->state_dir_given = o->state_dir != NULL;
    struct gitdir_info gi;
    bool in_repo = gitdir_discover(cwd, &gi) == 0;
    char *root = NULL, *state = NULL;
    if (o->root) {
        o->root_from = OPTIONS_ROOT_EXPLICIT;
        root = opt_canonical(o->root);
    } else if (in_repo) {
        o->root_from = OPTIONS_ROOT_GIT;
        root = xstrdup(gi.main_tree ? gi.main_tree : gi.toplevel);
        if (!gi.main_tree) {
            state = str_printf("%s/coordhub", gi.common_dir);
            if (!o->workspace)
                o->workspace = opt_bare_name(gi.common_dir);
        }
    } else if ((root = opt_state_ancestor(cwd))) {
        o->root_from = OPTIONS_ROOT_STATE;
    } else {
        o->root_from = OPTIONS_ROOT_CWD;
        root = opt_canonical(cwd);
    }
    /* The caller's own worktree keys its paths (docs/configuration.md,
     * "Git worktrees": leases are keyed relative to the worktree's root),
     * provided it is a worktree of the repository whose hub this is. */
    bool own = in_repo && (o->root_from == OPTIONS_ROOT_GIT ||
                           (gi.main_tree && strcmp(gi.main_tree, root) == 0));
    free(o->worktree);
    o->worktree = xstrdup(own ? gi.toplevel : root);
    gitdir_info_deinit(&gi);
    free(o->prefix);
    o->prefix = opt_below(o->worktree, cwd);
    free(o->root);
    o->root = root;
    if (o->state_dir) {
        char *s = opt_canonical(o->state_dir);
        free(o->state_dir);
        o->state_dir = s;
        free(state);
    } else if (state) {
        o->state_dir = state;
    } else {
        o->state_dir = str_printf("%s/.coordhub", strcmp(root, "/") == 0 ? "" : root);
    }
    if (!o->workspace) {
        const char *base = strrchr(root, '/');
        o->workspace = xstrdup(base && base[1] ? base + 1 : root);
    }
    if (!o->store_url) {
        size_t n = strlen(o->state_dir) + sizeof("sqlite:/hub.db");
        o->store_url = xmalloc(n);
        snprintf(o->store_url, n, "sqlite:%s/hub.db", o->state_dir);
    }
    return 0;
}

char *options_state_path(const struct options *o, const char *name)
{
    size_t n = strlen(o->state_dir) + strlen(name) + 2;
    char *p = xmalloc(n);
    snprintf(p, n, "%s/%s", o->state_dir, name);
    return p;
}

int options_retain_events(const char *s, uint64_t *out)
{
    if (strcmp(s, "all") == 0) {
        *out = 0;
        return 0;
    }
    long long v = 0;
    if (*s < '0' || *s > '9' || opt_parse_int(s, &v) != 0 || v < OPTIONS_RETAIN_MIN)
        return -1;
    *out = (uint64_t)v;
    return 0;
}

int options_duration_ms(const char *s, int64_t max_ms, int64_t *out)
{
    if (strcmp(s, "never") == 0 || strcmp(s, "0") == 0) {
        *out = 0;
        return 0;
    }
    if (*s < '0' || *s > '9')
        return -1;
    char *end;
    errno = 0;
    long long v = strtoll(s, &end, 10);
    if (errno || end == s)
        return -1;
    static const struct {
        const char *unit;
        long long ms;
    } units[] = {{"", 1000}, {"ms", 1}, {"s", 1000}, {"m", 60000}, {"h", 3600000}, {"d", 86400000}};
    for (size_t i = 0; i < sizeof(units) / sizeof(units[0]); i++) {
        if (strcmp(end, units[i].unit) != 0)
            continue;
        if (v > max_ms / units[i].ms)
            return -1;
        *out = v * units[i].ms;
        return 0;
    }
    return -1;
}

long long options_env_int(const char *name, long long lo, long long hi, long long dflt,
                          const char *unit)
{
    const char *e = getenv(name);
    if (!e || !*e)
        return dflt;
    char *end;
    errno = 0;
    long long v = strtoll(e, &end, 10);
    if (errno || *end || v < lo || v > hi) {
        log_warn("%s=%s ignored: expected %lld..%lld%s", name, e, lo, hi, unit ? unit : "");
        return dflt;
    }
    return v;
}
