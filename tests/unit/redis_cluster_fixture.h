/* redis_cluster_fixture — a private Redis Cluster of three masters and no
 * replicas for tests (header-only; not a test itself).
 *
 * redis_cluster_fixture_start() makes a temporary directory with one
 * subdirectory per node and runs three `redis-server --cluster-enabled yes`
 * on 127.0.0.1, each on an ephemeral client port and cluster bus port (a
 * port taken between probing and binding is retried with new ports), with
 * its own --dir and --cluster-config-file, --save "" --appendonly yes
 * --appendfsync always. It then forms the cluster: each node takes a third
 * of the slots (CLUSTER ADDSLOTSRANGE), the first node MEETs the others,
 * and it waits until every node reports cluster_state:ok. Children get
 * PR_SET_PDEATHSIG(SIGKILL); redis_cluster_fixture_stop() stops them and
 * removes the directory. A missing redis-server is a failure, never a
 * skip. redis_cluster_fixture_move_slot() migrates one slot with its keys
 * to another node the way a resharding does (IMPORTING / MIGRATING,
 * MIGRATE, SETSLOT NODE). */
#ifndef COORDHUB_TESTS_REDIS_CLUSTER_FIXTURE_H
#define COORDHUB_TESTS_REDIS_CLUSTER_FIXTURE_H

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>

#include "redis_fixture.h"

#define REDIS_CLUSTER_NODES 3

struct redis_cluster_fixture {
    pid_t pid[REDIS_CLUSTER_NODES];
    int port[REDIS_CLUSTER_NODES];     /* client ports on 127.0.0.1 */
    int bus[REDIS_CLUSTER_NODES];      /* cluster bus ports */
    char id[REDIS_CLUSTER_NODES][41];  /* node ids (CLUSTER MYID) */
    char dir[256];                     /* the temporary directory */
    char url[REDIS_CLUSTER_NODES][64]; /* "redis://127.0.0.1:<port>" */
};

/* A port the kernel considers free on 127.0.0.1 right now (0 on error). */
static inline int redis_cluster_fixture_free_port(void)
{
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    if (fd < 0)
        return 0;
    struct sockaddr_in a = {.sin_family = AF_INET, .sin_port = 0};
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    socklen_t len = sizeof(a);
    int port = 0;
    if (bind(fd, (struct sockaddr *)&a, sizeof(a)) == 0 &&
        getsockname(fd, (struct sockaddr *)&a, &len) == 0)
        port = ntohs(a.sin_port);
    close(fd);
    return port;
}

/* A blocking connection to node i (NULL on failure). */
static inline redisContext *redis_cluster_fixture_connect(const struct redis_cluster_fixture *cf,
                                                          int i)
{
    struct timeval tv = {.tv_sec = 2, .tv_usec = 0};
    redisContext *c = redisConnectWithTimeout("127.0.0.1", cf->port[i], tv);
    if (c && c->err) {
        redisFree(c);
        return NULL;
    }
    if (c)
        redisSetTimeout(c, tv);
    return c;
}

/* Run a command on node i; true if it answered without error. */
static inline bool redis_cluster_fixture_command(const struct redis_cluster_fixture *cf, int i,
                                                 const char *cmd)
{
    redisContext *c = redis_cluster_fixture_connect(cf, i);
    bool ok = false;
    if (c) {
        redisReply *rep = redisCommand(c, cmd);
        ok = rep && rep->type != REDIS_REPLY_ERROR;
        freeReplyObject(rep);
    }
    redisFree(c);
    return ok;
}

/* Start node i; 0 when it answers PING, -1 when it exited (a port taken)
 * or did not answer. */
static inline int redis_cluster_fixture_spawn(struct redis_cluster_fixture *cf, int i)
{
    char dir[300], port[16], bus[16];
    snprintf(dir, sizeof(dir), "%s/node%d", cf->dir, i);
    mkdir(dir, 0700);
    snprintf(port, sizeof(port), "%d", cf->port[i]);
    snprintf(bus, sizeof(bus), "%d", cf->bus[i]);
    const char *const argv[] = {"redis-server",
                                "--port",
                                port,
                                "--bind",
                                "127.0.0.1",
                                "--cluster-enabled",
                                "yes",
                                "--cluster-port",
                                bus,
                                "--cluster-config-file",
                                "nodes.conf",
                                "--dir",
                                dir,
                                "--save",
                                "",
                                "--appendonly",
                                "yes",
                                "--appendfsync",
                                "always",
                                "--daemonize",
                                "no",
                                NULL};
    pid_t pid = redis_fixture_fork(dir, argv);
    if (pid < 0)
        return -1;
    cf->pid[i] = pid;
    for (int t = 0; t < 200; t++) {
        int status;
        if (waitpid(pid, &status, WNOHANG) == pid) {
            cf->pid[i] = 0;
            if (WIFEXITED(status) && WEXITSTATUS(status) == 127)
                fprintf(stderr, "redis_cluster_fixture: redis-server is not installed (run "
                                "make setup)\n");
            return -1;
        }
        if (redis_cluster_fixture_command(cf, i, "PING"))
            return 0;
        redis_fixture_sleep_ms(25);
    }
    return -1;
}

static inline void redis_cluster_fixture_kill(struct redis_cluster_fixture *cf, int i)
{
    redis_fixture_stop_pid(&cf->pid[i]);
}

/* Stop every node and remove the directory. Safe to call twice. */
static inline void redis_cluster_fixture_stop(struct redis_cluster_fixture *cf)
{
    for (int i = 0; i < REDIS_CLUSTER_NODES; i++)
        redis_cluster_fixture_kill(cf, i);
    if (cf->dir[0])
        redis_fixture_rm_tree(cf->dir);
    cf->dir[0] = '\0';
}

/* A string-valued field "name:value" of node i's CLUSTER INFO into out. */
static inline bool redis_cluster_fixture_info(const struct redis_cluster_fixture *cf, int i,
                                              const char *name, char *out, size_t n)
{
    redisContext *c = redis_cluster_fixture_connect(cf, i);
    redisReply *rep = c ? redisCommand(c, "CLUSTER INFO") : NULL;
    bool found = false;
    if (rep && rep->type == REDIS_REPLY_STRING) {
        char want[64];
        snprintf(want, sizeof(want), "%s:", name);
        const char *p = strstr(rep->str, want);
        if (p) {
            p += strlen(want);
            size_t len = strcspn(p, "\r\n");
            snprintf(out, n, "%.*s", (int)len, p);
            found = true;
        }
    }
    freeReplyObject(rep);
    redisFree(c);
    return found;
}

/* Each node takes a third of the slots; node 0 meets the others; wait
 * until every node says cluster_state:ok. 0 or -1. */
static inline int redis_cluster_fixture_form(struct redis_cluster_fixture *cf)
{
    for (int i = 0; i < REDIS_CLUSTER_NODES; i++) {
        int first = i * 16384 / REDIS_CLUSTER_NODES;
        int last = (i + 1) * 16384 / REDIS_CLUSTER_NODES - 1;
        char cmd[96];
        snprintf(cmd, sizeof(cmd), "CLUSTER ADDSLOTSRANGE %d %d", first, last);
        if (!redis_cluster_fixture_command(cf, i, cmd))
            return -1;
        redisContext *c = redis_cluster_fixture_connect(cf, i);
        redisReply *rep = c ? redisCommand(c, "CLUSTER MYID") : NULL;
        bool ok = rep && rep->type == REDIS_REPLY_STRING && rep->len == 40;
        if (ok)
            memcpy(cf->id[i], rep->str, 41);
        freeReplyObject(rep);
        redisFree(c);
        if (!ok)
            return -1;
    }
    for (int i = 1; i < REDIS_CLUSTER_NODES; i++) {
        char cmd[96];
        snprintf(cmd, sizeof(cmd), "CLUSTER MEET 127.0.0.1 %d %d", cf->port[i], cf->bus[i]);
        if (!redis_cluster_fixture_command(cf, 0, cmd))
            return -1;
    }
    for (int t = 0; t < 600; t++) {
        int ok = 0;
        for (int i = 0; i < REDIS_CLUSTER_NODES; i++) {
            char state[32], known[16];
            if (redis_cluster_fixture_info(cf, i, "cluster_state", state, sizeof(state)) &&
                redis_cluster_fixture_info(cf, i, "cluster_known_nodes", known, sizeof(known)) &&
                strcmp(state, "ok") == 0 && strtol(known, NULL, 10) == REDIS_CLUSTER_NODES)
                ok++;
        }
        if (ok == REDIS_CLUSTER_NODES)
            return 0;
        redis_fixture_sleep_ms(50);
    }
    fprintf(stderr, "redis_cluster_fixture: the cluster did not reach cluster_state:ok in 30 s\n");
    return -1;
}

/* Start three nodes and form the cluster. 0 or -1 (nothing left behind). */
static inline int redis_cluster_fixture_start(struct redis_cluster_fixture *cf)
{
    memset(cf, 0, sizeof(*cf));
    const char *tmp = getenv("TMPDIR");
    snprintf(cf->dir, sizeof(cf->dir), "%s/coordhub-cluster-XXXXXX", tmp ? tmp : "/tmp");
    if (!mkdtemp(cf->dir))
        return -1;
    for (int i = 0; i < REDIS_CLUSTER_NODES; i++) {
        int tries = 0;
        for (;;) {
            cf->port[i] = redis_cluster_fixture_free_port();
            cf->bus[i] = redis_cluster_fixture_free_port();
            if (cf->port[i] && cf->bus[i] && cf->port[i] != cf->bus[i] &&
                redis_cluster_fixture_spawn(cf, i) == 0)
                break;
            redis_cluster_fixture_kill(cf, i);
            if (++tries == 5) {
                fprintf(stderr, "redis_cluster_fixture: node %d did not start (see %s/node%d)\n", i,
                        cf->dir, i);
                redis_cluster_fixture_stop(cf);
                return -1;
            }
        }
        snprintf(cf->url[i], sizeof(cf->url[i]), "redis://127.0.0.1:%d", cf->port[i]);
    }
    if (redis_cluster_fixture_form(cf) != 0) {
        redis_cluster_fixture_stop(cf);
        return -1;
    }
    return 0;
}

/* The slot of key (CLUSTER KEYSLOT), or -1. */
static inline long redis_cluster_fixture_slot(const struct redis_cluster_fixture *cf,
                                              const char *key)
{
    redisContext *c = redis_cluster_fixture_connect(cf, 0);
    redisReply *rep = c ? redisCommand(c, "CLUSTER KEYSLOT %s", key) : NULL;
    long slot = rep && rep->type == REDIS_REPLY_INTEGER ? (long)rep->integer : -1;
    freeReplyObject(rep);
    redisFree(c);
    return slot;
}

/* The node that serves slot, as node i sees it (CLUSTER SLOTS), or -1. */
static inline int redis_cluster_fixture_owner_seen_by(const struct redis_cluster_fixture *cf, int i,
                                                      long slot)
{
    redisContext *c = redis_cluster_fixture_connect(cf, i);
    redisReply *rep = c ? redisCommand(c, "CLUSTER SLOTS") : NULL;
    int owner = -1;
    for (size_t k = 0; rep && rep->type == REDIS_REPLY_ARRAY && k < rep->elements; k++) {
        const redisReply *e = rep->element[k];
        if (e->elements >= 3 && e->element[0]->integer <= slot && e->element[1]->integer >= slot)
            for (int n = 0; n < REDIS_CLUSTER_NODES; n++)
                if (e->element[2]->element[1]->integer == cf->port[n])
                    owner = n;
    }
    freeReplyObject(rep);
    redisFree(c);
    return owner;
}

static inline int redis_cluster_fixture_owner(const struct redis_cluster_fixture *cf, long slot)
{
    return redis_cluster_fixture_owner_seen_by(cf, 0, slot);
}

/* Move slot to node `to` with its keys, as a resharding does: `to`
 * IMPORTING, the owner MIGRATING, MIGRATE every key, then SETSLOT NODE on
 * every node; waits until every node sees the new owner. Without finish,
 * it migrates only the keys whose names contain only_substr (NULL: none)
 * and leaves the slot half-migrated; a later call with finish completes
 * it. 0 or -1. */
static inline int redis_cluster_fixture_move_slot_part(struct redis_cluster_fixture *cf, long slot,
                                                       int to, const char *only_substr, bool finish)
{
    int from = redis_cluster_fixture_owner(cf, slot);
    if (from < 0 || from == to)
        return -1;
    char cmd[160];
    snprintf(cmd, sizeof(cmd), "CLUSTER SETSLOT %ld IMPORTING %s", slot, cf->id[from]);
    if (!redis_cluster_fixture_command(cf, to, cmd))
        return -1;
    snprintf(cmd, sizeof(cmd), "CLUSTER SETSLOT %ld MIGRATING %s", slot, cf->id[to]);
    if (!redis_cluster_fixture_command(cf, from, cmd))
        return -1;
    redisContext *c = redis_cluster_fixture_connect(cf, from);
    if (!c)
        return -1;
    redisReply *keys = redisCommand(c, "CLUSTER GETKEYSINSLOT %ld 1000", slot);
    int rc = keys && keys->type == REDIS_REPLY_ARRAY ? 0 : -1;
    for (size_t k = 0; rc == 0 && k < keys->elements; k++) {
        const char *key = keys->element[k]->str;
        if (!finish && (!only_substr || !strstr(key, only_substr)))
            continue;
        redisReply *rep = redisCommand(c, "MIGRATE 127.0.0.1 %d %s 0 5000", cf->port[to], key);
        if (!rep || rep->type == REDIS_REPLY_ERROR)
            rc = -1;
        freeReplyObject(rep);
    }
    freeReplyObject(keys);
    redisFree(c);
    if (rc || !finish)
        return rc;
    for (int i = 0; i < REDIS_CLUSTER_NODES; i++) {
        int n = (to + i) % REDIS_CLUSTER_NODES; /* the new owner first */
        snprintf(cmd, sizeof(cmd), "CLUSTER SETSLOT %ld NODE %s", slot, cf->id[to]);
        if (!redis_cluster_fixture_command(cf, n, cmd))
            return -1;
    }
    for (int t = 0; t < 200; t++) {
        int agree = 0;
        for (int i = 0; i < REDIS_CLUSTER_NODES; i++)
            agree += redis_cluster_fixture_owner_seen_by(cf, i, slot) == to;
        if (agree == REDIS_CLUSTER_NODES)
            return 0;
        redis_fixture_sleep_ms(50);
    }
    return -1;
}

static inline int redis_cluster_fixture_move_slot(struct redis_cluster_fixture *cf, long slot,
                                                  int to)
{
    return redis_cluster_fixture_move_slot_part(cf, slot, to, NULL, true);
}

#endif
