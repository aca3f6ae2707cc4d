/* launch — the start record (hub.json) and the two decisions made from it.
 * The password of a store URL never reaches the file: store_url_redact
 * puts "***" in its place, and a URL matches the record when its redacted
 * form is the recorded one (same scheme, user, host or socket, database). */
#define _GNU_SOURCE
#include "app/launch.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "app/options.h"
#include "base/err.h"
#include "base/json.h"
#include "base/xmalloc.h"
#include "store/store.h"

#define LAUNCH_FILE_MAX (64 * 1024)

static char *launch_dup(const char *s)
{
    return s ? xstrdup(s) : NULL;
}

void launch_record_deinit(struct launch_record *r)
{
    if (!r)
        return;
    free(r->store);
    free(r->workspace);
    free(r->http);
    free(r->tls_cert);
    free(r->tls_key);
    free(r->retain);
    memset(r, 0, sizeof(*r));
}

void launch_record_from_options(const struct options *o, struct launch_record *r)
{
    memset(r, 0, sizeof(*r));
    r->store = store_url_redact(o->store_url);
    r->secret = strcmp(r->store, o->store_url) != 0;
    r->workspace = xstrdup(o->workspace);
    r->no_http = o->no_http;
    r->http = o->no_http ? NULL : launch_dup(o->http);
    r->tls_cert = launch_dup(o->tls_cert);
    r->tls_key = launch_dup(o->tls_key);
    r->retain = launch_dup(o->retain);
}

static void launch_add_opt(cJSON *j, const char *key, const char *v)
{
    if (v)
        cJSON_AddStringToObject(j, key, v);
}

cJSON *launch_record_json(const struct launch_record *r)
{
    cJSON *j = cJSON_CreateObject();
    cJSON_AddNumberToObject(j, "version", 1);
    cJSON_AddStringToObject(j, "store", r->store);
    cJSON_AddBoolToObject(j, "storeNeedsSecret", r->secret);
    cJSON_AddStringToObject(j, "workspace", r->workspace);
    if (r->no_http)
        cJSON_AddBoolToObject(j, "http", 0);
    else
        launch_add_opt(j, "http", r->http);
    launch_add_opt(j, "tlsCert", r->tls_cert);
    launch_add_opt(j, "tlsKey", r->tls_key);
    launch_add_opt(j, "retainEvents", r->retain);
    return j;
}

static int launch_bad(const char *what, char **errmsg)
{
    size_t n = strlen(what) + 64;
    *errmsg = xmalloc(n);
    snprintf(*errmsg, n, "%s", what);
    return -ERR_INVALID;
}

/* An optional string field into *out (NULL when absent). */
static bool launch_opt_str(const cJSON *j, const char *key, char **out)
{
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(j, key);
    *out = NULL;
    if (!v)
        return true;
    if (!cJSON_IsString(v) || !*v->valuestring)
        return false;
    *out = xstrdup(v->valuestring);
    return true;
}

int launch_record_parse(const cJSON *j, struct launch_record *r, char **errmsg)
{
    memset(r, 0, sizeof(*r));
    if (!cJSON_IsObject(j))
        return launch_bad("not a JSON object", errmsg);
    const cJSON *store = cJSON_GetObjectItemCaseSensitive(j, "store");
    const cJSON *ws = cJSON_GetObjectItemCaseSensitive(j, "workspace");
    const cJSON *secret = cJSON_GetObjectItemCaseSensitive(j, "storeNeedsSecret");
    const cJSON *http = cJSON_GetObjectItemCaseSensitive(j, "http");
    if (!cJSON_IsString(store) || !*store->valuestring)
        return launch_bad("store: must be a store URL", errmsg);
    if (!cJSON_IsString(ws) || !*ws->valuestring)
        return launch_bad("workspace: must be a workspace name", errmsg);
    if (secret && !cJSON_IsBool(secret))
        return launch_bad("storeNeedsSecret: must be true or false", errmsg);
    if (http && !cJSON_IsFalse(http) && !(cJSON_IsString(http) && *http->valuestring))
        return launch_bad("http: must be an address ADDR:PORT or false", errmsg);
    r->store = xstrdup(store->valuestring);
    r->workspace = xstrdup(ws->valuestring);
    r->secret = cJSON_IsTrue(secret);
    r->no_http = cJSON_IsFalse(http);
    r->http = cJSON_IsString(http) ? xstrdup(http->valuestring) : NULL;
    static const char *const fields[] = {"tlsCert", "tlsKey", "retainEvents"};
    char **outs[] = {&r->tls_cert, &r->tls_key, &r->retain};
    for (size_t i = 0; i < sizeof(fields) / sizeof(fields[0]); i++) {
        if (!launch_opt_str(j, fields[i], outs[i])) {
            char msg[64];
            snprintf(msg, sizeof(msg), "%s: must be a non-empty string", fields[i]);
            launch_record_deinit(r);
            return launch_bad(msg, errmsg);
        }
    }
    return 0;
}

int launch_record_load(const char *path, struct launch_record *r, char **errmsg)
{
    memset(r, 0, sizeof(*r));
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0) {
        int e = errno;
        if (e != ENOENT) {
            size_t n = strlen(path) + 96;
            *errmsg = xmalloc(n);
            snprintf(*errmsg, n, "cannot read %s: %s", path, strerror(e));
        }
        return -e;
    }
    char *buf = xmalloc(LAUNCH_FILE_MAX + 1);
    size_t len = 0;
    ssize_t n;
    while (len < LAUNCH_FILE_MAX && (n = read(fd, buf + len, LAUNCH_FILE_MAX - len)) != 0) {
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0)
            break;
        len += (size_t)n;
    }
    close(fd);
    int err = 0;
    cJSON *j = json_parse_bounded(buf, len, 4, &err);
    free(buf);
    char *why = NULL;
    int rc = j ? launch_record_parse(j, r, &why) : -ERR_INVALID;
    cJSON_Delete(j);
    if (rc) {
        size_t m = strlen(path) + (why ? strlen(why) : 0) + 128;
        *errmsg = xmalloc(m);
        snprintf(*errmsg, m, "%s is not a valid start record (%s): fix or remove it", path,
                 why ? why : "not JSON");
        free(why);
    }
    return rc;
}

int launch_record_save(const char *path, const struct launch_record *r)
{
    cJSON *j = launch_record_json(r);
    char *text = json_print(j);
    cJSON_Delete(j);
    size_t n = strlen(path) + 8;
    char *tmp = xmalloc(n);
    snprintf(tmp, n, "%s.tmp", path);
    int rc = 0;
    int fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
    if (fd < 0) {
        rc = -errno;
        goto out;
    }
    size_t len = strlen(text);
    bool ok = write(fd, text, len) == (ssize_t)len && write(fd, "\n", 1) == 1;
    if (!ok)
        rc = errno ? -errno : -EIO;
    if (close(fd) != 0 && rc == 0)
        rc = -errno;
    if (rc == 0 && rename(tmp, path) != 0)
        rc = -errno;
    if (rc)
        unlink(tmp);
out:
    free(tmp);
    free(text);
    return rc;
}

/* fmt with up to three %s (an unused argument is ignored). */
static char *launch_msg(const char *fmt, const char *a, const char *b, const char *c)
{
    size_t n = strlen(fmt) + strlen(a) + strlen(b) + strlen(c) + 1;
    char *m = xmalloc(n);
    snprintf(m, n, fmt, a, b, c);
    return m;
}

int launch_autostart_store(const struct launch_record *rec, const char *given,
                           const char *record_path, char **store, char **errmsg)
{
    *store = NULL;
    if (!rec) {
        *store = launch_dup(given);
        return 0;
    }
    if (!given) {
        if (!rec->secret) {
            *store = xstrdup(rec->store);
            return 0;
        }
        *errmsg = launch_msg(
            "this workspace's hub was started on %s (recorded in %s) and its password is not "
            "recorded: set COORDHUB_STORE to that URL with the password in place of *** to let "
            "it start again, or start it yourself with `coordhub serve --store URL`",
            rec->store, record_path, "");
        return -ERR_STATE;
    }
    char *shown = store_url_redact(given);
    int rc = 0;
    if (strcmp(shown, rec->store) == 0) {
        *store = xstrdup(given); /* the record's store, with its password */
    } else {
        *errmsg = launch_msg(
            "this workspace's hub was started on %s (recorded in %s), but this command was "
            "given the store %s: a hub started on it would leave the shared workspace. Use the "
            "recorded store, or move the workspace by starting the hub yourself with "
            "`coordhub serve --store URL`",
            rec->store, record_path, shown);
        rc = -ERR_STATE;
    }
    free(shown);
    return rc;
}

int launch_serve_check(const struct launch_record *rec, const struct options *o,
                       const char *record_path, char **errmsg)
{
    if (!rec || o->store_arg)
        return 0;
    char *shown = store_url_redact(o->store_url);
    int rc = 0;
    if (strcmp(shown, rec->store) != 0) {
        *errmsg = launch_msg(
            "this workspace's hub was started on %s (recorded in %s), and this one would use %s. "
            "To move the workspace to that store give it explicitly: `coordhub serve --store "
            "URL` (the record then follows it)",
            rec->store, record_path, shown);
        rc = -ERR_STATE;
    }
    free(shown);
    return rc;
}
