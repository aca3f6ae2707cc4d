/* redis_args — an argument vector for one Redis command, built piece by
 * piece (the redis store's scripts take a variable number of arguments).
 *
 * argv[i] points either at a string the caller keeps alive until the
 * command is sent (a key name, an event's type) or at a string the vector
 * owns (redis_args_keep): redis_args_free releases those. Both arrays
 * grow as needed; argv and lens always have argc entries. No I/O. */
#ifndef COORDHUB_STORE_REDIS_ARGS_H
#define COORDHUB_STORE_REDIS_ARGS_H

#include <stddef.h>
#include <stdint.h>

struct redis_args {
    const char **argv;
    size_t *lens;
    int argc;
    size_t cap;
    char **heap; /* owned strings argv points at */
    size_t nheap, heapcap;
};

void redis_args_init(struct redis_args *a);
/* Free what a owns; a may be initialised again. */
void redis_args_free(struct redis_args *a);
/* Append s (len bytes; may hold NUL) / the C string s. Not copied. */
void redis_args_push(struct redis_args *a, const char *s, size_t len);
void redis_args_pushs(struct redis_args *a, const char *s);
/* Take ownership of s (xmalloc'd) and return it. */
const char *redis_args_keep(struct redis_args *a, char *s);
/* v in decimal, owned by a. */
const char *redis_args_u64(struct redis_args *a, uint64_t v);

#endif
