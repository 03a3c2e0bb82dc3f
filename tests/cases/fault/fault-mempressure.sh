#!/bin/sh
# SPDX-License-Identifier: GPL-2.0-only
# Forward progress under memory pressure (issue 19 item 2): two volumes
# take first writes at queue depth 128 each (4 KiB random writes over
# 128 MiB of 64 KiB chunks, so nearly every write allocates a chunk and
# far more than the 64 reserved cells are wanted at once), fio verify on
# both, in two phases, each on its own half of the volumes:
#  1. "cells": failslab fails 90 % of the slab allocations of the kernel
#     threads that may not reclaim (ignore-gfp-wait), so most cells come
#     from the 64 in reserve and the worker runs out of them again and
#     again (not 100 %: then no first write completed in 5 minutes, on
#     the fixed module too; likely the GFP_ATOMIC scatterlists virtio-blk
#     allocates in kworkers for multi-page requests, which never succeed);
#  2. "random": failslab fails PCT % of every slab allocation of the
#     kernel threads (the pool worker, kcopyd, dm), reclaiming ones too.
# Where the kernel has memory cgroups (Debian's; the debug kernel is built
# without), fio runs under a tight memory.max.  A reader polls the pool's
# status throughout (it takes md_lock), and the hung-task timeout is 30 s.
# Nothing may fail: no EIO (fio's own check and verify pass), no hung
# task, the pool rw, the data verified again after the faults and after
# reactivation, the metadata clean.  Before the fix (d62ac45), phase 2
# failed first writes on both volumes within seconds: an xarray store's
# ENOMEM became BLK_STS_RESOURCE, which fio sees as "Cannot allocate
# memory"; phase 1 passed there (the mempool's reclaiming retry, which
# failslab leaves alone, still found memory), and the worker could sleep
# in mempool_alloc() holding md_lock with every cell in flight.
# kernels: debug debian
# disks: meta=16M ssd=64M hdd=512M
# tier: long
# alloc-failure-dumps: allowed
# timeout: 1800
. /lib/dmh/guest.sh
. /lib/dmh/hybrid.sh

CS=128			# 64 KiB chunks
VS=$((512 * 1024))	# 256 MiB per volume: one half per phase
PCT=${PCT:-30}		# phase 2's failslab probability, percent
M=$(disk meta)
FS=/sys/kernel/debug/failslab
CG=/sys/fs/cgroup
BIG=100000000

load_dm_hybrid
echo 30 > /proc/sys/kernel/hung_task_timeout_secs
make_pool pool $CS || fail pool
for v in 1 2; do
	make_volume pool $v v$v $VS >/dev/null || fail "v$v"
done

# failslab for the kernel threads only (task-filter): fio's own memory
# comes from the cgroup below.  Failures are counted through "times"; no
# console line per failure (the serial console would be the bottleneck).
HAVE_FS=""
if [ -d $FS ]; then
	HAVE_FS=1
	echo 0 > $FS/verbose
	echo 0 > $FS/probability
	echo 1 > $FS/interval
	echo 0 > $FS/space
	echo $BIG > $FS/times
	echo Y > $FS/task-filter
else
	log "no failslab in this kernel: memory cgroup only"
fi
injected() { if [ -n "$HAVE_FS" ]; then echo $((BIG - $(cat $FS/times))); else echo 0; fi; }
# (read, not cat: a fork per process every second would eat a vCPU.)
mark_kthreads() {
	for _p in /proc/[0-9]*; do
		{ read -r _c < "$_p/comm"; } 2>/dev/null || continue
		case $_c in
		kworker* | kcopyd* | kdmflush* | dm*) echo 1 > "$_p/make-it-fail" 2>/dev/null || true ;;
		esac
	done
}

# A memory cgroup around fio, where the kernel has one.
CGDIR=""
if grep -qw cgroup2 /proc/filesystems; then
	mount -t cgroup2 none $CG 2>/dev/null || true
	if grep -qw memory $CG/cgroup.controllers 2>/dev/null; then
		echo +memory > $CG/cgroup.subtree_control
		CGDIR=$CG/fio
		mkdir -p $CGDIR
		echo 48M > $CGDIR/memory.max
		echo 0 > $CGDIR/memory.swap.max 2>/dev/null || true
	fi
fi
[ -n "$CGDIR" ] || log "no memory cgroup in this kernel: failslab only"

# job N OFFSET [fio args]: fio verify on volume N's half at OFFSET.
job() {
	_n=$1 _o=$2
	shift 2
	fio --name="v$_n" --filename="/dev/mapper/v$_n" --direct=1 \
		--ioengine=libaio --rw=randwrite --bs=4k --offset="$_o" \
		--size=128M --io_size=4M --randseed="$_n$_o" --verify=crc32c \
		--verify_fatal=1 "$@"
}

# writer N OFFSET (in a subshell of its own): the job at queue depth 128
# inside the cgroup ("0" moves the writing shell); exit status in /tmp/rcN.
writer() {
	_rc=0
	[ -z "$CGDIR" ] || echo 0 > "$CGDIR/cgroup.procs"
	job "$1" "$2" --iodepth=128 > "/tmp/fio$1.out" 2>&1 || _rc=$?
	echo $_rc > "/tmp/rc$1"
}

# poll_status: a worker asleep holding md_lock leaves this reader blocked,
# which the hung-task detector reports.  Progress on the console every
# 20 s: chunks mapped per volume.
poll_status() {
	_i=0
	while [ ! -e /tmp/stop ]; do
		dmsetup status pool >/dev/null
		_i=$((_i + 1))
		[ $((_i % 10)) -ne 0 ] || log "mapped: v1 $(vol_mapped v1) v2 $(vol_mapped v2)"
		sleep 2
	done
}

# phase NAME OFFSET IGNORE_GFP_WAIT PROBABILITY
phase() {
	rm -f /tmp/stop
	poll_status &
	_poll=$!
	_t0=$(injected) _s0=$(uptime_s)
	if [ -n "$HAVE_FS" ]; then
		echo "$3" > $FS/ignore-gfp-wait
		mark_kthreads
		echo "$4" > $FS/probability
		(while [ ! -e /tmp/stop ]; do mark_kthreads; sleep 2; done) &
	fi
	writer 1 "$2" & _w1=$!
	writer 2 "$2" & _w2=$!
	wait $_w1 $_w2 || true
	[ -z "$HAVE_FS" ] || echo 0 > $FS/probability
	touch /tmp/stop
	wait $_poll || true
	_n=$(($(injected) - _t0))
	log "phase $1: $(($(uptime_s) - _s0)) s, $_n slab failures injected"
	for _v in 1 2; do
		_r=$(cat "/tmp/rc$_v")
		check "$1: v$_v: fio wrote and verified at QD128 (exit $_r)" test "$_r" -eq 0
		[ "$_r" -eq 0 ] || grep -m 5 -E 'error|err=' "/tmp/fio$_v.out" || true
		check "$1: v$_v: fio saw no I/O error" \
			sh -c "! grep -qE 'Input/output|err= *[1-9]' /tmp/fio$_v.out"
	done
	[ -z "$HAVE_FS" ] || check "$1: slab failures were injected ($_n)" test "$_n" -gt 0
	check "$1: the pool is still rw" test "$(pool_mode pool)" = rw
}

HALF=128M
phase cells 0 Y 90
phase random $HALF N "$PCT"
check "first writes mapped more than 128 chunks per volume" \
	test "$(vol_mapped v1)" -gt 128 -a "$(vol_mapped v2)" -gt 128

# reverify: both halves of both volumes read back, no faults.
reverify() {
	for _v in 1 2; do
		for _o in 0 $HALF; do
			job "$_v" "$_o" --iodepth=32 --verify_only > /tmp/re.out 2>&1 ||
				{ cat /tmp/re.out; return 1; }
		done
	done
}
teardown() {
	for _d in v1 v2 pool; do dmsetup remove $_d || fail "remove $_d"; done
}
check "both volumes verify after the faults" reverify
teardown
check "hybrid_check: metadata clean" hybrid_check -q "$M"
make_pool pool $CS || fail "pool again"
for v in 1 2; do
	make_volume pool $v v$v $VS >/dev/null || fail "v$v again"
done
check "both volumes verify after reactivation" reverify
teardown
echo "DMH-REL faults=$(injected) case=fault-mempressure"
pass
