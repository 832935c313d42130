#!/bin/sh
# install_consumer.sh BUILD CONSUMER_SRC WORK CC CMAKE
#
# Installs the build tree BUILD into WORK/prefix, then checks what a user
# gets: the shared resolver exports exactly the functions the installed
# elf.h and elf_sections.h declare; every <vdsokit/...> an installed header
# includes is installed; the consumer in CONSUMER_SRC builds and runs
# against the installed tree through the CMake package (vdsokit::elf, which
# must really link libvdsokit_elf.so, and vdsokit::elf_static) and through
# pkg-config (vdsokit-elf.pc). The tools answer --version from bin/.
set -eu
build=$1 src=$2 work=$3 cc=$4 cmake=$5
prefix=$work/prefix
fail() { echo "FAIL: $*"; exit 1; }

rm -rf "$work"
mkdir -p "$work"
"$cmake" --install "$build" --prefix "$prefix" >"$work/install.log" || fail "cmake --install"
inc=$prefix/include/vdsokit
lib=$(ls -d "$prefix"/lib*/libvdsokit_elf.so | head -n 1)
libdir=$(dirname "$lib")

# Exports: the header's function declarations, nothing more, nothing less.
grep -hE '^[a-z].*\(' "$inc/elf.h" "$inc/elf_sections.h" | grep -oE '[a-z_0-9]+\(' |
    tr -d '(' | sort -u >"$work/declared"
nm -D --defined-only "$lib" | awk '$2 == "T" || $2 == "D" || $2 == "B" { print $3 }' |
    sed 's/@.*//' | sort -u >"$work/exported"
[ -s "$work/declared" ] || fail "no declarations parsed from $inc"
diff -u "$work/declared" "$work/exported" || fail "libvdsokit_elf.so exports differ from the headers"
echo "exports: $(wc -l <"$work/exported") functions, as declared"
readelf -d "$lib" | grep -q 'SONAME.*libvdsokit_elf\.so\.' || fail "no versioned SONAME"

# Installed headers include only installed headers.
for h in "$inc"/*.h; do
    for dep in $(sed -n 's|^#include <vdsokit/\([^>]*\)>.*|\1|p' "$h"); do
        [ -f "$inc/$dep" ] || fail "$h includes vdsokit/$dep, which is not installed"
    done
done

# The CMake package, both libraries.
"$cmake" -S "$src" -B "$work/cmake" -DCMAKE_C_COMPILER="$cc" -DCMAKE_PREFIX_PATH="$prefix" \
    -DCMAKE_BUILD_TYPE=Release >"$work/cmake.log" 2>&1 || { cat "$work/cmake.log"; fail "configure"; }
"$cmake" --build "$work/cmake" >>"$work/cmake.log" 2>&1 || { cat "$work/cmake.log"; fail "build"; }
readelf -d "$work/cmake/consumer_shared" | grep -q 'NEEDED.*libvdsokit_elf\.so' ||
    fail "vdsokit::elf did not link the shared library"
readelf -d "$work/cmake/consumer_static" | grep -q 'NEEDED.*libvdsokit_elf' &&
    fail "vdsokit::elf_static linked the shared library"
"$work/cmake/consumer_shared" || fail "consumer_shared (CMake package)"
"$work/cmake/consumer_static" || fail "consumer_static (CMake package)"

# pkg-config.
flags=$(PKG_CONFIG_PATH=$libdir/pkgconfig pkg-config --cflags --libs vdsokit-elf) ||
    fail "pkg-config vdsokit-elf"
# shellcheck disable=SC2086 # the flags are words
"$cc" -o "$work/consumer_pc" "$src/consumer.c" $flags -Wl,-rpath,"$libdir" ||
    fail "cc \$(pkg-config --cflags --libs vdsokit-elf)"
"$work/consumer_pc" || fail "consumer (pkg-config)"

for tool in vdsoconf vdsoimg; do
    "$prefix/bin/$tool" --version | grep -qE "^$tool [0-9]+\.[0-9]+\.[0-9]+" ||
        fail "$tool --version"
done
[ -f "$prefix/share/vdsokit/waivers.txt" ] || fail "waivers.txt not installed"
echo "PASS: installed tree in $prefix builds and runs the consumer both ways"
