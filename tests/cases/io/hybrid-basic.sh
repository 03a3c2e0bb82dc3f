#!/bin/sh
# SPDX-License-Identifier: GPL-2.0-only
# The data path: a pool on a blank metadata device, three volumes with
# concurrent fio verify, zeros for unwritten chunks and the untouched rest
# of a partly written chunk, status fields as documented, ext4 clean.
# kernels: debian debug
# disks: meta=16M ssd=128M hdd=512M
# tier: quick
# timeout: 600
. /lib/dmh/guest.sh
. /lib/dmh/hybrid.sh

load_dm_hybrid
check "pool created on a blank metadata device" make_pool pool 128
check "pool mode is rw" test "$(pool_mode pool)" = rw
check "pool status has the documented 36 fields" \
	test "$(dmsetup status pool | wc -w)" -eq 39
check "ssd total chunks = 128M / 64K" test "$(pool_ssd_total pool)" -eq 2048
check "hdd total chunks = 512M / 64K" test "$(pool_hdd_total pool)" -eq 8192

for i in 1 2 3; do
	make_volume pool $i vm$i 409600 >/dev/null || fail "volume $i"
done
check "three volumes" test "$(pool_volumes pool)" -eq 3
check "volume status has the documented 23 fields" \
	test "$(dmsetup status vm1 | wc -w)" -eq 26

pids=""
for i in 1 2 3; do
	fio_verify v$i /dev/mapper/vm$i 64M --offset=$((i * 8))M &
	pids="$pids $!"
done
r=0
for p in $pids; do wait "$p" || r=1; done
check "fio verify on three volumes at once" test $r -eq 0
check "volumes have mapped chunks" test "$(vol_mapped vm1)" -gt 0
# One status line: migrations may move chunks between two reads.
mapped_adds_up() {
	# shellcheck disable=SC2046
	set -- $(dmsetup status vm2)
	test "$4" -eq $(($5 + $6))
}
check "mapped = ssd + hdd" mapped_adds_up
# Used chunks include frees not yet reusable: stop migrating, let them drain.
dmsetup message pool 0 migration off
balanced() {
	test "$(pool_ssd_used pool)" -eq \
		$(( $(vol_ssd vm1) + $(vol_ssd vm2) + $(vol_ssd vm3) ))
}
check "pool counts what volumes map" wait_for 15 balanced
dmsetup message pool 0 migration on

# Partial write to a fresh chunk: the rest of the chunk reads zeros.
off=$((300000))		# sectors, never written above
printf 'dm-hybrid' | dd of=/dev/mapper/vm1 bs=512 seek=$((off + 7)) conv=sync,fsync oflag=direct 2>/dev/null
check "partial chunk: before the write is zero" is_zero /dev/mapper/vm1 $off 7
check "partial chunk: after the write is zero" is_zero /dev/mapper/vm1 $((off + 8)) 120
check "partial chunk: the write reads back" \
	sh -c "dd if=/dev/mapper/vm1 bs=512 skip=$((off + 7)) count=1 iflag=direct 2>/dev/null | grep -q dm-hybrid"
check "never written chunk reads zero" is_zero /dev/mapper/vm3 400000 1024

mkfs.ext4 -q -F /dev/mapper/vm2 || fail mkfs
mkdir -p /mnt/e
mount /dev/mapper/vm2 /mnt/e || fail mount
for i in 1 2 3 4 5 6 7 8; do
	dd if=/dev/urandom of=/mnt/e/f$i bs=64k count=$((i * 8)) 2>/dev/null
done
sha1sum /mnt/e/f* > /tmp/sums
rm /mnt/e/f3
sync
umount /mnt/e
check "e2fsck -fn clean" e2fsck -fn /dev/mapper/vm2
mount /dev/mapper/vm2 /mnt/e || fail remount
grep -v f3 /tmp/sums > /tmp/sums2
check "ext4 files read back" sh -c 'cd / && sha1sum -c /tmp/sums2 >/dev/null'
umount /mnt/e

for i in 1 2 3; do dmsetup remove vm$i; done
dmsetup remove pool
check "module unloads" rmmod dm_hybrid
pass
