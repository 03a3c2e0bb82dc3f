#!/bin/sh
# SPDX-License-Identifier: GPL-2.0-only
# Fuzzing of pool messages and of pool and volume table lines, long run:
# 10,000 cases from a grammar with random mutations (tests/lib/fuzz.sh),
# seeded by DMH_SEED.  Each case is accepted when it must be, refused when
# it must be, and a refused one changes nothing (devices, tables, pool
# status with its txid, volume list).  Then the data of the volume that was
# live throughout verifies and the metadata is clean.
# kernels: debug
# disks: meta=16M ssd=16M hdd=32M m2=4M s2=8M h2=16M
# tier: long
# timeout: 1800
. /lib/dmh/guest.sh
. /lib/dmh/hybrid.sh
. /lib/dmh/fuzz.sh

# About 0.03-0.05 s a case here (dmh-fuzz, one process): 10,372 cases
# (with the generator's limit resets) in 318-475 s, 7-10 min a boot.
FUZZ_N=10000
. /lib/dmh/fuzz-run.sh
