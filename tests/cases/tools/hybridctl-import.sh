#!/bin/sh
# SPDX-License-Identifier: GPL-2.0-only
# hybridctl vol import and vol export (issue 20 item 3): a 64 MiB image
# with holes and random data imported from a file reads back with its md5,
# its holes left unmapped (mapped chunks are exactly the 1 MiB buffers that
# hold data), exported back to a sparse file with the same md5; an image
# of an odd size gets a volume rounded up to sectors; --progress=json
# lines; an import interrupted by SIGINT (its source under dm-delay),
# which copies under half.importing (volume and device), removes its
# volume and says so; an import onto an existing name is
# refused and changes nothing; export does not overwrite a file.  An
# import killed with SIGKILL at a random moment (the sleep drawn from
# DMH_SEED) leaves nothing under its name, only NAME.importing, which
# pool activate names as an interrupted import; an import
# of a source of another size onto it is refused and changes nothing; the
# same import run again resumes it (stale data planted in the volume, in a
# hole of the source and over its data, does not survive), ends with the
# source's md5, its holes unmapped, and NAME.importing gone.  Then a
# power cut during an import (its source under a slower dm-delay): boot 2
# activates the pool, which maps cut.importing and nothing under cut, and
# says it is an interrupted import; the same import resumes it to the
# source's md5 with its holes unmapped; the import the SIGKILL check
# finished before the cut (kill) still reads back its source.
# kernels: debian debug
# disks: meta=16M ssd=64M hdd=256M
# boots: 2
# powercut: after-marker 1-3
# tier: quick
# debug-tier: long
# timeout: 300
. /lib/dmh/guest.sh
. /lib/dmh/hybrid.sh
. /lib/dmh/hctl.sh
modprobe dm-delay 2>/dev/null || true

sum() { dd if="$1" bs=1M iflag=direct 2>/dev/null | md5sum | cut -d' ' -f1; }
fsum() { md5sum <"$1" | cut -d' ' -f1; }
snap() { dmsetup table | sort; dmsetup message p0 0 list_volumes; }

M=$(disk meta)
# the metadata gets the first 8 MiB of its disk, the interrupted import's
# source the other 8 MiB
make_linear pm "$M" 16384 0 >/dev/null
make_linear src "$M" 16384 16384 >/dev/null
names() { dmsetup message p0 0 list_volumes | awk '{ print $3 }'; }

# ---- boot 2: after the power cut during the import of cut ----------------------
if [ "$DMH_BOOT" = 2 ]; then
	printf 'p0\t/dev/mapper/pm\t%s\t%s\tchunk=64K\n' "$(disk ssd)" "$(disk hdd)" \
		>$HYBRIDTAB
	check "after the power cut, pool activate p0" run $H pool activate p0
	cat /tmp/out
	check "... maps cut.importing, and no device and no volume named cut" eval \
		'dmsetup info cut.importing >/dev/null 2>&1 && ! dmsetup info cut >/dev/null 2>&1 &&
		 names | grep -qx cut.importing && ! names | grep -qx cut'
	check "... and says cut.importing is an interrupted import of cut" \
		grep -q "volume cut.importing is an interrupted import of cut" /tmp/out
	check "the same import again completes" run $H vol import p0 cut /dev/mapper/src
	cat /tmp/out
	check "... says it resumes the interrupted import" \
		grep -q "Resuming the interrupted import of cut" /tmp/out
	check "the volume cut reads back the source (md5)" \
		eval '[ "$(sum /dev/mapper/cut)" = "$(sum /dev/mapper/src)" ]'
	mapped=$(vol_mapped cut)
	log "cut: mapped chunks $mapped"
	check "... its holes unmapped: 64 chunks" eval '[ "$mapped" = 64 ]'
	check "cut.importing is gone (volume and device)" eval \
		'! names | grep -q importing && ! dmsetup info cut.importing >/dev/null 2>&1'
	check "the import finished before the cut (kill) reads back its source" \
		eval '[ "$(sum /dev/mapper/kill)" = "$(sum /dev/mapper/src)" ]'
	$H vol list p0
	pass
fi
check "pool create p0 (64K chunks)" run $H pool create p0 --metadata /dev/mapper/pm \
	--ssd "$(disk ssd)" --hdd "$(disk hdd)" --chunk-size 64K --wipe
cat /tmp/out

# ---- import a sparse image ------------------------------------------------------
# random data in MiB 0-3, 10, 30 (4 KiB of it) and 63; zeros elsewhere:
# 7 buffers of 1 MiB hold data, 7 * 16 = 112 chunks of 64K
truncate -s 64M /tmp/img
for r in 0:4 10:1 63:1; do
	dd if=/dev/urandom of=/tmp/img bs=1M seek=${r%:*} count=${r#*:} conv=notrunc 2>/dev/null
done
dd if=/dev/urandom of=/tmp/img bs=4k seek=$((30 * 256 + 128)) count=1 conv=notrunc 2>/dev/null
check "vol import p0 img /tmp/img --progress=json" \
	run $H vol import p0 img /tmp/img --progress=json
cat /tmp/out
check "... prints JSON progress lines, the last one complete" \
	eval 'grep "^{" /tmp/out | tail -1 | grep -q "^{\"bytes\": 67108864, \"total\": 67108864, \"rate\": [0-9]*}$"'
check "... and says it imported the volume" grep -q "Volume img imported into pool p0" /tmp/out
check "the volume is the image's size" eval '[ "$(sectors /dev/mapper/img)" = 131072 ]'
check "the volume reads back the image (md5)" eval '[ "$(sum /dev/mapper/img)" = "$(fsum /tmp/img)" ]'
mapped=$(vol_mapped img)
log "mapped chunks $mapped of 1024, ssd $(vol_ssd img), hdd $(vol_hdd img)"
check "only the buffers with data are mapped: 112 of 1024 chunks" eval '[ "$mapped" = 112 ]'
# each of the 4 data runs is a stream after its first MiB (seq_cutoff 1M)
check "the streams' writes are on the HDD (at least 3 MiB, 48 chunks)" \
	eval '[ "$(vol_hdd img)" -ge 48 ]'

# ---- export -----------------------------------------------------------------------
check "vol export p0 img /tmp/out.img" run $H vol export p0 img /tmp/out.img
cat /tmp/out
check "the export has the image's md5" eval '[ "$(fsum /tmp/out.img)" = "$(fsum /tmp/img)" ]'
kb=$(du -k /tmp/out.img | cut -f1)
log "export: $kb KiB allocated of 65536"
check "... and is sparse (under 16 MiB allocated)" eval '[ "$kb" -lt 16384 ]'
echo keep >/tmp/keep.img
check "export does not overwrite an existing file" eval \
	'! run $H vol export p0 img /tmp/keep.img && grep -q exists /tmp/out && [ "$(cat /tmp/keep.img)" = keep ]'

# ---- an image of an odd size ----------------------------------------------------
head -c 100001 /dev/urandom >/tmp/odd.img
check "vol import of a 100001-byte image" run $H vol import p0 odd /tmp/odd.img
check "... makes a volume of 196 sectors" eval '[ "$(sectors /dev/mapper/odd)" = 196 ]'
check "... holding the image, then zeros" eval \
	'[ "$(sum /dev/mapper/odd)" = "$( (cat /tmp/odd.img; head -c 351 /dev/zero) | md5sum | cut -d" " -f1)" ]'

# ---- an existing name ----------------------------------------------------------
check "vol create web 4M" run $H vol create p0 web 4M
dd if=/dev/urandom of=/dev/mapper/web bs=1M count=1 oflag=direct 2>/dev/null
before=$(sum /dev/mapper/web)
snap >/tmp/snap0
check "import onto the existing volume web is refused" eval \
	'! run $H vol import p0 web /tmp/img && grep -q "already has a volume named web" /tmp/out'
cat /tmp/out
snap >/tmp/snap1
check "... and nothing changed (tables, volumes, web's data)" eval \
	'cmp -s /tmp/snap0 /tmp/snap1 && [ "$(sum /dev/mapper/web)" = "$before" ] && [ "$(sectors /dev/mapper/web)" = 8192 ]'

# ---- interrupted ------------------------------------------------------------------
dd if=/dev/urandom of=/dev/mapper/src bs=1M count=8 oflag=direct 2>/dev/null
dmsetup create slow --table "0 16384 delay /dev/mapper/src 0 300" && dmsetup mknodes slow ||
	fail "dm-delay over the source"
snap >/tmp/snap0
$H vol import p0 half /dev/mapper/slow --progress=json >/tmp/half 2>&1 &
pid=$!
n=0
while ! grep -q '^{' /tmp/half && [ $n -lt 100 ]; do sleep 0.1; n=$((n + 1)); done
copying=no
dmsetup info half.importing >/dev/null 2>&1 && ! dmsetup info half >/dev/null 2>&1 &&
	! dmsetup message p0 0 list_volumes | awk '{ print $3 }' | grep -qx half && copying=yes
kill -INT $pid
rc=0
wait $pid || rc=$?
cat /tmp/half
check "an import interrupted by SIGINT (after its first progress line) exits 130" \
	eval '[ $rc = 130 ] && grep -q "^{\"bytes\": [0-9]*, \"total\": 8388608" /tmp/half'
check "... says the volume was removed" grep -q "volume half was removed" /tmp/half
check "... which it copied into as half.importing (device and volume), not half" \
	eval '[ $copying = yes ]'
snap >/tmp/snap1
check "... and leaves no volume and no device behind" eval \
	'cmp -s /tmp/snap0 /tmp/snap1 && ! dmsetup info half >/dev/null 2>&1'
diff /tmp/snap0 /tmp/snap1
t0=$(cut -d' ' -f1 /proc/uptime)
check "an import of the same device, not interrupted, completes" \
	run $H vol import p0 half /dev/mapper/slow
t1=$(cut -d' ' -f1 /proc/uptime)
# hundredths of a second
T=$(( ${t1%.*}${t1#*.} - ${t0%.*}${t0#*.} ))
log "the uninterrupted import of 8 MiB through dm-delay took ${T}0 ms"
check "... with the device's data" eval '[ "$(sum /dev/mapper/half)" = "$(sum /dev/mapper/src)" ]'

# ---- killed (SIGKILL), then resumed -----------------------------------------
# the source: data in MiB 0-1 and 4-5, holes in 2-3 and 6-7: 4 MiB of
# data, 64 chunks of 64K
dd if=/dev/zero of=/dev/mapper/src bs=1M count=8 oflag=direct 2>/dev/null
dd if=/dev/urandom of=/dev/mapper/src bs=1M count=2 oflag=direct 2>/dev/null
dd if=/dev/urandom of=/dev/mapper/src bs=1M seek=4 count=2 oflag=direct 2>/dev/null
echo 3 >/proc/sys/vm/drop_caches	# slow's page cache holds the old data
seed=${DMH_SEED:-$RANDOM}
pct=$((5 + seed % 51))	# of the whole import: the copy is still going
d=$((T * pct / 100))
d=$(printf '%d.%02d' $((d / 100)) $((d % 100)))
log "SIGKILL ${d}s after the device kill.importing appears: ${pct}% of ${T}0 ms (seed $seed)"
$H vol import p0 kill /dev/mapper/slow --progress=json >/tmp/kill 2>&1 &
pid=$!
# (an import that copies under its own name, as before, shows kill)
n=0
while ! dmsetup info kill.importing >/dev/null 2>&1 &&
	! dmsetup info kill >/dev/null 2>&1 && [ $n -lt 200 ]; do
	sleep 0.05
	n=$((n + 1))
done
sleep "$d"
kill -9 $pid 2>/dev/null || true
rc=0
wait $pid || rc=$?
cat /tmp/kill
check "an import killed by SIGKILL while copying dies (137)" eval '[ $rc = 137 ]'
check "... leaves no device named kill" eval '! dmsetup info kill >/dev/null 2>&1 && [ ! -e /dev/mapper/kill ]'
check "... and no volume named kill" eval '! names | grep -qx kill'
check "... but a volume kill.importing, mapped as kill.importing" \
	eval 'names | grep -qx kill.importing && dmsetup info kill.importing >/dev/null 2>&1'
$H vol list p0
check "pool activate says kill.importing is an interrupted import of kill" eval \
	'run $H pool activate p0 && grep -q "volume kill.importing is an interrupted import of kill: .*vol import p0 kill <source>" /tmp/out'
cat /tmp/out

before=$(sum /dev/mapper/kill.importing)
snap >/tmp/snap0
check "an import onto kill from a source of another size is refused" eval \
	'! run $H vol import p0 kill /tmp/odd.img && grep -q "vol delete p0 kill.importing" /tmp/out'
cat /tmp/out
snap >/tmp/snap1
check "... and nothing changed (tables, volumes, kill.importing's data)" eval \
	'cmp -s /tmp/snap0 /tmp/snap1 && [ "$(sum /dev/mapper/kill.importing)" = "$before" ]'

# stale data where the source has a hole (MiB 6) and over its data (MiB 0)
dd if=/dev/urandom of=/dev/mapper/kill.importing bs=1M seek=6 count=1 oflag=direct 2>/dev/null
dd if=/dev/urandom of=/dev/mapper/kill.importing bs=64k count=1 oflag=direct 2>/dev/null
echo 3 >/proc/sys/vm/drop_caches
check "the same import again (--json) completes" run $H vol import p0 kill /dev/mapper/slow --json
cat /tmp/out
check "... says it resumes the interrupted import" \
	grep -q "Resuming the interrupted import of kill" /tmp/out
check "... and how much was already in place" \
	grep -q "Resumed the interrupted import of kill: .* of 8M already in place" /tmp/out
check "... its JSON object: ok, resumed_from kill.importing, in_place_bytes" eval \
	'tail -1 /tmp/out | grep "\"ok\": true" | grep "\"resumed_from\": \"kill.importing\"" | grep -q "\"in_place_bytes\": [0-9]"'
check "the volume kill reads back the source (md5)" \
	eval '[ "$(sum /dev/mapper/kill)" = "$(sum /dev/mapper/src)" ]'
mapped=$(vol_mapped kill)
log "kill: mapped chunks $mapped"
check "... its holes unmapped, the stale MiB 6 too: 64 chunks" eval '[ "$mapped" = 64 ]'
check "kill.importing is gone (volume and device)" eval \
	'! names | grep -q importing && ! dmsetup info kill.importing >/dev/null 2>&1'
check "vol list shows kill and no kill.importing" eval \
	'run $H vol list p0 && grep -qw kill /tmp/out && ! grep -q importing /tmp/out'

# ---- a power cut during an import ---------------------------------------------
# 1.5 s a read: the import takes several seconds, the cut comes 1-3 s
# after the device cut.importing appears; boot 2 checks.
dmsetup create slower --table "0 16384 delay /dev/mapper/src 0 1500" &&
	dmsetup mknodes slower || fail "dm-delay over the source"
echo 3 >/proc/sys/vm/drop_caches
$H vol import p0 cut /dev/mapper/slower --progress=json &
n=0
while ! dmsetup info cut.importing >/dev/null 2>&1 &&
	! dmsetup info cut >/dev/null 2>&1 && [ $n -lt 200 ]; do
	sleep 0.05
	n=$((n + 1))
done
arm_powercut
sleep 120
fail "no power cut came"
