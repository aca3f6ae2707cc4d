/* Unit tests for gitdir: the layouts git writes for main working trees,
 * linked worktrees, bare repositories with worktrees and separate git
 * directories, built by hand in a temp directory, and the refusals. */
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

#include "app/gitdir.h"
#include "app/options.h"

static char base[PATH_MAX];

static void mk(const char *rel)
{
    char p[PATH_MAX + 256];
    snprintf(p, sizeof(p), "%s/%s", base, rel);
    char *s = p + strlen(base) + 1;
    for (char *q = strchr(s, '/'); q; q = strchr(q + 1, '/')) {
        *q = '\0';
        mkdir(p, 0700);
        *q = '/';
    }
    assert_int_equal(mkdir(p, 0700), 0);
}

static void put(const char *rel, const char *text)
{
    char p[PATH_MAX + 256];
    snprintf(p, sizeof(p), "%s/%s", base, rel);
    FILE *f = fopen(p, "w");
    assert_non_null(f);
    fputs(text, f);
    fclose(f);
}

static char *at(const char *rel)
{
    static char bufs[4][PATH_MAX + 256];
    static int k;
    char *b = bufs[k++ % 4];
    if (rel[0])
        snprintf(b, PATH_MAX + 256, "%s/%s", base, rel);
    else
        snprintf(b, PATH_MAX + 256, "%s", base);
    return b;
}

static int setup(void **state)
{
    (void)state;
    char tmpl[] = "/tmp/coordhub-gitdir.XXXXXX";
    assert_non_null(mkdtemp(tmpl));
    assert_non_null(realpath(tmpl, base));
    return 0;
}

static int teardown(void **state)
{
    (void)state;
    char cmd[PATH_MAX + 32];
    snprintf(cmd, sizeof(cmd), "rm -rf '%s'", base);
    return system(cmd) == 0 ? 0 : -1;
}

static void test_gitdir__main_working_tree_from_a_subdirectory(void **state)
{
    (void)state;
    mk("repo/.git");
    mk("repo/src/deep");
    struct gitdir_info gi;
    assert_int_equal(gitdir_discover(at("repo/src/deep"), &gi), 0);
    assert_string_equal(gi.toplevel, at("repo"));
    assert_string_equal(gi.git_dir, at("repo/.git"));
    assert_string_equal(gi.common_dir, at("repo/.git"));
    assert_string_equal(gi.main_tree, at("repo"));
    gitdir_info_deinit(&gi);
}

static void test_gitdir__linked_worktree_shares_the_common_dir(void **state)
{
    (void)state;
    mk("repo/.git/worktrees/w1");
    put("repo/.git/worktrees/w1/commondir", "../..\n");
    mk("w1/src");
    char line[PATH_MAX + 300];
    snprintf(line, sizeof(line), "gitdir: %s\n", at("repo/.git/worktrees/w1"));
    put("w1/.git", line);
    /* A relative gitdir: line, as `git worktree add --relative-paths`
     * writes it. */
    mk("repo/.git/worktrees/w2");
    put("repo/.git/worktrees/w2/commondir", "../..");
    mk("w2");
    put("w2/.git", "gitdir: ../repo/.git/worktrees/w2\r\n");
    struct gitdir_info gi;
    assert_int_equal(gitdir_discover(at("w1/src"), &gi), 0);
    assert_string_equal(gi.toplevel, at("w1"));
    assert_string_equal(gi.git_dir, at("repo/.git/worktrees/w1"));
    assert_string_equal(gi.common_dir, at("repo/.git"));
    assert_string_equal(gi.main_tree, at("repo"));
    gitdir_info_deinit(&gi);
    assert_int_equal(gitdir_discover(at("w2"), &gi), 0);
    assert_string_equal(gi.toplevel, at("w2"));
    assert_string_equal(gi.main_tree, at("repo"));
    gitdir_info_deinit(&gi);
}

static void test_gitdir__bare_repository_has_no_main_tree(void **state)
{
    (void)state;
    mk("shop.git/worktrees/feature");
    put("shop.git/worktrees/feature/commondir", "../..\n");
    mk("feature");
    char line[PATH_MAX + 300];
    snprintf(line, sizeof(line), "gitdir: %s\n", at("shop.git/worktrees/feature"));
    put("feature/.git", line);
    struct gitdir_info gi;
    assert_int_equal(gitdir_discover(at("feature"), &gi), 0);
    assert_string_equal(gi.common_dir, at("shop.git"));
    assert_null(gi.main_tree);
    gitdir_info_deinit(&gi);
    /* options: the state directory lives in the common directory, the
     * workspace is named after the repository, paths key on the worktree. */
    char cwd[PATH_MAX];
    assert_non_null(getcwd(cwd, sizeof(cwd)));
    assert_int_equal(chdir(at("feature")), 0);
    unsetenv("COORDHUB_ROOT");
    unsetenv("COORDHUB_STATE_DIR");
    struct options o;
    options_init(&o);
    assert_int_equal(options_resolve(&o), 0);
    assert_string_equal(o.state_dir, at("shop.git/coordhub"));
    assert_string_equal(o.workspace, "shop");
    assert_string_equal(o.worktree, at("feature"));
    assert_int_equal(o.root_from, OPTIONS_ROOT_GIT);
    options_deinit(&o);
    assert_int_equal(chdir(cwd), 0);
}

static void test_gitdir__separate_git_dir_is_its_own_main_tree(void **state)
{
    (void)state;
    mk("store/proj.git");
    mk("proj");
    char line[PATH_MAX + 300];
    snprintf(line, sizeof(line), "gitdir: %s", at("store/proj.git"));
    put("proj/.git", line);
    struct gitdir_info gi;
    assert_int_equal(gitdir_discover(at("proj"), &gi), 0);
    assert_string_equal(gi.common_dir, at("store/proj.git"));
    assert_string_equal(gi.main_tree, at("proj"));
    gitdir_info_deinit(&gi);
}

static void test_gitdir__refuses_broken_git_files(void **state)
{
    (void)state;
    struct gitdir_info gi;
    mk("a");
    put("a/.git", "not a gitdir line\n");
    assert_int_equal(gitdir_discover(at("a"), &gi), -EINVAL);
    assert_null(gi.toplevel);
    mk("b");
    put("b/.git", "gitdir: /nonexistent/coordhub/worktree\n");
    assert_int_equal(gitdir_discover(at("b"), &gi), -EINVAL);
    mk("c");
    put("c/.git", "");
    assert_int_equal(gitdir_discover(at("c"), &gi), -EINVAL);
    mk("d/e");
    assert_int_equal(gitdir_discover(at("d/e"), &gi), -ENOENT);
    assert_null(gi.common_dir);
}

static void test_gitdir__options_in_a_linked_worktree(void **state)
{
    (void)state;
    mk("repo/.git/worktrees/w1");
    put("repo/.git/worktrees/w1/commondir", "../..\n");
    mk("w1/src");
    char line[PATH_MAX + 300];
    snprintf(line, sizeof(line), "gitdir: %s\n", at("repo/.git/worktrees/w1"));
    put("w1/.git", line);
    char cwd[PATH_MAX];
    assert_non_null(getcwd(cwd, sizeof(cwd)));
    assert_int_equal(chdir(at("w1/src")), 0);
    unsetenv("COORDHUB_ROOT");
    unsetenv("COORDHUB_STATE_DIR");
    struct options o;
    options_init(&o);
    assert_int_equal(options_resolve(&o), 0);
    assert_string_equal(o.root, at("repo"));
    assert_string_equal(o.worktree, at("w1"));
    assert_string_equal(o.state_dir, at("repo/.coordhub"));
    assert_string_equal(o.workspace, "repo");
    assert_false(o.state_dir_given);
    options_deinit(&o);
    /* An explicit root naming the main tree keeps the worktree's keys;
     * one naming another directory keys paths on that root. */
    setenv("COORDHUB_ROOT", at("repo"), 1);
    options_init(&o);
    assert_int_equal(options_resolve(&o), 0);
    assert_int_equal(o.root_from, OPTIONS_ROOT_EXPLICIT);
    assert_string_equal(o.worktree, at("w1"));
    options_deinit(&o);
    mk("elsewhere");
    setenv("COORDHUB_ROOT", at("elsewhere"), 1);
    options_init(&o);
    assert_int_equal(options_resolve(&o), 0);
    assert_string_equal(o.worktree, at("elsewhere"));
    options_deinit(&o);
    unsetenv("COORDHUB_ROOT");
    assert_int_equal(chdir(cwd), 0);
}

static void test_gitdir__options_outside_a_repository(void **state)
{
    (void)state;
    mk("plain/sub");
    char cwd[PATH_MAX];
    assert_non_null(getcwd(cwd, sizeof(cwd)));
    assert_int_equal(chdir(at("plain/sub")), 0);
    unsetenv("COORDHUB_ROOT");
    unsetenv("COORDHUB_STATE_DIR");
    struct options o;
    options_init(&o);
    assert_int_equal(options_resolve(&o), 0);
    assert_int_equal(o.root_from, OPTIONS_ROOT_CWD);
    assert_string_equal(o.root, at("plain/sub"));
    options_deinit(&o);
    /* A hub started by hand in plain/ left plain/.coordhub: found. */
    mk("plain/.coordhub");
    options_init(&o);
    assert_int_equal(options_resolve(&o), 0);
    assert_int_equal(o.root_from, OPTIONS_ROOT_STATE);
    assert_string_equal(o.root, at("plain"));
    assert_string_equal(o.state_dir, at("plain/.coordhub"));
    options_deinit(&o);
    assert_int_equal(chdir(cwd), 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_gitdir__main_working_tree_from_a_subdirectory, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_gitdir__linked_worktree_shares_the_common_dir, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_gitdir__bare_repository_has_no_main_tree, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_gitdir__separate_git_dir_is_its_own_main_tree, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_gitdir__refuses_broken_git_files, setup, teardown),
        cmocka_unit_test_setup_teardown(test_gitdir__options_in_a_linked_worktree, setup, teardown),
        cmocka_unit_test_setup_teardown(test_gitdir__options_outside_a_repository, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
