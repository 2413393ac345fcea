/*
 * intake/sandbox.c - the validator of a completed upload, in a forked,
 * rlimited, seccomp-filtered child that holds no vault fd (issue 5 (a),
 * (b)); the frame codec both sides use; the session's side that answers
 * the child's reads from the encrypted staging file and stores the
 * documents it streams back. See intake/sandbox_int.h.
 */
#include <errno.h>
#include <fcntl.h>
#include <linux/sched.h>
#include <poll.h>
#include <seccomp.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "common/log.h"
#include "common/utf8.h"
#include "intake/sandbox_int.h"
#include "intake/serve_int.h"
#include "common/banned.h"

#if defined(__SANITIZE_ADDRESS__)
#define SBX_ASAN 1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
#define SBX_ASAN 1
#endif
#endif
#ifndef SBX_ASAN
#define SBX_ASAN 0
#endif

#define SBX_NOFILE        8 /* 0-2 /dev/null, 3 the socket, a qpdf pipe */
#define SBX_DEF_TIMEOUT   600
#define SBX_DEF_MEMORY_MB 1024
#define SBX_MIN_MEMORY_MB 128

/* ------------------------------------------------------------ the codec */

static void
put32(uint8_t *p, uint32_t v)
{
	p[0] = (uint8_t)(v >> 24);
	p[1] = (uint8_t)(v >> 16);
	p[2] = (uint8_t)(v >> 8);
	p[3] = (uint8_t)v;
}

static uint32_t
get32(const uint8_t *p)
{
	return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 |
	       (uint32_t)p[2] << 8 | (uint32_t)p[3];
}

static uint64_t
get64(const uint8_t *p)
{
	return (uint64_t)get32(p) << 32 | get32(p + 4);
}

void
sbx_hdr_encode(uint8_t h[static SBX_HDR_LEN], uint32_t type, uint32_t len)
{
	put32(h, type);
	put32(h + 4, len);
}

enum err
sbx_hdr_decode(const uint8_t h[static SBX_HDR_LEN], bool from_child,
    uint32_t *type, uint32_t *len)
{
	uint32_t t = get32(h), n = get32(h + 4), lo, hi;

	switch (t) {
	case SBX_READ:
		lo = hi = 12;
		break;
	case SBX_DOC_BEGIN:
		lo = hi = 4;
		break;
	case SBX_DOC_DATA:
		lo = 5;
		hi = 4 + SBX_DATA_MAX;
		break;
	case SBX_DOC_END:
		lo = hi = 5;
		break;
	case SBX_VERDICT:
		lo = 1 + 4 + INTAKE_HASH_LEN + 4 + 4 + 4;
		hi = SBX_VERDICT_MAX;
		break;
	case SBX_FAIL:
	case SBX_REFUSE:
		lo = hi = 4;
		break;
	case SBX_DATA:
		lo = 1;
		hi = SBX_DATA_MAX;
		break;
	default:
		return ERR_PROTOCOL;
	}
	if ((t == SBX_DATA || t == SBX_REFUSE) == from_child)
		return ERR_PROTOCOL;
	if (n < lo || n > hi)
		return ERR_PROTOCOL;
	*type = t;
	*len = n;
	return ERR_OK;
}

/* A bounded reader over a payload: every take checks what is left. */
struct cur {
	const uint8_t *p;
	size_t left;
	bool bad;
};

static const uint8_t *
take(struct cur *c, size_t n)
{
	const uint8_t *p = c->p;

	if (c->bad || n > c->left) {
		c->bad = true;
		return NULL;
	}
	c->p += n;
	c->left -= n;
	return p;
}

static uint8_t
take8(struct cur *c)
{
	const uint8_t *p = take(c, 1);

	return p != NULL ? p[0] : 0;
}

static uint32_t
take32(struct cur *c)
{
	const uint8_t *p = take(c, 4);

	return p != NULL ? get32(p) : 0;
}

/* UTF-8 without C0, DEL or C1 controls: a name cannot forge a line. */
static bool
text_ok(const uint8_t *p, size_t len)
{
	size_t i = 0;

	while (i < len) {
		uint32_t cp = 0;
		size_t n = utf8_decode(p + i, len - i, &cp);

		if (n == 0 || cp < 0x20 || cp == 0x7f ||
		    (cp >= 0x80 && cp <= 0x9f))
			return false;
		i += n;
	}
	return true;
}

/*
 * A u16-length string of 1..max bytes (or absent when 0xffff and opt):
 * UTF-8 without NUL; strict: without any control character either (the
 * names of an accepted submission go into the signed receipt's lines).
 */
static enum err
take_str(struct cur *c, size_t max, bool opt, bool strict, char **out)
{
	const uint8_t *p;
	uint32_t n;

	*out = NULL;
	if ((p = take(c, 2)) == NULL)
		return ERR_PROTOCOL;
	n = (uint32_t)p[0] << 8 | p[1];
	if (opt && n == 0xffff)
		return ERR_OK;
	if (n == 0 || n > max || (p = take(c, n)) == NULL ||
	    (strict ? !text_ok(p, n)
	            : (!utf8_valid(p, n) || memchr(p, 0, n) != NULL)))
		return ERR_PROTOCOL;
	if ((*out = strndup((const char *)p, n)) == NULL)
		return ERR_NOMEM;
	return ERR_OK;
}

static bool
format_ok(const char *f)
{
	for (const char *s = f; *s; s++)
		if (!((*s >= 'a' && *s <= 'z') || (*s >= '0' && *s <= '9') ||
		        *s == '-'))
			return false;
	return true;
}

void
sbx_msg_release(struct sbx_msg *m)
{
	for (size_t i = 0; m->docs != NULL && i < m->ndocs; i++) {
		free(m->docs[i].number);
		free(m->docs[i].name);
		free(m->docs[i].format);
	}
	free(m->docs);
	memset(m, 0, sizeof(*m));
}

static enum err
decode_verdict(struct cur *c, struct sbx_msg *m)
{
	enum err r;
	uint32_t nd, n;
	const uint8_t *p;
	uint8_t a = take8(c);

	if (a > 1)
		return ERR_PROTOCOL;
	m->accept = a == 1;
	m->nproblems = take32(c);
	if ((p = take(c, INTAKE_HASH_LEN)) == NULL)
		return ERR_PROTOCOL;
	memcpy(m->zip_sha256, p, INTAKE_HASH_LEN);
	nd = take32(c);
	if (c->bad || nd > SBX_DOCS_MAX || m->nproblems > SBX_PROBLEMS_MAX)
		return ERR_PROTOCOL;
	/* An accepted submission has no error, so at most warnings. */
	if ((m->docs = calloc(nd + 1, sizeof(*m->docs))) == NULL)
		return ERR_NOMEM;
	for (uint32_t i = 0; i < nd; i++) {
		struct sbx_doc_msg *d = &m->docs[i];
		uint8_t h;

		m->ndocs = i + 1;
		if ((r = take_str(c, SBX_NUMBER_MAX, true, m->accept,
		         &d->number)) != ERR_OK ||
		    (r = take_str(c, SBX_NAME_MAX, false, m->accept,
		         &d->name)) != ERR_OK ||
		    (r = take_str(c, SBX_FORMAT_MAX, false, true,
		         &d->format)) != ERR_OK)
			return r;
		d->role = take8(c);
		if ((p = take(c, 8)) == NULL)
			return ERR_PROTOCOL;
		d->size = get64(p);
		h = take8(c);
		if ((p = take(c, INTAKE_HASH_LEN)) == NULL || h > 1 ||
		    d->role >= INTAKE_ROLE__COUNT || !format_ok(d->format))
			return ERR_PROTOCOL;
		d->hashed = h == 1;
		memcpy(d->sha256, p, INTAKE_HASH_LEN);
	}
	n = take32(c);
	if (n == 0 || n > SBX_JSON_MAX || (p = take(c, n)) == NULL ||
	    !utf8_valid(p, n) || memchr(p, 0, n) != NULL)
		return ERR_PROTOCOL;
	m->json = span_of(p, n);
	n = take32(c);
	if (n == 0 || n > SBX_TEXT_MAX || (p = take(c, n)) == NULL ||
	    !utf8_valid(p, n) || memchr(p, 0, n) != NULL)
		return ERR_PROTOCOL;
	m->text = span_of(p, n);
	return ERR_OK;
}

enum err
sbx_msg_decode(uint32_t type, struct span payload, struct sbx_msg *out)
{
	struct cur c = {payload.p, payload.len, false};
	enum err r = ERR_PROTOCOL;
	const uint8_t *p;

	memset(out, 0, sizeof(*out));
	out->type = type;
	switch (type) {
	case SBX_READ:
		if ((p = take(&c, 8)) != NULL)
			out->off = get64(p);
		out->len = take32(&c);
		if (out->len == 0 || out->len > SBX_DATA_MAX)
			goto out;
		break;
	case SBX_DOC_BEGIN:
		out->doc = take32(&c);
		break;
	case SBX_DOC_DATA:
		out->doc = take32(&c);
		if (c.left == 0 || c.left > SBX_DATA_MAX)
			goto out;
		out->data = span_of(take(&c, c.left), payload.len - 4);
		break;
	case SBX_DOC_END: {
		uint8_t ok;

		out->doc = take32(&c);
		ok = take8(&c);
		if (ok > 1)
			goto out;
		out->ok = ok == 1;
		break;
	}
	case SBX_VERDICT:
		if ((r = decode_verdict(&c, out)) != ERR_OK)
			goto out;
		r = ERR_PROTOCOL;
		break;
	case SBX_FAIL:
	case SBX_REFUSE:
		out->err = take32(&c);
		break;
	case SBX_DATA:
		if (c.left == 0 || c.left > SBX_DATA_MAX)
			goto out;
		out->data = span_of(take(&c, c.left), payload.len);
		break;
	default:
		goto out;
	}
	if (c.bad || c.left != 0 ||
	    ((type == SBX_DOC_BEGIN || type == SBX_DOC_DATA ||
	         type == SBX_DOC_END) &&
	        out->doc >= SBX_DOCS_MAX))
		goto out;
	r = ERR_OK;
out:
	if (r != ERR_OK)
		sbx_msg_release(out);
	return r;
}

static enum err
put_str16(struct bytes *b, const char *s, bool opt)
{
	size_t n;
	enum err r;

	if (s == NULL) {
		if (!opt)
			return ERR_INVALID;
		return bytes_put(b, "\xff\xff", 2);
	}
	n = strlen(s);
	if (n == 0 || n >= 0xffff)
		return ERR_TOO_BIG;
	if ((r = bytes_put_u8(b, (uint8_t)(n >> 8))) != ERR_OK ||
	    (r = bytes_put_u8(b, (uint8_t)n)) != ERR_OK)
		return r;
	return bytes_put(b, s, n);
}

enum err
sbx_verdict_encode(const struct intake_report *rep, struct span json,
    struct span text, struct bytes *out)
{
	enum err r;

	if (rep->ndocs > SBX_DOCS_MAX || rep->nproblems > SBX_PROBLEMS_MAX ||
	    json.len > SBX_JSON_MAX || text.len > SBX_TEXT_MAX)
		return ERR_TOO_BIG;
	if ((r = bytes_put_u8(out, rep->accept ? 1 : 0)) != ERR_OK ||
	    (r = bytes_put_be32(out, (uint32_t)rep->nproblems)) != ERR_OK ||
	    (r = bytes_put(out, rep->zip_sha256, INTAKE_HASH_LEN)) != ERR_OK ||
	    (r = bytes_put_be32(out, (uint32_t)rep->ndocs)) != ERR_OK)
		return r;
	for (size_t i = 0; i < rep->ndocs; i++) {
		const struct intake_doc *d = &rep->docs[i];

		if ((r = put_str16(out, d->number, true)) != ERR_OK ||
		    (r = put_str16(out, d->name, false)) != ERR_OK ||
		    (r = put_str16(out, d->format, false)) != ERR_OK ||
		    (r = bytes_put_u8(out, (uint8_t)d->role)) != ERR_OK ||
		    (r = bytes_put_be64(out, d->size)) != ERR_OK ||
		    (r = bytes_put_u8(out, d->hashed ? 1 : 0)) != ERR_OK ||
		    (r = bytes_put(out, d->sha256, INTAKE_HASH_LEN)) != ERR_OK)
			return r;
	}
	if ((r = bytes_put_be32(out, (uint32_t)json.len)) != ERR_OK ||
	    (r = bytes_put(out, json.p, json.len)) != ERR_OK ||
	    (r = bytes_put_be32(out, (uint32_t)text.len)) != ERR_OK)
		return r;
	return bytes_put(out, text.p, text.len);
}

/* ----------------------------------------------------- socket helpers */

/*
 * Waits until fd is ready for events; deadline NULL: at once (the caller
 * blocks in read/send). ERR_IO once the deadline has passed: the session
 * bounds every read and every send, since a validator that stops reading
 * would otherwise hold it in send() forever.
 */
static enum err
ready(int fd, short events, const struct timespec *deadline)
{
	while (deadline != NULL) {
		struct timespec now;
		long long ms;
		struct pollfd pf = {fd, events, 0};
		int pr;

		clock_gettime(CLOCK_MONOTONIC, &now);
		ms = (long long)(deadline->tv_sec - now.tv_sec) * 1000 +
		     (deadline->tv_nsec - now.tv_nsec) / 1000000;
		if (ms <= 0) {
			log_warn("validator timed out");
			return ERR_IO;
		}
		pr = poll(&pf, 1, ms > 60000 ? 60000 : (int)ms);
		if (pr < 0 && errno != EINTR)
			return ERR_IO;
		if (pr > 0)
			return ERR_OK;
	}
	return ERR_OK;
}

static enum err
write_all(int fd, const void *p, size_t len, const struct timespec *deadline)
{
	const uint8_t *b = p;
	int fl = MSG_NOSIGNAL | (deadline != NULL ? MSG_DONTWAIT : 0);

	while (len > 0) {
		ssize_t n;

		if (ready(fd, POLLOUT, deadline) != ERR_OK)
			return ERR_IO;
		n = send(fd, b, len, fl);
		if (n < 0 && (errno == EINTR || errno == EAGAIN))
			continue;
		if (n <= 0)
			return ERR_IO;
		b += n;
		len -= (size_t)n;
	}
	return ERR_OK;
}

static enum err
send_frame(int fd, uint32_t type, const void *a, size_t alen, const void *b,
    size_t blen, const struct timespec *deadline)
{
	uint8_t h[SBX_HDR_LEN];
	enum err r;

	sbx_hdr_encode(h, type, (uint32_t)(alen + blen));
	if ((r = write_all(fd, h, sizeof(h), deadline)) != ERR_OK ||
	    (alen > 0 && (r = write_all(fd, a, alen, deadline)) != ERR_OK) ||
	    (blen > 0 && (r = write_all(fd, b, blen, deadline)) != ERR_OK))
		return r;
	return ERR_OK;
}

/* Reads len bytes; deadline NULL: block. ERR_IO on EOF, error, timeout. */
static enum err
read_all(int fd, void *p, size_t len, const struct timespec *deadline)
{
	uint8_t *b = p;
	int fl = deadline != NULL ? MSG_DONTWAIT : 0;

	while (len > 0) {
		ssize_t n;

		if (ready(fd, POLLIN, deadline) != ERR_OK)
			return ERR_IO;
		n = recv(fd, b, len, fl);
		if (n < 0 && (errno == EINTR || errno == EAGAIN))
			continue;
		if (n <= 0)
			return ERR_IO;
		b += n;
		len -= (size_t)n;
	}
	return ERR_OK;
}

/* ------------------------------------------------------------- the child */

struct child {
	int fd;
	uint64_t size;
	/* Two cached blocks: the directory and the current data. */
	uint8_t *blk[2];
	uint64_t blk_off[2];
	size_t blk_len[2];
	unsigned next;
};

static enum err
child_fetch(struct child *ch, uint64_t boff, size_t len, unsigned slot)
{
	uint8_t req[12], h[SBX_HDR_LEN];
	uint32_t type, n;
	enum err r;

	put32(req, (uint32_t)(boff >> 32));
	put32(req + 4, (uint32_t)boff);
	put32(req + 8, (uint32_t)len);
	ch->blk_len[slot] = 0;
	if ((r = send_frame(ch->fd, SBX_READ, req, sizeof(req), NULL, 0,
	         NULL)) != ERR_OK ||
	    (r = read_all(ch->fd, h, sizeof(h), NULL)) != ERR_OK ||
	    (r = sbx_hdr_decode(h, false, &type, &n)) != ERR_OK)
		return ERR_IO;
	if (type != SBX_DATA || n != len)
		return ERR_IO; /* a refusal (4 bytes) or a short answer */
	if ((r = read_all(ch->fd, ch->blk[slot], n, NULL)) != ERR_OK)
		return r;
	ch->blk_off[slot] = boff;
	ch->blk_len[slot] = n;
	return ERR_OK;
}

static enum err
child_read(void *arg, uint64_t off, void *buf, size_t len)
{
	struct child *ch = arg;
	uint8_t *out = buf;
	enum err r;

	if (off > ch->size || len > ch->size - off)
		return ERR_IO;
	while (len > 0) {
		uint64_t boff = off / SBX_DATA_MAX * SBX_DATA_MAX;
		size_t in, m;
		unsigned s;

		for (s = 0; s < 2; s++)
			if (ch->blk_len[s] > 0 && ch->blk_off[s] == boff)
				break;
		if (s == 2) {
			size_t want = ch->size - boff < SBX_DATA_MAX
			                  ? (size_t)(ch->size - boff)
			                  : SBX_DATA_MAX;

			s = ch->next;
			ch->next ^= 1;
			if ((r = child_fetch(ch, boff, want, s)) != ERR_OK)
				return r;
		}
		in = (size_t)(off - boff);
		m = ch->blk_len[s] - in < len ? ch->blk_len[s] - in : len;
		memcpy(out, ch->blk[s] + in, m);
		out += m;
		off += m;
		len -= m;
	}
	return ERR_OK;
}

static enum err
child_begin(void *arg, size_t doc, const struct intake_doc *d)
{
	struct child *ch = arg;
	uint8_t p[4];

	(void)d;
	put32(p, (uint32_t)doc);
	return send_frame(ch->fd, SBX_DOC_BEGIN, p, 4, NULL, 0, NULL);
}

static enum err
child_data(void *arg, size_t doc, const uint8_t *p, size_t len)
{
	struct child *ch = arg;
	uint8_t d[4];
	enum err r;

	put32(d, (uint32_t)doc);
	while (len > 0) {
		size_t n = len < SBX_DATA_MAX ? len : SBX_DATA_MAX;

		if ((r = send_frame(ch->fd, SBX_DOC_DATA, d, 4, p, n, NULL)) !=
		    ERR_OK)
			return r;
		p += n;
		len -= n;
	}
	return ERR_OK;
}

static enum err
child_end(void *arg, size_t doc, bool ok)
{
	struct child *ch = arg;
	uint8_t p[5];

	put32(p, (uint32_t)doc);
	p[4] = ok ? 1 : 0;
	return send_frame(ch->fd, SBX_DOC_END, p, 5, NULL, 0, NULL);
}

/*
 * Syscalls the validator never needs: new files or sockets, programs,
 * other processes, privileges, namespaces, mounts, kernel facilities.
 * A deny list (default allow) because the ASan/UBSan runtime and glibc
 * make calls an allow list would have to chase; the rlimits and the
 * empty fd table bound the rest.
 */
static const char *const sbx_denied[] = {"open", "openat", "openat2", "creat",
    "open_by_handle_at", "name_to_handle_at", "socket", "socketpair", "connect",
    "bind", "listen", "accept", "accept4", "execve", "execveat", "ptrace",
    "process_vm_readv", "process_vm_writev", "mount", "umount2", "pivot_root",
    "chroot", "setns", "unshare", "mknod", "mknodat", "link", "linkat",
    "symlink", "symlinkat", "unlink", "unlinkat", "rename", "renameat",
    "renameat2", "mkdir", "mkdirat", "rmdir", "chmod", "fchmod", "fchmodat",
    "chown", "fchown", "lchown", "fchownat", "truncate", "utime", "utimes",
    "utimensat", "futimesat", "setuid", "setgid", "setreuid", "setregid",
    "setresuid", "setresgid", "setgroups", "setfsuid", "setfsgid", "capset",
    "setpgid", "setsid", "keyctl", "add_key", "request_key", "bpf",
    "perf_event_open", "userfaultfd", "io_uring_setup", "io_uring_enter",
    "io_uring_register", "init_module", "finit_module", "delete_module",
    "reboot", "kexec_load", "kexec_file_load", "swapon", "swapoff", "acct",
    "quotactl", "pidfd_open", "pidfd_getfd", "pidfd_send_signal",
    "process_madvise", "fanotify_init", "inotify_init", "inotify_init1",
    "open_tree", "move_mount", "fsopen", "fsconfig", "fsmount", "fspick",
    "mount_setattr", "personality", "syslog", "settimeofday", "clock_settime",
    "adjtimex", "clock_adjtime", "sethostname", "setdomainname", "iopl",
    "ioperm", "vhangup", "memfd_create", "memfd_secret", "migrate_pages",
    "move_pages", "mbind", "set_mempolicy", "kcmp", "lookup_dcookie",
    "nfsservctl", "uselib", "ustat", "sysfs", "vm86", "vm86old",
    "landlock_create_ruleset", "landlock_add_rule", "landlock_restrict_self",
    "seccomp"};

enum err
sbx_seccomp_on(void)
{
	scmp_filter_ctx ctx = seccomp_init(SCMP_ACT_ALLOW);
	const uint32_t deny = SCMP_ACT_ERRNO(EPERM);
	const scmp_datum_t self = (scmp_datum_t)getpid();
	static const scmp_datum_t ns[] = {CLONE_NEWNS, CLONE_NEWUSER,
	    CLONE_NEWPID, CLONE_NEWNET, CLONE_NEWIPC, CLONE_NEWUTS,
	    CLONE_NEWCGROUP};
	enum err r = ERR_INTERNAL;
	int rc = 0;

	if (ctx == NULL)
		return ERR_INTERNAL;
	for (size_t i = 0; i < sizeof(sbx_denied) / sizeof(sbx_denied[0]);
	     i++) {
		int nr = seccomp_syscall_resolve_name(sbx_denied[i]);

		if (nr == __NR_SCMP_ERROR)
			continue; /* not a syscall of this architecture */
		if (seccomp_rule_add(ctx, deny, nr, 0) < 0 && nr >= 0) {
			log_err("seccomp rule %s", sbx_denied[i]);
			goto out;
		}
	}
	/* Signals only to itself (abort() raises SIGABRT). */
	rc |= seccomp_rule_add(ctx, deny, SCMP_SYS(kill), 1,
	    SCMP_A0(SCMP_CMP_NE, self));
	rc |= seccomp_rule_add(ctx, deny, SCMP_SYS(tkill), 1,
	    SCMP_A0(SCMP_CMP_NE, self));
	rc |= seccomp_rule_add(ctx, deny, SCMP_SYS(tgkill), 1,
	    SCMP_A0(SCMP_CMP_NE, self));
	/* rlimits of itself only (setrlimit is prlimit64(0, ...)). */
	rc |= seccomp_rule_add(ctx, deny, SCMP_SYS(prlimit64), 1,
	    SCMP_A0(SCMP_CMP_NE, 0));
	/* fork() for the qpdf helper, but no new namespaces; no clone3. */
	for (size_t i = 0; i < sizeof(ns) / sizeof(ns[0]); i++)
		rc |= seccomp_rule_add(ctx, deny, SCMP_SYS(clone), 1,
		    SCMP_A0(SCMP_CMP_MASKED_EQ, ns[i], ns[i]));
	rc |=
	    seccomp_rule_add(ctx, SCMP_ACT_ERRNO(ENOSYS), SCMP_SYS(clone3), 0);
	if (rc != 0) {
		log_err("seccomp rules");
		goto out;
	}
	if (seccomp_load(ctx) != 0) {
		log_err("seccomp_load");
		goto out;
	}
	r = ERR_OK;
out:
	seccomp_release(ctx);
	return r;
}

static bool
limit(int res, uint64_t soft, uint64_t hard)
{
	struct rlimit rl = {(rlim_t)soft, (rlim_t)hard};

	return setrlimit(res, &rl) == 0;
}

/*
 * The validator's confinement, before it reads a byte of the upload: fds
 * 0-2 on /dev/null and the socket on 3, nothing else; rlimits; no core,
 * not dumpable (no ptrace by its own user), no_new_privs, seccomp.
 */
static enum err
confine(int sock, uint64_t memory, uint64_t cpu_secs)
{
	struct rlimit as;
	int s, nul;

	/* Never above the session's own limit (serve.memory_limit_mb). */
	if (getrlimit(RLIMIT_AS, &as) == 0 && as.rlim_max != RLIM_INFINITY &&
	    (uint64_t)as.rlim_max < memory)
		memory = (uint64_t)as.rlim_max;

	if ((s = fcntl(sock, F_DUPFD, 10)) < 0 ||
	    (nul = open("/dev/null", O_RDWR)) < 0)
		return ERR_IO;
	if (dup2(nul, 0) < 0 || dup2(nul, 1) < 0 || dup2(nul, 2) < 0 ||
	    dup2(s, 3) != 3)
		return ERR_IO;
	/* Every other fd: the vault, kura.db, the SSH connection, ... */
	if (close_range(4, ~0U, 0) != 0)
		return ERR_IO;
	if (!limit(RLIMIT_NOFILE, SBX_NOFILE, SBX_NOFILE) ||
	    !limit(RLIMIT_FSIZE, 0, 0) || !limit(RLIMIT_CORE, 0, 0) ||
	    !limit(RLIMIT_CPU, cpu_secs, cpu_secs + 1) ||
	    /* ASan reserves terabytes of address space: no AS limit. */
	    (!SBX_ASAN && !limit(RLIMIT_AS, memory, memory)))
		return ERR_IO;
	if (prctl(PR_SET_DUMPABLE, 0, 0, 0, 0) != 0 ||
	    prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) != 0)
		return ERR_IO;
	return sbx_seccomp_on();
}

struct child_job {
	int sock;
	uint64_t size;
	enum intake_type type;
	struct intake_limits limits;
	struct intake_libs *libs;
	uint64_t memory, cpu_secs;
};

__attribute__((noreturn)) static void
child_main(const struct child_job *j)
{
	struct child ch = {.fd = 3, .size = j->size};
	struct intake_reader rd = {&ch, child_read};
	struct intake_sink sink = {&ch, child_begin, child_data, child_end};
	struct intake_check_opts o;
	struct intake_report *rep = NULL;
	struct bytes json, text, msg;
	uint8_t e[4];
	enum err r;

	(void)prctl(PR_SET_PDEATHSIG, SIGKILL, 0, 0, 0);
	signal(SIGPIPE, SIG_IGN);
	if (confine(j->sock, j->memory, j->cpu_secs) != ERR_OK)
		_exit(3);
	intake_check_opts_default(&o);
	o.type = j->type;
	o.limits = j->limits;
	o.libs = j->libs;
	o.sink = &sink;
	bytes_init(&json, SBX_JSON_MAX);
	bytes_init(&text, SBX_TEXT_MAX);
	bytes_init(&msg, SBX_VERDICT_MAX);
	if ((ch.blk[0] = malloc(SBX_DATA_MAX)) == NULL ||
	    (ch.blk[1] = malloc(SBX_DATA_MAX)) == NULL)
		r = ERR_NOMEM;
	else if ((r = intake_check_reader(&rd, j->size, &o, &rep)) == ERR_OK &&
	         (r = intake_report_json(rep, &json)) == ERR_OK &&
	         (r = intake_report_text(rep, "ja", &text)) == ERR_OK &&
	         (r = sbx_verdict_encode(rep, bytes_span(&json),
	              bytes_span(&text), &msg)) == ERR_OK)
		r = send_frame(3, SBX_VERDICT, msg.p, msg.len, NULL, 0, NULL);
	if (r != ERR_OK) {
		put32(e, (uint32_t)r);
		(void)send_frame(3, SBX_FAIL, e, 4, NULL, 0, NULL);
		_exit(1);
	}
	_exit(0);
}

/* ------------------------------------------------------------ the parent */

struct pdoc {
	struct vault_put *put;
	struct cry_sha256 h;
	bool open, done;
	uint64_t size;
	uint8_t sha256[INTAKE_HASH_LEN];
};

struct parent {
	int fd;
	struct timespec deadline;
	struct vault *v;
	struct vault_put *zip;
	uint64_t zip_size;
	const struct intake_limits *L;
	struct pdoc *docs; /* SBX_DOCS_MAX */
	long open;         /* the document being streamed, or -1 */
	uint64_t total;
	uint8_t *buf; /* SBX_DATA_MAX */
};

static void
parent_release(struct parent *p)
{
	for (size_t i = 0; p->docs != NULL && i < SBX_DOCS_MAX; i++) {
		vault_put_abort(p->docs[i].put);
		if (p->docs[i].open)
			cry_sha256_release(&p->docs[i].h);
	}
	free(p->docs);
	free(p->buf);
	p->docs = NULL;
	p->buf = NULL;
}

/* The child asks for bytes of the ZIP: decrypted from staging/. */
static enum err
answer_read(struct parent *p, const struct sbx_msg *m)
{
	size_t got = 0;
	enum err r;

	if (m->off > p->zip_size || m->len > p->zip_size - m->off)
		return ERR_PROTOCOL;
	while (got < m->len) {
		size_t n = 0;

		if ((r = vault_put_read(p->zip, m->off + got, p->buf + got,
		         m->len - got, &n)) != ERR_OK)
			return r;
		if (n == 0)
			return ERR_CORRUPT;
		got += n;
	}
	r = send_frame(p->fd, SBX_DATA, p->buf, m->len, NULL, 0, &p->deadline);
	mem_wipe(p->buf, m->len);
	return r;
}

static enum err
doc_frame(struct parent *p, const struct sbx_msg *m)
{
	struct pdoc *d = &p->docs[m->doc];
	enum err r;

	switch (m->type) {
	case SBX_DOC_BEGIN:
		/* One document at a time, each once. */
		if (p->open >= 0 || d->put != NULL || d->done)
			return ERR_PROTOCOL;
		if ((r = cry_sha256_init(&d->h)) != ERR_OK)
			return r;
		d->open = true;
		p->open = (long)m->doc;
		return vault_put_begin(p->v, p->L->max_entry, &d->put);
	case SBX_DOC_DATA:
		if (p->open != (long)m->doc || d->put == NULL)
			return ERR_PROTOCOL;
		/* The child's limits, enforced again on what it sends. */
		if (m->data.len > p->L->max_entry - d->size ||
		    m->data.len > p->L->max_total - p->total)
			return ERR_PROTOCOL;
		if ((r = vault_put_write(d->put, d->size, m->data)) != ERR_OK)
			return r;
		cry_sha256_update(&d->h, m->data.p, m->data.len);
		d->size += m->data.len;
		p->total += m->data.len;
		return ERR_OK;
	case SBX_DOC_END:
		if (p->open != (long)m->doc || d->put == NULL)
			return ERR_PROTOCOL;
		p->open = -1;
		d->open = false;
		if (!m->ok) {
			cry_sha256_release(&d->h);
			vault_put_abort(d->put);
			d->put = NULL;
			d->done = true; /* cut short: never stored */
			d->size = 0;
			return ERR_OK;
		}
		cry_sha256_final(&d->h, d->sha256);
		d->done = true;
		return vault_put_finish(d->put, NULL);
	default:
		return ERR_PROTOCOL;
	}
}

/* The verdict against what the parent measured itself. */
static enum err
take_verdict(struct parent *p, struct sbx_msg *m,
    const uint8_t zip_sha[static 32], struct srv_verdict *out)
{
	struct intake_report *rep;

	if (p->open >= 0 || !cry_equal(m->zip_sha256, zip_sha, INTAKE_HASH_LEN))
		return ERR_PROTOCOL;
	for (size_t i = m->ndocs; i < SBX_DOCS_MAX; i++)
		if (p->docs[i].put != NULL || p->docs[i].done)
			return ERR_PROTOCOL; /* a document not in the report */
	for (size_t i = 0; i < m->ndocs; i++) {
		const struct pdoc *d = &p->docs[i];
		const struct sbx_doc_msg *c = &m->docs[i];

		if (m->accept && (d->put == NULL || !c->hashed))
			return ERR_PROTOCOL;
		if (d->put != NULL &&
		    (c->size != d->size || !c->hashed ||
		        !cry_equal(c->sha256, d->sha256, INTAKE_HASH_LEN)))
			return ERR_PROTOCOL;
	}
	if ((rep = calloc(1, sizeof(*rep))) == NULL)
		return ERR_NOMEM;
	out->rep = rep;
	rep->accept = m->accept;
	rep->zip_size = p->zip_size;
	memcpy(rep->zip_sha256, zip_sha, INTAKE_HASH_LEN);
	/* Problems travel as text; the count alone is kept here. */
	if ((rep->problems =
	            calloc(m->nproblems + 1, sizeof(*rep->problems))) == NULL ||
	    (rep->docs = calloc(m->ndocs + 1, sizeof(*rep->docs))) == NULL ||
	    (out->formats = calloc(m->ndocs + 1, sizeof(*out->formats))) ==
	        NULL ||
	    (out->puts = calloc(m->ndocs + 1, sizeof(*out->puts))) == NULL)
		return ERR_NOMEM;
	rep->nproblems = m->nproblems;
	for (size_t i = 0; i < m->ndocs; i++) {
		struct intake_doc *d = &rep->docs[i];
		struct sbx_doc_msg *c = &m->docs[i];

		rep->ndocs = i + 1;
		d->entry = i;
		d->name = c->name;
		d->number = c->number;
		c->name = c->number = NULL; /* transferred */
		d->role = (enum intake_role)c->role;
		snprintf(out->formats[i], sizeof(out->formats[i]), "%s",
		    c->format);
		d->format = out->formats[i];
		d->size = p->docs[i].size;
		d->hashed = p->docs[i].put != NULL;
		memcpy(d->sha256, p->docs[i].sha256, INTAKE_HASH_LEN);
		out->puts[i] = p->docs[i].put;
		p->docs[i].put = NULL; /* transferred */
		out->nputs = i + 1;
	}
	if (bytes_put(&out->json, m->json.p, m->json.len) != ERR_OK ||
	    bytes_put(&out->text, m->text.p, m->text.len) != ERR_OK)
		return ERR_NOMEM;
	return ERR_OK;
}

static enum err
parent_loop(struct parent *p, const uint8_t zip_sha[static 32],
    struct srv_verdict *out)
{
	uint8_t h[SBX_HDR_LEN];
	uint8_t *payload = NULL, *frame = NULL;
	enum err r;

	/* One buffer for the frames of the stream; a verdict gets its own. */
	if ((frame = malloc(4 + SBX_DATA_MAX)) == NULL)
		return ERR_NOMEM;
	for (;;) {
		struct sbx_msg m;
		uint32_t type, len;

		if (payload != frame)
			free(payload);
		payload = NULL;
		if ((r = read_all(p->fd, h, sizeof(h), &p->deadline)) != ERR_OK)
			goto out;
		if ((r = sbx_hdr_decode(h, true, &type, &len)) != ERR_OK) {
			log_err("validator sent a bad frame header");
			goto out;
		}
		payload = len <= 4 + SBX_DATA_MAX ? frame : malloc(len);
		if (payload == NULL) {
			r = ERR_NOMEM;
			goto out;
		}
		if ((r = read_all(p->fd, payload, len, &p->deadline)) != ERR_OK)
			goto out;
		if ((r = sbx_msg_decode(type, span_of(payload, len), &m)) !=
		    ERR_OK) {
			log_err("validator sent a bad frame (type %u)",
			    (unsigned)type);
			goto out;
		}
		switch (type) {
		case SBX_READ:
			r = answer_read(p, &m);
			break;
		case SBX_DOC_BEGIN:
		case SBX_DOC_DATA:
		case SBX_DOC_END:
			r = doc_frame(p, &m);
			break;
		case SBX_VERDICT:
			r = take_verdict(p, &m, zip_sha, out);
			sbx_msg_release(&m);
			if (r == ERR_PROTOCOL)
				log_err("validator's verdict disagrees with "
				        "what it sent");
			goto out;
		case SBX_FAIL:
			log_err("validator failed: %s",
			    m.err < ERR__COUNT ? err_str((enum err)m.err)
			                       : "?");
			r = ERR_INTERNAL;
			break;
		default:
			r = ERR_PROTOCOL;
		}
		sbx_msg_release(&m);
		if (r != ERR_OK)
			goto out;
	}
out:
	if (payload != frame)
		free(payload);
	free(frame);
	return r;
}

/* The listener's cap on validations at once: 'V +' waits for a slot. */
static enum err
slot(int ctl, bool take_it)
{
	char reply[16];
	ssize_t n;

	if (ctl < 0)
		return ERR_OK;
	if (send(ctl, take_it ? "V +" : "V -", 3, MSG_NOSIGNAL) != 3)
		return ERR_IO;
	do
		n = recv(ctl, reply, sizeof(reply) - 1, 0);
	while (n < 0 && errno == EINTR);
	if (n <= 0 || reply[0] != 'O')
		return ERR_IO;
	return ERR_OK;
}

static void
end_child(pid_t pid)
{
	int st;

	/* The whole group: a qpdf helper it may have left behind too. */
	(void)kill(-pid, SIGKILL);
	(void)kill(pid, SIGKILL);
	while (waitpid(pid, &st, 0) < 0 && errno == EINTR)
		;
}

void
srv_verdict_release(struct srv_verdict *vd)
{
	for (size_t i = 0; vd->puts != NULL && i < vd->nputs; i++)
		vault_put_abort(vd->puts[i]);
	free(vd->puts);
	intake_report_free(vd->rep);
	free(vd->formats);
	bytes_release(&vd->json);
	bytes_release(&vd->text);
	memset(vd, 0, sizeof(*vd));
}

enum err
srv_validate(struct vault *v, const struct srv_conf *c,
    const struct srv_upload_info *u, enum intake_type type,
    struct vault_put *zip, struct srv_verdict *out)
{
	const struct config *cf = vault_config(v);
	struct intake_limits L;
	struct parent p = {.fd = -1, .open = -1, .v = v, .zip = zip};
	struct child_job j = {.sock = -1};
	struct cry_doc_result zr;
	uint64_t timeout, mem_mb;
	int sp[2] = {-1, -1};
	pid_t pid = -1;
	bool have_slot = false;
	enum err r = ERR_INTERNAL;

	memset(out, 0, sizeof(*out));
	bytes_init(&out->json, SBX_JSON_MAX);
	bytes_init(&out->text, SBX_TEXT_MAX);
	if ((r = intake_limits_from_config(cf, &L)) != ERR_OK ||
	    (r = config_u64(cf, "serve.validate_timeout_seconds",
	         SBX_DEF_TIMEOUT, &timeout)) != ERR_OK ||
	    (r = config_u64(cf, "serve.validator_memory_mb", SBX_DEF_MEMORY_MB,
	         &mem_mb)) != ERR_OK)
		goto out;
	if (timeout == 0 || timeout > 86400 || mem_mb < SBX_MIN_MEMORY_MB ||
	    mem_mb > (1u << 20)) {
		r = ERR_CONFIG;
		goto out;
	}
	/* The ZIP's size and SHA-256 as staged, not as the child says. */
	if ((r = vault_put_finish(zip, &zr)) != ERR_OK)
		goto out;
	p.zip_size = zr.plain_size;
	p.L = &L;
	if ((p.docs = calloc(SBX_DOCS_MAX, sizeof(*p.docs))) == NULL ||
	    (p.buf = malloc(SBX_DATA_MAX)) == NULL) {
		r = ERR_NOMEM;
		goto out;
	}
	if ((r = slot(u->ctl, true)) != ERR_OK) {
		log_err("no validation slot from the listener");
		goto out;
	}
	have_slot = true;
	if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sp) != 0) {
		r = ERR_IO;
		goto out;
	}
	j.sock = sp[1];
	j.size = p.zip_size;
	j.type = type;
	j.limits = L;
	j.libs = c->libs;
	j.memory = mem_mb << 20;
	j.cpu_secs = timeout;
	clock_gettime(CLOCK_MONOTONIC, &p.deadline);
	p.deadline.tv_sec += (time_t)timeout;
	if ((pid = fork()) < 0) {
		log_err("fork: %s", strerror(errno));
		r = ERR_IO;
		goto out;
	}
	if (pid == 0) {
		(void)setpgid(0, 0);
		child_main(&j);
	}
	(void)setpgid(pid, pid);
	close(sp[1]);
	sp[1] = -1;
	p.fd = sp[0];
	r = parent_loop(&p, zr.plain_sha256, out);
out:
	if (pid > 0)
		end_child(pid);
	for (int i = 0; i < 2; i++)
		if (sp[i] >= 0)
			close(sp[i]);
	if (have_slot && slot(u->ctl, false) != ERR_OK)
		log_warn("could not release the validation slot");
	parent_release(&p);
	if (r != ERR_OK) {
		log_err("validation: %s", err_str(r));
		srv_verdict_release(out);
		/* Whatever went wrong, nothing of it is kept. */
		if (r != ERR_NOMEM)
			r = ERR_INTERNAL;
	}
	return r;
}
