#!/bin/sh
# SPDX-License-Identifier: GPL-2.0-only
# Fuzzing of pool messages and of pool and volume table lines:
# 300 cases from a grammar with random mutations (tests/lib/fuzz.sh),
# seeded by DMH_SEED.  Each case is accepted when it must be, refused when
# it must be, and a refused one changes nothing (devices, tables, pool
# status with its txid, volume list).  Then the data of the volume that was
# live throughout verifies and the metadata is clean.
# kernels: debug debian
# disks: meta=16M ssd=16M hdd=32M m2=4M s2=8M h2=16M
# tier: quick
# timeout: 600
. /lib/dmh/guest.sh
. /lib/dmh/hybrid.sh
. /lib/dmh/fuzz.sh

# 300 cases on both kernels: one dmh-fuzz process runs them all through
# dm ioctls, about 0.01 s a case on the stock kernel and 0.06 s on the
# debug kernel under TCG (fuzz-input-long runs 10,000 there).
FUZZ_N=300
. /lib/dmh/fuzz-run.sh
