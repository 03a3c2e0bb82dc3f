#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-only
#
# Guest side of make check-boot (tests/boot/run), run by
# dmh-boottest.service once systemd has the system up.  The boot number
# comes from the kernel command line (dmh_boot=N); state between boots
# lives in /var/lib/dmh-boot on the root disk.  Prints "dmh-subtest: ok|not
# ok - what" lines, then DMH-BOOT-DONE, and powers the machine off.
export PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin
n=$(sed -n 's/.*dmh_boot=\([0-9]*\).*/\1/p' /proc/cmdline)
S=/var/lib/dmh-boot
D=/dev/disk/by-id
mkdir -p "$S"

ok() { echo "dmh-subtest: ok - $1"; }
not_ok() { echo "dmh-subtest: not ok - $1"; }
check() {	# check WHAT CMD...
	local what=$1
	shift
	if "$@" >/tmp/check.out 2>&1; then ok "$what"; else not_ok "$what"; fi
	sed 's/^/    /' /tmp/check.out
}

# stamp VOL MIB OFFSET_MIB: random data, its sha256 kept in $S/VOL.
stamp() {
	head -c $(($2 << 20)) /dev/urandom > /tmp/stamp &&
		dd if=/tmp/stamp of="/dev/mapper/$1" bs=1M seek="$3" oflag=direct conv=fsync status=none &&
		echo "$2 $3 $(sha256sum < /tmp/stamp | cut -d' ' -f1)" > "$S/$1"
}
# same VOL: the volume holds what stamp wrote.
same() {
	local mib off sum
	read -r mib off sum < "$S/$1" || return 1
	[ "$(dd if="/dev/mapper/$1" bs=1M skip="$off" count="$mib" iflag=direct status=none |
		sha256sum | cut -d' ' -f1)" = "$sum" ]
}
unit_active() { systemctl is-active -q hybridctl.service; }
vols_present() { test -b /dev/mapper/vm-alpha && test -b /dev/mapper/vm-beta; }
names_listed() {
	hybridctl vol list pool0 | tee /dev/stderr | grep -q vm-alpha &&
		hybridctl vol list pool0 | grep -q vm-beta
}

echo "dmh-boot: boot $n, $(uname -r), systemd $(systemctl --version | head -n1)"
case $n in
1)
	check "no /etc/hybridtab yet, hybridctl.service not active" eval '! unit_active'
	check "hybridctl pool create on /dev/disk/by-id names" \
		hybridctl pool create pool0 --metadata $D/virtio-meta --ssd $D/virtio-ssd \
		--hdd $D/virtio-hdd --chunk-size 256K
	check "/etc/hybridtab lists pool0" grep -Eq '^pool0[[:space:]]+/dev/disk/by-id/virtio-meta[[:space:]]' /etc/hybridtab
	check "vol create vm-alpha 48M" hybridctl vol create pool0 vm-alpha 48M
	check "vol create vm-beta 32M" hybridctl vol create pool0 vm-beta 32M
	check "data written to vm-alpha" stamp vm-alpha 16 4
	check "data written to vm-beta" stamp vm-beta 8 0
	# Pools already active: activate --all must leave them as they are.
	check "systemctl start hybridctl.service with the pool active" \
		systemctl start hybridctl.service
	check "hybridctl.service active" unit_active
	check "volumes still there" vols_present
	;;
2 | 3)
	check "hybridctl.service active after boot" unit_active
	check "/dev/mapper/vm-alpha and vm-beta present after boot" vols_present
	check "hybridctl vol list shows the names" names_listed
	check "vm-alpha holds the data of boot 1" same vm-alpha
	if [ "$n" = 2 ]; then
		check "vm-beta holds the data of boot 1" same vm-beta
		check "new data written to vm-beta" stamp vm-beta 12 16
	else
		check "vm-beta holds the data of boot 2" same vm-beta
	fi
	;;
*)
	not_ok "boot number from the command line ($n)"
	;;
esac
dmsetup ls | sed 's/^/dmh-boot: dm: /'
sync
echo DMH-BOOT-DONE
systemctl --no-block poweroff
