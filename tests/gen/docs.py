"""tests/gen/docs.py - genuine minimal documents, byte for byte reproducible.

PDF 1.4 with a correct xref table, XLSX and DOCX packages (OOXML written
with zipfile and fixed timestamps), an inventory workbook with shared or
inline strings, a Compound File Binary writer (legacy .doc, encrypted
OOXML wrapper, vbaProject.bin), an RC4 (R2) encrypted PDF and a tiny ELF
executable. Standard library only.
"""
import hashlib
import io
import struct
import zipfile
from xml.sax.saxutils import escape

FIXED_ZIPINFO_DATE = (2026, 4, 1, 10, 0, 0)


# ---------------------------------------------------------------- PDF --

def _pdf_text(s):
    """A PDF literal string for ASCII text."""
    return "(" + s.replace("\\", "\\\\").replace("(", "\\(").replace(
        ")", "\\)") + ")"


def _utf16_pdf_string(s):
    return "<FEFF" + s.encode("utf-16-be").hex().upper() + ">"


def pdf(title="Attachment", lines=("kura test document",), image=None,
        encrypt=None):
    """A one-page PDF 1.4 with a valid xref table.

    title: stored in /Info as UTF-16 (may be Japanese). lines: ASCII text
    drawn on the page. image: (width, height, bytes) of an 8-bit grey
    image drawn on the page (for large documents). encrypt: a user
    password: the file is encrypted with the standard security handler
    (RC4 40-bit, R2), so it cannot be opened without the password.
    """
    content = ["BT", "/F1 14 Tf", "72 770 Td", "16 TL"]
    for ln in lines:
        content.append(_pdf_text(ln) + " '")
    content.append("ET")
    if image:
        content.append("q 451 0 0 451 72 200 cm /Im1 Do Q")
    content_bytes = ("\n".join(content) + "\n").encode("ascii")

    objs = []  # (num, dict-or-bytes-prefix, stream-bytes or None)
    objs.append((1, "<< /Type /Catalog /Pages 2 0 R >>", None))
    objs.append((2, "<< /Type /Pages /Kids [3 0 R] /Count 1 >>", None))
    res = "/Font << /F1 5 0 R >>"
    if image:
        res += " /XObject << /Im1 7 0 R >>"
    objs.append((3, "<< /Type /Page /Parent 2 0 R /MediaBox [0 0 595 842] "
                 "/Resources << %s >> /Contents 4 0 R >>" % res, None))
    objs.append((4, "<< /Length %d >>", content_bytes))
    objs.append((5, "<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica "
                 ">>", None))
    objs.append((6, "<< /Title %s /Producer (kura tests/gen) >>"
                 % _utf16_pdf_string(title), None))
    if image:
        w, h, px = image
        assert len(px) == w * h
        objs.append((7, "<< /Type /XObject /Subtype /Image /Width %d "
                     "/Height %d /ColorSpace /DeviceGray /BitsPerComponent 8 "
                     "/Length %%d >>" % (w, h), px))

    enc = None
    encnum = None
    file_id = hashlib.md5(title.encode("utf-8") + content_bytes).digest()
    if encrypt is not None:
        enc = _rc4_r2_setup(encrypt.encode("latin-1"), b"owner-" +
                            encrypt.encode("latin-1"), file_id)
        encnum = len(objs) + 1
        objs.append((encnum, "<< /Filter /Standard /V 1 /R 2 /O <%s> /U <%s> "
                     "/P -44 >>" % (enc["O"].hex(), enc["U"].hex()), None))

    out = io.BytesIO()
    out.write(b"%PDF-1.4\n%\xe2\xe3\xcf\xd3\n")
    offsets = {}
    for num, d, stream in objs:
        offsets[num] = out.tell()
        if enc is not None and num != encnum:
            key = enc["objkey"](num, 0)
            if stream is not None:
                stream = _rc4(key, stream)
            if num == 6:
                t = _rc4(key, b"\xfe\xff" + title.encode("utf-16-be"))
                d = "<< /Title <%s> /Producer <%s> >>" % (
                    t.hex().upper(),
                    _rc4(key, b"kura tests/gen").hex().upper())
        out.write(b"%d 0 obj\n" % num)
        if stream is not None:
            out.write((d % len(stream)).encode("ascii"))
            out.write(b"\nstream\n")
            out.write(stream)
            out.write(b"\nendstream\nendobj\n")
        else:
            out.write(d.encode("ascii"))
            out.write(b"\nendobj\n")
    xref = out.tell()
    n = max(offsets) + 1
    out.write(b"xref\n0 %d\n" % n)
    out.write(b"0000000000 65535 f\r\n")
    for i in range(1, n):
        out.write(b"%010d 00000 n\r\n" % offsets[i])
    trailer = "<< /Size %d /Root 1 0 R /Info 6 0 R /ID [<%s> <%s>]" % (
        n, file_id.hex(), file_id.hex())
    if enc is not None:
        trailer += " /Encrypt %d 0 R" % encnum
    trailer += " >>"
    out.write(b"trailer\n" + trailer.encode("ascii") + b"\n")
    out.write(b"startxref\n%d\n%%%%EOF\n" % xref)
    return out.getvalue()


_PDF_PAD = bytes.fromhex("28BF4E5E4E758A4164004E56FFFA01082E2E00B6D0683E80"
                         "2F0CA9FE6453697A")


def _rc4(key, data):
    s = list(range(256))
    j = 0
    for i in range(256):
        j = (j + s[i] + key[i % len(key)]) & 0xFF
        s[i], s[j] = s[j], s[i]
    out = bytearray(len(data))
    i = j = 0
    for n, b in enumerate(data):
        i = (i + 1) & 0xFF
        j = (j + s[i]) & 0xFF
        s[i], s[j] = s[j], s[i]
        out[n] = b ^ s[(s[i] + s[j]) & 0xFF]
    return bytes(out)


def _rc4_r2_setup(user, owner, file_id, p=-44):
    """PDF 1.7 (ISO 32000-1) 7.6.3, algorithms 2, 3 and 4, revision 2."""
    def pad(pw):
        return (pw + _PDF_PAD)[:32]
    okey = hashlib.md5(pad(owner)).digest()[:5]
    O = _rc4(okey, pad(user))
    m = hashlib.md5()
    m.update(pad(user))
    m.update(O)
    m.update(struct.pack("<i", p))
    m.update(file_id)
    key = m.digest()[:5]
    U = _rc4(key, _PDF_PAD)

    def objkey(num, gen):
        h = hashlib.md5(key + struct.pack("<I", num)[:3] +
                        struct.pack("<H", gen)).digest()
        return h[:10]
    return {"O": O, "U": U, "key": key, "objkey": objkey}


# --------------------------------------------------------------- OOXML --

def _zip_package(parts, extra_parts=()):
    """Writes an OOXML package: [Content_Types].xml first, fixed dates."""
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as z:
        for name, data in list(parts) + list(extra_parts):
            zi = zipfile.ZipInfo(name, date_time=FIXED_ZIPINFO_DATE)
            zi.compress_type = zipfile.ZIP_DEFLATED
            zi.external_attr = 0o644 << 16
            zi.create_system = 0
            if isinstance(data, str):
                data = data.encode("utf-8")
            z.writestr(zi, data)
    return buf.getvalue()


XML_HEAD = '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'
NS_MAIN = "http://schemas.openxmlformats.org/spreadsheetml/2006/main"
NS_R = ("http://schemas.openxmlformats.org/officeDocument/2006/"
        "relationships")
NS_PKG_REL = "http://schemas.openxmlformats.org/package/2006/relationships"
NS_CT = "http://schemas.openxmlformats.org/package/2006/content-types"
REL_OFFICE = ("http://schemas.openxmlformats.org/officeDocument/2006/"
              "relationships/officeDocument")
REL_WS = ("http://schemas.openxmlformats.org/officeDocument/2006/"
          "relationships/worksheet")
REL_SST = ("http://schemas.openxmlformats.org/officeDocument/2006/"
           "relationships/sharedStrings")
REL_STYLES = ("http://schemas.openxmlformats.org/officeDocument/2006/"
              "relationships/styles")
REL_VBA = "http://schemas.microsoft.com/office/2006/relationships/vbaProject"
CT_SHEET_MAIN = ("application/vnd.openxmlformats-officedocument."
                 "spreadsheetml.sheet.main+xml")
CT_SHEET_MACRO = "application/vnd.ms-excel.sheet.macroEnabled.main+xml"
CT_WS = ("application/vnd.openxmlformats-officedocument.spreadsheetml."
         "worksheet+xml")
CT_SST = ("application/vnd.openxmlformats-officedocument.spreadsheetml."
          "sharedStrings+xml")
CT_STYLES = ("application/vnd.openxmlformats-officedocument.spreadsheetml."
             "styles+xml")
CT_DOC_MAIN = ("application/vnd.openxmlformats-officedocument."
               "wordprocessingml.document.main+xml")
CT_DOC_MACRO = "application/vnd.ms-word.document.macroEnabled.main+xml"
CT_VBA = "application/vnd.ms-office.vbaProject"


def _col(i):
    s = ""
    i += 1
    while i:
        i, r = divmod(i - 1, 26)
        s = chr(65 + r) + s
    return s


def xlsx(sheets, shared=True, macro=False, sheet_order=None):
    """A workbook. sheets: [(sheet name, rows)], rows a list of lists of
    str, int or None, the first sheet first. shared: strings in
    xl/sharedStrings.xml, else inline strings (t="inlineStr").
    sheet_order: worksheet file numbers in workbook order (default 1..n),
    e.g. [2, 1] makes the first sheet live in worksheets/sheet2.xml.
    macro: a macro-enabled workbook (vbaProject.bin, macro content type).
    """
    sst = []
    sst_index = {}
    files = []
    order = sheet_order or list(range(1, len(sheets) + 1))
    for (sname, rows), fileno in zip(sheets, order):
        xr = []
        for r, row in enumerate(rows):
            cells = []
            for c, v in enumerate(row):
                if v is None or v == "":
                    continue
                ref = "%s%d" % (_col(c), r + 1)
                if isinstance(v, (int, float)):
                    cells.append('<c r="%s"><v>%s</v></c>' % (ref, v))
                elif shared:
                    if v not in sst_index:
                        sst_index[v] = len(sst)
                        sst.append(v)
                    cells.append('<c r="%s" t="s"><v>%d</v></c>'
                                 % (ref, sst_index[v]))
                else:
                    cells.append('<c r="%s" t="inlineStr"><is><t>%s</t></is>'
                                 '</c>' % (ref, escape(v)))
            if cells:
                xr.append('<row r="%d">%s</row>' % (r + 1, "".join(cells)))
        files.append((fileno, sname, XML_HEAD +
                      '<worksheet xmlns="%s" xmlns:r="%s"><sheetData>%s'
                      '</sheetData></worksheet>' % (NS_MAIN, NS_R,
                                                    "".join(xr))))
    ct = [XML_HEAD, '<Types xmlns="%s">' % NS_CT,
          '<Default Extension="rels" ContentType="application/'
          'vnd.openxmlformats-package.relationships+xml"/>',
          '<Default Extension="xml" ContentType="application/xml"/>']
    if macro:
        ct.append('<Default Extension="bin" ContentType="%s"/>' % CT_VBA)
    ct.append('<Override PartName="/xl/workbook.xml" ContentType="%s"/>'
              % (CT_SHEET_MACRO if macro else CT_SHEET_MAIN))
    for fileno, _, _ in files:
        ct.append('<Override PartName="/xl/worksheets/sheet%d.xml" '
                  'ContentType="%s"/>' % (fileno, CT_WS))
    ct.append('<Override PartName="/xl/styles.xml" ContentType="%s"/>'
              % CT_STYLES)
    if shared:
        ct.append('<Override PartName="/xl/sharedStrings.xml" '
                  'ContentType="%s"/>' % CT_SST)
    ct.append("</Types>")
    rels = (XML_HEAD + '<Relationships xmlns="%s"><Relationship Id="rId1" '
            'Type="%s" Target="xl/workbook.xml"/></Relationships>'
            % (NS_PKG_REL, REL_OFFICE))
    wb_sheets = "".join('<sheet name="%s" sheetId="%d" r:id="rId%d"/>'
                        % (escape(sname), i + 1, fileno)
                        for i, (fileno, sname, _) in enumerate(files))
    wb = (XML_HEAD + '<workbook xmlns="%s" xmlns:r="%s"><sheets>%s</sheets>'
          '</workbook>' % (NS_MAIN, NS_R, wb_sheets))
    wrels = [XML_HEAD, '<Relationships xmlns="%s">' % NS_PKG_REL]
    for fileno, _, _ in files:
        wrels.append('<Relationship Id="rId%d" Type="%s" '
                     'Target="worksheets/sheet%d.xml"/>'
                     % (fileno, REL_WS, fileno))
    wrels.append('<Relationship Id="rId100" Type="%s" Target="styles.xml"/>'
                 % REL_STYLES)
    if shared:
        wrels.append('<Relationship Id="rId101" Type="%s" '
                     'Target="sharedStrings.xml"/>' % REL_SST)
    if macro:
        wrels.append('<Relationship Id="rId102" Type="%s" '
                     'Target="vbaProject.bin"/>' % REL_VBA)
    wrels.append("</Relationships>")
    styles = (XML_HEAD + '<styleSheet xmlns="%s"><fonts count="1"><font>'
              '<sz val="11"/><name val="Calibri"/></font></fonts>'
              '<fills count="1"><fill><patternFill patternType="none"/></fill>'
              '</fills><borders count="1"><border><left/><right/><top/>'
              '<bottom/><diagonal/></border></borders><cellStyleXfs count="1">'
              '<xf numFmtId="0" fontId="0" fillId="0" borderId="0"/>'
              '</cellStyleXfs><cellXfs count="1"><xf numFmtId="0" fontId="0" '
              'fillId="0" borderId="0" xfId="0"/></cellXfs><cellStyles count="1">'
              '<cellStyle name="Normal" xfId="0" builtinId="0"/></cellStyles>'
              '</styleSheet>'
              % NS_MAIN)
    parts = [("[Content_Types].xml", "".join(ct)), ("_rels/.rels", rels),
             ("xl/workbook.xml", wb),
             ("xl/_rels/workbook.xml.rels", "".join(wrels)),
             ("xl/styles.xml", styles)]
    for fileno, _, x in sorted(files):
        parts.append(("xl/worksheets/sheet%d.xml" % fileno, x))
    if shared:
        parts.append(("xl/sharedStrings.xml", XML_HEAD +
                      '<sst xmlns="%s" count="%d" uniqueCount="%d">%s</sst>'
                      % (NS_MAIN, len(sst), len(sst), "".join(
                          "<si><t>%s</t></si>" % escape(s) for s in sst))))
    if macro:
        parts.append(("xl/vbaProject.bin", vba_project()))
    return _zip_package(parts)


NS_W = "http://schemas.openxmlformats.org/wordprocessingml/2006/main"


def docx(paragraphs, macro=False, drop=()):
    """A Word document holding paragraphs (str). macro: a macro-enabled
    document (word/vbaProject.bin + macro content type) whatever the
    extension it is later given. drop: part names to leave out (for
    broken packages)."""
    body = "".join('<w:p><w:r><w:t xml:space="preserve">%s</w:t></w:r></w:p>'
                   % escape(p) for p in paragraphs)
    doc = (XML_HEAD + '<w:document xmlns:w="%s"><w:body>%s<w:sectPr>'
           '<w:pgSz w:w="11906" w:h="16838"/></w:sectPr></w:body>'
           '</w:document>' % (NS_W, body))
    ct = [XML_HEAD, '<Types xmlns="%s">' % NS_CT,
          '<Default Extension="rels" ContentType="application/'
          'vnd.openxmlformats-package.relationships+xml"/>',
          '<Default Extension="xml" ContentType="application/xml"/>']
    if macro:
        ct.append('<Default Extension="bin" ContentType="%s"/>' % CT_VBA)
    ct.append('<Override PartName="/word/document.xml" ContentType="%s"/>'
              % (CT_DOC_MACRO if macro else CT_DOC_MAIN))
    ct.append("</Types>")
    rels = (XML_HEAD + '<Relationships xmlns="%s"><Relationship Id="rId1" '
            'Type="%s" Target="word/document.xml"/></Relationships>'
            % (NS_PKG_REL, REL_OFFICE))
    parts = [("[Content_Types].xml", "".join(ct)), ("_rels/.rels", rels),
             ("word/document.xml", doc)]
    if macro:
        parts.append(("word/_rels/document.xml.rels", XML_HEAD +
                      '<Relationships xmlns="%s"><Relationship Id="rId1" '
                      'Type="%s" Target="vbaProject.bin"/></Relationships>'
                      % (NS_PKG_REL, REL_VBA)))
        parts.append(("word/vbaProject.bin", vba_project()))
    parts = [p for p in parts if p[0] not in drop]
    return _zip_package(parts)


# ------------------------------------------------------------ inventory --

INVENTORY_TITLE = "提出書類及び資料内訳書"


def inventory(rows, shared=True, header=("番号", "資料名称", "媒体"),
              header_row=3, preamble=None, extra_sheet=False,
              sheet_order=None, numbers_as_int=False):
    """The inventory workbook. rows: [(number, title, medium)]; medium
    None leaves the cell empty. The header row is preceded by a title and
    the applicant (ignored rows) and followed by one row per document."""
    if preamble is None:
        preamble = [[INVENTORY_TITLE], ["申請者名", "株式会社サンプル"]]
    grid = [list(r) for r in preamble]
    while len(grid) < header_row - 1:
        grid.append([])
    grid.append(list(header) + ["備考"])
    hmap = {h: i for i, h in enumerate(header)}
    ncol = next(h for h in ("番号", "資料番号", "No.") if h in hmap)
    tcol = next(h for h in ("資料名称", "名称") if h in hmap)
    for num, title, medium in rows:
        r = [None] * (len(header) + 1)
        nv = num
        if numbers_as_int and isinstance(num, str) and num.isdigit():
            nv = int(num)
        r[hmap[ncol]] = nv
        r[hmap[tcol]] = title
        if "媒体" in hmap and medium is not None:
            r[hmap["媒体"]] = medium
        grid.append(r)
    sheets = [("内訳書", grid)]
    if extra_sheet:
        sheets.append(("メモ", [["番号", "資料名称", "媒体"],
                                ["99", "ここは2枚目のシートです", "電子"]]))
    return xlsx(sheets, shared=shared, sheet_order=sheet_order)


# ------------------------------------------------------------------ CFB --

ENDOFCHAIN = 0xFFFFFFFE
FREESECT = 0xFFFFFFFF
FATSECT = 0xFFFFFFFD
NOSTREAM = 0xFFFFFFFF


def cfb(streams, root_clsid=b"\0" * 16):
    """A Compound File Binary (MS-CFB v3, 512-byte sectors) whose root
    storage holds streams [(name, data)]. Streams shorter than 4096 bytes
    are padded with zeros so that no mini stream is needed."""
    streams = [(n, d + b"\0" * max(0, 4096 - len(d))) for n, d in streams]
    # Directory: root + streams, 4 entries per sector.
    ndir = 1 + len(streams)
    dir_secs = (ndir + 3) // 4
    data_secs = [(len(d) + 511) // 512 for _, d in streams]
    nfat = 1
    while True:
        total = nfat + dir_secs + sum(data_secs)
        if (total + 127) // 128 <= nfat:
            break
        nfat += 1
    assert nfat <= 109
    fat = [FREESECT] * (nfat * 128)
    for i in range(nfat):
        fat[i] = FATSECT
    s = nfat
    dir_start = s
    for i in range(dir_secs):
        fat[s] = s + 1 if i < dir_secs - 1 else ENDOFCHAIN
        s += 1
    starts = []
    for n in data_secs:
        starts.append(s)
        for i in range(n):
            fat[s] = s + 1 if i < n - 1 else ENDOFCHAIN
            s += 1

    def dirent(name, typ, child=NOSTREAM, right=NOSTREAM, start=ENDOFCHAIN,
               size=0, clsid=b"\0" * 16):
        u = name.encode("utf-16-le") + b"\0\0"
        return (u.ljust(64, b"\0") + struct.pack("<HBB", len(u), typ, 1) +
                struct.pack("<III", NOSTREAM, right, child) + clsid +
                struct.pack("<I", 0) + b"\0" * 16 +
                struct.pack("<IQ", start, size))
    # Order the siblings as CFB compares names (length, then upper case)
    # and chain them to the right: a valid binary search tree.
    order = sorted(range(len(streams)),
                   key=lambda i: (len(streams[i][0]), streams[i][0].upper()))
    right = {order[k]: order[k + 1] + 1 for k in range(len(order) - 1)}
    ents = [dirent("Root Entry", 5, child=order[0] + 1 if order else NOSTREAM,
                   clsid=root_clsid)]
    for i, (name, d) in enumerate(streams):
        ents.append(dirent(name, 2, right=right.get(i, NOSTREAM),
                           start=starts[i], size=len(d)))
    while len(ents) % 4:
        ents.append(b"\0" * 64 + struct.pack("<HBB", 0, 0, 0) +
                    struct.pack("<III", NOSTREAM, NOSTREAM, NOSTREAM) +
                    b"\0" * 36 + struct.pack("<IQ", 0, 0))
    difat = list(range(nfat)) + [FREESECT] * (109 - nfat)
    hdr = (bytes.fromhex("D0CF11E0A1B11AE1") + b"\0" * 16 +
           struct.pack("<HHHHH", 0x3E, 3, 0xFFFE, 9, 6) + b"\0" * 6 +
           struct.pack("<IIIIIIIII", 0, nfat, dir_start, 0, 4096, ENDOFCHAIN,
                       0, ENDOFCHAIN, 0) +
           struct.pack("<109I", *difat))
    assert len(hdr) == 512
    out = [hdr, struct.pack("<%dI" % len(fat), *fat), b"".join(ents)]
    for _, d in streams:
        out.append(d + b"\0" * ((-len(d)) % 512))
    return b"".join(out)


WORD_CLSID = bytes.fromhex("0609020000000000C000000000000046")


def legacy_doc():
    """A Word 97-2003 .doc container (CFB with the Word CLSID and a
    WordDocument stream starting with the FIB magic 0xA5EC)."""
    fib = struct.pack("<HH", 0xA5EC, 0x00C1) + b"\0" * 1020
    return cfb([("WordDocument", fib), ("1Table", b"\0" * 512)],
               root_clsid=WORD_CLSID)


def encrypted_ooxml():
    """What Office writes for a password-protected .xlsx/.docx: not a ZIP
    but a CFB holding EncryptionInfo (agile, version 4.4) and
    EncryptedPackage (size + ciphertext)."""
    xml = ('<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\r\n'
           '<encryption xmlns="http://schemas.microsoft.com/office/2006/'
           'encryption" xmlns:p="http://schemas.microsoft.com/office/2006/'
           'keyEncryptor/password"><keyData saltSize="16" blockSize="16" '
           'keyBits="256" hashSize="64" cipherAlgorithm="AES" '
           'cipherChaining="ChainingModeCBC" hashAlgorithm="SHA512" '
           'saltValue="AAAAAAAAAAAAAAAAAAAAAA=="/><keyEncryptors>'
           '<keyEncryptor uri="http://schemas.microsoft.com/office/2006/'
           'keyEncryptor/password"><p:encryptedKey spinCount="100000" '
           'saltSize="16" blockSize="16" keyBits="256" hashSize="64" '
           'cipherAlgorithm="AES" cipherChaining="ChainingModeCBC" '
           'hashAlgorithm="SHA512" saltValue="AAAAAAAAAAAAAAAAAAAAAA==" '
           'encryptedVerifierHashInput="AAAAAAAAAAAAAAAAAAAAAA==" '
           'encryptedVerifierHashValue="AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA'
           'AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA==" '
           'encryptedKeyValue="AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA='
           '"/></keyEncryptor></keyEncryptors></encryption>')
    info = struct.pack("<HHI", 4, 4, 0x40) + xml.encode("utf-8")
    body = hashlib.sha256(b"kura ciphertext").digest() * 256
    pkg = struct.pack("<Q", 6000) + body
    return cfb([("EncryptionInfo", info), ("EncryptedPackage", pkg)])


def vba_project():
    """A vbaProject.bin-shaped CFB (the content does not run anything)."""
    return cfb([("dir", b"\x01\x00" + b"\0" * 64),
                ("PROJECT", b'ID="{00000000-0000-0000-0000-000000000000}"'
                 b'\r\nModule=Module1\r\n')])


# ------------------------------------------------------------------ ELF --

def elf():
    """A 129-byte x86-64 Linux executable that calls exit(0)."""
    code = bytes.fromhex("b83c00000031ff0f05")  # mov eax,60; xor edi,edi
    base = 0x400000
    ehdr_size, phdr_size = 64, 56
    entry = base + ehdr_size + phdr_size
    total = ehdr_size + phdr_size + len(code)
    ehdr = (b"\x7fELF" + bytes([2, 1, 1, 0]) + b"\0" * 8 +
            struct.pack("<HHIQQQIHHHHHH", 2, 0x3E, 1, entry, ehdr_size, 0, 0,
                        ehdr_size, phdr_size, 1, 0, 0, 0))
    phdr = struct.pack("<IIQQQQQQ", 1, 5, 0, base, base, total, total, 0x1000)
    return ehdr + phdr + code
