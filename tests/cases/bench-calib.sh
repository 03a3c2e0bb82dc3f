#!/bin/sh
# SPDX-License-Identifier: GPL-2.0-only
# Benchmark, not a test: the calibration table of the emulated devices.
# SSD = dm-hddsim's flash model (fixed read/write latency + transfer, one
# request at a time) over a guest RAM disk; HDD = dm-hddsim's seek-aware
# 7200 rpm model over another RAM disk.  Both are models so that the emulated CPU
# does not set the SSD's speed.  Random 4 KiB, sequential 4 KiB and 512 KiB,
# read and write, queue depth 1 and 16, on each device, and the SSD/HDD
# ratios beside the paper's.  The two devices alternate job by job, so
# both see the same host load.  Absolute figures are emulation figures,
# not hardware: only the ratios mean something.
# kernels: debian
# tier: bench
# timeout: 1200
# shellcheck disable=SC2046 # fio_terse fields are split on purpose
. /lib/dmh/guest.sh
. /lib/dmh/bench.sh

[ -f /lib/dmh/bench/config ] && . /lib/dmh/bench/config
RT=${CALIB_RUNTIME:-6}
bench_ram 2 512 || fail "brd"
SSD=$(make_bench_ssd ssd /dev/ram0) || fail "ssd model"
HDD=$(make_bench_hdd hdd /dev/ram1) || fail "hddsim"
# Data in place first, so reads find written blocks on both.
for d in "$SSD" "$HDD"; do
	fio_terse --filename="$d" --rw=write --bs=1M --iodepth=4 --size=512M >/dev/null
done

# paper: SSD/HDD ratios (random 4 KiB: 35x read, 40x write; sequential:
# about 4x at 4 KiB, 2x at 512 KiB)
paper() {
	case $1 in
	randread) echo 35 ;; randwrite) echo 40 ;;
	*) [ "$2" = 4k ] && echo 4 || echo 2 ;;
	esac
}

bench "| job | QD | SSD IOPS | HDD IOPS | SSD/HDD | paper | SSD p50/p99 us | HDD p50/p99 us | HDD media/buffered ios |"
bench "|---|---|---|---|---|---|---|---|---|"
for job in randread:4k randwrite:4k read:4k write:4k read:512k write:512k; do
	rw=${job%%:*} bs=${job#*:}
	for qd in 1 16; do
		s0=$(dmsetup status hdd)
		set -- $(fio_terse --filename="$SSD" --rw="$rw" --bs="$bs" --iodepth="$qd" \
			--size=512M --time_based --runtime="$RT" --randseed=7)
		case $rw in *read) si=$1 sl="$3/$4" ;; *) si=$5 sl="$7/$8" ;; esac
		set -- $(fio_terse --filename="$HDD" --rw="$rw" --bs="$bs" --iodepth="$qd" \
			--size=512M --time_based --runtime="$RT" --randseed=7)
		case $rw in *read) hi=$1 hl="$3/$4" ;; *) hi=$5 hl="$7/$8" ;; esac
		s1=$(dmsetup status hdd)
		m=$(( $(echo "$s1" | awk '{ print $6 }') - $(echo "$s0" | awk '{ print $6 }') ))
		b=$(( $(echo "$s1" | awk '{ print $7 }') - $(echo "$s0" | awk '{ print $7 }') ))
		[ -n "$si" ] && [ -n "$hi" ] && [ "$hi" -gt 0 ] || fail "fio $rw $bs qd$qd"
		bench "| $rw $bs | $qd | $si | $hi | $(ratio "$si" "$hi")x | $(paper "$rw" "$bs")x | $sl | $hl | $m/$b |"
	done
done
bench "HDD model: $(dmsetup table hdd)"
bench "SSD model: $(dmsetup table ssd)"
dmsetup remove hdd
dmsetup remove ssd
pass
