/* options — the common command-line options of docs/cli.md and how the
 * workspace root, state directory and workspace name are resolved.
 *
 * Parsing does no I/O beyond reading the environment and, in
 * options_resolve(), looking for a `.git` entry while walking up from the
 * current directory. */
#ifndef COORDHUB_APP_OPTIONS_H
#define COORDHUB_APP_OPTIONS_H

#include <stdbool.h>
#include <stdint.h>

/* Where options_resolve() found the workspace root. */
enum options_root_from {
    OPTIONS_ROOT_EXPLICIT, /* --root or COORDHUB_ROOT */
    OPTIONS_ROOT_GIT,      /* the repository's main working tree */
    OPTIONS_ROOT_STATE,    /* outside a repository: an ancestor holding .coordhub/ */
    OPTIONS_ROOT_CWD,      /* nothing found: the working directory */
};

struct options {
    char *state_dir; /* owned, absolute after resolve */
    char *root;      /* owned, absolute after resolve: workspace root */
    /* owned, absolute after resolve: the caller's own worktree root,
     * against which its paths are keyed (== root unless in a linked
     * worktree) */
    char *worktree;
    /* owned, set by resolve: the working directory relative to worktree
     * ("" at its root), NULL when outside it */
    char *prefix;
    char *workspace; /* owned: workspace name (default: basename of root) */
    char *config;    /* owned, may be NULL */
    char *store_url; /* owned; default sqlite:<state_dir>/hub.db */
    char *http;      /* owned, may be NULL: --http / COORDHUB_HTTP ADDR:PORT */
    char *tls_cert;  /* owned, may be NULL: --tls-cert / COORDHUB_TLS_CERT FILE */
    char *tls_key;   /* owned, may be NULL: --tls-key / COORDHUB_TLS_KEY FILE */
    char *agent;     /* owned, may be NULL: --agent / COORDHUB_AGENT */
    char *log_level; /* owned, may be NULL */
    char *retain;    /* owned, may be NULL: serve --retain-events N|all */
    /* owned, may be NULL: --idle-exit DURATION / COORDHUB_IDLE_EXIT (serve:
     * exit after that long without sessions; client commands and mcp: the
     * idle time of a hub they start) */
    char *idle_exit;
    char *agent_retention; /* owned, may be NULL: serve --agent-retention DURATION */
    char *types;           /* events --types (comma-separated type patterns) */
    char *pattern;         /* lock/unlock --pattern */
    char *since;           /* events --since N */
    char *mode;            /* lock --mode */
    char *reason;          /* lock/release --reason */
    char *status;          /* agents/tasks --status */
    char *title;           /* task add --title */
    char *description;
    char *files;                /* comma-separated */
    char *patterns;             /* comma-separated */
    char *depends;              /* comma-separated */
    char *caps;                 /* comma-separated */
    char *result;               /* task done --result */
    char *task_id;              /* task add --id */
    char *name;                 /* key create --name */
    char *publish;              /* key create --publish (comma-separated patterns) */
    char *subscribe;            /* key create --subscribe (comma-separated patterns) */
    char *access;               /* key create --state none|read|write|admin */
    char *rate;                 /* key create --rate N (requests/s, may have a fraction) */
    char *burst;                /* key create --burst N (integer) */
    long long reply_timeout_ms; /* ms; COORDHUB_CLIENT_TIMEOUT_MS, 0 = CLIENT_REPLY_TIMEOUT_MS */
    long long ttl;              /* lock --ttl S (sent only when ttl_given) */
    long long wait_ms;          /* lock --wait MS (sent only when wait_given) */
    long long priority;         /* task add --priority N (sent only when priority_given) */
    enum options_root_from root_from; /* set by resolve */
    bool state_dir_given;             /* set by resolve: --state-dir or env */
    bool ttl_given;
    bool wait_given;
    bool priority_given;
    bool store_arg; /* --store was on the command line (not only COORDHUB_STORE) */
    bool no_http;
    bool daemon;
    bool json;
    bool help;
    bool follow;            /* events --follow */
    bool from_now;          /* events --from-now */
    bool brief;             /* status --brief */
    bool force;             /* unlock --force */
    bool failed;            /* task release --failed */
    bool require_signature; /* key create --require-signature */
    bool all;               /* agents --all: offline agents too */
};

/* Initialise with environment defaults (COORDHUB_STATE_DIR, COORDHUB_ROOT,
 * COORDHUB_AGENT, COORDHUB_HTTP, COORDHUB_TLS_CERT, COORDHUB_TLS_KEY,
 * COORDHUB_STORE, COORDHUB_IDLE_EXIT). */
void options_init(struct options *o);
void options_deinit(struct options *o);

/* What options_parse found wrong: the command line's shape (exit 2), or a
 * value (exit 4) — docs/cli.md, "Exit codes". */
enum { OPTIONS_USAGE = -1, OPTIONS_INVALID = -2 };

/* Parse argv[from..argc) in place: recognised options are consumed, other
 * arguments are compacted to the front of argv[from..]; *nargs receives
 * how many remain (also on error: those seen so far). Returns 0, or
 * OPTIONS_USAGE (unknown option, missing value, a value given to a flag)
 * or OPTIONS_INVALID (an integer option that is not one, a value sent to
 * the hub that is not UTF-8) with *errmsg naming the option (caller
 * frees). */
int options_parse(struct options *o, int argc, char **argv, int from, int *nargs, char **errmsg);

/* Fill defaults (docs/configuration.md "Workspace root and state
 * directory"): root = COORDHUB_ROOT / --root, else the main working tree
 * of the current directory's repository (found through its common git
 * directory, gitdir.h, so every linked worktree shares one), else the
 * nearest ancestor holding a .coordhub/ directory, else the current
 * directory (root_from says which); worktree = the current directory's
 * own worktree root when it belongs to root's repository, else root;
 * prefix = the current directory relative to worktree (NULL outside it);
 * state_dir = <root>/.coordhub (<common dir>/coordhub for a repository
 * without a main working tree); workspace = basename(root); store_url =
 * sqlite:<state_dir>/hub.db. Makes paths absolute. 0 or -errno. */
int options_resolve(struct options *o);

/* The smallest --retain-events count: the hub snapshots every 1000
 * events, so fewer would trim events no snapshot covers yet. */
#define OPTIONS_RETAIN_MIN 1000

/* Parse --retain-events: "all" (*out = 0: never trim) or a count of at
 * least OPTIONS_RETAIN_MIN events kept behind the newest snapshot. 0, or
 * -1 for anything else. */
int options_retain_events(const char *s, uint64_t *out);

/* The longest --idle-exit and --agent-retention. */
#define OPTIONS_IDLE_EXIT_MAX_MS (30LL * 24 * 3600 * 1000)
#define OPTIONS_RETENTION_MAX_MS (10LL * 366 * 24 * 3600 * 1000)

/* Parse a duration: a number with a unit, `ms`, `s`, `m`, `h` or `d`
 * (`90s`, `30m`, `1h`, `7d`, `250ms`; a bare number is seconds), or `0` /
 * `never` (*out = 0: never; a caller for which never makes no sense
 * refuses 0 itself). At most max_ms. 0, or -1 for anything else (*out
 * untouched). */
int options_duration_ms(const char *s, int64_t max_ms, int64_t *out);

/* The integer in environment variable name, when it is lo..hi; dflt when
 * the variable is unset or empty, and when it is anything else (then
 * with a warning naming the range, unit appended, e.g. " (ms)"; NULL for
 * none). For the caps and deadlines tests shorten. */
long long options_env_int(const char *name, long long lo, long long hi, long long dflt,
                          const char *unit);

/* Path of a file inside the state dir (caller frees). */
char *options_state_path(const struct options *o, const char *name);

#endif
