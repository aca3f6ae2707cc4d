/* wildmatch — matching paths against git-style patterns, and deciding
 * whether two patterns can match a common path.
 *
 * Matching (wildmatch_match) is iterative with two backtrack points, the
 * technique git's wildmatch uses to stay polynomial: the last single star
 * (which can only grow inside its own segment) and the last whole-segment
 * double star (which can only skip whole segments). When a single star
 * would have to swallow a '/', no other choice for it can help — its
 * segment's end is fixed — so the search falls back to the double star,
 * and only the latest double star matters because starting the rest of
 * the pattern at an earlier segment boundary reaches every later one.
 *
 * Overlap (wildmatch_overlap) compiles each pattern into a small NFA over
 * bytes — SET (one byte of a set), STAR (zero or more bytes of a set) and
 * a SEGS pair (the "double star + slash" prefix: nothing, or any bytes
 * ending in '/') — and searches the product automaton for a path to the pair of
 * final states. Sets are 256-bit bitmaps, so intersection is four ANDs. */
#include "core/wildmatch.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "base/str.h"
#include "base/xmalloc.h"

struct wm_set {
    uint64_t w[4];
};

static void wildmatch_set_add(struct wm_set *s, unsigned c)
{
    s->w[c >> 6] |= (uint64_t)1 << (c & 63);
}

static bool wildmatch_set_has(const struct wm_set *s, unsigned c)
{
    return (s->w[c >> 6] >> (c & 63)) & 1;
}

static bool wildmatch_set_meets(const struct wm_set *a, const struct wm_set *b)
{
    return (a->w[0] & b->w[0]) | (a->w[1] & b->w[1]) | (a->w[2] & b->w[2]) | (a->w[3] & b->w[3]);
}

static bool wildmatch_posix_class(const char *name, size_t n, unsigned c)
{
#define WM_IS(s) (n == sizeof(s) - 1 && memcmp(name, s, n) == 0)
    bool upper = c >= 'A' && c <= 'Z', lower = c >= 'a' && c <= 'z';
    bool digit = c >= '0' && c <= '9';
    bool graph = c > 0x20 && c < 0x7f;
    if (WM_IS("alnum"))
        return upper || lower || digit;
    if (WM_IS("alpha"))
        return upper || lower;
    if (WM_IS("blank"))
        return c == ' ' || c == '\t';
    if (WM_IS("cntrl"))
        return c < 0x20 || c == 0x7f;
    if (WM_IS("digit"))
        return digit;
    if (WM_IS("graph"))
        return graph;
    if (WM_IS("lower"))
        return lower;
    if (WM_IS("print"))
        return graph || c == ' ';
    if (WM_IS("punct"))
        return graph && !upper && !lower && !digit;
    if (WM_IS("space"))
        return c == ' ' || (c >= '\t' && c <= '\r');
    if (WM_IS("upper"))
        return upper;
    if (WM_IS("xdigit"))
        return digit || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F');
    return false;
#undef WM_IS
}

static bool wildmatch_posix_known(const char *name, size_t n)
{
    static const char *const names[] = {"alnum", "alpha", "blank", "cntrl", "digit", "graph",
                                        "lower", "print", "punct", "space", "upper", "xdigit"};
    for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
        if (strlen(names[i]) == n && memcmp(names[i], name, n) == 0)
            return true;
    }
    return false;
}

/* Parse a class; p points just after '['. On success fills *set (never
 * containing '/' or NUL) and returns the byte after ']'. On a malformed
 * class returns NULL and, when why is not NULL, sets *why (static text). */
static const char *wildmatch_class_parse(const char *p, struct wm_set *set, const char **why)
{
    bool neg = false, first = true;
    memset(set, 0, sizeof(*set));
    if (*p == '!' || *p == '^') {
        neg = true;
        p++;
    }
    for (;;) {
        unsigned c = (unsigned char)*p;
        if (c == 0)
            goto unterminated;
        if (c == ']' && !first) {
            p++;
            break;
        }
        first = false;
        if (c == '[' && p[1] == ':') {
            const char *name = p + 2, *q = name;
            while (*q && !(q[0] == ':' && q[1] == ']'))
                q++;
            if (!*q)
                goto unterminated;
            if (!wildmatch_posix_known(name, (size_t)(q - name))) {
                if (why)
                    *why = "unknown character class name in '[:...:]'";
                return NULL;
            }
            for (unsigned b = 1; b < 256; b++) {
                if (wildmatch_posix_class(name, (size_t)(q - name), b))
                    wildmatch_set_add(set, b);
            }
            p = q + 2;
            continue;
        }
        if (c == '\\') {
            c = (unsigned char)*++p;
            if (c == 0)
                goto unterminated;
        }
        p++;
        if (p[0] == '-' && p[1] != ']' && p[1] != '\0') {
            unsigned hi = (unsigned char)p[1];
            p += 2;
            if (hi == '\\') {
                hi = (unsigned char)*p++;
                if (hi == 0)
                    goto unterminated;
            }
            for (unsigned b = c; b <= hi; b++)
                wildmatch_set_add(set, b);
        } else {
            wildmatch_set_add(set, c);
        }
    }
    if (neg) {
        for (int i = 0; i < 4; i++)
            set->w[i] = ~set->w[i];
    }
    set->w[0] &= ~(((uint64_t)1 << '/') | 1);
    return p;
unterminated:
    if (why)
        *why = "unterminated character class '['";
    return NULL;
}

/* Is p (inside pattern p0) the start of a whole-segment double star? */
static bool wildmatch_is_segs_star(const char *p0, const char *p)
{
    return p[0] == '*' && p[1] == '*' && (p == p0 || p[-1] == '/') && (p[2] == '\0' || p[2] == '/');
}

/* Match one non-star token at p against byte c. *len gets the token's
 * length in the pattern. */
static bool wildmatch_token_match(const char *p, unsigned c, size_t *len)
{
    struct wm_set set;
    switch (*p) {
    case '?':
        *len = 1;
        return c != '/';
    case '[': {
        const char *end = wildmatch_class_parse(p + 1, &set, NULL);
        if (end) {
            *len = (size_t)(end - p);
            return wildmatch_set_has(&set, c);
        }
        *len = 1; /* malformed: a literal '[' */
        return c == '[';
    }
    case '\\':
        if (p[1]) {
            *len = 2;
            return (unsigned char)p[1] == c;
        }
        *len = 1;
        return c == '\\';
    default:
        *len = 1;
        return (unsigned char)*p == c;
    }
}

bool wildmatch_match(const char *pattern, const char *path)
{
    const char *p = pattern, *t = path;
    const char *star_p = NULL, *star_t = NULL; /* last single star */
    const char *segs_p = NULL, *segs_t = NULL; /* last whole-segment double star */
    for (;;) {
        if (*p == '*') {
            if (wildmatch_is_segs_star(pattern, p)) {
                if (p[2] == '\0')
                    return true; /* trailing or lone double star: anything */
                p += 3;
                segs_p = p;
                segs_t = t;
                star_p = NULL;
                continue;
            }
            while (*p == '*')
                p++;
            star_p = p;
            star_t = t;
            continue;
        }
        if (*t == '\0') {
            if (*p == '\0')
                return true;
        } else if (*p != '\0') {
            size_t len;
            if (wildmatch_token_match(p, (unsigned char)*t, &len)) {
                p += len;
                t++;
                continue;
            }
        }
        /* Mismatch: let the last single star take one more byte of its
         * segment, else let the last double star skip one more segment. */
        if (star_p && *star_t != '\0' && *star_t != '/') {
            star_t++;
            t = star_t;
            p = star_p;
            continue;
        }
        if (segs_p) {
            const char *slash = strchr(segs_t, '/');
            if (!slash)
                return false;
            segs_t = slash + 1;
            t = segs_t;
            p = segs_p;
            star_p = NULL;
            continue;
        }
        return false;
    }
}

int wildmatch_validate(const char *pattern, char **errmsg)
{
    *errmsg = NULL;
    for (const char *p = pattern; *p; p++) {
        if (*p == '\\') {
            if (!p[1]) {
                *errmsg = xstrdup("ends with an unescaped backslash");
                return -ERR_INVALID;
            }
            p++;
        } else if (*p == '[') {
            struct wm_set set;
            const char *why = NULL;
            const char *end = wildmatch_class_parse(p + 1, &set, &why);
            if (!end) {
                *errmsg = xstrdup(why);
                return -ERR_INVALID;
            }
            p = end - 1;
        }
    }
    return 0;
}

size_t wildmatch_prefix_len(const char *pattern)
{
    return strcspn(pattern, "*?[\\");
}

bool wildmatch_is_literal(const char *pattern)
{
    return pattern[wildmatch_prefix_len(pattern)] == '\0';
}

/* ---- overlap: NFA product search ---- */

enum wm_kind {
    WM_SET,       /* one byte of set */
    WM_STAR,      /* zero or more bytes of set */
    WM_SEGS_HEAD, /* entry of "nothing, or any bytes then '/'": skips to i+2 or enters i+1 */
    WM_SEGS_LOOP, /* any byte stays; '/' may leave to i+1; no way out without one */
};

struct wm_tok {
    enum wm_kind kind;
    struct wm_set set;
};

struct wm_nfa {
    struct wm_tok *toks; /* owned */
    size_t n;
};

static void wildmatch_nfa_push(struct wm_nfa *a, size_t *cap, enum wm_kind kind,
                               const struct wm_set *s)
{
    if (a->n == *cap) {
        *cap = *cap ? *cap * 2 : 16;
        a->toks = xrealloc(a->toks, *cap * sizeof(*a->toks));
    }
    a->toks[a->n].kind = kind;
    a->toks[a->n].set = *s;
    a->n++;
}

static void wildmatch_nfa_compile(const char *pattern, struct wm_nfa *a)
{
    size_t cap = 0;
    struct wm_set all, noslash, one;
    memset(&all, 0xff, sizeof(all));
    all.w[0] &= ~(uint64_t)1; /* paths never contain NUL */
    noslash = all;
    noslash.w[0] &= ~((uint64_t)1 << '/');
    a->toks = NULL;
    a->n = 0;
    const char *p = pattern;
    while (*p) {
        if (*p == '*') {
            if (wildmatch_is_segs_star(pattern, p)) {
                if (p[2] == '\0') {
                    wildmatch_nfa_push(a, &cap, WM_STAR, &all);
                    p += 2;
                } else {
                    wildmatch_nfa_push(a, &cap, WM_SEGS_HEAD, &all);
                    wildmatch_nfa_push(a, &cap, WM_SEGS_LOOP, &all);
                    p += 3;
                }
                continue;
            }
            while (*p == '*')
                p++;
            wildmatch_nfa_push(a, &cap, WM_STAR, &noslash);
            continue;
        }
        memset(&one, 0, sizeof(one));
        if (*p == '?') {
            one = noslash;
            p++;
        } else if (*p == '[') {
            const char *end = wildmatch_class_parse(p + 1, &one, NULL);
            if (end) {
                p = end;
            } else {
                memset(&one, 0, sizeof(one));
                wildmatch_set_add(&one, '[');
                p++;
            }
        } else if (*p == '\\' && p[1]) {
            wildmatch_set_add(&one, (unsigned char)p[1]);
            p += 2;
        } else {
            wildmatch_set_add(&one, (unsigned char)*p);
            p++;
        }
        wildmatch_nfa_push(a, &cap, WM_SET, &one);
    }
}

/* The byte-consuming moves out of state i: (set, target) pairs. */
static size_t wildmatch_moves(const struct wm_nfa *a, size_t i, struct wm_set *sets, size_t *to)
{
    static const struct wm_set slash = {{(uint64_t)1 << '/', 0, 0, 0}};
    if (i == a->n)
        return 0;
    const struct wm_tok *t = &a->toks[i];
    switch (t->kind) {
    case WM_SET:
        sets[0] = t->set;
        to[0] = i + 1;
        return 1;
    case WM_STAR:
        sets[0] = t->set;
        to[0] = i;
        return 1;
    case WM_SEGS_HEAD:
        return 0;
    case WM_SEGS_LOOP:
        sets[0] = t->set;
        to[0] = i;
        sets[1] = slash;
        to[1] = i + 1;
        return 2;
    }
    return 0;
}

bool wildmatch_overlap(const char *pa, const char *pb)
{
    struct wm_nfa a, b;
    wildmatch_nfa_compile(pa, &a);
    wildmatch_nfa_compile(pb, &b);
    size_t w = b.n + 1, states = (a.n + 1) * w;
    unsigned char *seen = xcalloc(states, 1);
    size_t *stack = xmalloc(states * sizeof(*stack));
    size_t sp = 0;
    bool found = false;
    seen[0] = 1;
    stack[sp++] = 0;
    while (sp > 0) {
        size_t s = stack[--sp], i = s / w, j = s % w;
        if (i == a.n && j == b.n) {
            found = true;
            break;
        }
        size_t next[16], nn = 0;
        /* epsilon moves: leave a STAR, skip or enter a SEGS group */
        if (i < a.n && (a.toks[i].kind == WM_STAR || a.toks[i].kind == WM_SEGS_HEAD))
            next[nn++] = (i + 1) * w + j;
        if (i < a.n && a.toks[i].kind == WM_SEGS_HEAD)
            next[nn++] = (i + 2) * w + j;
        if (j < b.n && (b.toks[j].kind == WM_STAR || b.toks[j].kind == WM_SEGS_HEAD))
            next[nn++] = i * w + j + 1;
        if (j < b.n && b.toks[j].kind == WM_SEGS_HEAD)
            next[nn++] = i * w + j + 2;
        struct wm_set sa[2], sb[2];
        size_t ta[2], tb[2];
        size_t na = wildmatch_moves(&a, i, sa, ta), nb = wildmatch_moves(&b, j, sb, tb);
        for (size_t x = 0; x < na; x++) {
            for (size_t y = 0; y < nb; y++) {
                if (wildmatch_set_meets(&sa[x], &sb[y]))
                    next[nn++] = ta[x] * w + tb[y];
            }
        }
        for (size_t k = 0; k < nn; k++) {
            if (!seen[next[k]]) {
                seen[next[k]] = 1;
                stack[sp++] = next[k];
            }
        }
    }
    free(seen);
    free(stack);
    free(a.toks);
    free(b.toks);
    return found;
}
