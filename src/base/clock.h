/* clock — the two clocks the hub reads. The core never calls these: time is
 * an argument there (docs/code-style.md, "Pure layers do no I/O"). */
#ifndef COORDHUB_BASE_CLOCK_H
#define COORDHUB_BASE_CLOCK_H

#include <stddef.h>
#include <stdint.h>
#include <sys/time.h>

/* Wall-clock milliseconds since the Unix epoch. */
int64_t clock_wall_ms(void);
/* Monotonic nanoseconds from an arbitrary origin, for durations. */
int64_t clock_mono_ns(void);
/* The same in milliseconds. */
int64_t clock_mono_ms(void);
/* Format ms since epoch as RFC 3339 UTC with milliseconds
 * ("2026-11-24T21:14:31.123Z") into out (at least 25 bytes). Values
 * outside years 0000..9999 are clamped to the nearest end of that range. */
/* Room for clock_format_iso's text, its NUL included. */
#define CLOCK_ISO_LEN 40
void clock_format_iso(int64_t ms, char *out, size_t outlen);
/* Parse the format above (also without fraction, or with 1..n fraction
 * digits, truncated to ms). Strict: exactly 4-2-2T2:2:2 digits, real
 * calendar dates, seconds 00..59, and "Z" (no offsets). 0 or -ERR_INVALID. */
int clock_parse_iso(const char *s, int64_t *ms);
/* A duration of ms milliseconds (>= 0) as a struct timeval. */
struct timeval clock_timeval_ms(int64_t ms);
/* Capped exponential backoff: the delay to wait now (*next_ms), and
 * *next_ms doubled for the time after, at most max_ms. */
int clock_backoff_next(int *next_ms, int max_ms);

#endif
