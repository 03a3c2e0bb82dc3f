#!/bin/sh
# SPDX-License-Identifier: GPL-2.0-only
# Bad table lines and messages: each is refused with its own error in the
# kernel log, and leaves the pool exactly as it was.
# kernels: debian debug
# disks: meta=16M ssd=32M hdd=4G tiny=1M
# tier: quick
# debug-tier: long
# timeout: 300
. /lib/dmh/guest.sh
. /lib/dmh/hybrid.sh

M=$(disk meta) S=$(disk ssd) H=$(disk hdd)
load_dm_hybrid

# refuse_ctr "TABLE" "expected kernel error": the create must fail and the
# kernel must say why.
refuse_ctr() {
	dmesg -c >/dev/null
	if dmsetup create bad --table "$1" >/dev/null 2>&1; then
		not_ok "refused: $1" "accepted"
		dmsetup remove bad
	elif dmesg | grep -qF "$2"; then
		ok "refused: $1"
	else
		not_ok "refused: $1" "no '$2' in the log"
	fi
}

L="0 8454144 hybrid-pool"
refuse_ctr "$L $M $S $H" "Expected: <metadata>"
refuse_ctr "$L $M $S $H 100" "Chunk size must be a power of two"
refuse_ctr "$L $M $S $H 96" "Chunk size must be a power of two"
refuse_ctr "$L $M $S $H 262144" "Chunk size must be a power of two"
refuse_ctr "$L $M $S $H x" "Chunk size must be a power of two"
refuse_ctr "$L $M $S $H 128 1 bogus" "Unrecognised pool feature"
refuse_ctr "$L $M $S $H 128 2 read_only" "Invalid number of pool feature"
refuse_ctr "$L $M $S $H 128 8 a b c d e f g h" "Invalid number of pool feature"
refuse_ctr "$L $M $S $H 128 1 persistent_staging" "persistent_staging needs block_tier"
refuse_ctr "$L $M $S $H 128 1 block_tier" "block_tier takes a size in MiB"
refuse_ctr "$L $M $S $H 128 2 block_tier 16x" "block_tier takes a size in MiB"
refuse_ctr "$L $M $S $H 128 2 block_tier 65537" "block_tier takes a size in MiB"
refuse_ctr "$L $M $S $H 128 1 write_staging" "write_staging needs block_tier"
refuse_ctr "$L $M $S $H 128 3 write_staging block_tier 0" "write_staging needs block_tier"
refuse_ctr "$L $M $S $S 128" "must be distinct"
refuse_ctr "$L $M /dev/nonexistent $H 128" "Error opening SSD device"
refuse_ctr "$L $(disk tiny) $S $H 128" "Metadata device too small"
check "a read_only pool on a blank device is refused" \
	sh -c "! dmsetup create bad --table '$L $M $S $H 128 1 read_only'"

make_pool pool 128 || fail pool
make_volume pool 1 vm1 8192 >/dev/null || fail vm1
before=$(dmsetup status pool)
refuse_ctr "0 8192 hybrid /dev/mapper/pool" "Expected: <pool dev> <volume id>"
refuse_ctr "0 8192 hybrid /dev/mapper/pool 1 2" "Expected: <pool dev> <volume id>"
refuse_ctr "0 8192 hybrid /dev/mapper/pool x" "Volume id must be a number"
refuse_ctr "0 8192 hybrid /dev/mapper/pool 16777216" "Volume id must be a number"
refuse_ctr "0 8192 hybrid /dev/mapper/pool 55" "Volume does not exist"
refuse_ctr "0 8192 hybrid $S 1" "not an active hybrid-pool"
refuse_ctr "0 8192 hybrid-pool $M $S $H 128" "Metadata device is already used"

refuse_msg() {	# refuse_msg "MESSAGE" "expected kernel error"
	dmesg -c >/dev/null
	# shellcheck disable=SC2086
	if dmsetup message pool 0 $1 >/dev/null 2>&1; then
		not_ok "message refused: $1" "accepted"
	elif dmesg | grep -qF "$2"; then
		ok "message refused: $1"
	else
		not_ok "message refused: $1" "no '$2' in the log"
	fi
}
refuse_msg "frobnicate 1" "unsupported message"
refuse_msg "create_volume" "expected 'create_volume <volume id"
refuse_msg "create_volume abc" "expected 'create_volume <volume id"
refuse_msg "create_volume 16777216" "expected 'create_volume <volume id"
refuse_msg "create_volume 1 2" "expected 'create_volume <volume id"
refuse_msg "create_volume 1" "volume 1 already exists"
refuse_msg "delete_volume 9" "volume 9 does not exist"
refuse_msg "delete_volume 1" "volume 1 is active"
check "the pool is unchanged" test "$(dmsetup status pool)" = "$before"
check "set_volume 1 ssd_max 10" dmsetup message pool 0 set_volume 1 ssd_max 10
limits=$(dmsetup message pool 0 list_volumes)
refuse_msg "set_volume 1 ssd_min 11" "ssd_min 11 would exceed ssd_max 10"
check "a refused ssd_min changes nothing" \
	test "$(dmsetup message pool 0 list_volumes)" = "$limits"
check "set_volume 1 ssd_min 10" dmsetup message pool 0 set_volume 1 ssd_min 10
limits=$(dmsetup message pool 0 list_volumes)
refuse_msg "set_volume 1 ssd_max 9" "ssd_min 10 would exceed ssd_max 9"
check "a refused ssd_max changes nothing" \
	test "$(dmsetup message pool 0 list_volumes)" = "$limits"
check "set_volume 1 ssd_max 0 (no cap) with ssd_min 10" \
	dmsetup message pool 0 set_volume 1 ssd_max 0
check "create_volume 16777215 (the largest id) works" \
	dmsetup message pool 0 create_volume 16777215
check "delete_volume 16777215" dmsetup message pool 0 delete_volume 16777215
dmsetup remove vm1
dmsetup remove pool
refuse_ctr "$L $M $S $H 256" "Chunk size differs"
check "the intact metadata still activates" make_pool pool 128
dmsetup remove pool
pass
