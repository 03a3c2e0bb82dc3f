#!/bin/sh
# SPDX-License-Identifier: GPL-2.0-only
# Out of space, the timer and suspend: a write waiting for space fails 60 s
# after it first found none, however often freed chunks wake it and other
# writes take them; a volume suspended while the pool is suspended does
# not wait for its queued writes: a noflush suspend hands them back to dm
# (they complete after resume, once there is space), a plain suspend fails
# them with ENOSPC.
# kernels: debian debug
# disks: meta=16M ssd=16M hdd=16M
# tier: quick
# debug-tier: long
# timeout: 600
. /lib/dmh/guest.sh
. /lib/dmh/hybrid.sh

# writer N CHUNK: a 64 KiB write to an unmapped chunk in the background;
# /tmp/w.N gets its exit status when it ends (set -e holds in the subshell
# too: the if keeps a failed dd from ending it before it writes).
writer() {
	rm -f "/tmp/w.$1"
	(if dd if=/dev/zero of=/dev/mapper/vm1 bs=64k seek="$2" count=1 \
		oflag=direct 2>/dev/null; then r=0; else r=$?; fi
	 echo "$r" >"/tmp/w.$1") &
}
ended() { test -f "/tmp/w.$1"; }
all_ended() { ended 2 && ended 3 && ended 4; }
failed() { ended "$1" && test "$(status_of "$1")" != 0; }
status_of() { cat "/tmp/w.$1" 2>/dev/null || echo running; }
# free_chunk N: discard chunk N of vm1 (one chunk becomes free again).
free_chunk() { blkdiscard -o $(($1 * 65536)) -l 65536 /dev/mapper/vm1; }

load_dm_hybrid
# 2 MiB of SSD and 4 MiB of HDD: 96 chunks of 64 KiB, filled.
SSD=$(make_linear s "$(disk ssd)" 4096)
HDD=$(make_linear h "$(disk hdd)" 8192)
export SSD HDD
make_pool pool 128 || fail pool
make_volume pool 1 vm1 20480 >/dev/null || fail vm1
dd if=/dev/urandom of=/dev/mapper/vm1 bs=64k count=96 oflag=direct 2>/dev/null
check "all 96 chunks used" test "$(vol_mapped vm1)" -eq 96

# 1. noflush suspend of the volume while the pool is suspended.
writer 0 100
sleep 3
check "the write waits for space" test "$(pool_field pool 13)" = out_of_space
dmsetup suspend pool
check "noflush suspend of the volume returns (pool suspended)" \
	timeout 20 dmsetup suspend --noflush vm1
dmsetup resume pool
dmsetup resume vm1
check "... and the write still waits" test "$(status_of 0)" = running
check "free one chunk" free_chunk 0
check "the handed-back write completes once there is space" wait_for 20 ended 0
check "... successfully" test "$(status_of 0)" = 0

# 2. plain suspend of the volume while the pool is suspended.
writer 1 101
sleep 3
dmsetup suspend pool
check "suspend of the volume returns (pool suspended)" \
	timeout 20 dmsetup suspend vm1
check "... and fails the waiting write" wait_for 5 ended 1
check "... with an error ($(status_of 1))" failed 1
dmsetup resume pool
dmsetup resume vm1
wait_for 70 ended 1 || true

# 3. The 60 s limit counts from the first time a write found no space:
# three writers, two chunks freed at +20 s and +40 s wake all of them
# each time; the one left must fail at +60 s, not at +100 s.
t0=$(uptime_s)
writer 2 102
writer 3 103
writer 4 104
sleep 20
check "free one chunk at +20 s" free_chunk 1
sleep 20
check "free one chunk at +40 s" free_chunk 2
wait_until 35 all_ended || true
t=$(($(uptime_s) - t0))
done=0 failed=0
for i in 2 3 4; do
	s=$(status_of $i)
	echo "# writer $i: $s at +$t s"
	[ "$s" = running ] || done=$((done + 1))
	[ "$s" = running ] || [ "$s" = 0 ] || failed=$((failed + 1))
done
check "by +75 s all three writers ended (at +$t s)" test "$done" -eq 3
check "two of them got the freed chunks, one failed" test "$failed" -eq 1
wait_for 60 all_ended || true
dmsetup remove vm1
dmsetup remove pool
pass
