#!/usr/bin/env python3
"""tests/gen/kuragen.py - builds a ZIP submission for every problem code of
`kura check` (issue 3) and for every accepted variant, and a manifest.

    python3 tests/gen/kuragen.py OUTDIR        # OUTDIR/*.zip + manifest.json
    python3 tests/gen/kuragen.py OUTDIR --list # names only
    python3 tests/gen/kuragen.py OUTDIR --selftest  # check own output

Each manifest entry:
  name      case id; the ZIP is OUTDIR/<name>.zip (or "file" when given)
  args      extra arguments for `kura check` (e.g. ["--type", "renewal"])
  verdict   "accept" | "reject"; exit 0 | 1
  type      the submission type kura must report (given or inferred)
  codes     error codes that must all be reported
  any_of    lists of codes of which at least one must be reported each
  warnings  warning codes that must be reported (accepted cases: exactly)
  also_ok   further error codes that are tolerated (consequences)
  documents for accepted cases: what kura must list (number, NFC name,
            raw_name_hex, sha256, size, role)
  xfail     reason, when the case is a known failure of the validator
  rule      the rule of RULES.md / issue 3 the case exercises

Standard library only; the same bytes on every run.
"""
import hashlib
import json
import os
import random
import struct
import sys
import unicodedata
import zlib

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import docs  # noqa: E402
import zipw  # noqa: E402
from zipw import Entry  # noqa: E402

NFC = lambda s: unicodedata.normalize("NFC", s)  # noqa: E731
NFD = lambda s: unicodedata.normalize("NFD", s)  # noqa: E731

TYPES = ("new", "renewal", "change", "termination")
WRAP = "提出書類"

# Known failures of the validator: case name -> reason. Filled in when a
# test fails because `kura check` is wrong (never to hide a test bug).
XFAIL = {}


# ------------------------------------------------------------ documents --

class Doc:
    """A document of a submission: number, title, role, extension."""

    def __init__(self, number, title, role, ext, data=None, medium="電子",
                 fname=None, listed=True, list_title=None):
        self.number = number
        self.title = title
        self.role = role
        self.ext = ext
        self.medium = medium
        self.listed = listed
        self.list_title = title if list_title is None else list_title
        self.fname = fname or "%s_%s.%s" % (number, title, ext)
        self.data = data

    def copy(self, **kw):
        d = Doc(self.number, self.title, self.role, self.ext, self.data,
                self.medium, self.fname, self.listed, self.list_title)
        for k, v in kw.items():
            setattr(d, k, v)
        return d


def form_a():
    return docs.docx(["申請書A（様式1）", "サービス名称: くらクラウド",
                      "事業者名: 株式会社サンプル",
                      "所在地: 東京都千代田区1-1-1"])


def form_b():
    return docs.xlsx([("申請書B", [["項目", "申請内容"],
                                   ["サービス名称", "くらクラウド"],
                                   ["事業者名", "株式会社サンプル"],
                                   ["データセンター所在地", "日本国内"]])])


def change_list():
    return docs.xlsx([("変更箇所", [["番号", "変更箇所", "変更前", "変更後"],
                                   [1, "所在地", "大阪府", "東京都"]])])


def mark_use():
    return docs.xlsx([("報告", [["認定マークの適正使用報告"],
                                ["使用媒体", "ウェブサイト"],
                                ["適正使用", "はい"]])])


def change_form():
    return docs.docx(["変更届出書", "認定番号: AI00122211",
                      "変更内容: 事業所の移転"])


def termination_form():
    return docs.docx(["認定サービス終了届出書", "認定番号: AI00122211",
                      "終了予定日: 2026年9月30日"])


def attachment(title):
    return docs.pdf(title, ["kura test attachment", "number of lines: 2"])


def type_docs(t):
    """The standard documents of a submission type (R1), inventory
    first. Paper rows (medium 紙) have no file."""
    if t == "new":
        ds = [Doc("01", docs.INVENTORY_TITLE, "inventory", "xlsx"),
              Doc("02", "申請書A", "form_a", "docx", form_a()),
              Doc("03", "申請書B", "form_b", "xlsx", form_b()),
              Doc("04", "情報セキュリティ基本方針", "attachment", "pdf"),
              Doc("05", "ソフトウェア構成表", "attachment", "pdf"),
              Doc("06", "登記事項証明書", "attachment", "pdf", medium="紙")]
    elif t == "renewal":
        ds = [Doc("01", docs.INVENTORY_TITLE, "inventory", "xlsx"),
              Doc("02", "申請書A", "form_a", "docx", form_a()),
              Doc("03", "申請書B", "form_b", "xlsx", form_b()),
              Doc("04", "変更箇所一覧表", "change_list", "xlsx", change_list()),
              Doc("05", "認定マークの適正使用報告", "mark_use", "xlsx",
                  mark_use()),
              Doc("06", "情報セキュリティ基本方針", "attachment", "pdf")]
    elif t == "change":
        ds = [Doc("01", "変更届出書", "change_form", "docx", change_form()),
              Doc("02", "申請書B", "form_b", "xlsx", form_b()),
              Doc("03", docs.INVENTORY_TITLE, "inventory", "xlsx"),
              Doc("04", "変更箇所一覧表", "change_list", "xlsx", change_list()),
              Doc("05", "運用体制図", "attachment", "pdf")]
    elif t == "termination":
        ds = [Doc("01", "認定サービス終了届出書", "termination_form", "docx",
                  termination_form())]
    else:
        raise ValueError(t)
    for d in ds:
        if d.data is None and d.ext == "pdf":
            d.data = attachment(d.title)
    return ds


def inventory_rows(ds):
    return [(d.number, d.list_title, d.medium) for d in ds if d.listed]


def fill_inventory(ds, **kw):
    """Builds the inventory workbook's bytes from the documents' list."""
    for d in ds:
        if d.role == "inventory" and d.data is None:
            d.data = docs.inventory(inventory_rows(ds), **kw)
    return ds


# ------------------------------------------------------------- variants --

APPLEDOUBLE = (struct.pack(">IIB", 0x00051607, 0x00020000, 0) + b"\0" * 15 +
               struct.pack(">H", 0))
DS_STORE = b"\0\0\0\1Bud1" + b"\0" * 24
DESKTOP_INI = "[.ShellClassInfo]\r\nIconResource=shell32.dll,4\r\n".encode(
    "utf-16")


def encode_name(name, enc):
    """Entry name bytes and the UTF-8 flag for an encoding variant."""
    if enc == "utf8":
        raw = name.encode("utf-8")
        return raw, any(b >= 0x80 for b in raw)
    if enc == "utf8_noflag":
        return name.encode("utf-8"), False
    if enc == "cp932":
        raw = name.encode("cp932")
        try:
            raw.decode("utf-8")
            valid_utf8 = True
        except UnicodeDecodeError:
            valid_utf8 = False
        # a CP932 name that is also valid UTF-8 would be read as UTF-8
        assert not valid_utf8 or raw.isascii(), name
        return raw, False
    if enc == "nfd":
        raw = NFD(name).encode("utf-8")
        return raw, True
    if enc == "nfd_noflag":
        return NFD(name).encode("utf-8"), False
    raise ValueError(enc)


def submission(ds, variant="utf8", meta=False, wrap=None, wrap_dir=True,
               inv_kw=None):
    """Entries of a submission. Returns (entries, expected documents)."""
    fill_inventory(ds, **(inv_kw or {}))
    enc = {"cp932_upath": "cp932", "wrap_cp932": "cp932",
           "macos_wrap": "nfd"}.get(variant, variant)
    if enc not in ("utf8", "utf8_noflag", "cp932", "nfd", "nfd_noflag"):
        enc = "utf8"
    if variant in ("wrap", "wrap_nodir", "wrap_cp932", "macos_wrap"):
        wrap = WRAP
        wrap_dir = variant != "wrap_nodir"
    kw = {}
    if variant in ("descriptor", "descriptor_nosig"):
        kw["descriptor"] = True
        kw["desc_sig"] = variant == "descriptor"
    if variant in ("zip64", "zip64_stream"):
        kw["zip64"] = True
        kw["descriptor"] = variant == "zip64_stream"
    if variant == "stored":
        kw["method"] = 0
    if variant in ("unix_mode", "macos_wrap"):
        kw["mode"] = zipw.S_IFREG | 0o644
    entries = []
    expected = []
    prefix = ""
    if wrap:
        prefix = wrap + "/"
        if wrap_dir:
            raw, flag = encode_name(prefix, enc)
            dkw = {"mode": zipw.S_IFDIR | 0o755} if "mode" in kw else {}
            entries.append(Entry(raw, b"", method=0, utf8=flag, is_dir=True,
                                 **dkw))
    for d in ds:
        if d.medium == "紙" or d.data is None:
            continue
        full = prefix + d.fname
        raw, flag = encode_name(full, enc)
        extra = b""
        if variant == "cp932_upath":
            extra = zipw.unicode_path_extra(raw, full.encode("utf-8"))
        e = Entry(raw, d.data, utf8=flag, extra=extra, **kw)
        entries.append(e)
        expected.append({
            "number": d.number, "name": NFC(d.fname), "role": d.role,
            "raw_name_hex": raw.hex(),
            "raw_leaf_hex": encode_name(d.fname, enc)[0].hex(),
            "size": len(d.data),
            "sha256": hashlib.sha256(d.data).hexdigest()})
    if meta or variant in ("macos", "macos_wrap"):
        entries += macos_meta(ds, prefix, enc)
    if variant == "windows_meta":
        entries += [Entry(prefix + "Thumbs.db", docs.cfb([("Catalog",
                                                            b"\0" * 64)])),
                    Entry(prefix + "desktop.ini", DESKTOP_INI)]
    return entries, expected


def macos_meta(ds, prefix, enc):
    """What macOS Finder's "Compress" adds: __MACOSX/ AppleDouble files
    and .DS_Store."""
    out = [Entry("__MACOSX/", b"", method=0, is_dir=True,
                 mode=zipw.S_IFDIR | 0o755)]
    if prefix:
        raw, flag = encode_name("__MACOSX/" + prefix, enc)
        out.append(Entry(raw, b"", method=0, utf8=flag, is_dir=True,
                         mode=zipw.S_IFDIR | 0o755))
    for d in ds:
        if d.medium == "紙" or d.data is None:
            continue
        raw, flag = encode_name("__MACOSX/" + prefix + "._" + d.fname, enc)
        out.append(Entry(raw, APPLEDOUBLE, utf8=flag,
                         mode=zipw.S_IFREG | 0o644))
    out.append(Entry(prefix + ".DS_Store", DS_STORE,
                     mode=zipw.S_IFREG | 0o644))
    return out


# ---------------------------------------------------------------- cases --

CASES = []



def case(name, data, verdict, typ=None, codes=(), any_of=(), warnings=(),
         also_ok=(), documents=None, args=(), rule="", ext="zip"):
    exit_code = {"accept": 0, "reject": 1, "either": None}[verdict]
    CASES.append({
        "name": name, "file": name + "." + ext, "data": data,
        "args": list(args), "verdict": verdict, "exit": exit_code,
        "type": typ, "codes": list(codes),
        "any_of": [list(a) for a in any_of], "warnings": list(warnings),
        "also_ok": sorted(set(also_ok)), "documents": documents,
        "rule": rule, "xfail": XFAIL.get(name), "entries": None})


def accept(name, entries, expected, typ, warnings=(), args=(), rule="",
           **build_kw):
    case(name, zipw.build(entries, **build_kw), "accept", typ=typ,
         warnings=warnings, documents=expected, args=args, rule=rule)
    CASES[-1]["entries"] = len(entries)


def reject(name, entries, codes=(), typ=None, any_of=(), also_ok=(),
           args=(), rule="", **build_kw):
    data = entries if isinstance(entries, bytes) else zipw.build(entries,
                                                                 **build_kw)
    case(name, data, "reject", typ=typ, codes=codes, any_of=any_of,
         also_ok=also_ok, args=args, rule=rule)


# Consequences that an error case may legitimately also report.
NUMBER_FALLOUT = ("number.missing_file", "docs.missing_required",
                  "number.not_in_inventory")
FORMAT_ANY = ("format.not_allowed", "format.mismatch", "format.unopenable",
              "format.macro", "format.encrypted")


def std(t="new", variant="utf8", **kw):
    return submission(type_docs(t), variant, **kw)


def doc_index(ds, number):
    return next(i for i, d in enumerate(ds) if d.number == number)


def gen_accepted():
    variants = ["utf8", "utf8_noflag", "cp932", "cp932_upath", "nfd",
                "nfd_noflag", "descriptor", "descriptor_nosig", "zip64",
                "zip64_stream", "stored", "wrap", "wrap_nodir", "wrap_cp932",
                "macos", "macos_wrap", "windows_meta", "unix_mode"]
    for t in TYPES:
        for v in variants:
            ents, exp = std(t, v)
            warn = ("zip.os_metadata_ignored",) if v in (
                "macos", "macos_wrap", "windows_meta") else ()
            accept("ok-%s-%s" % (t, v), ents, exp, t, warnings=warn,
                   rule="R1 R4 accepted variant %s" % v)
        if t != "termination":
            ents, exp = std(t, "utf8", inv_kw={"shared": False})
            accept("ok-%s-inline-strings" % t, ents, exp, t,
                   rule="inventory with inline strings")
            ents, exp = std(t, "cp932")
            accept("ok-%s-typed" % t, ents, exp, t, args=["--type", t],
                   rule="--type given")
    # termination with an inventory too
    ds = type_docs("termination")
    ds.insert(0, Doc("00", docs.INVENTORY_TITLE, "inventory", "xlsx"))
    ents, exp = submission(ds)
    accept("ok-termination-with-inventory", ents, exp, "termination",
           rule="R1 termination")

    # Info-ZIP Unicode Path extra (0x7075): used when its CRC matches the
    # header name, ignored (the CP932 name is used) when it does not.
    ds = fill_inventory(type_docs("new"))
    ents, exp = submission(ds)
    for e, x in zip(ents, exp):
        real = x["name"].encode("utf-8")
        placeholder = real[:3] + b"_" * 8 + real[real.rindex(b"."):]
        e.name = placeholder
        e.utf8 = False
        e.extra = e.cd_extra = zipw.unicode_path_extra(placeholder, real)
        x["raw_name_hex"] = x["raw_leaf_hex"] = placeholder.hex()
    accept("ok-new-upath-names", ents, exp, "new",
           rule="name from the Unicode Path extra field (0x7075)")
    ents, exp = submission(ds, "cp932")
    for e in ents:
        e.extra = e.cd_extra = zipw.unicode_path_extra(
            e.name, "04_wrong-name.pdf".encode(), crc=0x12345678)
    accept("ok-new-upath-bad-crc", ents, exp, "new",
           rule="a 0x7075 field whose CRC does not match is ignored")
    ents, exp = std("new")
    accept("ok-new-archive-comment", ents, exp, "new",
           comment=("提出書類 2026年4月 " * 80).encode("utf-8")[:1717],
           rule="archive comment of 1,717 bytes")
    ents, exp = std("new")
    accept("ok-new-archive-comment-max", ents, exp, "new",
           comment=b"kura " * 13107,
           rule="archive comment of 65,535 bytes (the maximum)")
    ents, exp = std("new", "cp932")
    for e in ents:
        e.create_system = 10  # NTFS, as some Windows tools write
    accept("ok-new-ntfs-host", ents, exp, "new",
           rule="version made by NTFS, CP932 names")

    # CP932 beyond Shift_JIS: NEC/IBM extensions (㈱ ① Ⅱ) and Microsoft's
    # mappings (0x8160 -> U+FF5E ～, 0x817C -> U+FF0D －), half-width kana.
    ds = type_docs("new")
    for n, title in [("07", "㈱サンプル会社概要①Ⅱ"), ("08", "2026年4月～9月－計画"),
                     ("09", "ｾｷｭﾘﾃｨ監査報告")]:
        ds.append(Doc(n, title, "attachment", "pdf", attachment(title)))
    ents, exp = submission(ds, "cp932")
    accept("ok-new-cp932-extensions", ents, exp, "new",
           rule="R4 CP932 (not Shift_JIS): NEC/IBM rows, ～ －, half-width kana")
    # Type inference (issue 3 "Type"): the termination form wins.
    ds = type_docs("change") + [Doc("06", "認定サービス終了届出書",
                                    "termination_form", "docx",
                                    termination_form())]
    ents, exp = submission(ds)
    accept("ok-type-termination-wins", ents, exp, "termination",
           rule="termination form -> termination, whatever else is there")

    # Inventory layouts (issue 3 "Inventory").
    for nm, kw in [
        ("hdr-shiryobango", {"header": ("資料番号", "名称")}),
        ("hdr-no-row10", {"header": ("媒体", "No.", "資料名称"),
                          "header_row": 10}),
        ("hdr-row30", {"header_row": 30}),
        ("sheet-order", {"sheet_order": [2, 1], "extra_sheet": True}),
        ("inline-sheet-order", {"shared": False, "sheet_order": [3, 1],
                                "extra_sheet": True}),
    ]:
        ds = type_docs("new")
        if "媒体" not in kw.get("header", ("媒体",)):
            # without a medium column every row expects a file
            ds = [d for d in ds if d.medium != "紙"]
        ents, exp = submission(ds, inv_kw=kw)
        accept("ok-new-inv-" + nm, ents, exp, "new",
               rule="inventory header/sheet variant")
    # Numbers stored as numeric cells: 1, 2, 3 ... and names "1_...".
    ds = type_docs("new")
    for d in ds:
        d.number = str(int(d.number))
        d.fname = "%s_%s.%s" % (d.number, d.title, d.ext)
    ents, exp = submission(ds, inv_kw={"numbers_as_int": True})
    accept("ok-new-inv-numeric-cells", ents, exp, "new",
           rule="inventory numbers as numeric cells")

    # Exactly 10 files (R4), with and without OS metadata on top.
    def ten(extra_pdfs=7):
        ds = type_docs("new")[:3]
        for i in range(extra_pdfs):
            n = "%02d" % (4 + i)
            ds.append(Doc(n, "添付資料%d" % (i + 1), "attachment", "pdf",
                          attachment("添付資料%d" % (i + 1))))
        return ds
    ents, exp = submission(ten())
    assert len(exp) == 10
    accept("ok-new-exactly-10", ents, exp, "new", rule="R4 10 files")
    ents, exp = submission(ten(), meta=True)
    accept("ok-new-exactly-10-plus-metadata", ents, exp, "new",
           warnings=("zip.os_metadata_ignored",),
           rule="R4 metadata is not counted")
    ents, exp = submission(ten(8))
    reject("err-zip-too-many-files", ents, ["zip.too_many_files"], typ="new",
           rule="R4 11 files")
    ents, _ = submission(ten())
    for i in range(70000):
        ents.append(Entry("%05d_x.pdf" % (11 + i), b"", method=0))
    reject("err-zip-too-many-files-70000", ents, ["zip.too_many_files"],
           typ="new", zip64=True,
           also_ok=NUMBER_FALLOUT + FORMAT_ANY + ("name.title_mismatch",),
           rule="70,000 entries (Zip64 end record): memory stays bounded")

    # Separators, full-width numbers, longest match (issue 3 Numbering).
    ds = type_docs("new")
    ds[3].fname = "04-情報セキュリティ基本方針.pdf"
    ds[4].fname = "05 ソフトウェア構成表.pdf"
    ds.append(Doc("07", "運用手順書", "attachment", "pdf",
                  attachment("運用手順書"), fname="07\u3000運用手順書.pdf"))
    ds.append(Doc("08", "体制図", "attachment", "pdf", attachment("体制図"),
                  fname="08.体制図.pdf"))
    ents, exp = submission(ds)
    accept("ok-new-separators", ents, exp, "new",
           rule="R3 separators _ - space ideographic-space .")
    ds = type_docs("new")
    ds[1].fname = "０２_申請書A.docx"
    ds[3].fname = "０４＿情報セキュリティ基本方針.pdf"
    ents, exp = submission(ds)
    accept("ok-new-fullwidth-number", ents, exp, "new",
           rule="R3 NFKC number ０２ = 02")
    ds = type_docs("new")
    for n, title in [("04-1", "別紙1"), ("04-10", "別紙10")]:
        ds.append(Doc(n, title, "attachment", "pdf", attachment(title)))
    ents, exp = submission(ds)
    accept("ok-new-longest-number", ents, exp, "new",
           rule="R3 longest number wins (04-10 is not 04-1)")
    # Role from the inventory's name; full-width letter in the role word.
    ds = type_docs("new")
    ds[1].fname = "02_様式1.docx"
    ds[1].list_title = "申請書A"
    ents, exp = submission(ds)
    accept("ok-new-role-from-inventory", ents, exp, "new",
           warnings=("name.title_mismatch",),
           rule="role keyword in the inventory name; title mismatch warns")
    ds = type_docs("new")
    ds[1].title = ds[1].list_title = "申請書Ａ"
    ds[1].fname = "02_申請書Ａ.docx"
    ents, exp = submission(ds)
    accept("ok-new-role-fullwidth", ents, exp, "new",
           rule="role keyword after NFKC")
    ds = type_docs("new")
    ds[3].fname = "04_情報セキュリティ基本方針.PDF"
    ds[1].fname = "02_申請書A.DOCX"
    ents, exp = submission(ds)
    accept("ok-new-extension-case", ents, exp, "new",
           rule="extensions compare without case")
    # Title mismatch: a warning only (R3).
    ds = type_docs("new")
    ds[3].fname = "04_セキュリティ方針.pdf"
    ents, exp = submission(ds)
    accept("warn-name-title-mismatch", ents, exp, "new",
           warnings=("name.title_mismatch",), rule="R3 title mismatch")
    # Empty medium cell: a file is expected and present.
    ds = type_docs("new")
    ds[4].medium = None
    ents, exp = submission(ds)
    accept("ok-new-medium-empty", ents, exp, "new",
           rule="empty medium = electronic")

    # Name length (R3): 143 bytes after NFC accepted, 144 rejected.
    def named(fname, title):
        ds = type_docs("new")
        ds[3].fname = fname
        ds[3].title = ds[3].list_title = title
        return ds
    kanji = "情報資産管理規程" * 6  # 48 kanji to slice from
    kana = "ガギグゲゴザジズゼゾ" * 5
    samples = [
        ("ascii-143", "04_" + "a" * 136 + ".pdf", True),
        ("ascii-144", "04_" + "a" * 137 + ".pdf", False),
        ("ja-47chars", "04_" + kanji[:40] + ".pdf", True),
        ("ja-143", "04_" + kanji[:45] + "a.pdf", True),
        ("ja-144", "04_" + kanji[:45] + "ab.pdf", False),
        ("ja-145", "04_" + kanji[:46] + ".pdf", False),
        ("nfd-143", "04_" + kana[:45] + "a.pdf", True),
    ]
    for tag, fname, ok in samples:
        fname = NFC(fname)
        n = len(fname.encode("utf-8"))
        title = fname[3:-4]
        ds = named(fname, title)
        variant = "nfd" if tag.startswith("nfd") else "utf8"
        ents, exp = submission(ds, variant)
        rule = "R3 name of %d chars, %d bytes after NFC" % (len(fname), n)
        if ok:
            assert n <= 143
            accept("ok-name-len-" + tag, ents, exp, "new", rule=rule)
        else:
            assert n > 143
            reject("err-name-too-long-" + tag, ents, ["name.too_long"],
                   typ="new", rule=rule)


def gen_zip_errors():
    ents, _ = std()
    good = zipw.build(ents)
    # zip.unreadable
    reject("err-zip-unreadable-text", b"This is not a ZIP file.\n" * 20,
           ["zip.unreadable"], rule="not a ZIP")
    reject("err-zip-unreadable-zero-bytes", b"", any_of=[["zip.unreadable",
                                                          "zip.empty"]],
           rule="empty file")
    reject("err-zip-unreadable-truncated", good[:len(good) * 6 // 10],
           ["zip.unreadable"], rule="truncated")
    reject("err-zip-unreadable-truncated-eocd", good[:-10],
           ["zip.unreadable"], rule="truncated end record")
    ents, _ = std()
    e = ents[3]  # 04 pdf
    e.method = 0
    e.comp = bytearray(e.data)
    e.comp[len(e.comp) // 2] ^= 0x01
    e.comp = bytes(e.comp)
    reject("err-zip-unreadable-crc-stored", ents, ["zip.unreadable"],
           typ="new", also_ok=FORMAT_ANY, rule="CRC mismatch (stored)")
    ents, _ = std()
    ents[3].crc = zlib.crc32(ents[3].data) ^ 0xDEADBEEF
    reject("err-zip-unreadable-crc-deflate", ents, ["zip.unreadable"],
           typ="new", also_ok=FORMAT_ANY + ("zip.inconsistent",),
           rule="CRC mismatch (deflate, both headers agree)")
    ents, _ = std()
    ents[3].comp = bytes(range(256)) * 8
    reject("err-zip-unreadable-bad-deflate", ents, ["zip.unreadable"],
           typ="new", also_ok=FORMAT_ANY, rule="corrupt deflate data")
    ents, _ = std()
    ents[3].method = 77
    ents[3].comp = ents[3].data
    reject("err-zip-unreadable-unknown-method", ents, ["zip.unreadable"],
           typ="new", also_ok=FORMAT_ANY, rule="unknown compression method")

    # zip.empty
    reject("err-zip-empty-eocd", struct.pack("<IHHHHIIH", 0x06054B50, 0, 0,
                                             0, 0, 0, 0, 0), ["zip.empty"],
           rule="no entries")
    reject("err-zip-empty-dir-only", [Entry(WRAP + "/", b"", method=0,
                                            is_dir=True)], ["zip.empty"],
           also_ok=("inventory.missing", "docs.missing_required"),
           rule="only a folder")
    reject("err-zip-empty-metadata-only",
           [Entry("__MACOSX/", b"", method=0, is_dir=True),
            Entry(".DS_Store", DS_STORE), Entry("Thumbs.db", b"\0" * 64)],
           any_of=[["zip.empty", "inventory.missing"]],
           also_ok=("docs.missing_required",), rule="only OS metadata")

    # zip.inconsistent
    ents, _ = std()
    ents[3].lfh = {"name": "04_evil.exe".encode()}
    reject("err-zip-inconsistent-lfh-name", ents, ["zip.inconsistent"],
           typ="new", rule="local name differs from the CD")
    ents, _ = std()
    ents[3].lfh = {"usize": len(ents[3].data) + 1000}
    reject("err-zip-inconsistent-lfh-size", ents, ["zip.inconsistent"],
           typ="new", also_ok=("zip.unreadable",),
           rule="local size differs from the CD")
    ents, _ = std()
    ents[3].lfh = {"crc": 0x12345678}
    reject("err-zip-inconsistent-lfh-crc", ents, any_of=[[
        "zip.inconsistent", "zip.unreadable"]], typ="new",
        rule="local CRC differs from the CD")
    ents, _ = std()
    ents[3].lfh = {"method": 0}
    reject("err-zip-inconsistent-lfh-method", ents, any_of=[[
        "zip.inconsistent", "zip.unreadable"]], typ="new",
        also_ok=FORMAT_ANY, rule="local method differs from the CD")
    ents, _ = std()
    ents[3].cd = {"flags": 0x0801}
    reject("err-zip-inconsistent-cd-says-encrypted", ents,
           any_of=[["zip.inconsistent", "zip.encrypted"]], typ="new",
           also_ok=FORMAT_ANY + ("zip.unreadable",),
           rule="CD sets the encryption flag, the local header does not")
    ents, _ = std()
    ents[3].lfh = {"flags": 0x0801}
    reject("err-zip-inconsistent-lfh-says-encrypted", ents,
           any_of=[["zip.inconsistent", "zip.encrypted"]], typ="new",
           also_ok=FORMAT_ANY + ("zip.unreadable",),
           rule="local header sets the encryption flag, the CD does not")
    ents, _ = std()
    ents[3].descriptor = True
    ents[3].crc = zlib.crc32(ents[3].data)
    ents[3].cd = {"crc": zlib.crc32(ents[3].data) ^ 1}
    reject("err-zip-inconsistent-descriptor-crc", ents,
           any_of=[["zip.inconsistent", "zip.unreadable"]], typ="new",
           also_ok=FORMAT_ANY, rule="data descriptor CRC differs from the CD")
    ents, _ = std()
    reject("err-zip-inconsistent-prefix", ents, ["zip.inconsistent"],
           typ="new", prefix=b"MZ" + b"\x90" * 1022,
           rule="data before the first entry")
    ents, _ = std()
    reject("err-zip-inconsistent-gap", ents, ["zip.inconsistent"], typ="new",
           between={2: b"\0hidden payload\0" * 16},
           rule="unreferenced bytes between entries")
    ents, _ = std()
    hidden = Entry("07_hidden.exe", docs.elf())
    buf = zipw._Buf()
    w = zipw.Writer(buf)
    for i, e in enumerate(ents):
        w.add(e)
        if i == 2:
            w.add(hidden)
            w.entries.pop()  # written, but not in the central directory
    w.finish()
    reject("err-zip-inconsistent-hidden-entry", buf.value(),
           ["zip.inconsistent"], typ="new",
           rule="a local entry the CD does not reference")
    ents, _ = std()
    buf = zipw._Buf()
    w = zipw.Writer(buf)
    for e in ents:
        w.add(e)
    w.finish(count=len(ents) + 3)
    reject("err-zip-inconsistent-eocd-count", buf.value(), any_of=[[
        "zip.inconsistent", "zip.unreadable"]],
        rule="EOCD entry count differs from the CD")

    # zip.encrypted
    ents, _ = std()
    e = ents[3]
    e.method = 0
    e.flags_extra = zipw.FLAG_ENCRYPTED
    e.comp = zipw.zipcrypto_encrypt(e.data, b"12345678",
                                    (zlib.crc32(e.data) >> 24) & 0xFF)
    reject("err-zip-encrypted-zipcrypto", ents, ["zip.encrypted"], typ="new",
           also_ok=FORMAT_ANY, rule="ZipCrypto entry")
    ents, _ = std(variant="cp932")
    for e in ents:
        e.method = 0
        e.flags_extra = zipw.FLAG_ENCRYPTED
        e.comp = zipw.zipcrypto_encrypt(e.data, b"password",
                                        (zlib.crc32(e.data) >> 24) & 0xFF)
    reject("err-zip-encrypted-all-cp932", ents, ["zip.encrypted"],
           also_ok=FORMAT_ANY + ("inventory.unreadable",) + NUMBER_FALLOUT,
           rule="PPAP: every entry encrypted, CP932 names")
    ents, _ = std()
    e = ents[3]
    e.method = 99
    e.flags_extra = zipw.FLAG_ENCRYPTED
    e.extra = e.cd_extra = struct.pack("<HHHH", 0x9901, 7, 2, 0x4541) + \
        struct.pack("<BH", 3, 8)
    e.comp = hashlib.sha256(b"salt").digest()[:16] + b"\x12\x34" + \
        hashlib.sha512(e.data).digest() * 8 + b"\0" * 10
    reject("err-zip-encrypted-aes", ents, ["zip.encrypted"], typ="new",
           also_ok=FORMAT_ANY + ("zip.unreadable",), rule="WinZip AES entry")

    # zip.path_traversal
    pdfname = "04_情報セキュリティ基本方針.pdf"
    trav = [
        ("dotdot", "../" + pdfname),
        ("dotdot-deep", "../../../../tmp/" + pdfname),
        ("dotdot-inside", WRAP + "/../../" + pdfname),
        ("absolute", "/tmp/" + pdfname),
        ("backslash-dotdot", "..\\..\\" + pdfname),
        ("backslash-folder", "添付\\" + pdfname),
        ("drive-letter", "C:/Users/Public/" + pdfname),
        ("drive-relative", "C:" + pdfname),
        ("drive-backslash", "C:\\Windows\\" + pdfname),
        ("unc-backslash", "\\\\server\\share\\" + pdfname),
        ("unc-slash", "//server/share/" + pdfname),
        ("nested-dirs", "添付/別紙/" + pdfname),
        ("dot-segment", "./" + pdfname),
    ]
    for tag, path in trav:
        ents, _ = std()
        ents[3] = Entry(path, ents[3].data)
        reject("err-zip-path-traversal-" + tag, ents,
               ["zip.path_traversal"], typ="new",
               also_ok=NUMBER_FALLOUT + ("name.invalid_character",
                                         "name.no_number"),
               rule="R4 path %r" % path)
    ents, _ = std(wrap=WRAP)
    ents[4].name = (WRAP + "/添付/" + pdfname).encode()
    reject("err-zip-path-traversal-nested-in-wrapper", ents,
           ["zip.path_traversal"], typ="new", also_ok=NUMBER_FALLOUT,
           rule="folder inside the wrapping folder")
    ents, _ = std()
    for i, e in enumerate(ents):
        e.name = (("A/" if i < 3 else "B/") + e.name.decode()).encode()
    reject("err-zip-path-traversal-two-folders", ents,
           ["zip.path_traversal"], also_ok=NUMBER_FALLOUT + (
               "inventory.missing",), rule="two top-level folders")
    ents, _ = std()
    ents[4].name = ("添付/" + ents[4].name.decode()).encode()
    reject("err-zip-path-traversal-files-and-folder", ents,
           ["zip.path_traversal"], typ="new", also_ok=NUMBER_FALLOUT,
           rule="top-level files beside a folder")

    # zip.link: non-regular entries
    ents, _ = std()
    ents[3] = Entry(pdfname, b"/etc/passwd", mode=zipw.S_IFLNK | 0o777)
    reject("err-zip-link-symlink-document", ents, ["zip.link"], typ="new",
           also_ok=NUMBER_FALLOUT + FORMAT_ANY,
           rule="a document that is a symlink")
    for tag, mode, target in [
            ("symlink", zipw.S_IFLNK | 0o777, b"../../etc/shadow"),
            ("fifo", zipw.S_IFIFO | 0o644, b""),
            ("chardev", zipw.S_IFCHR | 0o644, b""),
            ("blockdev", zipw.S_IFBLK | 0o644, b""),
            ("socket", zipw.S_IFSOCK | 0o644, b"")]:
        ds = type_docs("new")
        ds.append(Doc("07", "参考資料", "attachment", "pdf", target))
        ents, _ = submission(ds)
        ents[-1] = Entry("07_参考資料.pdf", target, mode=mode)
        reject("err-zip-link-" + tag, ents, ["zip.link"], typ="new",
               also_ok=NUMBER_FALLOUT + FORMAT_ANY,
               rule="non-regular entry (%s)" % tag)

    # zip.duplicate_name
    ds = type_docs("new")
    ds.append(Doc("07", "Report", "attachment", "pdf", attachment("Report")))
    ents, _ = submission(ds)
    ents.append(Entry("07_REPORT.PDF", attachment("REPORT")))
    reject("err-zip-duplicate-name-case", ents, ["zip.duplicate_name"],
           typ="new", also_ok=("number.duplicate",),
           rule="equal after case folding")
    ds = type_docs("new")
    ds.append(Doc("07", "ガイド", "attachment", "pdf", attachment("ガイド")))
    ents, _ = submission(ds)
    ents.append(Entry(NFD("07_ガイド.pdf").encode(), attachment("ガイド2"),
                      utf8=True))
    reject("err-zip-duplicate-name-nfc", ents, ["zip.duplicate_name"],
           typ="new", also_ok=("number.duplicate",),
           rule="equal after NFC (NFD twin)")
    ents, _ = std()
    ents.append(Entry(pdfname, attachment("second copy")))
    reject("err-zip-duplicate-name-exact", ents, ["zip.duplicate_name"],
           typ="new", also_ok=("number.duplicate", "zip.inconsistent"),
           rule="the same name twice")
    ents, _ = std()
    ents.append(Entry(NFC("04_情報セキュリティ基本方針.pdf").encode("cp932"),
                      attachment("cp932 twin")))
    reject("err-zip-duplicate-name-cp932-utf8", ents, ["zip.duplicate_name"],
           typ="new", also_ok=("number.duplicate",),
           rule="the same name once UTF-8, once CP932")

    # zip.bomb
    zeros = b"%PDF-1.4\n" + b"\0" * (20 << 20)
    ents, _ = std()
    ents[3] = Entry(pdfname, zeros)
    reject("err-zip-bomb-ratio", ents, ["zip.bomb"], typ="new",
           also_ok=FORMAT_ANY, rule="20 MiB at ratio ~1000:1")
    ents, _ = std()
    ents[3] = Entry(pdfname, zeros)
    ents[3].lfh = {"usize": 4096}
    ents[3].cd = {"usize": 4096}
    reject("err-zip-bomb-declared-size-lies", ents,
           any_of=[["zip.bomb", "zip.unreadable", "zip.inconsistent"]],
           typ="new", also_ok=FORMAT_ANY,
           rule="declares 4 KiB, inflates to 20 MiB")
    ents, _ = std()
    ents[3] = Entry(pdfname, zeros, descriptor=True)
    ents[3].crc = zlib.crc32(zeros)
    ents[3].cd = {"usize": 100}
    reject("err-zip-bomb-descriptor-lies", ents,
           any_of=[["zip.bomb", "zip.unreadable", "zip.inconsistent"]],
           typ="new", also_ok=FORMAT_ANY,
           rule="data descriptor entry whose CD size is small")
    # Fifield overlap with a kernel of modest ratio: only the overlap
    # itself gives it away (no entry is over the ratio or size limits).
    rnd = random.Random(3)
    kernel = bytes(rnd.choice(b"ACGT") for _ in range(1 << 20))
    ds = fill_inventory(type_docs("new"))
    prefix, _ = submission(ds)
    names = ["%02d_overlap%d.pdf" % (7 + i, i) for i in range(4)]
    data, total = zipw.fifield_overlap(names, kernel, prefix_entries=prefix)
    reject("err-zip-bomb-overlap-quoted", data,
           any_of=[["zip.bomb", "zip.inconsistent"]], typ="new",
           also_ok=FORMAT_ANY + NUMBER_FALLOUT,
           rule="Fifield quoted overlap, 4 entries share 1 MiB")
    ents, _ = std()
    buf = zipw._Buf()
    w = zipw.Writer(buf)
    for e in ents:
        w.add(e)
    cds = [w.central(e) for e in ents]
    twin = Entry("07_twin.pdf", ents[3].data)
    twin.hdr = ents[3].hdr
    twin.offset = ents[3].offset
    twin.need = ents[3].need
    cds.append(w.central(twin))
    w.finish(cd_entries=cds)
    reject("err-zip-bomb-overlap-full", buf.value(),
           any_of=[["zip.bomb", "zip.inconsistent"]], typ="new",
           also_ok=NUMBER_FALLOUT, rule="two CD entries, one local entry")


def gen_name_errors():
    pdfname = "04_情報セキュリティ基本方針.pdf"

    def with_name04(raw, flag=None, title=None):
        ds = type_docs("new")
        ents, _ = submission(ds)
        e = ents[3]
        e.name = raw if isinstance(raw, bytes) else raw.encode("utf-8")
        e.utf8 = flag if flag is not None else any(b >= 0x80 for b in e.name)
        return ents
    fallout = NUMBER_FALLOUT + ("name.no_number",)
    # name.encoding
    for tag, raw, flag in [
            ("invalid-both", b"04_\xff\xfe\xfd.pdf", False),
            ("cp932-lead-at-end", b"04_\x95.pdf", False),
            ("cp932-with-utf8-flag", pdfname.encode("cp932"), True),
            ("utf8-overlong-slash", b"04_\xc0\xaf.pdf", True),
            ("utf8-surrogate", b"04_\xed\xa0\x80.pdf", True)]:
        reject("err-name-encoding-" + tag, with_name04(raw, flag),
               ["name.encoding"], typ="new", also_ok=fallout +
               ("name.invalid_character", "zip.path_traversal"),
               rule="name bytes %s" % raw.hex())
    # name.invalid_character
    bad = [("control", "04_情報\x01セキュリティ基本方針.pdf"),
           ("tab", "04_情報\tセキュリティ基本方針.pdf"),
           ("del", "04_情報\x7fセキュリティ基本方針.pdf"),
           ("c1-nel", "04_情報\x85セキュリティ基本方針.pdf"),
           ("nul-inside", "04_情報\x00.pdf"),
           ("nul-before-ext", "04_情報セキュリティ基本方針.pdf\x00.exe"),
           ("escape", "04_情報\x1b[2J\x1b[31mセキュリティ基本方針.pdf"),
           ("bidi-rlo", "04_情報セキュリティ\u202efdp.exe.pdf"),
           ("bidi-lro", "04_情報\u202dセキュリティ基本方針.pdf"),
           ("bidi-rli", "04_情報\u2067セキュリティ基本方針.pdf"),
           ("bidi-pdi", "04_情報セキュリティ基本方針\u2069.pdf"),
           ("lt", "04_情報<セキュリティ基本方針.pdf"),
           ("gt", "04_情報>セキュリティ基本方針.pdf"),
           ("colon", "04_情報:セキュリティ基本方針.pdf"),
           ("colon-ads", "04_情報セキュリティ基本方針.pdf:Zone.Identifier"),
           ("quote", '04_情報"セキュリティ基本方針.pdf'),
           ("pipe", "04_情報|セキュリティ基本方針.pdf"),
           ("question", "04_情報?セキュリティ基本方針.pdf"),
           ("star", "04_情報*セキュリティ基本方針.pdf"),
           ("trailing-dot", "04_情報セキュリティ基本方針.pdf."),
           ("trailing-space", "04_情報セキュリティ基本方針.pdf "),
           ("trailing-dots-spaces", "04_情報セキュリティ基本方針.pdf . .")]
    for tag, name in bad:
        reject("err-name-invalid-character-" + tag, with_name04(name),
               ["name.invalid_character"], typ="new",
               also_ok=fallout + FORMAT_ANY + ("name.encoding",),
               rule="name %r" % name)
    for dev in ["CON.pdf", "PRN.pdf", "AUX.pdf", "NUL.pdf", "COM1.pdf",
                "LPT1.pdf", "con.pdf", "Com9.pdf", "NUL", "CON.tar.pdf"]:
        ents, _ = std()
        ents.append(Entry(dev, attachment("device")))
        reject("err-name-invalid-character-device-" +
               dev.replace(".", "-"), ents,
               ["name.invalid_character"], typ="new",
               also_ok=fallout + FORMAT_ANY,
               rule="reserved device name %s" % dev)
    ds = type_docs("new")
    ds.append(Doc("07", "CON", "attachment", "pdf", attachment("CON")))
    ents, exp = submission(ds)
    accept("ok-name-con-after-number", ents, exp, "new",
           rule="07_CON.pdf is not a reserved device name")
    ents, _ = std()
    ents.append(Entry(b"", attachment("no name")))
    reject("err-name-empty", ents, any_of=[[
        "name.no_number", "name.invalid_character", "zip.path_traversal",
        "zip.unreadable", "name.encoding"]], typ="new",
        also_ok=NUMBER_FALLOUT + FORMAT_ANY + ("name.no_number",
                                               "name.invalid_character",
                                               "zip.path_traversal"),
        rule="an entry with an empty name")
    ents, _ = std()
    ents.append(Entry("07_" + "長" * 20000 + ".pdf", attachment("long")))
    reject("err-name-too-long-60000", ents, ["name.too_long"], typ="new",
           also_ok=("number.not_in_inventory",),
           rule="a 60,007-byte name: reported, memory bounded")
    # name.no_number
    ents, _ = std()
    ents[3].name = "情報セキュリティ基本方針.pdf".encode()
    reject("err-name-no-number", ents, ["name.no_number"], typ="new",
           also_ok=NUMBER_FALLOUT, rule="R3 no number")
    ents, _ = std()
    ents[3].name = "04情報セキュリティ基本方針.pdf".encode()
    reject("err-name-no-number-no-separator", ents,
           any_of=[["name.no_number", "number.not_in_inventory"]],
           typ="new", also_ok=NUMBER_FALLOUT,
           rule="R3 number without a separator")
    ents, _ = std()
    ents.append(Entry("資料一覧.pdf", attachment("資料一覧")))
    reject("err-name-no-number-extra", ents, ["name.no_number"], typ="new",
           also_ok=("number.not_in_inventory",), rule="R3 extra file")


def gen_number_errors():
    ds = type_docs("new")
    ds.append(Doc("07", "追加資料", "attachment", "pdf", attachment("追加資料"),
                  listed=False))
    ents, _ = submission(ds)
    reject("err-number-not-in-inventory", ents, ["number.not_in_inventory"],
           typ="new", rule="R3 file not listed")
    ds = type_docs("new")
    ds.append(Doc("07", "追加資料", "attachment", "pdf"))  # no data: no file
    ents, _ = submission(ds)
    reject("err-number-missing-file", ents, ["number.missing_file"],
           typ="new", rule="R5 listed electronic document missing")
    ds = type_docs("new")
    ds.append(Doc("07", "追加資料", "attachment", "pdf", medium=None))
    ents, _ = submission(ds)
    reject("err-number-missing-file-empty-medium", ents,
           ["number.missing_file"], typ="new",
           rule="empty medium means electronic")
    ds = type_docs("new")
    ds.append(Doc("04", "情報セキュリティ基本方針（別紙）", "attachment", "pdf",
                  attachment("別紙"), listed=False))
    ents, _ = submission(ds)
    reject("err-number-duplicate-files", ents, ["number.duplicate"],
           typ="new", also_ok=("number.not_in_inventory",),
           rule="two files with number 04")
    ds = type_docs("new")
    ds.append(Doc("04", "別紙", "attachment", "pdf", medium="紙"))
    ents, _ = submission(ds)
    reject("err-number-duplicate-in-inventory", ents,
           any_of=[["number.duplicate", "inventory.unreadable"]], typ="new",
           rule="the inventory lists 04 twice")
    # inventory.missing
    ds = [d for d in type_docs("new") if d.role != "inventory"]
    ents, _ = submission(ds)
    reject("err-inventory-missing", ents, ["inventory.missing"], typ="new",
           also_ok=("docs.missing_required", "number.not_in_inventory"),
           rule="R1 no 内訳書")
    # inventory.unreadable
    inv_fallout = ("docs.missing_required", "number.not_in_inventory",
                   "name.title_mismatch")
    for tag, kw in [("no-header", {"header": ("No", "タイトル", "形態")}),
                    ("header-row-31", {"header_row": 31})]:
        ds = type_docs("new")
        if tag == "no-header":
            rows = [["提出書類及び資料内訳書"], ["No", "タイトル", "形態"]] + [
                [d.number, d.title, d.medium] for d in ds]
            ds[0].data = docs.xlsx([("内訳書", rows)])
        else:
            fill_inventory(ds, **kw)
        ents, _ = submission(ds)
        reject("err-inventory-unreadable-" + tag, ents,
               ["inventory.unreadable"], typ="new", also_ok=inv_fallout,
               rule="no header row in the first 30 rows")
    ds = type_docs("new")
    ds[0].data = docs.xlsx([("メモ", [["この内訳書は2枚目のシートにあります"]]),
                            ("内訳書", [["番号", "資料名称", "媒体"]] + [
                                [d.number, d.title, d.medium] for d in ds])])
    ents, _ = submission(ds)
    reject("err-inventory-unreadable-second-sheet", ents,
           ["inventory.unreadable"], typ="new", also_ok=inv_fallout,
           rule="the list is not in the first worksheet")
    ds = type_docs("new")
    good_inv = docs.inventory(inventory_rows(ds))
    import io
    import zipfile
    zin = zipfile.ZipFile(io.BytesIO(good_inv))
    parts = [(i.filename, zin.read(i.filename)) for i in zin.infolist()]
    parts = [(n, d.replace(b"</sheetData>", b"<row><c></sheetData>")
              if n == "xl/worksheets/sheet1.xml" else d) for n, d in parts]
    ds[0].data = docs._zip_package(parts)
    ents, _ = submission(ds)
    reject("err-inventory-unreadable-bad-xml", ents,
           ["inventory.unreadable"], typ="new",
           also_ok=inv_fallout + ("format.unopenable",),
           rule="malformed worksheet XML")
    ds = type_docs("new")
    ds[0].data = attachment("内訳書")
    ents, _ = submission(ds)
    reject("err-inventory-unreadable-pdf", ents,
           any_of=[["inventory.unreadable", "format.mismatch"]], typ="new",
           also_ok=inv_fallout + FORMAT_ANY, rule="a PDF named .xlsx")
    # XXE / billion laughs in the inventory must not be expanded
    ds = type_docs("new")
    fill_inventory(ds)
    zin = zipfile.ZipFile(io.BytesIO(ds[0].data))
    parts = [(i.filename, zin.read(i.filename)) for i in zin.infolist()]
    laughs = (b'<?xml version="1.0"?><!DOCTYPE sst [<!ENTITY a "aaaaaaaaaa">'
              + b"".join(b'<!ENTITY %c "&%c;&%c;&%c;&%c;&%c;&%c;&%c;&%c;'
                         b'&%c;&%c;">' % ((c,) + (c - 1,) * 10)
                         for c in range(ord("b"), ord("k"))) +
              b'<!ENTITY x SYSTEM "file:///etc/passwd">]>')
    parts = [(n, d.replace(b'<?xml version="1.0" encoding="UTF-8" '
                           b'standalone="yes"?>\n', laughs).replace(
        "<t>申請書A</t>".encode(), b"<t>&j;&x;</t>")
        if n == "xl/sharedStrings.xml" else d) for n, d in parts]
    ds[0].data = docs._zip_package(parts)
    ents, _ = submission(ds)
    # Rejecting the DTD and reading it without expanding entities are both
    # safe: the verdict may go either way, but never a hang, a blow-up or
    # the content of /etc/passwd in the report.
    case("either-inventory-entities", zipw.build(ents), "either", typ="new",
         also_ok=inv_fallout + ("format.unopenable", "number.missing_file",
                                "inventory.unreadable"),
         rule="DTD with entity expansion (billion laughs) and XXE")

    # docs.missing_required (R1)
    ds = [d for d in type_docs("new") if d.role != "form_b"]
    ents, _ = submission(ds)
    reject("err-docs-missing-required-new-form-b", ents,
           ["docs.missing_required"], typ="new", rule="R1 new without 申請書B")
    ds = [d for d in type_docs("new") if d.role != "attachment"]
    ents, _ = submission(ds)
    reject("err-docs-missing-required-new-attachment", ents,
           ["docs.missing_required"], typ="new", rule="R1 new without PDFs")
    ds = [d for d in type_docs("new") if d.role != "form_a"]
    ents, _ = submission(ds)
    reject("err-docs-missing-required-new-form-a", ents,
           ["docs.missing_required"], typ="new", rule="R1 new without 申請書A")
    ds = [d for d in type_docs("renewal") if d.role != "mark_use"]
    ents, _ = submission(ds)
    reject("err-docs-missing-required-renewal-mark", ents,
           ["docs.missing_required"], typ="renewal",
           rule="R1 renewal without 認定マーク report")
    ds = [d for d in type_docs("change") if d.role != "change_list"]
    ents, _ = submission(ds)
    reject("err-docs-missing-required-change-list", ents,
           ["docs.missing_required"], typ="change",
           rule="R1 change without 変更箇所一覧表")
    ds = type_docs("new") + [Doc("07", "認定マークの適正使用報告", "mark_use",
                                 "xlsx", mark_use())]
    ents, _ = submission(ds)
    reject("err-docs-missing-required-inferred-renewal", ents,
           ["docs.missing_required"], typ="renewal",
           rule="a mark-use report makes it a renewal: change list missing")
    ents, _ = std("new")
    reject("err-docs-missing-required-typed-renewal", ents,
           ["docs.missing_required"], typ="renewal",
           args=["--type", "renewal"], rule="R1 new documents as renewal")
    ents, _ = std("new")
    reject("err-docs-missing-required-typed-termination", ents,
           ["docs.missing_required"], typ="termination",
           args=["--type", "termination"],
           also_ok=("number.not_in_inventory",),
           rule="R1 termination form missing")
    ents, _ = std("renewal")
    reject("err-docs-missing-required-typed-change", ents,
           ["docs.missing_required"], typ="change", args=["--type", "change"],
           rule="R1 renewal documents as change (no 変更届出書)")


def gen_format_errors():
    def with_doc(number, data, fname=None, listed_title=None):
        ds = type_docs("new")
        i = doc_index(ds, number)
        ds[i].data = data
        if fname:
            ds[i].fname = fname
        if listed_title:
            ds[i].list_title = listed_title
        ents, _ = submission(ds)
        return ents

    def extra_doc(fname, data, title):
        ds = type_docs("new")
        ds.append(Doc("07", title, "attachment", fname.rsplit(".", 1)[-1],
                      data, fname=fname))
        return submission(ds)[0]
    # format.not_allowed
    reject("err-format-not-allowed-elf-as-pdf", with_doc("04", docs.elf()),
           any_of=[["format.not_allowed", "format.mismatch"]], typ="new",
           also_ok=("format.unopenable",), rule="R2 executable named .pdf")
    reject("err-format-not-allowed-exe",
           extra_doc("07_ツール.exe", docs.elf(), "ツール"),
           ["format.not_allowed"], typ="new", also_ok=("format.mismatch",),
           rule="R2 executable")
    nested = zipw.build([Entry("inner.pdf", attachment("inner"))])
    reject("err-format-not-allowed-nested-zip",
           extra_doc("07_添付資料一式.zip", nested, "添付資料一式"),
           ["format.not_allowed"], typ="new", also_ok=("format.mismatch",),
           rule="R4 nested archive")
    reject("err-format-not-allowed-nested-zip-as-pdf",
           with_doc("04", nested),
           any_of=[["format.not_allowed", "format.mismatch"]], typ="new",
           also_ok=("format.unopenable",), rule="nested archive named .pdf")
    reject("err-format-not-allowed-legacy-doc",
           with_doc("02", docs.legacy_doc(), fname="02_申請書A.doc"),
           ["format.not_allowed"], typ="new",
           also_ok=("format.mismatch", "docs.missing_required"),
           rule="R2 legacy Word .doc")
    reject("err-format-not-allowed-legacy-doc-as-docx",
           with_doc("02", docs.legacy_doc()),
           any_of=[["format.not_allowed", "format.mismatch"]], typ="new",
           also_ok=("format.unopenable", "docs.missing_required"),
           rule="R2 legacy .doc renamed .docx")
    reject("err-format-not-allowed-text",
           extra_doc("07_メモ.txt", "メモです\r\n".encode("cp932"), "メモ"),
           ["format.not_allowed"], typ="new", also_ok=("format.mismatch",),
           rule="R2 plain text")
    # format.mismatch
    reject("err-format-mismatch-docx-as-pdf", with_doc("04", form_a()),
           ["format.mismatch"], typ="new", also_ok=("format.not_allowed",),
           rule="R2 a .pdf that is a Word file")
    reject("err-format-mismatch-pdf-as-docx",
           with_doc("02", attachment("申請書A")), ["format.mismatch"],
           typ="new", also_ok=("format.not_allowed", "docs.missing_required"),
           rule="R2 a .docx that is a PDF")
    reject("err-format-mismatch-form-a-xlsx",
           with_doc("02", form_b(), fname="02_申請書A.xlsx"),
           ["format.mismatch"], typ="new",
           also_ok=("format.not_allowed", "docs.missing_required"),
           rule="R2 申請書A must be Word")
    reject("err-format-mismatch-form-b-docx",
           with_doc("03", form_a(), fname="03_申請書B.docx"),
           ["format.mismatch"], typ="new",
           also_ok=("format.not_allowed", "docs.missing_required"),
           rule="R2 申請書B must be Excel")
    reject("err-format-mismatch-attachment-xlsx",
           with_doc("04", form_b(), fname="04_情報セキュリティ基本方針.xlsx"),
           ["format.mismatch"], typ="new", also_ok=("format.not_allowed",),
           rule="R2 attachments are PDF")
    # format.macro
    reject("err-format-macro-docx", with_doc("02", docs.docx(
        ["申請書A"], macro=True)), ["format.macro"], typ="new",
        also_ok=("format.mismatch", "docs.missing_required"),
        rule="R2 vbaProject.bin in a .docx")
    reject("err-format-macro-xlsm", with_doc("03", docs.xlsx(
        [("申請書B", [["a"]])], macro=True), fname="03_申請書B.xlsm"),
        ["format.macro"], typ="new",
        also_ok=("format.mismatch", "format.not_allowed",
                 "docs.missing_required"), rule="R2 .xlsm")
    reject("err-format-macro-xlsx", with_doc("03", docs.xlsx(
        [("申請書B", [["a"]])], macro=True)), ["format.macro"], typ="new",
        also_ok=("format.mismatch", "docs.missing_required"),
        rule="R2 macro workbook named .xlsx")
    reject("err-format-macro-inventory", with_doc("01", docs.xlsx(
        [("内訳書", [["番号", "資料名称", "媒体"]])], macro=True)),
        ["format.macro"], typ="new",
        also_ok=("format.mismatch", "inventory.unreadable") + NUMBER_FALLOUT,
        rule="R2 macro-enabled inventory")
    # vbaProject.bin present but the content type says plain document
    d = docs.docx(["申請書A"])
    import io
    import zipfile
    zin = zipfile.ZipFile(io.BytesIO(d))
    parts = [(i.filename, zin.read(i.filename)) for i in zin.infolist()]
    parts.append(("word/vbaProject.bin", docs.vba_project()))
    reject("err-format-macro-hidden-bin",
           with_doc("02", docs._zip_package(parts)), ["format.macro"],
           typ="new", also_ok=("format.mismatch", "docs.missing_required"),
           rule="R2 vbaProject.bin without the macro content type")
    # format.encrypted
    reject("err-format-encrypted-pdf",
           with_doc("04", docs.pdf("情報セキュリティ基本方針",
                                   encrypt="secret")),
           ["format.encrypted"], typ="new",
           rule="R2 password-protected PDF (RC4 R2, user password)")
    reject("err-format-encrypted-pdf-owner-only",
           with_doc("05", docs.pdf("ソフトウェア構成表", encrypt="")),
           ["format.encrypted"], typ="new",
           rule="R2 encrypted PDF (empty user password)")
    reject("err-format-encrypted-ooxml",
           with_doc("03", docs.encrypted_ooxml()), ["format.encrypted"],
           typ="new", also_ok=("format.mismatch", "format.not_allowed",
                               "docs.missing_required"),
           rule="R2 Office EncryptedPackage renamed .xlsx")
    reject("err-format-encrypted-ooxml-docx",
           with_doc("02", docs.encrypted_ooxml()), ["format.encrypted"],
           typ="new", also_ok=("format.mismatch", "format.not_allowed",
                               "docs.missing_required"),
           rule="R2 Office EncryptedPackage renamed .docx")
    # format.unopenable
    full = attachment("情報セキュリティ基本方針")
    reject("err-format-unopenable-truncated-pdf",
           with_doc("04", full[:len(full) // 2]), ["format.unopenable"],
           typ="new", rule="R2 truncated PDF")
    reject("err-format-unopenable-pdf-header-only",
           with_doc("04", b"%PDF-1.4\n%\xe2\xe3\xcf\xd3\n1 0 obj\n<<"),
           ["format.unopenable"], typ="new", rule="R2 PDF header only")
    fa = form_a()
    reject("err-format-unopenable-truncated-docx",
           with_doc("02", fa[:len(fa) // 2]),
           any_of=[["format.unopenable", "format.mismatch",
                    "format.not_allowed"]], typ="new",
           also_ok=("docs.missing_required",), rule="R2 truncated .docx")
    reject("err-format-unopenable-docx-no-content-types",
           with_doc("02", docs.docx(["申請書A"],
                                    drop=("[Content_Types].xml",))),
           any_of=[["format.unopenable", "format.mismatch",
                    "format.not_allowed"]], typ="new",
           also_ok=("docs.missing_required",),
           rule="OOXML without [Content_Types].xml")
    reject("err-format-unopenable-docx-no-main-part",
           with_doc("02", docs.docx(["申請書A"], drop=("word/document.xml",))),
           any_of=[["format.unopenable", "format.mismatch"]], typ="new",
           also_ok=("docs.missing_required", "format.not_allowed"),
           rule="OOXML without its main part")


def big_submission(path, total=210 << 20, ndocs=10):
    """A valid `new` submission of ndocs documents (inventory, forms A and
    B, the rest PDFs holding a noise image) whose ZIP is at least `total`
    bytes. Streams to path; returns the manifest-like dict."""
    npdf = ndocs - 3
    per = total // npdf + (1 << 20)
    side = int(per ** 0.5)
    rnd = random.Random(40)
    ds = type_docs("new")[:3]
    for i in range(npdf):
        title = "添付資料%d" % (i + 1)
        px = rnd.randbytes(side * side)
        ds.append(Doc("%02d" % (4 + i), title, "attachment", "pdf",
                      docs.pdf(title, ["attachment %d" % (i + 1)],
                               image=(side, side, px))))
    fill_inventory(ds)
    entries, expected = submission(ds)
    with open(path, "wb") as f:
        w = zipw.Writer(f)
        for e in entries:
            w.add(e, comp=zipw.deflate(e.data, 6))
            e.data = b""  # keep memory down; CRC and sizes are recorded
        w.finish()
    return {"documents": expected, "size": os.path.getsize(path)}


def bomb(path, size=2 << 30, declared=None, entries_n=1):
    """A `new` submission whose attachment 04 inflates to `size` bytes of
    zeros: rejected as zip.bomb. declared: the uncompressed size written
    in both headers (default: the truth, Zip64 when needed). entries_n:
    that many such attachments (04, 05, ...: the total grows too)."""
    ds = fill_inventory(type_docs("new"))
    entries, _ = submission(ds)
    chunk = b"\0" * (16 << 20)
    c = zlib.compressobj(9, zlib.DEFLATED, -15)
    comp = []
    crc = 0
    left = size
    head = b"%PDF-1.4\n"
    comp.append(c.compress(head))
    crc = zlib.crc32(head, crc)
    left -= len(head)
    while left > 0:
        n = min(left, len(chunk))
        comp.append(c.compress(chunk[:n]))
        crc = zlib.crc32(chunk[:n], crc)
        left -= n
    comp.append(c.flush())
    if declared is None:
        declared = size
    bombs = []
    for i in range(entries_n):
        e = Entry("%02d_添付資料%d.pdf" % (4 + i, i + 1), b"",
                  zip64=declared >= 0xFFFFFFFF)
        e.crc = crc
        bombs.append(e)
    entries = entries[:3] + bombs
    blob = b"".join(comp)
    with open(path, "wb") as f:
        w = zipw.Writer(f)
        for x in entries:
            if x in bombs:
                w.add(x, comp=blob, usize=declared)
            else:
                w.add(x)
        w.finish()
    return os.path.getsize(path)


def generate(outdir):
    CASES.clear()
    gen_accepted()
    gen_zip_errors()
    gen_name_errors()
    gen_number_errors()
    gen_format_errors()
    os.makedirs(outdir, exist_ok=True)
    names = set()
    manifest = []
    for c in CASES:
        assert c["name"] not in names, c["name"]
        names.add(c["name"])
        with open(os.path.join(outdir, c["file"]), "wb") as f:
            f.write(c["data"])
        m = {k: v for k, v in c.items() if k != "data"}
        m["sha256"] = hashlib.sha256(c["data"]).hexdigest()
        m["size"] = len(c["data"])
        manifest.append(m)
    with open(os.path.join(outdir, "manifest.json"), "w",
              encoding="utf-8") as f:
        json.dump(manifest, f, ensure_ascii=False, indent=1, sort_keys=True)
        f.write("\n")
    return manifest


def _pdf_xref_ok(data):
    """True when every in-use xref entry points at its "N 0 obj"."""
    import re
    m = re.search(rb"startxref\s+(\d+)\s+%%EOF\s*$", data)
    if not m:
        return False
    pos = int(m.group(1))
    if data[pos:pos + 4] != b"xref":
        return False
    lines = data[pos:].split(b"\n")
    first, count = map(int, lines[1].split())
    for i in range(count):
        off, gen, kind = lines[2 + i].split()
        if kind == b"n" and not data[int(off):].startswith(
                b"%d %d obj" % (first + i, int(gen))):
            return False
    return True


def selftest(outdir, manifest):
    """Checks the generator's own output with the standard library: every
    accepted ZIP reads back with correct CRCs, holds the expected
    documents, whose PDFs have exact xref offsets and whose OOXML parts
    are well-formed XML. Returns a list of failures."""
    import io
    import zipfile
    import xml.etree.ElementTree as ET
    fails = []
    for c in manifest:
        if c["verdict"] != "accept":
            continue
        path = os.path.join(outdir, c["file"])
        try:
            z = zipfile.ZipFile(path)
            if z.testzip() is not None:
                fails.append("%s: CRC error" % c["name"])
            by_hash = {hashlib.sha256(z.read(i)).hexdigest(): i
                       for i in z.infolist() if not i.is_dir()}
            for d in c["documents"]:
                if d["sha256"] not in by_hash:
                    fails.append("%s: %s not in the ZIP" % (c["name"],
                                                           d["name"]))
                    continue
                data = z.read(by_hash[d["sha256"]])
                ext = d["name"].rsplit(".", 1)[-1].lower()
                if ext == "pdf" and not _pdf_xref_ok(data):
                    fails.append("%s: %s bad xref" % (c["name"], d["name"]))
                if ext in ("docx", "xlsx"):
                    inner = zipfile.ZipFile(io.BytesIO(data))
                    names = inner.namelist()
                    if names[0] != "[Content_Types].xml":
                        fails.append("%s: %s order" % (c["name"], d["name"]))
                    for n in names:
                        if n.endswith(".xml") or n.endswith(".rels"):
                            ET.fromstring(inner.read(n))
        except Exception as e:  # noqa: BLE001 - report, do not stop
            fails.append("%s: %s" % (c["name"], e))
    return fails


def main(argv):
    if len(argv) < 2 or argv[1] in ("-h", "--help"):
        print(__doc__)
        return 0 if len(argv) >= 2 else 2
    m = generate(argv[1])
    if "--selftest" in argv:
        fails = selftest(argv[1], m)
        for f in fails:
            print("selftest: " + f)
        if fails:
            return 1
    if "--list" in argv:
        for c in m:
            print("%-6s %s" % (c["verdict"], c["name"]))
    print("kuragen: %d cases (%d accept, %d reject) in %s" % (
        len(m), sum(c["verdict"] == "accept" for c in m),
        sum(c["verdict"] == "reject" for c in m), argv[1]))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
