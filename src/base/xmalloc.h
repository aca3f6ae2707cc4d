/* xmalloc — allocation that never returns NULL.
 *
 * Small, internally sized allocations abort the process on OOM
 * (docs/code-style.md, "Allocation failure aborts"):
 * there is no sensible recovery and checking every one clutters the code.
 * Sizes chosen by a peer must go through a capped buffer (buf.h) instead. */
#ifndef COORDHUB_BASE_XMALLOC_H
#define COORDHUB_BASE_XMALLOC_H

#include <stddef.h>

/* Return n bytes; abort on OOM. xmalloc(0) returns a unique pointer. */
void *xmalloc(size_t n);
/* Return zeroed storage for nmemb*size bytes (overflow-checked); abort on OOM. */
void *xcalloc(size_t nmemb, size_t size);
/* Resize p to n bytes; abort on OOM. */
void *xrealloc(void *p, size_t n);
/* Duplicate a NUL-terminated string; NULL in gives NULL out. */
char *xstrdup(const char *s);
/* Duplicate the first n bytes of s and NUL-terminate. */
char *xstrndup(const char *s, size_t n);

#endif
