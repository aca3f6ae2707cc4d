/* replay_main — runs a libFuzzer target over a seed corpus without
 * libFuzzer, so every corpus is replayed in normal CI (docs/code-style.md,
 * "Fuzz corpora replayed in CI").
 *
 * Usage: <driver>_replay DIR [DIR…]. Every regular file in each directory
 * (not recursive) is read whole and passed to LLVMFuzzerTestOneInput once,
 * after LLVMFuzzerInitialize (driver_init.c), as libFuzzer calls them.
 * Exit status: 0 when at least one file ran and none could not be read; a
 * crash inside the target fails the run as it would under the fuzzer. */
#include <dirent.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

int LLVMFuzzerInitialize(int *argc, char ***argv);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define REPLAY_MAX_FILE ((size_t)64 << 20) /* bytes; corpus files are small */

/* Read path whole into a fresh buffer; -1 when unreadable or too big. */
static int read_file(const char *path, uint8_t **out, size_t *n)
{
    FILE *f = fopen(path, "rb");
    if (!f)
        return -1;
    int rc = -1;
    struct stat st;
    uint8_t *buf = NULL;
    if (fstat(fileno(f), &st) != 0 || st.st_size < 0 || (size_t)st.st_size > REPLAY_MAX_FILE)
        goto fail;
    buf = malloc((size_t)st.st_size + 1);
    if (!buf)
        goto fail;
    if (fread(buf, 1, (size_t)st.st_size, f) != (size_t)st.st_size)
        goto fail;
    *out = buf;
    *n = (size_t)st.st_size;
    buf = NULL;
    rc = 0;
fail:
    free(buf);
    fclose(f);
    return rc;
}

/* Replay every regular file of dir; counts runs and failures. */
static void replay_dir(const char *dir, int *runs, int *errors)
{
    DIR *d = opendir(dir);
    if (!d) {
        fprintf(stderr, "replay: cannot open %s\n", dir);
        (*errors)++;
        return;
    }
    struct dirent *e;
    while ((e = readdir(d)) != NULL) {
        if (e->d_name[0] == '.')
            continue;
        char path[4096];
        int len = snprintf(path, sizeof(path), "%s/%s", dir, e->d_name);
        if (len < 0 || (size_t)len >= sizeof(path))
            continue;
        struct stat st;
        if (stat(path, &st) != 0 || !S_ISREG(st.st_mode))
            continue;
        uint8_t *data;
        size_t n;
        if (read_file(path, &data, &n) != 0) {
            fprintf(stderr, "replay: cannot read %s\n", path);
            (*errors)++;
            continue;
        }
        LLVMFuzzerTestOneInput(data, n);
        free(data);
        (*runs)++;
    }
    closedir(d);
}

int main(int argc, char **argv)
{
    if (argc < 2) {
        fprintf(stderr, "usage: %s CORPUS_DIR...\n", argv[0]);
        return 2;
    }
    LLVMFuzzerInitialize(&argc, &argv);
    int runs = 0, errors = 0;
    for (int i = 1; i < argc; i++)
        replay_dir(argv[i], &runs, &errors);
    printf("replay: %d input(s) run, %d error(s)\n", runs, errors);
    return runs > 0 && errors == 0 ? 0 : 1;
}
