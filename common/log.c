#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "common/log.h"
#include "common/banned.h"

static enum log_level level = LOG_LEVEL_WARN;
static const char *tag = "kura";

void
log_set_level(enum log_level lvl)
{
	level = lvl;
}

void
log_set_tag(const char *t)
{
	tag = t;
}

void
log_msg(enum log_level lvl, const char *func, const char *fmt, ...)
{
	static const char *const names[] = {"error", "warning", "info",
	    "debug"};
	char line[2048];
	va_list ap;
	int n;

	if (lvl > level)
		return;
	n = snprintf(line, sizeof(line), "%s[%ld] %s: %s: ", tag,
	    (long)getpid(), names[lvl], func);
	if (n < 0 || (size_t)n >= sizeof(line))
		n = 0;
	va_start(ap, fmt);
	vsnprintf(line + n, sizeof(line) - (size_t)n, fmt, ap);
	va_end(ap);
	fprintf(stderr, "%s\n", line);
}

const char *
log_escape(const char *s, char *out, size_t outsz)
{
	size_t o = 0;

	if (outsz == 0)
		return out;
	for (const unsigned char *p = (const unsigned char *)s; *p; p++) {
		if (*p < 0x20 || *p == 0x7f || *p == '\\') {
			if (o + 5 >= outsz)
				break;
			snprintf(out + o, outsz - o, "\\x%02x", *p);
			o += 4;
		} else {
			if (o + 2 >= outsz)
				break;
			out[o++] = (char)*p;
		}
	}
	out[o] = 0;
	return out;
}
