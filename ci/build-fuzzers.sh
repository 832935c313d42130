#!/usr/bin/env bash
# Build every fuzz harness under the OSS-Fuzz build contract, the recipe
# that .clusterfuzzlite/build.sh (and an OSS-Fuzz project's build.sh) calls:
#   CC, CXX             compilers                 (default clang, $CC++)
#   CFLAGS              instrumentation           (default ASan+UBSan+alignment,
#                                                  -fsanitize=fuzzer-no-link)
#   LIB_FUZZING_ENGINE  engine: a flag or archive (default -fsanitize=fuzzer)
#   SRC                 where sources live        (default: this checkout's parent)
#   OUT                 binaries, seed corpora (<target>_seed_corpus.zip),
#                       dictionaries and .options (default out/ossfuzz)
#   WORK                scratch build tree        (default out/ossfuzz-build)
# CFLAGS reach the harnesses and the library under test only (never the
# freestanding vDSO image or CMake's try_compile checks); libelf stays the
# system's uninstrumented library, as a reference oracle should.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)

: "${CC:=clang}"
: "${CXX:=${CC}++}" # links the engine when LIB_FUZZING_ENGINE is a C++ archive
: "${CFLAGS:=-O1 -fno-omit-frame-pointer -g -DFUZZING_BUILD_MODE_UNSAFE_FOR_PRODUCTION -fsanitize=address,undefined,alignment -fno-sanitize-recover=all -fsanitize=fuzzer-no-link}"
: "${LIB_FUZZING_ENGINE:=-fsanitize=fuzzer}"
: "${SRC:=$(dirname "$root")}"
: "${OUT:=$root/out/ossfuzz}"
: "${WORK:=$root/out/ossfuzz-build}"
export SRC

mkdir -p "$OUT" "$WORK"
# CMake would copy $CFLAGS into CMAKE_C_FLAGS on first configure: hide it.
CFLAGS= CXXFLAGS= cmake -S "$root" -B "$WORK" -G Ninja -DCMAKE_C_COMPILER="$CC" -DCMAKE_CXX_COMPILER="$CXX" \
    -DCMAKE_BUILD_TYPE=RelWithDebInfo -DVDSOKIT_FUZZ_ENGINE=ossfuzz -DVDSOKIT_SANITIZE=none \
    -DVDSOKIT_WERROR=OFF -DBUILD_TESTING=OFF \
    -DVDSOKIT_FUZZ_CFLAGS="$CFLAGS" -DVDSOKIT_FUZZ_LINK="$LIB_FUZZING_ENGINE"
CFLAGS= cmake --build "$WORK" --target fuzzers

zip_dir() { # dir zipfile
    python3 - "$1" "$2" <<'PY'
import os, sys, zipfile
src, dst = sys.argv[1], sys.argv[2]
with zipfile.ZipFile(dst, "w", zipfile.ZIP_DEFLATED) as z:
    for name in sorted(os.listdir(src)):
        if os.path.isfile(os.path.join(src, name)):
            z.write(os.path.join(src, name), name)
PY
}

built=0
for harness in "$root"/fuzz/fuzz_*.c; do
    name=$(basename "$harness" .c)
    [ -x "$WORK/fuzz/$name" ] || continue
    cp "$WORK/fuzz/$name" "$OUT/"
    [ -f "$root/fuzz/$name.options" ] && cp "$root/fuzz/$name.options" "$OUT/"
    [ -d "$root/corpora/$name" ] && zip_dir "$root/corpora/$name" "$OUT/${name}_seed_corpus.zip"
    built=$((built + 1))
done
cp "$root"/fuzz/*.dict "$OUT/"
for so in "$WORK"/fuzz/afl_*_mutator.so; do [ -f "$so" ] && cp "$so" "$OUT/"; done
echo "build-fuzzers.sh: $built fuzz targets in $OUT"
