# SPDX-License-Identifier: GPL-2.0-only
# shellcheck shell=sh
#
# The reliability cases' mixed workload (issue 7), sourced after guest.sh
# and hybrid.sh.  One lab disk "d" holds the metadata, SSD and HDD as
# dm-linear slices, so that one device under it (dm-log-writes, dm-flakey)
# sees, orders or drops the writes of all three.
#
#   mixed_slices BASEDEV     slices hm, hs, hh over BASEDEV; sets META SSD HDD
#   mixed_pool               the pool "pool" on them, fast migration knobs
#   mixed_knobs              migration on with those knobs (after a drain)
#   mixed_volumes            map volumes 1..3 (created if needed) as vm1..vm3
#   mixed_start [MARKDEV]    start the workload in the background: a dmh-stamp
#                            writer per volume (flush every 16 ops, each
#                            printed as DMH-KEEP st_r<ROUND>v<V>=<op>; with
#                            MARKDEV, log-writes marks; with MIXED_OPS set,
#                            it stops after that many), hot readers, and a
#                            volume 9 created, written, verified, deleted in
#                            a loop (not with MIXED_NO_CHURN set); $MIXED_PIDS
#                            are the background pids
#   mixed_wait_writers       wait for the stamp writers to end (MIXED_OPS)
#   mixed_stop               stop it (volume 9's loop after its round)
#   mixed_filler N           volume 4 fills N chunks (cold data, no device)
#   mixed_verify V K [B]     dmh-stamp verify of vmV, K = last completed flush
#   mixed_teardown           remove volumes, pool, slices
#   mixed_churn_ok           volume 9 read zeros when new and its own stamps
#                            after each incarnation's writes
#   mixed_meta_clean DESC    hybrid_check of $META (pool not active), its
#                            output on the console; TAP line DESC passes
#                            when it exits 0 (clean)
#
# Stamps carry a tag per volume and run, from DMH_SEED, so that a block of
# another volume or of an earlier run is never taken for a good one.

MIXED_META=32768	# sectors: 16 MiB
MIXED_SSD=8192		# 4 MiB: 64 chunks of 64 KiB, so chunks are demoted
MIXED_HDD=131072	# 64 MiB
MIXED_CHUNK=128
MIXED_VSIZE="8192 8192 4096"	# vm1..vm3, sectors: 2.5 times the SSD
MIXED_PIDS=""

# mixed_tag V: the stamp tag of volume V (9: the churn volume's base) in
# round MIXED_ROUND (0..99) of this seed.
MIXED_ROUND=0
mixed_tag() { echo $(( ((${DMH_SEED:-1} % 100000) * 100 + MIXED_ROUND) * 10 + $1 )); }

mixed_slices() {
	META=$(make_linear hm "$1" $MIXED_META 0) || return 1
	SSD=$(make_linear hs "$1" $MIXED_SSD $MIXED_META) || return 1
	HDD=$(make_linear hh "$1" $MIXED_HDD $((MIXED_META + MIXED_SSD))) || return 1
	export META SSD HDD
}

mixed_disk_sectors() { echo $((MIXED_META + MIXED_SSD + MIXED_HDD)); }

mixed_pool() {
	make_pool pool $MIXED_CHUNK || return 1
	mixed_knobs
}

# mixed_knobs: migration on, with the fast knobs (again after a drain).
mixed_knobs() {
	dmsetup message pool 0 migration on || return 1
	for _kv in "tick_ms 100" "migration_rate 0" "promote_threshold 1" \
		"hysteresis 0" "heat_half_life 2"; do
		# shellcheck disable=SC2086
		pool_set pool $_kv || return 1
	done
}

mixed_volumes() {
	_i=1
	for _s in $MIXED_VSIZE; do
		make_volume pool $_i vm$_i "$_s" >/dev/null || return 1
		_i=$((_i + 1))
	done
}

# mixed_filler N: volume 4 gets N chunks of cold data (then its device
# goes away), so that the SSD is nearly full and the workload's chunks
# land on the HDD and get promoted, displacing the filler.
mixed_filler() {
	make_volume pool 4 vm4 $(($1 * MIXED_CHUNK)) >/dev/null || return 1
	# random order: a sequential stream would go to the HDD
	fio --name=filler --filename=/dev/mapper/vm4 --direct=1 --rw=randwrite \
		--bs=64k --size=$(($1 * 64))k >/dev/null 2>&1 || return 1
	dmsetup remove vm4
}

# A problem of volume 9 counts unless mixed_stop was called before it was
# seen (an in-guest cut calls it first: what follows is not a real result).
_mixed_bad() {
	[ -e /tmp/mixed-stop ] && return 0
	echo "dmh: volume 9: $*"
	echo "$*" >> /tmp/mixed-churn-bad
}

# Volume 9 comes and goes; each incarnation gets its own tag, is verified
# (a new volume must read zeros, then exactly its own stamps) and deleted.
_mixed_churn() {
	_n=0
	while [ ! -e /tmp/mixed-stop ]; do
		_n=$((_n + 1))
		_t=$(( $(mixed_tag 9) * 1000 + _n % 1000 ))
		# A deleted volume 9 is gone for good: a new one must read zeros.
		dmsetup message pool 0 create_volume 9 2>/dev/null ||
			{ _mixed_bad "$_t create"; sleep 1; continue; }
		dmsetup create vm9 --table "0 4096 hybrid /dev/mapper/pool 9" 2>/dev/null || { sleep 1; continue; }
		dmsetup mknodes vm9 2>/dev/null || true
		dmh-stamp verify /dev/mapper/vm9 --tag "$_t" --flushed -1 --bound -1 >/tmp/churn.out 2>&1 ||
			{ echo "dmh: new volume 9 not zero:"; cat /tmp/churn.out; _mixed_bad "$_t new"; }
		dmh-stamp write /dev/mapper/vm9 --tag "$_t" --ops 48 ${1:+--mark "$1"} >/dev/null 2>&1
		dmh-stamp verify /dev/mapper/vm9 --tag "$_t" --flushed 47 >/tmp/churn.out 2>&1 ||
			{ cat /tmp/churn.out; _mixed_bad "$_t written"; }
		dmsetup remove vm9 2>/dev/null || true
		# EBUSY while one of its chunks migrates: retry for up to 30 s.
		_w=0
		until dmsetup message pool 0 delete_volume 9 2>/dev/null; do
			_w=$((_w + 1))
			[ $_w -lt 60 ] || { _mixed_bad "$_t delete"; break; }
			sleep 0.5
		done
	done
}

mixed_start() {
	_i=1 MIXED_WPIDS=""
	for _s in $MIXED_VSIZE; do
		# DMH-KEEP lines to the console (for a power cut), flush
		# numbers to a file (for an in-guest cut).
		dmh-stamp write /dev/mapper/vm$_i --tag "$(mixed_tag $_i)" --keep "r${MIXED_ROUND}v$_i" \
			--log /tmp/stamp-v$_i.log ${1:+--mark "$1"} ${MIXED_OPS:+--ops "$MIXED_OPS"} &
		MIXED_PIDS="$MIXED_PIDS $!" MIXED_WPIDS="$MIXED_WPIDS $!"
		_i=$((_i + 1))
	done
	fio_hot /dev/mapper/vm1 0 1M 600 --iodepth=1
	MIXED_PIDS="$MIXED_PIDS $!"
	fio_hot /dev/mapper/vm2 0 1M 600 --iodepth=1
	MIXED_PIDS="$MIXED_PIDS $!"
	rm -f /tmp/mixed-stop
	MIXED_CHURN=""
	[ -n "${MIXED_NO_CHURN:-}" ] && return 0
	_mixed_churn "${1:-}" &
	MIXED_CHURN=$!
}

# mixed_wait_writers: with MIXED_OPS, the writers end by themselves after
# their last flush; returns 1 if one of them failed.
mixed_wait_writers() {
	_wr=0
	for _p in $MIXED_WPIDS; do wait "$_p" || _wr=1; done
	MIXED_WPIDS=""
	return $_wr
}

mixed_stop() {
	touch /tmp/mixed-stop
	# shellcheck disable=SC2086
	stop_bg $MIXED_PIDS
	MIXED_PIDS=""
	# The churn loop ends after its current incarnation.
	[ -z "${MIXED_CHURN:-}" ] || wait "$MIXED_CHURN" 2>/dev/null || true
}

# mixed_flushed V: the last flush writer V printed (-1: none yet).
mixed_flushed() {
	_f=$(tail -n1 /tmp/stamp-v"$1".log 2>/dev/null) || true
	echo "${_f:--1}"
}

# mixed_verify V K [B]: verify vmV; prints dmh-stamp's summary; fails on
# loss.  B bounds the ops that may have reached the disk (default K + 33).
mixed_verify() {
	dmh-stamp verify /dev/mapper/vm"$1" --tag "$(mixed_tag "$1")" --flushed "$2" ${3:+--bound "$3"}
}

mixed_teardown() {
	for _v in vm9 vm1 vm2 vm3 pool hm hs hh; do
		dmsetup remove "$_v" 2>/dev/null || true
	done
}

mixed_churn_ok() { [ ! -s /tmp/mixed-churn-bad ]; }

mixed_meta_clean() {
	_mrc=0
	hybrid_check "$META" >/tmp/chk 2>&1 || _mrc=$?
	cat /tmp/chk
	check "$1" test $_mrc -eq 0
}
