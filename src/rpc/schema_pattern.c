/* schema_pattern — the anchored pattern matcher behind the `pattern`
 * keyword of schema_check.
 *
 * A pattern is compiled per call into a fixed array of at most
 * PAT_MAX_ATOMS atoms (a byte set plus repetition bounds) and matched
 * greedily, backtracking only across atoms, so recursion depth is bounded
 * by the pattern and never by the input. Matching is over bytes: a
 * non-ASCII byte never matches the ASCII classes the schemas use. */
#include "rpc/schema_pattern.h"

#include <limits.h>
#include <stdbool.h>
#include <string.h>

#define PAT_MAX_ATOMS 32
#define PAT_UNBOUNDED UINT_MAX

struct pat_atom {
    unsigned char set[32]; /* bitmap over byte values */
    unsigned min, max;     /* repetitions; max PAT_UNBOUNDED = no limit */
};

static void schema_pattern_set_add(unsigned char *set, unsigned c)
{
    set[c >> 3] |= (unsigned char)(1u << (c & 7));
}

static bool schema_pattern_set_has(const unsigned char *set, unsigned c)
{
    return (set[c >> 3] >> (c & 7)) & 1u;
}

/* The character an escape "\c" stands for; only ASCII punctuation may be
 * escaped (\d, \w and friends are not supported). -1 otherwise. */
static int schema_pattern_escaped(char c)
{
    if ((c >= '!' && c <= '/') || (c >= ':' && c <= '@') || (c >= '[' && c <= '`') ||
        (c >= '{' && c <= '~'))
        return (unsigned char)c;
    return -1;
}

/* Parse a decimal repetition count (at most 6 digits). */
static int schema_pattern_count(const char **p, const char *end, unsigned *out)
{
    unsigned v = 0;
    int digits = 0;
    while (*p < end && **p >= '0' && **p <= '9' && digits < 7) {
        v = v * 10 + (unsigned)(**p - '0');
        (*p)++;
        digits++;
    }
    if (digits == 0 || digits > 6)
        return -1;
    *out = v;
    return 0;
}

/* One bracket class starting after '['; *p is left after ']'. */
static int schema_pattern_class(const char **p, const char *end, struct pat_atom *a)
{
    const char *q = *p;
    if (q >= end || *q == '^' || *q == ']')
        return -1;
    while (q < end && *q != ']') {
        int lo;
        if (*q == '\\') {
            if (q + 1 >= end || (lo = schema_pattern_escaped(q[1])) < 0)
                return -1;
            q += 2;
        } else if (*q == '[') {
            return -1; /* POSIX classes are not supported */
        } else {
            lo = (unsigned char)*q++;
        }
        int hi = lo;
        if (q + 1 < end && *q == '-' && q[1] != ']') {
            q++;
            if (*q == '\\') {
                if (q + 1 >= end || (hi = schema_pattern_escaped(q[1])) < 0)
                    return -1;
                q += 2;
            } else {
                hi = (unsigned char)*q++;
            }
            if (hi < lo)
                return -1;
        }
        for (int c = lo; c <= hi; c++)
            schema_pattern_set_add(a->set, (unsigned)c);
    }
    if (q >= end)
        return -1;
    *p = q + 1;
    return 0;
}

/* An optional quantifier after an atom. */
static int schema_pattern_quantifier(const char **p, const char *end, struct pat_atom *a)
{
    const char *q = *p;
    if (q >= end)
        return 0;
    switch (*q) {
    case '?':
        a->min = 0, a->max = 1;
        *p = q + 1;
        return 0;
    case '*':
        a->min = 0, a->max = PAT_UNBOUNDED;
        *p = q + 1;
        return 0;
    case '+':
        a->min = 1, a->max = PAT_UNBOUNDED;
        *p = q + 1;
        return 0;
    case '{':
        break;
    default:
        return 0;
    }
    q++;
    if (schema_pattern_count(&q, end, &a->min) != 0 || q >= end)
        return -1;
    if (*q == '}') {
        a->max = a->min;
    } else if (*q == ',') {
        q++;
        if (q < end && *q == '}') {
            a->max = PAT_UNBOUNDED;
        } else if (schema_pattern_count(&q, end, &a->max) != 0 || a->max < a->min) {
            return -1;
        }
        if (q >= end || *q != '}')
            return -1;
    } else {
        return -1;
    }
    *p = q + 1;
    return 0;
}

static int schema_pattern_compile(const char *pat, struct pat_atom *atoms, size_t *na)
{
    size_t len = strlen(pat);
    if (len < 2 || pat[0] != '^' || pat[len - 1] != '$' || (len >= 3 && pat[len - 2] == '\\'))
        return -1;
    const char *p = pat + 1;
    const char *end = pat + len - 1;
    *na = 0;
    while (p < end) {
        if (*na == PAT_MAX_ATOMS)
            return -1;
        struct pat_atom *a = &atoms[(*na)++];
        memset(a, 0, sizeof(*a));
        a->min = a->max = 1;
        if (*p == '[') {
            p++;
            if (schema_pattern_class(&p, end, a) != 0)
                return -1;
        } else if (*p == '\\') {
            int c;
            if (p + 1 >= end || (c = schema_pattern_escaped(p[1])) < 0)
                return -1;
            schema_pattern_set_add(a->set, (unsigned)c);
            p += 2;
        } else if (strchr(".|()[]{}*+?^$", *p)) {
            return -1;
        } else {
            schema_pattern_set_add(a->set, (unsigned char)*p++);
        }
        if (schema_pattern_quantifier(&p, end, a) != 0)
            return -1;
    }
    return 0;
}

/* Greedy match with backtracking across atoms only. */
static bool schema_pattern_run(const struct pat_atom *a, size_t na, const unsigned char *s,
                               size_t n)
{
    if (na == 0)
        return n == 0;
    size_t k = 0;
    while (k < n && k < a->max && schema_pattern_set_has(a->set, s[k]))
        k++;
    if (k < a->min)
        return false;
    for (size_t c = k + 1; c-- > a->min;)
        if (schema_pattern_run(a + 1, na - 1, s + c, n - c))
            return true;
    return false;
}

int schema_pattern_match(const char *pattern, const char *s, size_t n)
{
    struct pat_atom atoms[PAT_MAX_ATOMS];
    size_t na;
    if (schema_pattern_compile(pattern, atoms, &na) != 0)
        return -1;
    return schema_pattern_run(atoms, na, (const unsigned char *)s, n) ? 1 : 0;
}
