#!/bin/sh
# SPDX-License-Identifier: GPL-2.0-only
# Discard: whole chunks are unmapped and freed (status shows it, reads see
# zeros); a partial discard keeps the chunk; the volume advertises the
# chunk as its discard granularity.
# kernels: debian debug
# disks: meta=16M ssd=64M hdd=128M
# tier: quick
# debug-tier: long
# timeout: 300
. /lib/dmh/guest.sh
. /lib/dmh/hybrid.sh

load_dm_hybrid
make_pool pool 128 || fail pool
make_volume pool 1 vm1 131072 >/dev/null || fail vm1
dd if=/dev/urandom of=/dev/mapper/vm1 bs=64k count=32 oflag=direct 2>/dev/null
sync
check "32 chunks mapped" test "$(vol_mapped vm1)" -eq 32
used=$(pool_ssd_used pool)
gran=$(cat /sys/block/"$(dmsetup info -c --noheadings -o blkdevname vm1)"/queue/discard_granularity)
check "discard granularity is one chunk ($gran)" test "$gran" -eq 65536
check "discard of 16 whole chunks" blkdiscard -o 0 -l $((16 * 65536)) /dev/mapper/vm1
check "16 chunks left mapped" test "$(vol_mapped vm1)" -eq 16
check "discarded range reads zeros" is_zero /dev/mapper/vm1 0 2048
check "freed chunks return to the pool" \
	wait_for 15 sh -c "test \$(dmsetup status pool | awk '{split(\$7,a,\"/\"); print a[1]}') -eq $((used - 16))"
check "partial discard" blkdiscard -o $((16 * 65536 + 4096)) -l 8192 /dev/mapper/vm1
check "partial discard keeps the chunk" test "$(vol_mapped vm1)" -eq 16
check "discard of the rest" blkdiscard /dev/mapper/vm1
check "nothing mapped" test "$(vol_mapped vm1)" -eq 0
dmsetup remove vm1
dmsetup remove pool
pass
