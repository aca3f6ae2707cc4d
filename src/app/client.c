/* client — blocking line I/O over the hub socket. Used by short-lived CLI
 * commands and by the bridge, never inside the hub's loop. */
#define _GNU_SOURCE
#include "app/client.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "app/launch.h"
#include "app/options.h"
#include "auth/token.h"
#include "base/buf.h"
#include "base/clock.h"
#include "base/json.h"
#include "base/str.h"
#include "base/xmalloc.h"
#include "rpc/control.h"

#ifndef COORDHUB_VERSION
#define COORDHUB_VERSION "0.0.0"
#endif

#define CLIENT_MAX_LINE (64 * 1024 * 1024)
#define CLIENT_WAIT_CAP_MS (24LL * 3600 * 1000)

struct client {
    int fd;
    struct buf in;
    long long next_id;
    int64_t reply_timeout_ms; /* bound on the hub's answer, beyond the call's own wait */
};

/* The bound on one answer (docs/cli.md, "Timeouts"): the call's own wait
 * plus this margin, so a hub that stops answering ends the command. */
static int64_t client_reply_timeout_ms(const struct options *o)
{
    return o->reply_timeout_ms > 0 ? o->reply_timeout_ms : CLIENT_REPLY_TIMEOUT_MS;
}

static char *client_errf(const char *what, int err)
{
    size_t n = strlen(what) + 128;
    char *m = xmalloc(n);
    snprintf(m, n, "%s: %s", what, strerror(err));
    return m;
}

static int client_try_connect(const char *path)
{
    struct sockaddr_un sun;
    memset(&sun, 0, sizeof(sun));
    sun.sun_family = AF_UNIX;
    if (strlen(path) >= sizeof(sun.sun_path))
        return -ENAMETOOLONG;
    memcpy(sun.sun_path, path, strlen(path) + 1);
    int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (fd < 0)
        return -errno;
    if (connect(fd, (struct sockaddr *)&sun, sizeof(sun)) != 0) {
        int e = errno;
        close(fd);
        return -e;
    }
    return fd;
}

#define CLIENT_IDLE_EXIT_DEFAULT "30m" /* docs/configuration.md */

/* Start `coordhub serve --daemon` for o's workspace and wait for it to
 * detach (it returns once listening, or at once if another hub owns the
 * workspace). The hub is started the way the state dir's record says its
 * hub was (launch.h), with o's settings only where there is no record;
 * it exits after --idle-exit without sessions. 0, or -1 with *errmsg when
 * the record forbids the start (a password not given, another store). */
static int client_spawn_hub(const struct options *o, char **errmsg)
{
    char *record_path = options_state_path(o, "hub.json");
    struct launch_record rec;
    int rc = launch_record_load(record_path, &rec, errmsg);
    if (rc != 0 && rc != -ENOENT) {
        free(record_path);
        return -1;
    }
    const struct launch_record *r = rc == 0 ? &rec : NULL;
    /* What this command was given, as opposed to the default store. */
    const char *env_store = getenv("COORDHUB_STORE");
    if (env_store && !*env_store)
        env_store = NULL;
    const char *given = o->store_arg ? o->store_url : env_store;
    char *store = NULL;
    rc = launch_autostart_store(r, given, record_path, &store, errmsg);
    free(record_path);
    if (rc) {
        launch_record_deinit(&rec);
        return -1;
    }
    int64_t idle_ms = 0;
    if (o->idle_exit &&
        options_duration_ms(o->idle_exit, OPTIONS_IDLE_EXIT_MAX_MS, &idle_ms) != 0) {
        size_t m = strlen(o->idle_exit) + 160;
        *errmsg = xmalloc(m);
        snprintf(*errmsg, m,
                 "--idle-exit (or COORDHUB_IDLE_EXIT) '%s': give a duration such as 30m, 90s, "
                 "1h or 250ms, or 0 / never",
                 o->idle_exit);
        free(store);
        launch_record_deinit(&rec);
        return -1;
    }
    char exe[4096];
    ssize_t n = readlink("/proc/self/exe", exe, sizeof(exe) - 1);
    if (n <= 0) {
        *errmsg = client_errf("cannot find the coordhub executable", errno);
        free(store);
        launch_record_deinit(&rec);
        return -1;
    }
    exe[n] = '\0';
    const char *argv[32];
    int i = 0;
    argv[i++] = exe;
    argv[i++] = "serve";
    argv[i++] = "--daemon";
    argv[i++] = "--state-dir";
    argv[i++] = o->state_dir;
    argv[i++] = "--root";
    argv[i++] = o->root;
    argv[i++] = "--workspace";
    argv[i++] = r ? r->workspace : o->workspace;
    /* A store URL from COORDHUB_STORE reaches the hub through the
     * environment it inherits, so a password in it stays out of the
     * process list. */
    const char *store_arg = store ? store : o->store_url;
    if (!(env_store && strcmp(env_store, store_arg) == 0)) {
        argv[i++] = "--store";
        argv[i++] = store_arg;
    }
    if (r && r->no_http) {
        argv[i++] = "--no-http";
    } else if (r && r->http) {
        argv[i++] = "--http";
        argv[i++] = r->http;
    }
    if (r && r->tls_cert) {
        argv[i++] = "--tls-cert";
        argv[i++] = r->tls_cert;
    }
    if (r && r->tls_key) {
        argv[i++] = "--tls-key";
        argv[i++] = r->tls_key;
    }
    if (r && r->retain) {
        argv[i++] = "--retain-events";
        argv[i++] = r->retain;
    }
    if (o->log_level) {
        argv[i++] = "--log-level";
        argv[i++] = o->log_level;
    }
    argv[i++] = "--idle-exit";
    argv[i++] = o->idle_exit ? o->idle_exit : CLIENT_IDLE_EXIT_DEFAULT;
    argv[i] = NULL;
    pid_t pid = fork();
    if (pid == 0) {
        int devnull = open("/dev/null", O_RDWR);
        if (devnull >= 0) {
            dup2(devnull, 0);
            dup2(devnull, 1);
            dup2(devnull, 2);
        }
        execv(exe, (char *const *)argv);
        _exit(127);
    }
    free(store);
    launch_record_deinit(&rec);
    if (pid < 0) {
        *errmsg = client_errf("cannot start the hub", errno);
        return -1;
    }
    int status;
    while (waitpid(pid, &status, 0) < 0 && errno == EINTR)
        ;
    return 0;
}

int client_connect_socket(const struct options *o, bool autostart, char **errmsg)
{
    char *path = options_state_path(o, "hub.sock");
    int fd = client_try_connect(path);
    if (fd >= 0 || !autostart || (fd != -ENOENT && fd != -ECONNREFUSED)) {
        if (fd < 0)
            *errmsg = client_errf(fd == -ENOENT || fd == -ECONNREFUSED
                                      ? "no hub is running for this workspace"
                                      : "cannot connect to the hub",
                                  -fd);
        free(path);
        return fd;
    }
    if (client_spawn_hub(o, errmsg) != 0) {
        free(path);
        return -EPERM;
    }
    int64_t deadline = clock_mono_ns() + 15LL * 1000000000;
    while ((fd = client_try_connect(path)) < 0 && clock_mono_ns() < deadline) {
        struct timespec ts = {.tv_sec = 0, .tv_nsec = 20 * 1000000};
        nanosleep(&ts, NULL);
    }
    if (fd < 0) {
        size_t n = strlen(path) + 200;
        *errmsg = xmalloc(n);
        snprintf(*errmsg, n, "the hub did not start (no socket at %s); see %s/hub.log", path,
                 o->state_dir);
    }
    free(path);
    return fd;
}

/* The workspace's admin token (<state-dir>/token), which every admin
 * request on the socket carries (docs/security.md); NULL with *errmsg. */
static char *client_admin_token(const struct options *o, char **errmsg)
{
    char *path = options_state_path(o, "token");
    char *token = NULL;
    int rc = token_file_read(path, &token);
    if (rc) {
        size_t n = strlen(path) + 160;
        *errmsg = xmalloc(n);
        snprintf(*errmsg, n, "cannot read the admin token %s: %s", path,
                 rc == -ENODATA ? "the file is empty" : strerror(-rc));
    }
    free(path);
    return token;
}

static int client_write_all(int fd, const char *p, size_t n)
{
    while (n) {
        ssize_t w = send(fd, p, n, MSG_NOSIGNAL);
        if (w < 0) {
            if (errno == EINTR)
                continue;
            return -errno;
        }
        p += w;
        n -= (size_t)w;
    }
    return 0;
}

/* Read one line (without "\n") into a fresh string before deadline_ns
 * (CLOCK_MONOTONIC). NULL at EOF or error, and NULL with *timed_out set
 * when the deadline passes first. */
static char *client_read_line(struct client *c, int64_t deadline_ns, bool *timed_out)
{
    *timed_out = false;
    for (;;) {
        char *nl = c->in.data ? memchr(c->in.data, '\n', c->in.len) : NULL;
        if (nl) {
            size_t len = (size_t)(nl - c->in.data);
            char *line = xstrndup(c->in.data, len);
            buf_consume(&c->in, len + 1);
            return line;
        }
        int64_t left_ms = (deadline_ns - clock_mono_ns()) / 1000000;
        if (left_ms <= 0) {
            *timed_out = true;
            return NULL;
        }
        struct pollfd pfd = {.fd = c->fd, .events = POLLIN};
        int pr = poll(&pfd, 1, left_ms > 60000 ? 60000 : (int)left_ms);
        if (pr < 0 && errno == EINTR)
            continue;
        if (pr < 0)
            return NULL;
        if (pr == 0)
            continue; /* the loop re-checks the deadline */
        char tmp[65536];
        ssize_t n = read(c->fd, tmp, sizeof(tmp));
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0)
            return NULL;
        if (buf_append(&c->in, tmp, (size_t)n) != 0)
            return NULL;
    }
}

static char *client_timeout_msg(int64_t ms)
{
    return str_printf("the hub did not answer within %lld ms (is it stuck? see hub.log in the "
                      "state directory)",
                      (long long)ms);
}

/* Send req's line with the admin token on fd; 0 or -errno. The line
 * and the token are wiped after. */
static int client_send_owner_line(const struct options *o, int fd, const struct control_msg *req,
                                  char **errmsg)
{
    char *token = client_admin_token(o, errmsg);
    if (!token)
        return -EACCES;
    struct control_msg m = *req;
    m.token = token;
    char *line = control_build(&m);
    token_cleanse(token, strlen(token));
    free(token);
    int rc = client_write_all(fd, line, strlen(line));
    control_line_free(line);
    if (rc)
        *errmsg = client_errf("cannot send to the hub", -rc);
    return rc;
}

int client_control(const struct options *o, bool autostart, const struct control_msg *req,
                   struct control_msg *reply, char **errmsg)
{
    memset(reply, 0, sizeof(*reply));
    *errmsg = NULL;
    int fd = client_connect_socket(o, autostart, errmsg);
    if (fd < 0)
        return -1;
    int rc = client_send_owner_line(o, fd, req, errmsg);
    if (rc) {
        close(fd);
        return -1;
    }
    struct client c = {.fd = fd, .next_id = 1, .reply_timeout_ms = client_reply_timeout_ms(o)};
    buf_init(&c.in, CLIENT_MAX_LINE);
    bool timed_out = false;
    char *answer = client_read_line(&c, clock_mono_ns() + c.reply_timeout_ms * 1000000, &timed_out);
    close(fd);
    buf_deinit(&c.in);
    if (timed_out) {
        *errmsg = client_timeout_msg(c.reply_timeout_ms);
        return -1;
    }
    if (!answer) {
        *errmsg = xstrdup("the hub closed the connection without an answer");
        return -1;
    }
    struct control_error e;
    rc = control_parse_reply(answer, strlen(answer), reply, &e);
    explicit_bzero(answer, strlen(answer)); /* a create's answer holds the key */
    free(answer);
    if (rc == 0 && reply->kind != CONTROL_ANSWER)
        snprintf(e.message, sizeof(e.message), "%s", "not an answer to the request");
    if (rc != 0 || reply->kind != CONTROL_ANSWER) {
        control_msg_free(reply);
        *errmsg = str_printf("the hub's answer cannot be read: %s", e.message);
        return -1;
    }
    return 0;
}

/* Send a request and wait for the response with the same id, or for an
 * error with id null: the hub sends that when it could not read a request
 * at all, and as this client has one request in flight, it is the answer
 * to this one. Notifications in between are skipped. wait_ms is how long
 * the call itself may legitimately take (a queued lock, a long poll); the
 * answer must come within that plus the client's reply timeout. Returns
 * the parsed response (caller owns), or NULL with *errmsg. */
static cJSON *client_request(struct client *c, const char *method, cJSON *params, int64_t wait_ms,
                             char **errmsg)
{
    long long id = ++c->next_id;
    cJSON *req = cJSON_CreateObject();
    cJSON_AddStringToObject(req, "jsonrpc", "2.0");
    cJSON_AddNumberToObject(req, "id", (double)id);
    cJSON_AddStringToObject(req, "method", method);
    if (params)
        cJSON_AddItemToObject(req, "params", params);
    char *text = json_print_line(req);
    cJSON_Delete(req);
    int rc = client_write_all(c->fd, text, strlen(text));
    free(text);
    if (rc) {
        *errmsg = client_errf("cannot send to the hub", -rc);
        return NULL;
    }
    int64_t bound_ms = wait_ms + c->reply_timeout_ms;
    int64_t deadline = clock_mono_ns() + bound_ms * 1000000;
    for (;;) {
        bool timed_out = false;
        char *line = client_read_line(c, deadline, &timed_out);
        if (!line) {
            *errmsg =
                timed_out ? client_timeout_msg(bound_ms) : xstrdup("the hub closed the connection");
            return NULL;
        }
        if (control_is_line(line, strlen(line))) {
            /* The hub refused the control line this connection opened with. */
            struct control_msg no;
            struct control_error e;
            bool refusal = control_parse_reply(line, strlen(line), &no, &e) == 0 &&
                           no.kind == CONTROL_ANSWER && !no.u.answer.ok;
            *errmsg = refusal ? xstrdup(no.u.answer.error)
                              : str_printf("the hub sent a control line that cannot be read: %s",
                                           e.message);
            control_msg_free(&no);
            free(line);
            return NULL;
        }
        int err = 0;
        cJSON *msg = json_parse_bounded(line, strlen(line), JSON_MAX_DEPTH, &err);
        free(line);
        if (!msg)
            continue;
        const cJSON *rid = cJSON_GetObjectItemCaseSensitive(msg, "id");
        bool response = !cJSON_GetObjectItemCaseSensitive(msg, "method");
        if (response && cJSON_IsNumber(rid) && (long long)rid->valuedouble == id)
            return msg;
        if (response && cJSON_IsNull(rid) && cJSON_GetObjectItemCaseSensitive(msg, "error"))
            return msg;
        cJSON_Delete(msg);
    }
}

static void client_send_notification(struct client *c, const char *method)
{
    char line[200];
    int n = snprintf(line, sizeof(line), "{\"jsonrpc\":\"2.0\",\"method\":\"%s\"}\n", method);
    (void)client_write_all(c->fd, line, (size_t)n);
}

struct client *client_open(const struct options *o, bool autostart, char **errmsg)
{
    int fd = client_connect_socket(o, autostart, errmsg);
    if (fd < 0)
        return NULL;
    /* The admin line goes first: the session is then the owner's (admin,
     * never an agent) — what clientInfo says below grants nothing. */
    const struct control_msg admin = {.kind = CONTROL_ADMIN};
    if (client_send_owner_line(o, fd, &admin, errmsg) != 0) {
        close(fd);
        return NULL;
    }
    struct client *c = xcalloc(1, sizeof(*c));
    c->fd = fd;
    c->reply_timeout_ms = client_reply_timeout_ms(o);
    buf_init(&c->in, CLIENT_MAX_LINE);
    cJSON *params = cJSON_CreateObject();
    cJSON_AddStringToObject(params, "protocolVersion", "2025-11-25");
    cJSON_AddObjectToObject(params, "capabilities");
    cJSON *ci = cJSON_AddObjectToObject(params, "clientInfo");
    cJSON_AddStringToObject(ci, "name", "coordhub-cli");
    cJSON_AddStringToObject(ci, "version", COORDHUB_VERSION);
    cJSON *resp = client_request(c, "initialize", params, 0, errmsg);
    if (!resp || !cJSON_GetObjectItemCaseSensitive(resp, "result")) {
        if (resp && !*errmsg)
            *errmsg = xstrdup("the hub refused the MCP handshake");
        cJSON_Delete(resp);
        client_close(c);
        return NULL;
    }
    cJSON_Delete(resp);
    client_send_notification(c, "notifications/initialized");
    return c;
}

void client_close(struct client *c)
{
    if (!c)
        return;
    close(c->fd);
    buf_deinit(&c->in);
    free(c);
}

int client_call(struct client *c, const char *tool, cJSON *args, cJSON **result, bool *is_error,
                char **errmsg)
{
    /* The call's own wait: a queued lock (waitMs) or a long poll
     * (timeoutMs) is answered only when it ends. */
    int64_t wait_ms = json_get_i64(args, "waitMs", 0);
    int64_t poll_ms = json_get_i64(args, "timeoutMs", 0);
    if (poll_ms > wait_ms)
        wait_ms = poll_ms;
    if (wait_ms < 0)
        wait_ms = 0;
    if (wait_ms > CLIENT_WAIT_CAP_MS)
        wait_ms = CLIENT_WAIT_CAP_MS; /* the hub caps its waits far below */
    cJSON *params = cJSON_CreateObject();
    cJSON_AddStringToObject(params, "name", tool);
    cJSON_AddItemToObject(params, "arguments", args ? args : cJSON_CreateObject());
    cJSON *resp = client_request(c, "tools/call", params, wait_ms, errmsg);
    if (!resp)
        return -1;
    cJSON *err = cJSON_GetObjectItemCaseSensitive(resp, "error");
    if (err) {
        *errmsg = xstrdup(json_get_str(err, "message", "error"));
        cJSON_Delete(resp);
        return -1;
    }
    cJSON *res = cJSON_GetObjectItemCaseSensitive(resp, "result");
    *is_error = json_get_bool(res, "isError", false);
    cJSON *sc = cJSON_DetachItemFromObjectCaseSensitive(res, "structuredContent");
    if (!sc) {
        /* Fall back to the text content (errors carry only text). */
        cJSON *content = cJSON_GetObjectItemCaseSensitive(res, "content");
        const char *text = json_get_str(cJSON_GetArrayItem(content, 0), "text", "");
        int perr = 0;
        sc = json_parse_bounded(text, strlen(text), JSON_MAX_DEPTH, &perr);
        if (!sc) {
            sc = cJSON_CreateObject();
            cJSON_AddStringToObject(sc, "error", text);
        }
    }
    *result = sc;
    cJSON_Delete(resp);
    return 0;
}

int client_wait_hub_exit(const struct options *o, int timeout_ms)
{
    char *path = options_state_path(o, "hub.lock");
    int fd = open(path, O_RDWR | O_CLOEXEC);
    free(path);
    if (fd < 0)
        return errno == ENOENT ? 0 : -errno;
    int64_t deadline = clock_mono_ns() + (int64_t)timeout_ms * 1000000;
    int rc = -ETIMEDOUT;
    for (;;) {
        /* The hub holds hub.lock until its very end: free means gone. */
        if (flock(fd, LOCK_EX | LOCK_NB) == 0) {
            flock(fd, LOCK_UN);
            rc = 0;
            break;
        }
        if (errno != EWOULDBLOCK && errno != EINTR) {
            rc = -errno;
            break;
        }
        if (clock_mono_ns() >= deadline)
            break;
        struct timespec ts = {.tv_sec = 0, .tv_nsec = 20 * 1000000};
        nanosleep(&ts, NULL);
    }
    close(fd);
    return rc;
}
