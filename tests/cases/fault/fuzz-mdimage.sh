#!/bin/sh
# SPDX-License-Identifier: GPL-2.0-only
# Corrupted metadata at activation: bit flips in both copies of
# the superblock, a volume table block and reverse-map blocks, a truncated
# metadata device, data devices that shrank or were swapped, a different
# chunk size, forged reverse-map entries and forged staging logs with valid
# checksums (written by hybrid_restore) must be refused with an error in
# the kernel log, and so must forged superblocks with valid checksums
# (dmh-sbforge: every field at its extremes, the staging log's among
# them), unless the field is free: then the pool activates and its volumes
# read.
# Damage the kernel may tolerate (one copy of a block, the live superblock,
# a stale superblock, random garbage) may activate, but then every volume
# reads without a crash.  Each round starts from the pristine image, which
# still activates with its data at the end.
# kernels: debug debian
# disks: meta=4M ssd=16M hdd=32M
# tier: quick
# timeout: 1800
. /lib/dmh/guest.sh
. /lib/dmh/hybrid.sh

load_dm_hybrid
CS=128 VS=8192
RM=$(disk meta) S=$(disk ssd) H=$(disk hdd)
ZM=$(sectors "$RM") ZS=$(sectors "$S") ZH=$(sectors "$H")
META=$(make_linear m "$RM") || fail m
SSD=$(make_linear s "$S") || fail s
HDD=$(make_linear h "$H") || fail h
export META SSD HDD
ROUNDS=0

make_pool pool $CS || fail pool
migration pool off
make_volume pool 1 v1 $VS >/dev/null || fail v1
pin pool 1 $((VS / 2)) $((VS / 2)) hdd
dd if=/dev/urandom of=/tmp/p1 bs=64k count=$((VS / CS)) 2>/dev/null
dd if=/tmp/p1 of=/dev/mapper/v1 bs=64k oflag=direct conv=fsync 2>/dev/null || fail "write v1"
dd if="$RM" of=/tmp/stale.img bs=64k iflag=direct 2>/dev/null	# an older, valid state
make_volume pool 2 v2 $VS >/dev/null || fail v2
dd if=/tmp/p1 of=/dev/mapper/v2 bs=64k count=16 oflag=direct conv=fsync 2>/dev/null || fail "write v2"
for w in 50 60 70 80; do	# commits, so that both copies of each block are written
	pool_msg pool set_volume 1 weight $w
	pool_msg pool set_volume 2 weight $w
done
dmsetup remove v1
dmsetup remove v2
dmsetup remove pool
check "pristine metadata is clean" hybrid_check -q "$META"
dd if="$RM" of=/tmp/md.img bs=64k iflag=direct 2>/dev/null
LAYOUT=$(hybrid_dump "$META" | grep '^layout ')
lay() { echo "$LAYOUT" | tr ' ' '\n' | sed -n "s/^$1=//p"; }
VT=$(lay vt_start) RS=$(lay ssd_rmap_start) RH=$(lay hdd_rmap_start)
log "layout: $LAYOUT"
[ -n "$VT" ] && [ -n "$RS" ] && [ -n "$RH" ] || fail "no layout from hybrid_dump"

pristine() {
	dd if=/tmp/md.img of="$RM" bs=64k oflag=direct 2>/dev/null
	swap_lin m "$RM" "$ZM"
	swap_lin s "$S" "$ZS"
	swap_lin h "$H" "$ZH"
}
swap_lin() {	# swap_lin NAME DEV SECTORS
	dmsetup suspend "$1" && dmsetup load "$1" --table "0 $3 linear $2 0" && dmsetup resume "$1"
}
# flip BLOCK BYTE BIT: flip one bit of the raw metadata disk.
flip() {
	_o=$(($1 * 4096 + $2))
	_v=$(dd if="$RM" bs=1 skip=$_o count=1 2>/dev/null | od -An -tu1 | tr -d ' ')
	_v=$((${_v:-0} ^ (1 << $3)))
	# shellcheck disable=SC2059
	printf "\\$(printf '%03o' $_v)" | dd of="$RM" bs=1 seek=$_o count=1 conv=notrunc 2>/dev/null
	sync
}
rnd() { echo $(( $(od -An -N4 -tu4 /dev/urandom | tr -d ' ') % $1 )); }

# activate [TABLE-CHUNK]: try the pool, with the features in FEAT; 0 if
# it activated.
FEAT=0
activate() {
	dmesg -c >/dev/null
	dmsetup create pool --table \
		"0 $((ZS + ZH)) hybrid-pool $META $SSD $HDD ${1:-$CS} $FEAT" >/tmp/act.out 2>&1
}
# refused WHAT [CHUNK]: activation must fail with a kernel error line.
refused() {
	ROUNDS=$((ROUNDS + 1))
	if activate "${2:-}"; then
		not_ok "refused: $1" "activated: $(dmsetup status pool)"
		dmsetup remove pool
	elif _e=$(dmesg | grep -m1 "hybrid-pool: \|device-mapper: hybrid: "); then
		ok "refused: $1 (${_e#*hybrid-pool: })"
	else
		not_ok "refused: $1" "no kernel error line: $(cat /tmp/act.out)"
	fi
	pristine
}
# tolerated WHAT: either refused with an error, or active and every
# volume reads (data may be older or gone, but no crash).
tolerated() {
	ROUNDS=$((ROUNDS + 1))
	if activate; then
		_r=ok
		for _v in 1 2; do
			dmsetup create t$_v --table "0 $VS hybrid /dev/mapper/pool $_v" >/dev/null 2>&1 || continue
			dmsetup mknodes t$_v
			if ! dd if=/dev/mapper/t$_v of=/dev/null bs=64k iflag=direct 2>/tmp/dd.err; then
				_r="read of volume $_v failed: $(tail -n1 /tmp/dd.err); $(dmsetup status t$_v)"
				dmesg | tail -n 5
			fi
			dmsetup remove t$_v
		done
		dmsetup remove pool || _r="cannot remove"
		if [ "$_r" = ok ]; then ok "tolerated: $1 (activated)"; else not_ok "tolerated: $1" "$_r"; fi
	elif dmesg | grep -q "hybrid-pool: \|device-mapper: hybrid: "; then
		ok "tolerated: $1 (refused: $(dmesg | grep -m1 "hybrid-pool: \|device-mapper: hybrid: " | sed 's/.*: //'))"
	else
		not_ok "tolerated: $1" "refused without a kernel error line"
	fi
	pristine
}

# Bit flips in both copies: refused.
for b in 0 7 100 2000 4095; do
	flip 0 $b 3; flip 1 $b 5
	refused "superblocks, both copies, byte $b"
done
for b in 0 40 300 4000; do
	flip "$VT" $b 1; flip $((VT + 1)) $b 6
	refused "volume table block 0, both copies, byte $b"
done
for b in 8 33 100 4090; do
	flip "$RS" $b 0; flip $((RS + 1)) $b 7
	refused "SSD reverse map block 0, both copies, byte $b"
	flip "$RH" $b 2; flip $((RH + 1)) $b 4
	refused "HDD reverse map block 0, both copies, byte $b"
done
# Sizes.
swap_lin m "$RM" $((ZM / 2)) && refused "metadata device truncated to half"
swap_lin s "$S" $((ZS - CS)) && refused "SSD shrank by one chunk"
swap_lin h "$H" $((ZH - CS)) && refused "HDD shrank by one chunk"
dmsetup suspend s && dmsetup load s --table "0 $ZH linear $H 0" && dmsetup resume s &&
	dmsetup suspend h && dmsetup load h --table "0 $ZS linear $S 0" && dmsetup resume h &&
	refused "SSD and HDD swapped"
refused "a different chunk size" $((CS * 2))
# Forged but well-formed reverse maps (valid checksums).
hybrid_dump -o /tmp/dump "$META" || fail "hybrid_dump"
forge() {	# forge WHAT AWK-EXPR: the expr edits $0 of the first map line of volume 1
	awk -v done=0 '/^map vol=1 / && !done { done = 1; '"$2"' } { print }' /tmp/dump > /tmp/forged
	if cmp -s /tmp/dump /tmp/forged; then not_ok "forge: $1" "the edit changed nothing"; return 0; fi
	if hybrid_restore -i /tmp/forged -o "$RM" --force >/tmp/restore.out 2>&1; then
		refused "forged dump: $1"
	else
		not_ok "forge: $1" "hybrid_restore would not write it: $(head -n1 /tmp/restore.out)"
		pristine
	fi
}
forge "a chunk of a volume that does not exist" 'sub(/^map vol=1 /, "map vol=9 ")'
forge "a chunk beyond its volume's end" 'sub(/vchunk=[0-9]*/, "vchunk=100000")'
# Beyond the device but inside a reverse-map block the kernel reads (SSD
# 256 chunks, HDD 512; a block holds 508 entries), then in a spare block
# wholly beyond it, which a superblock understating the device would
# otherwise have zeroed.
forge "a chunk beyond the data device" 'sub(/pchunk=[0-9]*/, / tier=ssd / ? "pchunk=300" : "pchunk=600"); sub(/len=[0-9]*/, "len=1")'
forge "a chunk in a spare reverse-map block" 'sub(/pchunk=[0-9]*/, / tier=ssd / ? "pchunk=1000" : "pchunk=2000"); sub(/len=[0-9]*/, "len=1")'
forge "a virtual chunk with two homes" 'l = $0; sub(/pchunk=[0-9]*/, "pchunk=200", l); sub(/len=[0-9]*/, "len=1", l); print l'
# Forged staging logs (issue 21), sealed by hybrid_restore: the live half
# (1) holds one block stamped at the last commit TX, after slog_base
# TX - 1, with one record: volume 1's 4 KiB block 600 (its chunk 37, on
# the HDD by the pin) staged in SSD block 3200 (chunk 200, free).  Each
# forgery breaks one rule; the kernel line must name that rule.
TX=$(sed -n 's/^superblock txid=\([0-9]*\) .*/\1/p' /tmp/dump)
FL=$(sed -n 's/^superblock .* flags=\([0-9]*\) .*/\1/p' /tmp/dump)
[ -n "$TX" ] && [ -n "$FL" ] || fail "no txid or flags in the dump"
PS="3 block_tier 1 persistent_staging"
slog_dump() {	# slog_dump SED-SCRIPT: that log's dump, edited, in /tmp/forged
	awk -v base=$((TX - 1)) -v fl=$((FL | 65536)) \
		-v rec="slogrec block=0 txid=$TX vol=1 vblock=600 where=3200 sectors=255" '
	/^superblock / { sub(/ flags=[0-9]*/, " flags=" fl) }
	/^slog half=/ { print "slog half=1 used=1 base=" base; print rec; next }
	{ print }' /tmp/dump | sed "$1" > /tmp/forged
}
# slog_write: that dump's superblocks and log, sealed by hybrid_restore,
# over the pristine image.  Not its whole image: hybrid_restore seals
# every reverse-map block of the capacity, and the kernel refuses one
# past the chunk counts ("Metadata maps chunks past its device sizes").
SL=$(lay slog_start) SLB=$(lay slog_blocks)
[ "${SLB:-0}" -gt 0 ] || fail "the pool has no staging log: $LAYOUT"
slog_write() {
	hybrid_restore -q -f -i /tmp/forged -o /tmp/slog.img >/tmp/restore.out 2>&1 &&
		dd if=/tmp/slog.img of="$RM" bs=4k count=2 conv=notrunc oflag=direct 2>/dev/null &&
		dd if=/tmp/slog.img of="$RM" bs=4k skip="$SL" seek="$SL" count="$SLB" \
			conv=notrunc oflag=direct 2>/dev/null
}
# slog_forge WHAT FEATURES PATTERN SED-SCRIPT: refused, the kernel line
# matching PATTERN, when activated with FEATURES.
slog_forge() {
	ROUNDS=$((ROUNDS + 1))
	slog_dump "$4"
	if ! slog_write; then
		not_ok "staging log: $1" "hybrid_restore would not write it: $(head -n1 /tmp/restore.out)"
	elif FEAT=$2; activate; then
		not_ok "staging log: $1" "activated: $(dmsetup status pool)"
		dmsetup remove pool
	elif _e=$(dmesg | grep -m1 "hybrid-pool: \|device-mapper: hybrid: ") &&
	     echo "$_e" | grep -q "$3"; then
		ok "staging log: $1 (${_e#*hybrid*: })"
	else
		not_ok "staging log: $1" "no kernel line with \"$3\": ${_e:-$(cat /tmp/act.out)}"
	fi
	FEAT=0
	# the data devices stay as they are: the image alone, which is faster
	dd if=/tmp/md.img of="$RM" bs=64k oflag=direct 2>/dev/null
}
DAMAGED="staging log is damaged"
slog_forge "staged writes, pool without persistent_staging" 0 \
	"holds staged writes" ''
slog_forge "a block stamped at slog_base" 0 "$DAMAGED" \
	"/^slogrec/s/ txid=[0-9]*/ txid=$((TX - 1))/"
slog_forge "a block stamped after the superblock" 0 "$DAMAGED" \
	"/^slogrec/s/ txid=[0-9]*/ txid=$((TX + 1))/"
slog_forge "a record of sectors past 0xff" 0 "$DAMAGED" '/^slogrec/s/sectors=255/sectors=256/'
slog_forge "a record in an SSD chunk a volume maps" "$PS" "is mapped" '/^slogrec/s/where=3200/where=5/'
slog_forge "a record past the SSD" "$PS" "past the SSD" '/^slogrec/s/where=3200/where=8192/'
slog_forge "a record of a missing volume" "$PS" "not on the HDD" '/^slogrec/s/ vol=1 / vol=9 /'
slog_forge "a record of a chunk on the SSD" "$PS" "not on the HDD" '/^slogrec/s/vblock=600/vblock=3/'
slog_forge "a record past its volume's end" "$PS" "not on the HDD" '/^slogrec/s/vblock=600/vblock=5000/'
slog_forge "two SSD blocks for one block of a volume" "$PS" "not on the HDD" \
	"/^slogrec/p; /^slogrec/s/where=3200 sectors=255/where=3201 sectors=1/"
# The same log unforged activates with persistent_staging and replays the
# block; SSD block 3200 holds what the HDD does, so v1 reads the same.
ROUNDS=$((ROUNDS + 1))
dd if=/tmp/p1 of="$S" bs=4k skip=600 seek=3200 count=1 oflag=direct conv=notrunc 2>/dev/null
slog_dump ''
FEAT=$PS
if slog_write && activate; then
	make_volume pool 1 v1 $VS >/dev/null || fail "v1 with the staging log"
	check "staging log replayed: v1 reads whole" \
		sh -c "dd if=/dev/mapper/v1 bs=64k iflag=direct 2>/dev/null | cmp -s - /tmp/p1"
	dmsetup remove v1
	dmsetup remove pool
else
	not_ok "staging log replayed" "refused: $(dmesg | grep -m1 'hybrid') $(cat /tmp/act.out)"
fi
FEAT=0
pristine
# Tolerated damage.
flip "$VT" 77 2
tolerated "one copy of the volume table block"
flip $((RS + 1)) 1000 3
tolerated "one copy of the SSD reverse map block"
flip 0 64 1
tolerated "one superblock"
flip 1 64 1
tolerated "the other superblock"
dd if=/tmp/stale.img of="$RM" bs=4k count=2 conv=notrunc oflag=direct 2>/dev/null
tolerated "stale superblocks (an older transaction)"
dd if=/tmp/stale.img of="$RM" bs=4k skip="$VT" seek="$VT" count=$((RS - VT)) conv=notrunc oflag=direct 2>/dev/null
tolerated "a stale volume table"
i=0
while [ $i -lt 20 ]; do
	n=$((1 + $(rnd 8)))
	while [ $n -gt 0 ]; do
		flip "$(rnd $((RH + 4)))" "$(rnd 4096)" "$(rnd 8)"
		n=$((n - 1))
	done
	tolerated "random bit flips, round $i"
	i=$((i + 1))
done
# Forged superblocks with valid checksums (issue 19 item 7): every field
# at 0, 1, its largest values and just past each bound the kernel
# enforces, each knob of DMH_KNOBS at and past its range, the fields of
# pin record 0.  Each is refused with a kernel error line, or, for a field
# that is free, activates with both volumes reading whole; no kernel
# report.  dmh-sbforge (tests/tools) runs them through /dev/mapper/control
# and writes a line a forgery to the log.
[ "$(hybrid_dump "$META" | grep -c '^pin ')" = 1 ] || fail "the pin forgeries need one pin"
_t0=$(date +%s) _rc=0
dmh-sbforge -i /tmp/md.img -m "$META" -s $VS -o /tmp/sbf.res \
	-t "0 $((ZS + ZH)) hybrid-pool $META $SSD $HDD $CS 0" 1 2 || _rc=$?
pristine
_n="" _bad=0
while IFS='	' read -r _tag _what _why; do
	case $_tag in
	bad) not_ok "forged superblock $_what" "$_why" ;;
	end) _n=$_what _bad=$_why ;;
	esac
done < /tmp/sbf.res
if [ -z "$_n" ] || [ "$_rc" -gt 1 ]; then
	not_ok "forged superblocks" "dmh-sbforge stopped (status $_rc)"
else
	ROUNDS=$((ROUNDS + _n))
	log "forged superblocks: $_n in $(($(date +%s) - _t0)) s, $_bad misbehaved"
	[ "$_bad" != 0 ] || ok "forged superblocks: all $_n refused or activated as expected"
fi
# The pristine image still works.
check "pristine metadata activates" activate
make_volume pool 1 v1 $VS >/dev/null || fail v1
check "v1 verifies" sh -c "dd if=/dev/mapper/v1 bs=64k iflag=direct 2>/dev/null | cmp -s - /tmp/p1"
dmsetup remove v1
dmsetup remove pool
echo "DMH-REL mdimages=$ROUNDS case=$DMH_CASE"
pass
