/* control — parse and build the hub socket's control lines
 * (docs/socket-protocol.md has each line, who sends it and what answers
 * it).
 *
 * Invariants:
 *   - one table (control_kinds) maps kinds to their wire names and says
 *     who sends each; parse and build both go through it;
 *   - a refused line leaves *out cleared (but for the kind and token of a
 *     request, control.h) and its text freed unless it holds that token;
 *     nothing is half-parsed;
 *   - every string of a built tree is wiped before the tree is freed,
 *     and json_print_line leaves no copy behind: a line may carry the
 *     admin token or a new API key. */
#define _GNU_SOURCE
#include "rpc/control.h"

#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/err.h"
#include "base/json.h"
#include "base/xmalloc.h"

#define CONTROL_MEMBER "coordhub"
#define CONTROL_ERROR_KIND "error"        /* an answer to a line of no known kind */
#define CONTROL_INT_MAX ((1LL << 53) - 1) /* integers a double holds exactly */

enum control_from { FROM_CLIENT, FROM_HUB, FROM_NOBODY };

static const struct {
    const char *name;
    enum control_kind kind;
    enum control_from from;
} control_kinds[] = {
    {"attach", CONTROL_ATTACH, FROM_CLIENT},  {"resume", CONTROL_RESUME, FROM_CLIENT},
    {"admin", CONTROL_ADMIN, FROM_CLIENT},    {"key", CONTROL_KEY, FROM_CLIENT},
    {"stop", CONTROL_STOP, FROM_CLIENT},      {"call", CONTROL_CALL, FROM_CLIENT},
    {"attached", CONTROL_ATTACHED, FROM_HUB}, {"session", CONTROL_SESSION, FROM_HUB},
    {"bye", CONTROL_BYE, FROM_HUB},           {"stopping", CONTROL_STOPPING, FROM_HUB},
    {"refused", CONTROL_REFUSED, FROM_HUB},
};

#define CONTROL_NKINDS (sizeof(control_kinds) / sizeof(control_kinds[0]))

const char *control_kind_name(enum control_kind k)
{
    for (size_t i = 0; i < CONTROL_NKINDS; i++)
        if (control_kinds[i].kind == k)
            return control_kinds[i].name;
    return NULL;
}

static enum control_kind control_kind_find(const char *name, enum control_from from)
{
    for (size_t i = 0; i < CONTROL_NKINDS; i++)
        if (control_kinds[i].from == from && strcmp(control_kinds[i].name, name) == 0)
            return control_kinds[i].kind;
    return CONTROL_NONE;
}

static bool control_is_request_kind(enum control_kind k)
{
    return k >= CONTROL_ATTACH && k <= CONTROL_CALL;
}

/* ---- recognising -------------------------------------------------------- */

static size_t control_skip_ws(const char *p, size_t n, size_t i)
{
    while (i < n && (p[i] == ' ' || p[i] == '\t' || p[i] == '\r' || p[i] == '\n'))
        i++;
    return i;
}

bool control_is_line(const char *p, size_t n)
{
    static const char member[] = "\"" CONTROL_MEMBER "\"";
    size_t i = control_skip_ws(p, n, 0);
    if (i >= n || p[i] != '{')
        return false;
    i = control_skip_ws(p, n, i + 1);
    if (n - i < sizeof(member) - 1 || memcmp(p + i, member, sizeof(member) - 1) != 0)
        return false;
    i = control_skip_ws(p, n, i + sizeof(member) - 1);
    return i < n && p[i] == ':';
}

/* ---- parsing ------------------------------------------------------------ */

__attribute__((format(printf, 3, 4))) static int control_fail(struct control_error *e, int err,
                                                              const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    e->err = err;
    vsnprintf(e->message, sizeof(e->message), fmt, ap);
    va_end(ap);
    return err;
}

/* An optional string member: *out NULL when absent or, with null_ok, null. */
static int control_str(const cJSON *o, const char *name, bool null_ok, const char **out,
                       const char *why, struct control_error *e)
{
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, name);
    *out = NULL;
    if (!v || (null_ok && cJSON_IsNull(v)))
        return 0;
    if (!cJSON_IsString(v))
        return control_fail(e, -ERR_INVALID, "%s", why);
    *out = v->valuestring;
    return 0;
}

/* An optional object member. */
static int control_obj(const cJSON *o, const char *name, const cJSON **out, const char *why,
                       struct control_error *e)
{
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, name);
    *out = NULL;
    if (!v)
        return 0;
    if (!cJSON_IsObject(v))
        return control_fail(e, -ERR_INVALID, "%s", why);
    *out = v;
    return 0;
}

static int control_parse_attach(const cJSON *o, struct control_attach *a, struct control_error *e)
{
    int rc = control_str(o, "cwd", false, &a->cwd, "cwd: must be a string (an absolute path)", e);
    if (rc == 0 && a->cwd && a->cwd[0] != '/')
        rc = control_fail(e, -ERR_INVALID, "%s", "cwd: must be an absolute path");
    if (rc == 0)
        rc = control_str(o, "agent", false, &a->agent, "agent: must be a string (an agent id)", e);
    if (rc == 0)
        rc = control_str(o, "agentId", false, &a->agent_id,
                         "agentId: must be a string (an agent id)", e);
    if (rc == 0)
        rc = control_obj(o, "init", &a->init,
                         "init: must be an object (the client's initialize params)", e);
    return rc;
}

static int control_parse_key_create(const cJSON *o, struct control_key *k, struct control_error *e)
{
    int rc = control_str(o, "name", true, &k->name, "name: must be a string", e);
    if (rc == 0)
        rc = control_str(o, "publish", true, &k->publish, "publish: must be a string of patterns",
                         e);
    if (rc == 0)
        rc = control_str(o, "subscribe", true, &k->subscribe,
                         "subscribe: must be a string of patterns", e);
    if (rc == 0)
        rc = control_str(o, "state", true, &k->state, "state: must be a string", e);
    if (rc)
        return rc;
    const cJSON *sig = cJSON_GetObjectItemCaseSensitive(o, "requireSignature");
    if (sig && !cJSON_IsBool(sig))
        return control_fail(e, -ERR_INVALID, "%s", "requireSignature: must be true or false");
    k->require_signature = cJSON_IsTrue(sig);
    const cJSON *rate = cJSON_GetObjectItemCaseSensitive(o, "rate");
    if (rate && (!cJSON_IsNumber(rate) || !isfinite(rate->valuedouble)))
        return control_fail(e, -ERR_INVALID, "%s", "rate: must be a number (requests per second)");
    k->has_rate = rate != NULL;
    k->rate = rate ? rate->valuedouble : 0;
    const cJSON *burst = cJSON_GetObjectItemCaseSensitive(o, "burst");
    if (burst && !json_is_int_in(burst, -CONTROL_INT_MAX, CONTROL_INT_MAX))
        return control_fail(e, -ERR_INVALID, "%s", "burst: must be an integer");
    k->has_burst = burst != NULL;
    k->burst = burst ? (int64_t)burst->valuedouble : 0;
    return 0;
}

static int control_parse_key(const cJSON *o, struct control_key *k, struct control_error *e)
{
    const char *op = NULL;
    int rc = control_str(o, "op", false, &op, "op: must be create, list or revoke", e);
    if (rc)
        return rc;
    k->op = !op                         ? CONTROL_KEY_NONE
            : strcmp(op, "create") == 0 ? CONTROL_KEY_CREATE
            : strcmp(op, "list") == 0   ? CONTROL_KEY_LIST
            : strcmp(op, "revoke") == 0 ? CONTROL_KEY_REVOKE
                                        : CONTROL_KEY_NONE;
    if (k->op == CONTROL_KEY_NONE)
        return control_fail(e, -ERR_INVALID, "%s", "op: must be create, list or revoke");
    if (k->op == CONTROL_KEY_CREATE)
        return control_parse_key_create(o, k, e);
    if (k->op == CONTROL_KEY_REVOKE) {
        static const char why[] = "id: required (a key id, see `coordhub key list`)";
        rc = control_str(o, "id", true, &k->id, why, e);
        if (rc == 0 && !k->id)
            rc = control_fail(e, -ERR_INVALID, "%s", why);
    }
    return rc;
}

static int control_parse_call(const cJSON *o, struct control_call *c, struct control_error *e)
{
    static const char why[] = "tool: required (the name of a tool, as in tools/list)";
    int rc = control_str(o, "tool", false, &c->tool, why, e);
    if (rc == 0 && (!c->tool || !c->tool[0]))
        rc = control_fail(e, -ERR_INVALID, "%s", why);
    const cJSON *args = cJSON_GetObjectItemCaseSensitive(o, "arguments");
    if (rc == 0 && args && !cJSON_IsNull(args) && !cJSON_IsObject(args))
        rc = control_fail(e, -ERR_INVALID, "%s", "arguments: must be an object");
    c->arguments = cJSON_IsObject(args) ? args : NULL;
    return rc;
}

static int control_parse_answer(const cJSON *o, struct control_answer *a, struct control_error *e)
{
    const cJSON *ok = cJSON_GetObjectItemCaseSensitive(o, "ok");
    if (!cJSON_IsBool(ok))
        return control_fail(e, -ERR_INVALID, "%s", "ok: must be true or false");
    a->ok = cJSON_IsTrue(ok);
    if (!a->ok) {
        int rc = control_str(o, "code", false, &a->code, "code: must be a string", e);
        if (rc == 0)
            rc = control_str(o, "error", false, &a->error, "error: must be a string", e);
        if (rc == 0 && (!a->code || !a->error))
            rc = control_fail(e, -ERR_INVALID, "%s", "a refusal needs \"code\" and \"error\"");
        return rc;
    }
    a->result = cJSON_GetObjectItemCaseSensitive(o, "result");
    const cJSON *pid = cJSON_GetObjectItemCaseSensitive(o, "pid");
    if (pid && !json_is_int_in(pid, 1, INT32_MAX))
        return control_fail(e, -ERR_INVALID, "%s", "pid: must be a process id");
    a->pid = pid ? (int64_t)pid->valuedouble : 0;
    return 0;
}

/* Parse the JSON of a line and find its kind's name. */
static int control_parse_common(const char *p, size_t n, size_t max, cJSON **root,
                                const char **name, struct control_error *e)
{
    *root = NULL;
    if (n >= max) {
        char lim[32];
        snprintf(lim, sizeof(lim), "%zu", max);
        return control_fail(e, -ERR_TOO_LARGE, "a control line takes at most %s bytes", lim);
    }
    struct json_error je;
    cJSON *v = json_parse_checked(p, n, JSON_MAX_DEPTH, &je);
    if (!v)
        return control_fail(e, je.err, "%s", je.message);
    const cJSON *k = cJSON_GetObjectItemCaseSensitive(v, CONTROL_MEMBER);
    if (!cJSON_IsObject(v) || !cJSON_IsString(k) || !k->valuestring) {
        cJSON_Delete(v);
        return control_fail(e, -ERR_INVALID, "%s",
                            "a control line is an object whose \"coordhub\" names its kind");
    }
    *root = v;
    *name = k->valuestring;
    return 0;
}

/* The kind's name for a message, when it is short and plain enough to
 * repeat (it comes from the peer). */
static const char *control_shown(const char *name)
{
    size_t n = strlen(name);
    if (n == 0 || n > 32)
        return "";
    for (size_t i = 0; i < n; i++)
        if (!((name[i] >= 'a' && name[i] <= 'z') || name[i] == '_' || name[i] == '-'))
            return "";
    return name;
}

/* Clear *out after a fault, keeping a request's kind and, for the
 * owner's kinds (keep_token), its token: the text holding it then stays
 * with the message until control_msg_free. */
static int control_refuse(struct control_msg *out, cJSON *root, int rc, bool keep_token)
{
    enum control_kind kind = out->kind;
    bool given = out->token_given;
    memset(out, 0, sizeof(*out));
    out->kind = control_is_request_kind(kind) ? kind : CONTROL_NONE;
    if (!keep_token) {
        cJSON_Delete(root);
        return rc;
    }
    out->token_given = given;
    out->root = root;
    const cJSON *t = cJSON_GetObjectItemCaseSensitive(root, "token");
    out->token = cJSON_IsString(t) ? t->valuestring : NULL;
    return rc;
}

int control_parse_request(const char *p, size_t n, struct control_msg *out, struct control_error *e)
{
    memset(out, 0, sizeof(*out));
    memset(e, 0, sizeof(*e));
    cJSON *root = NULL;
    const char *name = "";
    int rc = control_parse_common(p, n, CONTROL_REQUEST_MAX, &root, &name, e);
    if (rc)
        return rc;
    out->kind = control_kind_find(name, FROM_CLIENT);
    if (out->kind == CONTROL_NONE) {
        const char *shown = control_shown(name);
        control_fail(e, -ERR_INVALID,
                     "unknown control line kind%s%s%s (attach, resume, admin, key, stop or call)",
                     *shown ? " \"" : "", shown, *shown ? "\"" : "");
        return control_refuse(out, root, -ERR_INVALID, false);
    }
    bool authed = out->kind == CONTROL_ADMIN || out->kind == CONTROL_KEY ||
                  out->kind == CONTROL_STOP || out->kind == CONTROL_CALL;
    if (authed) {
        const cJSON *t = cJSON_GetObjectItemCaseSensitive(root, "token");
        out->token_given = t != NULL;
        out->token = cJSON_IsString(t) ? t->valuestring : NULL;
    }
    if (out->kind == CONTROL_ATTACH || out->kind == CONTROL_RESUME)
        rc = control_parse_attach(root, &out->u.attach, e);
    else if (out->kind == CONTROL_KEY)
        rc = control_parse_key(root, &out->u.key, e);
    else if (out->kind == CONTROL_CALL)
        rc = control_parse_call(root, &out->u.call, e);
    if (rc)
        return control_refuse(out, root, rc, authed);
    out->root = root;
    return 0;
}

int control_parse_reply(const char *p, size_t n, struct control_msg *out, struct control_error *e)
{
    memset(out, 0, sizeof(*out));
    memset(e, 0, sizeof(*e));
    cJSON *root = NULL;
    const char *name = "";
    int rc = control_parse_common(p, n, CONTROL_REPLY_MAX, &root, &name, e);
    if (rc)
        return rc;
    if (cJSON_GetObjectItemCaseSensitive(root, "ok")) {
        out->kind = CONTROL_ANSWER;
        out->u.answer.of = control_kind_find(name, FROM_CLIENT);
        if (out->u.answer.of == CONTROL_NONE && strcmp(name, CONTROL_ERROR_KIND) != 0)
            rc = control_fail(e, -ERR_INVALID, "%s",
                              "an answer names the kind of request it answers, or \"error\"");
        if (rc == 0)
            rc = control_parse_answer(root, &out->u.answer, e);
    } else {
        out->kind = control_kind_find(name, FROM_HUB);
        if (out->kind == CONTROL_NONE)
            rc = control_fail(e, -ERR_INVALID, "%s",
                              "unknown control line kind (attached, session, bye, stopping, "
                              "refused, or an answer with \"ok\")");
        else if (out->kind == CONTROL_SESSION)
            rc = control_obj(root, "init", &out->u.session.init,
                             "init: must be an object (the client's initialize params)", e);
        if (rc == 0 && out->kind == CONTROL_SESSION)
            rc = control_str(root, "agentId", false, &out->u.session.agent_id,
                             "agentId: must be a string (an agent id)", e);
        if (rc == 0 && out->kind == CONTROL_REFUSED)
            rc = control_str(root, "error", false, &out->u.refused.error, "error: must be a string",
                             e);
    }
    if (rc)
        return control_refuse(out, root, rc, false);
    out->root = root;
    return 0;
}

/* Wipe every string of a tree (keys included) before it is freed. */
static void control_wipe(cJSON *v)
{
    for (; v; v = v->next) {
        if (v->valuestring)
            explicit_bzero(v->valuestring, strlen(v->valuestring));
        if (v->string && !(v->type & cJSON_StringIsConst))
            explicit_bzero(v->string, strlen(v->string));
        control_wipe(v->child);
    }
}

void control_msg_free(struct control_msg *m)
{
    if (!m || !m->root)
        return;
    control_wipe(m->root);
    cJSON_Delete(m->root);
    memset(m, 0, sizeof(*m));
}

/* ---- building ----------------------------------------------------------- */

static void control_add_str(cJSON *o, const char *name, const char *v)
{
    if (v)
        cJSON_AddStringToObject(o, name, v);
}

static void control_add_obj(cJSON *o, const char *name, const cJSON *v)
{
    if (v)
        cJSON_AddItemToObject(o, name, cJSON_Duplicate(v, 1));
}

static void control_build_key(cJSON *o, const struct control_key *k)
{
    static const char *const ops[] = {NULL, "create", "list", "revoke"};
    control_add_str(o, "op", ops[k->op]);
    control_add_str(o, "name", k->name);
    control_add_str(o, "publish", k->publish);
    control_add_str(o, "subscribe", k->subscribe);
    control_add_str(o, "state", k->state);
    if (k->require_signature)
        cJSON_AddBoolToObject(o, "requireSignature", 1);
    if (k->has_rate)
        cJSON_AddNumberToObject(o, "rate", k->rate);
    if (k->has_burst)
        cJSON_AddNumberToObject(o, "burst", (double)k->burst);
    control_add_str(o, "id", k->id);
}

static void control_build_answer(cJSON *o, const struct control_answer *a)
{
    cJSON_AddBoolToObject(o, "ok", a->ok);
    if (a->ok) {
        control_add_obj(o, "result", a->result);
        if (a->pid > 0)
            cJSON_AddNumberToObject(o, "pid", (double)a->pid);
        return;
    }
    control_add_str(o, "code", a->code ? a->code : err_name(-ERR_INVALID));
    control_add_str(o, "error", a->error ? a->error : "refused");
}

char *control_build(const struct control_msg *m)
{
    const char *name =
        m->kind == CONTROL_ANSWER ? control_kind_name(m->u.answer.of) : control_kind_name(m->kind);
    if (m->kind == CONTROL_ANSWER && !control_is_request_kind(m->u.answer.of))
        name = CONTROL_ERROR_KIND;
    if (!name)
        return NULL;
    cJSON *o = cJSON_CreateObject();
    cJSON_AddStringToObject(o, CONTROL_MEMBER, name);
    switch (m->kind) {
    case CONTROL_ATTACH:
    case CONTROL_RESUME:
        control_add_obj(o, "init", m->u.attach.init);
        control_add_str(o, "agentId", m->u.attach.agent_id);
        control_add_str(o, "agent", m->u.attach.agent);
        control_add_str(o, "cwd", m->u.attach.cwd);
        break;
    case CONTROL_KEY:
        control_build_key(o, &m->u.key);
        break;
    case CONTROL_CALL:
        control_add_str(o, "tool", m->u.call.tool);
        control_add_obj(o, "arguments", m->u.call.arguments);
        break;
    case CONTROL_SESSION:
        control_add_obj(o, "init", m->u.session.init);
        control_add_str(o, "agentId", m->u.session.agent_id);
        break;
    case CONTROL_REFUSED:
        control_add_str(o, "error", m->u.refused.error);
        break;
    case CONTROL_ANSWER:
        control_build_answer(o, &m->u.answer);
        break;
    default:
        break;
    }
    if (m->kind == CONTROL_ADMIN || m->kind == CONTROL_KEY || m->kind == CONTROL_STOP ||
        m->kind == CONTROL_CALL)
        control_add_str(o, "token", m->token);
    char *line = json_print_line(o);
    control_wipe(o);
    cJSON_Delete(o);
    return line;
}

void control_line_free(char *line)
{
    if (!line)
        return;
    explicit_bzero(line, strlen(line));
    free(line);
}

struct control_msg control_answer_ok(enum control_kind of, const cJSON *result)
{
    struct control_msg m = {.kind = CONTROL_ANSWER};
    m.u.answer.of = of;
    m.u.answer.ok = true;
    m.u.answer.result = result;
    return m;
}

struct control_msg control_answer_fail(enum control_kind of, const char *code, const char *error)
{
    struct control_msg m = {.kind = CONTROL_ANSWER};
    m.u.answer.of = of;
    m.u.answer.code = code;
    m.u.answer.error = error;
    return m;
}
