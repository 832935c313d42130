#!/bin/sh
# vdsoconf for test labs: a kselftest-style entry (TAP on stdout, kselftest
# exit codes) that also reports each test to LAVA when it runs under a LAVA
# test shell (lava-test-case on PATH). It needs only a POSIX shell and the
# static runner, so a KernelCI/LAVA job on any x86-64 board or VM can run it
# from a rootfs overlay unchanged.
#
#   vdsoconf-lab.sh [-r RUNNER] [-t TIER] [-w WAIVERS] [TARGET...]
#
# RUNNER defaults to vdsoconf-static beside this script, then on PATH;
# TIER to quick; TARGETs to "live libc". Exit: 0 pass, 1 fail (a failure,
# or a setup error of the runner), 4 skip (kselftest's KSFT_SKIP: no runner,
# or not x86-64).
set -u

KSFT_PASS=0
KSFT_FAIL=1
KSFT_SKIP=4

here=$(cd "$(dirname "$0")" && pwd)
runner=
tier=quick
waivers=
while getopts r:t:w: opt; do
    case $opt in
    r) runner=$OPTARG ;;
    t) tier=$OPTARG ;;
    w) waivers=$OPTARG ;;
    *) echo "usage: $0 [-r RUNNER] [-t TIER] [-w WAIVERS] [TARGET...]" >&2; exit $KSFT_FAIL ;;
    esac
done
shift $((OPTIND - 1))
[ $# -gt 0 ] || set -- live libc

skip_all() {
    echo "TAP version 13"
    echo "1..0 # SKIP $1"
    exit $KSFT_SKIP
}

[ "$(uname -m)" = x86_64 ] || skip_all "vdsoconf gates the x86-64 vDSO ABI; this is $(uname -m)"
if [ -z "$runner" ]; then
    if [ -x "$here/vdsoconf-static" ]; then
        runner=$here/vdsoconf-static
    else
        runner=$(command -v vdsoconf-static || command -v vdsoconf || true)
    fi
fi
[ -n "$runner" ] && [ -x "$runner" ] || skip_all "no vdsoconf-static runner (give -r PATH)"

args="--tier $tier --tap"
for t in "$@"; do
    args="$args --target $t"
done
[ -n "$waivers" ] && args="$args --waivers $waivers"

# The runner's TAP goes to stdout as it comes; a copy feeds LAVA's results,
# and its exit status crosses the pipe in a file (POSIX sh has no pipefail).
tap=$(mktemp)
status=$(mktemp)
# shellcheck disable=SC2086 # args is a word list built above
{
    "$runner" $args
    echo $? >"$status"
} | tee "$tap"
rc=$(cat "$status")

if command -v lava-test-case >/dev/null 2>&1; then
    # "ok 3 - live consistency.gettime.id0 # SKIP why" -> case live_consistency.gettime.id0
    sed -n 's/^\(not ok\|ok\) [0-9]* - \([^ ]*\) \([^ #]*\)\(.*\)$/\1|\2_\3|\4/p' "$tap" |
        while IFS='|' read -r verdict name rest; do
            case $verdict:$rest in
            ok:*"# SKIP"*) result=skip ;;
            ok:*) result=pass ;;
            *"# TODO"*) result=skip ;; # a waived failure: accepted, not passed
            *) result=fail ;;
            esac
            lava-test-case "$(echo "$name" | tr -c 'A-Za-z0-9._\n-' '_')" --result "$result"
        done
fi
rm -f "$tap" "$status"

case $rc in
0) exit $KSFT_PASS ;;
*) exit $KSFT_FAIL ;; # 1: a failure; 2: the runner could not set up
esac
