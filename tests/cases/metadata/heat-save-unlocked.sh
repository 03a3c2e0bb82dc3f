#!/bin/sh
# SPDX-License-Identifier: GPL-2.0-only
# A heat save does not hold md_lock while it allocates or writes its image
# (issue 19 item 3).  The metadata device delays every write by DELAY ms
# (dm-delay; reads are not delayed) and heat_save_interval is 1 s, so
# about every second a save writes its blocks, each write a DELAY long.
# The pool is otherwise idle (nothing to commit), and its status, which
# takes md_lock, is read again and again for WINDOW seconds: no read may
# take as long as one delayed write.  Before the fix, saves held md_lock
# back to back and reads waited 613 cs (DELAY 3000); after it, the
# slowest read took 19 to 252 cs, the worst on a loaded lab host.  Then
# the heat survives a reactivation.
# Migration is off: its commits would rightly hold md_lock that long.
# Debian's kernel only: on the debug kernel one dmsetup call alone takes
# 0.7-2 s in the lab, too close to DELAY to tell a wait (KUnit's
# heat_saved_outside_md_lock covers the debug kernel).
# kernels: debian
# disks: meta=16M ssd=16M hdd=32M
# tier: long
# timeout: 300
. /lib/dmh/guest.sh
. /lib/dmh/hybrid.sh

DELAY=5000
WINDOW=12

load_dm_hybrid
need_mod dm-delay || fail "no dm-delay"
len=$(sectors "$(disk meta)")
META=/dev/mapper/md
export META
# delay_writes MS: the metadata device's writes (and flushes) wait MS.
delay_writes() {
	_t="0 $len delay $(disk meta) 0 0 $(disk meta) 0 $1"
	if dmsetup info md >/dev/null 2>&1; then
		dmsetup suspend md && dmsetup load md --table "$_t" &&
			dmsetup resume md
	else
		dmsetup create md --table "$_t" && dmsetup mknodes md
	fi
}
delay_writes 0 || fail "dm-delay"
make_pool pool 128 || fail pool
make_volume pool 1 vm1 16384 >/dev/null || fail vm1
# Heat on a few chunks, committed, then nothing left to commit.
dd if=/dev/urandom of=/dev/mapper/vm1 bs=64k count=8 oflag=direct conv=fsync 2>/dev/null
for _ in 1 2 3 4; do
	dd if=/dev/mapper/vm1 of=/dev/null bs=64k count=8 iflag=direct 2>/dev/null
done
migration pool off || fail "migration off"
pool_set pool heat_save_interval 1 || fail "heat_save_interval"
sync
sleep 2
delay_writes "$DELAY" || fail "delay on"

end=$(( $(uptime_cs) + WINDOW * 100 ))
max=0 n=0
while [ "$(uptime_cs)" -lt "$end" ]; do
	t0=$(uptime_cs)
	dmsetup status pool >/dev/null || fail "status"
	t=$(( $(uptime_cs) - t0 ))
	[ "$t" -gt "$max" ] && max=$t
	[ "$t" -lt 50 ] || log "a status read took $t cs"
	n=$((n + 1))
	sleep 0.05
done
echo "# $n status reads in ${WINDOW} s with heat saves every second: at most ${max} cs"
check "no status read waited for a heat save (${max} cs, a write takes $((DELAY / 10)))" \
	test "$max" -lt $((DELAY / 10))
delay_writes 0 || fail "delay off"
heat=$(pool_msg pool placement_map 1 16 | sed 's/.*heat=//')
dmsetup remove vm1
dmsetup remove pool
make_pool pool 128 || fail "pool again"
again=$(pool_msg pool placement_map 1 16 | sed 's/.*heat=//')
echo "# heat before: $heat, after reactivation: $again"
check "there was heat to save" sh -c "echo '$heat' | grep -q '[1-9a-f]'"
check "the heat survived the reactivation" sh -c "echo '$again' | grep -q '[1-9a-f]'"
dmsetup remove pool
dmsetup remove md
pass
