#!/bin/sh
# SPDX-License-Identifier: GPL-2.0-only
# Benchmark, not a test: scale of a pool of 64 TiB HDD + 4 TiB SSD, on
# dm-zero data devices (reads zeros, drops writes) and a sparse metadata
# disk sized by hybrid_metadata_size.  Prints activation time (first, which
# formats, and second, which validates), the kernel memory the pool holds
# (MemAvailable and slab deltas) and the metadata size, for 1 MiB chunks.
# kernels: debian
# disks: meta=1200M
# tier: bench
# timeout: 1200
# shellcheck disable=SC2046 # split on purpose
. /lib/dmh/guest.sh
. /lib/dmh/hybrid.sh
. /lib/dmh/bench.sh

load_dm_hybrid
need_mod dm-zero
SSDS=$((4 << 31))	# 4 TiB in sectors
HDDS=$((64 << 31))	# 64 TiB
dmsetup create zssd --table "0 $SSDS zero" || fail zssd
dmsetup create zhdd --table "0 $HDDS zero" || fail zhdd
dmsetup mknodes
need=$(hybrid_metadata_size -s 4T -d 64T -c 1M -n) || fail "hybrid_metadata_size"
have=$(($(sectors "$(disk meta)") * 512))
bench "metadata size for 4 TiB + 64 TiB, 1 MiB chunks: $need bytes ($((need >> 20)) MiB); metadata disk $((have >> 20)) MiB"
[ "$have" -ge "$need" ] || fail "metadata disk too small"

mem() { awk '/^MemAvailable:/ { a = $2 } /^Slab:/ { s = $2 } END { print a, s }' /proc/meminfo; }
ms() { awk '{ printf "%d\n", $1 * 1000 }' /proc/uptime; }

sync
echo 3 > /proc/sys/vm/drop_caches
set -- $(mem)
a0=$1 s0=$2
t0=$(ms)
META=$(disk meta) SSD=/dev/mapper/zssd HDD=/dev/mapper/zhdd make_pool pool 2048 || fail "pool (format)"
t1=$(ms)
set -- $(mem)
a1=$1 s1=$2
bench "| step | time ms | MemAvailable drop KiB | slab growth KiB |"
bench "|---|---|---|---|"
bench "| first activation (format) | $((t1 - t0)) | $((a0 - a1)) | $((s1 - s0)) |"
bench "pool status: $(dmsetup status pool)"
dmsetup remove pool || fail "remove"
sync
echo 3 > /proc/sys/vm/drop_caches
set -- $(mem)
a0=$1 s0=$2
t0=$(ms)
META=$(disk meta) SSD=/dev/mapper/zssd HDD=/dev/mapper/zhdd make_pool pool 2048 || fail "pool (reopen)"
t1=$(ms)
set -- $(mem)
a1=$1 s1=$2
bench "| second activation (validate) | $((t1 - t0)) | $((a0 - a1)) | $((s1 - s0)) |"
t0=$(ms)
make_volume pool 1 vm1 $((HDDS / 2)) >/dev/null || fail "volume"
t1=$(ms)
bench "| 32 TiB volume: create + activate | $((t1 - t0)) | - | - |"
dmsetup remove vm1
t0=$(ms)
dmsetup remove pool || fail "remove"
t1=$(ms)
bench "| deactivation | $((t1 - t0)) | - | - |"
dmsetup remove zssd zhdd
pass
