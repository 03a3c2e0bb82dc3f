#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-only
#
# "make demo": boot the stock Debian kernel in the lab VM with an emulated
# SSD and HDD (dm-hddsim), build a pool with hybridctl, run four VM
# volumes with different workloads at once (two trace replays from
# ../shared/traces, an OLTP-like job and a backup scan) and show the
# per-VM statistics live while the monitor moves data (guest side:
# scripts/demo/demo.sh).  Ends with a summary table and a chart, written
# to demo-results/<UTC date>/.  Exits non-zero when the VM run failed
# (the pool or a workload).
#   DEMO_RUN=SECONDS (default 120) sets how long the workloads run;
#   DEMO_BLOCK=SIZE (default 0: none) a block tier, with write staging
#   (e.g. 64M); DEMO_PERSIST=1 adds persistent staging.
set -euo pipefail
cd "$(dirname "$0")/.."
TOP=$PWD
TRACES=${DMH_TRACES:-$TOP/../shared/traces}
OUT=$TOP/demo-results/$(date -u +%Y%m%d-%H%M%S)
LOG=$TOP/tests/logs/debian/demo/boot1.log
mkdir -p "$OUT/data"

# The traces become fio iologs (compacted to fit a 192 MiB volume).
for t in "web websearch1-60s.spc" "msr msr-rw20-80.trace"; do
	set -- $t	# name, trace file
	python3 bench/trace2iolog.py --max 4000 "$TRACES/$2" "$OUT/data/$1.iolog"
done
# DEMO_RUN: a copy of the case with another RUN (the guest sees no host
# environment).
if [ -n "${DEMO_RUN:-}${DEMO_BLOCK:-}${DEMO_PERSIST:-}" ]; then
	mkdir -p "$OUT/case"
	sed -e "s/^RUN=\\\${DEMO_RUN:-120}/RUN=${DEMO_RUN:-120}/" \
		-e "s/^BLOCK=\\\${DEMO_BLOCK:-0}/BLOCK=${DEMO_BLOCK:-0}/" \
		-e "s/^PERSIST=\\\${DEMO_PERSIST:-0}/PERSIST=${DEMO_PERSIST:-0}/" \
		scripts/demo/demo.sh > "$OUT/case/demo.sh"
	CASEDIR=$OUT/case
else
	CASEDIR=$TOP/scripts/demo
fi

echo "dm-hybrid demo: building, then booting the VM (QEMU TCG, no KVM: slow but real)"
rm -rf "$(dirname "$LOG")"
t0=$SECONDS
DMH_CASES=$CASEDIR DMH_CASE_DATA=$OUT/data \
	tests/run --kernel debian --tier all -j 1 demo > "$OUT/tap.txt" 2>&1 &
run=$!
# The guest's console, live, without kernel messages and data lines.
tail -n +1 -F "$LOG" 2>/dev/null > >(sed -u -e 's/\r$//' -e '/^\[/d' -e '/^DMH-/d') &
tailpid=$!
rc=0
wait $run || rc=$?
sleep 1
kill $tailpid 2>/dev/null || true
wait $tailpid 2>/dev/null || true
echo
grep -v '^#' "$OUT/tap.txt" || true
[ -f "$LOG" ] && tr -d '\r' < "$LOG" > "$OUT/console.log"

# The chart: SSD residency and IOPS of every VM over time.
if [ -f "$OUT/console.log" ] && grep -q '^DMH-DEMO t=' "$OUT/console.log"; then
	vols=$(sed -n 's/^DMH-DEMO start vols=\([^ ]*\).*/\1/p' "$OUT/console.log" | tr , ' ')
	for v in $vols; do
		sed -n "s/^DMH-DEMO t=\([0-9]*\) vol=$v iops=\([0-9.]*\) read_pct=[0-9.]* ssd_pct=\([0-9.]*\) hit_pct=\([0-9.-]*\).*/\1 \2 \3 \4/p" \
			"$OUT/console.log" > "$OUT/$v.dat"
	done
	if command -v gnuplot >/dev/null; then
		{
			echo "set terminal pngcairo size 1000,900 font 'sans,10'"
			echo "set output '$OUT/demo.png'"
			echo "set multiplot layout 3,1 title 'dm-hybrid demo: four VM volumes, one pool (SSD 256 MiB, HDD dm-hddsim)'"
			echo "set key outside right; set grid; set xlabel 'seconds'"
			echo "set ylabel 'SSD residency (% of mapped chunks)'; set yrange [0:100]"
			printf "plot "
			for v in $vols; do printf "'%s' using 1:3 with linespoints title '%s', " "$OUT/$v.dat" "$v"; done
			echo
			echo "set ylabel 'SSD hit % (I/O served by the SSD)'"
			printf "plot "
			for v in $vols; do printf "'%s' using 1:4 with linespoints title '%s', " "$OUT/$v.dat" "$v"; done
			echo
			echo "set ylabel 'IOPS (log scale)'; set yrange [1:*]; set logscale y"
			printf "plot "
			for v in $vols; do printf "'%s' using 1:(\$2>0?\$2:1/0) with linespoints title '%s', " "$OUT/$v.dat" "$v"; done
			echo
			echo "unset multiplot"
		} | sed 's/, $//' > "$OUT/demo.gp"
		if gnuplot "$OUT/demo.gp"; then
			echo "chart: ${OUT#"$TOP"/}/demo.png"
		else
			echo "chart: gnuplot failed (script ${OUT#"$TOP"/}/demo.gp)"
		fi
	else
		echo "chart: gnuplot is missing (scripts/setup.sh installs gnuplot-nox)"
	fi
fi
echo "console log and data: ${OUT#"$TOP"/}/ (whole run $((SECONDS - t0)) s)"
exit $rc
