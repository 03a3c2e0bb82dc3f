#!/bin/sh
# SPDX-License-Identifier: GPL-2.0-only
# hybridctl pool replace-ssd (issue 20 item 4): a pool made by hybridctl
# (in /etc/hybridtab) with chunks, a range pinned to the SSD and dirty
# staged blocks on its 32 MiB SSD; pool status (text, --json) shows the
# evacuation fields; a new SSD that is too small, the HDD, the metadata
# device, the SSD itself, a volume, a device in use or none at all is
# refused and changes nothing; with fio verify rounds on two volumes and
# a 4 KiB random read/write probe at iodepth 1 on one, replace-ssd onto
# a 64 MiB disk succeeds, fio reports no error, the probe's largest
# completion latency stays under 1 s; the table and the tab name the new
# SSD, the evacuation has ended, the data written before reads back
# unchanged, first writes and promotions reach the new SSD, the old SSD
# is zeroed without changing a byte of the volumes, and pool deactivate
# then activate (from the tab) brings the pool back on the new SSD with
# the same data.
# kernels: debian debug
# disks: meta=16M ssd=32M ssd2=64M hdd=256M
# tier: quick
# debug-tier: long
# timeout: 400
. /lib/dmh/guest.sh
. /lib/dmh/hybrid.sh
. /lib/dmh/hctl.sh
devno() { cat "/sys/class/block/$(basename "$(readlink -f "$1")")/dev"; }
table_ssd() { dmsetup table pool | awk '{ print $5 }'; }
tab_ssd() { awk '$1 == "pool" { print $3 }' "$HYBRIDTAB"; }
vid() { dmsetup message pool 0 list_volumes | awk -v n="$1" '$3 == n { print $1 }'; }
# region_sum DEV OFFSET_MIB MIB: the md5 of that range of DEV.
region_sum() {
	dd if="$1" bs=1M skip="$2" count="$3" iflag=direct 2>/dev/null | md5sum | cut -d' ' -f1
}
# snap: every dm table, the tab and the evacuation state.
snap() { dmsetup table | sort; cat "$HYBRIDTAB"; evac_state pool; }
same_as() { snap >/tmp/snap.now; cmp -s "$1" /tmp/snap.now || { diff "$1" /tmp/snap.now; return 1; }; }
# verify_rounds NAME DEV: fio verify rounds (write 8 MiB at 8 MiB, read it
# back) until /tmp/stop exists; the rounds done in /tmp/rounds.NAME, a
# failure in /tmp/vfail.NAME.
verify_rounds() {
	_r=0
	while [ ! -e /tmp/stop ]; do
		fio_verify "$1" "$2" 8M --offset=8M || { echo "round $_r" >"/tmp/vfail.$1"; break; }
		_r=$((_r + 1))
	done
	echo $_r >"/tmp/rounds.$1"
}
# stop_probe PID: SIGINT until fio ends (one sent while it starts up may
# be lost), so that it writes its JSON; its runtime bounds it anyway.
stop_probe() {
	while kill -INT "$1" 2>/dev/null; do
		sleep 1
		! grep -q '^[0-9]* ([^)]*) Z' "/proc/$1/stat" 2>/dev/null || break
	done
	wait "$1" || true
}
# The largest "max" of the clat_ns sections (read and write) of fio's
# JSON output, in ns.
cat >/tmp/clatmax.awk <<'EOF'
/"clat_ns" *: *\{/ { inclat = 1; next }
inclat && /"max" *:/ { v = $0; sub(/.*: */, "", v); sub(/,.*/, "", v); if (v + 0 > m) m = v + 0 }
inclat && /[}]/ { inclat = 0 }
END { printf "%d\n", m }
EOF

S=$(disk ssd) S2=$(disk ssd2) D=$(disk hdd) M=$(disk meta)
V1=/dev/mapper/vm1 V2=/dev/mapper/vm2
check "pool create (64K chunks, a 4 MiB block tier staging writes)" \
	run $H pool create pool --metadata "$M" --ssd "$S" --hdd "$D" \
	--chunk-size 64K --block-tier 4M --write-staging
cat /tmp/out
need_migration pool
for kv in "tick_ms 200" "migration_rate 0"; do
	# shellcheck disable=SC2086
	check "pool set $kv" run $H pool set pool $kv
done
check "vol create vm1 64M" run $H vol create pool vm1 64M
check "vol create vm2 64M" run $H vol create pool vm2 64M
i1=$(vid vm1) i2=$(vid vm2)

# Data on the SSD: first writes (chunks), a pinned range, dirty block
# slots (vm2's 24-28 MiB pinned to the HDD, then written in 4 KiB blocks).
fio_fill $V1 0 8M || fail "vm1 fill"
fio_fill $V2 0 8M || fail "vm2 fill"
check "pin vm1's first 2 MiB to the SSD" pin pool "$i1" 0 4096 ssd
check "pin vm2's 24-28 MiB to the HDD" pin pool "$i2" 49152 8192 hdd
fio_fill $V2 24M 4M || fail "vm2 24M fill"
fio --name=stage --filename=$V2 --direct=1 --ioengine=libaio \
	--iodepth=4 --rw=randwrite --bs=4k --offset=24M --size=4M \
	--time_based --runtime=2 >/dev/null 2>&1 || fail "vm2 staged writes"
log "before: $(dmsetup status pool)"
check "chunks on the SSD ($(vol_ssd_n vm1) + $(vol_ssd_n vm2)), dirty block slots ($(blk_dirty pool))" \
	test "$(vol_ssd_n vm1)" -gt 0 -a "$(vol_ssd_n vm2)" -gt 0 -a "$(blk_dirty pool)" -gt 0
r1=$(region_sum $V1 0 8) r2=$(region_sum $V2 0 8) r24=$(region_sum $V2 24 4)

# ---- pool status shows the evacuation fields ----------------------------------
check "pool status" run $H pool status pool
cat /tmp/out
check "... says evacuation off, with the SSD's chunks and slots ($(evac_left pool))" \
	grep -q "^  evacuation:  off, [1-9][0-9]* chunks and block slots hold data on the SSD$" /tmp/out
check "pool status --json" run $H pool status pool --json
check "... has evacuating false and ssd_data_left" eval \
	'grep -q "\"evacuating\": false" /tmp/out && grep -q "\"ssd_data_left\": [1-9]" /tmp/out'

# ---- bad new SSDs change nothing ------------------------------------------------
small=$(make_linear small "$S2" 32768) || fail small	# 16 MiB; holds ssd2
snap >/tmp/snap0
refused "replace-ssd onto a 16 MiB device" "smaller than the SSD of pool pool" \
	$H pool replace-ssd pool "$small"
refused "replace-ssd onto the HDD" "is the HDD of pool pool" $H pool replace-ssd pool "$D"
refused "replace-ssd onto the metadata device" "is the metadata device of pool pool" \
	$H pool replace-ssd pool "$M"
refused "replace-ssd onto the SSD itself" "is the SSD of pool pool already" \
	$H pool replace-ssd pool "$S"
refused "replace-ssd onto a device that does not exist" "does not exist" \
	$H pool replace-ssd pool /dev/lab/nosuch
refused "replace-ssd onto a file" "not a block device" $H pool replace-ssd pool "$HYBRIDTAB"
refused "replace-ssd onto a volume" "is dm-hybrid volume vm2" $H pool replace-ssd pool $V2
refused "replace-ssd onto a device in use (under dm-linear small)" "in use" \
	$H pool replace-ssd pool "$S2"
refused "replace-ssd without a new SSD" "usage" $H pool replace-ssd pool
check "the refusals changed nothing (tables, $HYBRIDTAB, not evacuating)" same_as /tmp/snap0
dm_remove small

# ---- the replacement, under fio -------------------------------------------------
rm -f /tmp/stop
verify_rounds v1 $V1 &
p1=$!
verify_rounds v2 $V2 &
p2=$!
fio --name=probe --filename=$V1 --direct=1 --ioengine=psync --rw=randrw \
	--bs=4k --offset=40M --size=8M --time_based --runtime=200 \
	--output-format=json --output=/tmp/probe.json >/dev/null 2>&1 &
pp=$!
sleep 1
t0=$(uptime_cs)
check "pool replace-ssd pool $S2 --json, with fio running" \
	run $H pool replace-ssd pool "$S2" --wait 120 --json
t1=$(uptime_cs)
cat /tmp/out
touch /tmp/stop
stop_probe $pp
wait $p1 || true
wait $p2 || true
log "replace-ssd took $(((t1 - t0) / 100)).$(((t1 - t0) % 100 / 10)) s"
for v in v1 v2; do
	check "fio verify $v: no error, $(cat /tmp/rounds.$v) rounds across the replacement" \
		test ! -e /tmp/vfail.$v -a "$(cat /tmp/rounds.$v)" -ge 1
done
check "no I/O error in the kernel log" eval '! dmesg | grep -qi "I/O error"'
clat=$(awk -f /tmp/clatmax.awk /tmp/probe.json)
log "probe: largest completion latency $((clat / 1000)) us (4 KiB randrw, iodepth 1, $V1) over the replacement"
check "the probe did I/O, and none of it waited 1 s or more (max clat $((clat / 1000000)) ms)" \
	test "$clat" -gt 0 -a "$clat" -lt 1000000000
check "... the JSON says ok, with the new SSD" eval \
	'grep -q "\"ok\": true" /tmp/out && grep -q "\"new_ssd\": \"$S2\"" /tmp/out'
check "the table names ssd2 ($(table_ssd))" test "$(table_ssd)" = "$(devno "$S2")"
check "$HYBRIDTAB names ssd2 ($(tab_ssd))" test "$(tab_ssd)" = "$S2"
check "the evacuation ended" test "$(evac_state pool)" = -
check "the SSD grew to 1024 chunks" test "$(pool_ssd_total pool)" -eq 1024
check "pool status says evacuation off" eval \
	'run $H pool status pool && grep -q "^  evacuation:  off" /tmp/out'
check "vm1's first 8 MiB read back unchanged" test "$(region_sum $V1 0 8)" = "$r1"
check "vm2's first 8 MiB read back unchanged" test "$(region_sum $V2 0 8)" = "$r2"
check "vm2's staged 24-28 MiB read back unchanged" test "$(region_sum $V2 24 4)" = "$r24"

# ---- the new SSD in use; the old one zeroed ---------------------------------------
fio_fill $V2 48M 4M || fail "vm2 write after the replacement"
check "first writes reach the new SSD ($(tier_count pool "$i2" 1024 768 64 S) of vm2's 64 chunks at 48 MiB)" \
	test "$(tier_count pool "$i2" 1024 768 64 S)" -gt 0
pinned_back() { [ "$(tier_count pool "$i1" 1024 0 32 S)" -eq 32 ]; }
check "vm1's 32 pinned chunks promoted to the new SSD" wait_until 30 pinned_back
s1=$(region_sum $V1 0 64) s2=$(region_sum $V2 0 64)
check "old SSD zeroed" dd if=/dev/zero of="$S" bs=1M count=32 oflag=direct status=none
check "vm1 reads back unchanged (md5)" test "$(region_sum $V1 0 64)" = "$s1"
check "vm2 reads back unchanged (md5)" test "$(region_sum $V2 0 64)" = "$s2"

# ---- deactivate, activate from the tab ------------------------------------------
check "pool deactivate" run $H pool deactivate pool
cat /tmp/out
check "pool activate (from $HYBRIDTAB)" run $H pool activate pool
cat /tmp/out
check "the activated table names ssd2" test "$(table_ssd)" = "$(devno "$S2")"
check "not evacuating" test "$(evac_state pool)" = -
check "vm1 reads back unchanged after activate" test "$(region_sum $V1 0 64)" = "$s1"
check "vm2 reads back unchanged after activate" test "$(region_sum $V2 0 64)" = "$s2"
log "pool: $(dmsetup status pool)"
check "pool deactivate" run $H pool deactivate pool
check "hybrid_check: clean" hybrid_check "$M"
pass
