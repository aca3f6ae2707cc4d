/* cli — subcommands are a table of {name, usage, handler}; every handler
 * receives parsed options and its positional arguments. Client commands
 * are MCP tool calls over the hub socket (starting the hub when needed),
 * so the CLI and agents share one code path and one set of rules. CLI
 * sessions identify as "coordhub-cli": they act as the workspace owner and
 * never become agents themselves; lock/claim act for --agent (default
 * COORDHUB_AGENT, else cli-$USER), which the hub registers in the same
 * call when the workspace does not know it yet. */
#define _GNU_SOURCE
#include "app/cli.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "app/bridge.h"
#include "app/client.h"
#include "app/hub.h"
#include "app/options.h"
#include "base/json.h"
#include "core/path.h"
#include "base/xmalloc.h"

#ifndef COORDHUB_VERSION
#define COORDHUB_VERSION "0.0.0"
#endif

enum { CLI_OK = 0, CLI_FAIL = 1, CLI_USAGE = 2, CLI_REFUSED = 3, CLI_INVALID = 4 };

struct cli_cmd {
    const char *name;
    const char *usage;
    const char *help;
    int (*run)(struct options *o, int argc, char **argv);
};

static const struct cli_cmd *cli_find(const char *name);

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
    fprintf(stderr, "coordhub: %s: %s\n", what, why);
    free(why);
    return CLI_INVALID;
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

static void cli_print_json(const cJSON *v)
{
    char *s = cJSON_Print(v);
    puts(s);
    free(s);
}

/* Call a tool and map the outcome to an exit code; *out receives the
 * result when non-NULL (caller owns), else it is printed as JSON when
 * --json and freed. */
static int cli_call(struct client *c, const struct options *o, const char *tool, cJSON *args,
                    cJSON **out)
{
    cJSON *res = NULL;
    bool is_error = false;
    char *err = NULL;
    if (client_call(c, tool, args, &res, &is_error, &err) != 0) {
        fprintf(stderr, "coordhub: %s: %s\n", tool, err ? err : "failed");
        free(err);
        return CLI_FAIL;
    }
    int code = CLI_OK;
    if (is_error) {
        fprintf(stderr, "coordhub: %s\n", json_get_str(res, "error", "invalid argument"));
        /* A store failure is the hub's trouble, not the caller's argument
         * (error results carry only their text over MCP). */
        const char *msg = json_get_str(res, "error", "");
        bool store =
            strncmp(msg, "store failure", 13) == 0 || strncmp(msg, "store unavailable", 17) == 0;
        code = store ? CLI_FAIL : CLI_INVALID;
    } else if (cJSON_IsFalse(cJSON_GetObjectItemCaseSensitive(res, "success"))) {
        code = CLI_REFUSED;
    }
    if (out && code != CLI_INVALID) {
        *out = res;
        return code;
    }
    if (o->json && code != CLI_INVALID)
        cli_print_json(res);
    cJSON_Delete(res);
    if (out)
        *out = NULL;
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
        fprintf(stderr, "coordhub: %s\n", err ? err : "cannot reach the hub");
        free(err);
    }
    return c;
}

static const char *cli_str(const cJSON *o, const char *k)
{
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, k);
    if (cJSON_IsString(v))
        return v->valuestring;
    return "-";
}

static void cli_num(const cJSON *o, const char *k, char *buf, size_t n)
{
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, k);
    if (cJSON_IsNumber(v))
        snprintf(buf, n, "%.0f", v->valuedouble);
    else if (cJSON_IsString(v))
        snprintf(buf, n, "%s", v->valuestring);
    else
        snprintf(buf, n, "-");
}

/* ---- client commands ---------------------------------------------------- */

/* The shape of every read-only listing: one tool call, printed as JSON
 * with --json or through `table` for people. Takes args (NULL = {}). */
static int cli_query(struct options *o, const char *tool, cJSON *args,
                     void (*table)(const cJSON *res))
{
    struct client *c = cli_open(o);
    if (!c) {
        cJSON_Delete(args);
        return CLI_FAIL;
    }
    cJSON *res = NULL;
    int code = cli_call(c, o, tool, args, &res);
    if (res && o->json)
        cli_print_json(res);
    else if (res)
        table(res);
    cJSON_Delete(res);
    client_close(c);
    return code;
}

static void cli_status_table(const cJSON *res)
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

static int cli_status(struct options *o, int argc, char **argv)
{
    (void)argc;
    (void)argv;
    return cli_query(o, "get_coordination_status", NULL, cli_status_table);
}

static void cli_agents_table(const cJSON *res)
{
    printf("%-32s %-8s %-24s %s\n", "AGENT", "STATUS", "LAST SEEN", "CAPABILITIES");
    const cJSON *a;
    cJSON_ArrayForEach(a, cJSON_GetObjectItemCaseSensitive(res, "agents"))
    {
        char *caps = json_print(cJSON_GetObjectItemCaseSensitive(a, "capabilities"));
        printf("%-32s %-8s %-24s %s\n", cli_str(a, "agentId"), cli_str(a, "status"),
               cli_str(a, "lastSeen"), caps);
        free(caps);
    }
}

static int cli_agents(struct options *o, int argc, char **argv)
{
    (void)argc;
    (void)argv;
    cJSON *args = cJSON_CreateObject();
    if (o->status)
        cJSON_AddStringToObject(args, "status", o->status);
    return cli_query(o, "list_agents", args, cli_agents_table);
}

static void cli_locks_table(const cJSON *res)
{
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
    (void)argc;
    (void)argv;
    cJSON *args = cJSON_CreateObject();
    if (o->agent)
        cJSON_AddStringToObject(args, "agentId", o->agent);
    return cli_query(o, "list_locked_files", args, cli_locks_table);
}

static int cli_lock(struct options *o, int argc, char **argv)
{
    if (argc != 1) {
        fprintf(stderr, "usage: coordhub lock FILE [--ttl S] [--mode exclusive|shared] "
                        "[--reason R] [--wait MS] [--agent ID]\n");
        return CLI_USAGE;
    }
    char *file = NULL;
    if (cli_path(o, "FILE", argv[0], false, &file) != CLI_OK)
        return CLI_INVALID;
    struct client *c = cli_open(o);
    if (!c) {
        free(file);
        return CLI_FAIL;
    }
    cJSON *args = cJSON_CreateObject();
    cJSON_AddStringToObject(args, "file", file);
    free(file);
    cJSON_AddStringToObject(args, "agentId", cli_agent(o));
    if (o->ttl)
        cJSON_AddNumberToObject(args, "ttl", (double)o->ttl);
    if (o->mode)
        cJSON_AddStringToObject(args, "mode", o->mode);
    if (o->reason)
        cJSON_AddStringToObject(args, "reason", o->reason);
    if (o->wait_ms)
        cJSON_AddNumberToObject(args, "waitMs", (double)o->wait_ms);
    cJSON *res = NULL;
    int code = cli_call(c, o, "lock_file", args, &res);
    if (res && o->json) {
        cli_print_json(res);
    } else if (res && code == CLI_OK) {
        char tok[32];
        cli_num(res, "token", tok, sizeof(tok));
        printf("locked %s for %s (token %s, expires %s)\n", cli_str(res, "file"), cli_agent(o), tok,
               cli_str(res, "expiresAt"));
    } else if (res) {
        fprintf(stderr, "coordhub: %s\n", cli_str(res, "error"));
    }
    cJSON_Delete(res);
    client_close(c);
    return code;
}

static int cli_unlock(struct options *o, int argc, char **argv)
{
    if (argc != 1) {
        fprintf(stderr, "usage: coordhub unlock FILE [--force] [--agent ID]\n");
        return CLI_USAGE;
    }
    char *file = NULL;
    if (cli_path(o, "FILE", argv[0], false, &file) != CLI_OK)
        return CLI_INVALID;
    struct client *c = cli_open(o);
    if (!c) {
        free(file);
        return CLI_FAIL;
    }
    cJSON *args = cJSON_CreateObject();
    cJSON_AddStringToObject(args, "file", file);
    free(file);
    cJSON_AddStringToObject(args, "agentId", cli_agent(o));
    if (o->force)
        cJSON_AddBoolToObject(args, "force", 1);
    cJSON *res = NULL;
    int code = cli_call(c, o, "unlock_file", args, &res);
    if (res && o->json)
        cli_print_json(res);
    else if (res && code == CLI_OK)
        printf("unlocked %s\n", cli_str(res, "file"));
    else if (res)
        fprintf(stderr, "coordhub: %s\n", cli_str(res, "error"));
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

static void cli_tasks_table(const cJSON *res)
{
    cli_print_tasks(cJSON_GetObjectItemCaseSensitive(res, "tasks"));
}

static int cli_tasks(struct options *o, int argc, char **argv)
{
    (void)argc;
    (void)argv;
    cJSON *args = cJSON_CreateObject();
    if (o->status)
        cJSON_AddStringToObject(args, "status", o->status);
    return cli_query(o, "list_tasks", args, cli_tasks_table);
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

static int cli_task(struct options *o, int argc, char **argv)
{
    const char *usage =
        "usage: coordhub task add TITLE [--id ID] [--description D] [--files a,b] "
        "[--patterns p,q] [--depends-on T1,T2] [--capabilities c1,c2] [--priority N]\n"
        "       coordhub task claim ID [--files a,b] [--agent ID]\n"
        "       coordhub task done ID [--result TEXT] [--agent ID]\n"
        "       coordhub task release ID [--reason R] [--failed] [--agent ID]\n";
    if (argc != 2) {
        fputs(usage, stderr);
        return CLI_USAGE;
    }
    const char *sub = argv[0];
    const char *tool;
    cJSON *args = cJSON_CreateObject();
    bool acts = true;
    if (strcmp(sub, "add") == 0) {
        tool = "create_task";
        acts = false;
        cJSON_AddStringToObject(args, "title", argv[1]);
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
        if (o->priority)
            cJSON_AddNumberToObject(args, "priority", (double)o->priority);
    } else if (strcmp(sub, "claim") == 0) {
        tool = "claim_task";
        cJSON_AddStringToObject(args, "taskId", argv[1]);
        if (cli_task_paths(o, args, false) != CLI_OK) {
            cJSON_Delete(args);
            return CLI_INVALID;
        }
    } else if (strcmp(sub, "done") == 0) {
        tool = "complete_task";
        cJSON_AddStringToObject(args, "taskId", argv[1]);
        if (o->result)
            cJSON_AddStringToObject(args, "result", o->result);
    } else if (strcmp(sub, "release") == 0) {
        tool = "release_task";
        cJSON_AddStringToObject(args, "taskId", argv[1]);
        if (o->reason)
            cJSON_AddStringToObject(args, "reason", o->reason);
        if (o->failed)
            cJSON_AddBoolToObject(args, "failed", 1);
    } else {
        cJSON_Delete(args);
        fputs(usage, stderr);
        return CLI_USAGE;
    }
    struct client *c = cli_open(o);
    if (!c) {
        cJSON_Delete(args);
        return CLI_FAIL;
    }
    if (acts)
        cJSON_AddStringToObject(args, "agentId", cli_agent(o));
    cJSON *res = NULL;
    int code = cli_call(c, o, tool, args, &res);
    if (res && o->json) {
        cli_print_json(res);
    } else if (res && code == CLI_OK) {
        const cJSON *t = cJSON_GetObjectItemCaseSensitive(res, "task");
        printf("%s %s: %s\n", cli_str(t, "taskId"), cli_str(t, "status"), cli_str(t, "title"));
    } else if (res) {
        fprintf(stderr, "coordhub: %s\n", cli_str(res, "error"));
    }
    cJSON_Delete(res);
    client_close(c);
    return code;
}

static int cli_events(struct options *o, int argc, char **argv)
{
    (void)argc;
    (void)argv;
    struct client *c = cli_open(o);
    if (!c)
        return CLI_FAIL;
    char cursor[32] = "0";
    if (o->since)
        snprintf(cursor, sizeof(cursor), "%s", o->since);
    int code = CLI_OK;
    for (;;) {
        cJSON *args = cJSON_CreateObject();
        cJSON_AddStringToObject(args, "since", cursor);
        cJSON_AddNumberToObject(args, "limit", 1000);
        cJSON_AddNumberToObject(args, "timeoutMs", o->follow ? 30000 : 0);
        cJSON *res = NULL;
        code = cli_call(c, o, "wait_for_events", args, &res);
        if (!res)
            break;
        const cJSON *ev;
        cJSON_ArrayForEach(ev, cJSON_GetObjectItemCaseSensitive(res, "events"))
        {
            if (o->json) {
                char *s = json_print(ev);
                puts(s);
                free(s);
            } else {
                char *d = json_print(cJSON_GetObjectItemCaseSensitive(ev, "data"));
                printf("%-6s %-24s %-22s %s\n", cli_str(ev, "id"), cli_str(ev, "timestamp"),
                       cli_str(ev, "type"), d);
                free(d);
            }
        }
        fflush(stdout);
        const char *last = json_get_str(res, "lastId", cursor);
        bool more = cJSON_GetArraySize(cJSON_GetObjectItemCaseSensitive(res, "events")) > 0 &&
                    strcmp(last, cursor) != 0;
        snprintf(cursor, sizeof(cursor), "%s", last);
        cJSON_Delete(res);
        if (!o->follow && !more)
            break;
    }
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
                         cJSON_IsString(p) ? p->valuestring : "");
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

/* The create request from the options; NULL with a message on stderr. */
static cJSON *cli_key_create_request(const struct options *o)
{
    cJSON *req = cJSON_CreateObject();
    cJSON_AddStringToObject(req, "coordhub", "key");
    cJSON_AddStringToObject(req, "op", "create");
    if (o->name)
        cJSON_AddStringToObject(req, "name", o->name);
    if (o->publish)
        cJSON_AddStringToObject(req, "publish", o->publish);
    if (o->subscribe)
        cJSON_AddStringToObject(req, "subscribe", o->subscribe);
    if (o->access)
        cJSON_AddStringToObject(req, "state", o->access);
    if (o->require_signature)
        cJSON_AddBoolToObject(req, "requireSignature", 1);
    if (o->rate) {
        char *end;
        errno = 0;
        double v = strtod(o->rate, &end);
        if (errno || end == o->rate || *end) {
            fprintf(stderr, "coordhub: --rate: '%s' is not a number (requests per second)\n",
                    o->rate);
            cJSON_Delete(req);
            return NULL;
        }
        cJSON_AddNumberToObject(req, "rate", v);
    }
    if (o->burst) {
        char *end;
        errno = 0;
        long long v = strtoll(o->burst, &end, 10);
        if (errno || end == o->burst || *end) {
            fprintf(stderr, "coordhub: --burst: '%s' is not an integer\n", o->burst);
            cJSON_Delete(req);
            return NULL;
        }
        cJSON_AddNumberToObject(req, "burst", (double)v);
    }
    return req;
}

static int cli_key(struct options *o, int argc, char **argv)
{
    const char *usage =
        "usage: coordhub key create [--name N] [--publish PATTERNS] [--subscribe PATTERNS] "
        "[--state none|read|write|admin] [--require-signature] [--rate N] [--burst N] [--json]\n"
        "       coordhub key list [--json]\n"
        "       coordhub key revoke ID [--json]\n";
    const char *sub = argc >= 1 ? argv[0] : "";
    cJSON *req = NULL;
    if (strcmp(sub, "create") == 0 && argc == 1) {
        req = cli_key_create_request(o);
        if (!req)
            return CLI_INVALID;
    } else if ((strcmp(sub, "list") == 0 && argc == 1) ||
               (strcmp(sub, "revoke") == 0 && argc == 2)) {
        req = cJSON_CreateObject();
        cJSON_AddStringToObject(req, "coordhub", "key");
        cJSON_AddStringToObject(req, "op", sub);
        if (argc == 2)
            cJSON_AddStringToObject(req, "id", argv[1]);
    } else {
        fputs(usage, stderr);
        return CLI_USAGE;
    }
    if (cli_root_unconfirmed(o)) {
        cJSON_Delete(req);
        return CLI_FAIL;
    }
    cJSON *reply = NULL;
    char *err = NULL;
    int rc = client_control(o, req, &reply, &err);
    cJSON_Delete(req);
    if (rc) {
        fprintf(stderr, "coordhub: key %s: %s\n", sub, err ? err : "failed");
        free(err);
        return CLI_FAIL;
    }
    int code = CLI_OK;
    const cJSON *res = cJSON_GetObjectItemCaseSensitive(reply, "result");
    if (!json_get_bool(reply, "ok", false)) {
        const char *ecode = json_get_str(reply, "code", "");
        fprintf(stderr, "coordhub: key %s: %s\n", sub, json_get_str(reply, "error", "failed"));
        code = strcmp(ecode, "invalid_argument") == 0 || strcmp(ecode, "not_found") == 0
                   ? CLI_INVALID
               : strcmp(ecode, "bad_state") == 0 || strcmp(ecode, "too_large") == 0 ? CLI_REFUSED
                                                                                    : CLI_FAIL;
    } else if (o->json) {
        cli_print_json(res);
    } else if (strcmp(sub, "create") == 0) {
        printf("%s\n", json_get_str(res, "key", ""));
        fprintf(stderr,
                "coordhub: key %s created; the line above is its only copy: store it "
                "now (the hub keeps only its SHA-256)\n",
                json_get_str(res, "id", ""));
    } else if (strcmp(sub, "list") == 0) {
        cli_key_header();
        const cJSON *k;
        cJSON_ArrayForEach(k, cJSON_GetObjectItemCaseSensitive(res, "keys"))
        {
            cli_key_row(k);
        }
    } else {
        printf("key %s revoked at %s\n", json_get_str(res, "id", ""),
               json_get_str(res, "revokedAt", ""));
    }
    cJSON *secret = cJSON_GetObjectItemCaseSensitive(res, "key");
    if (cJSON_IsString(secret))
        memset(secret->valuestring, 0, strlen(secret->valuestring));
    cJSON_Delete(reply);
    return code;
}

/* ---- serve / mcp / version / help --------------------------------------- */

static int cli_serve(struct options *o, int argc, char **argv)
{
    (void)argv;
    if (argc) {
        fprintf(stderr, "usage: coordhub serve [options]\n");
        return CLI_USAGE;
    }
    uint64_t retain = 0;
    if (o->retain && options_retain_events(o->retain, &retain) != 0) {
        fprintf(stderr,
                "coordhub serve: --retain-events '%s': give 'all' or a number of events, at "
                "least %d\n",
                o->retain, OPTIONS_RETAIN_MIN);
        return CLI_USAGE;
    }
    return hub_serve(o);
}

static int cli_mcp(struct options *o, int argc, char **argv)
{
    (void)argv;
    if (argc) {
        fprintf(stderr, "usage: coordhub mcp [--agent ID] [options]\n");
        return CLI_USAGE;
    }
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

static const struct cli_cmd cli_cmds[] = {
    {"serve",
     "serve [--daemon] [--http ADDR:PORT | --no-http] [--tls-cert FILE --tls-key FILE] "
     "[--store URL] [--retain-events N|all] [--log-level L]",
     "run the hub for this workspace (foreground unless --daemon)", cli_serve},
    {"mcp", "mcp [--agent ID]", "MCP server over stdio for an IDE (starts the hub when needed)",
     cli_mcp},
    {"status", "status [--json]", "summary of agents, locks, tasks and health", cli_status},
    {"agents", "agents [--status S] [--json]", "list agents", cli_agents},
    {"locks", "locks [--agent ID] [--json]", "list file leases", cli_locks},
    {"lock", "lock FILE [--ttl S] [--mode M] [--reason R] [--wait MS] [--agent ID]",
     "take a lease on FILE", cli_lock},
    {"unlock", "unlock FILE [--force] [--agent ID]", "release a lease", cli_unlock},
    {"tasks", "tasks [--status S] [--json]", "list tasks", cli_tasks},
    {"task", "task add|claim|done|release …", "create and move tasks", cli_task},
    {"events", "events [--follow] [--since N] [--json]", "print the event log", cli_events},
    {"key", "key create|list|revoke …",
     "manage the HTTP face's API keys (create shows a key once; list never shows secrets)",
     cli_key},
    {"version", "version [--json]", "print the version", cli_version},
};

static const struct cli_cmd *cli_find(const char *name)
{
    for (size_t i = 0; i < sizeof(cli_cmds) / sizeof(cli_cmds[0]); i++)
        if (strcmp(cli_cmds[i].name, name) == 0)
            return &cli_cmds[i];
    return NULL;
}

static void cli_usage(FILE *f)
{
    fprintf(f,
            "coordhub %s — coordination hub for AI coding agents\n\n"
            "usage: coordhub COMMAND [options]\n\ncommands:\n",
            COORDHUB_VERSION);
    for (size_t i = 0; i < sizeof(cli_cmds) / sizeof(cli_cmds[0]); i++)
        fprintf(f, "  %-10s %s\n", cli_cmds[i].name, cli_cmds[i].help);
    fprintf(f, "\ncommon options:\n"
               "  --state-dir DIR   state directory (env COORDHUB_STATE_DIR; default "
               "<root>/.coordhub)\n"
               "  --root DIR        workspace root (env COORDHUB_ROOT; default: the git "
               "repository's main working tree, shared by its worktrees)\n"
               "  --workspace NAME  workspace name (default: root directory name)\n"
               "  --json            machine-readable output\n"
               "  --help            help for a command\n"
               "\nexit codes: 0 ok, 1 failure, 2 usage, 3 refused, 4 invalid argument\n");
}

int cli_main(int argc, char **argv)
{
    if (argc < 2 || strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0 ||
        strcmp(argv[1], "help") == 0) {
        cli_usage(argc < 2 ? stderr : stdout);
        return argc < 2 ? CLI_USAGE : CLI_OK;
    }
    if (strcmp(argv[1], "--version") == 0) {
        printf("coordhub %s\n", COORDHUB_VERSION);
        return CLI_OK;
    }
    const struct cli_cmd *cmd = cli_find(argv[1]);
    if (!cmd) {
        fprintf(stderr, "coordhub: unknown command '%s' (try 'coordhub --help')\n", argv[1]);
        return CLI_USAGE;
    }
    struct options o;
    options_init(&o);
    int nargs = 0;
    const char *bad = NULL;
    int code;
    if (options_parse(&o, argc, argv, 2, &nargs, &bad) != 0) {
        fprintf(stderr, "coordhub %s: bad option '%s'\nusage: coordhub %s\n", cmd->name, bad,
                cmd->usage);
        code = CLI_USAGE;
        goto out;
    }
    if (o.help) {
        printf("usage: coordhub %s\n\n%s\n", cmd->usage, cmd->help);
        code = CLI_OK;
        goto out;
    }
    if (o.config) {
        /* Accepted by the parser for the supervisor's coordhub.json (DESIGN
         * §6); until that exists, refusing beats ignoring the file. */
        fprintf(stderr,
                "coordhub %s: --config is not supported yet (configuration files come with the "
                "supervisor of downstream MCP servers); use the options and environment "
                "variables of docs/configuration.md\n",
                cmd->name);
        code = CLI_USAGE;
        goto out;
    }
    if (options_resolve(&o) != 0) {
        fprintf(stderr, "coordhub: cannot determine the workspace root\n");
        code = CLI_FAIL;
        goto out;
    }
    code = cmd->run(&o, nargs, argv + 2);
out:
    options_deinit(&o);
    return code;
}
