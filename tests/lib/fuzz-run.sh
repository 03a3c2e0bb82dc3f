# SPDX-License-Identifier: GPL-2.0-only
# shellcheck shell=sh
#
# The body of fuzz-input and fuzz-input-long: FUZZ_N cases (the cases set
# FUZZ_N and source this after guest.sh, hybrid.sh and fuzz.sh).
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
[ "$(wc -l < /tmp/cases)" -ge "$FUZZ_N" ] || fail "the generator made only $(wc -l < /tmp/cases) cases"
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
