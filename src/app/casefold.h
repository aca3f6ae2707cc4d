/* casefold — whether a workspace's lease keys fold case, decided once.
 *
 * The first hub of a workspace probes the file system its state directory
 * lives on (casefold_probe) and records the answer in the store
 * (store_ops.meta_claim, key "caseFold"); every later hub — on this
 * machine or another sharing the store — adopts the recorded answer
 * whatever its own file system says, so a macOS hub and a Linux hub on
 * one Redis workspace key "src/A.c" alike (docs/configuration.md "Case
 * folding"). */
#ifndef COORDHUB_APP_CASEFOLD_H
#define COORDHUB_APP_CASEFOLD_H

#include <stdbool.h>

#include "base/err.h"

struct store;

/* Create a file with a lower-case name in dir and look for it under its
 * upper-case name. 0 and *folds; -errno when the probe cannot be made. */
COORDHUB_MUST_CHECK int casefold_probe(const char *dir, bool *folds);

/* The workspace's answer: the one recorded in s, or probed (recorded now
 * when the store holds none). 0 and *fold; a store error otherwise (*fold
 * is then probed, unrecorded). *note (caller frees, may be NULL) says when
 * the recorded answer differs from probed, for the log. */
COORDHUB_MUST_CHECK int casefold_decide(struct store *s, bool probed, bool *fold, char **note);

#endif
