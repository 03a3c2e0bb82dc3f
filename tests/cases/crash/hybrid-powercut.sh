#!/bin/sh
# SPDX-License-Identifier: GPL-2.0-only
# Power cut on hybrid volumes: boot 1 writes numbered regions to vm1 (each
# acknowledged only after its fsync completed) while vm2 churns random
# writes and discards, so allocation, frees and commits are all in flight.
# The host kills QEMU at a random moment.  Boot 2 checks the metadata
# offline, reassembles the pool and verifies every acknowledged region.
# kernels: debian debug
# disks: meta=16M ssd=32M hdd=256M
# boots: 2
# powercut: after-marker 8-25
# tier: quick
# timeout: 600
. /lib/dmh/guest.sh
. /lib/dmh/hybrid.sh

REGION=192	# KiB: not chunk aligned, so regions share chunks

region_job() {
	printf '[r%d]\nfilename=/dev/mapper/vm1\noffset=%dk\nsize=%dk\n' "$1" \
		$(($1 * REGION)) $REGION
}

common() {
	printf '[global]\ndirect=1\nioengine=psync\nrw=write\nbs=16k\n'
	printf 'verify=crc32c\nverify_fatal=1\nrandseed=%d\n' 777
}

churn() {
	while :; do
		fio --name=c --filename=/dev/mapper/vm2 --direct=1 --rw=randwrite \
			--bs=8k --size=32M --io_size=2M --randseed=$RANDOM >/dev/null 2>&1
		blkdiscard -o $(( (RANDOM % 32) * 1048576 )) -l 1048576 /dev/mapper/vm2 2>/dev/null
	done
}

load_dm_hybrid
case $DMH_BOOT in
1)
	make_pool pool 128 || fail pool
	make_volume pool 1 vm1 204800 >/dev/null || fail vm1
	make_volume pool 2 vm2 65536 >/dev/null || fail vm2
	churn &
	write_regions 0
	;;
2)
	acked=${KEEP_acked:-}
	[ -n "$acked" ] || fail "no region was acknowledged before the cut"
	rc=0
	hybrid_check "$(disk meta)" >/tmp/chk 2>&1 || rc=$?
	cat /tmp/chk
	check "hybrid_check after the cut: clean (exit 0)" test $rc -eq 0
	make_pool pool 128 || fail "pool does not reassemble after the cut"
	make_volume pool 1 vm1 204800 >/dev/null || fail vm1
	verify_regions "$acked" "acknowledged data lost or corrupt"
	dmsetup remove vm1 && dmsetup remove pool
	check "hybrid_check after reassembly: clean" hybrid_check "$(disk meta)"
	pass
	;;
esac
