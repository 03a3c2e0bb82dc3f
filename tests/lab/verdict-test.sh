#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-only
#
# Host test of verdict.sh on made-up console logs: what counts as a kernel
# report, what it is summarised as, and which boots are booted again.
set -euo pipefail
LAB=$(cd "$(dirname "$0")" && pwd)
# shellcheck source=tests/lab/verdict.sh
. "$LAB/verdict.sh"

T=$(mktemp -d)
trap 'rm -rf "$T"' EXIT
n=0 fail=0
check() {	# check DESCRIPTION CMD...: one TAP line
	n=$((n + 1))
	if "${@:2}"; then echo "ok $n - $1"; else echo "not ok $n - $1"; fail=$((fail + 1)); fi
}
notes=$T/notes
note() { echo "$*" >> "$notes"; }
not() { ! "$@"; }

printf '%s\n' '[    4.83] sched_clock: Marking stable' \
	'[    4.88] Oops: int3: 0000 [#1] PREEMPT SMP NOPTI' \
	'[    4.88] RIP: 0010:sched_clock_cpu+0x10/0x1b0' > "$T/early.log"
printf '%s\n' '[    6.44] Run /init as init process' 'DMH-RESULT: PASS' \
	'[   17.95] WARNING: CPU: 1 PID: 53 at drivers/x.c:1 f+0xe/0x20' \
	'[   17.96] RIP: 0033:0x47b7a0' '[   17.96] RIP: 0010:f+0xe/0x20' > "$T/late.log"
printf '%s\n' '[    6.44] Run /init as init process' 'DMH-RESULT: PASS' > "$T/clean.log"
printf '%s\n' '[    1.00] Oops: int3: 0000 [#1]' '[    6.44] Run /init as init process' \
	> "$T/norip.log"

check "early report summarised with its RIP" \
	test "$(kernel_report "$T/early.log")" = \
	"[    4.88] Oops: int3: 0000 [#1] PREEMPT SMP NOPTI (RIP: 0010:sched_clock_cpu+0x10/0x1b0)"
check "late report names the first RIP after it" \
	test "$(kernel_report "$T/late.log")" = \
	"[   17.95] WARNING: CPU: 1 PID: 53 at drivers/x.c:1 f+0xe/0x20 (RIP: 0033:0x47b7a0)"
check "no RIP, no brackets" test "$(kernel_report "$T/norip.log")" = "[    1.00] Oops: int3: 0000 [#1]"
check "clean log: no report" test -z "$(kernel_report "$T/clean.log")"
check "report before /init is pre-init" pre_init_report "$T/early.log"
check "report before a later /init line is pre-init" pre_init_report "$T/norip.log"
check "report after /init is not" not pre_init_report "$T/late.log"
check "clean log is not" not pre_init_report "$T/clean.log"

BOOT_KIND=kernel-report
check "pre-init report: booted again" pre_init_retry "$T/early.log" 0
check "its log is kept" test -f "$T/early.pre-init.log" -a ! -e "$T/early.log"
check "and a note says so" grep -q "before /init.*early.pre-init.log" "$notes"
cp "$T/early.pre-init.log" "$T/early.log"
check "only once per case" not pre_init_retry "$T/early.log" 1
check "never after /init" not pre_init_retry "$T/late.log" 0
BOOT_KIND=ok
check "never for a boot judged ok" not pre_init_retry "$T/early.log" 0

echo "1..$n"
echo "$((n - fail)) passed, $fail failed"
[ "$fail" = 0 ]
