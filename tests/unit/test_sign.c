/* Unit tests for sign: the header parser (order, spaces, refusals), the
 * HMAC against a known-answer vector computed with the openssl CLI, and
 * sign_verify's results — ok, stale on both sides, mismatch, replay,
 * the same v1 from another signer, a full cache that refuses rather than
 * forgets, and expired entries swept to make room. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "auth/sign.h"
#include "auth/token.h"

/* printf %s "$K" | openssl dgst -sha256 -binary  (the HMAC key), then
 * printf '%s.%s' 1700000000 "$BODY" | openssl dgst -sha256 -mac HMAC
 *   -macopt hexkey:<that digest> */
static const char *const KEY_TEXT =
    "chk_0123456789ab_0000000000000000000000000000000000000000000000000000000000000001";
static const char *const BODY = "{\"type\":\"ci:x\",\"data\":{}}";
static const char *const V1_BODY =
    "fc268e39e8bf7d280cfd215e148f00170b30c6ea172f868860988b012cf0370e";
static const char *const V1_EMPTY =
    "3489aa344df6730eaeaf336229816261bb36c0875cab8ea7a4bc2cb1eb483b7d";
#define T0 1700000000

static void key_digest(unsigned char out[32])
{
    struct token_digest d;
    assert_true(token_digest_init(&d, KEY_TEXT, strlen(KEY_TEXT)));
    memcpy(out, d.d, 32);
}

static void header(char *out, size_t n, int64_t t, const char *v1)
{
    snprintf(out, n, "t=%lld,v1=%s", (long long)t, v1);
}

static void test_sign__known_answer(void **state)
{
    (void)state;
    unsigned char key[32], mac[SIGN_MAC_LEN];
    char hex[2 * SIGN_MAC_LEN + 1];
    key_digest(key);
    assert_true(sign_compute(key, T0, BODY, strlen(BODY), mac));
    sign_hex(mac, hex);
    assert_string_equal(hex, V1_BODY);
    assert_true(sign_compute(key, T0, "", 0, mac));
    sign_hex(mac, hex);
    assert_string_equal(hex, V1_EMPTY);
}

static void test_sign__header_parse(void **state)
{
    (void)state;
    int64_t t = 0;
    unsigned char v1[SIGN_MAC_LEN];
    const char *why = NULL;
    char h[200];
    snprintf(h, sizeof(h), " v1=%s , t=%d ", V1_BODY, T0);
    assert_int_equal(sign_header_parse(h, &t, v1, &why), 0);
    assert_int_equal(t, T0);
    assert_int_equal(v1[0], 0xfc);
    assert_int_equal(v1[31], 0x0e);
    static const char *const bad[] = {
        "",
        "t=1700000000",
        "v1=fc268e39e8bf7d280cfd215e148f00170b30c6ea172f868860988b012cf0370e",
        "t=17x,v1=fc268e39e8bf7d280cfd215e148f00170b30c6ea172f868860988b012cf0370e",
        "t=1,t=2,v1=fc268e39e8bf7d280cfd215e148f00170b30c6ea172f868860988b012cf0370e",
        "t=1700000000,v1=fc26",
        "t=1700000000,v1=zz268e39e8bf7d280cfd215e148f00170b30c6ea172f868860988b012cf0370e",
        "t=1700000000,v0=abc,v1=fc268e39e8bf7d280cfd215e148f00170b30c6ea172f868860988b012cf0370e",
        "t=1234567890123,v1=fc268e39e8bf7d280cfd215e148f00170b30c6ea172f868860988b012cf0370e",
    };
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        why = NULL;
        if (sign_header_parse(bad[i], &t, v1, &why) != -ERR_INVALID || !why)
            fail_msg("accepted: '%s'", bad[i]);
    }
}

static void test_sign__verify(void **state)
{
    (void)state;
    unsigned char key[32];
    key_digest(key);
    struct sign_replay *r = sign_replay_new(0, 0);
    char h[200];
    const char *why = NULL;
    header(h, sizeof(h), T0, V1_BODY);
    /* Within ±300 s of the hub's clock, on both sides. */
    assert_int_equal(sign_verify(r, "k1", key, h, BODY, strlen(BODY), T0 + 300, &why), SIGN_OK);
    assert_int_equal(sign_replay_len(r), 1);
    assert_int_equal(sign_verify(r, "k1", key, h, BODY, strlen(BODY), T0, &why), SIGN_REPLAYED);
    assert_non_null(strstr(why, "replay"));
    /* The same v1 under another signer is another entry. */
    assert_int_equal(sign_verify(r, "k2", key, h, BODY, strlen(BODY), T0 - 300, &why), SIGN_OK);
    assert_int_equal(sign_verify(r, "k3", key, h, BODY, strlen(BODY), T0 + 301, &why), SIGN_STALE);
    assert_int_equal(sign_verify(r, "k3", key, h, BODY, strlen(BODY), T0 - 301, &why), SIGN_STALE);
    /* Another body, another key, a bad header: refused, nothing remembered. */
    assert_int_equal(sign_verify(r, "k3", key, h, "{}", 2, T0, &why), SIGN_MISMATCH);
    unsigned char other[32];
    memcpy(other, key, 32);
    other[0] ^= 1;
    assert_int_equal(sign_verify(r, "k3", other, h, BODY, strlen(BODY), T0, &why), SIGN_MISMATCH);
    assert_int_equal(sign_verify(r, "k3", key, "t=1", BODY, strlen(BODY), T0, &why),
                     SIGN_MALFORMED);
    assert_int_equal(sign_replay_len(r), 2);
    assert_int_equal(sign_verify(r, "k3", key, h, BODY, strlen(BODY), T0, &why), SIGN_OK);
    sign_replay_free(r);
}

static void test_sign__full_cache_refuses_then_sweeps(void **state)
{
    (void)state;
    unsigned char key[32], mac[SIGN_MAC_LEN];
    char hex[2 * SIGN_MAC_LEN + 1], h[200];
    key_digest(key);
    struct sign_replay *r = sign_replay_new(2, 0);
    const char *why = NULL;
    for (int64_t t = T0; t < T0 + 3; t++) {
        assert_true(sign_compute(key, t, BODY, strlen(BODY), mac));
        sign_hex(mac, hex);
        header(h, sizeof(h), t, hex);
        enum sign_result want = t < T0 + 2 ? SIGN_OK : SIGN_CACHE_FULL;
        assert_int_equal(sign_verify(r, "k", key, h, BODY, strlen(BODY), T0 + 2, &why), want);
    }
    assert_int_equal(sign_replay_len(r), 2);
    /* Once the first two left the window, the third fits (and they are
     * refused as stale, not forgotten into acceptance). */
    assert_int_equal(sign_verify(r, "k", key, h, BODY, strlen(BODY), T0 + 301, &why), SIGN_OK);
    assert_int_equal(sign_replay_len(r), 2); /* T0+1 is still live, T0 was swept */
    sign_replay_free(r);
}

/* Sign BODY at time t with key into header h. */
static void sign_at(const unsigned char key[32], int64_t t, char *h, size_t n)
{
    unsigned char mac[SIGN_MAC_LEN];
    char hex[2 * SIGN_MAC_LEN + 1];
    assert_true(sign_compute(key, t, BODY, strlen(BODY), mac));
    sign_hex(mac, hex);
    header(h, n, t, hex);
}

static void test_sign__signer_quota_spares_others(void **state)
{
    (void)state;
    unsigned char key_a[32], key_b[32];
    char h[200];
    key_digest(key_a);
    memcpy(key_b, key_a, 32);
    key_b[0] ^= 1;
    struct sign_replay *r = sign_replay_new(8, 3);
    const char *why = NULL;
    /* A signs as fast as it can: its quota (3) fills, then only A is refused. */
    for (int64_t t = T0; t < T0 + 3; t++) {
        sign_at(key_a, t, h, sizeof(h));
        assert_int_equal(sign_verify(r, "A", key_a, h, BODY, strlen(BODY), T0 + 3, &why), SIGN_OK);
    }
    sign_at(key_a, T0 + 3, h, sizeof(h));
    assert_int_equal(sign_verify(r, "A", key_a, h, BODY, strlen(BODY), T0 + 3, &why),
                     SIGN_SIGNER_FULL);
    assert_non_null(strstr(why, "retry later"));
    assert_int_equal(sign_replay_len(r), 3);
    /* B still signs, up to its own quota. */
    for (int64_t t = T0; t < T0 + 3; t++) {
        sign_at(key_b, t, h, sizeof(h));
        assert_int_equal(sign_verify(r, "B", key_b, h, BODY, strlen(BODY), T0 + 3, &why), SIGN_OK);
    }
    assert_int_equal(sign_replay_len(r), 6);
    /* The cache as a whole still bounds everyone: C gets the last 2 slots. */
    for (int64_t t = T0; t < T0 + 3; t++) {
        sign_at(key_a, t, h, sizeof(h));
        enum sign_result want = t < T0 + 2 ? SIGN_OK : SIGN_CACHE_FULL;
        assert_int_equal(sign_verify(r, "C", key_a, h, BODY, strlen(BODY), T0 + 3, &why), want);
    }
    /* Once A's entries left the window, A signs again (and its old
     * signatures are stale, not accepted). */
    sign_at(key_a, T0 + 303, h, sizeof(h));
    assert_int_equal(sign_verify(r, "A", key_a, h, BODY, strlen(BODY), T0 + 303, &why), SIGN_OK);
    assert_int_equal(sign_replay_len(r), 1);
    sign_replay_free(r);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_sign__known_answer),
        cmocka_unit_test(test_sign__header_parse),
        cmocka_unit_test(test_sign__verify),
        cmocka_unit_test(test_sign__full_cache_refuses_then_sweeps),
        cmocka_unit_test(test_sign__signer_quota_spares_others),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
