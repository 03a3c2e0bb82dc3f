#!/bin/sh
# SPDX-License-Identifier: GPL-2.0-only
# Power cut during migration: boot 1 sets thresholds so low that every
# touched chunk qualifies (promote_threshold 1, hysteresis 0, 2 s heat
# half-life, 100 ms ticks) on a 16 MiB SSD, keeps hot reads running on vm2
# and on vm1's already written regions (so acknowledged chunks are being
# promoted and demoted), churns vm2 with writes and discards, and writes
# numbered regions to vm1, each acknowledged only after its fsync.  The
# host cuts the power at a random moment.  Boot 2: hybrid_check is clean,
# the pool reassembles, every acknowledged region is intact, and the pool
# counts exactly the chunks the volumes map (none leaked, none in two
# places).
# kernels: debian debug
# disks: meta=16M ssd=16M hdd=256M
# boots: 2
# powercut: after-marker 8-25
# tier: quick
# timeout: 600
. /lib/dmh/guest.sh
. /lib/dmh/hybrid.sh

REGION=192	# KiB: not chunk aligned, so regions share chunks

# Region N holds "dm-hybrid region N " repeated: known in every boot.
pattern() { yes "dm-hybrid region $1 " | head -c $((REGION * 1024)) > "$2"; }

# write_region N: acknowledged once dd's fsync (a flush) has completed.
write_region() {
	pattern "$1" /tmp/r
	dd if=/tmp/r of=/dev/mapper/vm1 bs=${REGION}k seek="$1" count=1 \
		oflag=direct conv=fsync 2>/dev/null
}

# region_ok N: region N reads back as written.
region_ok() {
	pattern "$1" /tmp/want
	dd if=/dev/mapper/vm1 of=/tmp/got bs=${REGION}k skip="$1" count=1 iflag=direct 2>/dev/null
	cmp -s /tmp/want /tmp/got
}

churn() {
	while :; do
		fio --name=c --filename=/dev/mapper/vm2 --direct=1 --rw=randwrite \
			--bs=8k --size=32M --io_size=1M --randseed=$RANDOM >/dev/null 2>&1
		blkdiscard -o $(( (RANDOM % 32) * 1048576 )) -l 1048576 /dev/mapper/vm2 2>/dev/null
	done
}

moving() { [ "$(pool_moves pool)" -gt 0 ]; }
accounted() {
	[ $(( $(pool_ssd_used pool) + $(pool_hdd_used pool) )) -eq \
		$(( $(vol_mapped_n vm1) + $(vol_mapped_n vm2) )) ]
}

load_dm_hybrid
case $DMH_BOOT in
1)
	make_pool pool 128 || fail pool
	need_migration pool
	for kv in "tick_ms 100" "migration_rate 0" "promote_threshold 1" \
		"hysteresis 0" "heat_half_life 2"; do
		pool_set pool $kv || fail "set $kv"
	done
	make_volume pool 1 vm1 204800 >/dev/null || fail vm1
	make_volume pool 2 vm2 65536 >/dev/null || fail vm2
	# vm2 fills the SSD (256 chunks) and more.
	fio_fill /dev/mapper/vm2 0 32M || fail "vm2 fill"
	fio_hot /dev/mapper/vm2 0 32M 600
	bg=$!
	fio_hot /dev/mapper/vm1 0 16M 600 --iodepth=1
	bg="$bg $!"
	churn &
	bg="$bg $!"
	# Region 0 first, so the vm1 reader has something to heat.
	write_region 0 || { stop_bg $bg; fail "write of region 0 failed"; }
	keep acked 0
	# The debug kernel (KASAN, lockdep) under TCG is several times slower.
	bound=30
	[ "$DMH_KERNEL" = debug ] && bound=120
	wait_until $bound moving ||
		{ s=$(dmsetup status pool); stop_bg $bg; fail "no migration done within $bound s: $s"; }
	log "migrating: $(dmsetup status pool)"
	arm_powercut
	n=1
	while [ $n -lt 400 ]; do
		write_region $n || fail "write of region $n failed"
		keep acked $n
		[ $((n % 10)) -eq 0 ] && log "region $n: $(dmsetup status pool)"
		n=$((n + 1))
	done
	fail "the workload ended before the power cut"
	;;
2)
	acked=${KEEP_acked:-}
	[ -n "$acked" ] || fail "no region was acknowledged before the cut"
	rc=0
	hybrid_check "$(disk meta)" >/tmp/chk 2>&1 || rc=$?
	cat /tmp/chk
	check "hybrid_check after the cut: clean (exit 0)" test $rc -eq 0
	make_pool pool 128 || fail "pool does not reassemble after the cut"
	# The knobs and heat persist: migration may resume at once.  Stop it.
	check "migration off after reassembly, drained" drain pool
	make_volume pool 1 vm1 204800 >/dev/null || fail vm1
	make_volume pool 2 vm2 65536 >/dev/null || fail vm2
	log "pool: $(dmsetup status pool)"
	log "vm1: $(dmsetup status vm1)"
	log "vm2: $(dmsetup status vm2)"
	# Old homes of migrations just done are reusable a second or two later.
	if wait_until 15 accounted; then
		ok "pool ssd + hdd used = chunks mapped by vm1 + vm2 ($(vol_mapped_n vm1) + $(vol_mapped_n vm2))"
	else
		not_ok "pool ssd + hdd used = chunks mapped by vm1 + vm2" \
			"$(dmsetup status pool | cut -d' ' -f7-8), vm1 $(vol_mapped_n vm1), vm2 $(vol_mapped_n vm2)"
	fi
	for v in vm1 vm2; do
		check "$v: mapped = ssd + hdd" \
			test "$(vol_mapped_n $v)" -eq $(( $(vol_ssd_n $v) + $(vol_hdd_n $v) ))
	done
	bad=""
	i=0
	while [ $i -le "$acked" ]; do
		region_ok $i || bad="$bad $i"
		i=$((i + 1))
	done
	if [ -z "$bad" ]; then
		ok "regions 0..$acked intact after the power cut"
	else
		not_ok "acknowledged regions intact after the power cut" "bad:$bad"
	fi
	dmsetup remove vm1 && dmsetup remove vm2 && dmsetup remove pool
	check "hybrid_check after reassembly: clean" hybrid_check "$(disk meta)"
	pass
	;;
esac
