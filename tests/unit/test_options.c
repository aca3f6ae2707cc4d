/* Unit tests for options: parsing, defaults and root discovery. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>

#include "app/options.h"

/* A mutable copy of a literal, since options_parse() reorders argv. */
#define A(s) ((char[]){s})

static void test_options__parse_flags_and_values(void **state)
{
    (void)state;
    struct options o;
    unsetenv("COORDHUB_STATE_DIR");
    unsetenv("COORDHUB_ROOT");
    unsetenv("COORDHUB_AGENT");
    options_init(&o);
    char *argv[] = {A("coordhub"), A("lock"),        A("src/a.c"), A("--ttl"),    A("30"),
                    A("--json"),   A("--agent=bob"), A("--"),      A("--literal")};
    int n = 0;
    const char *bad = NULL;
    assert_int_equal(options_parse(&o, 9, argv, 2, &n, &bad), 0);
    assert_int_equal(n, 2);
    assert_string_equal(argv[2], "src/a.c");
    assert_string_equal(argv[3], "--literal");
    assert_int_equal(o.ttl, 30);
    assert_true(o.json);
    assert_string_equal(o.agent, "bob");
    options_deinit(&o);
}

static void test_options__rejects_unknown_and_bad_values(void **state)
{
    (void)state;
    struct options o;
    options_init(&o);
    int n = 0;
    const char *bad = NULL;
    char *a1[] = {A("coordhub"), A("locks"), A("--frob")};
    assert_int_equal(options_parse(&o, 3, a1, 2, &n, &bad), -1);
    assert_string_equal(bad, "--frob");
    char *a2[] = {A("coordhub"), A("lock"), A("--ttl"), A("ten")};
    assert_int_equal(options_parse(&o, 4, a2, 2, &n, &bad), -1);
    assert_string_equal(bad, "--ttl");
    char *a3[] = {A("coordhub"), A("lock"), A("--ttl")};
    assert_int_equal(options_parse(&o, 3, a3, 2, &n, &bad), -1);
    char *a4[] = {A("coordhub"), A("lock"), A("--json=yes")};
    assert_int_equal(options_parse(&o, 3, a4, 2, &n, &bad), -1);
    options_deinit(&o);
}

static void test_options__resolve_finds_git_top_level(void **state)
{
    (void)state;
    char tmpl[] = "/tmp/coordhub-opt.XXXXXX";
    char *dir = mkdtemp(tmpl);
    assert_non_null(dir);
    char path[4096], real[2048];
    assert_non_null(realpath(dir, real));
    snprintf(path, sizeof(path), "%s/.git", real);
    assert_int_equal(mkdir(path, 0700), 0);
    snprintf(path, sizeof(path), "%s/sub/deeper", real);
    char sub[4096];
    snprintf(sub, sizeof(sub), "%s/sub", real);
    assert_int_equal(mkdir(sub, 0700), 0);
    assert_int_equal(mkdir(path, 0700), 0);
    char cwd[512];
    assert_non_null(getcwd(cwd, sizeof(cwd)));
    assert_int_equal(chdir(path), 0);
    unsetenv("COORDHUB_STATE_DIR");
    unsetenv("COORDHUB_ROOT");
    struct options o;
    options_init(&o);
    assert_int_equal(options_resolve(&o), 0);
    assert_string_equal(o.root, real);
    char want[4096];
    snprintf(want, sizeof(want), "%s/.coordhub", real);
    assert_string_equal(o.state_dir, want);
    const char *base = strrchr(real, '/') + 1;
    assert_string_equal(o.workspace, base);
    snprintf(want, sizeof(want), "sqlite:%s/.coordhub/hub.db", real);
    assert_string_equal(o.store_url, want);
    char *sock = options_state_path(&o, "hub.sock");
    snprintf(want, sizeof(want), "%s/.coordhub/hub.sock", real);
    assert_string_equal(sock, want);
    free(sock);
    options_deinit(&o);
    assert_int_equal(chdir(cwd), 0);
    rmdir(path);
    rmdir(sub);
    snprintf(path, sizeof(path), "%s/.git", real);
    rmdir(path);
    rmdir(real);
}

static void test_options__environment_overrides(void **state)
{
    (void)state;
    setenv("COORDHUB_ROOT", "/", 1);
    setenv("COORDHUB_STATE_DIR", "/tmp/x-state", 1);
    setenv("COORDHUB_AGENT", "env-agent", 1);
    struct options o;
    options_init(&o);
    assert_int_equal(options_resolve(&o), 0);
    assert_string_equal(o.root, "/");
    assert_string_equal(o.state_dir, "/tmp/x-state");
    assert_string_equal(o.agent, "env-agent");
    options_deinit(&o);
    unsetenv("COORDHUB_ROOT");
    unsetenv("COORDHUB_STATE_DIR");
    unsetenv("COORDHUB_AGENT");
}

static void test_options__tls_files_from_flags_over_environment(void **state)
{
    (void)state;
    setenv("COORDHUB_TLS_CERT", "/env/cert.pem", 1);
    setenv("COORDHUB_TLS_KEY", "/env/key.pem", 1);
    struct options o;
    options_init(&o);
    assert_string_equal(o.tls_cert, "/env/cert.pem");
    assert_string_equal(o.tls_key, "/env/key.pem");
    char *argv[] = {A("coordhub"), A("serve"), A("--tls-cert"), A("c.pem"), A("--tls-key=k.pem")};
    int n = 0;
    const char *bad = NULL;
    assert_int_equal(options_parse(&o, 5, argv, 2, &n, &bad), 0);
    assert_int_equal(n, 0);
    assert_string_equal(o.tls_cert, "c.pem");
    assert_string_equal(o.tls_key, "k.pem");
    char *missing[] = {A("coordhub"), A("serve"), A("--tls-key")};
    assert_int_equal(options_parse(&o, 3, missing, 2, &n, &bad), -1);
    assert_string_equal(bad, "--tls-key");
    options_deinit(&o);
    unsetenv("COORDHUB_TLS_CERT");
    unsetenv("COORDHUB_TLS_KEY");
}

static void test_options__retain_events(void **state)
{
    (void)state;
    uint64_t n = 7;
    assert_int_equal(options_retain_events("all", &n), 0);
    assert_int_equal(n, 0);
    assert_int_equal(options_retain_events("1000", &n), 0);
    assert_int_equal(n, 1000);
    assert_int_equal(options_retain_events("250000", &n), 0);
    assert_int_equal(n, 250000);
    const char *bad[] = {"", "999", "0", "-1000", "1e6", "1000x", "ALL", " 1000"};
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        n = 42;
        assert_int_equal(options_retain_events(bad[i], &n), -1);
        assert_int_equal(n, 42); /* untouched on refusal */
    }
}

static void test_options__idle_exit_duration(void **state)
{
    (void)state;
    static const struct {
        const char *in;
        int64_t ms;
    } good[] = {{"0", 0},       {"never", 0},     {"250ms", 250},  {"90", 90000},
                {"90s", 90000}, {"30m", 1800000}, {"2h", 7200000}, {"720h", 2592000000}};
    for (size_t i = 0; i < sizeof(good) / sizeof(good[0]); i++) {
        int64_t ms = -1;
        assert_int_equal(options_duration_ms(good[i].in, &ms), 0);
        assert_int_equal(ms, good[i].ms);
    }
    static const char *const bad[] = {"", "-5m", "5x", "m", "1.5h", "721h", "30 m", "+3s", "3sec"};
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        int64_t ms = 7;
        if (options_duration_ms(bad[i], &ms) != -1)
            fail_msg("'%s' was accepted", bad[i]);
        assert_int_equal(ms, 7); /* nothing written */
    }
}

static void test_options__store_arg_only_from_the_command_line(void **state)
{
    (void)state;
    setenv("COORDHUB_STORE", "memory:", 1);
    struct options o;
    options_init(&o);
    assert_string_equal(o.store_url, "memory:");
    assert_false(o.store_arg);
    char *argv[] = {A("coordhub"), A("serve"), A("--store"), A("sqlite:/x.db")};
    int n = 0;
    const char *bad = NULL;
    assert_int_equal(options_parse(&o, 4, argv, 2, &n, &bad), 0);
    assert_true(o.store_arg);
    assert_string_equal(o.store_url, "sqlite:/x.db");
    options_deinit(&o);
    unsetenv("COORDHUB_STORE");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_options__parse_flags_and_values),
        cmocka_unit_test(test_options__rejects_unknown_and_bad_values),
        cmocka_unit_test(test_options__resolve_finds_git_top_level),
        cmocka_unit_test(test_options__environment_overrides),
        cmocka_unit_test(test_options__tls_files_from_flags_over_environment),
        cmocka_unit_test(test_options__retain_events),
        cmocka_unit_test(test_options__idle_exit_duration),
        cmocka_unit_test(test_options__store_arg_only_from_the_command_line),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
