#!/bin/sh
# SPDX-License-Identifier: GPL-2.0-only
# Lab self-test, no dm-hybrid: the VM, its virtio disks and fio.  fio
# write+verify through a dm-linear that maps a virtio disk at an offset,
# then check the bytes landed where the table says.
# kernels: debian debug
# disks: ssd=128M
# tier: quick
# timeout: 300
. /lib/dmh/guest.sh

OFF=2048	# sectors
dev=$(make_linear smoke "$(disk ssd)" 131072 $OFF) || fail "dm-linear setup failed"
fio --name=smoke --filename="$dev" --direct=1 --ioengine=libaio --iodepth=8 \
	--rw=randwrite --bsrange=4k-64k --size=16M --verify=crc32c \
	--do_verify=1 --verify_fatal=1 --randseed="$DMH_SEED" --output-format=terse \
	>/tmp/fio.out 2>&1 || { cat /tmp/fio.out; fail "fio write+verify failed"; }
ok "fio write+verify through dm-linear"
sync
a=$(dd if="$dev" bs=1M count=32 2>/dev/null | sha256sum)
b=$(dd if="$(disk ssd)" bs=512 skip=$OFF count=65536 2>/dev/null | sha256sum)
[ "$a" = "$b" ] && ok "data at the mapped offset" || not_ok "data at the mapped offset" "checksums differ"
dm_remove smoke
pass
