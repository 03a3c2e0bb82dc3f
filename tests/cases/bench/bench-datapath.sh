#!/bin/sh
# SPDX-License-Identifier: GPL-2.0-only
# Benchmark, not a test: 4 KiB random read and write IOPS at queue depth 1
# and 32 on a hybrid volume whose chunks all sit on the SSD, against
# dm-linear on the same SSD disk, in the same VM run.  Prints a table; the
# data path's bar is 95 % of dm-linear.  It fails only if a run fails.
#
# Each side is one dm target directly above a partition of the same disk:
# the pool's SSD is partition 1, dm-linear maps partition 2.  Two disks:
# the virtio "SSD" (its latency is the host's, so QD1 is noisy) and a
# guest RAM disk (brd), where every I/O completes on the guest CPU and the
# ratio at any depth is the data path's own cost.
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
ROUNDS=${DP_ROUNDS:-6}
load_dm_hybrid
modprobe brd rd_nr=1 rd_size=409600 max_part=4 || fail "brd"

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

# halves DISK: two partitions of about 160 MiB; prints "P1 P2".
halves() {
	printf 'o\nn\np\n1\n\n+160M\nn\np\n2\n\n+160M\nw\n' | fdisk "$1" >/tmp/fdisk.out 2>&1 ||
		log "fdisk: $(tail -n 3 /tmp/fdisk.out)"
	blockdev --rereadpt "$1" 2>/dev/null || true
	mdev -s 2>/dev/null || true
	for p in "${1}1" "${1}p1"; do
		[ -b "$p" ] && echo "$p ${p%1}2" && return 0
	done
	fail "cannot partition $1: $(tr '\n' ' ' < /proc/partitions)"
}

# table LABEL DISK: set up pool, volume and dm-linear on DISK, print a table.
table() {
	set -- "$1" $(halves "$2")
	label=$1 SSD=$2
	export SSD
	log "$label: pool SSD $2 ($(sectors "$2") sectors), dm-linear on $3 ($(sectors "$3") sectors)"
	LIN=$(make_linear lin "$3" "$(sectors "$3")" 0)
	make_pool pool 2048 || fail pool
	dmsetup message pool 0 migration off
	dmsetup message pool 0 set seq_cutoff 0
	make_volume pool 1 vm1 262144 >/dev/null || fail vm1
	dd if=/dev/zero of=/dev/mapper/vm1 bs=1M count=128 oflag=direct 2>/dev/null
	dd if=/dev/zero of="$LIN" bs=1M count=128 oflag=direct 2>/dev/null
	check "$label: every chunk of the volume is on the SSD" test "$(vol_ssd vm1)" -eq 128
	bench ""
	bench "$label"
	bench ""
	bench "| workload | dm-linear IOPS (median) | dm-hybrid IOPS (median) | per-round ratio median | IQR | CPU/IO ratio median | rounds |"
	bench "|---|---|---|---|---|---|---|"
	for w in randread randwrite; do
		for qd in 1 32; do
			rounds "$w" "$qd"
		done
	done
	dmsetup remove vm1
	dmsetup remove pool
	dmsetup remove lin
	dd if=/dev/zero of=$(disk meta) bs=4k count=2 oflag=direct 2>/dev/null
}

# rounds RW DEPTH: ROUNDS rounds A B B A, one table row.
rounds() {
	ls="" hs="" rs="" cs="" i=0
	while [ $i -lt "$ROUNDS" ]; do
		if [ $((i % 2)) -eq 0 ]; then
			set -- $(one "$LIN" "$1" "$2") $(one /dev/mapper/vm1 "$1" "$2") "$1" "$2"
		else
			set -- $(one /dev/mapper/vm1 "$1" "$2") $(one "$LIN" "$1" "$2") "$1" "$2"
			set -- "$3" "$4" "$1" "$2" "$5" "$6"
		fi
		[ "${1:-0}" -gt 0 ] && [ "${3:-0}" -gt 0 ] || fail "fio $5 qd$6"
		ls="$ls $1" hs="$hs $3"
		rs="$rs $(ratio "$3" "$1")"
		cs="$cs $(ratio "$(echo "$2" | tr -d .)" "$(echo "$4" | tr -d .)")"
		shift 4
		i=$((i + 1))
	done
	q=$(echo "$rs" | quart)
	bench "| 4k $1 qd$2 | $(echo "$ls" | median) | $(echo "$hs" | median) | $(echo "$q" | cut -d' ' -f2) | $(echo "$q" | cut -d' ' -f1)-$(echo "$q" | cut -d' ' -f3) | $(echo "$cs" | quart | cut -d' ' -f2) | $ROUNDS |"
	bench "4k $1 qd$2 per-round IOPS ratios:$rs; CPU/IO ratios:$cs"
}

table "guest RAM disk (brd)" /dev/ram0
table "virtio SSD disk (host file)" "$(readlink -f "$(disk ssd)")"
pass
