#!/bin/sh
# SPDX-License-Identifier: GPL-2.0-only
# Guest side of "make demo": load dm-hybrid in the stock kernel, show the
# targets, and try to build a pool on the three lab disks.
# kernels: debian
# disks: meta=16M ssd=256M hdd=1G
# timeout: 300
. /lib/dmh/guest.sh

banner() { echo; echo "==== $* ===="; }

banner "kernel $(uname -r); disks"
for d in meta ssd hdd; do echo "$d: $(readlink /dev/lab/$d) $(($(sectors "$(disk $d)") / 2048)) MiB"; done
banner "modprobe dm-hybrid"
load_dm_hybrid || fail "modprobe dm-hybrid failed"
lsmod | grep '^dm_hybrid ' || fail "dm_hybrid not in lsmod"
banner "dmsetup targets"
dmsetup targets
dmsetup targets | grep -q '^hybrid-pool ' || fail "hybrid-pool not registered"
dmsetup targets | grep -q '^hybrid ' || fail "hybrid not registered"
banner "create a pool (meta, ssd, hdd; 64 KiB chunks) and a 512 MiB volume"
. /lib/dmh/hybrid.sh
if make_pool demo-pool 128; then
	dmsetup table demo-pool
	vol=$(make_volume demo-pool 1 vm1 1048576) || fail "volume not created"
	dd if=/dev/urandom of="$vol" bs=1M count=16 oflag=direct 2>/dev/null
	echo "wrote 16 MiB to $vol"
	dmsetup status vm1
	dmsetup status demo-pool
	dmsetup remove vm1
	dmsetup remove demo-pool
else
	echo "pool not created (see the kernel message above)"
fi
banner "rmmod dm_hybrid"
rmmod dm_hybrid || fail "rmmod failed"
pass
