#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-only
#
# make bench-xen: the paper's experiment (HDD only / dm-hybrid / SSD only,
# 1 to 4 guests at once, web search and OLTP) in real PV guests under the
# Xen lab (Documentation/xen-lab.rst, "make bench-xen").
#   tests/xen/bench-xen.sh [run|smoke]     (smoke: 1 guest, tiny; checks
#                                          the machinery)
#   BENCH_OUT=DIR tests/xen/bench-xen.sh report   (rebuild report.md from
#                                          the last log)
# 1. converts the WebSearch1 trace into a fio iolog (bench/trace2iolog.py,
#    as bench/run.sh does) and packs the guests' bench init with it;
# 2. boots Xen + Dom0 (tests/xen/run tests/xen/bench-dom0.sh) with one
#    single-threaded TCG and -icount shift=1,sleep=off, as the bench VMs:
#    guest time is instructions executed plus the disk models' timers, so
#    the host's load does not enter the figures and waiting for the
#    emulated HDD costs no wall time;
# 3. writes bench/results/<UTC date-time>-xen/report.md: the rows, the
#    execution time normalised to SSD only beside the paper's figures,
#    the repeat (pass 3 against pass 2).
set -euo pipefail

HERE=$(cd "$(dirname "$0")" && pwd)
TOP=$(cd "$HERE/../.." && pwd)
MODE=${1:-run}
TRACES=${DMH_TRACES:-$TOP/../shared/traces}
DATA=$TOP/tests/.build/xen-bench-data
LOG=$TOP/tests/logs/xen/bench-dom0/boot1.log
OUT=${BENCH_OUT:-$TOP/bench/results/$(date -u +%Y%m%d-%H%M)-xen}
ICOUNT=${BENCH_ICOUNT:-shift=1,sleep=off}

rows() { tr -d '\r' < "$LOG" | sed -n 's/^DMH-BENCH //p'; }

# norm PASS: "| workload | guests | SSD only ms | hdd/ssd | hybrid/ssd |"
# rows for one pass (exec time = slowest guest's fio runtime).
norm() {
	rows | awk -F'|' -v P="$1" '
		/^\| *[a-z]/ && NF >= 13 && $5 + 0 > 0 {
			for (i = 2; i <= 6; i++) gsub(/ /, "", $i)
			T[$2 "|" $3 "|" $5, $4] = $6; K[$2 "|" $3] = 1
		}
		function r(a, b) { return (a > 0 && b > 0) ? sprintf("%.2f", a / b) : "-" }
		END {
			for (k in K) {
				split(k, a, "|"); s = T[k "|" P, "ssd"]
				pp = a[1] == "websearch" ? "2.2" : a[1] == "oltp" ? "1.3" : "-"
				printf "%s %03d| %s | %s | %s | %s | %s | %s | %s |\n", a[1], a[2], a[1], a[2],
					s == "" ? "-" : s, r(T[k "|" P, "hdd"], s), r(T[k "|" P, "hybrid"], s),
					r(T[k "|" P, "hybrid-256k"], s), pp
			}
		}' | sort | sed 's/^[^|]*|/|/'
}

# spread: per workload, guests and set-up, pass 3 against pass 2 (both
# warm; for hdd and ssd a plain repeat).
spread() {
	rows | awk -F'|' '
		/^\| *[a-z]/ && NF >= 13 && $5 + 0 > 0 {
			for (i = 2; i <= 6; i++) gsub(/ /, "", $i)
			T[$2 "|" $3 "|" $4, $5] = $6; K[$2 "|" $3 "|" $4] = 1
		}
		END {
			for (k in K) {
				if (!((k, 2) in T) || !((k, 3) in T)) continue
				split(k, a, "|"); d = (T[k, 3] - T[k, 2]) / T[k, 2] * 100
				printf "%s %03d %s| %s | %s | %s | %s | %s | %+.1f %% |\n", a[1], a[2], a[3],
					a[1], a[2], a[3], T[k, 2], T[k, 3], d
			}
		}' | sort | sed 's/^[^|]*|/|/'
}

report() {
	mkdir -p "$OUT"
	rows > "$OUT/rows.md"
	{
		echo "# dm-hybrid in Xen PV guests (make bench-xen), $(date -u '+%Y-%m-%d %H:%M UTC')"
		echo
		echo "Xen 4.17 + Debian's 6.12 kernel as PV Dom0 in QEMU, single-threaded TCG with"
		echo "\`-icount $ICOUNT\`, \`-cpu qemu64\`, 2 vCPUs; up to four PV guests (one vCPU,"
		echo "512 MiB each) whose xvda is \`phy:/dev/mapper/vmN\` through stock blkback."
		echo "Emulated SSD and HDD: dm-hddsim in Dom0 over Dom0 RAM disks, bench.sh's parameters"
		echo "(bench/README.md).  Guest time = instructions executed (2 ns each) plus the disk"
		echo "models' timers: absolute figures are emulation figures; compare ratios only."
		echo "Commit $(git -C "$TOP" rev-parse --short HEAD); host load at the end: $(cut -d' ' -f1-3 /proc/loadavg)."
		echo
		echo "## Trace"
		echo
		echo '```'
		cat "$DATA/traces.txt" 2>/dev/null || echo "(no traces.txt)"
		echo '```'
		echo
		echo "## Normalised execution time (set-up / SSD only, pass 2: warm)"
		echo
		echo "Execution time of a pass = the slowest guest's fio runtime (guest clock)."
		echo "Paper (figures 5-8): SSD only was 2.2x faster than its 50/50 hybrid on web search"
		echo "and 1.3x on OLTP, i.e. hybrid / SSD only = 2.2 and 1.3."
		echo
		echo "| workload | guests | SSD only ms | HDD only / SSD | dm-hybrid / SSD | dm-hybrid 256 KiB / SSD | paper hybrid / SSD |"
		echo "|---|---|---|---|---|---|---|"
		norm 2
		echo
		echo "## The same for pass 3 (a repeat of pass 2)"
		echo
		echo "| workload | guests | SSD only ms | HDD only / SSD | dm-hybrid / SSD | dm-hybrid 256 KiB / SSD | paper hybrid / SSD |"
		echo "|---|---|---|---|---|---|---|"
		norm 3
		echo
		echo "## Pass 1 (cold: dm-hybrid's first pass places and promotes)"
		echo
		echo "| workload | guests | SSD only ms | HDD only / SSD | dm-hybrid / SSD | dm-hybrid 256 KiB / SSD | paper hybrid / SSD |"
		echo "|---|---|---|---|---|---|---|"
		norm 1
		echo
		echo "## Spread: pass 3 against pass 2, execution time ms"
		echo
		echo "| workload | guests | set-up | pass 2 | pass 3 | change |"
		echo "|---|---|---|---|---|---|"
		spread
		echo
		echo "## All passes (Dom0's rows)"
		echo
		cat "$OUT/rows.md"
		echo
		echo "Log: ${LOG#"$TOP"/} ($(date -u -r "$LOG" '+%H:%M UTC')); Dom0 stamps:"
		echo
		echo '```'
		tr -d '\r' < "$LOG" | grep -a -E '^DMH-XEN-TIME|^DMH-RESULT' || true
		echo '```'
	} > "$OUT/report.md"
	rm -f "$OUT/rows.md"
}

if [ "$MODE" = report ]; then
	[ -n "${BENCH_OUT:-}" ] || { echo "report needs BENCH_OUT" >&2; exit 2; }
	report
	echo "report: ${OUT#"$TOP"/}/report.md"
	exit 0
fi

rm -rf "$DATA"
mkdir -p "$DATA"
case $MODE in
run)	# 1-4 guests, both workloads, three passes
	MAX=300
	cat > "$DATA/config" <<-EOF
		VMS="${BENCH_VMS:-1 2 3 4}"
		SETUPS="${BENCH_SETUPS:-hdd ssd hybrid hybrid-256k}"
		WORKLOADS="${BENCH_WORKLOADS:-websearch oltp}"
		PASSES=3
		VOL_MB=64
		OLTP_IOS=300
		QD=8
		EOF
	;;
smoke)	# one guest, tiny (BENCH_MAX, BENCH_OLTP_IOS, BENCH_PASSES: larger)
	MAX=${BENCH_MAX:-50}
	cat > "$DATA/config" <<-EOF
		VMS="1"
		SETUPS="${BENCH_SETUPS:-hdd ssd hybrid hybrid-256k}"
		WORKLOADS="websearch oltp"
		PASSES=${BENCH_PASSES:-2}
		VOL_MB=32
		OLTP_IOS=${BENCH_OLTP_IOS:-50}
		QD=8
		EOF
	;;
*) echo "usage: $0 run|smoke|report" >&2; exit 2 ;;
esac
python3 "$TOP/bench/trace2iolog.py" --max "$MAX" "$TRACES/websearch1-60s.spc" "$DATA/websearch.iolog"
{
	echo "iolog requests compacted-bytes read% footprint-bytes"
	echo "websearch websearch1-60s.spc $(cat "$DATA/websearch.meta")"
} > "$DATA/traces.txt"
rm -f "$DATA/websearch.meta"
need=$(awk 'NR > 1 { print int($4 / 1048576) + 1 }' "$DATA/traces.txt")
vol=$(sed -n 's/^VOL_MB=//p' "$DATA/config")
[ "$need" -le "$vol" ] || { echo "the iolog needs ${need} MiB > VOL_MB=$vol" >&2; exit 1; }
# The guests' layer: bench init as /init, the iolog (appended by Dom0 to
# the lab's guest.cpio).
stage=$(mktemp -d)
install -D -m 0755 "$HERE/bench-guest-init" "$stage/init"
install -D -m 0644 "$DATA/websearch.iolog" "$stage/lib/dmh/bench/websearch.iolog"
(cd "$stage" && find init lib | cpio -o -H newc -R 0:0 --quiet) > "$DATA/guest-overlay.cpio"
rm -rf "$stage"
mkdir -p "$OUT"
cp "$DATA/config" "$OUT/config"
t0=$SECONDS
rc=0
# Dom0 2 GiB (the RAM disks behind the models), four 512 MiB guests.
# Timeout 3 h: N = 1-4 took over 90 min of wall time at host load 5-7
# (the first full run timed out at 5400 s inside N = 4).
VM_ACCEL=tcg,thread=single VM_ICOUNT=$ICOUNT XEN_MEM=${XEN_MEM:-5120} XEN_DOM0_MEM=${XEN_DOM0_MEM:-2048M} \
	XEN_TIMEOUT=${XEN_TIMEOUT:-10800} DMH_BENCH_DIR="$DATA" \
	"$TOP/tests/xen/run" "$TOP/tests/xen/bench-dom0.sh" | tee "$OUT/tap.txt" || rc=$?
echo "# wall time $((SECONDS - t0)) s" | tee -a "$OUT/tap.txt"
report
echo "report: ${OUT#"$TOP"/}/report.md"
exit $rc
