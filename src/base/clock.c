/* clock — wall and monotonic clocks plus the ISO-8601 form used in events. */
#define _GNU_SOURCE
#include "base/clock.h"

#include <stdbool.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "base/err.h"

int64_t clock_wall_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

int64_t clock_mono_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

int64_t clock_mono_ms(void)
{
    return clock_mono_ns() / 1000000;
}

/* The range the 4-digit-year form can show: 0000-01-01T00:00:00.000Z to
 * 9999-12-31T23:59:59.999Z. */
#define CLOCK_ISO_MIN_MS (-62167219200000LL)
#define CLOCK_ISO_MAX_MS (253402300799999LL)

/* Days since 1970-01-01 → proleptic Gregorian y/m/d (Howard Hinnant's
 * civil_from_days): exact for every day, no tables, no time-zone state. */
static void clock_civil(int64_t days, int *y, int *m, int *d)
{
    days += 719468;
    int64_t era = (days >= 0 ? days : days - 146096) / 146097;
    int64_t doe = days - era * 146097;
    int64_t yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
    int64_t doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    int64_t mp = (5 * doy + 2) / 153;
    *d = (int)(doy - (153 * mp + 2) / 5 + 1);
    *m = (int)(mp < 10 ? mp + 3 : mp - 9);
    *y = (int)(yoe + era * 400 + (*m <= 2));
}

static char *clock_put(char *p, int v, int width)
{
    for (int i = width - 1; i >= 0; i--) {
        p[i] = (char)('0' + v % 10);
        v /= 10;
    }
    return p + width;
}

/* Hot path (every event carries timestamps): formatted by hand instead of
 * gmtime_r + snprintf, which cost several thousand instructions each. */
void clock_format_iso(int64_t ms, char *out, size_t outlen)
{
    /* Clamp first: years outside 0000-9999 would not parse back. */
    if (ms < CLOCK_ISO_MIN_MS)
        ms = CLOCK_ISO_MIN_MS;
    if (ms > CLOCK_ISO_MAX_MS)
        ms = CLOCK_ISO_MAX_MS;
    int64_t secs = ms / 1000;
    int frac = (int)(ms % 1000);
    if (frac < 0) {
        frac += 1000;
        secs -= 1;
    }
    int64_t days = secs / 86400;
    int64_t rem = secs % 86400;
    if (rem < 0) {
        rem += 86400;
        days -= 1;
    }
    int y, mo, d;
    clock_civil(days, &y, &mo, &d);
    char buf[32];
    char *p = clock_put(buf, y, 4);
    *p++ = '-';
    p = clock_put(p, mo, 2);
    *p++ = '-';
    p = clock_put(p, d, 2);
    *p++ = 'T';
    p = clock_put(p, (int)(rem / 3600), 2);
    *p++ = ':';
    p = clock_put(p, (int)(rem / 60 % 60), 2);
    *p++ = ':';
    p = clock_put(p, (int)(rem % 60), 2);
    *p++ = '.';
    p = clock_put(p, frac, 3);
    *p++ = 'Z';
    *p = '\0';
    if (outlen == 0)
        return;
    size_t n = (size_t)(p - buf);
    if (n >= outlen)
        n = outlen - 1;
    memcpy(out, buf, n);
    out[n] = '\0';
}

/* Read exactly n decimal digits at *p into *v and advance *p. */
static bool clock_digits(const char **p, int n, int *v)
{
    int x = 0;
    for (int i = 0; i < n; i++) {
        char c = (*p)[i];
        if (c < '0' || c > '9')
            return false;
        x = x * 10 + (c - '0');
    }
    *p += n;
    *v = x;
    return true;
}

static bool clock_expect(const char **p, char c)
{
    if (**p != c)
        return false;
    (*p)++;
    return true;
}

static int clock_days_in_month(int year, int month)
{
    static const int days[] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
    bool leap = (year % 4 == 0 && year % 100 != 0) || year % 400 == 0;
    return month == 2 && leap ? 29 : days[month - 1];
}

/* A hand-written parser rather than sscanf: "%2d" would accept " 1", "+1"
 * and "-1", and nothing checked the ranges, so "2026-13-45T99:99:99Z" used
 * to be normalised by timegm() into some other date. */
int clock_parse_iso(const char *s, int64_t *ms)
{
    int year, mon, day, hour, min, sec, frac = 0;
    const char *p = s;
    if (!clock_digits(&p, 4, &year) || !clock_expect(&p, '-') || !clock_digits(&p, 2, &mon) ||
        !clock_expect(&p, '-') || !clock_digits(&p, 2, &day) || !clock_expect(&p, 'T') ||
        !clock_digits(&p, 2, &hour) || !clock_expect(&p, ':') || !clock_digits(&p, 2, &min) ||
        !clock_expect(&p, ':') || !clock_digits(&p, 2, &sec))
        return -ERR_INVALID;
    if (mon < 1 || mon > 12 || day < 1 || day > clock_days_in_month(year, mon) || hour > 23 ||
        min > 59 || sec > 59)
        return -ERR_INVALID;
    if (*p == '.') {
        int digits = 0;
        p++;
        while (*p >= '0' && *p <= '9') {
            if (digits < 3)
                frac = frac * 10 + (*p - '0');
            digits++;
            p++;
        }
        if (digits == 0)
            return -ERR_INVALID;
        while (digits < 3) {
            frac *= 10;
            digits++;
        }
    }
    if (strcmp(p, "Z") != 0)
        return -ERR_INVALID;
    struct tm tm;
    memset(&tm, 0, sizeof(tm));
    tm.tm_year = year - 1900;
    tm.tm_mon = mon - 1;
    tm.tm_mday = day;
    tm.tm_hour = hour;
    tm.tm_min = min;
    tm.tm_sec = sec;
    time_t t = timegm(&tm);
    *ms = (int64_t)t * 1000 + frac;
    return 0;
}

struct timeval clock_timeval_ms(int64_t ms)
{
    struct timeval tv = {.tv_sec = (time_t)(ms / 1000), .tv_usec = (suseconds_t)(ms % 1000) * 1000};
    return tv;
}

int clock_backoff_next(int *next_ms, int max_ms)
{
    int delay = *next_ms;
    *next_ms = delay > max_ms / 2 ? max_ms : delay * 2;
    return delay;
}
