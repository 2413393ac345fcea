/*
 * tools/cmd_case.c - kura case | cert | retention: the staff's commands
 * for a case's life (list, show, export, decide, hold, return) and the
 * auditor's certificate check. Every command that changes a case or reads
 * a document names the staff member and proves it with their passphrase
 * (R11); listing, showing and verifying need no secret.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "common/fsx.h"
#include "common/json.h"
#include "common/log.h"
#include "vault/vault.h"
#include "tools/cmd.h"
#include "tools/cmd_life.h"
#include "common/banned.h"

#ifndef KURA_VERSION
#define KURA_VERSION "0.1.0"
#endif

/* ---- shared with cmd_audit_case.c (tools/cmd_life.h) ---- */

/* Value of --name VALUE in argv (removing nothing); NULL if absent. */
const char *
life_opt(int argc, char **argv, const char *name)
{
	for (int i = 1; i + 1 < argc; i++)
		if (strcmp(argv[i], name) == 0)
			return argv[i + 1];
	return NULL;
}

bool
life_flag(int argc, char **argv, const char *name)
{
	for (int i = 1; i < argc; i++)
		if (strcmp(argv[i], name) == 0)
			return true;
	return false;
}

/*
 * The n-th positional argument (1-based) after argv[0], skipping options
 * (and their values, for the options in with_value).
 */
const char *
life_pos(int argc, char **argv, int n)
{
	static const char *const with_value[] = {"--state", "--purpose",
	    "--out", "--doc", "--staff", "--passphrase-file", "--reason",
	    "--approve-by", "--approver-passphrase-file", "--key", "-d",
	    "--now", "--html", "--pdf", "--certs", "--id"};
	int k = 0;

	for (int i = 1; i < argc; i++) {
		bool opt = false;
		for (size_t w = 0; w < sizeof(with_value) / sizeof(*with_value);
		     w++)
			if (strcmp(argv[i], with_value[w]) == 0) {
				opt = true;
				i++;
				break;
			}
		if (opt)
			continue;
		if (argv[i][0] == '-' && argv[i][1] != 0)
			continue;
		if (++k == n)
			return argv[i];
	}
	return NULL;
}

static enum err
count_staff(void *arg, const char *name, const char *created)
{
	char **only = arg;

	(void)created;
	if (only[0] == NULL)
		only[0] = strdup(name);
	else
		only[1] = (char *)1; /* more than one */
	return ERR_OK;
}

/*
 * Unlocks the acting staff member: --staff, $KURA_STAFF, or the only one;
 * passphrase from file or the terminal.
 */
int
life_unlock(struct vault *v, const char *name, const char *pwfile,
    struct vault_staff_session **out)
{
	char *only[2] = {NULL, NULL};
	struct cry_secret *pw = NULL;
	char prompt[128];
	enum err r;
	int rc = 2;

	*out = NULL;
	if (name == NULL)
		name = getenv("KURA_STAFF");
	if (name == NULL || *name == 0) {
		if (vault_staff_list(v, count_staff, only) != ERR_OK)
			goto out;
		if (only[0] == NULL || only[1] != NULL) {
			fprintf(stderr, "kura: name the staff member with "
			                "--staff NAME (or $KURA_STAFF)\n");
			goto out;
		}
		name = only[0];
	}
	(void)snprintf(prompt, sizeof(prompt), "Passphrase for %s: ", name);
	if ((r = cry_passphrase_read(pwfile, prompt, false, &pw)) != ERR_OK) {
		fprintf(stderr, "kura: cannot read the passphrase: %s\n",
		    err_str(r));
		goto out;
	}
	r = vault_staff_unlock(v, name, pw, out);
	if (r == ERR_AUTH || r == ERR_NOT_FOUND) {
		fprintf(stderr,
		    "kura: %s: wrong passphrase or unknown staff "
		    "member\n",
		    name);
		rc = 1;
		goto out;
	}
	if (r != ERR_OK) {
		fprintf(stderr, "kura: unlock failed: %s\n", err_str(r));
		goto out;
	}
	rc = 0;
out:
	cry_secret_free(pw);
	free(only[0]);
	return rc;
}

int
life_open(struct kura_ctx *ctx, struct vault **v)
{
	enum err r;

	if ((r = vault_open(ctx->vault_dir, 0, v)) != ERR_OK) {
		fprintf(stderr, "kura: cannot open the vault %s: %s\n",
		    ctx->vault_dir, err_str(r));
		return 2;
	}
	if ((r = vault_life_open(*v)) != ERR_OK) {
		fprintf(stderr, "kura: case tables: %s\n", err_str(r));
		vault_close(*v);
		*v = NULL;
		return 2;
	}
	return 0;
}

/* "kura VERSION sha256=<hash of this binary>" (B.6: certify the tool). */
static void
tool_string(char *out, size_t outsz)
{
	uint8_t h[CRY_HASH_LEN], buf[65536];
	char hx[2 * CRY_HASH_LEN + 1];
	struct cry_sha256 s;
	ssize_t n = -1;
	int fd;

	(void)snprintf(out, outsz, "kura %s", KURA_VERSION);
	/* /proc/self/exe is a link to the running binary: followed here */
	if ((fd = open("/proc/self/exe", O_RDONLY | O_CLOEXEC)) < 0)
		return;
	if (cry_sha256_init(&s) == ERR_OK) {
		while ((n = read(fd, buf, sizeof(buf))) > 0)
			cry_sha256_update(&s, buf, (size_t)n);
		if (n == 0) {
			cry_sha256_final(&s, h);
			hex_encode(h, CRY_HASH_LEN, hx);
			(void)snprintf(out, outsz, "kura %s sha256=%s",
			    KURA_VERSION, hx);
		} else {
			cry_sha256_release(&s);
		}
	}
	close(fd);
}

/* ---- list / show ---- */

struct listctx {
	bool json;
	struct json *j;
	unsigned n;
};

static void
json_case(struct json *j, const struct vault_case_info *c)
{
	json_obj_begin(j);
	json_kv_str(j, "id", c->id);
	json_kv_str(j, "state", c->state);
	json_kv_str(j, "created", c->created);
	json_kv_str(j, "receipt", c->receipt);
	json_kv_str(j, "applicant", c->applicant);
	json_kv_str(j, "decision", c->decision);
	json_kv_str(j, "certification_number", c->number);
	json_kv_str(j, "decided", c->decided);
	json_kv_str(j, "expires", c->expires);
	json_kv_bool(j, "held", c->held);
	json_kv_str(j, "hold_reason", c->hold_reason);
	json_kv_str(j, "returned", c->returned);
	json_kv_str(j, "return_reason", c->return_reason);
	json_kv_str(j, "certificate_id", c->certificate_id);
	json_kv_str(j, "certificate_stage", c->stage);
	json_kv_str(j, "final_after", c->final_after);
	json_kv_str(j, "retention_due", c->due);
	json_kv_str(j, "retention_reason", c->due_reason);
	json_kv_uint(j, "documents_live", c->docs_live);
	json_kv_uint(j, "documents_retained", c->docs_retained);
	json_kv_uint(j, "documents_erased", c->docs_erased);
	json_kv_uint(j, "bytes_live", c->bytes_live);
}

static enum err
list_fn(void *arg, const struct vault_case_info *c)
{
	struct listctx *l = arg;

	l->n++;
	if (l->json) {
		json_case(l->j, c);
		json_obj_end(l->j);
		return ERR_OK;
	}
	printf("%-16s  %-13s  %-20s  %-12s  %3llu docs  %s%s\n", c->id,
	    c->state, c->receipt, c->number[0] != 0 ? c->number : "-",
	    (unsigned long long)(c->docs_live + c->docs_retained), c->applicant,
	    c->held ? "  [HOLD]" : "");
	return ERR_OK;
}

static int
case_list(struct kura_ctx *ctx, int argc, char **argv)
{
	struct vault *v = NULL;
	struct listctx l = {life_flag(argc, argv, "--json"), NULL, 0};
	struct bytes out;
	struct json j;
	enum err r;
	int rc;

	if ((rc = life_open(ctx, &v)) != 0)
		return rc;
	bytes_init(&out, 64u << 20);
	json_init(&j, &out);
	l.j = &j;
	if (l.json)
		json_arr_begin(&j);
	else
		printf("%-16s  %-13s  %-20s  %-12s  %8s  %s\n", "CASE", "STATE",
		    "RECEIPT", "CERT-NO", "", "APPLICANT");
	r = vault_case_list(v, life_opt(argc, argv, "--state"), list_fn, &l);
	if (l.json) {
		json_arr_end(&j);
		if (r == ERR_OK && json_finish(&j) == ERR_OK)
			printf("%s\n", (char *)out.p);
	}
	bytes_release(&out);
	vault_close(v);
	if (r != ERR_OK) {
		fprintf(stderr, "kura: case list: %s\n", err_str(r));
		return 2;
	}
	return 0;
}

struct showctx {
	bool json;
	struct json *j;
};

static enum err
show_doc(void *arg, const struct vault_doc_info *d)
{
	struct showctx *s = arg;
	char hx[2 * CRY_HASH_LEN + 1];

	hex_encode(d->sha256, CRY_HASH_LEN, hx);
	if (s->json) {
		json_obj_begin(s->j);
		json_kv_str(s->j, "id", d->id);
		json_kv_str(s->j, "number", d->number);
		json_kv_str(s->j, "name", d->name);
		json_kv_str(s->j, "role", d->role);
		json_kv_str(s->j, "format", d->format);
		json_kv_str(s->j, "submission", d->submission);
		json_kv_str(s->j, "state", d->state);
		json_kv_uint(s->j, "size", d->size);
		json_kv_str(s->j, "sha256", hx);
		json_kv_str(s->j, "key_id", d->key_id);
		json_kv_uint(s->j, "store_index", d->store_index);
		json_kv_str(s->j, "created", d->created);
		json_obj_end(s->j);
		return ERR_OK;
	}
	printf("  %-8s %-9s %10llu  %.16s…  %s\n",
	    d->number[0] != 0 ? d->number : "-", d->state,
	    (unsigned long long)d->size, hx, d->name);
	return ERR_OK;
}

static enum err
related_fn(void *arg, const char *folder, const char *receipt,
    const char *case_id, const char *verdict, const char *created)
{
	struct showctx *s = arg;

	if (s->json) {
		json_obj_begin(s->j);
		json_kv_str(s->j, "folder", folder);
		json_kv_str(s->j, "receipt", receipt);
		json_kv_str(s->j, "case_id", case_id);
		json_kv_str(s->j, "verdict", verdict);
		json_kv_str(s->j, "created", created);
		json_obj_end(s->j);
	} else {
		printf("  %-13s %s %s %s case %s (%s)\n",
		    strcmp(folder, "new") == 0 ? "submission:" : "attached:",
		    folder, verdict, receipt[0] != 0 ? receipt : "-",
		    case_id[0] != 0 ? case_id : "-", created);
	}
	return ERR_OK;
}

static int
case_show(struct kura_ctx *ctx, int argc, char **argv)
{
	const char *id = life_pos(argc, argv, 1);
	struct vault *v = NULL;
	struct vault_case_info c;
	struct showctx s = {life_flag(argc, argv, "--json"), NULL};
	struct bytes out;
	struct json j;
	enum err r;
	int rc;

	if (id == NULL)
		return cmd_usage_error("kura case show ID [--json]",
		    "which case?");
	if ((rc = life_open(ctx, &v)) != 0)
		return rc;
	bytes_init(&out, 64u << 20);
	json_init(&j, &out);
	s.j = &j;
	if ((r = vault_case_info(v, id, &c)) != ERR_OK) {
		fprintf(stderr, "kura: case %s: %s\n", id, err_str(r));
		rc = r == ERR_NOT_FOUND ? 1 : 2;
		goto out;
	}
	if (s.json) {
		json_case(&j, &c);
	} else {
		printf("case %s\n  state:        %s%s\n  created:      %s\n"
		       "  receipt:      %s\n  applicant:    %s\n",
		    c.id, c.state, c.held ? " (legal hold)" : "", c.created,
		    c.receipt, c.applicant);
		if (c.decision[0] != 0)
			printf("  decision:     %s at %s\n", c.decision,
			    c.decided);
		if (c.number[0] != 0)
			printf("  certification %s, valid until %s (R7)\n",
			    c.number, c.expires);
		if (c.held)
			printf("  hold:         %s\n", c.hold_reason);
		if (c.due[0] != 0)
			printf("  retention:    due %s (%s)%s\n", c.due,
			    c.due_reason,
			    c.held ? ", blocked by the hold" : "");
		else if (strcmp(c.state, "received") == 0)
			printf("  retention:    no decision yet\n");
		if (c.returned[0] != 0)
			printf("  returned:     %s (%s), certificate %s (%s)\n",
			    c.returned, c.return_reason, c.certificate_id,
			    c.stage);
		if (c.final_after[0] != 0 && strcmp(c.stage, "final") != 0)
			printf("  final stage:  after %s (keystore backups "
			       "expire)\n",
			    c.final_after);
		printf("  documents:    %llu live, %llu retained, %llu "
		       "erased\n",
		    (unsigned long long)c.docs_live,
		    (unsigned long long)c.docs_retained,
		    (unsigned long long)c.docs_erased);
	}
	if (s.json) {
		json_key(&j, "attached");
		json_arr_begin(&j);
	}
	r = vault_case_related(v, id, related_fn, &s);
	if (s.json) {
		json_arr_end(&j);
		json_key(&j, "documents");
		json_arr_begin(&j);
	}
	if (r == ERR_OK)
		r = vault_case_docs(v, id, show_doc, &s);
	if (s.json) {
		json_arr_end(&j);
		json_obj_end(&j);
		if (r == ERR_OK && json_finish(&j) == ERR_OK)
			printf("%s\n", (char *)out.p);
	}
	rc = r == ERR_OK ? 0 : 2;
out:
	bytes_release(&out);
	vault_close(v);
	return rc;
}

/* ---- export ---- */

struct exportctx {
	struct vault *v;
	const struct vault_staff_session *s;
	const char *purpose, *want;
	int dirfd;
	unsigned n, index, skipped_erased, failed;
	uint64_t bytes;
	bool tty, by_index;
};

/* A document name usable as one path component, else NULL. */
static bool
name_usable(const char *n)
{
	return n[0] != 0 && strchr(n, '/') == NULL && strcmp(n, ".") != 0 &&
	       strcmp(n, "..") != 0 && strlen(n) < 240;
}

static enum err
export_one(struct exportctx *e, const struct vault_doc_info *d)
{
	struct vault_doc *doc = NULL;
	struct cry_sha256 h;
	uint8_t buf[65536], sum[CRY_HASH_LEN];
	char tmp[64], name[VAULT_META_MAX + 64];
	uint64_t off = 0, size;
	size_t got;
	int fd = -1;
	enum err r;

	(void)snprintf(tmp, sizeof(tmp), ".kura-part-%s", d->id);
	if (name_usable(d->name))
		(void)snprintf(name, sizeof(name), "%s", d->name);
	else
		(void)snprintf(name, sizeof(name), "%s", d->id);
	if ((r = vault_doc_open(e->v, e->s, d->id, e->purpose, &doc)) != ERR_OK)
		return r;
	if ((r = cry_sha256_init(&h)) != ERR_OK)
		goto out;
	fd = openat(e->dirfd, tmp,
	    O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600);
	if (fd < 0) {
		r = ERR_IO;
		cry_sha256_release(&h);
		goto out;
	}
	size = vault_doc_size(doc);
	while (off < size) {
		if ((r = vault_doc_read(doc, off, buf, sizeof(buf), &got)) !=
		    ERR_OK)
			break;
		if (got == 0) {
			r = ERR_CORRUPT;
			break;
		}
		cry_sha256_update(&h, buf, got);
		if ((r = fsx_write_all(fd, buf, got)) != ERR_OK)
			break;
		off += got;
		if (e->tty)
			fprintf(stderr, "\r  %-40.40s %3u%%", name,
			    (unsigned)(size ? off * 100 / size : 100));
	}
	mem_wipe(buf, sizeof(buf));
	if (r != ERR_OK) {
		cry_sha256_release(&h);
		goto out;
	}
	cry_sha256_final(&h, sum);
	/* the SHA-256 recorded at intake must match what we decrypted */
	if (!cry_equal(sum, d->sha256, CRY_HASH_LEN)) {
		r = ERR_CORRUPT;
		goto out;
	}
	if (fsync(fd) != 0) {
		r = ERR_IO;
		goto out;
	}
	close(fd);
	fd = -1;
	if (renameat2(e->dirfd, tmp, e->dirfd, name, RENAME_NOREPLACE) != 0) {
		(void)snprintf(name, sizeof(name), "%s-%s", d->id,
		    name_usable(d->name) ? d->name : "doc");
		if (renameat2(e->dirfd, tmp, e->dirfd, name,
		        RENAME_NOREPLACE) != 0) {
			r = ERR_IO;
			goto out;
		}
	}
	e->bytes += size;
	r = ERR_OK;
out:
	if (e->tty)
		fprintf(stderr, "\r%60s\r", "");
	if (fd >= 0)
		close(fd);
	if (r != ERR_OK)
		(void)unlinkat(e->dirfd, tmp, 0);
	vault_doc_close(doc);
	return r;
}

static enum err
export_fn(void *arg, const struct vault_doc_info *d)
{
	struct exportctx *e = arg;
	char idx[16];
	enum err r;

	e->index++;
	(void)snprintf(idx, sizeof(idx), "%u", e->index);
	/* --doc N: the 資料番号 or the id; else the N-th document */
	if (e->want != NULL && (e->by_index ? strcmp(e->want, idx) != 0
	                                    : strcmp(e->want, d->number) != 0 &&
	                                          strcmp(e->want, d->id) != 0))
		return ERR_OK;
	if (strcmp(d->state, "erased") == 0) {
		fprintf(stderr,
		    "kura: document %s (%s) was erased: it cannot "
		    "be exported / 削除済みのため出力できません\n",
		    d->number[0] != 0 ? d->number : d->id, d->id);
		e->skipped_erased++;
		return ERR_OK;
	}
	if ((r = export_one(e, d)) != ERR_OK) {
		fprintf(stderr, "kura: document %s: %s\n", d->id, err_str(r));
		e->failed++;
		return ERR_OK;
	}
	e->n++;
	printf("exported %s\n", d->name);
	return ERR_OK;
}

static int
case_export(struct kura_ctx *ctx, int argc, char **argv)
{
	static const char usage[] = "kura case export ID --purpose TEXT --out "
	                            "DIR [--doc N] [--staff NAME] "
	                            "[--passphrase-file FILE]";
	const char *id = life_pos(argc, argv, 1);
	const char *purpose = life_opt(argc, argv, "--purpose");
	const char *outdir = life_opt(argc, argv, "--out");
	struct exportctx e;
	struct vault *v = NULL;
	struct vault_staff_session *s = NULL;
	struct vault_case_info c;
	struct bytes det;
	struct json j;
	enum err r;
	int rc;

	if (id == NULL || purpose == NULL || *purpose == 0 || outdir == NULL)
		return cmd_usage_error(usage,
		    "export needs a case, --purpose (R11) and --out");
	memset(&e, 0, sizeof(e));
	e.dirfd = -1;
	bytes_init(&det, 8192);
	if ((rc = life_open(ctx, &v)) != 0)
		return rc;
	if ((r = vault_case_info(v, id, &c)) != ERR_OK) {
		fprintf(stderr, "kura: case %s: %s\n", id, err_str(r));
		rc = 1;
		goto out;
	}
	if ((rc = life_unlock(v, life_opt(argc, argv, "--staff"),
	         life_opt(argc, argv, "--passphrase-file"), &s)) != 0)
		goto out;
	/* a new folder only we can read */
	if (mkdir(outdir, 0700) != 0) {
		fprintf(stderr, "kura: %s: %s (it must not exist)\n", outdir,
		    strerror(errno));
		rc = 2;
		goto out;
	}
	e.dirfd = open(outdir, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	if (e.dirfd < 0 || fchmod(e.dirfd, 0700) != 0) {
		rc = 2;
		goto out;
	}
	e.v = v;
	e.s = s;
	e.purpose = purpose;
	e.want = life_opt(argc, argv, "--doc");
	e.tty = isatty(2) != 0;
	r = vault_case_docs(v, id, export_fn, &e);
	if (r == ERR_OK && e.want != NULL &&
	    e.n + e.skipped_erased + e.failed == 0) {
		e.by_index = true;
		e.index = 0;
		r = vault_case_docs(v, id, export_fn, &e);
	}
	if (r != ERR_OK) {
		fprintf(stderr, "kura: export: %s\n", err_str(r));
		rc = 2;
		goto out;
	}
	(void)fsync(e.dirfd);
	/* R11: who exported what and why, as one event for the export */
	json_init(&j, &det);
	json_obj_begin(&j);
	json_kv_str(&j, "purpose", purpose);
	json_kv_uint(&j, "documents", e.n);
	json_kv_uint(&j, "bytes", e.bytes);
	json_kv_str(&j, "doc", e.want != NULL ? e.want : "all");
	json_obj_end(&j);
	if ((r = json_finish(&j)) == ERR_OK && (r = vault_begin(v)) == ERR_OK) {
		struct audit_event ev = {vault_staff_name(s), "case.export", id,
		    NULL, NULL, (char *)det.p};
		if ((r = audit_append(vault_audit(v), &ev, NULL)) == ERR_OK)
			r = vault_commit(v);
		else
			vault_rollback(v);
	}
	if (r != ERR_OK) {
		fprintf(stderr, "kura: audit: %s\n", err_str(r));
		rc = 2;
		goto out;
	}
	printf("%u document(s), %llu bytes exported to %s (purpose logged)\n",
	    e.n, (unsigned long long)e.bytes, outdir);
	/* a document that cannot be read back is a negative answer */
	rc = e.failed != 0 || e.n == 0 ? 1 : 0;
	if (e.n == 0 && e.skipped_erased == 0)
		fprintf(stderr, "kura: nothing to export\n");
out:
	if (e.dirfd >= 0)
		close(e.dirfd);
	bytes_release(&det);
	vault_staff_session_free(s);
	vault_close(v);
	return rc;
}

/* ---- decide / hold / release ---- */

static int
case_decide(struct kura_ctx *ctx, int argc, char **argv)
{
	const char *id = life_pos(argc, argv, 1);
	const char *d = life_pos(argc, argv, 2);
	struct vault *v = NULL;
	struct vault_staff_session *s = NULL;
	char number[32];
	enum err r;
	int rc;

	if (id == NULL || d == NULL)
		return cmd_usage_error("kura case decide ID certified|"
		                       "not-certified|revoked|terminated",
		    "decide needs a case and a decision");
	if ((rc = life_open(ctx, &v)) != 0)
		return rc;
	if ((rc = life_unlock(v, life_opt(argc, argv, "--staff"),
	         life_opt(argc, argv, "--passphrase-file"), &s)) != 0)
		goto out;
	r = vault_case_decide(v, vault_staff_name(s), id, d, number);
	if (r != ERR_OK) {
		fprintf(stderr, "kura: decide %s: %s\n", id,
		    r == ERR_PERM ? "the case was returned" : err_str(r));
		rc = r == ERR_INVALID || r == ERR_EXISTS || r == ERR_PERM ||
		             r == ERR_NOT_FOUND
		         ? 1
		         : 2;
		goto out;
	}
	if (number[0] != 0 && strcmp(d, "certified") == 0)
		printf("case %s certified: 認定番号 %s\n", id, number);
	else
		printf("case %s: %s\n", id, d);
	rc = 0;
out:
	vault_staff_session_free(s);
	vault_close(v);
	return rc;
}

static int
case_hold(struct kura_ctx *ctx, int argc, char **argv, bool hold)
{
	const char *id = life_pos(argc, argv, 1);
	const char *reason = life_opt(argc, argv, "--reason");
	struct vault *v = NULL;
	struct vault_staff_session *s = NULL;
	enum err r;
	int rc;

	if (id == NULL || (hold && reason == NULL))
		return cmd_usage_error(hold ? "kura case hold ID --reason TEXT"
		                            : "kura case release ID",
		    "missing argument");
	if ((rc = life_open(ctx, &v)) != 0)
		return rc;
	if ((rc = life_unlock(v, life_opt(argc, argv, "--staff"),
	         life_opt(argc, argv, "--passphrase-file"), &s)) != 0)
		goto out;
	r = hold ? vault_case_hold(v, vault_staff_name(s), id, reason)
	         : vault_case_release(v, vault_staff_name(s), id);
	if (r != ERR_OK) {
		fprintf(stderr, "kura: %s %s: %s\n", hold ? "hold" : "release",
		    id, err_str(r));
		rc = 1;
		goto out;
	}
	printf("case %s: %s\n", id, hold ? "legal hold placed" : "released");
	rc = 0;
out:
	vault_staff_session_free(s);
	vault_close(v);
	return rc;
}

/* ---- return ---- */

/* Renders a verified or freshly made certificate to HTML or PDF. */
static enum err
render_to(const struct audit_cert *c, struct span cert, const char *path,
    bool pdf)
{
	struct bytes page;
	enum err r;

	bytes_init(&page, 4 * AUDIT_CERT_MAX_FILE + 65536);
	r = pdf ? audit_cert_render_pdf(c, cert, &page)
	        : audit_cert_render_html(c, cert, &page);
	if (r == ERR_OK)
		r = fsx_write_atomic(path, bytes_span(&page), 0644);
	bytes_release(&page);
	if (r != ERR_OK)
		fprintf(stderr, "kura: %s: %s\n", path, err_str(r));
	return r;
}

static bool
ends_with(const char *s, const char *suffix)
{
	size_t n = strlen(s), k = strlen(suffix);

	return n >= k && strcmp(s + n - k, suffix) == 0;
}

/*
 * Writes the certificate file and, when html is set, its printable page:
 * PDF when the name ends in ".pdf", else HTML.
 */
static int
write_cert(const char *path, const char *html, struct span cert)
{
	enum err r;

	if ((r = fsx_write_atomic(path, cert, 0644)) != ERR_OK) {
		fprintf(stderr, "kura: %s: %s\n", path, err_str(r));
		return 2;
	}
	if (html != NULL) {
		struct audit_cert c;
		struct bytes page;
		const uint8_t *blank = NULL;

		/* the text part parses (the file was made just now) */
		for (size_t i = 0; i + 1 < cert.len; i++)
			if (cert.p[i] == '\n' && cert.p[i + 1] == '\n') {
				blank = cert.p + i + 1;
				break;
			}
		audit_cert_init(&c);
		bytes_init(&page, 16);
		r = blank == NULL
		        ? ERR_INVALID
		        : audit_cert_parse(
		              span_of(cert.p, (size_t)(blank - cert.p)), &c);
		if (r == ERR_OK)
			r = render_to(&c, cert, html, ends_with(html, ".pdf"));
		audit_cert_release(&c);
		bytes_release(&page);
		if (r != ERR_OK)
			return 2;
	}
	return 0;
}

int
life_return(struct kura_ctx *ctx, struct vault *v,
    struct vault_staff_session *s, struct vault_staff_session *ap,
    const char *id, const char *reason, const char *out, const char *html)
{
	struct vault_return_opts o;
	struct bytes cert;
	char tool[160];
	enum err r;
	int rc;

	(void)ctx;
	tool_string(tool, sizeof(tool));
	memset(&o, 0, sizeof(o));
	o.reason = reason;
	o.op = s;
	o.approver = ap;
	o.tool = tool;
	bytes_init(&cert, AUDIT_CERT_MAX_FILE);
	r = vault_case_return(v, &o, id, &cert);
	if (r != ERR_OK) {
		if (r == ERR_PERM)
			fprintf(stderr,
			    "kura: return %s refused: a legal hold, an earlier "
			    "return, or the two-person rule (--approve-by "
			    "another staff member)\n",
			    id);
		else
			fprintf(stderr, "kura: return %s: %s\n", id,
			    err_str(r));
		bytes_release(&cert);
		return r == ERR_PERM || r == ERR_INVALID || r == ERR_NOT_FOUND
		           ? 1
		           : 2;
	}
	rc = write_cert(out, html, bytes_span(&cert));
	if (rc == 0)
		printf("case %s returned (%s): deletion certificate %s\n", id,
		    reason, out);
	bytes_release(&cert);
	return rc;
}

static int
case_return(struct kura_ctx *ctx, int argc, char **argv)
{
	static const char usage[] =
	    "kura case return ID --reason not-certified|expired|revoked|"
	    "terminated|superseded|request --out CERT [--html FILE|--pdf FILE] "
	    "[--approve-by STAFF [--approver-passphrase-file FILE]]";
	const char *id = life_pos(argc, argv, 1);
	const char *reason = life_opt(argc, argv, "--reason");
	const char *out = life_opt(argc, argv, "--out");
	const char *apname = life_opt(argc, argv, "--approve-by");
	struct vault *v = NULL;
	struct vault_staff_session *s = NULL, *ap = NULL;
	int rc;

	if (id == NULL || reason == NULL || out == NULL)
		return cmd_usage_error(usage,
		    "return needs a case, --reason and --out");
	if ((rc = life_open(ctx, &v)) != 0)
		return rc;
	if ((rc = life_unlock(v, life_opt(argc, argv, "--staff"),
	         life_opt(argc, argv, "--passphrase-file"), &s)) != 0)
		goto out;
	if (apname != NULL &&
	    (rc = life_unlock(v, apname,
	         life_opt(argc, argv, "--approver-passphrase-file"), &ap)) != 0)
		goto out;
	rc = life_return(ctx, v, s, ap, id, reason, out,
	    life_opt(argc, argv, "--html") != NULL
	        ? life_opt(argc, argv, "--html")
	        : life_opt(argc, argv, "--pdf"));
out:
	vault_staff_session_free(ap);
	vault_staff_session_free(s);
	vault_close(v);
	return rc;
}

int
cmd_case(struct kura_ctx *ctx, int argc, char **argv)
{
	const char *sub = argc > 1 ? argv[1] : NULL;

	if (sub == NULL || cmd_wants_help(argc, argv)) {
		printf("usage: kura [-d DIR] case list [--state S] [--json]\n"
		       "       kura [-d DIR] case show ID [--json]\n"
		       "       kura [-d DIR] case export ID --purpose TEXT "
		       "--out DIR2 [--doc N]\n"
		       "       kura [-d DIR] case decide ID certified|"
		       "not-certified|revoked|terminated\n"
		       "       kura [-d DIR] case return ID --reason "
		       "not-certified|expired|revoked|terminated|superseded|"
		       "request\n"
		       "                  --out CERT [--html FILE|--pdf FILE] "
		       "[--approve-by STAFF [--approver-passphrase-file F]]\n"
		       "       kura [-d DIR] case hold ID --reason TEXT\n"
		       "       kura [-d DIR] case release ID\n"
		       "Commands that change a case or read a document take "
		       "--staff NAME (default\n$KURA_STAFF or the only staff "
		       "member) and --passphrase-file FILE (else a prompt).\n"
		       "States: received certified not-certified expired "
		       "revoked terminated returned held.\n");
		return sub == NULL ? 2 : 0;
	}
	if (strcmp(sub, "list") == 0)
		return case_list(ctx, argc - 1, argv + 1);
	if (strcmp(sub, "show") == 0)
		return case_show(ctx, argc - 1, argv + 1);
	if (strcmp(sub, "export") == 0)
		return case_export(ctx, argc - 1, argv + 1);
	if (strcmp(sub, "decide") == 0)
		return case_decide(ctx, argc - 1, argv + 1);
	if (strcmp(sub, "return") == 0)
		return case_return(ctx, argc - 1, argv + 1);
	if (strcmp(sub, "hold") == 0)
		return case_hold(ctx, argc - 1, argv + 1, true);
	if (strcmp(sub, "release") == 0)
		return case_hold(ctx, argc - 1, argv + 1, false);
	fprintf(stderr, "kura: unknown case command '%s'\n", sub);
	return 2;
}

/* ---- cert ---- */

static int
cert_verify(struct kura_ctx *ctx, int argc, char **argv, bool render)
{
	const char *file = life_pos(argc, argv, 1);
	const char *key = life_opt(argc, argv, "--key");
	const char *dir = life_opt(argc, argv, "-d");
	const char *html = life_opt(argc, argv, "--html");
	const char *pdf = life_opt(argc, argv, "--pdf");
	char keypath[4096];
	struct bytes cert, vkey, rep, page;
	struct audit_cert c;
	struct vault *v = NULL;
	enum err r;
	int rc = 2;
	size_t kl;

	if (file == NULL || (render && html == NULL && pdf == NULL))
		return cmd_usage_error(
		    render ? "kura cert render CERT --html OUT|--pdf OUT "
		             "[--key log.pub]"
		           : "kura cert verify CERT [--key log.pub] [-d DIR]",
		    "which certificate?");
	if (dir == NULL && ctx->vault_dir_explicit)
		dir = ctx->vault_dir;
	bytes_init(&cert, AUDIT_CERT_MAX_FILE);
	bytes_init(&vkey, 4096);
	bytes_init(&rep, 1u << 20);
	bytes_init(&page, 2 * AUDIT_CERT_MAX_FILE + 65536);
	audit_cert_init(&c);
	if (key == NULL && dir != NULL) {
		if (fsx_join(keypath, sizeof(keypath), dir, "keys/log.pub") !=
		    ERR_OK)
			goto out;
		key = keypath;
	}
	if (key == NULL) {
		rc = cmd_usage_error("kura cert verify CERT [--key log.pub] "
		                     "[-d DIR]",
		    "give the log's public key (--key log.pub) or the vault "
		    "(-d DIR)");
		goto out;
	}
	if ((r = fsx_read_file(key, 4096, &vkey)) != ERR_OK) {
		fprintf(stderr, "kura: %s: %s\n", key, err_str(r));
		goto out;
	}
	kl = vkey.len;
	while (kl > 0 && (vkey.p[kl - 1] == '\n' || vkey.p[kl - 1] == '\r'))
		vkey.p[--kl] = 0;
	if ((r = fsx_read_file(file, AUDIT_CERT_MAX_FILE, &cert)) != ERR_OK) {
		fprintf(stderr, "kura: %s: %s\n", file, err_str(r));
		goto out;
	}
	r = audit_cert_verify(bytes_span(&cert), (const char *)vkey.p, &c,
	    &rep);
	if (!render || r != ERR_OK)
		fputs(rep.len > 0 ? (const char *)rep.p : "", stdout);
	if (r != ERR_OK) {
		printf("certificate NOT valid: %s\n", err_str(r));
		rc = 1;
		goto out;
	}
	if (dir != NULL && !render) {
		enum err r2;
		if ((r2 = vault_open(dir, 0, &v)) != ERR_OK) {
			fprintf(stderr, "kura: cannot open the vault %s: %s\n",
			    dir, err_str(r2));
			goto out;
		}
		bytes_clear(&rep);
		r2 = vault_cert_check(v, &c, &rep);
		fputs(rep.len > 0 ? (const char *)rep.p : "", stdout);
		if (r2 != ERR_OK) {
			printf("certificate does NOT match the vault %s: %s\n",
			    dir, err_str(r2));
			rc = 1;
			goto out;
		}
	}
	if (render) {
		if (html != NULL &&
		    render_to(&c, bytes_span(&cert), html, false) != ERR_OK)
			goto out;
		if (pdf != NULL &&
		    render_to(&c, bytes_span(&cert), pdf, true) != ERR_OK)
			goto out;
		printf("%s written\n", html != NULL ? html : pdf);
	} else {
		printf("certificate %s is valid (stage %s, case %s, %zu "
		       "destroyed, %zu retained)\n",
		    c.f[AUDIT_CERT_ID], c.f[AUDIT_CERT_STAGE],
		    c.f[AUDIT_CERT_CASE], c.n_destroyed, c.n_retained);
	}
	rc = 0;
out:
	vault_close(v);
	audit_cert_release(&c);
	bytes_release(&cert);
	bytes_release(&vkey);
	bytes_release(&rep);
	bytes_release(&page);
	return rc;
}

struct exportcert {
	const char *want, *out, *page;
	unsigned n;
	int rc;
};

static enum err
export_cert_fn(void *arg, const char *cert_id, const char *stage,
    struct span file)
{
	struct exportcert *e = arg;

	(void)stage;
	/* the latest one, or the one asked for by id */
	if (e->want != NULL && strcmp(e->want, cert_id) != 0)
		return ERR_OK;
	e->n++;
	e->rc = write_cert(e->out, e->page, file);
	return ERR_OK;
}

/* kura -d DIR cert export CASE-ID [--id DC-...] --out FILE [--pdf F] */
static int
cert_export(struct kura_ctx *ctx, int argc, char **argv)
{
	const char *id = life_pos(argc, argv, 1);
	struct exportcert e = {life_opt(argc, argv, "--id"),
	    life_opt(argc, argv, "--out"), NULL, 0, 2};
	struct vault *v = NULL;
	enum err r;
	int rc;

	e.page = life_opt(argc, argv, "--pdf") != NULL
	             ? life_opt(argc, argv, "--pdf")
	             : life_opt(argc, argv, "--html");
	if (id == NULL || e.out == NULL)
		return cmd_usage_error("kura -d DIR cert export CASE-ID [--id "
		                       "DC-...] --out FILE [--pdf F|--html F]",
		    "which case, and where?");
	if ((rc = life_open(ctx, &v)) != 0)
		return rc;
	r = vault_case_certs(v, id, export_cert_fn, &e);
	vault_close(v);
	if (r != ERR_OK || e.n == 0) {
		fprintf(stderr, "kura: case %s: no such certificate\n", id);
		return 1;
	}
	if (e.rc == 0)
		printf("%s written\n", e.out);
	return e.rc;
}

int
cmd_cert(struct kura_ctx *ctx, int argc, char **argv)
{
	const char *sub = argc > 1 ? argv[1] : NULL;

	if (sub == NULL || cmd_wants_help(argc, argv)) {
		printf(
		    "usage: kura cert verify CERT [--key log.pub] "
		    "[-d DIR]\n"
		    "       kura cert render CERT --html OUT|--pdf OUT [--key "
		    "log.pub] [-d DIR]\n"
		    "       kura -d DIR cert export CASE-ID [--id DC-...] "
		    "--out FILE [--pdf F]\n"
		    "Checks a deletion certificate with the log's public "
		    "key only (no passphrase,\nno secret): its signature, "
		    "the signed checkpoint it cites, every cited event's\n"
		    "inclusion proof. With -d DIR, also that the events are "
		    "in that vault's log and\nthat the ciphertext files and "
		    "sealed keys it names are gone.\n");
		return sub == NULL ? 2 : 0;
	}
	if (strcmp(sub, "verify") == 0)
		return cert_verify(ctx, argc - 1, argv + 1, false);
	if (strcmp(sub, "render") == 0)
		return cert_verify(ctx, argc - 1, argv + 1, true);
	if (strcmp(sub, "export") == 0)
		return cert_export(ctx, argc - 1, argv + 1);
	fprintf(stderr, "kura: unknown cert command '%s'\n", sub);
	return 2;
}

/* ---- retention ---- */

struct finalctx {
	char (*ids)[VAULT_ID_MAX];
	size_t n, cap;
};

static enum err
final_fn(void *arg, const char *case_id, const char *cert_id,
    const char *final_after)
{
	struct finalctx *f = arg;

	printf("%-16s  %-13s  since %s (keystore backups expired: final "
	       "certificate due for %s)\n",
	    case_id, "final-stage", final_after, cert_id);
	if (f->n == f->cap) {
		size_t nc = f->cap == 0 ? 16 : f->cap * 2;
		void *a = reallocarray(f->ids, nc, sizeof(*f->ids));
		if (a == NULL)
			return ERR_NOMEM;
		f->ids = a;
		f->cap = nc;
	}
	(void)snprintf(f->ids[f->n++], VAULT_ID_MAX, "%s", cert_id);
	return ERR_OK;
}

struct retctx {
	struct kura_ctx *ctx;
	struct vault *v;
	struct vault_staff_session *s, *ap;
	bool apply, json;
	const char *certs;
	unsigned due, held, done, failed;
	char (*ids)[VAULT_ID_MAX];
	char (*reasons)[24];
	size_t n, cap;
};

static enum err
due_fn(void *arg, const char *case_id, const char *reason, const char *since,
    bool held)
{
	struct retctx *t = arg;

	t->due++;
	if (held)
		t->held++;
	printf("%-16s  %-13s  since %s%s\n", case_id, reason, since,
	    held ? "  HELD (legal hold blocks it)" : "");
	if (t->apply && !held) {
		if (t->n == t->cap) {
			size_t nc = t->cap == 0 ? 16 : t->cap * 2;
			void *a = reallocarray(t->ids, nc, sizeof(*t->ids));
			if (a == NULL)
				return ERR_NOMEM;
			t->ids = a;
			a = reallocarray(t->reasons, nc, sizeof(*t->reasons));
			if (a == NULL)
				return ERR_NOMEM;
			t->reasons = a;
			t->cap = nc;
		}
		(void)snprintf(t->ids[t->n], VAULT_ID_MAX, "%s", case_id);
		(void)snprintf(t->reasons[t->n], 24, "%s", reason);
		t->n++;
	}
	return ERR_OK;
}

int
cmd_retention(struct kura_ctx *ctx, int argc, char **argv)
{
	struct retctx t;
	struct finalctx fin = {NULL, 0, 0};
	const char *sub = argc > 1 ? argv[1] : NULL;
	const char *apname;
	char certs[4096], out[4096 + 64], html[4096 + 64];
	enum err r;
	int rc;

	if (sub == NULL || cmd_wants_help(argc, argv) ||
	    strcmp(sub, "run") != 0) {
		printf("usage: kura [-d DIR] retention run [--apply] [--now "
		       "TIME] [--certs DIR2]\n"
		       "                 [--staff NAME] [--passphrase-file F]\n"
		       "                 [--approve-by STAFF "
		       "[--approver-passphrase-file F]]\n"
		       "Lists the cases that R7/R9/R10 make due (not certified "
		       "after the decision,\nrevoked, terminated, expired "
		       "without renewal) with the reason and date. A dry\nrun "
		       "unless --apply, which returns each (not those under a "
		       "legal hold) and writes\nits deletion certificate to "
		       "DIR2 (default DIR/certificates). Returned cases whose "
		       "keystore backups have\nexpired get their final-stage "
		       "certificate (DIR2/ID.final.cert; no secret needed).\n"
		       "--now replays the rules at another time (drills and "
		       "tests).\n");
		return sub == NULL || (strcmp(sub, "run") != 0 &&
		                          !cmd_wants_help(argc, argv))
		           ? 2
		           : 0;
	}
	memset(&t, 0, sizeof(t));
	t.ctx = ctx;
	t.apply = life_flag(argc, argv, "--apply");
	if ((rc = life_open(ctx, &t.v)) != 0)
		return rc;
	r = vault_retention_due(t.v, life_opt(argc, argv, "--now"), due_fn, &t);
	if (r != ERR_OK) {
		fprintf(stderr, "kura: retention: %s\n", err_str(r));
		rc = 2;
		goto out;
	}
	printf("%u case(s) due, %u under a legal hold%s\n", t.due, t.held,
	    t.apply ? "" : " (dry run: --apply to return them)");
	r = vault_final_due(t.v, life_opt(argc, argv, "--now"), final_fn, &fin);
	if (r != ERR_OK) {
		fprintf(stderr, "kura: retention: %s\n", err_str(r));
		rc = 2;
		goto out;
	}
	printf("%zu final certificate(s) due\n", fin.n);
	rc = 0;
	if (!t.apply || (t.n == 0 && fin.n == 0))
		goto out;
	if (t.n > 0 &&
	    (rc = life_unlock(t.v, life_opt(argc, argv, "--staff"),
	         life_opt(argc, argv, "--passphrase-file"), &t.s)) != 0)
		goto out;
	apname = life_opt(argc, argv, "--approve-by");
	if (apname != NULL && t.n > 0 &&
	    (rc = life_unlock(t.v, apname,
	         life_opt(argc, argv, "--approver-passphrase-file"), &t.ap)) !=
	        0)
		goto out;
	t.certs = life_opt(argc, argv, "--certs");
	if (t.certs == NULL) {
		if (fsx_join(certs, sizeof(certs), ctx->vault_dir,
		        "certificates") != ERR_OK) {
			rc = 2;
			goto out;
		}
		t.certs = certs;
	}
	if (fsx_mkdir(t.certs, 0700) != ERR_OK) {
		fprintf(stderr, "kura: %s: cannot create\n", t.certs);
		rc = 2;
		goto out;
	}
	for (size_t i = 0; i < t.n; i++) {
		(void)snprintf(out, sizeof(out), "%s/%s.cert", t.certs,
		    t.ids[i]);
		(void)snprintf(html, sizeof(html), "%s/%s.pdf", t.certs,
		    t.ids[i]);
		if (life_return(ctx, t.v, t.s, t.ap, t.ids[i], t.reasons[i],
		        out, html) == 0)
			t.done++;
		else
			t.failed++;
	}
	/* the final stage needs no secret: the log key signs */
	for (size_t i = 0; i < fin.n; i++) {
		struct bytes cert;
		const char *actor =
		    t.s != NULL ? vault_staff_name(t.s) : getenv("KURA_STAFF");
		bytes_init(&cert, AUDIT_CERT_MAX_FILE);
		(void)snprintf(out, sizeof(out), "%s/%s.final.cert", t.certs,
		    fin.ids[i]);
		(void)snprintf(html, sizeof(html), "%s/%s.final.pdf", t.certs,
		    fin.ids[i]);
		/* fin.ids holds the primary certificate ids */
		r = vault_case_finalize(t.v,
		    actor != NULL && *actor != 0 ? actor : "system", fin.ids[i],
		    life_opt(argc, argv, "--now"), &cert);
		if (r == ERR_OK &&
		    write_cert(out, html, bytes_span(&cert)) == 0) {
			printf("%s: final deletion certificate %s\n",
			    fin.ids[i], out);
			t.done++;
		} else {
			fprintf(stderr, "kura: final certificate of %s: %s\n",
			    fin.ids[i], err_str(r));
			t.failed++;
		}
		bytes_release(&cert);
	}
	printf("%u done, %u failed\n", t.done, t.failed);
	rc = t.failed != 0 ? 1 : 0;
out:
	free(fin.ids);
	free(t.ids);
	free(t.reasons);
	vault_staff_session_free(t.ap);
	vault_staff_session_free(t.s);
	vault_close(t.v);
	return rc;
}
