#!/usr/bin/env python3
"""Rewrite the kernel's vDSO soname in corpus files to a name of ours.

Campaigns start from the reference image, whose soname is the kernel's
("linux-vdso.so.1"), so their finds carry it and look like kernel images.
Any "linux-vdso" prefix is rewritten (mutants also hold broken forms such
as "linux-vdso.so\\01"); the replacement has the same length, so no offset
in any file moves.
Usage: fuzz/scrub-soname.py FILE|DIR...
"""
import os
import sys

KERNEL = b"linux-vdso"
OURS = b"vdsokit-rf"
assert len(KERNEL) == len(OURS)


def scrub(path):
    with open(path, "rb") as f:
        data = f.read()
    if KERNEL not in data:
        return 0
    with open(path, "wb") as f:
        f.write(data.replace(KERNEL, OURS))
    return 1


def main(args):
    n = 0
    for arg in args:
        if os.path.isdir(arg):
            n += sum(scrub(os.path.join(arg, f)) for f in sorted(os.listdir(arg)))
        else:
            n += scrub(arg)
    print(f"scrub-soname: rewrote {n} file(s)")


if __name__ == "__main__":
    main(sys.argv[1:])
