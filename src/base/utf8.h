/* utf8 — strict UTF-8 validation (RFC 3629: no overlongs, no surrogates,
 * nothing above U+10FFFF). Used on every byte string a peer sends. */
#ifndef COORDHUB_BASE_UTF8_H
#define COORDHUB_BASE_UTF8_H

#include <stdbool.h>
#include <stddef.h>

/* True when the n bytes at p are well-formed UTF-8. NUL bytes are allowed. */
bool utf8_valid(const void *p, size_t n);

#endif
