#!/usr/bin/env python3
"""tests/data/intake/make.py - builds the small submissions the unit test
tests/unit/test_intake_check.c reads, and inventory seeds for the fuzzer.

    python3 tests/data/intake/make.py tests/data/intake

Standard library only; fixed timestamps, so the same bytes on every run.
"""
import io
import os
import sys
import zipfile

DATE = (2024, 4, 1, 9, 0, 0)


def zput(z, name, data):
    zi = zipfile.ZipInfo(name, DATE)
    zi.compress_type = zipfile.ZIP_DEFLATED
    z.writestr(zi, data)


def pdf():
    objs = [b"<< /Type /Catalog /Pages 2 0 R >>",
            b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
            b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 595 842] >>"]
    out = b"%PDF-1.4\n"
    offs = []
    for i, o in enumerate(objs):
        offs.append(len(out))
        out += b"%d 0 obj\n" % (i + 1) + o + b"\nendobj\n"
    x = len(out)
    out += b"xref\n0 %d\n0000000000 65535 f \n" % (len(objs) + 1)
    for o in offs:
        out += b"%010d 00000 n \n" % o
    out += b"trailer\n<< /Size %d /Root 1 0 R >>\nstartxref\n%d\n%%%%EOF\n" % (
        len(objs) + 1, x)
    return out


CT = ('<?xml version="1.0" encoding="UTF-8"?><Types xmlns="http://schemas.'
      'openxmlformats.org/package/2006/content-types"><Default Extension="rels"'
      ' ContentType="application/vnd.openxmlformats-package.relationships+xml"/>'
      '<Default Extension="xml" ContentType="application/xml"/>%s</Types>')
RELS = ('<?xml version="1.0" encoding="UTF-8"?><Relationships xmlns="http://'
        'schemas.openxmlformats.org/package/2006/relationships">%s'
        '</Relationships>')
REL = '<Relationship Id="%s" Type="%s" Target="%s"/>'
OD = "http://schemas.openxmlformats.org/officeDocument/2006/relationships/"


def docx():
    b = io.BytesIO()
    with zipfile.ZipFile(b, "w") as z:
        zput(z, "[Content_Types].xml", CT % (
            '<Override PartName="/word/document.xml" ContentType="application/'
            'vnd.openxmlformats-officedocument.wordprocessingml.document.main+'
            'xml"/>'))
        zput(z, "_rels/.rels", RELS % (REL % ("rId1", OD + "officeDocument",
                                               "word/document.xml")))
        zput(z, "word/document.xml",
             '<?xml version="1.0" encoding="UTF-8"?><w:document xmlns:w="http'
             '://schemas.openxmlformats.org/wordprocessingml/2006/main"><w:body>'
             '<w:p><w:r><w:t>x</w:t></w:r></w:p></w:body></w:document>')
    return b.getvalue()


def xlsx(rows=None, shared=False, macro=False):
    rows = rows or [["x"]]
    strings = []
    b = io.BytesIO()
    main = ("application/vnd.ms-excel.sheet.macroEnabled.main+xml" if macro
            else "application/vnd.openxmlformats-officedocument.spreadsheetml"
            ".sheet.main+xml")
    with zipfile.ZipFile(b, "w") as z:
        zput(z, "[Content_Types].xml", CT % (
            '<Override PartName="/xl/workbook.xml" ContentType="%s"/>'
            '<Override PartName="/xl/worksheets/sheet1.xml" ContentType="'
            'application/vnd.openxmlformats-officedocument.spreadsheetml.'
            'worksheet+xml"/>' % main))
        zput(z, "_rels/.rels", RELS % (REL % ("rId1", OD + "officeDocument",
                                               "xl/workbook.xml")))
        zput(z, "xl/workbook.xml",
             '<?xml version="1.0" encoding="UTF-8"?><workbook xmlns="http://'
             'schemas.openxmlformats.org/spreadsheetml/2006/main" xmlns:r="'
             + OD[:-1] + '"><sheets><sheet name="S" sheetId="1" r:id="rId7"/>'
             '</sheets></workbook>')
        zput(z, "xl/_rels/workbook.xml.rels", RELS % (
            REL % ("rId7", OD + "worksheet", "worksheets/sheet1.xml")))
        x = ('<?xml version="1.0" encoding="UTF-8"?><worksheet xmlns="http://'
             'schemas.openxmlformats.org/spreadsheetml/2006/main"><sheetData>')
        for i, r in enumerate(rows):
            x += '<row r="%d">' % (i + 3)
            for j, c in enumerate(r):
                if c is None:
                    continue
                ref = "%s%d" % (chr(66 + j), i + 3)
                if shared:
                    strings.append(c)
                    x += '<c r="%s" t="s"><v>%d</v></c>' % (ref,
                                                           len(strings) - 1)
                else:
                    x += ('<c r="%s" t="inlineStr"><is><t>%s</t></is></c>'
                          % (ref, c))
            x += "</row>"
        x += "</sheetData></worksheet>"
        zput(z, "xl/worksheets/sheet1.xml", x)
        if shared:
            sst = ('<?xml version="1.0" encoding="UTF-8"?><sst xmlns="http://'
                   'schemas.openxmlformats.org/spreadsheetml/2006/main">')
            for s in strings:
                sst += ("<si><r><t>%s</t></r><rPh><t>ヨミ</t></rPh></si>" % s)
            sst += "</sst>"
            zput(z, "xl/sharedStrings.xml", sst)
        if macro:
            zput(z, "xl/vbaProject.bin", b"\xd0\xcf\x11\xe0")
    return b.getvalue()


def inventory(items, shared=False):
    rows = [["提出書類及び資料内訳書"], ["申請者", "株式会社サンプル"], [],
            ["番号", "資料名称", "媒体"]]
    rows += [list(it) for it in items]
    return xlsx(rows, shared)


def write(out, name, files):
    with zipfile.ZipFile(os.path.join(out, name), "w") as z:
        for n, d in files:
            zput(z, n, d)


def main(out):
    inv_new = [("01", "提出書類及び資料内訳書", "電子"), ("02", "申請書A", "電子"),
               ("03", "申請書B", "電子"), ("04", "会社概要", "電子"),
               ("04-10", "情報セキュリティ基本方針", "電子"),
               ("05", "登記事項証明書", "紙")]
    write(out, "ok-new.zip", [
        ("01_提出書類及び資料内訳書.xlsx", inventory(inv_new, shared=True)),
        ("０２_申請書A.docx", docx()),          # full-width number
        ("03_申請書B.xlsx", xlsx()),
        ("04_会社概要.pdf", pdf()),
        ("04-10_情報セキュリティ基本方針.pdf", pdf())])
    inv_ren = [("1", "提出書類及び資料内訳書", ""), ("2", "申請書A", ""),
               ("3", "申請書B", ""), ("4", "変更箇所一覧表", ""),
               ("5", "認定マークの適正使用報告", ""), ("6", "会社概要", "")]
    write(out, "ok-renewal.zip", [
        ("01_提出書類及び資料内訳書.xlsx", inventory(inv_ren)),
        ("02_申請書A.docx", docx()), ("03_申請書B.xlsx", xlsx()),
        ("04_変更箇所一覧表.xlsx", xlsx()),
        ("05_認定マークの適正使用報告.xlsx", xlsx()),
        ("06_会社概要.pdf", pdf())])
    inv_chg = [("01", "提出書類及び資料内訳書", ""), ("02", "変更届出書", ""),
               ("03", "申請書B", ""), ("04", "変更箇所一覧表", ""),
               ("05", "会社概要", "")]
    write(out, "ok-change.zip", [
        ("01_提出書類及び資料内訳書.xlsx", inventory(inv_chg)),
        ("02_変更届出書.docx", docx()), ("03_申請書B.xlsx", xlsx()),
        ("04_変更箇所一覧表.xlsx", xlsx()), ("05_会社概要.pdf", pdf())])
    write(out, "ok-termination.zip", [
        ("01_認定サービス終了届出書.docx", docx())])
    # Missing form B, an unlisted number, a title mismatch, a macro
    # workbook and an attachment that is not a PDF.
    write(out, "bad-new.zip", [
        ("01_提出書類及び資料内訳書.xlsx", inventory(inv_new)),
        ("02_申請書A.docx", docx()),
        ("04_会社の概要.pdf", pdf()),
        ("04-10_情報セキュリティ基本方針.xlsx", xlsx(macro=True)),
        ("07_追加資料.pdf", pdf()),
        ("追加資料.pdf", pdf())])
    with open(os.path.join(out, "inventory-shared.xlsx"), "wb") as f:
        f.write(inventory(inv_new, shared=True))
    with open(os.path.join(out, "inventory-inline.xlsx"), "wb") as f:
        f.write(inventory(inv_ren))


if __name__ == "__main__":
    main(sys.argv[1] if len(sys.argv) > 1 else os.path.dirname(__file__))
