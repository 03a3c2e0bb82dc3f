#!/bin/sh
# SPDX-License-Identifier: GPL-2.0-only
# Fault injection with dm targets under the pool's devices:
# dm-dust read errors on one SSD and one HDD chunk, dm-error on single
# chunks for writes (mapped and first writes), a failed migration copy,
# dm-flakey under the metadata (rw -> ro with a dm event) and under a data
# device (ro -> fail, from the dirty ro pool the failed commit left and
# from a clean read_only one).  Every error must reach the bio that caused it and
# harm no other chunk; the metadata stays clean (hybrid_check).
# kernels: debian debug
# disks: meta=16M ssd=16M hdd=32M
# tier: quick
# debug-tier: long
# timeout: 1800
. /lib/dmh/guest.sh
. /lib/dmh/hybrid.sh

load_dm_hybrid
need_mod dm-flakey
# The stock kernel has no dm-dust; there, dm-error on one chunk stands in.
DUST=dust
need_mod dm-dust 2>/dev/null || DUST=error
CS=128			# chunk sectors (64 KiB)
NV=64			# chunks per volume
VS=$((NV * CS))
FAULTS=0
fault() { FAULTS=$((FAULTS + 1)); }

# Each pool device is a dm device whose table the case swaps.
RM=$(disk meta) RS=$(disk ssd) RH=$(disk hdd)
ZM=$(sectors "$RM") ZS=$(sectors "$RS") ZH=$(sectors "$RH")
META=$(make_linear fm "$RM") || fail fm
SSD=$(make_linear fs "$RS") || fail fs
HDD=$(make_linear fh "$RH") || fail fh
export META SSD HDD

# swap NAME TABLE...: replace the live table of NAME (one line per segment).
swap() {
	_n=$1
	shift
	printf '%s\n' "$@" > /tmp/tbl
	dmsetup suspend "$_n" && dmsetup load "$_n" /tmp/tbl && dmsetup resume "$_n"
}
lin() { echo "0 $2 linear $1 0"; }	# lin DEV SECTORS: a whole-device segment
# err_chunk DEV SECTORS P: linear with chunk P (0-based) replaced by dm-error.
err_chunk() {
	_a=$(($3 * CS)) _b=$((($3 + 1) * CS))
	echo "0 $_a linear $1 0"
	echo "$_a $CS error"
	echo "$_b $(($2 - _b)) linear $1 $_b"
}

# same DEV PATFILE FROM TO: chunks FROM..TO-1 of DEV equal the pattern's.
same() {
	[ "$4" -gt "$3" ] || return 0
	dd if="$1" bs=64k skip="$3" count=$(($4 - $3)) iflag=direct 2>/dev/null > /tmp/rd || return 1
	dd if="$2" bs=64k skip="$3" count=$(($4 - $3)) 2>/dev/null | cmp -s - /tmp/rd
}
# all_but DEV PAT K: every chunk except K verifies.
all_but() { same "$1" "$2" 0 "$3" && same "$1" "$2" $(($3 + 1)) $NV; }
rd_chunk() { dd if="$1" of=/dev/null bs=64k skip="$2" count=1 iflag=direct 2>/dev/null; }
wr_chunk() { dd if="$3" of="$1" bs=64k skip="$2" seek="$2" count=1 oflag=direct conv=notrunc 2>/dev/null; }
mode() { pool_field pool 10; }
# flush_dev DEV: an empty flush (fsync of the block device).
flush_dev() { dd if=/dev/null of="$1" count=0 conv=fsync,notrunc 2>/dev/null; }
events() { dmsetup info -c --noheadings -o events pool | tr -d ' '; }

make_pool pool $CS || fail pool
pool_set pool seq_cutoff 0		# every first write may go to the SSD
make_volume pool 1 v1 $VS >/dev/null || fail v1
make_volume pool 2 v2 $VS >/dev/null || fail v2
pin pool 2 0 $VS hdd || fail "pin v2 to the HDD"
dd if=/dev/urandom of=/tmp/p1 bs=64k count=$NV 2>/dev/null
dd if=/dev/urandom of=/tmp/p2 bs=64k count=$NV 2>/dev/null
dd if=/tmp/p1 of=/dev/mapper/v1 bs=64k oflag=direct 2>/dev/null || fail "write v1"
dd if=/tmp/p2 of=/dev/mapper/v2 bs=64k oflag=direct 2>/dev/null || fail "write v2"
sync
check "v1 is on the SSD, v2 on the HDD" \
	test "$(vol_ssd v1) $(vol_hdd v2)" = "$NV $NV"

# --- 1. dm-dust: a read error on one physical chunk of each tier ----------
# dust_tier NAME RAWDEV SECTORS VOL PAT: badblock in physical chunk 5; exactly
# one virtual chunk of VOL must fail to read, all others verify.
dust_tier() {
	if [ $DUST = dust ]; then
		swap "$1" "0 $3 dust $2 0 512" || { not_ok "$1: dust table"; return 0; }
		dmsetup message "$1" 0 addbadblock $((5 * CS + 3)) >/dev/null || not_ok "$1: addbadblock"
		dmsetup message "$1" 0 enable >/dev/null || not_ok "$1: enable dust"
	else
		swap "$1" "$(err_chunk "$2" "$3" 5)" || { not_ok "$1: error table"; return 0; }
	fi
	bad="" k=0
	while [ $k -lt $NV ]; do
		rd_chunk "/dev/mapper/$4" $k || { bad="$bad $k"; fault; }
		k=$((k + 1))
	done
	bad=${bad# }
	case $bad in
	'' | *' '*) not_ok "$1: exactly one chunk of $4 fails to read" "failing: '$bad'" ;;
	*)
		ok "$1: a read error (dm-$DUST) reaches the bio (chunk $bad of $4)"
		check "$1: every other chunk of $4 verifies" all_but "/dev/mapper/$4" "$5" "$bad"
		check "$1: the other volume is intact" same /dev/mapper/v$((3 - ${4#v})) /tmp/p$((3 - ${4#v})) 0 $NV
		;;
	esac
	check "$1: pool still rw after a data read error" test "$(mode)" = rw
	swap "$1" "$(lin "$2" "$3")" || not_ok "$1: restore"
	check "$1: the chunk reads again once the fault is gone" same "/dev/mapper/$4" "$5" 0 $NV
	if [ -n "$bad" ] && [ "${bad#* }" = "$bad" ]; then echo "$bad" > "/tmp/phys5-$4"; fi
}
dust_tier fs "$RS" "$ZS" v1 /tmp/p1
dust_tier fh "$RH" "$ZH" v2 /tmp/p2

# --- 2. dm-error on one mapped chunk: writes fail there only --------------
K=$(cat /tmp/phys5-v1 2>/dev/null || echo 5)	# v1's chunk at SSD chunk 5
swap fs "$(err_chunk "$RS" "$ZS" 5)" || not_ok "fs: error table"
if wr_chunk /dev/mapper/v1 "$K" /tmp/p2; then
	not_ok "a write to a chunk whose home fails reports an error" "it succeeded"
else
	ok "a write to a chunk whose home fails reports an error"; fault
fi
j=$(((K + 1) % NV))
check "a write to the neighbouring chunk $j succeeds" wr_chunk /dev/mapper/v1 "$j" /tmp/p1
check "a flush succeeds" flush_dev /dev/mapper/v1
check "the pool stays rw" test "$(mode)" = rw
swap fs "$(lin "$RS" "$ZS")"
check "after the write error every other v1 chunk verifies" all_but /dev/mapper/v1 /tmp/p1 "$K"

# --- 3. dm-error where the next first write lands ---------------------------
# v1 holds SSD chunks 0..NV-1; the next-fit allocator takes NV next.  Fail
# every SSD chunk from NV on, and the HDD chunks v2 does not use.
swap fs "0 $((NV * CS)) linear $RS 0" "$((NV * CS)) $((ZS - NV * CS)) error" || not_ok "fs: tail error"
swap fh "0 $((NV * CS)) linear $RH 0" "$((NV * CS)) $((ZH - NV * CS)) error" || not_ok "fh: tail error"
make_volume pool 3 v3 $VS >/dev/null || fail v3
m0=$(vol_mapped_n v3) u0=$(pool_ssd_used pool)
if dd if=/tmp/p1 of=/dev/mapper/v3 bs=4k seek=1 count=1 oflag=direct conv=notrunc 2>/dev/null; then
	not_ok "a first write into a failing chunk reports an error" "it succeeded"
else
	ok "a first write into a failing chunk reports an error"; fault
fi
check "the failed first write mapped nothing" test "$(vol_mapped_n v3)" -eq "$m0"
check "the failed first write holds no SSD chunk" test "$(pool_ssd_used pool)" -eq "$u0"
check "pool still rw" test "$(mode)" = rw
swap fs "$(lin "$RS" "$ZS")"
swap fh "$(lin "$RH" "$ZH")"
check "the chunk of the failed first write reads as zeros" is_zero /dev/mapper/v3 0 $CS
check "the same first write works once the fault is gone" \
	dd if=/tmp/p1 of=/dev/mapper/v3 bs=64k count=1 oflag=direct conv=fsync
check "v2 intact" same /dev/mapper/v2 /tmp/p2 0 $NV

# --- 4. a failed migration copy leaves the chunk where it was --------------
# v2's first 8 chunks are pinned to the SSD while every HDD chunk v2 holds
# (the first NV: nothing else lives on the HDD) fails: the copies cannot read.
migration pool off
pool_set pool tick_ms 100
pool_set pool migration_rate 0
pool_set pool ssd_reserve 0
pin pool 2 0 $((8 * CS)) ssd || not_ok "pin v2 0..8 ssd"
flush_dev /dev/mapper/v2
pm0=$(placement pool 2 $NV)
swap fh "0 $((NV * CS)) error" "$((NV * CS)) $((ZH - NV * CS)) linear $RH $((NV * CS))" ||
	not_ok "fh: v2's chunks fail"
dmesg -c >/dev/null
migration pool on
sleep 3
migration pool off
wait_until 20 _idle pool || not_ok "migrations drained"
nfail=$(dmesg | grep -c "migration of volume 2 chunk .* failed" || true)
FAULTS=$((FAULTS + nfail))
check "failed migrations were logged ($nfail)" test "$nfail" -gt 0
check "no migration completed" test "$(pool_migrations_done pool)" -eq 0
check "the placement map is unchanged" test "$(placement pool 2 $NV)" = "$pm0"
check "v2 still has every chunk on the HDD" test "$(vol_hdd v2)" -eq $NV
check "pool still rw" test "$(mode)" = rw
swap fh "$(lin "$RH" "$ZH")"
check "v2 verifies after the failed copies" same /dev/mapper/v2 /tmp/p2 0 $NV
migration pool on
wait_until 30 sh -c "test \"\$(dmsetup message pool 0 placement_map 2 $NV | sed 's/.*tiers=//; s/ .*//' | cut -c1-8)\" = SSSSSSSS" ||
	not_ok "v2 0..8 promoted once the HDD works" "$(placement pool 2 $NV)"
migration pool off
wait_until 20 _idle pool || true
check "v2 verifies after the promotions" same /dev/mapper/v2 /tmp/p2 0 $NV

# --- 5. metadata writes fail: rw -> ro with a dm event ---------------------
sync
ev=$(events)
dmsetup wait pool "$ev" >/tmp/wait.out 2>&1 &
waiter=$!
swap fm "0 $ZM flakey $RM 0 0 1 1 error_writes" || not_ok "fm: flakey"
if dd if=/tmp/p1 of=/dev/mapper/v3 bs=64k seek=9 count=1 oflag=direct conv=fsync 2>/dev/null; then
	not_ok "a flush needing a metadata commit fails" "it succeeded"
else
	ok "a flush needing a metadata commit fails"; fault
fi
check "pool switched to ro" wait_for 10 sh -c 'test "$(dmsetup status pool | cut -d" " -f13)" = ro'
n=0
while kill -0 $waiter 2>/dev/null && [ $n -lt 50 ]; do sleep 0.2; n=$((n + 1)); done
if kill -0 $waiter 2>/dev/null; then
	not_ok "dmsetup wait returned on the mode change" "still waiting"
	kill $waiter
else
	ok "dmsetup wait returned on the mode change"
fi
wait $waiter 2>/dev/null || true
check "the event counter moved" test "$(events)" -gt "$ev"
check "reads keep working (v1)" all_but /dev/mapper/v1 /tmp/p1 "$K"
check "reads keep working (v2)" same /dev/mapper/v2 /tmp/p2 0 $NV
check "placement_map works in ro" placement pool 1
expect_refused "set_volume refused in ro" pool_msg pool set_volume 1 weight 5
expect_refused "a new allocation fails in ro" \
	dd if=/tmp/p1 of=/dev/mapper/v3 bs=64k seek=20 count=1 oflag=direct

# --- 5b. the dirty ro pool -> fail when a data-device flush fails ----------
# The failed commit left changes that can never commit, so every flush
# fails; it must still flush the data devices first, or a failing data
# device could never take the pool to fail.
ev=$(events)
swap fs "0 $ZS flakey $RS 0 0 1 1 error_writes" || not_ok "fs: flakey"
expect_refused "a flush fails on the dirty ro pool" flush_dev /dev/mapper/v1
fault
check "dirty ro pool switched to fail when the SSD cannot flush" \
	wait_for 10 sh -c 'test "$(dmsetup status pool | cut -d" " -f13)" = fail'
check "the event counter moved (ro -> fail)" test "$(events)" -gt "$ev"
expect_refused "reads fail in fail mode (dirty ro pool)" rd_chunk /dev/mapper/v1 2
swap fs "$(lin "$RS" "$ZS")" || not_ok "fs: back to linear"

# --- 6. ro -> fail when a data-device flush fails ---------------------------
# The same from a clean ro pool: a second pool opened read_only on
# committed metadata.
for d in v1 v2 v3; do dmsetup remove $d || not_ok "remove $d in ro"; done
dmsetup remove pool
swap fm "$(lin "$RM" "$ZM")"
make_pool pool $CS || fail "reactivating after the ro episode"
make_volume pool 1 v1 $VS >/dev/null || fail v1
check "committed data survived the ro episode" all_but /dev/mapper/v1 /tmp/p1 "$K"
flush_dev /dev/mapper/v1
if ! { dmsetup reload pool --table "$(dmsetup table pool | sed 's/ 0$/ 1 read_only/')" &&
	dmsetup resume pool; }; then not_ok "reload read_only"; fi
check "pool is ro after the read_only reload" test "$(mode)" = ro
flush_dev /dev/mapper/v1 || not_ok "a flush works on a clean ro pool"
ev=$(events)
swap fs "0 $ZS flakey $RS 0 0 1 1 error_writes" || not_ok "fs: flakey"
expect_refused "a flush fails when the SSD cannot flush" flush_dev /dev/mapper/v1
fault
check "pool switched to fail" wait_for 10 sh -c 'test "$(dmsetup status pool | cut -d" " -f13)" = fail'
check "the event counter moved" test "$(events)" -gt "$ev"
expect_refused "reads fail in fail mode" rd_chunk /dev/mapper/v1 2
dmsetup remove v1 || not_ok "remove v1 in fail mode"
dmsetup remove pool || not_ok "remove the pool in fail mode"
swap fs "$(lin "$RS" "$ZS")"
check "hybrid_check: metadata clean after all faults" hybrid_check -q "$META"
make_pool pool $CS || fail "reactivating after the fail episode"
make_volume pool 1 v1 $VS >/dev/null || fail v1
make_volume pool 2 v2 $VS >/dev/null || fail v2
check "v1 verifies after reactivation" all_but /dev/mapper/v1 /tmp/p1 "$K"
check "v2 verifies after reactivation" same /dev/mapper/v2 /tmp/p2 0 $NV
dmsetup remove v1
dmsetup remove v2
dmsetup remove pool
echo "DMH-REL faults=$FAULTS case=fault-dm"
pass
