#!/bin/sh
# SPDX-License-Identifier: GPL-2.0-only
# Benchmark, not a test: why dm-hybrid is slow on bench-setups' OLTP-like
# job and on the sequential scan (results: bench/results/*-oltp-study).
# Same emulated disks as bench-setups (dm-hddsim flash and 7200 rpm models
# over guest RAM disks), one 64 MiB volume, SSD = half of it.
# 1. oltp and zipf on dm-hybrid with several chunk sizes and policy knobs,
#    PASSES passes each on a prefilled volume: execution time, SSD share;
#    SSD only and HDD only for reference.
# 2. the 512 KiB sequential scan through dm-linear on the HDD model and
#    through dm-hybrid (all chunks on the HDD after the sequential
#    prefill): what the HDD model saw (requests, average size, media vs
#    buffered, seek and rotation time).
# Prints DMH-BENCH rows; asserts nothing but that the runs worked.
# kernels: debian
# tier: bench
# timeout: 3600
# shellcheck disable=SC2046 # fio_terse / status fields are split on purpose
. /lib/dmh/guest.sh
. /lib/dmh/hybrid.sh
. /lib/dmh/bench.sh

B=/lib/dmh/bench
VOL_MB=64
PASSES=3
QD=8
OLTP_IOS=300
ZIPF_IOS=300
# "chunk sectors:knob=value,knob=value" (knobs: pool set messages)
VARIANTS="2048: 512: 128: 2048:promote_threshold=1 512:promote_threshold=1 128:promote_threshold=1"
STUDY_WL="oltp zipf"
SCAN_VARIANTS="linear 2048: 128: 2048:seq_cutoff=0"
[ -f $B/study.config ] && . $B/study.config
VOL=$((VOL_MB * 2048))
HALF=$((VOL / 2))

load_dm_hybrid
bench "config: vol=${VOL_MB}MiB passes=$PASSES qd=$QD oltp_ios=$OLTP_IOS zipf_ios=$ZIPF_IOS"
bench_models $((VOL_MB + 16))
# dmdev NAME: /sys/dev/block/<major>:<minor> of a dm device
dmdev() { echo "/sys/dev/block/$(dmsetup info -c --noheadings -o major,minor --separator : "$1" | tr -d ' ')"; }

# setup VARIANT: /dev/mapper/vm1 on the set-up the variant names
setup() {
	case $1 in
	hdd|linear) make_linear vm1 "$HDDDEV" $VOL 0 >/dev/null ;;
	ssd) make_linear vm1 "$SSDDEV" $VOL 0 >/dev/null ;;
	*)
		wipe "$METADEV" 16
		make_linear hssd "$SSDDEV" $HALF 0 >/dev/null || return 1
		make_linear hhdd "$HDDDEV" $VOL 0 >/dev/null || return 1
		META=$METADEV SSD=/dev/mapper/hssd HDD=/dev/mapper/hhdd \
			make_pool pool "${1%%:*}" >/dev/null || return 1
		for kv in $(echo "${1#*:}" | tr , ' '); do
			pool_set pool "${kv%%=*}" "${kv#*=}" || return 1
		done
		make_volume pool 1 vm1 $VOL >/dev/null
		;;
	esac
}
teardown() {
	dmsetup remove vm1
	case $1 in
	hdd|linear|ssd) ;;
	*) dmsetup remove pool && dmsetup remove hssd hhdd ;;
	esac
}
prefill() {
	fio_terse --filename=/dev/mapper/vm1 --rw=write --bs=1M --iodepth=4 \
		--size=${VOL_MB}M >/dev/null
}
# ssd/hdd ios of the volume (0 0 off dm-hybrid)
vol_ios() {
	case $1 in
	hdd|linear|ssd) echo "0 0" ;;
	*) echo "$(vol_ssd_ios vm1) $(vol_hdd_ios vm1)" ;;
	esac
}

job() {	# job WORKLOAD SEED: the same jobs as bench-setups
	case $1 in
	oltp) fio_terse --filename=/dev/mapper/vm1 --rw=randrw --rwmixread=25 \
		--bsrange=512-2k --random_distribution=zipf:1.1 --iodepth=$QD \
		--number_ios=$OLTP_IOS --size=${VOL_MB}M --randseed="$2" ;;
	zipf) fio_terse --filename=/dev/mapper/vm1 --rw=randread --bs=8k \
		--random_distribution=zipf:1.1 --iodepth=$QD \
		--number_ios=$ZIPF_IOS --size=${VOL_MB}M --randseed="$2" ;;
	esac
}

# --- 1. chunk size and knobs -------------------------------------------
bench "| workload | set-up | pass | exec ms | IOPS | SSD share | SSD chunks / mapped | migrated MiB | promotions |"
bench "|---|---|---|---|---|---|---|---|---|"
for wl in $STUDY_WL; do
	for v in ssd hdd $VARIANTS; do
		setup "$v" || fail "set-up $v"
		prefill
		p=1
		while [ $p -le $PASSES ]; do
			set -- $(vol_ios "$v")
			s0=$1 h0=$2
			set -- $(job "$wl" $((7 + p)))
			[ "${9:-0}" -gt 0 ] || fail "fio $wl $v pass $p"
			ms=$9 iops=$(($1 + $5))
			set -- $(vol_ios "$v")
			share=$(ratio $((100 * ($1 - s0))) $(($1 - s0 + $2 - h0)))
			res="-" mig="-" pro="-"
			case $v in
			hdd|ssd) share="-" ;;
			*)
				res="$(vol_ssd_n vm1)/$(vol_mapped_n vm1)"
				mig=$(($(pool_moved_sectors pool) / 2048))
				pro=$(pool_promotions pool)
				;;
			esac
			bench "| $wl | $v | $p | $ms | $iops | $share% | $res | $mig | $pro |"
			p=$((p + 1))
		done
		case $v in
		hdd|ssd) ;;
		*) log "placement $v: $(pool_msg pool placement_map 1)" ;;
		esac
		teardown "$v" || fail "teardown $v"
	done
done

# --- 2. the scan ---------------------------------------------------------
# hddsim status: reads writes media buffered busy_ms seek_ms rot_ms
hstat() { dmsetup status hddsim | cut -d' ' -f4-; }
# the HDD-side block device's reads and read sectors (/sys/block/*/stat)
bstat() { awk '{ print $1, $3 }' "$(dmdev "$1")/stat"; }
bench ""
bench "| scan 512k | QD | exec ms | MB/s | HDD model reqs | avg KiB | media / buffered | seek ms | rotation ms | busy ms | max_sectors_kb vol/hdd |"
bench "|---|---|---|---|---|---|---|---|---|---|---|"
for v in $SCAN_VARIANTS; do
	setup "$v" || fail "set-up $v (scan)"
	prefill
	hd=vm1
	case $v in linear) ;; *) hd=hhdd ;; esac
	for qd in 4 1; do
		set -- $(hstat)
		r0=$1 m0=$3 b0=$4 bu0=$5 se0=$6 ro0=$7
		set -- $(bstat $hd)
		n0=$1 sec0=$2
		set -- $(fio_terse --filename=/dev/mapper/vm1 --rw=read --bs=512k \
			--iodepth=$qd --size=${VOL_MB}M)
		[ "${9:-0}" -gt 0 ] || fail "scan $v"
		ms=$9 kbs=$2
		set -- $(bstat $hd)
		n=$(($1 - n0)) sec=$(($2 - sec0))
		set -- $(hstat)
		bench "| $v | $qd | $ms | $((kbs / 1024)) | $(($1 - r0)) ($n at $hd) | $(ratio $((sec / 2)) $n) | $(($3 - m0)) / $(($4 - b0)) | $(($6 - se0)) | $(($7 - ro0)) | $(($5 - bu0)) | $(cat "$(dmdev vm1)/queue/max_sectors_kb")/$(cat "$(dmdev $hd)/queue/max_sectors_kb") |"
	done
	case $v in
	linear) ;;
	*) log "placement $v: $(pool_msg pool placement_map 1)" ;;
	esac
	teardown "$v" || fail "teardown $v (scan)"
done
dmsetup remove hddsim
dmsetup remove ssdsim
pass
