#!/bin/sh
# SPDX-License-Identifier: GPL-2.0-only
# Fuzzing of pool messages and of pool and volume table lines (issue 7):
# 100-300 cases from a grammar with random mutations (tests/lib/fuzz.sh),
# seeded by DMH_SEED.  Each case is accepted when it must be, refused when
# it must be, and a refused one changes nothing (devices, tables, pool
# status with its txid, volume list).  Then the data of the volume that was
# live throughout verifies and the metadata is clean.
# kernels: debug debian
# disks: meta=16M ssd=16M hdd=32M m2=4M s2=8M h2=16M
# tier: quick
# timeout: 1800
. /lib/dmh/guest.sh
. /lib/dmh/hybrid.sh
. /lib/dmh/fuzz.sh

# 300 on the stock kernel; 100 on the debug kernel, where each case (three
# dmsetup runs) costs 1-4 s under TCG (fuzz-input-long runs 10,000 there).
FUZZ_N=300
[ "$DMH_KERNEL" = debug ] && FUZZ_N=100
. /lib/dmh/fuzz-run.sh
