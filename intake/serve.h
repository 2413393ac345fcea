/*
 * intake/serve.h - the SFTP intake server (`kura serve`): the server's part
 * of the intake module's public interface.
 *
 * One listening process accepts connections and forks one process per
 * connection; each child runs libssh (key exchange, password or public-key
 * authentication against the vault's accounts), offers only the `sftp`
 * subsystem, and serves the applicant's virtual tree. No path from a
 * client is ever used as a host path: intake_vpath_resolve() maps every
 * client path, component by component, onto a small fixed tree, and uploads
 * are stored under names of our own in VAULT/staging/, encrypted as they
 * arrive. The server never loads a secret decryption key.
 */
#ifndef INTAKE_SERVE_H
#define INTAKE_SERVE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "common/bytes.h"
#include "common/err.h"

#define INTAKE_VPATH_MAX 1024 /* longest client path we look at */
#define INTAKE_VNAME_MAX 255  /* longest component, bytes */
#define INTAKE_CERT_MAX  64   /* longest 認定番号 */

/* The upload folders; the type of a submission comes from its folder. */
enum intake_folder {
	INTAKE_FOLDER_NEW,
	INTAKE_FOLDER_RENEWAL,
	INTAKE_FOLDER_CHANGE,
	INTAKE_FOLDER_TERMINATION,
};

/* What a client path names in the virtual tree. */
enum intake_vnode {
	INTAKE_VN_NONE,    /* nothing can exist there */
	INTAKE_VN_ROOT,    /* "/" */
	INTAKE_VN_README,  /* "/README.txt" */
	INTAKE_VN_KINDDIR, /* "/renewal", "/change", "/termination" */
	INTAKE_VN_UPDIR,   /* "/new" or "/renewal/<認定番号>" ... */
	INTAKE_VN_UPFILE,  /* a file name inside an upload folder */
	INTAKE_VN_RESULTS, /* "/results" */
	INTAKE_VN_RESULT,  /* "/results/<name>" */
};

struct intake_vpath {
	enum intake_vnode kind;
	enum intake_folder folder;        /* KINDDIR, UPDIR, UPFILE */
	char cert[INTAKE_CERT_MAX + 1];   /* 認定番号 for non-new folders */
	char name[INTAKE_VNAME_MAX + 1];  /* UPFILE, RESULT */
	char canon[INTAKE_VPATH_MAX + 1]; /* canonical absolute path */
};

/*
 * Resolves a client path (relative paths start at "/"): splits it on '/',
 * skips "" and ".", lets ".." go up (never above "/"), and rejects any
 * component that is not valid UTF-8, holds a control character or a
 * backslash, or is longer than INTAKE_VNAME_MAX bytes (ERR_INVALID).
 * A path that is well formed but names nothing gets kind INTAKE_VN_NONE.
 * The result says nothing about whether the node exists for an account
 * (a linked 認定番号, an upload, a result): the caller checks that.
 */
MUST_CHECK enum err intake_vpath_resolve(const char *in,
    struct intake_vpath *out);
/* "new", "renewal", "change", "termination": the type `kura check` takes. */
const char *intake_folder_name(enum intake_folder f);
/* True for names clients use while uploading (WinSCP's NAME.filepart). */
bool intake_name_is_temporary(const char *name);

struct intake_serve_opts {
	const char *vault_dir;
	const char *listen; /* "ADDR:PORT"; NULL: kura.conf, 127.0.0.1:2222 */
	/* Written once listening (tests, `kura demo`); may be NULL. */
	void (*on_listening)(const char *addr, const char *fingerprint,
	    void *arg);
	void *arg;
};

/*
 * Runs the server until SIGTERM or SIGINT; then stops accepting, ends
 * every session (uploads in flight are not accepted), and returns ERR_OK.
 */
MUST_CHECK enum err intake_serve(const struct intake_serve_opts *o);

/*
 * The SSH host key's SHA-256 fingerprint ("SHA256:...", as OpenSSH prints
 * it) and its public key line, for publication to applicants. Creates an
 * Ed25519 host key under VAULT/keys/ when there is none yet.
 */
MUST_CHECK enum err intake_hostkey(const char *vault_dir, struct bytes *fp,
    struct bytes *publine);

#endif /* INTAKE_SERVE_H */
