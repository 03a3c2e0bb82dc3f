#!/bin/sh
# SPDX-License-Identifier: GPL-2.0-only
# A failed data-device flush is never followed by a commit of the same
# transaction.  Volume A's SSD chunks are freed and reclaimed; volume B's
# 4 KiB first write takes one while the SSD loses its volatile cache
# (dm-hddsim fail_flush: writes acknowledged but never stored, flushes
# fail), so the zeroing that hides A's bytes never reaches the media.  B's
# flush fails; the pool turns ro and aborts the open transaction: no later
# commit, B's chunk reads as zeros -- no byte of A -- and a chunk discarded
# in the same transaction holds its data again, before and after the pool
# is activated again.
# kernels: debian debug
# disks: meta=16M ssd=16M hdd=16M
# tier: quick
# timeout: 300
. /lib/dmh/guest.sh
. /lib/dmh/hybrid.sh

# a_bytes DEV: how many bytes of B's first chunk (64 KiB) are A's 0xa5.
a_bytes() {
	dd if="$1" bs=64k count=1 iflag=direct 2>/dev/null | tr -cd '\245' | wc -c
}

load_dm_hybrid
need_mod dm-hddsim || fail dm-hddsim
# 2 MiB of SSD (32 chunks of 64 KiB) under dm-hddsim's flash model.
dmsetup create s --table "0 4096 hddsim $(disk ssd) 0 6 ssd 1 read_us 0 write_us 0" ||
	fail "ssd model"
dmsetup mknodes s
SSD=/dev/mapper/s
HDD=$(make_linear h "$(disk hdd)" 8192)
export SSD HDD
make_pool pool 128 || fail pool

# A fills every SSD chunk with 0xa5, then is deleted.
make_volume pool 1 vmA 4096 >/dev/null || fail vmA
pin pool 1 0 4096 ssd || fail "pin A"
tr '\0' '\245' </dev/zero | dd of=/dev/mapper/vmA bs=64k count=32 \
	iflag=fullblock oflag=direct conv=fsync 2>/dev/null
check "A holds all 32 SSD chunks" test "$(vol_ssd vmA)" -eq 32
dmsetup remove vmA
check "volume A deleted" pool_msg pool delete_volume 1
ssd_empty() { test "$(pool_ssd_used pool)" -eq 0; }
check "A's chunks are reclaimed" wait_for 20 ssd_empty

make_volume pool 2 vmB 4096 >/dev/null || fail vmB
pin pool 2 0 128 ssd || fail "pin B"
# B's second chunk, committed; discarded in the transaction that aborts.
tr '\0' 'C' </dev/zero | dd of=/tmp/c bs=64k count=1 iflag=fullblock 2>/dev/null
dd if=/tmp/c of=/dev/mapper/vmB bs=64k seek=1 count=1 oflag=direct conv=fsync 2>/dev/null
sleep 3
txid=$(pool_txid pool)
echo "# committed txid before the failed flush: $txid"

# The SSD loses its cache from here: B's write is acknowledged, the
# zeroing of the rest of its chunk too, and neither is stored.
dmsetup message s 0 fail_flush 1
check "B's second chunk discarded" blkdiscard -o 65536 -l 65536 /dev/mapper/vmB
tr '\0' 'B' </dev/zero | dd of=/tmp/b bs=4k count=1 iflag=fullblock 2>/dev/null
expect_refused "B's 4 KiB first write and its flush fail" \
	dd if=/tmp/b of=/dev/mapper/vmB bs=4k count=1 oflag=direct conv=fsync
dmsetup message s 0 fail_flush 0
sleep 3	# periodic commits, one a second
check "the pool is ro after the failed flush" test "$(pool_mode pool)" = ro
check "no commit after the failed flush" test "$(pool_txid pool)" = "$txid"
n=$(a_bytes /dev/mapper/vmB)
check "B's chunk holds no byte of A ($n of 65536 are 0xa5)" test "$n" -eq 0
check "B's chunk reads as zeros" is_zero /dev/mapper/vmB 0 128
check "the failed first write is unmapped" test "$(vol_mapped vmB)" -eq 1
chunk_c() {
	dd if=/dev/mapper/vmB of=/tmp/back bs=64k skip=1 count=1 iflag=direct 2>/dev/null &&
		cmp -s /tmp/c /tmp/back
}
check "the aborted discard is undone: B's second chunk holds its data" chunk_c

# Activate the pool again: only what was committed is there.
dmsetup remove vmB
dmsetup remove pool
make_pool pool 128 || fail "pool again"
make_volume pool 2 vmB 4096 >/dev/null || fail "vmB again"
check "the pool is rw again" test "$(pool_mode pool)" = rw
n=$(a_bytes /dev/mapper/vmB)
check "after activation B's chunk holds no byte of A ($n are 0xa5)" test "$n" -eq 0
check "after activation B's chunk reads as zeros" is_zero /dev/mapper/vmB 0 128
check "after activation B's second chunk holds its data" chunk_c
check "B's first write works now" \
	dd if=/tmp/b of=/dev/mapper/vmB bs=4k count=1 oflag=direct conv=fsync
dd if=/dev/mapper/vmB of=/tmp/back bs=4k count=1 iflag=direct 2>/dev/null
check "... and reads back" cmp -s /tmp/b /tmp/back
check "the rest of that chunk reads as zeros" is_zero /dev/mapper/vmB 8 120
dmsetup remove vmB
dmsetup remove pool
pass
