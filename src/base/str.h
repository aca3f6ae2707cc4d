/* str — small string helpers that allocate through xmalloc. */
#ifndef COORDHUB_BASE_STR_H
#define COORDHUB_BASE_STR_H

#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>

/* Room for a 64-bit integer in decimal, its sign and NUL included. */
#define STR_INT_LEN 24

/* A newly allocated formatted string (caller frees); never NULL. */
char *str_printf(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
char *str_vprintf(const char *fmt, va_list ap);
/* True when s starts with prefix. */
bool str_has_prefix(const char *s, const char *prefix);
/* Percent-decode s[0..n) into a new string (caller frees); NULL when an
 * escape is malformed or decodes to NUL, or (encoded_slash false) to '/'. */
char *str_percent_decode(const char *s, size_t n, bool encoded_slash);
/* The value of one hex digit (0-9, a-f, A-F), or -1. */
int str_hex_digit(char c);
/* s made safe to print on a terminal (caller frees): every control
 * character a terminal would act on is written out instead — C0 and DEL
 * as \n, \r, \t or \xHH (ESC is \x1b), C1 (U+0080-U+009F) as \u0080 …
 * \u009f, and a byte that is not part of well-formed UTF-8 as \xHH.
 * Everything else, other UTF-8 text included, is copied as it is. NULL
 * gives "". */
char *str_escape_controls(const char *s);

#endif
