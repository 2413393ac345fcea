/*
 * tools/cmd_vault.c - kura init, kura staff.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/bytes.h"
#include "common/json.h"
#include "common/log.h"
#include "tools/cmd.h"
#include "vault/vault.h"
#include "common/banned.h"

static const char init_usage[] =
    "usage: kura init [DIR] [--passphrase-file FILE] [--staff NAME]\n"
    "                 [--origin ORIGIN]\n"
    "\n"
    "Creates a new vault in DIR (default: -d, $KURA_VAULT, else ./vault):\n"
    "kura.conf with commented defaults, kura.db, keys/keystore.db, the first\n"
    "staff member's key pair (its secret under the passphrase), the vault\n"
    "epoch key pair, the audit log key (keys/log.pub) and the SSH host key.\n"
    "Refuses a folder that is not empty.\n"
    "\n"
    "  --passphrase-file FILE  the first staff member's passphrase (first\n"
    "                          line); without it, asked twice on the terminal\n"
    "  --staff NAME            the first staff member (default: admin)\n"
    "  --origin ORIGIN         audit log origin (default: HOSTNAME/kura)\n";

static int
opt_value(int argc, char **argv, int *i, const char *name, const char **out)
{
	if (strcmp(argv[*i], name) != 0)
		return 0;
	if (*i + 1 >= argc)
		return -1;
	*out = argv[*i + 1];
	(*i)++;
	return 1;
}

int
cmd_init(struct kura_ctx *ctx, int argc, char **argv)
{
	const char *dir = ctx->vault_dir, *pwfile = NULL, *staff = NULL,
	           *origin = NULL;
	struct cry_secret *pw = NULL;
	struct vault_init_opts opts = {0};
	enum err r;
	int rc = 2, k;
	bool have_dir = false;

	if (cmd_wants_help(argc, argv)) {
		fputs(init_usage, stdout);
		return 0;
	}
	for (int i = 1; i < argc; i++) {
		if ((k = opt_value(argc, argv, &i, "--passphrase-file",
		         &pwfile)) != 0 ||
		    (k = opt_value(argc, argv, &i, "--staff", &staff)) != 0 ||
		    (k = opt_value(argc, argv, &i, "--origin", &origin)) != 0) {
			if (k < 0)
				return cmd_usage_error(init_usage,
				    "%s needs a value", argv[i]);
			continue;
		}
		if (argv[i][0] == '-' || have_dir)
			return cmd_usage_error(init_usage,
			    "unexpected argument '%s'", argv[i]);
		dir = argv[i];
		have_dir = true;
	}
	if ((r = cry_passphrase_read(pwfile,
	         "New staff passphrase / 新しいパスフレーズ: ", true, &pw)) !=
	    ERR_OK) {
		fprintf(stderr, "kura: cannot read the passphrase: %s\n",
		    err_str(r));
		return 2;
	}
	opts.staff_name = staff;
	opts.passphrase = pw;
	opts.log_origin = origin;
	r = vault_init(dir, &opts);
	if (r == ERR_EXISTS) {
		fprintf(stderr,
		    "kura: %s already exists and is not empty: not touching "
		    "it\n",
		    dir);
		rc = 2;
	} else if (r != ERR_OK) {
		fprintf(stderr, "kura: init %s failed: %s\n", dir, err_str(r));
		rc = 2;
	} else {
		printf("created vault %s (staff member: %s)\n", dir,
		    staff != NULL ? staff : "admin");
		printf("  log verifier key: %s/keys/log.pub\n", dir);
		rc = 0;
	}
	cry_secret_free(pw);
	return rc;
}

/* ---- staff ---- */

static const char staff_usage[] =
    "usage: kura [-d DIR] staff add NAME [--staff ME] [--passphrase-file F]\n"
    "                                    [--new-passphrase-file F2]\n"
    "       kura [-d DIR] staff list [--json]\n"
    "       kura [-d DIR] staff remove NAME [--staff ME] [--passphrase-file "
    "F]\n"
    "       kura [-d DIR] staff rotate [--staff ME] [--passphrase-file F]\n"
    "\n"
    "add     an existing staff member (ME) authorises with their passphrase:\n"
    "        it unlocks the vault epoch secret, which is sealed to NAME's new\n"
    "        key pair; NAME's passphrase is asked twice (or read from F2)\n"
    "list    staff members and when they were added\n"
    "remove  removes NAME (audited) and rotates the vault epoch, so a copy\n"
    "        of the epoch secret NAME may have kept opens no case; the last\n"
    "        member cannot be removed\n"
    "rotate  a new vault epoch key: every case secret re-sealed to it, every\n"
    "        copy of the old epoch secret destroyed (after a suspected leak)\n"
    "\n"
    "  --staff ME, --as ME     who acts (default: $KURA_STAFF, else the only\n"
    "                          staff member)\n"
    "  --passphrase-file F     ME's passphrase (first line); else prompted\n"
    "  --new-passphrase-file F2  NAME's passphrase for add\n";

struct staff_pick {
	const char *only;
	char name[VAULT_STAFF_MAX + 1];
	unsigned n;
};

static enum err
pick_cb(void *arg, const char *name, const char *created)
{
	struct staff_pick *p = arg;

	(void)created;
	p->n++;
	(void)snprintf(p->name, sizeof(p->name), "%s", name);
	return ERR_OK;
}

/* Resolves and unlocks the acting staff member. */
static int
staff_unlock(struct vault *v, const char *me, const char *pwfile,
    struct vault_staff_session **s)
{
	struct staff_pick pick = {0};
	struct cry_secret *pw = NULL;
	char prompt[160];
	enum err r;

	if (me == NULL)
		me = getenv("KURA_STAFF");
	if (me == NULL || *me == 0) {
		if (vault_staff_list(v, pick_cb, &pick) != ERR_OK)
			return 2;
		if (pick.n != 1) {
			fprintf(stderr, "kura: more than one staff member: say "
			                "who you are with --staff NAME\n");
			return 2;
		}
		me = pick.name;
	}
	(void)snprintf(prompt, sizeof(prompt),
	    "Passphrase for %s / パスフレーズ: ", me);
	if ((r = cry_passphrase_read(pwfile, prompt, false, &pw)) != ERR_OK) {
		fprintf(stderr, "kura: cannot read the passphrase: %s\n",
		    err_str(r));
		return 2;
	}
	r = vault_staff_unlock(v, me, pw, s);
	cry_secret_free(pw);
	if (r == ERR_AUTH || r == ERR_NOT_FOUND) {
		fprintf(stderr, "kura: wrong staff name or passphrase\n");
		return 1;
	}
	if (r != ERR_OK) {
		fprintf(stderr, "kura: cannot unlock %s: %s\n", me, err_str(r));
		return 2;
	}
	return 0;
}

struct list_out {
	struct json *j;
};

static enum err
list_cb(void *arg, const char *name, const char *created)
{
	struct list_out *o = arg;

	if (o->j == NULL) {
		printf("%s\t%s\n", name, created);
		return ERR_OK;
	}
	json_obj_begin(o->j);
	json_kv_str(o->j, "name", name);
	json_kv_str(o->j, "created", created);
	json_obj_end(o->j);
	return ERR_OK;
}

static int
staff_list(struct vault *v, bool as_json)
{
	struct bytes out;
	struct json j;
	struct list_out o = {NULL};
	enum err r;

	bytes_init(&out, 1 << 20);
	if (as_json) {
		json_init(&j, &out);
		json_arr_begin(&j);
		o.j = &j;
	}
	r = vault_staff_list(v, list_cb, &o);
	if (as_json) {
		json_arr_end(&j);
		if (r == ERR_OK)
			r = json_finish(&j);
		if (r == ERR_OK)
			printf("%s\n", (const char *)out.p);
	}
	bytes_release(&out);
	if (r != ERR_OK) {
		fprintf(stderr, "kura: staff list: %s\n", err_str(r));
		return 2;
	}
	return 0;
}

int
cmd_staff(struct kura_ctx *ctx, int argc, char **argv)
{
	const char *sub, *name = NULL, *me = NULL, *pwfile = NULL,
	                 *newpw = NULL;
	bool as_json = false;
	struct vault *v = NULL;
	struct vault_staff_session *s = NULL;
	struct cry_secret *pw = NULL;
	char prompt[160];
	enum err r;
	int rc = 2, k;

	if (cmd_wants_help(argc, argv) || argc < 2) {
		if (argc < 2)
			return cmd_usage_error(staff_usage,
			    "missing subcommand");
		fputs(staff_usage, stdout);
		return 0;
	}
	sub = argv[1];
	for (int i = 2; i < argc; i++) {
		if ((k = opt_value(argc, argv, &i, "--passphrase-file",
		         &pwfile)) != 0 ||
		    (k = opt_value(argc, argv, &i, "--new-passphrase-file",
		         &newpw)) != 0 ||
		    (k = opt_value(argc, argv, &i, "--staff", &me)) != 0 ||
		    (k = opt_value(argc, argv, &i, "--as", &me)) != 0) {
			if (k < 0)
				return cmd_usage_error(staff_usage,
				    "%s needs a value", argv[i]);
			continue;
		}
		if (strcmp(argv[i], "--json") == 0) {
			as_json = true;
			continue;
		}
		if (argv[i][0] == '-' || name != NULL)
			return cmd_usage_error(staff_usage,
			    "unexpected argument '%s'", argv[i]);
		name = argv[i];
	}
	if (strcmp(sub, "list") == 0 || strcmp(sub, "rotate") == 0) {
		if (name != NULL)
			return cmd_usage_error(staff_usage,
			    "unexpected argument '%s'", name);
	} else if (strcmp(sub, "add") == 0 || strcmp(sub, "remove") == 0) {
		if (name == NULL)
			return cmd_usage_error(staff_usage, "missing NAME");
	} else
		return cmd_usage_error(staff_usage, "unknown subcommand '%s'",
		    sub);
	if ((r = vault_open(ctx->vault_dir, 0, &v)) != ERR_OK) {
		fprintf(stderr, "kura: cannot open the vault %s: %s\n",
		    ctx->vault_dir, err_str(r));
		return 2;
	}
	if (strcmp(sub, "list") == 0) {
		rc = staff_list(v, as_json);
		goto out;
	}
	if ((rc = staff_unlock(v, me, pwfile, &s)) != 0)
		goto out;
	rc = 2;
	if (strcmp(sub, "rotate") == 0) {
		int64_t e = 0;
		r = vault_epoch_rotate(v, s, &e);
		if (r == ERR_OK)
			printf("rotated the vault epoch (now %lld)\n",
			    (long long)e);
	} else if (strcmp(sub, "add") == 0) {
		(void)snprintf(prompt, sizeof(prompt),
		    "New passphrase for %s / 新しいパスフレーズ: ", name);
		if ((r = cry_passphrase_read(newpw, prompt, true, &pw)) !=
		    ERR_OK) {
			fprintf(stderr,
			    "kura: cannot read the passphrase: %s\n",
			    err_str(r));
			goto out;
		}
		r = vault_staff_add(v, s, name, pw);
		if (r == ERR_OK)
			printf("added staff member %s\n", name);
	} else {
		r = vault_staff_remove(v, vault_staff_name(s), name);
		if (r == ERR_OK)
			printf("removed staff member %s\n", name);
		/*
		 * The removed member may have kept a copy of the epoch
		 * secret: a new epoch makes that copy useless for every
		 * case (SECURITY.md "Vault").
		 */
		if (r == ERR_OK && strcmp(name, vault_staff_name(s)) != 0) {
			int64_t e = 0;
			r = vault_epoch_rotate(v, s, &e);
			if (r == ERR_OK)
				printf("rotated the vault epoch (now %lld)\n",
				    (long long)e);
		}
	}
	if (r == ERR_EXISTS)
		fprintf(stderr, "kura: staff member %s already exists\n", name);
	else if (r == ERR_NOT_FOUND)
		fprintf(stderr, "kura: no staff member %s\n", name);
	else if (r == ERR_PERM)
		fprintf(stderr,
		    "kura: %s is the last staff member and cannot "
		    "be removed\n",
		    name);
	else if (r != ERR_OK)
		fprintf(stderr, "kura: staff %s: %s\n", sub, err_str(r));
	rc = r == ERR_OK ? 0 : r == ERR_PERM || r == ERR_EXISTS ? 1 : 2;
out:
	cry_secret_free(pw);
	vault_staff_session_free(s);
	vault_close(v);
	return rc;
}
