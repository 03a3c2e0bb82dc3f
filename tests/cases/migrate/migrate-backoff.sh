#!/bin/sh
# SPDX-License-Identifier: GPL-2.0-only
# Foreground backoff with guaranteed progress.  vm1 (2048 chunks on the
# HDD, hot random reads at depth 4) gives the policy plenty of promotion
# candidates under a 2 MiB/s cap; vm2 (pinned to the HDD) is the noisy
# neighbour.  Quiet: the copy rate is near the cap and the status counts
# no backoff.  While vm2 keeps 256 reads in flight (far above the pool's
# busy threshold of 32 on average), backoffs are counted and the rate
# drops towards a quarter, yet migration keeps moving; it recovers when
# vm2 stops.
# kernels: debian
# disks: meta=16M ssd=128M hdd=256M
# tier: quick
# timeout: 300
. /lib/dmh/guest.sh
. /lib/dmh/hybrid.sh

promoting() { [ "$(pool_promotions pool)" -gt 0 ]; }
# rate SECONDS: sectors moved per second over the next SECONDS.
rate() {
	_s0=$(pool_moved_sectors pool) _t0=$(uptime_cs)
	sleep "$1"
	_s1=$(pool_moved_sectors pool) _t1=$(uptime_cs)
	echo $(( (_s1 - _s0) * 100 / (_t1 - _t0) ))
}

load_dm_hybrid
make_pool pool 128 || fail pool
need_migration pool
check "set tick_ms 200" pool_set pool tick_ms 200
check "set promote_threshold 1" pool_set pool promote_threshold 1
check "set migration_rate 2" pool_set pool migration_rate 2
check "migration off for the set-up" migration pool off
make_volume pool 1 vm1 262144 >/dev/null || fail vm1
make_volume pool 2 vm2 131072 >/dev/null || fail vm2
check "pin vm1 to the HDD for its first writes" pin pool 1 0 262144 hdd
check "pin vm2 to the HDD" pin pool 2 0 131072 hdd
fio_fill /dev/mapper/vm1 0 128M || fail "vm1 write"
fio_fill /dev/mapper/vm2 0 64M || fail "vm2 write"
check "vm1's 2048 chunks are on the HDD" test "$(vol_hdd_n vm1)" -eq 2048
check "unpin vm1" pin pool 1 0 262144 auto

fio_hot /dev/mapper/vm1 0 128M 120
h1=$!
check "migration on" migration pool on
check "promotions start within 20 s" wait_until 20 promoting
sleep 2
b0=$(pool_backoffs pool)
quiet=$(rate 10)
b1=$(pool_backoffs pool)
log "quiet: $quiet sectors/s (cap 4096), backoffs $b0 -> $b1"
# The cap itself is migrate-rate's business; here the quiet rate is the
# baseline the busy one is compared with.
check "quiet rate a baseline (50-120% of the cap): $quiet sectors/s" \
	test "$quiet" -ge 2048 -a "$quiet" -le 4915
check "no backoff while quiet ($b0 -> $b1)" test "$b1" -eq "$b0"

fio --name=noisy --filename=/dev/mapper/vm2 --direct=1 --ioengine=libaio \
	--iodepth=128 --numjobs=2 --rw=randread --bs=4k --norandommap \
	--time_based --runtime=60 --group_reporting >/tmp/noisy.out 2>&1 &
h2=$!
# fio's start-up is slow on a loaded emulator (a CI run once measured
# from before the neighbour's load reached the pool): measure from the
# first backoffs on, and give the load 30 s to show.
b1=$(pool_backoffs pool)
backing_off() { [ "$(pool_backoffs pool)" -ge $((b1 + 3)) ]; }
check "the neighbour's load makes migration back off within 30 s" \
	wait_until 30 backing_off
b1=$(pool_backoffs pool)
busy=$(rate 12)
b2=$(pool_backoffs pool)
log "busy: $busy sectors/s, backoffs $b1 -> $b2; pool: $(dmsetup status pool)"
check "backoffs counted under load ($b1 -> $b2 in 12 s of 200 ms ticks)" \
	test $((b2 - b1)) -ge 30
check "busy rate at most 60% of the quiet one: $busy vs $quiet" \
	test $((busy * 10)) -le $((quiet * 6))
check "busy rate keeps a minimum share (>= 1/8 of the cap): $busy" \
	test "$busy" -ge 512
check "vm1 still had candidates ($(vol_hdd_n vm1) HDD chunks)" \
	test "$(vol_hdd_n vm1)" -ge 256
stop_bg $h2
check "the noisy neighbour ran without error" grep -q "err= 0" /tmp/noisy.out
sleep 2
again=$(rate 8)
log "quiet again: $again sectors/s"
check "the rate recovers once vm2 is quiet: $again vs busy $busy" \
	test $((again * 10)) -ge $((busy * 15))
stop_bg $h1
dmsetup remove vm1
dmsetup remove vm2
dmsetup remove pool
pass
