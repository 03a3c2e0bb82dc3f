#!/bin/sh
# SPDX-License-Identifier: GPL-2.0-only
#
# Xen smoke, Dom0 side (runs as the lab VM's /case.sh in a PV Dom0 under
# Xen): start the toolstack, check xl info/list, build a pool and one
# volume on the virtio disks with hybridctl, as an admin would, start one
# PV guest whose xvda is phy:/dev/mapper/vm1 (blkback, unmodified), let it
# run fio verify, and check its result and that the volume saw the guest's
# I/O; then delete the volume and deactivate the pool with hybridctl.
# disks: meta=16M ssd=256M hdd=1G
. /lib/dmh/guest.sh
. /lib/dmh/hybrid.sh
. /lib/dmh/xen/lib-dom0.sh
stamp dom0-init
xen_up
check "xl info" xl info
xl info | grep -E '^(xen_version|nr_cpus|total_memory|free_memory|xen_caps) '
check "xl list" xl list
xl list

load_dm_hybrid
hybridctl pool create pool0 --metadata "$(disk meta)" --ssd "$(disk ssd)" \
	--hdd "$(disk hdd)" --chunk-size 64K || fail "hybridctl pool create"
hybridctl vol create pool0 vm1 512M || fail "hybridctl vol create"
dmsetup status vm1
r0=$(vol_reads vm1) w0=$(vol_writes vm1)
stamp pool-ready

guest_start vm1 vm1 fio-verify 4M 1 || fail "xl create vm1"
xl list
# TCG under nested Xen is slow: give the guest up to 20 minutes.  Its
# console (xenconsoled's log) is copied to ours as it grows, "vm1| ".
i=0
while guests_running vm1 && [ $i -lt 1200 ]; do
	sleep 1
	i=$((i + 1))
	[ $((i % 10)) -eq 0 ] && show_consoles vm1
done
show_consoles vm1
stamp guest-gone
guests_running vm1 && { xl destroy vm1; not_ok "guest vm1 still running after ${i}s"; }
guest_checks vm1
dmsetup status vm1
r1=$(vol_reads vm1) w1=$(vol_writes vm1)
echo "vm1 volume I/O during the guest run: reads $((r1 - r0)) writes $((w1 - w0))"
# fio wrote 4 MiB in 4 KiB blocks (1024 bios) and read it back (nested
# TCG: some 20-60 IOPS, so the smoke stays small).
check "volume counted the guest's writes" [ $((w1 - w0)) -ge 1024 ]
check "volume counted the guest's reads" [ $((r1 - r0)) -ge 1024 ]
check "hybridctl vol delete" hybridctl vol delete pool0 vm1
check "hybridctl pool deactivate" hybridctl pool deactivate pool0
check "no device left" test -z "$(dmsetup ls | grep -v '^No devices')"
stamp finished
pass
