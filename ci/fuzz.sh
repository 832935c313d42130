#!/usr/bin/env bash
# ci/fuzz.sh TARGET SECONDS [libfuzzer|afl] [--jobs N] [--merge|--minimise]
#            [--build-dir DIR] [--work-dir DIR]
#
# One bounded fuzzing campaign on one harness. Builds the engine's binary
# (out/fuzz-libfuzzer, or out/fuzz-afl plus an AFL_LLVM_CMPLOG build in
# out/fuzz-afl-cmplog) unless --build-dir names a configured build, fuzzes
# for SECONDS starting from corpora/TARGET/ (never written to during the
# run), prints exec/s, coverage and the number of new corpus entries, and
# exits non-zero when anything crashed (AFL++ itself exits 0 after saving
# crashes, so its crash directories are checked; libFuzzer's timeout-,
# leak- and oom- artifacts count too, AFL++ "hangs" under its 1 s timeout
# on a loaded machine are only reported). --merge minimises the new
# finds against corpora/TARGET/ and adds those that bring new coverage, named
# by provenance (<engine>-<date>-<hash>). --minimise (libFuzzer) rebuilds
# corpora/TARGET/ as what -merge=1 keeps from the committed files plus the
# new finds (smallest first), keeping every crash-* reproducer and seed-*
# generator seed (they name the classes the seeds stand for) and the names
# of the files it keeps; SECONDS may be 0 to minimise without
# fuzzing. --jobs N runs libFuzzer with
# -fork=N, or AFL++ as one main (with the CMPLOG binary) and N-1 secondaries
# (the first with the structure-aware custom mutator when one exists).
set -euo pipefail

usage() { sed -n '2,3p' "$0" | sed 's/^# \{0,1\}//' >&2; exit 2; }

root=$(cd "$(dirname "$0")/.." && pwd)
[ $# -ge 2 ] || usage
target=$1 seconds=$2
shift 2
engine=libfuzzer jobs=1 merge=0 build_dir="" work=""
if [ $# -gt 0 ] && [[ $1 != --* ]]; then engine=$1; shift; fi
while [ $# -gt 0 ]; do
    case $1 in
    --jobs) jobs=$2; shift 2 ;;
    --merge) merge=1; shift ;;
    --minimise) merge=2; shift ;;
    --build-dir) build_dir=$2; shift 2 ;;
    --work-dir) work=$2; shift 2 ;;
    *) usage ;;
    esac
done
case $engine in libfuzzer|afl) ;; *) echo "fuzz.sh: unknown engine $engine" >&2; exit 2 ;; esac
[ "$merge" -ne 2 ] || [ "$engine" = libfuzzer ] ||
    { echo "fuzz.sh: --minimise needs the libfuzzer engine" >&2; exit 2; }
[[ $seconds =~ ^[0-9]+$ ]] || { echo "fuzz.sh: SECONDS must be a number" >&2; exit 2; }

seeds=$root/corpora/$target
[ -d "$seeds" ] || { echo "fuzz.sh: no corpus directory $seeds" >&2; exit 2; }
work=${work:-$root/out/fuzz-work/$engine}/$target
rm -rf "$work"
mkdir -p "$work"
log=$work/log

# Options from fuzz/TARGET.options ([libfuzzer] key = value lines).
option() { sed -n "s/^$1 *= *//p" "$root/fuzz/$target.options" 2>/dev/null | head -n1; }
dict=$(option dict)
max_len=$(option max_len)
[ -n "$dict" ] && dict=$root/fuzz/$dict

configure_and_build() { # dir compiler extra-env... -- cmake args
    local dir=$1 cc=$2; shift 2
    if [ ! -f "$dir/CMakeCache.txt" ]; then
        env "$@" cmake -S "$root" -B "$dir" -G Ninja -DCMAKE_C_COMPILER="$cc" \
            -DCMAKE_BUILD_TYPE=RelWithDebInfo -DVDSOKIT_FUZZ_ENGINE="$engine" \
            -DVDSOKIT_SANITIZE="${SANITIZE:-asan}" >"$dir.configure.log" 2>&1 ||
            { cat "$dir.configure.log" >&2; exit 2; }
    fi
    env "$@" cmake --build "$dir" --target "$target" >"$dir.build.log" 2>&1 ||
        { tail -n 40 "$dir.build.log" >&2; exit 2; }
}

if [ -z "$build_dir" ]; then
    if [ "$engine" = libfuzzer ]; then
        build_dir=$root/out/fuzz-libfuzzer
        configure_and_build "$build_dir" clang
    else
        build_dir=$root/out/fuzz-afl
        configure_and_build "$build_dir" afl-clang-fast AFL_QUIET=1
        SANITIZE=none configure_and_build "$root/out/fuzz-afl-cmplog" afl-clang-fast \
            AFL_QUIET=1 AFL_LLVM_CMPLOG=1
        cmplog_bin=$root/out/fuzz-afl-cmplog/fuzz/$target
    fi
fi
bin=$build_dir/fuzz/$target
[ -x "$bin" ] || { echo "fuzz.sh: $bin not built" >&2; exit 2; }

new_entries=$work/new   # whatever the campaign found, for --merge
mkdir -p "$new_entries"
status=0

run_libfuzzer() {
    local limit=-max_total_time="$seconds"
    [ "$seconds" -eq 0 ] && limit=-runs=0 # libFuzzer reads 0 s as "no limit"
    local args=("$limit" -print_final_stats=1 -artifact_prefix="$work/"
                -error_exitcode=1 -timeout=10)
    [ -n "$dict" ] && args+=(-dict="$dict")
    [ -n "$max_len" ] && args+=(-max_len="$max_len")
    [ "$jobs" -gt 1 ] && args+=(-fork="$jobs")
    echo "fuzz.sh: $bin ${args[*]} $new_entries $seeds"
    "$bin" "${args[@]}" "$new_entries" "$seeds" >"$log" 2>&1 || status=1
    grep -E '^stat::|^#[0-9]+ +DONE' "$log" || true
    local execs cov
    execs=$(sed -n 's/^stat::average_exec_per_sec: *//p' "$log" | tail -n1)
    cov=$(grep -oE 'cov: [0-9]+ ft: [0-9]+' "$log" | tail -n1)
    echo "fuzz.sh: $target libfuzzer: ${execs:-?} exec/s, ${cov:-cov ?}," \
        "new corpus entries: $(find "$new_entries" -type f | wc -l)"
    if ls "$work"/crash-* "$work"/leak-* "$work"/timeout-* "$work"/oom-* >/dev/null 2>&1; then
        status=1
    fi
}

run_afl() {
    local out=$work/afl in=$work/in
    mkdir -p "$in"
    cp "$seeds"/* "$in"/
    export AFL_NO_UI=1 AFL_SKIP_CPUFREQ=1 AFL_I_DONT_CARE_ABOUT_MISSING_CRASHES=1 \
        AFL_FAST_CAL=1 AFL_CMPLOG_ONLY_NEW=1 AFL_FORKSRV_INIT_TMOUT=30000 AFL_TRY_AFFINITY=1 \
        AFL_IGNORE_PROBLEMS=1 ASAN_OPTIONS=abort_on_error=1:symbolize=0:detect_leaks=0 \
        UBSAN_OPTIONS=halt_on_error=1:abort_on_error=1
    local common=(-i "$in" -o "$out" -V "$seconds" -t 1000 -m none)
    [ -n "$dict" ] && common+=(-x "$dict")
    local main=(-M main)
    [ -n "${cmplog_bin:-}" ] && [ -x "$cmplog_bin" ] && main+=(-c "$cmplog_bin")
    local mutator=$build_dir/fuzz/afl_elf_mutator.so
    [[ $target == fuzz_vvar* ]] && mutator=$build_dir/fuzz/afl_ops_mutator.so
    local pids=()
    echo "fuzz.sh: afl-fuzz ${common[*]} ${main[*]} -- $bin"
    afl-fuzz "${common[@]}" "${main[@]}" -- "$bin" >"$log" 2>&1 & pids+=($!)
    for ((i = 1; i < jobs; i++)); do
        if [ "$i" -eq 1 ] && [ -f "$mutator" ]; then
            AFL_CUSTOM_MUTATOR_LIBRARY=$mutator afl-fuzz "${common[@]}" -S "sec$i" -- "$bin" \
                >"$log.sec$i" 2>&1 & pids+=($!)
        else
            afl-fuzz "${common[@]}" -S "sec$i" -p explore -- "$bin" >"$log.sec$i" 2>&1 & pids+=($!)
        fi
    done
    for p in "${pids[@]}"; do wait "$p" || status=1; done
    [ "$status" -eq 0 ] || tail -n 20 "$log" >&2
    local execs=0 crashes=0 hangs=0 cvg="?"
    for stats in "$out"/*/fuzzer_stats; do
        [ -f "$stats" ] || continue
        execs=$(awk -v e="$execs" '/^execs_per_sec/ {printf "%.0f", e + $3}' "$stats")
        cvg=$(awk '/^bitmap_cvg/ {print $3}' "$stats")
    done
    crashes=$(find "$out" -path '*/crashes/id:*' | wc -l)
    hangs=$(find "$out" -path '*/hangs/id:*' | wc -l)
    find "$out" -path '*/queue/id:*' ! -name '*orig:*' -exec cp {} "$new_entries"/ \;
    echo "fuzz.sh: $target afl: $execs exec/s (all instances), bitmap coverage $cvg," \
        "new corpus entries: $(find "$new_entries" -type f | wc -l), crashes $crashes, hangs $hangs"
    [ "$crashes" -eq 0 ] || status=1
    if command -v gnuplot >/dev/null && [ -d "$out/main" ]; then
        afl-plot "$out/main" "$work/plot" >/dev/null 2>&1 &&
            echo "fuzz.sh: plots in $work/plot" || echo "fuzz.sh: afl-plot: too little data"
    fi
}

merge_finds() {
    local merged=$work/merged before
    mkdir -p "$merged"
    cp "$seeds"/* "$merged"/
    before=$(ls "$merged" | sort)
    if [ "$engine" = libfuzzer ]; then
        "$bin" -merge=1 "$merged" "$new_entries" >"$work/merge.log" 2>&1
    else # minimise with afl-cmin on the AFL binary, then keep what is new
        AFL_QUIET=1 afl-cmin -i "$new_entries" -o "$work/cmin" -- "$bin" >"$work/merge.log" 2>&1 &&
            cp "$work/cmin"/* "$merged"/ 2>/dev/null || true
    fi
    local added=0 stamp
    stamp=$(date +%Y%m%d)
    for f in $(comm -13 <(echo "$before") <(ls "$merged" | sort)); do
        local sum
        sum=$(sha1sum "$merged/$f" | cut -c1-16)
        if ! cmp -s "$merged/$f" "$seeds/$engine-$stamp-$sum" 2>/dev/null; then
            cp "$merged/$f" "$seeds/$engine-$stamp-$sum"
            added=$((added + 1))
        fi
    done
    "$root/fuzz/scrub-soname.py" "$seeds"
    echo "fuzz.sh: merged $added new entries into corpora/$target/"
}

# Rebuild corpora/TARGET/ from -merge=1 over (committed files, new finds).
# The merge names what it keeps by content hash; map that back to the
# committed names, name new finds by provenance, keep crash-* and seed-*.
minimise_corpus() {
    local merged=$work/minimised kept=0 dropped=0 added=0 stamp f b sum
    declare -A name_of=() keep=()
    rm -rf "$merged"
    mkdir -p "$merged"
    # One sha1sum per directory, not per file: corpora hold thousands.
    while read -r sum f; do name_of[$sum]=${f##*/}; done < <(cd "$seeds" && sha1sum -- *)
    "$bin" -merge=1 "$merged" "$seeds" "$new_entries" >"$work/minimise.log" 2>&1 ||
        { tail -n 20 "$work/minimise.log" >&2; exit 1; }
    stamp=$(date +%Y%m%d)
    while read -r sum f; do
        if [ -n "${name_of[$sum]:-}" ]; then
            keep[${name_of[$sum]}]=1
        else
            cp "$merged/$f" "$seeds/$engine-$stamp-${sum:0:16}"
            keep[$engine-$stamp-${sum:0:16}]=1
            added=$((added + 1))
        fi
    done < <(cd "$merged" && find . -maxdepth 1 -type f -printf '%f\n' | sort | xargs -r sha1sum --)
    for f in "$seeds"/*; do
        b=${f##*/}
        if [ -n "${keep[$b]:-}" ] || [[ $b == crash-* || $b == seed-* ]]; then
            kept=$((kept + 1))
        else
            rm -f "$f"
            dropped=$((dropped + 1))
        fi
    done
    "$root/fuzz/scrub-soname.py" "$seeds"
    echo "fuzz.sh: minimised corpora/$target/: $((kept - added)) kept, $added new, $dropped dropped" \
        "($(du -sh "$seeds" | cut -f1))"
}

run_$engine
if [ -n "$(ls "$work"/crash-* "$work"/afl/*/crashes/id:* 2>/dev/null)" ]; then
    echo "fuzz.sh: FINDINGS in $work:" >&2
    ls "$work"/crash-* "$work"/leak-* "$work"/timeout-* "$work"/afl/*/crashes/id:* 2>/dev/null >&2 || true
fi
if [ "$status" -ne 0 ]; then
    echo "fuzz.sh: $target ($engine, ${seconds}s): FAILED, log: $log" >&2
    exit 1
fi
[ "$merge" -eq 1 ] && merge_finds
[ "$merge" -eq 2 ] && minimise_corpus
echo "fuzz.sh: $target ($engine, ${seconds}s): no findings"
