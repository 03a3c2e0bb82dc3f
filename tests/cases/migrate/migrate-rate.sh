#!/bin/sh
# SPDX-License-Identifier: GPL-2.0-only
# The migration rate cap: with migration_rate 4 (MiB/s), the default tick
# (250 ms, 16 migrations at most per tick) and about two thousand
# promotion candidates (every chunk of vm1 is on the HDD, the SSD is
# empty, promote_threshold 1, reads all over vm1), the sectors moved over
# a 12 s window are within 20% of 4 MiB/s = 64 chunks/s (the old 1 s
# default tick capped this at 16 chunks/s).  Then "migration off":
# for 10 s of continued hot reads nothing moves; "migration on" again and
# it moves.
# kernels: debian
# disks: meta=16M ssd=128M hdd=512M
# tier: quick
# timeout: 400
. /lib/dmh/guest.sh
. /lib/dmh/hybrid.sh

promoting() { [ "$(pool_promotions pool)" -gt 0 ]; }
ssd_free() { [ "$(pool_ssd_used pool)" -le 16 ]; }
snap() { echo "$(pool_promotions pool) $(pool_demotions pool) $(pool_moved_sectors pool)"; }

load_dm_hybrid
make_pool pool 128 || fail pool
need_migration pool
check "set promote_threshold 1" pool_set pool promote_threshold 1
check "the default tick is 250 ms" test "$(pool_tick_ms pool)" -eq 250
check "migration off for the set-up" migration pool off
check "status says migration off" test "$(pool_migration pool)" = off
make_volume pool 9 filler 262144 >/dev/null || fail filler
make_volume pool 1 vm1 262144 >/dev/null || fail vm1
fio_fill /dev/mapper/filler 0 128M || fail "filler write"
fio_fill /dev/mapper/vm1 0 128M || fail "vm1 write"
check "vm1's 2048 chunks are all on the HDD" test "$(vol_hdd_n vm1)" -eq 2048
dmsetup remove filler
check "delete the filler" pool_msg pool delete_volume 9
check "the SSD is free again" wait_until 15 ssd_free
check "set migration_rate 4" pool_set pool migration_rate 4
check "status shows migration_rate 4" test "$(pool_migration_rate pool)" -eq 4

fio_hot /dev/mapper/vm1 0 128M 120
h=$!
check "migration on" migration pool on
check "promotions start within 20 s" wait_until 20 promoting
sleep 3
s0=$(pool_moved_sectors pool) t0=$(uptime_cs)
sleep 12
s1=$(pool_moved_sectors pool) t1=$(uptime_cs)
rate=$(( (s1 - s0) * 100 / (t1 - t0) ))	# sectors per second
want=8192					# 4 MiB/s
log "moved $((s1 - s0)) sectors in $((t1 - t0)) cs: $rate sectors/s (cap $want)"
log "pool: $(dmsetup status pool)"
check "rate within 20% of the cap: $rate sectors/s, want $((want * 8 / 10))..$((want * 12 / 10))" \
	test "$rate" -ge $((want * 8 / 10)) -a "$rate" -le $((want * 12 / 10))
check "candidates remained all along (vm1 still has $(vol_hdd_n vm1) HDD chunks)" \
	test "$(vol_hdd_n vm1)" -ge 64

check "migration off" migration pool off
check "status says migration off" test "$(pool_migration pool)" = off
check "in-flight migrations finish" wait_until 10 _idle pool
a=$(snap)
sleep 10
b=$(snap)
check "with migration off nothing moves in 10 s of hot reads ($a -> $b)" test "$a" = "$b"
check "no migration in flight" test "$(pool_inflight pool)" -eq 0
check "migration on again" migration pool on
sleep 5
c=$(snap)
check "with migration on it moves again ($b -> $c)" test "$b" != "$c"
stop_bg $h
dmsetup remove vm1
dmsetup remove pool
pass
