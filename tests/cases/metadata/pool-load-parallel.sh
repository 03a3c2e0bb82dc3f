#!/bin/sh
# SPDX-License-Identifier: GPL-2.0-only
# One pool's slow metadata load or slow last put does not stall another
# pool's table load (issue 19 item 8).  Pool A's metadata and SSD sit
# behind dm-delay (every I/O, flushes included, waits DELAY ms); pool B is
# on plain disks.  While A's table loads (seconds of delayed reads), B is
# created and removed; while A's last put commits a transaction (its
# volume holds the last reference), B is created and removed again and
# again.  Each of B's turns must stay far below A's.  A second pool table
# on A's metadata device, loaded while A loads, is refused, and A's data
# reads back.  Before the fix B waited 1373 of A's 1423 cs of load and
# 883 cs of A's last put (debian).
# kernels: debian debug
# disks: meta=16M ssd=16M hdd=32M m2=4M s2=8M h2=16M
# tier: long
# timeout: 600
. /lib/dmh/guest.sh
. /lib/dmh/hybrid.sh

DELAY=1000

load_dm_hybrid
need_mod dm-delay || fail "no dm-delay"
# slow NAME DEV MS: dm-delay over DEV, MS for reads, writes and flushes.
slow() {
	_n=$(sectors "$2")
	dmsetup create "$1" --table "0 $_n delay $2 0 $3" || return 1
	dmsetup mknodes "$1"
}
set_delay() {
	dmsetup suspend "$1" &&
	dmsetup load "$1" --table "0 $(sectors "$2") delay $2 0 $3" &&
	dmsetup resume "$1"
}
slow ma "$(disk meta)" 0 || fail "dm-delay ma"
slow sa "$(disk ssd)" 0 || fail "dm-delay sa"
A_TABLE="0 $(( $(sectors "$(disk ssd)") + $(sectors "$(disk hdd)") )) hybrid-pool /dev/mapper/ma /dev/mapper/sa $(disk hdd) 128"
B_TABLE="0 $(( $(sectors "$(disk s2)") + $(sectors "$(disk h2)") )) hybrid-pool $(disk m2) $(disk s2) $(disk h2) 128"

dmsetup create pa --table "$A_TABLE" && dmsetup mknodes pa || fail "pool A"
make_volume pa 1 va 16384 >/dev/null || fail "volume of A"
dd if=/dev/urandom of=/tmp/pat bs=64k count=16 2>/dev/null
dd if=/tmp/pat of=/dev/mapper/va bs=64k oflag=direct conv=fsync 2>/dev/null
dmsetup remove va
dmsetup remove pa
set_delay ma "$(disk meta)" "$DELAY" || fail "delay on"
set_delay sa "$(disk ssd)" "$DELAY" || fail "delay on"

# b_turn: create and remove pool B; prints its centiseconds.
b_turn() {
	_t0=$(uptime_cs)
	dmsetup create pb --table "$B_TABLE" || return 1
	dmsetup remove pb || return 1
	echo $(( $(uptime_cs) - _t0 ))
}

# 1. A loads slowly; B, started during it, does not wait for it.
t0=$(uptime_cs)
(dmsetup create pa --table "$A_TABLE"; echo $? >/tmp/a.rc) &
sleep 0.3
tb=$(b_turn) || fail "pool B during A's load"
# A second table on A's metadata device, while A loads: refused.
expect_refused "a second pool on A's metadata device is refused" \
	dmsetup create pc --table "$A_TABLE"
wait
ta=$(( $(uptime_cs) - t0 ))
echo "# A's load: ${ta} cs; B's turn during it: ${tb} cs"
check "A loaded" test "$(cat /tmp/a.rc)" = 0
check "A's load was slow (${ta} cs >= $((DELAY / 5)))" test "$ta" -ge $((DELAY / 5))
check "B did not wait for A's load (${tb} cs, A ${ta} cs)" \
	test $((tb * 3)) -lt "$ta"
dmsetup remove pc 2>/dev/null || true
dmsetup mknodes pa
make_volume pa 1 va 16384 >/dev/null || fail "volume of A again"
dd if=/dev/mapper/va of=/tmp/back bs=1M count=1 iflag=direct 2>/dev/null
check "A's data reads back" cmp -s /tmp/pat /tmp/back

# 2. A's last put commits slowly; B's turns meanwhile stay short.  A's
# pool device takes another table, so its volume holds the last reference;
# a first write leaves a transaction for that put to commit.
tb0=$(b_turn) || fail "pool B alone"
dmsetup suspend pa && dmsetup load pa --table "0 8 error" &&
	dmsetup resume pa || fail "A's pool device to error"
dd if=/tmp/pat of=/dev/mapper/va bs=64k count=1 seek=64 oflag=direct 2>/dev/null
t0=$(uptime_cs)
(dmsetup remove va; echo $? >/tmp/a.rc) &
pid=$! max=0 n=0
while kill -0 "$pid" 2>/dev/null; do
	tb=$(b_turn) || fail "pool B during A's last put"
	[ "$tb" -gt "$max" ] && max=$tb
	n=$((n + 1))
done
wait
ta=$(( $(uptime_cs) - t0 ))
echo "# A's last put: ${ta} cs; B alone ${tb0} cs, $n turns meanwhile: at most ${max} cs"
check "A's volume was removed" test "$(cat /tmp/a.rc)" = 0
check "A's last put was slow (${ta} cs >= $((DELAY / 3)))" test "$ta" -ge $((DELAY / 3))
check "B's turns did not wait for A's last put (${max} cs, A ${ta} cs)" \
	test $((max * 2)) -lt "$ta"
dmsetup remove pa
log "t=$(uptime_cs) checks done"
set_delay ma "$(disk meta)" 0
set_delay sa "$(disk ssd)" 0
log "t=$(uptime_cs) delays off"
dmsetup remove ma
dmsetup remove sa
pass
