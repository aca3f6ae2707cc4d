/* redisrt — the raw Redis baselines of the Redis-store bench, through
 * hiredis's synchronous API on a Unix socket (the hub's own client library
 * and transport):
 *   redis-pair  SET key v NX PX 60000 then DEL key, one at a time: what a
 *               lock+unlock pair would cost if it were one Redis command
 *               each, timed per call and per pair like the hub's pairs;
 *   redis-tail  XADD on one connection while another waits in XREAD
 *               BLOCK on the same stream: the store-level propagation the
 *               hubs' tail is built on, timed from the XADD's send to the
 *               XREAD's answer. */
#ifndef COORDHUB_BENCH_REDISRT_H
#define COORDHUB_BENCH_REDISRT_H

struct redisrt_opts {
    const char *label;  /* names the RESULT line */
    const char *socket; /* redis-server's Unix socket */
    long n;             /* measured pairs / events */
    long warmup;        /* discarded first */
};

/* Run one bench; prints one RESULT line on stdout. 0, or -1 with the
 * reason on stderr. The keys it writes (bench:rt:*) are deleted. */
int redisrt_pair(const struct redisrt_opts *o);
int redisrt_tail(const struct redisrt_opts *o);

#endif
