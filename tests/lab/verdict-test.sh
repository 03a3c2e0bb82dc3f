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

# retried_once WHAT LOG LATE NOTE: pre_init_retry's contract for one kind of
# failure (BOOT_KIND set): LOG is booted again, kept as LOG.pre-init.log,
# with a note matching NOTE; only once per case; never for LATE (after /init).
retried_once() {
	local what=$1 log=$T/$2.log kept=$T/$2.pre-init.log
	: > "$notes"
	check "$what: booted again" pre_init_retry "$log" 0
	check "$what: its log is kept" test -f "$kept" -a ! -e "$log"
	check "$what: a note says so" grep -q "$4.*$2.pre-init.log" "$notes"
	cp "$kept" "$log"
	check "$what: only once per case" not pre_init_retry "$log" 1
	check "$what: never after /init" not pre_init_retry "$T/$3.log" 0
}

BOOT_KIND=kernel-report
retried_once "pre-init report" early late "kernel report before /init"
BOOT_KIND=ok
check "never for a boot judged ok" not pre_init_retry "$T/early.log" 0

# QEMU aborting on its own assertion before /init.
qa="qemu-system-x86_64: ../../hw/pci/msix.c:218: msix_table_mmio_write: Assertion \`addr + size <= dev->msix_entries_nr * PCI_MSIX_ENTRY_SIZE' failed."
printf '%s\n' '[    0.94] pci 0000:00:05.0: BAR 1 [mem 0xfebd7000-0xfebd7fff]' "$qa" > "$T/qabort.log"
printf '%s\n' '[    6.44] Run /init as init process' "$qa" > "$T/qlate.log"
printf '%s\n' '[    0.94] pci 0000:00:05.0: BAR 1' 'qemu-system-x86_64: terminating on signal 15' > "$T/qterm.log"
check "QEMU assertion before /init is the emulator's" emulator_abort "$T/qabort.log"
check "not after /init" not emulator_abort "$T/qlate.log"
check "not a plain QEMU exit" not emulator_abort "$T/qterm.log"
BOOT_KIND=result
retried_once "QEMU abort before /init" qabort qlate "QEMU aborted before /init"
BOOT_KIND=timeout
check "never for a timeout" not pre_init_retry "$T/qabort.log" 0

# A kernel report in the middle of a case whose register dump has reserved
# RFLAGS bits set (22-31) is the emulator's: the case runs again, once.
dump() {	# dump FILE EFLAGS [FILLER]: a WARNING, FILLER lines, a register dump
	printf '%s\n' '[    6.44] Run /init as init process' \
		'[  280.69] WARNING: CPU: 0 PID: 6701 at arch/x86/kernel/traps.c:1120 exc_debug_kernel+0xca/0x160' \
		'[  280.70] Hardware name: QEMU Standard PC (Q35 + ICH9, 2009)' > "$1"
	for ((i = 0; i < ${3:-0}; i++)); do echo "[  280.70] filler $i" >> "$1"; done
	printf '%s\n' '[  280.70] RIP: 0010:exc_debug_kernel+0xca/0x160' \
		"[  280.70] RSP: 0000:fffffe7d99169f28 EFLAGS: $2" >> "$1"
}
dump "$T/emuflags.log" 3f6c7782
dump "$T/goodflags.log" 00010246
dump "$T/farflags.log" 3f6c7782 40
printf '%s\n' '[    6.44] Run /init as init process' 'DMH-RESULT: PASS' \
	'[   90.00] RSP: 002b:00007ffda7b60a58 EFLAGS: 3f6c7782' > "$T/noreport.log"
check "reserved EFLAGS bits in the first report's dump: the emulator's" emulator_flags "$T/emuflags.log"
check "EFLAGS with only defined bits: not" not emulator_flags "$T/goodflags.log"
check "a dump more than 40 lines after the report: not" not emulator_flags "$T/farflags.log"
check "bad EFLAGS without a kernel report: not" not emulator_flags "$T/noreport.log"
check "a report without a register dump: not" not emulator_flags "$T/late.log"
E=$T/case
mkdir -p "$E"
cp "$T/clean.log" "$E/boot1.log"
cp "$T/emuflags.log" "$E/boot2.log"
BOOT_KIND=kernel-report
: > "$notes"
check "emulator flags mid-case: the case runs again" emulator_restart "$E" "$E/boot2.log" 0
check "every boot log so far is kept in emulator/" \
	test -f "$E/emulator/boot1.log" -a -f "$E/emulator/boot2.log" -a ! -e "$E/boot1.log" -a ! -e "$E/boot2.log"
check "a note says so" grep -q "reserved EFLAGS.*emulator/" "$notes"
cp "$T/emuflags.log" "$E/boot1.log"
check "only once per case (a pre-init retry counts)" not emulator_restart "$E" "$E/boot1.log" 1
cp "$T/goodflags.log" "$E/boot1.log"
check "not for a report with defined flags" not emulator_restart "$E" "$E/boot1.log" 0
cp "$T/emuflags.log" "$E/boot1.log"
BOOT_KIND=result
check "not when the boot was not judged a kernel report" not emulator_restart "$E" "$E/boot1.log" 0
check "pre_init_retry leaves it alone (after /init)" not pre_init_retry "$E/boot1.log" 0

# Allocation failure dumps (cases with "# alloc-failure-dumps: allowed").
printf '%s\n' '[    6.44] Run /init as init process' \
	'[   50.10] FAULT_INJECTION: forcing a failure.' \
	'[   50.11] __kmem_cache_create_args(dm_bufio_buffer-400) failed with error -12' \
	'[   50.11] CPU: 1 UID: 0 PID: 112 Comm: dmh-fuzz Tainted: G           O' \
	'[   50.11] Tainted: [O]=OOT_MODULE' '[   50.11] Call Trace:' '[   50.11]  <TASK>' \
	'[   51.00] dmh-fuzz: vmalloc error: size 4096, vm_struct allocation failed' \
	'[   51.00] CPU: 1 UID: 0 PID: 112 Comm: dmh-fuzz' '[   51.00] Call Trace:' \
	'DMH-RESULT: PASS' > "$T/alloc.log"
cp "$T/alloc.log" "$T/alloc-warn.log"
printf '%s\n' '[   52.00] WARNING: CPU: 1 PID: 9 at drivers/md/x.c:7 g+0x1/0x2' \
	'[   52.00] Call Trace:' '[   52.00] RIP: 0010:g+0x1/0x2' >> "$T/alloc-warn.log"
cp "$T/alloc.log" "$T/alloc-far.log"
printf '%s\n' 1 2 3 4 5 6 7 8 '[   53.00] Call Trace:' >> "$T/alloc-far.log"
check "alloc failure dumps count by default" \
	test "$(kernel_report "$T/alloc.log")" = "[   50.11] Call Trace:"
VERDICT_ALLOC_DUMPS=allowed
check "allowed: their Call Traces do not count" test -z "$(kernel_report "$T/alloc.log")"
check "allowed: a WARNING after them still does" \
	test "$(kernel_report "$T/alloc-warn.log")" = \
	"[   52.00] WARNING: CPU: 1 PID: 9 at drivers/md/x.c:7 g+0x1/0x2 (RIP: 0010:g+0x1/0x2)"
check "allowed: a Call Trace more than 8 lines later still does" \
	test "$(kernel_report "$T/alloc-far.log")" = "[   53.00] Call Trace:"
leak() {	# leak FILE FUNCTION: a kmemleak summary and one object allocated under FUNCTION
	printf '%s\n' '[   60.00] kmemleak: 1 new suspected memory leaks (see /sys/kernel/debug/kmemleak)' \
		'dmh: kmemleak report follows' 'unreferenced object 0xffff8880045b8780 (size 32):' \
		'  comm "dmh-fuzz", pid 112, jiffies 4294981703' '  backtrace (crc 5dc32a13):' \
		'    kstrdup+0x35/0x70' "    $2+0x18b/0x1e0" '    dm_bufio_client_create+0x89d/0x1480' \
		'DMH-RESULT: PASS' > "$1"
}
leak "$T/coreleak.log" sysfs_slab_add
leak "$T/ourleak.log" dmh_md_open
check "allowed: a leak under sysfs_slab_add does not count" test -z "$(kernel_report "$T/coreleak.log")"
check "allowed: any other leak does" \
	test "$(kernel_report "$T/ourleak.log")" = "unreferenced object 0xffff8880045b8780 (size 32):"
printf '%s\n' 'unreferenced object 0x1 (size 8):' '  backtrace (crc 1):' '    f+0x1/0x2' > "$T/lastleak.log"
check "allowed: a leak at the end of the log counts" \
	test "$(kernel_report "$T/lastleak.log")" = "unreferenced object 0x1 (size 8):"
unset VERDICT_ALLOC_DUMPS
check "a core leak counts by default" \
	test "$(kernel_report "$T/coreleak.log")" = \
	"[   60.00] kmemleak: 1 new suspected memory leaks (see /sys/kernel/debug/kmemleak)"

# QEMU killed by a signal of its own before /init: booted again, once.
printf '%s\n' '[    1.37] pci 0000:00:01.0: [1234:1111] type 00 class 0x030000' > "$T/qsegv.log"
printf '%s\n' '[    6.44] Run /init as init process' 'dmh: x' > "$T/qsegvlate.log"
BOOT_KIND=result BOOT_WHY="no DMH-RESULT (qemu exit 139)"
check "QEMU SIGSEGV before /init is the emulator's" emulator_crash "$T/qsegv.log"
check "not after /init" not emulator_crash "$T/qsegvlate.log"
retried_once "QEMU SIGSEGV before /init" qsegv qsegvlate "QEMU crashed before /init (qemu exit 139)"
BOOT_WHY="no DMH-RESULT (qemu exit 1)"
check "not a plain QEMU failure" not emulator_crash "$T/qabort.log"
BOOT_WHY="timeout"
BOOT_KIND=timeout
check "not a timeout" not emulator_crash "$T/qabort.log"

# A boot the power cut ends never prints its verdict: checks that failed
# before the cut must fail it (they passed unseen before 2026-12-07).
printf '%s\n' '[    6.44] Run /init as init process' 'dmh-subtest: ok - a' \
	'dmh-subtest: not ok - b # exit 1' 'DMH-KEEP acked=3' > "$T/cutbad.log"
printf '%s\n' '[    6.44] Run /init as init process' 'dmh-subtest: ok - a' \
	'DMH-KEEP acked=3' > "$T/cutgood.log"
printf '%s\n' '[    6.44] Run /init as init process' 'DMH-RESULT: FAIL no region' > "$T/cutfail.log"
boot_verdict "$T/cutbad.log" 137 1 2
check "a cut after a failed check fails the boot" test "$BOOT_KIND" = result
check "and says which" test "$BOOT_WHY" = "power cut after: dmh-subtest: not ok - b # exit 1"
boot_verdict "$T/cutgood.log" 137 1 2
check "a cut after passed checks is ok" test "$BOOT_KIND/$BOOT_WHY" = "ok/power cut"
boot_verdict "$T/cutfail.log" 137 1 2
check "a cut after a FAIL verdict fails the boot" test "$BOOT_KIND" = result
boot_verdict "$T/cutbad.log" 137 2 2
check "the last boot is never cut: 137 there is no cut" test "$BOOT_KIND" = result

echo "1..$n"
echo "$((n - fail)) passed, $fail failed"
[ "$fail" = 0 ]
