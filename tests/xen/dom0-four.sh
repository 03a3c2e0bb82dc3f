#!/bin/sh
# SPDX-License-Identifier: GPL-2.0-only
#
# Four PV guests at once on four dm-hybrid volumes (phy:/dev/mapper/vmN
# through stock blkback), with migration running.  Dom0 writes the start
# of every volume sequentially first (so it lives on the HDD), sets
# thresholds so low that every touched chunk qualifies for promotion, and
# starts:
#   vm1, vm2  fio verify (1 MiB at 1 MiB, 4 KiB random writes, crc32c),
#             then blkdiscard of the whole disk
#   vm3       fio verify (1 MiB at 1 MiB)
#   vm4       the WebSearch1 trace (its first 200 requests) replayed by fio
# (Small, because four guests under nested TCG on a loaded host did 0.4-2
# IOPS each.)
# While they run, `hybridctl stats` must name each volume's Xen domain
# (name and id, from blkback's xenstore entries).  Afterwards: every guest
# passed; each volume's read/write sectors in Dom0 equal what the guest's
# xvda counted, and its read/write ios equal the guest's plus the splits
# at 64 KiB chunk boundaries, up to the requests the guest merged (see
# Documentation/xen-lab.rst, "Counter tolerance"); promotions happened
# while the guests ran; the discarded volumes map no chunk and the pool
# counts exactly the chunks the volumes map.
# disks: meta=16M ssd=256M hdd=1G
. /lib/dmh/guest.sh
. /lib/dmh/hybrid.sh
. /lib/dmh/xen/lib-dom0.sh
between() { [ "$1" -ge "$2" ] && [ "$1" -le "$3" ]; }	# N LOW HIGH
min() { if [ "$1" -lt "$2" ]; then echo "$1"; else echo "$2"; fi; }
stamp dom0-init
xen_up
load_dm_hybrid
make_pool pool0 128 || fail "pool"
VOLS="vm1 vm2 vm3 vm4"
id=0
for v in $VOLS; do
	id=$((id + 1))
	make_volume pool0 $id $v $((64 * 2048)) >/dev/null || fail "volume $v"
done
# Sequential writes go to the HDD (after the first 1 MiB, seq_cutoff):
# 4 MiB of each fio volume, 12 MiB of the replay volume (the compacted
# trace spans 10 MiB).
for v in vm1 vm2 vm3; do
	dd if=/dev/zero of=/dev/mapper/$v bs=1M count=4 oflag=direct 2>/dev/null || fail "prewrite $v"
done
dd if=/dev/zero of=/dev/mapper/vm4 bs=1M count=12 oflag=direct 2>/dev/null || fail "prewrite vm4"
for kv in "tick_ms 100" "migration_rate 0" "promote_threshold 1" "hysteresis 0"; do
	# shellcheck disable=SC2086
	pool_set pool0 $kv || fail "set $kv"
done
need_migration pool0
dmsetup status pool0
for v in $VOLS; do
	dmsetup status $v
	dmsetup status $v | awk '{ print $7, $9, $8, $10 }' > /tmp/c0.$v
done
p0=$(pool_promotions pool0)
stamp pool-ready

# stats_names GUEST: hybridctl stats (text and JSON) names volume GUEST's
# Xen guest "GUEST(<domid>)", right after its creation (a guest may be
# gone before the last one starts).
stats_names() {
	_d=$(xl domid "$1") || _d=none
	hybridctl stats --interval 1 > /tmp/stats.out 2>&1 || not_ok "hybridctl stats" "exit $?"
	cat /tmp/stats.out
	hybridctl stats --interval 1 --json > /tmp/stats.json 2>&1 || not_ok "hybridctl stats --json"
	cat /tmp/stats.json
	check "stats names $1's guest: $1($_d)" \
		awk -v v="$1" -v g="$1($_d)" '$1 == v && $NF == g { f = 1 } END { exit !f }' /tmp/stats.out
	check "stats --json names $1's guest" \
		grep -q "\"xen_domain\": {\"name\": \"$1\", \"id\": $_d," /tmp/stats.json
}
guest_start vm1 vm1 fio-verify+discard 1M 11 1M || fail "xl create vm1"
stats_names vm1
guest_start vm2 vm2 fio-verify+discard 1M 12 1M || fail "xl create vm2"
stats_names vm2
guest_start vm3 vm3 fio-verify 1M 13 1M || fail "xl create vm3"
stats_names vm3
guest_start vm4 vm4 replay 0 14 || fail "xl create vm4"
stats_names vm4
xl list

i=0
while guests_running $VOLS && [ $i -lt 360 ]; do
	sleep 5
	i=$((i + 1))
	show_consoles $VOLS
	[ $((i % 6)) -eq 0 ] && echo "DMH-XEN-PROGRESS t=$((i * 5)) promotions=$(pool_promotions pool0) demotions=$(pool_demotions pool0)"
done
show_consoles $VOLS
stamp guests-gone
for v in $VOLS; do
	xl list $v >/dev/null 2>&1 && { xl destroy $v; not_ok "guest $v still running after $((i * 5))s"; }
	guest_checks $v
done
dmsetup status pool0
p1=$(pool_promotions pool0)
echo "DMH-XEN-MIGRATION promotions=$((p1 - p0)) demotions=$(pool_demotions pool0)"
check "promotions while the guests ran ($((p1 - p0)))" [ $((p1 - p0)) -gt 0 ]

# Per-volume counters against each guest's own disk statistics.
for v in $VOLS; do
	dmsetup status $v
	# shellcheck disable=SC2046
	set -- $(cat /tmp/c0.$v) $(dmsetup status $v | awk '{ print $7, $9, $8, $10 }') \
		$(guest_diskstat $v)
	[ $# -eq 16 ] || { not_ok "$v: counters" "got: $*"; continue; }
	dr=$(($5 - $1)) drs=$(($6 - $2)) dw=$(($7 - $3)) dws=$(($8 - $4))
	gr=$9 grs=${10} gw=${11} gws=${12} gd=${13} grm=${15} gwm=${16}
	sp=$(guest_splits $v)
	echo "DMH-XEN-COUNT $v guest: reads $gr/${grs}s writes $gw/${gws}s discards $gd" \
		"merges $grm/$gwm chunk-splits $sp; dom0: reads $dr/${drs}s writes $dw/${dws}s"
	check "$v: read sectors equal" [ "$drs" -eq "$grs" ]
	check "$v: write sectors equal" [ "$dws" -eq "$gws" ]
	# The replay only reads (99 %: its 200 requests have no write).
	check "$v: read ios = guest's + chunk splits (+ merges)" \
		between "$dr" $((gr + sp)) $((gr + sp + grm))
	check "$v: write ios = guest's (+ merges)" between "$dw" "$gw" $((gw + gwm))
	case $v in
	vm1 | vm2 | vm3) check "$v: fio's 256 writes and reads reached the volume" \
		between 256 256 "$(min "$dw" "$dr")" ;;
	esac
	echo "DMH-XEN-VOL $v mapped=$(vol_mapped_n $v) ssd=$(vol_ssd_n $v) hdd=$(vol_hdd_n $v) prom=$(vol_prom $v)"
	check "$v: chunks promoted while the guest ran" [ "$(vol_prom $v)" -gt 0 ]
done
# Discard: vm1 and vm2 discarded their whole disk.
for v in vm1 vm2; do
	gd=$(guest_diskstat $v | cut -d' ' -f5)
	check "$v: the guest issued discards" [ "${gd:-0}" -gt 0 ]
	check "$v: discard freed every chunk" [ "$(vol_mapped_n $v)" -eq 0 ]
done
for v in vm3 vm4; do
	check "$v: keeps its chunks" [ "$(vol_mapped_n $v)" -gt 0 ]
done
accounted() {
	[ $(( $(pool_ssd_used pool0) + $(pool_hdd_used pool0) )) -eq \
		$(( $(vol_mapped_n vm1) + $(vol_mapped_n vm2) + $(vol_mapped_n vm3) + $(vol_mapped_n vm4) )) ]
}
check "the pool counts exactly the chunks the volumes map" wait_until 20 accounted
dmsetup status pool0
for v in $VOLS; do dmsetup remove $v || not_ok "remove $v"; done
dmsetup remove pool0 || not_ok "remove pool0"
stamp finished
pass
