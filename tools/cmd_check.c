/*
 * tools/cmd_check.c - `kura check FILE.zip`: the submission validator,
 * offline (the SFTP intake runs the same code on every upload).
 * Exit 0 accept, 1 reject, 2 cannot run.
 */
#include <stdio.h>
#include <string.h>

#include "common/config.h"
#include "intake/intake.h"
#include "tools/cmd.h"
#include "common/banned.h"

static const char usage[] =
    "usage: kura check FILE.zip [--type new|renewal|change|termination]\n"
    "                  [--json] [--lang ja|en] [--config kura.conf]\n"
    "\n"
    "提出前のZIPファイルを検査します（ファイル名・資料番号・書類の形式・危険なZ"
    "IP）。\n"
    "Checks a submission ZIP before upload: names, document numbers,\n"
    "formats and hostile archives. Nothing is extracted to disk.\n"
    "\n"
    "  --type T       submission type (default: inferred from the documents)\n"
    "  --json         print one JSON object (verdict, type, zip, documents,\n"
    "                 problems)\n"
    "  --lang ja|en   language of the text report (default ja: Japanese\n"
    "                 first, then English)\n"
    "  --config FILE  read limits.* from a kura.conf\n"
    "\n"
    "exit status: 0 accepted (warnings possible), 1 rejected, 2 cannot run\n";

int
cmd_check(struct kura_ctx *ctx, int argc, char **argv)
{
	struct intake_check_opts o;
	struct intake_report *rep = NULL;
	struct bytes out;
	const char *file = NULL, *lang = "ja", *conf = NULL;
	bool json = false;
	enum err r;
	int rc = 2;

	(void)ctx;
	if (cmd_wants_help(argc, argv)) {
		fputs(usage, stdout);
		return 0;
	}
	intake_check_opts_default(&o);
	for (int i = 1; i < argc; i++) {
		if (strcmp(argv[i], "--json") == 0) {
			json = true;
		} else if (strcmp(argv[i], "--type") == 0 && i + 1 < argc) {
			if (intake_type_parse(argv[++i], &o.type) != ERR_OK)
				return cmd_usage_error(usage,
				    "unknown type '%s'", argv[i]);
		} else if (strncmp(argv[i], "--type=", 7) == 0) {
			if (intake_type_parse(argv[i] + 7, &o.type) != ERR_OK)
				return cmd_usage_error(usage,
				    "unknown type '%s'", argv[i] + 7);
		} else if (strcmp(argv[i], "--lang") == 0 && i + 1 < argc) {
			lang = argv[++i];
			if (strcmp(lang, "ja") != 0 && strcmp(lang, "en") != 0)
				return cmd_usage_error(usage,
				    "unknown language '%s'", lang);
		} else if (strcmp(argv[i], "--config") == 0 && i + 1 < argc) {
			conf = argv[++i];
		} else if (argv[i][0] == '-' && argv[i][1] != 0) {
			return cmd_usage_error(usage, "unknown option %s",
			    argv[i]);
		} else if (file == NULL) {
			file = argv[i];
		} else {
			return cmd_usage_error(usage, "one file at a time");
		}
	}
	if (file == NULL)
		return cmd_usage_error(usage, "no file given");
	if (conf != NULL) {
		struct config *c = NULL;

		if (config_load(conf, &c) != ERR_OK ||
		    intake_limits_from_config(c, &o.limits) != ERR_OK) {
			config_free(c);
			fprintf(stderr, "kura: cannot use %s\n", conf);
			return 2;
		}
		config_free(c);
	}
	if ((r = intake_check_file(file, &o, &rep)) != ERR_OK) {
		fprintf(stderr,
		    "kura: ファイルを読めません / cannot read %s: %s\n", file,
		    err_str(r));
		return 2;
	}
	bytes_init(&out, 64u << 20);
	r = json ? intake_report_json(rep, &out)
	         : intake_report_text(rep, lang, &out);
	if (r == ERR_OK && json)
		r = bytes_put_str(&out, "\n");
	if (r == ERR_OK && out.len > 0 &&
	    fwrite(out.p, 1, out.len, stdout) == out.len && fflush(stdout) == 0)
		rc = rep->accept ? 0 : 1;
	else
		fprintf(stderr, "kura: cannot write the report: %s\n",
		    err_str(r));
	bytes_release(&out);
	intake_report_free(rep);
	return rc;
}
