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

# Core kernel code that dumps the stack, by design, when an allocation
# fails: mm's kmem_cache_create() and warn_alloc() (vmalloc and page
# allocations without __GFP_NOWARN).  A case that injects allocation
# failures on purpose (header "# alloc-failure-dumps: allowed", which sets
# VERDICT_ALLOC_DUMPS) meets these; a "Call Trace:" within 8 lines after
# such a message is not counted there.  Every other report still counts,
# in those cases too: WARNING, BUG, KASAN, lockdep, kmemleak.  One core
# leak goes with it: when kobject_init_and_add() fails in sysfs_slab_add()
# (mm/slub.c, 6.12) the cache's kobject name is never freed.  There the
# kmemleak summary line is not a report by itself; each leaked object the
# guest prints (kmemleak_scan at the end of every case prints them all) is,
# unless its backtrace passes through sysfs_slab_add.
ALLOC_DUMP_RE='__kmem_cache_create_args[(].*[)] failed with error|vmalloc error: size'
ALLOC_DUMP_RE+='|page allocation failure: order'

# first_report LOG: "LINE:text" of the first kernel report, or nothing.
first_report() {
	if [ -z "${VERDICT_ALLOC_DUMPS:-}" ]; then
		grep -a -n -m1 -E "$KERNEL_REPORT_RE" "$1" | tr -d "\r"
		return 0
	fi
	tr -d "\r" < "$1" | awk -v re="$KERNEL_REPORT_RE" -v ok="$ALLOC_DUMP_RE" '
		function judge() {
			if (leak && !core) { print leak ":" leaktext; found = 1; exit }
			leak = 0
		}
		leak && /^ / { if (/sysfs_slab_add/) core = 1; next }
		leak { judge() }
		/^unreferenced object/ { leak = NR; leaktext = $0; core = 0; next }
		$0 ~ ok { last = NR }
		/suspected memory leaks? \(see/ { next }
		$0 ~ re {
			if ($0 ~ /Call Trace:/ && last && NR - last <= 8)
				next
			print NR ":" $0
			found = 1
			exit
		}
		END { if (!found) judge() }'
}

# Print the first kernel report line of a log, if any, and where it
# happened: the first "RIP:" line after it, so a CI summary names the
# function without the log.
kernel_report() {
	local line rip
	line=$(first_report "$1") || true
	[ -n "$line" ] || return 0
	rip=$(tail -n +"${line%%:*}" "$1" | grep -a -m1 -o 'RIP: [0-9a-f]*:[^ ]*' |
		tr -d "\r") || true
	echo "${line#*:}" | cut -c1-160 | tr -d '\n'
	echo "${rip:+ ($rip)}"
}

# pre_init_report LOG: true when the first kernel report came before the
# kernel started /init.  No case code, module or test disk I/O had run then,
# so the report says nothing about dm-hybrid.  The ones seen here were
# "Oops: int3" right after a static key flip ("sched_clock: Marking
# stable"): kernel text is read-only, so a stray int3 can only be one that
# text patching removed and multi-threaded TCG still executed.
pre_init_report() {
	local rep init
	rep=$(first_report "$1" | cut -d: -f1)
	[ -n "$rep" ] || return 1
	init=$(grep -a -n -m1 'Run /init as init process' "$1" | cut -d: -f1)
	[ -z "$init" ] || [ "$rep" -lt "$init" ]
}

# emulator_abort LOG: QEMU itself died on an assertion before the kernel
# started /init (seen once: "msix_table_mmio_write: Assertion ... failed"
# while the kernel probed the PCI bus, under multi-threaded TCG).  No case
# code had run, and the kernel was not at fault: QEMU's assertion is about
# its own state.
emulator_abort() {
	grep -a -q "^qemu-system-[a-z0-9_]*: .*Assertion .* failed" "$1" &&
		! grep -a -q 'Run /init as init process' "$1"
}

# emulator_crash LOG: QEMU died of SIGSEGV, SIGBUS or SIGABRT (BOOT_WHY
# from boot_verdict() names its exit status) before the kernel started
# /init.  Seen once in a fresh-clone make check (2026-12-07): exit 139
# while the stock kernel probed the PCI bus, no case code run.
emulator_crash() {
	[[ ${BOOT_WHY:-} =~ \(qemu\ exit\ (134|135|139)\)$ ]] &&
		! grep -a -q 'Run /init as init process' "$1"
}

# emulator_flags LOG: the register dump of the first kernel report (the
# first "EFLAGS:" within 40 lines of it) has a reserved RFLAGS bit set,
# one of bits 22-31.  x86 CPUs read those bits as 0, and POPF, IRET and
# SYSRET cannot set them (QEMU's TCG masks them there too), so a frame
# the CPU pushed with them set shows the emulator's flags state, not the
# guest's.  Seen once, in the middle of a case on the stock kernel: a
# kernel-mode #DB with TF set ("WARNING: ... exc_debug_kernel") with
# EFLAGS 3f6c7782, then a NULL write in the scheduler with 3f6c7446 (DF
# and IOPL 3 set in kernel mode).
emulator_flags() {
	local rep fl
	rep=$(first_report "$1" | cut -d: -f1)
	[ -n "$rep" ] || return 1
	fl=$(tail -n +"$rep" "$1" | head -n 40 | grep -a -m1 -o 'EFLAGS: [0-9a-f]*' |
		cut -d' ' -f2) || true
	[ -n "$fl" ] && [ ${#fl} -le 16 ] && (( (16#$fl >> 22) != 0 ))
}

# pre_init_retry LOG N: a kernel report before /init started (see
# pre_init_report), or QEMU aborting before it (emulator_abort), is the
# emulator's, not the case's: keep the log beside the others and boot
# again, once per case.  The note says so in the TAP stream; a second one
# fails the case.
pre_init_retry() {
	local log=$1 n=$2 kept=${1%.log}.pre-init.log why
	[ "$n" -lt 1 ] || return 1
	if [ "$BOOT_KIND" = kernel-report ] && pre_init_report "$log"; then
		why="kernel report before /init"
	elif [ "$BOOT_KIND" = result ] && emulator_abort "$log"; then
		why="QEMU aborted before /init"
	elif [ "$BOOT_KIND" = result ] && emulator_crash "$log"; then
		why="QEMU crashed before /init (${BOOT_WHY##*(}"
	else
		return 1
	fi
	mv "$log" "$kept"
	note "$why, no case code had run: booting again" \
		"(log kept as ${kept#"${TOP:-}"/})"
}

# emulator_restart DIR LOG N: LOG's kernel report is the emulator's
# (emulator_flags), so the case runs again, once (N: the case's boots
# again so far, of either kind).  Not the one boot again, as before /init:
# the case's disks hold what the failed boot wrote, so the caller starts
# over from boot 1 on fresh disks.  The boot logs so far go to DIR/emulator/
# (where the reliability report judges them again), and a note says so.
emulator_restart() {
	local dir=$1 log=$2 n=$3 f
	[ "$n" -lt 1 ] && [ "$BOOT_KIND" = kernel-report ] && emulator_flags "$log" ||
		return 1
	mkdir -p "$dir/emulator"
	for f in "$dir"/boot*.log; do
		mv "$f" "$dir/emulator/"
	done
	note "kernel report with reserved EFLAGS bits set, the emulator's:" \
		"the case runs again from boot 1 on fresh disks" \
		"(logs kept in ${dir#"${TOP:-}"/}/emulator/)"
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
		# A cut boot never reaches its verdict: the checks it failed
		# before the cut, or a verdict it printed, speak for it.
		res=$(grep -a -e "dmh-subtest: not ok" -e "DMH-RESULT: FAIL" \
			"$log" | head -n1 | tr -d "\r" || true)
		[ -z "$res" ] || BOOT_KIND=result BOOT_WHY="power cut after: $res"
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
