#!/bin/sh
# SPDX-License-Identifier: GPL-2.0-only
# Persistence: boot 1 writes two volumes with fio verify headers, flushes
# and tears everything down; boot 2 reassembles the pool from its
# metadata, finds the same volumes and mappings, checks the metadata
# offline and verifies every block.
# kernels: debian debug
# disks: meta=16M ssd=64M hdd=256M
# boots: 2
# tier: quick
# debug-tier: long
# timeout: 600
. /lib/dmh/guest.sh
. /lib/dmh/hybrid.sh

job() {	# job N: fio args for volume N
	echo "--name=p$1 --filename=/dev/mapper/vm$1 --direct=1 --ioengine=libaio
	      --iodepth=4 --rw=randwrite --bsrange=4k-64k --size=40M
	      --verify=crc32c --verify_fatal=1 --randseed=$((1000 + $1))"
}

load_dm_hybrid
case $DMH_BOOT in
1)
	make_pool pool 128 || fail "pool"
	# Placement is what this case checks: no migration between the boots.
	dmsetup message pool 0 migration off || fail "migration off"
	make_volume pool 1 vm1 163840 >/dev/null || fail "vm1"
	make_volume pool 2 vm2 163840 >/dev/null || fail "vm2"
	# shellcheck disable=SC2046
	fio $(job 1) --do_verify=0 --end_fsync=1 >/tmp/f1 2>&1 || { cat /tmp/f1; fail "fio 1"; }
	# shellcheck disable=SC2046
	fio $(job 2) --do_verify=0 --end_fsync=1 >/tmp/f2 2>&1 || { cat /tmp/f2; fail "fio 2"; }
	echo "DMH-KEEP m1=$(vol_mapped vm1)"
	echo "DMH-KEEP m2=$(vol_mapped vm2)"
	echo "DMH-KEEP s=$(pool_ssd_used pool)"
	dmsetup remove vm1 && dmsetup remove vm2 && dmsetup remove pool || fail "teardown"
	next_boot
	;;
2)
	if command -v hybrid_check >/dev/null; then
		check "hybrid_check: metadata clean" hybrid_check "$(disk meta)"
	else
		not_ok "hybrid_check is in the VM" "missing"
	fi
	make_pool pool 128 || fail "pool does not reassemble"
	check "two volumes remembered" test "$(pool_volumes pool)" -eq 2
	check "migration off remembered" test "$(dmsetup status pool | awk '{print $17}')" = off
	heat=$(dmsetup message pool 0 placement_map 1 16 | sed 's/.*heat=//')
	log "vm1 heat after reboot: $heat"
	check "chunk heat survived the clean shutdown" \
		sh -c "echo '$heat' | grep -q '[1-9a-f]'"
	make_volume pool 1 vm1 163840 >/dev/null || fail "vm1"
	make_volume pool 2 vm2 163840 >/dev/null || fail "vm2"
	check "vm1 mappings remembered" test "$(vol_mapped vm1)" -eq "$KEEP_m1"
	check "vm2 mappings remembered" test "$(vol_mapped vm2)" -eq "$KEEP_m2"
	check "ssd usage remembered" test "$(pool_ssd_used pool)" -eq "$KEEP_s"
	for i in 1 2; do
		# shellcheck disable=SC2046
		if fio $(job $i) --verify_only >/tmp/v$i 2>&1; then
			ok "vm$i verifies after reboot"
		else
			cat /tmp/v$i; not_ok "vm$i verifies after reboot"
		fi
	done
	check "create_volume of an existing id is refused" \
		sh -c '! dmsetup message pool 0 create_volume 1'
	dmsetup remove vm1 && dmsetup remove vm2 && dmsetup remove pool
	pass
	;;
esac
