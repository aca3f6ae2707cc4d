/* json — bounded parsing and tolerant accessors.
 *
 * cJSON recurses while parsing; its own nesting limit (CJSON_NESTING_LIMIT,
 * 1000) is far above ours, so depth is checked by a linear pre-scan that
 * skips strings. The same pass notes the first escaped NUL (\u0000) inside
 * a string: cJSON would decode it into a C string that ends there.
 * Duplicate keys are found on the parsed tree (keys decoded, so "a" and
 * "\u0061" are one key), and only on that rare error path is the text
 * scanned again to say where the repeated key is. The cost over cJSON's
 * own parse is the pre-scan plus one walk of the tree.
 *
 * With allocation hooks installed (json_use_xmalloc) cJSON no longer
 * reallocates: cJSON_Print* copies its text into an exact-size buffer at
 * the end and frees the working one unwiped, which is why
 * json_print_line() prints into a buffer of its own choosing instead. */
#include "base/json.h"

#include <errno.h>
#include <inttypes.h>
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/clock.h"
#include "base/utf8.h"
#include "base/xmalloc.h"

/* What the linear pre-scan found: the first fault of each kind. */
struct json_scan {
    size_t too_deep; /* offset of the bracket that passed max_depth, or SIZE_MAX */
    size_t nul;      /* offset of the first \u0000 escape inside a string, or SIZE_MAX */
};

/* One pass over the raw text: nesting depth outside strings, and escaped
 * NULs inside them. An escape is skipped whole at its backslash, so the
 * text "\\u0000" (an escaped backslash, then "u0000") is not a NUL. */
static void json_scan_text(const char *p, size_t n, int max_depth, struct json_scan *sc)
{
    int depth = 0;
    bool in_str = false;
    sc->too_deep = SIZE_MAX;
    sc->nul = SIZE_MAX;
    for (size_t i = 0; i < n; i++) {
        char c = p[i];
        if (in_str) {
            if (c == '\\') {
                if (sc->nul == SIZE_MAX && n - i >= 6 && memcmp(p + i + 1, "u0000", 5) == 0)
                    sc->nul = i;
                i++;
            } else if (c == '"') {
                in_str = false;
            }
            continue;
        }
        if (c == '"') {
            in_str = true;
        } else if (c == '{' || c == '[') {
            if (++depth > max_depth) {
                sc->too_deep = i;
                return;
            }
        } else if (c == '}' || c == ']') {
            depth--;
        }
    }
}

/* Objects up to this many members are checked for duplicates pairwise;
 * larger ones are sorted, so a peer's 100 000-key object costs
 * n log n, not n². */
#define JSON_DUP_PAIRWISE 16

struct json_dup_entry {
    const char *key;
    size_t index;
};

static int json_dup_entry_cmp(const void *a, const void *b)
{
    const struct json_dup_entry *x = a, *y = b;
    int c = strcmp(x->key, y->key);
    if (c)
        return c;
    return x->index < y->index ? -1 : x->index > y->index;
}

/* The index of the first member of obj (k members) whose key an earlier
 * member already has, or SIZE_MAX. Keys hold no NUL here (refused
 * before), so strcmp compares them whole. */
static size_t json_object_first_dup(const cJSON *obj, size_t k)
{
    if (k <= JSON_DUP_PAIRWISE) {
        const cJSON *m = obj->child;
        for (size_t j = 0; m; m = m->next, j++) {
            for (const cJSON *e = obj->child; e != m; e = e->next)
                if (strcmp(e->string, m->string) == 0)
                    return j;
        }
        return SIZE_MAX;
    }
    struct json_dup_entry *v = xcalloc(k, sizeof(*v));
    size_t i = 0;
    for (const cJSON *m = obj->child; m; m = m->next, i++)
        v[i] = (struct json_dup_entry){m->string, i};
    qsort(v, k, sizeof(*v), json_dup_entry_cmp);
    /* Equal keys sort by index: the second of each run is its first
     * repeat; the earliest of those is the one to report. */
    size_t first = SIZE_MAX;
    for (i = 1; i < k; i++)
        if (v[i].index < first && strcmp(v[i - 1].key, v[i].key) == 0 &&
            (i < 2 || strcmp(v[i - 2].key, v[i].key) != 0))
            first = v[i].index;
    free(v);
    return first;
}

/* A duplicate key found in the tree: the object's rank among the text's
 * objects in document order (the order of their '{'), the member's index
 * in it, and its key. */
struct json_dup {
    size_t object;
    size_t member;
    const char *key;
};

/* Walk v in document order (pre-order: an object before what it holds),
 * numbering objects through *next_object; true at the first object
 * holding a duplicate key, described in *d. Recursion is bounded by the
 * depth the pre-scan allowed. */
static bool json_find_dup(const cJSON *v, size_t *next_object, struct json_dup *d)
{
    if (!cJSON_IsObject(v) && !cJSON_IsArray(v))
        return false;
    if (cJSON_IsObject(v)) {
        size_t rank = (*next_object)++;
        size_t k = 0;
        for (const cJSON *m = v->child; m; m = m->next)
            k++;
        size_t j = k > 1 ? json_object_first_dup(v, k) : SIZE_MAX;
        if (j != SIZE_MAX) {
            const cJSON *m = v->child;
            for (size_t i = 0; i < j; i++)
                m = m->next;
            *d = (struct json_dup){rank, j, m->string};
            return true;
        }
    }
    for (const cJSON *c = v->child; c; c = c->next)
        if (json_find_dup(c, next_object, d))
            return true;
    return false;
}

/* The offset of the opening quote of member `member` of the object whose
 * '{' is the `object`-th (from 0) of the text, which is valid JSON. Only
 * on the error path. */
static size_t json_member_offset(const char *p, size_t n, size_t object, size_t member)
{
    size_t seen = 0, m = 0;
    int depth = 0, target = -1;
    bool in_str = false, expect_key = false;
    for (size_t i = 0; i < n; i++) {
        char c = p[i];
        if (in_str) {
            if (c == '\\')
                i++;
            else if (c == '"')
                in_str = false;
            continue;
        }
        if (c == '"') {
            if (depth == target && expect_key) {
                if (m++ == member)
                    return i;
                expect_key = false;
            }
            in_str = true;
        } else if (c == '{' || c == '[') {
            depth++;
            if (c == '{' && target < 0 && seen++ == object) {
                target = depth;
                expect_key = true;
            }
        } else if (c == '}' || c == ']') {
            if (depth-- == target)
                break;
        } else if (c == ',' && depth == target) {
            expect_key = true;
        }
    }
    return 0; /* not reached for a tree parsed from this text */
}

/* Copy at most JSON_ERROR_KEY_MAX bytes of key into out, whole UTF-8
 * characters only, control characters as '?', marking a cut with "…",
 * so the key can go into a message and a log line. */
#define JSON_ERROR_KEY_MAX 48
static void json_error_key(const char *key, char out[JSON_ERROR_KEY_MAX + 4])
{
    size_t n = strlen(key), k = 0;
    size_t cut = n > JSON_ERROR_KEY_MAX ? JSON_ERROR_KEY_MAX : n;
    while (cut < n && cut > 0 && ((unsigned char)key[cut] & 0xC0) == 0x80)
        cut--; /* do not split a character */
    for (size_t i = 0; i < cut; i++)
        out[k++] = (unsigned char)key[i] < 0x20 ? '?' : key[i];
    if (cut < n) {
        memcpy(out + k, "\xe2\x80\xa6", 3);
        k += 3;
    }
    out[k] = '\0';
}

/* Record a refusal in *je (its message is written by the caller). */
static void json_fail(struct json_error *je, int err, size_t offset)
{
    je->err = err;
    je->offset = offset;
}

#define JSON_FAIL(je, err, offset, ...)                                                            \
    (json_fail((je), (err), (offset)),                                                             \
     (void)snprintf((je)->message, sizeof((je)->message), __VA_ARGS__), (cJSON *)NULL)

cJSON *json_parse_checked(const char *p, size_t n, int max_depth, struct json_error *je)
{
    je->err = 0;
    je->offset = 0;
    je->message[0] = '\0';
    if (!p)
        return JSON_FAIL(je, -ERR_PARSE, 0, "no text");
    if (!utf8_valid(p, n))
        return JSON_FAIL(je, -ERR_PARSE, 0, "not valid UTF-8");
    const char *raw_nul = memchr(p, '\0', n);
    if (raw_nul)
        return JSON_FAIL(je, -ERR_PARSE, (size_t)(raw_nul - p), "a NUL byte at offset %zu",
                         (size_t)(raw_nul - p));
    struct json_scan sc;
    json_scan_text(p, n, max_depth, &sc);
    if (sc.too_deep != SIZE_MAX)
        return JSON_FAIL(je, -ERR_TOO_LARGE, sc.too_deep,
                         "nested deeper than %d levels at offset %zu", max_depth, sc.too_deep);
    const char *end = NULL;
    cJSON *v = cJSON_ParseWithLengthOpts(p, n, &end, 0);
    if (!v) {
        size_t at = end && end >= p && end <= p + n ? (size_t)(end - p) : 0;
        return JSON_FAIL(je, -ERR_PARSE, at, "not valid JSON (at offset %zu)", at);
    }
    /* Only whitespace may follow the value. */
    for (const char *q = end; q < p + n; q++) {
        if (*q != ' ' && *q != '\t' && *q != '\r' && *q != '\n') {
            cJSON_Delete(v);
            return JSON_FAIL(je, -ERR_PARSE, (size_t)(q - p),
                             "not valid JSON (text after the value at offset %zu)",
                             (size_t)(q - p));
        }
    }
    /* Well-formed; now what the project refuses of well-formed JSON (a
     * NUL would cut a C string short: "src/a\u0000b.c" read as "src/a"). */
    if (sc.nul != SIZE_MAX) {
        cJSON_Delete(v);
        return JSON_FAIL(je, -ERR_INVALID, sc.nul, "string contains U+0000 at offset %zu", sc.nul);
    }
    size_t objects = 0;
    struct json_dup d;
    if (json_find_dup(v, &objects, &d)) {
        char key[JSON_ERROR_KEY_MAX + 4];
        json_error_key(d.key, key);
        size_t at = json_member_offset(p, n, d.object, d.member);
        cJSON_Delete(v);
        return JSON_FAIL(je, -ERR_INVALID, at, "duplicate key \"%s\" at offset %zu", key, at);
    }
    return v;
}

cJSON *json_parse_bounded(const char *p, size_t n, int max_depth, int *err)
{
    struct json_error je;
    cJSON *v = json_parse_checked(p, n, max_depth, &je);
    *err = je.err;
    return v;
}

cJSON *json_refused_member(const char *p, size_t n, const char *key)
{
    if (!p || !utf8_valid(p, n) || memchr(p, '\0', n))
        return NULL;
    /* A copy in which every escaped NUL is six 0xFF bytes: never part of
     * valid UTF-8, so a value holding one is recognised after parsing. */
    char *copy = xmalloc(n ? n : 1);
    memcpy(copy, p, n);
    bool in_str = false;
    for (size_t i = 0; i < n; i++) {
        if (in_str) {
            if (copy[i] == '\\') {
                if (n - i >= 6 && memcmp(copy + i + 1, "u0000", 5) == 0)
                    memset(copy + i, 0xFF, 6);
                i++;
            } else if (copy[i] == '"') {
                in_str = false;
            }
        } else if (copy[i] == '"') {
            in_str = true;
        }
    }
    cJSON *root = cJSON_ParseWithLength(copy, n);
    free(copy);
    const cJSON *found = NULL;
    size_t times = 0;
    for (const cJSON *m = cJSON_IsObject(root) ? root->child : NULL; m; m = m->next)
        if (strcmp(m->string, key) == 0) {
            found = m;
            times++;
        }
    cJSON *out = NULL;
    if (times == 1 && !cJSON_IsObject(found) && !cJSON_IsArray(found) &&
        !(cJSON_IsString(found) && strchr(found->valuestring, '\xff')))
        out = cJSON_Duplicate(found, 0);
    cJSON_Delete(root);
    return out;
}

const char *json_get_str(const cJSON *obj, const char *key, const char *dflt)
{
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(obj, key);
    return cJSON_IsString(v) ? v->valuestring : dflt;
}

/* Bounds of the doubles that convert to int64_t without undefined
 * behaviour: (double)INT64_MAX rounds up to 2^63, which does not fit. */
#define JSON_I64_LO (-9223372036854775808.0)
#define JSON_I64_HI_EXCL (9223372036854775808.0)

/* The integer a raw node holds (json_add_u64 above 10^15 - 1), or dflt
 * for any other text or one outside int64_t. */
static int64_t json_raw_i64(const cJSON *v, int64_t dflt)
{
    const char *t = v->valuestring;
    if (!t || !*t || (*t != '-' && (*t < '0' || *t > '9')))
        return dflt;
    char *end;
    errno = 0;
    long long x = strtoll(t, &end, 10);
    return errno || *end ? dflt : (int64_t)x;
}

int64_t json_get_i64(const cJSON *obj, const char *key, int64_t dflt)
{
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(obj, key);
    if (cJSON_IsRaw(v))
        return json_raw_i64(v, dflt);
    if (!cJSON_IsNumber(v) || !isfinite(v->valuedouble))
        return dflt;
    if (!(v->valuedouble >= JSON_I64_LO && v->valuedouble < JSON_I64_HI_EXCL))
        return dflt; /* out of range: converting would be undefined */
    return (int64_t)v->valuedouble;
}

bool json_get_bool(const cJSON *obj, const char *key, bool dflt)
{
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(obj, key);
    return cJSON_IsBool(v) ? cJSON_IsTrue(v) : dflt;
}

void json_use_xmalloc(void)
{
    cJSON_Hooks hooks = {.malloc_fn = xmalloc, .free_fn = free};
    cJSON_InitHooks(&hooks);
}

char *json_print(const cJSON *v)
{
    char *s = cJSON_PrintUnformatted(v);
    if (!s)
        abort(); /* only fails on OOM */
    return s;
}

char *json_print_line(const cJSON *v)
{
    char *s = cJSON_PrintBuffered(v, JSON_PRINT_PREBUFFER, 0);
    if (!s)
        abort(); /* only fails on OOM */
    size_t n = strlen(s);
    char *line = xmalloc(n + 2);
    memcpy(line, s, n);
    line[n] = '\n';
    line[n + 1] = '\0';
    explicit_bzero(s, n);
    free(s);
    return line;
}

cJSON *json_add_u64(cJSON *obj, const char *key, uint64_t v)
{
    if (v <= JSON_U64_NUMBER_MAX)
        return cJSON_AddNumberToObject(obj, key, (double)v);
    char num[24];
    snprintf(num, sizeof(num), "%" PRIu64, v);
    return cJSON_AddRawToObject(obj, key, num);
}

cJSON *json_add_time(cJSON *obj, const char *key, int64_t ms)
{
    char ts[40];
    clock_format_iso(ms, ts, sizeof(ts));
    return cJSON_AddStringToObject(obj, key, ts);
}

bool json_is_int_in(const cJSON *v, int64_t lo, int64_t hi)
{
    if (!cJSON_IsNumber(v) || !isfinite(v->valuedouble))
        return false;
    double d = v->valuedouble;
    if (d != floor(d) || !(d >= JSON_I64_LO && d < JSON_I64_HI_EXCL))
        return false;
    /* Compare as integers: (double)hi may round above hi (INT64_MAX
     * becomes 2^63), which would let 2^63 through. */
    int64_t i = (int64_t)d;
    return i >= lo && i <= hi;
}
