#!/bin/sh
# SPDX-License-Identifier: GPL-2.0-only
# Lab self-test, no dm-hybrid (hybrid-powercut is the product's case): the
# runner's power cut and the boot after it, on a dm-linear.  Boot 1 writes
# numbered 256 KiB regions with fio verify headers, each followed by a
# flush, and acknowledges each region (DMH-KEEP acked=N) only after its
# flush completed.  The host kills QEMU at a random moment.  Boot 2
# verifies every acknowledged region.
# kernels: debian debug
# disks: data=128M
# boots: 2
# powercut: after-marker 3-10
# tier: quick
# timeout: 300
. /lib/dmh/guest.sh

REGION=256	# KiB
dev=$(make_linear cut "$(disk data)" "" 8) || fail "dm-linear setup failed"

region_job() {	# region_job N: a fio job section for region N
	printf '[r%d]\nfilename=%s\noffset=%dk\nsize=%dk\n' "$1" "$dev" \
		$(($1 * REGION)) $REGION
}

common() {
	printf '[global]\ndirect=1\nioengine=psync\nrw=write\nbs=16k\n'
	printf 'verify=crc32c\nverify_fatal=1\nrandseed=%d\n' 777
}

case $DMH_BOOT in
1)
	n=0
	while [ $n -lt 500 ]; do
		{ common; echo end_fsync=1; echo do_verify=0; region_job $n; } > /tmp/w.fio
		fio /tmp/w.fio >/tmp/fio.out 2>&1 || { cat /tmp/fio.out; fail "write of region $n failed"; }
		keep acked $n
		# Arm after the first acknowledged region, so a slow VM still
		# has something to verify; the cut then hits later writes.
		[ $n = 0 ] && arm_powercut
		n=$((n + 1))
	done
	fail "the workload ended before the power cut"
	;;
2)
	acked=${KEEP_acked:-}
	[ -n "$acked" ] || fail "no region was acknowledged before the cut"
	log "verifying regions 0..$acked"
	{ common; echo verify_only=1; i=0
	  while [ $i -le "$acked" ]; do region_job $i; i=$((i + 1)); done; } > /tmp/v.fio
	fio /tmp/v.fio >/tmp/fio.out 2>&1 || { cat /tmp/fio.out; fail "acknowledged data lost or corrupt"; }
	ok "regions 0..$acked intact after the power cut"
	pass
	;;
esac
