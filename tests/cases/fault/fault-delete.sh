#!/bin/sh
# SPDX-License-Identifier: GPL-2.0-only
# delete_volume under allocation failures (debug kernel): failslab on the
# xarray node cache only, in the dmsetup process only, failing its k-th
# and k+1-th node allocations for k = 1, 2, ... until a delete succeeds.  A delete that
# fails part way leaves the volume with the chunks it did not free yet,
# and its status counts exactly those (mapped = SSD + HDD = chunks that
# hold data).
# kernels: debug
# disks: meta=16M ssd=16M hdd=16M
# tier: long
# alloc-failure-dumps: allowed
# timeout: 900
. /lib/dmh/guest.sh
. /lib/dmh/hybrid.sh

FS=/sys/kernel/debug/failslab
NODES=/sys/kernel/slab/radix_tree_node
[ -d $FS ] || fail "no failslab in debugfs"
[ -f $NODES/failslab ] || fail "no failslab switch for radix_tree_node"
echo 1 >$FS/verbose
echo 100 >$FS/probability
echo 1 >$FS/interval
echo 0 >$FS/times
echo N >$FS/ignore-gfp-wait
echo Y >$FS/task-filter
echo Y >$FS/cache-filter
echo 1 >$NODES/failslab
NODE_SIZE=$(cat $NODES/object_size)

load_dm_hybrid
# 2 MiB of SSD and 4 MiB of HDD; the volume's 64 chunks on both tiers.
SSD=$(make_linear s "$(disk ssd)" 4096)
HDD=$(make_linear h "$(disk hdd)" 8192)
export SSD HDD
make_pool pool 128 || fail pool
make_volume pool 1 vm1 8192 >/dev/null || fail vm1
dd if=/dev/urandom of=/dev/mapper/vm1 bs=64k count=64 oflag=direct conv=fsync 2>/dev/null
check "64 chunks on both tiers ($(vol_ssd vm1) SSD, $(vol_hdd vm1) HDD)" \
	sh -c "test $(vol_mapped vm1) -eq 64 && test $(vol_ssd vm1) -gt 0 && test $(vol_hdd vm1) -gt 0"
dmsetup remove vm1
dd if=/dev/zero of=/tmp/zero bs=64k count=1 2>/dev/null

# written: chunks of vm1 that still hold data (the rest read as zeros).
written() {
	dd if=/dev/mapper/vm1 of=/tmp/all bs=64k iflag=direct 2>/dev/null
	_n=0 _i=0
	while [ $_i -lt 64 ]; do
		dd if=/tmp/all bs=64k skip=$_i count=1 2>/dev/null | cmp -s - /tmp/zero ||
			_n=$((_n + 1))
		_i=$((_i + 1))
	done
	echo $_n
}

# try_delete K: delete volume 1, failing the dmsetup process's K-th and
# K+1-th xarray node allocations ("space" lets the first K - 1 through: it
# must stay above an allocation's size for it to pass; two failures, since
# an xarray store that fails its GFP_NOWAIT node retries it outside its
# lock).
try_delete() {
	echo $(( ($1 - 1) * NODE_SIZE + 1 )) >$FS/space
	echo 2 >$FS/times
	sh -c 'echo 1 >/proc/self/make-it-fail; exec dmsetup message pool 0 delete_volume 1' \
		2>/dev/null
}
n=0 partial=0 bad=0
while [ $n -lt 40 ]; do
	n=$((n + 1))
	try_delete $n && break
	make_volume pool 1 vm1 8192 >/dev/null || fail "vm1 after attempt $n"
	m=$(vol_mapped vm1) w=$(written)
	[ "$w" -eq 64 ] || partial=$((partial + 1))
	echo "# attempt $n: status $m mapped ($(vol_ssd vm1) SSD, $(vol_hdd vm1) HDD), $w chunks hold data"
	[ "$m" -eq "$w" ] && [ "$m" -eq $(($(vol_ssd vm1) + $(vol_hdd vm1))) ] || bad=$((bad + 1))
	dmsetup remove vm1
done
echo 0 >$FS/times
echo 0 >$NODES/failslab
echo "# delete_volume succeeded at attempt $n; $partial attempts freed part of the volume"
check "delete_volume succeeded in the end (attempt $n)" test $n -lt 40
check "some attempts failed part way ($partial)" test $partial -gt 0
check "after every failed attempt the counts matched the data ($bad did not)" test $bad -eq 0
check "the pool is still rw" test "$(pool_mode pool)" = rw
no_chunk_used() { test "$(pool_ssd_used pool)" -eq 0 && test "$(pool_hdd_used pool)" -eq 0; }
check "no chunk is left in use" wait_for 20 no_chunk_used
dmsetup remove pool
pass
