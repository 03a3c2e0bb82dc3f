#!/bin/sh
# SPDX-License-Identifier: GPL-2.0-only
# Benchmark, not a test: dm-hybrid beside the other set-ups a host admin
# could pick, in one VM run on the same emulated disks (SSD = plain virtio
# disk, HDD = dm-hddsim), with 1 to 4 VM volumes at once.  Set-ups: HDD
# only and SSD only (dm-linear), dm-hybrid (SSD = 50 % of the working set)
# with migration on and off, dm-cache smq writeback and bcache writeback
# with the same SSD size.  Workloads: trace replays (fio iologs made on the
# host by bench/trace2iolog.py, in /lib/dmh/bench), an OLTP-like job, a
# zipfian random read and a sequential scan.  Prints DMH-BENCH table rows;
# asserts nothing but that the runs worked.  bench/run.sh sets the size
# of the run in /lib/dmh/bench/config.
# kernels: debian
# disks: meta=256M ssd=1200M hdd=4G
# tier: bench
# timeout: 7200
# shellcheck disable=SC2046 # fio_terse fields are split on purpose
. /lib/dmh/guest.sh
. /lib/dmh/hybrid.sh
. /lib/dmh/bench.sh

B=/lib/dmh/bench
# defaults: the quick run
VMS="1 2"
SETUPS="hdd ssd hybrid hybrid-nomig dmcache bcache"
WORKLOADS="websearch oltp"
PASSES=2
VOL_MB=256
QD=8
[ -f $B/config ] && . $B/config
log "set-ups: $SETUPS"
VOL=$((VOL_MB * 2048))
HALF=$((VOL / 2))

load_dm_hybrid
need_mod dm-cache-smq
need_mod bcache
HDDDEV=$(make_hdd hddsim "$(disk hdd)") || fail "hddsim"
SSDDEV=$(disk ssd)
METADEV=$(disk meta)
bench "config: vms='$VMS' setups='$SETUPS' workloads='$WORKLOADS' passes=$PASSES vol=${VOL_MB}MiB qd=$QD"
bench "hddsim: $(dmsetup table hddsim)"

wipe() { dd if=/dev/zero of="$1" bs=1M count="${2:-4}" oflag=direct 2>/dev/null; }

# --- set-ups: setup_<name> N makes /dev/mapper/vm1..vmN; teardown_<name> N
setup_hdd() {
	i=1
	while [ $i -le "$1" ]; do
		make_linear vm$i "$HDDDEV" $VOL $(((i - 1) * VOL)) >/dev/null || return 1
		i=$((i + 1))
	done
}
setup_ssd() {
	i=1
	while [ $i -le "$1" ]; do
		make_linear vm$i "$SSDDEV" $VOL $(((i - 1) * VOL)) >/dev/null || return 1
		i=$((i + 1))
	done
}
rm_vms() {
	i=1
	while [ $i -le "$1" ]; do dmsetup remove vm$i; i=$((i + 1)); done
}
teardown_hdd() { rm_vms "$1"; }
teardown_ssd() { rm_vms "$1"; }

setup_hybrid() {
	wipe "$METADEV" 16
	make_linear hssd "$SSDDEV" $(($1 * HALF)) 0 >/dev/null || return 1
	make_linear hhdd "$HDDDEV" $(($1 * VOL)) 0 >/dev/null || return 1
	META=$METADEV SSD=/dev/mapper/hssd HDD=/dev/mapper/hhdd make_pool pool 2048 >/dev/null || return 1
	[ "${NOMIG:-}" ] && migration pool off
	i=1
	while [ $i -le "$1" ]; do
		make_volume pool $i vm$i $VOL >/dev/null || return 1
		i=$((i + 1))
	done
}
teardown_hybrid() { rm_vms "$1"; dmsetup remove pool; dmsetup remove hssd hhdd; }
setup_hybrid_nomig() { NOMIG=1 setup_hybrid "$1"; }
teardown_hybrid_nomig() { teardown_hybrid "$1"; }

# dm-cache cannot share one cache among origins: each VM gets its own
# cache of half its size (same SSD in total).  smq, writeback, 64 KiB
# blocks, migration_threshold left at its default (2048 sectors).
setup_dmcache() {
	i=1
	while [ $i -le "$1" ]; do
		make_linear cmeta$i "$METADEV" 16384 $(((i - 1) * 16384)) >/dev/null || return 1
		wipe /dev/mapper/cmeta$i 1
		make_linear cdata$i "$SSDDEV" $HALF $(((i - 1) * HALF)) >/dev/null || return 1
		make_linear corig$i "$HDDDEV" $VOL $(((i - 1) * VOL)) >/dev/null || return 1
		dmsetup create vm$i --table "0 $VOL cache /dev/mapper/cmeta$i /dev/mapper/cdata$i /dev/mapper/corig$i 128 1 writeback smq 0" || return 1
		dmsetup mknodes vm$i
		i=$((i + 1))
	done
	log "dm-cache set-up: $(dmsetup ls | tr '\n' ' ')"
}
teardown_dmcache() {
	i=1
	while [ $i -le "$1" ]; do
		dmsetup remove vm$i; dmsetup remove cmeta$i cdata$i corig$i
		i=$((i + 1))
	done
}

# bcache: one cache set on the SSD slice shared by every VM's backing
# device; writeback; sequential_cutoff at its default (4 MiB); congestion
# bypass off (as in ANCHORS.md).
setup_bcache() {
	make_linear bcssd "$SSDDEV" $(($1 * HALF)) 0 >/dev/null || return 1
	wipe /dev/mapper/bcssd
	make-bcache --bucket 64k -C /dev/mapper/bcssd >/dev/null 2>&1 || return 1
	echo /dev/mapper/bcssd > /sys/fs/bcache/register 2>/dev/null || true
	i=1
	while [ $i -le "$1" ]; do
		make_linear bchdd$i "$HDDDEV" $((VOL + 16)) $(((i - 1) * (VOL + 16))) >/dev/null || return 1
		wipe /dev/mapper/bchdd$i 1
		make-bcache --writeback -B /dev/mapper/bchdd$i >/dev/null 2>&1 || return 1
		echo /dev/mapper/bchdd$i > /sys/fs/bcache/register 2>/dev/null || true
		i=$((i + 1))
	done
	sleep 1
	cset=""
	for c in /sys/fs/bcache/*-*; do [ -d "$c" ] && cset=${c##*/}; done
	[ -n "$cset" ] || return 1
	echo 0 > "/sys/fs/bcache/$cset/congested_read_threshold_us"
	echo 0 > "/sys/fs/bcache/$cset/congested_write_threshold_us"
	i=1
	for b in /sys/block/bcache*; do
		[ -d "$b" ] || continue
		echo "$cset" > "$b/bcache/attach" 2>/dev/null || true
		echo writeback > "$b/bcache/cache_mode"
		dmsetup create vm$i --table "0 $VOL linear /dev/${b##*/} 0" || return 1
		dmsetup mknodes vm$i
		i=$((i + 1))
	done
	[ $i -gt "$1" ]
}
teardown_bcache() {
	rm_vms "$1"
	for b in /sys/block/bcache*; do
		[ -d "$b" ] || continue
		echo 1 > "$b/bcache/detach" 2>/dev/null || true
		echo 1 > "$b/bcache/stop"
	done
	for c in /sys/fs/bcache/*-*; do [ -d "$c" ] && echo 1 > "$c/stop"; done
	sleep 2
	i=1
	while [ $i -le "$1" ]; do dmsetup remove bchdd$i 2>/dev/null; i=$((i + 1)); done
	dmsetup remove bcssd 2>/dev/null || { sleep 3; dmsetup remove bcssd; }
}

# --- hit ratio / residency / migrated bytes, per set-up ---------------------
# counters SETUP N: "<ssd-served ios> <all ios> <moved KiB> <resident %>"
counters() {
	case $1 in
	hybrid*)
		s=0 h=0 r=0 m=0 i=1
		while [ $i -le "$2" ]; do
			s=$((s + $(vol_ssd_ios vm$i))) h=$((h + $(vol_hdd_ios vm$i)))
			r=$((r + $(vol_ssd_n vm$i))) m=$((m + $(vol_mapped_n vm$i)))
			i=$((i + 1))
		done
		echo "$s $((s + h)) $(($(pool_moved_sectors pool) / 2)) $((m ? r * 100 / m : 0))"
		;;
	dmcache)
		i=1 hit=0 all=0 mv=0 used=0 tot=0 nv=$2
		while [ $i -le "$nv" ]; do
			set -- $(dmsetup status vm$i)
			hit=$((hit + $8 + ${10})) all=$((all + $8 + $9 + ${10} + ${11}))
			mv=$((mv + (${12} + ${13}) * 64))
			used=$((used + ${7%/*})) tot=$((tot + ${7#*/}))
			i=$((i + 1))
		done
		echo "$hit $all $mv $((tot ? used * 100 / tot : 0))"
		;;
	bcache)
		hit=0 all=0
		for b in /sys/block/bcache*/bcache/stats_total; do
			h=$(cat "$b/cache_hits") mi=$(cat "$b/cache_misses") bm=$(cat "$b/cache_bypass_misses")
			bh=$(cat "$b/cache_bypass_hits")
			hit=$((hit + h + bh)) all=$((all + h + mi + bh + bm))
		done
		echo "$hit $all - -"
		;;
	*) echo "0 0 - -" ;;
	esac
}

# --- workloads: job_<name> DEV SEED prints fio_terse output -----------------
job_oltp() {	# the paper's OLTP: 25 % reads, 512 B to 2 KiB, write heavy
	fio_terse --filename="$1" --rw=randrw --rwmixread=25 --bsrange=512-2k \
		--random_distribution=zipf:1.1 --iodepth=$QD --number_ios="${OLTP_IOS:-3000}" \
		--size=${VOL_MB}M --randseed="$2"
}
job_zipf() {
	fio_terse --filename="$1" --rw=randread --bs=8k --random_distribution=zipf:1.1 \
		--iodepth=$QD --number_ios="${ZIPF_IOS:-3000}" --size=${VOL_MB}M --randseed="$2"
}
job_scan() {
	fio_terse --filename="$1" --rw=read --bs=512k --iodepth=4 --size=${VOL_MB}M
}
job_trace() {	# job_trace NAME DEV
	fio_terse --filename="$2" --read_iolog=$B/$1.iolog --replay_redirect="$2" \
		--iodepth=$QD
}

run_wl() {	# run_wl WORKLOAD DEV SEED
	case $1 in
	oltp|zipf|scan) job_"$1" "$2" "$3" ;;
	*) job_trace "$1" "$2" ;;
	esac
}

# pass WORKLOAD SETUP N PASSNO: all N VMs at once; one table row.
one_pass() {
	wl=$1 su=$2 n=$3 p=$4
	c0=$(counters "$su" "$n")
	t0=$(uptime_cs)
	i=1
	while [ $i -le "$n" ]; do
		run_wl "$wl" /dev/mapper/vm$i $((i * 7 + p)) > /tmp/res.$i &
		i=$((i + 1))
	done
	wait
	t1=$(uptime_cs)
	c1=$(counters "$su" "$n")
	tp="" lat="" ms=0 i=1
	while [ $i -le "$n" ]; do
		set -- $(cat /tmp/res.$i)
		[ -n "${9:-}" ] && [ "$9" -gt 0 ] || { echo "fio failed: $wl $su vm$i"; return 1; }
		tp="$tp $(($1 + $5))"
		[ "$9" -gt $ms ] && ms=$9
		lat="$lat $3/$4r,$7/$8w"
		i=$((i + 1))
	done
	set -- $c0
	a0=$1 b0=$2 m0=$3
	set -- $c1
	hit=$(awk -v a=$(($1 - a0)) -v b=$(($2 - b0)) 'BEGIN { if (b > 0) printf "%.0f%%", 100 * a / b; else print "-" }')
	mig=-
	[ "$3" != - ] && mig=$(( ($3 - m0) / 1024 ))MiB
	bench "| $wl | $n | $su | $p | $ms | $((t1 - t0)) | $(echo "$tp" | awk '{ s = 0; for (i = 1; i <= NF; i++) s += $i; print s }') | $(echo $lat) | $hit | ${4}% | $mig | $(jain $tp) |"
}

prefill() {	# make every VM's whole volume written once
	i=1
	while [ $i -le "$1" ]; do
		fio_terse --filename=/dev/mapper/vm$i --rw=write --bs=1M --iodepth=4 \
			--size=${VOL_MB}M >/dev/null &
		i=$((i + 1))
	done
	wait
}

bench "| workload | VMs | set-up | pass | exec time ms (slowest VM) | wall cs | IOPS (sum) | per-VM p50/p99 us | SSD hit | SSD resident | migrated | Jain (IOPS) |"
bench "|---|---|---|---|---|---|---|---|---|---|---|---|"
for n in $VMS; do
	for su in $SETUPS; do
		fn=$(echo "$su" | tr - _)
		for wl in $WORKLOADS; do
			setup_"$fn" "$n" || fail "set-up $su with $n VMs"
			prefill "$n"
			[ "$su" = bcache ] && sleep 2
			p=1
			while [ $p -le "$PASSES" ]; do
				one_pass "$wl" "$su" "$n" $p || fail "pass $wl $su $n $p"
				p=$((p + 1))
			done
			teardown_"$fn" "$n" || fail "teardown $su"
		done
	done
done
# bcache may still hold its last backing device for a moment
n=0
until dmsetup remove hddsim 2>/dev/null || [ $n -ge 10 ]; do sleep 1; n=$((n + 1)); done
pass
