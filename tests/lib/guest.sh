# SPDX-License-Identifier: GPL-2.0-only
# shellcheck shell=sh
#
# Guest-side helpers for lab cases (busybox sh).  A case starts with
#   . /lib/dmh/guest.sh
# and ends with exactly one of: pass, fail "why", next_boot.
# Environment from the host: DMH_CASE, DMH_BOOT (1, 2, ...), DMH_BOOTS,
# DMH_KERNEL (debian|debug).
set -eu

[ -f /case.env ] && . /case.env
DMH_RESULT_FILE=/run/dmh-result
DMH_NOTOK_FILE=/run/dmh-notok

log() { echo "dmh: $*"; }

# --- verdicts --------------------------------------------------------------
_verdict() {
	echo "$*" > "$DMH_RESULT_FILE"
	exit 0
}

pass() {
	if [ -s "$DMH_NOTOK_FILE" ]; then
		_verdict "FAIL $(wc -l < "$DMH_NOTOK_FILE") subtest(s) failed: $(head -n1 "$DMH_NOTOK_FILE")"
	fi
	_verdict PASS
}

fail() { _verdict "FAIL $*"; }

next_boot() {
	[ -s "$DMH_NOTOK_FILE" ] && _verdict "FAIL $(head -n1 "$DMH_NOTOK_FILE")"
	_verdict NEXT-BOOT
}

# Subtests: ok "what" / not_ok "what" "why"; check "what" cmd args...
ok() { echo "dmh-subtest: ok - $1"; }

not_ok() {
	echo "dmh-subtest: not ok - $1${2:+ # $2}"
	echo "$1${2:+: $2}" >> "$DMH_NOTOK_FILE"
}

check() {
	_what=$1
	shift
	if "$@"; then ok "$_what"; else not_ok "$_what" "exit $?"; fi
}

# keep NAME VALUE: hand VALUE to later boots as $KEEP_NAME (the host reads
# it from the console; only complete lines count).
keep() { echo "DMH-KEEP $1=$2"; }

# From here on, the host may cut power at any moment (see "# powercut:").
arm_powercut() {
	sync
	echo "DMH-CUT-ARM"
}

# --- kernel modules ----------------------------------------------------------
# need_mod NAME: load NAME unless it is built in or already loaded.
need_mod() {
	_m=$(echo "$1" | tr - _)
	[ -d "/sys/module/$_m" ] && return 0
	grep -q "/$_m.ko\$\|/$1.ko\$" "/lib/modules/$(uname -r)/modules.builtin" 2>/dev/null && return 0
	modprobe "$1"
}

load_dm_hybrid() { modprobe dm-hybrid; }

# --- block devices -------------------------------------------------------------
disk() { echo "/dev/lab/$1"; }

sectors() { blockdev --getsz "$1"; }

# make_linear NAME DEV [SECTORS [OFFSET]]: a dm-linear over DEV from OFFSET
# (default 0) for SECTORS (default: to the end); prints the node.
make_linear() {
	_off=${4:-0}
	_len=${3:-$(($(sectors "$2") - _off))}
	dmsetup create "$1" --table "0 $_len linear $2 $_off" || return 1
	dmsetup mknodes "$1" >/dev/null 2>&1 || true
	[ -b "/dev/mapper/$1" ] || return 1
	echo "/dev/mapper/$1"
}

dm_remove() { dmsetup remove "$1"; }

# --- leak check (debug kernel) -------------------------------------------------
# Scan now; leaked objects are printed to the console, where the host's
# report detector sees them.  Returns 1 if anything leaked.
kmemleak_scan() {
	_k=/sys/kernel/debug/kmemleak
	[ -w "$_k" ] || return 0
	sleep 5	# kmemleak ignores objects younger than 5 s
	echo scan > "$_k"
	echo scan > "$_k"
	_r=$(cat "$_k")
	if [ -n "$_r" ]; then
		echo "dmh: kmemleak report follows"
		echo "$_r"
		return 1
	fi
	return 0
}

# --- /init internals -------------------------------------------------------------
_name_disks() {
	for _s in /sys/block/vd*/serial; do
		[ -f "$_s" ] || continue
		_d=${_s%/serial}
		ln -sf "/dev/${_d##*/}" "/dev/lab/$(cat "$_s")"
	done
}

_wait_disks() {
	_n=0
	for _want in ${DMH_DISKS:-}; do
		while [ ! -e "/dev/lab/$_want" ] && [ $_n -lt 100 ]; do
			sleep 0.1
			_n=$((_n + 1))
			_name_disks
		done
		[ -e "/dev/lab/$_want" ] || echo "dmh: disk $_want did not appear"
	done
}

dmh_boot_init() {
	_rel=$(uname -r)
	depmod 2>/dev/null
	while read -r _m; do
		[ -n "$_m" ] && { modprobe "$_m" || echo "dmh: modprobe $_m failed"; }
	done < "/lib/modules/$_rel/dmh-boot-modules"
	_name_disks
	_wait_disks
	# Leaks from before the case are not the case's: forget them.
	if [ -w /sys/kernel/debug/kmemleak ]; then
		echo scan > /sys/kernel/debug/kmemleak
		echo clear > /sys/kernel/debug/kmemleak
	fi
	echo "DMH-BOOTED uptime=$(cut -d' ' -f1 /proc/uptime) kernel=$_rel case=${DMH_CASE:-?} boot=${DMH_BOOT:-?}"
}

dmh_run_case() {
	rm -f "$DMH_RESULT_FILE" "$DMH_NOTOK_FILE"
	if [ -f /case.sh ]; then
		sh /case.sh
		_rc=$?
	else
		echo "dmh: no /case.sh, dropping to a shell"
		setsid cttyhack sh
		_rc=0
		echo "FAIL interactive" > "$DMH_RESULT_FILE"
	fi
	[ -s "$DMH_RESULT_FILE" ] || echo "FAIL case exited with status $_rc without a verdict" > "$DMH_RESULT_FILE"
	kmemleak_scan || true
	sync
	echo "DMH-RESULT: $(cat "$DMH_RESULT_FILE")"
	poweroff -f
	sleep 30
}
