/* test_store_crash — a kill -9 at any moment loses no acknowledged append
 * (docs/architecture.md, "Group commit").
 *
 * Each round forks a child that opens the store and appends batches of
 * random size in a loop; after each successful append (the callback with
 * status 0) it writes the acknowledged seq to a pipe. The parent collects
 * acknowledgements until a random deadline (sometimes 0, to kill the child
 * while it opens or creates the database), SIGKILLs it, drains the pipe,
 * reopens the store and checks that
 *   - every acknowledged seq is in the log (last_seq >= the highest ack),
 *   - the log is contiguous from first_seq to last_seq and each event is
 *     the one the child wrote for that seq (data.i == seq),
 *   - the log never shrinks from one round to the next.
 * The next round's child continues the same database, so recovery of a
 * hot WAL is exercised over and over.
 *
 * Usage: test_store_crash <backend> [rounds]. Set COORDHUB_CRASH_SEED to
 * replay a run (the seed is printed). Only backends whose log outlives the
 * process make sense here ("sqlite"). */
#include <errno.h>
#include <inttypes.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "base/clock.h"
#include "store/store.h"

#define CRASH_ROUNDS 25
#define CRASH_MAX_DELAY_MS 250
#define CRASH_MAX_BATCH 40

static uint64_t crash_rng_state;

/* xorshift64*: reproducible from the printed seed. */
static uint64_t crash_rand(void)
{
    crash_rng_state ^= crash_rng_state >> 12;
    crash_rng_state ^= crash_rng_state << 25;
    crash_rng_state ^= crash_rng_state >> 27;
    return crash_rng_state * 2685821657736338717ULL;
}

struct crash_child {
    int fd;         /* write end of the ack pipe */
    int status;     /* last callback status */
    uint64_t acked; /* last acknowledged seq */
};

static void crash_child_ack(void *arg, int status, uint64_t seq)
{
    struct crash_child *c = arg;
    c->status = status;
    if (status != 0)
        return;
    c->acked = seq;
    /* 8 bytes < PIPE_BUF: atomic, never torn by the kill. */
    if (write(c->fd, &seq, sizeof(seq)) != (ssize_t)sizeof(seq))
        _exit(5);
}

/* The child: append forever; exit codes other than death by SIGKILL are
 * failures the parent reports. */
static void crash_child_run(const char *url, int fd, uint64_t seed)
{
    struct store *s = NULL;
    char *err = NULL;
    struct crash_child c = {fd, 0, 0};
    crash_rng_state = seed;
    if (store_open(url, NULL, &s, &err)) {
        fprintf(stderr, "child: store_open: %s\n", err ? err : "?");
        _exit(3);
    }
    for (;;) {
        uint64_t last = 0;
        if (s->ops->last_seq(s, &last))
            _exit(4);
        size_t n = 1 + (size_t)(crash_rand() % CRASH_MAX_BATCH);
        struct event evs[CRASH_MAX_BATCH];
        for (size_t i = 0; i < n; i++) {
            cJSON *data = cJSON_CreateObject();
            cJSON_AddNumberToObject(data, "i", (double)(last + 1 + i));
            cJSON_AddNumberToObject(data, "pid", (double)getpid());
            event_init(&evs[i], EVENT_FILE_LOCKED, clock_wall_ms(), data);
            evs[i].seq = last + 1 + i;
        }
        c.status = 1;
        int rc = s->ops->append(s, last, evs, n, crash_child_ack, &c);
        for (size_t i = 0; i < n; i++)
            event_deinit(&evs[i]);
        if (rc != 0 || c.status != 0) {
            fprintf(stderr, "child: append after %" PRIu64 ": rc %d status %d\n", last, rc,
                    c.status);
            _exit(6);
        }
    }
}

/* Read acks from fd until deadline_ms (wall clock) or EOF; keep the
 * highest in *max_ack. Returns the number of acks read. */
static uint64_t crash_collect(int fd, int64_t deadline_ms, uint64_t *max_ack)
{
    uint64_t count = 0;
    for (;;) {
        int wait_ms = 0;
        if (deadline_ms >= 0) {
            int64_t left = deadline_ms - clock_wall_ms();
            if (left <= 0)
                return count;
            wait_ms = (int)left;
        } else {
            wait_ms = -1;
        }
        struct pollfd p = {fd, POLLIN, 0};
        int pr = poll(&p, 1, wait_ms);
        if (pr < 0 && errno == EINTR)
            continue;
        if (pr <= 0)
            return count;
        uint64_t buf[512];
        ssize_t r = read(fd, buf, sizeof(buf));
        if (r < 0 && errno == EINTR)
            continue;
        if (r <= 0)
            return count; /* EOF: the child is gone */
        if (r % (ssize_t)sizeof(uint64_t) != 0) {
            /* Reads return whole 8-byte writes; anything else is a bug. */
            fprintf(stderr, "torn ack read (%zd bytes)\n", r);
            exit(1);
        }
        for (ssize_t i = 0; i < r / (ssize_t)sizeof(uint64_t); i++) {
            if (buf[i] <= *max_ack) {
                fprintf(stderr, "acks went backwards: %" PRIu64 " after %" PRIu64 "\n", buf[i],
                        *max_ack);
                exit(1);
            }
            *max_ack = buf[i];
            count++;
        }
    }
}

/* Reopen url and check the log against the highest ack and the previous
 * round's length. Returns the log's last seq; exits on a violation. */
static uint64_t crash_verify(const char *url, int round, uint64_t max_ack, uint64_t prev_last)
{
    struct store *s = NULL;
    char *err = NULL;
    uint64_t first = 0, last = 0, expect;
    struct event_vec v;
    if (store_open(url, NULL, &s, &err)) {
        fprintf(stderr, "round %d: reopen failed: %s\n", round, err ? err : "?");
        exit(1);
    }
    if (s->ops->first_seq(s, &first) || s->ops->last_seq(s, &last)) {
        fprintf(stderr, "round %d: first/last_seq failed\n", round);
        exit(1);
    }
    if (last < max_ack || last < prev_last) {
        fprintf(stderr,
                "round %d: LOST DATA: last_seq %" PRIu64 " < acked %" PRIu64 " or previous %" PRIu64
                "\n",
                round, last, max_ack, prev_last);
        exit(1);
    }
    event_vec_init(&v);
    expect = first;
    for (uint64_t since = first - 1;; since += v.len) {
        event_vec_clear(&v);
        if (s->ops->read(s, since, 5000, &v)) {
            fprintf(stderr, "round %d: read failed\n", round);
            exit(1);
        }
        if (v.len == 0)
            break;
        for (size_t i = 0; i < v.len; i++, expect++) {
            const cJSON *iv = cJSON_GetObjectItemCaseSensitive(v.items[i].data, "i");
            if (v.items[i].seq != expect || !cJSON_IsNumber(iv) ||
                iv->valuedouble != (double)expect) {
                fprintf(stderr, "round %d: event at %" PRIu64 " is wrong or missing\n", round,
                        expect);
                exit(1);
            }
        }
    }
    if (expect != last + 1) {
        fprintf(stderr, "round %d: log ends at %" PRIu64 ", last_seq says %" PRIu64 "\n", round,
                expect - 1, last);
        exit(1);
    }
    event_vec_deinit(&v);
    store_close(s);
    return last;
}

static void crash_cleanup(const char *dir)
{
    static const char *const names[] = {"hub.db", "hub.db-wal", "hub.db-shm"};
    char path[4096];
    for (size_t i = 0; i < sizeof(names) / sizeof(*names); i++) {
        int n = snprintf(path, sizeof(path), "%s/%s", dir, names[i]);
        if (n > 0 && (size_t)n < sizeof(path))
            unlink(path);
    }
    rmdir(dir);
}

int main(int argc, char **argv)
{
    char dir[4096], url[4200];
    const char *tmp = getenv("TMPDIR");
    const char *seed_env = getenv("COORDHUB_CRASH_SEED");
    int rounds = argc > 2 ? (int)strtol(argv[2], NULL, 10) : CRASH_ROUNDS;
    uint64_t seed, prev_last = 0, total_acks = 0;
    int rounds_with_acks = 0;

    if (argc < 2 || strcmp(argv[1], "sqlite") != 0 || rounds <= 0) {
        fprintf(stderr, "usage: %s sqlite [rounds]\n", argv[0]);
        return 2;
    }
    seed = seed_env ? strtoull(seed_env, NULL, 10)
                    : (uint64_t)clock_mono_ns() ^ ((uint64_t)getpid() << 32);
    if (seed == 0)
        seed = 1;
    crash_rng_state = seed;
    printf("seed %" PRIu64 " (COORDHUB_CRASH_SEED to replay)\n", seed);

    snprintf(dir, sizeof(dir), "%s/coordhub-crash-XXXXXX", tmp ? tmp : "/tmp");
    if (!mkdtemp(dir)) {
        perror("mkdtemp");
        return 1;
    }
    snprintf(url, sizeof(url), "sqlite:%s/hub.db", dir);

    for (int round = 0; round < rounds; round++) {
        int fds[2];
        uint64_t max_ack = prev_last, acks;
        /* One round in five kills almost at once (open, schema creation). */
        int64_t delay = crash_rand() % 5 == 0 ? (int64_t)(crash_rand() % 5)
                                              : (int64_t)(crash_rand() % CRASH_MAX_DELAY_MS);
        uint64_t child_seed = crash_rand() | 1;
        if (pipe(fds)) {
            perror("pipe");
            return 1;
        }
        fflush(stdout);
        pid_t pid = fork();
        if (pid < 0) {
            perror("fork");
            return 1;
        }
        if (pid == 0) {
            close(fds[0]);
            crash_child_run(url, fds[1], child_seed);
        }
        close(fds[1]);
        acks = crash_collect(fds[0], clock_wall_ms() + delay, &max_ack);
        kill(pid, SIGKILL);
        acks += crash_collect(fds[0], -1, &max_ack); /* until EOF */
        close(fds[0]);
        int wst = 0;
        while (waitpid(pid, &wst, 0) < 0 && errno == EINTR)
            ;
        if (!WIFSIGNALED(wst) || WTERMSIG(wst) != SIGKILL) {
            fprintf(stderr, "round %d: child did not die by SIGKILL (status 0x%x)\n", round, wst);
            return 1;
        }
        uint64_t last = crash_verify(url, round, max_ack, prev_last);
        printf("round %2d: killed after %3" PRId64 " ms, %5" PRIu64 " acks, acked up to %7" PRIu64
               ", log ends at %7" PRIu64 "\n",
               round, delay, acks, max_ack, last);
        total_acks += acks;
        rounds_with_acks += acks > 0;
        prev_last = last;
    }
    crash_cleanup(dir);
    /* The test means nothing if the kills never hit a running writer. */
    if (total_acks == 0 || rounds_with_acks < rounds / 2) {
        fprintf(stderr, "too few rounds killed a writer mid-stream (%d of %d)\n", rounds_with_acks,
                rounds);
        return 1;
    }
    printf("ok: %d rounds, %" PRIu64 " acknowledged appends, none lost\n", rounds, total_acks);
    return 0;
}
