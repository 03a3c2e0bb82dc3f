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
# any other key is summed and printed the same way.  A long case may also
# print running figures as it goes,
#
#   DMH-REL-PARTIAL key=value [key=value...] case=NAME
#
# and when its log has no final DMH-REL line (a timeout, a kill, a failure
# before the end) its last DMH-REL-PARTIAL line counts instead, marked
# "partial".  So logs of separate, partial runs combine into one report,
# and the report says which figures are partial.
#
# Every case that prints DMH-REL (in its own file or a tests/lib file it
# sources) is listed for each kernel of its "# kernels:" directive with the
# state of its log: pass, FAIL, incomplete (timeout, no result), running
# (empty log) or not run (no log), and the log's date.  The kernel name
# comes from the log's directory (tests/logs/<kernel>/<case>/boot<N>.log).
#
# On top of those figures the report counts the boot logs that hold a
# kernel report (the runner's own rule, tests/lab/verdict.sh), leaving out
# cases that expect one (# expect: kernel-report) and the logs the runner
# kept aside as the emulator's (boot<N>.pre-init.log); the stack dumps of
# cases with "# alloc-failure-dumps: allowed" are judged as the runner
# judges them.
#
# The power-cut campaign's tally (tests/logs/campaign/<kernel>-<case>/)
# is listed and summed the same way, as kernel "campaign".
#
# A case the runner ran again because a kernel report in its middle was
# the emulator's (reserved EFLAGS bits set, tests/lab/verdict.sh) keeps the
# first attempt's logs in <case>/emulator/; they are judged again and
# listed as emulator_faults, apart from kernel_reports.
#
# Keys: faults (faults injected), alloc_points (fault points the fail-nth
# sweeps covered), fuzz (fuzz cases run), fuzz_failed,
# mdimages (corrupted metadata images tried), soak_iterations,
# soak_failed; the power-cut and replay cases add theirs (powercuts,
# replay_points, replay_failed, flakey_cuts, lost, ...).
#
# Exit status 1 if any kernel report was found or any acknowledged write
# was lost (the "lost" total), else 0.
set -euo pipefail

TOP=$(cd "$(dirname "$0")/.." && pwd)
LOGS=${1:-$TOP/tests/logs}
CASES=$TOP/tests/cases
# shellcheck source=tests/lab/verdict.sh
. "$TOP/tests/lab/verdict.sh"
# shellcheck source=tests/lab/cases.sh
. "$TOP/tests/lab/cases.sh"

# case_of[NAME]: the file of each case (tests/cases/<area>/<name>.sh).
declare -A case_of=()
case_list=$(case_files "$CASES")
mapfile -t case_paths <<<"$case_list"
for f in "${case_paths[@]}"; do
	case_of[$(basename "$f" .sh)]=$f
done

directive() {	# directive FILE NAME: the value of "# NAME: value"
	sed -n "s/^# $2: *//p" "$1" | head -n1
}

# reports_figures CASEFILE: the case or a library it sources prints DMH-REL.
reports_figures() {
	local f=$1 lib
	grep -q 'DMH-REL' "$f" && return 0
	while read -r lib; do
		[ -f "$TOP/tests/lib/$lib" ] && grep -q 'DMH-REL' "$TOP/tests/lib/$lib" && return 0
	done < <(sed -n 's|^\. /lib/dmh/\([A-Za-z0-9_-]*\.sh\).*|\1|p' "$f")
	return 1
}

# figures LINE: FIG="k=v k=v" with the integer values of a DMH-REL line,
# and the totals updated (no subshell: it sets globals).
declare -A total=()
FIG=""
figures() {
	local kv k v
	FIG=""
	for kv in ${1#DMH-REL* }; do
		k=${kv%%=*} v=${kv#*=}
		[ "$k" = case ] && continue
		[[ $v =~ ^[0-9]+$ ]] || continue
		total[$k]=$(( ${total[$k]:-0} + v ))
		FIG+="${FIG:+ }$k=$v"
	done
}

rows=()
reports=0
report_logs=()
shopt -s nullglob

# Kernel reports, in every boot log (and in the logs the power-cut
# campaign kept of its failed chains; it removes those of passed ones,
# whose boots the runner found free of reports).  The boot logs the runner
# kept aside when a kernel report in the middle of a case was the
# emulator's (tests/lab/verdict.sh, emulator_restart; the case ran again
# from its first boot), <case>/emulator/ and, for the campaign's chains,
# campaign/emulator/<kernel>-<case>-<seed>/, are judged again: a report
# there that emulator_flags does not explain counts as a kernel report;
# the others are listed as emulator faults.
emu=0
emu_logs=()
for log in "$LOGS"/*/*/boot*.log "$LOGS"/campaign/failed/*/boot*.log \
	"$LOGS"/*/*/emulator/boot*.log "$LOGS"/campaign/emulator/*/boot*.log; do
	case $log in *.pre-init.log) continue ;; esac
	rel=${log#"$LOGS"/}
	kernel=${rel%%/*}
	c=${rel#*/}
	c=${c%%/*}
	[ "$kernel" = steps ] && continue
	cf=${case_of[$c]:-}
	if [ -n "$cf" ] && grep -q '^# expect: kernel-report' "$cf"; then
		continue
	fi
	VERDICT_ALLOC_DUMPS=""
	[ -n "$cf" ] && VERDICT_ALLOC_DUMPS=$(directive "$cf" alloc-failure-dumps)
	[ -n "$(kernel_report "$log")" ] || continue
	if [[ $log == */emulator/* ]] && emulator_flags "$log"; then
		emu=$((emu + 1))
		emu_logs+=("${log#"$TOP"/}")
	else
		reports=$((reports + 1))
		report_logs+=("${log#"$TOP"/}")
	fi
done

# Figures and state, case by case.
states=()
for f in "${case_paths[@]}"; do
	reports_figures "$f" || continue
	c=$(basename "$f" .sh)
	for kernel in $(directive "$f" kernels); do
		dir=$LOGS/$kernel/$c
		logs=()
		for log in "$dir"/boot*.log; do
			case $log in *.pre-init.log) ;; *) logs+=("$log") ;; esac
		done
		if [ ${#logs[@]} -eq 0 ]; then
			states+=("$(printf '%-8s %-28s %-16s %s' "$kernel" "$c" "not run" -)")
			continue
		fi
		last=${logs[${#logs[@]} - 1]}
		when=$(date -u -r "$last" '+%Y-%m-%d %H:%M')
		res=$(tr -d '\r' < "$last" | grep -a -m1 '^DMH-RESULT:' || true)
		host=$(tr -d '\r' < "$last" | grep -a -m1 '^DMH-HOST:' || true)
		if [ ! -s "$last" ]; then
			state=running
		elif [ "$res" = "DMH-RESULT: PASS" ]; then
			state=pass
		elif [ -n "$res" ]; then
			state="FAIL (${res#DMH-RESULT: })"
		elif [ -n "$host" ]; then
			state="incomplete (${host#DMH-HOST: })"
		else
			state="incomplete (no result)"
		fi
		states+=("$(printf '%-8s %-28s %-16s %s' "$kernel" "$c" "$state" "$when")")
		final=$(cat "${logs[@]}" | tr -d '\r' | grep -a '^DMH-REL ' || true)
		if [ -n "$final" ]; then
			while IFS= read -r line; do
				figures "$line"
				rows+=("$(printf '%-8s %-28s %s' "$kernel" "$c" "$FIG")")
			done <<< "$final"
		else
			part=$(cat "${logs[@]}" | tr -d '\r' | grep -a '^DMH-REL-PARTIAL ' | tail -n1 || true)
			if [ -n "$part" ]; then
				figures "$part"
				rows+=("$(printf '%-8s %-28s %s (partial)' "$kernel" "$c" "$FIG")")
			fi
		fi
	done
done

# The power-cut campaign's tallies (tests/powercut-campaign), one per
# kernel and case: tests/logs/campaign/<kernel>-<case>/boot1.log.
for log in "$LOGS"/campaign/*/boot1.log; do
	line=$(tr -d '\r' < "$log" | grep -a '^DMH-REL ' | tail -n1 || true)
	[ -n "$line" ] || continue
	c=${log%/boot1.log}
	c=${c##*/}
	figures "$line"
	rows+=("$(printf '%-8s %-28s %s' campaign "$c" "$FIG")")
	states+=("$(printf '%-8s %-28s %-16s %s' campaign "$c" \
		"$( [[ $FIG == *campaign_chains_failed=0* ]] && echo pass || echo FAIL)" \
		"$(date -u -r "$log" '+%Y-%m-%d %H:%M')")")
done

echo "# reliability report (logs in ${LOGS#"$TOP"/})"
echo "# cases:"
printf '#   %-8s %-28s %-16s %s\n' kernel case state "log date (UTC)"
for s in "${states[@]}"; do echo "#   $s"; done
if [ ${#rows[@]} -eq 0 ]; then
	echo "# no case reported figures"
else
	echo "# figures:"
	printf '#   %-8s %-28s %s\n' kernel case figures
	for r in "${rows[@]}"; do echo "#   $r"; done
fi
echo "# totals (partial figures included):"
for k in $(printf '%s\n' "${!total[@]}" | sort); do
	printf '#   %-20s %s\n' "$k" "${total[$k]}"
done
printf '#   %-20s %s\n' kernel_reports "$reports"
for l in "${report_logs[@]}"; do echo "#     $l"; done
printf '#   %-20s %s\n' emulator_faults "$emu"
for l in "${emu_logs[@]}"; do echo "#     $l"; done
[ "$reports" -eq 0 ] && [ "${total[lost]:-0}" -eq 0 ]
