#!/bin/sh
# SPDX-License-Identifier: GPL-2.0-only
# SSD evacuation and replacement while the volumes stay in use (issue 20
# item 4): bad "evacuate" arguments are refused and change nothing; a
# reload onto another SSD is refused while data lives on the SSD; with
# fio verify running on two volumes, "evacuate on" empties the SSD (chunks,
# a range pinned to the SSD, block slots) within 60 s; the volumes read
# back unchanged; a smaller new SSD is refused, a larger one taken by a
# reload with fio running, the old SSD zeroed; "evacuate off" makes first
# writes and promotions use the new SSD again, and the data still reads
# back unchanged.
# kernels: debian debug
# disks: meta=16M ssd=32M ssd2=64M hdd=256M
# tier: quick
# debug-tier: long
# timeout: 700
. /lib/dmh/guest.sh
. /lib/dmh/hybrid.sh

devno() { cat "/sys/class/block/$(basename "$(readlink -f "$1")")/dev"; }
# region_sum DEV OFFSET_MIB MIB: the md5 of that range of DEV.
region_sum() {
	dd if="$1" bs=1M skip="$2" count="$3" iflag=direct 2>/dev/null | md5sum | cut -d' ' -f1
}
# head_sum DEV: the md5 of DEV's first 40 MiB, which every write below
# 40 MiB lands in before the evacuation ends (later ones write past it).
head_sum() { dd if="$1" bs=1M count=40 iflag=direct 2>/dev/null | md5sum | cut -d' ' -f1; }
# pool_table SSD: the live table with its SSD field replaced.
pool_table() { dmsetup table pool | awk -v s="$1" '{ $5 = s; print }'; }
load_ssd() { pool_table "$1" >/tmp/ptbl && dmsetup load pool /tmp/ptbl; }
# load_refused WHAT REASON SSD: a reload onto SSD fails, and says REASON.
load_refused() {
	_lines=$(dmesg | wc -l)
	expect_refused "$1" load_ssd "$3"
	check "$1: '$2'" sh -c "dmesg | tail -n +$((_lines + 1)) | grep -q '$2'"
}

load_dm_hybrid
make_pool pool 128 block_tier 4 write_staging || fail pool
need_migration pool
for kv in "tick_ms 200" "migration_rate 0"; do
	check "set $kv" pool_set pool $kv
done
make_volume pool 1 vm1 131072 >/dev/null || fail vm1
make_volume pool 2 vm2 131072 >/dev/null || fail vm2
fio_fill /dev/mapper/vm1 0 8M || fail "vm1 fill"
fio_fill /dev/mapper/vm2 0 8M || fail "vm2 fill"
check "pin vm1's first 2 MiB to the SSD" pin pool 1 0 4096 ssd
check "status ends in '- <n>' with data on the SSD ($(evac_left pool))" \
	test "$(evac_state pool)" = - -a "$(evac_left pool)" -gt 100

# Bad arguments change nothing.
for a in "" maybe "on off"; do
	# shellcheck disable=SC2086
	expect_refused "evacuate '$a' refused" pool_msg pool evacuate $a
done
check "still not evacuating" test "$(evac_state pool)" = -
load_refused "reload onto ssd2 before evacuating" \
	"Only an evacuated pool can change its SSD" "$(disk ssd2)"

# Dirty block slots: vm2's 24-28 MiB on the HDD (pinned), then written
# in 4 KiB blocks (staged, each into a free slot).
check "pin vm2's 24-28 MiB to the HDD" pin pool 2 49152 8192 hdd
fio_fill /dev/mapper/vm2 24M 4M || fail "vm2 24M fill"
fio --name=stage --filename=/dev/mapper/vm2 --direct=1 --ioengine=libaio \
	--iodepth=4 --rw=randwrite --bs=4k --offset=24M --size=4M \
	--time_based --runtime=2 >/dev/null 2>&1 || fail "vm2 staged writes"
log "before: $(dmsetup status pool)"
check "dirty block slots ($(blk_valid pool) valid, $(blk_dirty pool) dirty)" \
	test "$(blk_dirty pool)" -gt 0
r24=$(region_sum /dev/mapper/vm2 24 4)

# Evacuate under fio verify on both volumes.
fio_verify v1 /dev/mapper/vm1 16M --offset=8M &
p1=$!
fio_verify v2 /dev/mapper/vm2 16M --offset=8M &
p2=$!
sleep 1
check "evacuate on" pool_msg pool evacuate on
check "status says evacuating" test "$(evac_state pool)" = evacuating
load_refused "reload onto ssd2 while data is on the SSD" \
	"Data still lives on the SSD" "$(disk ssd2)"
r=0
wait $p1 || r=1
wait $p2 || r=1
check "fio verify on vm1 and vm2 while evacuating" test $r -eq 0
t0=$(uptime_s)
check "SSD empty within 60 s" wait_until 60 evacuated pool
log "evacuated $(($(uptime_s) - t0)) s after fio ended: $(dmsetup status pool)"
check "no volume chunk on the SSD" test "$(vol_ssd_n vm1)$(vol_ssd_n vm2)" = 00
check "vm1's range pinned to the SSD evacuated too" \
	test "$(tier_count pool 1 1024 0 32 h)" -eq 32
check "no valid block slot" test "$(blk_valid pool)" -eq 0
check "vm2's staged blocks written back" \
	test "$(region_sum /dev/mapper/vm2 24 4)" = "$r24"
fio_fill /dev/mapper/vm2 32M 4M || fail "vm2 write while evacuated"
check "a write while evacuated stays off the SSD" test "$(vol_ssd_n vm2)" -eq 0
s1=$(head_sum /dev/mapper/vm1)
s2=$(head_sum /dev/mapper/vm2)

# A smaller SSD is refused, a larger one taken with fio running.
small=$(make_linear small "$(disk ssd2)" 32768) || fail small
load_refused "reload onto a 16 MiB SSD" "The new SSD is smaller" "$small"
dm_remove small
fio_verify v3 /dev/mapper/vm1 8M --offset=40M &
p3=$!
check "reload onto ssd2" load_ssd "$(disk ssd2)"
expect_refused "evacuate off while a table changing the SSD is loaded" \
	pool_msg pool evacuate off
check "resume on ssd2" dmsetup resume pool
check "fio verify on vm1 across the SSD change" wait $p3
check "the table names ssd2" test "$(dmsetup table pool | awk '{ print $5 }')" = \
	"$(devno "$(disk ssd2)")"
check "the SSD grew to 1024 chunks" test "$(pool_ssd_total pool)" -eq 1024
check "old SSD zeroed" dd if=/dev/zero of="$(disk ssd)" bs=1M count=32 \
	oflag=direct status=none
for v in 1 2; do
	eval "s=\$s$v"
	check "vm$v reads back unchanged on the new SSD" \
		test "$(head_sum /dev/mapper/vm$v)" = "$s"
done

# Back to normal on the new SSD.
check "evacuate off" pool_msg pool evacuate off
check "status says not evacuating" test "$(evac_state pool)" = -
fio_fill /dev/mapper/vm2 48M 4M || fail "vm2 write after evacuate off"
check "first writes use the new SSD ($(vol_ssd_n vm2))" test "$(vol_ssd_n vm2)" -gt 0
pinned_back() { [ "$(tier_count pool 1 1024 0 32 S)" -eq 32 ]; }
check "vm1's 32 pinned chunks promoted to the new SSD" wait_until 30 pinned_back
check "vm1 reads back unchanged" test "$(head_sum /dev/mapper/vm1)" = "$s1"
check "vm2 reads back unchanged" test "$(head_sum /dev/mapper/vm2)" = "$s2"
log "pool: $(dmsetup status pool)"
for v in vm1 vm2; do dmsetup remove $v; done
dmsetup remove pool
check "hybrid_check: clean" hybrid_check "$(disk meta)"
pass
