# SPDX-License-Identifier: GPL-2.0-only
# shellcheck shell=sh
#
# Dom0-side helpers of the Xen lab cases (sourced after guest.sh and
# hybrid.sh; tests/xen/run puts this file in /lib/dmh/xen/).

X=/lib/dmh/xen
XB=/usr/lib/xen-4.17/bin
stamp() { echo "DMH-XEN-TIME $1 uptime=$(cut -d' ' -f1 /proc/uptime)"; }

# xen_up: backend modules, xenfs, devpts, xenstored, xen-init-dom0,
# xenconsoled (guest consoles in /var/log/xen/console/guest-<name>.log).
xen_up() {
	[ -d /proc/xen ] || fail "no /proc/xen: not a Xen domain"
	while read -r _m; do
		modprobe "$_m" || fail "modprobe $_m"
	done < "/lib/modules/$(uname -r)/dmh-xen-modules"
	mount -t xenfs xenfs /proc/xen || fail "mount xenfs"
	grep -q control_d /proc/xen/capabilities || fail "not the control domain"
	# devtmpfs has no /dev/stdin (udev makes it): Debian's hotplug
	# locking (locking.sh, claim_lock) stats /dev/stdin and loops until
	# that succeeds.
	[ -e /dev/stdin ] || ln -s /proc/self/fd/0 /dev/stdin
	[ -e /dev/fd ] || ln -s /proc/self/fd /dev/fd
	mkdir -p /dev/pts
	grep -q ' /dev/pts ' /proc/mounts || mount -t devpts -o ptmxmode=0666 devpts /dev/pts || fail "devpts"
	mkdir -p /var/run/xenstored /var/lib/xenstored /var/log/xen/console /var/lib/xen /run/xen
	"$XB/xenstored" --pid-file /run/xenstored.pid || fail "xenstored"
	_i=0
	until xenstore-read / >/dev/null 2>&1 || [ $_i -ge 100 ]; do sleep 0.2; _i=$((_i + 1)); done
	"$XB/xen-init-dom0" || fail "xen-init-dom0"
	"$XB/xenconsoled" --pid-file=/run/xenconsoled.pid --log=guest \
		--log-dir=/var/log/xen/console || fail "xenconsoled"
	stamp toolstack-up
}

# guest_start NAME VOLUME WORKLOAD SIZE SEED [OFFSET]: a PV guest (512 MiB,
# one vCPU) on the stock kernel and guest.cpio whose xvda is
# phy:/dev/mapper/VOLUME; see tests/xen/guest-init for the workloads.
guest_start() {
	cat > "/tmp/$1.cfg" <<-CFG
	name = "$1"
	type = "pv"
	kernel = "$X/vmlinuz"
	ramdisk = "$X/guest.cpio"
	extra = "console=hvc0 panic=-1 dmh_workload=$3 dmh_size=$4 dmh_seed=$5 dmh_offset=${6:-0}"
	memory = 512
	vcpus = 1
	disk = ['phy:/dev/mapper/$2,xvda,w']
	on_poweroff = "destroy"
	on_crash = "destroy"
	CFG
	if ! xl create "/tmp/$1.cfg"; then
		tail -n 30 /var/log/xen/*.log 2>/dev/null || true
		return 1
	fi
	stamp "guest-created-$1"
}

# show_consoles NAME...: copy each guest's new console lines to ours,
# prefixed "NAME| " (line counts kept in /tmp/shown.NAME).
show_consoles() {
	for _g in "$@"; do
		_log=/var/log/xen/console/guest-$_g.log
		[ -f "$_log" ] || continue
		_s=$(cat "/tmp/shown.$_g" 2>/dev/null || echo 0)
		_n=$(wc -l < "$_log")
		[ "$_n" -gt "$_s" ] && tail -n +$((_s + 1)) "$_log" | head -n $((_n - _s)) |
			tr -d '\r' | sed "s/^/$_g| /"
		echo "$_n" > "/tmp/shown.$_g"
	done
	return 0
}

# guests_running NAME...: any of them still in xl list.
guests_running() {
	for _g in "$@"; do xl list "$_g" >/dev/null 2>&1 && return 0; done
	return 1
}

# guest_console NAME: its console log, carriage returns removed.
guest_console() { tr -d '\r' < "/var/log/xen/console/guest-$1.log"; }

# guest_checks NAME: the guest printed PASS and no kernel report.
guest_checks() {
	_log=/var/log/xen/console/guest-$1.log
	if grep -qE 'WARNING:|BUG:|Oops|Call Trace:|Kernel panic' "$_log"; then
		not_ok "guest $1: kernel report"
	fi
	check "guest $1 workload passed" grep -q '^DMH-GUEST-RESULT: PASS' "$_log"
}

# guest_diskstat NAME: "read_ios read_sectors write_ios write_sectors
# discard_ios discard_sectors read_merges write_merges" as the guest's
# xvda counted them.
guest_diskstat() {
	guest_console "$1" | sed -n 's/^DMH-GUEST-DISKSTAT //p' | tail -n 1
}

# guest_splits NAME: the chunk-boundary crossings of its replayed requests
# (0 when it printed none).
guest_splits() {
	_n=$(guest_console "$1" | sed -n 's/^DMH-GUEST-CHUNKSPLITS //p' | tail -n 1)
	echo "${_n:-0}"
}
