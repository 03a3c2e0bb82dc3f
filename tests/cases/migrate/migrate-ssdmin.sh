#!/bin/sh
# SPDX-License-Identifier: GPL-2.0-only
# ssd_min reserves SSD chunks for a volume: on a 128-chunk SSD, vm1 has
# 64 chunks on the SSD under a light read load and ssd_min 32; vm2 reads
# 256 chunks much harder, at weight 1000, so that the shares of the chunk
# tier give it 115 of the 126 chunks and vm1 11 (at equal weights each is
# due 63 and vm1 keeps its 64 whatever ssd_min says).  vm1 is demoted
# down to 32 chunks and no further for 30 s; with ssd_min back to 0 it
# then loses more.
# kernels: debian
# disks: meta=16M ssd=8M hdd=256M
# tier: quick
# timeout: 400
. /lib/dmh/guest.sh
. /lib/dmh/hybrid.sh

secs() { echo $(( ($(uptime_cs) - $1) / 100 )); }
vm1_below_min() { [ "$(vol_ssd_n vm1)" -lt 24 ]; }

load_dm_hybrid
make_pool pool 128 || fail pool
need_migration pool
for kv in "tick_ms 200" "migration_rate 0" "ssd_reserve 2" "heat_half_life 2"; do
	check "set $kv" pool_set pool $kv
done
make_volume pool 1 vm1 131072 >/dev/null || fail vm1
make_volume pool 2 vm2 131072 >/dev/null || fail vm2
fio_fill /dev/mapper/vm1 0 4M || fail "vm1 write"
fio_fill /dev/mapper/vm2 0 16M || fail "vm2 write"
check "vm1's 64 chunks are on the SSD" test "$(vol_ssd_n vm1)" -eq 64
check "vm2 has most of its 256 chunks on the HDD ($(vol_hdd_n vm2))" \
	test "$(vol_hdd_n vm2)" -ge 190
check "set_volume 2 weight 1000" vol_set pool 2 weight 1000
check "set_volume 1 ssd_min 32" vol_set pool 1 ssd_min 32
check "status shows ssd_min 32 for vm1, 0 for vm2" \
	test "$(vol_ssd_min vm1) $(vol_ssd_min vm2)" = "32 0"

# vm1: about one read per chunk per second; vm2: as fast as it goes.
fio_hot /dev/mapper/vm1 0 4M 120 --iodepth=1 --rate_iops=50
h1=$!
fio_hot /dev/mapper/vm2 0 16M 120
h2=$!
t0=$(uptime_cs)
min1=64
while [ "$(secs "$t0")" -lt 30 ]; do
	s=$(vol_ssd_n vm1)
	[ "$s" -lt "$min1" ] && min1=$s
	sleep 1
done
log "vm1: $(dmsetup status vm1)"
log "vm2: $(dmsetup status vm2)"
log "vm1 map: $(placement pool 1 64 || true)"
check "vm1 never below its ssd_min of 32 (minimum seen: $min1)" test "$min1" -ge 32
check "the hotter vm2 took vm1's chunks above the minimum (vm1 now $(vol_ssd_n vm1) <= 40)" \
	test "$(vol_ssd_n vm1)" -le 40
check "vm2 promoted ($(vol_prom vm2))" test "$(vol_prom vm2)" -ge 24

t0=$(uptime_cs)
check "set_volume 1 ssd_min 0" vol_set pool 1 ssd_min 0
if wait_until 30 vm1_below_min; then
	ok "without ssd_min vm1 loses more: $(vol_ssd_n vm1) SSD chunks after $(secs "$t0") s"
else
	not_ok "without ssd_min vm1 drops below 24 SSD chunks within 30 s" "$(vol_ssd_n vm1)"
fi
stop_bg $h1 $h2
dmsetup remove vm1
dmsetup remove vm2
dmsetup remove pool
pass
