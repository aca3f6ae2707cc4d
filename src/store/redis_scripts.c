/* redis_scripts — see redis_scripts.h. */
#include "store/redis_scripts.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/err.h"
#include "base/log.h"
#include "base/xmalloc.h"
#include "store/redis_compat.h"
#include "store/redis_entry.h"
#include "store/redis_route.h"

/* The prologue lines each layout name becomes. */
#define REDIS_LUA_KEY_(name, pos) "local " #name " = KEYS[" #pos "]\n"
#define REDIS_LUA_ARG_(name, pos) "local " #name " = ARGV[" #pos "]\n"
#define REDIS_LUA_POS_(name, pos) "local " #name " = " #pos "\n"
#define REDIS_LUA_PROLOGUE_(S)                                                                     \
    REDIS_SCRIPT_##S##_KEYS(REDIS_LUA_KEY_) REDIS_SCRIPT_##S##_ARGS(REDIS_LUA_ARG_)                \
        REDIS_SCRIPT_##S##_OFFSETS(REDIS_LUA_POS_)

/* Decimal strings without leading zeros compare by length, then bytes. */
#define REDIS_LUA_LT                                                                               \
    "local function lt(a, b) if #a ~= #b then return #a < #b end return a < b end\n"

static const char redis_lua_append[] = REDIS_LUA_PROLOGUE_(
    APPEND) "local cur = redis.call('GET', K_SEQ) or '0'\n"
            "if cur ~= A_EXPECTED then return {'conflict', cur} end\n"
            "local t = redis.call('TYPE', K_LOG)['ok']\n"
            "if t ~= 'none' and t ~= 'stream' then return redis.error_reply('log key is a ' .. t) "
            "end\n"
            "local i = P_EVENTS\n"
            "for e = 1, tonumber(A_N) do\n"
            "  local nf = tonumber(ARGV[i + E_NF])\n"
            "  redis.call('XADD', K_LOG, ARGV[i + E_ID], unpack(ARGV, i + E_FIELDS, i + E_FIELDS + "
            "nf - "
            "1))\n"
            "  local j = i + E_FIELDS + nf\n"
            "  redis.call('PUBLISH', A_CHANNEL, ARGV[j + T_WIRE])\n"
            "  local op, ck, cv, cpx = ARGV[j + T_LOCK_OP], ARGV[j + T_LOCK_KEY], ARGV[j + "
            "T_LOCK_VALUE], "
            "ARGV[j + T_LOCK_PXAT]\n"
            "  if op == 'set' or op == 'renew' then\n"
            "    local v = cjson.decode(cv)\n"
            "    local old = redis.pcall('GET', ck)\n"
            "    if type(old) ~= 'table' then\n" /* an error reply: not ours, leave it */
            "      if op == 'renew' and old then\n"
            "        local ok, o = pcall(cjson.decode, old)\n"
            "        if ok and type(o) == 'table' and o.agentId == v.agentId and o.lockedAt then\n"
            "          v.lockedAt = o.lockedAt\n"
            "        end\n"
            "      end\n"
            "      redis.pcall('SET', ck, cjson.encode(v), 'PXAT', cpx)\n"
            "    end\n"
            "  elseif op == 'del' then\n"
            "    local old = redis.pcall('GET', ck)\n"
            "    if type(old) == 'string' then\n"
            "      local ok, o = pcall(cjson.decode, old)\n"
            "      if ok and type(o) == 'table' and o.agentId == cv then redis.pcall('DEL', ck) "
            "end\n"
            "    end\n"
            "  end\n"
            /* The seed's registry: the member a server id stands for is kept in
             * a hash, so a removal SREMs exactly it and a re-registration
             * replaces it. */
            "  local rop, rsid, rmem = ARGV[j + T_REG_OP], ARGV[j + T_REG_ID], ARGV[j + "
            "T_REG_MEMBER]\n"
            "  if rop == 'reg' or rop == 'rm' then\n"
            "    local old = redis.pcall('HGET', A_SERVERS, rsid)\n"
            "    if type(old) == 'string' and (rop == 'rm' or old ~= rmem) then\n"
            "      redis.pcall('SREM', A_REGISTRY, old)\n"
            "    end\n"
            "    if rop == 'reg' then\n"
            "      redis.pcall('SADD', A_REGISTRY, rmem)\n"
            "      redis.pcall('HSET', A_SERVERS, rsid, rmem)\n"
            "    else\n"
            "      redis.pcall('HDEL', A_SERVERS, rsid)\n"
            "    end\n"
            "  end\n"
            "  i = j + T_END\n"
            "end\n"
            "redis.call('SET', K_SEQ, A_LAST)\n"
            "return {'ok', A_LAST}\n";

static const char redis_lua_snapshot[] = REDIS_LUA_PROLOGUE_(SNAPSHOT) REDIS_LUA_LT
    "local last = redis.call('GET', K_SEQ) or '0'\n"
    "if lt(last, A_SEQ) then return 'beyond' end\n"
    "local cur = redis.call('HGET', K_SNAP, 'seq')\n"
    "if cur and lt(A_SEQ, cur) then return 'older' end\n"
    "redis.call('HSET', K_SNAP, 'seq', A_SEQ, 'text', A_TEXT)\n"
    "return 'ok'\n";

static const char redis_lua_trim[] =
    REDIS_LUA_PROLOGUE_(TRIM) REDIS_LUA_LT "local snap = redis.call('HGET', K_SNAP, 'seq') or '0'\n"
                                           "if lt(snap, A_UPTO) then return 'beyond' end\n"
                                           "local t = redis.call('GET', K_TRIMMED) or '0'\n"
                                           "if not lt(t, A_UPTO) then return 'ok' end\n"
                                           "redis.call('XTRIM', K_LOG, 'MINID', A_MINID)\n"
                                           "redis.call('SET', K_TRIMMED, A_UPTO)\n"
                                           "return 'ok'\n";

/* Seqs are counted in decimal strings (inc), never Lua numbers. */
static const char redis_lua_ingest[] = REDIS_LUA_PROLOGUE_(
    INGEST) "local function inc(s)\n"
            "  local i = #s\n"
            "  while i > 0 and s:sub(i, i) == '9' do i = i - 1 end\n"
            "  if i == 0 then return '1' .. string.rep('0', #s) end\n"
            "  return s:sub(1, i - 1) .. string.char(s:byte(i) + 1) .. string.rep('0', #s - i)\n"
            "end\n"
            "local cur = redis.call('GET', K_SEQ) or '0'\n"
            "if not cur:match('^%d+$') then return redis.error_reply('version key holds no seq') "
            "end\n"
            "local t = redis.call('TYPE', K_LOG)['ok']\n"
            "if t ~= 'none' and t ~= 'stream' then return redis.error_reply('log key is a ' .. t) "
            "end\n"
            "if not redis.call('SET', K_SEEN, '1', 'NX', 'EX', A_WINDOW) then\n"
            "  return {'duplicate', cur}\n"
            "end\n"
            "local i = P_EVENTS\n"
            "for e = 1, tonumber(A_N) do\n"
            "  cur = inc(cur)\n"
            "  local nf = tonumber(ARGV[i + E_NF])\n"
            "  redis.call('XADD', K_LOG, cur .. '-0', 'w', A_WRITER, unpack(ARGV, i + E_FIELDS, i "
            "+ "
            "E_FIELDS + nf - 1))\n"
            "  i = i + E_FIELDS + nf\n"
            "end\n"
            "redis.call('SET', K_SEQ, cur)\n"
            "return {'ok', cur}\n";

#define REDIS_NAME_(name, pos) {#name, pos},
#define REDIS_LAYOUT_(S)                                                                           \
    static const struct redis_script_name redis_##S##_keys[] = {                                   \
        REDIS_SCRIPT_##S##_KEYS(REDIS_NAME_)};                                                     \
    static const struct redis_script_name redis_##S##_args[] = {                                   \
        REDIS_SCRIPT_##S##_ARGS(REDIS_NAME_)};
REDIS_LAYOUT_(APPEND)
REDIS_LAYOUT_(INGEST)
REDIS_LAYOUT_(SNAPSHOT)
REDIS_LAYOUT_(TRIM)
static const struct redis_script_name redis_APPEND_offsets[] = {
    REDIS_SCRIPT_APPEND_OFFSETS(REDIS_NAME_)};
static const struct redis_script_name redis_INGEST_offsets[] = {
    REDIS_SCRIPT_INGEST_OFFSETS(REDIS_NAME_)};

#define REDIS_N_(arr) (sizeof(arr) / sizeof(*(arr)))
#define REDIS_PROLOGUE_LEN_(S) (sizeof(REDIS_LUA_PROLOGUE_(S)) - 1)

static const struct redis_script_info redis_scripts_table[REDIS_SCRIPT_COUNT] = {
    [REDIS_SCRIPT_APPEND] = {redis_lua_append, REDIS_PROLOGUE_LEN_(APPEND), redis_APPEND_keys,
                             redis_APPEND_args, redis_APPEND_offsets, REDIS_N_(redis_APPEND_keys),
                             REDIS_N_(redis_APPEND_args), REDIS_N_(redis_APPEND_offsets)},
    [REDIS_SCRIPT_SNAPSHOT] = {redis_lua_snapshot, REDIS_PROLOGUE_LEN_(SNAPSHOT),
                               redis_SNAPSHOT_keys, redis_SNAPSHOT_args, NULL,
                               REDIS_N_(redis_SNAPSHOT_keys), REDIS_N_(redis_SNAPSHOT_args), 0},
    [REDIS_SCRIPT_TRIM] = {redis_lua_trim, REDIS_PROLOGUE_LEN_(TRIM), redis_TRIM_keys,
                           redis_TRIM_args, NULL, REDIS_N_(redis_TRIM_keys),
                           REDIS_N_(redis_TRIM_args), 0},
    [REDIS_SCRIPT_INGEST] = {redis_lua_ingest, REDIS_PROLOGUE_LEN_(INGEST), redis_INGEST_keys,
                             redis_INGEST_args, redis_INGEST_offsets, REDIS_N_(redis_INGEST_keys),
                             REDIS_N_(redis_INGEST_args), REDIS_N_(redis_INGEST_offsets)},
};

/* redis_entry_push_fields pushes the count, then the fields. */
_Static_assert(REDIS_APPEND_E_FIELDS == REDIS_APPEND_E_NF + 1, "fields follow their count");
_Static_assert(REDIS_INGEST_E_FIELDS == REDIS_INGEST_E_NF + 1, "fields follow their count");
/* The head of each vector ends where the first event block starts. */
_Static_assert(REDIS_APPEND_P_EVENTS == REDIS_APPEND_NARGS + 1, "blocks follow the head");
_Static_assert(REDIS_INGEST_P_EVENTS == REDIS_INGEST_NARGS + 1, "blocks follow the head");

const struct redis_script_info *redis_script_info(enum redis_script which)
{
    return which < REDIS_SCRIPT_COUNT ? &redis_scripts_table[which] : NULL;
}

int redis_scripts_load(void *arg, redisContext *rc, char *why, size_t whylen)
{
    struct redis_scripts *s = arg;
    for (int i = 0; i < REDIS_SCRIPT_COUNT; i++) {
        redisReply *rep = redisCommand(rc, "SCRIPT LOAD %s", redis_scripts_table[i].text);
        if (!rep || rep->type != REDIS_REPLY_STRING || rep->len != 40) {
            snprintf(why, whylen, "SCRIPT LOAD failed: %s",
                     rep && rep->type == REDIS_REPLY_ERROR ? rep->str : rc->errstr);
            freeReplyObject(rep);
            return -ERR_STORE;
        }
        memcpy(s->sha[i], rep->str, 41);
        freeReplyObject(rep);
    }
    return 0;
}

void redis_scripts_begin(struct redis_args *a, const struct redis_scripts *s,
                         enum redis_script which, const char *const *keys, size_t nkeys)
{
    redis_args_pushs(a, "EVALSHA");
    redis_args_push(a, s->sha[which], 40);
    redis_args_pushs(a, redis_args_u64(a, nkeys));
    for (size_t i = 0; i < nkeys; i++)
        redis_args_pushs(a, keys[i]);
}

void redis_scripts_set_sha(struct redis_args *a, const struct redis_scripts *s,
                           enum redis_script which)
{
    a->argv[1] = s->sha[which];
    a->lens[1] = 40;
}

redisReply *redis_scripts_run(struct redis_conn *c, const struct redis_scripts *s,
                              enum redis_script which, struct redis_args *a)
{
    for (int attempt = 0; attempt < 2; attempt++) {
        redis_scripts_set_sha(a, s, which);
        redisReply *rep = redis_route_command(c, a->argc, a->argv, a->lens);
        if (!rep || rep->type != REDIS_REPLY_ERROR || strncmp(rep->str, "NOSCRIPT", 8) != 0)
            return rep;
        freeReplyObject(rep);
        if (redis_route_redo_setup(c) != 0)
            return NULL;
    }
    return NULL;
}

/* Push vals[0..n), a block laid out by position. */
static void redis_scripts_push_all(struct redis_args *a, const char *const *vals, size_t n)
{
    for (size_t i = 0; i < n; i++)
        redis_args_pushs(a, vals[i]);
}

void redis_scripts_append_args(struct redis_args *a, const struct redis_scripts *s,
                               const struct redis_append_req *req)
{
    const char *keys[REDIS_APPEND_NKEYS] = {[REDIS_APPEND_K_SEQ - 1] = req->k_seq,
                                            [REDIS_APPEND_K_LOG - 1] = req->k_log};
    redis_scripts_begin(a, s, REDIS_SCRIPT_APPEND, keys, REDIS_N_(keys));
    const char *head[REDIS_APPEND_NARGS] = {
        [REDIS_APPEND_A_EXPECTED - 1] = redis_args_u64(a, req->expected),
        [REDIS_APPEND_A_N - 1] = redis_args_u64(a, req->n),
        [REDIS_APPEND_A_LAST - 1] = redis_args_u64(a, req->expected + req->n),
        [REDIS_APPEND_A_CHANNEL - 1] = req->channel,
        [REDIS_APPEND_A_REGISTRY - 1] = REDIS_COMPAT_REGISTRY,
        [REDIS_APPEND_A_SERVERS - 1] = req->k_servers,
    };
    redis_scripts_push_all(a, head, REDIS_N_(head));
    for (size_t i = 0; i < req->n; i++) {
        const struct event *ev = &req->evs[i];
        char id[32];
        snprintf(id, sizeof(id), "%" PRIu64 "-0", ev->seq);
        redis_args_pushs(a, redis_args_keep(a, xstrdup(id))); /* E_ID */
        redis_entry_push_fields(a, req->writer, ev);          /* E_NF, E_FIELDS… */
        struct redis_compat_lock lk;
        struct redis_compat_reg rg;
        redis_compat_lock(ev, req->compat, a, &lk);
        redis_compat_registry(ev, req->compat, a, &rg);
        const char *tail[REDIS_APPEND_T_END] = {
            [REDIS_APPEND_T_WIRE] = redis_args_keep(a, event_to_text(ev, req->ws)),
            [REDIS_APPEND_T_LOCK_OP] = lk.op,
            [REDIS_APPEND_T_LOCK_KEY] = lk.key,
            [REDIS_APPEND_T_LOCK_VALUE] = lk.value,
            [REDIS_APPEND_T_LOCK_PXAT] = lk.pxat,
            [REDIS_APPEND_T_REG_OP] = rg.op,
            [REDIS_APPEND_T_REG_ID] = rg.id,
            [REDIS_APPEND_T_REG_MEMBER] = rg.member,
        };
        redis_scripts_push_all(a, tail, REDIS_N_(tail));
    }
}

int redis_scripts_append_answer(const redisReply *rep, uint64_t *seq)
{
    if (rep->type != REDIS_REPLY_ARRAY || rep->elements != 2 ||
        rep->element[0]->type != REDIS_REPLY_STRING ||
        rep->element[1]->type != REDIS_REPLY_STRING) {
        log_error("store: append script gave an unexpected answer");
        return -ERR_STORE;
    }
    char *end = NULL;
    *seq = strtoull(rep->element[1]->str, &end, 10);
    if (*end != '\0') {
        log_error("store: the version key does not hold a seq");
        return -ERR_STORE;
    }
    return strcmp(rep->element[0]->str, "ok") == 0 ? 0 : -ERR_CONFLICT;
}

void redis_scripts_ingest_args(struct redis_args *a, const struct redis_scripts *s,
                               const struct redis_ingest_req *req)
{
    const char *keys[REDIS_INGEST_NKEYS] = {[REDIS_INGEST_K_SEQ - 1] = req->k_seq,
                                            [REDIS_INGEST_K_LOG - 1] = req->k_log,
                                            [REDIS_INGEST_K_SEEN - 1] = req->k_seen};
    redis_scripts_begin(a, s, REDIS_SCRIPT_INGEST, keys, REDIS_N_(keys));
    const char *head[REDIS_INGEST_NARGS] = {
        [REDIS_INGEST_A_WINDOW - 1] = req->window_s,
        [REDIS_INGEST_A_N - 1] = redis_args_u64(a, req->n),
        [REDIS_INGEST_A_WRITER - 1] = req->w,
    };
    redis_scripts_push_all(a, head, REDIS_N_(head));
    for (size_t i = 0; i < req->n; i++)
        redis_entry_push_fields(a, NULL, &req->evs[i]); /* E_NF, E_FIELDS… */
}

int redis_scripts_ingest_answer(const redisReply *rep)
{
    if (rep->type == REDIS_REPLY_ARRAY && rep->elements == 2 &&
        rep->element[0]->type == REDIS_REPLY_STRING)
        return strcmp(rep->element[0]->str, "ok") == 0 ? 0 : 1;
    return -ERR_STORE;
}
