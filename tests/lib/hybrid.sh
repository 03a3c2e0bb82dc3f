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
