#!/bin/sh
# SPDX-License-Identifier: GPL-2.0-only
#
# Guests' data across deactivation, a power cut and reassembly.
# Boot 1: two PV guests on phy:/dev/mapper/vm1 and vm2 write 512 KiB each
# with fio verify (seeds 21, 22) and power off; Dom0 deactivates the
# volumes and the pool (hybrid_check must be clean), reassembles them,
# starts the guests again writing 4 MiB more at 16 MiB (migration on),
# and the host kills QEMU while they write.  Boot 2: hybrid_check is
# clean, the pool reassembles, it counts exactly the chunks the volumes
# map, and the guests, booted again, verify their first 512 KiB (fio
# --verify_only with the same seeds).
# disks: meta=16M ssd=256M hdd=1G
# boots: 2
# powercut: after-marker 5-40
. /lib/dmh/guest.sh
. /lib/dmh/hybrid.sh
. /lib/dmh/xen/lib-dom0.sh
VOLS="vm1 vm2"

assemble() {
	make_pool pool0 128 || fail "pool does not assemble"
	_id=0
	for _v in $VOLS; do
		_id=$((_id + 1))
		make_volume pool0 $_id $_v $((64 * 2048)) >/dev/null || fail "volume $_v"
	done
}

# start_guests WORKLOAD SIZE OFFSET: one guest per volume (seed 21, 22, ...).
start_guests() {
	_s=20
	for _v in $VOLS; do
		_s=$((_s + 1))
		guest_start "$_v" "$_v" "$1" "$2" $_s "$3" || fail "xl create $_v"
	done
}

wait_guests() {
	_i=0
	while guests_running $VOLS && [ $_i -lt 360 ]; do
		sleep 5
		_i=$((_i + 1))
		show_consoles $VOLS
	done
	show_consoles $VOLS
	for _v in $VOLS; do
		xl list $_v >/dev/null 2>&1 && { xl destroy $_v; not_ok "guest $_v still running"; }
		guest_checks $_v
		mv "/var/log/xen/console/guest-$_v.log" "/var/log/xen/console/guest-$_v.$1.log" || true
		rm -f "/tmp/shown.$_v"
	done
}

writing() {
	for _v in $VOLS; do
		grep -q 'DMH-GUEST-STEP fio-verify start' "/var/log/xen/console/guest-$_v.log" \
			2>/dev/null || return 1
	done
}

accounted() {
	_m=0
	for _v in $VOLS; do _m=$((_m + $(vol_mapped_n $_v))); done
	[ $(( $(pool_ssd_used pool0) + $(pool_hdd_used pool0) )) -eq $_m ]
}

stamp dom0-init
xen_up
load_dm_hybrid
case $DMH_BOOT in
1)
	assemble
	stamp pool-ready
	start_guests fio-verify 512K 0
	wait_guests first
	stamp first-run-done
	for v in $VOLS; do dmsetup status $v; done
	for v in $VOLS; do dmsetup remove $v || fail "deactivate $v"; done
	dmsetup remove pool0 || fail "deactivate pool0"
	check "hybrid_check after deactivation: clean" hybrid_check "$(disk meta)"
	assemble
	for v in $VOLS; do
		check "$v maps its chunks after reassembly" [ "$(vol_mapped_n $v)" -ge 8 ]
	done
	for kv in "tick_ms 100" "migration_rate 0" "promote_threshold 1" "hysteresis 0"; do
		# shellcheck disable=SC2086
		pool_set pool0 $kv || fail "set $kv"
	done
	need_migration pool0
	start_guests fio-verify 4M 16M
	# Cut while both guests write.
	wait_until 900 writing || fail "the second run's guests did not start writing"
	stamp second-run-writing
	arm_powercut
	wait_guests second
	echo "DMH-XEN-NOCUT the second run ended before the power cut"
	next_boot
	;;
2)
	rc=0
	hybrid_check "$(disk meta)" > /tmp/chk 2>&1 || rc=$?
	cat /tmp/chk
	check "hybrid_check after the power cut: clean (exit 0)" [ $rc -eq 0 ]
	assemble
	stamp pool-ready
	dmsetup status pool0
	for v in $VOLS; do dmsetup status $v; done
	check "the pool counts exactly the chunks the volumes map" wait_until 20 accounted
	start_guests verify-only 512K 0
	wait_guests verify
	for v in $VOLS; do dmsetup remove $v || not_ok "remove $v"; done
	dmsetup remove pool0 || not_ok "remove pool0"
	check "hybrid_check after the guests' verify: clean" hybrid_check "$(disk meta)"
	stamp finished
	pass
	;;
esac
