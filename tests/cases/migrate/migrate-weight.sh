#!/bin/sh
# SPDX-License-Identifier: GPL-2.0-only
# Weights: vm1 (weight 100) and vm2 (weight 400) read 96-chunk hot sets at
# the same rate, more than a 128-chunk SSD holds together.  vm1 starts
# with its whole hot set on the SSD and vm2 with 30 chunks; the heavier
# vm2 must end up with more SSD chunks than vm1.
# kernels: debian
# disks: meta=16M ssd=8M hdd=256M
# tier: quick
# timeout: 400
. /lib/dmh/guest.sh
. /lib/dmh/hybrid.sh

secs() { echo $(( ($(uptime_cs) - $1) / 100 )); }
heavier_wins() { [ "$(vol_ssd_n vm2)" -gt "$(vol_ssd_n vm1)" ]; }

load_dm_hybrid
make_pool pool 128 || fail pool
need_migration pool
for kv in "tick_ms 200" "migration_rate 0" "ssd_reserve 2"; do
	check "set $kv" pool_set pool $kv
done
make_volume pool 1 vm1 131072 >/dev/null || fail vm1
make_volume pool 2 vm2 131072 >/dev/null || fail vm2
check "set_volume 2 weight 400" vol_set pool 2 weight 400
check "status shows weights 100 and 400" \
	test "$(vol_weight vm1) $(vol_weight vm2)" = "100 400"
expect_refused "weight 0 is refused" vol_set pool 1 weight 0
expect_refused "weight 1001 is refused" vol_set pool 1 weight 1001
fio_fill /dev/mapper/vm1 0 6M || fail "vm1 write"
fio_fill /dev/mapper/vm2 0 6M || fail "vm2 write"
log "start: vm1 $(vol_ssd_n vm1) vm2 $(vol_ssd_n vm2) SSD chunks"
check "vm1 starts with its 96 chunks on the SSD, vm2 with fewer" \
	test "$(vol_ssd_n vm1)" -eq 96 -a "$(vol_ssd_n vm2)" -lt 96

# The same pattern on both: 50 random 4 KiB reads a second over 96 chunks.
fio_hot /dev/mapper/vm1 0 6M 120 --iodepth=1 --rate_iops=50
h1=$!
fio_hot /dev/mapper/vm2 0 6M 120 --iodepth=1 --rate_iops=50
h2=$!
t0=$(uptime_cs)
if wait_until 60 heavier_wins; then
	ok "weight 400 vm2 overtook weight 100 vm1 after $(secs "$t0") s (bound 60 s)"
	sleep 10
	check "... and still has more 10 s later ($(vol_ssd_n vm2) > $(vol_ssd_n vm1))" heavier_wins
else
	not_ok "weight 400 vm2 gets more SSD chunks than weight 100 vm1 within 60 s" \
		"vm1 $(vol_ssd_n vm1), vm2 $(vol_ssd_n vm2)"
fi
stop_bg $h1 $h2
log "vm1: $(dmsetup status vm1)"
log "vm2: $(dmsetup status vm2)"
r1=$(vol_reads vm1) r2=$(vol_reads vm2)
check "equal access: read counts within 10% ($r1, $r2)" \
	test $((r1 * 10)) -ge $((r2 * 9)) -a $((r2 * 10)) -ge $((r1 * 9))
check "vm1's chunks were demoted for vm2's ($(vol_dem vm1))" test "$(vol_dem vm1)" -gt 0
dmsetup remove vm1
dmsetup remove vm2
dmsetup remove pool
pass
