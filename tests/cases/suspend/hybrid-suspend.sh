#!/bin/sh
# SPDX-License-Identifier: GPL-2.0-only
# Suspend, resume and reload of volumes and of the pool while fio verify
# runs on two volumes; no reload opens the metadata twice (a second pool
# on the same metadata device is refused).
# kernels: debian debug
# disks: meta=16M ssd=64M hdd=256M
# tier: quick
# debug-tier: long
# timeout: 600
. /lib/dmh/guest.sh
. /lib/dmh/hybrid.sh

load_dm_hybrid
make_pool pool 128 || fail pool
make_volume pool 1 vm1 131072 >/dev/null || fail vm1
make_volume pool 2 vm2 131072 >/dev/null || fail vm2
# --loops=5 (vm1 only: fio verify of randrw across loops reads the last
# loop's headers as bad): the cycles below run while either fio lives; one pass of
# 48M gave only 7 cycles on an idle host (make check, 2026-11-25), 3 loops 12.
fio_verify a /dev/mapper/vm1 48M --iodepth=4 --loops=5 &
f1=$!
fio_verify b /dev/mapper/vm2 48M --iodepth=4 --rw=randrw &
f2=$!
n=0 bad=0
while kill -0 $f1 2>/dev/null || kill -0 $f2 2>/dev/null; do
	case $((n % 4)) in
	0) dmsetup suspend vm1 && dmsetup resume vm1 || bad=1 ;;
	1) dmsetup reload vm2 --table "$(dmsetup table vm2)" && dmsetup resume vm2 || bad=1 ;;
	2) dmsetup suspend pool && dmsetup resume pool || bad=1 ;;
	3) dmsetup reload pool --table "$(dmsetup table pool)" && dmsetup resume pool || bad=1 ;;
	esac
	n=$((n + 1))
	sleep 0.3
done
wait $f1; r1=$?
wait $f2; r2=$?
check "fio verify on vm1 under suspend/reload" test $r1 -eq 0
check "fio verify on vm2 under suspend/reload" test $r2 -eq 0
check "$n suspend/resume/reload cycles succeeded" test $bad -eq 0
check "at least 8 cycles ran" test $n -ge 8
expect_refused "a second pool on the same metadata is refused" make_pool pool2 128
dmsetup remove vm1
dmsetup remove vm2
dmsetup remove pool
pass
