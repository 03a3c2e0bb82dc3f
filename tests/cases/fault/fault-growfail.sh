#!/bin/sh
# SPDX-License-Identifier: GPL-2.0-only
# A pool grow whose commit fails: the pool resume that takes in a grown SSD
# fails when the metadata device fails its writes; the pool turns ro and
# keeps its committed size (the in-core grow is undone), so it resumes
# again on the old devices; activated again on healthy metadata, it grows
# and the data written before is intact.
# kernels: debian debug
# disks: meta=16M ssd=16M hdd=16M
# tier: quick
# debug-tier: long
# timeout: 300
. /lib/dmh/guest.sh
. /lib/dmh/hybrid.sh

load_dm_hybrid
META=$(make_linear m "$(disk meta)" 32768)
SSD=$(make_linear s "$(disk ssd)" 4096)
HDD=$(make_linear h "$(disk hdd)" 8192)
export META SSD HDD
make_pool pool 128 || fail pool
make_volume pool 1 vm1 8192 >/dev/null || fail vm1
dd if=/dev/urandom of=/tmp/pat bs=64k count=8 2>/dev/null
dd if=/tmp/pat of=/dev/mapper/vm1 bs=64k count=8 oflag=direct conv=fsync 2>/dev/null
ssd0=$(pool_ssd_total pool)
echo "# SSD chunks: $ssd0"

# The SSD doubles; the metadata device fails every write from the
# moment the pool is suspended (its suspend commits first).
dmsetup reload s --table "0 8192 linear $(disk ssd) 0" && dmsetup resume s
dmsetup suspend vm1
dmsetup suspend pool
dmsetup suspend m
dmsetup load m --table "0 32768 error"
dmsetup resume m
expect_refused "the pool resume that grows the SSD fails" dmsetup resume pool
check "the pool is ro" test "$(pool_mode pool)" = ro
check "the SSD keeps its committed size ($(pool_ssd_total pool) of $ssd0)" \
	test "$(pool_ssd_total pool)" -eq "$ssd0"
# Back to the old SSD size: the pool resumes, ro.
dmsetup reload s --table "0 4096 linear $(disk ssd) 0" && dmsetup resume s
check "the pool resumes on the old devices" dmsetup resume pool
dmsetup resume vm1
dd if=/dev/mapper/vm1 of=/tmp/back bs=64k count=8 iflag=direct 2>/dev/null
check "the data reads back" cmp -s /tmp/pat /tmp/back
dmsetup remove vm1
dmsetup remove pool

# Healthy metadata and the grown SSD: the grow commits.
dmsetup suspend m
dmsetup load m --table "0 32768 linear $(disk meta) 0"
dmsetup resume m
dmsetup reload s --table "0 8192 linear $(disk ssd) 0" && dmsetup resume s
make_pool pool 128 || fail "pool again"
make_volume pool 1 vm1 8192 >/dev/null || fail "vm1 again"
check "the pool is rw" test "$(pool_mode pool)" = rw
check "the SSD grew" test "$(pool_ssd_total pool)" -eq $((ssd0 * 2))
dd if=/dev/mapper/vm1 of=/tmp/back bs=64k count=8 iflag=direct 2>/dev/null
check "the data reads back after the grow" cmp -s /tmp/pat /tmp/back
dmsetup remove vm1
dmsetup remove pool
pass
