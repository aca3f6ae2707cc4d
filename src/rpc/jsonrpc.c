/* jsonrpc — framing, classification and building of JSON-RPC 2.0 messages.
 *
 * Invariants:
 *   - The framer never holds more than max + 1 bytes (the +1 leaves room
 *     for the '\r' of a CRLF line whose content is exactly max bytes).
 *     An oversize line is reported once and then skipped to its newline
 *     without being stored, so a 3 MiB line costs at most the cap.
 *   - A complete line found inside the caller's input is handed out
 *     without copying; only lines split across feeds are buffered.
 *   - Classification only reads the value; every pointer it returns is
 *     borrowed from it.
 *   - Builders print integer ids as raw integer text, so an id such as
 *     1000000000000000 is echoed exactly as sent and never as "1e+15".
 *   - After jsonrpc_parse, a number standing as an id is a cJSON number
 *     only when its text is a plain integer within ±(2^53 - 1); any other
 *     is a raw node holding its text, which no check takes for an id. */
#include "rpc/jsonrpc.h"

#include <inttypes.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/json.h"
#include "base/utf8.h"
#include "base/xmalloc.h"

/* Above this capacity the line buffer is released after each delivered
 * message instead of being kept for reuse, so idle connections that once
 * received a large message do not pin that memory. */
#define FRAMER_KEEP_CAPACITY ((size_t)64 * 1024)

void jsonrpc_framer_init(struct jsonrpc_framer *f, size_t max)
{
    f->max = max ? max : JSONRPC_MAX_MESSAGE;
    buf_init(&f->line, f->max + 1);
    f->discarding = false;
    f->delivered = false;
}

void jsonrpc_framer_deinit(struct jsonrpc_framer *f)
{
    if (!f)
        return;
    buf_deinit(&f->line);
    f->discarding = false;
    f->delivered = false;
}

/* Forget the line buffer's contents, releasing large storage. */
static void jsonrpc_framer_drop_line(struct jsonrpc_framer *f)
{
    if (f->line.cap > FRAMER_KEEP_CAPACITY)
        buf_deinit(&f->line);
    else
        buf_reset(&f->line);
    f->delivered = false;
}

static bool jsonrpc_is_blank(const char *p, size_t n)
{
    for (size_t i = 0; i < n; i++)
        if (p[i] != ' ' && p[i] != '\t' && p[i] != '\r')
            return false;
    return true;
}

enum jsonrpc_frame jsonrpc_framer_next(struct jsonrpc_framer *f, const char **data, size_t *n,
                                       const char **msg, size_t *len)
{
    if (f->delivered)
        jsonrpc_framer_drop_line(f);
    while (*n > 0) {
        const char *p = *data;
        const char *nl = memchr(p, '\n', *n);
        size_t chunk = nl ? (size_t)(nl - p) : *n;
        size_t used = nl ? chunk + 1 : chunk;

        *data += used;
        *n -= used;
        if (f->discarding) {
            if (nl)
                f->discarding = false;
            continue;
        }
        if (f->line.len + chunk > f->max + 1) {
            /* Passed the cap: report now, skip the rest of the line. */
            jsonrpc_framer_drop_line(f);
            f->discarding = nl == NULL;
            return JSONRPC_FRAME_OVERSIZE;
        }
        if (!nl) {
            if (buf_append(&f->line, p, chunk) != 0) {
                jsonrpc_framer_drop_line(f);
                f->discarding = true;
                return JSONRPC_FRAME_OVERSIZE;
            }
            return JSONRPC_FRAME_NEED_MORE;
        }
        const char *lp = p;
        size_t ll = chunk;
        if (f->line.len > 0) {
            if (buf_append(&f->line, p, chunk) != 0) {
                jsonrpc_framer_drop_line(f);
                return JSONRPC_FRAME_OVERSIZE;
            }
            lp = f->line.data;
            ll = f->line.len;
            f->delivered = true; /* dropped at the next call */
        }
        if (ll > 0 && lp[ll - 1] == '\r')
            ll--;
        if (ll > f->max) {
            jsonrpc_framer_drop_line(f);
            return JSONRPC_FRAME_OVERSIZE;
        }
        if (jsonrpc_is_blank(lp, ll)) {
            if (f->delivered)
                jsonrpc_framer_drop_line(f);
            continue;
        }
        *msg = lp;
        *len = ll;
        return JSONRPC_FRAME_MESSAGE;
    }
    return JSONRPC_FRAME_NEED_MORE;
}

enum jsonrpc_frame jsonrpc_framer_finish(struct jsonrpc_framer *f, const char **msg, size_t *len)
{
    if (f->delivered)
        jsonrpc_framer_drop_line(f);
    f->discarding = false;
    size_t ll = f->line.len;
    if (ll > 0 && f->line.data[ll - 1] == '\r')
        ll--;
    if (ll == 0 || jsonrpc_is_blank(f->line.data, ll)) {
        jsonrpc_framer_drop_line(f);
        return JSONRPC_FRAME_NEED_MORE;
    }
    if (ll > f->max) {
        jsonrpc_framer_drop_line(f);
        return JSONRPC_FRAME_OVERSIZE;
    }
    f->delivered = true;
    *msg = f->line.data;
    *len = ll;
    return JSONRPC_FRAME_MESSAGE;
}

size_t jsonrpc_framer_pending(const struct jsonrpc_framer *f)
{
    return f->delivered ? 0 : f->line.len;
}

/* ---- classification --------------------------------------------------- */

static enum jsonrpc_kind jsonrpc_msg_invalid(struct jsonrpc_msg *out, int code, const char *message,
                                             const cJSON *id)
{
    out->kind = JSONRPC_KIND_INVALID;
    out->code = code;
    out->message = message;
    out->id = id;
    out->method = NULL;
    out->params = NULL;
    return out->kind;
}

cJSON *jsonrpc_parse(const char *p, size_t n, struct jsonrpc_msg *out)
{
    struct json_error je;
    cJSON *v = json_parse_checked(p, n, JSON_MAX_DEPTH, &je);
    out->refused_id = NULL;
    if (v) {
        jsonrpc_keep_id_text(v, p, n);
        return v;
    }
    if (je.err == -ERR_INVALID) {
        /* JSON, but not a request the hub takes: answer it, with its id
         * when that is certain, so the client's request does not wait. */
        cJSON *id = jsonrpc_refused_id(p, n);
        jsonrpc_msg_invalid(out, JSONRPC_INVALID_REQUEST, out->detail, id);
        out->refused_id = id;
        snprintf(out->detail, sizeof(out->detail), "Invalid Request: %s", je.message);
    } else if (je.err == -ERR_TOO_LARGE) {
        jsonrpc_msg_invalid(out, JSONRPC_PARSE_ERROR,
                            "Parse error: JSON nested deeper than 64 levels", NULL);
    } else if (!utf8_valid(p, n)) {
        jsonrpc_msg_invalid(out, JSONRPC_PARSE_ERROR, "Parse error: message is not valid UTF-8",
                            NULL);
    } else {
        jsonrpc_msg_invalid(out, JSONRPC_PARSE_ERROR, "Parse error: message is not valid JSON",
                            NULL);
    }
    return NULL;
}

bool jsonrpc_id_valid(const cJSON *v)
{
    if (cJSON_IsString(v))
        return true;
    if (!cJSON_IsNumber(v) || !isfinite(v->valuedouble))
        return false;
    double d = v->valuedouble;
    return d == floor(d) && fabs(d) <= JSONRPC_MAX_SAFE_ID;
}

/* True when the len bytes at t are a JSON integer literal:
 * -?(0|[1-9][0-9]*). */
static bool jsonrpc_id_text_is_integer(const char *t, size_t len)
{
    size_t i = len > 0 && t[0] == '-';
    if (i == len || (t[i] == '0' && len - i > 1))
        return false;
    for (; i < len; i++)
        if (t[i] < '0' || t[i] > '9')
            return false;
    return true;
}

/* True when the len bytes at t are an id jsonrpc_id_valid takes as a
 * number, written so that its double prints it back the same: an integer
 * literal within ±(2^53 - 1), not "-0". */
static bool jsonrpc_id_text_is_plain(const char *t, size_t len)
{
    if (!jsonrpc_id_text_is_integer(t, len) || (len == 2 && t[0] == '-' && t[1] == '0'))
        return false;
    size_t digits = len - (t[0] == '-');
    const char *d = t + (len - digits);
    static const char max[] = "9007199254740991";
    if (digits != sizeof(max) - 1)
        return digits < sizeof(max) - 1;
    return memcmp(d, max, digits) <= 0;
}

bool jsonrpc_id_refused_integer(const cJSON *v)
{
    if (!cJSON_IsRaw(v) || !v->valuestring)
        return false;
    size_t len = strlen(v->valuestring);
    return jsonrpc_id_text_is_integer(v->valuestring, len) &&
           !jsonrpc_id_text_is_plain(v->valuestring, len);
}

/* ---- the text of numeric ids ------------------------------------------- */

/* Where a value sits in a message: what its members are. */
enum id_role {
    ID_ROLE_OTHER = 0, /* nothing below is an id */
    ID_ROLE_MESSAGE,   /* a message: "id" and "params" */
    ID_ROLE_PARAMS,    /* its params: "requestId" and "_meta" */
    ID_ROLE_META,      /* params._meta: "progressToken" */
    ID_ROLE_ID,        /* an id itself */
};

static enum id_role jsonrpc_id_role_of_member(enum id_role parent, const char *key)
{
    if (!key)
        return ID_ROLE_OTHER;
    if (parent == ID_ROLE_MESSAGE)
        return strcmp(key, "id") == 0       ? ID_ROLE_ID
               : strcmp(key, "params") == 0 ? ID_ROLE_PARAMS
                                            : ID_ROLE_OTHER;
    if (parent == ID_ROLE_PARAMS)
        return strcmp(key, "requestId") == 0 ? ID_ROLE_ID
               : strcmp(key, "_meta") == 0   ? ID_ROLE_META
                                             : ID_ROLE_OTHER;
    if (parent == ID_ROLE_META)
        return strcmp(key, "progressToken") == 0 ? ID_ROLE_ID : ID_ROLE_OTHER;
    return ID_ROLE_OTHER;
}

/* The role of v's children: a message's members, a batch's messages. */
static enum id_role jsonrpc_id_role_child(const cJSON *v, enum id_role role, const cJSON *child,
                                          bool top)
{
    if (cJSON_IsArray(v))
        return top ? ID_ROLE_MESSAGE : ID_ROLE_OTHER;
    return cJSON_IsObject(v) ? jsonrpc_id_role_of_member(role, child->string) : ID_ROLE_OTHER;
}

/* How many numbers of v stand as ids (the walk below stops after them). */
static size_t jsonrpc_id_count_numbers(const cJSON *v, enum id_role role, bool top)
{
    if (role == ID_ROLE_ID)
        return cJSON_IsNumber(v) ? 1 : 0;
    size_t k = 0;
    for (const cJSON *c = v->child; c && (cJSON_IsArray(v) || cJSON_IsObject(v)); c = c->next) {
        enum id_role r = jsonrpc_id_role_child(v, role, c, top);
        if (r != ID_ROLE_OTHER)
            k += jsonrpc_id_count_numbers(c, r, false);
    }
    return k;
}

/* A number id to replace by its text. */
struct id_fix {
    cJSON *parent;
    cJSON *node;
    size_t off, len;
};

struct id_walk {
    const char *p;
    size_t n, pos;    /* the text and where the next number is looked for */
    size_t want, got; /* id numbers in the tree, and those passed so far */
    struct id_fix *fix;
    size_t nfix;
};

/* The next number token of the text from w->pos (strings skipped whole):
 * its offset and length; w->pos moves past it. cJSON builds its tree in
 * document order, so the k-th number of a pre-order walk is the k-th
 * number token of the text. */
static void jsonrpc_id_next_number(struct id_walk *w, size_t *off, size_t *len)
{
    size_t i = w->pos;
    while (i < w->n) {
        char c = w->p[i];
        if (c == '"') {
            for (i++; i < w->n && w->p[i] != '"'; i++)
                if (w->p[i] == '\\')
                    i++;
            i++;
            continue;
        }
        if (c == '-' || (c >= '0' && c <= '9'))
            break;
        i++;
    }
    size_t start = i;
    while (i < w->n && strchr("+-.0123456789eE", w->p[i]) && w->p[i] != '\0')
        i++;
    *off = start;
    *len = i - start;
    w->pos = i;
}

/* Pre-order over v (depth bounded by the parse), pairing each number with
 * its text and noting the ids whose text is not plain. False once every
 * id number is passed. */
static bool jsonrpc_id_walk_value(struct id_walk *w, cJSON *parent, cJSON *v, enum id_role role,
                                  bool top)
{
    if (cJSON_IsNumber(v)) {
        size_t off, len;
        jsonrpc_id_next_number(w, &off, &len);
        if (role == ID_ROLE_ID) {
            w->got++;
            if (!jsonrpc_id_text_is_plain(w->p + off, len)) {
                w->fix = xrealloc(w->fix, (w->nfix + 1) * sizeof(*w->fix));
                w->fix[w->nfix++] = (struct id_fix){parent, v, off, len};
            }
        }
        return w->got < w->want;
    }
    if (!cJSON_IsArray(v) && !cJSON_IsObject(v))
        return true;
    for (cJSON *c = v->child; c; c = c->next)
        if (!jsonrpc_id_walk_value(w, v, c, jsonrpc_id_role_child(v, role, c, top), false))
            return false;
    return true;
}

void jsonrpc_keep_id_text(cJSON *v, const char *p, size_t n)
{
    if (!v || !p)
        return;
    enum id_role role = cJSON_IsObject(v) ? ID_ROLE_MESSAGE : ID_ROLE_OTHER;
    struct id_walk w = {.p = p, .n = n, .want = jsonrpc_id_count_numbers(v, role, true)};
    if (w.want == 0)
        return;
    jsonrpc_id_walk_value(&w, NULL, v, role, true);
    for (size_t i = 0; i < w.nfix; i++) {
        struct id_fix *f = &w.fix[i];
        char *text = xmalloc(f->len + 1);
        memcpy(text, p + f->off, f->len);
        text[f->len] = '\0';
        cJSON *raw = cJSON_CreateRaw(text);
        free(text);
        if (!raw)
            abort(); /* only fails on OOM */
        /* The member keeps its key (the node's, moved). */
        raw->string = f->node->string;
        f->node->string = NULL;
        cJSON_ReplaceItemViaPointer(f->parent, f->node, raw);
    }
    free(w.fix);
}

cJSON *jsonrpc_refused_id(const char *p, size_t n)
{
    cJSON *id = json_refused_member(p, n, "id");
    if (cJSON_IsNumber(id)) {
        /* Its text, which the double may not keep: the text parses (it
         * is well-formed JSON), and "id" is in it once. */
        cJSON *root = cJSON_ParseWithLength(p, n);
        jsonrpc_keep_id_text(root, p, n);
        cJSON_Delete(id);
        id = cJSON_Duplicate(cJSON_GetObjectItemCaseSensitive(root, "id"), 0);
        cJSON_Delete(root);
    }
    if (id && !jsonrpc_id_valid(id) && !jsonrpc_id_refused_integer(id)) {
        cJSON_Delete(id);
        id = NULL;
    }
    return id;
}

bool jsonrpc_id_equal(const cJSON *a, const cJSON *b)
{
    if (!jsonrpc_id_valid(a) || !jsonrpc_id_valid(b))
        return false;
    if (cJSON_IsString(a) && cJSON_IsString(b))
        return strcmp(a->valuestring, b->valuestring) == 0;
    if (cJSON_IsNumber(a) && cJSON_IsNumber(b))
        return a->valuedouble == b->valuedouble;
    return false;
}

cJSON *jsonrpc_id_dup(const cJSON *id)
{
    if (!jsonrpc_id_valid(id))
        return NULL;
    cJSON *c = cJSON_Duplicate(id, 0);
    if (!c)
        abort(); /* only fails on OOM */
    return c;
}

enum jsonrpc_kind jsonrpc_classify(const cJSON *v, bool allow_batch, struct jsonrpc_msg *out)
{
    memset(out, 0, sizeof(*out));
    if (cJSON_IsArray(v)) {
        int n = cJSON_GetArraySize(v);
        if (!allow_batch)
            return jsonrpc_msg_invalid(
                out, JSONRPC_INVALID_REQUEST,
                "Invalid Request: batches are not supported by this protocol "
                "version",
                NULL);
        if (n == 0)
            return jsonrpc_msg_invalid(out, JSONRPC_INVALID_REQUEST, "Invalid Request: empty batch",
                                       NULL);
        if (n > JSONRPC_MAX_BATCH)
            return jsonrpc_msg_invalid(out, JSONRPC_INVALID_REQUEST,
                                       "Invalid Request: batch has more than 1024 messages", NULL);
        out->kind = JSONRPC_KIND_BATCH;
        return out->kind;
    }
    if (!cJSON_IsObject(v))
        return jsonrpc_msg_invalid(out, JSONRPC_INVALID_REQUEST,
                                   "Invalid Request: a message must be a JSON object", NULL);

    const cJSON *id = cJSON_GetObjectItemCaseSensitive(v, "id");
    bool valid = jsonrpc_id_valid(id);
    /* A refused integer id is echoed as sent, so its request is answered. */
    const cJSON *echo = valid || jsonrpc_id_refused_integer(id) ? id : NULL;
    const cJSON *ver = cJSON_GetObjectItemCaseSensitive(v, "jsonrpc");
    if (!cJSON_IsString(ver) || strcmp(ver->valuestring, "2.0") != 0)
        return jsonrpc_msg_invalid(out, JSONRPC_INVALID_REQUEST,
                                   "Invalid Request: \"jsonrpc\" must be \"2.0\"", echo);

    const cJSON *method = cJSON_GetObjectItemCaseSensitive(v, "method");
    if (method) {
        if (!cJSON_IsString(method))
            return jsonrpc_msg_invalid(out, JSONRPC_INVALID_REQUEST,
                                       "Invalid Request: \"method\" must be a string", echo);
        if (id && !valid)
            return jsonrpc_msg_invalid(out, JSONRPC_INVALID_REQUEST, JSONRPC_ID_REFUSED, echo);
        const cJSON *params = cJSON_GetObjectItemCaseSensitive(v, "params");
        if (params && !cJSON_IsObject(params) && !cJSON_IsArray(params))
            return jsonrpc_msg_invalid(out, JSONRPC_INVALID_REQUEST,
                                       "Invalid Request: \"params\" must be an object", echo);
        out->kind = id ? JSONRPC_KIND_REQUEST : JSONRPC_KIND_NOTIFICATION;
        out->id = echo;
        out->method = method->valuestring;
        out->params = params;
        return out->kind;
    }

    bool has_result = cJSON_GetObjectItemCaseSensitive(v, "result") != NULL;
    bool has_error = cJSON_GetObjectItemCaseSensitive(v, "error") != NULL;
    if (has_result != has_error && (valid || cJSON_IsNull(id))) {
        out->kind = JSONRPC_KIND_RESPONSE;
        out->id = valid ? id : NULL;
        return out->kind;
    }
    if (has_result || has_error)
        return jsonrpc_msg_invalid(out, JSONRPC_INVALID_REQUEST,
                                   "Invalid Request: a response needs an id and exactly one of "
                                   "\"result\" or \"error\"",
                                   echo);
    return jsonrpc_msg_invalid(out, JSONRPC_INVALID_REQUEST, "Invalid Request: missing \"method\"",
                               echo);
}

/* ---- building ---------------------------------------------------------- */

/* Raw integer text for integers so that cJSON's %g formatting never turns
 * 10^15 into "1e+15". */
cJSON *jsonrpc_id_to_wire(const cJSON *id)
{
    if (jsonrpc_id_refused_integer(id))
        return cJSON_CreateRaw(id->valuestring);
    if (!jsonrpc_id_valid(id))
        return cJSON_CreateNull();
    if (cJSON_IsString(id))
        return cJSON_CreateString(id->valuestring);
    char num[32];
    snprintf(num, sizeof(num), "%" PRId64, (int64_t)id->valuedouble);
    return cJSON_CreateRaw(num);
}

static cJSON *jsonrpc_envelope(void)
{
    cJSON *o = cJSON_CreateObject();
    if (!o)
        abort();
    cJSON_AddStringToObject(o, "jsonrpc", "2.0");
    return o;
}

static char *jsonrpc_print_and_free(cJSON *o)
{
    char *s = json_print(o);
    cJSON_Delete(o);
    return s;
}

char *jsonrpc_build_result(const cJSON *id, cJSON *result)
{
    cJSON *o = jsonrpc_envelope();
    cJSON_AddItemToObject(o, "id", jsonrpc_id_to_wire(id));
    cJSON_AddItemToObject(o, "result", result ? result : cJSON_CreateObject());
    return jsonrpc_print_and_free(o);
}

char *jsonrpc_build_error(const cJSON *id, int code, const char *message, cJSON *data)
{
    cJSON *o = jsonrpc_envelope();
    cJSON_AddItemToObject(o, "id", jsonrpc_id_to_wire(id));
    cJSON *e = cJSON_AddObjectToObject(o, "error");
    cJSON_AddNumberToObject(e, "code", code);
    cJSON_AddStringToObject(e, "message", message ? message : "");
    if (data)
        cJSON_AddItemToObject(e, "data", data);
    return jsonrpc_print_and_free(o);
}

char *jsonrpc_build_notification(const char *method, cJSON *params)
{
    cJSON *o = jsonrpc_envelope();
    cJSON_AddStringToObject(o, "method", method);
    if (params)
        cJSON_AddItemToObject(o, "params", params);
    return jsonrpc_print_and_free(o);
}
