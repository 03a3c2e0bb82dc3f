#!/bin/sh
# SPDX-License-Identifier: GPL-2.0-only
# The chunk tier's shares at default settings (equal weights): vm1 reads
# its 96-chunk hot set as fast as the SSD serves it, vm2 its own at 20
# reads a second, as a VM the HDD serves makes few accesses.  Ranked by
# heat alone vm1's chunks (heat 255) always beat vm2's (about 10) and
# vm2 keeps the ~30 chunks of free space it got; with shares each is due
# half of the SSD's 126 chunks (128 less the reserve): vm2 must reach 55
# within 90 s, vm1 keep 55, and neither take the other's back.  Then
# vm2 at weight 300 is due 94: it must reach 85 within 90 s, and
# "hybridctl stats --json" must report each volume's chunks_due and
# hot_chunks as its status line does (fields 23 and 22), vm2's 94.
# kernels: debian
# disks: meta=16M ssd=8M hdd=256M
# tier: quick
# timeout: 480
. /lib/dmh/guest.sh
. /lib/dmh/hybrid.sh

secs() { echo $(( ($(uptime_cs) - $1) / 100 )); }
# the status' <hot chunks> and <chunks due>; KEY of VOL in stats --json
vol_hot() { num vol_field "$1" 22; }
vol_due() { num vol_field "$1" 23; }
json_of() {
	grep "\"device\": \"$1\"" /tmp/stats.json |
		sed -n "s/.*\"$2\": \([^,}]*\).*/\1/p"
}
# stats --json agrees with both volumes' status lines, read before and
# after it (a pass that changed them in between: try again)
stats_agree() {
	_sa="$(vol_hot vm1) $(vol_due vm1) $(vol_hot vm2) $(vol_due vm2)"
	hybridctl stats --json --interval 0.2 >/tmp/stats.json 2>&1 || return 1
	_sj="$(json_of vm1 hot_chunks) $(json_of vm1 chunks_due)"
	_sj="$_sj $(json_of vm2 hot_chunks) $(json_of vm2 chunks_due)"
	[ "$_sa" = "$(vol_hot vm1) $(vol_due vm1) $(vol_hot vm2) $(vol_due vm2)" ] &&
		[ "$_sj" = "$_sa" ]
}
counts() { echo "vm1 $(vol_ssd_n vm1) vm2 $(vol_ssd_n vm2)"; }
vm2_has() { [ "$(vol_ssd_n vm2)" -ge "$1" ]; }

load_dm_hybrid
make_pool pool 128 || fail pool
need_migration pool
for kv in "tick_ms 200" "migration_rate 0" "ssd_reserve 2"; do
	check "set $kv" pool_set pool $kv
done
make_volume pool 1 vm1 131072 >/dev/null || fail vm1
make_volume pool 2 vm2 131072 >/dev/null || fail vm2
fio_fill /dev/mapper/vm1 0 6M || fail "vm1 write"
fio_fill /dev/mapper/vm2 0 6M || fail "vm2 write"
log "start: $(counts) SSD chunks"
check "vm1 starts with its 96 chunks on the SSD, vm2 with at most 30" \
	test "$(vol_ssd_n vm1)" -eq 96 -a "$(vol_ssd_n vm2)" -le 30

fio_hot /dev/mapper/vm1 0 6M 300 --iodepth=4
h1=$!
fio_hot /dev/mapper/vm2 0 6M 300 --iodepth=1 --rate_iops=20
h2=$!
t0=$(uptime_cs)
if wait_until 90 vm2_has 55; then
	ok "the slow vm2 reached 55 SSD chunks after $(secs "$t0") s (bound 90 s; $(counts))"
else
	not_ok "the slow vm2 reaches 55 SSD chunks within 90 s" "$(counts)"
fi
sleep 15
d1=$(vol_dem vm1) d2=$(vol_dem vm2)
sleep 15
log "after 30 s more: $(counts), demotions vm1 $(vol_dem vm1) vm2 $(vol_dem vm2)"
check "vm2 still holds 55 or more 30 s later ($(counts))" vm2_has 55
check "vm1 keeps 55 or more ($(counts))" test "$(vol_ssd_n vm1)" -ge 55
check "settled: at most 4 demotions in the last 15 s (vm1 $d1 -> $(vol_dem vm1), vm2 $d2 -> $(vol_dem vm2))" \
	test $(( $(vol_dem vm1) - d1 + $(vol_dem vm2) - d2 )) -le 4

check "set_volume 2 weight 300" vol_set pool 2 weight 300
t0=$(uptime_cs)
if wait_until 90 vm2_has 85; then
	ok "vm2 at weight 300 reached 85 SSD chunks after $(secs "$t0") s (bound 90 s; $(counts))"
else
	not_ok "vm2 at weight 300 reaches 85 SSD chunks within 90 s" "$(counts)"
fi
if wait_until 20 stats_agree; then
	ok "hybridctl stats --json: hot_chunks and chunks_due as the status has them (vm1 vm2: $_sj)"
else
	not_ok "hybridctl stats --json reports hot_chunks and chunks_due as the status does" \
		"status $_sa, json $_sj: $(head -c 300 /tmp/stats.json | tr "\n" " ")"
fi
check "vm2 at weight 300 is due 94 in hybridctl stats --json ($(json_of vm2 chunks_due))" \
	test "$(json_of vm2 chunks_due)" = 94
hybridctl stats --interval 0.2 | sed 's/^/    /'
stop_bg $h1 $h2
log "vm1: $(dmsetup status vm1)"
log "vm2: $(dmsetup status vm2)"
dmsetup remove vm1
dmsetup remove vm2
dmsetup remove pool
pass
