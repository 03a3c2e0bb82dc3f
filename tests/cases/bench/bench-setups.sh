#!/bin/sh
# SPDX-License-Identifier: GPL-2.0-only
# Benchmark, not a test: dm-hybrid beside the other set-ups a host admin
# could pick, in one VM run on the same emulated disks (SSD = dm-hddsim's
# flash model, HDD = dm-hddsim's 7200 rpm model, each over a guest RAM
# disk, and the metadata on a third; see bench-calib), with 1 to 4 VM
# volumes at once.  Set-ups: HDD only and SSD only (dm-linear), dm-hybrid
# with migration on and off, the same with 256 KiB chunks instead of 1 MiB
# (hybrid-256k), dm-hybrid with half its SSD as a block tier (hybrid-blk),
# the same with write staging (hybrid-stage), and with its staging log on
# top (hybrid-persist: flushes record the staged blocks, write nothing back),
# dm-cache smq writeback, bcache writeback and dm-writeboost
# (built by bench/writeboost-build.sh), every one with the same SSD bytes:
# SSD_PCT per cent of each workload's own 4 KiB footprint per VM.
# Workloads: trace replays (fio iologs made on the host by
# bench/trace2iolog.py, in $BENCH_DATA, each on a volume of its compacted
# size, measured per tenth), an OLTP-like job, a zipfian random read, the
# same whose hot set moves halfway (shift) and a sequential scan, and
# "mixed" (issue 18 item 4): VM K runs the K-th workload of MIX (the list
# repeated for more VMs), each on a volume the size of the mix's largest,
# with one table row per VM besides the usual one (the slowest VM).  Pass 1
# starts cold, the data on the HDD (dm-hybrid's volumes written once
# before it; see prepare).  A second table follows
# dm-hybrid and the caches from a cold start (zipf reads in phases):
# time to reach 90 % of their steady state.  Prints DMH-BENCH table rows;
# asserts nothing but that the runs worked.  bench/run.sh sets the size
# of the run in $BENCH_DATA/config (tests/lib/bench.sh).
# kernels: debian
# tier: bench
# timeout: 7200
# shellcheck disable=SC2046 # fio_terse fields are split on purpose
. /lib/dmh/guest.sh
. /lib/dmh/hybrid.sh
. /lib/dmh/bench.sh

B=$BENCH_DATA
# defaults: the quick run
VMS="1 2"
SETUPS="hdd ssd hybrid hybrid-256k hybrid-nomig hybrid-blk hybrid-persist dmcache bcache writeboost"
WORKLOADS="websearch oltp"
PASSES=2
VOL_MB=256
QD=8
WARM_SETUPS="ssd hybrid dmcache bcache writeboost"
WARM_PHASES=6
WARM_SECS=2
SSD_PCT=50
BLK_PCT=50
# mixed: VM K's workload; MIX_PRIO: the priority of the VMs running oltp in
# hybrid-persist-prio (bench/run.sh writes both from BENCH_MIX, BENCH_MIX_PRIO)
MIX="websearch oltp msr scan"
MIX_PRIO=high
[ -f $B/config ] && . $B/config
[ "$WARM_SETUPS" = none ] && WARM_SETUPS=""
log "set-ups: $SETUPS"
VOL=$((VOL_MB * 2048))

load_dm_hybrid
need_mod dm-cache-smq
need_mod bcache
case " $SETUPS $WARM_SETUPS " in
*" writeboost "*) need_mod dm-writeboost ||
	fail "dm-writeboost: not in the initramfs (bench/writeboost-build.sh builds it)" ;;
esac
# Each disk needs at most (largest VM count) x VOL_MB (SSD only, HDD only,
# bcache's backing devices with their 8 KiB headers).
NMAX=1
for n in $VMS; do [ "$n" -gt "$NMAX" ] && NMAX=$n; done
bench "config: vms='$VMS' setups='$SETUPS' workloads='$WORKLOADS' mix='$MIX' mix_prio=$MIX_PRIO passes=$PASSES vol=${VOL_MB}MiB qd=$QD ssd_pct='$SSD_PCT' blk_pct=$BLK_PCT"

# wl_geom WL: the workload's volume WVOL (sectors) and its footprints in
# bytes: FP4K (distinct 4 KiB blocks), FP256K and FP1M (distinct 256 KiB
# and 1 MiB chunks).  A trace: its .meta (trace2iolog.py), on a volume of
# its compacted size; the synthetic jobs address the whole VOL_MB volume.
# mixed: the largest of the mix's volumes, and the mean of its footprints.
wl_geom() {
	if [ "$1" = mixed ]; then
		mix_geom
	elif [ -f "$B/$1.meta" ]; then
		set -- $(cat "$B/$1.meta")
		# shellcheck disable=SC2017 # whole MiB on purpose
		WVOL=$((($2 + 1048575) / 1048576 * 2048))
		FP4K=$4 FP256K=${5:-$2} FP1M=${6:-$2}
	else
		WVOL=$((VOL_MB * 2048))
		FP4K=$((VOL_MB * 1048576)) FP256K=$FP4K FP1M=$FP4K
	fi
}
mix_geom() {
	_v=0 _a=0 _b=0 _c=0 _m=0
	for _w in $MIX; do
		wl_geom "$_w"
		[ "$WVOL" -gt $_v ] && _v=$WVOL
		_a=$((_a + FP4K)) _b=$((_b + FP256K)) _c=$((_c + FP1M)) _m=$((_m + 1))
	done
	WVOL=$_v FP4K=$((_a / _m)) FP256K=$((_b / _m)) FP1M=$((_c / _m))
}
# vm_wl WORKLOAD K: what VM K runs: WORKLOAD, or for mixed the K-th of MIX
# (from the start again past its end).
vm_wl() {
	[ "$1" = mixed ] || { echo "$1"; return; }
	set -- "$2" $MIX
	eval "echo \${$((($1 - 1) % ($# - 1) + 2))}"
}
# ssd_geom PCT: SSDV, each VM's SSD share in sectors: PCT % of FP4K in
# whole MiB (dm-hybrid's chunks), at least 4 MiB (bcache's 1024 buckets).
ssd_geom() {
	# shellcheck disable=SC2017 # whole MiB on purpose
	SSDV=$((FP4K * $1 / 100 / 1048576 * 2048))
	[ "$SSDV" -ge 8192 ] || SSDV=8192
}
# ssd_cols PCT SETUP: the row's SSD columns: PCT, MiB per VM, % of the 4 KiB
# footprint and of the footprint at the pool's chunk size (1 MiB; 256 KiB
# for hybrid-256k).
ssd_cols() {
	case $2 in
	hdd|ssd) echo "- | - | - | -"; return ;;
	esac
	_c=$FP1M
	[ "$2" = hybrid-256k ] && _c=$FP256K
	awk -v s=$((SSDV * 512)) -v f="$FP4K" -v c="$_c" -v p="$1" 'BEGIN {
		printf "%s | %.1f | %.1f | %.1f", p, s / 1048576, 100 * s / f, 100 * s / c }'
}
# busy_cs: the guest's busy CPU time (user, nice, system, irq, softirq) in
# centiseconds.  Under -icount busy guest time is instructions executed,
# which is what a step costs the host (an idle guest's time is skipped with
# sleep=off): the "cost" log lines say where a run's wall time goes.
busy_cs() { awk '/^cpu / { print $2 + $3 + $4 + $7 + $8; exit }' /proc/stat; }
# cost WHAT: logs WHAT's busy and elapsed guest time since the last call.
cost() {
	_b=$(busy_cs) _u=$(uptime_cs)
	log "cost: $1: busy $((_b - ${COST_B:-0})) cs, guest time $((_u - ${COST_U:-0})) cs"
	COST_B=$_b COST_U=$_u
}

# The disks hold the largest volume once per VM (bcache: 8 KiB more each).
MAXMB=$VOL_MB
for wl in $WORKLOADS; do
	wl_geom "$wl"
	[ $((WVOL / 2048)) -gt "$MAXMB" ] && MAXMB=$((WVOL / 2048))
done
bench_models $((NMAX * (MAXMB + 1) + 16))
cost "boot and models"

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
	make_linear hssd "$SSDDEV" $(($1 * SSDV)) 0 >/dev/null || return 1
	make_linear hhdd "$HDDDEV" $(($1 * VOL)) 0 >/dev/null || return 1
	# shellcheck disable=SC2086 # no feature, or "block_tier <MiB>" [write_staging [persistent_staging]]
	META=$METADEV SSD=/dev/mapper/hssd HDD=/dev/mapper/hhdd make_pool pool "${CHUNK:-2048}" ${BLK:+block_tier $BLK} ${STAGE:+write_staging} ${PLOG:+persistent_staging} >/dev/null || return 1
	# Placement only: no migration, and no stream detection while the
	# volumes are first written; their prefill writes 1 MiB blocks in
	# random order (prefill), so the SSD takes a random half of the
	# chunks, first come, first served: a placement that knows nothing
	# of the workload (a sequential prefill put every chunk on the HDD,
	# and one in address order would favour the traces, which are
	# compacted to the start of the volume).  seq_cutoff is back to its
	# default before the passes (prefilled).
	if [ "${NOMIG:-}" ]; then
		migration pool off || return 1
		pool_set pool seq_cutoff 0 || return 1
	fi
	i=1
	while [ $i -le "$1" ]; do
		make_volume pool $i vm$i $VOL >/dev/null || return 1
		# hybrid-persist-prio: the VMs running oltp at priority PRIO
		if [ -n "${PRIO:-}" ] && [ "$(vm_wl "$wl" $i)" = oltp ]; then
			vol_set pool $i priority "$PRIO" || return 1
			log "vm$i (oltp): priority $PRIO"
		fi
		i=$((i + 1))
	done
}
teardown_hybrid() { rm_vms "$1"; dmsetup remove pool; dmsetup remove hssd hhdd; }
setup_hybrid_256k() { CHUNK=512 setup_hybrid "$1"; }
teardown_hybrid_256k() { teardown_hybrid "$1"; }
setup_hybrid_nomig() { NOMIG=1 setup_hybrid "$1"; }
teardown_hybrid_nomig() { teardown_hybrid "$1"; }
# hybrid-blk: BLK_PCT % of the same SSD (default half) as a block tier
# (4 KiB slots), the rest for chunks (Documentation/dm-hybrid.rst, "Block
# tier").
setup_hybrid_blk() { BLK=$(($1 * SSDV * BLK_PCT / 100 / 2048)) setup_hybrid "$1"; }
teardown_hybrid_blk() { teardown_hybrid "$1"; }
# hybrid-stage: hybrid-blk with write staging ("Write staging").
setup_hybrid_stage() { STAGE=1 setup_hybrid_blk "$1"; }
teardown_hybrid_stage() { teardown_hybrid "$1"; }
# hybrid-persist: hybrid-stage with the staging log ("Write staging").
setup_hybrid_persist() { PLOG=1 setup_hybrid_stage "$1"; }
teardown_hybrid_persist() { teardown_hybrid "$1"; }
# hybrid-persist-prio: hybrid-persist with the VMs that run oltp (mixed:
# the OLTP tenant) at priority MIX_PRIO (default high; issue 21's target:
# its p99 within 1.5x its SSD-only p99).
setup_hybrid_persist_prio() { PRIO=$MIX_PRIO setup_hybrid_persist "$1"; }
teardown_hybrid_persist_prio() { teardown_hybrid "$1"; }

# for_vms N FN: FN 1, ..., FN N; stops at the first that fails (status 1).
for_vms() {
	_k=1
	while [ $_k -le "$1" ]; do "$2" $_k || return 1; _k=$((_k + 1)); done
}
# vm_slices K SSDNAME HDDNAME: VM K's slices, its SSD share on the SSD
# and its volume's size on the HDD (the per-VM caches' layout).
vm_slices() {
	make_linear "$2" "$SSDDEV" $SSDV $((($1 - 1) * SSDV)) >/dev/null &&
		make_linear "$3" "$HDDDEV" $VOL $((($1 - 1) * VOL)) >/dev/null
}

# dm-cache cannot share one cache among origins: each VM gets its own
# cache of its SSD share (same SSD in total).  smq, writeback, 64 KiB
# blocks, migration_threshold left at its default (2048 sectors).
dmcache_vm() {	# dmcache_vm K: VM K's cache (metadata, SSD share, HDD origin)
	make_linear cmeta$1 "$METADEV" 16384 $((($1 - 1) * 16384)) >/dev/null || return 1
	wipe /dev/mapper/cmeta$1 1
	vm_slices "$1" cdata$1 corig$1 || return 1
	dmsetup create vm$1 --table "0 $VOL cache /dev/mapper/cmeta$1 /dev/mapper/cdata$1 /dev/mapper/corig$1 128 1 writeback smq 0" || return 1
	dmsetup mknodes vm$1
}
setup_dmcache() {
	for_vms "$1" dmcache_vm || return 1
	log "dm-cache set-up: $(dmsetup ls | tr '\n' ' ')"
}
dmcache_rm() { dmsetup remove vm$1; dmsetup remove cmeta$1 cdata$1 corig$1; return 0; }
teardown_dmcache() { for_vms "$1" dmcache_rm; }

# bcache: one cache set on the SSD slice shared by every VM's backing
# device; writeback; sequential_cutoff at its default (4 MiB); congestion
# bypass off (as in ANCHORS.md).
setup_bcache() {
	make_linear bcssd "$SSDDEV" $(($1 * SSDV)) 0 >/dev/null || return 1
	wipe /dev/mapper/bcssd
	# 64 KiB buckets, 16 KiB below 128 MiB of cache, 4 KiB below 32 MiB:
	# bcache refuses a cache of fewer than 1024 buckets ("nbuckets is too
	# small")
	bkt=64k
	[ $(($1 * SSDV)) -lt 262144 ] && bkt=16k
	[ $(($1 * SSDV)) -lt 65536 ] && bkt=4k
	make-bcache --bucket $bkt -C /dev/mapper/bcssd >/dev/null 2>&1 || return 1
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
	BCSET=$cset
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
	# stop, not detach: a detach first writes every dirty block back
	# (bcache's sysfs documentation), paced by its writeback rate, and
	# after 20,000 OLTP writes bcache still held its backing device at
	# the end of the wait below (quick run 2026-12-06); the data is not
	# needed, and the next set-up formats both devices anew
	for b in /sys/block/bcache*; do
		[ -d "$b" ] || continue
		echo 1 > "$b/bcache/stop"
	done
	for c in /sys/fs/bcache/*-*; do [ -d "$c" ] && echo 1 > "$c/stop"; done
	# bcache lets go of its devices asynchronously
	for d in $(i=1; while [ $i -le "$1" ]; do echo bchdd$i; i=$((i + 1)); done) bcssd; do
		t=0
		until dmsetup remove "$d" 2>/dev/null; do
			t=$((t + 1))
			[ $t -le 30 ] || { dmsetup remove "$d"; return 1; }
			sleep 1
		done
	done
}

# dm-writeboost, like dm-cache, caches one backing device per cache device:
# each VM gets its own of its SSD share (same SSD in total; its metadata is
# in the log on the same device).  Zeroing the first sector makes the ctr
# format the cache device (the package's dm-writeboost-readme.txt).
# Writeback is its only caching mode; tuned as a user would:
# writeback_threshold 70 (the readme's example: write back while the HDD is
# less than 70 % busy; the default, 0, writes back only when the log wraps)
# and read_cache_threshold 127 (the default, 0, caches no reads; 127, the
# largest, stages reads except runs of 127 or more consecutive 4 KiB blocks,
# i.e. about 508 KiB: its sequential cut-off).  The rest at its defaults.
WB_OPTS="4 writeback_threshold 70 read_cache_threshold 127"
writeboost_vm() {	# writeboost_vm K: VM K's cache, its SSD slice formatted
	vm_slices "$1" wbssd$1 wbhdd$1 || return 1
	dd if=/dev/zero of=/dev/mapper/wbssd$1 bs=512 count=1 oflag=direct 2>/dev/null || return 1
	dmsetup create vm$1 --table "0 $VOL writeboost /dev/mapper/wbhdd$1 /dev/mapper/wbssd$1 $WB_OPTS" || return 1
	dmsetup mknodes vm$1
}
setup_writeboost() {
	for_vms "$1" writeboost_vm || return 1
	log "dm-writeboost set-up: $(dmsetup status vm1)"
}
writeboost_rm() { dmsetup remove vm$1; dmsetup remove wbssd$1 wbhdd$1; return 0; }
teardown_writeboost() { for_vms "$1" writeboost_rm; }

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
		# The cache set's totals (all backing devices).  bcache folds
		# its per-I/O counters into them from a timer every 300/22 s
		# (drivers/md/bcache/stats.c), so a reading is up to 13.6 s
		# old: see bcache_hits.  Bypassed I/O is served by the HDD.
		t=/sys/fs/bcache/$BCSET/stats_total
		h=$(cat "$t/cache_hits") mi=$(cat "$t/cache_misses")
		bh=$(cat "$t/cache_bypass_hits") bm=$(cat "$t/cache_bypass_misses")
		echo "$h $((h + mi + bh + bm)) - -"
		;;
	writeboost)
		# dmsetup status: start len target, then cursor, nr_caches,
		# nr_segments, current_id, last_flushed_id, last_writeback_id,
		# nr_dirty, 16 counters indexed by write(8) | hit(4) |
		# on RAM buffer(2) | full 4 KiB(1) (fields 11 to 26), counted
		# per 4 KiB piece (writeboost splits bios at 4 KiB).  Served by
		# the cache: every write (logged to the SSD) and the read hits
		# (counters 4 to 15; 0 to 3 are the read misses).
		# Resident: the share of the log's segments written so far (all
		# of them once it has wrapped).
		i=1 hit=0 all=0 used=0 tot=0 nv=$2
		while [ $i -le "$nv" ]; do
			set -- $(dmsetup status vm$i | awk '{ h = 0; a = 0
				for (j = 0; j < 16; j++) { c = $(11 + j); a += c; if (j >= 4) h += c }
				print h, a, ($7 < $6 ? $7 : $6), $6 }')
			hit=$((hit + $1)) all=$((all + $2)) used=$((used + $3)) tot=$((tot + $4))
			i=$((i + 1))
		done
		echo "$hit $all - $((tot ? used * 100 / tot : 0))"
		;;
	*) echo "0 0 - -" ;;
	esac
}

# --- workloads: job_<name> DEV SEED prints fio_terse output -----------------
job_oltp() {	# the paper's OLTP: 25 % reads, 512 B to 2 KiB, write heavy
	_d=$1 _s=$2
	shift 2
	fio_terse --filename="$_d" --rw=randrw --rwmixread=25 --bsrange=512-2k \
		--random_distribution=zipf:1.1 --iodepth=$QD --number_ios="${OLTP_IOS:-3000}" \
		--size=${VOL_MB}M --randseed="$_s" "$@"
}
# oltp-fsync: the same with an fsync after every FSYNC_N (4) writes, as a
# database's commits: flush-bound (issue 18 item 5)
job_oltp_fsync() { job_oltp "$1" "$2" --fsync="${FSYNC_N:-4}"; }
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

# Workloads run in parts: one fio per VM and pass, one job per part, one
# after the other (--stonewall); after each part fio's exec_postrun saves
# the volume's status in /tmp/vKtJ.postrun.txt (/tmp/vKt0.postrun.txt is
# the status before the pass), for the hit ratio per part, and every
# completion latency goes to /tmp/lat.K_clat.J.log (nanoseconds), for the
# pass's percentiles.
# fio_parts DEV K JOB-ARGS...: each part's job arguments start with --name.
fio_parts() {
	_d=$1 _k=$2
	shift 2
	(cd /tmp && fio_terse_jobs --filename="$_d" --iodepth=$QD \
		--write_lat_log=/tmp/lat.$_k --log_avg_msec=0 "$@")
}
# parts_trace NAME DEV K: a trace's tenths (bench/run.sh cuts NAME-J.iolog)
parts_trace() {
	_n=$1 _d=$2 _k=$3 _j=1
	set --
	while [ -f "$B/$_n-$_j.iolog" ]; do
		set -- "$@" --name=v${_k}t$_j --stonewall --read_iolog="$B/$_n-$_j.iolog" \
			--replay_redirect="$_d" --exec_postrun="dmsetup status vm$_k"
		_j=$((_j + 1))
	done
	fio_parts "$_d" "$_k" "$@"
}
# parts_shift DEV K SEED: zipf(1.1) 8 KiB reads, SHIFT_IOS in two halves
# with two seeds: fio's zipf places its hot set by the seed, so the second
# half has a new hot set (the same two in every pass).
parts_shift() {
	_h=$((${SHIFT_IOS:-${ZIPF_IOS:-3000}} / 2))
	fio_parts "$1" "$2" --rw=randread --bs=8k --random_distribution=zipf:1.1 \
		--size=${VOL_MB}M --number_ios=$_h \
		--name=v${2}t1 --randseed="$3" --exec_postrun="dmsetup status vm$2" \
		--name=v${2}t2 --stonewall --randseed=$(($3 + 1000)) \
		--exec_postrun="dmsetup status vm$2"
}

run_wl() {	# run_wl WORKLOAD DEV SEED VM: fio_terse lines, one per part
	rm -f /tmp/lat."$4"_* /tmp/v"$4"t*.postrun.txt
	dmsetup status "vm$4" > "/tmp/v$4t0.postrun.txt"
	case $1 in
	oltp|zipf|scan|oltp-fsync) job_"$(echo "$1" | tr - _)" "$2" "$3" ;;
	shift) parts_shift "$2" "$4" "$3" ;;
	*)
		if [ -f "$B/$1-1.iolog" ]; then
			parts_trace "$1" "$2" "$4"
		else
			job_trace "$1" "$2"
		fi
		;;
	esac
}

# st_hits SETUP: "<SSD-served> <all>" I/Os from a volume's status line on
# stdin (dm-hybrid, dm-cache, dm-writeboost: see counters); "0 0" else.
st_hits() {
	case $1 in
	hybrid*) awk '{ print $11, $11 + $12 }' ;;
	dmcache) awk '{ print $8 + $10, $8 + $9 + $10 + $11 }' ;;
	writeboost) awk '{ h = 0; a = 0
		for (j = 0; j < 16; j++) { c = $(11 + j); a += c; if (j >= 4) h += c }
		print h, a }' ;;
	*) cat >/dev/null; echo "0 0" ;;
	esac
}

# vm_sum K: "<IOPS> <exec ms> <p50/p99 read,write us>" of VM K's pass from
# its parts (one part: fio's own percentiles; more: from the latency logs).
vm_sum() {
	set -- $(awk '{ rt += $9; io += ($1 + $5) * $9 / 1000 }
		END { printf "%d %d %d", rt ? io * 1000 / rt : 0, rt, NR }' /tmp/res.$1) "$1"
	if [ "$3" -le 1 ]; then
		echo "$1 $2 $(awk '{ printf "%d/%dr,%d/%dw", $3, $4, $7, $8; exit }' /tmp/res.$4)"
		return
	fi
	echo "$1 $2 $(cat /tmp/lat."$4"_clat.*.log | awk -F', *' '{ print $3, int($2 / 1000) }' |
		sort -k1,1n -k2,2n | awk '
		function p(d, q) { return n[d] ? v[d, int((n[d] * q + 99) / 100)] : 0 }
		{ n[$1]++; v[$1, n[$1]] = $2 }
		END { printf "%d/%dr,%d/%dw", p(0, 50), p(0, 99), p(1, 50), p(1, 99) }')"
}

# parts_curve SETUP N: "<hit % per part> | <IOPS per part>" over the N VMs
# (part J of every VM; "-" for one part, and for hits the set-ups without
# per-volume counters: SSD and HDD only, bcache); "- | -" for mixed, whose
# VMs run different workloads, in parts or not.
parts_curve() {
	[ "$wl" != mixed ] && [ "$(wc -l < /tmp/res.1)" -gt 1 ] || { echo "- | -"; return; }
	_h="" _i="" _j=1
	while [ -f /tmp/v1t$_j.postrun.txt ]; do
		_a=0 _b=0 _io=0 _k=1
		while [ $_k -le "$2" ]; do
			set -- "$1" "$2" $(st_hits "$1" < /tmp/v${_k}t$((_j - 1)).postrun.txt) \
				$(st_hits "$1" < /tmp/v${_k}t$_j.postrun.txt)
			_a=$((_a + $5 - $3)) _b=$((_b + $6 - $4))
			_io=$((_io + $(sed -n "${_j}p" /tmp/res.$_k | awk '{ print $1 + $5 }')))
			_k=$((_k + 1))
		done
		case $1 in
		hybrid*|dmcache|writeboost) _h="$_h $(ratio $((100 * _a)) $_b)" ;;
		*) _h="$_h -" ;;
		esac
		_i="$_i $_io"
		_j=$((_j + 1))
	done
	echo "${_h# } | ${_i# }"
}

# pass WORKLOAD SETUP N PASSNO PCT: all N VMs at once; one table row.
one_pass() {
	wl=$1 su=$2 n=$3 p=$4 pc=$5
	c0=$(counters "$su" "$n")
	t0=$(uptime_cs)
	i=1
	while [ $i -le "$n" ]; do
		# one seed per VM, the same in every pass: fio's zipf places
		# its hot set by the seed, so a new seed per pass would make
		# the "warm" pass a cold one on another hot set
		run_wl "$(vm_wl "$wl" $i)" /dev/mapper/vm$i $((i * 7)) $i > /tmp/res.$i &
		i=$((i + 1))
	done
	wait
	t1=$(uptime_cs)
	c1=$(counters "$su" "$n")
	tp="" lat="" ms=0 i=1
	while [ $i -le "$n" ]; do
		set -- $(vm_sum $i)
		[ -n "${2:-}" ] && [ "$2" -gt 0 ] || { echo "fio failed: $wl $su vm$i"; return 1; }
		tp="$tp $1"
		[ "$2" -gt $ms ] && ms=$2
		lat="$lat $3"
		echo "$2 $3" > /tmp/sum.$i
		i=$((i + 1))
	done
	curve=$(parts_curve "$su" "$n")
	set -- $c0
	a0=$1 b0=$2 m0=$3
	set -- $c1
	hit=$(awk -v a=$(($1 - a0)) -v b=$(($2 - b0)) 'BEGIN { if (b > 0) printf "%.0f%%", 100 * a / b; else print "-" }')
	# bcache's counters lag by up to 13.6 s: see the per-run line instead
	[ "$su" = bcache ] && hit=-
	mig=-
	[ "$3" != - ] && mig=$(( ($3 - m0) / 1024 ))MiB
	bench "| $wl | $n | $su | $p | $ms | $((t1 - t0)) | $(echo "$tp" | awk '{ s = 0; for (i = 1; i <= NF; i++) s += $i; print s }') | $(echo $lat) | $hit | ${4}% | $mig | $(jain $tp) | $(ssd_cols "$pc" "$su") | $curve |"
	[ "$wl" != mixed ] || for_vms "$n" mixed_vm_row
}

# mixed_vm_row K: VM K's row of a mixed pass (one_pass' variables): its
# workload, exec time, p50/p99 and SSD hit (the set-ups with per-volume
# counters; "-" else).  bench/run.sh normalises it to the same VM under
# SSD only.
mixed_vm_row() {
	set -- "$1" $(cat /tmp/sum.$1) $(st_hits "$su" < /tmp/v$1t0.postrun.txt) \
		$(dmsetup status vm$1 | st_hits "$su")
	_h=-
	case $su in
	hybrid*|dmcache|writeboost) _h=$(awk -v a=$(($6 - $4)) -v b=$(($7 - $5)) \
		'BEGIN { if (b > 0) printf "%.0f%%", 100 * a / b; else print "-" }') ;;
	esac
	bench "mixed-vm | $(vm_wl mixed "$1") | $n | $su | $p | $1 | $2 | $3 | $_h | $(ssd_cols "$pc" "$su") |"
}

# bcache_hits: "<hits> <all>" once bcache's accounting timer has run.
bcache_hits() {
	sleep 14
	set -- $(counters bcache 0)
	echo "$1 $2"
}

# prefilled SETUP N: after the prefill; hybrid-nomig gets its default
# seq_cutoff back (see setup_hybrid).
prefilled() {
	if [ "$1" = hybrid-nomig ]; then
		pool_set pool seq_cutoff 1024 || fail "seq_cutoff back to 1024"
		log "hybrid-nomig after the prefill: $(dmsetup status pool)"
	fi
}

# prefill N [RW]: make every VM's whole volume written once, 1 MiB at a
# time, in order (RW write) or in random order (randwrite: fio writes each
# block once).
prefill() {
	i=1
	while [ $i -le "$1" ]; do
		fio_terse --filename=/dev/mapper/vm$i --rw="${2:-write}" --bs=1M --iodepth=4 \
			--size=$((VOL / 2048))M >/dev/null &
		i=$((i + 1))
	done
	wait
}

# prepare SETUP N: the set-up, pass 1 to start cold with the data on the
# HDD, as an existing VM image's would be.  dm-hybrid maps a chunk at its
# first write, so its volumes are written once end to end: the sequential
# prefill leaves every chunk on the HDD (seq_cutoff); hybrid-nomig's random
# one places a random share on the SSD (see setup_hybrid).  The others
# (dm-linear, and the caches over their HDD slices) are not prefilled:
# their disks are dm-hddsim over RAM disks, which take the same time for
# space never written (dm-hddsim models no data; brd fills zeros where it
# would copy, the same guest instructions), while a prefill is what costs
# the host most (web search's 958 MiB: ~45 s of wall time at load 8).  A
# prefill through a writeback cache left it caching its last writes (runs
# before 2026-12-06); the caches' HDD slices were then written beside
# them, until 2026-12-07.
prepare() {
	_fn=$(echo "$1" | tr - _)
	setup_"$_fn" "$2" || return 1
	case $1 in
	hybrid*)
		if [ "$1" = hybrid-nomig ]; then prefill "$2" randwrite; else prefill "$2"; fi
		prefilled "$1" "$2"
		;;
	esac
}

bench "| workload | VMs | set-up | pass | exec time ms (slowest VM) | wall cs | IOPS (sum) | per-VM p50/p99 us | SSD hit | SSD resident | migrated | Jain (IOPS) | SSD % of 4K footprint (asked) | SSD MiB per VM | SSD / 4K footprint % | SSD / chunk footprint % | SSD hit % per part | IOPS per part |"
bench "|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|"
for n in $VMS; do
	for su in $SETUPS; do
		fn=$(echo "$su" | tr - _)
		pcts=$SSD_PCT
		case $su in hdd|ssd) pcts=- ;; esac
		for wl in $WORKLOADS; do
			# FSYNC_VMS: the VM counts of oltp-fsync (default all)
			if [ "$wl" = oltp-fsync ]; then
				case " ${FSYNC_VMS:-$n} " in *" $n "*) ;; *) continue ;; esac
			fi
			wl_geom "$wl"
			VOL=$WVOL
			for pc in $pcts; do
				# SSD and HDD only use no SSD share
				if [ "$pc" = - ]; then ssd_geom 50; else ssd_geom "$pc"; fi
				cost "$wl $su $n VMs SSD $pc %: before"
				prepare "$su" "$n" || fail "set-up $su with $n VMs"
				[ "$su" = bcache ] && sleep 2
				[ "$su" = bcache ] && [ "${BCACHE_SETTLE:-0}" -gt 0 ] && bh0=$(bcache_hits)
				cost "$wl $su $n VMs SSD $pc %: set-up and prefill"
				# SSD only keeps no state between passes (its passes
				# gave the same times to the ms): SSD_PASSES=1 runs
				# one, the baseline of every pass (bench/run.sh)
				np=$PASSES
				[ "$su" = ssd ] && np=${SSD_PASSES:-$PASSES}
				p=1
				while [ $p -le "$np" ]; do
					one_pass "$wl" "$su" "$n" $p "$pc" || fail "pass $wl $su $n $p"
					cost "$wl $su $n VMs SSD $pc %: pass $p"
					p=$((p + 1))
				done
				if [ "$su" = bcache ] && [ "${BCACHE_SETTLE:-0}" -gt 0 ]; then
					set -- $bh0 $(bcache_hits)
					bench "bcache hit ratio, $wl, $n VMs, SSD $pc % of the footprint, all passes: $(ratio $((100 * ($3 - $1))) $(($4 - $2)))%"
				fi
				teardown_"$fn" "$n" || fail "teardown $su"
				cost "$wl $su $n VMs SSD $pc %: teardown"
			done
		done
	done
done

# --- warm-up: time to 90 % of the steady state after a cold start ----------
# One VM, zipf(1.1) 8 KiB random reads at QD, in WARM_PHASES phases of
# WARM_SECS (guest) seconds each, on a freshly made and prefilled volume.
# Steady state = mean IOPS of the last two phases; time to 90 % = the end
# of the first phase at or above 90 % of it.
# its volume VOL_MB, its SSD share half of it (all of it the job addresses)
VOL=$((VOL_MB * 2048)) SSDV=$((VOL_MB * 1024))
[ -n "$WARM_SETUPS" ] && bench ""
[ -n "$WARM_SETUPS" ] && bench "| warm-up (zipf 8k, 1 VM) | IOPS per ${WARM_SECS}s phase | steady IOPS | steady / SSD only | time to 90 % of steady s | SSD hit (all phases) |"
[ -n "$WARM_SETUPS" ] && bench "|---|---|---|---|---|---|"
ssd_steady=0
for su in $WARM_SETUPS; do
	fn=$(echo "$su" | tr - _)
	prepare "$su" 1 || fail "set-up $su (warm-up)"
	[ "$su" = bcache ] && sleep 2 && bh0=$(bcache_hits)
	c0=$(counters "$su" 1)
	# one fio for all phases (a fio start costs seconds of wall time under
	# TCG): its IOPS log averages every WARM_SECS; the run lasts a fifth
	# of a phase longer so that the last phase is logged too
	rm -f /tmp/warm_iops.*.log
	set -- $(fio_terse --filename=/dev/mapper/vm1 --rw=randread --bs=8k \
		--random_distribution=zipf:1.1 --iodepth=$QD --size=${VOL_MB}M \
		--time_based --runtime=$((WARM_PHASES * WARM_SECS * 1000 + WARM_SECS * 200))ms \
		--randseed=1 --write_iops_log=/tmp/warm --log_avg_msec=$((WARM_SECS * 1000)))
	[ "${1:-0}" -gt 0 ] || fail "warm-up fio $su"
	list=$(awk -F, -v n="$WARM_PHASES" 'NR <= n { printf " %d", $2 }' /tmp/warm_iops.1.log)
	[ -n "$list" ] || fail "warm-up fio $su: no IOPS log"
	c1=$(counters "$su" 1)
	if [ "$su" = bcache ]; then
		set -- $bh0 $(bcache_hits)
	else
		set -- $c0 $c1
		set -- "$1" "$2" "$5" "$6"
	fi
	hit=$(ratio $((100 * ($3 - $1))) $(($4 - $2)))%
	[ "$su" = ssd ] || [ "$su" = hdd ] && hit=-
	set -- $(echo "$list" | awk -v s="$WARM_SECS" '{
		st = (NF > 1) ? ($NF + $(NF - 1)) / 2 : $NF; t = "-"
		for (i = 1; i <= NF; i++) if ($i >= 0.9 * st) { t = i * s; break }
		printf "%d %s", st, t }')
	[ "$su" = ssd ] && ssd_steady=$1
	bench "| $su |$list | $1 | $(ratio "$1" "$ssd_steady") | $2 | $hit |"
	teardown_"$fn" 1 || fail "teardown $su (warm-up)"
done
# bcache may still hold its last backing device for a moment
n=0
until dmsetup remove hddsim 2>/dev/null || [ $n -ge 10 ]; do sleep 1; n=$((n + 1)); done
dmsetup remove ssdsim
pass
