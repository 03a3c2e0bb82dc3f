#!/bin/sh
# SPDX-License-Identifier: GPL-2.0-only
# Guest side of "make demo" (not a test: it shows, it asserts nothing).
# An emulated SSD (plain virtio disk) and HDD (dm-hddsim, the benchmarks'
# seek-aware disk model), a pool made with hybridctl and four named VM
# volumes, each running its own workload at the same time:
#   web     replay of the WebSearch1 trace (read heavy)
#   msr     replay of the MSR rw20-80 trace (write heavy)
#   oltp    small random writes, 25 % reads, zipfian (OLTP-like)
#   backup  sequential 512 KiB reads of the whole volume (a backup scan)
# Every volume is first written sequentially, so everything starts on
# the HDD.  While the workloads run, "hybridctl stats" is printed every
# STEP seconds and "hybridctl map" of each volume now and then; DMH-DEMO
# lines carry the time series and the summary for scripts/demo.sh, which
# draws the chart.  Fails only when the pool or a workload fails.
# The iologs come from the host (bench/trace2iolog.py) in /lib/dmh/data.
# kernels: debian
# disks: meta=32M ssd=256M hdd=1G
# timeout: 900
. /lib/dmh/guest.sh
. /lib/dmh/hybrid.sh
. /lib/dmh/bench.sh

D=/lib/dmh/data
RUN=${DEMO_RUN:-120}	# seconds of workload
BLOCK=${DEMO_BLOCK:-0}	# block tier with write staging (e.g. 64M); 0: none
PERSIST=${DEMO_PERSIST:-0}	# 1: and persistent staging (needs BLOCK)
STEP=${DEMO_STEP:-5}	# seconds between snapshots
VOL_MB=192
VOLS="web msr oltp backup"
export HYBRIDTAB=/etc/hybridtab

banner() { echo; echo "==== $* ===="; }

banner "kernel $(uname -r); the emulated disks"
load_dm_hybrid || fail "modprobe dm-hybrid failed"
HDD=$(make_hdd hddsim "$(disk hdd)") || fail "dm-hddsim could not be set up"
echo "SSD: $(disk ssd), $(($(sectors "$(disk ssd)") / 2048)) MiB, plain virtio disk"
echo "HDD: $HDD, $(($(sectors "$HDD") / 2048)) MiB, dm-hddsim: $(dmsetup table hddsim | cut -d' ' -f4-)"
echo "     (7200 rpm, 8.5 ms average seek: see bench/README.md)"

banner "hybridctl pool create demo (1 MiB chunks, block tier $BLOCK) and four VM volumes of $VOL_MB MiB"
if [ "$BLOCK" = 0 ]; then
	set --
else
	set -- --block-tier "$BLOCK" --write-staging
	[ "$PERSIST" = 0 ] || set -- "$@" --persistent-staging
fi
hybridctl pool create demo --metadata "$(disk meta)" --ssd "$(disk ssd)" \
	--hdd "$HDD" --chunk-size 1M "$@" || fail "pool create failed"
for v in $VOLS; do
	hybridctl vol create demo $v ${VOL_MB}M || fail "vol create $v failed"
done
hybridctl vol list demo
hybridctl pool status demo

banner "write every volume once, sequentially (sequential writes go to the HDD)"
for v in $VOLS; do
	dd if=/dev/zero of=/dev/mapper/$v bs=1M count=$VOL_MB oflag=direct 2>/dev/null ||
		fail "writing $v failed"
done
# The workloads' traces (compacted on the host) fit in a volume.
for t in web msr; do
	[ -f $D/$t.iolog ] || fail "$D/$t.iolog missing (run make demo, not the case alone)"
done
hybridctl stats --interval 1

# snap: "vol read_ios write_ios read_sect write_sect ssd_ios hdd_ios prom dem mapped ssd"
snap() {
	for _v in $VOLS; do
		dmsetup status "$_v" | awk -v v="$_v" \
			'{ print v, $7, $8, $9, $10, $11, $12, $13, $14, $4, $5 }'
	done
}

# --- the workloads, all at once ------------------------------------------------
QD=8
fio_job() {	# fio_job DEV SECONDS ARGS...
	_f=$1 _s=$2
	shift 2
	fio --name="$(basename "$_f")" --filename="$_f" --direct=1 --ioengine=libaio \
		--iodepth=$QD --runtime="$_s" "$@"
}
wl() {	# wl VOLUME: its workload for RUN seconds
	_f=/dev/mapper/$1
	case $1 in
	web|msr)
		# fio replays an iolog once (--loops does not repeat it):
		# replay it again until the time is up.
		_end=$(($(uptime_s) + RUN))
		while [ $((_left = _end - $(uptime_s))) -gt 0 ]; do
			echo "replay pass, ${_left}s left"
			fio_job "$_f" "$_left" --read_iolog=$D/$1.iolog \
				--replay_redirect="$_f" || return 1
		done
		return 0 ;;
	oltp)
		set -- --rw=randrw --rwmixread=25 --bsrange=512-2k \
			--random_distribution=zipf:1.1 --size=${VOL_MB}M --time_based ;;
	backup)
		set -- --rw=read --bs=512k --size=${VOL_MB}M --time_based ;;
	esac
	fio_job "$_f" "$RUN" "$@"
}

banner "workloads start: $RUN s, all four volumes at once"
echo "web: WebSearch1 replay ($(cat $D/web.meta 2>/dev/null | cut -d' ' -f1) requests, looped); msr: MSR rw20-80 replay;"
echo "oltp: 512 B-2 KiB random, 25 % reads, zipf 1.1; backup: 512 KiB sequential reads; queue depth $QD each"
snap > /tmp/snap.start
for v in $VOLS; do
	(rc=0; wl $v > /tmp/fio.$v 2>&1 || rc=$?; echo $rc > /tmp/rc.$v) &
done
T0=$(uptime_cs)
echo "DMH-DEMO start vols=$(echo $VOLS | tr ' ' ,) run=$RUN step=$STEP vol_mb=$VOL_MB"

running() { for _v in $VOLS; do [ -f /tmp/rc.$_v ] || return 0; done; return 1; }

prev=/tmp/snap.start
tprev=$T0
n=0
while running; do
	hybridctl stats --pool demo --interval "$STEP" 2>&1 || echo "(hybridctl stats failed)"
	snap > /tmp/snap.now
	now=$(uptime_cs)
	# per volume: IOPS and read % over the interval, SSD residency, hit %
	awk -v t="$(((now - T0) / 100))" -v dt="$((now - tprev))" '
		BEGIN { dt = dt > 0 ? dt / 100 : 1 }
		NR == FNR { for (i = 2; i <= NF; i++) p[$1, i] = $i; next }
		{
		  ios = $2 + $3 - p[$1, 2] - p[$1, 3]
		  rd = $2 - p[$1, 2]
		  dev = $6 + $7 - p[$1, 6] - p[$1, 7]
		  printf "DMH-DEMO t=%d vol=%s iops=%.0f read_pct=%.0f ssd_pct=%.1f hit_pct=%s prom=%d dem=%d\n",
			t, $1, ios / dt, ios ? 100 * rd / ios : 0,
			$10 ? 100 * $11 / $10 : 0,
			dev ? sprintf("%.0f", 100 * ($6 - p[$1, 6]) / dev) : "-", $8, $9 }' \
		$prev /tmp/snap.now
	cp /tmp/snap.now /tmp/snap.prev
	tprev=$now
	prev=/tmp/snap.prev
	n=$((n + 1))
	if [ $((n % 6)) = 0 ]; then
		echo "hybridctl map, 64 buckets of 3 MiB: S on the SSD, s mixed, h on the HDD; heat 0-8"
		for v in $VOLS; do
			hybridctl map $v --buckets 64 |
				awk -v v=$v '$1 == "0B" { printf "%-7s %s  %s\n", v, $2, $3 }' || true
		done
	fi
done
wait
T1=$(uptime_cs)

banner "placement at the end"
for v in $VOLS; do hybridctl map $v --buckets 64 || true; done
hybridctl pool status demo

banner "summary over $(((T1 - T0) / 100)) s"
snap > /tmp/snap.end
printf '%-8s %9s %9s %7s %8s %10s %10s %6s\n' VM IOs MiB READ% "SSD HIT%" "ON SSD t0" "ON SSD end" MOVED
awk 'NR == FNR { for (i = 2; i <= NF; i++) p[$1, i] = $i; next }
	{ ios = $2 + $3 - p[$1, 2] - p[$1, 3]
	  mib = ($4 + $5 - p[$1, 4] - p[$1, 5]) / 2048
	  dev = $6 + $7 - p[$1, 6] - p[$1, 7]
	  hit = dev ? sprintf("%.0f", 100 * ($6 - p[$1, 6]) / dev) : "-"
	  r0 = p[$1, 10] ? 100 * p[$1, 11] / p[$1, 10] : 0
	  r1 = $10 ? 100 * $11 / $10 : 0
	  mig = $8 + $9 - p[$1, 8] - p[$1, 9]
	  printf "%-8s %9d %9.0f %7.0f %8s %9.1f%% %9.1f%% %6d\n", $1, ios, mib,
		ios ? 100 * ($2 - p[$1, 2]) / ios : 0, hit, r0, r1, mig
	  printf "DMH-DEMO summary vol=%s ios=%d mib=%.0f hit_pct=%s ssd_start=%.1f ssd_end=%.1f migrations=%d\n",
		$1, ios, mib, hit, r0, r1, mig > "/tmp/summary" }' /tmp/snap.start /tmp/snap.end
echo "(IOs and MiB as the volumes saw them; SSD HIT% = share of the volume's I/O"
echo " served by the SSD; ON SSD = share of its mapped chunks on the SSD; moved ="
echo " promotions + demotions of 1 MiB chunks)"
cat /tmp/summary

banner "fio's view"
bad=""
for v in $VOLS; do
	rc=$(cat /tmp/rc.$v)
	# the replays: the last pass, and how many there were
	passes=$(grep -c '^replay pass' /tmp/fio.$v || true)
	[ "$passes" = 0 ] || echo "$v: $passes replay passes of the trace; the last one:"
	awk -v v=$v '/^replay pass/ { n = 0 }
		/^ *(read|write):/ { sub(/^ */, ""); l[++n] = v ": " $0 }
		END { for (i = 1; i <= n; i++) print l[i] }' /tmp/fio.$v
	if [ "$rc" != 0 ]; then
		bad="$bad $v"
		tail -n 20 /tmp/fio.$v
	fi
done
[ -z "$bad" ] || fail "workload(s) failed:$bad"
[ "$(pool_mode demo)" = rw ] || fail "pool demo is $(pool_mode demo), not rw"
hybridctl pool deactivate demo || fail "pool deactivate failed"
pass
