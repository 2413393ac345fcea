/*
 * common/log.h - the operational log (stderr or a file), not the audit log.
 *
 * Never log keys, passphrases, document contents or raw submitter names:
 * use log_escape() for anything that came from outside.
 */
#ifndef COMMON_LOG_H
#define COMMON_LOG_H

#include <stddef.h>

#include "common/err.h"

enum log_level {
	LOG_LEVEL_ERR,
	LOG_LEVEL_WARN,
	LOG_LEVEL_INFO,
	LOG_LEVEL_DEBUG
};

void log_set_level(enum log_level lvl);
/* Prefix every line with this tag and the pid (e.g. "kura-serve"). */
void log_set_tag(const char *tag);
void log_msg(enum log_level lvl, const char *func, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

#define log_err(...)   log_msg(LOG_LEVEL_ERR, __func__, __VA_ARGS__)
#define log_warn(...)  log_msg(LOG_LEVEL_WARN, __func__, __VA_ARGS__)
#define log_info(...)  log_msg(LOG_LEVEL_INFO, __func__, __VA_ARGS__)
#define log_debug(...) log_msg(LOG_LEVEL_DEBUG, __func__, __VA_ARGS__)
#define log_err_r(r, fmt, ...)                                                 \
	log_msg(LOG_LEVEL_ERR, __func__, fmt ": %s", ##__VA_ARGS__, err_str(r))

/*
 * Copies s into out (size outsz, always NUL-terminated), replacing control
 * bytes, backslash and non-UTF-8 bytes by \xNN. Returns out.
 */
const char *log_escape(const char *s, char *out, size_t outsz);

#endif /* COMMON_LOG_H */
