/* options — one parser for every subcommand's flags, so `--state-dir`,
 * `--json` and friends mean the same everywhere. Values are copied; the
 * struct owns every string it holds. */
#include "app/options.h"

#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "base/xmalloc.h"

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
}

void options_deinit(struct options *o)
{
    char **strs[] = {
        &o->state_dir, &o->root,    &o->workspace, &o->config,      &o->store_url,
        &o->http,      &o->agent,   &o->log_level, &o->since,       &o->mode,
        &o->reason,    &o->status,  &o->title,     &o->description, &o->files,
        &o->patterns,  &o->depends, &o->caps,      &o->result,      &o->task_id,
        &o->tls_cert,  &o->tls_key, &o->name,      &o->publish,     &o->subscribe,
        &o->access,    &o->rate,    &o->burst,     &o->retain,      &o->agent_retention};
    for (size_t i = 0; i < sizeof(strs) / sizeof(strs[0]); i++) {
        free(*strs[i]);
        *strs[i] = NULL;
    }
}

enum opt_kind { OPT_STR, OPT_BOOL, OPT_INT };

struct opt_def {
    const char *name;
    enum opt_kind kind;
    size_t offset;
};

#define OPT_S(n, f)                                                                                \
    {                                                                                              \
        n, OPT_STR, offsetof(struct options, f)                                                    \
    }
#define OPT_B(n, f)                                                                                \
    {                                                                                              \
        n, OPT_BOOL, offsetof(struct options, f)                                                   \
    }
#define OPT_I(n, f)                                                                                \
    {                                                                                              \
        n, OPT_INT, offsetof(struct options, f)                                                    \
    }

static const struct opt_def opt_defs[] = {
    OPT_S("state-dir", state_dir),
    OPT_S("root", root),
    OPT_S("workspace", workspace),
    OPT_S("config", config),
    OPT_S("store", store_url),
    OPT_S("http", http),
    OPT_S("tls-cert", tls_cert),
    OPT_S("tls-key", tls_key),
    OPT_S("agent", agent),
    OPT_S("log-level", log_level),
    OPT_S("retain-events", retain),
    OPT_B("no-http", no_http),
    OPT_B("daemon", daemon),
    OPT_B("json", json),
    OPT_B("help", help),
    OPT_B("follow", follow),
    OPT_B("force", force),
    OPT_S("since", since),
    OPT_I("ttl", ttl),
    OPT_S("mode", mode),
    OPT_S("reason", reason),
    OPT_S("status", status),
    OPT_I("wait", wait_ms),
    OPT_B("failed", failed),
    OPT_S("title", title),
    OPT_S("description", description),
    OPT_S("files", files),
    OPT_S("patterns", patterns),
    OPT_S("depends-on", depends),
    OPT_S("capabilities", caps),
    OPT_I("priority", priority),
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
_Static_assert(sizeof(opt_defs) / sizeof(opt_defs[0]) <= 64, "options.given has 64 bits");

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

int options_parse(struct options *o, int argc, char **argv, int from, int *nargs,
                  const char **err_opt)
{
    int out = from;
    for (int i = from; i < argc; i++) {
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
            *err_opt = a;
            return -1;
        }
        o->given |= (uint64_t)1 << (size_t)(d - opt_defs);
        char *field = (char *)o + d->offset;
        if (d->kind == OPT_BOOL) {
            if (eq) {
                *err_opt = a;
                return -1;
            }
            *(bool *)field = true;
            continue;
        }
        const char *val = eq ? eq + 1 : (i + 1 < argc ? argv[++i] : NULL);
        if (!val) {
            *err_opt = a;
            return -1;
        }
        if (d->kind == OPT_STR) {
            free(*(char **)field);
            *(char **)field = xstrdup(val);
        } else if (opt_parse_int(val, (long long *)field) != 0) {
            *err_opt = a;
            return -1;
        }
    }
    *nargs = out - from;
    return 0;
}

bool options_given(const struct options *o, const char *name)
{
    for (size_t k = 0; k < sizeof(opt_defs) / sizeof(opt_defs[0]); k++)
        if (strcmp(opt_defs[k].name, name) == 0)
            return (o->given >> k) & 1;
    return false;
}

int options_duration_ms(const char *s, int64_t *ms)
{
    char *end;
    errno = 0;
    long long v = s ? strtoll(s, &end, 10) : 0;
    if (!s || errno || end == s || v < 1 || s[0] == '-' || s[0] == '+')
        return -1;
    int64_t unit = 1000;
    if (*end) {
        if (end[1])
            return -1;
        switch (*end) {
        case 's':
            unit = 1000;
            break;
        case 'm':
            unit = 60 * 1000;
            break;
        case 'h':
            unit = 3600 * 1000;
            break;
        case 'd':
            unit = 24LL * 3600 * 1000;
            break;
        default:
            return -1;
        }
    }
    if (v > 10LL * 366 * 24 * 3600 * 1000 / unit)
        return -1;
    *ms = v * unit;
    return 0;
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

static char *opt_git_toplevel(void)
{
    char cwd[PATH_MAX];
    if (!getcwd(cwd, sizeof(cwd)))
        return NULL;
    for (;;) {
        char probe[PATH_MAX + 8];
        struct stat st;
        snprintf(probe, sizeof(probe), "%s/.git", cwd);
        if (stat(probe, &st) == 0)
            return xstrdup(cwd);
        char *slash = strrchr(cwd, '/');
        if (!slash || slash == cwd)
            return NULL;
        *slash = '\0';
    }
}

int options_resolve(struct options *o)
{
    char *root = o->root ? opt_canonical(o->root) : opt_git_toplevel();
    if (!root) {
        char cwd[PATH_MAX];
        if (!getcwd(cwd, sizeof(cwd)))
            return -errno;
        root = opt_canonical(cwd);
    }
    free(o->root);
    o->root = root;
    if (o->state_dir) {
        char *s = opt_canonical(o->state_dir);
        free(o->state_dir);
        o->state_dir = s;
    } else {
        size_t n = strlen(root) + sizeof("/.coordhub");
        o->state_dir = xmalloc(n);
        snprintf(o->state_dir, n, "%s/.coordhub", root);
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
