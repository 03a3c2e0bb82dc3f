#!/bin/sh
# SPDX-License-Identifier: GPL-2.0-only
# Benchmark, not a test: 4 KiB random read and write IOPS at queue depth 1
# and 32 on a hybrid volume whose chunks all sit on the SSD, against
# dm-linear on the same SSD disk, in the same VM run.  Prints a table; the
# data path issue's bar is 95 % of dm-linear.  It fails only if a run
# fails.
# kernels: debian
# disks: meta=16M ssd=512M hdd=256M
# tier: bench
# timeout: 900
. /lib/dmh/guest.sh
. /lib/dmh/hybrid.sh

RUNTIME=${BENCH_RUNTIME:-8}
ROUNDS=${BENCH_ROUNDS:-3}
load_dm_hybrid
SSD=$(make_linear poolssd "$(disk ssd)" 524288 0)
export SSD
LIN=$(make_linear lin "$(disk ssd)" 524288 524288)
make_pool pool 2048 || fail pool
dmsetup message pool 0 migration off
dmsetup message pool 0 set seq_cutoff 0
make_volume pool 1 vm1 262144 >/dev/null || fail vm1
dd if=/dev/zero of=/dev/mapper/vm1 bs=1M count=128 oflag=direct 2>/dev/null
dd if=/dev/zero of="$LIN" bs=1M count=128 oflag=direct 2>/dev/null
check "every chunk of the volume is on the SSD" test "$(vol_ssd vm1)" -eq 128

iops() {	# iops DEV RW DEPTH
	fio --name=b --filename="$1" --rw="$2" --bs=4k --direct=1 \
		--ioengine=libaio --iodepth="$3" --size=128M --time_based \
		--runtime="$RUNTIME" --randseed=1 --output-format=terse \
		--terse-version=3 2>/dev/null |
		awk -F';' -v rw="$2" '{ print (rw == "randread") ? $8 : $49 }'
}

median() { tr ' ' '\n' | grep . | sort -n | awk '{ a[NR] = $1 } END { print a[int((NR + 1) / 2)] }'; }

# Emulation is noisy: alternate the two devices, take each one's median.
echo "DMH-BENCH | workload | dm-linear IOPS | dm-hybrid IOPS | ratio | runs |"
for w in randread randwrite; do
	for qd in 1 32; do
		ls="" hs="" i=0
		while [ $i -lt "$ROUNDS" ]; do
			ls="$ls $(iops "$LIN" $w $qd)"
			hs="$hs $(iops /dev/mapper/vm1 $w $qd)"
			i=$((i + 1))
		done
		l=$(echo "$ls" | median) h=$(echo "$hs" | median)
		[ -n "$l" ] && [ -n "$h" ] && [ "$l" -gt 0 ] || fail "fio $w qd$qd"
		echo "DMH-BENCH | 4k $w qd$qd | $l | $h | $((h * 100 / l)) % | linear:$ls hybrid:$hs |"
	done
done
dmsetup remove vm1
dmsetup remove pool
pass
