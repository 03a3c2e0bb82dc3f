#!/bin/sh
# SPDX-License-Identifier: GPL-2.0-only
# A dying SSD (issue 19 item 9; dm-hybrid.rst, "A dying SSD"): the SSD is
# replaced by dm-error while three volumes are read and written.  vA lives
# on the SSD, vB on the HDD with clean block-tier copies and staged dirty
# blocks on the SSD, vC on the HDD with no slot.  The pool must find the
# SSD dead and turn ro with ssd_failed in its status; vB's and vC's HDD
# data read back intact (never through a slot on the dead SSD); every
# chunk of vA and every staged block of vB fails with EIO (never the
# HDD's older bytes); writes and flushes of vC go on (the transaction was
# clean when the SSD died: the load writes only mapped chunks); hybridctl
# names vA's lost range and vB's lost blocks; hybrid_check passes.
# kernels: debian debug
# disks: meta=16M ssd=64M hdd=128M
# tier: quick
# debug-tier: long
# timeout: 900
. /lib/dmh/guest.sh
. /lib/dmh/hybrid.sh

load_dm_hybrid
RM=$(disk meta) RS=$(disk ssd) RH=$(disk hdd)
ZS=$(sectors "$RS")
META=$RM
SSD=$(make_linear fs "$RS") || fail fs
HDD=$(make_linear fh "$RH") || fail fh
export META SSD HDD

# rd DEV OFF_KIB KIB [OUT]: an O_DIRECT read.
rd() {
	dd if="$1" of="${4:-/dev/null}" bs=4k skip=$(($2 / 4)) count=$(($3 / 4)) \
		iflag=direct 2>/dev/null
}
# same DEV PAT OFF_KIB KIB: that range of DEV reads back as PAT's.
same() {
	rd "$1" "$3" "$4" /tmp/rd || return 1
	dd if="$2" bs=4k skip=$(($3 / 4)) count=$(($4 / 4)) 2>/dev/null |
		cmp -s - /tmp/rd
}

make_pool pool 2048 block_tier 8 write_staging || fail pool
migration pool off
pool_set pool seq_cutoff 0
make_volume pool 1 vA $((16 * 2048)) >/dev/null || fail vA
make_volume pool 2 vB $((16 * 2048)) >/dev/null || fail vB
make_volume pool 3 vC $((16 * 2048)) >/dev/null || fail vC
pin pool 1 0 $((16 * 2048)) ssd || fail "pin vA"
pin pool 2 0 $((16 * 2048)) hdd || fail "pin vB"
pin pool 3 0 $((4 * 2048)) hdd || fail "pin vC"
for v in A B C; do
	dd if=/dev/urandom of=/tmp/$v bs=1M count=16 2>/dev/null
done
dd if=/tmp/A of=/dev/mapper/vA bs=1M oflag=direct 2>/dev/null || fail "fill vA"
dd if=/tmp/B of=/dev/mapper/vB bs=1M oflag=direct 2>/dev/null || fail "fill vB"
dd if=/tmp/C of=/dev/mapper/vC bs=1M count=4 oflag=direct 2>/dev/null || fail "fill vC"
sync
check "vA is on the SSD, vB and vC on the HDD" \
	test "$(vol_ssd vA) $(vol_hdd vB) $(vol_hdd vC)" = "16 16 4"
pin pool 2 0 $((16 * 2048)) auto || fail "unpin vB"	# so that it takes slots

# vB's first MiB into slots (random 16 KiB reads, twice: no stream).
warm() {
	fio --name=warm --filename=/dev/mapper/vB --direct=1 --ioengine=libaio \
		--iodepth=4 --rw=randread --bs=16k --size=1m --loops=2 \
		--randseed=3 >/tmp/warm.out 2>&1
}
n=0
while [ "$(blk_valid pool)" -lt 128 ] && [ $n -lt 5 ]; do
	warm || fail "warm vB"
	sleep 1
	n=$((n + 1))
done
check "vB has 128 or more clean slots ($(blk_valid pool))" test "$(blk_valid pool)" -ge 128
# Stage 4 KiB into each of vB's blocks 0..15; the staged ones are dirty.
dd if=/dev/urandom of=/tmp/new bs=4k count=16 2>/dev/null
k=0
while [ $k -lt 16 ]; do
	dd if=/tmp/new of=/dev/mapper/vB bs=4k skip=$k seek=$k count=1 \
		oflag=direct conv=notrunc 2>/dev/null || fail "stage block $k"
	k=$((k + 1))
done
dirty=$(vol_dirty vB)
check "vB has staged dirty blocks ($dirty)" test "$dirty" -gt 0
txid=$(pool_txid pool)

# --- the SSD dies under load ------------------------------------------------
# load DEV RW OFFSET SIZE [BS]: 6 s of fio, errors ignored.
load() {
	fio --name=ld --filename="$1" --direct=1 --ioengine=libaio --iodepth=4 \
		--rw="$2" --bs="${5:-4k}" --offset="$3" --size="$4" --time_based \
		--runtime=6 --continue_on_error=all --randseed=9 \
		>/dev/null 2>&1
}
load /dev/mapper/vA randread 0 16m &
la=$!
load /dev/mapper/vB randread 1m 15m &
lb=$!
# vC's writes: to mapped chunks (no first write, so the transaction is
# clean when the SSD dies), and of 64 KiB, which the block tier never
# stages (so vC has no dirty block to lose).
load /dev/mapper/vC randwrite 0 2m 64k &
lc=$!
sleep 2
dmesg -c >/dev/null
swap_ssd "0 $ZS error" || fail "SSD to dm-error"
wait $la $lb $lc
check "the pool finds the SSD dead: ssd_failed" \
	wait_for 10 sh -c 'dmsetup status pool | grep -qw ssd_failed'
check "the pool is ro" test "$(pool_mode pool)" = ro
check "the kernel says so" sh -c 'dmesg | grep -q "the SSD fails every read"'
check "no commit after the SSD died" test "$(pool_txid pool)" = "$txid"

# --- what stays served --------------------------------------------------------
check "vB's HDD data past the staged blocks reads back intact" \
	same /dev/mapper/vB /tmp/B 64 $((16 * 1024 - 64))
check "vC has no dirty block" test "$(vol_dirty vC)" -eq 0
check "vC's HDD data reads back intact" same /dev/mapper/vC /tmp/C 2048 2048
# stuck CMD...: CMD, which must end within 60 s; if it hangs (in D state,
# where no signal kills it) the case ends here with the blocked tasks.
stuck() {
	"$@" &
	_p=$! _i=0
	while kill -0 $_p 2>/dev/null && [ $_i -lt 600 ]; do
		sleep 0.1
		_i=$((_i + 1))
	done
	if kill -0 $_p 2>/dev/null; then
		dmsetup status
		echo w > /proc/sysrq-trigger
		sleep 1
		fail "stuck for 60 s: $*"
	fi
	wait $_p
}
check "vC: a write to an HDD chunk and its flush succeed" \
	stuck dd if=/tmp/A of=/dev/mapper/vC bs=1M count=1 skip=3 seek=3 oflag=direct conv=fsync,notrunc
check "... and it reads back" same /dev/mapper/vC /tmp/A 3072 1024
check "reads of never-written chunks are zeros" is_zero /dev/mapper/vC $((12 * 2048)) 2048

# --- what is lost -------------------------------------------------------------
bad=0 k=0
while [ $k -lt 16 ]; do
	rd /dev/mapper/vA $((k * 1024)) 1024 && bad=$((bad + 1))
	k=$((k + 1))
done
check "every chunk of vA (SSD) fails to read ($bad read)" test $bad -eq 0
expect_refused "a flush of vA, whose chunks are on the SSD, fails" \
	stuck flush /dev/mapper/vA
expect_refused "a write to vA fails" \
	dd if=/tmp/A of=/dev/mapper/vA bs=4k count=1 oflag=direct conv=notrunc
eio=0 stale=0 k=0
while [ $k -lt 16 ]; do
	if rd /dev/mapper/vB $((k * 4)) 4 /tmp/blk; then
		dd if=/tmp/new bs=4k skip=$k count=1 2>/dev/null | cmp -s - /tmp/blk ||
			stale=$((stale + 1))
	else
		eio=$((eio + 1))
	fi
	k=$((k + 1))
done
check "no staged block of vB reads stale or foreign bytes ($stale)" test $stale -eq 0
check "the staged blocks of vB fail with EIO ($eio of 16, $dirty were dirty)" \
	test $eio -ge 1 -a $eio -le 16
expect_refused "a first write fails (ro)" \
	dd if=/tmp/A of=/dev/mapper/vC bs=4k count=1 seek=3000 oflag=direct
expect_refused "a flush of vB, whose staged blocks are lost, fails" \
	stuck flush /dev/mapper/vB

# --- hybridctl names the damage -------------------------------------------------
hybridctl pool status pool >/tmp/st.out 2>&1
cat /tmp/st.out
check "pool status says the SSD failed" grep -q "SSD FAILED" /tmp/st.out
check "pool status names vA's lost range" grep -q "volume 1.*chunks 0-15" /tmp/st.out
check "pool status names vB's lost blocks" grep -q "volume 2.*dirty blocks" /tmp/st.out
hybridctl pool status --json pool >/tmp/st.json 2>&1
check "pool status --json: ssd_failed" grep -q '"ssd_failed": *true' /tmp/st.json
hybridctl stats >/tmp/stats.out 2>&1
cat /tmp/stats.out
check "stats marks vA as lost on the SSD" grep -q "vA.*SSD LOST" /tmp/stats.out

# --- metadata ----------------------------------------------------------------------
for d in vA vB vC; do dmsetup remove $d || not_ok "remove $d"; done
dmsetup remove pool || not_ok "remove the pool"
check "hybrid_check: metadata clean" hybrid_check -q "$META"
swap_ssd "0 $ZS linear $RS 0" || fail "SSD back"
make_pool pool 2048 || fail "reactivating on the SSD back"
make_volume pool 1 vA $((16 * 2048)) >/dev/null || fail vA
make_volume pool 3 vC $((16 * 2048)) >/dev/null || fail vC
check "vA verifies once the SSD is back" same /dev/mapper/vA /tmp/A 0 16384
check "vC's flushed write survived" same /dev/mapper/vC /tmp/A 3072 1024
dmsetup remove vA
dmsetup remove vC
dmsetup remove pool
pass
