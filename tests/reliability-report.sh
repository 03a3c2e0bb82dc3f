#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-only
#
# Reliability report (issue 7), printed at the end of "make check-long".
#
#   tests/reliability-report.sh [LOGDIR]     (default tests/logs)
#
# Cases report figures on the guest console as one line each:
#
#   DMH-REL key=value [key=value...] case=NAME
#
# with non-negative integer values; the keys in use are listed below, and
# any other key is summed and printed the same way.  The kernel name comes
# from the log's directory (tests/logs/<kernel>/<case>/boot<N>.log).  On
# top of those figures the report counts the boot logs that hold a kernel
# report (the runner's own rule, tests/lab/verdict.sh), leaving out cases
# that expect one (# expect: kernel-report).
#
# Keys: faults (faults injected), fuzz (fuzz cases run), fuzz_failed,
# mdimages (corrupted metadata images tried), soak_iterations,
# soak_failed; the power-cut and replay cases add theirs (powercuts,
# replay_points, lost, ...).
set -euo pipefail

TOP=$(cd "$(dirname "$0")/.." && pwd)
LOGS=${1:-$TOP/tests/logs}
# shellcheck source=tests/lab/verdict.sh
. "$TOP/tests/lab/verdict.sh"

declare -A total=()
rows=()
reports=0
report_logs=()
shopt -s nullglob
for log in "$LOGS"/*/*/boot*.log; do
	rel=${log#"$LOGS"/}
	kernel=${rel%%/*}
	c=${rel#*/}
	c=${c%%/*}
	[ "$kernel" = steps ] && continue
	if [ -f "$TOP/tests/cases/$c.sh" ] &&
		grep -q '^# expect: kernel-report' "$TOP/tests/cases/$c.sh"; then
		:
	elif [ -n "$(kernel_report "$log")" ]; then
		reports=$((reports + 1))
		report_logs+=("${log#"$TOP"/}")
	fi
	while IFS= read -r line; do
		fields=""
		for kv in ${line#DMH-REL }; do
			k=${kv%%=*} v=${kv#*=}
			[ "$k" = case ] && continue
			[[ $v =~ ^[0-9]+$ ]] || continue
			total[$k]=$(( ${total[$k]:-0} + v ))
			fields+=" $k=$v"
		done
		rows+=("$(printf '%-8s %-22s%s' "$kernel" "$c" "$fields")")
	done < <(tr -d '\r' < "$log" | grep -a '^DMH-REL ' || true)
done

echo "# reliability report (DMH-REL lines in ${LOGS#"$TOP"/})"
if [ ${#rows[@]} -eq 0 ]; then
	echo "# no case reported figures"
else
	printf '# %-8s %-22s %s\n' kernel case figures
	for r in "${rows[@]}"; do echo "# $r"; done
fi
echo "# totals:"
for k in $(printf '%s\n' "${!total[@]}" | sort); do
	printf '#   %-20s %s\n' "$k" "${total[$k]}"
done
printf '#   %-20s %s\n' kernel_reports "$reports"
for l in "${report_logs[@]}"; do echo "#     $l"; done
[ "$reports" -eq 0 ]
