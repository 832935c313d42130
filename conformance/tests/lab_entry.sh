#!/bin/sh
# ci/lab/vdsoconf-lab.sh as a lab runs it: the static runner on the live
# vDSO with the shipped waivers must exit 0 (kselftest pass) with a TAP plan
# whose every test was reported once to a stand-in lava-test-case, none as
# a failure. Without a runner it must exit 4 (KSFT_SKIP).
#   lab_entry.sh SCRIPT RUNNER WAIVERS
set -u
script=$1 runner=$2 waivers=$3
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
fail() {
    echo "lab_entry: $*" >&2
    exit 1
}

mkdir "$work/bin"
printf '#!/bin/sh\necho "$1 $3" >>"%s/cases"\n' "$work" >"$work/bin/lava-test-case"
chmod +x "$work/bin/lava-test-case"

PATH="$work/bin:$PATH" "$script" -r "$runner" -w "$waivers" live >"$work/tap" 2>"$work/err"
rc=$?
[ "$rc" -eq 0 ] || fail "with waivers: exit $rc, want 0; $(tail -5 "$work/err")"
plan=$(sed -n 's/^1\.\.\([0-9]*\)$/\1/p' "$work/tap")
cases=$(wc -l <"$work/cases")
[ -n "$plan" ] && [ "$plan" -gt 100 ] || fail "no TAP plan of the quick tier on stdout"
[ "$cases" -eq "$plan" ] || fail "$cases LAVA test cases for a plan of $plan"
grep -q ' fail$' "$work/cases" && fail "a failure reported to LAVA in a passing run"

"$script" -r "$work/none" live >"$work/tap" 2>&1
[ $? -eq 4 ] || fail "without a runner: want exit 4 (KSFT_SKIP)"
echo "lab_entry: exit 0 and $cases LAVA cases for a plan of $plan; exit 4 without a runner"
