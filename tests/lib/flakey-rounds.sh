# SPDX-License-Identifier: GPL-2.0-only
# shellcheck shell=sh
#
# The body of reliability-flakey and reliability-flakey-long: ROUNDS
# in-guest cuts with dm-flakey drop_writes (the cases set ROUNDS and source
# this after guest.sh, hybrid.sh and mixed.sh).

flakey_up() {
	dmsetup create fk --table "0 $(mixed_disk_sectors) flakey $(disk d) 0 3600 0" &&
		dmsetup mknodes fk
}

load_dm_hybrid
need_mod dm-flakey
lost=0 cuts=0
r=1
while [ $r -le "$ROUNDS" ]; do
	MIXED_ROUND=$r
	dd if=/dev/zero of="$(disk d)" bs=1M count=$(( $(mixed_disk_sectors) / 2048 )) \
		oflag=direct 2>/dev/null || fail "zero the disk"
	flakey_up || fail "flakey"
	mixed_slices /dev/mapper/fk || fail "slices"
	mixed_pool || fail "pool"
	mixed_volumes || fail "volumes"
	mixed_start
	sleep $(( 3 + (${DMH_SEED:-1} + r * 7) % 8 ))
	# Load the drop_writes table first, so that the cut (the resume)
	# follows the reading of the flushes closely.
	dmsetup load fk --table "0 $(mixed_disk_sectors) flakey $(disk d) 0 0 1 1 drop_writes" ||
		fail "flakey drop_writes table"
	for v in 1 2 3; do eval "k$v=$(mixed_flushed $v)"; done
	touch /tmp/mixed-stop	# volume 9's checks after the cut do not count
	dmsetup resume fk || fail "flakey drop_writes"
	# Writes that reached the disk were issued before the switch, so
	# before the first flush logged after it, plus one interval.
	for v in 1 2 3; do eval "b$v=$(( $(mixed_flushed $v) + 33 ))"; done
	log "round $r: cut after flushes $k1 $k2 $k3: $(dmsetup status pool)"
	mixed_stop
	mixed_teardown
	dmsetup remove fk || fail "remove flakey"
	blockdev --flushbufs "$(disk d)"
	cuts=$((cuts + 1))

	mixed_slices "$(disk d)" || fail "slices on the bare disk"
	mixed_meta_clean "round $r: hybrid_check after the cut: clean"
	make_pool pool "$MIXED_CHUNK" || fail "round $r: pool does not reassemble"
	check "round $r: migration off, drained" drain pool
	mixed_volumes || fail "round $r: volumes do not map"
	for v in 1 2 3; do
		eval "k=\$k$v b=\$b$v"
		if mixed_verify $v "$k" "$b" >/tmp/v.out; then
			ok "round $r: vm$v acknowledged writes intact (flush op $k, bound $b)"
		else
			not_ok "round $r: vm$v acknowledged writes intact (flush op $k, bound $b)"
		fi
		cat /tmp/v.out
		n=$(sed -n 's/.* lost \([0-9]*\) .*/\1/p' /tmp/v.out | tail -n1)
		lost=$((lost + ${n:-0}))
	done
	for d in vm1 vm2 vm3 pool; do dmsetup remove $d || not_ok "remove $d"; done
	mixed_meta_clean "round $r: hybrid_check after reassembly: clean"
	mixed_teardown
	echo "DMH-REL-PARTIAL flakey_cuts=$cuts lost=$lost case=$DMH_CASE"
	r=$((r + 1))
done
check "volume 9: new incarnations read zeros, then their own stamps" mixed_churn_ok
echo "DMH-REL flakey_cuts=$cuts lost=$lost case=$DMH_CASE"
pass
