#!/bin/sh
# SPDX-License-Identifier: GPL-2.0-only
# A failed metadata write switches the pool to read-only: a dm event, "ro"
# in status, reads and writes to mapped chunks keep working, allocation
# and flushes of uncommitted changes fail.
# kernels: debian debug
# disks: meta=16M ssd=32M hdd=64M
# tier: quick
# debug-tier: long
# timeout: 300
. /lib/dmh/guest.sh
. /lib/dmh/hybrid.sh

load_dm_hybrid
META=$(make_linear m "$(disk meta)" 32768)
export META
make_pool pool 128 || fail pool
make_volume pool 1 vm1 16384 >/dev/null || fail vm1
dd if=/dev/urandom of=/tmp/pat bs=64k count=8 2>/dev/null
dd if=/tmp/pat of=/dev/mapper/vm1 bs=64k count=8 oflag=direct conv=fsync 2>/dev/null
ev0=$(dmsetup info -c --noheadings -o events pool)
# The metadata device starts failing every write.
dmsetup suspend m
dmsetup load m --table "0 32768 error"
dmsetup resume m
expect_refused "a write needing a new chunk and a flush fails" \
	dd if=/dev/zero of=/dev/mapper/vm1 bs=64k seek=20 count=1 oflag=direct conv=fsync
check "pool switched to ro" wait_for 10 sh -c 'test "$(dmsetup status pool | cut -d" " -f13)" = ro'
check "a dm event was raised" test "$(dmsetup info -c --noheadings -o events pool)" -gt "$ev0"
dd if=/dev/mapper/vm1 of=/tmp/back bs=64k count=8 iflag=direct 2>/dev/null
check "reads keep working" cmp -s /tmp/pat /tmp/back
check "writes to mapped chunks keep working" \
	dd if=/tmp/pat of=/dev/mapper/vm1 bs=64k count=1 oflag=direct
expect_refused "a new allocation fails" \
	dd if=/dev/zero of=/dev/mapper/vm1 bs=64k seek=40 count=1 oflag=direct
expect_refused "create_volume is refused in ro mode" dmsetup message pool 0 create_volume 5
dmsetup remove vm1
dmsetup remove pool
dmsetup remove m
pass
