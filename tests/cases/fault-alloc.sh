#!/bin/sh
# SPDX-License-Identifier: GPL-2.0-only
# Allocation and request failures (issue 7), debug kernel: failslab through
# /proc/self/fail-nth swept over every allocation of a pool activation, a
# volume activation and the messages (each must fail cleanly: an error, no
# leftover device, the metadata device free again, the pool unchanged);
# failslab at random in the kernel threads and the writer during I/O;
# fail_make_request on the SSD (data errors) and on the metadata disk
# (commit failure -> ro).  Afterwards the metadata is clean and the data of
# a volume nobody wrote during the faults verifies.
# kernels: debug
# disks: meta=16M ssd=16M hdd=32M
# tier: long
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

state() {	# every device and its status (the pool's with its txid)
	dmsetup status 2>/dev/null | sort || true
}

# sweep WHAT MAX SETUP CMD UNDO: run CMD with its Nth slab allocation
# failing (fail-nth, set just before an exec, so the count includes the
# exec and dmsetup's own start-up).  A coarse phase steps N by 64 until the
# failure lands in device-mapper (dmsetup reports a failed ioctl, or the
# kernel logs a device-mapper error, or CMD got past its end); a fine phase
# then tries every FA_FINE-th N from 64 before that point, until CMD
# succeeds with nothing injected or N passes MAX.  A failed attempt must
# leave every device and its status (the pool's txid included) as SETUP
# left them; UNDO then cleans up a success.
FA_FINE=${FA_FINE:-1}
SWEPT=0
sweep() {
	_what=$1 _max=$2 _setup=$3 _cmd=$4 _undo=$5
	_n=1 _step=64 _bad=0 _fails=0 _fine=0 _dm=0 _s0=""
	while [ $_n -le "$_max" ]; do
		eval "$_setup" >/dev/null 2>&1 || { not_ok "$_what: set-up before attempt $_n"; return 0; }
		[ -n "$_s0" ] || _s0=$(state)
		_t0=$(injected)
		dmesg -c >/dev/null
		if (echo $_n > /proc/self/fail-nth && eval "exec $_cmd") >/tmp/sw.out 2>&1; then _rc=0; else _rc=1; fi
		_t1=$(injected)
		SWEPT=$((SWEPT + 1))
		[ $((SWEPT % 10)) -ne 0 ] || echo "DMH-REL-PARTIAL faults=$(injected) case=fault-alloc"
		if [ $_rc -ne 0 ]; then
			_fails=$((_fails + 1))
			_s1=$(state)
			if [ "$_s0" != "$_s1" ]; then
				not_ok "$_what: attempt $_n failed and changed the state" "$(echo "$_s0" | head -n2) -> $(echo "$_s1" | head -n2)"
				_bad=1
			fi
		else
			eval "$_undo" >/dev/null 2>&1 || true
			_s0=""	# a success and its undo commit: new baseline
		fi
		if [ $_rc -eq 0 ] && [ "$_t1" -eq "$_t0" ]; then
			[ $_fine -eq 1 ] && break
			_dm=1	# past the end in one coarse step: go back
		elif [ $_fine -eq 0 ] && { grep -q "ioctl" /tmp/sw.out || dmesg | grep -q "device-mapper"; }; then
			_dm=1
		else
			_dm=0
		fi
		if [ $_fine -eq 0 ] && [ $_dm -eq 1 ]; then
			_fine=1 _step=$FA_FINE
			_n=$((_n > 64 ? _n - 64 : 1))
			log "sweep $_what: device-mapper reached at allocation $((_n + 64)), fine from $_n"
			continue
		fi
		_n=$((_n + _step))
	done
	if [ $_n -gt "$_max" ]; then
		not_ok "$_what: still injecting after $_max allocations" "fine phase: $_fine"
	elif [ $_bad -eq 0 ]; then
		ok "$_what: swept to allocation $_n (every ${FA_FINE}), $_fails attempts failed cleanly"
	fi
	echo "DMH-REL-PARTIAL faults=$(injected) case=fault-alloc"
	return 0
}

# 1. pool activation on existing metadata: each failure leaves no device
#    and the metadata free for the next attempt.
sweep "pool ctr" 4000 "dmsetup remove pool 2>/dev/null; true" \
	"dmsetup create pool --table '$TABLE'" "dmsetup remove pool"
check "the pool activates after the sweep" dmsetup create pool --table "$TABLE"
make_volume pool 1 v1 $VS >/dev/null || fail "v1 after the sweep"
check "v1 verifies after the pool ctr sweep" sh -c "dd if=/dev/mapper/v1 bs=64k iflag=direct 2>/dev/null | cmp -s - /tmp/p1"
dmsetup remove v1

# 2. volume activation (ctr + resume, which commits a new size).
sweep "volume ctr" 3000 "dmsetup remove v1 2>/dev/null; true" \
	"dmsetup create v1 --table '0 $VS hybrid /dev/mapper/pool 1'" "dmsetup remove v1"
dmsetup remove v1 2>/dev/null || true

# 3. messages.
sweep "create_volume" 3000 "dmsetup message pool 0 delete_volume 7 2>/dev/null; true" \
	"dmsetup message pool 0 create_volume 7" "dmsetup message pool 0 delete_volume 7"
sweep "set_volume" 3000 "dmsetup message pool 0 set_volume 1 weight 100" \
	"dmsetup message pool 0 set_volume 1 weight 300" "dmsetup message pool 0 set_volume 1 weight 100"
sweep "list_volumes" 3000 true "dmsetup message pool 0 list_volumes" true
check "pool still rw after the sweeps" test "$(pool_mode pool)" = rw

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
log "fail-nth attempts: $SWEPT, failures injected: $N"
echo "DMH-REL faults=$N case=fault-alloc"
pass
