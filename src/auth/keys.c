/* keys — the key store: records in memory, one JSON file on disk.
 *
 * Invariants: every record in `items` is valid (id of KEYS_ID_HEX hex
 * characters, unique; rights parsed; rate and burst in range); the file
 * holds exactly the records in memory after every successful change. A
 * change is made to the memory first, then written; if the write fails
 * the memory change is undone, so "nothing changed" holds for the caller
 * on every error path.
 *
 * File shape (version 1):
 *   {"version":1,"keys":[{"id","name","createdAt","sha256",
 *     "canPublish":[…],"canSubscribe":[…],"canAccessState",
 *     "requireSignature","rateLimit":{"perSecond","burst"},
 *     "revokedAt":null|ISO}]}
 * `sha256` is the hex digest of the full key string; the secret itself is
 * never written anywhere. */
#define _GNU_SOURCE
#include "auth/keys.h"

#include <errno.h>
#include <fcntl.h>
#include <libgen.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "base/clock.h"
#include "base/json.h"
#include "base/str.h"
#include "base/utf8.h"
#include "base/xmalloc.h"

struct keys {
    char *path; /* owned */
    struct keys_key **items;
    size_t n, cap;
};

static const char keys_hex[] = "0123456789abcdef";

static void keys_hex_encode(const unsigned char *raw, size_t n, char *out)
{
    for (size_t i = 0; i < n; i++) {
        out[2 * i] = keys_hex[raw[i] >> 4];
        out[2 * i + 1] = keys_hex[raw[i] & 15];
    }
    out[2 * n] = '\0';
}

static int keys_hex_value(char c)
{
    if (c >= '0' && c <= '9')
        return c - '0';
    if (c >= 'a' && c <= 'f')
        return c - 'a' + 10;
    return -1;
}

static bool keys_is_hex(const char *s, size_t n)
{
    for (size_t i = 0; i < n; i++)
        if (keys_hex_value(s[i]) < 0)
            return false;
    return true;
}

static void keys_key_free(struct keys_key *k)
{
    if (!k)
        return;
    free(k->name);
    events_filter_deinit(&k->publish);
    events_filter_deinit(&k->subscribe);
    free(k);
}

struct keys *keys_new(const char *path)
{
    struct keys *ks = xcalloc(1, sizeof(*ks));
    ks->path = xstrdup(path);
    return ks;
}

void keys_free(struct keys *ks)
{
    if (!ks)
        return;
    for (size_t i = 0; i < ks->n; i++)
        keys_key_free(ks->items[i]);
    free(ks->items);
    free(ks->path);
    free(ks);
}

static void keys_push(struct keys *ks, struct keys_key *k)
{
    if (ks->n == ks->cap) {
        ks->cap = ks->cap ? ks->cap * 2 : 8;
        ks->items = xrealloc(ks->items, ks->cap * sizeof(*ks->items));
    }
    ks->items[ks->n++] = k;
}

static struct keys_key *keys_find(const struct keys *ks, const char *id, size_t len)
{
    for (size_t i = 0; i < ks->n; i++)
        if (strlen(ks->items[i]->id) == len && memcmp(ks->items[i]->id, id, len) == 0)
            return ks->items[i];
    return NULL;
}

/* ---- rights -------------------------------------------------------------- */

static const char *const keys_access_names[] = {"none", "read", "write", "admin"};

int keys_access_parse(const char *text, enum keys_access *out)
{
    for (int i = 0; i < 4; i++) {
        if (text && strcmp(text, keys_access_names[i]) == 0) {
            *out = (enum keys_access)i;
            return 0;
        }
    }
    return -ERR_INVALID;
}

const char *keys_access_name(enum keys_access a)
{
    return (unsigned)a < 4 ? keys_access_names[a] : "none";
}

bool keys_key_may_publish(const struct keys_key *k, const char *type)
{
    return k->publish.n > 0 && events_filter_match(&k->publish, type);
}

bool keys_key_may_subscribe(const struct keys_key *k, const char *type)
{
    return k->subscribe.n > 0 && events_filter_match(&k->subscribe, type);
}

char *keys_key_tool_refusal(const struct keys_key *k, const char *tool, unsigned what,
                            const char *publish_type)
{
    if (k->access < KEYS_ACCESS_WRITE && !(what & KEYS_TOOL_READ_ONLY))
        return str_printf("tool '%s' changes state: this API key has canAccessState '%s', the "
                          "tool needs 'write'",
                          tool, keys_access_name(k->access));
    if ((what & KEYS_TOOL_PUBLISHES) && !keys_key_may_publish(k, publish_type))
        return str_printf("argument 'type': '%s' is outside this API key's canPublish "
                          "patterns; nothing was published",
                          publish_type);
    if ((what & KEYS_TOOL_PUBLISHES) && k->require_signature)
        return xstrdup("this API key requires signed events: publish them as signed POST /events "
                       "(X-Coordhub-Signature), not through publish_event; nothing was published");
    if ((what & KEYS_TOOL_READS_EVENTS) && k->subscribe.n == 0)
        return xstrdup("this API key has no canSubscribe patterns: it may not read events");
    return NULL;
}

/* A name: valid UTF-8, no control characters, at most KEYS_NAME_MAX bytes. */
static const char *keys_name_check(const char *name)
{
    size_t n = strlen(name);
    if (n > KEYS_NAME_MAX)
        return "name: longer than 128 bytes";
    if (!utf8_valid(name, n))
        return "name: not valid UTF-8";
    for (size_t i = 0; i < n; i++)
        if ((unsigned char)name[i] < 0x20 || name[i] == 0x7f)
            return "name: control characters are not allowed";
    return NULL;
}

static bool keys_rate_ok(double rate, int64_t burst)
{
    return isfinite(rate) && rate >= KEYS_RATE_MIN && rate <= KEYS_RATE_MAX && burst >= 1 &&
           burst <= KEYS_BURST_MAX;
}

/* ---- the file ------------------------------------------------------------ */

static cJSON *keys_filter_json(const struct events_filter *f)
{
    cJSON *a = cJSON_CreateArray();
    for (size_t i = 0; i < f->n; i++)
        cJSON_AddItemToArray(a, cJSON_CreateString(f->patterns[i]));
    return a;
}

/* The common fields of a record (file and list). */
static cJSON *keys_record_json(const struct keys_key *k)
{
    cJSON *o = cJSON_CreateObject();
    cJSON_AddStringToObject(o, "id", k->id);
    cJSON_AddStringToObject(o, "name", k->name);
    json_add_time(o, "createdAt", k->created_ms);
    cJSON_AddItemToObject(o, "canPublish", keys_filter_json(&k->publish));
    cJSON_AddItemToObject(o, "canSubscribe", keys_filter_json(&k->subscribe));
    cJSON_AddStringToObject(o, "canAccessState", keys_access_name(k->access));
    cJSON_AddBoolToObject(o, "requireSignature", k->require_signature);
    cJSON *rl = cJSON_AddObjectToObject(o, "rateLimit");
    cJSON_AddNumberToObject(rl, "perSecond", k->rate);
    cJSON_AddNumberToObject(rl, "burst", k->burst);
    if (k->revoked)
        json_add_time(o, "revokedAt", k->revoked_ms);
    else
        cJSON_AddNullToObject(o, "revokedAt");
    return o;
}

cJSON *keys_key_json(const struct keys_key *k)
{
    cJSON *o = keys_record_json(k);
    cJSON_AddBoolToObject(o, "revoked", k->revoked);
    return o;
}

static int keys_write_all(int fd, const char *p, size_t n)
{
    while (n > 0) {
        ssize_t w = write(fd, p, n);
        if (w < 0) {
            if (errno == EINTR)
                continue;
            return -errno;
        }
        p += w;
        n -= (size_t)w;
    }
    return 0;
}

/* Write every record to the file: temp file (0600), fsync, rename, fsync
 * of the directory. 0 or -errno with *errmsg. */
static int keys_save(const struct keys *ks, char **errmsg)
{
    cJSON *root = cJSON_CreateObject();
    cJSON_AddNumberToObject(root, "version", 1);
    cJSON *arr = cJSON_AddArrayToObject(root, "keys");
    for (size_t i = 0; i < ks->n; i++) {
        cJSON *o = keys_record_json(ks->items[i]);
        char hex[2 * TOKEN_DIGEST_LEN + 1];
        keys_hex_encode(ks->items[i]->digest.d, TOKEN_DIGEST_LEN, hex);
        cJSON_AddStringToObject(o, "sha256", hex);
        cJSON_AddItemToArray(arr, o);
    }
    char *text = cJSON_Print(root);
    cJSON_Delete(root);
    char *tmp = str_printf("%s.tmp", ks->path);
    int rc = 0;
    int fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC | O_NOFOLLOW, 0600);
    if (fd < 0) {
        rc = -errno;
        goto out;
    }
    if (fchmod(fd, 0600) != 0 || (rc = keys_write_all(fd, text, strlen(text))) != 0 ||
        (rc = keys_write_all(fd, "\n", 1)) != 0 || fsync(fd) != 0) {
        if (!rc)
            rc = -errno;
        close(fd);
        unlink(tmp);
        goto out;
    }
    if (close(fd) != 0 || rename(tmp, ks->path) != 0) {
        rc = -errno;
        unlink(tmp);
        goto out;
    }
    char *dir = xstrdup(ks->path);
    int dfd = open(dirname(dir), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    free(dir);
    if (dfd >= 0) {
        (void)fsync(dfd); /* the rename is done; a failed directory sync is not undone */
        close(dfd);
    }
out:
    if (rc)
        *errmsg = str_printf("cannot write %s: %s", ks->path, strerror(-rc));
    free(tmp);
    free(text);
    return rc;
}

/* Fill f from a JSON array of pattern strings. NULL or [] leaves it empty. */
static const char *keys_filter_from_json(struct events_filter *f, const cJSON *arr)
{
    if (!arr || cJSON_IsNull(arr))
        return NULL;
    if (!cJSON_IsArray(arr))
        return "must be an array of patterns";
    const cJSON *it;
    cJSON_ArrayForEach(it, arr)
    {
        const char *why = NULL;
        if (!cJSON_IsString(it) || strchr(it->valuestring, ','))
            return "must hold pattern strings";
        if (events_filter_parse(f, it->valuestring, &why) != 0)
            return why;
    }
    return NULL;
}

/* One record of the file, or NULL with *why. */
static struct keys_key *keys_record_parse(const cJSON *o, const char **field, const char **why)
{
    *why = NULL;
    struct keys_key *k = xcalloc(1, sizeof(*k));
    events_filter_init(&k->publish);
    events_filter_init(&k->subscribe);
    const char *id = json_get_str(o, "id", "");
    const char *hex = json_get_str(o, "sha256", "");
    const char *name = json_get_str(o, "name", "");
    const char *access = json_get_str(o, "canAccessState", "");
    const cJSON *rl = cJSON_GetObjectItemCaseSensitive(o, "rateLimit");
    const cJSON *per = cJSON_GetObjectItemCaseSensitive(rl, "perSecond");
    const cJSON *burst = cJSON_GetObjectItemCaseSensitive(rl, "burst");
    const cJSON *revoked = cJSON_GetObjectItemCaseSensitive(o, "revokedAt");
    if (!cJSON_IsObject(o)) {
        *field = "record";
        *why = "must be an object";
    } else if (strlen(id) != KEYS_ID_HEX || !keys_is_hex(id, KEYS_ID_HEX)) {
        *field = "id";
        *why = "must be 12 lower-case hex characters";
    } else if (strlen(hex) != 2 * TOKEN_DIGEST_LEN || !keys_is_hex(hex, strlen(hex))) {
        *field = "sha256";
        *why = "must be 64 lower-case hex characters";
    } else if ((*why = keys_name_check(name)) != NULL) {
        *field = "name";
    } else if (clock_parse_iso(json_get_str(o, "createdAt", ""), &k->created_ms) != 0) {
        *field = "createdAt";
        *why = "must be an ISO-8601 UTC time";
    } else if (keys_access_parse(access, &k->access) != 0) {
        *field = "canAccessState";
        *why = "must be none, read, write or admin";
    } else if ((*why = keys_filter_from_json(&k->publish,
                                             cJSON_GetObjectItemCaseSensitive(o, "canPublish")))) {
        *field = "canPublish";
    } else if ((*why = keys_filter_from_json(
                    &k->subscribe, cJSON_GetObjectItemCaseSensitive(o, "canSubscribe")))) {
        *field = "canSubscribe";
    } else if (!cJSON_IsNumber(per) || !json_is_int_in(burst, 1, KEYS_BURST_MAX) ||
               !keys_rate_ok(per->valuedouble, (int64_t)burst->valuedouble)) {
        *field = "rateLimit";
        *why = "must be {perSecond: 0.01..100000, burst: 1..100000}";
    } else if (revoked && !cJSON_IsNull(revoked) &&
               (!cJSON_IsString(revoked) ||
                clock_parse_iso(revoked->valuestring, &k->revoked_ms) != 0)) {
        *field = "revokedAt";
        *why = "must be null or an ISO-8601 UTC time";
    }
    if (*why) {
        keys_key_free(k);
        return NULL;
    }
    memcpy(k->id, id, KEYS_ID_HEX + 1);
    for (size_t i = 0; i < TOKEN_DIGEST_LEN; i++) {
        /* Checked by keys_is_hex above: both are 0..15. */
        unsigned hi = (unsigned)keys_hex_value(hex[2 * i]);
        unsigned lo = (unsigned)keys_hex_value(hex[2 * i + 1]);
        k->digest.d[i] = (unsigned char)((hi << 4 | lo) & 0xff);
    }
    k->name = xstrdup(name);
    k->require_signature = json_get_bool(o, "requireSignature", false);
    k->rate = per->valuedouble;
    k->burst = (uint32_t)burst->valuedouble;
    k->revoked = revoked && !cJSON_IsNull(revoked);
    return k;
}

int keys_load(struct keys *ks, char **errmsg)
{
    *errmsg = NULL;
    int fd = open(ks->path, O_RDONLY | O_CLOEXEC);
    if (fd < 0) {
        if (errno == ENOENT)
            return 0;
        int rc = -errno;
        *errmsg = str_printf("cannot read %s: %s", ks->path, strerror(errno));
        return rc;
    }
    char *buf = xmalloc(KEYS_FILE_MAX + 1);
    size_t len = 0;
    int rc = 0;
    for (;;) {
        ssize_t r = read(fd, buf + len, KEYS_FILE_MAX + 1 - len);
        if (r < 0 && errno == EINTR)
            continue;
        if (r < 0) {
            rc = -errno;
            *errmsg = str_printf("cannot read %s: %s", ks->path, strerror(errno));
            break;
        }
        if (r == 0)
            break;
        len += (size_t)r;
        if (len > KEYS_FILE_MAX) {
            rc = -ERR_TOO_LARGE;
            *errmsg = str_printf("%s is larger than %u bytes", ks->path, KEYS_FILE_MAX);
            break;
        }
    }
    close(fd);
    cJSON *root = NULL;
    if (!rc) {
        int err = 0;
        root = json_parse_bounded(buf, len, 8, &err);
        if (!root) {
            rc = -ERR_PARSE;
            *errmsg = str_printf("%s is not valid JSON", ks->path);
        }
    }
    free(buf);
    const cJSON *arr = cJSON_GetObjectItemCaseSensitive(root, "keys");
    if (!rc && (json_get_i64(root, "version", 0) != 1 || !cJSON_IsArray(arr))) {
        rc = -ERR_INVALID;
        *errmsg = str_printf("%s: expected {\"version\":1,\"keys\":[…]}", ks->path);
    }
    if (!rc && cJSON_GetArraySize(arr) > KEYS_MAX) {
        rc = -ERR_TOO_LARGE;
        *errmsg = str_printf("%s holds more than %d keys", ks->path, KEYS_MAX);
    }
    int i = 0;
    const cJSON *o;
    const cJSON *list = rc ? NULL : arr;
    cJSON_ArrayForEach(o, list)
    {
        const char *field = "", *why = NULL;
        struct keys_key *k = keys_record_parse(o, &field, &why);
        if (k && keys_find(ks, k->id, KEYS_ID_HEX)) {
            field = "id";
            why = "is used twice";
            keys_key_free(k);
            k = NULL;
        }
        if (!k) {
            rc = -ERR_INVALID;
            *errmsg = str_printf("%s: key [%d]: %s %s", ks->path, i, field, why);
            break;
        }
        keys_push(ks, k);
        i++;
    }
    cJSON_Delete(root);
    if (rc) {
        for (size_t j = 0; j < ks->n; j++)
            keys_key_free(ks->items[j]);
        ks->n = 0;
    }
    return rc;
}

/* ---- changes ------------------------------------------------------------- */

static const char *keys_parse_patterns(struct events_filter *f, const char *csv, const char *what,
                                       char **errmsg)
{
    if (!csv)
        return NULL;
    const char *why = NULL;
    if (events_filter_parse(f, csv, &why) != 0) {
        *errmsg = str_printf("%s: %s", what, why);
        return why;
    }
    return NULL;
}

int keys_create(struct keys *ks, const struct keys_spec *spec, int64_t now_ms, char **text,
                const struct keys_key **out, char **errmsg)
{
    *text = NULL;
    *out = NULL;
    *errmsg = NULL;
    const char *name = spec->name ? spec->name : "";
    const char *why = keys_name_check(name);
    if (why) {
        *errmsg = xstrdup(why);
        return -ERR_INVALID;
    }
    double rate = spec->rate > 0 ? spec->rate : KEYS_DEFAULT_RATE;
    uint32_t burst = spec->burst > 0 ? spec->burst : KEYS_DEFAULT_BURST;
    if (!keys_rate_ok(rate, burst) || spec->rate < 0) {
        *errmsg = str_printf("rate limit: the rate must be %g..%g requests/s and the burst 1..%d",
                             KEYS_RATE_MIN, KEYS_RATE_MAX, KEYS_BURST_MAX);
        return -ERR_INVALID;
    }
    if ((unsigned)spec->access > KEYS_ACCESS_ADMIN) {
        *errmsg = xstrdup("canAccessState: must be none, read, write or admin");
        return -ERR_INVALID;
    }
    if (ks->n >= KEYS_MAX) {
        *errmsg = str_printf("the store holds %d keys, its limit (revoked ones count)", KEYS_MAX);
        return -ERR_TOO_LARGE;
    }
    struct keys_key *k = xcalloc(1, sizeof(*k));
    events_filter_init(&k->publish);
    events_filter_init(&k->subscribe);
    if (keys_parse_patterns(&k->publish, spec->publish, "canPublish", errmsg) ||
        keys_parse_patterns(&k->subscribe, spec->subscribe, "canSubscribe", errmsg)) {
        keys_key_free(k);
        return -ERR_INVALID;
    }
    unsigned char raw_id[KEYS_ID_HEX / 2], secret[KEYS_SECRET_HEX / 2];
    do {
        if (!token_random(raw_id, sizeof(raw_id))) {
            keys_key_free(k);
            *errmsg = xstrdup("no random bytes for a key (OpenSSL RAND_bytes failed)");
            return -ERR_INTERNAL;
        }
        keys_hex_encode(raw_id, sizeof(raw_id), k->id);
    } while (keys_find(ks, k->id, KEYS_ID_HEX));
    if (!token_random(secret, sizeof(secret))) {
        keys_key_free(k);
        *errmsg = xstrdup("no random bytes for a key (OpenSSL RAND_bytes failed)");
        return -ERR_INTERNAL;
    }
    char secret_hex[KEYS_SECRET_HEX + 1];
    keys_hex_encode(secret, sizeof(secret), secret_hex);
    token_cleanse(secret, sizeof(secret));
    char *full = str_printf("chk_%s_%s", k->id, secret_hex);
    token_cleanse(secret_hex, sizeof(secret_hex));
    if (!token_digest_init(&k->digest, full, strlen(full))) {
        token_cleanse(full, strlen(full));
        free(full);
        keys_key_free(k);
        *errmsg = xstrdup("cannot hash the key (OpenSSL SHA-256 unavailable)");
        return -ERR_INTERNAL;
    }
    k->name = xstrdup(name);
    k->created_ms = now_ms;
    k->access = spec->access;
    k->require_signature = spec->require_signature;
    k->rate = rate;
    k->burst = burst;
    keys_push(ks, k);
    int rc = keys_save(ks, errmsg);
    if (rc) {
        ks->n--;
        keys_key_free(k);
        token_cleanse(full, strlen(full));
        free(full);
        return rc;
    }
    *text = full;
    *out = k;
    return 0;
}

int keys_revoke(struct keys *ks, const char *id, int64_t now_ms, const struct keys_key **out,
                char **errmsg)
{
    *errmsg = NULL;
    if (out)
        *out = NULL;
    struct keys_key *k = id ? keys_find(ks, id, strlen(id)) : NULL;
    if (!k) {
        *errmsg = str_printf("no key with id '%s'", id ? id : "");
        return -ERR_NOT_FOUND;
    }
    if (k->revoked) {
        *errmsg = str_printf("key '%s' is already revoked", id);
        return -ERR_STATE;
    }
    k->revoked = true;
    k->revoked_ms = now_ms;
    int rc = keys_save(ks, errmsg);
    if (rc) {
        k->revoked = false;
        k->revoked_ms = 0;
        return rc;
    }
    if (out)
        *out = k;
    return 0;
}

/* ---- checks -------------------------------------------------------------- */

bool keys_text_is_key(const char *cred, size_t len)
{
    return len >= 4 && memcmp(cred, "chk_", 4) == 0;
}

const struct keys_key *keys_authenticate(const struct keys *ks, const char *cred, size_t len)
{
    if (!ks || len != KEYS_TEXT_LEN || !keys_text_is_key(cred, len) || cred[4 + KEYS_ID_HEX] != '_')
        return NULL;
    /* The id is public; only the comparison of the digests must not leak. */
    const struct keys_key *k = keys_find(ks, cred + 4, KEYS_ID_HEX);
    if (!k || !token_digest_matches(&k->digest, cred, len) || k->revoked)
        return NULL;
    return k;
}

bool keys_any_active(const struct keys *ks)
{
    if (!ks)
        return false;
    for (size_t i = 0; i < ks->n; i++)
        if (!ks->items[i]->revoked)
            return true;
    return false;
}

size_t keys_count(const struct keys *ks)
{
    return ks ? ks->n : 0;
}

const struct keys_key *keys_at(const struct keys *ks, size_t i)
{
    return ks && i < ks->n ? ks->items[i] : NULL;
}

int keys_rate_take(struct keys *ks, const struct keys_key *key, int64_t now_ns,
                   int64_t *retry_after_ms)
{
    *retry_after_ms = 0;
    struct keys_key *k = NULL;
    for (size_t i = 0; i < ks->n && !k; i++)
        if (ks->items[i] == key)
            k = ks->items[i];
    if (!k)
        return -ERR_NOT_FOUND;
    if (k->refill_ns == 0) {
        k->tokens = k->burst;
    } else if (now_ns > k->refill_ns) {
        k->tokens += (double)(now_ns - k->refill_ns) / 1e9 * k->rate;
        if (k->tokens > k->burst)
            k->tokens = k->burst;
    }
    if (now_ns > k->refill_ns)
        k->refill_ns = now_ns;
    if (k->tokens >= 1.0) {
        k->tokens -= 1.0;
        return 0;
    }
    /* rate >= KEYS_RATE_MIN keeps this finite and small; the clamp keeps
     * the cast defined whatever the record holds. */
    double wait_ms = ceil((1.0 - k->tokens) / k->rate * 1000.0);
    if (!(wait_ms >= 1))
        wait_ms = 1;
    if (wait_ms > KEYS_RETRY_MAX_MS)
        wait_ms = KEYS_RETRY_MAX_MS;
    *retry_after_ms = (int64_t)wait_ms;
    return -ERR_BUSY;
}
