#!/bin/sh
# SPDX-License-Identifier: GPL-2.0-only
# Write staging in the block tier (issue 21, second slice): small writes
# to blocks that have a slot go to the SSD and are written back later.
# Boot 1: with migration off, warm blocks of HDD chunks into slots, then
# run random reads and writes of 4-32 KiB with verify over them (writes
# inside a block are staged; writes across blocks wait for writebacks;
# reads across blocks are split around dirty slots); whole-volume reads
# agree before and after a suspend, which leaves nothing dirty; a flush
# (fsync of the device) writes the volume's staged blocks back and leaves
# another volume's alone; promoted chunks take their staged bytes along;
# the pool comes back without a block tier and reads the same bytes from
# the HDD alone; a volume that flushes every few writes stops staging;
# reads of what a written slot lacks top it up from the HDD.
# Then numbered regions of vm2 are staged and fsynced
# until the host cuts the power.  Boot 2: every acknowledged region is intact.
# kernels: debian debug
# disks: meta=16M ssd=64M hdd=256M
# boots: 2
# powercut: after-marker 10-30
# tier: quick
# debug-tier: long
# timeout: 900
. /lib/dmh/guest.sh
. /lib/dmh/hybrid.sh

VSIZE=65536	# 32 MiB: 32 chunks of 1 MiB, all on the HDD
REGION=64	# KiB, sixteen blocks

# warm DEV KIB [FROM_KIB]: read every 16 KiB (four blocks) of KIB KiB twice, in
# random order (a sequential scan would be a stream and admit nothing), so
# that they miss, are admitted and filled.
warm() {
	fio --name=warm --filename="$1" --direct=1 --ioengine=libaio \
		--iodepth=4 --rw=randread --bs=16k --size="$2"k --loops=2 \
		--offset="${3:-0}"k \
		--randseed=3 >/tmp/warm.out 2>&1 || { cat /tmp/warm.out; return 1; }
}

# warm_until DEV KIB FROM_KIB N: warm until N slots are valid, five times
# at most (admission takes at most 64 misses a worker pass).
warm_until() {
	for _w in 1 2 3 4 5; do
		warm "$1" "$2" "$3" || return 1
		wait_valid "$4" && return 0
	done
	return 1
}

# wait_valid N: up to 20 s for N valid slots.
wait_valid() {
	_i=0
	while [ "$(blk_valid pool)" -lt "$1" ] && [ $_i -lt 200 ]; do
		sleep 0.1
		_i=$((_i + 1))
	done
	[ "$(blk_valid pool)" -ge "$1" ]
}

# perm N: 0 .. N-1 in a fixed random order.
perm() {
	awk -v n="$1" 'BEGIN { srand(5); for (i = 0; i < n; i++) a[i] = i
		for (i = n - 1; i > 0; i--) {
			j = int(rand() * (i + 1)); t = a[i]; a[i] = a[j]; a[j] = t
		}
		for (i = 0; i < n; i++) print a[i] }'
}

BLK=4		# KiB: the tier's block (DMH_BLK_SECTORS)
HALF=2		# KiB: half a block

# halves DEV FROM_KIB OFF_KIB write|read: HALF KiB at OFF_KIB into each
# of the 64 blocks from FROM_KIB, in random order (not a stream).
halves() {
	for _b in $(perm 64); do
		_o=$((($2 + _b * BLK + $3) / HALF))
		if [ "$4" = write ]; then
			dd if=/dev/urandom of="$1" bs=${HALF}k seek=$_o count=1 \
				oflag=direct conv=notrunc 2>/dev/null
		else
			dd if="$1" of=/dev/null bs=${HALF}k skip=$_o count=1 \
				iflag=direct 2>/dev/null
		fi || return 1
	done
}

# md5 of the 64 blocks at FROM_KIB read in one piece / a block (one
# slot) at a time.
by_run() {
	dd if="$1" bs=$((64 * BLK))k skip=$(($2 / 64 / BLK)) count=1 \
		iflag=direct 2>/dev/null | md5sum | cut -d' ' -f1
}
by_block() {
	dd if="$1" bs=${BLK}k skip=$(($2 / BLK)) count=64 iflag=direct \
		2>/dev/null | md5sum | cut -d' ' -f1
}

# topped VOL FROM_KIB: read the unwritten halves twice; how many reads of
# the second pass the block tier served.
topped() {
	halves /dev/mapper/"$1" "$2" $HALF read || return 1
	sleep 2
	_h=$(vol_field "$1" 18)
	halves /dev/mapper/"$1" "$2" $HALF read || return 1
	echo $(($(vol_field "$1" 18) - _h))
}

# stage_some DEV SEED: 8 KiB random writes over the first 2 MiB.
stage_some() {
	fio --name=s --filename="$1" --direct=1 --ioengine=libaio --iodepth=4 \
		--rw=randwrite --bs=8k --size=2M --io_size=1M \
		--randseed="$2" >/tmp/s.out 2>&1 || { cat /tmp/s.out; return 1; }
}

# Regions leave gaps, so that their writes never grow into a stream; they
# start at 16 MiB, in chunks that no load heated (none was promoted).
region_job() {
	printf '[r%d]\nfilename=/dev/mapper/vm2\noffset=%dk\nsize=%dk\n' "$1" \
		$((16384 + $1 * 2 * REGION)) $REGION
}

common() {
	printf '[global]\ndirect=1\nioengine=psync\nrw=write\nbs=8k\n'
	printf 'verify=crc32c\nverify_fatal=1\nrandseed=%d\n' 555
}

pool_up() {
	make_pool pool 2048 "$@" || return 1
	make_volume pool 1 vm1 $VSIZE >/dev/null &&
		make_volume pool 2 vm2 $VSIZE >/dev/null
}

load_dm_hybrid
case $DMH_BOOT in
1)
	expect_refused "write_staging without block_tier" \
		make_pool bad 2048 write_staging
	dmsetup remove bad 2>/dev/null || true
	# The volumes exist before the tier takes its chunks, so that the
	# first writes find HDD chunks under their pins.
	make_pool pool 2048 || fail pool
	hdd_pair $VSIZE
	dmsetup remove vm1 && dmsetup remove vm2 && dmsetup remove pool
	pool_up block_tier 8 write_staging || fail "pool with write_staging"
	check "the table line keeps both features" \
		sh -c 'dmsetup table pool | grep -q "3 block_tier 8 write_staging$"'
	check "migration off" migration pool off
	check "vm1's chunks are on the HDD" test "$(vol_hdd_n vm1)" -eq 32

	check "warm vm1's first 2 MiB into slots" warm /dev/mapper/vm1 2048 0
	check "128 or more slots valid" wait_valid 128
	log "valid slots $(blk_valid pool)"
	check "random 4-32 KiB reads and writes with verify" \
		fio --name=rw --filename=/dev/mapper/vm1 --direct=1 \
		--ioengine=libaio --iodepth=8 --rw=randrw --rwmixread=50 \
		--bsrange=4k-32k --size=2M --io_size=8M --verify=crc32c \
		--verify_backlog=16 --verify_fatal=1 --randseed=7 \
		--output=/tmp/rw.out
	grep -q "err= 0" /tmp/rw.out || cat /tmp/rw.out
	check "staged writes the volume counts" stage_some /dev/mapper/vm1 8
	log "vm1 staged $(vol_staged vm1) dirty $(vol_dirty vm1); pool dirty $(blk_dirty pool) writebacks $(blk_writebacks pool)"
	check "vm1 staged writes" test "$(vol_staged vm1)" -gt 100
	check "vm1 has dirty blocks" test "$(vol_dirty vm1)" -gt 0
	check "the pool counts them" test "$(blk_dirty pool)" -eq "$(vol_dirty vm1)"
	s1=$(sum /dev/mapper/vm1)
	check "suspend and resume vm1" sh -c 'dmsetup suspend vm1 && dmsetup resume vm1'
	check "nothing dirty after the suspend: $(vol_dirty vm1)" test "$(vol_dirty vm1)" -eq 0
	check "whole reads agree before and after: $s1" test "$(sum /dev/mapper/vm1)" = "$s1"

	# A flush writes back the flushing volume's blocks only.
	check "warm vm2's first 2 MiB" warm /dev/mapper/vm2 2048 0
	check "more slots valid" wait_valid 200
	stage_some /dev/mapper/vm1 9 && stage_some /dev/mapper/vm2 10 ||
		fail "staging writes on both volumes"
	d2=$(vol_dirty vm2)
	log "before the flush: vm1 dirty $(vol_dirty vm1), vm2 dirty $d2"
	check "both volumes have dirty blocks" \
		test "$(vol_dirty vm1)" -gt 0 -a "$d2" -gt 0
	check "fsync of vm1" flush /dev/mapper/vm1
	check "vm1 has no dirty block after its flush" test "$(vol_dirty vm1)" -eq 0
	check "vm2 keeps its dirty blocks ($d2)" test "$(vol_dirty vm2)" -eq "$d2"

	# A volume that flushes every few writes stops staging (its staged
	# blocks would be written back at once), and stages again 10 s after.
	st=$(vol_staged vm1)
	check "8 KiB writes to staged blocks with an fsync every 4" \
		fio --name=f --filename=/dev/mapper/vm1 --direct=1 \
		--ioengine=psync --rw=randwrite --bs=8k --size=2M --io_size=1M \
		--fsync=4 --randseed=12 --output=/tmp/f.out
	log "vm1 staged $(($(vol_staged vm1) - st)) of 128 fsync'd writes"
	check "a volume flushing every 4 writes stages few of them" \
		test $(($(vol_staged vm1) - st)) -lt 32
	sleep 11
	st=$(vol_staged vm1)
	check "staging again 10 s after its last flush" stage_some /dev/mapper/vm1 13
	check "vm1 staged writes again" test $(($(vol_staged vm1) - st)) -gt 100
	check "fsync of vm1 again" flush /dev/mapper/vm1

	# Top-ups: a staged write takes a slot valid only where it wrote; a
	# read of the rest fills the slot in from the HDD, dirty or clean.
	check "half blocks into 64 blocks from 12 MiB" halves /dev/mapper/vm1 12288 0 write
	ref=$(by_run /dev/mapper/vm1 12288)
	h=$(topped vm1 12288)
	log "dirty half slots: $h of 64 second reads served by slots, vm1 dirty $(vol_dirty vm1)"
	check "reads of dirty slots' unwritten halves top them up ($h of 64)" test "$h" -ge 32
	check "topped-up dirty slots read right" test "$(by_block /dev/mapper/vm1 12288)" = "$ref"
	check "half blocks into 64 blocks from 14 MiB" halves /dev/mapper/vm1 14336 0 write
	sleep 1
	check "fsync of vm1: the half slots turn clean" flush /dev/mapper/vm1
	check "vm1 has no dirty block" test "$(vol_dirty vm1)" -eq 0
	check "one-piece reads agree after the writeback" \
		test "$(by_run /dev/mapper/vm1 12288)" = "$ref"
	ref=$(by_run /dev/mapper/vm1 14336)
	h=$(topped vm1 14336)
	log "clean half slots: $h of 64 second reads served by slots"
	check "reads of clean slots' unwritten halves top them up ($h of 64)" test "$h" -ge 32
	check "topped-up clean slots read right" test "$(by_block /dev/mapper/vm1 14336)" = "$ref"

	# Promotion carries staged bytes: the chunk is written back first.
	stage_some /dev/mapper/vm1 11 || fail "staging before promotion"
	s1=$(sum /dev/mapper/vm1) s2=$(sum /dev/mapper/vm2)
	check "vm1 has dirty blocks before promotion" test "$(vol_dirty vm1)" -gt 0
	check "promote_threshold 1" pool_set pool promote_threshold 1
	check "migration on" migration pool on
	fio --name=h --filename=/dev/mapper/vm1 --direct=1 --ioengine=libaio \
		--iodepth=4 --rw=randread --bs=16k --size=2M --time_based \
		--runtime=15 >/dev/null 2>&1
	check "migration off again" migration pool off
	log "vm1 ssd chunks $(vol_ssd vm1), dirty $(vol_dirty vm1)"
	check "vm1 chunks moved to the SSD" test "$(vol_ssd vm1)" -gt 0
	check "vm1 reads the same bytes after promotion" test "$(sum /dev/mapper/vm1)" = "$s1"

	# Without a tier, the pool reads the HDD and SSD chunks alone.
	dmsetup remove vm1 && dmsetup remove vm2 && dmsetup remove pool ||
		fail "remove the pool"
	pool_up || fail "pool without a block tier"
	check "vm1 reads the same without a block tier" test "$(sum /dev/mapper/vm1)" = "$s1"
	check "vm2 reads the same without a block tier" test "$(sum /dev/mapper/vm2)" = "$s2"
	dmsetup remove vm1 && dmsetup remove vm2 && dmsetup remove pool
	check "hybrid_check after staging: clean" hybrid_check "$(disk meta)"

	# Acknowledged writes survive a power cut: each region is staged (its
	# blocks warmed into slots first) and acknowledged after its fsync.
	pool_up block_tier 8 write_staging || fail "pool again"
	migration pool off
	check "vm2's chunks from 16 MiB on are on the HDD" \
		test "$(vol_hdd_n vm2)" -ge 16
	check "warm 4 MiB of vm2 into 192 slots or more" \
		warm_until /dev/mapper/vm2 4096 16384 192
	log "valid slots $(blk_valid pool)"
	write_regions 1 staged vol_staged vm2	# flushes a second apart stop staging
	;;
2)
	acked=${KEEP_acked:-}
	staged=${KEEP_staged:-0}
	[ -n "$acked" ] || fail "no region was acknowledged before the cut"
	check "regions were staged before the cut ($staged writes)" test "$staged" -gt 0
	check "hybrid_check after the cut: clean" hybrid_check "$(disk meta)"
	pool_up block_tier 8 write_staging || fail "pool does not reassemble"
	verify_regions "$acked" "acknowledged staged data lost or corrupt"
	dmsetup remove vm1 && dmsetup remove vm2 && dmsetup remove pool
	pass
	;;
esac
