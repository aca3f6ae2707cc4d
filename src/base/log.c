/* log — the logger's configuration is process-wide by nature (one stderr,
 * one hub.log); it is set once at start-up before the loop runs. */
#include "base/log.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "base/clock.h"

static int log_fd = 2;
static enum log_level log_min = LOG_LEVEL_INFO;

void log_setup(int fd, enum log_level level)
{
    log_fd = fd;
    log_min = level;
}

int log_level_parse(const char *s)
{
    static const char *names[] = {"debug", "info", "notice", "warning", "error"};
    for (int i = 0; i < 5; i++)
        if (strcmp(s, names[i]) == 0)
            return i;
    return -1;
}

void log_msg(enum log_level level, const char *fmt, ...)
{
    static const char *tags[] = {"debug", "info", "notice", "warn", "error"};
    if (level < log_min)
        return;
    char line[2048];
    char ts[32];
    clock_format_iso(clock_wall_ms(), ts, sizeof(ts));
    int n = snprintf(line, sizeof(line), "%s [%d] %s: ", ts, (int)getpid(), tags[level]);
    va_list ap;
    va_start(ap, fmt);
    int m = vsnprintf(line + n, sizeof(line) - (size_t)n - 1, fmt, ap);
    va_end(ap);
    size_t len = (size_t)n + (m < 0 ? 0 : (size_t)m);
    if (len > sizeof(line) - 2)
        len = sizeof(line) - 2;
    line[len++] = '\n';
    ssize_t w = write(log_fd, line, len);
    (void)w;
}
