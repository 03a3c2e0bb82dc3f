#!/bin/sh
# SPDX-License-Identifier: GPL-2.0-only
#
# Xen smoke, Dom0 side (runs as the lab VM's /case.sh in a PV Dom0 under
# Xen): start the toolstack, check xl info/list, build a pool and one
# volume on the virtio disks, start one PV guest whose xvda is
# phy:/dev/mapper/vm1 (blkback, unmodified), let it run fio verify, and
# check its result and that the volume saw the guest's I/O.
# disks: meta=16M ssd=256M hdd=1G
. /lib/dmh/guest.sh
. /lib/dmh/hybrid.sh

X=/lib/dmh/xen
stamp() { echo "DMH-XEN-TIME $1 uptime=$(cut -d' ' -f1 /proc/uptime)"; }
stamp dom0-init

[ -d /proc/xen ] || fail "no /proc/xen: not a Xen domain"
while read -r m; do
	modprobe "$m" || fail "modprobe $m"
done < "/lib/modules/$(uname -r)/dmh-xen-modules"
mount -t xenfs xenfs /proc/xen || fail "mount xenfs"
grep -q control_d /proc/xen/capabilities || fail "not the control domain"
# xenconsoled gives every guest console a pty.
mkdir -p /dev/pts
mountpoint -q /dev/pts || mount -t devpts -o ptmxmode=0666 devpts /dev/pts || fail "devpts"
mkdir -p /var/run/xenstored /var/lib/xenstored /var/log/xen/console /var/lib/xen /run/xen
XB=/usr/lib/xen-4.17/bin
"$XB/xenstored" --pid-file /run/xenstored.pid || fail "xenstored"
i=0
until xenstore-read / >/dev/null 2>&1 || [ $i -ge 100 ]; do sleep 0.2; i=$((i + 1)); done
"$XB/xen-init-dom0" || fail "xen-init-dom0"
"$XB/xenconsoled" --pid-file=/run/xenconsoled.pid --log=guest \
	--log-dir=/var/log/xen/console || fail "xenconsoled"
stamp toolstack-up
check "xl info" xl info
xl info | grep -E '^(xen_version|nr_cpus|total_memory|free_memory|xen_caps) '
check "xl list" xl list
xl list

load_dm_hybrid
make_pool pool0 128 || fail "pool"
make_volume pool0 1 vm1 $((512 * 2048)) >/dev/null || fail "volume"
dmsetup status vm1
r0=$(vol_reads vm1) w0=$(vol_writes vm1)
stamp pool-ready

cat > /tmp/vm1.cfg <<CFG
name = "vm1"
type = "pv"
kernel = "$X/vmlinuz"
ramdisk = "$X/guest.cpio"
extra = "console=hvc0 panic=-1 dmh_workload=fio-verify dmh_size=4M"
memory = 512
vcpus = 1
disk = ['phy:/dev/mapper/vm1,xvda,w']
on_poweroff = "destroy"
on_crash = "destroy"
CFG
if ! xl create /tmp/vm1.cfg; then
	tail -n 30 /var/log/xen/*.log 2>/dev/null || true
	fail "xl create vm1"
fi
stamp guest-created
xl list
# TCG under nested Xen is slow: give the guest up to 20 minutes.  Its
# console (xenconsoled's log) is copied to ours as it grows, "vm1| ".
glog=/var/log/xen/console/guest-vm1.log
shown=0
show_console() {
	[ -f "$glog" ] || return 0
	_n=$(wc -l < "$glog")
	[ "$_n" -gt "$shown" ] && tail -n +$((shown + 1)) "$glog" | head -n $((_n - shown)) |
		tr -d '\r' | sed 's/^/vm1| /'
	shown=$_n
}
i=0
while xl list vm1 >/dev/null 2>&1 && [ $i -lt 1200 ]; do
	sleep 1
	i=$((i + 1))
	[ $((i % 10)) -eq 0 ] && show_console
done
show_console
stamp guest-gone
xl list vm1 >/dev/null 2>&1 && { xl destroy vm1; not_ok "guest vm1 still running after ${i}s"; }
grep -qE 'WARNING:|BUG:|Oops|Call Trace:|Kernel panic' "$glog" && not_ok "guest kernel report"
check "guest vm1 fio verify passed" grep -q '^DMH-GUEST-RESULT: PASS' "$glog"
dmsetup status vm1
r1=$(vol_reads vm1) w1=$(vol_writes vm1)
echo "vm1 volume I/O during the guest run: reads $((r1 - r0)) writes $((w1 - w0))"
# fio wrote 4 MiB in 4 KiB blocks (1024 bios) and read it back (nested
# TCG: some 20-60 IOPS, so the smoke stays small).
check "volume counted the guest's writes" [ $((w1 - w0)) -ge 1024 ]
check "volume counted the guest's reads" [ $((r1 - r0)) -ge 1024 ]
dmsetup remove vm1 || not_ok "remove vm1"
dmsetup remove pool0 || not_ok "remove pool0"
stamp finished
pass
