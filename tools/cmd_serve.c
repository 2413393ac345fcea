/*
 * tools/cmd_serve.c - `kura serve`, `kura hostkey`, `kura account`,
 * `kura demo`.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <libssh/libssh.h>

#include "common/bytes.h"
#include "common/fsx.h"
#include "common/json.h"
#include "common/log.h"
#include "crypto/crypto.h"
#include "intake/intake.h"
#include "tools/cmd.h"
#include "vault/vault.h"
#include "common/banned.h"

#define DEMO_LOGIN    "demo"
#define DEMO_CERT     "DEMO-0001"
#define DEMO_PASSFILE "DEMO-STAFF-PASSPHRASE.txt"

static const char serve_usage[] = "kura -d DIR serve [--listen ADDR:PORT]";

static void
print_listening(const char *addr, const char *fp, void *arg)
{
	(void)arg;
	printf("kura serve: listening on %s\n", addr);
	printf("host key fingerprint: %s\n", fp);
	fflush(stdout);
}

int
cmd_serve(struct kura_ctx *ctx, int argc, char **argv)
{
	struct intake_serve_opts o = {0};
	enum err r;

	if (cmd_wants_help(argc, argv)) {
		printf(
		    "usage: %s\n\n"
		    "Runs the SFTP intake for applicants on the vault DIR. "
		    "Listens on ADDR:PORT\n(default: `listen` in kura.conf, "
		    "else 127.0.0.1:2222; port 0 picks a free\nport, printed "
		    "at start). Stops cleanly on SIGTERM or SIGINT.\n",
		    serve_usage);
		return 0;
	}
	for (int i = 1; i < argc; i++) {
		if (strcmp(argv[i], "--listen") == 0 && i + 1 < argc)
			o.listen = argv[++i];
		else
			return cmd_usage_error(serve_usage,
			    "unknown argument %s", argv[i]);
	}
	o.vault_dir = ctx->vault_dir;
	o.on_listening = print_listening;
	r = intake_serve(&o);
	if (r != ERR_OK) {
		fprintf(stderr, "kura: serve: %s\n", err_str(r));
		return 2;
	}
	return 0;
}

int
cmd_hostkey(struct kura_ctx *ctx, int argc, char **argv)
{
	struct bytes fp, pub;
	enum err r;

	if (cmd_wants_help(argc, argv)) {
		printf("usage: kura -d DIR hostkey\n\n"
		       "Prints the SFTP server's host key fingerprint (SHA256, "
		       "as OpenSSH shows it)\nand its public key line. Publish "
		       "both to applicants through a channel\nother than SFTP "
		       "(web site, letter) so they can check the first "
		       "connection.\n");
		return 0;
	}
	if (argc > 1)
		return cmd_usage_error("kura -d DIR hostkey",
		    "unknown argument %s", argv[1]);
	bytes_init(&fp, 256);
	bytes_init(&pub, 4096);
	r = intake_hostkey(ctx->vault_dir, &fp, &pub);
	if (r == ERR_OK) {
		printf("%s\n%s\n", (const char *)fp.p, (const char *)pub.p);
	} else
		fprintf(stderr, "kura: hostkey: %s\n", err_str(r));
	bytes_release(&fp);
	bytes_release(&pub);
	return r == ERR_OK ? 0 : 2;
}

/* ------------------------------------------------------------- accounts */

static const char account_usage[] =
    "kura -d DIR account add LOGIN --org ORG --email ADDR "
    "[--password-file F] [--pubkey FILE]\n"
    "                      [--max-upload BYTES] [--quota BYTES]\n"
    "       kura -d DIR account list [--json]\n"
    "       kura -d DIR account show LOGIN\n"
    "       kura -d DIR account disable|enable LOGIN\n"
    "       kura -d DIR account passwd LOGIN [--password-file F]\n"
    "       kura -d DIR account key add|remove LOGIN FILE\n"
    "       kura -d DIR account link LOGIN 認定番号 [--case CASE]\n"
    "       kura -d DIR account unlink LOGIN 認定番号\n"
    "  changes take [--staff NAME] [--passphrase-file F]";

struct staff_pick {
	char name[VAULT_STAFF_MAX + 1];
	int n;
};

static enum err
staff_pick_cb(void *arg, const char *name, const char *created)
{
	struct staff_pick *p = arg;

	(void)created;
	if (p->n++ == 0)
		snprintf(p->name, sizeof(p->name), "%s", name);
	return ERR_OK;
}

/*
 * Proves a staff member is making the change: unlocks their key with the
 * passphrase (then drops the session at once). *actor gets the name.
 */
static enum err
staff_prove(struct vault *v, const char *staff, const char *passfile,
    char actor[static VAULT_STAFF_MAX + 1])
{
	struct staff_pick p = {0};
	struct cry_secret *pw = NULL;
	struct vault_staff_session *ss = NULL;
	const char *env = getenv("KURA_STAFF");
	char prompt[128];
	enum err r;

	if (staff == NULL && env != NULL && *env != 0)
		staff = env;
	if (staff == NULL) {
		if ((r = vault_staff_list(v, staff_pick_cb, &p)) != ERR_OK)
			return r;
		if (p.n != 1) {
			fprintf(stderr, "kura: name the staff member (--staff "
			                "NAME or $KURA_STAFF)\n");
			return ERR_INVALID;
		}
		staff = p.name;
	}
	snprintf(prompt, sizeof(prompt), "Passphrase of %s: ", staff);
	if ((r = cry_passphrase_read(passfile, prompt, false, &pw)) != ERR_OK)
		return r;
	r = vault_staff_unlock(v, staff, pw, &ss);
	cry_secret_free(pw);
	if (r != ERR_OK)
		return r;
	snprintf(actor, VAULT_STAFF_MAX + 1, "%s", vault_staff_name(ss));
	vault_staff_session_free(ss);
	return ERR_OK;
}

/* Parses one OpenSSH public key line from file; checks it with libssh. */
static enum err
read_pubkey(const char *file, char *type, size_t tsz, struct bytes *b64,
    char *comment, size_t csz)
{
	struct bytes f;
	char *line, *sp1, *sp2, *nl;
	ssh_key k = NULL;
	enum err r;

	bytes_init(&f, 64 * 1024);
	if ((r = fsx_read_file(file, f.max, &f)) != ERR_OK)
		goto out;
	r = ERR_INVALID;
	if (f.len == 0)
		goto out;
	line = (char *)f.p;
	if ((nl = strchr(line, '\n')) != NULL)
		*nl = 0;
	if ((sp1 = strchr(line, ' ')) == NULL)
		goto out;
	*sp1++ = 0;
	if ((sp2 = strchr(sp1, ' ')) != NULL)
		*sp2++ = 0;
	if (strlen(line) >= tsz ||
	    ssh_pki_import_pubkey_base64(sp1, ssh_key_type_from_name(line),
	        &k) != SSH_OK)
		goto out;
	ssh_key_free(k);
	snprintf(type, tsz, "%s", line);
	snprintf(comment, csz, "%s", sp2 != NULL ? sp2 : "");
	bytes_clear(b64);
	r = bytes_put_str(b64, sp1);
out:
	if (r == ERR_INVALID)
		fprintf(stderr, "kura: %s: not an OpenSSH public key\n", file);
	bytes_release(&f);
	return r;
}

static enum err
set_password(struct vault_account *a, const char *file, bool confirm)
{
	struct cry_secret *pw = NULL;
	enum err r;

	if ((r = cry_passphrase_read(file, "New password: ", confirm, &pw)) !=
	    ERR_OK)
		return r;
	if (cry_secret_len(pw) < 8) {
		fprintf(stderr, "kura: a password needs at least 8 "
		                "characters\n");
		cry_secret_free(pw);
		return ERR_INVALID;
	}
	r = cry_pwhash_str(pw, a->pwhash);
	cry_secret_free(pw);
	return r;
}

struct list_ctx {
	struct vault *v;
	struct json *j; /* NULL: text */
};

static enum err
cert_json_cb(void *arg, const char *cert, const char *case_id)
{
	struct json *j = arg;

	json_obj_begin(j);
	json_kv_str(j, "cert", cert);
	json_kv_str(j, "case", case_id);
	json_obj_end(j);
	return ERR_OK;
}

static enum err
cert_text_cb(void *arg, const char *cert, const char *case_id)
{
	(void)arg;
	printf("  service: %s%s%s\n", cert, *case_id ? " case " : "", case_id);
	return ERR_OK;
}

static enum err
key_json_cb(void *arg, const char *type, const char *b64, const char *comment)
{
	struct json *j = arg;

	(void)b64;
	json_obj_begin(j);
	json_kv_str(j, "type", type);
	json_kv_str(j, "comment", comment);
	json_obj_end(j);
	return ERR_OK;
}

static enum err
key_text_cb(void *arg, const char *type, const char *b64, const char *comment)
{
	(void)arg;
	printf("  key: %s %.16s... %s\n", type, b64, comment);
	return ERR_OK;
}

static enum err
list_cb(void *arg, const struct vault_account *a)
{
	struct list_ctx *c = arg;
	enum err r;

	if (c->j == NULL) {
		printf("%-20s %-8s %-30s %s\n", a->login,
		    a->disabled ? "disabled" : "active", a->email, a->org);
		return ERR_OK;
	}
	json_obj_begin(c->j);
	json_kv_str(c->j, "login", a->login);
	json_kv_str(c->j, "org", a->org);
	json_kv_str(c->j, "email", a->email);
	json_kv_bool(c->j, "disabled", a->disabled);
	json_kv_bool(c->j, "password", a->pwhash[0] != 0);
	json_kv_uint(c->j, "max_upload", a->max_upload);
	json_kv_uint(c->j, "quota", a->quota);
	json_kv_str(c->j, "created", a->created);
	json_key(c->j, "keys");
	json_arr_begin(c->j);
	if ((r = vault_account_keys(c->v, a->login, key_json_cb, c->j)) !=
	    ERR_OK)
		return r;
	json_arr_end(c->j);
	json_key(c->j, "services");
	json_arr_begin(c->j);
	if ((r = vault_account_certs(c->v, a->login, cert_json_cb, c->j)) !=
	    ERR_OK)
		return r;
	json_arr_end(c->j);
	json_obj_end(c->j);
	return ERR_OK;
}

static int
account_show(struct vault *v, const char *login)
{
	struct vault_account a;
	enum err r;

	if ((r = vault_account_get(v, login, &a)) != ERR_OK) {
		fprintf(stderr, "kura: account %s: %s\n", login, err_str(r));
		return r == ERR_NOT_FOUND ? 1 : 2;
	}
	printf("login: %s\norg: %s\nemail: %s\nstate: %s\npassword: %s\n"
	       "max_upload: %llu\nquota: %llu\ncreated: %s\n",
	    a.login, a.org, a.email, a.disabled ? "disabled" : "active",
	    a.pwhash[0] ? "set" : "none", (unsigned long long)a.max_upload,
	    (unsigned long long)a.quota, a.created);
	if (vault_account_keys(v, login, key_text_cb, NULL) != ERR_OK ||
	    vault_account_certs(v, login, cert_text_cb, NULL) != ERR_OK)
		return 2;
	return 0;
}

static int
parse_u64(const char *s, uint64_t *out)
{
	char *end;
	unsigned long long x;

	errno = 0;
	x = strtoull(s, &end, 10);
	if (errno != 0 || end == s || *end != 0 || s[0] == '-')
		return -1;
	*out = x;
	return 0;
}

int
cmd_account(struct kura_ctx *ctx, int argc, char **argv)
{
	const char *staff = NULL, *passfile = NULL, *pwfile = NULL;
	const char *org = NULL, *email = NULL, *pubkey = NULL, *case_id = NULL;
	const char *pos[4] = {0};
	int npos = 0, rc = 2;
	bool json = false;
	uint64_t max_upload = 0, quota = 0;
	struct vault *v = NULL;
	struct vault_account a;
	char actor[VAULT_STAFF_MAX + 1];
	const char *sub;
	enum err r = ERR_INTERNAL;

	if (cmd_wants_help(argc, argv)) {
		printf(
		    "usage: %s\n\n"
		    "Applicant accounts of the SFTP intake. Passwords are "
		    "stored as Argon2id\nhashes; keys as OpenSSH public keys. "
		    "Every change is made by a named staff\nmember (--staff, "
		    "else $KURA_STAFF, else the only one) who proves it with\n"
		    "their passphrase (prompt or --passphrase-file), and is "
		    "audited.\n",
		    account_usage);
		return 0;
	}
	for (int i = 1; i < argc; i++) {
		const char *o = argv[i];
		bool has = i + 1 < argc;
		if (strcmp(o, "--staff") == 0 && has)
			staff = argv[++i];
		else if (strcmp(o, "--passphrase-file") == 0 && has)
			passfile = argv[++i];
		else if (strcmp(o, "--password-file") == 0 && has)
			pwfile = argv[++i];
		else if (strcmp(o, "--org") == 0 && has)
			org = argv[++i];
		else if (strcmp(o, "--email") == 0 && has)
			email = argv[++i];
		else if (strcmp(o, "--pubkey") == 0 && has)
			pubkey = argv[++i];
		else if (strcmp(o, "--case") == 0 && has)
			case_id = argv[++i];
		else if (strcmp(o, "--max-upload") == 0 && has) {
			if (parse_u64(argv[++i], &max_upload) != 0)
				return cmd_usage_error(account_usage,
				    "bad --max-upload");
		} else if (strcmp(o, "--quota") == 0 && has) {
			if (parse_u64(argv[++i], &quota) != 0)
				return cmd_usage_error(account_usage,
				    "bad --quota");
		} else if (strcmp(o, "--json") == 0)
			json = true;
		else if (o[0] == '-' && o[1] != 0)
			return cmd_usage_error(account_usage,
			    "unknown option %s", o);
		else if (npos < 4)
			pos[npos++] = o;
		else
			return cmd_usage_error(account_usage,
			    "too many arguments");
	}
	if (npos == 0)
		return cmd_usage_error(account_usage, "missing subcommand");
	sub = pos[0];
	if ((r = vault_open(ctx->vault_dir, 0, &v)) != ERR_OK ||
	    (r = vault_accounts_open(v)) != ERR_OK) {
		fprintf(stderr, "kura: cannot open vault %s: %s\n",
		    ctx->vault_dir, err_str(r));
		vault_close(v);
		return 2;
	}
	if (strcmp(sub, "list") == 0) {
		struct bytes out;
		struct json j;
		struct list_ctx lc = {v, json ? &j : NULL};
		bytes_init(&out, 64u << 20);
		json_init(&j, &out);
		if (json)
			json_arr_begin(&j);
		r = vault_account_list(v, list_cb, &lc);
		if (json) {
			json_arr_end(&j);
			if (r == ERR_OK && (r = json_finish(&j)) == ERR_OK)
				printf("%s\n", (const char *)out.p);
		}
		bytes_release(&out);
		rc = r == ERR_OK ? 0 : 2;
		goto out;
	}
	if (npos < 2) {
		rc = cmd_usage_error(account_usage, "missing LOGIN");
		goto out;
	}
	if (strcmp(sub, "show") == 0) {
		rc = account_show(v, pos[1]);
		goto out;
	}
	if (strcmp(sub, "add") != 0 && strcmp(sub, "disable") != 0 &&
	    strcmp(sub, "enable") != 0 && strcmp(sub, "passwd") != 0 &&
	    strcmp(sub, "key") != 0 && strcmp(sub, "link") != 0 &&
	    strcmp(sub, "unlink") != 0) {
		rc = cmd_usage_error(account_usage, "unknown subcommand %s",
		    sub);
		goto out;
	}
	if ((r = staff_prove(v, staff, passfile, actor)) != ERR_OK) {
		fprintf(stderr, "kura: staff authorisation failed: %s\n",
		    err_str(r));
		goto out;
	}
	if (strcmp(sub, "add") == 0) {
		if (org == NULL || email == NULL) {
			rc = cmd_usage_error(account_usage,
			    "add needs --org and --email");
			goto out;
		}
		memset(&a, 0, sizeof(a));
		if (!vault_login_valid(pos[1]) || strlen(org) > VAULT_ORG_MAX ||
		    strlen(email) > VAULT_EMAIL_MAX ||
		    strchr(email, '@') == NULL) {
			fprintf(stderr, "kura: invalid login, org or e-mail "
			                "(login: a-z 0-9 . _ -)\n");
			goto out;
		}
		snprintf(a.login, sizeof(a.login), "%s", pos[1]);
		snprintf(a.org, sizeof(a.org), "%s", org);
		snprintf(a.email, sizeof(a.email), "%s", email);
		a.max_upload = max_upload;
		a.quota = quota;
		if (pwfile != NULL &&
		    (r = set_password(&a, pwfile, false)) != ERR_OK)
			goto fail;
		if ((r = vault_begin(v)) != ERR_OK)
			goto fail;
		r = vault_account_add(v, actor, &a);
		if (r == ERR_OK && pubkey != NULL) {
			char type[64], comment[256];
			struct bytes b64;
			bytes_init(&b64, 16384);
			r = read_pubkey(pubkey, type, sizeof(type), &b64,
			    comment, sizeof(comment));
			if (r == ERR_OK)
				r = vault_account_key_add(v, actor, a.login,
				    type, (const char *)b64.p, comment);
			bytes_release(&b64);
		}
		if (r == ERR_OK)
			r = vault_commit(v);
		else
			vault_rollback(v);
		if (r != ERR_OK)
			goto fail;
		printf("account %s added\n", a.login);
		rc = 0;
		goto out;
	}
	if (strcmp(sub, "key") == 0) {
		char type[64], comment[256];
		struct bytes b64;
		bool add;
		if (npos != 4 || (strcmp(pos[1], "add") != 0 &&
		                     strcmp(pos[1], "remove") != 0)) {
			rc = cmd_usage_error(account_usage,
			    "key add|remove LOGIN FILE");
			goto out;
		}
		add = strcmp(pos[1], "add") == 0;
		bytes_init(&b64, 16384);
		r = read_pubkey(pos[3], type, sizeof(type), &b64, comment,
		    sizeof(comment));
		if (r == ERR_OK)
			r = add ? vault_account_key_add(v, actor, pos[2], type,
			              (const char *)b64.p, comment)
			        : vault_account_key_remove(v, actor, pos[2],
			              type, (const char *)b64.p);
		bytes_release(&b64);
		if (r != ERR_OK)
			goto fail;
		printf("key %s for %s\n", add ? "added" : "removed", pos[2]);
		rc = 0;
		goto out;
	}
	if (strcmp(sub, "link") == 0 || strcmp(sub, "unlink") == 0) {
		bool link = strcmp(sub, "link") == 0;
		if (npos != 3) {
			rc = cmd_usage_error(account_usage, "%s LOGIN 認定番号",
			    sub);
			goto out;
		}
		r = link ? vault_account_link(v, actor, pos[1], pos[2], case_id)
		         : vault_account_unlink(v, actor, pos[1], pos[2]);
		if (r != ERR_OK)
			goto fail;
		printf("%s %s %s\n", pos[2],
		    link ? "linked to" : "unlinked from", pos[1]);
		rc = 0;
		goto out;
	}
	/* disable, enable, passwd */
	if ((r = vault_account_get(v, pos[1], &a)) != ERR_OK)
		goto fail;
	if (strcmp(sub, "passwd") == 0) {
		if ((r = set_password(&a, pwfile, true)) != ERR_OK)
			goto fail;
		r = vault_account_update(v, actor, &a, "account.passwd");
	} else {
		a.disabled = strcmp(sub, "disable") == 0;
		r = vault_account_update(v, actor, &a,
		    a.disabled ? "account.disable" : "account.enable");
	}
	if (r != ERR_OK)
		goto fail;
	printf("account %s: %s done\n", a.login, sub);
	rc = 0;
	goto out;
fail:
	fprintf(stderr, "kura: account %s: %s\n", sub, err_str(r));
	rc = r == ERR_NOT_FOUND || r == ERR_EXISTS ? 1 : 2;
out:
	vault_close(v);
	return rc;
}

/* ----------------------------------------------------------------- demo */

static enum err
demo_password(char out[static 17])
{
	static const char alphabet[] = "abcdefghijkmnpqrstuvwxyz23456789";
	uint8_t rnd[16];

	cry_random(rnd, sizeof(rnd));
	for (size_t i = 0; i < 16; i++)
		out[i] = alphabet[rnd[i] % 32];
	out[16] = 0;
	return ERR_OK;
}

/* The demo sends no e-mail (there is no relay to send it to). */
static enum err
demo_conf(const char *dir)
{
	char path[4096];
	struct bytes conf;
	enum err r;

	if ((r = fsx_join(path, sizeof(path), dir, "kura.conf")) != ERR_OK)
		return r;
	bytes_init(&conf, 1u << 20);
	if ((r = fsx_read_file(path, conf.max - 256, &conf)) == ERR_OK &&
	    (r = bytes_put_str(&conf, "\n# kura demo\nmail.relay = none\n")) ==
	        ERR_OK)
		r = fsx_write_atomic(path, bytes_span(&conf), 0600);
	bytes_release(&conf);
	return r;
}

static const char demo_usage[] =
    "kura [-d DIR] demo [--listen ADDR:PORT] [--force-public]";

int
cmd_demo(struct kura_ctx *ctx, int argc, char **argv)
{
	struct vault *v = NULL;
	struct vault_account a;
	struct intake_serve_opts o = {0};
	struct cry_secret *pw = NULL;
	char pass[17], passfile[4096];
	struct stat st;
	enum err r;
	bool fresh = false, force_public = false;

	if (cmd_wants_help(argc, argv)) {
		printf(
		    "usage: %s\n\n"
		    "Creates a demo vault in DIR if there is none (its staff "
		    "passphrase is written\nto DIR/" DEMO_PASSFILE
		    ", mode 0600), a demo applicant `" DEMO_LOGIN
		    "` with a new\npassword (printed), then serves SFTP on "
		    "127.0.0.1:2222. For trying kura\nout, not for "
		    "production.\n\n"
		    "  --listen ADDR:PORT  where to listen (default "
		    "127.0.0.1:2222)\n"
		    "  --force-public      accept a --listen address that is "
		    "not loopback (the\n"
		    "                      demo's passwords are printed: "
		    "never on a real network)\n",
		    demo_usage);
		return 0;
	}
	for (int i = 1; i < argc; i++) {
		if (strcmp(argv[i], "--listen") == 0 && i + 1 < argc)
			o.listen = argv[++i];
		else if (strcmp(argv[i], "--force-public") == 0)
			force_public = true;
		else
			return cmd_usage_error(demo_usage,
			    "unknown argument %s", argv[i]);
	}
	/*
	 * The demo applicant's password is printed and the staff passphrase
	 * written down: never on a public address unless forced (review #2).
	 */
	if (o.listen != NULL && !force_public &&
	    strncmp(o.listen, "127.", 4) != 0 &&
	    strncmp(o.listen, "[::1]:", 6) != 0 &&
	    strncmp(o.listen, "localhost:", 10) != 0) {
		fprintf(stderr, "kura demo: %s is not a loopback address; the "
		                "demo's passwords are public (--force-public to "
		                "insist)\n", o.listen);
		return 2;
	}
	if (fsx_join(passfile, sizeof(passfile), ctx->vault_dir,
	        DEMO_PASSFILE) != ERR_OK)
		return 2;
	if (stat(ctx->vault_dir, &st) != 0) {
		struct vault_init_opts io = {0};
		struct bytes line;
		if ((r = demo_password(pass)) != ERR_OK ||
		    (r = cry_secret_from(pass, 16, &pw)) != ERR_OK)
			goto fail;
		io.staff_name = "admin";
		io.passphrase = pw;
		io.log_origin = "kura-demo";
		if ((r = vault_init(ctx->vault_dir, &io)) != ERR_OK)
			goto fail;
		bytes_init(&line, 64);
		if ((r = bytes_printf(&line, "%s\n", pass)) == ERR_OK)
			r = fsx_write_atomic(passfile, bytes_span(&line), 0600);
		if (r == ERR_OK)
			r = demo_conf(ctx->vault_dir);
		bytes_release(&line);
		if (r != ERR_OK)
			goto fail;
		printf("created demo vault %s (staff `admin`, passphrase in "
		       "%s)\n",
		    ctx->vault_dir, passfile);
		fresh = true;
	}
	if ((r = vault_open(ctx->vault_dir, 0, &v)) != ERR_OK ||
	    (r = vault_accounts_open(v)) != ERR_OK)
		goto fail;
	if ((r = demo_password(pass)) != ERR_OK)
		goto fail;
	cry_secret_free(pw);
	pw = NULL;
	if ((r = cry_secret_from(pass, 16, &pw)) != ERR_OK)
		goto fail;
	r = vault_account_get(v, DEMO_LOGIN, &a);
	if (r == ERR_NOT_FOUND) {
		memset(&a, 0, sizeof(a));
		snprintf(a.login, sizeof(a.login), DEMO_LOGIN);
		snprintf(a.org, sizeof(a.org), "デモ株式会社 (Demo Co., Ltd.)");
		snprintf(a.email, sizeof(a.email), "demo@example.com");
		if ((r = cry_pwhash_str(pw, a.pwhash)) != ERR_OK ||
		    (r = vault_account_add(v, "demo", &a)) != ERR_OK ||
		    (r = vault_account_link(v, "demo", DEMO_LOGIN, DEMO_CERT,
		         NULL)) != ERR_OK)
			goto fail;
	} else if (r == ERR_OK) {
		a.disabled = false;
		if ((r = cry_pwhash_str(pw, a.pwhash)) != ERR_OK ||
		    (r = vault_account_update(v, "demo", &a,
		         "account.passwd")) != ERR_OK)
			goto fail;
	} else
		goto fail;
	vault_close(v);
	v = NULL;
	cry_secret_free(pw);
	pw = NULL;
	printf("\n  demo applicant: %s   password: %s\n"
	       "  try:  sh examples/make-examples.sh\n"
	       "        sftp -P 2222 %s@127.0.0.1\n"
	       "        sftp> put examples/build/sample-new.zip /new/申請.zip\n"
	       "        sftp> get /results/申請.zip.result.txt\n\n",
	    DEMO_LOGIN, pass, DEMO_LOGIN);
	(void)fresh;
	fflush(stdout);
	o.vault_dir = ctx->vault_dir;
	o.on_listening = print_listening;
	if ((r = intake_serve(&o)) != ERR_OK)
		goto fail;
	return 0;
fail:
	fprintf(stderr, "kura: demo: %s\n", err_str(r));
	cry_secret_free(pw);
	vault_close(v);
	return 2;
}
