#!/usr/bin/env bash
# ci/coverage.sh [TARGET...]
#
# Source-based coverage of impl/ after replaying the committed corpora:
# builds the harnesses with clang -fprofile-instr-generate -fcoverage-mapping
# and the replay driver (out/coverage-fuzz), replays corpora/<target>/ (the
# ELF targets also replay this host's own vDSO with --live-vdso), then writes
# per target a text report (out/coverage-fuzz/report/<target>.txt) and an
# HTML tree (report/<target>-html/), plus one combined report over all
# targets. Prints the line coverage of impl/elf and of the reference vDSO
# functions (impl/vdso), the numbers the fuzzing goals are stated in.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
build=${COVERAGE_BUILD_DIR:-$root/out/coverage-fuzz}
report=$build/report
profdata=$(command -v llvm-profdata-14 || command -v llvm-profdata)
llvm_cov=$(command -v llvm-cov-14 || command -v llvm-cov)

if [ ! -f "$build/CMakeCache.txt" ]; then
    cmake -S "$root" -B "$build" -G Ninja -DCMAKE_C_COMPILER=clang -DCMAKE_BUILD_TYPE=Debug \
        -DVDSOKIT_COVERAGE=ON -DVDSOKIT_FUZZ_ENGINE=replay -DVDSOKIT_SANITIZE=none >/dev/null
fi
cmake --build "$build" --target fuzzers >/dev/null

targets=("$@")
if [ ${#targets[@]} -eq 0 ]; then
    for bin in "$build"/fuzz/fuzz_*; do
        [ -x "$bin" ] && [ -d "$root/corpora/$(basename "$bin")" ] && targets+=("$(basename "$bin")")
    done
fi
rm -rf "$report"
mkdir -p "$report/raw"
ignore='(fuzz/|impl/tests/|impl/tools/|conformance/|/usr/)'
objects=()
for t in "${targets[@]}"; do
    bin=$build/fuzz/$t
    extra=()
    [[ $t == fuzz_elf* ]] && extra=(--live-vdso)
    LLVM_PROFILE_FILE="$report/raw/$t-%p.profraw" "$bin" "$root/corpora/$t" "${extra[@]}" \
        >"$report/$t.replay.log" 2>&1 ||
        { echo "coverage.sh: replay of $t failed, see $report/$t.replay.log" >&2; exit 1; }
    "$profdata" merge -sparse "$report"/raw/"$t"-*.profraw -o "$report/$t.profdata"
    "$llvm_cov" report "$bin" -instr-profile="$report/$t.profdata" \
        -ignore-filename-regex="$ignore" >"$report/$t.txt"
    "$llvm_cov" show "$bin" -instr-profile="$report/$t.profdata" -format=html \
        -ignore-filename-regex="$ignore" -output-dir="$report/$t-html" >/dev/null
    echo "coverage.sh: $t: $(awk '/^TOTAL/ {print "regions " $4 ", functions " $7 ", lines " $10}' \
        "$report/$t.txt")"
    objects+=(-object "$bin")
done
[ ${#objects[@]} -gt 0 ] || { echo "coverage.sh: nothing replayed" >&2; exit 1; }

"$profdata" merge -sparse "$report"/*.profdata -o "$report/all.profdata"
first=${objects[1]}
rest=("${objects[@]:2}")
"$llvm_cov" report "$first" "${rest[@]}" -instr-profile="$report/all.profdata" \
    -ignore-filename-regex="$ignore" >"$report/all.txt"
"$llvm_cov" show "$first" "${rest[@]}" -instr-profile="$report/all.profdata" -format=html \
    -ignore-filename-regex="$ignore" -output-dir="$report/all-html" >/dev/null
for dir in impl/elf impl/check impl/vdso impl/loader impl/kernel; do
    [ -d "$root/$dir" ] || continue
    line=$("$llvm_cov" report "$first" "${rest[@]}" -instr-profile="$report/all.profdata" \
        "$root/$dir" 2>/dev/null | awk '/^TOTAL/ {print "lines " $10 " (" $9 " of " $8 " missed)"}')
    echo "coverage.sh: all corpora, $dir: ${line:-not linked into any harness}"
done
echo "coverage.sh: reports in $report (all.txt, all-html/index.html, <target>.txt, <target>-html/)"
