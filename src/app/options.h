/* options — the common command-line options of DESIGN §4 (CLI) and how the
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
    char *state_dir;                  /* owned, absolute after resolve */
    char *root;                       /* owned, absolute after resolve: workspace root */
    char *worktree;                   /* owned, absolute after resolve: the caller's own worktree
                                         root, against which its paths are keyed (== root unless
                                         in a linked worktree) */
    char *prefix;                     /* owned, set by resolve: the working directory relative to
                                         worktree ("" at its root), NULL when outside it */
    enum options_root_from root_from; /* set by resolve */
    bool state_dir_given;             /* set by resolve: --state-dir or env */
    char *workspace;                  /* owned: workspace name (default: basename of root) */
    char *config;                     /* owned, may be NULL */
    char *store_url;                  /* owned; default sqlite:<state_dir>/hub.db */
    char *http;                       /* owned, may be NULL: --http / COORDHUB_HTTP ADDR:PORT */
    char *tls_cert;                   /* owned, may be NULL: --tls-cert / COORDHUB_TLS_CERT FILE */
    char *tls_key;                    /* owned, may be NULL: --tls-key / COORDHUB_TLS_KEY FILE */
    char *agent;                      /* owned, may be NULL: --agent / COORDHUB_AGENT */
    char *log_level;                  /* owned, may be NULL */
    char *retain;                     /* owned, may be NULL: serve --retain-events N|all */
    bool no_http;
    bool daemon;
    bool json;
    bool help;
    bool follow;       /* events --follow */
    bool force;        /* unlock --force */
    char *since;       /* events --since N */
    long long ttl;     /* lock --ttl S (0 = default) */
    char *mode;        /* lock --mode */
    char *reason;      /* lock/release --reason */
    char *status;      /* agents/tasks --status */
    long long wait_ms; /* lock --wait MS */
    bool failed;       /* task release --failed */
    char *title;       /* task add --title */
    char *description;
    char *files;    /* comma-separated */
    char *patterns; /* comma-separated */
    char *depends;  /* comma-separated */
    char *caps;     /* comma-separated */
    long long priority;
    char *result;           /* task done --result */
    char *task_id;          /* task add --id */
    char *name;             /* key create --name */
    char *publish;          /* key create --publish (comma-separated patterns) */
    char *subscribe;        /* key create --subscribe (comma-separated patterns) */
    char *access;           /* key create --state none|read|write|admin */
    bool require_signature; /* key create --require-signature */
    char *rate;             /* key create --rate N (requests/s, may have a fraction) */
    char *burst;            /* key create --burst N (integer) */
};

/* Initialise with environment defaults (COORDHUB_STATE_DIR, COORDHUB_ROOT,
 * COORDHUB_AGENT, COORDHUB_HTTP, COORDHUB_TLS_CERT, COORDHUB_TLS_KEY,
 * COORDHUB_STORE). */
void options_init(struct options *o);
void options_deinit(struct options *o);

/* Parse argv[from..argc) in place: recognised options are consumed, other
 * arguments are compacted to the front of argv[from..]; *nargs receives
 * how many remain. Unknown options are an error: returns -1 and writes a
 * message to *err (static string or owned? static). */
int options_parse(struct options *o, int argc, char **argv, int from, int *nargs,
                  const char **err_opt);

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

/* Path of a file inside the state dir (caller frees). */
char *options_state_path(const struct options *o, const char *name);

#endif
