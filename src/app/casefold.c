/* casefold — the case-folding probe and its one-time decision (see the
 * header). The probe uses a name unique to this process so hubs starting
 * at once on one state directory cannot see each other's probe files. */
#include "app/casefold.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "base/str.h"
#include "base/xmalloc.h"
#include "store/store.h"

#define CASEFOLD_KEY "caseFold"

int casefold_probe(const char *dir, bool *folds)
{
    char *lower = str_printf("%s/.case-probe-%ld", dir, (long)getpid());
    char *upper = str_printf("%s/.CASE-PROBE-%ld", dir, (long)getpid());
    int fd = open(lower, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
    int rc = 0;
    if (fd < 0) {
        rc = -errno;
    } else {
        close(fd);
        struct stat a, b;
        *folds = stat(lower, &a) == 0 && stat(upper, &b) == 0 && a.st_ino == b.st_ino &&
                 a.st_dev == b.st_dev;
        unlink(lower);
    }
    free(lower);
    free(upper);
    return rc;
}

int casefold_decide(struct store *s, bool probed, bool *fold, char **note)
{
    *fold = probed;
    *note = NULL;
    char *recorded = NULL;
    int rc = s->ops->meta_claim(s, CASEFOLD_KEY, probed ? "1" : "0", &recorded);
    if (rc)
        return rc;
    *fold = strcmp(recorded, "1") == 0;
    if (*fold != probed)
        *note = str_printf("this file system %s case, but the workspace records that keys %s "
                           "(decided by its first hub): keys %s",
                           probed ? "folds" : "keeps", *fold ? "fold" : "keep case",
                           *fold ? "fold" : "keep case");
    free(recorded);
    return 0;
}
