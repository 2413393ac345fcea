/*
 * vault/hostkey.c - the SFTP server's SSH host key, made at vault init.
 *
 * The one place vault/ calls libssh: an Ed25519 key in the OpenSSH private
 * key format, which ssh_bind loads, written 0600 through fsx_write_atomic
 * (never through libssh's own file writer, whose mode follows the umask).
 */
#include <stdio.h>
#include <string.h>

#include <libssh/libssh.h>

#include "common/fsx.h"
#include "common/log.h"
#include "vault/internal.h"
#include "common/banned.h"

enum err
vault_hostkey_create(const char *path)
{
	enum err r = ERR_CRYPTO;
	ssh_key key = NULL;
	char *b64 = NULL;
	char pub_path[VAULT_PATH_MAX];
	char *pub = NULL;
	struct bytes line;

	bytes_init(&line, 4096);
	if (ssh_pki_generate(SSH_KEYTYPE_ED25519, 0, &key) != SSH_OK ||
	    ssh_pki_export_privkey_base64(key, NULL, NULL, NULL, &b64) !=
	        SSH_OK) {
		log_err("cannot generate the SSH host key");
		goto out;
	}
	if ((r = fsx_write_atomic(path, span_str(b64), 0600)) != ERR_OK)
		goto out;
	/* The public half, for operators (fingerprints, known_hosts). */
	if (ssh_pki_export_pubkey_base64(key, &pub) != SSH_OK) {
		r = ERR_CRYPTO;
		goto out;
	}
	if ((r = bytes_printf(&line, "ssh-ed25519 %s kura\n", pub)) != ERR_OK)
		goto out;
	if ((size_t)snprintf(pub_path, sizeof(pub_path), "%s.pub", path) >=
	    sizeof(pub_path)) {
		r = ERR_TOO_BIG;
		goto out;
	}
	r = fsx_write_atomic(pub_path, bytes_span(&line), 0600);
out:
	if (b64 != NULL) {
		mem_wipe(b64, strlen(b64));
		ssh_string_free_char(b64);
	}
	ssh_string_free_char(pub);
	ssh_key_free(key);
	bytes_release(&line);
	return r;
}
