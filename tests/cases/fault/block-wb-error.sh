#!/bin/sh
# SPDX-License-Identifier: GPL-2.0-only
# Failed writebacks of staged blocks (write_staging; issue 19 item 9).
# 1. A writeback's error is its volume's own.  vA's staged block cannot
#    be written back (its HDD chunk turns dm-error) and a suspend of vA
#    tries and fails; then a flush of vB, whose staged block writes back
#    fine, succeeds, and a flush of vA fails; once the HDD works again a
#    flush of vA succeeds and both blocks read back.  Before the fix the
#    pool kept one error flag for all volumes: vA's failure failed vB's
#    flush.
# 2. A bio that waits for a writeback that keeps failing fails.  vB's
#    staged block cannot be written back (its HDD chunk turns dm-error)
#    and a 64 KiB write over it must wait for its writeback: once that
#    writeback failed, the write ends with EIO within 20 s (it wrote
#    nothing: checked once the HDD works); a suspend of the pool with
#    such a write in flight ends in 20 s.  The block stays dirty, reads
#    back from its slot, and reaches the HDD at the first flush once the
#    HDD works again.  Then, the block staged again, vB's chunk is pinned
#    to the SSD: its migration waits for the writeback, gives up once it
#    failed, and a suspend of the pool ends in 20 s.  Before the fix the
#    write was parked and the writeback retried for ever, a pool suspend
#    could wait for it, and the migration waited for ever, and the pool
#    suspend with it.
# 3. A dead SSD ends the writebacks.  vC stages more blocks than the high
#    mark while its HDD chunk fails writes, so background writebacks run
#    (and fail); then the SSD dies.  Its dirty blocks are lost
#    (fault-ssd-dead checks what the pool serves), so the pool must read
#    their slots no more: the SSD sees no read for 3 s, and a suspend of
#    vC still ends.  Before the fix the writebacks were retried for ever.
#    Before the SSD dies, a suspend of the pool must end too: before the
#    fix it waited for ever, background writebacks going on after it.
# kernels: debian debug
# disks: meta=16M ssd=64M hdd=128M
# tier: quick
# timeout: 420
. /lib/dmh/guest.sh
. /lib/dmh/hybrid.sh

load_dm_hybrid
RS=$(disk ssd) RH=$(disk hdd)
ZS=$(sectors "$RS") ZH=$(sectors "$RH")
SSD=$(make_linear fs "$RS") || fail fs
HDD=$(make_linear fh "$RH") || fail fh
dmsetup create fserr --table "0 $ZS error" || fail fserr
dmsetup mknodes fserr
export SSD HDD
CH=2048	# chunk sectors (1 MiB)

# swap DEV TABLE: the dm device DEV gets TABLE.
swap() {
	echo "$2" > /tmp/tbl
	dmsetup suspend "$1" || return 1
	dmsetup load "$1" /tmp/tbl || { dmsetup resume "$1"; return 1; }
	dmsetup resume "$1"
}
# hdd_bad [CHUNK]: HDD chunk CHUNK (none: no chunk) fails every I/O;
# flushes of the HDD still work (dm-error takes none).
hdd_bad() {
	if [ -z "${1:-}" ]; then
		swap fh "0 $ZH linear $RH 0"
		return
	fi
	_a=$(($1 * CH)) _b=$((($1 + 1) * CH))
	: > /tmp/hdd
	if [ "$_a" -gt 0 ]; then echo "0 $_a linear $RH 0" >> /tmp/hdd; fi
	echo "$_a $CH error" >> /tmp/hdd
	if [ "$_b" -lt "$ZH" ]; then
		echo "$_b $((ZH - _b)) linear $RH $_b" >> /tmp/hdd
	fi
	swap fh "$(cat /tmp/hdd)"
}
# hdd_chunk FILE: the HDD chunk whose first 4 KiB are FILE's.
hdd_chunk() {
	_c=0
	while [ $_c -lt $((ZH / CH)) ]; do
		dd if="$RH" bs=4k skip=$((_c * CH / 8)) count=1 iflag=direct \
			2>/dev/null | cmp -s - "$1" && { echo $_c; return 0; }
		_c=$((_c + 1))
	done
	return 1
}
vol_dirty() { num vol_field "$1" 20; }
# flush DEV: fsync of the device (a flush bio), 60 s at most.
flush() {
	timeout 60 dd if=/dev/null of="$1" count=0 conv=notrunc,fsync 2>/dev/null
}
# stage DEV BLOCK FILE: write FILE (4 KiB) to block BLOCK of DEV.
stage() {
	dd if="$3" of="$1" bs=4k seek="$2" count=1 oflag=direct conv=notrunc \
		2>/dev/null
}
# reads_back DEV BLOCK FILE
reads_back() {
	dd if="$1" bs=4k skip="$2" count=1 iflag=direct 2>/dev/null |
		cmp -s - "$3"
}
# bg_write DEV FILE: write FILE (64 KiB) at block 0 of DEV, direct, in the
# background; /tmp/bg.rc says once it ended how: 0 or 1 (failed).
bg_write() {
	rm -f /tmp/bg.rc
	(if dd if="$2" of="$1" bs=64k count=1 oflag=direct conv=notrunc \
		2>/tmp/bg.err; then echo 0; else echo 1; fi > /tmp/bg.rc) &
}
# ended_in SECS: the background write ended within SECS seconds.
ended_in() { wait_for "$1" test -s /tmp/bg.rc; }
# failed_eio: it failed, with EIO.
failed_eio() {
	[ "$(cat /tmp/bg.rc)" = 1 ] && grep -q "Input/output error" /tmp/bg.err
}
# bg_suspend DEV: suspend DEV in the background; /tmp/sus.rc, as above.
bg_suspend() {
	rm -f /tmp/sus.rc
	(if dmsetup suspend "$1"; then echo 0; else echo 1; fi > /tmp/sus.rc) &
}
suspended_in() { wait_for "$1" test -s /tmp/sus.rc; }
# on_hdd CHUNK BLOCK FILE: 4 KiB block BLOCK of HDD chunk CHUNK holds FILE.
on_hdd() {
	dd if="$RH" bs=4k skip=$(($1 * CH / 8 + $2)) count=1 iflag=direct \
		2>/dev/null | cmp -s - "$3"
}
# head_is DEV FILE: the first 64 KiB of DEV are FILE's.
head_is() {
	dd if="$1" bs=64k count=1 iflag=direct 2>/dev/null | cmp -s - "$2"
}
ssd_reads() {
	_mm=$(dmsetup info -c --noheadings -o major,minor fs | tr -d ' ')
	awk '{ print $1 }' "/sys/dev/block/$_mm/stat"
}

make_pool pool $CH block_tier 1 write_staging || fail pool
migration pool off
pool_set pool seq_cutoff 0
for v in 1 2 3; do
	make_volume pool $v v$v $CH >/dev/null || fail "volume $v"
	pin pool $v 0 $CH hdd || fail "pin $v"
	dd if=/dev/urandom of=/tmp/fill$v bs=1M count=1 2>/dev/null
	dd if=/tmp/fill$v of=/dev/mapper/v$v bs=1M oflag=direct 2>/dev/null ||
		fail "fill $v"
	pin pool $v 0 $CH auto || fail "unpin $v"
	dd if=/tmp/fill$v of=/tmp/head$v bs=4k count=1 2>/dev/null
done
sync
cA=$(hdd_chunk /tmp/head1) || fail "vA's chunk not found on the HDD"
cB=$(hdd_chunk /tmp/head2) || fail "vB's chunk not found on the HDD"
cC=$(hdd_chunk /tmp/head3) || fail "vC's chunk not found on the HDD"
echo "HDD chunks: vA $cA, vB $cB, vC $cC"

# --- 1. each volume's writeback errors are its own ---------------------------
dd if=/dev/urandom of=/tmp/newA bs=4k count=1 2>/dev/null
dd if=/dev/urandom of=/tmp/newB bs=4k count=1 2>/dev/null
check "vA's HDD chunk fails" hdd_bad "$cA"
check "stage a block of vA" stage /dev/mapper/v1 5 /tmp/newA
check "stage a block of vB" stage /dev/mapper/v2 5 /tmp/newB
check "both are dirty" test "$(vol_dirty v1) $(vol_dirty v2)" = "1 1"
dmesg -c >/dev/null
check "a suspend of vA ends" timeout 60 dmsetup suspend v1
check "its writeback failed" sh -c 'dmesg | grep -q "volume 1: writing staged blocks back"'
check "resume vA" dmsetup resume v1
check "a flush of vB succeeds" flush /dev/mapper/v2
check "vB has nothing dirty" test "$(vol_dirty v2)" -eq 0
expect_refused "a flush of vA fails" flush /dev/mapper/v1
check "vA's block stays dirty" test "$(vol_dirty v1)" -eq 1
check "the HDD works again" hdd_bad
check "then a flush of vA succeeds" flush /dev/mapper/v1
check "vA has nothing dirty" test "$(vol_dirty v1)" -eq 0
check "vA's staged block reads back" reads_back /dev/mapper/v1 5 /tmp/newA
check "vB's staged block reads back" reads_back /dev/mapper/v2 5 /tmp/newB
check "the pool stays rw" test "$(pool_mode pool)" = rw

# --- 2. a bio waiting for a failing writeback fails -------------------------
# vB (its flushes in part 1 came once: it still stages).  Before the fix
# the waiting writes never ended: the HDD is mended to let them go.
dd if=/dev/urandom of=/tmp/newB2 bs=4k count=1 2>/dev/null
dd if=/dev/urandom of=/tmp/big bs=64k count=1 2>/dev/null
# What vB's first 64 KiB hold if the waiting writes wrote nothing.
dd if=/tmp/fill2 of=/tmp/headB bs=64k count=1 2>/dev/null
dd if=/tmp/newB2 of=/tmp/headB bs=4k seek=5 conv=notrunc 2>/dev/null
check "vB's HDD chunk fails" hdd_bad "$cB"
check "stage a block of vB again" stage /dev/mapper/v2 5 /tmp/newB2
check "it is dirty" test "$(vol_dirty v2)" -eq 1
# let_go: (before the fix) mend the HDD so that the waiting write ends,
# undo it, and stage the block again over a failing chunk.
let_go() {
	hdd_bad
	ended_in 60 || fail "the waiting write hangs with the HDD mended"
	dd if=/tmp/fill2 of=/dev/mapper/v2 bs=64k count=1 oflag=direct \
		conv=notrunc 2>/dev/null
	hdd_bad "$cB"
	stage /dev/mapper/v2 5 /tmp/newB2
}
bg_write /dev/mapper/v2 /tmp/big
if ended_in 20; then
	check "a write waiting for its writeback fails" failed_eio
else
	not_ok "a write waiting for its writeback ends in 20 s"
	let_go
fi
check "the staged block reads back from its slot" \
	reads_back /dev/mapper/v2 5 /tmp/newB2
check "and stays dirty" test "$(vol_dirty v2)" -eq 1
bg_write /dev/mapper/v2 /tmp/big
bg_suspend pool
if suspended_in 20; then
	check "a suspend of the pool with a write waiting ends" \
		test "$(cat /tmp/sus.rc)" = 0
	check "resume the pool" dmsetup resume pool
	if ended_in 20; then
		check "the second waiting write fails" failed_eio
	else
		not_ok "the second waiting write ends in 20 s"
		let_go
	fi
else
	not_ok "a suspend of the pool with a write waiting ends in 20 s"
	hdd_bad
	suspended_in 60 || fail "the pool suspend hangs with the HDD mended"
	dmsetup resume pool
	let_go
fi
check "vB's block is still dirty" test "$(vol_dirty v2)" -eq 1
check "the HDD works again" hdd_bad
check "a flush of vB succeeds" flush /dev/mapper/v2
check "vB has nothing dirty" test "$(vol_dirty v2)" -eq 0
check "the staged block reached the HDD" on_hdd "$cB" 5 /tmp/newB2
check "the waiting writes wrote nothing" head_is /dev/mapper/v2 /tmp/headB
# A migration of the chunk waits for its staged block's writeback too.
check "vB's HDD chunk fails again" hdd_bad "$cB"
check "stage its block again" stage /dev/mapper/v2 5 /tmp/newB2
for v in 1 3; do pin pool $v 0 $CH hdd || not_ok "pin $v"; done
check "migration on" migration pool on
check "pin vB's chunk to the SSD" pin pool 2 0 $CH ssd
sleep 2
bg_suspend pool
if suspended_in 20; then
	check "a suspend of the pool with that migration asked for ends" \
		test "$(cat /tmp/sus.rc)" = 0
	check "resume the pool" dmsetup resume pool
else
	not_ok "a suspend of the pool with that migration asked for ends in 20 s"
	hdd_bad
	suspended_in 60 || fail "the pool suspend hangs with the HDD mended"
	dmsetup resume pool
fi
check "unpin vB's chunk" pin pool 2 0 $CH auto
check "migration off" migration pool off
for v in 1 3; do pin pool $v 0 $CH auto || not_ok "unpin $v"; done
check "vB's chunk stays on the HDD, its block dirty" \
	test "$(vol_ssd v2) $(vol_dirty v2)" = "0 1"
check "the HDD works again" hdd_bad
check "a flush of vB succeeds" flush /dev/mapper/v2
check "vB's block reads back" reads_back /dev/mapper/v2 5 /tmp/newB2
check "the pool stays rw" test "$(pool_mode pool)" = rw

# --- 3. a dead SSD ends the writebacks ----------------------------------------
# 256 slots: background writebacks from 128 dirty on.
check "vC's HDD chunk fails" hdd_bad "$cC"
check "stage 160 blocks of vC" fio --name=st --filename=/dev/mapper/v3 \
	--direct=1 --ioengine=libaio --iodepth=8 --rw=randwrite --bs=4k \
	--size=640k --randseed=5 --output=/tmp/fio.out
dirty=$(vol_dirty v3)
check "vC has more than 128 dirty blocks ($dirty)" test "$dirty" -gt 128
# A pool suspend stops background writebacks and waits for those in
# flight: it must end although each one fails and vC stays over the mark.
check "a suspend of the pool ends" timeout 60 dmsetup suspend pool
check "resume the pool" dmsetup resume pool
check "the SSD dies" swap fs "0 $ZS linear /dev/mapper/fserr 0"
# A read of vC's blocks in turn: the first staged one fails on the SSD.
timeout 60 dd if=/dev/mapper/v3 of=/dev/null bs=4k iflag=direct 2>/dev/null ||
	true
check "the pool finds the SSD dead" \
	wait_for 10 sh -c 'dmsetup status pool | grep -qw ssd_failed'
sleep 1
r1=$(ssd_reads)
sleep 3
r2=$(ssd_reads)
check "no read reaches the dead SSD in 3 s ($r1, then $r2)" test "$r1" = "$r2"
check "vC's blocks stay dirty (lost)" test "$(vol_dirty v3)" -eq "$dirty"
expect_refused "a flush of vC fails" flush /dev/mapper/v3
check "a suspend of vC ends" timeout 60 dmsetup suspend v3
check "resume vC" dmsetup resume v3
check "vA's HDD data reads back" reads_back /dev/mapper/v1 5 /tmp/newA
for v in 1 2 3; do dmsetup remove v$v || not_ok "remove v$v"; done
dmsetup remove pool || not_ok "remove the pool"
pass
