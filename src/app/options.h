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

struct options {
    char *state_dir; /* owned, absolute after resolve */
    char *root;      /* owned, absolute after resolve: workspace root */
    char *workspace; /* owned: workspace name (default: basename of root) */
    char *config;    /* owned, may be NULL */
    char *store_url; /* owned; default sqlite:<state_dir>/hub.db */
    char *http;      /* owned, may be NULL: --http / COORDHUB_HTTP ADDR:PORT */
    char *tls_cert;  /* owned, may be NULL: --tls-cert / COORDHUB_TLS_CERT FILE */
    char *tls_key;   /* owned, may be NULL: --tls-key / COORDHUB_TLS_KEY FILE */
    char *agent;     /* owned, may be NULL: --agent / COORDHUB_AGENT */
    char *log_level; /* owned, may be NULL */
    char *retain;    /* owned, may be NULL: serve --retain-events N|all */
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
    bool all;               /* agents --all: offline agents too */
    char *agent_retention;  /* serve --agent-retention DURATION */
    uint64_t given;         /* bit k: the k-th option was on the command line (options_given) */
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

/* Was option `name` (without the dashes) on the command line? For
 * options whose default value is also a value one may give
 * (`task update --priority 0`). */
bool options_given(const struct options *o, const char *name);

/* Parse --agent-retention: a number with a unit, `s`, `m`, `h` or `d`
 * (`90s`, `30m`, `24h`, `7d`; a bare number is seconds), at least 1 s
 * and at most 10 years. 0 with *ms set, or -1. */
int options_duration_ms(const char *s, int64_t *ms);

/* Fill defaults: root = COORDHUB_ROOT / --root, else the git top level of
 * the current directory, else the current directory; state_dir =
 * <root>/.coordhub; workspace = basename(root); store_url =
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
