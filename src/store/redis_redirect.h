/* redis_redirect — the parser of Redis Cluster redirections in error
 * replies (MOVED, ASK) and of the errors that say a slot is not served
 * for now (TRYAGAIN, CLUSTERDOWN).
 *
 * Pure: a C string in, a struct out, no I/O, no allocation. It is the
 * only place that reads these replies: the blocking commands, the append
 * script's answer and the tail all hand their error text here
 * (redis_route.c decides what to do about it). Fuzzed by
 * fuzz/fuzz_redis_redirect.c.
 *
 * "MOVED <slot> <host>:<port>" and "ASK <slot> <host>:<port>": the address
 * is what follows the second space, split at its last colon (an IPv6
 * host keeps its own colons); the port must be a decimal 1..65535 ending
 * the text. An empty host (":<port>": the answering node does not know
 * its peer's address) is reported as has_host false with has_addr true.
 * A MOVED or ASK whose address cannot be read is still that kind, with
 * has_addr false. The slot is read when it is a decimal 0..16383, else
 * -1; it does not decide the kind. */
#ifndef COORDHUB_STORE_REDIS_REDIRECT_H
#define COORDHUB_STORE_REDIS_REDIRECT_H

#include <stdbool.h>

enum redis_redirect_kind {
    REDIS_REDIRECT_NONE,        /* not a cluster redirection */
    REDIS_REDIRECT_MOVED,       /* the slot lives on another node now */
    REDIS_REDIRECT_ASK,         /* the slot is being migrated (one command elsewhere) */
    REDIS_REDIRECT_TRYAGAIN,    /* a migration split the command's keys */
    REDIS_REDIRECT_CLUSTERDOWN, /* the cluster serves no slot */
};

/* Longest host kept; a longer one counts as no address. */
#define REDIS_REDIRECT_HOST_MAX 255

struct redis_redirect {
    enum redis_redirect_kind kind;
    long slot;     /* MOVED/ASK: 0..16383, or -1 when not given as such */
    bool has_addr; /* MOVED/ASK: a valid port was read */
    bool has_host; /* with has_addr: host is non-empty */
    int port;      /* with has_addr: 1..65535 */
    char host[REDIS_REDIRECT_HOST_MAX + 1];
};

/* Parse err (an error reply's text, NUL-terminated) into *out, which is
 * always filled (kind NONE for anything else). Returns out->kind. */
enum redis_redirect_kind redis_redirect_parse(const char *err, struct redis_redirect *out);

#endif
