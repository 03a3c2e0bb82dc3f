#!/bin/sh
# SPDX-License-Identifier: GPL-2.0-only
# Isolation soak: while fio verify runs on two long-lived volumes
# and random reads keep chunks migrating (small chunks, tick_ms 50, low
# thresholds), short-lived volumes are created, filled, resized, discarded,
# suspended, resumed, reloaded and deleted over and over.  Asserted all
# along: a new volume (on chunks freed a moment ago) reads as zeros, the
# unwritten part of a partly written chunk reads as zeros, grown space
# reads as zeros, a discarded chunk reads as zeros, I/O past a volume's end
# is refused, each volume reads back only its own bytes, and fio's verify
# (headers carry offset and per-volume seed) never sees another volume's or
# another offset's data.  Then the metadata is clean and the long-lived
# volumes verify again after reactivation.  SOAK_SECS sets the length.
# kernels: debug
# disks: meta=16M ssd=24M hdd=96M
# tier: long
# timeout: 3600
. /lib/dmh/guest.sh
. /lib/dmh/hybrid.sh

SOAK_SECS=${SOAK_SECS:-600}
load_dm_hybrid
CS=128
make_pool pool $CS || fail pool
pool_set pool tick_ms 50
pool_set pool migration_rate 0
pool_set pool promote_threshold 1
pool_set pool hysteresis 0
pool_set pool ssd_reserve 2
pool_set pool heat_half_life 2
make_volume pool 1 a $((16 * 2048)) >/dev/null || fail a
make_volume pool 2 b $((16 * 2048)) >/dev/null || fail b

# Long-lived volumes: rounds of fio write+verify, each with its own seed.
fio_round() {	# fio_round DEV SEED [extra]: write 12M with verify headers, read back
	_d=$1 _s=$2
	shift 2
	fio --name=s --filename="$_d" --direct=1 --ioengine=libaio --iodepth=4 \
		--rw=randwrite --bsrange=4k-64k --size=12M --verify=crc32c \
		--verify_fatal=1 --randseed="$_s" "$@" >"/tmp/fio-$_s.out" 2>&1 ||
		{ cat "/tmp/fio-$_s.out"; return 1; }
	rm -f "/tmp/fio-$_s.out"
}
stable() {	# stable DEV ID: rounds until /tmp/stop; failures to /tmp/bad
	_r=0
	while [ ! -e /tmp/stop ]; do
		_r=$((_r + 1))
		fio_round "$1" $(($2 * 100000 + _r)) || echo "$1 round $_r" >> /tmp/bad
		echo "$_r" > "/tmp/rounds-$2"
	done
}
hot() {	# hot DEV: random reads of its first 4 MiB until /tmp/stop
	while [ ! -e /tmp/stop ]; do
		fio --name=h --filename="$1" --direct=1 --ioengine=libaio --iodepth=2 \
			--rw=randread --bs=4k --size=4M --time_based --runtime=5 \
			--norandommap >/dev/null 2>&1 || true
	done
}
rm -f /tmp/stop /tmp/bad
stable /dev/mapper/a 1 &
p1=$!
stable /dev/mapper/b 2 &
p2=$!
hot /dev/mapper/a &
p3=$!

# Short-lived volumes, ids 10..17: each filled with its own byte.
fill() {	# fill DEV BYTE(octal) OFFSET_CHUNKS CHUNKS
	dd if=/dev/zero bs=64k count="$4" 2>/dev/null | tr '\000' "\\$2" |
		dd of="$1" bs=64k seek="$3" oflag=direct conv=notrunc 2>/dev/null
}
# only DEV BYTE(octal): the device holds nothing but that byte, the 'x' of
# the partial write and zeros.
only() {
	_x=$(dd if="$1" bs=64k iflag=direct 2>/dev/null | tr -d "\\000x\\$2" | wc -c)
	[ "$_x" -eq 0 ]
}
N=0 BAD=0
bad() { BAD=$((BAD + 1)); [ $BAD -le 20 ] && not_ok "iteration $N: $1" "${2:-}"; return 0; }
t_end=$(( $(uptime_s) + SOAK_SECS ))
while [ "$(uptime_s)" -lt $t_end ]; do
	N=$((N + 1))
	id=$((10 + N % 8))
	nm=e$id
	oct=$(printf '%03o' $((id + 100)))
	chunks=$((4 + $(od -An -N1 -tu1 /dev/urandom | tr -d ' ') % 60))
	len=$((chunks * CS))
	dmsetup message pool 0 create_volume $id 2>/dev/null || true
	if ! dmsetup create $nm --table "0 $len hybrid /dev/mapper/pool $id" >/tmp/c.out 2>&1; then
		bad "create $nm" "$(cat /tmp/c.out)"
		continue
	fi
	dmsetup mknodes $nm	# no udev in the lab
	[ -b /dev/mapper/$nm ] || { bad "no node for $nm"; dmsetup remove $nm; continue; }
	is_zero /dev/mapper/$nm 0 $len || bad "a new volume reads as zeros"
	# one sector into chunk 1: the rest of that chunk must read as zeros
	printf 'x' | dd of=/dev/mapper/$nm bs=512 seek=$((CS + 7)) conv=sync oflag=direct 2>/dev/null || bad "partial write"
	is_zero /dev/mapper/$nm $CS 7 && is_zero /dev/mapper/$nm $((CS + 8)) $((CS - 8)) ||
		bad "the unwritten part of a partly written chunk reads as zeros"
	fill /dev/mapper/$nm "$oct" 2 $((chunks - 2)) || bad "fill"
	# past the end: a write fails, a read returns nothing
	if dd if=/dev/zero of=/dev/mapper/$nm bs=512 seek=$len count=1 oflag=direct 2>/dev/null; then
		bad "a write past the end is refused"
	fi
	[ "$(dd if=/dev/mapper/$nm bs=512 skip=$len count=1 iflag=direct 2>/dev/null | wc -c)" -eq 0 ] ||
		bad "a read past the end returns nothing"
	case $((N % 4)) in
	0)	# grow: the new space reads as zeros
		dmsetup suspend $nm && dmsetup load $nm --table "0 $((len + 8 * CS)) hybrid /dev/mapper/pool $id" &&
			dmsetup resume $nm || bad "grow $nm"
		is_zero /dev/mapper/$nm $len $((8 * CS)) || bad "grown space reads as zeros" ;;
	1)	# discard two whole chunks: they read as zeros
		blkdiscard -o $((3 * 65536)) -l $((2 * 65536)) /dev/mapper/$nm || bad "discard"
		if ! is_zero /dev/mapper/$nm $((3 * CS)) $((2 * CS)); then
			bad "discarded chunks read as zeros" \
				"$(dd if=/dev/mapper/$nm bs=64k skip=3 count=2 iflag=direct 2>/dev/null | od -An -c | head -n 2 | tr -s ' ')"
			dmsetup message pool 0 placement_map $id $chunks || true
			dmsetup status pool || true
		fi ;;
	2)	dmsetup suspend $nm && dmsetup resume $nm || bad "suspend/resume $nm" ;;
	3)	dmsetup reload $nm --table "$(dmsetup table $nm)" && dmsetup resume $nm || bad "reload $nm"
		dmsetup suspend pool && dmsetup resume pool || bad "suspend/resume the pool" ;;
	esac
	only /dev/mapper/$nm "$oct" || bad "$nm holds only its own bytes and zeros"
	dmsetup remove $nm || bad "remove $nm"
	# EBUSY while one of its chunks is migrating: retry
	wait_for 20 dmsetup message pool 0 delete_volume $id 2>/dev/null || bad "delete_volume $id"
done
touch /tmp/stop
wait $p1 $p2 $p3 2>/dev/null || true
log "soak: $N short-lived volumes, $(cat /tmp/rounds-1) + $(cat /tmp/rounds-2) fio rounds, $(pool_moves pool) migrations"
check "soak: $N iterations, none failed ($BAD did)" test $BAD -eq 0
check "fio verify on the long-lived volumes never failed" test ! -s /tmp/bad
[ -s /tmp/bad ] && cat /tmp/bad
check "chunks migrated during the soak" test "$(pool_moves pool)" -gt 0
check "pool still rw" test "$(pool_mode pool)" = rw
r1=$(cat /tmp/rounds-1) r2=$(cat /tmp/rounds-2)
dmsetup remove a
dmsetup remove b
dmsetup remove pool
check "hybrid_check: metadata clean after the soak" hybrid_check -q "$(disk meta)"
make_pool pool $CS || fail "reactivation"
make_volume pool 1 a $((16 * 2048)) >/dev/null || fail a
make_volume pool 2 b $((16 * 2048)) >/dev/null || fail b
check "a: the last round verifies after reactivation" fio_round /dev/mapper/a $((100000 + r1)) --verify_only
check "b: the last round verifies after reactivation" fio_round /dev/mapper/b $((200000 + r2)) --verify_only
dmsetup remove a
dmsetup remove b
dmsetup remove pool
echo "DMH-REL soak_iterations=$N soak_failed=$BAD case=$DMH_CASE"
pass
