/* events_filter — parse and match `?types=` lists.
 *
 * Invariant: every stored pattern is non-empty, at most
 * EVENTS_FILTER_PATTERN_MAX bytes of the allowed alphabet, and there are
 * at most EVENTS_FILTER_MAX of them. A parse either adds all of csv's
 * patterns or none. */
#include "core/events_filter.h"

#include <stdlib.h>
#include <string.h>

#include "base/xmalloc.h"
#include "core/event.h"

void events_filter_init(struct events_filter *f)
{
    f->patterns = NULL;
    f->n = 0;
}

void events_filter_deinit(struct events_filter *f)
{
    if (!f)
        return;
    for (size_t i = 0; i < f->n; i++)
        free(f->patterns[i]);
    free(f->patterns);
    events_filter_init(f);
}

static bool events_filter_char_ok(char c)
{
    return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '_' || c == '.' || c == ':' ||
           c == '*' || c == '-';
}

int events_filter_parse(struct events_filter *f, const char *csv, const char **why)
{
    *why = NULL;
    char *items[EVENTS_FILTER_MAX];
    size_t n = 0;
    const char *p = csv ? csv : "";
    int rc = 0;
    while (*p) {
        const char *end = strchr(p, ',');
        if (!end)
            end = p + strlen(p);
        const char *a = p, *b = end;
        while (a < b && (*a == ' ' || *a == '\t'))
            a++;
        while (b > a && (b[-1] == ' ' || b[-1] == '\t'))
            b--;
        p = *end ? end + 1 : end;
        if (a == b)
            continue;
        if ((size_t)(b - a) > EVENTS_FILTER_PATTERN_MAX) {
            *why = "a type pattern is longer than 64 characters";
            rc = -ERR_INVALID;
            break;
        }
        for (const char *q = a; q < b; q++) {
            if (!events_filter_char_ok(*q)) {
                *why = "a type pattern may hold only a-z 0-9 _ . : - and * (e.g. file:*)";
                rc = -ERR_INVALID;
                break;
            }
        }
        if (rc)
            break;
        if (f->n + n >= EVENTS_FILTER_MAX) {
            *why = "at most 32 type patterns";
            rc = -ERR_INVALID;
            break;
        }
        items[n] = xmalloc((size_t)(b - a) + 1);
        memcpy(items[n], a, (size_t)(b - a));
        items[n][b - a] = '\0';
        n++;
    }
    if (!rc && n == 0) {
        *why = "no pattern given: give at least one, e.g. file:*";
        rc = -ERR_INVALID;
    }
    if (rc) {
        for (size_t i = 0; i < n; i++)
            free(items[i]);
        return rc;
    }
    f->patterns = xrealloc(f->patterns, (f->n + n) * sizeof(*f->patterns));
    memcpy(f->patterns + f->n, items, n * sizeof(*items));
    f->n += n;
    return 0;
}

bool events_filter_match(const struct events_filter *f, const char *type)
{
    if (f->n == 0)
        return true;
    for (size_t i = 0; i < f->n; i++)
        if (event_type_matches(f->patterns[i], type))
            return true;
    return false;
}
