/*
 * intake/smtp.c - a small SMTP client: one message to one recipient over
 * plain SMTP to the relay set in kura.conf (smtp.host, smtp.port). The
 * relay is expected on a trusted network (often 127.0.0.1); it does the
 * onward delivery. Bounded: 10 s per reply, replies of at most 4 KiB.
 */
#include <errno.h>
#include <netdb.h>
#include <poll.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "common/log.h"
#include "crypto/crypto.h"
#include "intake/serve_int.h"
#include "common/banned.h"

#define SMTP_TIMEOUT_MS 10000
#define SMTP_LINE_MAX   4096

struct smtp {
	int fd;
	char buf[SMTP_LINE_MAX];
	size_t len;
};

/* Reads one complete reply (last line "NNN "); returns its code or -1. */
static int
smtp_reply(struct smtp *s)
{
	for (;;) {
		char *nl;
		struct pollfd p = {s->fd, POLLIN, 0};
		ssize_t n;

		while ((nl = memchr(s->buf, '\n', s->len)) != NULL) {
			size_t ll = (size_t)(nl - s->buf) + 1;
			int code = -1;
			bool last = ll >= 4 && s->buf[3] == ' ';
			if (ll >= 3 && s->buf[0] >= '1' && s->buf[0] <= '5')
				code = (s->buf[0] - '0') * 100 +
				       (s->buf[1] - '0') * 10 +
				       (s->buf[2] - '0');
			memmove(s->buf, s->buf + ll, s->len - ll);
			s->len -= ll;
			if (last || ll < 4)
				return code;
		}
		if (s->len == sizeof(s->buf))
			return -1;
		if (poll(&p, 1, SMTP_TIMEOUT_MS) <= 0)
			return -1;
		n = read(s->fd, s->buf + s->len, sizeof(s->buf) - s->len);
		if (n <= 0)
			return -1;
		s->len += (size_t)n;
	}
}

static enum err
smtp_cmd(struct smtp *s, const char *line, int want)
{
	int code;

	if (line != NULL && send(s->fd, line, strlen(line), MSG_NOSIGNAL) !=
	                        (ssize_t)strlen(line))
		return ERR_IO;
	code = smtp_reply(s);
	if (code / 100 != want / 100) {
		log_warn("smtp: reply %d to %.10s", code,
		    line ? line : "banner");
		return ERR_PROTOCOL;
	}
	return ERR_OK;
}

/* An address we are willing to put in a command: no CR, LF, <, >, space. */
static bool
addr_ok(const char *a)
{
	size_t n = strlen(a);

	if (n == 0 || n > 254 || strchr(a, '@') == NULL)
		return false;
	for (size_t i = 0; i < n; i++) {
		unsigned char c = (unsigned char)a[i];
		if (c <= 0x20 || c == 0x7f || c == '<' || c == '>' ||
		    c == '(' || c == ')' || c == ',' || c == ';' || c == '"')
			return false;
	}
	return true;
}

static enum err
b64_lines(struct bytes *out, const char *text)
{
	struct bytes b;
	enum err r;

	bytes_init(&b, 4u << 20);
	if ((r = cry_b64_encode(span_str(text), &b)) != ERR_OK)
		goto out;
	for (size_t i = 0; i < b.len; i += 76) {
		size_t k = b.len - i < 76 ? b.len - i : 76;
		if ((r = bytes_put(out, b.p + i, k)) != ERR_OK ||
		    (r = bytes_put_str(out, "\r\n")) != ERR_OK)
			goto out;
	}
out:
	bytes_release(&b);
	return r;
}

enum err
srv_smtp_send(const char *host, uint64_t port, const char *from, const char *to,
    const char *subject, const char *body)
{
	struct smtp s = {.fd = -1};
	struct addrinfo hints = {0}, *ai = NULL, *p;
	struct bytes msg, subj;
	char portstr[8], line[512], date[64];
	enum err r = ERR_INTERNAL;
	time_t now = time(NULL);
	struct tm tm;

	bytes_init(&msg, 8u << 20);
	bytes_init(&subj, 4096);
	if (!addr_ok(from) || !addr_ok(to))
		return ERR_INVALID;
	snprintf(portstr, sizeof(portstr), "%llu", (unsigned long long)port);
	hints.ai_socktype = SOCK_STREAM;
	if (getaddrinfo(host, portstr, &hints, &ai) != 0) {
		r = ERR_CONFIG;
		goto out;
	}
	for (p = ai; p != NULL && s.fd < 0; p = p->ai_next) {
		s.fd = socket(p->ai_family, SOCK_STREAM | SOCK_CLOEXEC, 0);
		if (s.fd >= 0 &&
		    connect(s.fd, p->ai_addr, p->ai_addrlen) != 0) {
			close(s.fd);
			s.fd = -1;
		}
	}
	if (s.fd < 0) {
		log_warn("smtp: cannot connect to %s:%s", host, portstr);
		r = ERR_IO;
		goto out;
	}
	if ((r = smtp_cmd(&s, NULL, 220)) != ERR_OK ||
	    (r = smtp_cmd(&s, "EHLO kura\r\n", 250)) != ERR_OK)
		goto out;
	snprintf(line, sizeof(line), "MAIL FROM:<%s>\r\n", from);
	if ((r = smtp_cmd(&s, line, 250)) != ERR_OK)
		goto out;
	snprintf(line, sizeof(line), "RCPT TO:<%s>\r\n", to);
	if ((r = smtp_cmd(&s, line, 250)) != ERR_OK ||
	    (r = smtp_cmd(&s, "DATA\r\n", 354)) != ERR_OK)
		goto out;
	gmtime_r(&now, &tm);
	strftime(date, sizeof(date), "%a, %d %b %Y %H:%M:%S +0000", &tm);
	if ((r = cry_b64_encode(span_str(subject), &subj)) != ERR_OK)
		goto out;
	/* Body in base64: no line of it can be a lone "." or too long. */
	if ((r = bytes_printf(&msg,
	         "From: <%s>\r\nTo: <%s>\r\nSubject: =?UTF-8?B?%s?=\r\n"
	         "Date: %s\r\nMIME-Version: 1.0\r\n"
	         "Content-Type: text/plain; charset=UTF-8\r\n"
	         "Content-Transfer-Encoding: base64\r\n\r\n",
	         from, to, (const char *)subj.p, date)) != ERR_OK ||
	    (r = b64_lines(&msg, body)) != ERR_OK ||
	    (r = bytes_put_str(&msg, ".\r\n")) != ERR_OK)
		goto out;
	if (send(s.fd, msg.p, msg.len, MSG_NOSIGNAL) != (ssize_t)msg.len) {
		r = ERR_IO;
		goto out;
	}
	if ((r = smtp_cmd(&s, NULL, 250)) != ERR_OK)
		goto out;
	(void)smtp_cmd(&s, "QUIT\r\n", 221);
	r = ERR_OK;
out:
	if (s.fd >= 0)
		close(s.fd);
	if (ai != NULL)
		freeaddrinfo(ai);
	bytes_release(&msg);
	bytes_release(&subj);
	return r;
}
