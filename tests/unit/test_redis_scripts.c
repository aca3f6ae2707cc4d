/* test_redis_scripts — the redis store's scripts and their one argument
 * layout (store/redis_scripts.h): each Lua body reads KEYS and ARGV only
 * through the names its generated prologue declares, every name it uses
 * is declared and every declared one used, positions are consecutive,
 * and the vectors the C side builds hold each value where the script
 * reads it; plus the seed-compatibility projection (redis_compat.h)
 * those vectors carry. No Redis here: tests/unit/test_store_redis.c and
 * the contract suite run the scripts on a server. */
#include <ctype.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cJSON.h>
#include <cmocka.h>

#include "base/xmalloc.h"
#include "store/redis_args.h"
#include "store/redis_compat.h"
#include "store/redis_scripts.h"

static const struct redis_script_name *find_name(const struct redis_script_info *info,
                                                 const char *name, size_t len)
{
    const struct redis_script_name *lists[3] = {info->keys, info->args, info->offsets};
    size_t counts[3] = {info->nkeys, info->nargs, info->noffsets};
    for (int l = 0; l < 3; l++)
        for (size_t i = 0; i < counts[l]; i++)
            if (strlen(lists[l][i].name) == len && strncmp(lists[l][i].name, name, len) == 0)
                return &lists[l][i];
    return NULL;
}

static int num(const char *s)
{
    char *end = NULL;
    long v = strtol(s, &end, 10);
    assert_true(end != s && *end == '\0');
    return (int)v;
}

static bool is_ident(char c)
{
    return isalnum((unsigned char)c) || c == '_';
}

/* The prologue is exactly the generated declarations, in order. */
static void check_prologue(const struct redis_script_info *info)
{
    char want[4096] = "";
    size_t off = 0;
    for (size_t i = 0; i < info->nkeys; i++)
        off += (size_t)snprintf(want + off, sizeof(want) - off, "local %s = KEYS[%d]\n",
                                info->keys[i].name, info->keys[i].pos);
    for (size_t i = 0; i < info->nargs; i++)
        off += (size_t)snprintf(want + off, sizeof(want) - off, "local %s = ARGV[%d]\n",
                                info->args[i].name, info->args[i].pos);
    for (size_t i = 0; i < info->noffsets; i++)
        off += (size_t)snprintf(want + off, sizeof(want) - off, "local %s = %d\n",
                                info->offsets[i].name, info->offsets[i].pos);
    assert_int_equal(info->prologue_len, off);
    assert_memory_equal(info->text, want, off);
}

/* The body indexes KEYS never and ARGV never by a number; every layout
 * name it mentions is declared and every declared name is used. */
static void check_body(const struct redis_script_info *info)
{
    const char *body = info->text + info->prologue_len;
    assert_null(strstr(body, "KEYS"));
    for (const char *p = strstr(body, "ARGV["); p; p = strstr(p + 1, "ARGV["))
        assert_false(isdigit((unsigned char)p[5]));
    size_t used = 0;
    for (const char *p = body; *p; p++) {
        bool start = (p == body || !is_ident(p[-1])) && strchr("KAPET", *p) && p[1] == '_' &&
                     isupper((unsigned char)p[2]);
        if (!start)
            continue;
        size_t len = 0;
        while (is_ident(p[len]))
            len++;
        const struct redis_script_name *n = find_name(info, p, len);
        if (!n)
            fail_msg("the body uses %.*s, which the layout does not declare", (int)len, p);
        used++;
        p += len - 1;
    }
    const struct redis_script_name *lists[3] = {info->keys, info->args, info->offsets};
    size_t counts[3] = {info->nkeys, info->nargs, info->noffsets};
    for (int l = 0; l < 3; l++)
        for (size_t i = 0; i < counts[l]; i++) {
            const char *name = lists[l][i].name;
            const char *at = body;
            bool found = false;
            size_t len = strlen(name);
            while ((at = strstr(at, name)) != NULL && !found) {
                found = (at == body || !is_ident(at[-1])) && !is_ident(at[len]);
                at += len;
            }
            if (!found)
                fail_msg("%s is declared but the body never uses it", name);
        }
    assert_true(used > 0);
}

/* Names of one prefix (K_, A_, E_, T_) sit at consecutive positions from
 * first, in their order. */
static void check_consecutive(const struct redis_script_name *names, size_t n, char prefix,
                              int first)
{
    int want = first;
    for (size_t i = 0; i < n; i++) {
        if (names[i].name[0] != prefix)
            continue;
        assert_int_equal(names[i].pos, want);
        want++;
    }
}

static void test_redis_scripts__layouts(void **state)
{
    (void)state;
    for (int w = 0; w < REDIS_SCRIPT_COUNT; w++) {
        const struct redis_script_info *info = redis_script_info((enum redis_script)w);
        assert_non_null(info);
        check_prologue(info);
        check_body(info);
        check_consecutive(info->keys, info->nkeys, 'K', 1);
        check_consecutive(info->args, info->nargs, 'A', 1);
        check_consecutive(info->offsets, info->noffsets, 'E', 0);
        check_consecutive(info->offsets, info->noffsets, 'T', 0);
        const struct redis_script_name *ev = find_name(info, "P_EVENTS", 8);
        if (ev)
            assert_int_equal(ev->pos, (int)info->nargs + 1);
    }
    assert_null(redis_script_info(REDIS_SCRIPT_COUNT));
    assert_int_equal(redis_script_info(REDIS_SCRIPT_APPEND)->nkeys, REDIS_APPEND_NKEYS);
    assert_int_equal(redis_script_info(REDIS_SCRIPT_APPEND)->nargs, REDIS_APPEND_NARGS);
    assert_int_equal(redis_script_info(REDIS_SCRIPT_INGEST)->nargs, REDIS_INGEST_NARGS);
}

static struct redis_scripts fake_shas(void)
{
    struct redis_scripts s;
    for (int i = 0; i < REDIS_SCRIPT_COUNT; i++) {
        memset(s.sha[i], 'a' + i, 40);
        s.sha[i][40] = '\0';
    }
    return s;
}

/* ARGV[pos] (1-based, as Lua sees it) of an EVALSHA vector. */
static const char *argv_at(const struct redis_args *a, int pos)
{
    int nkeys = num(a->argv[2]);
    int i = 2 + nkeys + pos;
    assert_true(i < a->argc);
    return a->argv[i];
}

static void make_events(struct event *evs)
{
    cJSON *d = cJSON_CreateObject();
    cJSON_AddStringToObject(d, "file", "src/a.c");
    cJSON_AddStringToObject(d, "agentId", "ag");
    cJSON_AddStringToObject(d, "reason", "edit");
    cJSON_AddNumberToObject(d, "ttl", 60);
    event_init(&evs[0], EVENT_FILE_LOCKED, 1700000000000, d);
    evs[0].seq = 6;
    d = cJSON_CreateObject();
    cJSON_AddStringToObject(d, "serverId", "srv1");
    cJSON_AddStringToObject(d, "name", "x");
    event_init(&evs[1], EVENT_SERVER_REGISTERED, 1700000000001, d);
    evs[1].seq = 7;
    evs[1].signature = xstrdup("sig");
}

static void test_redis_scripts__append_vector(void **state)
{
    (void)state;
    struct event evs[2];
    make_events(evs);
    struct redis_scripts s = fake_shas();
    struct redis_append_req req = {.k_seq = "mcp:{w}:seq",
                                   .k_log = "mcp:{w}:log",
                                   .k_servers = "mcp:{w}:servers",
                                   .channel = "mcp:events",
                                   .writer = "0123456789abcdef",
                                   .ws = "w",
                                   .compat = true,
                                   .expected = 5,
                                   .evs = evs,
                                   .n = 2};
    struct redis_args a;
    redis_args_init(&a);
    redis_scripts_append_args(&a, &s, &req);
    assert_string_equal(a.argv[0], "EVALSHA");
    assert_memory_equal(a.argv[1], s.sha[REDIS_SCRIPT_APPEND], 40);
    assert_string_equal(a.argv[2], "2");
    assert_string_equal(a.argv[2 + REDIS_APPEND_K_SEQ], "mcp:{w}:seq");
    assert_string_equal(a.argv[2 + REDIS_APPEND_K_LOG], "mcp:{w}:log");
    assert_string_equal(argv_at(&a, REDIS_APPEND_A_EXPECTED), "5");
    assert_string_equal(argv_at(&a, REDIS_APPEND_A_N), "2");
    assert_string_equal(argv_at(&a, REDIS_APPEND_A_LAST), "7");
    assert_string_equal(argv_at(&a, REDIS_APPEND_A_CHANNEL), "mcp:events");
    assert_string_equal(argv_at(&a, REDIS_APPEND_A_REGISTRY), REDIS_COMPAT_REGISTRY);
    assert_string_equal(argv_at(&a, REDIS_APPEND_A_SERVERS), "mcp:{w}:servers");

    /* Walk the blocks the way the Lua body does. */
    int i = REDIS_APPEND_P_EVENTS;
    assert_string_equal(argv_at(&a, i + REDIS_APPEND_E_ID), "6-0");
    int nf = num(argv_at(&a, i + REDIS_APPEND_E_NF));
    assert_string_equal(argv_at(&a, i + REDIS_APPEND_E_FIELDS), "w");
    assert_string_equal(argv_at(&a, i + REDIS_APPEND_E_FIELDS + 1), "0123456789abcdef");
    assert_string_equal(argv_at(&a, i + REDIS_APPEND_E_FIELDS + 2), "type");
    assert_string_equal(argv_at(&a, i + REDIS_APPEND_E_FIELDS + 3), EVENT_FILE_LOCKED);
    int j = i + REDIS_APPEND_E_FIELDS + nf;
    cJSON *wire = cJSON_Parse(argv_at(&a, j + REDIS_APPEND_T_WIRE));
    assert_non_null(wire);
    assert_string_equal(cJSON_GetObjectItem(wire, "type")->valuestring, EVENT_FILE_LOCKED);
    assert_string_equal(cJSON_GetObjectItem(wire, "id")->valuestring, "6");
    cJSON_Delete(wire);
    assert_string_equal(argv_at(&a, j + REDIS_APPEND_T_LOCK_OP), "set");
    assert_string_equal(argv_at(&a, j + REDIS_APPEND_T_LOCK_KEY), "mcp:lock:src/a.c");
    cJSON *v = cJSON_Parse(argv_at(&a, j + REDIS_APPEND_T_LOCK_VALUE));
    assert_string_equal(cJSON_GetObjectItem(v, "agentId")->valuestring, "ag");
    assert_string_equal(cJSON_GetObjectItem(v, "reason")->valuestring, "edit");
    cJSON_Delete(v);
    assert_string_equal(argv_at(&a, j + REDIS_APPEND_T_LOCK_PXAT), "1700000060000");
    assert_string_equal(argv_at(&a, j + REDIS_APPEND_T_REG_OP), "-");

    i = j + REDIS_APPEND_T_END;
    assert_string_equal(argv_at(&a, i + REDIS_APPEND_E_ID), "7-0");
    nf = num(argv_at(&a, i + REDIS_APPEND_E_NF));
    assert_string_equal(argv_at(&a, i + REDIS_APPEND_E_FIELDS + nf - 2), "sig");
    assert_string_equal(argv_at(&a, i + REDIS_APPEND_E_FIELDS + nf - 1), "sig");
    j = i + REDIS_APPEND_E_FIELDS + nf;
    assert_string_equal(argv_at(&a, j + REDIS_APPEND_T_LOCK_OP), "-");
    assert_string_equal(argv_at(&a, j + REDIS_APPEND_T_REG_OP), "reg");
    assert_string_equal(argv_at(&a, j + REDIS_APPEND_T_REG_ID), "srv1");
    cJSON *m = cJSON_Parse(argv_at(&a, j + REDIS_APPEND_T_REG_MEMBER));
    assert_string_equal(cJSON_GetObjectItem(m, "serverId")->valuestring, "srv1");
    cJSON_Delete(m);
    /* The two blocks fill the vector exactly: the next block would start
     * one past its end. */
    assert_int_equal(a.argc, 2 + REDIS_APPEND_NKEYS + j + REDIS_APPEND_T_END);
    redis_args_free(&a);

    /* Compatibility off (Cluster mode): every operation is "-". */
    req.compat = false;
    redis_args_init(&a);
    redis_scripts_append_args(&a, &s, &req);
    i = REDIS_APPEND_P_EVENTS;
    nf = num(argv_at(&a, i + REDIS_APPEND_E_NF));
    j = i + REDIS_APPEND_E_FIELDS + nf;
    assert_string_equal(argv_at(&a, j + REDIS_APPEND_T_LOCK_OP), "-");
    assert_string_equal(argv_at(&a, j + REDIS_APPEND_T_LOCK_KEY), "");
    redis_args_free(&a);
    event_deinit(&evs[0]);
    event_deinit(&evs[1]);
}

static void test_redis_scripts__ingest_vector(void **state)
{
    (void)state;
    struct event evs[2];
    make_events(evs);
    struct redis_scripts s = fake_shas();
    struct redis_ingest_req req = {.k_seq = "q",
                                   .k_log = "l",
                                   .k_seen = "seen",
                                   .window_s = "60",
                                   .w = "foreign:x",
                                   .evs = evs,
                                   .n = 2};
    struct redis_args a;
    redis_args_init(&a);
    redis_scripts_ingest_args(&a, &s, &req);
    assert_memory_equal(a.argv[1], s.sha[REDIS_SCRIPT_INGEST], 40);
    assert_string_equal(a.argv[2], "3");
    assert_string_equal(a.argv[2 + REDIS_INGEST_K_SEEN], "seen");
    assert_string_equal(argv_at(&a, REDIS_INGEST_A_WINDOW), "60");
    assert_string_equal(argv_at(&a, REDIS_INGEST_A_N), "2");
    assert_string_equal(argv_at(&a, REDIS_INGEST_A_WRITER), "foreign:x");
    int i = REDIS_INGEST_P_EVENTS;
    for (int e = 0; e < 2; e++) {
        int nf = num(argv_at(&a, i + REDIS_INGEST_E_NF));
        assert_string_equal(argv_at(&a, i + REDIS_INGEST_E_FIELDS), "type"); /* no "w" */
        assert_string_equal(argv_at(&a, i + REDIS_INGEST_E_FIELDS + 1), evs[e].type);
        i += REDIS_INGEST_E_FIELDS + nf;
    }
    assert_int_equal(a.argc, 2 + REDIS_INGEST_NKEYS + i);
    redis_args_free(&a);
    event_deinit(&evs[0]);
    event_deinit(&evs[1]);
}

static struct event lock_event(const char *type, const char *mode, bool renewed, const char *src)
{
    struct event ev;
    cJSON *d = cJSON_CreateObject();
    cJSON_AddStringToObject(d, "file", "f");
    cJSON_AddStringToObject(d, "agentId", "ag");
    if (mode)
        cJSON_AddStringToObject(d, "mode", mode);
    cJSON_AddNumberToObject(d, "ttl", 2);
    if (renewed)
        cJSON_AddTrueToObject(d, "renewed");
    event_init(&ev, type, 1000, d);
    free(ev.source);
    ev.source = src ? xstrdup(src) : NULL;
    return ev;
}

static void test_redis_scripts__compat_projection(void **state)
{
    (void)state;
    struct redis_args keep;
    redis_args_init(&keep);
    struct redis_compat_lock lk;
    struct event ev = lock_event(EVENT_FILE_LOCKED, NULL, true, EVENT_SOURCE_HUB);
    redis_compat_lock(&ev, true, &keep, &lk);
    assert_string_equal(lk.op, "renew");
    assert_string_equal(lk.key, "mcp:lock:f");
    assert_string_equal(lk.pxat, "3000");
    event_deinit(&ev);
    /* A shared lock deletes the exclusive holder's key if it is this agent's. */
    ev = lock_event(EVENT_FILE_LOCKED, "shared", false, EVENT_SOURCE_HUB);
    redis_compat_lock(&ev, true, &keep, &lk);
    assert_string_equal(lk.op, "del");
    assert_string_equal(lk.value, "ag");
    event_deinit(&ev);
    ev = lock_event(EVENT_FILE_UNLOCKED, NULL, false, EVENT_SOURCE_HUB);
    redis_compat_lock(&ev, true, &keep, &lk);
    assert_string_equal(lk.op, "del");
    assert_string_equal(lk.key, "mcp:lock:f");
    event_deinit(&ev);
    /* Not the hub's own (another source): nothing; nor anything when off. */
    ev = lock_event(EVENT_FILE_LOCKED, NULL, false, "other");
    redis_compat_lock(&ev, true, &keep, &lk);
    assert_string_equal(lk.op, "-");
    assert_string_equal(lk.pxat, "0");
    event_deinit(&ev);
    ev = lock_event(EVENT_FILE_LOCKED, NULL, false, EVENT_SOURCE_HUB);
    redis_compat_lock(&ev, false, &keep, &lk);
    assert_string_equal(lk.op, "-");
    event_deinit(&ev);

    struct redis_compat_reg rg;
    struct event reg;
    cJSON *d = cJSON_CreateObject();
    cJSON_AddStringToObject(d, "serverId", "s1");
    event_init(&reg, EVENT_SERVER_REMOVED, 1, d);
    redis_compat_registry(&reg, true, &keep, &rg);
    assert_string_equal(rg.op, "rm");
    assert_string_equal(rg.id, "s1");
    redis_compat_registry(&reg, false, &keep, &rg);
    assert_string_equal(rg.op, "-");
    event_deinit(&reg);
    redis_args_free(&keep);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_redis_scripts__layouts),
        cmocka_unit_test(test_redis_scripts__append_vector),
        cmocka_unit_test(test_redis_scripts__ingest_vector),
        cmocka_unit_test(test_redis_scripts__compat_projection),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
