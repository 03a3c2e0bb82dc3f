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
SEED=${DMH_SEED:-1}
load_dm_hybrid
M=$(disk meta) S=$(disk ssd) H=$(disk hdd)
M2=$(disk m2) S2=$(disk s2) H2=$(disk h2)
FZ_V1=8192 FZ_CS=128
make_pool pool $FZ_CS || fail pool
migration pool off
make_volume pool 1 v1 $FZ_V1 >/dev/null || fail v1
for i in 2 3; do pool_msg pool create_volume $i || fail "create_volume $i"; done
dd if=/dev/urandom of=/tmp/p1 bs=64k count=$((FZ_V1 / FZ_CS)) 2>/dev/null
dd if=/tmp/p1 of=/dev/mapper/v1 bs=64k oflag=direct conv=fsync 2>/dev/null || fail "write v1"

log "fuzz: $FUZZ_N cases, seed $SEED (rerun with DMH_SEED=$SEED)"
fuzz_gen "$SEED" "$FUZZ_N" > /tmp/cases
[ "$(wc -l < /tmp/cases)" -eq "$FUZZ_N" ] || fail "the generator made $(wc -l < /tmp/cases) cases"
t0=$(uptime_s)
fuzz_run /tmp/cases
log "fuzz: $FUZZ_CASES cases in $(( $(uptime_s) - t0 )) s, $FUZZ_BAD failed"
check "all $FUZZ_CASES fuzz cases behaved ($FUZZ_BAD did not)" test "$FUZZ_BAD" -eq 0
check "v1 verifies after the fuzzing" sh -c "dd if=/dev/mapper/v1 bs=64k iflag=direct 2>/dev/null | cmp -s - /tmp/p1"
dmsetup remove v1
dmsetup remove pool
check "hybrid_check: metadata clean" hybrid_check -q "$M"
echo "DMH-REL fuzz=$FUZZ_CASES fuzz_failed=$FUZZ_BAD case=$DMH_CASE"
pass
