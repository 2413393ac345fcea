/*
 * intake/messages.c - the problem codes (a stable vocabulary: append,
 * never rename) and their messages, Japanese and English. Each message
 * says what is wrong and what to do; "{}" is replaced by the detail of
 * the occurrence. docs/problems.md lists the same table.
 */
#include <stdlib.h>
#include <string.h>

#include "intake/check_int.h"
#include "common/banned.h"

const struct problem_def intake_problem_defs[] = {
    {"zip.unreadable", true,
        "ZIPファイルとして読み取れません（{}"
        "）。ファイルが壊れているか途中で切れています。"
        "エクスプローラーの「送る→圧縮(zip形式)"
        "フォルダー」で作り直して、もう一度送ってください。",
        "The file cannot be read as a ZIP archive ({}): it is corrupt or "
        "truncated. Create it again (Explorer: Send to > Compressed (zipped) "
        "folder) and upload it again."},
    {"zip.empty", true,
        "ZIPファイルに書類が入っていません。提出する書類をすべて入れて作り直し"
        "てください。",
        "The ZIP archive holds no documents. Put every document of the "
        "submission into it and create it again."},
    {"zip.inconsistent", true,
        "ZIPファイルの構造に矛盾があります（{}"
        "）。改ざんまたは破損の可能性があります。"
        "標準の圧縮ツールで作り直してください。",
        "The ZIP archive's structure is inconsistent ({}): it may be "
        "tampered with or damaged. Create it again with a standard tool."},
    {"zip.encrypted", true,
        "パスワード付き（暗号化された）ZIPは受け付けられません。パスワードを付"
        "けずに圧縮し直してください"
        "（通信は暗号化されています）。",
        "Password-protected (encrypted) ZIP archives are not accepted. "
        "Compress the documents again without a password (the transfer is "
        "already encrypted)."},
    {"zip.path_traversal", true,
        "ZIP内のパスが不正です（{}"
        "）。フォルダーを使わず、書類を直接（または1つのフォルダーにまとめて）"
        "圧縮してください。",
        "A path inside the ZIP is not allowed ({}). Put the documents at the "
        "top level (or inside one single folder) without sub-folders."},
    {"zip.link", true,
        "通常のファイルではない項目（シンボリックリンク等）が含まれています。実"
        "際のファイルだけを入れてください。",
        "The archive holds an entry that is not a regular file (symbolic "
        "link, device...). Include only the real files."},
    {"zip.duplicate_name", true,
        "同じ名前のファイルが複数あります（大文字・小文字や全角・半角の違いは同"
        "じとみなします）。重複を削除してください。",
        "Two files have the same name (ignoring case and width). Remove the "
        "duplicate."},
    {"zip.bomb", true,
        "展開後のサイズまたは圧縮率が上限を超えています（{}"
        "）。書類の内容を確認し、必要なファイルだけを送ってください。",
        "The archive expands beyond the limits ({}). Check the documents "
        "and send only the files that are needed."},
    {"zip.too_many_files", true,
        "ファイル数が多すぎます（{}"
        "）。1回の提出は上限以内にしてください。添付資料をまとめるなどしてくだ"
        "さい。",
        "Too many files ({}). Keep one submission within the limit, for "
        "example by combining attachments."},
    {"name.encoding", true,
        "ファイル名の文字コードを読み取れません。ファイル名を付け直して（Window"
        "sの標準機能で）圧縮し直してください。",
        "The file name's encoding cannot be read. Rename the file and "
        "compress again (with Windows' built-in tool)."},
    {"name.invalid_character", true,
        "ファイル名に使えない文字や名前があります（{}"
        "）。ファイル名を変更してください。",
        "The file name contains a character or form that is not allowed "
        "({}). Rename the file."},
    {"name.too_long", true,
        "ファイル名が長すぎます（{}"
        "）。半角143文字・全角47文字以内に短くしてください。",
        "The file name is too long ({}). Shorten it to at most 143 ASCII or "
        "47 Japanese characters."},
    {"name.no_number", true,
        "ファイル名の先頭に資料番号がありません。内訳書に記載した資料番号をファ"
        "イル名の先頭に付けてください（例: 03_会社概要.pdf）。",
        "The file name does not begin with a document number. Put the "
        "number listed in the inventory at the start of the name (e.g. "
        "03_overview.pdf)."},
    {"number.not_in_inventory", true,
        "ファイル名の資料番号（{}"
        "）が内訳書にありません。内訳書に記載するか、ファイル名の番号を直してく"
        "ださい。",
        "The document number in the file name ({}) is not in the inventory. "
        "Add it to the inventory or correct the file name."},
    {"number.missing_file", true,
        "内訳書に記載された電子資料（{}"
        "）のファイルがありません。ファイルを追加するか、紙で提出する場合は媒体"
        "を「紙」にしてください。",
        "The inventory lists an electronic document ({}) but no file has "
        "that number. Add the file, or mark its medium 紙 if it is sent on "
        "paper."},
    {"number.duplicate", true,
        "同じ資料番号（{}"
        "）が複数あります。資料番号は1つのファイルにつき1つにしてください。",
        "The same document number ({}) is used more than once. Give each "
        "file its own number."},
    {"inventory.missing", true,
        "提出書類及び資料内訳書（ファイル名に「内訳書」を含む "
        ".xlsx）がありません。内訳書を追加してください。",
        "The inventory (提出書類及び資料内訳書: an .xlsx whose name contains "
        "内訳書) is missing. Add it."},
    {"inventory.unreadable", true,
        "内訳書を読み取れません（{}"
        "）。様式どおり「資料番号」「資料名称」の列がある Excel (.xlsx) "
        "で保存してください。",
        "The inventory cannot be read ({}). Save it as an Excel workbook "
        "(.xlsx) with the columns 資料番号 and 資料名称 as in the template."},
    {"docs.missing_required", true,
        "必要な書類がありません: {}。追加してもう一度提出してください。",
        "A required document is missing: {}. Add it and submit again."},
    {"format.not_allowed", true,
        "受け付けられないファイル形式です（{}）。PDF・Excel (.xlsx)・Word "
        "(.docx) だけを提出してください"
        "（.doc/.xls は新しい形式で保存し直してください）。",
        "This file type is not accepted ({}). Submit only PDF, Excel "
        "(.xlsx) and Word (.docx) files (save .doc/.xls files in the new "
        "format)."},
    {"format.mismatch", true,
        "ファイルの内容が拡張子または書類の種類と一致しません（{}"
        "）。正しい形式で保存し直してください。",
        "The file's content does not match its extension or the kind of "
        "document ({}). Save it again in the right format."},
    {"format.macro", true,
        "マクロを含むファイルは受け付けられません。マクロなしの形式（.xlsx/"
        ".docx）で保存し直してください。",
        "Files with macros are not accepted. Save the file again without "
        "macros (.xlsx/.docx)."},
    {"format.encrypted", true,
        "パスワードで保護されたファイルは審査で開けません。パスワードを解除して"
        "保存し直してください。",
        "The file is password-protected and the reviewers cannot open it. "
        "Remove the password and save it again."},
    {"format.unopenable", true,
        "ファイルが壊れているため開けません（{}"
        "）。元のアプリケーションで保存し直してください。",
        "The file is corrupt and cannot be opened ({}). Save it again from "
        "the original application."},
    {"name.title_mismatch", false,
        "ファイル名の資料名が内訳書の資料名称（{}"
        "）と異なります。問題なければそのままで構いません。",
        "The title in the file name differs from the inventory's 資料名称 "
        "({}). Nothing to do if this is intended."},
    {"zip.os_metadata_ignored", false,
        "OSが自動で作るファイル（__MACOSX、.DS_Store、Thumbs.db "
        "など）は無視しました。対応は不要です。",
        "Files the operating system adds (__MACOSX, .DS_Store, Thumbs.db...) "
        "were ignored. Nothing to do."},
};
const size_t intake_problem_ndefs =
    sizeof(intake_problem_defs) / sizeof(intake_problem_defs[0]);

static enum err
fill(const char *tmpl, const char *detail, char **out)
{
	struct bytes b;
	const char *at = strstr(tmpl, "{}");
	enum err r;

	bytes_init(&b, 1u << 16);
	if (at == NULL) {
		r = bytes_put_str(&b, tmpl);
	} else if ((r = bytes_put(&b, tmpl, (size_t)(at - tmpl))) == ERR_OK &&
	           (r = bytes_put_str(&b, detail != NULL ? detail : "")) ==
	               ERR_OK) {
		r = bytes_put_str(&b, at + 2);
	}
	if (r == ERR_OK && b.p == NULL)
		r = bytes_put(&b, "", 0);
	if (r != ERR_OK) {
		bytes_release(&b);
		return r;
	}
	*out = (char *)bytes_take(&b, NULL);
	return *out != NULL ? ERR_OK : ERR_NOMEM;
}

enum err
rep_problem(struct intake_report *rep, const char *code, const char *file,
    const char *detail_ja, const char *detail_en)
{
	const struct problem_def *d = NULL;
	struct intake_problem *p;
	enum err r;

	for (size_t i = 0; i < intake_problem_ndefs; i++)
		if (strcmp(intake_problem_defs[i].code, code) == 0)
			d = &intake_problem_defs[i];
	INVARIANT(d != NULL);
	/* Bounded: a hostile archive cannot make the report huge. */
	if (rep->nproblems >= 1000)
		return ERR_OK;
	if (rep->nproblems == rep->problems_cap) {
		size_t ncap = rep->problems_cap ? rep->problems_cap * 2 : 16;
		struct intake_problem *np = calloc(ncap, sizeof(*np));

		if (np == NULL)
			return ERR_NOMEM;
		if (rep->nproblems > 0)
			memcpy(np, rep->problems, rep->nproblems * sizeof(*np));
		free(rep->problems);
		rep->problems = np;
		rep->problems_cap = ncap;
	}
	p = &rep->problems[rep->nproblems];
	memset(p, 0, sizeof(*p));
	p->code = d->code;
	p->error = d->error;
	if ((p->file = strdup(file != NULL ? file : "")) == NULL)
		return ERR_NOMEM;
	if ((r = fill(d->ja, detail_ja, &p->message_ja)) != ERR_OK ||
	    (r = fill(d->en, detail_en != NULL ? detail_en : detail_ja,
	         &p->message_en)) != ERR_OK) {
		free(p->file);
		free(p->message_ja);
		memset(p, 0, sizeof(*p));
		return r;
	}
	rep->nproblems++;
	if (d->error)
		rep->accept = false;
	return ERR_OK;
}
