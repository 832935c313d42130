#!/usr/bin/env bash
# fuzz/make-seeds.sh ELFGEN [REFERENCE_IMAGE]
#
# Regenerate the ELF seeds: every elfgen matrix variant (classes, byte
# orders, machines, hash styles, version layouts, load layouts) becomes
# corpora/<target>/seed-elfgen-<variant> for each ELF target, and the
# reference vDSO image, when given, seed-reference-vdso. A kernel vDSO is
# never committed: the ELF targets replay this host's own with --live-vdso.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
elfgen=${1:?usage: make-seeds.sh ELFGEN [REFERENCE_IMAGE]}
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
"$elfgen" matrix "$tmp"
for target in fuzz_elf fuzz_elf_libelf fuzz_image; do
    mkdir -p "$root/corpora/$target"
    for f in "$tmp"/*.so; do
        cp "$f" "$root/corpora/$target/seed-elfgen-$(basename "$f" .so)"
    done
    [ -n "${2:-}" ] && cp "$2" "$root/corpora/$target/seed-reference-vdso"
done
echo "make-seeds.sh: $(ls "$tmp" | wc -l) variants per ELF target"
