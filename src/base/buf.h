/* buf — a growable byte buffer with a hard cap.
 *
 * Every buffer fed by a peer has a cap (docs/code-style.md, "Capped
 * buffers"): appends past it fail with -ERR_TOO_LARGE and leave the
 * contents unchanged. The data is always NUL-terminated so it can be
 * handed to string functions. */
#ifndef COORDHUB_BASE_BUF_H
#define COORDHUB_BASE_BUF_H

#include <stdarg.h>
#include <stddef.h>

#include "base/err.h"

struct buf {
    char *data; /* owned; NUL-terminated when non-NULL */
    size_t len; /* bytes used, excluding the NUL */
    size_t cap; /* bytes allocated */
    size_t max; /* hard cap on len; 0 = SIZE_MAX */
};

/* Initialise an empty buffer whose length may never exceed max (0: no cap). */
void buf_init(struct buf *b, size_t max);
/* Release the storage; the buffer is empty and reusable afterwards. NULL ok. */
void buf_deinit(struct buf *b);
/* Forget the contents, keep the storage. */
void buf_reset(struct buf *b);
/* Append n bytes. -ERR_TOO_LARGE if the cap would be exceeded. */
COORDHUB_MUST_CHECK int buf_append(struct buf *b, const void *p, size_t n);
/* Append a NUL-terminated string. */
COORDHUB_MUST_CHECK int buf_append_str(struct buf *b, const char *s);
/* Append formatted text. -ERR_TOO_LARGE past the cap. */
COORDHUB_MUST_CHECK int buf_printf(struct buf *b, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
COORDHUB_MUST_CHECK int buf_vprintf(struct buf *b, const char *fmt, va_list ap);
/* Drop the first n bytes (n > len drops everything). */
void buf_consume(struct buf *b, size_t n);
/* Transfer ownership of the data to the caller (never NULL); buffer is emptied. */
char *buf_take(struct buf *b);

#endif
