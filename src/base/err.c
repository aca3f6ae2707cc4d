/* err — one table from internal error codes to text, JSON-RPC and HTTP. */
#include "base/err.h"

#include <limits.h>
#include <string.h>

struct err_entry {
    int code;
    const char *name;
    const char *text;
    int jsonrpc;
    int http;
};

static const struct err_entry err_table[] = {
    {ERR_OK, "ok", "success", 0, 200},
    {ERR_INVALID, "invalid_argument", "invalid argument", -32602, 400},
    {ERR_NOT_FOUND, "not_found", "not found", -32602, 404},
    {ERR_CONFLICT, "conflict", "version conflict", -32603, 409},
    {ERR_BUSY, "busy", "resource is busy", -32603, 409},
    {ERR_DENIED, "forbidden", "permission denied", -32600, 403},
    {ERR_TOO_LARGE, "too_large", "input too large", -32600, 413},
    {ERR_PARSE, "parse_error", "parse error", -32700, 400},
    {ERR_STORE, "store_error", "store failure", -32603, 503},
    {ERR_UNAVAILABLE, "unavailable", "service unavailable", -32603, 503},
    {ERR_STATE, "bad_state", "not allowed in current state", -32600, 409},
    {ERR_TIMEOUT, "timeout", "timed out", -32603, 504},
    {ERR_CANCELLED, "cancelled", "request cancelled", -32603, 499},
    {ERR_INTERNAL, "internal", "internal error", -32603, 500},
};

static const struct err_entry *err_find(int err)
{
    if (err == INT_MIN)
        return NULL; /* -INT_MIN overflows */
    if (err < 0)
        err = -err;
    for (size_t i = 0; i < sizeof(err_table) / sizeof(err_table[0]); i++)
        if (err_table[i].code == err)
            return &err_table[i];
    return NULL;
}

const char *coordhub_strerror(int err)
{
    const struct err_entry *e = err_find(err);
    if (e)
        return e->text;
    if (err == INT_MIN)
        return "unknown error";
    return strerror(err < 0 ? -err : err);
}

int err_to_jsonrpc(int err)
{
    const struct err_entry *e = err_find(err);
    return e ? e->jsonrpc : -32603;
}

int err_to_http(int err)
{
    const struct err_entry *e = err_find(err);
    return e ? e->http : 500;
}

const char *err_name(int err)
{
    const struct err_entry *e = err_find(err);
    return e ? e->name : "system_error";
}
