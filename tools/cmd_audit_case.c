/*
 * tools/cmd_audit_case.c - kura audit scrub and kura audit bundle: the
 * auditor's storage check and the take-away bundle for one case. Neither
 * loads a secret key; bundle makes a checkpoint when the log grew (the
 * log key signs it).
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "common/fsx.h"
#include "common/json.h"
#include "vault/vault.h"
#include "tools/cmd.h"
#include "tools/cmd_life.h"
#include "common/banned.h"

static void
scrub_progress(void *ctx, uint64_t done, uint64_t total)
{
	(void)ctx;
	if (done == total || done % 16 == 0)
		fprintf(stderr, "\r  scrub %llu/%llu", (unsigned long long)done,
		    (unsigned long long)total);
	if (done == total)
		fprintf(stderr, "\r%40s\r", "");
}

int
cmd_audit_scrub(struct kura_ctx *ctx, int argc, char **argv)
{
	struct vault *v = NULL;
	struct bytes rep;
	uint64_t checked = 0;
	enum err r;
	int rc;

	if (cmd_wants_help(argc, argv)) {
		printf("usage: kura [-d DIR] audit scrub\n"
		       "Reads every stored ciphertext and compares it with the "
		       "SHA-256 recorded when\nit was stored; reports missing "
		       "files and unexpected ones (such as an erased\n"
		       "document's ciphertext restored from a copy). Needs no "
		       "key. Exit 1 on any finding.\n");
		return 0;
	}
	if ((rc = life_open(ctx, &v)) != 0)
		return rc;
	bytes_init(&rep, 16u << 20);
	r = vault_scrub(v, isatty(2) ? scrub_progress : NULL, NULL, &rep,
	    &checked);
	fputs(rep.len > 0 ? (const char *)rep.p : "", stdout);
	if (r == ERR_OK) {
		printf("scrub: %llu stored document(s) match their SHA-256; "
		       "nothing missing or unexpected\n",
		    (unsigned long long)checked);
		rc = 0;
	} else if (r == ERR_CORRUPT) {
		printf("scrub: FINDINGS above (%llu document(s) checked)\n",
		    (unsigned long long)checked);
		rc = 1;
	} else {
		fprintf(stderr, "kura: scrub: %s\n", err_str(r));
		rc = 2;
	}
	bytes_release(&rep);
	vault_close(v);
	return rc;
}

/* ---- bundle ---- */

struct bundlectx {
	struct vault *v;
	int dirfd;
	const char *dir;
	const char *case_id;
	const char *vkey;
	struct span checkpoint;
	uint64_t size;
	struct bytes events, report;
	unsigned n_events, n_proofs_ok, n_certs, n_certs_ok, n_receipts;
	enum err r;
	uint64_t *idx;
	size_t nidx, capidx;
};

static enum err
bundle_event(void *arg, const struct audit_record *rec)
{
	struct bundlectx *b = arg;
	struct json j;
	struct bytes leaf;
	enum err r;

	if (rec->ev.case_id == NULL || strcmp(rec->ev.case_id, b->case_id) != 0)
		return ERR_OK;
	bytes_init(&leaf, 2 * AUDIT_LEAF_MAX);
	if ((r = cry_b64_encode(rec->leaf, &leaf)) != ERR_OK) {
		bytes_release(&leaf);
		return r;
	}
	json_init(&j, &b->events);
	json_obj_begin(&j);
	json_kv_uint(&j, "index", rec->index);
	json_kv_str(&j, "time", rec->time);
	json_kv_str(&j, "actor", rec->ev.actor);
	json_kv_str(&j, "action", rec->ev.action);
	json_kv_str(&j, "case_id", rec->ev.case_id);
	if (rec->ev.document_id != NULL)
		json_kv_str(&j, "document_id", rec->ev.document_id);
	json_key(&j, "details");
	json_raw(&j, rec->ev.details_json);
	json_kv_str(&j, "leaf", (const char *)leaf.p);
	json_obj_end(&j);
	bytes_release(&leaf);
	if ((r = json_finish(&j)) != ERR_OK ||
	    (r = bytes_put_str(&b->events, "\n")) != ERR_OK)
		return r;
	if (b->nidx == b->capidx) {
		size_t nc = b->capidx == 0 ? 64 : b->capidx * 2;
		void *np = reallocarray(b->idx, nc, sizeof(*b->idx));
		if (np == NULL)
			return ERR_NOMEM;
		b->idx = np;
		b->capidx = nc;
	}
	b->idx[b->nidx++] = rec->index;
	b->n_events++;
	return ERR_OK;
}

/* True when note carries a valid signature by vkey (receipts). */
static bool
note_signed(struct span note, const char *vkey)
{
	struct span text;

	return cry_note_verify(note, vkey, &text) == ERR_OK;
}

static enum err
write_at(struct bundlectx *b, const char *name, struct span data)
{
	char path[4096];
	enum err r;

	if ((r = fsx_join(path, sizeof(path), b->dir, name)) != ERR_OK)
		return r;
	return fsx_write_atomic(path, data, 0600);
}

static enum err
bundle_cert(void *arg, const char *cert_id, const char *stage, struct span file)
{
	struct bundlectx *b = arg;
	char name[96];
	struct bytes rep;
	enum err r;

	(void)snprintf(name, sizeof(name), "certificates/%s.cert", cert_id);
	if ((r = write_at(b, name, file)) != ERR_OK)
		return r;
	b->n_certs++;
	bytes_init(&rep, 1u << 20);
	r = audit_cert_verify(file, b->vkey, NULL, &rep);
	(void)!bytes_printf(&b->report, "certificate %s (%s): %s\n", cert_id,
	    stage, r == ERR_OK ? "valid" : err_str(r));
	if (r == ERR_OK)
		b->n_certs_ok++;
	bytes_release(&rep);
	return ERR_OK;
}

/* Receipt names come from the applicant's upload: stored by index. */
static enum err
bundle_receipt(void *arg, const char *name, struct span file)
{
	struct bundlectx *b = arg;
	char fname[64];
	enum err r;

	(void)name;
	b->n_receipts++;
	(void)snprintf(fname, sizeof(fname), "receipts/receipt-%u.txt",
	    b->n_receipts);
	if ((r = write_at(b, fname, file)) != ERR_OK)
		return r;
	(void)!bytes_printf(&b->report, "receipt %u: %s\n", b->n_receipts,
	    note_signed(file, b->vkey) ? "signed by the log key"
	                               : "NOT signed by the log key");
	return ERR_OK;
}

static int
read_small(const char *dir, const char *name, struct bytes *out)
{
	char path[4096];

	if (fsx_join(path, sizeof(path), dir, name) != ERR_OK)
		return -1;
	return fsx_read_file(path, 1u << 20, out) == ERR_OK ? 0 : -1;
}

int
cmd_audit_bundle(struct kura_ctx *ctx, int argc, char **argv)
{
	const char *id = life_pos(argc, argv, 1);
	const char *out = life_opt(argc, argv, "--out");
	struct bundlectx b;
	struct vault *v = NULL;
	struct vault_case_info c;
	struct bytes cp, vkey, proofs, msg, epub, info;
	struct json j;
	enum err r;
	int rc = 2;
	size_t kl;

	if (cmd_wants_help(argc, argv) || id == NULL || out == NULL) {
		printf("usage: kura [-d DIR] audit bundle ID --out DIR2\n"
		       "Writes what an auditor takes away for one case: its "
		       "events (JSON lines with\nleaf bytes), an inclusion "
		       "proof of each against the latest signed checkpoint,\n"
		       "that checkpoint, the case's deletion certificates, the "
		       "public keys, and a\nverification report. No secret key "
		       "is loaded to verify.\n");
		return cmd_wants_help(argc, argv) ? 0 : 2;
	}
	memset(&b, 0, sizeof(b));
	bytes_init(&b.events, 256u << 20);
	bytes_init(&b.report, 16u << 20);
	bytes_init(&cp, CRY_NOTE_MAX);
	bytes_init(&vkey, 4096);
	bytes_init(&proofs, 256u << 20);
	bytes_init(&msg, 4096);
	bytes_init(&epub, 4096);
	bytes_init(&info, 1u << 20);
	if ((rc = life_open(ctx, &v)) != 0)
		goto done;
	rc = 2;
	if ((r = vault_case_info(v, id, &c)) != ERR_OK) {
		fprintf(stderr, "kura: case %s: %s\n", id, err_str(r));
		rc = 1;
		goto done;
	}
	if (mkdir(out, 0700) != 0) {
		fprintf(stderr, "kura: %s: %s (it must not exist)\n", out,
		    strerror(errno));
		goto done;
	}
	b.v = v;
	b.dir = out;
	b.case_id = id;
	{
		char sub[4096];
		if (fsx_join(sub, sizeof(sub), out, "certificates") != ERR_OK ||
		    fsx_mkdir(sub, 0700) != ERR_OK ||
		    fsx_join(sub, sizeof(sub), out, "receipts") != ERR_OK ||
		    fsx_mkdir(sub, 0700) != ERR_OK)
			goto done;
	}
	if (read_small(vault_dir(v), "keys/log.pub", &vkey) != 0) {
		fprintf(stderr, "kura: keys/log.pub missing\n");
		goto done;
	}
	kl = vkey.len;
	while (kl > 0 && (vkey.p[kl - 1] == '\n' || vkey.p[kl - 1] == '\r'))
		vkey.p[--kl] = 0;
	vkey.len = kl;
	b.vkey = (const char *)vkey.p;
	if ((r = audit_checkpoint(vault_audit(v), 0, &cp, NULL)) != ERR_OK) {
		fprintf(stderr, "kura: checkpoint: %s\n", err_str(r));
		goto done;
	}
	b.checkpoint = bytes_span(&cp);
	{
		struct audit_checkpoint ck;
		if ((r = audit_checkpoint_open(b.checkpoint, b.vkey, &ck)) !=
		    ERR_OK) {
			fprintf(stderr, "kura: checkpoint: %s\n", err_str(r));
			goto done;
		}
		b.size = ck.size;
	}
	if (b.size > 0 && (r = audit_events(vault_audit(v), 0, b.size - 1,
	                       bundle_event, &b)) != ERR_OK) {
		fprintf(stderr, "kura: events: %s\n", err_str(r));
		goto done;
	}
	/* one proof per event, each checked offline as an auditor would */
	for (size_t i = 0; i < b.nidx; i++) {
		struct bytes one;
		bytes_init(&one, 1u << 16);
		r = audit_prove_inclusion(vault_audit(v), b.idx[i], b.size,
		    &one);
		if (r == ERR_OK) {
			bytes_clear(&msg);
			if (audit_proof_check(bytes_span(&one), &b.checkpoint,
			        1, b.vkey, NULL, &msg) == ERR_OK)
				b.n_proofs_ok++;
			else
				(void)!bytes_printf(&b.report,
				    "FAIL proof of event %llu: %s\n",
				    (unsigned long long)b.idx[i],
				    msg.p != NULL ? (const char *)msg.p : "");
			r = bytes_printf(&proofs, "%s", (const char *)one.p);
			if (r == ERR_OK)
				r = bytes_put_str(&proofs, "\n");
		}
		bytes_release(&one);
		if (r != ERR_OK) {
			fprintf(stderr, "kura: proof %llu: %s\n",
			    (unsigned long long)b.idx[i], err_str(r));
			goto done;
		}
	}
	if ((r = vault_case_certs(v, id, bundle_cert, &b)) != ERR_OK ||
	    (r = vault_case_receipts(v, id, bundle_receipt, &b)) != ERR_OK)
		goto done;
	(void)read_small(vault_dir(v), "keys/epoch.pub", &epub);
	json_init(&j, &info);
	json_obj_begin(&j);
	json_kv_str(&j, "case_id", c.id);
	json_kv_str(&j, "state", c.state);
	json_kv_str(&j, "receipt", c.receipt);
	json_kv_str(&j, "applicant", c.applicant);
	json_kv_str(&j, "certification_number", c.number);
	json_kv_str(&j, "decision", c.decision);
	json_kv_str(&j, "returned", c.returned);
	json_kv_str(&j, "certificate_id", c.certificate_id);
	json_obj_end(&j);
	(void)!bytes_printf(&b.report,
	    "case %s: %u event(s), %u inclusion proof(s) verified against the "
	    "checkpoint of size %llu; %u of %u certificate(s) valid\n",
	    id, b.n_events, b.n_proofs_ok, (unsigned long long)b.size,
	    b.n_certs_ok, b.n_certs);
	if ((r = json_finish(&j)) != ERR_OK ||
	    (r = bytes_put_str(&info, "\n")) != ERR_OK ||
	    (r = write_at(&b, "case.json", bytes_span(&info))) != ERR_OK ||
	    (r = write_at(&b, "events.jsonl", bytes_span(&b.events))) !=
	        ERR_OK ||
	    (r = write_at(&b, "proofs.txt", bytes_span(&proofs))) != ERR_OK ||
	    (r = write_at(&b, "checkpoint.txt", b.checkpoint)) != ERR_OK ||
	    (r = bytes_put_str(&vkey, "\n")) != ERR_OK ||
	    (r = write_at(&b, "log.pub", bytes_span(&vkey))) != ERR_OK ||
	    (epub.len > 0 &&
	        (r = write_at(&b, "epoch.pub", bytes_span(&epub))) != ERR_OK) ||
	    (r = write_at(&b, "report.txt", bytes_span(&b.report))) != ERR_OK) {
		fprintf(stderr, "kura: bundle: %s\n", err_str(r));
		goto done;
	}
	fputs((const char *)b.report.p, stdout);
	rc = b.n_proofs_ok == b.nidx && b.n_certs_ok == b.n_certs ? 0 : 1;
done:
	free(b.idx);
	bytes_release(&b.events);
	bytes_release(&b.report);
	bytes_release(&cp);
	bytes_release(&vkey);
	bytes_release(&proofs);
	bytes_release(&msg);
	bytes_release(&epub);
	bytes_release(&info);
	vault_close(v);
	return rc;
}
