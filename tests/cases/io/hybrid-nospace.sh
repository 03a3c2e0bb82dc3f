#!/bin/sh
# SPDX-License-Identifier: GPL-2.0-only
# Out of space: with error_if_no_space a write that needs a new chunk
# fails at once; without it the write waits, status says out_of_space, and
# it completes once a discard frees space.  Nothing written before is hurt.
# kernels: debian debug
# disks: meta=16M ssd=16M hdd=16M
# tier: quick
# debug-tier: long
# timeout: 300
. /lib/dmh/guest.sh
. /lib/dmh/hybrid.sh

load_dm_hybrid
# 2 MiB of SSD and 4 MiB of HDD: 96 chunks of 64 KiB.
SSD=$(make_linear s "$(disk ssd)" 4096)
HDD=$(make_linear h "$(disk hdd)" 8192)
export SSD HDD
make_pool pool 128 error_if_no_space || fail pool
make_volume pool 1 vm1 20480 >/dev/null || fail vm1
check "filling the pool" dd if=/dev/urandom of=/tmp/pat bs=64k count=96 2>/dev/null
dd if=/tmp/pat of=/dev/mapper/vm1 bs=64k count=96 oflag=direct 2>/dev/null
check "all 96 chunks used" test "$(vol_mapped vm1)" -eq 96
expect_refused "a write to a new chunk fails (error_if_no_space)" \
	dd if=/dev/zero of=/dev/mapper/vm1 bs=64k seek=100 count=1 oflag=direct
check "the pool stays rw" test "$(pool_mode pool)" = rw
# Same pool, queueing instead.
dmsetup suspend vm1
dmsetup reload pool --table "$(dmsetup table pool | cut -d' ' -f1-7) 0" || fail reload
dmsetup resume pool
dmsetup resume vm1
check "features now empty" test "$(pool_field pool 11)" -eq 0
dd if=/dev/zero of=/dev/mapper/vm1 bs=64k seek=120 count=1 oflag=direct 2>/dev/null &
writer=$!
sleep 3
check "the write waits for space" kill -0 $writer
check "status says out_of_space" test "$(pool_field pool 13)" = out_of_space
check "discard 8 chunks" blkdiscard -o 0 -l $((8 * 65536)) /dev/mapper/vm1
check "the waiting write completes" wait_for 20 sh -c "! kill -0 $writer"
wait $writer
check "... successfully" test $? -eq 0
check "status no longer out_of_space" test "$(pool_field pool 13)" = -
dd if=/dev/mapper/vm1 of=/tmp/back bs=64k skip=8 count=88 iflag=direct 2>/dev/null
dd if=/tmp/pat of=/tmp/want bs=64k skip=8 count=88 2>/dev/null
check "data written before is intact" cmp -s /tmp/back /tmp/want
dmsetup remove vm1
dmsetup remove pool
pass
