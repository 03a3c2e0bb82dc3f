#!/bin/sh
# SPDX-License-Identifier: GPL-2.0-only
# Persistent write staging (pool feature persistent_staging, issue 21): the
# staging log records the dirty slots at every commit, so a flush leaves
# them on the SSD and a power cut keeps them.  Boot 1: the feature needs
# block_tier and a reload cannot drop it; a volume that fsyncs every four
# writes keeps staging and its flushes write nothing back (without the log
# it stops staging and each flush writes back); a suspend still writes the
# volume's blocks back.  Then numbered regions of vm2 are staged and
# fsynced, back to back, until the host cuts the power.  Boot 2: the pool
# refuses to activate without persistent_staging (the log holds staged
# writes), replays the log with it, and every acknowledged region reads
# back intact; written back, the metadata checks clean and the log is
# empty.
# kernels: debian debug
# disks: meta=16M ssd=64M hdd=256M
# boots: 2
# powercut: after-marker 10-25
# tier: quick
# debug-tier: long
# timeout: 600
. /lib/dmh/guest.sh
. /lib/dmh/hybrid.sh

VSIZE=32768	# 16 MiB: 16 chunks of 1 MiB, all on the HDD
REGION=64	# KiB, sixteen blocks

FEATURES="block_tier 8 write_staging persistent_staging"

pool_up() {
	make_pool pool 2048 "$@" || return 1
	make_volume pool 1 vm1 $VSIZE >/dev/null &&
		make_volume pool 2 vm2 $VSIZE >/dev/null
}

pool_down() {
	for _d in vm1 vm2 pool; do
		dmsetup remove $_d 2>/dev/null || true
	done
}

# reload_pool FEATURE...: load a new table into the live pool.
reload_pool() {
	_len=$(( $(sectors "$(disk ssd)") + $(sectors "$(disk hdd)") ))
	dmsetup reload pool --table "0 $_len hybrid-pool $(disk meta) \
$(disk ssd) $(disk hdd) 2048 $# $*"
}

# Regions leave gaps, so that their writes never grow into a stream.
region_job() {
	printf '[r%d]\nfilename=/dev/mapper/vm2\noffset=%dk\nsize=%dk\n' "$1" \
		$(($1 * 2 * REGION)) $REGION
}

common() {
	printf '[global]\ndirect=1\nioengine=psync\nrw=write\nbs=8k\n'
	printf 'verify=crc32c\nverify_fatal=1\nrandseed=%d\n' 556
}

load_dm_hybrid
case $DMH_BOOT in
1)
	expect_refused "persistent_staging without block_tier" \
		make_pool bad 2048 persistent_staging
	dmsetup remove bad 2>/dev/null || true
	make_pool pool 2048 || fail pool
	hdd_pair $VSIZE
	pool_down
	# shellcheck disable=SC2086
	pool_up $FEATURES || fail "pool with persistent_staging"
	check "the table line keeps the features" \
		sh -c 'dmsetup table pool | grep -q "4 block_tier 8 write_staging persistent_staging$"'
	check "migration off" migration pool off
	expect_refused "a reload cannot drop persistent_staging" \
		reload_pool block_tier 8 write_staging
	dmsetup clear pool 2>/dev/null

	# fsync every four writes: staged all the same, nothing written back.
	st=$(vol_staged vm1) wb=$(blk_writebacks pool)
	check "8 KiB writes with an fsync every 4" \
		fio --name=f --filename=/dev/mapper/vm1 --direct=1 \
		--ioengine=psync --rw=randwrite --bs=8k --size=2M --io_size=1M \
		--fsync=4 --randseed=12 --output=/tmp/f.out
	staged=$(($(vol_staged vm1) - st))
	log "vm1 staged $staged block writes of 128 fsync'd writes, dirty $(vol_dirty vm1), writebacks $(($(blk_writebacks pool) - wb))"
	check "a volume flushing every 4 writes stages them ($staged)" \
		test "$staged" -gt 100
	check "fsync of vm1" flush /dev/mapper/vm1
	check "vm1 keeps dirty blocks after its flushes ($(vol_dirty vm1))" \
		test "$(vol_dirty vm1)" -gt 0
	check "the flushes wrote nothing back" test "$(blk_writebacks pool)" -eq "$wb"
	s1=$(sum /dev/mapper/vm1)
	check "suspend and resume vm1" sh -c 'dmsetup suspend vm1 && dmsetup resume vm1'
	check "nothing dirty after the suspend" test "$(vol_dirty vm1)" -eq 0
	check "whole reads agree before and after the suspend" \
		test "$(sum /dev/mapper/vm1)" = "$s1"

	# Acknowledged staged writes survive a power cut.
	write_regions 0 dirty vol_dirty vm2
	;;
2)
	acked=${KEEP_acked:-}
	dirty=${KEEP_dirty:-0}
	[ -n "$acked" ] || fail "no region was acknowledged before the cut"
	check "vm2 had dirty blocks when region $acked was acknowledged ($dirty)" \
		test "$dirty" -gt 0
	check "hybrid_check after the cut: clean" hybrid_check "$(disk meta)"
	expect_refused "the pool refuses to activate without persistent_staging" \
		make_pool pool 2048 block_tier 8 write_staging
	pool_down
	# shellcheck disable=SC2086
	pool_up $FEATURES || fail "pool with persistent_staging does not reassemble"
	log "replayed: vm2 dirty $(vol_dirty vm2), pool dirty $(blk_dirty pool)"
	check "the log gave vm2 its dirty blocks back" test "$(vol_dirty vm2)" -gt 0
	verify_regions "$acked" "acknowledged staged data lost or corrupt"
	pool_down
	check "hybrid_check after the writeback: clean" hybrid_check "$(disk meta)"
	check "... and the log is empty (no incompatible feature left)" \
		sh -c "hybrid_check $(disk meta) | grep -q 'staging log 0 blocks 0 records'"
	pool_up || fail "pool without a block tier"
	check "nothing was left staged: the pool activates without the tier" true
	check "regions 0..$acked read the same from the HDD alone" read_regions "$acked"
	pool_down
	# shellcheck disable=SC2086
	check "a table with all seven feature arguments" make_pool pool 2048 \
		no_discard_passdown error_if_no_space read_only $FEATURES
	pool_down
	pass
	;;
esac
