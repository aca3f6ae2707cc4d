/* schema_check — JSON-Schema subset validation for tool arguments and
 * results (patterns are matched by schema_pattern.c).
 *
 * Design: a failing value is reported with the *whole* constraint of its
 * schema ("must be an integer between 1 and 86400"), not just the keyword
 * that tripped, because the reader is an agent that must correct the call
 * in one go. The first failure wins; properties are checked in schema
 * order after unknown and missing names, so messages are deterministic.
 *
 * Invariants:
 *   - Names echoed from the peer are truncated (NAME_ECHO_MAX bytes) so a
 *     hostile key cannot blow up the error message.
 *   - Validation only reads its inputs. */
#include "rpc/schema_check.h"

#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/buf.h"
#include "base/xmalloc.h"

#define NAME_ECHO_MAX 64

/* ---- descriptions ------------------------------------------------------- */

static const cJSON *schema_check_kw(const cJSON *schema, const char *key)
{
    return cJSON_GetObjectItemCaseSensitive(schema, key);
}

/* Append a number as an integer when it is one. */
static void schema_check_put_num(struct buf *b, double d)
{
    int rc;
    if (d == floor(d) && fabs(d) < 1e15)
        rc = buf_printf(b, "%lld", (long long)d);
    else
        rc = buf_printf(b, "%g", d);
    (void)rc; /* uncapped buffer: cannot fail */
}

static void schema_check_put(struct buf *b, const char *s)
{
    int rc = buf_append_str(b, s);
    (void)rc; /* uncapped buffer: cannot fail */
}

/* Append a peer-chosen name, cut at NAME_ECHO_MAX bytes on a UTF-8
 * boundary. */
static void schema_check_put_name(struct buf *b, const char *s)
{
    size_t n = strlen(s);
    if (n <= NAME_ECHO_MAX) {
        schema_check_put(b, s);
        return;
    }
    n = NAME_ECHO_MAX;
    while (n > 0 && ((unsigned char)s[n] & 0xC0) == 0x80)
        n--;
    int rc = buf_append(b, s, n);
    (void)rc;
    schema_check_put(b, "...");
}

static void schema_check_describe_range(struct buf *b, const cJSON *schema)
{
    const cJSON *lo = schema_check_kw(schema, "minimum"), *hi = schema_check_kw(schema, "maximum");
    if (cJSON_IsNumber(lo) && cJSON_IsNumber(hi)) {
        schema_check_put(b, " between ");
        schema_check_put_num(b, lo->valuedouble);
        schema_check_put(b, " and ");
        schema_check_put_num(b, hi->valuedouble);
    } else if (cJSON_IsNumber(lo)) {
        schema_check_put(b, " >= ");
        schema_check_put_num(b, lo->valuedouble);
    } else if (cJSON_IsNumber(hi)) {
        schema_check_put(b, " <= ");
        schema_check_put_num(b, hi->valuedouble);
    }
}

/* " of 1 to 5 <unit>" / " of at most 5 <unit>" / " of at least 2 <unit>". */
static void schema_check_describe_count(struct buf *b, const cJSON *lo, const cJSON *hi,
                                        const char *unit)
{
    bool has_lo = cJSON_IsNumber(lo) && lo->valuedouble > 0;
    bool has_hi = cJSON_IsNumber(hi);
    if (has_lo && has_hi) {
        schema_check_put(b, " of ");
        schema_check_put_num(b, lo->valuedouble);
        schema_check_put(b, " to ");
        schema_check_put_num(b, hi->valuedouble);
    } else if (has_hi) {
        schema_check_put(b, " of at most ");
        schema_check_put_num(b, hi->valuedouble);
    } else if (has_lo) {
        schema_check_put(b, " of at least ");
        schema_check_put_num(b, lo->valuedouble);
    } else {
        return;
    }
    schema_check_put(b, " ");
    schema_check_put(b, unit);
}

static void schema_check_describe_type(struct buf *b, const cJSON *schema, const char *type)
{
    if (strcmp(type, "integer") == 0 || strcmp(type, "number") == 0) {
        schema_check_put(b, type[0] == 'i' ? "an integer" : "a number");
        schema_check_describe_range(b, schema);
    } else if (strcmp(type, "string") == 0) {
        const cJSON *lo = schema_check_kw(schema, "minLength"),
                    *hi = schema_check_kw(schema, "maxLength");
        const cJSON *pat = schema_check_kw(schema, "pattern");
        if (cJSON_IsNumber(lo) && lo->valuedouble == 1 && !hi) {
            schema_check_put(b, "a non-empty string");
        } else {
            schema_check_put(b, "a string");
            schema_check_describe_count(b, lo, hi, "characters");
        }
        if (cJSON_IsString(pat)) {
            schema_check_put(b, " matching ");
            schema_check_put(b, pat->valuestring);
        }
    } else if (strcmp(type, "array") == 0) {
        schema_check_put(b, "an array");
        schema_check_describe_count(b, schema_check_kw(schema, "minItems"),
                                    schema_check_kw(schema, "maxItems"), "items");
    } else if (strcmp(type, "object") == 0) {
        schema_check_put(b, "an object");
        const cJSON *mp = schema_check_kw(schema, "maxProperties");
        if (cJSON_IsNumber(mp)) {
            schema_check_put(b, " with at most ");
            schema_check_put_num(b, mp->valuedouble);
            schema_check_put(b, " properties");
        }
    } else if (strcmp(type, "boolean") == 0) {
        schema_check_put(b, "a boolean");
    } else {
        schema_check_put(b, type);
    }
}

/* The full constraint of schema in words: "an integer between 1 and 60",
 * "one of exclusive, shared", "an integer >= 0 or a string matching …". */
static void schema_check_describe(struct buf *b, const cJSON *schema)
{
    const cJSON *en = schema_check_kw(schema, "enum");
    if (cJSON_IsArray(en)) {
        schema_check_put(b, "one of ");
        const cJSON *e;
        bool first = true;
        cJSON_ArrayForEach(e, en)
        {
            if (!first)
                schema_check_put(b, ", ");
            first = false;
            if (cJSON_IsString(e)) {
                schema_check_put(b, e->valuestring);
            } else {
                char *t = cJSON_PrintUnformatted(e);
                schema_check_put(b, t ? t : "?");
                free(t);
            }
        }
        return;
    }
    const cJSON *type = schema_check_kw(schema, "type");
    if (cJSON_IsString(type)) {
        schema_check_describe_type(b, schema, type->valuestring);
    } else if (cJSON_IsArray(type)) {
        const cJSON *t;
        bool first = true;
        cJSON_ArrayForEach(t, type)
        {
            if (!cJSON_IsString(t))
                continue;
            if (!first)
                schema_check_put(b, " or ");
            first = false;
            schema_check_describe_type(b, schema, t->valuestring);
        }
    } else {
        schema_check_put(b, "a valid value");
    }
}

/* ---- validation --------------------------------------------------------- */

struct check {
    struct buf path; /* location of the value being checked: "files[2]" */
    bool args;       /* messages about arguments (true) or a result */
    char *msg;       /* owned: the first failure */
};

static bool schema_check_node(struct check *c, const cJSON *schema, const cJSON *v);

/* Start a message with its subject: "arguments"/"result" for the root
 * value, "argument 'files[2]'"/"result 'locks[0].token'" below it. */
static void schema_check_msg_subject(struct check *c, struct buf *b)
{
    if (c->path.len == 0) {
        schema_check_put(b, c->args ? "arguments" : "result");
        return;
    }
    schema_check_put(b, c->args ? "argument '" : "result '");
    schema_check_put(b, c->path.data);
    schema_check_put(b, "'");
}

static bool schema_check_fail_with(struct check *c, struct buf *b)
{
    free(c->msg);
    c->msg = buf_take(b);
    return false;
}

/* "<subject> must be <description of schema>". */
static bool schema_check_fail_desc(struct check *c, const cJSON *schema)
{
    struct buf b;
    buf_init(&b, 0);
    schema_check_msg_subject(c, &b);
    schema_check_put(&b, c->path.len ? ": must be " : " must be ");
    schema_check_describe(&b, schema);
    return schema_check_fail_with(c, &b);
}

/* A problem with a member name of the object at the current path. what
 * is "unknown" or "missing required". */
static bool schema_check_fail_member(struct check *c, const char *what, const char *name)
{
    struct buf b;
    buf_init(&b, 0);
    if (c->path.len == 0 && c->args) {
        schema_check_put(&b, what);
        schema_check_put(&b, " argument '");
    } else {
        schema_check_msg_subject(c, &b);
        schema_check_put(&b, ": ");
        schema_check_put(&b, what);
        schema_check_put(&b, " property '");
    }
    schema_check_put_name(&b, name);
    schema_check_put(&b, "'");
    return schema_check_fail_with(c, &b);
}

static bool schema_check_fail_exactly_one(struct check *c, const cJSON *names, int present)
{
    struct buf b;
    buf_init(&b, 0);
    if (c->path.len) {
        schema_check_msg_subject(c, &b);
        schema_check_put(&b, ": ");
    }
    schema_check_put(&b, "exactly one of ");
    int n = cJSON_GetArraySize(names), i = 0;
    const cJSON *nm;
    cJSON_ArrayForEach(nm, names)
    {
        if (i > 0)
            schema_check_put(&b, i == n - 1 ? " or " : ", ");
        schema_check_put(&b, "'");
        schema_check_put(&b, cJSON_IsString(nm) ? nm->valuestring : "?");
        schema_check_put(&b, "'");
        i++;
    }
    schema_check_put(&b, present == 0 ? " is required (got neither)"
                                      : " is required (got more than one)");
    return schema_check_fail_with(c, &b);
}

static size_t schema_check_path_push_key(struct check *c, const char *key)
{
    size_t mark = c->path.len;
    if (mark)
        schema_check_put(&c->path, ".");
    schema_check_put_name(&c->path, key);
    return mark;
}

static size_t schema_check_path_push_index(struct check *c, int i)
{
    size_t mark = c->path.len;
    int rc = buf_printf(&c->path, "[%d]", i);
    (void)rc;
    return mark;
}

static void schema_check_path_pop(struct check *c, size_t mark)
{
    c->path.len = mark;
    if (c->path.data)
        c->path.data[mark] = '\0';
}

static bool schema_check_type_is(const char *type, const cJSON *v)
{
    if (strcmp(type, "object") == 0)
        return cJSON_IsObject(v);
    if (strcmp(type, "array") == 0)
        return cJSON_IsArray(v);
    if (strcmp(type, "string") == 0)
        return cJSON_IsString(v);
    if (strcmp(type, "boolean") == 0)
        return cJSON_IsBool(v);
    if (strcmp(type, "null") == 0)
        return cJSON_IsNull(v);
    if (!cJSON_IsNumber(v) || !isfinite(v->valuedouble))
        return false;
    if (strcmp(type, "number") == 0)
        return true;
    if (strcmp(type, "integer") == 0)
        return v->valuedouble == floor(v->valuedouble);
    return false;
}

static bool schema_check_type_ok(const cJSON *type, const cJSON *v)
{
    if (!type)
        return true;
    if (cJSON_IsString(type))
        return schema_check_type_is(type->valuestring, v);
    const cJSON *t;
    cJSON_ArrayForEach(t, type)
    {
        if (cJSON_IsString(t) && schema_check_type_is(t->valuestring, v))
            return true;
    }
    return false;
}

/* Code points in a (valid UTF-8) string. */
static size_t schema_check_utf8_length(const char *s)
{
    size_t n = 0;
    for (; *s; s++)
        if (((unsigned char)*s & 0xC0) != 0x80)
            n++;
    return n;
}

/* In args mode, a null member counts as absent. */
static bool schema_check_member_absent(const struct check *c, const cJSON *m)
{
    return !m || (c->args && cJSON_IsNull(m));
}

static bool schema_check_members(struct check *c, const cJSON *schema, const cJSON *v)
{
    const cJSON *props = schema_check_kw(schema, "properties");
    const cJSON *addl = schema_check_kw(schema, "additionalProperties");
    const cJSON *maxp = schema_check_kw(schema, "maxProperties");
    const cJSON *m;

    if (cJSON_IsNumber(maxp) && cJSON_GetArraySize(v) > maxp->valuedouble)
        return schema_check_fail_desc(c, schema);
    cJSON_ArrayForEach(m, v)
    {
        if (cJSON_GetObjectItemCaseSensitive(props, m->string))
            continue;
        if (cJSON_IsFalse(addl))
            return schema_check_fail_member(c, "unknown", m->string);
        if (cJSON_IsObject(addl) && !schema_check_member_absent(c, m)) {
            size_t mark = schema_check_path_push_key(c, m->string);
            bool ok = schema_check_node(c, addl, m);
            schema_check_path_pop(c, mark);
            if (!ok)
                return false;
        }
    }
    const cJSON *req;
    cJSON_ArrayForEach(req, schema_check_kw(schema, "required"))
    {
        if (cJSON_IsString(req) &&
            schema_check_member_absent(c, cJSON_GetObjectItemCaseSensitive(v, req->valuestring)))
            return schema_check_fail_member(c, "missing required", req->valuestring);
    }
    const cJSON *one = schema_check_kw(schema, "x-exactlyOneOf");
    if (cJSON_IsArray(one)) {
        int present = 0;
        const cJSON *nm;
        cJSON_ArrayForEach(nm, one)
        {
            if (cJSON_IsString(nm) && !schema_check_member_absent(
                                          c, cJSON_GetObjectItemCaseSensitive(v, nm->valuestring)))
                present++;
        }
        if (present != 1)
            return schema_check_fail_exactly_one(c, one, present);
    }
    const cJSON *p;
    cJSON_ArrayForEach(p, props)
    {
        m = cJSON_GetObjectItemCaseSensitive(v, p->string);
        if (schema_check_member_absent(c, m))
            continue;
        size_t mark = schema_check_path_push_key(c, p->string);
        bool ok = schema_check_node(c, p, m);
        schema_check_path_pop(c, mark);
        if (!ok)
            return false;
    }
    return true;
}

static bool schema_check_node(struct check *c, const cJSON *schema, const cJSON *v)
{
    if (!schema_check_type_ok(schema_check_kw(schema, "type"), v))
        return schema_check_fail_desc(c, schema);
    const cJSON *en = schema_check_kw(schema, "enum");
    if (cJSON_IsArray(en)) {
        bool found = false;
        const cJSON *e;
        cJSON_ArrayForEach(e, en)
        {
            if (cJSON_Compare(e, v, 1)) {
                found = true;
                break;
            }
        }
        if (!found)
            return schema_check_fail_desc(c, schema);
    }
    if (cJSON_IsNumber(v)) {
        const cJSON *lo = schema_check_kw(schema, "minimum"),
                    *hi = schema_check_kw(schema, "maximum");
        if ((cJSON_IsNumber(lo) && v->valuedouble < lo->valuedouble) ||
            (cJSON_IsNumber(hi) && v->valuedouble > hi->valuedouble))
            return schema_check_fail_desc(c, schema);
    } else if (cJSON_IsString(v)) {
        const cJSON *lo = schema_check_kw(schema, "minLength"),
                    *hi = schema_check_kw(schema, "maxLength");
        const cJSON *pat = schema_check_kw(schema, "pattern");
        size_t len = schema_check_utf8_length(v->valuestring);
        if ((cJSON_IsNumber(lo) && (double)len < lo->valuedouble) ||
            (cJSON_IsNumber(hi) && (double)len > hi->valuedouble))
            return schema_check_fail_desc(c, schema);
        if (cJSON_IsString(pat) &&
            schema_pattern_match(pat->valuestring, v->valuestring, strlen(v->valuestring)) != 1)
            return schema_check_fail_desc(c, schema);
    } else if (cJSON_IsArray(v)) {
        const cJSON *lo = schema_check_kw(schema, "minItems"),
                    *hi = schema_check_kw(schema, "maxItems");
        int n = cJSON_GetArraySize(v);
        if ((cJSON_IsNumber(lo) && n < lo->valuedouble) ||
            (cJSON_IsNumber(hi) && n > hi->valuedouble))
            return schema_check_fail_desc(c, schema);
        const cJSON *items = schema_check_kw(schema, "items");
        if (cJSON_IsObject(items)) {
            int i = 0;
            const cJSON *e;
            cJSON_ArrayForEach(e, v)
            {
                size_t mark = schema_check_path_push_index(c, i++);
                bool ok = schema_check_node(c, items, e);
                schema_check_path_pop(c, mark);
                if (!ok)
                    return false;
            }
        }
    } else if (cJSON_IsObject(v)) {
        return schema_check_members(c, schema, v);
    }
    return true;
}

static bool schema_check_run(const cJSON *schema, const cJSON *v, bool args, char **msg)
{
    struct check c;
    buf_init(&c.path, 0);
    c.args = args;
    c.msg = NULL;
    bool ok = schema_check_node(&c, schema, v);
    buf_deinit(&c.path);
    if (ok) {
        free(c.msg);
        *msg = NULL;
    } else {
        *msg = c.msg;
    }
    return ok;
}

bool schema_check_args(const cJSON *schema, const cJSON *args, char **msg)
{
    if (!args) {
        cJSON *empty = cJSON_CreateObject();
        bool ok = schema_check_run(schema, empty, true, msg);
        cJSON_Delete(empty);
        return ok;
    }
    return schema_check_run(schema, args, true, msg);
}

bool schema_check_value(const cJSON *schema, const cJSON *value, char **msg)
{
    return schema_check_run(schema, value, false, msg);
}

/* ---- schema self-check -------------------------------------------------- */

static const char *const known_keywords[] = {
    "type",
    "enum",
    "minimum",
    "maximum",
    "minLength",
    "maxLength",
    "pattern",
    "properties",
    "required",
    "items",
    "minItems",
    "maxItems",
    "title",
    "default",
    "examples",
    "description",
    "maxProperties",
    "x-exactlyOneOf",
    "additionalProperties",
};

static const char *const known_types[] = {"object", "array",   "string", "integer",
                                          "number", "boolean", "null"};

static bool schema_check_in_list(const char *s, const char *const *list, size_t n)
{
    for (size_t i = 0; i < n; i++)
        if (strcmp(s, list[i]) == 0)
            return true;
    return false;
}

static bool schema_check_unsupported(struct buf *path, const char *what, const char *key,
                                     char **msg)
{
    struct buf b;
    buf_init(&b, 0);
    int rc = buf_printf(&b, "%s '%s' at '%s'", what, key, path->len ? path->data : "/");
    (void)rc;
    *msg = buf_take(&b);
    return false;
}

static bool schema_check_supported_at(const cJSON *schema, struct buf *path, char **msg);

static bool schema_check_supported_child(const cJSON *sub, struct buf *path, const char *step,
                                         char **msg)
{
    size_t mark = path->len;
    schema_check_put(path, "/");
    schema_check_put(path, step);
    bool ok = schema_check_supported_at(sub, path, msg);
    path->len = mark;
    path->data[mark] = '\0';
    return ok;
}

static bool schema_check_is_count(const cJSON *v)
{
    return cJSON_IsNumber(v) && v->valuedouble >= 0 && v->valuedouble == floor(v->valuedouble);
}

static bool schema_check_supported_at(const cJSON *schema, struct buf *path, char **msg)
{
    if (!cJSON_IsObject(schema))
        return schema_check_unsupported(path, "schema is not an object", "", msg);
    const cJSON *k;
    cJSON_ArrayForEach(k, schema)
    {
        const char *key = k->string;
        size_t nk = sizeof(known_keywords) / sizeof(known_keywords[0]);
        if (!schema_check_in_list(key, known_keywords, nk))
            return schema_check_unsupported(path, "unsupported keyword", key, msg);
        if (strcmp(key, "type") == 0) {
            size_t nt = sizeof(known_types) / sizeof(known_types[0]);
            if (cJSON_IsString(k) && schema_check_in_list(k->valuestring, known_types, nt))
                continue;
            if (!cJSON_IsArray(k) || cJSON_GetArraySize(k) == 0)
                return schema_check_unsupported(path, "bad value of", key, msg);
            const cJSON *t;
            cJSON_ArrayForEach(t, k)
            {
                if (!cJSON_IsString(t) || !schema_check_in_list(t->valuestring, known_types, nt))
                    return schema_check_unsupported(path, "bad value of", key, msg);
            }
        } else if (strcmp(key, "minimum") == 0 || strcmp(key, "maximum") == 0) {
            if (!cJSON_IsNumber(k))
                return schema_check_unsupported(path, "bad value of", key, msg);
        } else if (strstr(key, "Length") || strstr(key, "Items") ||
                   strcmp(key, "maxProperties") == 0) {
            if (!schema_check_is_count(k))
                return schema_check_unsupported(path, "bad value of", key, msg);
        } else if (strcmp(key, "pattern") == 0) {
            if (!cJSON_IsString(k) || schema_pattern_match(k->valuestring, "", 0) < 0)
                return schema_check_unsupported(path, "unsupported pattern syntax in", key, msg);
        } else if (strcmp(key, "enum") == 0) {
            if (!cJSON_IsArray(k) || cJSON_GetArraySize(k) == 0)
                return schema_check_unsupported(path, "bad value of", key, msg);
        } else if (strcmp(key, "properties") == 0) {
            if (!cJSON_IsObject(k))
                return schema_check_unsupported(path, "bad value of", key, msg);
            const cJSON *p;
            cJSON_ArrayForEach(p, k)
            {
                if (!schema_check_supported_child(p, path, p->string, msg))
                    return false;
            }
        } else if (strcmp(key, "items") == 0) {
            if (!schema_check_supported_child(k, path, "items", msg))
                return false;
        } else if (strcmp(key, "additionalProperties") == 0) {
            if (!cJSON_IsBool(k) && !schema_check_supported_child(k, path, key, msg))
                return false;
        } else if (strcmp(key, "required") == 0 || strcmp(key, "x-exactlyOneOf") == 0) {
            const cJSON *props = schema_check_kw(schema, "properties");
            const cJSON *nm;
            if (!cJSON_IsArray(k))
                return schema_check_unsupported(path, "bad value of", key, msg);
            if (strcmp(key, "x-exactlyOneOf") == 0 && cJSON_GetArraySize(k) < 2)
                return schema_check_unsupported(path, "bad value of", key, msg);
            cJSON_ArrayForEach(nm, k)
            {
                if (!cJSON_IsString(nm) ||
                    !cJSON_GetObjectItemCaseSensitive(props, nm->valuestring))
                    return schema_check_unsupported(path, "undeclared property named in", key, msg);
            }
        }
    }
    return true;
}

bool schema_check_supported(const cJSON *schema, char **msg)
{
    struct buf path;
    buf_init(&path, 0);
    schema_check_put(&path, "");
    *msg = NULL;
    bool ok = schema_check_supported_at(schema, &path, msg);
    buf_deinit(&path);
    return ok;
}
