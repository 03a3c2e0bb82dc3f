#!/bin/sh
# SPDX-License-Identifier: GPL-2.0-only
# Resize: a volume grows by table reload; shrinking over mapped chunks is
# refused and leaves the volume as it was; shrinking over an unmapped tail
# works.  Growing the HDD and SSD (reload with larger devices) grows the
# pool, and the sizes survive a reassembly.
# kernels: debian debug
# disks: meta=16M ssd=64M hdd=256M
# tier: quick
# debug-tier: long
# timeout: 300
. /lib/dmh/guest.sh
. /lib/dmh/hybrid.sh

load_dm_hybrid
SSD=$(make_linear s "$(disk ssd)" 32768)
HDD=$(make_linear h "$(disk hdd)" 131072)
export SSD HDD
make_pool pool 128 || fail pool
make_volume pool 1 vm1 20480 >/dev/null || fail vm1
reload_vol() {	# reload_vol SECTORS
	dmsetup reload vm1 --table "0 $1 hybrid /dev/mapper/pool 1" &&
		dmsetup resume vm1
}
check "grow the volume to 40960 sectors" reload_vol 40960
check "the device grew" test "$(blockdev --getsz /dev/mapper/vm1)" -eq 40960
dd if=/dev/urandom of=/tmp/tail bs=64k count=4 2>/dev/null
dd if=/tmp/tail of=/dev/mapper/vm1 bs=64k seek=300 oflag=direct 2>/dev/null
dd if=/dev/mapper/vm1 of=/tmp/back bs=64k skip=300 count=4 iflag=direct 2>/dev/null
check "write past the old end reads back" cmp -s /tmp/tail /tmp/back
expect_refused "shrinking over mapped chunks is refused" reload_vol 20480
dmsetup resume vm1 2>/dev/null
check "the volume kept its size" test "$(blockdev --getsz /dev/mapper/vm1)" -eq 40960
blkdiscard -o $((300 * 65536)) -l $((4 * 65536)) /dev/mapper/vm1
check "shrinking over an unmapped tail works" reload_vol 20480
check "the device shrank" test "$(blockdev --getsz /dev/mapper/vm1)" -eq 20480

ssd0=$(pool_ssd_total pool) hdd0=$(pool_hdd_total pool)
dmsetup reload h --table "0 262144 linear $(disk hdd) 0" && dmsetup resume h
dmsetup reload s --table "0 65536 linear $(disk ssd) 0" && dmsetup resume s
dmsetup reload pool --table "$(dmsetup table pool)" || fail "pool reload"
check "pool resumes with larger devices" dmsetup resume pool
check "hdd chunks doubled" test "$(pool_hdd_total pool)" -eq $((hdd0 * 2))
check "ssd chunks doubled" test "$(pool_ssd_total pool)" -eq $((ssd0 * 2))
dmsetup remove vm1
dmsetup remove pool
make_pool pool 128 || fail "reassemble"
check "the grown size is remembered" test "$(pool_hdd_total pool)" -eq $((hdd0 * 2))
dmsetup remove pool
# A data device that shrank is refused with a clear error.
dmsetup reload h --table "0 131072 linear $(disk hdd) 0" && dmsetup resume h
expect_refused "a shrunk HDD is refused" make_pool pool 128
check "... with a clear error" sh -c 'dmesg | grep -q "HDD device shrank"'
pass
