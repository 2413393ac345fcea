/*
 * tools/cmd_audit.c - kura audit: checkpoint, events, prove, verify,
 * verify-proof (docs/audit.md). None of these loads a decryption key;
 * only "checkpoint" needs the log's signing key.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "audit/audit.h"
#include "common/config.h"
#include "common/fsx.h"
#include "common/json.h"
#include "tools/cmd.h"
#include "common/banned.h"

#define NOTE_FILE_MAX  (1u << 20)
#define PROOF_FILE_MAX (64u * 1024)
#define MAX_KEPT       256

static const char usage_main[] =
    "kura [-d VAULT] audit COMMAND [ARGS...]\n\n"
    "  checkpoint [--if-due]             print the latest signed checkpoint\n"
    "                                    (making one if the log grew)\n"
    "  events [--from N] [--to N] [--json]\n"
    "                                    list events (JSON lines with index\n"
    "                                    and leaf bytes in base64)\n"
    "  prove inclusion INDEX [--size N] [--tlog-proof]\n"
    "                                    inclusion proof (default size: the\n"
    "                                    latest checkpoint)\n"
    "  prove consistency OLD NEW         consistency proof between two sizes\n"
    "  verify [--checkpoint FILE]... [--key FILE]\n"
    "                                    check the whole log (exit 0 = holds)\n"
    "  verify-proof --key FILE [--checkpoint FILE]...\n"
    "               [--leaf-file FILE | --leaf BASE64] PROOF\n"
    "                                    check a proof offline, no vault\n"
    "  scrub                             every ciphertext against its SHA-256\n"
    "  bundle ID --out DIR2              one case's events, proofs, "
    "certificates\n\n"
    "Each command has --help. Formats: docs/audit.md.";

/* Prints "kura: " a b c and returns 2. */
static int
fail(const char *a, const char *b, const char *c)
{
	fprintf(stderr, "kura: %s%s%s\n", a, b, c);
	return 2;
}

static int
parse_num(const char *s, uint64_t *out)
{
	char *end;
	unsigned long long v;

	if (s == NULL || *s < '0' || *s > '9')
		return -1;
	errno = 0;
	v = strtoull(s, &end, 10);
	if (errno != 0 || *end != 0 || v > (unsigned long long)INT64_MAX)
		return -1;
	*out = v;
	return 0;
}

struct opened {
	sqlite3 *db;
	struct audit *a;
};

static void
close_vault(struct opened *o)
{
	audit_close(o->a);
	if (o->db != NULL)
		sqlite3_close(o->db);
	o->a = NULL;
	o->db = NULL;
}

/* Opens DIR/kura.db (never creating it) and binds the audit log. */
static int
open_vault(struct kura_ctx *ctx, struct opened *o)
{
	char path[4096];
	enum err r;

	o->db = NULL;
	o->a = NULL;
	if (fsx_join(path, sizeof(path), ctx->vault_dir, "kura.db") != ERR_OK)
		return fail("vault path too long: ", ctx->vault_dir, "");
	if (access(path, F_OK) != 0)
		return fail("no vault at ", ctx->vault_dir,
		    " (kura.db not found)");
	if (sqlite3_open_v2(path, &o->db,
	        SQLITE_OPEN_READWRITE | SQLITE_OPEN_NOFOLLOW,
	        NULL) != SQLITE_OK) {
		fprintf(stderr, "kura: %s: %s\n", path,
		    o->db ? sqlite3_errmsg(o->db) : "cannot open");
		close_vault(o);
		return 2;
	}
	sqlite3_busy_timeout(o->db, 10000);
	sqlite3_db_config(o->db, SQLITE_DBCONFIG_DEFENSIVE, 1, NULL);
	if ((r = audit_open(o->db, ctx->vault_dir, &o->a)) != ERR_OK) {
		fprintf(stderr, "kura: cannot open the audit log: %s\n",
		    err_str(r));
		close_vault(o);
		return 2;
	}
	return 0;
}

static int
write_out(const struct bytes *b)
{
	if (b->len > 0 && fwrite(b->p, 1, b->len, stdout) != b->len)
		return 2;
	return fflush(stdout) == 0 ? 0 : 2;
}

/* ---- checkpoint ---- */

static int
do_checkpoint(struct kura_ctx *ctx, int argc, char **argv)
{
	static const char u[] =
	    "kura [-d VAULT] audit checkpoint [--if-due]\n\n"
	    "Prints the latest signed checkpoint (a C2SP tlog-checkpoint "
	    "signed note),\nfirst making one if events were added since the "
	    "last. With --if-due a new\none is made only when also "
	    "audit.checkpoint_seconds (kura.conf, default 300)\npassed since "
	    "the last one: run it from cron or a timer.";
	struct opened o;
	struct bytes note;
	uint64_t interval = 0;
	enum err r;
	int rc;

	if (cmd_wants_help(argc, argv)) {
		puts(u);
		return 0;
	}
	if (argc == 2 && strcmp(argv[1], "--if-due") == 0) {
		char path[4096];
		struct config *c = NULL;
		if (fsx_join(path, sizeof(path), ctx->vault_dir, "kura.conf") !=
		    ERR_OK)
			return fail("vault path too long: ", ctx->vault_dir,
			    "");
		r = config_load(path, &c);
		if (r == ERR_NOT_FOUND)
			r = config_empty(&c);
		if (r == ERR_OK)
			r = config_u64(c, "audit.checkpoint_seconds",
			    AUDIT_CHECKPOINT_SECONDS, &interval);
		config_free(c);
		if (r != ERR_OK)
			return fail(path,
			    ": audit.checkpoint_seconds: ", err_str(r));
		if (interval == 0)
			interval = 1;
	} else if (argc != 1) {
		return cmd_usage_error(u, "unexpected argument %s", argv[1]);
	}
	if ((rc = open_vault(ctx, &o)) != 0)
		return rc;
	bytes_init(&note, NOTE_FILE_MAX);
	r = audit_checkpoint(o.a, interval, &note, NULL);
	if (r != ERR_OK) {
		fprintf(stderr, "kura: cannot make a checkpoint: %s%s\n",
		    err_str(r),
		    r == ERR_NOT_FOUND ? " (keys/log.key missing)" : "");
		rc = 2;
	} else {
		rc = write_out(&note);
	}
	bytes_release(&note);
	close_vault(&o);
	return rc;
}

/* ---- events ---- */

struct ev_out {
	bool json;
	struct bytes line;
};

static enum err
print_event(void *vctx, const struct audit_record *rec)
{
	struct ev_out *e = vctx;
	struct json j;
	enum err r;

	bytes_clear(&e->line);
	if (e->json) {
		struct bytes b64;
		bytes_init(&b64, 2 * AUDIT_LEAF_MAX);
		if ((r = cry_b64_encode(rec->leaf, &b64)) != ERR_OK) {
			bytes_release(&b64);
			return r;
		}
		json_init(&j, &e->line);
		json_obj_begin(&j);
		json_kv_uint(&j, "index", rec->index);
		json_kv_str(&j, "time", rec->time);
		json_kv_str(&j, "actor", rec->ev.actor);
		json_kv_str(&j, "action", rec->ev.action);
		if (rec->ev.case_id != NULL)
			json_kv_str(&j, "case_id", rec->ev.case_id);
		if (rec->ev.document_id != NULL)
			json_kv_str(&j, "document_id", rec->ev.document_id);
		if (rec->ev.account != NULL)
			json_kv_str(&j, "account", rec->ev.account);
		/* details passed our strict JSON check when encoded. */
		json_key(&j, "details");
		json_raw(&j, rec->ev.details_json);
		json_kv_str(&j, "leaf", (const char *)b64.p);
		json_obj_end(&j);
		r = json_finish(&j);
		bytes_release(&b64);
		if (r == ERR_OK)
			r = bytes_put_u8(&e->line, '\n');
	} else {
		r = bytes_printf(&e->line, "%llu %s %s %s",
		    (unsigned long long)rec->index, rec->time, rec->ev.actor,
		    rec->ev.action);
		if (r == ERR_OK && rec->ev.case_id != NULL)
			r = bytes_printf(&e->line, " case=%s", rec->ev.case_id);
		if (r == ERR_OK && rec->ev.document_id != NULL)
			r = bytes_printf(&e->line, " document=%s",
			    rec->ev.document_id);
		if (r == ERR_OK && rec->ev.account != NULL)
			r = bytes_printf(&e->line, " account=%s",
			    rec->ev.account);
		if (r == ERR_OK && strcmp(rec->ev.details_json, "{}") != 0)
			r = bytes_printf(&e->line, " %s", rec->ev.details_json);
		if (r == ERR_OK)
			r = bytes_put_u8(&e->line, '\n');
	}
	if (r != ERR_OK)
		return r;
	if (fwrite(e->line.p, 1, e->line.len, stdout) != e->line.len)
		return ERR_IO;
	return ERR_OK;
}

static int
do_events(struct kura_ctx *ctx, int argc, char **argv)
{
	static const char u[] =
	    "kura [-d VAULT] audit events [--from N] [--to N] [--json]\n\n"
	    "Lists events N..M (inclusive; default all). --json prints one "
	    "object per line:\nindex, time, actor, action, case_id, "
	    "document_id, account (when set), details,\nand leaf (the "
	    "canonical leaf bytes in base64: SHA-256(0x00 || leaf) is the\n"
	    "leaf hash, so anyone can recompute the tree).";
	struct ev_out e = {0};
	struct opened o;
	uint64_t from = 0, to = UINT64_MAX;
	enum err r;
	int rc;

	if (cmd_wants_help(argc, argv)) {
		puts(u);
		return 0;
	}
	for (int i = 1; i < argc; i++) {
		if (strcmp(argv[i], "--json") == 0) {
			e.json = true;
		} else if (strcmp(argv[i], "--from") == 0 && i + 1 < argc) {
			if (parse_num(argv[++i], &from) != 0)
				return cmd_usage_error(u, "bad --from");
		} else if (strcmp(argv[i], "--to") == 0 && i + 1 < argc) {
			if (parse_num(argv[++i], &to) != 0)
				return cmd_usage_error(u, "bad --to");
		} else {
			return cmd_usage_error(u, "unknown argument %s",
			    argv[i]);
		}
	}
	if ((rc = open_vault(ctx, &o)) != 0)
		return rc;
	bytes_init(&e.line, 4 * AUDIT_LEAF_MAX);
	r = audit_events(o.a, from, to, print_event, &e);
	if (r == ERR_OK && fflush(stdout) != 0)
		r = ERR_IO;
	if (r != ERR_OK) {
		fprintf(stderr, "kura: audit events: %s\n", err_str(r));
		rc = 2;
	}
	bytes_release(&e.line);
	close_vault(&o);
	return rc;
}

/* ---- prove ---- */

static int
do_prove(struct kura_ctx *ctx, int argc, char **argv)
{
	static const char u[] =
	    "kura [-d VAULT] audit prove inclusion INDEX [--size N] "
	    "[--tlog-proof]\n"
	    "       kura [-d VAULT] audit prove consistency OLD NEW\n\n"
	    "Prints a proof in the text format of docs/audit.md (base64 "
	    "hashes, one per\nline), checkable with RFC 9162 §2.1.3.2 / "
	    "§2.1.4.2 and `kura audit verify-proof`\nagainst signed "
	    "checkpoints of the same sizes. The default --size is the "
	    "latest\ncheckpoint's. --tlog-proof prints the inclusion proof "
	    "as a c2sp.org/tlog-proof@v1\ntext that embeds the signed "
	    "checkpoint of that size (which must exist).";
	struct opened o;
	struct bytes out;
	uint64_t x = 0, y = 0;
	bool incl, tlog = false;
	enum err r;
	int rc;

	if (cmd_wants_help(argc, argv)) {
		puts(u);
		return 0;
	}
	if (argc < 3)
		return cmd_usage_error(u, "audit prove: what to prove?");
	incl = strcmp(argv[1], "inclusion") == 0;
	if (!incl && strcmp(argv[1], "consistency") != 0)
		return cmd_usage_error(u, "unknown proof %s", argv[1]);
	if (parse_num(argv[2], &x) != 0)
		return cmd_usage_error(u, "bad number %s", argv[2]);
	if (incl) {
		for (int i = 3; i < argc; i++) {
			if (strcmp(argv[i], "--size") == 0 && i + 1 < argc) {
				if (parse_num(argv[++i], &y) != 0 || y == 0)
					return cmd_usage_error(u, "bad --size");
			} else if (strcmp(argv[i], "--tlog-proof") == 0) {
				tlog = true;
			} else {
				return cmd_usage_error(u,
				    "unexpected argument %s", argv[i]);
			}
		}
	} else if (argc != 4 || parse_num(argv[3], &y) != 0) {
		return cmd_usage_error(u, "give OLD and NEW sizes");
	}
	if ((rc = open_vault(ctx, &o)) != 0)
		return rc;
	bytes_init(&out, PROOF_FILE_MAX);
	if (tlog)
		r = audit_prove_tlog(o.a, x, y, &out);
	else if (incl)
		r = audit_prove_inclusion(o.a, x, y, &out);
	else
		r = audit_prove_consistency(o.a, x, y, &out);
	if (r == ERR_OK) {
		rc = write_out(&out);
	} else {
		if (r == ERR_NOT_FOUND && tlog && y != 0)
			fprintf(stderr,
			    "kura: no signed checkpoint of size "
			    "%llu: a tlog-proof needs one\n",
			    (unsigned long long)y);
		else if (r == ERR_NOT_FOUND)
			fprintf(stderr, "kura: no checkpoint yet: run `kura "
			                "audit checkpoint` or give --size\n");
		else if (r == ERR_INVALID)
			fprintf(stderr,
			    "kura: no such proof: sizes must satisfy %s\n",
			    incl ? "INDEX < SIZE <= number of events"
			         : "0 < OLD <= NEW <= number of events");
		else
			fprintf(stderr, "kura: audit prove: %s\n", err_str(r));
		rc = r == ERR_INVALID || r == ERR_NOT_FOUND ? 1 : 2;
	}
	bytes_release(&out);
	close_vault(&o);
	return rc;
}

/* ---- verify ---- */

static void
progress(void *ctx, uint64_t done, uint64_t total)
{
	(void)ctx;
	fprintf(stderr, "\rverify: %llu / %llu events",
	    (unsigned long long)done, (unsigned long long)total);
	if (done == total)
		fputc('\n', stderr);
}

static int
read_text(const char *path, size_t max, struct bytes *out)
{
	enum err r = fsx_read_file(path, max, out);

	if (r != ERR_OK) {
		fprintf(stderr, "kura: %s: %s\n", path, err_str(r));
		return 2;
	}
	return 0;
}

/* A verifier key file: its first line. */
static int
read_vkey(const char *path, char *out, size_t outsz)
{
	struct bytes b;
	char *nl;
	int rc;

	if ((rc = read_text(path, 4096, &b)) != 0)
		return rc;
	nl = b.len > 0 ? memchr(b.p, '\n', b.len) : NULL;
	if (nl != NULL)
		b.len = (size_t)(nl - (char *)b.p);
	if (b.len == 0 || b.len >= outsz || memchr(b.p, 0, b.len) != NULL) {
		bytes_release(&b);
		return fail(path, ": not a verifier key", "");
	}
	memcpy(out, b.p, b.len);
	out[b.len] = 0;
	bytes_release(&b);
	return 0;
}

static int
do_verify(struct kura_ctx *ctx, int argc, char **argv)
{
	static const char u[] =
	    "kura [-d VAULT] audit verify [--checkpoint FILE]... [--key "
	    "FILE]\n\n"
	    "Recomputes every leaf from the stored fields, every stored tree "
	    "node, the root\nat every stored checkpoint, every checkpoint "
	    "signature, consistency between\nconsecutive checkpoints and "
	    "from each --checkpoint FILE you kept. --key pins the\nverifier "
	    "key (default: VAULT/keys/log.pub). Names the first bad index or\n"
	    "checkpoint. Exit 0 only when everything holds, 1 when something "
	    "does not.";
	struct bytes kept[MAX_KEPT], msg;
	struct span spans[MAX_KEPT];
	const char *names[MAX_KEPT];
	char vkey[1024];
	struct audit_verify_opts opts = {0};
	struct opened o = {0};
	size_t nk = 0;
	enum err r;
	int rc = 2;

	if (cmd_wants_help(argc, argv)) {
		puts(u);
		return 0;
	}
	bytes_init(&msg, 8192);
	for (int i = 1; i < argc; i++) {
		if (strcmp(argv[i], "--checkpoint") == 0 && i + 1 < argc) {
			if (nk == MAX_KEPT) {
				rc = cmd_usage_error(u, "too many checkpoints");
				goto out;
			}
			if ((rc = read_text(argv[++i], NOTE_FILE_MAX,
			         &kept[nk])) != 0)
				goto out;
			spans[nk] = bytes_span(&kept[nk]);
			names[nk] = argv[i];
			nk++;
		} else if (strcmp(argv[i], "--key") == 0 && i + 1 < argc) {
			if ((rc = read_vkey(argv[++i], vkey, sizeof(vkey))) !=
			    0)
				goto out;
			opts.vkey = vkey;
		} else {
			rc = cmd_usage_error(u, "unknown argument %s", argv[i]);
			goto out;
		}
	}
	if ((rc = open_vault(ctx, &o)) != 0)
		goto out;
	opts.kept = spans;
	opts.kept_names = names;
	opts.nkept = nk;
	if (isatty(STDERR_FILENO))
		opts.progress = progress;
	r = audit_verify(o.a, &opts, &msg);
	if (r == ERR_OK) {
		printf("%s\n", (char *)msg.p);
		rc = 0;
	} else if (r == ERR_CORRUPT || r == ERR_BAD_SIGNATURE) {
		printf("FAILED: %s\n", (char *)msg.p);
		rc = 1;
	} else {
		fprintf(stderr, "kura: audit verify: %s%s%s\n", err_str(r),
		    msg.len ? ": " : "", msg.len ? (char *)msg.p : "");
		rc = 2;
	}
out:
	close_vault(&o);
	for (size_t i = 0; i < nk; i++)
		bytes_release(&kept[i]);
	bytes_release(&msg);
	return rc;
}

/* ---- verify-proof (offline) ---- */

static int
do_verify_proof(int argc, char **argv)
{
	static const char u[] =
	    "kura audit verify-proof --key FILE [--checkpoint FILE "
	    "[--checkpoint FILE]]\n"
	    "                        [--leaf-file FILE | --leaf BASE64] "
	    "PROOF\n\n"
	    "Checks a proof made by `kura audit prove` with no vault: the "
	    "checkpoint(s)\nmust carry a valid signature by the verifier key "
	    "in --key (a log.pub you\nobtained out of band); an inclusion "
	    "proof needs the checkpoint of its size,\na consistency proof "
	    "those of both sizes. --leaf-file/--leaf give the leaf bytes\n"
	    "(from `audit events --json`) so that the event itself is bound. "
	    "A\nc2sp.org/tlog-proof@v1 file (prove --tlog-proof) carries its "
	    "checkpoint and\nneeds the leaf. Exit 0 when the proof holds, 1 "
	    "when it does not.";
	struct bytes notes[2], proof, leaf, msg;
	struct span spans[2], lspan;
	char vkey[1024] = "";
	const char *proof_path = NULL;
	size_t nn = 0;
	bool have_leaf = false;
	enum err r;
	int rc = 2;

	if (cmd_wants_help(argc, argv)) {
		puts(u);
		return 0;
	}
	bytes_init(&proof, PROOF_FILE_MAX);
	bytes_init(&leaf, 2 * AUDIT_LEAF_MAX);
	bytes_init(&msg, 4096);
	for (int i = 1; i < argc; i++) {
		if (strcmp(argv[i], "--key") == 0 && i + 1 < argc) {
			if ((rc = read_vkey(argv[++i], vkey, sizeof(vkey))) !=
			    0)
				goto out;
		} else if (strcmp(argv[i], "--checkpoint") == 0 &&
		           i + 1 < argc) {
			if (nn == 2) {
				rc = cmd_usage_error(u, "at most two "
				                        "checkpoints");
				goto out;
			}
			if ((rc = read_text(argv[++i], NOTE_FILE_MAX,
			         &notes[nn])) != 0)
				goto out;
			spans[nn] = bytes_span(&notes[nn]);
			nn++;
		} else if (strcmp(argv[i], "--leaf-file") == 0 &&
		           i + 1 < argc && !have_leaf) {
			bytes_release(&leaf);
			if ((rc = read_text(argv[++i], AUDIT_LEAF_MAX,
			         &leaf)) != 0)
				goto out;
			have_leaf = true;
		} else if (strcmp(argv[i], "--leaf") == 0 && i + 1 < argc &&
		           !have_leaf) {
			i++;
			if (cry_b64_decode(argv[i], strlen(argv[i]), &leaf) !=
			    ERR_OK) {
				rc = cmd_usage_error(u, "--leaf: not base64");
				goto out;
			}
			have_leaf = true;
		} else if (argv[i][0] != '-' && proof_path == NULL) {
			proof_path = argv[i];
		} else {
			rc = cmd_usage_error(u, "unexpected argument %s",
			    argv[i]);
			goto out;
		}
	}
	if (vkey[0] == 0 || proof_path == NULL) {
		rc = cmd_usage_error(u, "need --key and PROOF");
		goto out;
	}
	if ((rc = read_text(proof_path, PROOF_FILE_MAX, &proof)) != 0)
		goto out;
	/* A tlog-proof carries its checkpoint; ours need --checkpoint. */
	if (nn == 0 &&
	    (proof.len < 23 ||
	        memcmp(proof.p, "c2sp.org/tlog-proof@v1\n", 23) != 0)) {
		rc = cmd_usage_error(u, "need --checkpoint");
		goto out;
	}
	lspan = bytes_span(&leaf);
	r = audit_proof_check(bytes_span(&proof), spans, nn, vkey,
	    have_leaf ? &lspan : NULL, &msg);
	if (r == ERR_OK) {
		printf("%s\n", (char *)msg.p);
		rc = 0;
	} else {
		printf("FAILED: %s\n", (char *)msg.p);
		rc = r == ERR_INVALID ? 2 : 1;
	}
out:
	for (size_t i = 0; i < nn; i++)
		bytes_release(&notes[i]);
	bytes_release(&proof);
	bytes_release(&leaf);
	bytes_release(&msg);
	return rc;
}

int
cmd_audit(struct kura_ctx *ctx, int argc, char **argv)
{
	const char *sub = argc > 1 ? argv[1] : NULL;

	if (sub == NULL || strcmp(sub, "-h") == 0 ||
	    strcmp(sub, "--help") == 0 || strcmp(sub, "help") == 0) {
		printf("usage: %s\n", usage_main);
		return sub == NULL ? 2 : 0;
	}
	if (strcmp(sub, "checkpoint") == 0)
		return do_checkpoint(ctx, argc - 1, argv + 1);
	if (strcmp(sub, "events") == 0)
		return do_events(ctx, argc - 1, argv + 1);
	if (strcmp(sub, "prove") == 0)
		return do_prove(ctx, argc - 1, argv + 1);
	if (strcmp(sub, "verify") == 0)
		return do_verify(ctx, argc - 1, argv + 1);
	if (strcmp(sub, "verify-proof") == 0)
		return do_verify_proof(argc - 1, argv + 1);
	if (strcmp(sub, "scrub") == 0) /* tools/cmd_audit_case.c */
		return cmd_audit_scrub(ctx, argc - 1, argv + 1);
	if (strcmp(sub, "bundle") == 0)
		return cmd_audit_bundle(ctx, argc - 1, argv + 1);
	return cmd_usage_error(usage_main, "unknown audit command %s", sub);
}
