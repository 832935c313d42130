#!/usr/bin/env python3
"""Print an op-stream input (fuzz_vvar, fuzz_vvar_kernel) as readable steps."""
import struct
import sys

OPS = ["ACCUMULATE", "STEP", "SLEW", "TAI", "BOOT", "SLEEP", "MODE", "SWITCH", "TIMENS_ON",
       "TIMENS_OFF", "RNG", "HRES", "TZ", "SEQ_ODD", "SEQ_WRAP", "PV_ODD", "PV_STABLE", "RAW",
       "FORWARD", "BACKWARD", "PAST_MAX", "READ", "AUX"]  # format 1: all but AUX
CLOCKS = [0, 1, 4, 5, 6, 7, 11, 2, 3, 8, 9, 10, 16, 23, -1, 24]
ENTRIES = ["clock_gettime", "gettimeofday", "time", "clock_getres"]
# The reference's eras (impl/loader/vdso_ref_eras.c), oldest first; format 3 picks one.
ERAS = ["6.1-6.2", "6.3-6.4", "6.5-6.9", "6.10-6.12", "6.13-6.14", "6.15-6.16", "6.17-6.18"]

data = open(sys.argv[1], "rb").read()
if len(data) < 16 or data[0] not in (1, 2, 3):
    sys.exit("not a format-1, -2 or -3 op stream")
nops = len(OPS) - 1 if data[0] == 1 else len(OPS)
ver, flags, shift, tai, mult, rt = struct.unpack("<BBBbIQ", data[:16])
print(f"header: format {ver}, {'hvclock' if flags & 1 else 'pvclock'}, timens={flags >> 1 & 1}, "
      f"seq_start#{flags >> 2 & 3}, shift={shift % 33}, tai={tai}, mult={mult}, "
      f"realtime={rt % 2**40}, era {ERAS[(flags >> 4) % len(ERAS)] if ver == 3 else 'native'}")
for i in range(min((len(data) - 16) // 9, 256)):
    op, arg = struct.unpack("<BQ", data[16 + 9 * i:25 + 9 * i])
    name = OPS[op % nops]
    if name != "READ":
        print(f"{i:3}: {name} 0x{arg:x}")
        continue
    plan = []
    for k in range(3):
        at, what = arg >> (8 + 16 * k) & 0xff, arg >> (16 + 16 * k) & 0xff
        if at & 7:
            plan.append(f"@{at & 7}:{OPS[what % OPS.index('READ')]}")
    print(f"{i:3}: READ {ENTRIES[arg & 3]}({CLOCKS[arg >> 2 & 15]}) {' '.join(plan)}")
