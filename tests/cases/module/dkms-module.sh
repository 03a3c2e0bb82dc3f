#!/bin/sh
# SPDX-License-Identifier: GPL-2.0-only
# The module the initramfs was given (make check-dkms: the one DKMS built
# for the stock kernel) loads, and a pool and a volume on it carry fio
# verify I/O; after removal hybrid_check finds the metadata clean.  The
# guest prints the module's sha256 (DMH-KO-SHA256) and the host script
# compares it with the DKMS build's.
# kernels: debian
# disks: meta=16M ssd=64M hdd=256M
# tier: dkms
# timeout: 300
. /lib/dmh/guest.sh
. /lib/dmh/hybrid.sh

ko=$(ls /lib/modules/"$(uname -r)"/extra/dm_hybrid.ko 2>/dev/null)
[ -n "$ko" ] || fail "no dm_hybrid.ko for $(uname -r) in the initramfs"
echo "DMH-KO-SHA256 $(sha256sum "$ko" | cut -d' ' -f1)"
echo "DMH-KO-VERMAGIC $(modinfo -F vermagic "$ko")"
check "the module was built for the running kernel $(uname -r)" \
	eval "modinfo -F vermagic $ko | grep -q '^$(uname -r) '"
# modprobe can only load that file: it is the initramfs's one dm_hybrid.
check "no other dm_hybrid.ko in the initramfs" \
	test "$(find /lib/modules -name 'dm_hybrid.ko*' | wc -l)" -eq 1
check "modprobe dm-hybrid" load_dm_hybrid
check "pool created" make_pool pool 128
check "volume created" eval "make_volume pool 1 vm1 204800 >/dev/null"
check "fio verify on the volume" fio_verify v1 /dev/mapper/vm1 48M
check "the volume has mapped chunks" test "$(vol_mapped vm1)" -gt 0
check "volume and pool removed" eval "dmsetup remove vm1 && dmsetup remove pool"
check "hybrid_check: metadata clean" hybrid_check "$(disk meta)"
check "rmmod dm_hybrid" rmmod dm_hybrid
pass
