#!/bin/sh
# SPDX-License-Identifier: GPL-2.0-only
# Benchmark, not a test: the calibration table of the emulated devices.
# SSD = dm-hddsim's flash model (fixed read/write latency + transfer, one
# request at a time) over a guest RAM disk; HDD = dm-hddsim's seek-aware
# 7200 rpm model over another RAM disk.  Both are models so that the emulated CPU
# does not set the SSD's speed.  Random 4 KiB, sequential 4 KiB and 512 KiB,
# read and write, queue depth 1 and 16, on each device, and the SSD/HDD
# ratios beside the paper's.  The SSD's twelve jobs run in one fio (a fio
# start costs more wall time under TCG than a short job), the HDD's one by
# one (with its model's counters per job); under -icount the host's load
# does not reach guest time, so they need not alternate.  Absolute figures
# are emulation figures, not hardware: only the ratios mean something.
# kernels: debian
# tier: bench
# timeout: 1200
# shellcheck disable=SC2046 # fio_terse fields are split on purpose
. /lib/dmh/guest.sh
. /lib/dmh/bench.sh

[ -f "$BENCH_DATA/config" ] && . "$BENCH_DATA/config"
# Seconds of guest time per job (the HDD's; the SSD's may be shorter:
# its jobs keep the guest CPU busy, so they set the wall time, while the
# HDD's mostly wait, which costs no wall time under sleep=off) and the
# size of each device.  The HDD model's seek is a function of distance /
# device length, so a smaller device keeps its random and sequential
# costs (only the track buffer's 4 MiB covers more of it).
RT=${CALIB_RUNTIME:-6}
SRT=${CALIB_SSD_RUNTIME:-$RT}
MB=${CALIB_MB:-512}
bench_ram 2 "$MB" || fail "brd"
SSD=$(make_bench_ssd ssd /dev/ram0) || fail "ssd model"
HDD=$(make_bench_hdd hdd /dev/ram1) || fail "hddsim"
# Data in place first, so reads find written blocks on both.
fio_terse_jobs --rw=write --bs=1M --iodepth=4 --size="${MB}M" \
	--name=s --filename="$SSD" --name=h --stonewall --filename="$HDD" >/dev/null
JOBS="randread:4k randwrite:4k read:4k write:4k read:512k write:512k"
sj=""
for job in $JOBS; do
	for qd in 1 16; do
		sj="$sj --name=${job%%:*}-${job#*:}-$qd --stonewall --rw=${job%%:*} --bs=${job#*:} --iodepth=$qd"
	done
done
# shellcheck disable=SC2086 # sj is a list of options
fio_terse_jobs --filename="$SSD" --size="${MB}M" --time_based --runtime="$SRT" \
	--randseed=7 $sj > /tmp/ssd.terse
[ "$(wc -l < /tmp/ssd.terse)" -eq 12 ] || fail "fio (SSD jobs): $(wc -l < /tmp/ssd.terse) results"
bench "devices: ${MB} MiB each; ${SRT} s (SSD) and ${RT} s (HDD) of guest time per job"

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
k=0
for job in $JOBS; do
	rw=${job%%:*} bs=${job#*:}
	for qd in 1 16; do
		k=$((k + 1))
		s0=$(dmsetup status hdd)
		set -- $(sed -n "${k}p" /tmp/ssd.terse)
		case $rw in *read) si=$1 sl="$3/$4" ;; *) si=$5 sl="$7/$8" ;; esac
		set -- $(fio_terse --filename="$HDD" --rw="$rw" --bs="$bs" --iodepth="$qd" \
			--size="${MB}M" --time_based --runtime="$RT" --randseed=7)
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
