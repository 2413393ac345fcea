/*
 * intake/submit.c - what happens when an upload with a final name is
 * complete: the `kura check` validation (type from the folder), the
 * results in /results/, and on acceptance the case, the receipt number,
 * every document stored as its own encrypted vault document, the signed
 * receipt, the e-mail, and an audit event for every step.
 *
 * The validator runs in a sandboxed child (intake/sandbox.c) that reads
 * the ZIP through requests answered here from the encrypted staging file
 * (no plaintext copy of the upload). Documents it streams back go into
 * fresh vault puts (encrypted as they come) and are committed only when
 * the verdict is "accept"; otherwise they are aborted and only the report
 * is kept.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <time.h>
#include <unistd.h>

#include "common/fsx.h"
#include "common/json.h"
#include "common/log.h"
#include "intake/intake.h"
#include "intake/serve_int.h"
#include "common/banned.h"

#define SUBMIT_COPY_CHUNK (1u << 20)
#define SUBMIT_TEXT_MAX   (8u << 20)

static enum intake_type
folder_type(enum intake_folder f)
{
	switch (f) {
	case INTAKE_FOLDER_RENEWAL:
		return INTAKE_TYPE_RENEWAL;
	case INTAKE_FOLDER_CHANGE:
		return INTAKE_TYPE_CHANGE;
	case INTAKE_FOLDER_TERMINATION:
		return INTAKE_TYPE_TERMINATION;
	case INTAKE_FOLDER_NEW:
		break;
	}
	return INTAKE_TYPE_NEW;
}

static void
now_utc(char out[static 24])
{
	time_t t = time(NULL);
	struct tm tm;

	gmtime_r(&t, &tm);
	strftime(out, 24, "%Y-%m-%dT%H:%M:%SZ", &tm);
}

struct stored {
	char doc_id[VAULT_ID_MAX];
};

/* The receipt: a C2SP signed note by the log key (docs/receipt.md). */
static enum err
receipt_text(const struct srv_upload_info *u, const struct intake_report *rep,
    const char *receipt, const char *case_id, const char *issued,
    const struct stored *st, struct bytes *out)
{
	char hex[2 * CRY_HASH_LEN + 1];
	enum err r;

	hex_encode(rep->zip_sha256, CRY_HASH_LEN, hex);
	if ((r = bytes_printf(out,
	         "kura-receipt/v1\n"
	         "receipt: %s\n"
	         "issued: %s\n"
	         "account: %s\n"
	         "type: %s\n"
	         "certification: %s\n"
	         "case: %s\n"
	         "file: %s\n"
	         "zip-size: %llu\n"
	         "zip-sha256: %s\n"
	         "documents: %zu\n",
	         receipt, issued, u->account->login,
	         intake_folder_name(u->folder), *u->cert ? u->cert : "-",
	         case_id, u->name, (unsigned long long)rep->zip_size, hex,
	         rep->ndocs)) != ERR_OK)
		return r;
	for (size_t i = 0; i < rep->ndocs; i++) {
		const struct intake_doc *d = &rep->docs[i];
		hex_encode(d->sha256, CRY_HASH_LEN, hex);
		if ((r = bytes_printf(out, "document: %s %llu %s %s %s\n",
		         d->number != NULL ? d->number : "-",
		         (unsigned long long)d->size, hex, st[i].doc_id,
		         d->name)) != ERR_OK)
			return r;
	}
	return ERR_OK;
}

/* The check JSON object with "receipt" added when accepted. */
static enum err
result_json(const struct intake_report *rep, struct span check_json,
    const char *receipt, const char *case_id, const char *issued,
    const struct stored *st, struct bytes *out)
{
	struct bytes rj;
	struct json j;
	enum err r;

	if ((r = bytes_put(out, check_json.p, check_json.len)) != ERR_OK)
		return r;
	while (out->len > 0 &&
	       (out->p[out->len - 1] == '\n' || out->p[out->len - 1] == ' '))
		out->len--;
	if (receipt == NULL)
		return bytes_put_str(out, "\n");
	if (out->len == 0 || out->p[out->len - 1] != '}')
		return ERR_INTERNAL;
	out->len--;
	bytes_init(&rj, 1u << 20);
	json_init(&j, &rj);
	json_obj_begin(&j);
	json_kv_str(&j, "number", receipt);
	json_kv_str(&j, "case", case_id);
	json_kv_str(&j, "issued", issued);
	json_key(&j, "documents");
	json_arr_begin(&j);
	for (size_t i = 0; i < rep->ndocs; i++) {
		json_obj_begin(&j);
		json_kv_str(&j, "number",
		    rep->docs[i].number ? rep->docs[i].number : "");
		json_kv_str(&j, "name", rep->docs[i].name);
		json_kv_str(&j, "document_id", st[i].doc_id);
		json_obj_end(&j);
	}
	json_arr_end(&j);
	json_obj_end(&j);
	if ((r = json_finish(&j)) == ERR_OK)
		r = bytes_printf(out, ",\"receipt\":%s}\n", (const char *)rj.p);
	bytes_release(&rj);
	return r;
}

static enum err
result_text(const struct srv_upload_info *u, const struct intake_report *rep,
    struct span check_text, const char *receipt, struct bytes *out)
{
	char hex[2 * CRY_HASH_LEN + 1];
	enum err r;

	hex_encode(rep->zip_sha256, CRY_HASH_LEN, hex);
	if (receipt != NULL)
		r = bytes_printf(out,
		    "受付結果: 受理しました。受付番号 %s\n"
		    "Result: accepted. Receipt number %s\n\n",
		    receipt, receipt);
	else
		r = bytes_printf(out,
		    "受付結果: "
		    "受理できませんでした。下記の問題を直して、もう一度"
		    "アップロードしてください。\n"
		    "Result: not accepted. Please fix the problems below and "
		    "upload again.\n\n");
	/* The upload's own name may hold C1 or bidi controls: escaped. */
	if (r != ERR_OK ||
	    (r = bytes_printf(out, "ファイル / file: /%s%s",
	         intake_folder_name(u->folder), *u->cert ? "/" : "")) !=
	        ERR_OK ||
	    (r = intake_text_safe(out, u->cert)) != ERR_OK ||
	    (r = bytes_put_str(out, "/")) != ERR_OK ||
	    (r = intake_text_safe(out, u->name)) != ERR_OK ||
	    (r = bytes_printf(out, "\nSHA-256: %s\n\n", hex)) != ERR_OK)
		return r;
	return bytes_put(out, check_text.p, check_text.len);
}

static void
audit_step(struct vault *v, const struct srv_upload_info *u, const char *action,
    const char *case_id, const char *details)
{
	struct audit_event ev = {0};
	enum err r;

	ev.actor = u->account->login;
	ev.action = action;
	ev.account = u->account->login;
	ev.case_id = case_id;
	ev.details_json = details;
	if ((r = audit_append(vault_audit(v), &ev, NULL)) != ERR_OK)
		log_err("audit %s: %s", action, err_str(r));
}

static enum err
details(const struct srv_upload_info *u, const struct intake_report *rep,
    const char *receipt, struct bytes *out)
{
	struct json j;
	char hex[2 * CRY_HASH_LEN + 1];

	hex_encode(rep->zip_sha256, CRY_HASH_LEN, hex);
	json_init(&j, out);
	json_obj_begin(&j);
	json_kv_str(&j, "folder", intake_folder_name(u->folder));
	json_kv_str(&j, "cert", u->cert);
	json_kv_str(&j, "name", u->name);
	json_kv_uint(&j, "size", rep->zip_size);
	json_kv_str(&j, "sha256", hex);
	json_kv_str(&j, "peer", u->peer);
	json_kv_uint(&j, "documents", rep->ndocs);
	json_kv_uint(&j, "problems", rep->nproblems);
	if (receipt != NULL)
		json_kv_str(&j, "receipt", receipt);
	json_obj_end(&j);
	return json_finish(&j);
}

static void
send_mail(const struct srv_conf *c, struct vault *v,
    const struct srv_upload_info *u, const char *receipt,
    const struct bytes *receipt_note)
{
	struct bytes body, subj, js;
	enum err r;

	if (c->smtp_host[0] == 0)
		return;
	bytes_init(&body, 4u << 20);
	bytes_init(&subj, 512);
	bytes_init(&js, 1024);
	if ((r = bytes_printf(&subj, "[kura] 受付番号 %s / receipt %s", receipt,
	         receipt)) != ERR_OK ||
	    (r = bytes_printf(&body,
	         "%s 様\n\n申請書類を受理しました。受付番号: %s\n"
	         "ファイル: %s\n"
	         "署名付き受領書は SFTP の /results/%s.receipt にあります。\n\n"
	         "Your application has been accepted. Receipt number: %s\n"
	         "File: %s\n"
	         "The signed receipt is in /results/%s.receipt on SFTP.\n\n"
	         "%s",
	         u->account->org, receipt, u->name, u->name, receipt, u->name,
	         u->name, (const char *)receipt_note->p)) != ERR_OK)
		goto out;
	r = srv_smtp_send(c->smtp_host, c->smtp_port, c->smtp_from,
	    u->account->email, (const char *)subj.p, (const char *)body.p);
out:
	if (bytes_printf(&js, "{\"receipt\":\"%s\",\"ok\":%s}", receipt,
	        r == ERR_OK ? "true" : "false") == ERR_OK &&
	    vault_begin(v) == ERR_OK) {
		audit_step(v, u,
		    r == ERR_OK ? "intake.email" : "intake.email_failed", NULL,
		    (const char *)js.p);
		if (vault_commit(v) != ERR_OK)
			vault_rollback(v);
	}
	if (r != ERR_OK)
		log_warn("e-mail for receipt %s: %s", receipt, err_str(r));
	bytes_release(&body);
	bytes_release(&subj);
	bytes_release(&js);
}

enum err
srv_submit(struct vault *v, const struct srv_conf *c,
    const struct srv_upload_info *u, struct vault_put *p, bool *accepted)
{
	struct srv_verdict vd = {0};
	struct intake_report *rep = NULL;
	struct stored *st = NULL;
	struct bytes js, txt, note, signed_note, det, name;
	char receipt[VAULT_RECEIPT_MAX] = "", case_id[VAULT_ID_MAX] = "";
	char issued[24];
	enum err r = ERR_INTERNAL;
	bool tx = false;
	const char *step = "validation";

	*accepted = false;
	bytes_init(&js, SUBMIT_TEXT_MAX);
	bytes_init(&txt, SUBMIT_TEXT_MAX);
	bytes_init(&note, SUBMIT_TEXT_MAX);
	bytes_init(&signed_note, SUBMIT_TEXT_MAX);
	bytes_init(&det, 64 * 1024);
	bytes_init(&name, 1024);
	now_utc(issued);

	/*
	 * 1. validation: the same code path as `kura check`, in a sandboxed
	 * child (intake/sandbox.c).
	 */
	if ((r = srv_validate(v, c, u, folder_type(u->folder), p, &vd)) !=
	    ERR_OK)
		goto out;
	rep = vd.rep;
	if (rep->accept) {
		for (size_t i = 0; i < rep->ndocs; i++)
			if (i >= vd.nputs || vd.puts[i] == NULL) {
				log_err("document %zu was not streamed", i);
				r = ERR_INTERNAL;
				goto out;
			}
	}
	if ((st = calloc(rep->ndocs + 1, sizeof(*st))) == NULL) {
		r = ERR_NOMEM;
		goto out;
	}

	/* 2. one transaction: case, receipt, documents, results, audit. */
	step = "storage";
	if ((r = vault_begin(v)) != ERR_OK)
		goto out;
	tx = true;
	if ((r = details(u, rep, NULL, &det)) != ERR_OK)
		goto out;
	audit_step(v, u, "intake.upload", NULL, (const char *)det.p);
	if (rep->accept) {
		if (u->case_id != NULL && *u->case_id != 0)
			snprintf(case_id, sizeof(case_id), "%s", u->case_id);
		else if ((step = "case"),
		    (r = vault_case_create(v, u->account->login, case_id)) !=
		        ERR_OK)
			goto out;
		step = "receipt number";
		if ((r = vault_receipt_next(v, c->receipt_format, receipt)) !=
		    ERR_OK)
			goto out;
		step = "documents";
		for (size_t i = 0; i < rep->ndocs; i++) {
			const struct intake_doc *d = &rep->docs[i];
			struct vault_doc_meta m = {0};
			m.actor = u->account->login;
			m.number = d->number;
			m.name = d->name;
			m.role = intake_role_str(d->role);
			m.format = d->format;
			m.submission = receipt;
			r = vault_put_commit(vd.puts[i], case_id, &m,
			    st[i].doc_id);
			vd.puts[i] = NULL; /* freed whatever the result */
			if (r != ERR_OK)
				goto out;
		}
		step = "receipt";
		if ((r = receipt_text(u, rep, receipt, case_id, issued, st,
		         &note)) != ERR_OK ||
		    (r = keeper_sign(u->ctl, bytes_span(&note),
		         &signed_note)) != ERR_OK)
			goto out;
	}
	step = "results";
	if ((r = result_json(rep, bytes_span(&vd.json),
	         rep->accept ? receipt : NULL, case_id, issued, st, &js)) !=
	        ERR_OK ||
	    (r = result_text(u, rep, bytes_span(&vd.text),
	         rep->accept ? receipt : NULL, &txt)) != ERR_OK)
		goto out;
	if ((r = bytes_printf(&name, "%s.result.json", u->name)) != ERR_OK ||
	    (r = vault_result_put(v, u->account->id, (const char *)name.p,
	         bytes_span(&js))) != ERR_OK)
		goto out;
	bytes_clear(&name);
	if ((r = bytes_printf(&name, "%s.result.txt", u->name)) != ERR_OK ||
	    (r = vault_result_put(v, u->account->id, (const char *)name.p,
	         bytes_span(&txt))) != ERR_OK)
		goto out;
	if (rep->accept) {
		bytes_clear(&name);
		if ((r = bytes_printf(&name, "%s.receipt", u->name)) !=
		        ERR_OK ||
		    (r = vault_result_put(v, u->account->id,
		         (const char *)name.p, bytes_span(&signed_note))) !=
		        ERR_OK)
			goto out;
	}
	{
		struct vault_submission sub = {0};
		sub.account_id = u->account->id;
		sub.folder = intake_folder_name(u->folder);
		sub.cert = u->cert;
		sub.name = u->name;
		sub.size = rep->zip_size;
		sub.sha256 = rep->zip_sha256;
		sub.verdict = rep->accept ? "accepted" : "rejected";
		sub.receipt = receipt;
		sub.case_id = case_id;
		if ((r = vault_submission_add(v, &sub)) != ERR_OK)
			goto out;
	}
	bytes_clear(&det);
	if ((r = details(u, rep, rep->accept ? receipt : NULL, &det)) != ERR_OK)
		goto out;
	audit_step(v, u, rep->accept ? "intake.accept" : "intake.reject",
	    rep->accept ? case_id : NULL, (const char *)det.p);
	if ((r = vault_commit(v)) != ERR_OK)
		goto out;
	tx = false;
	*accepted = rep->accept;
	log_info("%s: %s %s", u->account->login,
	    rep->accept ? "accepted" : "rejected", rep->accept ? receipt : "");

	/* 3. after the commit: the e-mail (its outcome is audited too). */
	if (rep->accept)
		send_mail(c, v, u, receipt, &signed_note);
	r = ERR_OK;
out:
	if (r != ERR_OK)
		log_err("submission of %s failed at %s: %s", u->account->login,
		    step, err_str(r));
	if (tx)
		vault_rollback(v);
	srv_verdict_release(&vd); /* rep with it */
	vault_put_abort(p);       /* the ZIP itself is not kept */
	free(st);
	bytes_release(&js);
	bytes_release(&txt);
	bytes_release(&note);
	bytes_release(&signed_note);
	bytes_release(&det);
	bytes_release(&name);
	return r;
}
