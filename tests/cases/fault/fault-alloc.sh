#!/bin/sh
# SPDX-License-Identifier: GPL-2.0-only
# Allocation and request failures, debug kernel: failslab through
# fail-nth swept over every allocation of a pool activation, a volume
# activation and the messages (each must fail cleanly: an error, no
# leftover device, the metadata device free again, the pool unchanged);
# failslab at random in the kernel threads and the writer during I/O;
# fail_make_request on the SSD (data errors) and on the metadata disk
# (commit failure -> ro).  Afterwards the metadata is clean and the data of
# a volume nobody wrote during the faults verifies.
# kernels: debug
# disks: meta=16M ssd=16M hdd=32M m2=8M s2=8M h2=8M
# tier: long
# alloc-failure-dumps: allowed
# timeout: 7200
. /lib/dmh/guest.sh
. /lib/dmh/hybrid.sh

load_dm_hybrid
DBG=/sys/kernel/debug
FS=$DBG/failslab FMR=$DBG/fail_make_request
[ -d $FS ] && [ -d $FMR ] || fail "no failslab/fail_make_request in debugfs"
CS=128 NV=64 VS=$((64 * 128))
M=$(disk meta) S=$(disk ssd) H=$(disk hdd)
BIG=100000000
TABLE="0 $(($(sectors "$S") + $(sectors "$H"))) hybrid-pool $M $S $H $CS 0"

# Common fault settings: one line per forced failure, no stack dump (the
# runner fails a case on any "Call Trace:"), counting through "times".
for a in $FS $FMR; do
	echo 1 > $a/verbose
	echo 100000 > $a/verbose_ratelimit_burst 2>/dev/null || true
	echo 0 > $a/probability
	echo 1 > $a/interval
	echo 0 > $a/space
	echo $BIG > $a/times
done
echo N > $FS/ignore-gfp-wait
injected() { echo $(( (BIG - $(cat $FS/times)) + (BIG - $(cat $FMR/times)) )); }

make_pool pool $CS || fail pool
make_volume pool 1 v1 $VS >/dev/null || fail v1
dd if=/dev/urandom of=/tmp/p1 bs=64k count=$NV 2>/dev/null
dd if=/tmp/p1 of=/dev/mapper/v1 bs=64k oflag=direct conv=fsync 2>/dev/null || fail "write v1"
dmsetup remove v1
dmsetup remove pool

# sweeps FILE: every sweep of FILE ("<what> ;; <do> ;; <undo>" lines) by
# dmh-fuzz -n (tests/tools/dmh-fuzz.c): for N = 1, 2, ... the Nth fault
# point of <do> fails (fail-nth, counted from its first ioctl); a refused
# attempt must leave every device and its status (the pool's txid, mode
# and volume list included) as it found them, a success is undone, the
# pool stays rw, and the sweep must reach an N that <do> survives with
# nothing injected.
SWEEPS_MAX=20000 POINTS=0
sweeps() {
	_rc=0 _end=0
	dmh-fuzz -n $SWEEPS_MAX -o /tmp/sw.res "$1" || _rc=$?
	while IFS="$(printf '\t')" read -r _k _a _b _c _d _e; do
		case $_k in
		bad) not_ok "sweep $_b: attempt $_a" "$_c" ;;
		sweep) POINTS=$((POINTS + _b))
			if [ "$_e" -eq 0 ]; then
				ok "sweep $_a: all $_b fault points ($_c refused cleanly, $_d succeeded anyway)"
			fi ;;
		end) _end=1 ;;
		esac
	done < /tmp/sw.res
	[ "$_rc" -le 1 ] && [ "$_end" -eq 1 ] || not_ok "dmh-fuzz -n stopped (status $_rc) in $1"
	echo "DMH-REL-PARTIAL faults=$(injected) case=fault-alloc"
}

# dm core gives every table a bio slab cache for its targets' per-bio data
# size, created by the first table that needs it and destroyed with the
# last, and mm dumps the stack when kmem_cache_create fails (a core
# message, not ours, but a "Call Trace:" the runner would count).  A second
# pool with a volume, on their own disks and alive through the sweeps, keeps
# both caches, so no attempt creates one.
# (A subshell: ash keeps assignments made before a function call.)
(META=$(disk m2) SSD=$(disk s2) HDD=$(disk h2) make_pool keep $CS) || fail "pool keep"
make_volume keep 1 vkeep $VS >/dev/null || fail "vkeep"

# 1. pool activation on existing metadata: each failure leaves no device
#    and the metadata free for the next attempt.
echo "pool ctr ;; create pool $TABLE ;; remove pool" > /tmp/sw1
t0=$(uptime_s)
sweeps /tmp/sw1
# dmh-fuzz creates devices by ioctl, without /dev/mapper nodes, so the
# node is made again here: a stale /dev/mapper/pool left from before the
# sweeps names whatever device has its old minor now (keep's, in a run
# that forgot this: v1 was then bound to keep's volume 1 and read zeros).
check "the pool activates after the sweep" sh -c "dmsetup create pool --table '$TABLE' && dmsetup mknodes pool"
make_volume pool 1 v1 $VS >/dev/null || fail "v1 after the sweep"
check "v1 verifies after the pool ctr sweep" sh -c "dd if=/dev/mapper/v1 bs=64k iflag=direct 2>/dev/null | cmp -s - /tmp/p1"
dmsetup remove v1

# 2. volume activation (ctr + resume) and 3. the messages that allocate
#    or commit (volume 3 exists for the delete_volume sweep).
pool_msg pool create_volume 3 || fail "create_volume 3"
cat > /tmp/sw2 <<EOF
volume ctr ;; create v1 0 $VS hybrid /dev/mapper/pool 1 ;; remove v1
create_volume ;; msg create_volume 7 ;; msg delete_volume 7
delete_volume ;; msg delete_volume 3 ;; msg create_volume 3
set_volume ;; msg set_volume 1 weight 300 ;; msg set_volume 1 weight 100
set ;; msg set hysteresis 9 ;; msg set hysteresis 8
list_volumes ;; msg list_volumes ;; none
placement_map ;; msg placement_map 1 ;; none
EOF
sweeps /tmp/sw2
log "fail-nth sweeps: $(( $(uptime_s) - t0 )) s"
check "pool still rw after the sweeps" test "$(pool_mode pool)" = rw
dmsetup remove vkeep && dmsetup remove keep || fail "remove keep"

# 4. random slab failures in kernel threads and the writer during I/O on
#    v2 (new chunks, discards, flushes, migrations); v1 is only read.
make_volume pool 1 v1 $VS >/dev/null || fail v1
make_volume pool 2 v2 $((VS * 4)) >/dev/null || fail v2
pool_set pool tick_ms 100
pool_set pool promote_threshold 1
pool_set pool migration_rate 0
mark_kthreads() {
	for _p in /proc/[0-9]*; do
		case $(cat "$_p/comm" 2>/dev/null) in
		kworker* | kcopyd* | kdmflush* | dm* ) echo 1 > "$_p/make-it-fail" 2>/dev/null || true ;;
		esac
	done
}
t0=$(injected)
echo Y > $FS/task-filter
echo 3 > $FS/probability
i=0
while [ $i -lt 6 ]; do
	mark_kthreads
	sh -c 'echo 1 > /proc/self/make-it-fail; exec fio --name=w --filename=/dev/mapper/v2 \
		--direct=1 --ioengine=libaio --iodepth=8 --rw=randrw --bs=4k-128k --size=16M \
		--time_based --runtime=4 --fsync=16 --trim_backlog=8 >/dev/null 2>&1' || true
	dd if=/dev/mapper/v1 bs=64k iflag=direct of=/dev/null 2>/dev/null || true
	i=$((i + 1))
done
echo 0 > $FS/probability
echo N > $FS/task-filter
n=$(($(injected) - t0))
check "slab failures were injected during I/O ($n)" test "$n" -gt 0
mode=$(pool_mode pool)
log "mode after the I/O slab faults: $mode"
check "pool not in fail mode after slab faults" test "$mode" != fail

# 5. fail_make_request on the SSD: data I/O errors below the pool.
ssd_blk=$(basename "$(readlink -f "$S")")
meta_blk=$(basename "$(readlink -f "$M")")
t0=$(injected)
echo 1 > "/sys/block/$ssd_blk/make-it-fail"
echo 10 > $FMR/probability
fio --name=r --filename=/dev/mapper/v2 --direct=1 --ioengine=libaio --iodepth=4 \
	--rw=randrw --bs=4k-64k --size=16M --time_based --runtime=5 >/dev/null 2>&1 || true
echo 0 > $FMR/probability
echo 0 > "/sys/block/$ssd_blk/make-it-fail"
n=$(($(injected) - t0))
check "request failures were injected on the SSD ($n)" test "$n" -gt 0
check "v1 verifies after the I/O faults" sh -c "dd if=/dev/mapper/v1 bs=64k iflag=direct 2>/dev/null | cmp -s - /tmp/p1"

# 6. fail_make_request on the metadata disk: the commit fails -> ro.
if [ "$(pool_mode pool)" = rw ]; then
	ev=$(dmsetup info -c --noheadings -o events pool | tr -d ' ')
	echo 1 > "/sys/block/$meta_blk/make-it-fail"
	echo 100 > $FMR/probability
	expect_refused "a commit with failing metadata requests fails" \
		dmsetup message pool 0 set hysteresis 7
	echo 0 > $FMR/probability
	echo 0 > "/sys/block/$meta_blk/make-it-fail"
	check "pool switched to ro" test "$(pool_mode pool)" = ro
	check "with a dm event" test "$(dmsetup info -c --noheadings -o events pool | tr -d ' ')" -gt "$ev"
	check "v1 still reads in ro" sh -c "dd if=/dev/mapper/v1 bs=64k iflag=direct 2>/dev/null | cmp -s - /tmp/p1"
fi
dmsetup remove v1
dmsetup remove v2
dmsetup remove pool
check "hybrid_check: metadata clean after the faults" hybrid_check -q "$M"
check "the pool activates again" make_pool pool $CS
make_volume pool 1 v1 $VS >/dev/null || fail v1
check "v1 verifies after reactivation" sh -c "dd if=/dev/mapper/v1 bs=64k iflag=direct 2>/dev/null | cmp -s - /tmp/p1"
dmsetup remove v1
dmsetup remove pool
N=$(injected)
log "fault points swept: $POINTS, failures injected: $N"
echo "DMH-REL faults=$N alloc_points=$POINTS case=fault-alloc"
pass
