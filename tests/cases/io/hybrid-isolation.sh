#!/bin/sh
# SPDX-License-Identifier: GPL-2.0-only
# Isolation: fill a volume with a pattern, delete it, create another on
# the same chunks; neither full reads nor the unwritten parts of partly
# written chunks may show a byte of the old pattern.
# kernels: debian debug
# disks: meta=16M ssd=16M hdd=32M
# tier: quick
# debug-tier: long
# timeout: 600
. /lib/dmh/guest.sh
. /lib/dmh/hybrid.sh

load_dm_hybrid
make_pool pool 128 || fail pool
# 40 MiB of 48: most chunks of both tiers.
make_volume pool 1 old 81920 >/dev/null || fail old
dd if=/dev/zero bs=1M count=40 2>/dev/null | tr '\000' '\253' > /tmp/pat
dd if=/tmp/pat of=/dev/mapper/old bs=1M count=40 oflag=direct 2>/dev/null
rm /tmp/pat
sync
check "old volume maps 640 chunks" test "$(vol_mapped old)" -eq 640
dmsetup remove old
check "delete_volume" dmsetup message pool 0 delete_volume 1
make_volume pool 2 new 81920 >/dev/null || fail new
check "new volume starts empty" test "$(vol_mapped new)" -eq 0
check "full read of the new volume is zeros" is_zero /dev/mapper/new 0 81920
# Partial writes into chunks that held the old pattern (once reusable).
sleep 3
i=0
while [ $i -lt 600 ]; do
	printf 'x' | dd of=/dev/mapper/new bs=512 seek=$((i * 128 + 5)) conv=sync oflag=direct 2>/dev/null
	i=$((i + 1))
done
sync
check "chunks were reused" test "$(vol_mapped new)" -eq 600
leak=$(dd if=/dev/mapper/new bs=1M count=40 iflag=direct 2>/dev/null | tr -d '\000x' | wc -c)
check "no byte of the deleted volume is visible ($leak found)" test "$leak" -eq 0
dmsetup remove new
dmsetup remove pool
pass
