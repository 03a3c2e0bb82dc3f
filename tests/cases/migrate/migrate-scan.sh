#!/bin/sh
# SPDX-License-Identifier: GPL-2.0-only
# Scan resistance: vm1's 4 MiB hot set is promoted first.  Then vm2 writes
# 16 MiB of new data sequentially (far beyond seq_cutoff, 1 MiB) and scans
# 48 MiB of old data sequentially for 30 s with 16 KiB reads (4 reads per
# chunk and pass: enough to reach promote_threshold if the scan heated
# chunks), while vm1 keeps a light random read load.  The SSD has plenty
# of free space all along, so only the stream detection keeps vm2 off it:
# vm1's hot set stays >= 90% on the SSD, vm2's scanned chunks are not
# promoted and its sequential new data is placed on the HDD.  Last, the
# scan runs again with promote_free_threshold at its default (1): nothing
# past the first seq_cutoff of a pass is heated or promoted.
# kernels: debian
# disks: meta=16M ssd=32M hdd=256M
# tier: quick
# timeout: 400
. /lib/dmh/guest.sh
. /lib/dmh/hybrid.sh

B=1024
secs() { echo $(( ($(uptime_cs) - $1) / 100 )); }
ssd_free() { [ "$(pool_ssd_used pool)" -le 16 ]; }
vm1_hot() { [ "$(tier_count pool 1 $B 0 64 S)" -ge 58 ]; }	# 90% of 64

load_dm_hybrid
make_pool pool 128 || fail pool
need_migration pool
# promote_free_threshold 4: the fio_fill writes leave heat 1 on every
# chunk of vm1 and vm2, which free-space promotion would move to the
# (free) SSD before the scan starts; this case checks that the scan does
# not heat or promote, so only heat that reaches promote_threshold counts.
for kv in "tick_ms 200" "migration_rate 0" "ssd_reserve 8" \
	"promote_free_threshold 4"; do
	check "set $kv" pool_set pool $kv
done
check "seq_cutoff is 1024 KiB by default" test "$(pool_seq_cutoff pool)" -eq 1024
make_volume pool 9 filler 65536 >/dev/null || fail filler
make_volume pool 1 vm1 131072 >/dev/null || fail vm1
make_volume pool 2 vm2 131072 >/dev/null || fail vm2
fio_fill /dev/mapper/filler 0 32M || fail "filler write"
fio_fill /dev/mapper/vm1 0 4M || fail "vm1 write"
fio_fill /dev/mapper/vm2 0 48M || fail "vm2 write"
check "vm1 and vm2 data on the HDD" test "$(vol_hdd_n vm1) $(vol_hdd_n vm2)" = "64 768"
dmsetup remove filler
check "delete the filler" pool_msg pool delete_volume 9
check "the SSD is free again" wait_until 15 ssd_free

# 1. vm1's hot set.
fio_hot /dev/mapper/vm1 0 4M 15
h=$!
t0=$(uptime_cs)
if wait_until 45 vm1_hot; then
	ok "vm1 hot set promoted after $(secs "$t0") s (bound 45 s)"
else
	not_ok "vm1 hot set promoted within 45 s" "$(tier_count pool 1 $B 0 64 S) of 64"
fi
stop_bg $h

# 2. vm2 streams; vm1 keeps a light load.
p2=$(vol_prom vm2) q2=$(vol_seq_ios vm2)
fio_hot /dev/mapper/vm1 0 4M 120 --iodepth=1 --rate_iops=20
h=$!
fio --name=seqw --filename=/dev/mapper/vm2 --direct=1 --ioengine=psync --rw=write \
	--bs=256k --offset=48M --size=16M >/tmp/fio-seqw.out 2>&1 ||
	{ cat /tmp/fio-seqw.out; not_ok "sequential write of new data"; }
new_ssd=$(tier_count pool 2 $B 768 256 S)
check "sequential new data (256 chunks) placed on the HDD ($new_ssd on the SSD, <= 20 allowed for the first 1 MiB)" \
	test "$new_ssd" -ge 0 -a "$new_ssd" -le 20
fio --name=scan --filename=/dev/mapper/vm2 --direct=1 --ioengine=psync --rw=read \
	--bs=16k --offset=0 --size=48M --time_based --runtime=30 >/tmp/fio-scan.out 2>&1 &
scan=$!
t0=$(uptime_cs)
min1=64
while [ "$(secs "$t0")" -lt 30 ]; do
	s=$(tier_count pool 1 $B 0 64 S)
	[ "$s" -lt "$min1" ] && min1=$s
	sleep 1
done
wait $scan || not_ok "the scan failed" "$(cat /tmp/fio-scan.out)"
stop_bg $h
log "pool: $(dmsetup status pool)"
log "vm1: $(dmsetup status vm1)"
log "vm2: $(dmsetup status vm2)"
log "vm2 map: $(placement pool 2 64 || true)"
rsect=$(num vol_field vm2 6)
check "the scan read at least one full pass ($rsect sectors)" test "$rsect" -ge 98304
check "vm1 hot set stayed >= 90% on the SSD (minimum seen: $min1 of 64)" test "$min1" -ge 58
pr=$(( $(vol_prom vm2) - p2 ))
check "vm2's scanned chunks not promoted ($pr promotions, <= 48 allowed)" \
	test "$pr" -ge 0 -a "$pr" -le 48
check "vm2's old data still on the HDD (<= 48 of 768 on the SSD)" \
	test "$(tier_count pool 2 $B 0 768 S)" -le 48
check "vm2's new data still on the HDD (<= 20 of 256 on the SSD)" \
	test "$(tier_count pool 2 $B 768 256 S)" -le 20
check "heat map: the scan did not heat vm2 (<= 48 of 768 chunks >= 4)" \
	test "$(heat_count pool 2 $B 0 768 3-9a-f)" -le 48
check "vm2 counted sequential ios ($(vol_seq_ios vm2))" test "$(vol_seq_ios vm2)" -gt "$q2"

# 3. The same scan under the default free-space rule, promote_free_threshold
# 1, with the SSD mostly free: any chunk with heat 1 may now be promoted
# without a swap, so only the stream detection keeps the scan off the SSD.
# Once the fill's heat has decayed, a pass may heat only its first
# seq_cutoff (chunks 0-15: each pass restarts at offset 0, a new stream);
# chunks 16-767 must gain no heat and none of them may come to the SSD.
cold2() { [ "$(heat_count pool 2 $B 16 752 1-9a-f)" -eq 0 ]; }
check "set heat_half_life 1" pool_set pool heat_half_life 1
check "vm2's heat decays to 0" wait_until 30 cold2
check "set heat_half_life 60" pool_set pool heat_half_life 60
check "set promote_free_threshold 1 (the default)" pool_set pool promote_free_threshold 1
s3=$(tier_count pool 2 $B 16 752 S)
fio --name=scan3 --filename=/dev/mapper/vm2 --direct=1 --ioengine=psync --rw=read \
	--bs=16k --offset=0 --size=48M --time_based --runtime=15 >/tmp/fio-scan3.out 2>&1 ||
	not_ok "the scan under the default rule failed" "$(cat /tmp/fio-scan3.out)"
sleep 2	# promotions the scan's heat could still queue (ticks of 200 ms)
log "vm2 map after the default-rule scan: $(placement pool 2 64 || true)"
check "default rule: the scan past each pass's first 1 MiB heated nothing" cold2
check "default rule: no scanned chunk past the first 1 MiB promoted ($s3 before)" \
	test "$(tier_count pool 2 $B 16 752 S)" -le "$s3"
dmsetup remove vm1
dmsetup remove vm2
dmsetup remove pool
pass
