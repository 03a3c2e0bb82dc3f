#!/bin/sh
# SPDX-License-Identifier: GPL-2.0-only
# Power-cut campaign, one round: boot 1 runs the mixed workload
# (tests/lib/mixed.sh: three volumes stamped by dmh-stamp with a flush every
# 16 ops and discards, hot readers and migration thresholds so low that
# chunks move all the time, volume 9 created and deleted in a loop) and the
# host kills QEMU at a random moment (DMH_SEED replays it).  Boot 2:
# hybrid_check is clean, the pool reassembles, and every block acknowledged
# before the last completed flush of each volume holds its last flushed
# stamp or a later one (never-written blocks read zeros).
#
# Chained (tests/powercut-campaign sets DMH_CASE_BOOTS=N+1 for N cuts):
# every boot but the first checks the cut before it as above, and every
# boot but the last then deletes volumes 1-3 (so the pool frees their
# chunks on both tiers), creates them again, which must read zeros, runs
# the workload with the next round's stamp tags and is cut.  So one cut
# costs one boot, and each cut lands on a pool that has already been
# recovered from the ones before.  Many cuts: make powercut-campaign ROUNDS=N.
# kernels: debian debug
# disks: d=160M
# boots: 2
# chain: yes
# powercut: after-marker 5-25
# tier: quick
# debug-tier: long
# timeout: 600
. /lib/dmh/guest.sh
. /lib/dmh/hybrid.sh
. /lib/dmh/mixed.sh

# check_cut: the checks after a cut, of the round before this boot's.
check_cut() {
	MIXED_ROUND=$((DMH_BOOT - 2))
	mixed_meta_clean "hybrid_check after cut $((DMH_BOOT - 1)): clean (exit 0)"
	make_pool pool "$MIXED_CHUNK" || fail "pool does not reassemble after cut $((DMH_BOOT - 1))"
	check "migration off after reassembly, drained" drain pool
	mixed_volumes || fail "volumes do not map after cut $((DMH_BOOT - 1))"
	lost=0
	for v in 1 2 3; do
		eval "k=\${KEEP_st_r${MIXED_ROUND}v$v:--1}"
		# The console may lose the last few DMH-KEEP lines with the
		# power, so later writes may be on disk: a wide bound.
		if mixed_verify $v "$k" $((k + 2000)) >/tmp/v.out; then
			ok "vm$v: acknowledged writes intact after cut $((DMH_BOOT - 1)) (last flush op $k)"
		else
			not_ok "vm$v: acknowledged writes intact after cut $((DMH_BOOT - 1)) (last flush op $k)"
		fi
		cat /tmp/v.out
		n=$(sed -n 's/.* lost \([0-9]*\) .*/\1/p' /tmp/v.out | tail -n1)
		lost=$((lost + ${n:-0}))
	done
	echo "DMH-REL powercuts=1 lost=$lost case=$DMH_CASE"
}

# renew_volumes: volumes 1-3 deleted and created again, each reading zeros
# (the tags of the next round then tell its stamps from the old ones).
renew_volumes() {
	for v in 1 2 3; do
		dmsetup remove vm$v || return 1
		dmsetup message pool 0 delete_volume $v || return 1
	done
	# The churn volume may have been alive at the cut.
	if vol_list pool | grep -q '^9 '; then
		dmsetup message pool 0 delete_volume 9 || return 1
	fi
	mixed_volumes || return 1
	for v in 1 2 3; do
		dmh-stamp verify /dev/mapper/vm$v --tag 1 --flushed -1 --bound -1 >/tmp/v.out 2>&1 ||
			{ cat /tmp/v.out; return 1; }
	done
}

load_dm_hybrid
mixed_slices "$(disk d)" || fail "slices"
if [ "$DMH_BOOT" -gt 1 ]; then
	check_cut
fi
if [ "$DMH_BOOT" -lt "$DMH_BOOTS" ]; then
	MIXED_ROUND=$((DMH_BOOT - 1))
	if [ "$DMH_BOOT" -eq 1 ]; then
		mixed_pool || fail "pool"
		mixed_volumes || fail "volumes"
	else
		check "volumes 1-3 deleted and created again read zeros" renew_volumes
		mixed_knobs || fail "migration knobs"
	fi
	mixed_start
	arm_powercut
	sleep 590
	fail "the workload ran to the end without a power cut"
fi
for d in vm1 vm2 vm3 pool; do dmsetup remove $d || not_ok "remove $d"; done
mixed_meta_clean "hybrid_check after reassembly: clean"
pass
