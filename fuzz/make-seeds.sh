#!/usr/bin/env bash
# fuzz/make-seeds.sh ELFGEN
#
# Regenerate the ELF seeds: every elfgen matrix variant (classes, byte
# orders, machines, hash styles, version layouts, load layouts) becomes
# corpora/<target>/seed-elfgen-<variant> for each ELF target. No image that
# carries the kernel's soname is committed: the regression tests replay the
# reference image as built and this host's live vDSO (--live-vdso), and
# campaign finds are passed through fuzz/scrub-soname.py before they land.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
elfgen=${1:?usage: make-seeds.sh ELFGEN}
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
"$elfgen" matrix "$tmp"
for target in fuzz_elf fuzz_elf_libelf fuzz_image; do
    mkdir -p "$root/corpora/$target"
    for f in "$tmp"/*.so; do
        cp "$f" "$root/corpora/$target/seed-elfgen-$(basename "$f" .so)"
    done
done
echo "make-seeds.sh: $(ls "$tmp" | wc -l) variants per ELF target"
