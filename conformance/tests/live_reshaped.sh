#!/bin/sh
# conformance.live_reshaped: the runner in a process whose [vvar_vclock] the
# preload module unmapped before main (impl/tests/live/reshape_preload.c), so
# that the mappings fit no layout era. The run must pass (exit 0), name the
# reason in the target line, SKIP the tests that need the data pages or the
# clock mode with it, and still run the layout-free ones. Exit 77 (SKIP)
# when the module did not reshape (clocksource not tsc).
#   live_reshaped.sh VDSOCONF PRELOAD WAIVERS
out=$(LD_PRELOAD=$2 "$1" --target live --target libc --tier quick --only '[sth]*' --tap \
      --waivers "$3" 2>&1)
rc=$?
printf '%s\n' "$out"
case $out in *"reshape_preload: [vvar_vclock] unmapped"*) ;; *) echo "SKIP: not reshaped"; exit 77 ;; esac
[ "$rc" -eq 0 ] || { echo "FAIL: vdsoconf exited $rc"; exit 1; }
for want in \
    'target live: .*clock mode unknown.*data pages not read: Linux [0-9.]* (6\.17-6\.18 era)' \
    '^ok [0-9]* - live syscall_free\.clock_gettime\.monotonic # SKIP the kernel.s clock mode is unknown: ' \
    '^ok [0-9]* - libc syscall_free\.gettimeofday # SKIP the kernel.s clock mode is unknown: ' \
    '^ok [0-9]* - live timens\.positive\.layout # SKIP the kernel.s data pages are not read: ' \
    '^ok [0-9]* - live syscall_free\.clock_gettime\.monotonic_coarse$' \
    '^ok [0-9]* - live syscall_free\.clock_getres\.monotonic$' \
    '^ok [0-9]* - live timens\.positive\.monotonic$' \
    '^ok [0-9]* - live hygiene\.mremap_together$'; do
    printf '%s\n' "$out" | grep -q -- "$want" || { echo "FAIL: no line matches: $want"; exit 1; }
done
echo "1 passed, 0 failed"
