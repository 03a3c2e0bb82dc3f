#!/bin/sh
# SPDX-License-Identifier: GPL-2.0-only
# The block tier (issue 21, first slice): clean copies of hot 4 KiB
# blocks of HDD-resident chunks in SSD slots.  With migration off (the
# chunks stay on the HDD), hot reads over a volume whose hot set is spread
# thinly over every chunk fill slots and are then served from the SSD;
# reads and writes racing with fills return current data (fio verify);
# two volumes taking slots from each other never see each other's bytes,
# and share the slots by weight;
# a promoted chunk, a discarded chunk and a deleted volume lose their
# slots; bad table lines are refused and change nothing.
# kernels: debian debug
# disks: meta=16M ssd=128M hdd=512M
# tier: quick
# debug-tier: long
# timeout: 900
. /lib/dmh/guest.sh
. /lib/dmh/hybrid.sh

blk_slots() { pool_xfield pool 17 | cut -d/ -f2; }
blk_valid() { pool_xfield pool 17 | cut -d/ -f1; }
blk_fills() { num pool_xfield pool 18; }
blk_hits() { num pool_xfield pool 19; }
vol_block_hits() { num vol_field "$1" 18; }
vol_slots() { num vol_field "$1" 21; }

# hot DEV SECONDS SEED [extra]: 4 KiB zipf reads over the whole volume,
# so that hot blocks sit in every chunk (no chunk is hot as a whole).
hot() {
	_d=$1 _t=$2 _s=$3
	shift 3
	fio --name=hot --filename="$_d" --direct=1 --ioengine=libaio \
		--iodepth=4 --rw=randread --bs=4k --norandommap \
		--random_distribution=zipf:1.1 --time_based --runtime="$_t" \
		--randseed="$_s" "$@" >/tmp/hot.out 2>&1 ||
		{ cat /tmp/hot.out; return 1; }
}

# write_all DEV SEED: 16 KiB writes with verify headers, so that
# verify_all's reads span four blocks, which the tier splits around its
# slots.
write_all() {
	fio --name=w --filename="$1" --direct=1 --ioengine=libaio --iodepth=8 \
		--rw=write --bs=16k --verify=crc32c --do_verify=0 \
		--randseed="$2" >/tmp/w.out 2>&1 || { cat /tmp/w.out; return 1; }
}

# verify_all DEV SEED: read everything back against those headers.
verify_all() {
	fio --name=w --filename="$1" --direct=1 --ioengine=libaio --iodepth=8 \
		--rw=write --bs=16k --verify=crc32c --verify_only=1 \
		--verify_fatal=1 --randseed="$2" >/tmp/v.out 2>&1 ||
		{ cat /tmp/v.out; return 1; }
}

load_dm_hybrid
expect_refused "block_tier without a size" make_pool bad 2048 block_tier
expect_refused "block_tier with a bad size" make_pool bad 2048 block_tier x
expect_refused "block_tier beyond 16 GiB" make_pool bad 2048 block_tier 16385
dmsetup remove bad 2>/dev/null || true

make_pool pool 2048 block_tier 4 || fail "pool with a 4 MiB block tier"
check "1024 slots of 4 KiB in 4 MiB" test "$(blk_slots)" -eq 1024
check "the table line keeps the feature" \
	sh -c 'dmsetup table pool | grep -q "2 block_tier 4$"'
len=$(dmsetup table pool | awk '{ print $2 }')
expect_refused "a reload cannot change block_tier" \
	sh -c "dmsetup reload pool --table '0 $len hybrid-pool $(disk meta) $(disk ssd) $(disk hdd) 2048 2 block_tier 8'"
dmsetup clear pool
check "migration off: chunks stay where first writes put them" \
	migration pool off
make_volume pool 1 vm1 131072 >/dev/null || fail vm1
make_volume pool 2 vm2 65536 >/dev/null || fail vm2
check "pin vm1 to the HDD for its first writes" pin pool 1 0 131072 hdd
check "pin vm2 to the HDD for its first writes" pin pool 2 0 65536 hdd
check "write vm1 (64 MiB)" write_all /dev/mapper/vm1 11
check "write vm2 (32 MiB)" write_all /dev/mapper/vm2 22
check "unpin vm1" pin pool 1 0 131072 auto
check "unpin vm2" pin pool 2 0 65536 auto
check "vm1's 64 chunks are on the HDD" test "$(vol_hdd_n vm1)" -eq 64

# Fills from reads: a read miss that finds a free slot fills it with the
# block it read, one HDD read for both (the worker's fill reads the HDD a
# second time); a 1 KiB read fills its whole 4 KiB block.
hdd_reads() {
	awk '{ print $1 }' "/sys/block/$(basename "$(readlink -f "$(disk hdd)")")/stat"
}
# settle_fills: wait until the fills under way ended (30 s at most).
settle_fills() {
	_a=-2 _b=$(blk_fills) _n=0
	while [ "$_a" != "$_b" ] && [ $_n -lt 30 ]; do
		sleep 1
		_a=$_b _b=$(blk_fills) _n=$((_n + 1))
	done
}
cold() {	# cold DEV SEED: 200 4 KiB reads of distinct blocks, one at a time
	fio --name=cold --filename="$1" --direct=1 --ioengine=psync \
		--rw=randread --bs=4k --number_ios=200 --randseed="$2" \
		--output=/tmp/cold.out || { cat /tmp/cold.out; return 1; }
}
q0=$(hdd_reads) f0=$(blk_fills)
check "200 cold reads of distinct blocks of vm1" cold /dev/mapper/vm1 7
settle_fills
q1=$(hdd_reads) f1=$(blk_fills) b0=$(vol_block_hits vm1)
log "cold reads: HDD reads $q0 -> $q1, fills $f0 -> $f1"
check "they filled a slot each: $((f1 - f0)) fills" test $((f1 - f0)) -ge 190
check "with one HDD read each: $((q1 - q0)) for 200 reads" \
	test $((q1 - q0)) -le 210
check "the same reads again" cold /dev/mapper/vm1 7
q2=$(hdd_reads) b1=$(vol_block_hits vm1)
log "again: HDD reads $q1 -> $q2, vm1 block hits $b0 -> $b1"
check "they hit their slots: $((b1 - b0)) of 200" test $((b1 - b0)) -ge 195
check "and did not read the HDD: $((q2 - q1))" test $((q2 - q1)) -le 5
b0=$(vol_block_hits vm2)
check "a cold 1 KiB read of vm2" \
	dd if=/dev/mapper/vm2 of=/dev/null bs=1k skip=8196 count=1 iflag=direct
settle_fills
q3=$(hdd_reads)
check "another 1 KiB of its block" \
	dd if=/dev/mapper/vm2 of=/tmp/k2 bs=1k skip=8198 count=1 iflag=direct
check "hit the slot the first filled" test "$(vol_block_hits vm2)" -eq $((b0 + 1))
check "no HDD read for it: $(($(hdd_reads) - q3))" test "$(hdd_reads)" -eq "$q3"
# A 6 KiB read across two blocks fills both with one HDD read, and hands
# the reader the right part of them: the same bytes the slots serve next.
at=$((10 * 1048576 + 2048))
six() {	# six FILE: the 6 KiB of vm2 at $at
	dd if=/dev/mapper/vm2 of="$1" bs=6144 count=1 skip=$at \
		iflag=direct,skip_bytes 2>/dev/null
}
f0=$(blk_fills) q0=$(hdd_reads)
check "a cold 6 KiB read across two blocks" six /tmp/six1
settle_fills
log "6 KiB: fills $f0 -> $(blk_fills), HDD reads $q0 -> $(hdd_reads)"
check "it filled both" test "$(blk_fills)" -eq $((f0 + 2))
check "with one HDD read" test "$(hdd_reads)" -eq $((q0 + 1))
check "read again, from the slots" six /tmp/six2
check "with no HDD read" test "$(hdd_reads)" -eq $((q0 + 1))
check "the same bytes both times" cmp /tmp/six1 /tmp/six2

# Warm up, then measure the hits of a second run.
check "hot reads on vm1 (warm-up)" hot /dev/mapper/vm1 15 1
f0=$(blk_fills) h0=$(blk_hits) b0=$(vol_block_hits vm1)
r0=$(vol_reads vm1)
check "hot reads on vm1 (measured)" hot /dev/mapper/vm1 15 1
f1=$(blk_fills) h1=$(blk_hits) b1=$(vol_block_hits vm1)
r1=$(vol_reads vm1)
log "fills $f0 -> $f1, pool hits $h0 -> $h1, vm1 hits $b0 -> $b1 of $((r1 - r0)) reads; slots $(pool_xfield pool 17)"
check "the warm-up filled slots ($f0)" test "$f0" -ge 64
check "a third or more of the measured reads hit a slot: $((b1 - b0)) of $((r1 - r0))" \
	test $(( (b1 - b0) * 3 )) -ge $((r1 - r0))
check "the pool counts what the volume counts" \
	test $((h1 - h0)) -ge $((b1 - b0))
check "vm1's chunks are still all on the HDD" test "$(vol_hdd_n vm1)" -eq 64
check "vm1 reads back whole" verify_all /dev/mapper/vm1 11

# Reads and writes racing with fills over the same hot blocks.
check "random reads and writes with verify while slots fill and empty" \
	fio --name=race --filename=/dev/mapper/vm2 --direct=1 \
	--ioengine=libaio --iodepth=8 --rw=randrw --rwmixread=70 \
	--bsrange=4k-32k --random_distribution=zipf:1.1 --size=32M \
	--io_size=24M --verify=crc32c --verify_backlog=32 --verify_fatal=1 \
	--randseed=33 --output=/tmp/race.out
grep -q "err= 0" /tmp/race.out || cat /tmp/race.out

# Two volumes take slots from each other (4 MiB of slots, 96 MiB), in
# proportion to their weights: vm2 at 300 gets three quarters.
check "rewrite vm2 with its own pattern" write_all /dev/mapper/vm2 22
check "vm2's weight 300" vol_set pool 2 weight 300
# Rounds of 20 s until vm2 holds over twice vm1's slots, ten at most: a
# slot changes hands at a miss, and the debug kernel misses slowly.
for r in 1 2 3 4 5 6 7 8 9 10; do
	hot /dev/mapper/vm1 20 $((2 * r)) &
	p1=$!
	hot /dev/mapper/vm2 20 $((2 * r + 1))
	wait $p1
	s1=$(vol_slots vm1) s2=$(vol_slots vm2)
	log "round $r: slots vm1 $s1, vm2 $s2 of $(blk_slots)"
	[ "$s2" -gt $((2 * s1)) ] && break
done
check "the slots counted per volume are the pool's at most" \
	test $((s1 + s2)) -le "$(blk_slots)"
check "vm2 at 3x the weight holds over twice vm1's slots ($s2, $s1)" \
	test "$s2" -gt $((2 * s1))
check "vm2's weight 100 again" vol_set pool 2 weight 100

# ssd_max counts a volume's slots with its SSD chunks: vm1, capped at one
# chunk, holds no more than a chunk's 256 slots however hot it reads
# (without the cap, at vm2's weight, it takes half of the 1,024).
check "vm1's weight 300" vol_set pool 1 weight 300
check "vm1's ssd_max 1 (chunk)" vol_set pool 1 ssd_max 1
check "hot reads on vm1 under its cap" hot /dev/mapper/vm1 20 12
s1=$(vol_slots vm1)
log "vm1 under ssd_max 1: $s1 slots, vm2 $(vol_slots vm2)"
check "vm1 holds one chunk's worth of slots at most ($s1)" test "$s1" -le 256
check "vm1's ssd_max 0 (no cap)" vol_set pool 1 ssd_max 0
check "hot reads on vm1 without it" hot /dev/mapper/vm1 20 13
s1=$(vol_slots vm1)
log "vm1 without a cap: $s1 slots, vm2 $(vol_slots vm2)"
check "then it takes more ($s1)" test "$s1" -gt 256

# ssd_min counts a volume's slots with its SSD chunks too, and keeps
# them: vm1 at weight 1 reserving 2 chunks keeps over a chunk's 256 slots
# while vm2 at weight 1000 reads hot; without the reservation its share is
# about one slot and vm2 takes the rest.
check "vm1's ssd_min 2 (chunks)" vol_set pool 1 ssd_min 2
check "vm1's weight 1" vol_set pool 1 weight 1
check "vm1 claims at its new weight" hot /dev/mapper/vm1 3 14
check "vm2's weight 1000" vol_set pool 2 weight 1000
check "hot reads on vm2 beside vm1's ssd_min" hot /dev/mapper/vm2 20 15
s1=$(vol_slots vm1)
log "vm1 at ssd_min 2: $s1 slots, vm2 $(vol_slots vm2)"
check "vm1 keeps over 256 slots under its ssd_min ($s1)" test "$s1" -gt 256
check "vm1's ssd_min 0" vol_set pool 1 ssd_min 0
check "hot reads on vm2 without it" hot /dev/mapper/vm2 20 16
s1=$(vol_slots vm1)
log "vm1 without ssd_min: $s1 slots, vm2 $(vol_slots vm2)"
check "then vm2 takes them ($s1)" test "$s1" -le 256
check "vm2's weight 100 again" vol_set pool 2 weight 100
check "vm1's weight 100 again" vol_set pool 1 weight 100
check "vm1 reads only its own bytes" verify_all /dev/mapper/vm1 11
check "vm2 reads only its own bytes" verify_all /dev/mapper/vm2 22

# A discarded chunk reads as zeros, not as a slot's old copy.
check "slots hold vm2's first chunk" hot /dev/mapper/vm2 5 4 --size=1M
check "discard vm2's first chunk" blkdiscard -o 0 -l 1048576 /dev/mapper/vm2
check "it reads as zeros" is_zero /dev/mapper/vm2 0 2048

# Promoted chunks lose their slots and read back whole.
v0=$(blk_valid)
check "set promote_threshold 1" pool_set pool promote_threshold 1
check "migration on" migration pool on
hot /dev/mapper/vm1 15 5 || true
check "migration off again" migration pool off
log "vm1 ssd chunks $(vol_ssd vm1), valid slots $v0 -> $(blk_valid)"
check "chunks of vm1 moved to the SSD" test "$(vol_ssd vm1)" -gt 0
check "vm1 reads back whole after promotions" verify_all /dev/mapper/vm1 11

# A deleted volume's slots go with it (KASAN would see a stale pointer).
dmsetup remove vm2 || fail "remove vm2"
check "delete vm2" pool_msg pool delete_volume 2
check "hot reads on vm1 after the delete" hot /dev/mapper/vm1 5 6
check "vm1 reads back whole at the end" verify_all /dev/mapper/vm1 11
dmsetup remove vm1
dmsetup remove pool
pass
