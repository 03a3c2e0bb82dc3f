#!/bin/sh
# SPDX-License-Identifier: GPL-2.0-only
# ssd_max caps a volume's share of the SSD: vm1 and vm2 have equally hot
# 8 MiB regions (128 chunks each) on the HDD and the SSD has plenty of free
# space.  vm1, capped at 32 chunks, never holds more than 32 while vm2 is
# promoted; lowering the cap to 16 demotes vm1's excess while it is still
# hot; cap 0 (none) lets vm1 be promoted.  First writes respect the cap
# too.
# kernels: debian
# disks: meta=16M ssd=32M hdd=256M
# tier: quick
# timeout: 400
. /lib/dmh/guest.sh
. /lib/dmh/hybrid.sh

B=1024
count() { tier_count pool "$1" $B 0 128 S; }	# hot region = chunks 0-127
ssd_free() { [ "$(pool_ssd_used pool)" -le 16 ]; }
vm2_promoted() { [ "$(count 2)" -ge 116 ]; }
vm1_promoted() { [ "$(count 1)" -ge 116 ]; }
vm1_at_most_16() { [ "$(vol_ssd_n vm1)" -le 16 ] && [ "$(vol_ssd_n vm1)" -ge 0 ]; }
secs() { echo $(( ($(uptime_cs) - $1) / 100 )); }

load_dm_hybrid
make_pool pool 128 || fail pool
need_migration pool
# promote_free_threshold 4: the fio_fill writes leave heat 1 on every
# chunk, which free-space promotion would move to the SSD as soon as the
# filler is deleted; this case measures the caps against read-hot data.
for kv in "tick_ms 200" "migration_rate 0" "ssd_reserve 8" \
	"promote_free_threshold 4"; do
	check "set $kv" pool_set pool $kv
done
make_volume pool 9 filler 65536 >/dev/null || fail filler
make_volume pool 1 vm1 131072 >/dev/null || fail vm1
make_volume pool 2 vm2 131072 >/dev/null || fail vm2
fio_fill /dev/mapper/filler 0 32M || fail "filler write"
fio_fill /dev/mapper/vm1 0 8M || fail "vm1 write"
fio_fill /dev/mapper/vm2 0 8M || fail "vm2 write"
check "vm1 and vm2 data all on the HDD" \
	test "$(vol_hdd_n vm1) $(vol_hdd_n vm2)" = "128 128"
check "set_volume 1 ssd_max 32" vol_set pool 1 ssd_max 32
check "status shows ssd_max 32 for vm1, 0 for vm2" \
	test "$(vol_ssd_max vm1) $(vol_ssd_max vm2)" = "32 0"
dmsetup remove filler
check "delete the filler" pool_msg pool delete_volume 9
check "the SSD is free again" wait_until 15 ssd_free

# The cap holds for first writes.
make_volume pool 4 vm4 32768 >/dev/null || fail vm4
check "set_volume 4 ssd_max 8" vol_set pool 4 ssd_max 8
fio_fill /dev/mapper/vm4 0 4M || fail "vm4 write"
check "first writes: capped vm4 has <= 8 of 64 chunks on the SSD ($(vol_ssd_n vm4))" \
	test "$(vol_ssd_n vm4)" -le 8 -a "$(vol_hdd_n vm4)" -ge 56

fio_hot /dev/mapper/vm1 0 8M 120
h1=$!
fio_hot /dev/mapper/vm2 0 8M 120
h2=$!
t0=$(uptime_cs)
if wait_until 40 vm2_promoted; then
	ok "uncapped vm2 promoted (>= 90%) after $(secs "$t0") s (bound 40 s)"
else
	not_ok "uncapped vm2 promoted (>= 90%) within 40 s" "$(count 2) of 128"
fi
# Watch vm1 until 30 s after the first read.
max1=0
while :; do
	s=$(vol_ssd_n vm1)
	[ "$s" -gt "$max1" ] && max1=$s
	[ "$(secs "$t0")" -lt 30 ] || break
	sleep 1
done
log "vm1: $(dmsetup status vm1)"
log "vm2: $(dmsetup status vm2)"
check "capped vm1 never above 32 SSD chunks (maximum seen: $max1)" test "$max1" -le 32
check "capped vm1 was promoted up to its cap (>= 16 of 32: $(vol_ssd_n vm1))" \
	test "$(vol_ssd_n vm1)" -ge 16
check "placement map agrees: vm1 S chunks <= 32" test "$(count 1)" -le 32 -a "$(count 1)" -ge 0
# vm1 started with no SSD chunk: at its cap it gets no more promotions.
check "capped vm1: <= 32 promotions, no demotions (prom $(vol_prom vm1), dem $(vol_dem vm1))" \
	test "$(vol_prom vm1)" -le 32 -a "$(vol_dem vm1)" -eq 0

t0=$(uptime_cs)
d0=$(vol_dem vm1)
check "set_volume 1 ssd_max 16" vol_set pool 1 ssd_max 16
if wait_until 20 vm1_at_most_16; then
	ok "lowered cap: vm1 down to $(vol_ssd_n vm1) SSD chunks after $(secs "$t0") s (bound 20 s)"
else
	not_ok "lowered cap: vm1 down to <= 16 SSD chunks within 20 s" "$(vol_ssd_n vm1)"
fi
check "vm1's excess was demoted ($(vol_dem vm1) > $d0) while hot" test "$(vol_dem vm1)" -gt "$d0"

t0=$(uptime_cs)
check "set_volume 1 ssd_max 0 (no cap)" vol_set pool 1 ssd_max 0
if wait_until 40 vm1_promoted; then
	ok "uncapped vm1 promoted (>= 90%) after $(secs "$t0") s (bound 40 s)"
else
	not_ok "uncapped vm1 promoted (>= 90%) within 40 s" "$(count 1) of 128"
fi
stop_bg $h1 $h2
for v in vm1 vm2 vm4; do dmsetup remove $v; done
dmsetup remove pool
pass
