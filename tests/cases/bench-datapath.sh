#!/bin/sh
# SPDX-License-Identifier: GPL-2.0-only
# Benchmark, not a test: 4 KiB random read and write IOPS at queue depth 1
# and 32 on a hybrid volume whose chunks all sit on the SSD, against
# dm-linear on the same SSD disk, in the same VM run.  Prints a table; the
# data path issue's bar is 95 % of dm-linear.  It fails only if a run
# fails.
#
# Emulation is noisy (other VMs share the host, and its load drifts over
# seconds), so the two devices run in many short rounds, in the order
# A B B A, and each round gives one ratio hybrid/linear; the table shows
# the median of those ratios and their interquartile range.  A second
# figure is CPU time per I/O from the guest's /proc/stat (all CPUs, busy
# jiffies per completed I/O): under TCG the guest CPU is the bottleneck,
# so linear/hybrid CPU per I/O is the data path's own cost ratio.
# kernels: debian
# disks: meta=16M ssd=512M hdd=256M
# tier: bench
# timeout: 3600
# shellcheck disable=SC2046 # fio_terse fields are split on purpose
. /lib/dmh/guest.sh
. /lib/dmh/hybrid.sh
. /lib/dmh/bench.sh

[ -f /lib/dmh/bench/config ] && . /lib/dmh/bench/config
RUNTIME=${DP_RUNTIME:-2}
ROUNDS=${DP_ROUNDS:-8}
load_dm_hybrid
SSD=$(make_linear poolssd "$(disk ssd)" 524288 0)
export SSD
LIN=$(make_linear lin "$(disk ssd)" 524288 524288)
make_pool pool 2048 || fail pool
dmsetup message pool 0 migration off
dmsetup message pool 0 set seq_cutoff 0
make_volume pool 1 vm1 262144 >/dev/null || fail vm1
dd if=/dev/zero of=/dev/mapper/vm1 bs=1M count=128 oflag=direct 2>/dev/null
dd if=/dev/zero of="$LIN" bs=1M count=128 oflag=direct 2>/dev/null
check "every chunk of the volume is on the SSD" test "$(vol_ssd vm1)" -eq 128

busy() { awk '/^cpu / { print $2 + $3 + $4 + $7 + $8 }' /proc/stat; }

# one DEV RW DEPTH: prints "<iops> <busy jiffies per 1000 ios>"
one() {
	b0=$(busy)
	set -- $(fio_terse --filename="$1" --rw="$2" --bs=4k --iodepth="$3" --size=128M \
		--time_based --runtime="$RUNTIME" --randseed=1)
	b1=$(busy)
	io=$(($1 + $5))
	n=$((io * $9 / 1000))
	echo "$io $(awk -v b=$((b1 - b0)) -v n="$n" 'BEGIN { if (n > 0) printf "%.3f", 1000 * b / n; else print 0 }')"
}

# quartiles of a list: "q1 median q3"
quart() {
	tr ' ' '\n' | grep . | sort -n | awk '{ a[NR] = $1 } END {
		printf "%s %s %s", a[int((NR + 3) / 4)], a[int((NR + 1) / 2)], a[int((3 * NR + 3) / 4)] }'
}

bench "| workload | dm-linear IOPS (median) | dm-hybrid IOPS (median) | per-round ratio median | IQR | CPU/IO ratio median | rounds |"
bench "|---|---|---|---|---|---|---|"
for w in randread randwrite; do
	for qd in 1 32; do
		ls="" hs="" rs="" cs="" i=0
		while [ $i -lt "$ROUNDS" ]; do
			if [ $((i % 2)) -eq 0 ]; then
				set -- $(one "$LIN" $w $qd) $(one /dev/mapper/vm1 $w $qd)
			else
				set -- $(one /dev/mapper/vm1 $w $qd) $(one "$LIN" $w $qd)
				set -- "$3" "$4" "$1" "$2"
			fi
			[ "${1:-0}" -gt 0 ] && [ "${3:-0}" -gt 0 ] || fail "fio $w qd$qd"
			ls="$ls $1" hs="$hs $3"
			rs="$rs $(ratio "$3" "$1")"
			cs="$cs $(ratio "$(echo "$2" | tr -d .)" "$(echo "$4" | tr -d .)")"
			i=$((i + 1))
		done
		set -- $(echo "$rs" | quart)
		bench "| 4k $w qd$qd | $(echo "$ls" | median) | $(echo "$hs" | median) | $2 | $1-$3 | $(echo "$cs" | quart | cut -d' ' -f2) | $ROUNDS |"
		bench "4k $w qd$qd per-round IOPS ratios:$rs; CPU/IO ratios:$cs"
	done
done
dmsetup remove vm1
dmsetup remove pool
pass
