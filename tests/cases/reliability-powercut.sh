#!/bin/sh
# SPDX-License-Identifier: GPL-2.0-only
# Power-cut campaign, one round (issue 7): boot 1 runs the mixed workload
# (tests/lib/mixed.sh: three volumes stamped by dmh-stamp with a flush every
# 16 ops and discards, hot readers and migration thresholds so low that
# chunks move all the time, volume 9 created and deleted in a loop) and the
# host kills QEMU at a random moment (DMH_SEED replays it).  Boot 2:
# hybrid_check is clean, the pool reassembles, and every block acknowledged
# before the last completed flush of each volume holds its last flushed
# stamp or a later one (never-written blocks read zeros).  Many rounds:
# make powercut-campaign ROUNDS=N.
# kernels: debian debug
# disks: d=160M
# boots: 2
# powercut: after-marker 5-25
# tier: quick
# debug-tier: long
# timeout: 600
. /lib/dmh/guest.sh
. /lib/dmh/hybrid.sh
. /lib/dmh/mixed.sh

load_dm_hybrid
mixed_slices "$(disk d)" || fail "slices"
case $DMH_BOOT in
1)
	mixed_pool || fail "pool"
	mixed_volumes || fail "volumes"
	mixed_start
	arm_powercut
	sleep 590
	fail "the workload ran to the end without a power cut"
	;;
2)
	rc=0
	hybrid_check "$META" >/tmp/chk 2>&1 || rc=$?
	cat /tmp/chk
	check "hybrid_check after the cut: clean (exit 0)" test $rc -eq 0
	make_pool pool "$MIXED_CHUNK" || fail "pool does not reassemble after the cut"
	check "migration off after reassembly, drained" drain pool
	mixed_volumes || fail "volumes do not map after the cut"
	lost=0
	for v in 1 2 3; do
		eval "k=\${KEEP_st_v$v:--1}"
		# The console may lose the last few DMH-KEEP lines with the
		# power, so later writes may be on disk: a wide bound.
		if mixed_verify $v "$k" $((k + 2000)) >/tmp/v.out; then
			ok "vm$v: acknowledged writes intact (last flush op $k)"
		else
			not_ok "vm$v: acknowledged writes intact (last flush op $k)"
		fi
		cat /tmp/v.out
		n=$(sed -n 's/.* lost \([0-9]*\) .*/\1/p' /tmp/v.out | tail -n1)
		lost=$((lost + ${n:-0}))
	done
	echo "DMH-REL powercuts=1 lost=$lost case=$DMH_CASE"
	for d in vm1 vm2 vm3 pool; do dmsetup remove $d || not_ok "remove $d"; done
	rc=0
	hybrid_check "$META" >/tmp/chk 2>&1 || rc=$?
	check "hybrid_check after reassembly: clean" test $rc -eq 0
	pass
	;;
esac
