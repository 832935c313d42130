#!/usr/bin/env python3
"""Find the vDSO images a kernel binary embeds and write each to a file.

ci/real-images runs it on the kernel of each Debian package it fetched
(vmlinuz, vmlinux or Image, of any architecture). A kernel links its vDSO
into its own data as a whole ELF file, stored compressed when the kernel
is: the script looks at the raw file and at every stream that decompresses
from a compression magic inside it (gzip, xz, lzma, bzip2, zstd, lz4), then
takes every embedded ELF whose dynamic section names a vDSO soname. An
image's size is where its last section, program or section header ends.

    real-images-extract.py KERNEL OUTDIR PREFIX

writes OUTDIR/PREFIX-<machine>-<32|64>.so per distinct image and prints
one line per image: path, ELF class, machine number, soname, size.
Exit 0 with at least one image, 1 with none, 2 on bad arguments.
"""
import bz2
import hashlib
import lzma
import os
import struct
import subprocess
import sys
import zlib

SONAMES = {b"linux-vdso.so.1", b"linux-vdso32.so.1", b"linux-vdso64.so.1", b"linux-gate.so.1"}
# e_machine -> the name ci/real-images files an image under
MACHINES = {3: "i386", 62: "x86_64", 183: "aarch64", 40: "arm", 22: "s390", 21: "ppc64",
            20: "ppc", 243: "riscv", 258: "loongarch"}
MAX_IMAGE = 1 << 20  # a vDSO is a few pages; anything larger is not one
MAX_STREAM = 1 << 30  # a decompressed kernel fits easily in this

MAGICS = [
    (b"\x1f\x8b\x08", "gzip"),
    (b"\xfd7zXZ\x00", "xz"),
    (b"\x5d\x00\x00", "lzma"),
    (b"BZh", "bzip2"),
    (b"\x28\xb5\x2f\xfd", "zstd"),
    (b"\x02\x21\x4c\x18", "lz4"),
]


def decompress_cli(tool, data):
    """zstd and lz4 have no module here: their tools, output kept on a trailer error."""
    try:
        p = subprocess.run([tool, "-dc"], input=data, capture_output=True, timeout=120)
    except (OSError, subprocess.TimeoutExpired):
        return b""
    return p.stdout


def decompress(kind, data):
    """As much of the stream at data[0:] as decodes; empty when none does."""
    try:
        if kind == "gzip":
            return zlib.decompressobj(16 + zlib.MAX_WBITS).decompress(data, MAX_STREAM)
        if kind == "xz":
            return lzma.LZMADecompressor(lzma.FORMAT_XZ).decompress(data, MAX_STREAM)
        if kind == "lzma":
            return lzma.LZMADecompressor(lzma.FORMAT_ALONE).decompress(data, MAX_STREAM)
        if kind == "bzip2":
            return bz2.BZ2Decompressor().decompress(data, MAX_STREAM)
    except (zlib.error, lzma.LZMAError, OSError, EOFError, ValueError):
        return b""
    return decompress_cli(kind, data)


def streams(raw):
    """The raw file and every stream that decompresses from a magic inside it."""
    yield raw
    for magic, kind in MAGICS:
        start = 0
        tries = 0
        while tries < 64:
            at = raw.find(magic, start)
            if at < 0:
                break
            start = at + 1
            if kind == "lzma" and raw[at + 3 : at + 5] == b"\x00\x00":
                continue  # a run of zeros, not an lzma header
            tries += 1
            out = decompress(kind, raw[at:])
            if len(out) > 1 << 20:
                yield out
                if kind != "gzip":
                    break  # one kernel stream per kind; gzip also packs the config


class Elf:
    """Just enough of an ELF header to bound the file and read its soname."""

    def __init__(self, blob, at):
        ident = blob[at : at + 16]
        self.cls, self.data = ident[4], ident[5]
        if self.cls not in (1, 2) or self.data not in (1, 2):
            raise ValueError("not ELF")
        self.blob, self.at = blob, at
        self.end = "<" if self.data == 1 else ">"
        if self.cls == 1:
            hdr = self.unpack("HHIIIIIHHHHHH", 16)
            (self.type, self.machine, _, _, self.phoff, self.shoff, _, _, self.phentsize,
             self.phnum, self.shentsize, self.shnum, _) = hdr
        else:
            hdr = self.unpack("HHIQQQIHHHHHH", 16)
            (self.type, self.machine, _, _, self.phoff, self.shoff, _, _, self.phentsize,
             self.phnum, self.shentsize, self.shnum, _) = hdr
        if self.type != 3 or not self.shnum or self.shoff > MAX_IMAGE:
            raise ValueError("not a shared object with sections")
        self.sections = [self.section(i) for i in range(self.shnum)]

    def unpack(self, fmt, off):
        fmt = self.end + fmt
        pos = self.at + off
        if off < 0 or pos + struct.calcsize(fmt) > len(self.blob):
            raise ValueError("truncated")
        return struct.unpack_from(fmt, self.blob, pos)

    def section(self, i):
        base = self.shoff + i * self.shentsize
        if self.cls == 1:
            _, typ, _, _, off, size, link, _, _, _ = self.unpack("IIIIIIIIII", base)
        else:
            _, typ, _, _, off, size, link, _, _, _ = self.unpack("IIQQQQIIQQ", base)
        return typ, off, size, link

    def size(self):
        ends = [self.shoff + self.shnum * self.shentsize]
        ends += [off + size for typ, off, size, _ in self.sections if typ != 8]  # not NOBITS
        return max(ends)

    def soname(self):
        dyn = [s for s in self.sections if s[0] == 6]  # SHT_DYNAMIC
        if not dyn or dyn[0][3] >= len(self.sections):
            return None
        _, off, size, link = dyn[0]
        strtab = self.sections[link][1]
        ent = 8 if self.cls == 1 else 16
        for pos in range(off, off + size, ent):
            tag, val = self.unpack("iI" if self.cls == 1 else "qQ", pos)
            if tag == 0:
                break
            if tag == 14:  # DT_SONAME
                name = self.blob[self.at + strtab + val : self.at + strtab + val + 32]
                return name.split(b"\0", 1)[0]
        return None


def images(blob):
    """(soname, class, machine, bytes) of every embedded vDSO in blob."""
    at = blob.find(b"\x7fELF")
    while at >= 0:
        try:
            e = Elf(blob, at)
            name = e.soname()
            size = e.size()
            if name in SONAMES and size <= MAX_IMAGE and at + size <= len(blob):
                yield name.decode(), e.cls, e.machine, blob[at : at + size]
        except (ValueError, struct.error, IndexError):
            pass
        at = blob.find(b"\x7fELF", at + 4)


def main(argv):
    if len(argv) != 4:
        print(__doc__.strip(), file=sys.stderr)
        return 2
    kernel, outdir, prefix = argv[1:]
    with open(kernel, "rb") as f:
        raw = f.read()
    os.makedirs(outdir, exist_ok=True)
    seen, written = set(), set()
    for blob in streams(raw):
        for name, cls, machine, data in images(blob):
            digest = hashlib.sha256(data).hexdigest()
            if digest in seen:
                continue
            seen.add(digest)
            bits = 32 if cls == 1 else 64
            path = os.path.join(outdir, f"{prefix}-{MACHINES.get(machine, machine)}-{bits}.so")
            if os.path.exists(path) and path in written:
                path = path[:-3] + f"-{digest[:8]}.so"
            written.add(path)
            with open(path, "wb") as f:
                f.write(data)
            print(f"{path} elf{bits} {machine} {name} {len(data)}")
    return 0 if seen else 1


if __name__ == "__main__":
    sys.exit(main(sys.argv))
