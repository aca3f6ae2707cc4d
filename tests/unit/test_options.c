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
    char *err = NULL;
    assert_int_equal(options_parse(&o, 9, argv, 2, &n, &err), 0);
    assert_null(err);
    assert_int_equal(n, 2);
    assert_string_equal(argv[2], "src/a.c");
    assert_string_equal(argv[3], "--literal");
    assert_int_equal(o.ttl, 30);
    assert_true(o.ttl_given);
    assert_false(o.wait_given);
    assert_false(o.priority_given);
    assert_true(o.json);
    assert_string_equal(o.agent, "bob");
    options_deinit(&o);
}

/* Parse argv and expect rc with an error naming want (a substring). */
static void expect_parse(char **argv, int argc, int rc, const char *want)
{
    struct options o;
    options_init(&o);
    int n = -1;
    char *err = NULL;
    assert_int_equal(options_parse(&o, argc, argv, 2, &n, &err), rc);
    assert_non_null(err);
    if (!strstr(err, want))
        fail_msg("error '%s' does not say '%s'", err, want);
    assert_true(n >= 0);
    free(err);
    options_deinit(&o);
}

static void test_options__usage_errors_and_invalid_values_differ(void **state)
{
    (void)state;
    unsetenv("COORDHUB_AGENT");
    char *a1[] = {A("coordhub"), A("locks"), A("--frob")};
    expect_parse(a1, 3, OPTIONS_USAGE, "unknown option '--frob'");
    char *a1b[] = {A("coordhub"), A("locks"), A("--frob=1")};
    expect_parse(a1b, 3, OPTIONS_USAGE, "unknown option '--frob'");
    char *a3[] = {A("coordhub"), A("lock"), A("--ttl")};
    expect_parse(a3, 3, OPTIONS_USAGE, "--ttl needs a value");
    char *a4[] = {A("coordhub"), A("lock"), A("--json=yes")};
    expect_parse(a4, 3, OPTIONS_USAGE, "--json takes no value");
    char *a2[] = {A("coordhub"), A("lock"), A("--ttl"), A("ten")};
    expect_parse(a2, 4, OPTIONS_INVALID, "--ttl: 'ten' is not an integer");
    char *a5[] = {A("coordhub"), A("lock"), A("--wait=5s")};
    expect_parse(a5, 3, OPTIONS_INVALID, "--wait: '5s' is not an integer");
    char *a6[] = {A("coordhub"), A("task"), A("--priority"), A("99999999999999999999")};
    expect_parse(a6, 4, OPTIONS_INVALID, "--priority");
}

static void test_options__values_sent_to_the_hub_must_be_utf8(void **state)
{
    (void)state;
    unsetenv("COORDHUB_AGENT");
    char *a1[] = {A("coordhub"), A("lock"), A("x"), A("--reason"), A("bad\xfe")};
    expect_parse(a1, 5, OPTIONS_INVALID, "--reason is not valid UTF-8");
    char *a2[] = {A("coordhub"), A("task"), A("--description=\xc3\x28")};
    expect_parse(a2, 3, OPTIONS_INVALID, "--description is not valid UTF-8");
    setenv("COORDHUB_AGENT", "ag\xff", 1);
    char *a3[] = {A("coordhub"), A("lock"), A("x")};
    expect_parse(a3, 3, OPTIONS_INVALID, "COORDHUB_AGENT");
    unsetenv("COORDHUB_AGENT");
    /* Local paths are used as given: a file name need not be UTF-8. */
    struct options o;
    options_init(&o);
    int n = 0;
    char *err = NULL;
    char *a4[] = {A("coordhub"),    A("status"),   A("--state-dir"),
                  A("/tmp/st\xff"), A("--reason"), A("caf\xc3\xa9")};
    assert_int_equal(options_parse(&o, 6, a4, 2, &n, &err), 0);
    assert_string_equal(o.state_dir, "/tmp/st\xff");
    assert_string_equal(o.reason, "caf\xc3\xa9");
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
    char *err = NULL;
    assert_int_equal(options_parse(&o, 5, argv, 2, &n, &err), 0);
    assert_int_equal(n, 0);
    assert_string_equal(o.tls_cert, "c.pem");
    assert_string_equal(o.tls_key, "k.pem");
    char *missing[] = {A("coordhub"), A("serve"), A("--tls-key")};
    assert_int_equal(options_parse(&o, 3, missing, 2, &n, &err), OPTIONS_USAGE);
    assert_string_equal(err, "--tls-key needs a value");
    free(err);
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
        assert_int_equal(options_duration_ms(good[i].in, OPTIONS_IDLE_EXIT_MAX_MS, &ms), 0);
        assert_int_equal(ms, good[i].ms);
    }
    static const char *const bad[] = {"", "-5m", "5x", "m", "1.5h", "721h", "30 m", "+3s", "3sec"};
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        int64_t ms = 7;
        if (options_duration_ms(bad[i], OPTIONS_IDLE_EXIT_MAX_MS, &ms) != -1)
            fail_msg("'%s' was accepted", bad[i]);
        assert_int_equal(ms, 7); /* nothing written */
    }
}

/* One duration rule for --idle-exit and --agent-retention, each with its
 * own ceiling. */
static void test_options__duration_days_and_ceilings(void **state)
{
    (void)state;
    int64_t ms = -1;
    assert_int_equal(options_duration_ms("7d", OPTIONS_IDLE_EXIT_MAX_MS, &ms), 0);
    assert_int_equal(ms, 7LL * 86400000);
    assert_int_equal(options_duration_ms("31d", OPTIONS_IDLE_EXIT_MAX_MS, &ms), -1);
    assert_int_equal(ms, 7LL * 86400000); /* untouched */
    assert_int_equal(options_duration_ms("3650d", OPTIONS_RETENTION_MAX_MS, &ms), 0);
    assert_int_equal(ms, 3650LL * 86400000);
    assert_int_equal(options_duration_ms("4000d", OPTIONS_RETENTION_MAX_MS, &ms), -1);
    assert_int_equal(options_duration_ms("1d2h", OPTIONS_RETENTION_MAX_MS, &ms), -1);
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
    char *err = NULL;
    assert_int_equal(options_parse(&o, 4, argv, 2, &n, &err), 0);
    assert_null(err);
    assert_true(o.store_arg);
    assert_string_equal(o.store_url, "sqlite:/x.db");
    options_deinit(&o);
    unsetenv("COORDHUB_STORE");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_options__parse_flags_and_values),
        cmocka_unit_test(test_options__usage_errors_and_invalid_values_differ),
        cmocka_unit_test(test_options__values_sent_to_the_hub_must_be_utf8),
        cmocka_unit_test(test_options__resolve_finds_git_top_level),
        cmocka_unit_test(test_options__environment_overrides),
        cmocka_unit_test(test_options__tls_files_from_flags_over_environment),
        cmocka_unit_test(test_options__retain_events),
        cmocka_unit_test(test_options__idle_exit_duration),
        cmocka_unit_test(test_options__duration_days_and_ceilings),
        cmocka_unit_test(test_options__store_arg_only_from_the_command_line),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
