/* args — typed access to a command's argument object with precise errors.
 *
 * Every accessor returns 0, or -ERR_INVALID with *errmsg (caller frees)
 * of the form "argument 'ttl': must be an integer between 1 and 86400".
 * A member that is absent or JSON null counts as absent: optional members
 * then take their default, required ones fail. Members are borrowed from
 * args. */
#ifndef COORDHUB_CORE_ARGS_H
#define COORDHUB_CORE_ARGS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <cjson/cJSON.h>

#include "base/err.h"

/* A string; required ones must be non-empty. *out NULL when absent. */
COORDHUB_MUST_CHECK int args_str(const cJSON *args, const char *name, bool required, size_t max_len,
                                 const char **out, char **errmsg);
/* An integer in [lo, hi]; dflt when absent. */
COORDHUB_MUST_CHECK int args_int(const cJSON *args, const char *name, int64_t lo, int64_t hi,
                                 int64_t dflt, int64_t *out, char **errmsg);
COORDHUB_MUST_CHECK int args_bool(const cJSON *args, const char *name, bool dflt, bool *out,
                                  char **errmsg);
/* An array of at most max_items non-empty strings of at most max_len
 * bytes. *out NULL when absent. */
COORDHUB_MUST_CHECK int args_str_array(const cJSON *args, const char *name, size_t max_items,
                                       size_t max_len, const cJSON **out, char **errmsg);
/* An object. *out NULL when absent (and not required). */
COORDHUB_MUST_CHECK int args_object(const cJSON *args, const char *name, bool required,
                                    const cJSON **out, char **errmsg);
/* Any JSON value (absent → NULL). Never fails. */
const cJSON *args_any(const cJSON *args, const char *name);

#endif
