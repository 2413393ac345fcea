"""tests/gen/zipw.py - a ZIP writer that can also lie.

Python's zipfile cannot write raw CP932 name bytes without the UTF-8 flag,
lying sizes, overlapping entries or mismatched local headers, so this module
writes every byte itself (APPNOTE 6.3.10). Everything is deterministic: a
fixed DOS timestamp, entries in the order given, no randomness.

Standard library only (struct, zlib).
"""
import struct
import zlib

# 2026-04-01 10:00:00 local time, DOS format (fixed: reproducible bytes).
DOS_TIME = (10 << 11) | (0 << 5) | 0
DOS_DATE = ((2026 - 1980) << 9) | (4 << 5) | 1

FLAG_ENCRYPTED = 0x0001
FLAG_DESCRIPTOR = 0x0008
FLAG_UTF8 = 0x0800

S_IFREG = 0o100000
S_IFDIR = 0o040000
S_IFLNK = 0o120000
S_IFIFO = 0o010000
S_IFCHR = 0o020000
S_IFBLK = 0o060000
S_IFSOCK = 0o140000


def deflate(data, level=9):
    c = zlib.compressobj(level, zlib.DEFLATED, -15, 9)
    return c.compress(data) + c.flush()


class Entry:
    """One ZIP entry. name is bytes (raw, exactly as written)."""

    def __init__(self, name, data=b"", method=8, utf8=None, descriptor=False,
                 desc_sig=True, zip64=False, mode=None, dos_attr=None,
                 extra=b"", cd_extra=None, level=9, is_dir=False):
        if isinstance(name, str):
            raw = name.encode("utf-8")
            if utf8 is None:
                utf8 = any(b >= 0x80 for b in raw)
            name = raw
        self.name = name
        self.data = data
        self.method = method
        self.utf8 = bool(utf8)
        self.descriptor = descriptor
        self.desc_sig = desc_sig
        self.zip64 = zip64
        self.extra = extra
        self.cd_extra = extra if cd_extra is None else cd_extra
        self.is_dir = is_dir
        if mode is not None:
            self.create_system = 3  # Unix
            self.ext_attr = (mode << 16) | (0x10 if is_dir else 0)
        else:
            self.create_system = 0  # MS-DOS (as Windows Explorer writes)
            self.ext_attr = dos_attr if dos_attr is not None else (
                0x10 if is_dir else 0x20)
        self.level = level
        self.comp = None        # override: compressed bytes as stored
        self.crc = None         # override: CRC written in headers
        self.flags_extra = 0    # extra general-purpose bits
        self.lfh = {}           # overrides for the local header only
        self.cd = {}            # overrides for the central directory only
        self.version_needed = None
        # filled by write():
        self.offset = None
        self.real_csize = None

    def compressed(self):
        if self.comp is not None:
            return self.comp
        if self.method == 0:
            return self.data
        if self.method == 8:
            return deflate(self.data, self.level)
        raise ValueError("set comp for method %d" % self.method)


def zip64_extra(usize=None, csize=None, offset=None):
    body = b""
    for v in (usize, csize, offset):
        if v is not None:
            body += struct.pack("<Q", v)
    return struct.pack("<HH", 0x0001, len(body)) + body


def unicode_path_extra(orig_name, utf8_name, crc=None):
    """Info-ZIP Unicode Path extra field (0x7075)."""
    if crc is None:
        crc = zlib.crc32(orig_name)
    body = struct.pack("<BI", 1, crc) + utf8_name
    return struct.pack("<HH", 0x7075, len(body)) + body


class Writer:
    """Writes entries to a file-like object, then the central directory."""

    def __init__(self, out):
        self.out = out
        self.pos = 0
        self.entries = []

    def raw(self, b):
        self.out.write(b)
        self.pos += len(b)

    def add(self, e, comp=None, usize=None):
        """Writes e's local header and data. comp: the compressed bytes
        (default: compress e.data); usize: the uncompressed size when
        e.data is not given (then set e.crc)."""
        if comp is None:
            comp = e.compressed()
        crc = zlib.crc32(e.data) if e.crc is None else e.crc
        e.real_csize = len(comp)
        if usize is None:
            usize = len(e.data)
        csize = len(comp)
        flags = e.flags_extra
        if e.utf8:
            flags |= FLAG_UTF8
        if e.descriptor:
            flags |= FLAG_DESCRIPTOR
        e.offset = self.pos
        e.hdr = dict(crc=crc, csize=csize, usize=usize, flags=flags)
        need = 45 if e.zip64 else (20 if e.method == 8 or e.is_dir else 10)
        if e.version_needed is not None:
            need = e.version_needed
        e.need = need
        f = dict(version=need, flags=flags, method=e.method, time=DOS_TIME,
                 date=DOS_DATE, crc=crc, csize=csize, usize=usize,
                 name=e.name, extra=e.extra)
        if e.descriptor:
            f["crc"] = 0
            f["csize"] = 0
            f["usize"] = 0
        if e.zip64:
            if e.descriptor:
                # streamed Zip64 (as `zip` writes to a pipe): sizes in the
                # descriptor, zero placeholders in the extra field
                f["extra"] = zip64_extra(0, 0) + e.extra
            else:
                f["extra"] = zip64_extra(usize, csize) + e.extra
            f["csize"] = 0xFFFFFFFF
            f["usize"] = 0xFFFFFFFF
        f.update(e.lfh)
        self.raw(struct.pack("<IHHHHHIIIHH", 0x04034B50, f["version"],
                             f["flags"], f["method"], f["time"], f["date"],
                             f["crc"], f["csize"], f["usize"], len(f["name"]),
                             len(f["extra"])) + f["name"] + f["extra"])
        self.raw(comp)
        if e.descriptor:
            d = struct.pack("<I", 0x08074B50) if e.desc_sig else b""
            if e.zip64:
                d += struct.pack("<IQQ", crc, csize, usize)
            else:
                d += struct.pack("<III", crc, csize, usize)
            self.raw(d)
        self.entries.append(e)
        return e

    def central(self, e, **override):
        h = e.hdr
        extra = e.cd_extra
        csize, usize, off = h["csize"], h["usize"], e.offset
        if e.zip64:
            extra = zip64_extra(usize, csize, off) + extra
            csize = usize = off = 0xFFFFFFFF
        f = dict(made=(e.create_system << 8) | 63, version=e.need,
                 flags=h["flags"], method=e.method, time=DOS_TIME,
                 date=DOS_DATE, crc=h["crc"], csize=csize, usize=usize,
                 name=e.name, extra=extra, comment=b"", disk=0, int_attr=0,
                 ext_attr=e.ext_attr, offset=off)
        f.update(e.cd)
        f.update(override)
        return struct.pack("<IHHHHHHIIIHHHHHII", 0x02014B50, f["made"],
                           f["version"], f["flags"], f["method"], f["time"],
                           f["date"], f["crc"], f["csize"], f["usize"],
                           len(f["name"]), len(f["extra"]), len(f["comment"]),
                           f["disk"], f["int_attr"], f["ext_attr"],
                           f["offset"]) + f["name"] + f["extra"] + f["comment"]

    def finish(self, comment=b"", zip64=None, count=None, cd_entries=None,
               cd_offset_delta=0):
        """Writes the central directory and end records.

        zip64: also write the Zip64 EOCD record and locator (default: when
        any entry is Zip64). count/cd_offset_delta: lie in the EOCD.
        """
        cd_start = self.pos
        blobs = cd_entries if cd_entries is not None else [
            self.central(e) for e in self.entries]
        for b in blobs:
            self.raw(b)
        cd_size = self.pos - cd_start
        n = len(blobs) if count is None else count
        if zip64 is None:
            zip64 = any(e.zip64 for e in self.entries)
        off = cd_start + cd_offset_delta
        if zip64:
            z64 = self.pos
            self.raw(struct.pack("<IQHHIIQQQQ", 0x06064B50, 44, 45, 45, 0, 0,
                                 n, n, cd_size, off))
            self.raw(struct.pack("<IIQI", 0x07064B50, 0, z64, 1))
            self.raw(struct.pack("<IHHHHIIH", 0x06054B50, 0, 0, 0xFFFF,
                                 0xFFFF, 0xFFFFFFFF, 0xFFFFFFFF, len(comment))
                     + comment)
        else:
            self.raw(struct.pack("<IHHHHIIH", 0x06054B50, 0, 0, n, n, cd_size,
                                 off, len(comment)) + comment)


class _Buf:
    def __init__(self):
        self.parts = []

    def write(self, b):
        self.parts.append(bytes(b))

    def value(self):
        return b"".join(self.parts)


def build(entries, prefix=b"", comment=b"", zip64=None, between=None):
    """Returns the bytes of a ZIP holding entries (a list of Entry).

    prefix: bytes before the first entry (offsets include them, i.e. the
    bytes are unreferenced data). between: {index: bytes} written after
    entry index (unreferenced gaps).
    """
    buf = _Buf()
    w = Writer(buf)
    if prefix:
        w.raw(prefix)
    for i, e in enumerate(entries):
        w.add(e)
        if between and i in between:
            w.raw(between[i])
    w.finish(comment=comment, zip64=zip64)
    return buf.value()


def zipcrypto_encrypt(data, password, check_byte):
    """Traditional PKWARE encryption (APPNOTE 6.1): 12-byte header + data.

    Deterministic header bytes (the last one is the CRC check byte).
    """
    k = [0x12345678, 0x23456789, 0x34567890]

    def crc_byte(c, b):
        return zlib.crc32(bytes([b]), c ^ 0xFFFFFFFF) ^ 0xFFFFFFFF

    def update(b):
        k[0] = crc_byte(k[0], b)
        k[1] = (k[1] + (k[0] & 0xFF)) & 0xFFFFFFFF
        k[1] = (k[1] * 134775813 + 1) & 0xFFFFFFFF
        k[2] = crc_byte(k[2], (k[1] >> 24) & 0xFF)

    def stream_byte():
        t = (k[2] | 2) & 0xFFFF
        return ((t * (t ^ 1)) >> 8) & 0xFF

    for b in password:
        update(b)
    out = bytearray()
    header = bytes(range(11)) + bytes([check_byte])
    for b in header + data:
        c = b ^ stream_byte()
        update(b)
        out.append(c)
    return bytes(out)


def fifield_overlap(names, kernel_data, level=9, prefix_entries=()):
    """David Fifield's "quoted overlap" construction (bamsoftware.com/hacks/
    zipbomb), written from the description: every file's compressed data
    begins with a non-final stored deflate block that quotes the next
    file's local header, then continues into that file's data; the last
    file holds the kernel. All files share the kernel's bytes.

    prefix_entries: ordinary Entry objects written first (valid documents).
    Returns the ZIP bytes.
    """
    kernel = deflate(kernel_data, level)
    n = len(names)
    # Work backwards: content[i] = lfh[i+1] + content[i+1].
    lfhs = [None] * n
    comps = [None] * n
    contents = [None] * n
    crcs = [None] * n

    def lfh_bytes(name, crc, csize, usize):
        return struct.pack("<IHHHHHIIIHH", 0x04034B50, 20, FLAG_UTF8, 8,
                           DOS_TIME, DOS_DATE, crc, csize, usize, len(name),
                           0) + name
    enc = [nm.encode("utf-8") for nm in names]
    for i in range(n - 1, -1, -1):
        if i == n - 1:
            comps[i] = kernel
            contents[i] = kernel_data
        else:
            quoted = lfhs[i + 1]
            assert len(quoted) < 65536
            comps[i] = (struct.pack("<BHH", 0, len(quoted),
                                    len(quoted) ^ 0xFFFF) + quoted
                        + comps[i + 1])
            contents[i] = quoted + contents[i + 1]
        crcs[i] = zlib.crc32(contents[i])
        lfhs[i] = lfh_bytes(enc[i], crcs[i], len(comps[i]), len(contents[i]))
    buf = _Buf()
    w = Writer(buf)
    for e in prefix_entries:
        w.add(e)
    cds = [w.central(e) for e in prefix_entries]
    base = w.pos
    # The files' bytes: lfh[0] + comp[0] (which contains everything else).
    w.raw(lfhs[0] + comps[0])
    off = base
    for i in range(n):
        cds.append(struct.pack(
            "<IHHHHHHIIIHHHHHII", 0x02014B50, 63, 20, FLAG_UTF8, 8, DOS_TIME,
            DOS_DATE, crcs[i], len(comps[i]), len(contents[i]), len(enc[i]),
            0, 0, 0, 0, 0x20, off) + enc[i])
        off += len(lfhs[i]) + 5  # next header sits after the stored-block hdr
    w.finish(cd_entries=cds)
    return buf.value(), sum(len(c) for c in contents)
