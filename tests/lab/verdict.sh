# SPDX-License-Identifier: GPL-2.0-only
# shellcheck shell=bash
#
# Host-side judgement of one boot's console log, shared by every case.

# Kernel reports that fail a case whatever the case script said.
KERNEL_REPORT_RE='WARNING:|BUG:|kernel BUG|Oops|KASAN|UBSAN|general protection fault'
KERNEL_REPORT_RE+='|Kernel panic|Call Trace:|possible circular locking|inconsistent lock state'
KERNEL_REPORT_RE+='|possible recursive locking|suspicious RCU usage|lock held when returning'
KERNEL_REPORT_RE+='|unreferenced object|suspected memory leak|INFO: task .* blocked for more than'
KERNEL_REPORT_RE+='|rcu: INFO:|detected stalls? on CPU|soft lockup|hard LOCKUP'

# Print the first kernel report line of a log, if any.
kernel_report() {
	grep -a -m1 -E "$KERNEL_REPORT_RE" "$1" | tr -d "\r" | cut -c1-160 || true
}

# shellcheck disable=SC2034 # BOOT_KIND, BOOT_WHY are the results
# boot_verdict LOG RC BOOT BOOTS: sets BOOT_KIND (ok, kernel-report,
# timeout, result) and BOOT_WHY.
boot_verdict() {
	local log=$1 rc=$2 boot=$3 boots=$4 rep res want=PASS
	BOOT_KIND=ok BOOT_WHY=""
	[ "$boot" -lt "$boots" ] && want=NEXT-BOOT
	rep=$(kernel_report "$log")
	if [ -n "$rep" ]; then
		BOOT_KIND=kernel-report BOOT_WHY=$rep
		return
	fi
	if [ "$rc" = 124 ]; then
		BOOT_KIND=timeout BOOT_WHY="timeout"
		return
	fi
	if [ "$rc" = 137 ] && [ "$boot" -lt "$boots" ]; then
		BOOT_WHY="power cut"
		return
	fi
	res=$(grep -a "^DMH-RESULT: " "$log" | tail -n1 | tr -d "\r" || true)
	res=${res#DMH-RESULT: }
	if [ -z "$res" ]; then
		BOOT_KIND=result BOOT_WHY="no DMH-RESULT (qemu exit $rc)"
	elif [ "$res" != "$want" ]; then
		BOOT_KIND=result BOOT_WHY=$res
		[ "${res%% *}" = FAIL ] || BOOT_WHY="$res, wanted $want"
	fi
}

# ktap_cases LOG...: the KUnit test cases found in console logs, one per
# line: "ok|notok<TAB>suite/test<TAB>note".  Parameterised sub-results are
# folded into their test case; a skipped test does not count as a pass.
ktap_cases() {
	sed -E 's/^\[ *[0-9]+\.[0-9]+\] //' "$@" | tr -d '\r' | awk '
	/^    # Subtest: / { suite = $3; next }
	/^    (not )?ok [0-9]+ / {
		line = $0; sub(/^    /, "", line)
		st = "ok"; if (line ~ /^not ok/) { st = "notok"; sub(/^not /, "", line) }
		sub(/^ok [0-9]+ /, "", line)
		name = line; note = ""
		if (index(line, " # ")) {
			name = substr(line, 1, index(line, " # ") - 1)
			note = substr(line, index(line, " # ") + 3)
		}
		if (note ~ /^SKIP/) { st = "notok"; note = "skipped: " note }
		printf "%s\t%s/%s\t%s\n", st, suite, name, note
	}'
}
