#!/bin/sh
# SPDX-License-Identifier: GPL-2.0-only
# An evacuation outlives a reactivation (issue 20 item 4; the guides say
# "after a reboot in its middle it goes on"): with migration_rate 1 MiB/s,
# "evacuate on" over 16 MiB of SSD chunks, then the volume and the pool
# removed mid-way and activated again from the same metadata: the status
# says evacuating at once with data still left, a first write stays off
# the SSD, the evacuation ends once the rate is unlimited, and the volume
# reads back unchanged; "evacuate off" also outlives a reactivation, and
# first writes use the SSD again.
# kernels: debian debug
# disks: meta=16M ssd=32M hdd=256M
# tier: quick
# debug-tier: long
# timeout: 300
. /lib/dmh/guest.sh
. /lib/dmh/hybrid.sh

head_sum() { dd if=/dev/mapper/vm1 bs=1M count=40 iflag=direct 2>/dev/null | md5sum | cut -d' ' -f1; }
# 64 KiB chunks, a 64 MiB volume: chunk N is bucket N of tier_count.
ssd_in() { tier_count pool 1 1024 "$1" "$2" S; }
up() { make_pool pool 128 && make_volume pool 1 vm1 131072 >/dev/null; }
down() { dmsetup remove vm1 && dmsetup remove pool; }

load_dm_hybrid
up || fail "pool"
check "tick_ms 200" pool_set pool tick_ms 200
fio_fill /dev/mapper/vm1 0 16M || fail "fill"
left0=$(evac_left pool)
check "16 MiB of chunks on the SSD ($left0)" test "$left0" -ge 200
check "migration_rate 1 (MiB/s)" pool_set pool migration_rate 1
s=$(head_sum)

check "evacuate on" pool_msg pool evacuate on
sleep 2
l1=$(evac_left pool)
check "evacuating, $l1 of $left0 chunks left after 2 s" \
	test "$(evac_state pool)" = evacuating -a "$l1" -gt 0
check "volume and pool removed mid-evacuation" down
check "activated again from the same metadata" up
l2=$(evac_left pool)
log "after the reactivation: $(dmsetup status pool)"
check "still evacuating after the reactivation ($l2 chunks left)" \
	test "$(evac_state pool)" = evacuating -a "$l2" -gt 0
fio_fill /dev/mapper/vm1 48M 4M || fail "write after the reactivation"
check "first writes after the reactivation stay off the SSD" \
	test "$(ssd_in 768 64)" -eq 0
check "migration_rate 0 (unlimited)" pool_set pool migration_rate 0
check "SSD empty within 60 s" wait_until 60 evacuated pool
check "the volume reads back unchanged" test "$(head_sum)" = "$s"

check "evacuate off" pool_msg pool evacuate off
check "volume and pool removed" down
check "activated again" up
check "not evacuating after the reactivation" test "$(evac_state pool)" = -
fio_fill /dev/mapper/vm1 56M 4M || fail "write after evacuate off"
check "first writes use the SSD again ($(ssd_in 896 64) of 64 chunks)" \
	test "$(ssd_in 896 64)" -gt 0
check "the volume still reads back unchanged" test "$(head_sum)" = "$s"
down
check "hybrid_check: clean" hybrid_check "$(disk meta)"
pass
