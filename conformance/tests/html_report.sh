#!/usr/bin/env bash
# The HTML report in a real browser: run vdsoconf with --html, open the page
# in headless Chromium, dump the DOM it built and take a screenshot (both
# into OUTDIR, the build tree), then check the DOM (html_report_check.py).
#
#   html_report.sh VDSOCONF CHECKER OUTDIR RC [--copy SRC DST]... VDSOCONF-ARGS... \
#                  -- CHECKER-ARGS...
#
# RC is the exit status vdsoconf must give; --copy puts a file (an image
# under a name full of HTML's special characters) in place first. Needs gnuplot and chromium
# (ci/setup installs both); a missing one fails the test, naming it.
set -u
conf=$1 check=$2 out=$3 want_rc=$4
shift 4
copies=()
while [ "${1:-}" = --copy ]; do
    copies+=("$2" "$3")
    shift 3
done
conf_args=()
while [ $# -gt 0 ] && [ "$1" != -- ]; do
    conf_args+=("$1")
    shift
done
[ $# -gt 0 ] && shift

for tool in gnuplot chromium python3; do
    if ! command -v "$tool" >/dev/null 2>&1; then
        echo "html_report: $tool not found (ci/setup installs it)" >&2
        exit 1
    fi
done

rm -rf "$out"
mkdir -p "$out"
html=$out/report.html
for ((i = 0; i < ${#copies[@]}; i += 2)); do
    mkdir -p "$(dirname "${copies[i + 1]}")"
    cp "${copies[i]}" "${copies[i + 1]}" || exit 1
done

"$conf" "${conf_args[@]}" --html "$html" >"$out/vdsoconf.txt" 2>&1
rc=$?
if [ "$rc" -ne "$want_rc" ]; then
    echo "html_report: vdsoconf exited $rc, want $want_rc; its output:" >&2
    cat "$out/vdsoconf.txt" >&2
    exit 1
fi

# Headless start-up takes seconds on a loaded VM: a generous timeout, and
# one retry for a browser that died (not for a page that fails the check).
# As root Chromium needs --no-sandbox; its profile stays in OUTDIR.
browse() {
    local try
    for try in 1 2; do
        timeout 120 chromium --headless --no-sandbox --disable-gpu --disable-dev-shm-usage \
            --no-first-run --user-data-dir="$out/profile" --hide-scrollbars \
            --virtual-time-budget=10000 "$@" "file://$(realpath "$html")" \
            2>>"$out/chromium.log" && return 0
        echo "html_report: chromium failed (try $try), see $out/chromium.log" >&2
    done
    return 1
}

browse --dump-dom >"$out/report.dom.html" || exit 1
browse --window-size=1280,5000 --screenshot="$out/report.png" >/dev/null || exit 1
if [ ! -s "$out/report.png" ]; then
    echo "html_report: no screenshot at $out/report.png" >&2
    exit 1
fi

rm -rf "$out/profile"
python3 "$check" "$out/report.dom.html" "$@" || exit 1
echo "html_report: $(wc -c <"$html") bytes in $html; DOM in $out/report.dom.html;" \
    "screenshot $out/report.png"
