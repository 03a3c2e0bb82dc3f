#!/bin/sh
# SPDX-License-Identifier: GPL-2.0-only
# Flushes of many volumes share one commit (issue 21, "Flushes of many
# VMs").  Every flush that finds the metadata dirty costs a commit (data
# devices flushed, changed blocks written, superblock written with FUA);
# the pool's one worker takes every flush queued by every volume and
# answers them all with one commit.
#
# Each fio job writes 4 KiB into a new 1 MiB chunk and fsyncs, so every
# fsync finds a first write to commit.  One volume alone: about one
# commit (txid step) per fsync, which shows the count is a real one.
# Four volumes at once: the commits must number well under the fsyncs
# (at most 3 in 4), and every written block reads back.
# kernels: debian
# disks: meta=16M ssd=512M hdd=512M
# tier: quick
# timeout: 300
. /lib/dmh/guest.sh
. /lib/dmh/hybrid.sh

WRITES=32	# per job: 32 first writes, each followed by an fsync

# job N OFFSET_MIB: fio args for a stride of first writes on volume N.
job() {
	echo "--name=f$1 --filename=/dev/mapper/vm$1 --direct=1 --ioengine=psync
	      --rw=write:1020k --bs=4k --offset=$2M --size=${WRITES}M --fsync=1
	      --verify=crc32c --verify_fatal=1 --randseed=$((500 + $1))"
}

# txid_of CMD...: transactions committed while CMD ran.
txid_of() {
	_t0=$(pool_txid pool)
	"$@" || return 1
	echo $(( $(pool_txid pool) - _t0 ))
}

alone() {
	# shellcheck disable=SC2046
	fio $(job 1 0) >/tmp/alone 2>&1 || { cat /tmp/alone >&2; return 1; }
}

together() {
	for n in 1 2 3 4; do
		# shellcheck disable=SC2046
		fio $(job "$n" 100) >"/tmp/t$n" 2>&1 &
		eval "p$n=\$!"
	done
	_rc=0
	for n in 1 2 3 4; do
		eval "wait \$p$n" || { cat "/tmp/t$n" >&2; _rc=1; }
	done
	return $_rc
}

load_dm_hybrid
make_pool pool 2048 || fail "pool"
check "migration off (commits come from the writes only)" \
	dmsetup message pool 0 migration off
for n in 1 2 3 4; do
	make_volume pool "$n" "vm$n" 409600 >/dev/null || fail "vm$n"
done

s0=$(uptime_s)
a=$(txid_of alone) || fail "fio alone"
log "one volume: $a commits for $WRITES fsyncs in $(( $(uptime_s) - s0 )) s"
check "one volume: about one commit per fsync ($a for $WRITES)" \
	test "$a" -ge $((WRITES * 9 / 10)) -a "$a" -le $((WRITES * 12 / 10))

s0=$(uptime_s)
t=$(txid_of together) || fail "fio together"
n=$((4 * WRITES))
log "four volumes at once: $t commits for $n fsyncs in $(( $(uptime_s) - s0 )) s"
check "four volumes share commits ($t for $n fsyncs, at most 3 in 4)" \
	test "$t" -le $((n * 3 / 4))
check "every fsync of the four still committed something (>= $WRITES)" \
	test "$t" -ge "$WRITES"
for n in 1 2 3 4; do
	check "vm$n: every block written reads back (fio verify)" \
		grep -q "err= 0" "/tmp/t$n"
done
for n in 1 2 3 4; do dmsetup remove "vm$n"; done
dmsetup remove pool
pass
