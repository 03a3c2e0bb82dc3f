#!/bin/sh
# SPDX-License-Identifier: GPL-2.0-only
# Discards racing migrations: a whole-chunk discard of a chunk whose copy
# to the other tier is in flight must leave it unmapped and reading as
# zeros; the migration's completion must not bring the mapping (or the old
# data) back.  The SSD sits under dm-delay (50 ms), so a copy takes at
# least that long.  Each round fills 32 chunks of vm1 with the round's
# byte on one tier, pins the range to the other tier (every chunk starts
# moving at the next 10 ms tick, 16 per tick) and, from a random moment
# 0-400 ms after the pin began, discards the chunks: all at once, or 8
# random chunks one at a time and then all.  Checked right after the
# discards and again once no migration is in flight: the range reads as
# zeros and vm1 maps no chunk.  A second
# volume, never discarded, keeps its own bytes.  At least a quarter of the
# rounds must have discarded with migrations in flight, or the case did
# not test the race.  DM_SECS (default 30) bounds the rounds.  Last,
# deleting a volume while its chunks move: the kernel says EBUSY and
# "hybridctl vol delete" waits for the copies.
# kernels: debian debug
# disks: meta=16M ssd=16M hdd=64M
# tier: quick
# debug-tier: long
# timeout: 400
. /lib/dmh/guest.sh
. /lib/dmh/hybrid.sh

DM_SECS=${DM_SECS:-30}
N=32			# chunks raced per round (64 KiB each)
CS=128
load_dm_hybrid
modprobe dm-delay 2>/dev/null || true
dmsetup create slowssd --table "0 $(sectors "$(disk ssd)") delay $(disk ssd) 0 50" ||
	fail "dm-delay over the SSD"
dmsetup mknodes slowssd	# no udev in the lab
SSD=/dev/mapper/slowssd make_pool pool $CS || fail pool
need_migration pool
for kv in "tick_ms 10" "migration_rate 0" "ssd_reserve 1" "hysteresis 0"; do
	check "set $kv" pool_set pool $kv
done
make_volume pool 1 vm1 $((N * CS)) >/dev/null || fail vm1
make_volume pool 2 vm2 $((8 * CS)) >/dev/null || fail vm2
dd if=/dev/zero bs=64k count=8 2>/dev/null | tr '\000' '\252' |
	dd of=/dev/mapper/vm2 bs=64k oflag=direct 2>/dev/null || fail "vm2 fill"

rnd() { od -An -N2 -tu2 /dev/urandom | tr -d ' '; }
inflight() { num pool_inflight pool; }
idle() { [ "$(inflight)" -eq 0 ]; }
fill() {	# fill BYTE(octal): every chunk of vm1
	dd if=/dev/zero bs=64k count=$N 2>/dev/null | tr '\000' "\\$1" |
		dd of=/dev/mapper/vm1 bs=64k oflag=direct 2>/dev/null
}
discard_all() {	# the whole range at once, or 8 random chunks first
	if [ $(($(rnd) % 2)) -eq 1 ]; then
		_i=0
		while [ $_i -lt 8 ]; do
			blkdiscard -o $(($(rnd) % N * 65536)) -l 65536 /dev/mapper/vm1 || return 1
			_i=$((_i + 1))
		done
	fi
	blkdiscard -o 0 -l $((N * 65536)) /dev/mapper/vm1
}
# what WHEN: a round's failure, with what vm1 holds
bad() {
	not_ok "round $R ($1): discarded chunks read as zeros and are unmapped" \
		"mapped $(vol_mapped vm1); $(pool_msg pool placement_map 1 $N 2>/dev/null || true)"
	dd if=/dev/mapper/vm1 bs=64k count=$N iflag=direct 2>/dev/null | od -Ad -tx1 | head -n 6
	BAD=$((BAD + 1))
}
clean() { is_zero /dev/mapper/vm1 0 $((N * CS)) && [ "$(vol_mapped vm1)" -eq 0 ]; }

R=0 BAD=0 RACED=0 MOVES0=$(pool_moves pool)
t_end=$(( $(uptime_s) + DM_SECS ))
while [ "$(uptime_s)" -lt $t_end ] && [ $BAD -lt 5 ]; do
	R=$((R + 1))
	if [ $((R % 2)) -eq 1 ]; then from=hdd to=ssd; else from=ssd to=hdd; fi
	pin pool 1 0 $((N * CS)) $from || fail "pin $from"
	wait_until 20 idle || true
	fill "$(printf '%03o' $((R % 200 + 40)))" || fail "fill round $R"
	# The discards start 0-400 ms after the pin message (which itself
	# takes a few hundred ms under TCG; the 32 moves end within ~0.5 s).
	rm -f /tmp/disc.ok
	(
		usleep $(($(rnd) % 400000))
		inflight > /tmp/disc.f
		discard_all && touch /tmp/disc.ok
	) &
	pin pool 1 0 $((N * CS)) $to || fail "pin $to"
	wait $! || true
	f=$(cat /tmp/disc.f)
	[ -e /tmp/disc.ok ] || { not_ok "round $R: discard"; BAD=$((BAD + 1)); continue; }
	[ "$f" -gt 0 ] && RACED=$((RACED + 1))
	clean || { bad "right after the discard, $f in flight"; continue; }
	wait_until 20 idle ||
		log "round $R: migrations still in flight after 20 s"
	clean || bad "after the migrations ended"
done
moves=$(( $(pool_moves pool) - MOVES0 ))
log "$R rounds, $RACED discarded with migrations in flight, $moves migrations"
check "no round read data or kept a mapping after a discard ($BAD bad of $R)" test $BAD -eq 0
check "the race was exercised ($RACED of $R rounds had migrations in flight, $moves moves)" \
	test $((RACED * 4)) -ge "$R" -a "$moves" -gt 0
only_aa() { [ "$(dd if=/dev/mapper/vm2 bs=64k iflag=direct 2>/dev/null | tr -d '\252' | wc -c)" -eq 0 ]; }
check "vm2 (never discarded) holds only its own bytes" only_aa
check "pool still rw" test "$(pool_mode pool)" = rw

# Deleting a volume whose chunks are moving: the kernel refuses
# delete_volume (EBUSY) while a copy is in flight; hybridctl waits for the
# copies and deletes.  With the SSD at 6 s a request, vm2's 8 demotions
# stay in flight for seconds: longer than the few dmsetup runs (up to
# 0.7 s each on the debug kernel) between seeing them start and asking;
# at 1.5 s they had ended by then on the debug kernel.
pin pool 2 0 $((8 * CS)) ssd || fail "pin vm2 ssd"
wait_until 20 idle || fail "vm2 promotions did not end"
dmsetup remove vm2
dmsetup suspend slowssd && dmsetup reload slowssd --table \
	"0 $(sectors "$(disk ssd)") delay $(disk ssd) 0 6000" && dmsetup resume slowssd ||
	fail "dm-delay at 6 s"
pin pool 2 0 $((8 * CS)) hdd || fail "pin vm2 hdd"
busy() { [ "$(inflight)" -gt 0 ]; }
wait_until 5 busy || fail "vm2 demotions did not start"
refused() { ! dmsetup message pool 0 delete_volume 2; }
check "delete_volume refused while vm2's chunks are in flight ($(inflight))" refused
hybridctl vol delete pool 2 > /tmp/del.out 2>&1
check "hybridctl vol delete waits for the copies, then deletes (exit $?)" test $? -eq 0
cat /tmp/del.out
check "and said it waited" grep -q "is busy (chunks being migrated)" /tmp/del.out
gone() { ! vol_list pool | grep -q "^2 "; }
check "vm2 is gone from list_volumes" gone
dmsetup remove vm1
dmsetup remove pool
dmsetup remove slowssd
check "hybrid_check: metadata clean" hybrid_check -q "$(disk meta)"
echo "DMH-REL discard_race_rounds=$R discard_race_inflight=$RACED discard_race_bad=$BAD case=$DMH_CASE"
pass
