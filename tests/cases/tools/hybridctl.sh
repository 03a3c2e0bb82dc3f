#!/bin/sh
# SPDX-License-Identifier: GPL-2.0-only
# hybridctl from pool create to delete: pools from /etc/hybridtab, named
# volumes, list, set, pin, stats --json, map (text and PNG), resize,
# deactivate/activate with the names coming back, delete; and failures
# injected midway (bad devices, a duplicate name, a table that fails to
# load, a metadata device that errors, a device that vanished, a volume in
# use), each leaving nothing half-created (dmsetup ls, list_volumes); and
# pool create --persistent-staging, refused without room for the log.
# kernels: debian
# disks: meta=16M ssd=64M hdd=256M
# tier: quick
# timeout: 240
. /lib/dmh/guest.sh
. /lib/dmh/hybrid.sh
. /lib/dmh/hctl.sh
# snap: every dm device with its table, and every pool's list_volumes.
snap() {
	dmsetup table | sort
	for _p in $(dmsetup table | awk '$4 == "hybrid-pool" {sub(":", "", $1); print $1}'); do
		echo "$_p:"
		dmsetup message "$_p" 0 list_volumes
	done
}
same_as() { snap >/tmp/snap.now; cmp -s "$1" /tmp/snap.now || { diff "$1" /tmp/snap.now; return 1; }; }
lv() { dmsetup message "$1" 0 list_volumes; }
# lv_field POOL NAME N: field N of NAME's list_volumes line.
lv_field() { lv "$1" | awk -v n="$2" -v f="$3" '$3 == n { print $f }'; }
size_of() { blockdev --getsz "/dev/mapper/$1"; }
# json VOLUME KEY: a value of stats --json output in /tmp/out.
json() { grep "\"name\": \"$1\"" /tmp/out | sed -n "s/.*\"$2\": \\([^,}]*\\).*/\\1/p"; }

M=$(disk meta) S=$(disk ssd) D=$(disk hdd)
# Pool p0 gets the first halves of the disks, pool q (for the metadata
# failure) the rest.
make_linear pm "$M" 16384 0 >/dev/null
make_linear qm "$M" 16384 16384 >/dev/null
make_linear ps "$S" 98304 0 >/dev/null
make_linear qs "$S" 32768 98304 >/dev/null
make_linear ph "$D" 458752 0 >/dev/null
make_linear qh "$D" 65536 458752 >/dev/null
make_linear tiny "$M" 16 0 >/dev/null
# 128 blocks: room for p0's maps, not for a staging log (persistent staging)
make_linear mid "$M" 1024 0 >/dev/null
PM=/dev/mapper/pm PS=/dev/mapper/ps PH=/dev/mapper/ph

# ---- pool create: refused cleanly --------------------------------------------
snap >/tmp/snap0
refused "create: a metadata device that is too small" "too small" \
	$H pool create p0 --metadata /dev/mapper/tiny --ssd $PS --hdd $PH --chunk-size 64K
refused "create: a device that does not exist" "does not exist" \
	$H pool create p0 --metadata /dev/mapper/nothere --ssd $PS --hdd $PH
refused "create: the same device twice" "different" \
	$H pool create p0 --metadata $PM --ssd $PS --hdd $PS
refused "create: a bad chunk size" "power of two" \
	$H pool create p0 --metadata $PM --ssd $PS --hdd $PH --chunk-size 3M
echo "not a pool" | dd of=$PM bs=4096 count=1 conv=sync 2>/dev/null
refused "create: metadata that is not blank" "not blank" \
	$H pool create p0 --metadata $PM --ssd $PS --hdd $PH --chunk-size 64K
check "... and that data is left alone" eval "head -c 10 $PM | grep -q 'not a pool'"
check "nothing was created and no tab written" eval 'same_as /tmp/snap0 && [ ! -e $HYBRIDTAB ]'

# ---- pool create ------------------------------------------------------------------
check "pool create p0 (--wipe over the junk)" \
	run $H pool create p0 --metadata $PM --ssd $PS --hdd $PH --chunk-size 64K --wipe
cat /tmp/out
check "p0 is a hybrid-pool device" eval 'dmsetup table p0 | grep -q " hybrid-pool .* 128 0$"'
check "p0 is in the tab" grep -q "^p0[[:space:]]${PM}[[:space:]]${PS}[[:space:]]${PH}[[:space:]]chunk=64K" $HYBRIDTAB
refused "create p0 again" "already defined" \
	$H pool create p0 --metadata /dev/mapper/qm --ssd /dev/mapper/qs --hdd /dev/mapper/qh
check "pool create q" \
	run $H pool create q --metadata /dev/mapper/qm --ssd /dev/mapper/qs --hdd /dev/mapper/qh --chunk-size 64K
check "pool status" run $H pool status p0
cat /tmp/out
check "... shows the mode and the tiers" eval 'grep -q "mode: *rw" /tmp/out && grep -q "SSD: .*of 48M (0 of 768 chunks" /tmp/out'

# ---- vol create ----------------------------------------------------------------------
check "vol create web 32M" run $H vol create p0 web 32M
check "vol create db 16M, weight 200, high priority" \
	run $H vol create p0 db 16M --weight 200 --priority high
check "vol create mail 8M, ssd_max 2M" run $H vol create p0 mail 8M --ssd-max 2M
check "devices named after the volumes, with their sizes" eval \
	'[ "$(size_of web)" = 65536 ] && [ "$(size_of db)" = 32768 ] && [ "$(size_of mail)" = 16384 ]'
lv p0
check "list_volumes has the three names" test "$(lv p0 | awk '{print $3}' | sort | tr '\n' ' ')" = "db mail web "
check "db has weight 200 and high priority" test "$(lv_field p0 db 4)-$(lv_field p0 db 5)" = "200-high"
check "mail's ssd_max is 32 chunks" test "$(lv_field p0 mail 7)" = 32
check "vol list" run $H vol list p0
cat /tmp/out
check "... shows each volume and its device" eval \
	'grep -q "web .*32M.*/dev/mapper/web" /tmp/out && grep -q "mail .*8M.*/dev/mapper/mail" /tmp/out'

# ---- vol create: failures midway -----------------------------------------------------
snap >/tmp/snap1
refused "vol create: a duplicate name" "already has a volume named web" $H vol create p0 web 1G
check "... nothing changed" same_as /tmp/snap1
refused "vol create: a name the kernel refuses" "not a valid volume name" $H vol create p0 12345 1G
make_linear clash "$D" 8 0 >/dev/null
snap >/tmp/snap1
refused "vol create: a dm device of that name exists" "already exists" $H vol create p0 clash 8M
check "... nothing changed" same_as /tmp/snap1
dmsetup remove clash
snap >/tmp/snap1
# 64P is 2^40 chunks of 64K: create_volume and the name succeed, then the
# kernel refuses the table at resume (EFBIG); the volume must go again.
refused "vol create: the table fails to load after create_volume" "too large" \
	$H vol create p0 huge 64P
check "... the volume was deleted again, no device left" same_as /tmp/snap1
refused "vol create: a bad setting" "weight must be" \
	$H vol create p0 bad 8M --ssd-max 1M --weight 5000
check "... nothing was created" same_as /tmp/snap1
refused "vol create: an id in use" "already has a volume with id" \
	$H vol create p0 other 8M --id "$(lv_field p0 web 1)"
check "... nothing changed" same_as /tmp/snap1

# A pool whose metadata device starts failing: create_volume cannot commit.
dmsetup suspend qm && dmsetup load qm --table "0 16384 error" && dmsetup resume qm
refused "vol create on a pool whose metadata device fails" "pool q" $H vol create q lost 8M
check "... no device was created for it" eval '! dmsetup info lost >/dev/null 2>&1'
check "deactivate q" run $H pool deactivate q
cat /tmp/out
dmsetup suspend qm && dmsetup load qm --table "0 16384 linear $M 16384" && dmsetup resume qm
# A device that vanished: q's SSD is gone.
dmsetup remove qs
refused "activate q with its SSD missing" "did not all appear" $H pool activate q --wait 1
check "... nothing was created" eval '! dmsetup info q >/dev/null 2>&1'
make_linear qs "$S" 32768 98304 >/dev/null
check "activate q once its SSD is back" run $H pool activate q
check "... the failed volume is not in q's committed metadata" test -z "$(lv q)"
check "remove q from the tab" run $H pool remove q --wipe
check "... q is gone from the tab and from device-mapper" eval \
	"! grep -q '^q[[:space:]]' $HYBRIDTAB && ! dmsetup info q >/dev/null 2>&1"

# ---- set, pin ----------------------------------------------------------------------------
check "vol set web weight 300 priority low ssd_min 1M" \
	run $H vol set p0 web weight 300 priority low ssd_min 1M
check "... the kernel has them" test "$(vol_weight web)-$(vol_priority web)-$(vol_ssd_min web)" = "300-low-16"
refused "vol set: a weight out of range" "weight must be" $H vol set p0 web weight 5000
refused "vol set: an unknown setting among good ones" "unknown volume setting" \
	$H vol set p0 web weight 400 colour blue
check "... none of them was applied" test "$(vol_weight web)" = 300
refused "vol set: ssd_min above ssd_max" "cannot be above ssd_max" \
	$H vol set p0 web ssd_min 2M ssd_max 1M
refused "vol set: ssd_max below the current ssd_min" "cannot be above ssd_max" \
	$H vol set p0 web ssd_max 512K
check "vol set web ssd_max 2M" run $H vol set p0 web ssd_max 2M
# raising both past the current cap needs ssd_max sent first, lowering
# both below the current reservation ssd_min first: hybridctl orders them
check "vol set web ssd_min 4M ssd_max 8M (both above the old cap)" \
	run $H vol set p0 web ssd_min 4M ssd_max 8M
check "... the kernel has 64-128" test "$(vol_ssd_min web)-$(vol_ssd_max web)" = "64-128"
check "vol set web ssd_max 1M ssd_min 1M (both below the old reservation)" \
	run $H vol set p0 web ssd_max 1M ssd_min 1M
check "vol set web ssd_max 0 (no cap)" run $H vol set p0 web ssd_max 0
check "... the kernel has 16-0" test "$(vol_ssd_min web)-$(vol_ssd_max web)" = "16-0"
check "pin web's first 4M to the HDD" run $H vol pin p0 web hdd --length 4M
check "pin db's first 4M to the SSD" run $H vol pin p0 db ssd --start 0 --length 4M
refused "pin: a range beyond the end" "within volume" $H vol pin p0 mail ssd --start 6M --length 4M
dd if=/dev/urandom of=/tmp/web4 bs=64k count=64 2>/dev/null
dd if=/tmp/web4 of=/dev/mapper/web bs=64k count=64 oflag=direct 2>/dev/null
dd if=/dev/urandom of=/dev/mapper/db bs=1M count=4 oflag=direct 2>/dev/null
check "vol rename mail to post renames its device" eval \
	"run $H vol set p0 mail name post && [ -b /dev/mapper/post ] && ! dmsetup info mail >/dev/null 2>&1 && [ \"\$(lv_field p0 post 1)\" != '' ]"
refused "vol rename to a name in use" "already has a volume named db" $H vol set p0 post name db

# ---- stats, map --------------------------------------------------------------------------
dd if=/dev/mapper/web of=/dev/null bs=4k count=200000 iflag=direct 2>/dev/null &
rd=$!
check "stats --json" run $H stats --json --interval 1 web db post
stop_bg $rd
cat /tmp/out
check "... web did reads: iops > 0, 100% reads, 4 KiB each" eval \
	'[ "$(json web iops | cut -d. -f1)" -gt 0 ] && [ "$(json web read_pct)" = 100.0 ] && [ "$(json web req_kib)" = 4.0 ]'
check "... db and post were idle, hit% null" eval \
	'[ "$(json db iops)" = 0.0 ] && [ "$(json post ssd_hit_pct)" = null ]'
check "... db holds 64 chunks on the SSD (100% resident)" eval \
	'[ "$(json db ssd_chunks)" = 64 ] && [ "$(json db ssd_residency_pct)" = 100.0 ]'
check "stats --watch 0.5 --count 2 prints two tables" eval \
	"run $H stats --watch 0.5 --count 2 && [ \$(grep -c '^VOLUME' /tmp/out) = 2 ]"
check "map web (8 buckets)" run $H map web --buckets 8 --png /tmp/web.png
cat /tmp/out
check "... the pinned first bucket is on the HDD, the rest unmapped" grep -q '^0B  *h\.\.\.\.\.\.\.  ' /tmp/out
check "... the PNG chart is a PNG" eval 'head -c 4 /tmp/web.png | grep -q PNG'
check "map db: its first quarter is all on the SSD" eval \
	"run $H map db --buckets 4 && grep -q '^0B  *S\.\.\.  ' /tmp/out"
refused "map of a volume that does not exist" "no volume named" $H map nosuch

# ---- resize ---------------------------------------------------------------------------------
check "vol resize web 48M" run $H vol resize p0 web 48M
check "vol resize web +16M" run $H vol resize p0 web +16M
check "... web is 64M, device and pool agree" eval \
	'[ "$(size_of web)" = 131072 ] && [ "$(lv_field p0 web 2)" = 131072 ]'
refused "shrink without --shrink" "pass --shrink" $H vol resize p0 web 32M
refused "shrink over mapped chunks" "shrink a volume over mapped chunks" $H vol resize p0 web 2M --shrink
check "... web kept its size and is not left suspended" eval \
	'[ "$(size_of web)" = 131072 ] && dmsetup info web | grep -q "State: *ACTIVE"'
refused "grow beyond what a volume can be" "too large" $H vol resize p0 web 64P
check "... web kept its size and is not left suspended" eval \
	'[ "$(size_of web)" = 131072 ] && dmsetup info web | grep -q "State: *ACTIVE"'
check "shrink over an unmapped tail" run $H vol resize p0 web 32M --shrink
check "... web is 32M" test "$(size_of web)" = 65536
check "pool grow with nothing to grow" eval "run $H pool grow p0 && grep -q 'Nothing to grow' /tmp/out"
dmsetup suspend ph && dmsetup load ph --table "0 491520 linear $D 0" && dmsetup resume ph
check "pool grow after the HDD grew" run $H pool grow p0
check "... the HDD has 3840 chunks" test "$(pool_hdd_total p0)" = 3840

# ---- deactivate, activate ------------------------------------------------------------------
# names of the devices and the pool's volumes (minor numbers change)
snap_names() { dmsetup ls | awk '{print $1}' | sort; lv p0; }
snap_names >/tmp/names2
snap >/tmp/snap2
# shellcheck disable=SC2217 # the redirection holds the device open
sleep 30 </dev/mapper/web &
holder=$!
sleep 1
refused "deactivate while web is open" "in use" $H pool deactivate p0
check "... nothing was removed" same_as /tmp/snap2
stop_bg $holder
check "pool deactivate p0" run $H pool deactivate p0
check "... p0 and its volume devices are gone" eval \
	'! dmsetup ls | grep -Eq "^(p0|web|db|post)[[:space:]]"'
check "pool activate --all" run $H pool activate --all
cat /tmp/out
check "... p0, web, db and post are back, same volumes" eval 'snap_names | cmp -s /tmp/names2 -'
check "... web's controls persisted" test "$(vol_weight web)-$(vol_priority web)" = "300-low"
dd if=/dev/mapper/web of=/tmp/back bs=64k count=64 iflag=direct 2>/dev/null
check "... web's data is intact" cmp -s /tmp/web4 /tmp/back

# ---- delete ----------------------------------------------------------------------------------
# shellcheck disable=SC2217 # the redirection holds the device open
sleep 30 </dev/mapper/post &
holder=$!
sleep 1
refused "delete post while it is open" "in use" $H vol delete p0 post
check "... post is still there" eval '[ -b /dev/mapper/post ] && [ -n "$(lv_field p0 post 1)" ]'
stop_bg $holder
check "vol delete post" run $H vol delete p0 post
check "... its device and its volume are gone" eval \
	'! dmsetup info post >/dev/null 2>&1 && [ -z "$(lv_field p0 post 1)" ]'
check "vol delete db by id" run $H vol delete p0 "$(lv_field p0 db 1)"
check "vol delete web" run $H vol delete p0 web
check "... p0 has no volumes" test -z "$(lv p0)"
check "pool deactivate --all" run $H pool deactivate --all
check "... no hybrid device is left" eval '! dmsetup table | grep -q hybrid'

# ---- persistent staging ------------------------------------------------------------------
# p0's devices again for pool pz, with a 16M block tier whose dirty slots
# persistent_staging logs: refused on mid with the size that
# hybrid_metadata_size --persistent-staging prints, created on $PM.
check "pool remove p0 --wipe" run $H pool remove p0 --wipe
# (the HDD grew since p0 was created: its size now)
want=$(hybrid_metadata_size -s "$(blockdev --getsize64 $PS)" -d "$(blockdev --getsize64 $PH)" \
	-c 64K -p 16M -n)
refused "create --persistent-staging: no room for the staging log" \
	"staging log for a 16M block tier needs at least $want bytes" \
	$H pool create pz --metadata /dev/mapper/mid --ssd $PS --hdd $PH --chunk-size 64K \
	--block-tier 16M --persistent-staging
check "pool create pz --block-tier 16M --write-staging --persistent-staging" \
	run $H pool create pz --metadata $PM --ssd $PS --hdd $PH --chunk-size 64K \
	--block-tier 16M --write-staging --persistent-staging
cat /tmp/out
check "... the table has the feature, the tab the option" eval \
	'dmsetup table pz | grep -q " block_tier 16 write_staging persistent_staging$" &&
	 grep -q "^pz[[:space:]].*,block_tier=16M,write_staging,persistent_staging" $HYBRIDTAB'
half=$(slog_half pz)
check "pool status pz" run $H pool status pz
cat /tmp/out
# a half holds a record of each of the 4096 slots and one more: 25 blocks
check "... shows the feature on and the kernel's log half ($half blocks, 25 at least)" eval \
	'grep -Eq "^  staging log: persistent_staging on, [0-9]+ of $half blocks of the live half in use$" /tmp/out &&
	 [ "$half" -ge 25 ]'
check "pool remove pz --wipe" run $H pool remove pz --wipe
pass
