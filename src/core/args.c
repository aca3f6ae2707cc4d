/* args — argument accessors. Messages name the argument and the rule it
 * broke so a tool error can be shown to an agent as is. */
#include "core/args.h"

#include <inttypes.h>
#include <string.h>

#include "base/json.h"
#include "base/str.h"

static const cJSON *args_member(const cJSON *args, const char *name)
{
    const cJSON *v = cJSON_IsObject(args) ? cJSON_GetObjectItemCaseSensitive(args, name) : NULL;
    return cJSON_IsNull(v) ? NULL : v;
}

const cJSON *args_any(const cJSON *args, const char *name)
{
    return args_member(args, name);
}

int args_str(const cJSON *args, const char *name, bool required, size_t max_len, const char **out,
             char **errmsg)
{
    const cJSON *v = args_member(args, name);
    *out = NULL;
    if (!v) {
        if (!required)
            return 0;
        *errmsg = str_printf("argument '%s': required", name);
        return -ERR_INVALID;
    }
    if (!cJSON_IsString(v)) {
        *errmsg = str_printf("argument '%s': must be a string", name);
        return -ERR_INVALID;
    }
    size_t n = strlen(v->valuestring);
    if (required && n == 0) {
        *errmsg = str_printf("argument '%s': must not be empty", name);
        return -ERR_INVALID;
    }
    if (n > max_len) {
        *errmsg = str_printf("argument '%s': longer than %zu bytes", name, max_len);
        return -ERR_INVALID;
    }
    *out = v->valuestring;
    return 0;
}

int args_int(const cJSON *args, const char *name, int64_t lo, int64_t hi, int64_t dflt,
             int64_t *out, char **errmsg)
{
    const cJSON *v = args_member(args, name);
    *out = dflt;
    if (!v)
        return 0;
    if (!json_is_int_in(v, lo, hi)) {
        *errmsg = str_printf("argument '%s': must be an integer between %" PRId64 " and %" PRId64,
                             name, lo, hi);
        return -ERR_INVALID;
    }
    *out = (int64_t)v->valuedouble;
    return 0;
}

int args_bool(const cJSON *args, const char *name, bool dflt, bool *out, char **errmsg)
{
    const cJSON *v = args_member(args, name);
    *out = dflt;
    if (!v)
        return 0;
    if (!cJSON_IsBool(v)) {
        *errmsg = str_printf("argument '%s': must be true or false", name);
        return -ERR_INVALID;
    }
    *out = cJSON_IsTrue(v);
    return 0;
}

int args_str_array(const cJSON *args, const char *name, size_t max_items, size_t max_len,
                   const cJSON **out, char **errmsg)
{
    const cJSON *v = args_member(args, name);
    *out = NULL;
    if (!v)
        return 0;
    if (!cJSON_IsArray(v)) {
        *errmsg = str_printf("argument '%s': must be an array of strings", name);
        return -ERR_INVALID;
    }
    size_t i = 0;
    const cJSON *e;
    cJSON_ArrayForEach(e, v)
    {
        if (i >= max_items) {
            *errmsg = str_printf("argument '%s': more than %zu items", name, max_items);
            return -ERR_INVALID;
        }
        if (!cJSON_IsString(e)) {
            *errmsg = str_printf("argument '%s': item %zu must be a string", name, i);
            return -ERR_INVALID;
        }
        size_t n = strlen(e->valuestring);
        if (n == 0 || n > max_len) {
            *errmsg =
                str_printf("argument '%s': item %zu must be 1 to %zu bytes long", name, i, max_len);
            return -ERR_INVALID;
        }
        i++;
    }
    *out = v;
    return 0;
}

int args_object(const cJSON *args, const char *name, bool required, const cJSON **out,
                char **errmsg)
{
    const cJSON *v = args_member(args, name);
    *out = NULL;
    if (!v) {
        if (!required)
            return 0;
        *errmsg = str_printf("argument '%s': required (an object)", name);
        return -ERR_INVALID;
    }
    if (!cJSON_IsObject(v)) {
        *errmsg = str_printf("argument '%s': must be an object", name);
        return -ERR_INVALID;
    }
    *out = v;
    return 0;
}
