/* fdlimit — setrlimit at start; the fair share of the descriptors.
 * Invariant of fdlimit_fit: a share settled in an earlier round keeps its
 * want, and the descriptors left are split equally among the rest. */
#include "net/fdlimit.h"

#include <errno.h>
#include <sys/resource.h>

int fdlimit_raise(size_t ceiling, size_t *before, size_t *after)
{
    struct rlimit rl;
    if (getrlimit(RLIMIT_NOFILE, &rl) != 0) {
        *before = *after = 0;
        return -errno;
    }
    size_t soft = rl.rlim_cur == RLIM_INFINITY ? (size_t)-1 : (size_t)rl.rlim_cur;
    size_t hard = rl.rlim_max == RLIM_INFINITY ? (size_t)-1 : (size_t)rl.rlim_max;
    *before = *after = soft;
    size_t target = hard < ceiling ? hard : ceiling;
    if (soft >= target)
        return 0;
    rl.rlim_cur = (rlim_t)target;
    if (setrlimit(RLIMIT_NOFILE, &rl) != 0)
        return -errno;
    *after = target;
    return 0;
}

static size_t fdlimit_cost(const struct fdlimit_share *s)
{
    return s->cost ? s->cost : 1;
}

bool fdlimit_fit(size_t limit, size_t reserve, struct fdlimit_share *shares, size_t n)
{
    size_t avail = limit > reserve ? limit - reserve : 0;
    size_t total = 0;
    for (size_t i = 0; i < n; i++)
        total += shares[i].want * fdlimit_cost(&shares[i]);
    if (total <= avail) {
        for (size_t i = 0; i < n; i++)
            shares[i].got = shares[i].want;
        return false;
    }
    /* got == (size_t)-1 marks a share not settled yet. */
    size_t open = n;
    for (size_t i = 0; i < n; i++)
        shares[i].got = (size_t)-1;
    bool settled = true;
    while (open > 0 && settled) {
        settled = false;
        size_t part = avail / open;
        for (size_t i = 0; i < n; i++) {
            struct fdlimit_share *s = &shares[i];
            size_t need = s->want * fdlimit_cost(s);
            if (s->got == (size_t)-1 && need <= part) {
                s->got = s->want;
                avail -= need;
                open--;
                settled = true;
            }
        }
    }
    bool scaled = false;
    for (size_t i = 0; i < n; i++) {
        struct fdlimit_share *s = &shares[i];
        if (s->got == (size_t)-1) {
            s->got = (open ? avail / open : 0) / fdlimit_cost(s); /* open > 0 here */
            scaled = true;
        }
        if (s->got < s->min)
            s->got = s->min;
    }
    return scaled;
}
