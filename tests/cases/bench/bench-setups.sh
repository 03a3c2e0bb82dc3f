#!/bin/sh
# SPDX-License-Identifier: GPL-2.0-only
# Benchmark, not a test: dm-hybrid beside the other set-ups a host admin
# could pick, in one VM run on the same emulated disks (SSD = dm-hddsim's
# flash model, HDD = dm-hddsim's 7200 rpm model, each over a guest RAM
# disk, and the metadata on a third; see bench-calib), with 1 to 4 VM
# volumes at once.  Set-ups: HDD only and SSD only (dm-linear), dm-hybrid
# (SSD = 50 % of the working set) with migration on and off, the same with
# 256 KiB chunks instead of 1 MiB (hybrid-256k), dm-cache smq writeback,
# bcache writeback and dm-writeboost (built by bench/writeboost-build.sh)
# with the same SSD size.  Workloads: trace replays (fio iologs made on the
# host by bench/trace2iolog.py, in $BENCH_DATA), an OLTP-like job, a
# zipfian random read and a sequential scan.  A second table follows
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
SETUPS="hdd ssd hybrid hybrid-256k hybrid-nomig dmcache bcache writeboost"
WORKLOADS="websearch oltp"
PASSES=2
VOL_MB=256
QD=8
WARM_SETUPS="ssd hybrid dmcache bcache writeboost"
WARM_PHASES=6
WARM_SECS=2
[ -f $B/config ] && . $B/config
[ "$WARM_SETUPS" = none ] && WARM_SETUPS=""
log "set-ups: $SETUPS"
VOL=$((VOL_MB * 2048))
HALF=$((VOL / 2))

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
bench "config: vms='$VMS' setups='$SETUPS' workloads='$WORKLOADS' passes=$PASSES vol=${VOL_MB}MiB qd=$QD"
bench_models $((NMAX * VOL_MB + 16))

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
	META=$METADEV SSD=/dev/mapper/hssd HDD=/dev/mapper/hhdd make_pool pool "${CHUNK:-2048}" >/dev/null || return 1
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
		i=$((i + 1))
	done
}
teardown_hybrid() { rm_vms "$1"; dmsetup remove pool; dmsetup remove hssd hhdd; }
setup_hybrid_256k() { CHUNK=512 setup_hybrid "$1"; }
teardown_hybrid_256k() { teardown_hybrid "$1"; }
setup_hybrid_nomig() { NOMIG=1 setup_hybrid "$1"; }
teardown_hybrid_nomig() { teardown_hybrid "$1"; }

# for_vms N FN: FN 1, ..., FN N; stops at the first that fails (status 1).
for_vms() {
	_k=1
	while [ $_k -le "$1" ]; do "$2" $_k || return 1; _k=$((_k + 1)); done
}
# vm_slices K SSDNAME HDDNAME: VM K's slices, half its volume's size on
# the SSD and its volume's size on the HDD (the per-VM caches' layout).
vm_slices() {
	make_linear "$2" "$SSDDEV" $HALF $((($1 - 1) * HALF)) >/dev/null &&
		make_linear "$3" "$HDDDEV" $VOL $((($1 - 1) * VOL)) >/dev/null
}

# dm-cache cannot share one cache among origins: each VM gets its own
# cache of half its size (same SSD in total).  smq, writeback, 64 KiB
# blocks, migration_threshold left at its default (2048 sectors).
dmcache_vm() {	# dmcache_vm K: VM K's cache (metadata, SSD half, HDD origin)
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
	make_linear bcssd "$SSDDEV" $(($1 * HALF)) 0 >/dev/null || return 1
	wipe /dev/mapper/bcssd
	# 64 KiB buckets, 16 KiB below 128 MiB of cache: bcache refuses a
	# cache of fewer than 1024 buckets ("nbuckets is too small")
	bkt=64k
	[ $(($1 * HALF)) -lt 262144 ] && bkt=16k
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
	for b in /sys/block/bcache*; do
		[ -d "$b" ] || continue
		echo 1 > "$b/bcache/detach" 2>/dev/null || true
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
# each VM gets its own of half its size (same SSD in total; its metadata is
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
		# one seed per VM, the same in every pass: fio's zipf places
		# its hot set by the seed, so a new seed per pass would make
		# the "warm" pass a cold one on another hot set
		run_wl "$wl" /dev/mapper/vm$i $((i * 7)) > /tmp/res.$i &
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
	# bcache's counters lag by up to 13.6 s: see the per-run line instead
	[ "$su" = bcache ] && hit=-
	mig=-
	[ "$3" != - ] && mig=$(( ($3 - m0) / 1024 ))MiB
	bench "| $wl | $n | $su | $p | $ms | $((t1 - t0)) | $(echo "$tp" | awk '{ s = 0; for (i = 1; i <= NF; i++) s += $i; print s }') | $(echo $lat) | $hit | ${4}% | $mig | $(jain $tp) |"
}

# bcache_hits: "<hits> <all>" once bcache's accounting timer has run.
bcache_hits() {
	sleep 14
	set -- $(counters bcache 0)
	echo "$1 $2"
}

# prefilled SETUP N: after the prefill; hybrid-nomig gets its default
# seq_cutoff back (see setup_hybrid); writeboost writes its dirty data back.
prefilled() {
	case $1 in
	hybrid-nomig)
		pool_set pool seq_cutoff 1024 || fail "seq_cutoff back to 1024"
		log "hybrid-nomig after the prefill: $(dmsetup status pool)"
		;;
	writeboost) wb_clean "$2" ;;
	esac
}

# wb_clean N: writeboost logs every write, the prefill's sequential ones
# too (it has no sequential bypass for writes), so the prefill leaves the
# last half of each volume dirty in the log; the passes would pay for
# writing it back.  As the readme's detach procedure: suspend/resume
# (the RAM buffer goes to the log), then drop_caches (waits until every
# dirty block is written back; the blocks stay cached, clean).
wb_clean() {
	i=1
	while [ $i -le "$1" ]; do
		dmsetup suspend vm$i && dmsetup resume vm$i || fail "writeboost suspend/resume vm$i"
		dmsetup message vm$i 0 drop_caches || fail "writeboost drop_caches vm$i"
		i=$((i + 1))
	done
	log "writeboost after the prefill: $(dmsetup status vm1)"
}

# prefill N [RW]: make every VM's whole volume written once, 1 MiB at a
# time, in order (RW write) or in random order (randwrite: fio writes each
# block once).
prefill() {
	i=1
	while [ $i -le "$1" ]; do
		fio_terse --filename=/dev/mapper/vm$i --rw="${2:-write}" --bs=1M --iodepth=4 \
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
			if [ "$su" = hybrid-nomig ]; then prefill "$n" randwrite; else prefill "$n"; fi
			prefilled "$su" "$n"
			[ "$su" = bcache ] && sleep 2
			[ "$su" = bcache ] && [ "${BCACHE_SETTLE:-0}" -gt 0 ] && bh0=$(bcache_hits)
			p=1
			while [ $p -le "$PASSES" ]; do
				one_pass "$wl" "$su" "$n" $p || fail "pass $wl $su $n $p"
				p=$((p + 1))
			done
			if [ "$su" = bcache ] && [ "${BCACHE_SETTLE:-0}" -gt 0 ]; then
				set -- $bh0 $(bcache_hits)
				bench "bcache hit ratio, $wl, $n VMs, all passes: $(ratio $((100 * ($3 - $1))) $(($4 - $2)))%"
			fi
			teardown_"$fn" "$n" || fail "teardown $su"
		done
	done
done

# --- warm-up: time to 90 % of the steady state after a cold start ----------
# One VM, zipf(1.1) 8 KiB random reads at QD, in WARM_PHASES phases of
# WARM_SECS (guest) seconds each, on a freshly made and prefilled volume.
# Steady state = mean IOPS of the last two phases; time to 90 % = the end
# of the first phase at or above 90 % of it.
[ -n "$WARM_SETUPS" ] && bench ""
[ -n "$WARM_SETUPS" ] && bench "| warm-up (zipf 8k, 1 VM) | IOPS per ${WARM_SECS}s phase | steady IOPS | steady / SSD only | time to 90 % of steady s | SSD hit (all phases) |"
[ -n "$WARM_SETUPS" ] && bench "|---|---|---|---|---|---|"
ssd_steady=0
for su in $WARM_SETUPS; do
	fn=$(echo "$su" | tr - _)
	setup_"$fn" 1 || fail "set-up $su (warm-up)"
	prefill 1
	prefilled "$su" 1
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
