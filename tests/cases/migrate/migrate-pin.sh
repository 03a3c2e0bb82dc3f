#!/bin/sh
# SPDX-License-Identifier: GPL-2.0-only
# Pinning, with three volumes competing for a full SSD:
#  - first writes in a range pinned to the HDD go to the HDD even though
#    the SSD has room (the unpinned neighbour range goes to the SSD);
#  - a range pinned to the SSD whose data is on the HDD moves to the SSD
#    within 30 s without being read (cold filler chunks make room);
#  - a range on the SSD pinned to the HDD leaves it within 30 s and stays
#    off while it is the hottest data around;
#  - cold chunks pinned to the SSD stay there while 192 hot chunks (more
#    than the free SSD space) push for promotion;
#  - "auto" removes the pin: the hot range is then promoted.
# kernels: debian
# disks: meta=16M ssd=32M hdd=256M
# tier: quick
# timeout: 400
. /lib/dmh/guest.sh
. /lib/dmh/hybrid.sh

# 64 KiB chunks = 128 sectors; 64 MiB volumes = 1024 chunks = 1024 buckets.
B=1024
# count VOL_ID FIRST N CHARS
count() { tier_count pool "$1" $B "$2" "$3" "$4"; }
vm1_pinned_on_ssd() { [ "$(count 1 0 64 S)" -eq 64 ]; }
vm3_hi_off_ssd() { [ "$(count 3 64 64 h)" -eq 64 ]; }
vm1_hot_promoted() { [ "$(count 1 64 192 S)" -ge 173 ]; }	# 90% of 192
vm3_hi_promoted() { [ "$(count 3 64 64 S)" -ge 58 ]; }	# 90% of 64
secs() { echo $(( ($(uptime_cs) - $1) / 100 )); }

load_dm_hybrid
make_pool pool 128 || fail pool
need_migration pool
# promote_free_threshold 4: every fio_fill write leaves heat 1, and this
# case checks that only pins move unread chunks, not free-space promotion
# of lightly written ones (KUnit promotes_lukewarm_into_free_space covers
# that).
for kv in "tick_ms 200" "migration_rate 0" "ssd_reserve 8" \
	"promote_free_threshold 4"; do
	check "set $kv" pool_set pool $kv
done
make_volume pool 3 vm3 131072 >/dev/null || fail vm3
make_volume pool 9 filler 65536 >/dev/null || fail filler
make_volume pool 1 vm1 131072 >/dev/null || fail vm1

# 1. Placement of first writes in a range pinned to the HDD.
check "pin vm3 chunks 0-63 to the HDD" pin pool 3 0 8192 hdd
fio_fill /dev/mapper/vm3 0 8M || fail "vm3 write"
check "vm3 pinned-hdd range written to the HDD ($(count 3 0 64 S) on the SSD)" \
	test "$(count 3 0 64 h)" -eq 64
check "vm3 unpinned range written to the SSD" test "$(count 3 64 64 S)" -eq 64

# 2. The filler takes the rest of the SSD; vm1 then lands on the HDD.
fio_fill /dev/mapper/filler 0 32M || fail "filler write"
fio_fill /dev/mapper/vm1 0 16M || fail "vm1 write"
check "vm1's 256 chunks are all on the HDD ($(vol_ssd_n vm1) on the SSD)" \
	test "$(vol_hdd_n vm1)" -eq 256
log "pool: $(dmsetup status pool)"

# 3. Pin to the SSD: moved without any read.
d0=$(pool_demotions pool)
t0=$(uptime_cs)
check "pin vm1 chunks 0-63 to the SSD" pin pool 1 0 8192 ssd
if wait_until 30 vm1_pinned_on_ssd; then
	ok "vm1 pinned-ssd range on the SSD after $(secs "$t0") s (bound 30 s)"
else
	not_ok "vm1 pinned-ssd range on the SSD within 30 s" "$(count 1 0 64 S) of 64"
fi
check "cold filler chunks demoted to make room" test "$(pool_demotions pool)" -gt "$d0"
check "vm1 unpinned, unread chunks stay on the HDD" test "$(count 1 64 192 S)" -eq 0

# 4. Pin to the HDD a range that is on the SSD, then make it hot.
t0=$(uptime_cs)
check "pin vm3 chunks 64-127 to the HDD" pin pool 3 8192 8192 hdd
if wait_until 30 vm3_hi_off_ssd; then
	ok "vm3 pinned-hdd range left the SSD after $(secs "$t0") s (bound 30 s)"
else
	not_ok "vm3 pinned-hdd range left the SSD within 30 s" "$(count 3 64 64 S) still on the SSD"
fi
fio_hot /dev/mapper/vm3 4M 4M 90
hot3=$!
fio_hot /dev/mapper/vm1 4M 12M 90
hot1=$!
t0=$(uptime_cs)
min1=64 max3=0
# 25 s of hot reads: vm1 chunks 64-255 (192 > free SSD space) and the
# pinned vm3 range.  Watch the pinned ranges all along.
while [ "$(secs "$t0")" -lt 25 ]; do
	a=$(count 1 0 64 S) b=$(count 3 64 64 S)
	[ "$a" -lt "$min1" ] && min1=$a
	[ "$b" -gt "$max3" ] && max3=$b
	sleep 1
done
log "pool: $(dmsetup status pool)"
log "vm1 map: $(placement pool 1 64 || true)"
log "vm3 map: $(placement pool 3 64 || true)"
check "hot unpinned vm1 chunks promoted (>= 90% of 192: $(count 1 64 192 S))" vm1_hot_promoted
check "cold pinned-ssd vm1 chunks never left the SSD (minimum seen: $min1 of 64)" \
	test "$min1" -eq 64
check "hot pinned-hdd vm3 chunks never promoted (maximum seen on SSD: $max3)" \
	test "$max3" -eq 0
check "heat map: the pinned-hdd vm3 range is hot" \
	test "$(heat_count pool 3 $B 64 64 3-9a-f)" -ge 58

# 5. auto removes the pin; the range is still being read.
t0=$(uptime_cs)
check "pin vm3 chunks 64-127 auto" pin pool 3 8192 8192 auto
if wait_until 30 vm3_hi_promoted; then
	ok "vm3 range promoted after unpinning, in $(secs "$t0") s (bound 30 s)"
else
	not_ok "vm3 range promoted within 30 s after unpinning" "$(count 3 64 64 S) of 64"
fi
check "vm3 range pinned before the first write still on the HDD" \
	test "$(count 3 0 64 h)" -eq 64
stop_bg $hot1 $hot3
check "still on the SSD: vm1 pinned range" vm1_pinned_on_ssd
for v in vm1 vm3 filler; do dmsetup remove $v; done
dmsetup remove pool
check "hybrid_check: clean" hybrid_check "$(disk meta)"
pass
