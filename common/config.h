/*
 * common/config.h - kura.conf: "key = value" lines, '#' comments.
 *
 * Unknown keys are kept (and reported by config_unknown() for a warning);
 * values are looked up with a default. Keys are lower-case dotted names,
 * e.g. "listen", "limits.max_files", "retention.keystore_backup_days".
 */
#ifndef COMMON_CONFIG_H
#define COMMON_CONFIG_H

#include <stdbool.h>
#include <stdint.h>

#include "common/err.h"

#define CONFIG_MAX_BYTES   (1u << 20)
#define CONFIG_MAX_ENTRIES 512

struct config;

/* Parses the file at path; ERR_NOT_FOUND if absent, ERR_CONFIG on syntax. */
MUST_CHECK enum err config_load(const char *path, struct config **out);
/* An empty configuration: every lookup returns its default. */
MUST_CHECK enum err config_empty(struct config **out);
void config_free(struct config *c);
const char *config_str(const struct config *c, const char *key,
    const char *dflt);
/* ERR_CONFIG if present but not a decimal number; *out = dflt if absent. */
MUST_CHECK enum err config_u64(const struct config *c, const char *key,
    uint64_t dflt, uint64_t *out);
bool config_bool(const struct config *c, const char *key, bool dflt);

#endif /* COMMON_CONFIG_H */
