/* redis_fixture — a private redis-server for tests (header-only; not a
 * test itself).
 *
 * redis_fixture_start() runs `redis-server` in a fresh temporary directory,
 * listening only on a Unix socket there (--port 0 disables TCP), with
 * --save "" --appendonly yes --appendfsync always (the setting
 * docs/operations.md recommends), and waits until it answers PING. The child
 * gets PR_SET_PDEATHSIG(SIGKILL), so the server dies with the test process
 * even if the test crashes; redis_fixture_stop() stops it and removes the
 * directory. A missing redis-server is a failure, never a skip: the
 * project's setup installs it. */
#ifndef COORDHUB_TESTS_REDIS_FIXTURE_H
#define COORDHUB_TESTS_REDIS_FIXTURE_H

#include <dirent.h>
#include <fcntl.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <hiredis/hiredis.h>

struct redis_fixture {
    pid_t pid;      /* the server; 0 when not running */
    char dir[256];  /* its private directory */
    char sock[300]; /* its Unix socket */
    char url[310];  /* "unix://<sock>" */
};

/* Remove path and, if it is a directory, everything under it (the server
 * writes its append-only files into a subdirectory). */
static inline void redis_fixture_rm_tree(const char *path)
{
    struct stat st;
    if (lstat(path, &st) != 0)
        return;
    if (S_ISDIR(st.st_mode)) {
        DIR *d = opendir(path);
        struct dirent *de;
        while (d && (de = readdir(d)) != NULL) {
            if (strcmp(de->d_name, ".") == 0 || strcmp(de->d_name, "..") == 0)
                continue;
            char sub[1024];
            int n = snprintf(sub, sizeof(sub), "%s/%s", path, de->d_name);
            if (n > 0 && (size_t)n < sizeof(sub))
                redis_fixture_rm_tree(sub);
        }
        if (d)
            closedir(d);
        rmdir(path);
    } else {
        unlink(path);
    }
}

static inline void redis_fixture_sleep_ms(long ms)
{
    struct timespec ts = {.tv_sec = ms / 1000, .tv_nsec = (ms % 1000) * 1000000L};
    nanosleep(&ts, NULL);
}

/* Run a command on a fresh connection; true if it answered without error. */
static inline bool redis_fixture_command(const struct redis_fixture *rf, const char *cmd)
{
    struct timeval tv = {.tv_sec = 1, .tv_usec = 0};
    redisContext *c = redisConnectUnixWithTimeout(rf->sock, tv);
    bool ok = false;
    if (c && !c->err) {
        redisReply *rep = redisCommand(c, cmd);
        ok = rep && rep->type != REDIS_REPLY_ERROR;
        freeReplyObject(rep);
    }
    redisFree(c);
    return ok;
}

/* Fork `redis-server argv[1..]` (argv[0] is "redis-server") with its
 * output appended to dir/redis.log; the child dies with the test process
 * (PR_SET_PDEATHSIG) and exits 127 when redis-server is not installed.
 * The child's pid, or -1. */
static inline pid_t redis_fixture_fork(const char *dir, const char *const argv[])
{
    char log[320];
    snprintf(log, sizeof(log), "%s/redis.log", dir);
    pid_t parent = getpid();
    pid_t pid = fork();
    if (pid != 0)
        return pid;
    prctl(PR_SET_PDEATHSIG, SIGKILL);
    if (getppid() != parent)
        _exit(126);
    int fd = open(log, O_WRONLY | O_CREAT | O_APPEND, 0600);
    if (fd >= 0) {
        dup2(fd, 1);
        dup2(fd, 2);
        close(fd);
    }
    execvp("redis-server", (char *const *)argv);
    _exit(127);
}

/* Stop the process *pid (SIGTERM, then SIGKILL after 5 s); *pid becomes
 * 0. Nothing when *pid is 0. */
static inline void redis_fixture_stop_pid(pid_t *pid)
{
    if (*pid <= 0)
        return;
    kill(*pid, SIGTERM);
    for (int i = 0; i < 200; i++) {
        if (waitpid(*pid, NULL, WNOHANG) == *pid) {
            *pid = 0;
            return;
        }
        redis_fixture_sleep_ms(25);
    }
    kill(*pid, SIGKILL);
    waitpid(*pid, NULL, 0);
    *pid = 0;
}

/* Start the server process in rf->dir (which exists). 0 or -1. */
static inline int redis_fixture_spawn(struct redis_fixture *rf)
{
    const char *const argv[] = {
        "redis-server", "--port",        "0",      "--unixsocket", rf->sock, "--unixsocketperm",
        "700",          "--dir",         rf->dir,  "--save",       "",       "--appendonly",
        "yes",          "--appendfsync", "always", "--daemonize",  "no",     NULL};
    pid_t pid = redis_fixture_fork(rf->dir, argv);
    if (pid < 0)
        return -1;
    rf->pid = pid;
    for (int i = 0; i < 200; i++) {
        int status;
        if (waitpid(pid, &status, WNOHANG) == pid) {
            fprintf(stderr, "redis_fixture: redis-server exited (status %d)%s\n", status,
                    WIFEXITED(status) && WEXITSTATUS(status) == 127
                        ? ": redis-server is not installed (run make setup)"
                        : "");
            rf->pid = 0;
            return -1;
        }
        if (redis_fixture_command(rf, "PING"))
            return 0;
        redis_fixture_sleep_ms(25);
    }
    fprintf(stderr, "redis_fixture: redis-server did not answer within 5 s\n");
    return -1;
}

/* Stop the server (SIGTERM, then SIGKILL after 5 s), keeping its files. */
static inline void redis_fixture_kill(struct redis_fixture *rf)
{
    redis_fixture_stop_pid(&rf->pid);
}

/* Make a temporary directory and start a server in it. 0 or -1 (with
 * nothing left behind). */
static inline int redis_fixture_start(struct redis_fixture *rf)
{
    memset(rf, 0, sizeof(*rf));
    const char *tmp = getenv("TMPDIR");
    snprintf(rf->dir, sizeof(rf->dir), "%s/coordhub-redis-XXXXXX", tmp ? tmp : "/tmp");
    if (!mkdtemp(rf->dir))
        return -1;
    snprintf(rf->sock, sizeof(rf->sock), "%s/redis.sock", rf->dir);
    snprintf(rf->url, sizeof(rf->url), "unix://%s", rf->sock);
    if (redis_fixture_spawn(rf) != 0) {
        redis_fixture_kill(rf);
        redis_fixture_rm_tree(rf->dir);
        return -1;
    }
    return 0;
}

/* Stop the server and remove its directory. Safe to call twice. */
static inline void redis_fixture_stop(struct redis_fixture *rf)
{
    redis_fixture_kill(rf);
    if (rf->dir[0])
        redis_fixture_rm_tree(rf->dir);
    rf->dir[0] = '\0';
}

#endif
