/* rest_args — query parameters and path segments into tool arguments.
 *
 * The tool's inputSchema is the only description of an argument's type,
 * so REST and MCP cannot drift: a parameter is converted by the type the
 * schema declares and the result is then validated against the same
 * schema by the caller (tools_validate_args), which names the argument
 * and the rule it breaks. */
#include "api/rest_args.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/queue.h>

#include <event2/keyvalq_struct.h>

#include "base/json.h"
#include "base/str.h"
#include "base/xmalloc.h"

#define REST_ARGS_MAX_ITEMS 64 /* list items in one parameter */

/* The JSON type a schema property declares: its "type", or the first of
 * an array of types that is not "string" when a string is not among them. */
static const char *rest_prop_type(const cJSON *prop)
{
    const cJSON *t = cJSON_GetObjectItemCaseSensitive(prop, "type");
    if (cJSON_IsString(t))
        return t->valuestring;
    if (cJSON_IsArray(t)) {
        const cJSON *x;
        cJSON_ArrayForEach(x, t)
        {
            if (cJSON_IsString(x) && strcmp(x->valuestring, "string") == 0)
                return "string";
        }
        x = cJSON_GetArrayItem(t, 0);
        if (cJSON_IsString(x))
            return x->valuestring;
    }
    return "string";
}

static cJSON *rest_parse_number(const char *v, bool integer)
{
    if (!*v)
        return NULL;
    char *end;
    errno = 0;
    if (integer) {
        long long x = strtoll(v, &end, 10);
        if (errno || *end || x > (1LL << 53) || x < -(1LL << 53))
            return NULL;
        return cJSON_CreateNumber((double)x);
    }
    double d = strtod(v, &end);
    if (errno || *end)
        return NULL;
    return cJSON_CreateNumber(d);
}

static cJSON *rest_parse_list(const char *v)
{
    cJSON *arr = cJSON_CreateArray();
    const char *p = v;
    int n = 0;
    while (*p) {
        const char *comma = strchr(p, ',');
        size_t len = comma ? (size_t)(comma - p) : strlen(p);
        if (len > 0) {
            if (++n > REST_ARGS_MAX_ITEMS) {
                cJSON_Delete(arr);
                return NULL;
            }
            char *item = xstrndup(p, len);
            cJSON_AddItemToArray(arr, cJSON_CreateString(item));
            free(item);
        }
        p += len;
        if (*p == ',')
            p++;
    }
    return arr;
}

int rest_query_args(const char *input_schema, const struct evkeyvalq *q,
                    const struct rest_alias *alias, cJSON **out, char **msg)
{
    *out = NULL;
    *msg = NULL;
    int err = 0;
    cJSON *schema = json_parse_bounded(input_schema, strlen(input_schema), JSON_MAX_DEPTH, &err);
    const cJSON *props = cJSON_GetObjectItemCaseSensitive(schema, "properties");
    cJSON *args = cJSON_CreateObject();
    const struct evkeyval *kv;
    TAILQ_FOREACH(kv, q, next)
    {
        if (strcmp(kv->key, "token") == 0)
            continue;               /* the credential, checked by the server */
        const char *name = kv->key; /* the argument it carries */
        if (alias && strcmp(kv->key, alias->param) == 0) {
            name = alias->arg;
        } else if (alias && strcmp(kv->key, alias->arg) == 0) {
            *msg = str_printf("query parameter '%s': not accepted here; use '%s'", kv->key,
                              alias->param);
            goto fail;
        }
        const cJSON *prop = cJSON_GetObjectItemCaseSensitive(props, name);
        if (!prop) {
            *msg = str_printf("query parameter '%s': not accepted here", kv->key);
            goto fail;
        }
        if (cJSON_GetObjectItemCaseSensitive(args, name)) {
            *msg = str_printf("query parameter '%s': given more than once", kv->key);
            goto fail;
        }
        const char *type = rest_prop_type(prop);
        cJSON *v;
        if (strcmp(type, "integer") == 0 || strcmp(type, "number") == 0) {
            v = rest_parse_number(kv->value, strcmp(type, "integer") == 0);
            if (!v) {
                *msg = str_printf("query parameter '%s': must be %s", kv->key,
                                  strcmp(type, "integer") == 0 ? "an integer" : "a number");
                goto fail;
            }
        } else if (strcmp(type, "boolean") == 0) {
            if (strcmp(kv->value, "true") == 0) {
                v = cJSON_CreateTrue();
            } else if (strcmp(kv->value, "false") == 0) {
                v = cJSON_CreateFalse();
            } else {
                *msg = str_printf("query parameter '%s': must be true or false", kv->key);
                goto fail;
            }
        } else if (strcmp(type, "array") == 0) {
            v = rest_parse_list(kv->value);
            if (!v) {
                *msg = str_printf("query parameter '%s': more than %d items", kv->key,
                                  REST_ARGS_MAX_ITEMS);
                goto fail;
            }
        } else {
            v = cJSON_CreateString(kv->value);
        }
        cJSON_AddItemToObject(args, name, v);
    }
    cJSON_Delete(schema);
    *out = args;
    return 0;
fail:
    cJSON_Delete(schema);
    cJSON_Delete(args);
    return -ERR_INVALID;
}

/* Percent-decode s[0..n) (base/str.h); empty is NULL too. */
static char *rest_decode(const char *s, size_t n, bool slash)
{
    return n ? str_percent_decode(s, n, slash) : NULL;
}

cJSON *rest_path_match(const char *pattern, const char *path)
{
    cJSON *got = cJSON_CreateObject();
    const char *p = pattern, *s = path;
    for (;;) {
        size_t plen = strcspn(p, "/");
        size_t slen = strcspn(s, "/");
        if (p[0] == '{') {
            bool rest = plen >= 3 && p[plen - 2] == '*';
            char *v = rest_decode(s, rest ? strlen(s) : slen, rest);
            if (!v)
                break;
            char *name = xstrndup(p + 1, plen - (rest ? 3 : 2));
            cJSON_AddItemToObject(got, name, cJSON_CreateString(v));
            free(name);
            free(v);
            if (rest)
                return got; /* the last segment of a pattern */
        } else if (plen != slen || strncmp(p, s, plen) != 0) {
            break;
        }
        if (p[plen] == '\0' || s[slen] == '\0') {
            if (p[plen] == '\0' && s[slen] == '\0')
                return got;
            break;
        }
        p += plen + 1;
        s += slen + 1;
    }
    cJSON_Delete(got);
    return NULL;
}
