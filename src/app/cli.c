/* cli — subcommands are a table of {name, usage, help, options, example,
 * handler}; every handler receives parsed options and its positional
 * arguments. Options are parsed over the whole command line, so common
 * ones work before or after the command; every argument is checked for
 * UTF-8 before anything is sent (docs/cli.md). Client commands
 * are MCP tool calls over the hub socket (starting the hub when needed),
 * so the CLI and agents share one code path and one set of rules. CLI
 * sessions open with the workspace's admin token (client.c): they act as
 * the workspace owner and never become agents themselves; lock/claim act for --agent (default
 * COORDHUB_AGENT, else cli-$USER), which the hub registers in the same
 * call when the workspace does not know it yet. */
#define _GNU_SOURCE
#include "app/cli.h"

#include <errno.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "app/bridge.h"
#include "app/client.h"
#include "app/hub.h"
#include "app/options.h"
#include "base/json.h"
#include "base/str.h"
#include "base/utf8.h"
#include "core/path.h"
#include "base/xmalloc.h"
#include "core/events_filter.h"
#include "rpc/control.h"
#include "rpc/tools.h"

#ifndef COORDHUB_VERSION
#define COORDHUB_VERSION "0.0.0"
#endif

enum { CLI_OK = 0, CLI_FAIL = 1, CLI_USAGE = 2, CLI_REFUSED = 3, CLI_INVALID = 4 };

struct cli_cmd {
    const char *name;
    const char *usage;   /* after "coordhub " */
    const char *help;    /* one line for the command list */
    const char *options; /* the command's own options, one a line */
    const char *example; /* example lines */
    int (*run)(struct options *o, int argc, char **argv);
};

/* ---- output ------------------------------------------------------------- */

/* Human output shows text from the hub (agent ids, file names, titles,
 * reasons, event data, messages) only through cli_text, so a control
 * character in it is printed written out (str_escape_controls: `\x1b`,
 * `\n`, `\u009b`) and cannot move the cursor, recolour the terminal or
 * forge a table row (docs/cli.md). --json output is JSON, escaped by
 * JSON itself. */
#define CLI_TEXT_RING 32

/* s escaped for a terminal. The result stays valid for the next
 * CLI_TEXT_RING - 1 calls, enough for every argument of one printf. */
static const char *cli_text(const char *s)
{
    static char *ring[CLI_TEXT_RING];
    static size_t next;
    free(ring[next]);
    ring[next] = str_escape_controls(s);
    const char *r = ring[next];
    next = (next + 1) % CLI_TEXT_RING;
    return r;
}

/* The --json format (docs/cli.md, "--json"): each command prints one JSON
 * document on one line of stdout — the tool's structured result, a
 * refusal included — and an error as {"error":{"code","message"}}, also on
 * stdout; `events` prints one event per line. The human message of an
 * error goes to stderr either way. */
static void cli_print_json(const cJSON *v)
{
    char *s = json_print(v);
    puts(s);
    free(s);
}

static const char *cli_code_name(int code)
{
    switch (code) {
    case CLI_USAGE:
        return "usage";
    case CLI_INVALID:
        return "invalid_argument";
    case CLI_REFUSED:
        return "refused";
    default:
        return "failure";
    }
}

/* Report an error of exit class code: "coordhub: msg" on stderr and, with
 * --json, the error document on stdout. Returns code. */
static int cli_fail(const struct options *o, int code, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
static int cli_fail(const struct options *o, int code, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    char *msg = str_vprintf(fmt, ap);
    va_end(ap);
    fprintf(stderr, "coordhub: %s\n", cli_text(msg));
    if (o && o->json) {
        cJSON *doc = cJSON_CreateObject();
        cJSON *e = cJSON_AddObjectToObject(doc, "error");
        cJSON_AddStringToObject(e, "code", cli_code_name(code));
        cJSON_AddStringToObject(e, "message", msg);
        cli_print_json(doc);
        cJSON_Delete(doc);
    }
    free(msg);
    return code;
}

/* s with every byte outside printable ASCII written as \xHH, so a message
 * about a bad argument can show it (caller frees). */
static char *cli_escape(const char *s)
{
    size_t n = strlen(s);
    char *out = xmalloc(n * 4 + 1);
    size_t w = 0;
    for (size_t i = 0; i < n; i++) {
        unsigned char ch = (unsigned char)s[i];
        if (ch < 0x20 || ch >= 0x7f) {
            snprintf(out + w, 5, "\\x%02x", ch);
            w += 4;
        } else {
            out[w++] = (char)ch;
        }
    }
    out[w] = '\0';
    return out;
}

/* ---- helpers ------------------------------------------------------------ */

static const char *cli_agent(const struct options *o)
{
    static char buf[160];
    if (o->agent)
        return o->agent;
    const char *user = getenv("USER");
    snprintf(buf, sizeof(buf), "cli-%s", user && *user ? user : "user");
    return buf;
}

static cJSON *cli_list(const char *csv)
{
    cJSON *arr = cJSON_CreateArray();
    if (!csv)
        return arr;
    char *copy = xstrdup(csv);
    char *save = NULL;
    for (char *t = strtok_r(copy, ",", &save); t; t = strtok_r(NULL, ",", &save))
        if (*t)
            cJSON_AddItemToArray(arr, cJSON_CreateString(t));
    free(copy);
    return arr;
}

/* A path argument as the workspace-relative key the hub expects: taken
 * relative to the working directory when it is inside the caller's
 * worktree, absolute paths under that worktree made relative
 * (docs/tools.md "How paths resolve"); from outside the workspace a
 * relative path goes as given. Prints the error naming what
 * (e.g. "FILE", "--files") and returns CLI_INVALID, else CLI_OK. */
static int cli_path(const struct options *o, const char *what, const char *arg, bool pattern,
                    char **key)
{
    char *why = NULL;
    if (!o->prefix && arg[0] != '/') {
        /* Run from outside the workspace: a relative path is already
         * workspace-relative; the hub judges it. */
        *key = xstrdup(arg);
        return CLI_OK;
    }
    if (path_resolve(o->worktree, o->prefix, arg, strlen(arg), pattern, key, &why) == 0)
        return CLI_OK;
    int code = cli_fail(o, CLI_INVALID, "%s: %s", what, why);
    free(why);
    return code;
}

/* A comma-separated list of paths (or patterns) resolved by cli_path()
 * into *arr (caller owns). */
static int cli_path_list(const struct options *o, const char *what, const char *csv, bool pattern,
                         cJSON **arr)
{
    *arr = cJSON_CreateArray();
    char *copy = xstrdup(csv);
    char *save = NULL;
    int code = CLI_OK;
    for (char *t = strtok_r(copy, ",", &save); t && code == CLI_OK;
         t = strtok_r(NULL, ",", &save)) {
        char *key = NULL;
        if (*t && (code = cli_path(o, what, t, pattern, &key)) == CLI_OK)
            cJSON_AddItemToArray(*arr, cJSON_CreateString(key));
        free(key);
    }
    free(copy);
    if (code != CLI_OK) {
        cJSON_Delete(*arr);
        *arr = NULL;
    }
    return code;
}

/* Call a tool and map the outcome to an exit code; *out receives the
 * result when non-NULL (caller owns), else it is printed as JSON when
 * --json and freed. Errors are reported here; refusals are left to the
 * caller, which has the result. */
static int cli_call(struct client *c, const struct options *o, const char *tool, cJSON *args,
                    cJSON **out)
{
    cJSON *res = NULL;
    bool is_error = false;
    char *err = NULL;
    if (out)
        *out = NULL;
    if (client_call(c, tool, args, &res, &is_error, &err) != 0) {
        cli_fail(o, CLI_FAIL, "%s: %s", tool, err ? err : "failed");
        free(err);
        return CLI_FAIL;
    }
    if (is_error) {
        /* A store failure is the hub's trouble, not the caller's argument
         * (error results carry only their text over MCP). */
        const char *msg = json_get_str(res, "error", "invalid argument");
        bool store =
            strncmp(msg, "store failure", 13) == 0 || strncmp(msg, "store unavailable", 17) == 0;
        int code = cli_fail(o, store ? CLI_FAIL : CLI_INVALID, "%s", msg);
        cJSON_Delete(res);
        return code;
    }
    int code =
        cJSON_IsFalse(cJSON_GetObjectItemCaseSensitive(res, "success")) ? CLI_REFUSED : CLI_OK;
    if (out) {
        *out = res;
        return code;
    }
    if (o->json)
        cli_print_json(res);
    cJSON_Delete(res);
    return code;
}

/* Outside a repository a client command would create .coordhub/ and start
 * a hub wherever it happens to run: it names that directory and asks for
 * it instead (docs/configuration.md "Outside a repository"). An explicit
 * --root, --state-dir or their variables, or a .coordhub/ found above,
 * count as asking. */
static bool cli_root_unconfirmed(const struct options *o)
{
    if (o->root_from != OPTIONS_ROOT_CWD || o->state_dir_given)
        return false;
    fprintf(stderr,
            "coordhub: %s is not inside a git repository and no .coordhub/ was found above it; "
            "the workspace root would be %s: give --root DIR (or COORDHUB_ROOT) to use it\n",
            o->root, o->root);
    return true;
}

static struct client *cli_open(struct options *o)
{
    if (cli_root_unconfirmed(o))
        return NULL;
    char *err = NULL;
    struct client *c = client_open(o, true, &err);
    if (!c) {
        cli_fail(o, CLI_FAIL, "%s", err ? err : "cannot reach the hub");
        free(err);
    }
    return c;
}

static const char *cli_str(const cJSON *o, const char *k)
{
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, k);
    if (cJSON_IsString(v))
        return cli_text(v->valuestring);
    return "-";
}

static void cli_num(const cJSON *o, const char *k, char *buf, size_t n)
{
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, k);
    if (cJSON_IsNumber(v))
        snprintf(buf, n, "%.0f", v->valuedouble);
    else if (cJSON_IsString(v))
        snprintf(buf, n, "%s", cli_text(v->valuestring));
    else
        snprintf(buf, n, "-");
}

/* Print a tool result the command's way: the document with --json, else
 * `human` on success and the refusal's error on stderr. */
static void cli_show(const struct options *o, int code, const cJSON *res,
                     void (*human)(const struct options *o, const cJSON *res))
{
    if (!res)
        return;
    if (o->json)
        cli_print_json(res);
    else if (code == CLI_OK)
        human(o, res);
    else
        fprintf(stderr, "coordhub: %s\n", cli_str(res, "error"));
}

/* ---- client commands ---------------------------------------------------- */

/* The shape of every read-only listing: one tool call, printed as JSON
 * with --json or through `table` for people. Takes args (NULL = {}). */
static int cli_query(struct options *o, const char *tool, cJSON *args,
                     void (*table)(const struct options *o, const cJSON *res))
{
    struct client *c = cli_open(o);
    if (!c) {
        cJSON_Delete(args);
        return CLI_FAIL;
    }
    cJSON *res = NULL;
    int code = cli_call(c, o, tool, args, &res);
    cli_show(o, code, res, table);
    cJSON_Delete(res);
    client_close(c);
    return code;
}

static void cli_status_counts(const cJSON *res)
{
    const cJSON *h = cJSON_GetObjectItemCaseSensitive(res, "systemHealth");
    printf("health:  %s\n", cli_str(h, "overall"));
    printf("agents:  %d active\n",
           cJSON_GetArraySize(cJSON_GetObjectItemCaseSensitive(res, "activeAgents")));
    printf("locks:   %d\n",
           cJSON_GetArraySize(cJSON_GetObjectItemCaseSensitive(res, "lockedFiles")));
    printf("tasks:   %d in progress\n",
           cJSON_GetArraySize(cJSON_GetObjectItemCaseSensitive(res, "activeTasks")));
    char seq[32];
    cli_num(cJSON_GetObjectItemCaseSensitive(h, "store"), "lastSeq", seq, sizeof(seq));
    printf("events:  %s\n", seq);
}

/* Who holds what: the status's details as three short tables. */
static void cli_status_table(const struct options *o, const cJSON *res)
{
    cli_status_counts(res);
    if (o->brief)
        return;
    const cJSON *d = cJSON_GetObjectItemCaseSensitive(res, "details");
    const cJSON *v;
    printf("\nagents:\n");
    if (cJSON_GetArraySize(cJSON_GetObjectItemCaseSensitive(d, "agents")) == 0)
        printf("  (none)\n");
    else
        printf("  %-32s %-8s %s\n", "AGENT", "STATUS", "LAST SEEN");
    cJSON_ArrayForEach(v, cJSON_GetObjectItemCaseSensitive(d, "agents"))
    {
        printf("  %-32s %-8s %s\n", cli_str(v, "agentId"), cli_str(v, "status"),
               cli_str(v, "lastSeen"));
    }
    printf("\nlocks:\n");
    if (cJSON_GetArraySize(cJSON_GetObjectItemCaseSensitive(d, "locks")) == 0)
        printf("  (none)\n");
    else
        printf("  %-32s %-24s %-9s %-24s %s\n", "FILE", "HOLDER", "MODE", "EXPIRES", "REASON");
    cJSON_ArrayForEach(v, cJSON_GetObjectItemCaseSensitive(d, "locks"))
    {
        printf("  %-32s %-24s %-9s %-24s %s\n", cli_str(v, "file"), cli_str(v, "agentId"),
               cli_str(v, "mode"), cli_str(v, "expiresAt"), cli_str(v, "reason"));
    }
    printf("\ntasks in progress:\n");
    int claimed = 0;
    cJSON_ArrayForEach(v, cJSON_GetObjectItemCaseSensitive(d, "tasks"))
    {
        if (strcmp(cli_str(v, "status"), "claimed") != 0)
            continue;
        if (claimed++ == 0)
            printf("  %-16s %-24s %-24s %s\n", "TASK", "CLAIMED BY", "SINCE", "TITLE");
        printf("  %-16s %-24s %-24s %s\n", cli_str(v, "taskId"), cli_str(v, "claimedBy"),
               cli_str(v, "claimedAt"), cli_str(v, "title"));
    }
    if (!claimed)
        printf("  (none)\n");
}

static int cli_status(struct options *o, int argc, char **argv)
{
    (void)argv;
    if (argc)
        return cli_fail(o, CLI_USAGE, "status takes no arguments (try 'coordhub status --help')");
    return cli_query(o, TOOL_GET_COORDINATION_STATUS, NULL, cli_status_table);
}

static void cli_agents_table(const struct options *o, const cJSON *res)
{
    (void)o;
    printf("%-32s %-8s %-24s %s\n", "AGENT", "STATUS", "LAST SEEN", "CAPABILITIES");
    const cJSON *a;
    cJSON_ArrayForEach(a, cJSON_GetObjectItemCaseSensitive(res, "agents"))
    {
        char *caps = json_print(cJSON_GetObjectItemCaseSensitive(a, "capabilities"));
        printf("%-32s %-8s %-24s %s\n", cli_str(a, "agentId"), cli_str(a, "status"),
               cli_str(a, "lastSeen"), cli_text(caps));
        free(caps);
    }
}

static int cli_agents(struct options *o, int argc, char **argv)
{
    (void)argv;
    if (argc)
        return cli_fail(o, CLI_USAGE, "agents takes no arguments (try 'coordhub agents --help')");
    cJSON *args = cJSON_CreateObject();
    if (o->status)
        cJSON_AddStringToObject(args, "status", o->status);
    struct client *c = cli_open(o);
    if (!c) {
        cJSON_Delete(args);
        return CLI_FAIL;
    }
    cJSON *res = NULL;
    int code = cli_call(c, o, TOOL_LIST_AGENTS, args, &res);
    /* Without --all (or --status) offline agents are left out, in the
     * table and in --json alike; pruned ones are gone altogether. */
    cJSON *arr = cJSON_GetObjectItemCaseSensitive(res, "agents");
    for (int i = cJSON_GetArraySize(arr) - 1; i >= 0 && !o->all && !o->status; i--)
        if (strcmp(cli_str(cJSON_GetArrayItem(arr, i), "status"), "offline") == 0)
            cJSON_DeleteItemFromArray(arr, i);
    cli_show(o, code, res, cli_agents_table);
    cJSON_Delete(res);
    client_close(c);
    return code;
}

static void cli_agent_removed_human(const struct options *o, const cJSON *res)
{
    (void)o;
    printf("removed agent %s (%d leases released, %d tasks back to open)\n",
           cli_str(res, "agentId"),
           cJSON_GetArraySize(cJSON_GetObjectItemCaseSensitive(res, "unlockedFiles")),
           cJSON_GetArraySize(cJSON_GetObjectItemCaseSensitive(res, "releasedTasks")));
}

/* `coordhub agent remove ID`: the workspace owner removes an agent (its
 * leases and tasks are released). */
static int cli_agent_cmd(struct options *o, int argc, char **argv)
{
    if (argc != 2 || strcmp(argv[0], "remove") != 0)
        return cli_fail(o, CLI_USAGE, "agent takes remove ID (try 'coordhub agent --help')");
    cJSON *args = cJSON_CreateObject();
    cJSON_AddStringToObject(args, "agentId", argv[1]);
    return cli_query(o, TOOL_REMOVE_AGENT, args, cli_agent_removed_human);
}

static void cli_locks_table(const struct options *o, const cJSON *res)
{
    (void)o;
    printf("%-40s %-24s %-9s %-8s %s\n", "FILE", "AGENT", "MODE", "TOKEN", "EXPIRES");
    const cJSON *l;
    cJSON_ArrayForEach(l, cJSON_GetObjectItemCaseSensitive(res, "locks"))
    {
        char tok[32];
        cli_num(l, "token", tok, sizeof(tok));
        printf("%-40s %-24s %-9s %-8s %s\n", cli_str(l, "file"), cli_str(l, "agentId"),
               cli_str(l, "mode"), tok, cli_str(l, "expiresAt"));
    }
}

static int cli_locks(struct options *o, int argc, char **argv)
{
    (void)argv;
    if (argc)
        return cli_fail(o, CLI_USAGE, "locks takes no arguments (try 'coordhub locks --help')");
    cJSON *args = cJSON_CreateObject();
    if (o->agent)
        cJSON_AddStringToObject(args, "agentId", o->agent);
    return cli_query(o, TOOL_LIST_LOCKED_FILES, args, cli_locks_table);
}

/* A FILE that names a directory (ends in '/', or is one on disk) would
 * lease a file of that name, not what is under it: say to use a pattern.
 * Relative names are looked up where cli_path() resolves them: against
 * the working directory inside the workspace, else under the workspace
 * root. Returns CLI_OK or CLI_INVALID (reported). */
static int cli_refuse_directory(const struct options *o, const char *file)
{
    size_t n = strlen(file);
    bool dir = n > 0 && file[n - 1] == '/';
    if (!dir) {
        char *path =
            file[0] == '/' || o->prefix ? xstrdup(file) : str_printf("%s/%s", o->root, file);
        struct stat st;
        dir = stat(path, &st) == 0 && S_ISDIR(st.st_mode);
        free(path);
    }
    if (!dir)
        return CLI_OK;
    while (n > 1 && file[n - 1] == '/')
        n--;
    return cli_fail(o, CLI_INVALID, "%s is a directory: use --pattern '%.*s/**'", file, (int)n,
                    file);
}

/* The key argument of lock/unlock: FILE or --pattern P, exactly one. */
static int cli_lock_key(const struct options *o, const char *cmd, int argc, char **argv,
                        cJSON *args)
{
    if (argc > 1 || (argc == 1) == (o->pattern != NULL))
        return cli_fail(o, CLI_USAGE,
                        "%s takes one FILE or --pattern PATTERN (try 'coordhub %s "
                        "--help')",
                        cmd, cmd);
    char *key = NULL;
    int code = o->pattern ? cli_path(o, "--pattern", o->pattern, true, &key)
                          : cli_refuse_directory(o, argv[0]);
    if (code == CLI_OK && !o->pattern)
        code = cli_path(o, "FILE", argv[0], false, &key);
    if (code == CLI_OK)
        cJSON_AddStringToObject(args, o->pattern ? "pattern" : "file", key);
    free(key);
    return code;
}

static void cli_lock_human(const struct options *o, const cJSON *res)
{
    char tok[32];
    cli_num(res, "token", tok, sizeof(tok));
    printf("locked %s for %s (token %s, expires %s)\n", cli_str(res, "file"), cli_agent(o), tok,
           cli_str(res, "expiresAt"));
}

static int cli_lock(struct options *o, int argc, char **argv)
{
    cJSON *args = cJSON_CreateObject();
    int code = cli_lock_key(o, "lock", argc, argv, args);
    if (code != CLI_OK) {
        cJSON_Delete(args);
        return code;
    }
    cJSON_AddStringToObject(args, "agentId", cli_agent(o));
    /* Values go to the hub as given, so its rules (ttl 1..max, waitMs
     * 0..max, the modes) answer the CLI as they answer MCP. */
    if (o->ttl_given)
        cJSON_AddNumberToObject(args, "ttl", (double)o->ttl);
    if (o->mode)
        cJSON_AddStringToObject(args, "mode", o->mode);
    if (o->reason)
        cJSON_AddStringToObject(args, "reason", o->reason);
    if (o->wait_given)
        cJSON_AddNumberToObject(args, "waitMs", (double)o->wait_ms);
    struct client *c = cli_open(o);
    if (!c) {
        cJSON_Delete(args);
        return CLI_FAIL;
    }
    cJSON *res = NULL;
    code = cli_call(c, o, TOOL_LOCK_FILE, args, &res);
    cli_show(o, code, res, cli_lock_human);
    cJSON_Delete(res);
    client_close(c);
    return code;
}

static void cli_unlock_human(const struct options *o, const cJSON *res)
{
    (void)o;
    const cJSON *prev = cJSON_GetObjectItemCaseSensitive(res, "previousHolders");
    if (!json_get_bool(res, "forced", false) || !cJSON_GetArraySize(prev)) {
        printf("unlocked %s\n", cli_str(res, "file"));
        return;
    }
    printf("unlocked %s (forced): ended the lease of ", cli_str(res, "file"));
    const cJSON *p;
    int i = 0;
    cJSON_ArrayForEach(p, prev)
    {
        printf("%s%s", i++ ? ", " : "", cJSON_IsString(p) ? cli_text(p->valuestring) : "?");
    }
    printf("\n");
}

static int cli_unlock(struct options *o, int argc, char **argv)
{
    cJSON *args = cJSON_CreateObject();
    int code = cli_lock_key(o, "unlock", argc, argv, args);
    if (code != CLI_OK) {
        cJSON_Delete(args);
        return code;
    }
    cJSON_AddStringToObject(args, "agentId", cli_agent(o));
    if (o->force)
        cJSON_AddBoolToObject(args, "force", 1);
    struct client *c = cli_open(o);
    if (!c) {
        cJSON_Delete(args);
        return CLI_FAIL;
    }
    cJSON *res = NULL;
    code = cli_call(c, o, TOOL_UNLOCK_FILE, args, &res);
    cli_show(o, code, res, cli_unlock_human);
    cJSON_Delete(res);
    client_close(c);
    return code;
}

static void cli_print_tasks(const cJSON *tasks)
{
    printf("%-16s %-10s %-4s %-24s %s\n", "TASK", "STATUS", "PRIO", "CLAIMED BY", "TITLE");
    const cJSON *t;
    cJSON_ArrayForEach(t, tasks)
    {
        char prio[32];
        cli_num(t, "priority", prio, sizeof(prio));
        printf("%-16s %-10s %-4s %-24s %s\n", cli_str(t, "taskId"), cli_str(t, "status"), prio,
               cli_str(t, "claimedBy"), cli_str(t, "title"));
    }
}

static void cli_tasks_table(const struct options *o, const cJSON *res)
{
    (void)o;
    cli_print_tasks(cJSON_GetObjectItemCaseSensitive(res, "tasks"));
}

static int cli_tasks(struct options *o, int argc, char **argv)
{
    (void)argv;
    if (argc)
        return cli_fail(o, CLI_USAGE, "tasks takes no arguments (try 'coordhub tasks --help')");
    cJSON *args = cJSON_CreateObject();
    if (o->status)
        cJSON_AddStringToObject(args, "status", o->status);
    return cli_query(o, TOOL_LIST_TASKS, args, cli_tasks_table);
}

/* --files (and, with patterns, --patterns) resolved into args. */
static int cli_task_paths(const struct options *o, cJSON *args, bool patterns)
{
    cJSON *arr = NULL;
    if (o->files) {
        if (cli_path_list(o, "--files", o->files, false, &arr) != CLI_OK)
            return CLI_INVALID;
        cJSON_AddItemToObject(args, "files", arr);
    }
    if (patterns && o->patterns) {
        if (cli_path_list(o, "--patterns", o->patterns, true, &arr) != CLI_OK)
            return CLI_INVALID;
        cJSON_AddItemToObject(args, "patterns", arr);
    }
    return CLI_OK;
}

static void cli_task_human(const struct options *o, const cJSON *res)
{
    (void)o;
    const cJSON *t = cJSON_GetObjectItemCaseSensitive(res, "task");
    printf("%s %s: %s\n", cli_str(t, "taskId"), cli_str(t, "status"), cli_str(t, "title"));
}

/* Whom a task subcommand acts for: nobody (the workspace owner), always
 * --agent (default COORDHUB_AGENT, else cli-$USER), or --agent only when
 * given (else the owner, who may change any task; the agent is recorded
 * as cancelledBy, …). */
enum cli_acts { CLI_ACTS_OWNER, CLI_ACTS_AGENT, CLI_ACTS_AGENT_IF_GIVEN };

/* task SUB ARG: each subcommand is one tool call. */
struct cli_task_sub {
    const char *name;
    const char *tool;
    const char *arg; /* the tool argument the positional fills */
    enum cli_acts acts;
};

static const struct cli_task_sub cli_task_subs[] = {
    {"add", TOOL_CREATE_TASK, "title", CLI_ACTS_OWNER},
    {"claim", TOOL_CLAIM_TASK, "taskId", CLI_ACTS_AGENT},
    {"done", TOOL_COMPLETE_TASK, "taskId", CLI_ACTS_AGENT},
    {"release", TOOL_RELEASE_TASK, "taskId", CLI_ACTS_AGENT},
    {"cancel", TOOL_CANCEL_TASK, "taskId", CLI_ACTS_AGENT_IF_GIVEN},
    {"reopen", TOOL_REOPEN_TASK, "taskId", CLI_ACTS_AGENT_IF_GIVEN},
    {"update", TOOL_UPDATE_TASK, "taskId", CLI_ACTS_AGENT_IF_GIVEN},
};

static int cli_task(struct options *o, int argc, char **argv)
{
    const struct cli_task_sub *sub = NULL;
    for (size_t i = 0; argc >= 1 && i < sizeof(cli_task_subs) / sizeof(cli_task_subs[0]); i++)
        if (strcmp(argv[0], cli_task_subs[i].name) == 0)
            sub = &cli_task_subs[i];
    if (!sub || argc != 2)
        return cli_fail(o, CLI_USAGE,
                        "task takes add TITLE | claim ID | done ID | release ID | cancel ID | "
                        "reopen ID | update ID (try 'coordhub task --help')");
    cJSON *args = cJSON_CreateObject();
    cJSON_AddStringToObject(args, sub->arg, argv[1]);
    if (strcmp(sub->name, "add") == 0) {
        if (o->task_id)
            cJSON_AddStringToObject(args, "taskId", o->task_id);
        if (o->description)
            cJSON_AddStringToObject(args, "description", o->description);
        if (cli_task_paths(o, args, true) != CLI_OK) {
            cJSON_Delete(args);
            return CLI_INVALID;
        }
        if (o->depends)
            cJSON_AddItemToObject(args, "dependsOn", cli_list(o->depends));
        if (o->caps)
            cJSON_AddItemToObject(args, "capabilities", cli_list(o->caps));
        if (o->priority_given)
            cJSON_AddNumberToObject(args, "priority", (double)o->priority);
    } else if (strcmp(sub->name, "claim") == 0) {
        if (cli_task_paths(o, args, false) != CLI_OK) {
            cJSON_Delete(args);
            return CLI_INVALID;
        }
    } else if (strcmp(sub->name, "done") == 0) {
        if (o->result)
            cJSON_AddStringToObject(args, "result", o->result);
    } else if (strcmp(sub->name, "release") == 0) {
        if (o->reason)
            cJSON_AddStringToObject(args, "reason", o->reason);
        if (o->failed)
            cJSON_AddBoolToObject(args, "failed", 1);
    } else if (strcmp(sub->name, "cancel") == 0) {
        if (o->reason)
            cJSON_AddStringToObject(args, "reason", o->reason);
    } else if (strcmp(sub->name, "update") == 0) {
        if (o->title)
            cJSON_AddStringToObject(args, "title", o->title);
        if (o->description)
            cJSON_AddStringToObject(args, "description", o->description);
        if (o->priority_given)
            cJSON_AddNumberToObject(args, "priority", (double)o->priority);
        if (cli_task_paths(o, args, true) != CLI_OK) {
            cJSON_Delete(args);
            return CLI_INVALID;
        }
        if (o->caps)
            cJSON_AddItemToObject(args, "capabilities", cli_list(o->caps));
    }
    if (sub->acts == CLI_ACTS_AGENT)
        cJSON_AddStringToObject(args, "agentId", cli_agent(o));
    else if (sub->acts == CLI_ACTS_AGENT_IF_GIVEN && o->agent)
        cJSON_AddStringToObject(args, "agentId", o->agent);
    struct client *c = cli_open(o);
    if (!c) {
        cJSON_Delete(args);
        return CLI_FAIL;
    }
    cJSON *res = NULL;
    int code = cli_call(c, o, sub->tool, args, &res);
    cli_show(o, code, res, cli_task_human);
    cJSON_Delete(res);
    client_close(c);
    return code;
}

static void cli_event_line(const struct options *o, const cJSON *ev)
{
    if (o->json) {
        cli_print_json(ev); /* one event per line (NDJSON) */
        return;
    }
    char *d = json_print(cJSON_GetObjectItemCaseSensitive(ev, "data"));
    printf("%-6s %-24s %-22s %s\n", cli_str(ev, "id"), cli_str(ev, "timestamp"),
           cli_str(ev, "type"), cli_text(d));
    free(d);
}

static int cli_events(struct options *o, int argc, char **argv)
{
    (void)argv;
    if (argc)
        return cli_fail(o, CLI_USAGE, "events takes no arguments (try 'coordhub events --help')");
    if (o->since && o->from_now)
        return cli_fail(o, CLI_USAGE, "give --since or --from-now, not both");
    if (o->since &&
        (!*o->since || strspn(o->since, "0123456789") != strlen(o->since) || strlen(o->since) > 20))
        return cli_fail(o, CLI_INVALID, "--since: '%s' is not an event id (a non-negative integer)",
                        o->since);
    /* --types follows the rule of GET /events?types= (docs/http-api.md). */
    cJSON *types = NULL;
    if (o->types) {
        struct events_filter f;
        events_filter_init(&f);
        const char *why = NULL;
        if (events_filter_parse(&f, o->types, &why) != 0) {
            events_filter_deinit(&f);
            return cli_fail(o, CLI_INVALID, "--types: %s", why);
        }
        types = cJSON_CreateArray();
        for (size_t i = 0; i < f.n; i++)
            cJSON_AddItemToArray(types, cJSON_CreateString(f.patterns[i]));
        events_filter_deinit(&f);
    }
    struct client *c = cli_open(o);
    if (!c) {
        cJSON_Delete(types);
        return CLI_FAIL;
    }
    /* No cursor at first with --from-now: the hub then starts at the
     * current end of its log (wait_for_events without since). */
    char cursor[32] = "0";
    bool have_cursor = !o->from_now;
    if (o->since)
        snprintf(cursor, sizeof(cursor), "%s", o->since);
    int code = CLI_OK;
    for (;;) {
        cJSON *args = cJSON_CreateObject();
        if (have_cursor)
            cJSON_AddStringToObject(args, "since", cursor);
        if (types)
            cJSON_AddItemToObject(args, "types", cJSON_Duplicate(types, 1));
        cJSON_AddNumberToObject(args, "limit", 1000);
        cJSON_AddNumberToObject(args, "timeoutMs", o->follow ? 30000 : 0);
        cJSON *res = NULL;
        code = cli_call(c, o, TOOL_WAIT_FOR_EVENTS, args, &res);
        if (!res)
            break;
        const cJSON *ev;
        cJSON_ArrayForEach(ev, cJSON_GetObjectItemCaseSensitive(res, "events"))
        {
            cli_event_line(o, ev);
        }
        fflush(stdout);
        const char *last = json_get_str(res, "lastId", cursor);
        bool more = cJSON_GetArraySize(cJSON_GetObjectItemCaseSensitive(res, "events")) > 0 &&
                    (!have_cursor || strcmp(last, cursor) != 0);
        snprintf(cursor, sizeof(cursor), "%s", last);
        have_cursor = true;
        cJSON_Delete(res);
        if (!o->follow && !more)
            break;
    }
    cJSON_Delete(types);
    client_close(c);
    return code;
}

/* ---- key create / list / revoke ------------------------------------------ */

static const char *cli_patterns(const cJSON *arr, char *buf, size_t n)
{
    size_t used = 0;
    buf[0] = '\0';
    const cJSON *p;
    cJSON_ArrayForEach(p, arr)
    {
        int w = snprintf(buf + used, n - used, "%s%s", used ? "," : "",
                         cJSON_IsString(p) ? cli_text(p->valuestring) : "");
        if (w < 0 || (size_t)w >= n - used)
            break;
        used += (size_t)w;
    }
    return used ? buf : "-";
}

static void cli_key_row(const cJSON *k)
{
    char pub[256], sub[256];
    const cJSON *rl = cJSON_GetObjectItemCaseSensitive(k, "rateLimit");
    char rate[32], burst[32];
    snprintf(rate, sizeof(rate), "%g",
             cJSON_GetObjectItemCaseSensitive(rl, "perSecond")
                 ? cJSON_GetObjectItemCaseSensitive(rl, "perSecond")->valuedouble
                 : 0);
    cli_num(rl, "burst", burst, sizeof(burst));
    const char *name = cli_str(k, "name");
    printf("%-12s  %-16s  %-6s  %-20s  %-20s  %-4s  %s/s,%s  %s  %s\n", cli_str(k, "id"),
           *name ? name : "-", cli_str(k, "canAccessState"),
           cli_patterns(cJSON_GetObjectItemCaseSensitive(k, "canPublish"), pub, sizeof(pub)),
           cli_patterns(cJSON_GetObjectItemCaseSensitive(k, "canSubscribe"), sub, sizeof(sub)),
           json_get_bool(k, "requireSignature", false) ? "yes" : "no", rate, burst,
           cli_str(k, "createdAt"),
           json_get_bool(k, "revoked", false) ? cli_str(k, "revokedAt") : "-");
}

static void cli_key_header(void)
{
    printf("%-12s  %-16s  %-6s  %-20s  %-20s  %-4s  %s  %s  %s\n", "ID", "NAME", "STATE", "PUBLISH",
           "SUBSCRIBE", "SIG", "RATE", "CREATED", "REVOKED");
}

/* Fill the create request from the options; CLI_OK, or the exit code
 * with a message on stderr. */
static int cli_key_create_request(const struct options *o, struct control_key *k)
{
    k->op = CONTROL_KEY_CREATE;
    k->name = o->name;
    k->publish = o->publish;
    k->subscribe = o->subscribe;
    k->state = o->access;
    k->require_signature = o->require_signature;
    if (o->rate) {
        char *end;
        errno = 0;
        k->rate = strtod(o->rate, &end);
        if (errno || end == o->rate || *end || !isfinite(k->rate))
            return cli_fail(o, CLI_INVALID, "--rate: '%s' is not a number (requests per second)",
                            o->rate);
        k->has_rate = true;
    }
    if (o->burst) {
        char *end;
        errno = 0;
        long long v = strtoll(o->burst, &end, 10);
        if (errno || end == o->burst || *end)
            return cli_fail(o, CLI_INVALID, "--burst: '%s' is not an integer", o->burst);
        k->burst = v;
        k->has_burst = true;
    }
    return CLI_OK;
}

/* The exit code for a key request the hub refused with code. */
static int cli_key_refusal_code(const char *code)
{
    if (strcmp(code, "invalid_argument") == 0 || strcmp(code, "not_found") == 0)
        return CLI_INVALID;
    if (strcmp(code, "bad_state") == 0 || strcmp(code, "too_large") == 0)
        return CLI_REFUSED;
    return CLI_FAIL;
}

static void cli_key_print(const char *sub, const cJSON *res)
{
    if (strcmp(sub, "create") == 0) {
        printf("%s\n", json_get_str(res, "key", "")); /* hex from the hub; never copied */
        fprintf(stderr,
                "coordhub: key %s created; the line above is its only copy: store it "
                "now (the hub keeps only its SHA-256)\n",
                cli_text(json_get_str(res, "id", "")));
    } else if (strcmp(sub, "list") == 0) {
        cli_key_header();
        const cJSON *k;
        cJSON_ArrayForEach(k, cJSON_GetObjectItemCaseSensitive(res, "keys"))
        {
            cli_key_row(k);
        }
    } else {
        printf("key %s revoked at %s\n", cli_text(json_get_str(res, "id", "")),
               cli_text(json_get_str(res, "revokedAt", "")));
    }
}

static int cli_key(struct options *o, int argc, char **argv)
{
    const char *sub = argc >= 1 ? argv[0] : "";
    struct control_msg req = {.kind = CONTROL_KEY};
    if (strcmp(sub, "create") == 0 && argc == 1) {
        int rc = cli_key_create_request(o, &req.u.key);
        if (rc != CLI_OK)
            return rc;
    } else if (strcmp(sub, "list") == 0 && argc == 1) {
        req.u.key.op = CONTROL_KEY_LIST;
    } else if (strcmp(sub, "revoke") == 0 && argc == 2) {
        req.u.key.op = CONTROL_KEY_REVOKE;
        req.u.key.id = argv[1];
    } else {
        return cli_fail(o, CLI_USAGE,
                        "key takes create | list | revoke ID (try 'coordhub key --help')");
    }
    if (cli_root_unconfirmed(o))
        return CLI_FAIL;
    struct control_msg reply;
    char *err = NULL;
    if (client_control(o, true, &req, &reply, &err) != 0) {
        cli_fail(o, CLI_FAIL, "key %s: %s", sub, err ? err : "failed");
        free(err);
        return CLI_FAIL;
    }
    int code = CLI_OK;
    const struct control_answer *a = &reply.u.answer;
    if (!a->ok) {
        code = cli_key_refusal_code(a->code);
        cli_fail(o, code, "key %s: %s", sub, a->error);
    } else if (o->json) {
        cli_print_json(a->result);
    } else {
        cli_key_print(sub, a->result);
    }
    control_msg_free(&reply); /* wipes a created key */
    return code;
}

/* ---- serve / mcp / version / help --------------------------------------- */

static int cli_serve(struct options *o, int argc, char **argv)
{
    (void)argv;
    if (argc)
        return cli_fail(o, CLI_USAGE, "serve takes no arguments (try 'coordhub serve --help')");
    uint64_t retain = 0;
    if (o->retain && options_retain_events(o->retain, &retain) != 0)
        return cli_fail(
            o, CLI_INVALID,
            "serve: --retain-events '%s': give 'all' or a number of events, at least %d", o->retain,
            OPTIONS_RETAIN_MIN);
    int64_t idle = 0;
    if (o->idle_exit && options_duration_ms(o->idle_exit, OPTIONS_IDLE_EXIT_MAX_MS, &idle) != 0)
        return cli_fail(o, CLI_INVALID,
                        "serve: --idle-exit '%s': give a duration such as 30m, 90s, 1h or 250ms, "
                        "or 0 / never",
                        o->idle_exit);
    int64_t retention_ms = 0;
    if (o->agent_retention &&
        (options_duration_ms(o->agent_retention, OPTIONS_RETENTION_MAX_MS, &retention_ms) != 0 ||
         retention_ms < 1000))
        return cli_fail(o, CLI_INVALID,
                        "serve: --agent-retention '%s': give a duration such as 90s, 30m, 24h or "
                        "7d (a bare number is seconds), at least 1 s",
                        o->agent_retention);
    return hub_serve(o);
}

#define CLI_STOP_WAIT_MS 30000 /* a hub commits and closes its sessions first */

/* `coordhub stop`: ask the workspace's hub to stop (a control request
 * with the admin token) and wait until it has exited. Never starts one. */
static int cli_stop(struct options *o, int argc, char **argv)
{
    (void)argv;
    if (argc)
        return cli_fail(o, CLI_USAGE, "stop takes no arguments (try 'coordhub stop --help')");
    char *err = NULL;
    int fd = client_connect_socket(o, false, &err);
    if (fd < 0) {
        bool none = fd == -ENOENT || fd == -ECONNREFUSED;
        int rc = none ? cli_fail(o, CLI_FAIL, "stop: no hub is running for %s", o->state_dir)
                      : cli_fail(o, CLI_FAIL, "stop: %s", err ? err : "cannot reach the hub");
        free(err);
        return rc;
    }
    close(fd);
    const struct control_msg req = {.kind = CONTROL_STOP};
    struct control_msg reply;
    int rc = client_control(o, false, &req, &reply, &err);
    if (rc || !reply.u.answer.ok) {
        rc = cli_fail(o, CLI_FAIL, "stop: %s", rc ? (err ? err : "failed") : reply.u.answer.error);
        free(err);
        control_msg_free(&reply);
        return rc;
    }
    long long pid = (long long)reply.u.answer.pid;
    control_msg_free(&reply);
    rc = client_wait_hub_exit(o, CLI_STOP_WAIT_MS);
    if (rc)
        return cli_fail(o, CLI_FAIL, "stop: the hub (pid %lld) did not exit within %d s%s%s", pid,
                        CLI_STOP_WAIT_MS / 1000, rc == -ETIMEDOUT ? "" : ": ",
                        rc == -ETIMEDOUT ? "" : strerror(-rc));
    if (o->json)
        printf("{\"stopped\":true,\"pid\":%lld}\n", pid);
    else
        printf("coordhub: hub pid %lld stopped\n", pid);
    return CLI_OK;
}

static int cli_mcp(struct options *o, int argc, char **argv)
{
    (void)argv;
    if (argc)
        return cli_fail(o, CLI_USAGE, "mcp takes no arguments (try 'coordhub mcp --help')");
    /* An IDE starts the bridge wherever it likes: it keeps auto-starting
     * but says which workspace it chose (stderr is the IDE's log). */
    fprintf(stderr, "coordhub mcp: workspace root %s (%s), state %s\n", o->root,
            o->root_from == OPTIONS_ROOT_EXPLICIT ? "given"
            : o->root_from == OPTIONS_ROOT_GIT    ? "git repository"
            : o->root_from == OPTIONS_ROOT_STATE  ? "found .coordhub/"
                                                  : "working directory, not a repository",
            o->state_dir);
    return bridge_main(o);
}

static int cli_version(struct options *o, int argc, char **argv)
{
    (void)argc;
    (void)argv;
    if (o->json)
        printf("{\"version\":\"%s\"}\n", COORDHUB_VERSION);
    else
        printf("coordhub %s\n", COORDHUB_VERSION);
    return CLI_OK;
}

static int cli_help_cmd(struct options *o, int argc, char **argv);

/* The command table. `options` lists the command's own options, one per
 * line, and `example` one or more example lines; both are printed by
 * `coordhub CMD --help` and `coordhub help CMD` (docs/cli.md has the
 * same, at length). */
static const struct cli_cmd cli_cmds[] = {
    {"serve",
     "serve [--daemon] [--http ADDR:PORT | --no-http] [--tls-cert FILE --tls-key FILE] "
     "[--store URL] [--retain-events N|all] [--idle-exit DURATION] [--agent-retention DURATION] "
     "[--log-level L]",
     "run the hub for this workspace (foreground unless --daemon)",
     "  --daemon               detach once listening\n"
     "  --http ADDR:PORT       HTTP face (default 127.0.0.1:7420; env COORDHUB_HTTP)\n"
     "  --no-http              no HTTP face\n"
     "  --tls-cert FILE        TLS certificate (with --tls-key)\n"
     "  --tls-key FILE         TLS private key\n"
     "  --store URL            sqlite:PATH | redis://[user:pass@]host:port[/db] | "
     "unix:///path/redis.sock\n"
     "  --retain-events N|all  events kept behind the newest snapshot (at least 1000)\n"
     "  --idle-exit DURATION   exit after this long with no session (30m, 90s; 0 or never:\n"
     "                         stay; default: never by hand, 30m when started for a client)\n"
     "  --agent-retention D    prune offline agents with no lease or task after D (default 24h)\n"
     "  --log-level L          error|warn|info|debug\n",
     "  coordhub serve --daemon --http 127.0.0.1:7420\n", cli_serve},
    {"stop", "stop [--json]", "stop the workspace's hub and wait until it has exited", "",
     "  coordhub stop\n", cli_stop},
    {"mcp", "mcp [--agent ID]", "MCP server over stdio for an IDE (starts the hub when needed)",
     "  --agent ID             agent id of this session (env COORDHUB_AGENT)\n",
     "  {\"command\":\"coordhub\",\"args\":[\"mcp\"]}   (the IDE's MCP entry)\n", cli_mcp},
    {"status", "status [--brief] [--json]",
     "who holds what: agents, locks with holder, reason and expiry, tasks in progress",
     "  --brief                counts only\n", "  coordhub status\n  coordhub status --brief\n",
     cli_status},
    {"agents", "agents [--all | --status S] [--json]",
     "list agents (offline ones only with --all or --status offline)",
     "  --all                  offline agents too (until they are pruned)\n"
     "  --status S             active|idle|busy|offline\n",
     "  coordhub agents --status active\n  coordhub agents --all\n", cli_agents},
    {"agent", "agent remove ID [--json]",
     "remove an agent: its leases and claimed tasks are released (the workspace owner)", "",
     "  coordhub agent remove cursor-1a2b3c\n", cli_agent_cmd},
    {"locks", "locks [--agent ID] [--json]", "list file leases",
     "  --agent ID             only this agent's leases\n", "  coordhub locks --agent alice\n",
     cli_locks},
    {"lock",
     "lock FILE | --pattern PATTERN [--ttl S] [--mode exclusive|shared] [--reason R] "
     "[--wait MS] [--agent ID]",
     "take a lease on FILE or on every path PATTERN matches",
     "  --pattern PATTERN      a git-wildmatch pattern instead of FILE (src/**, *.rs)\n"
     "  --ttl S                lifetime in seconds (default 3600; at least 1)\n"
     "  --mode M               exclusive (default) or shared\n"
     "  --reason R             what you are about to do, shown to others\n"
     "  --wait MS              queue up to MS milliseconds while another agent holds it\n"
     "  --agent ID             act for this agent (default COORDHUB_AGENT, else cli-$USER)\n",
     "  coordhub lock src/api.c --reason 'split the router' --ttl 600\n"
     "  coordhub lock --pattern 'src/api/**' --wait 5000\n",
     cli_lock},
    {"unlock", "unlock FILE | --pattern PATTERN [--force] [--agent ID]", "release a lease",
     "  --pattern PATTERN      release a pattern lease instead of FILE\n"
     "  --force                end another agent's lease (admin: the CLI is)\n"
     "  --agent ID             act for this agent\n",
     "  coordhub unlock src/api.c\n  coordhub unlock --pattern 'src/api/**' --force\n", cli_unlock},
    {"tasks", "tasks [--status S] [--json]", "list tasks",
     "  --status S             open|claimed|completed|failed|cancelled\n",
     "  coordhub tasks --status open\n", cli_tasks},
    {"task",
     "task add TITLE [--id ID] [--description D] [--files a,b] [--patterns p,q] "
     "[--depends-on T1,T2] [--capabilities c1,c2] [--priority N]\n"
     "       coordhub task claim ID [--files a,b] [--agent ID]\n"
     "       coordhub task done ID [--result TEXT] [--agent ID]\n"
     "       coordhub task release ID [--reason R] [--failed] [--agent ID]\n"
     "       coordhub task cancel ID [--reason R] [--agent ID]\n"
     "       coordhub task reopen ID [--agent ID]\n"
     "       coordhub task update ID [--title T] [--description D] [--priority N] [--files a,b]\n"
     "                           [--patterns p,q] [--capabilities c1,c2] [--agent ID]",
     "create and move tasks",
     "  --id ID                add: the task's id (default: generated)\n"
     "  --title T              update: the new title\n"
     "  --description D        add/update: what to do\n"
     "  --files a,b            add/claim/update: files the task leases when claimed\n"
     "  --patterns p,q         add/update: patterns the task leases when claimed\n"
     "  --depends-on T1,T2     add: tasks that must be completed first\n"
     "  --capabilities c1,c2   add/update: capabilities a claimer needs\n"
     "  --priority N           add/update: higher first (default 0)\n"
     "  --result TEXT          done: what came of it\n"
     "  --reason R             release/cancel: why\n"
     "  --failed               release: mark it failed instead of open\n"
     "  --agent ID             claim/done/release: act for this agent; cancel/reopen/update:\n"
     "                         record this agent as who acted (else the workspace owner)\n",
     "  coordhub task add 'Split the API' --id API-1 --files src/api.c\n"
     "  coordhub task claim API-1 --agent alice\n"
     "  coordhub task done API-1 --agent alice --result 'merged'\n"
     "  coordhub task cancel API-2 --reason 'superseded by API-1'\n"
     "  coordhub task update API-3 --priority 5\n",
     cli_task},
    {"events", "events [--follow] [--since N | --from-now] [--types T1,T2] [--json]",
     "print the event log, or follow it",
     "  --follow               keep printing new events\n"
     "  --since N              start after event N (default: the beginning)\n"
     "  --from-now             start at the current end of the log\n"
     "  --types T1,T2          only these types; wildcards such as file:* (comma-separated)\n"
     "  --json                 one event per line (NDJSON)\n",
     "  coordhub events --follow --from-now --types 'file:*,task:completed'\n", cli_events},
    {"key", "key create|list|revoke …",
     "manage the HTTP face's API keys (create shows a key once; list never shows secrets)",
     "  create [--name N] [--publish PATTERNS] [--subscribe PATTERNS]\n"
     "         [--state none|read|write|admin] [--require-signature] [--rate N] [--burst N]\n"
     "  list\n"
     "  revoke ID\n",
     "  coordhub key create --name dashboard --subscribe '*' --state read\n", cli_key},
    {"version", "version [--json]", "print the version", "", "  coordhub version\n", cli_version},
    {"help", "help [COMMAND]", "help on a command", "", "  coordhub help lock\n", cli_help_cmd},
};

static const struct cli_cmd *cli_find(const char *name)
{
    for (size_t i = 0; i < sizeof(cli_cmds) / sizeof(cli_cmds[0]); i++)
        if (strcmp(cli_cmds[i].name, name) == 0)
            return &cli_cmds[i];
    return NULL;
}

static const char cli_common_options[] =
    "common options (before or after the command):\n"
    "  --state-dir DIR        state directory (env COORDHUB_STATE_DIR; default <root>/.coordhub)\n"
    "  --root DIR             workspace root (env COORDHUB_ROOT; default: the git repository's\n"
    "                         main working tree, shared by its worktrees)\n"
    "  --workspace NAME       workspace name (default: root directory name)\n"
    "  --agent ID             agent the command acts for (env COORDHUB_AGENT)\n"
    "  --json                 one JSON document on stdout (docs/cli.md)\n"
    "  --help, -h             help for a command\n";

static const char cli_exit_codes[] =
    "exit codes: 0 ok, 1 failure (hub unreachable or not answering), 2 usage (unknown command "
    "or option,\n  missing argument, wrong number of arguments), 3 refused by the hub, 4 "
    "invalid value (not a number,\n  out of range, not UTF-8, bad mode, rejected by the hub)\n";

static void cli_usage(FILE *f)
{
    fprintf(f,
            "coordhub %s — coordination hub for AI coding agents\n\n"
            "usage: coordhub COMMAND [options]\n\ncommands:\n",
            COORDHUB_VERSION);
    for (size_t i = 0; i < sizeof(cli_cmds) / sizeof(cli_cmds[0]); i++)
        fprintf(f, "  %-10s %s\n", cli_cmds[i].name, cli_cmds[i].help);
    fprintf(f, "\n%s\n%s\n'coordhub help COMMAND' or 'coordhub COMMAND --help' for a command.\n",
            cli_common_options, cli_exit_codes);
}

static void cli_help(const struct cli_cmd *cmd)
{
    printf("usage: coordhub %s\n\n%s\n", cmd->usage, cmd->help);
    if (*cmd->options)
        printf("\noptions:\n%s", cmd->options);
    printf("\nexample:\n%s\n%s\n%s", cmd->example, cli_common_options, cli_exit_codes);
}

static int cli_help_cmd(struct options *o, int argc, char **argv)
{
    if (argc == 0) {
        cli_usage(stdout);
        return CLI_OK;
    }
    const struct cli_cmd *cmd = argc == 1 ? cli_find(argv[0]) : NULL;
    if (!cmd)
        return cli_fail(o, CLI_USAGE, "help: no command '%s' (try 'coordhub --help')",
                        argc == 1 ? argv[0] : "…");
    cli_help(cmd);
    return CLI_OK;
}

/* Every argument is sent to the hub as JSON text, which is UTF-8: refuse
 * one that is not before sending, naming it (the hub could only answer a
 * parse error it cannot attribute to a request). */
static int cli_check_args(const struct options *o, const char *cmd, int argc, char **argv)
{
    for (int i = 0; i < argc; i++) {
        if (utf8_valid(argv[i], strlen(argv[i])))
            continue;
        char *shown = cli_escape(argv[i]);
        cli_fail(o, CLI_INVALID, "%s: argument %d '%s' is not valid UTF-8", cmd, i + 1, shown);
        free(shown);
        return CLI_INVALID;
    }
    return CLI_OK;
}

int cli_main(int argc, char **argv)
{
    if (argc >= 2 && strcmp(argv[1], "--version") == 0) {
        printf("coordhub %s\n", COORDHUB_VERSION);
        return CLI_OK;
    }
    /* Options are parsed over the whole line, so common ones work before
     * or after the command; the first positional is the command. */
    struct options o;
    options_init(&o);
    int nargs = 0;
    char *err = NULL;
    int code;
    int prc = options_parse(&o, argc, argv, 1, &nargs, &err);
    const struct cli_cmd *cmd = nargs >= 1 ? cli_find(argv[1]) : NULL;
    if (nargs >= 1 && !cmd) {
        char *shown = cli_escape(argv[1]);
        code = cli_fail(&o, CLI_USAGE, "unknown command '%s' (try 'coordhub --help')", shown);
        free(shown);
        goto out;
    }
    if (prc != 0) {
        code = cli_fail(&o, prc == OPTIONS_USAGE ? CLI_USAGE : CLI_INVALID, "%s%s%s",
                        cmd ? cmd->name : "", cmd ? ": " : "", err);
        if (prc == OPTIONS_USAGE && cmd)
            fprintf(stderr, "usage: coordhub %s\n", cmd->usage);
        goto out;
    }
    if (!cmd && o.help) {
        cli_usage(stdout);
        code = CLI_OK;
        goto out;
    }
    if (!cmd) {
        if (o.json)
            cli_fail(&o, CLI_USAGE, "no command given (try 'coordhub --help')");
        else
            cli_usage(stderr);
        code = CLI_USAGE;
        goto out;
    }
    if (o.help) {
        cli_help(cmd);
        code = CLI_OK;
        goto out;
    }
    if (o.config) {
        /* Accepted by the parser for the supervisor's coordhub.json (not
         * built yet); until it exists, refusing beats ignoring the file. */
        code = cli_fail(&o, CLI_USAGE,
                        "%s: --config is not supported yet (configuration files come with the "
                        "supervisor of downstream MCP servers); use the options and environment "
                        "variables of docs/configuration.md",
                        cmd->name);
        goto out;
    }
    if ((code = cli_check_args(&o, cmd->name, nargs - 1, argv + 2)) != CLI_OK)
        goto out;
    if (options_resolve(&o) != 0) {
        code = cli_fail(&o, CLI_FAIL, "cannot determine the workspace root");
        goto out;
    }
    code = cmd->run(&o, nargs - 1, argv + 2);
out:
    free(err);
    options_deinit(&o);
    return code;
}
