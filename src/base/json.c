/* json — bounded parsing and tolerant accessors.
 *
 * cJSON recurses while parsing; its own nesting limit (CJSON_NESTING_LIMIT,
 * 1000) is far above ours, so depth is checked by a linear pre-scan that
 * skips strings. The scan also makes the UTF-8 check cheap to combine. */
#include "base/json.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "base/clock.h"
#include "base/utf8.h"

static bool json_depth_ok(const char *p, size_t n, int max_depth)
{
    int depth = 0;
    bool in_str = false;
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
            in_str = true;
        } else if (c == '{' || c == '[') {
            if (++depth > max_depth)
                return false;
        } else if (c == '}' || c == ']') {
            depth--;
        }
    }
    return true;
}

cJSON *json_parse_bounded(const char *p, size_t n, int max_depth, int *err)
{
    *err = 0;
    if (!p || !utf8_valid(p, n) || memchr(p, '\0', n)) {
        *err = -ERR_PARSE;
        return NULL;
    }
    if (!json_depth_ok(p, n, max_depth)) {
        *err = -ERR_TOO_LARGE;
        return NULL;
    }
    const char *end = NULL;
    cJSON *v = cJSON_ParseWithLengthOpts(p, n, &end, 0);
    if (!v) {
        *err = -ERR_PARSE;
        return NULL;
    }
    /* Only whitespace may follow the value. */
    for (const char *q = end; q < p + n; q++) {
        if (*q != ' ' && *q != '\t' && *q != '\r' && *q != '\n') {
            cJSON_Delete(v);
            *err = -ERR_PARSE;
            return NULL;
        }
    }
    return v;
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

int64_t json_get_i64(const cJSON *obj, const char *key, int64_t dflt)
{
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(obj, key);
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

char *json_print(const cJSON *v)
{
    char *s = cJSON_PrintUnformatted(v);
    if (!s)
        abort(); /* only fails on OOM */
    return s;
}

cJSON *json_add_u64(cJSON *obj, const char *key, uint64_t v)
{
    return cJSON_AddNumberToObject(obj, key, (double)v);
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
