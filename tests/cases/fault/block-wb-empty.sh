#!/bin/sh
# SPDX-License-Identifier: GPL-2.0-only
# A staged write that fails leaves its slot dirty with no sector held (the
# sectors it wrote first may hold another volume's bytes): the writeback
# then has nothing to copy and must still end.  Before the fix it issued
# no copy and never ended, and every flush of the volume waited for ever.
# The SSD is a dm device that fails writes (dm-flakey error_writes) for the
# one staged write, then works again; a flush must then complete.
# kernels: debian debug
# disks: meta=16M ssd=64M hdd=128M
# tier: quick
# timeout: 300
. /lib/dmh/guest.sh
. /lib/dmh/hybrid.sh

load_dm_hybrid
RS=$(disk ssd)
ZS=$(sectors "$RS")
SSD=$(make_linear fs "$RS") || fail fs
export SSD

make_pool pool 2048 block_tier 8 write_staging || fail pool
migration pool off
make_volume pool 1 v1 $((8 * 2048)) >/dev/null || fail v1
pin pool 1 0 $((8 * 2048)) hdd || fail "pin v1"
check "fill v1 on the HDD" dd if=/dev/urandom of=/dev/mapper/v1 bs=1M count=8 oflag=direct
pin pool 1 0 $((8 * 2048)) auto || fail "unpin v1"
need_mod dm-flakey || fail "dm-flakey"
check "the SSD fails writes" swap_ssd "0 $ZS flakey $RS 0 0 1 1 error_writes"
st=$(vol_staged v1)
if dd if=/dev/urandom of=/dev/mapper/v1 bs=4k seek=301 count=1 oflag=direct 2>/dev/null; then
	not_ok "a staged 4 KiB write to a failing SSD fails"
else
	ok "a staged 4 KiB write to a failing SSD fails"
fi
check "it was staged ($(($(vol_staged v1) - st)))" test $(($(vol_staged v1) - st)) -ge 1
check "its slot is dirty with nothing held ($(vol_dirty v1))" test "$(vol_dirty v1)" -ge 1
check "the SSD works again" swap_ssd "0 $ZS linear $RS 0"
check "a flush of v1 ends (60 s at most)" timeout 60 \
	dd if=/dev/zero of=/dev/mapper/v1 bs=512 count=0 conv=notrunc,fsync
check "nothing dirty after it" test "$(vol_dirty v1)" -eq 0
check "suspend and resume v1" sh -c 'dmsetup suspend v1 && dmsetup resume v1'
dmsetup remove v1 && dmsetup remove pool && dmsetup remove fs
pass
