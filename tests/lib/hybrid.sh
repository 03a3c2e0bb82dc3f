# SPDX-License-Identifier: GPL-2.0-only
# shellcheck shell=sh
#
# Guest-side helpers for dm-hybrid cases: pools, volumes, status fields.
# Sourced after guest.sh.

# make_pool NAME CHUNK [FEATURE...]: a pool on /dev/lab/{meta,ssd,hdd}
# (or $META $SSD $HDD); the table length is SSD + HDD, as the tools use.
make_pool() {
	_name=$1 _chunk=$2
	shift 2
	_meta=${META:-$(disk meta)} _ssd=${SSD:-$(disk ssd)} _hdd=${HDD:-$(disk hdd)}
	_len=$(( $(sectors "$_ssd") + $(sectors "$_hdd") ))
	dmsetup create "$_name" --table \
		"0 $_len hybrid-pool $_meta $_ssd $_hdd $_chunk $# $*" || return 1
	dmsetup mknodes "$_name"
}

# make_volume POOL ID NAME SECTORS: create volume ID if needed, map it.
make_volume() {
	dmsetup message "$1" 0 create_volume "$2" 2>/dev/null || true
	dmsetup create "$3" --table "0 $4 hybrid /dev/mapper/$1 $2" || return 1
	dmsetup mknodes "$3"
	echo "/dev/mapper/$3"
}

# Status fields, 1-based, after dmsetup's "<start> <len> <target>".
pool_field() { dmsetup status "$1" | awk -v f="$2" '{ print $(f + 3) }'; }
vol_field() { dmsetup status "$1" | awk -v f="$2" '{ print $(f + 3) }'; }

# Named pool status fields, as Documentation/dm-hybrid.rst shows them.
pool_txid() { pool_field "$1" 1; }
pool_ssd_used() { pool_field "$1" 4 | cut -d/ -f1; }
pool_ssd_total() { pool_field "$1" 4 | cut -d/ -f2; }
pool_hdd_used() { pool_field "$1" 5 | cut -d/ -f1; }
pool_hdd_total() { pool_field "$1" 5 | cut -d/ -f2; }
pool_volumes() { pool_field "$1" 6; }
pool_mode() { pool_field "$1" 10; }
vol_mapped() { vol_field "$1" 1; }
vol_ssd() { vol_field "$1" 2; }
vol_hdd() { vol_field "$1" 3; }

# fio_verify NAME DEV SIZE [extra fio args]: write with verify headers and
# read everything back.  Prints fio's output on failure.
fio_verify() {
	_n=$1 _d=$2 _s=$3
	shift 3
	[ -b "$_d" ] || { echo "fio_verify: $_d is not a block device"; return 1; }
	fio --name="$_n" --filename="$_d" --direct=1 --ioengine=libaio \
		--iodepth=8 --rw=randwrite --bsrange=4k-128k --size="$_s" \
		--verify=crc32c --verify_fatal=1 --randseed=$$ "$@" \
		>"/tmp/fio-$_n.out" 2>&1 || { cat "/tmp/fio-$_n.out"; return 1; }
}

# is_zero DEV OFFSET_SECTORS SECTORS: the range reads as zeros.
is_zero() {
	dd if="$1" bs=512 skip="$2" count="$3" iflag=direct 2>/dev/null |
		cmp -s - /dev/zero -n $(($3 * 512))
}

# expect_refused WHAT CMD...: CMD must fail.
expect_refused() {
	_what=$1
	shift
	if "$@" >/dev/null 2>&1; then not_ok "$_what" "was accepted"; else ok "$_what"; fi
}

# wait_for TIMEOUT CMD...: poll until CMD succeeds.
wait_for() {
	_t=$1
	shift
	while ! "$@"; do
		_t=$((_t - 1))
		[ "$_t" -gt 0 ] || return 1
		sleep 1
	done
}

# --- migration, heat and per-volume controls ---------------------------------
# (issue 4; the interface is described in Documentation/dm-hybrid.rst)

# num CMD...: CMD's output if it is a non-negative integer, else -1, so that
# a missing field fails a numeric test instead of aborting the case (set -e).
num() {
	_v=$("$@" 2>/dev/null) || true
	case $_v in
	'' | *[!0-9]*) echo -1 ;;
	*) echo "$_v" ;;
	esac
}

# uptime_s: whole seconds since boot; uptime_cs: centiseconds.
uptime_s() { cut -d. -f1 /proc/uptime; }
uptime_cs() { awk '{ printf "%d\n", $1 * 100 }' /proc/uptime; }

# wait_until SECONDS CMD...: poll CMD every 0.5 s until it succeeds or
# SECONDS of wall time have passed (CMD's own run time included).
wait_until() {
	_end=$(( $(uptime_cs) + $1 * 100 ))
	shift
	while ! "$@"; do
		[ "$(uptime_cs)" -lt "$_end" ] || return 1
		sleep 0.5
	done
}

# Messages.
pool_msg() { _pm=$1; shift; dmsetup message "$_pm" 0 "$@"; }
pool_set() { pool_msg "$1" set "$2" "$3"; }		# POOL KNOB VALUE
vol_set() { pool_msg "$1" set_volume "$2" "$3" "$4"; }	# POOL ID KEY VALUE
pin() { pool_msg "$1" pin "$2" "$3" "$4" "$5"; }	# POOL ID START LEN TIER
migration() { pool_msg "$1" migration "$2"; }		# POOL on|off

# Pool status: promotions, demotions, migrations in flight.
pool_promotions() { num pool_field "$1" 7; }
pool_demotions() { num pool_field "$1" 8; }
pool_inflight() { num pool_field "$1" 9; }
# pool_xfield POOL N: field F+N, F = 11 + the number of feature args.
pool_xfield() { dmsetup status "$1" | awk -v n="$2" '{ print $(14 + $14 + n) }'; }
pool_migration() { pool_xfield "$1" 3; }	# on|off
pool_queued() { num pool_xfield "$1" 4; }
pool_migrations_done() { num pool_xfield "$1" 5; }
pool_moved_sectors() { num pool_xfield "$1" 6; }
pool_migration_rate() { num pool_xfield "$1" 7; }
pool_hysteresis() { num pool_xfield "$1" 8; }
pool_heat_half_life() { num pool_xfield "$1" 9; }
pool_ssd_reserve() { num pool_xfield "$1" 10; }
pool_seq_cutoff() { num pool_xfield "$1" 11; }
pool_promote_threshold() { num pool_xfield "$1" 12; }
pool_tick_ms() { num pool_xfield "$1" 13; }
pool_heat_save() { num pool_xfield "$1" 14; }
pool_backoffs() { num pool_xfield "$1" 15; }
# vol_list POOL: the list_volumes reply, one line per volume.
vol_list() { pool_msg "$1" list_volumes; }
# pool_moves POOL: promotions + demotions.
pool_moves() { echo $(( $(pool_promotions "$1") + $(pool_demotions "$1") )); }

# Volume status beyond the first three fields.
vol_reads() { num vol_field "$1" 4; }
vol_writes() { num vol_field "$1" 5; }
vol_ssd_ios() { num vol_field "$1" 8; }
vol_hdd_ios() { num vol_field "$1" 9; }
vol_prom() { num vol_field "$1" 10; }
vol_dem() { num vol_field "$1" 11; }
vol_seq_ios() { num vol_field "$1" 12; }
vol_hist() { vol_field "$1" 13; }
vol_weight() { num vol_field "$1" 14; }
vol_ssd_min() { num vol_field "$1" 15; }
vol_ssd_max() { num vol_field "$1" 16; }
vol_priority() { vol_field "$1" 17; }
# Numeric-safe forms of vol_mapped, vol_ssd, vol_hdd.
vol_mapped_n() { num vol_mapped "$1"; }
vol_ssd_n() { num vol_ssd "$1"; }
vol_hdd_n() { num vol_hdd "$1"; }

# --- block tier and write staging (issue 21) ---------------------------------
# The block tier's counters (0 without block_tier), as the status names
# them: pool fields after F (see pool_xfield), volume fields by number.
blk_valid() { pool_xfield "$1" 17 | cut -d/ -f1; }	# POOL: <valid block slots>
blk_dirty() { num pool_xfield "$1" 20; }	# POOL: <dirty blocks>, all volumes'
blk_writebacks() { num pool_xfield "$1" 21; }	# POOL: <block writebacks>
slog_half() { pool_xfield "$1" 23 | cut -d/ -f2; }	# POOL: <staging log half>
evac_state() { pool_xfield "$1" 24; }		# POOL: evacuating | -
evac_left() { num pool_xfield "$1" 25; }	# POOL: chunks and slots on the SSD
evacuated() { [ "$(evac_left "$1")" -eq 0 ]; }	# POOL: nothing left on the SSD
vol_staged() { num vol_field "$1" 19; }	# VOL: <staged writes> so far
vol_dirty() { num vol_field "$1" 20; }	# VOL: <dirty blocks> now

# hdd_pair SECTORS: volumes 1 and 2 of "pool", vm1 and vm2 of SECTORS
# (whole MiB) each, full of random bytes on HDD chunks (pinned there for
# the fill, then unpinned) and migration off: where block tier cases start.
hdd_pair() {
	make_volume pool 1 vm1 "$1" >/dev/null || fail vm1
	make_volume pool 2 vm2 "$1" >/dev/null || fail vm2
	check "migration off" migration pool off
	check "pin vm1 to the HDD" pin pool 1 0 "$1" hdd
	check "pin vm2 to the HDD" pin pool 2 0 "$1" hdd
	check "fill vm1" dd if=/dev/urandom of=/dev/mapper/vm1 bs=1M count=$(($1 / 2048)) oflag=direct
	check "fill vm2" dd if=/dev/urandom of=/dev/mapper/vm2 bs=1M count=$(($1 / 2048)) oflag=direct
	check "unpin vm1" pin pool 1 0 "$1" auto
	check "unpin vm2" pin pool 2 0 "$1" auto
}

# placement POOL ID [BUCKETS]: the placement_map line, e.g.
#   chunks=1024 ssd=128 hdd=256 tiers=..hhSS.. heat=0012f...
placement() { pool_msg "$1" placement_map "$2" ${3:+"$3"}; }
# pmap_get LINE KEY: one key=value of a placement line.
pmap_get() { printf '%s\n' "$1" | tr ' ' '\n' | sed -n "s/^$2=//p"; }

# pmap_count POOL ID BUCKETS KEY FIRST N CHARS: how many of buckets
# FIRST..FIRST+N-1 (0-based) of the placement map's KEY string (tiers or
# heat) are one of CHARS ("S", "hs", "3-9a-f", ...); -1 if there is no map.
pmap_count() {
	_pc=$(placement "$1" "$2" "$3" 2>/dev/null) || _pc=""
	_pc=$(pmap_get "$_pc" "$4")
	if [ "${#_pc}" -lt $(($5 + $6)) ]; then
		echo -1
		return 0
	fi
	_pc=$(printf '%s' "$_pc" | cut -c$(($5 + 1))-$(($5 + $6)) | tr -cd "$7" | wc -c)
	echo $((_pc))
}

# tier_count POOL ID BUCKETS FIRST N CHARS: pmap_count on tiers.  With
# BUCKETS equal to the volume's chunk count (at most 1024) a bucket is one
# chunk: S = on the SSD, h = on the HDD, . = unmapped.
tier_count() { pmap_count "$1" "$2" "$3" tiers "$4" "$5" "$6"; }
heat_count() { pmap_count "$1" "$2" "$3" heat "$4" "$5" "$6"; }

# drain POOL: migration off, then wait (up to 20 s) until nothing is in flight.
_idle() { [ "$(pool_inflight "$1")" -eq 0 ]; }
drain() {
	migration "$1" off || return 1
	wait_until 20 _idle "$1"
}

# Devices --------------------------------------------------------------------
# sum DEV: the md5 of all of DEV, read with O_DIRECT (not from the page
# cache).  A case that sources this file gives up the sum command.
sum() { dd if="$1" bs=1M iflag=direct 2>/dev/null | md5sum | cut -d' ' -f1; }

# flush DEV: fsync the block device (an empty REQ_PREFLUSH).
flush() { dd if=/dev/zero of="$1" bs=512 count=0 conv=notrunc,fsync 2>/dev/null; }

# swap_ssd TABLE: load TABLE into the dm device "fs" that the case made
# with make_linear to stand for the SSD (to fail it and to heal it).
swap_ssd() {
	echo "$1" > /tmp/tbl
	dmsetup suspend fs || return 1
	dmsetup load fs /tmp/tbl || return 1
	dmsetup resume fs
}

# Workloads ------------------------------------------------------------------
# fio_fill DEV OFFSET SIZE [extra]: write SIZE at OFFSET in whole 64 KiB
# blocks in random order (no sequential stream, each chunk written once).
fio_fill() {
	_d=$1 _o=$2 _s=$3
	shift 3
	fio --name=fill --filename="$_d" --direct=1 --ioengine=libaio --iodepth=8 \
		--rw=randwrite --bs=64k --offset="$_o" --size="$_s" \
		--randseed=4242 "$@" >/tmp/fio-fill.out 2>&1 || { cat /tmp/fio-fill.out; return 1; }
}

# fio_hot DEV OFFSET SIZE SECONDS [extra]: start 4 KiB random reads over the
# range for SECONDS in the background; $! is then fio's pid (for stop_bg).
fio_hot() {
	_d=$1 _o=$2 _s=$3 _t=$4
	shift 4
	fio --name=hot --filename="$_d" --direct=1 --ioengine=libaio --iodepth=4 \
		--rw=randread --bs=4k --offset="$_o" --size="$_s" --norandommap \
		--time_based --runtime="$_t" "$@" >/dev/null 2>&1 &
}

# stop_bg PID...: end background workloads this case started, reap them.
stop_bg() {
	for _p in "$@"; do kill "$_p" 2>/dev/null || true; done
	for _p in "$@"; do wait "$_p" 2>/dev/null || true; done
}

# need_migration POOL: the module takes the migration messages, or the case
# fails here with a clear reason.
need_migration() {
	dmsetup message "$1" 0 migration on >/tmp/msg.out 2>&1 ||
		{ cat /tmp/msg.out; dmesg | tail -n 3; fail "pool refuses 'migration on': no migration support in this module"; }
}


# --- power-cut regions --------------------------------------------------------
# Boot 1 writes numbered regions, each acknowledged only after its fsync,
# until the host cuts the power; boot 2 reads back every acknowledged one.
# The case defines the regions: "common" prints fio's [global] section
# (rw=write, block size, verify=crc32c, seed) and "region_job N" region
# N's job (its device, offset and size).

# write_regions PAUSE [NAME CMD...]: arm the power cut, then write regions
# 0, 1, ... (400 at most).  After each region's fsync: keep NAME as CMD's
# output then, keep the region as acked ($KEEP_acked in boot 2), sleep
# PAUSE seconds.  Fails the case if a write fails or the power stays on.
write_regions() {
	_wp=$1 _wk=${2:-}
	shift
	[ $# -eq 0 ] || shift
	arm_powercut
	_wn=0
	while [ $_wn -lt 400 ]; do
		{ common; echo end_fsync=1; echo do_verify=0; region_job $_wn; } > /tmp/w.fio
		fio /tmp/w.fio >/tmp/fio.out 2>&1 || { cat /tmp/fio.out; fail "write of region $_wn failed"; }
		[ -z "$_wk" ] || keep "$_wk" "$("$@")"
		keep acked $_wn
		_wn=$((_wn + 1))
		[ "$_wp" -eq 0 ] || sleep "$_wp"
	done
	fail "the workload ended before the power cut"
}

# read_regions LAST: regions 0..LAST read back as written (fio checks
# each block's crc32c header); prints fio's output if not.
read_regions() {
	{ common; echo verify_only=1; _ri=0
	  while [ $_ri -le "$1" ]; do region_job $_ri; _ri=$((_ri + 1)); done; } > /tmp/v.fio
	fio /tmp/v.fio >/tmp/fio.out 2>&1 || { cat /tmp/fio.out; return 1; }
}

# verify_regions LAST LOST: the subtest "regions 0..LAST intact after the
# power cut", named LOST when it fails.
verify_regions() {
	if read_regions "$1"; then
		ok "regions 0..$1 intact after the power cut"
	else
		not_ok "$2"
	fi
}
