#!/bin/sh
# SPDX-License-Identifier: GPL-2.0-only
# The SSD on RAID1 (issue 19 item 9; dm-hybrid.rst, "A dying SSD", and
# the guides' layout): the pool's SSD is a two-leg raid1 of dm-raid, md's
# raid1 personality under device-mapper (the lab has no mdadm; an mdadm
# array runs the same personality).  vA's chunks live on the SSD, vB's
# on the HDD with staged dirty blocks on the SSD.  One leg turns into
# dm-error while fio writes and verifies both volumes: no VM I/O fails,
# the array reports the leg dead, the pool stays rw without ssd_failed,
# a flush succeeds, every byte reads back (also after the pool is torn
# down and activated again on the surviving leg alone), hybrid_check
# passes.  The debug kernel is built without md.
# kernels: debian
# disks: meta=16M ssd=64M ssd2=64M hdd=128M
# tier: quick
# timeout: 300
. /lib/dmh/guest.sh
. /lib/dmh/hybrid.sh

load_dm_hybrid
need_mod dm-raid && need_mod raid1 || fail "dm-raid, raid1: not in the initramfs"
R1=$(disk ssd) R2=$(disk ssd2)
# Each leg: 1 MiB of md metadata (superblock and bitmap, where md records
# a failed leg: without it a write waits for ever on the blocked leg),
# then its data; no initial resync (both legs are blank).
ZS=$(($(sectors "$R1") - 2048))
dd if=/dev/zero of="$R1" bs=1M count=1 oflag=direct 2>/dev/null
dd if=/dev/zero of="$R2" bs=1M count=1 oflag=direct 2>/dev/null
M1=$(make_linear meta1 "$R1" 2048) || fail meta1
M2=$(make_linear meta2 "$R2" 2048) || fail meta2
L1=$(make_linear leg1 "$R1" "$ZS" 2048) || fail leg1
L2=$(make_linear leg2 "$R2" "$ZS" 2048) || fail leg2
dmsetup create r1 --table "0 $ZS raid raid1 2 0 nosync 2 $M1 $L1 $M2 $L2" ||
	fail "raid1 over the two legs"
dmsetup mknodes r1
META=$(disk meta) SSD=/dev/mapper/r1 HDD=$(disk hdd)
export META SSD HDD
# health CHARS: the array's health characters ("AA": both legs alive).
health() { dmsetup status r1 | awk '{ print $6 }'; }
check "the array is healthy (AA)" test "$(health)" = AA

make_pool pool 2048 block_tier 8 write_staging || fail pool
migration pool off
pool_set pool seq_cutoff 0
make_volume pool 1 vA $((16 * 2048)) >/dev/null || fail vA
make_volume pool 2 vB $((16 * 2048)) >/dev/null || fail vB
pin pool 1 0 $((16 * 2048)) ssd || fail "pin vA"
pin pool 2 0 $((16 * 2048)) hdd || fail "pin vB"
dd if=/dev/urandom of=/tmp/A bs=1M count=16 2>/dev/null
dd if=/tmp/A of=/dev/mapper/vA bs=1M oflag=direct 2>/dev/null || fail "fill vA"
dd if=/dev/urandom of=/tmp/B bs=1M count=16 2>/dev/null
dd if=/tmp/B of=/dev/mapper/vB bs=1M oflag=direct 2>/dev/null || fail "fill vB"
pin pool 2 0 $((16 * 2048)) auto || fail "unpin vB"	# so that it stages
check "vA's 16 chunks are on the SSD" test "$(vol_ssd_n vA)" -eq 16

# --- one leg dies under load ---------------------------------------------
# vA: 16 MiB of verified random writes of 4-128 KiB (all on the SSD);
# vB: 4 KiB verified writes over its first 2 MiB, which the block tier
# stages on the SSD.
fio --name=a --filename=/dev/mapper/vA --direct=1 --ioengine=libaio \
	--iodepth=8 --rw=randwrite --bsrange=4k-128k --size=16m --loops=2 \
	--verify=crc32c --verify_fatal=1 --randseed=71 >/tmp/a.out 2>&1 &
pa=$!
fio --name=b --filename=/dev/mapper/vB --direct=1 --ioengine=libaio \
	--iodepth=4 --rw=randwrite --bs=4k --size=2m --loops=4 \
	--verify=crc32c --verify_fatal=1 --randseed=72 >/tmp/b.out 2>&1 &
pb=$!
sleep 2
echo "0 $ZS error" > /tmp/tbl
dmsetup suspend leg2 && dmsetup load leg2 /tmp/tbl && dmsetup resume leg2 ||
	fail "leg 2 to dm-error"
log "leg 2 died; array $(health)"
# 90 s for both, or the blocked tasks are dumped and the case ends.
n=0
while { kill -0 $pa || kill -0 $pb; } 2>/dev/null && [ $n -lt 90 ]; do
	sleep 1
	n=$((n + 1))
done
if { kill -0 $pa || kill -0 $pb; } 2>/dev/null; then
	dmsetup status
	echo w > /proc/sysrq-trigger
	sleep 2
	fail "fio still running 90 s after the leg died"
fi
wait $pa
ra=$?
wait $pb
rb=$?
[ $ra -eq 0 ] || cat /tmp/a.out
[ $rb -eq 0 ] || cat /tmp/b.out
check "vA's writes and verify on the SSD: no error" test $ra -eq 0
check "vB's staged writes and verify: no error" test $rb -eq 0
# A write to every vA chunk, so that md sees the dead leg if fio's
# writes all ran before it died.
check "vA rewritten whole" \
	dd if=/tmp/A of=/dev/mapper/vA bs=1M oflag=direct conv=fsync 2>/dev/null
check "the array marks leg 2 dead ($(health))" \
	wait_for 10 sh -c 'dmsetup status r1 | awk "{ exit \$6 != \"AD\" }"'
check "the pool is still rw" test "$(pool_mode pool)" = rw
check "the pool did not find its SSD dead" \
	sh -c '! dmsetup status pool | grep -qw ssd_failed'
check "vB has staged dirty blocks ($(vol_dirty vB))" test "$(vol_dirty vB)" -gt 0
dd if=/dev/mapper/vB of=/tmp/B2 bs=1M iflag=direct 2>/dev/null ||
	not_ok "read vB whole"
check "a flush of vB succeeds" flush /dev/mapper/vB
check "vA reads back intact" \
	sh -c 'dd if=/dev/mapper/vA bs=1M iflag=direct 2>/dev/null | cmp -s - /tmp/A'

# --- the surviving leg alone ---------------------------------------------
# (its data device as the SSD: the same bytes without md)
for d in vA vB pool r1; do dmsetup remove $d || not_ok "remove $d"; done
check "hybrid_check: metadata clean" hybrid_check -q "$META"
SSD=$L1 make_pool pool 2048 block_tier 8 write_staging ||
	fail "the pool on leg 1 alone"
make_volume pool 1 vA $((16 * 2048)) >/dev/null || fail "vA again"
make_volume pool 2 vB $((16 * 2048)) >/dev/null || fail "vB again"
check "vA on leg 1 alone reads back intact" \
	sh -c 'dd if=/dev/mapper/vA bs=1M iflag=direct 2>/dev/null | cmp -s - /tmp/A'
check "vB reads back as before the teardown" \
	sh -c 'dd if=/dev/mapper/vB bs=1M iflag=direct 2>/dev/null | cmp -s - /tmp/B2'
dmsetup remove vA
dmsetup remove vB
dmsetup remove pool
pass
