#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-only
#
# The benchmark suite (make bench / make bench-quick):
#   bench/run.sh quick|full|smoke, or BENCH_OUT=DIR bench/run.sh report
# 1. converts ../shared/traces into fio iologs (bench/trace2iolog.py; the
#    traces are only read) and writes the run's config;
# 2. boots the bench cases on the stock kernel, one VM at a time:
#    bench-calib (device calibration), bench-setups (set-ups side by side),
#    bench-datapath (dm-hybrid on SSD vs dm-linear), bench-scale (a
#    64 TiB + 4 TiB pool on dm-zero);
# 3. writes bench/results/<UTC date>-<mode>/report.md with their tables,
#    the execution times normalised to SSD only and the paper's figures.
# Nothing here asserts performance: a case fails only if a run broke.
set -euo pipefail

TOP=$(cd "$(dirname "$0")/.." && pwd)
MODE=${1:-quick}
TRACES=${DMH_TRACES:-$TOP/../shared/traces}
OUT=${BENCH_OUT:-$TOP/bench/results/$(date -u +%Y%m%d-%H%M)-$MODE}
# This run's iologs and config (baked into the initramfs): one directory
# per run, so that two runs (e.g. another one narrowed with BENCH_*) do
# not replace each other's config.
DATA=$TOP/tests/.build/bench-data-$$
# The cases' logs and disks: this run's own (tests/run's DMH_LOGS and
# DMH_WORK), so that another bench run of the same case cannot remove
# them mid-run; the logs stay for a look after the run.
RUNLOGS=$TOP/tests/logs-bench/$(basename "$OUT")

# rows CASE: the case's DMH-BENCH lines, from the copy this run kept in
# OUT (CASE.txt); only "report" (rebuilding an older run's report) falls
# back on the case's last log (the run's own, else tests/logs').
rows() {
	local log=$RUNLOGS/debian/$1/boot1.log
	[ -f "$log" ] || log=$TOP/tests/logs/debian/$1/boot1.log
	if [ -f "$OUT/$1.txt" ]; then
		sed -n '1s/^# /(/p' "$OUT/$1.txt" | sed 's/$/)/'
		echo
		sed -n 's/^DMH-BENCH //p' "$OUT/$1.txt"
		return
	fi
	[ "$MODE" = report ] && [ -f "$log" ] || { echo "(not run)"; return; }
	echo "(log ${log#"$TOP"/}, $(date -u -r "$log" '+%H:%M UTC'))"
	echo
	tr -d '\r' < "$log" | sed -n 's/^DMH-BENCH //p'
}

report() {
	{
		echo "# dm-hybrid benchmark, $MODE run, $(date -u '+%Y-%m-%d %H:%M UTC')"
		echo
		echo "Emulated devices under QEMU TCG (one vCPU, -icount ${BENCH_ICOUNT:-shift=1, sleep=off for calib/set-ups}) on a 2-core"
		echo "host shared with other VMs (load average at the end: $(cut -d' ' -f1-3 /proc/loadavg))."
		echo "Absolute figures are emulation figures, not hardware; compare only ratios from one run."
		cat "$OUT/commit" 2>/dev/null ||
			echo "Commit $(git -C "$TOP" rev-parse --short HEAD) (when the report was written)."
		[ -s "$OUT/times.txt" ] && { echo; echo "Wall time on the host:"; echo; cat "$OUT/times.txt"; }
		echo
		echo "## Traces (compacted, see bench/trace2iolog.py)"
		echo
		echo '```'
		cat "$OUT/traces.txt" 2>/dev/null || echo "(no traces.txt)"
		echo '```'
		echo
		echo "## Calibration (bench-calib)"
		echo
		rows bench-calib
		echo
		echo "## Set-ups (bench-setups)"
		echo
		rows bench-setups
		echo
		echo "## Normalised execution time (set-up / SSD only, same workload, VMs and pass)"
		echo
		echo "Paper (figures 5-8): SSD only was 2.2x faster than its 50/50 hybrid on web search"
		echo "and 1.3x on OLTP, i.e. hybrid/SSD = 2.2 and 1.3."
		echo
		rows bench-setups | awk -F'|' '
			/^\| *[a-z]/ && NF >= 13 && $5 + 0 > 0 {
				wl = $2; n = $3; su = $4; p = $5; t = $6
				gsub(/ /, "", wl); gsub(/ /, "", n); gsub(/ /, "", su); gsub(/ /, "", p); gsub(/ /, "", t)
				k = wl "|" n "|" p; T[k, su] = t; K[k] = 1; S[su] = 1
				if (!(su in O)) { O[su] = ++ns; L[ns] = su }
			}
			END {
				printf "0| workload | VMs | pass |"
				for (i = 1; i <= ns; i++) printf " %s |", L[i]
				printf "\n0|---|---|---|"
				for (i = 1; i <= ns; i++) printf "---|"
				printf "\n"
				for (k in K) {
					split(k, a, "|"); b = T[k, "ssd"]
					printf "1| %s | %s | %s |", a[1], a[2], a[3]
					for (i = 1; i <= ns; i++)
						if (b > 0 && T[k, L[i]] != "") printf " %.2f |", T[k, L[i]] / b
						else printf " - |"
					printf "\n"
				}
			}' | sort | cut -c2-
		echo
		warm_table
		echo
		echo "## Data path: dm-hybrid all on SSD vs dm-linear (bench-datapath)"
		echo
		rows bench-datapath
		echo
		echo "## Scale: 64 TiB HDD + 4 TiB SSD on dm-zero (bench-scale)"
		echo
		rows bench-scale
	} > "$OUT/report.md"
}

# norm_tsv: "workload VMs set-up time/SSD" for the last (warmest) pass of
# every workload and VM count, from bench-setups' rows.
norm_tsv() {
	rows bench-setups | awk -F'|' '
		/^\| *[a-z]/ && NF >= 13 && $5 + 0 > 0 {
			for (i = 2; i <= 6; i++) gsub(/ /, "", $i)
			k = $2 " " $3; if ($5 + 0 >= P[k] + 0) P[k] = $5
			T[k, $5, $4] = $6; S[$4] = 1; if (!($4 in O)) { O[$4] = ++ns; L[ns] = $4 }
		}
		END {
			for (k in P) {
				b = T[k, P[k], "ssd"]
				for (i = 1; i <= ns; i++)
					if (b > 0 && T[k, P[k], L[i]] != "")
						printf "%s %s %.3f\n", k, L[i], T[k, P[k], L[i]] / b
			}
		}' | sort -k1,1 -k2,2n
}

# warm_table: the last pass normalised to SSD only, the paper's figure
# beside (its hybrid was 2.2x slower than SSD only on web search and 1.3x
# on OLTP), and one PNG per workload (time/SSD vs VMs, one line per set-up).
warm_table() {
	local tsv=$OUT/normalised.tsv wl su
	norm_tsv > "$tsv"
	[ -s "$tsv" ] || { echo "(no bench-setups rows)"; return; }
	echo "## Normalised execution time, last (warm) pass: set-up / SSD only"
	echo
	echo "Paper (figures 5-8, its 50/50 hybrid / SSD only): web search 2.2, OLTP 1.3 (1 to 4 VMs)."
	echo "Here: dm-hybrid = the 'hybrid' column (SSD = 50 % of the VMs' volumes, 1 MiB chunks);"
	echo "'hybrid-256k' is the same pool with 256 KiB chunks."
	echo
	awk 'BEGIN { n = split("hdd ssd hybrid hybrid-256k hybrid-nomig dmcache bcache writeboost", L, " ")
			for (i = 1; i <= n; i++) O[L[i]] = i }
		{ K[$1 " " $2] = 1; V[$1 " " $2, $3] = $4; if (!($3 in O)) { O[$3] = ++n; L[n] = $3 } }
		END {
			printf "0 0 0| workload | VMs |"; for (i = 1; i <= n; i++) printf " %s |", L[i]
			printf " paper hybrid |\n0 0 1|---|---|"; for (i = 1; i <= n; i++) printf "---|"
			printf "---|\n"
			for (k in K) {
				split(k, a, " "); p = a[1] == "websearch" ? "2.2" : a[1] == "oltp" ? "1.3" : "-"
				printf "1 %s| %s | %s |", k, a[1], a[2]
				for (i = 1; i <= n; i++) printf " %s |", (k SUBSEP L[i]) in V ? sprintf("%.2f", V[k, L[i]]) : "-"
				printf " %s |\n", p
			}
		}' "$tsv" | sort -k1,1n -k2,2 -k3,3n | sed 's/^[^|]*|/|/'
	command -v gnuplot >/dev/null || { echo; echo "(gnuplot missing: no plots)"; return; }
	echo
	for wl in $(cut -d' ' -f1 "$tsv" | sort -u); do
		for su in $(cut -d' ' -f3 "$tsv" | sort -u); do
			awk -v w="$wl" -v s="$su" '$1 == w && $3 == s { print $2, $4 }' "$tsv" > "$OUT/.plot-$wl-$su.dat"
		done
		{
			echo "set terminal pngcairo size 960,540"
			echo "set output '$OUT/norm-$wl.png'"
			echo "set title 'dm-hybrid bench: $wl, last pass, execution time / SSD only (emulated devices)'"
			echo "set xlabel 'VMs'; set ylabel 'normalised execution time (log)'; set logscale y"
			echo "set xtics 1; set key outside right; set grid"
			printf "plot "
			sep=""
			for su in hdd ssd hybrid hybrid-256k hybrid-nomig dmcache bcache writeboost; do
				[ -s "$OUT/.plot-$wl-$su.dat" ] || continue
				printf "%s'%s' using 1:2 with linespoints title '%s'" "$sep" "$OUT/.plot-$wl-$su.dat" "$su"
				sep=", "
			done
			case $wl in
			websearch) printf ", 2.2 with lines dt 2 lc 'black' title 'paper hybrid (2.2)'" ;;
			oltp) printf ", 1.3 with lines dt 2 lc 'black' title 'paper hybrid (1.3)'" ;;
			esac
			echo
		} | gnuplot && echo "![$wl](norm-$wl.png)"
		rm -f "$OUT"/.plot-"$wl"-*.dat
	done
}

# "report": rebuild report.md in BENCH_OUT from the cases' last logs.
if [ "$MODE" = report ]; then
	[ -n "${BENCH_OUT:-}" ] || { echo "report needs BENCH_OUT" >&2; exit 2; }
	mkdir -p "$OUT"
	report
	echo "report: ${OUT#"$TOP"/}/report.md"
	exit 0
fi
rm -rf "$DATA" && mkdir -p "$DATA" "$OUT"
# dm-writeboost (a peer set-up) is built out of tree once; the initramfs
# ships it when it exists (bench/writeboost-build.sh says why)
"$TOP/bench/writeboost-build.sh" >/dev/null ||
	echo "bench: dm-writeboost did not build: its set-up will fail" >&2
trap 'rm -rf "$DATA" "$DATA-work" "$DATA".s*' EXIT
T0=$SECONDS
L0=$(cut -d' ' -f1-3 /proc/loadavg)
# bench-setups as this many VMs side by side (setups_sharded): two, one
# per core of the hosts here
SHARDS=${BENCH_SHARDS:-2}
case $MODE in
quick)	# 1 and 2 VMs, the paper's two workloads (zipf in the warm-up), small;
	# calibration on 256 MiB devices, 1 s per SSD job (every row kept)
	MAX=300
	# guest RAM: booting costs wall time per GiB; quick needs ~0.5 GiB of RAM disks
	MEM=1536
	CASES=${BENCH_CASES:-bench-calib bench-setups}
	cat > "$DATA/config" <<-EOF
		VMS="1 2"
		SETUPS="hdd ssd hybrid dmcache bcache"
		WORKLOADS="websearch oltp"
		PASSES=2
		OLTP_IOS=300
		ZIPF_IOS=300
		VOL_MB=64
		CALIB_RUNTIME=2
		CALIB_SSD_RUNTIME=1
		CALIB_MB=256
		WARM_PHASES=5
		WARM_SECS=2
		BCACHE_SETTLE=0
		EOF
	;;
full)
	# 1,000 requests per VM and pass, 128 MiB volumes (2,000 and
	# 192 MiB before 2026-11-25: about 4 h of host CPU for every set-up
	# x workload x VM count, more than a session here)
	MAX=1000
	# 4 VMs x 128 MiB on each of three RAM disks; 2048 ran out of memory
	# at 4 VMs under dm-writeboost (2026-11-25: the OOM killer took fio)
	MEM=3072
	CASES=${BENCH_CASES:-bench-calib bench-setups bench-datapath bench-scale}
	cat > "$DATA/config" <<-EOF
		VMS="1 2 3 4"
		SETUPS="hdd ssd hybrid hybrid-256k hybrid-nomig dmcache bcache writeboost"
		WORKLOADS="websearch msr cloudphysics oltp zipf scan"
		PASSES=3
		OLTP_IOS=1000
		ZIPF_IOS=1000
		VOL_MB=128
		CALIB_RUNTIME=4
		WARM_PHASES=10
		WARM_SECS=3
		BCACHE_SETTLE=14
		DP_RUNTIME=2
		DP_ROUNDS=8
		EOF
	;;
smoke)	# every set-up once, tiny: checks that the machinery works
	MAX=200
	MEM=1536
	CASES=${BENCH_CASES:-bench-setups}
	cat > "$DATA/config" <<-EOF
		VMS="1"
		SETUPS="hdd ssd hybrid hybrid-256k hybrid-nomig dmcache bcache writeboost"
		WORKLOADS="oltp websearch"
		PASSES=1
		OLTP_IOS=200
		VOL_MB=64
		WARM_SETUPS="ssd hybrid"
		WARM_PHASES=2
		WARM_SECS=1
		EOF
	;;
*) echo "usage: $0 quick|full|smoke" >&2; exit 2 ;;
esac
# BENCH_SETUPS / BENCH_WORKLOADS / BENCH_VMS narrow a run (debugging);
# BENCH_WARM_SETUPS the warm-up ("none": no warm-up table).
for v in SETUPS WORKLOADS VMS WARM_SETUPS; do
	eval "x=\${BENCH_$v:-}"
	x=${x//,/ }	# "3,4" or "3 4"
	# shellcheck disable=SC2154 # x is set by the eval
	[ -z "$x" ] || echo "$v=\"$x\"" >> "$DATA/config"
done

conv() {	# conv NAME TRACE [--skip N]
	local name=$1 trace=$2
	shift 2
	python3 "$TOP/bench/trace2iolog.py" --max "$MAX" "$@" "$TRACES/$trace" "$DATA/$name.iolog"
	echo "$name $trace $(cat "$DATA/$name.meta")"
}
{
	echo "iolog requests compacted-bytes read% footprint-bytes"
	conv websearch websearch1-60s.spc
	conv msr msr-rw20-80.trace
	conv msrrand msr-rand-iops.trace
	# the first 20,000 requests are 85 % writes; the slice after is mixed
	conv cloudphysics cloudphysics-vm.csv --skip 20000
	conv tencent tencent-rw75-25.trace
} > "$OUT/traces.txt"
# every replayed trace must fit in a VM volume
need=$(awk 'NR > 1 { if ($4 > m) m = $4 } END { print int(m / 1048576) + 1 }' "$OUT/traces.txt")
vol=$(sed -n 's/^VOL_MB=//p' "$DATA/config")
if [ "$need" -gt "${vol:-256}" ]; then
	echo "VOL_MB=$need" >> "$DATA/config"
fi
cp "$DATA/config" "$OUT/config"
echo "Commit $(git -C "$TOP" rev-parse --short HEAD), $(git -C "$TOP" status --porcelain \
	--untracked-files=no | wc -l) files modified in the working tree (the run built it as it was)." > "$OUT/commit"

rc=0
: > "$OUT/tap.txt"
: > "$OUT/times.txt"
# Every bench VM counts instructions: one vCPU, single-threaded TCG and
# -icount, so guest time advances with instructions executed (and with
# real time only while the guest idles).  CPU-bound paths (the virtio
# "SSD", dm targets, fio) then cost the same guest time however loaded the
# shared host is; dm-hddsim's timers run in guest time too.  bench-calib
# and bench-setups keep every disk in guest RAM, so with sleep=off an idle
# guest's clock jumps to its next timer (the disk models' service times
# cost no wall time, and host load none of guest time).  The others use
# virtio disks, whose host-side time must pass in guest time too: sleep=on.
icount_of() {
	case $1 in
	bench-calib|bench-setups) echo shift=1,sleep=off ;;
	*) echo shift=1,sleep=on ;;
	esac
}
# bench_run DATA LOGS CASE...: one tests/run of the cases, on one vCPU
# under -icount, with this run's data, logs and disks.
bench_run() {
	local data=$1 logs=$2 ic
	shift 2
	ic=$(icount_of "$1")
	VM_ACCEL=tcg,thread=single VM_CPUS=1 VM_ICOUNT=${BENCH_ICOUNT:-$ic} VM_MEM=${BENCH_MEM:-$MEM} \
		DMH_CASE_DATA="$data" DMH_BENCH_DIR="$data" DMH_LOGS="$logs" DMH_WORK="$data-work" \
		"$TOP/tests/run" --kernel debian --tier bench -j 1 "$@"
}

# keep_rows CASE LOGS T0: this run's rows of CASE in OUT (LOGS is not
# kept in git), if its log is newer than T0 (SECONDS).
keep_rows() {
	local log=$2/debian/$1/boot1.log
	[ -f "$log" ] && [ "$(stat -c %Y "$log")" -ge $(($(date +%s) - SECONDS + $3)) ] || return 0
	echo "# log ${log#"$TOP"/}, $(date -u -r "$log" '+%H:%M UTC')"
	tr -d '\r' < "$log" | grep -a '^DMH-BENCH '
}

case_time() {	# case_time CASE: its boot-to-power-off time from tap.txt
	local t
	t=$(sed -n "s|^.*ok [0-9]* - debian/$1 # \([0-9]*\)s\$|\1|p" "$OUT/tap.txt" | tail -1)
	echo "  - $1: ${t:-?} s (boot to power-off)" >> "$OUT/times.txt"
}

# shard_vms N VMS...: the VM counts split into N shards of about the same
# work (a shard's work grows with its VMs): the largest count first, each
# into the shard with the smallest sum so far.  One line per shard.
shard_vms() {
	local n=$1
	shift
	printf '%s\n' "$@" | sort -rn | awk -v n="$n" '
		{ b = 1; for (i = 2; i <= n; i++) if (sum[i] < sum[b]) b = i
		  sum[b] += $1; s[b] = s[b] " " $1 }
		END { for (i = 1; i <= n; i++) if (s[i] != "") print substr(s[i], 2) }'
}

# merge_rows FILE...: one bench-setups table from the shards' rows (each
# FILE as keep_rows wrote it): the first shard's lines, with every
# shard's per-pass rows in the main table, ordered by VM count.
merge_rows() {
	awk -F'|' '
		FNR == 1 { f++; next }	# "# log ..." (the caller says where)
		/^DMH-BENCH \| *[a-z]/ && NF >= 13 && $3 + 0 > 0 {
			row[$3 + 0] = row[$3 + 0] $0 "\n"; if (f == 1) last = FNR; next
		}
		f == 1 { pre[FNR] = $0; n1 = FNR }
		f > 1 && /^DMH-BENCH config:/ { extra = extra $0 "\n" }
		END {
			for (i = 2; i <= n1; i++) {
				if (i > last && !done) {
					for (v = 1; v <= 64; v++) printf "%s", row[v]
					done = 1
				}
				if (i in pre) print pre[i]
				if (i == 2) printf "%s", extra
			}
			if (!done) for (v = 1; v <= 64; v++) printf "%s", row[v]
		}' "$@"
}

# setups_sharded: bench-setups as BENCH_SHARDS VMs side by side, each on
# its own share of the VM counts with its own config, logs and disks (the
# first shard alone makes the warm-up table).  Each shard normalises to
# its own SSD only rows, as one run does: every ratio stays within one
# boot.  The tests/runs share the module build (tests/run locks it), and
# the next shard starts once the previous one has booted.
setups_sharded() {
	local t0=$SECONDS k=0 pids=() files=() vms d log
	# shellcheck disable=SC2046 # the VM counts are a list
	while read -r vms; do
		k=$((k + 1))
		d=$DATA.s$k
		rm -rf "$d" "$d-work" && cp -r "$DATA" "$d"
		echo "VMS=\"$vms\"" >> "$d/config"
		[ $k -eq 1 ] || echo 'WARM_SETUPS="none"' >> "$d/config"
		bench_run "$d" "$RUNLOGS/s$k" bench-setups | sed "s/^/shard $k ($vms VMs): /" >> "$OUT/tap-s$k.txt" &
		pids+=($!)
		files+=("$OUT/rows-s$k.txt")
		log=$RUNLOGS/s$k/debian/bench-setups/boot1.log
		for _ in $(seq 600); do [ -s "$log" ] || ! kill -0 $! 2>/dev/null && break; sleep 1; done
		sleep 5	# QEMU has read this shard's initramfs
	done < <(shard_vms "$SHARDS" $(sed -n 's/^VMS="\(.*\)"$/\1/p' "$DATA/config" | tail -1))
	for p in "${pids[@]}"; do wait "$p" || rc=1; done
	for ((i = 1; i <= k; i++)); do
		cat "$OUT/tap-s$i.txt" >> "$OUT/tap.txt"
		grep -q "ok [0-9]* - debian/bench-setups" "$OUT/tap-s$i.txt" || rc=1
		grep -q "not ok [0-9]* - debian/bench-setups" "$OUT/tap-s$i.txt" && rc=1
		keep_rows bench-setups "$RUNLOGS/s$i" "$t0" > "$OUT/rows-s$i.txt"
		rm -rf "$DATA.s$i" "$DATA.s$i-work"
	done
	{
		echo "# logs ${RUNLOGS#"$TOP"/}/s1-s$k (one per shard), $(date -u '+%H:%M UTC')"
		merge_rows "${files[@]}"
	} > "$OUT/bench-setups.txt"
	rm -f "${files[@]}" "$OUT"/tap-s*.txt
	echo "- bench-setups in $k shards side by side: $((SECONDS - t0)) s of wall time" >> "$OUT/times.txt"
	for ((i = 1; i <= k; i++)); do
		bad=$(sed -n "s|^shard $i (.*): not ok [0-9]* - debian/bench-setups # ||p" "$OUT/tap.txt")
		if [ -n "$bad" ]; then
			# A shard that failed keeps the rows it made; say so.
			echo "  - shard $i: **FAILED** ($bad): its rows stop where it failed" >> "$OUT/times.txt"
			continue
		fi
		echo "  - shard $i: $(sed -n "s|^shard $i (\(.*\)): .*ok [0-9]* - debian/bench-setups # \([0-9]*\)s\$|\1, \2 s (boot to power-off)|p" "$OUT/tap.txt")" >> "$OUT/times.txt"
	done
}

# Consecutive cases with the same -icount share one tests/run (one build
# of the module and initramfs); with BENCH_SHARDS > 1, bench-setups runs
# on its own, sharded.
# shellcheck disable=SC2086 # CASES is a list
set -- $CASES
while [ $# -gt 0 ]; do
	if [ "$1" = bench-setups ] && [ "$SHARDS" -gt 1 ]; then
		shift
		setups_sharded
		continue
	fi
	ic=$(icount_of "$1") group=""
	while [ $# -gt 0 ] && [ "$(icount_of "$1")" = "$ic" ] &&
		! { [ "$1" = bench-setups ] && [ "$SHARDS" -gt 1 ]; }; do
		group="$group $1"
		shift
	done
	t0=$SECONDS
	# shellcheck disable=SC2086 # group is a list
	bench_run "$DATA" "$RUNLOGS" $group | tee -a "$OUT/tap.txt" || rc=$?
	echo "- build + ${group# }: $((SECONDS - t0)) s of wall time" >> "$OUT/times.txt"
	for c in $group; do
		keep_rows "$c" "$RUNLOGS" "$t0" > "$OUT/$c.txt"
		[ -s "$OUT/$c.txt" ] || rm -f "$OUT/$c.txt"
		case_time "$c"
	done
done
# The processes' CPU time (user + sys: the builds and the single-threaded
# QEMU) is about what the run takes on an idle host; the wall time grows
# with the host's load (guest time does not: -icount).
# (times must run in this shell, not in a pipeline's subshell)
times > "$OUT/.times"
cpu=$(tail -1 "$OUT/.times" | awk '{ for (i = 1; i <= 2; i++) { split($i, a, /[ms]/); t += a[1] * 60 + a[2] }
	printf "%d", t }')
rm -f "$OUT/.times"
echo "- whole run: $((SECONDS - T0)) s of wall time, $cpu s of CPU time (user + sys of every process it ran); load average $L0 at the start, $(cut -d' ' -f1-3 /proc/loadavg) at the end" >> "$OUT/times.txt"

report
echo "report: ${OUT#"$TOP"/}/report.md"
exit $rc
