#!/bin/sh
# SPDX-License-Identifier: GPL-2.0-only
# Priorities on a full 128-chunk SSD:
#  - a high-priority volume's cold SSD chunks are not demoted for a much
#    hotter normal volume, while an equally cold normal volume's are;
#  - a hot low-priority volume never displaces (cold) chunks of others,
#  - but it does take free SSD space when some appears.
# kernels: debian
# disks: meta=16M ssd=8M hdd=256M
# tier: quick
# timeout: 400
. /lib/dmh/guest.sh
. /lib/dmh/hybrid.sh

secs() { echo $(( ($(uptime_cs) - $1) / 100 )); }
vm3_demoted() { [ "$(vol_ssd_n vm3)" -le 4 ] && [ "$(vol_ssd_n vm3)" -ge 0 ]; }
vm4_took_free() { [ "$(vol_ssd_n vm4)" -ge 24 ]; }

load_dm_hybrid
make_pool pool 128 || fail pool
need_migration pool
for kv in "tick_ms 200" "migration_rate 0" "ssd_reserve 2" "heat_half_life 2"; do
	check "set $kv" pool_set pool $kv
done
for v in 1 2 3 4; do
	make_volume pool $v vm$v 131072 >/dev/null || fail vm$v
done
check "set_volume 1 priority high" vol_set pool 1 priority high
check "set_volume 4 priority low" vol_set pool 4 priority low
check "status shows the priorities" test \
	"$(vol_priority vm1) $(vol_priority vm2) $(vol_priority vm4)" = "high normal low"
fio_fill /dev/mapper/vm1 0 2M || fail "vm1 write"	# 32 chunks, SSD
fio_fill /dev/mapper/vm3 0 2M || fail "vm3 write"	# 32 chunks, SSD
fio_fill /dev/mapper/vm2 0 16M || fail "vm2 write"	# 256: 62 SSD, rest HDD
fio_fill /dev/mapper/vm4 0 4M || fail "vm4 write"	# 64 chunks, HDD
check "vm1 and vm3 on the SSD, vm4 on the HDD" test \
	"$(vol_ssd_n vm1) $(vol_ssd_n vm3) $(vol_hdd_n vm4)" = "32 32 64"

# 1. vm2 (normal) gets hot; vm1 (high) and vm3 (normal) are cold.
fio_hot /dev/mapper/vm2 0 16M 30
h2=$!
t0=$(uptime_cs)
min1=32
while [ "$(secs "$t0")" -lt 30 ]; do
	s=$(vol_ssd_n vm1)
	[ "$s" -lt "$min1" ] && min1=$s
	sleep 1
done
stop_bg $h2
log "pool: $(dmsetup status pool)"
for v in 1 2 3; do log "vm$v: $(dmsetup status vm$v)"; done
check "cold normal vm3 was demoted for hot vm2 ($(vol_ssd_n vm3) of 32 left)" vm3_demoted
check "vm2 was promoted ($(vol_prom vm2))" test "$(vol_prom vm2)" -ge 28
check "cold high-priority vm1 kept all 32 SSD chunks (minimum seen: $min1)" \
	test "$min1" -eq 32
check "vm1 demotions = 0" test "$(vol_dem vm1)" -eq 0

# 2. vm2 cools down (2 s half-life); then low-priority vm4 gets hot.
sleep 12
p4=$(vol_prom vm4)
fio_hot /dev/mapper/vm4 0 4M 120
h4=$!
t0=$(uptime_cs)
max4=0
while [ "$(secs "$t0")" -lt 20 ]; do
	s=$(vol_ssd_n vm4)
	[ "$s" -gt "$max4" ] && max4=$s
	sleep 1
done
log "pool: $(dmsetup status pool)"
log "vm4: $(dmsetup status vm4)"
check "hot low-priority vm4 displaced nothing (max SSD chunks seen: $max4)" \
	test "$max4" -eq 0 -a "$(vol_prom vm4)" -eq "$p4"
check "heat map: vm4 is the hot one" test "$(heat_count pool 4 64 0 4 3-9a-f)" -eq 4

# 3. Free space appears (vm1 is deleted): vm4 takes it.
dmsetup remove vm1
check "delete vm1" pool_msg pool delete_volume 1
t0=$(uptime_cs)
if wait_until 30 vm4_took_free; then
	ok "low-priority vm4 took free space: $(vol_ssd_n vm4) chunks after $(secs "$t0") s"
else
	not_ok "low-priority vm4 takes >= 24 of 32 freed SSD chunks within 30 s" "$(vol_ssd_n vm4)"
fi
stop_bg $h4
for v in 2 3 4; do dmsetup remove vm$v; done
dmsetup remove pool
pass
