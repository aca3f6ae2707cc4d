/* log — leveled logging to a file descriptor (stderr or hub.log).
 *
 * Messages are one line each, prefixed with an ISO timestamp and the level.
 * Secrets (tokens, keys) must never be passed here. */
#ifndef COORDHUB_BASE_LOG_H
#define COORDHUB_BASE_LOG_H

enum log_level {
    LOG_LEVEL_DEBUG = 0,
    LOG_LEVEL_INFO,
    LOG_LEVEL_NOTICE,
    LOG_LEVEL_WARNING,
    LOG_LEVEL_ERROR,
};

/* Direct output to fd (default 2) and drop messages below level. */
void log_setup(int fd, enum log_level level);
/* Parse "debug|info|notice|warning|error"; -1 if unknown. */
int log_level_parse(const char *s);
void log_msg(enum log_level level, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

#define log_debug(...) log_msg(LOG_LEVEL_DEBUG, __VA_ARGS__)
#define log_info(...) log_msg(LOG_LEVEL_INFO, __VA_ARGS__)
#define log_warn(...) log_msg(LOG_LEVEL_WARNING, __VA_ARGS__)
#define log_error(...) log_msg(LOG_LEVEL_ERROR, __VA_ARGS__)

#endif
