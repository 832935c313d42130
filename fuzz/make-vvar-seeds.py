#!/usr/bin/env python3
"""Write the hand-made op-stream seeds of fuzz_vvar and fuzz_vvar_kernel.

Each seed drives the data pages into one state class (format: vvar_ops.h)
and reads every clock there. Run from anywhere; writes corpora/<target>/.
"""
import os
import struct

OPS = ["ACCUMULATE", "STEP", "SLEW", "TAI", "BOOT", "SLEEP", "MODE", "SWITCH", "TIMENS_ON",
       "TIMENS_OFF", "RNG", "HRES", "TZ", "SEQ_ODD", "SEQ_WRAP", "PV_ODD", "PV_STABLE", "RAW",
       "FORWARD", "BACKWARD", "PAST_MAX", "READ", "AUX"]
CLOCKS = [0, 1, 4, 5, 6, 7, 11, 2, 3, 8, 9, 10, 16, 23, -1, 24]
E_GETTIME, E_GETTIMEOFDAY, E_TIME, E_GETRES = range(4)


# The reference's eras (impl/loader/vdso_ref_eras.c), oldest first: format 3's era index.
ERAS = ["6.1-6.2", "6.3-6.4", "6.5-6.9", "6.10-6.12", "6.13-6.14", "6.15-6.16", "6.17-6.18"]


def header(hvclock=0, timens=0, seq=0, shift=0, tai=37, mult=0, realtime=1700000000, era=None):
    """era None: format 2 (the native era); else format 3 with that era index."""
    flags = hvclock | timens << 1 | seq << 2 | (era or 0) << 4
    return struct.pack("<BBBbIQ", 2 if era is None else 3, flags, shift, tai, mult, realtime)


def op(name, arg=0):
    return struct.pack("<BQ", OPS.index(name), arg & (2**64 - 1))


def read(entry=E_GETTIME, clock=0, plan=()):
    """plan: up to three (read point 1..7, op name) writer steps inside the call."""
    arg = entry | CLOCKS.index(clock) << 2
    for i, (at, name) in enumerate(plan):
        arg |= at << (8 + 16 * i) | OPS.index(name) << (16 + 16 * i)
    return op("READ", arg)


def aux(idx, enable=True, sec=0, nsec=0):
    """Aux clock 0 or 7 (read as clock ids 16 and 23), enabled at sec.nsec or disabled."""
    assert idx in (0, 7) and sec < 2**26 and nsec < 2**30
    return op("AUX", (idx == 7) | enable << 1 | sec << 8 | nsec << 34)


def read_aux(entries=(E_GETTIME, E_GETRES)):
    return b"".join(read(e, c) for e in entries for c in (16, 23))


def read_all():
    out = b"".join(read(E_GETTIME, c) for c in (0, 1, 4, 5, 6, 7, 11))
    return out + read(E_GETTIMEOFDAY) + read(E_TIME) + read(E_GETRES, 0) + read(E_GETRES, 5)


SEEDS = {
    "ticks": header() + read_all() + op("ACCUMULATE", 4000000) + read_all()
             + op("FORWARD", 123456789) + read_all(),
    "shifted": header(shift=24, mult=6860640) + op("FORWARD", 2445000000) + read_all()
               + op("ACCUMULATE", 1000) + read_all(),
    "mode-none-fallback": header() + op("MODE", 0) + read_all() + op("ACCUMULATE", 10) + read_all()
                          + op("MODE", 2) + read_all(),
    "mode-tsc": header() + op("MODE", 1) + read_all(),
    "mode-bogus": header() + op("MODE", 4) + read_all() + op("MODE", 5) + read_all(),
    # A writer holds seq odd while it rewrites the bases: only waiting helps.
    "seq-odd-spin": header() + op("SEQ_ODD") + read(E_GETTIME, 1) + op("SEQ_ODD")
                    + op("ACCUMULATE", 99) + read(E_GETTIME, 0) + b"".join(
                        op("SEQ_ODD") + op(w, 10**9 + 7) + read(E_GETTIME, c)
                        for w in ("STEP", "TAI", "BOOT", "SLEW") for c in (0, 7, 11))
                    + op("SEQ_ODD") + op("STEP", 5 * 10**8) + read(E_GETTIMEOFDAY) + read_all(),
    "seq-wrap": header(seq=2) + b"".join(op("ACCUMULATE", 1000) + read(E_GETTIME, 1)
                                         for _ in range(8)) + op("SEQ_WRAP", 3) + read_all(),
    "seq-wrap-31": header(seq=1) + b"".join(op("ACCUMULATE", 7) + read(E_GETTIME, 0)
                                            for _ in range(8)),
    "pvclock-odd": header() + op("PV_ODD") + read(E_GETTIME, 1) + read_all(),
    "pvclock-unstable": header() + op("PV_STABLE", 0) + read_all() + op("PV_STABLE", 1) + read_all(),
    "counter-backward": header() + op("BACKWARD", 5000) + read_all() + op("ACCUMULATE", 0)
                        + op("BACKWARD", 1) + read_all(),
    "past-max-cycles": header(shift=20, mult=1 << 20) + op("PAST_MAX", 12345) + read_all()
                       + op("ACCUMULATE", 0) + op("PAST_MAX", 1) + read_all(),
    "timens": header(timens=1) + read_all() + op("TIMENS_ON", 0x0100002a_3b9ac9ff) + read_all()
              + op("TIMENS_OFF") + read_all(),
    "hvclock": header(hvclock=1) + read_all() + op("SWITCH", 0) + read_all() + op("SWITCH", 1)
               + read_all(),
    "interleave": header() + read(E_GETTIME, 1, [(1, "ACCUMULATE"), (2, "STEP"), (3, "SEQ_WRAP")])
                  + read(E_GETTIME, 0, [(1, "SEQ_ODD")]) + read(E_GETTIMEOFDAY, 0, [(2, "RAW")])
                  + read(E_GETTIME, 4, [(1, "PV_ODD"), (3, "FORWARD")]) + read_all(),
    # Writer steps between the reader's data loads: only the seq retry saves these.
    "torn-reads": header(shift=8, mult=300) + b"".join(
        read(E_GETTIME, c, [(at, w)]) + op("FORWARD", 77777)
        for c in (0, 1, 4, 7) for at in (3, 4, 5) for w in ("ACCUMULATE", "RAW", "STEP"))
        + read(E_GETTIMEOFDAY, 0, [(4, "ACCUMULATE")]),
    # the counter moves and a state changes between the counter read and the
        # data loads: (new bases, old counter) is no moment of the call
    "torn-counter": header() + b"".join(
        read(E_GETTIME, c, [(4, "FORWARD"), (4, w)]) for c in (0, 1, 4, 7, 11)
        for w in ("TAI", "SLEW", "BOOT", "RAW")) + read(E_GETTIMEOFDAY, 0, [(4, "FORWARD"), (4, "STEP")]),
    "adjust": header() + op("SLEW", 500) + read_all() + op("STEP", -10**12) + read_all()
              + op("TAI", 36) + op("BOOT", 10**15) + op("SLEEP", 3 * 10**9) + read_all()
              + op("SLEW", 2**64 - 300) + op("ACCUMULATE", 10**6) + read_all(),
    "raw-fields": header() + b"".join(op("RAW", f | i << 8) + read_all()
                                      for f, i in [(0, 77), (1, 3), (2, 0xffffffff), (3, 12345),
                                                   (4, 31), (5, 0x3b9ac9ff1), (6, 0x51), (7, 5)]),
    "invalid-clocks": header() + b"".join(read(E_GETTIME, c) for c in CLOCKS)
                      + b"".join(read(E_GETRES, c) for c in CLOCKS),
    # Aux clocks served, advanced by ticks, under writer steps, through the
    # namespace page (no offset), and disabled again.
    "aux-clocks": header() + read_aux() + aux(0, sec=1000, nsec=999999999) + read_aux()
                  + aux(7, sec=7) + op("ACCUMULATE", 10**6) + read_aux()
                  + read(E_GETTIME, 16, [(1, "ACCUMULATE"), (3, "FORWARD")])
                  + read(E_GETTIME, 23, [(2, "ACCUMULATE")]) + op("FORWARD", 2**33) + read_aux()
                  + op("MODE", 0) + read_aux() + op("MODE", 2) + aux(0, False) + read_aux(),
    "aux-timens": header(timens=1) + aux(0, sec=5) + aux(7, sec=2**25) + read_aux()
                  + op("TIMENS_ON", 0x0100002a_3b9ac9ff) + op("ACCUMULATE", 500) + read_aux()
                  + op("TIMENS_OFF") + read_aux(),
    "tz-hres-rng": header() + op("TZ", -60 & (2**64 - 1)) + op("HRES", 0) + op("RNG") + read_all()
                   + op("HRES", 1) + read_all(),
}

# Per era (fuzz_vvar_kernel only: fuzz_vvar's hosted reference is native):
# the classes where the eras read differently -- counter masking and the
# delta rule (a counter with bit 63 set, backwards, past max_cycles), the
# aux clocks (served from 6.17), the namespace page and the Hyper-V page.
ERA_SEEDS = {}
for e, era in enumerate(ERAS):
    ERA_SEEDS[f"era-{era}-ticks"] = (header(era=e) + read_all() + op("ACCUMULATE", 4000000)
                                     + read_all() + op("FORWARD", 123456789) + read_all())
    ERA_SEEDS[f"era-{era}-counter"] = (header(era=e, shift=20, mult=1 << 20) + op("BACKWARD", 5000)
                                       + read_all() + op("ACCUMULATE", 0) + op("PAST_MAX", 1)
                                       + read_all() + op("FORWARD", 2**62) + read_all()
                                       + op("FORWARD", 2**39) + read_all())
    # ns = cycles * mult overflows 64 bits past 2^32 cycles: before 6.10 the
    # product wraps, from 6.10 past max_cycles the 128-bit path is exact.
    ERA_SEEDS[f"era-{era}-wide-product"] = (header(era=e, shift=32, mult=0xffffffff)
                                            + op("FORWARD", 2**33 + 12345) + read_all()
                                            + op("PAST_MAX", 77) + read_all()
                                            + op("ACCUMULATE", 10**6) + read_all())
    ERA_SEEDS[f"era-{era}-aux-timens"] = (header(era=e, timens=1) + aux(0, sec=5) + read_aux()
                                          + op("TIMENS_ON", 0x0100002a_3b9ac9ff) + read_all()
                                          + op("TIMENS_OFF") + read_aux() + read_all())
    ERA_SEEDS[f"era-{era}-hvclock"] = (header(era=e, hvclock=1) + read_all() + op("SWITCH", 0)
                                       + op("TZ", -60 & (2**64 - 1)) + op("HRES", 0) + read_all()
                                       + op("SWITCH", 1) + op("MODE", 0) + read_all())

root = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "corpora")
for target in ("fuzz_vvar", "fuzz_vvar_kernel"):
    os.makedirs(os.path.join(root, target), exist_ok=True)
    for name, data in SEEDS.items():
        with open(os.path.join(root, target, "seed-" + name), "wb") as f:
            f.write(data)
for name, data in ERA_SEEDS.items():
    with open(os.path.join(root, "fuzz_vvar_kernel", "seed-" + name), "wb") as f:
        f.write(data)
print(f"make-vvar-seeds: {len(SEEDS)} seeds per op-stream target, "
      f"{len(ERA_SEEDS)} era seeds for fuzz_vvar_kernel")
