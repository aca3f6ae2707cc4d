/* Unit tests for roots: which root a path resolves against (the first
 * root under which a relative file exists, else the first; an absolute
 * path against the root it is under), roots in linked worktrees, roots
 * outside the workspace, file:// URIs, and the rewriting of tool
 * arguments. The directories are built in a temp directory. */
#include <errno.h>
#include <limits.h>
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

#include "app/roots.h"
#include "base/err.h"
#include "rpc/tools.h"

static char base[PATH_MAX];

static char *at(const char *rel)
{
    static char bufs[8][PATH_MAX + 256];
    static int k;
    char *b = bufs[k++ % 8];
    snprintf(b, PATH_MAX + 256, "%s%s%s", base, rel[0] ? "/" : "", rel);
    return b;
}

static void mk(const char *rel)
{
    char p[PATH_MAX + 256];
    snprintf(p, sizeof(p), "%s", at(rel));
    for (char *q = strchr(p + strlen(base) + 1, '/'); q; q = strchr(q + 1, '/')) {
        *q = '\0';
        mkdir(p, 0700);
        *q = '/';
    }
    assert_int_equal(mkdir(p, 0700), 0);
}

static void put(const char *rel, const char *text)
{
    FILE *f = fopen(at(rel), "w");
    assert_non_null(f);
    fputs(text, f);
    fclose(f);
}

static int setup(void **state)
{
    (void)state;
    char tmpl[] = "/tmp/coordhub-roots.XXXXXX";
    assert_non_null(mkdtemp(tmpl));
    assert_non_null(realpath(tmpl, base));
    mk("ws/packages/web/src");
    mk("ws/packages/api/src");
    put("ws/packages/web/src/x.ts", "x");
    mk("elsewhere");
    return 0;
}

static int teardown(void **state)
{
    (void)state;
    char cmd[PATH_MAX + 32];
    snprintf(cmd, sizeof(cmd), "rm -rf '%s'", base);
    return system(cmd) == 0 ? 0 : -1;
}

/* Rewrite {"file": arg} and return the key (static buffer) or the error. */
static const char *key_of(const struct roots *r, const char *arg)
{
    static char out[PATH_MAX * 2];
    cJSON *a = cJSON_CreateObject();
    cJSON_AddStringToObject(a, "file", arg);
    char *err = NULL;
    if (roots_rewrite_args(r, TOOL_PATH_FILE, a, &err) == 0)
        snprintf(out, sizeof(out), "%s", cJSON_GetObjectItem(a, "file")->valuestring);
    else
        snprintf(out, sizeof(out), "error: %s", err);
    free(err);
    cJSON_Delete(a);
    return out;
}

static void add_ok(struct roots *r, const char *dir)
{
    char *why = NULL;
    int rc = roots_add_dir(r, dir, &why);
    if (rc)
        fail_msg("add %s: %s", dir, why);
}

static void test_roots__first_root_where_the_file_exists(void **state)
{
    (void)state;
    struct roots *r = roots_new(at("ws"));
    add_ok(r, at("ws/packages/api"));
    add_ok(r, at("ws/packages/web"));
    assert_int_equal(roots_count(r), 2);
    /* Exists only below the second root: resolved there. */
    assert_string_equal(key_of(r, "src/x.ts"), "packages/web/src/x.ts");
    /* Exists nowhere: the first root. */
    assert_string_equal(key_of(r, "src/new.ts"), "packages/api/src/new.ts");
    assert_string_equal(key_of(r, "../web/src/x.ts"), "packages/web/src/x.ts");
    /* Absolute: the root it lies under; one under no root but in the
     * workspace is keyed on the workspace. */
    assert_string_equal(key_of(r, at("ws/packages/web/src/x.ts")), "packages/web/src/x.ts");
    assert_string_equal(key_of(r, at("ws/README.md")), "README.md");
    /* Outside: left for the core, which refuses it. */
    assert_string_equal(key_of(r, at("elsewhere/f.c")), at("elsewhere/f.c"));
    assert_string_equal(key_of(r, "../../../up.c"),
                        "error: argument 'file': path '../../../up.c' escapes the workspace root");
    roots_free(r);
}

static void test_roots__patterns_and_arrays(void **state)
{
    (void)state;
    struct roots *r = roots_new(at("ws"));
    add_ok(r, at("ws/packages/web"));
    cJSON *a = cJSON_Parse("{\"files\":[\"src/x.ts\",\"b.c\"],\"patterns\":[\"src/**\",\"lib/\"],"
                           "\"pattern\":\"*.ts\",\"file\":\"keep\"}");
    char *err = NULL;
    assert_int_equal(
        roots_rewrite_args(r, TOOL_PATH_FILES | TOOL_PATH_PATTERNS | TOOL_PATH_PATTERN, a, &err),
        0);
    char *text = cJSON_PrintUnformatted(a);
    assert_string_equal(text, "{\"files\":[\"packages/web/src/x.ts\",\"packages/web/b.c\"],"
                              "\"patterns\":[\"packages/web/src/**\",\"packages/web/lib/**\"],"
                              "\"pattern\":\"packages/web/*.ts\",\"file\":\"keep\"}");
    free(text);
    cJSON_Delete(a);
    a = cJSON_Parse("{\"files\":[\"ok.c\",\"../../../no.c\"]}");
    assert_int_equal(roots_rewrite_args(r, TOOL_PATH_FILES, a, &err), -ERR_INVALID);
    assert_string_equal(err,
                        "argument 'files[1]': path '../../../no.c' escapes the workspace root");
    free(err);
    cJSON_Delete(a);
    /* No roots: nothing changes. */
    struct roots *none = roots_new(at("ws"));
    assert_string_equal(key_of(none, "src/x.ts"), "src/x.ts");
    assert_int_equal(roots_rewrite_args(NULL, TOOL_PATH_FILE, NULL, &err), 0);
    roots_free(none);
    roots_free(r);
}

static void test_roots__outside_missing_and_uris(void **state)
{
    (void)state;
    struct roots *r = roots_new(at("ws"));
    char *why = NULL;
    assert_int_equal(roots_add_dir(r, at("elsewhere"), &why), -EXDEV);
    assert_non_null(strstr(why, "outside the workspace"));
    free(why);
    assert_int_equal(roots_add_dir(r, at("ws/missing"), &why), -ENOENT);
    free(why);
    assert_int_equal(roots_add_uri(r, "https://example.invalid/ws", &why), -EINVAL);
    free(why);
    assert_int_equal(roots_add_uri(r, "file:///bad%zz", &why), -EINVAL);
    free(why);
    assert_int_equal(roots_count(r), 0);
    mk("ws/with space");
    char uri[PATH_MAX + 64];
    snprintf(uri, sizeof(uri), "file://%s/ws/with%%20space", base);
    assert_int_equal(roots_add_uri(r, uri, &why), 0);
    snprintf(uri, sizeof(uri), "file://localhost%s/ws/packages/web/", base);
    assert_int_equal(roots_add_uri(r, uri, &why), 0);
    assert_int_equal(roots_count(r), 2);
    assert_string_equal(roots_dir(r, 0), at("ws/with space"));
    assert_string_equal(key_of(r, "src/x.ts"), "packages/web/src/x.ts");
    assert_string_equal(key_of(r, "a.c"), "with space/a.c");
    roots_clear(r);
    assert_int_equal(roots_count(r), 0);
    roots_free(r);
}

static void test_roots__linked_worktree_keys_on_its_own_root(void **state)
{
    (void)state;
    mk("repo/.git/worktrees/w1");
    put("repo/.git/worktrees/w1/commondir", "../..\n");
    mk("w1/pkg/src");
    char line[PATH_MAX + 300];
    snprintf(line, sizeof(line), "gitdir: %s\n", at("repo/.git/worktrees/w1"));
    put("w1/.git", line);
    mk("other/.git");
    struct roots *r = roots_new(at("repo"));
    add_ok(r, at("w1/pkg"));
    assert_string_equal(key_of(r, "src/a.c"), "pkg/src/a.c");
    assert_string_equal(key_of(r, at("w1/top.c")), "top.c");
    char *why = NULL;
    assert_int_equal(roots_add_dir(r, at("other"), &why), -EXDEV);
    free(why);
    roots_free(r);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_roots__first_root_where_the_file_exists, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_roots__patterns_and_arrays, setup, teardown),
        cmocka_unit_test_setup_teardown(test_roots__outside_missing_and_uris, setup, teardown),
        cmocka_unit_test_setup_teardown(test_roots__linked_worktree_keys_on_its_own_root, setup,
                                        teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
