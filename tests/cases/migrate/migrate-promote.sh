#!/bin/sh
# SPDX-License-Identifier: GPL-2.0-only
# Promotion: a cold "filler" volume holds the SSD, so vm1's data lands on
# the HDD.  20 s of random reads on an 8 MiB region of vm1 must bring at
# least 90% of its 128 chunks to the SSD within 60 s of the first read,
# swapping out (demoting) filler chunks; an unread region of vm1 stays on
# the HDD; the placement map agrees with the status; data survives.
# kernels: debian
# disks: meta=16M ssd=32M hdd=256M
# tier: quick
# timeout: 400
. /lib/dmh/guest.sh
. /lib/dmh/hybrid.sh

# 64 KiB chunks: the SSD has 512, vm1 (64 MiB) 1024 = one map bucket each.
B=1024
HOT_C=256 COLD_C=640 N=128	# chunk ranges: 16M..24M and 40M..48M
NEED=116			# 90% of 128, rounded up

hot_promoted() { [ "$(tier_count pool 1 $B $HOT_C $N S)" -ge $NEED ]; }

load_dm_hybrid
make_pool pool 128 || fail pool
need_migration pool
check "set tick_ms 200" pool_set pool tick_ms 200
check "set migration_rate 0 (unlimited)" pool_set pool migration_rate 0
check "set ssd_reserve 8" pool_set pool ssd_reserve 8
# The fio_fill writes leave heat 1 on every written chunk: this case checks
# read-driven promotion by swaps, so lightly written chunks must not take
# the room the swaps free (promotion into free space is the KUnit case
# promotes_lukewarm_into_free_space).
check "set promote_free_threshold 4" pool_set pool promote_free_threshold 4
check "status shows tick_ms 200, ssd_reserve 8, migration on" test \
	"$(pool_tick_ms pool) $(pool_ssd_reserve pool) $(pool_migration pool)" = "200 8 on"
make_volume pool 9 filler 65536 >/dev/null || fail filler
make_volume pool 1 vm1 131072 >/dev/null || fail vm1

# The filler takes every SSD chunk above the reserve (and some HDD).
fio_fill /dev/mapper/filler 0 32M || fail "filler write"
check "filler holds the SSD ($(vol_ssd_n filler) of 512 chunks, 504 expected)" \
	test "$(vol_ssd_n filler)" -ge 480
for off in 16M 40M; do
	fio_fill /dev/mapper/vm1 $off 8M --verify=crc32c --do_verify=0 || fail "vm1 write at $off"
done
check "vm1 maps 256 chunks, all on the HDD ($(vol_ssd_n vm1) on the SSD)" \
	test "$(vol_mapped_n vm1) $(vol_hdd_n vm1)" = "256 256"
check "placement map: hot region all on the HDD before the reads" \
	test "$(tier_count pool 1 $B $HOT_C $N h)" -eq $N
p0=$(pool_promotions pool) d0=$(pool_demotions pool)
log "before reads: promotions=$p0 demotions=$d0"

t0=$(uptime_cs)
fio_hot /dev/mapper/vm1 16M 8M 20
hot=$!
if wait_until 60 hot_promoted; then
	ok "hot region >= 90% on the SSD after $(( ($(uptime_cs) - t0) / 100 )) s (bound 60 s)"
else
	not_ok "hot region >= 90% on the SSD within 60 s" \
		"$(tier_count pool 1 $B $HOT_C $N S) of $N; status: $(dmsetup status pool)"
fi
stop_bg $hot
log "vm1: $(dmsetup status vm1)"
log "filler: $(dmsetup status filler)"
log "pool: $(dmsetup status pool)"
log "map: $(placement pool 1 64 || true)"
check "filler chunks were demoted (pool demotions $(pool_demotions pool) > $d0)" \
	test "$(pool_demotions pool)" -gt "$d0"
check "filler's own demotion count > 0" test "$(vol_dem filler)" -gt 0
check "vm1's promotion count >= $NEED ($(vol_prom vm1))" test "$(vol_prom vm1)" -ge $NEED
check "pool promotions >= $NEED" test "$(pool_promotions pool)" -ge $((p0 + NEED))
check "unread region of vm1 stays on the HDD" \
	test "$(tier_count pool 1 $B $COLD_C $N S)" -eq 0
check "heat map: hot region hot (>= 4, digit >= 3)" \
	test "$(heat_count pool 1 $B $HOT_C $N 3-9a-f)" -ge $NEED
check "heat map: unread region cold (< 4)" \
	test "$(heat_count pool 1 $B $COLD_C $N 0-2)" -eq $N

# With migration stopped, the map, the volume and the pool status agree.
check "migration off and drained" drain pool
pm=$(placement pool 1 $B || true)
s=$(vol_ssd_n vm1) h=$(vol_hdd_n vm1)
check "placement map ssd=/hdd= match the volume status ($s/$h)" \
	test "$(pmap_get "$pm" ssd)/$(pmap_get "$pm" hdd)" = "$s/$h"
check "placement map S chunks = volume ssd chunks" \
	test "$(tier_count pool 1 $B 0 $B S)" -eq "$s"
check "pool ssd used = filler + vm1 ssd chunks" \
	test "$(pool_ssd_used pool)" -eq $(( $(vol_ssd_n filler) + s ))
check "mapped = ssd + hdd for vm1" test "$(vol_mapped_n vm1)" -eq $((s + h))

for off in 16M 40M; do
	check "vm1 data at $off intact after migration" \
		fio_fill /dev/mapper/vm1 $off 8M --verify=crc32c --verify_only=1
done
dmsetup remove vm1
dmsetup remove filler
dmsetup remove pool
check "hybrid_check after migration: clean" hybrid_check "$(disk meta)"
pass
