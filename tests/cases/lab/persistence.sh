#!/bin/sh
# SPDX-License-Identifier: GPL-2.0-only
# Lab self-test, no dm-hybrid (hybrid-persist is the product's case): the
# runner's multi-boot cases and disks that outlive a boot.  Data written
# through a dm-linear survives a clean reboot: boot 1 writes with fio
# verify headers and flushes, boot 2 rebuilds the mapping and verifies only.
# kernels: debian debug
# disks: hdd=256M
# boots: 2
# tier: quick
# debug-tier: long
# timeout: 300
. /lib/dmh/guest.sh

dev=$(make_linear pers "$(disk hdd)" 262144 4096) || fail "dm-linear setup failed"
job="--name=pers --filename=$dev --direct=1 --ioengine=psync --rw=randwrite
	--bs=16k --size=24M --verify=crc32c --verify_fatal=1 --randseed=4242"
case $DMH_BOOT in
1)
	# shellcheck disable=SC2086
	fio $job --do_verify=0 --end_fsync=1 >/tmp/fio.out 2>&1 ||
		{ cat /tmp/fio.out; fail "fio write failed"; }
	ok "boot 1: written and flushed"
	dm_remove pers
	next_boot
	;;
2)
	# shellcheck disable=SC2086
	fio $job --verify_only >/tmp/fio.out 2>&1 ||
		{ cat /tmp/fio.out; fail "fio verify after reboot failed"; }
	ok "boot 2: data verified"
	dm_remove pers
	pass
	;;
esac
