#!/bin/sh
# SPDX-License-Identifier: GPL-2.0-only
# Unloading the module right after a volume was resized: the resize frees
# the old heat array with call_rcu(), whose callback is module code, so
# module exit must wait for it (rcu_barrier()).  With expedited grace
# periods rmmod's own RCU wait returns long before a normal grace period
# runs the callback; without the barrier the callback then runs freed
# module text.  Activate, resize, deactivate and unload, in a loop.
# kernels: debug debian
# disks: meta=16M ssd=16M hdd=16M
# tier: quick
# timeout: 400
. /lib/dmh/guest.sh
. /lib/dmh/hybrid.sh

ROUNDS=10
# Resize vm1 to SECTORS (a reload and a resume: the heat array is replaced).
resize() {
	dmsetup reload vm1 --table "0 $1 hybrid /dev/mapper/pool 1" &&
		dmsetup resume vm1
}
round() {
	load_dm_hybrid || return 1
	make_pool pool 128 || return 1
	make_volume pool 1 vm1 8192 >/dev/null || return 1
	dd if=/dev/zero of=/dev/mapper/vm1 bs=64k count=4 oflag=direct 2>/dev/null
	resize 16384 && resize 24576 || return 1
	dmsetup remove vm1 && dmsetup remove pool && rmmod dm_hybrid
}

echo 1 >/sys/kernel/rcu_expedited || fail "cannot expedite grace periods"
n=0
while [ $n -lt $ROUNDS ]; do
	n=$((n + 1))
	round || fail "round $n failed"
	# A late callback runs within a normal grace period or two.
	sleep 0.2
done
echo 0 >/sys/kernel/rcu_expedited
ok "$ROUNDS rounds of activate, resize, deactivate, rmmod"
# Every round formats nothing new: the pool from round 1 is reused.
check "the module loads again" load_dm_hybrid
check "and unloads" rmmod dm_hybrid
pass
