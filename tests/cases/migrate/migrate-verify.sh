#!/bin/sh
# SPDX-License-Identifier: GPL-2.0-only
# Data integrity under heavy migration: the SSD (256 chunks) is much
# smaller than the working set (3 volumes x 32 MiB), every chunk that is
# touched qualifies for promotion (promote_threshold 1, hysteresis 0,
# heat_half_life 2 s, tick_ms 100), so chunks are promoted and demoted all
# the time while two fio verify writers and one reader per volume run for
# about 40 s.  fio must see no verify error, more than 50 migrations must
# happen, no chunk may leak or be counted twice, and the data must read
# back the same after the pool is torn down, checked and reassembled.
# kernels: debian debug
# disks: meta=16M ssd=16M hdd=256M
# tier: quick
# timeout: 900
. /lib/dmh/guest.sh
. /lib/dmh/hybrid.sh

RUN=40		# seconds of workload
VOLS="1 2 3"
VSECT=65536	# 32 MiB

# writer VOL W OFFSET: fio verify passes (write 12 MiB, read it all back)
# with a new seed each time, until the deadline.
writer() {
	_i=0
	while [ "$(uptime_s)" -lt "$END" ]; do
		_i=$((_i + 1))
		fio_verify "w$1$2" /dev/mapper/vm$1 12M --offset="$3" \
			--randseed=$(($1 * 1000 + $2 * 100 + _i)) >"/tmp/w$1$2.err" 2>&1 ||
			{ echo "vm$1 writer $2 pass $_i" > "/tmp/fail-w$1$2"; return 1; }
	done
	echo "$_i" > "/tmp/passes-w$1$2"
}

all_free_accounted() {
	_m=0
	for _v in $VOLS; do _m=$((_m + $(vol_mapped_n vm$_v))); done
	[ $(( $(pool_ssd_used pool) + $(pool_hdd_used pool) )) -eq "$_m" ]
}

sums() {
	for _v in $VOLS; do
		dd if=/dev/mapper/vm$_v bs=1M iflag=direct 2>/dev/null | md5sum | cut -d' ' -f1
	done
}

load_dm_hybrid
make_pool pool 128 || fail pool
need_migration pool
for kv in "tick_ms 100" "migration_rate 0" "promote_threshold 1" "hysteresis 0" \
	"heat_half_life 2"; do
	check "set $kv" pool_set pool $kv
done
check "status shows the knobs" test "$(pool_tick_ms pool) $(pool_promote_threshold pool) \
$(pool_hysteresis pool) $(pool_heat_half_life pool)" = "100 1 0 2"
for v in $VOLS; do
	make_volume pool $v vm$v $VSECT >/dev/null || fail "vm$v"
done

END=$(( $(uptime_s) + RUN ))
pids=""
for v in $VOLS; do
	writer $v 1 0 &
	pids="$pids $!"
	writer $v 2 16M &
	pids="$pids $!"
	fio_hot /dev/mapper/vm$v 0 32M $RUN
	pids="$pids $!"
done
sleep 20
log "after 20 s: $(dmsetup status pool)"
r=0
for p in $pids; do wait "$p" || r=1; done
log "pool: $(dmsetup status pool)"
for v in $VOLS; do log "vm$v: $(dmsetup status vm$v)"; done
for f in /tmp/fail-*; do
	[ -f "$f" ] || continue
	not_ok "fio verify: $(cat "$f")"
	cat "/tmp/fio-$(basename "$f" | cut -c6-).out" 2>/dev/null | tail -n 30
done
check "all writers finished without error" test $r -eq 0
log "verify passes per writer: $(cat /tmp/passes-* 2>/dev/null | tr '\n' ' ')"
p=$(pool_promotions pool) d=$(pool_demotions pool)
check "promotions + demotions > 50 ($p + $d)" test $((p + d)) -gt 50
check "both promotions and demotions happened" test "$p" -gt 0 -a "$d" -gt 0
check "sectors moved > 0" test "$(pool_moved_sectors pool)" -gt 0

check "migration off and drained" drain pool
p=$(pool_promotions pool) d=$(pool_demotions pool)
vp=$(( $(vol_prom vm1) + $(vol_prom vm2) + $(vol_prom vm3) ))
vd=$(( $(vol_dem vm1) + $(vol_dem vm2) + $(vol_dem vm3) ))
check "volumes' promotions/demotions add up to the pool's ($vp/$vd, $p/$d)" \
	test "$vp/$vd" = "$p/$d"
for v in $VOLS; do
	check "vm$v: mapped = ssd + hdd" \
		test "$(vol_mapped_n vm$v)" -eq $(( $(vol_ssd_n vm$v) + $(vol_hdd_n vm$v) ))
done
if wait_until 15 all_free_accounted; then
	ok "pool ssd + hdd used = chunks the volumes map (no leak, no double home)"
else
	not_ok "pool ssd + hdd used = chunks the volumes map" "$(dmsetup status pool)"
fi
sums > /tmp/sums.before
for v in $VOLS; do dmsetup remove vm$v; done
dmsetup remove pool
check "hybrid_check after heavy migration: clean" hybrid_check "$(disk meta)"
make_pool pool 128 || fail "pool does not reassemble"
check "migration off after reassembly" migration pool off
for v in $VOLS; do
	make_volume pool $v vm$v $VSECT >/dev/null || fail "vm$v after reassembly"
done
sums > /tmp/sums.after
check "every volume reads back the same after reassembly" cmp -s /tmp/sums.before /tmp/sums.after
check "pool ssd + hdd used = mapped chunks after reassembly" all_free_accounted
for v in $VOLS; do dmsetup remove vm$v; done
dmsetup remove pool
pass
