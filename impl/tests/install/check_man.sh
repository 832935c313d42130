#!/bin/sh
# check_man.sh MANDIR TOOL=PATH...
#
# Keeps the man pages (docs/man) from drifting: for each TOOL, every long
# option that `PATH --help` prints (each --xxx token) must appear in
# MANDIR/TOOL.1 (vdsoconf-static is checked against vdsoconf.1), and each
# page must render with groff's man macros without a warning (and through
# man -l when man-db is installed). Exit 77 (SKIP) without groff.
set -eu
mandir=$1
shift
fail() { echo "FAIL: $*"; exit 1; }
command -v groff >/dev/null || { echo "SKIP: groff not installed (groff-base)"; exit 77; }
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

for spec in "$@"; do
    tool=${spec%%=*} bin=${spec#*=}
    page=$mandir/${tool%-static}.1
    [ -f "$page" ] || fail "$tool: no page ${page##*/}"
    "$bin" --help >"$tmp/help" || fail "$tool --help exited $?"
    grep -oE -- '--[a-z][a-z-]*[a-z]' "$tmp/help" | sort -u >"$tmp/opts"
    [ "$(wc -l <"$tmp/opts")" -ge 2 ] || fail "$tool --help: no options parsed"
    # roff writes a hyphen as \- ; compare the text a reader sees.
    sed 's/\\-/-/g' "$page" >"$tmp/page"
    while read -r opt; do
        grep -qF -- "$opt" "$tmp/page" || fail "$tool: $opt is in --help but not in ${page##*/}"
    done <"$tmp/opts"
    echo "$tool: $(wc -l <"$tmp/opts") options of --help, all in ${page##*/}"
done

for page in "$mandir"/*.1; do
    LC_ALL=C.UTF-8 groff -man -Tutf8 -ww -z "$page" 2>"$tmp/warn" || fail "groff failed on $page"
    [ ! -s "$tmp/warn" ] || { cat "$tmp/warn"; fail "groff warns on ${page##*/}"; }
    if command -v man >/dev/null; then
        LC_ALL=C.UTF-8 MANWIDTH=80 man --warnings -E UTF-8 -l "$page" >"$tmp/out" 2>"$tmp/warn" ||
            fail "man -l ${page##*/}"
        [ ! -s "$tmp/warn" ] || { cat "$tmp/warn"; fail "man -l warns on ${page##*/}"; }
        grep -q '^NAME' "$tmp/out" || fail "man -l ${page##*/}: no NAME section rendered"
    fi
    echo "${page##*/}: renders without warnings"
done
