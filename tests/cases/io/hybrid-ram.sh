#!/bin/sh
# SPDX-License-Identifier: GPL-2.0-only
# RAM per mapped chunk, measured: map 16384 chunks of one volume and count
# the xarray nodes (radix_tree_node slab) they cost; the data path's
# budget is at most 16 bytes per mapped chunk.  Heat adds one byte per
# virtual chunk and the allocation bitmaps one bit per physical chunk;
# both are computed, not measured, and printed beside it.
# kernels: debian
# disks: meta=64M ssd=2G hdd=2G
# tier: quick
# timeout: 600
. /lib/dmh/guest.sh
. /lib/dmh/hybrid.sh

CHUNKS=16384
slab_bytes() {	# active objects * object size of radix_tree_node
	awk '$1 == "radix_tree_node" { print $2 * $4 }' /proc/slabinfo
}

load_dm_hybrid
[ -r /proc/slabinfo ] || fail "/proc/slabinfo is not available"
make_pool pool 128 || fail pool
dmsetup message pool 0 migration off
make_volume pool 1 vm1 $((CHUNKS * 128)) >/dev/null || fail vm1
sync
echo 3 > /proc/sys/vm/drop_caches
before=$(slab_bytes)
# One 4 KiB write into each 64 KiB chunk: every chunk gets mapped.
fio --name=map --filename=/dev/mapper/vm1 --rw=write --bs=4k --direct=1 \
	--ioengine=libaio --iodepth=16 --zonemode=strided --zonesize=4k \
	--zonerange=64k --size=$((CHUNKS * 64))k >/tmp/fio.out 2>&1 ||
	{ cat /tmp/fio.out; fail "fio"; }
check "all $CHUNKS chunks mapped" test "$(vol_mapped vm1)" -eq $CHUNKS
echo 3 > /proc/sys/vm/drop_caches
after=$(slab_bytes)
per=$(( (after - before) * 100 / CHUNKS ))
log "xarray: $((after - before)) bytes for $CHUNKS mapped chunks = $((per / 100)).$((per % 100)) bytes per chunk"
log "heat: 1 byte per virtual chunk; bitmaps: 1 bit per physical chunk of capacity"
echo "DMH-RAM xarray_bytes_per_chunk=$((per / 100)).$((per % 100))"
check "xarray costs at most 15 bytes per mapped chunk (16 with heat)" test $per -le 1500
check "the measurement saw the nodes (more than 4 bytes per chunk)" test $per -gt 400
dmsetup remove vm1
dmsetup remove pool
pass
