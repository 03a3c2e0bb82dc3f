#!/bin/sh
# SPDX-License-Identifier: GPL-2.0-only
# Per-VM controls, names, pool knobs, pins and chunk heat survive a power
# cut.  Boot 1 sets every one of them to a non-default value through the
# messages (checking the refusals change nothing), heats one range of
# vm1, waits for a heat save, arms the cut and keeps the volumes busy
# until QEMU is killed.  Boot 2 reassembles the pool and reads everything
# back: list_volumes line by line, the knobs in the status line, the pins
# in hybrid_dump, and the heat of vm1's hot range (and only that range).
# kernels: debian
# disks: meta=16M ssd=32M hdd=128M
# boots: 2
# powercut: after-marker 1-4
# tier: quick
# timeout: 300
. /lib/dmh/guest.sh
. /lib/dmh/hybrid.sh

# What boot 1 sets and boot 2 expects (list_volumes lines: id size name
# weight priority ssd_min ssd_max open mapped ssd hdd; the counts are
# checked separately).
VOLS="1 131072 vm-alpha 250 high 10 100
2 65536 vm_beta.2 1000 low 0 7
3 65536 - 100 normal 0 0"
KNOBS="migration_rate=7 hysteresis=9 heat_half_life=3600 ssd_reserve=5
seq_cutoff=2048 promote_threshold=200 tick_ms=100 heat_save_interval=2"

# list_prefix POOL: list_volumes without the three counts and open count.
list_prefix() { vol_list "$1" | awk '{ print $1, $2, $3, $4, $5, $6, $7 }'; }
knobs_now() {
	echo "migration_rate=$(pool_migration_rate pool) hysteresis=$(pool_hysteresis pool)" \
	     "heat_half_life=$(pool_heat_half_life pool) ssd_reserve=$(pool_ssd_reserve pool)" \
	     "seq_cutoff=$(pool_seq_cutoff pool) promote_threshold=$(pool_promote_threshold pool)" \
	     "tick_ms=$(pool_tick_ms pool) heat_save_interval=$(pool_heat_save pool)"
}
# vm1 heat digits, 16 buckets of 64 chunks: the hot range is bucket 0.
heat16() { pmap_get "$(placement pool 1 16)" heat; }

# hottest_first DIGITS: the first hex digit is above all the others.
hottest_first() {
	_f=$(printf '%d' "0x$(echo "$1" | cut -c1)")
	for _d in $(echo "$1" | cut -c2- | sed 's/./& /g'); do
		[ "$(printf '%d' "0x$_d")" -lt "$_f" ] || return 1
	done
}
hot_first_now() { hottest_first "$(heat16)"; }

load_dm_hybrid
case $DMH_BOOT in
1)
	make_pool pool 128 || fail pool
	t_pool=$(uptime_s)
	for kv in $KNOBS; do
		check "set ${kv%=*} ${kv#*=}" pool_set pool "${kv%=*}" "${kv#*=}"
	done
	make_volume pool 1 vm1 131072 >/dev/null || fail "vm1"
	make_volume pool 2 vm2 65536 >/dev/null || fail "vm2"
	make_volume pool 3 vm3 65536 >/dev/null || fail "vm3"
	echo "$VOLS" | while read -r id _ name w prio min max; do
		[ "$name" = - ] || vol_set pool "$id" name "$name" || exit 1
		vol_set pool "$id" weight "$w" && vol_set pool "$id" priority "$prio" &&
			vol_set pool "$id" ssd_min "$min" && vol_set pool "$id" ssd_max "$max" || exit 1
	done || fail "set_volume"
	check "pin vm1's first 64 chunks to the SSD" pin pool 1 0 8192 ssd
	check "pin vm2's chunks 100-199 to the HDD" pin pool 2 12800 12800 hdd

	# Refusals change nothing: txid and list stay as they were.
	before="$(pool_txid pool) $(vol_list pool | tr '\n' ';')"
	expect_refused "a duplicate name" pool_msg pool set_volume 3 name vm-alpha
	expect_refused "an all-digit name" pool_msg pool set_volume 3 name 1234
	expect_refused "a name with a slash" pool_msg pool set_volume 3 name a/b
	expect_refused "a 64-character name" pool_msg pool set_volume 3 name \
		"$(printf 'n%.0s' $(seq 64))"
	expect_refused "a name for a missing volume" pool_msg pool set_volume 9 name x
	after="$(pool_txid pool) $(vol_list pool | tr '\n' ';')"
	check "refused names changed nothing" test "$before" = "$after"
	check "a 63-character name is taken" vol_set pool 3 name "$(printf 'n%.0s' $(seq 63))"
	check "'-' removes it again" vol_set pool 3 name -
	check "list_volumes shows what was set" test "$(list_prefix pool)" = "$VOLS"
	check "list_volumes: three open volumes" \
		test "$(vol_list pool | awk '{ n += $8 } END { print n }')" -eq 3
	check "status shows the knobs" test "$(knobs_now)" = "$(echo "$KNOBS" | tr "\n" " " | sed "s/ $//")"

	fio_fill /dev/mapper/vm1 0 64M || fail "vm1 write"
	fio_fill /dev/mapper/vm2 0 16M || fail "vm2 write"
	log "list: $(vol_list pool | tr '\n' ';')"
	# Heat vm1's chunks 0-63 (bucket 0) and nothing else.
	fio_hot /dev/mapper/vm1 0 4M 30
	h=$!
	check "vm1's hot range becomes its hottest" wait_until 60 hot_first_now
	stop_bg $h
	# The pool started with the default heat_half_life (60 s), so a
	# halving is due 60 s after it started; the 3600 set above applies
	# after that one (Documentation: "a new heat_half_life after the
	# halving already due").  Keep the heat only once it has come: on a
	# loaded host it otherwise fell between this read and the last save.
	while [ $(( $(uptime_s) - t_pool )) -lt 65 ]; do sleep 1; done
	heat=$(heat16)
	check "the hot range is vm1's hottest ($heat)" hottest_first "$heat"
	log "vm1 heat before the cut: $heat"
	keep heat "$heat"
	sleep 6		# 3 x heat_save_interval: the heat is on disk now
	log "pool before the cut: $(dmsetup status pool)"
	arm_powercut
	fio_hot /dev/mapper/vm2 0 16M 60
	sleep 60
	fail "the power cut did not come"
	;;
2)
	check "hybrid_check: metadata clean after the cut" hybrid_check "$(disk meta)"
	hybrid_dump "$(disk meta)" >/tmp/dump 2>&1 || { cat /tmp/dump; fail "hybrid_dump"; }
	grep -i '^pin' /tmp/dump | while read -r l; do log "dump: $l"; done
	check "pins survived (2 ranges in the dump)" test "$(grep -ci '^pin' /tmp/dump)" -eq 2
	make_pool pool 128 || fail "pool does not reassemble"
	check "knobs survived" test "$(knobs_now)" = "$(echo "$KNOBS" | tr "\n" " " | sed "s/ $//")"
	check "names and controls survived: $(list_prefix pool | tr '\n' ';')" \
		test "$(list_prefix pool)" = "$VOLS"
	check "no volume is open yet" \
		test "$(vol_list pool | awk '{ n += $8 } END { print n }')" -eq 0
	check "vm1 still has its 1024 chunks" \
		test "$(vol_list pool | awk '$1 == 1 { print $9 }')" -eq 1024
	heat=$(heat16)
	log "vm1 heat after the cut: $heat (before: $KEEP_heat)"
	check "vm1's hot range kept its heat" hottest_first "$heat"
	check "vm1's heat map is the one saved before the cut" test "$heat" = "$KEEP_heat"
	make_volume pool 1 vm1 131072 >/dev/null || fail "vm1"
	check "a pinned chunk of vm1 is on the SSD" test "$(tier_count pool 1 1024 0 64 S)" -eq 64
	dmsetup remove vm1
	dmsetup remove pool
	pass
	;;
esac
