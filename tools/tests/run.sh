#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-only
#
# Tests of the dm-hybrid metadata tools.  Images are made by hybrid_restore
# from hand-written dumps, then damaged with dd.  Prints TAP lines and ends
# with "N passed, N failed"; exits non-zero if anything failed.
#
# Usage: tools/tests/run.sh   (after "make -C tools"; "make -C tools test")
# Its files are in tools/tests/work/run.PID, removed when all passed.

set -u
here=$(cd "$(dirname "$0")" && pwd)
tools=$(dirname "$here")
# one directory a run, so that runs at the same time (a shared tree) do
# not remove each other's images; kept when something failed
work=$here/work/run.$$
rm -rf "$work"
mkdir -p "$work"
cd "$work" || exit 1
PATH=$tools:$PATH

pass=0
fail=0
n=0

report() {	# report STATUS DESC
	n=$((n + 1))
	if [ "$1" -eq 0 ]; then
		pass=$((pass + 1))
		echo "ok $n - $2"
	else
		fail=$((fail + 1))
		echo "not ok $n - $2"
	fi
}

# expect RC DESC CMD...: CMD must exit with status RC.
expect() {
	local want=$1 desc=$2 rc
	shift 2
	"$@" > out.log 2>&1
	rc=$?
	if [ "$rc" -ne "$want" ]; then
		sed 's/^/# /' out.log
		echo "# exit status $rc, expected $want: $*"
	fi
	[ "$rc" -eq "$want" ]
	report $? "$desc"
}

# check DESC SHELL-CONDITION
check() {
	eval "$2"
	report $? "$1"
}

# Layout of an image as shell variables L_vt_start, L_ssd_rmap_start, ...
layout() {
	eval "$(hybrid_dump "$1" | sed -n 's/^layout //p' | tr ' ' '\n' |
		sed -n 's/^\([a-z_]*\)=\([0-9]*\)$/L_\1=\2/p')"
}

txid_of() {
	hybrid_dump "$1" | sed -n 's/^superblock txid=\([0-9]*\) .*/\1/p'
}

# flip_byte IMAGE BLOCK OFFSET: invert one byte of a metadata block.
flip_byte() {
	local pos=$(($2 * 4096 + $3)) b
	b=$(od -An -tu1 -j "$pos" -N1 "$1" | tr -d ' ')
	printf "$(printf '\\%03o' $((b ^ 0xff)))" |
		dd of="$1" bs=1 seek="$pos" conv=notrunc status=none
}

# copy_block SRC DST BLOCK: copy one metadata block between images.
copy_block() {
	dd if="$1" of="$2" bs=4096 skip="$3" seek="$3" count=1 \
		conv=notrunc status=none
}

zero_block() {
	dd if=/dev/zero of="$1" bs=4096 seek="$2" count=1 conv=notrunc \
		status=none
}

# dump without the superblock line (whose txid changes on repair)
body() {
	hybrid_dump "$1" | grep -v '^superblock '
}

# A small pool: 1000 SSD chunks, 10000 HDD chunks of 1 MiB.
write_dump() {	# write_dump FILE TXID [EXTRA LINES]
	local f=$1 l
	cat > "$f" <<EOF
# test pool
superblock txid=$2 flags=0 uuid=0123456789abcdef0123456789abcdef chunk_sectors=2048 md_blocks=200 ssd_sectors=2048000 hdd_sectors=20480000 promotions=7 demotions=3
tunables flags=1 migration_rate=50 hysteresis=default heat_half_life=300 ssd_reserve=0 tick_ms=1000 tunable10=42
volume id=1 flags=0 size_sectors=204800 weight=100 priority=1 ssd_min=0 ssd_max=0 name=vm1%20disk
volume id=7 flags=2 size_sectors=409600 weight=500 priority=2 ssd_min=10 ssd_max=100 name=vm7
map vol=1 vchunk=0 tier=ssd pchunk=0 len=10
map vol=7 vchunk=5 tier=ssd pchunk=10 len=3
map vol=1 vchunk=10 tier=hdd pchunk=600 len=90
heat tier=ssd pchunk=3 values=1,2,3
heat tier=hdd pchunk=600 values=200
EOF
	shift 2
	for l in "$@"; do
		echo "$l" >> "$f"
	done
}

# ---- crc32c and hybrid_metadata_size ----

expect 0 "crc32c known-answer vectors" "$here/crc32c_test"
expect 0 "hybridctl parsers: sizes, names, status lines, replies, hybridtab" \
	"$here/hctl_test"
check "... every one of its cases passed" '! grep -q "^not ok" out.log'

expect 0 "hybridctl vol import/export: zero buffers, progress lines" \
	"$here/hctl_copy_test"
check "... every one of its cases passed" '! grep -q "^not ok" out.log'

expect 0 "layout validator: forged superblocks, gaps, overlaps, the formatter's layouts" \
	"$here/layout_test"
check "... every one of its cases passed" '! grep -q "^not ok" out.log'

# hybridctl's Xen lookup against a fake xenstore: guest web (domain 7)
# has xvda on 254:3, db (9) xvdb on 254:4, domain 11 a broken entry.
xs=$work/xs
mkdir -p "$xs/bin" "$xs/t/local/domain/7" "$xs/t/local/domain/9"
for e in 7/51712=fe:3 9/51728=fe:4 11/51712=8:10:1; do
	mkdir -p "$xs/t/local/domain/0/backend/vbd/${e%%=*}"
	echo "${e#*=}" > "$xs/t/local/domain/0/backend/vbd/${e%%=*}/physical-device"
done
echo web > "$xs/t/local/domain/7/name"
echo db > "$xs/t/local/domain/9/name"
printf '#!/bin/sh\nls "%s$1"\n' "$xs/t" > "$xs/bin/xenstore-list"
printf '#!/bin/sh\ncat "%s$1"\n' "$xs/t" > "$xs/bin/xenstore-read"
chmod +x "$xs/bin/"*
echo control_d > "$xs/caps"
expect 0 "hybridctl's Xen lookup: blkback's physical-device to domain name and id" \
	env PATH="$xs/bin:$PATH" HCTL_XEN_CAPS="$xs/caps" HCTL_XEN_TREE="$xs/t" \
	"$here/hctl_xen_test"
check "... every one of its cases passed" '! grep -q "^not ok" out.log'

# hybridctl metrics: canned status lines to the exposition format, which
# promtool (Debian's prometheus package) must find nothing wrong with.
expect 0 "hybridctl metrics: status lines to Prometheus' text format, textfile" \
	"$here/hctl_prom_test" metrics.prom
check "... every one of its cases passed" '! grep -q "^not ok" out.log'
if command -v promtool >/dev/null; then
	expect 0 "promtool check metrics finds nothing wrong" \
		sh -c 'promtool check metrics < metrics.prom'
else
	n=$((n + 1)); pass=$((pass + 1))
	echo "ok $n - promtool check metrics # SKIP promtool not installed (apt-get install prometheus)"
fi

# hybridctl metrics itself, against canned devices (tests/fake_dm.c stands
# in for libdevmapper): pool p0 with volumes vm1 (a disk of libvirt guest
# web) and p0-2, a volume device whose status cannot be parsed, and a
# device of another target.
cat > fake.dm <<'EOF'
dev p0 254 0 2 hybrid-pool 278528|254:1 254:2 254:3 128 0|14 81/4096 128 80/128 304/2048 2 48 0 0 rw 0 - - on 1 48 6144 0 4 60 1 1024 4 200 30 3 5
dev vm1 254 4 1 hybrid 41943040|254:0 1|256 64 192 27350 256 218800 32768 26930 676 48 0 240 27350-0-256-0-0-0 100 0 0 normal
dev p0-2 254 5 0 hybrid 2048|254:0 2|10 5 5 400 200 3200 2400 450 150 3 4 150 100-200-300-0-0-0 200 10 50 high
dev broken 254 6 0 hybrid 2048|254:0 3|10 5
dev other 254 9 0 linear 100|8:1 0|0
msg p0 list_volumes|1 41943040 vm1 100 normal 0 0 1 20 5 15\n2 2048 - 200 high 10 50 0 0 0 0
EOF
mkdir -p libvirt
echo "<domstatus><domain><name>web</name><source dev='/dev/mapper/vm1'/></domain></domstatus>" \
	> libvirt/web.xml
fake() {
	HCTL_FAKE_DM=$work/fake.dm HCTL_LIBVIRT_RUN=$work/libvirt "$here/hybridctl_fake" "$@"
}
expect 0 "hybridctl metrics on canned devices" fake metrics
cp out.log live.prom
check "... per pool, per volume, the guest label from libvirt" \
	'grep -qx "dm_hybrid_pool_migrations_queued{pool=\"p0\"} 1" live.prom &&
	 grep -qx "dm_hybrid_volume_ios_total{pool=\"p0\",volume=\"vm1\",guest=\"web\",direction=\"read\"} 27350" live.prom &&
	 grep -qx "dm_hybrid_volume_weight{pool=\"p0\",volume=\"p0-2\"} 200" live.prom'
check "... leaving out the volume whose status does not parse" \
	'! grep -q "volume=\"broken\"" live.prom'
if command -v promtool >/dev/null; then
	expect 0 "... and promtool check metrics finds nothing wrong" \
		sh -c 'promtool check metrics < live.prom'
fi
expect 1 "hybridctl vol set name to a name kept for interrupted imports" \
	fake vol set p0 vm1 name db.importing
check "... says why" 'grep -q "kept for interrupted imports" out.log'
expect 0 "hybridctl metrics POOL" fake metrics p0
check "... is the same report" 'cmp -s out.log live.prom'
expect 1 "hybridctl metrics of a pool that is not active" fake metrics nosuch
rm -rf tf && mkdir tf
expect 0 "hybridctl metrics --textfile" fake metrics --textfile tf
check "... writes dm_hybrid.prom alone, the same text" \
	'[ "$(ls -A tf)" = dm_hybrid.prom ] && cmp -s tf/dm_hybrid.prom live.prom'
expect 1 "hybridctl metrics --textfile into no directory" fake metrics --textfile tf/none
rm -f tf/dm_hybrid.prom
# exec: $! is hybridctl itself, not a subshell running the function
(exec env HCTL_FAKE_DM="$work/fake.dm" HCTL_LIBVIRT_RUN="$work/libvirt" \
	"$here/hybridctl_fake" metrics --textfile tf --interval 1 > loop.log 2>&1) &
loop=$!
for _ in 1 2 3 4 5 6 7 8 9 10; do
	[ -e tf/dm_hybrid.prom ] && break
	sleep 0.5
done
rm -f tf/dm_hybrid.prom
sleep 1.5	# the next write
kill -TERM "$loop"
wait "$loop"
rc=$?
check "hybridctl metrics --interval: rewrites, ends on SIGTERM with status 0" \
	'[ "$rc" -eq 0 ] && cmp -s tf/dm_hybrid.prom live.prom' 
check "... leaving no temporary file" '[ "$(ls -A tf)" = dm_hybrid.prom ]'

# the Grafana dashboard asks only for series that hybridctl metrics writes
grep -o 'dm_hybrid_[a-z_]*' "$tools/../Documentation/grafana-dm-hybrid.json" |
	sort -u > dash.names
sed -n 's/^# TYPE \([a-z_]*\) .*/\1/p' metrics.prom | sort -u > prom.names
check "the Grafana dashboard's metric names are all in the exposition" \
	'[ -s dash.names ] && [ -z "$(comm -23 dash.names prom.names)" ]'
if command -v promtool >/dev/null; then
	# its queries as recording rules, which promtool parses as PromQL
	python3 -c '
import json, sys
for p in json.load(open(sys.argv[1]))["panels"]:
    for t in p["targets"]:
        e = t["expr"].replace("$__rate_interval", "5m").replace("$pool", ".*")
        print("      - record: dash:%d:%s\n        expr: %s" % (p["id"], t["refId"], json.dumps(e)))
' "$tools/../Documentation/grafana-dm-hybrid.json" > dash.rules
	sed -i '1i groups:\n  - name: dash\n    rules:' dash.rules
	expect 0 "promtool parses the dashboard's queries" promtool check rules dash.rules
	# panel 10's per-VM share: 1M and 3M of pool p's held slots, pool q's
	# one volume all of its own
	cat > dash.test <<'EOF'
rule_files: [dash.rules]
tests:
  - interval: 1m
    input_series:
      - series: 'dm_hybrid_volume_block_slot_bytes{pool="p",volume="vm1"}'
        values: '1048576'
      - series: 'dm_hybrid_volume_block_slot_bytes{pool="p",volume="vm2",guest="g"}'
        values: '3145728'
      - series: 'dm_hybrid_volume_block_slot_bytes{pool="q",volume="vm3"}'
        values: '4096'
    promql_expr_test:
      - expr: dash:10:B
        eval_time: 1m
        exp_samples:
          - labels: 'dash:10:B{pool="p",volume="vm1"}'
            value: 0.25
          - labels: 'dash:10:B{pool="p",volume="vm2",guest="g"}'
            value: 0.75
          - labels: 'dash:10:B{pool="q",volume="vm3"}'
            value: 1
EOF
	expect 0 "promtool: the dashboard's per-VM block tier share divides each pool's held slots" \
		promtool test rules dash.test
	# panel 13: pool p's log at 3 of 97 blocks, pool q's metadata has none
	# (0/0: no fill, no division by 0); only p has persistent_staging, so
	# only its volume's staged bytes are shown
	cat > dash13.test <<'EOF'
rule_files: [dash.rules]
tests:
  - interval: 1m
    input_series:
      - series: 'dm_hybrid_pool_staging_log_used_bytes{pool="p"}'
        values: '12288'
      - series: 'dm_hybrid_pool_staging_log_size_bytes{pool="p"}'
        values: '397312'
      - series: 'dm_hybrid_pool_staging_log_used_bytes{pool="q"}'
        values: '0'
      - series: 'dm_hybrid_pool_staging_log_size_bytes{pool="q"}'
        values: '0'
      - series: 'dm_hybrid_pool_persistent_staging{pool="p"}'
        values: '1'
      - series: 'dm_hybrid_pool_persistent_staging{pool="q"}'
        values: '0'
      - series: 'dm_hybrid_volume_block_dirty_bytes{pool="p",volume="vm1",guest="g"}'
        values: '40960'
      - series: 'dm_hybrid_volume_block_dirty_bytes{pool="q",volume="vm2"}'
        values: '8192'
    promql_expr_test:
      - expr: dash:13:A
        eval_time: 1m
        exp_samples:
          - labels: 'dash:13:A{pool="p"}'
            value: 0.030927835051546393
      - expr: dash:13:B
        eval_time: 1m
        exp_samples:
          - labels: 'dash:13:B{pool="p",volume="vm1",guest="g"}'
            value: 40960
EOF
	expect 0 "promtool: the dashboard's staging log fill (none without a log) and staged bytes of persistent pools" \
		promtool test rules dash13.test
fi

# hybridctl's reports of write staging (issue 21), against canned devices:
# pool s0 prints the two pool fields (35 fields, 3 feature args), volume
# vm5 the two volume fields (20), vm6 a block-tier kernel's 18, vm7 also
# <block slots> (21: 300 slots, 1.2M); pool p0 above is an older kernel's
# (no staging fields anywhere).
cat > stage.dm <<'EOF'
dev s0 254 10 2 hybrid-pool 278528|254:1 254:2 254:3 128 3 block_tier 64 write_staging|14 81/4096 128 80/128 304/2048 2 48 0 0 rw 3 block_tier 64 write_staging - - on 0 48 6144 0 4 60 1 1024 4 200 30 0 1 200/4096 900 4000 12 345
dev vm5 254 11 1 hybrid 2048|254:10 1|10 5 5 400 200 3200 2400 450 150 3 4 150 100-200-300-0-0-0 100 0 0 normal 17 700 10
dev vm6 254 12 0 hybrid 2048|254:10 2|10 5 5 400 200 3200 2400 450 150 3 4 150 100-200-300-0-0-0 100 0 0 normal 17
dev vm7 254 13 1 hybrid 2048|254:10 3|10 5 5 400 200 3200 2400 450 150 3 4 150 100-200-300-0-0-0 100 0 0 normal 17 700 10 300
msg s0 list_volumes|1 2048 vm5 100 normal 0 0 1 10 5 5\n2 2048 vm6 100 normal 0 0 0 10 5 5\n3 2048 vm7 100 normal 0 0 1 10 5 5
msg s0 placement_map 1 16|chunks=16 ssd=5 hdd=5 tiers=SSSSShhhhh...... heat=1100000000000000
msg s0 placement_map 2 16|chunks=16 ssd=5 hdd=5 tiers=SSSSShhhhh...... heat=1100000000000000
msg s0 placement_map 3 16|chunks=16 ssd=5 hdd=5 tiers=SSSSShhhhh...... heat=1100000000000000
EOF
stage() {
	HCTL_FAKE_DM=$work/stage.dm HCTL_LIBVIRT_RUN=$work/libvirt "$here/hybridctl_fake" "$@"
}
expect 0 "pool status with write staging" stage pool status s0
check "... shows the staging line: on, 12 dirty blocks (48K), 345 written back" \
	'grep -qx "  staging:     on, 12 dirty blocks (48K), 345 written back since activation" out.log'
expect 0 "pool status --json with write staging" stage pool status --json s0
check "... block_tier has write_staging, dirty_blocks, dirty_bytes, writebacks" \
	'grep -q "\"hits\": 4000, \"write_staging\": true, \"dirty_blocks\": 12, \"dirty_bytes\": 49152, \"writebacks\": 345," out.log'
expect 0 "pool status --json of an older kernel's pool" fake pool status --json p0
check "... has null staging fields" \
	'grep -q "\"write_staging\": false, \"dirty_blocks\": null, \"dirty_bytes\": null, \"writebacks\": null, \"persistent_staging\": false, \"staging_log_blocks\": null, \"staging_log_half_blocks\": null}" out.log'
expect 0 "pool status of an older kernel's pool" fake pool status p0
check "... has no staging line" '! grep -q "staging:" out.log'
expect 0 "stats with write staging" stage stats --interval 0.1
# shellcheck disable=SC2016 # awk's fields, not the shell's
check "... STAGE/s, DIRTY and SLOTS: 40K and - for vm5, - for vm6 (18 fields), 40K and 1.2M for vm7" \
	'grep -q "DEM STAGE/s    DIRTY    SLOTS$" out.log &&
	 awk '\''$1 == "vm5" && $(NF - 1) == "40K" && $NF == "-" { a = 1 }
		$1 == "vm6" && $(NF - 2) == "-" && $(NF - 1) == "-" && $NF == "-" { b = 1 }
		$1 == "vm7" && $(NF - 1) == "40K" && $NF == "1.2M" { c = 1 }
		END { exit !(a && b && c) }'\'' out.log'
expect 0 "stats --json with write staging" stage stats --interval 0.1 --json
check "... block_dirty_bytes 40960 for vm5, null for vm6" \
	'grep "\"device\": \"vm5\"" out.log |
	 grep -q "\"block_staged_writes\": 0, \"block_dirty_blocks\": 10, \"block_dirty_bytes\": 40960," &&
	 grep "\"device\": \"vm6\"" out.log |
	 grep -q "\"block_staged_writes\": null, \"block_dirty_blocks\": null, \"block_dirty_bytes\": null,"'
# shellcheck disable=SC2016 # check evaluates the command substitution
check "... block_slots 300 (1228800 bytes) for vm7, null for vm5 and vm6" \
	'grep "\"device\": \"vm7\"" out.log |
	 grep -q "\"block_dirty_bytes\": 40960, \"block_slots\": 300, \"block_slot_bytes\": 1228800, \"weight\"" &&
	 [ "$(grep -c "\"block_slots\": null, \"block_slot_bytes\": null, \"weight\"" out.log)" = 2 ]'
expect 0 "stats of an older kernel's volumes" fake stats --interval 0.1
check "... has no staging columns" 'grep -q " DEM *$" out.log && ! grep -q "STAGE/s" out.log && ! grep -q SLOTS out.log'
expect 0 "map with write staging" stage map s0 vm5
check "... shows vm5's block tier line: 17 hits, 700 staged, 10 dirty blocks (40K)" \
	'grep -qx "block tier: 17 hits, 700 writes staged (since activation), 10 dirty (40K)" out.log'
expect 0 "map --json with write staging" stage map s0 vm5 --json
check "... has vm5's block_* keys after the existing ones, no slots (20 fields)" \
	'grep -q "\"heat\": \"1100000000000000\", \"block_hits\": 17, \"block_staged_writes\": 700, \"block_dirty_blocks\": 10, \"block_dirty_bytes\": 40960, \"block_slots\": null, \"block_slot_bytes\": null}" out.log'
expect 0 "map with block slots (21 fields)" stage map s0 vm7
check "... shows vm7's block tier line with its 300 slots (1.2M)" \
	'grep -qx "block tier: 17 hits, 700 writes staged (since activation), 10 dirty (40K), 300 slots (1.2M)" out.log'
expect 0 "map --json with block slots (21 fields)" stage map s0 vm7 --json
check "... has block_slots and block_slot_bytes last" \
	'grep -q "\"block_dirty_bytes\": 40960, \"block_slots\": 300, \"block_slot_bytes\": 1228800}" out.log'
expect 0 "map --json of vm6 (18 fields)" stage map s0 vm6 --json
check "... has null block_* keys" \
	'grep -q "\"block_hits\": null, \"block_staged_writes\": null, \"block_dirty_blocks\": null, \"block_dirty_bytes\": null, \"block_slots\": null, \"block_slot_bytes\": null}" out.log'
expect 2 "hybridctl: pool create --write-staging without --block-tier" \
	hybridctl pool create p0 --metadata a --ssd b --hdd c --write-staging
check "... says why" 'grep -q "give its size with --block-tier" out.log'
expect 2 "hybridctl: pool create with a block tier not in whole MiB" \
	hybridctl pool create p0 --metadata a --ssd b --hdd c --block-tier 1536K

# persistent staging (issue 21): pool s1 prints the staging log's field
# (34 fields, 4 feature args: 3 of 97 blocks), its volume vm8 the block
# tier's 21 fields; pool s0 above ends before ssd_failed|- (32 fields).
cat > slog.dm <<'EOF'
dev s1 254 20 1 hybrid-pool 278528|254:1 254:2 254:3 128 4 block_tier 64 write_staging persistent_staging|14 81/4096 128 80/128 304/2048 2 48 0 0 rw 4 block_tier 64 write_staging persistent_staging - - on 0 48 6144 0 4 60 1 1024 4 200 30 0 1 200/4096 900 4000 12 345 - 3/97
dev vm8 254 21 0 hybrid 2048|254:20 1|10 5 5 400 200 3200 2400 450 150 3 4 150 100-200-300-0-0-0 100 0 0 normal 17 700 10 300
msg s1 list_volumes|1 2048 vm8 100 normal 0 0 0 10 5 5
EOF
slog() {
	HCTL_FAKE_DM=$work/slog.dm HCTL_LIBVIRT_RUN=$work/libvirt "$here/hybridctl_fake" "$@"
}
expect 0 "pool status with persistent staging" slog pool status s1
check "... shows the staging log line: on, 3 of 97 blocks" \
	'grep -qx "  staging log: persistent_staging on, 3 of 97 blocks of the live half in use" out.log'
expect 0 "pool status --json with persistent staging" slog pool status --json s1
check "... block_tier has persistent_staging, staging_log_blocks, staging_log_half_blocks" \
	'grep -q "\"writebacks\": 345, \"persistent_staging\": true, \"staging_log_blocks\": 3, \"staging_log_half_blocks\": 97}" out.log'
expect 0 "pool status without the staging log field (32 fields)" stage pool status s0
check "... shows the feature off and no log" \
	'grep -qx "  staging log: persistent_staging off" out.log'
expect 0 "stats with persistent staging" slog stats --interval 0.1
check "... says under the table that s1's dirty blocks survive a crash" \
	'grep -qx "pool s1: persistent_staging on: its DIRTY blocks are in its staging log and survive a crash" out.log'
expect 0 "stats without persistent staging" stage stats --interval 0.1
check "... says nothing of it" '! grep -q persistent_staging out.log'
expect 0 "stats --json with persistent staging" slog stats --interval 0.1 --json
check "... vm8 has persistent_staging true, last" \
	'grep "\"device\": \"vm8\"" out.log | grep -q "\"ssd_lost\": false, \"persistent_staging\": true}"'
expect 0 "stats --json without persistent staging" stage stats --interval 0.1 --json
# shellcheck disable=SC2016 # check evaluates the command substitution
check "... every volume has persistent_staging false" \
	'[ "$(grep -c "\"persistent_staging\": false}" out.log)" = 3 ]'
expect 0 "metrics with persistent staging" slog metrics
cp out.log slog.prom
check "... persistent_staging 1, staging log 3 of 97 blocks" \
	'grep -qx "dm_hybrid_pool_persistent_staging{pool=\"s1\"} 1" slog.prom &&
	 grep -qx "dm_hybrid_pool_staging_log_blocks{pool=\"s1\"} 3" slog.prom &&
	 grep -qx "dm_hybrid_pool_staging_log_capacity_blocks{pool=\"s1\"} 97" slog.prom'
if command -v promtool >/dev/null; then
	expect 0 "... and promtool check metrics finds nothing wrong" \
		sh -c 'promtool check metrics < slog.prom'
fi
expect 0 "metrics without the staging log field" stage metrics
check "... persistent_staging 0, no staging log series" \
	'grep -qx "dm_hybrid_pool_persistent_staging{pool=\"s0\"} 0" out.log &&
	 ! grep -q "staging_log" out.log'
expect 2 "hybridctl: pool create --persistent-staging without --block-tier" \
	hybridctl pool create p0 --metadata a --ssd b --hdd c --persistent-staging
check "... says why" 'grep -q "^hybridctl: --persistent-staging stages writes in the block tier: give its size with --block-tier" out.log'

# the chunk tier's shares: pool h0's vm9 prints "<hot chunks> <chunks
# due>" (23 fields: 63 SSD chunks, 96 hot, 63 due), vm10 an older
# kernel's 21 fields, vm11 a line cut between the two (22 fields), which
# is refused like the other pairs cut in half.
cat > shares.dm <<'EOF'
dev h0 254 30 3 hybrid-pool 278528|254:1 254:2 254:3 128 3 block_tier 64 write_staging|14 81/4096 128 126/128 304/2048 3 48 0 0 rw 3 block_tier 64 write_staging - - on 0 48 6144 0 4 60 1 1024 4 200 30 0 1 200/4096 900 4000 12 345
dev vm9 254 31 1 hybrid 409600|254:30 1|160 63 97 400 200 3200 2400 450 150 3 4 150 100-200-300-0-0-0 100 0 0 normal 17 700 10 300 96 63
dev vm10 254 32 1 hybrid 409600|254:30 2|160 33 127 400 200 3200 2400 450 150 3 4 150 100-200-300-0-0-0 100 0 0 normal 17 700 10 300
dev vm11 254 33 1 hybrid 409600|254:30 3|160 30 130 400 200 3200 2400 450 150 3 4 150 100-200-300-0-0-0 300 0 0 normal 17 700 10 300 96
msg h0 list_volumes|1 409600 vm9 100 normal 0 0 1 160 63 97\n2 409600 vm10 100 normal 0 0 1 160 33 127\n3 409600 vm11 300 normal 0 0 1 160 30 130
msg h0 placement_map 1 256|chunks=1600 ssd=63 hdd=97 tiers=SSSSShhhhh...... heat=1100000000000000
msg h0 placement_map 2 256|chunks=1600 ssd=33 hdd=127 tiers=SSSSShhhhh...... heat=1100000000000000
msg h0 placement_map 3 256|chunks=1600 ssd=30 hdd=130 tiers=SSSSShhhhh...... heat=1100000000000000
EOF
shares() {
	HCTL_FAKE_DM=$work/shares.dm HCTL_LIBVIRT_RUN=$work/libvirt "$here/hybridctl_fake" "$@"
}
expect 0 "stats with the chunk tier's shares (23 fields)" shares stats --interval 0.1
# shellcheck disable=SC2016 # awk's fields, not the shell's
check "... SSD/DUE and HOT: 63/63 and 96 for vm9, - for vm10 (21 fields); vm11 (22 fields) unavailable" \
	'grep -q "DEM STAGE/s    DIRTY    SLOTS     SSD/DUE    HOT$" out.log &&
	 awk '\''$1 == "vm9" && $(NF - 2) == "1.2M" && $(NF - 1) == "63/63" && $NF == "96" { a = 1 }
		$1 == "vm10" && $(NF - 2) == "1.2M" && $(NF - 1) == "-" && $NF == "-" { b = 1 }
		$1 == "vm11" && /status unavailable/ { c = 1 }
		END { exit !(a && b && c) }'\'' out.log'
expect 0 "stats --json with the chunk tier's shares" shares stats --interval 0.1 --json
check "... hot_chunks 96, chunks_due 63 for vm9, after weight and priority" \
	'grep "\"device\": \"vm9\"" out.log |
	 grep -q "\"ssd_chunks\": 63, .*\"weight\": 100, \"priority\": \"normal\", \"hot_chunks\": 96, \"chunks_due\": 63, \"xen_domain\""'
check "... null for vm10 (21 fields), vm11 (22 fields) left out" \
	'grep "\"device\": \"vm10\"" out.log |
	 grep -q "\"block_slots\": 300, .*\"priority\": \"normal\", \"hot_chunks\": null, \"chunks_due\": null, \"xen_domain\"" &&
	 ! grep -q "\"device\": \"vm11\"" out.log'
expect 0 "map with the chunk tier's shares" shares map h0 vm9
check "... says vm9's SSD chunks against its due" \
	'grep -qx "SSD chunks 63 (due 63 of the chunk tier, 96 hot)" out.log'
expect 0 "map of a 21-field volume" shares map h0 vm10
check "... has no share line, its block tier line" \
	'! grep -q "due" out.log && grep -q ", 300 slots (1.2M)$" out.log'
expect 0 "map --json with the chunk tier's shares" shares map h0 vm9 --json
check "... hot_chunks and chunks_due after the chunk counts" \
	'grep -q "\"ssd_chunks\": 63, \"hdd_chunks\": 97, \"hot_chunks\": 96, \"chunks_due\": 63, \"buckets\"" out.log'
expect 0 "map --json of a 21-field volume" shares map h0 vm10 --json
cp out.log map10.json
expect 0 "map --json of a 22-field volume (its status refused)" shares map h0 vm11 --json
# shellcheck disable=SC2016 # check evaluates the command substitution
check "... null shares for both" \
	'[ "$(cat map10.json out.log | grep -c "\"hot_chunks\": null, \"chunks_due\": null, \"buckets\"")" = 2 ]'
expect 0 "metrics with the chunk tier's shares" shares metrics
cp out.log shares.prom
# shellcheck disable=SC2016 # check evaluates the command substitution
check "... hot chunks and chunks due of vm9 alone, gauges with help" \
	'grep -qx "dm_hybrid_volume_hot_chunks{pool=\"h0\",volume=\"vm9\"} 96" shares.prom &&
	 grep -qx "dm_hybrid_volume_chunks_due{pool=\"h0\",volume=\"vm9\"} 63" shares.prom &&
	 [ "$(grep -c "^dm_hybrid_volume_chunks_due{" shares.prom)" = 1 ] &&
	 [ "$(grep -c "^dm_hybrid_volume_hot_chunks{" shares.prom)" = 1 ] &&
	 grep -q "^# HELP dm_hybrid_volume_chunks_due " shares.prom &&
	 grep -q "^# TYPE dm_hybrid_volume_hot_chunks gauge" shares.prom'
if command -v promtool >/dev/null; then
	expect 0 "... and promtool check metrics finds nothing wrong" \
		sh -c 'promtool check metrics < shares.prom'
fi
expect 0 "metrics of an older kernel's volumes" stage metrics
check "... no share series" '! grep -q "hot_chunks\|chunks_due" out.log'

need() {	# need SSD_CHUNKS HDD_CHUNKS: dmh_layout_need() in shell
	local s=$1 h=$2
	echo $((2 + 2 * 33 + 2 * ((s + 507) / 508) + 2 * ((h + 507) / 508) +
		(s + h + 4063) / 4064))
}

got=$(hybrid_metadata_size --ssd-size 1T --hdd-size 16T -n)
check "metadata_size 1T+16T, 1 MiB chunks = dmh_layout_need" \
	'[ "$got" = $(( $(need 1048576 16777216) * 4096 )) ]'
got=$(hybrid_metadata_size -s 500G -d 8T -c 4M --growth 50 --numeric)
check "metadata_size 500G+8T, 4 MiB chunks, 50% growth" \
	'[ "$got" = $(( $(need 192000 3145728) * 4096 )) ]'
got=$(hybrid_metadata_size --ssd-size 1048576s --hdd-size 4G)
check "metadata_size human output" \
	'[[ "$got" =~ ^"metadata size: $(need 512 4096) blocks (".*" KiB)"$ ]]'
expect 2 "metadata_size rejects a bad size" \
	hybrid_metadata_size --ssd-size 12Q --hdd-size 1T
expect 2 "metadata_size rejects a chunk size not a power of two" \
	hybrid_metadata_size --ssd-size 1T --hdd-size 1T --chunk-size 3M
expect 2 "metadata_size requires both sizes" hybrid_metadata_size -s 1T
# DMH_TIER_CHUNKS_MAX (2^34 - 64) chunks a tier, the kernel's bound
expect 0 "metadata_size: 2^34 - 64 chunks of 64K" \
	hybrid_metadata_size -s 1G -d $(( ((1 << 34) - 64) * 64 ))K -c 64K -n
expect 2 "metadata_size: 2^34 - 63 chunks of 64K is too many" \
	hybrid_metadata_size -s 1G -d $(( ((1 << 34) - 63) * 64 ))K -c 64K -n
expect 2 "metadata_size: too many chunks with the growth" \
	hybrid_metadata_size -s 1G -d 1000T -c 64K --growth 10 -n

# ---- usage errors exit 2 in every tool, --help 0 ----

for t in hybrid_check hybrid_dump hybrid_restore hybrid_repair \
	 hybrid_metadata_size hybridctl; do
	expect 2 "$t: an unknown option is a usage error" $t --no-such-option
	expect 0 "$t --help exits 0" $t --help
done
expect 2 "dump: two devices" hybrid_dump a.img b.img
expect 2 "restore: -o missing" hybrid_restore -i x.txt
expect 2 "restore: --md-blocks 0" hybrid_restore -i x.txt -o y.img -m 0
expect 2 "repair: -i missing" hybrid_repair
expect 2 "repair: a stray argument" hybrid_repair -i x.img y.img
# hybridctl's usage errors come before any device-mapper call
expect 2 "hybridctl: no command" hybridctl
expect 2 "hybridctl: unknown command" hybridctl frob
expect 2 "hybridctl: unknown verb" hybridctl vol frob
expect 2 "hybridctl: pool create without devices" hybridctl pool create p0
check "... prints the synopsis from the command table" \
	'grep -q "usage: pool create NAME --metadata DEV" out.log'
expect 2 "hybridctl: pool create with a bad chunk size" \
	hybridctl pool create p0 --metadata a --ssd b --hdd c --chunk-size 3M
expect 2 "hybridctl: vol create with a bad name" hybridctl vol create p0 12345 1G
expect 2 "hybridctl: vol create of a name kept for interrupted imports" \
	hybridctl vol create p0 web.importing 1G
check "... says why" 'grep -q "kept for interrupted imports" out.log'
expect 2 "hybridctl: vol set without a value" hybridctl vol set p0 web weight
expect 2 "hybridctl: vol pin to no tier" hybridctl vol pin p0 web nvme
expect 2 "hybridctl: map of two volumes" hybridctl map p0 a b
expect 2 "hybridctl: stats --count 0" hybridctl stats --count 0
expect 2 "hybridctl: vol list --bad" hybridctl vol list --bad
expect 0 "hybridctl vol create --help" hybridctl vol create --help
check "... shows its synopsis" 'grep -q "^usage: vol create POOL NAME SIZE" out.log'
expect 0 "hybridctl help pool" hybridctl help pool
check "pool set's usage lists the knobs of DMH_KNOBS" \
	'grep -q "KNOB: migration_rate .* promote_free_threshold" out.log'
hybridctl --help > help.txt
check "every command of the table is in the usage" \
	'[ "$(grep -cE "^  (pool|vol|stats|map|metrics)" help.txt)" = 20 ]'
# vol import and export refuse before any device-mapper call
expect 2 "hybridctl: vol import without a source" hybridctl vol import p0 web
expect 2 "hybridctl: vol import --progress=bar" \
	hybridctl vol import --progress=bar p0 web /dev/null
expect 2 "hybridctl: vol import with a bad name" hybridctl vol import p0 12345 x.img
expect 2 "hybridctl: vol import onto a name too long for its .importing name" \
	hybridctl vol import p0 "$(printf 'a%.0s' $(seq 54))" x.img
check "... says at most 53 characters" 'grep -q "too long for an import: at most 53 characters" out.log'
expect 0 "hybridctl: ... a 53-character name is not refused for its length" \
	sh -c "! hybridctl vol import p0 $(printf 'a%.0s' $(seq 53)) no-such.img 2>&1 | grep -q 'too long'"
expect 2 "hybridctl: vol import onto a name ending in .importing" \
	hybridctl vol import p0 web.importing x.img
check "... says to import into web to resume" 'grep -q "import into web\." out.log'
expect 2 "hybridctl: vol export with two destinations" \
	hybridctl vol export p0 web a.img b.img
expect 1 "hybridctl: vol import of a missing file" \
	hybridctl vol import p0 web no-such.img
check "... says it cannot open it" 'grep -q "cannot open no-such.img" out.log'
: > empty.img
expect 1 "hybridctl: vol import of an empty file" hybridctl vol import p0 web empty.img
check "... says a volume cannot be 0 bytes" 'grep -q "cannot be 0 bytes" out.log'
expect 1 "hybridctl: vol import of a directory" hybridctl vol import p0 web .
check "... says it is no file" 'grep -q "neither a regular file nor a block device" out.log'
expect 2 "hybridctl: metrics --interval without --textfile" \
	hybridctl metrics --interval 10
expect 2 "hybridctl: metrics --interval 0" \
	hybridctl metrics --textfile . --interval 0

# ---- restore, check, dump ----

write_dump base.txt 5
expect 0 "restore a clean pool" hybrid_restore -i base.txt -o base.img
expect 0 "check: clean image exits 0" hybrid_check base.img
check "check: summary line counts" \
	'grep -q "2 volumes, ssd 13 mapped 987 free, hdd 90 mapped 9910 free, 0 uncommitted leftovers, 0 problems" out.log'
hybrid_dump base.img > d1.txt
hybrid_restore -q -i d1.txt -o rt.img && hybrid_dump rt.img > d2.txt
check "dump -> restore -> dump is identical" 'cmp -s d1.txt d2.txt'
check "image written by restore is reproducible byte for byte" \
	'cmp -s base.img rt.img'
expect 0 "check --quiet on a clean image" hybrid_check --quiet base.img
check "check --quiet prints nothing" '[ ! -s out.log ]'
expect 3 "check: missing file exits 3" hybrid_check no-such.img
expect 2 "check: no argument is a usage error (exit 2)" hybrid_check
expect 0 "check --help exits 0" hybrid_check --help

write_dump bad.txt 5 "map vol=99 vchunk=0 tier=hdd pchunk=0 len=1"
expect 1 "restore refuses an inconsistent dump" \
	hybrid_restore -i bad.txt -o bad.img
check "... and writes nothing" '[ ! -e bad.img ]'
expect 1 "restore refuses a metadata size too small" \
	hybrid_restore -i base.txt -o small.img --md-blocks 100

# a layout line with a gap before the heat region (md_blocks unchanged)
awk '/^layout / { for (i = 2; i <= NF; i++) if ($i ~ /^heat_start=/)
	$i = "heat_start=" (substr($i, 12) + 1) } { print }' d1.txt > gap.txt
check "a dump with a gapped layout differs from the dump" '! cmp -s d1.txt gap.txt'
expect 1 "restore refuses a layout with a gap between regions" \
	hybrid_restore -f -i gap.txt -o gap.img
check "... and says why" 'grep -q "heat region does not follow the reverse maps" out.log'

# ---- tunables and pins ----

check "dump prints the tunables by name" \
	'grep -qx "tunables flags=1 migration_rate=50 hysteresis=default heat_half_life=300 ssd_reserve=0 seq_cutoff=default promote_threshold=default tick_ms=1000 heat_save_interval=default promote_free_threshold=default tunable10=42" d1.txt'
check "dump of a pool without pins has no pin lines" '! grep -q "^pin " d1.txt'

write_dump pins.txt 5 "pin vol=7 tier=hdd start=100 end=200" \
	"pin vol=1 tier=ssd start=0 end=100" "pin vol=7 tier=ssd start=5 end=8"
expect 0 "restore a pool with pins" hybrid_restore -i pins.txt -o pins.img
expect 0 "check: valid pins are clean" hybrid_check pins.img
hybrid_dump pins.img > p1.txt
check "dump prints the pins in their order" \
	'[ "$(grep "^pin " p1.txt)" = "$(grep "^pin " pins.txt)" ]'
hybrid_restore -q -i p1.txt -o pins2.img && hybrid_dump pins2.img > p2.txt
check "pins: dump -> restore -> dump is identical" 'cmp -s p1.txt p2.txt'
check "pins: image written by restore is reproducible" \
	'cmp -s pins.img pins2.img'

write_dump badpin.txt 5 "pin vol=7 tier=hdd start=100 end=200" \
	"pin vol=99 tier=ssd start=0 end=1" "pin vol=1 tier=ssd start=0 end=100"
expect 1 "restore refuses a pin of a missing volume" \
	hybrid_restore -i badpin.txt -o badpin.img
hybrid_restore -q -f -i badpin.txt -o badpin.img 2>/dev/null
expect 1 "check: pin naming a missing volume is repairable (exit 1)" \
	hybrid_check badpin.img
check "... and says why" \
	'grep -q "pin 1 (volume 99 chunks 0..1, tier 0): volume 99 does not exist; repair would drop it" out.log'
expect 0 "repair drops the bad pin" hybrid_repair -i badpin.img
expect 0 "check after repair is clean" hybrid_check badpin.img
check "... and the other pins are kept, in order" \
	'[ "$(hybrid_dump badpin.img | grep "^pin ")" = "$(printf "%s\n" "pin vol=7 tier=hdd start=100 end=200" "pin vol=1 tier=ssd start=0 end=100")" ]'

# A knob out of its DMH_KNOBS range: the kernel refuses the pool, repair
# restores the default.  Stored 0..2^32-1 for ssd_reserve is all in range.
write_dump badknob.txt 5
sed -i 's/tick_ms=1000/tick_ms=5/; s/ssd_reserve=0/ssd_reserve=4294967294/' badknob.txt
expect 1 "restore refuses tick_ms 5 (range 10..60000)" \
	hybrid_restore -i badknob.txt -o badknob.img
hybrid_restore -q -f -i badknob.txt -o badknob.img 2>/dev/null
expect 1 "check: a knob out of range is repairable (exit 1)" \
	hybrid_check badknob.img
check "... and says which" \
	'grep -q "knob tick_ms is 5, out of its range; repair would restore its default" out.log && [ "$(grep -c "out of its range" out.log)" = 1 ]'
expect 0 "repair restores the knob's default" hybrid_repair -i badknob.img
check "... and keeps the others" \
	'hybrid_dump badknob.img | grep -q "^tunables .* ssd_reserve=4294967294 .*tick_ms=default "'
write_dump bigtx.txt 4611686018427387905
expect 1 "restore refuses a txid above 2^62" \
	hybrid_restore -f -i bigtx.txt -o bigtx.img
check "... and says why" 'grep -q "transaction id is above 2^62" out.log'

# volume 1 has 100 chunks, volume 7 has 200
write_dump badpins.txt 5 "pin vol=1 tier=2 start=0 end=1" \
	"pin vol=1 tier=ssd start=5 end=5" "pin vol=1 tier=hdd start=50 end=101" \
	"pin vol=7 tier=ssd start=199 end=200"
hybrid_restore -q -f -i badpins.txt -o badpins.img 2>/dev/null
hybrid_dump badpins.img > bp1.txt
check "dump prints an invalid pin tier as a number" \
	'grep -qx "pin vol=1 tier=2 start=0 end=1" bp1.txt'
hybrid_restore -q -f -i bp1.txt -o badpins2.img 2>/dev/null
check "... and restore reads it back" \
	'hybrid_dump badpins2.img | cmp -s - bp1.txt'
expect 1 "check: bad tier, empty range, range past the volume" \
	hybrid_check badpins.img
check "... are three problems" 'grep -q " 3 problems (3 repairable" out.log'
expect 0 "repair drops them" hybrid_repair -i badpins.img
check "... keeping the good pin" \
	'[ "$(hybrid_dump badpins.img | grep "^pin ")" = "pin vol=7 tier=ssd start=199 end=200" ]'

# ---- damage ----

layout base.img
cp base.img flip.img
flip_byte flip.img $((L_ssd_rmap_start + (5 & 1))) 100
expect 2 "check: bit flip in the live rmap copy is broken (exit 2)" \
	hybrid_check flip.img
check "... and says why" 'grep -q "ssd rmap block 0: no usable copy (copy 1 fails its checksum" out.log'
cp flip.img flip2.img
expect 2 "repair refuses broken metadata" hybrid_repair -i flip2.img
check "... and leaves it untouched" 'cmp -s flip.img flip2.img'

cp base.img trunc.img
truncate -s $((150 * 4096)) trunc.img
expect 2 "check: truncated image exits 2" hybrid_check trunc.img
check "... reporting the truncation" 'grep -q "truncated" out.log'

cp base.img nosb.img
zero_block nosb.img 1
expect 2 "check: no valid superblock exits 2" hybrid_check nosb.img

cp base.img heat.img
flip_byte heat.img "$L_heat_start" 40
expect 0 "check: damaged heat block is only info" hybrid_check heat.img

# ---- leaked chunks ----

write_dump leak.txt 5 "map vol=99 vchunk=0 tier=hdd pchunk=0 len=2"
hybrid_restore -q -f -i leak.txt -o leak.img 2>/dev/null
expect 1 "check: chunk of a missing volume is a leak (exit 1)" \
	hybrid_check leak.img
check "... reported as leaked" 'grep -q "leaked chunk: hdd chunk 0 belongs to volume 99" out.log'
expect 1 "check --quiet still exits 1" hybrid_check -q leak.img
check "... silently" '[ ! -s out.log ]'
expect 0 "repair frees leaked chunks" hybrid_repair -i leak.img
expect 0 "check after repair is clean" hybrid_check leak.img
check "repair committed transaction 6" '[ "$(txid_of leak.img)" = 6 ]'
check "repaired image equals the pool without the leak" \
	'[ "$(body leak.img)" = "$(body base.img)" ]'

# a vchunk past the end of its volume (volume 1 has 100 chunks)
write_dump leak2.txt 5 "map vol=1 vchunk=100 tier=ssd pchunk=500 len=1"
hybrid_restore -q -f -i leak2.txt -o leak2.img 2>/dev/null
expect 1 "check: vchunk beyond the volume size is a leak" \
	hybrid_check leak2.img
expect 0 "repair -o writes a repaired copy" \
	hybrid_repair -i leak2.img -o leak2-fixed.img
expect 1 "... leaving the input alone" hybrid_check leak2.img
expect 0 "... and the copy is clean" hybrid_check leak2-fixed.img

# the live copy damaged while an older valid copy exists: no silent revert
cp leak.img revert.img
flip_byte revert.img $((L_hdd_rmap_start + (6 & 1))) 200
expect 2 "check: damaged live copy with an older valid copy is broken" \
	hybrid_check revert.img
check "... because falling back would revert" \
	'grep -q "hdd rmap block 0 copy 0 fails its checksum and may have been the live copy.*would silently revert" out.log'

# a stale (old, unused) copy damaged after the repair is harmless
flip_byte leak.img $((L_hdd_rmap_start + (5 & 1))) 200
expect 0 "check: damaged old copy of a block is harmless" hybrid_check leak.img

# the newest superblock damaged: falling back would revert the repair
cp leak.img sbflip.img
flip_byte sbflip.img 0 300
expect 2 "check: damaged newest superblock is broken" hybrid_check sbflip.img

# ---- chunks mapped twice ----

write_dump dup.txt 5 "map vol=7 vchunk=5 tier=hdd pchunk=50 len=2"
hybrid_restore -q -f -i dup.txt -o dup.img 2>/dev/null
expect 1 "check: chunk mapped twice exits 1" hybrid_check dup.img
check "... reported loudly" 'grep -q "chunk mapped twice: volume 7 chunk 5" out.log'
expect 0 "repair resolves the double mapping" hybrid_repair -i dup.img
expect 0 "check after repair is clean" hybrid_check dup.img
check "same transaction: the SSD copy is kept" \
	'[ "$(body dup.img)" = "$(body base.img)" ]'

# SSD rmap block from transaction 5, HDD rmap block from transaction 6
write_dump new.txt 6 "map vol=7 vchunk=5 tier=hdd pchunk=50 len=1"
sed -i '/^map vol=7 vchunk=5 tier=ssd/d' new.txt
hybrid_restore -q -i new.txt -o splice.img
copy_block base.img splice.img $((L_ssd_rmap_start + 1))
zero_block splice.img $((L_ssd_rmap_start + 0))
expect 1 "check: double mapping across transactions" hybrid_check splice.img
expect 0 "repair keeps the copy from the newer transaction" \
	hybrid_repair -i splice.img
check "... the HDD copy of volume 7 chunk 5" \
	'hybrid_dump splice.img | grep -q "^map vol=7 vchunk=5 tier=hdd pchunk=50 len=1$" &&
	 ! hybrid_dump splice.img | grep -q "^map vol=7 vchunk=5 tier=ssd"'

# ---- uncommitted leftovers ----

write_dump t6.txt 6
hybrid_restore -q -i t6.txt -o left.img
write_dump t7.txt 7 "map vol=7 vchunk=100 tier=ssd pchunk=400 len=1"
hybrid_restore -q -i t7.txt -o t7.img
copy_block t7.img left.img $((L_ssd_rmap_start + 1))
expect 0 "check: leftover of an uncommitted transaction is harmless" \
	hybrid_check left.img
check "... and counted" 'grep -q " 1 uncommitted leftovers" out.log'
expect 0 "repair --rewrite commits transaction 7" \
	hybrid_repair --rewrite -i left.img
check "... without resurrecting the leftover stamped 7" \
	'[ "$(body left.img)" = "$(body base.img)" ] && [ "$(txid_of left.img)" = 7 ]'

# ---- staging log (issue 21, persistent_staging) ----

# The test pool on 400 blocks of metadata, which leave room for a log of
# 34 blocks (two halves of 17) after the heat region.  The live half is
# the second, its 2 blocks stamped 7 and 9, after slog_base 6: volume 1's
# chunk 10 is on the HDD (pchunk 600) and SSD chunk 900 belongs to no
# volume (the block tier's).  SSD block 230401 is staged, then clean.
write_log_dump() {	# write_log_dump FILE [SED-SCRIPT]
	{
		write_dump /dev/stdout 9 | sed 's/flags=0 uuid/flags=65536 uuid/; s/md_blocks=200/md_blocks=400/'
		cat <<'EOF2'
slog half=1 used=2 base=6
slogrec block=0 txid=7 vol=1 vblock=2563 where=230400 sectors=255
slogrec block=0 txid=7 vol=1 vblock=2600 where=230401 sectors=1
slogrec block=1 txid=9 vol=1 vblock=2600 where=230401 sectors=0
slogrec block=1 txid=9 vol=1 vblock=2601 where=230402 sectors=3
EOF2
	} | sed "${2:-}" > "$1"
}

write_log_dump log.txt
expect 0 "restore a pool with staged writes in its log" \
	hybrid_restore -i log.txt -o log.img
expect 0 "check: a replayable log is clean" hybrid_check log.img
check "... and counted in the summary" \
	'grep -q " 0 problems .*, staging log 2 blocks 4 records$" out.log'
hybrid_dump log.img > l1.txt
layout log.img
L_slog_start=${L_slog_start:-0}	# (none from tools that predate the log)
check "dump: the log region is appended to the layout line" \
	'grep -q "^layout .* heat_start=348 heat_blocks=18 slog_start=366 slog_blocks=34$" l1.txt'
check "dump: the log's state and its records, in order" \
	'[ "$(grep "^slog" l1.txt)" = "$(grep "^slog" log.txt)" ]'
# live block 0 of the second half: region block 17, stamped 7, 2 records
hdr=$(od -An -tx1 -j $(((L_slog_start + 17) * 4096 + 4)) -N 28 log.img | tr -d ' \n')
check "the live log block as the format says: GOLS, txid 7, blocknr 17, 2 records" \
	"[ '$hdr' = 474f4c53070000000000000011000000000000000200000000000000 ]"
hybrid_restore -q -i l1.txt -o log2.img && hybrid_dump log2.img > l2.txt
check "log: dump -> restore -> dump is identical" 'cmp -s l1.txt l2.txt'
check "log: the image written by restore is the same byte for byte" \
	'cmp -s log.img log2.img'
expect 0 "restore the log onto a larger metadata device" \
	hybrid_restore -i l1.txt -o logbig.img --md-blocks 1200
expect 0 "... whose log is clean" hybrid_check logbig.img
check "... with the same records in its new live half" \
	'[ "$(hybrid_dump logbig.img | grep "^slog")" = "$(grep "^slog" log.txt)" ] &&
	 ! hybrid_dump logbig.img | grep -q "slog_start=366 "'
expect 0 "repair --rewrite keeps a replayable log" \
	hybrid_repair --rewrite -i log2.img
check "... record for record, at transaction 10" \
	'[ "$(hybrid_dump log2.img | grep "^slog")" = "$(grep "^slog" log.txt)" ] &&
	 [ "$(txid_of log2.img)" = 10 ]'

# dumps from before the log: no slog_* fields, no slog line
sed 's/ slog_start=[0-9]* slog_blocks=[0-9]*$//; /^slog half=/d' d1.txt > old.txt
check "an old dump has no log fields" '! grep -q slog old.txt'
expect 0 "restore reads a dump older than the staging log" \
	hybrid_restore -i old.txt -o old.img
check "... into the same image" 'cmp -s old.img base.img'
write_log_dump oldlay.txt "/^slog/d; s/flags=65536/flags=0/; /^tunables /a $(
	grep "^layout " l1.txt | sed 's/ slog_start=.*//')"
expect 0 "restore an old dump with a layout line of a roomy device" \
	hybrid_restore -i oldlay.txt -o oldlay.img
check "... keeps its layout, without a log" \
	'hybrid_dump oldlay.img | grep -q "heat_blocks=18 slog_start=0 slog_blocks=0$"'
expect 0 "... which is clean" hybrid_check oldlay.img

write_log_dump nolog.txt 's/md_blocks=400/md_blocks=200/'
expect 1 "restore refuses log records for a device without room for a log" \
	hybrid_restore -f -i nolog.txt -o nolog.img
check "... and says why" 'grep -q "staging log state is out of range" out.log'
write_log_dump hole.txt 's/used=2/used=3/'
expect 1 "restore refuses a used count past the records" \
	hybrid_restore -i hole.txt -o hole.img
check "... naming the block without records" \
	'grep -q "staging log block 19 (block 2 of the 3 .*) has no records in the dump" out.log'

# records last-wins: a dirty record made clean later counts for nothing
write_log_dump cancel.txt 's/vol=1 vblock=2600 where=230401 sectors=1/vol=99 vblock=2600 where=230401 sectors=1/'
expect 0 "check: a staged write cleaned later in the log is not replayed" \
	hybrid_restore -q -i cancel.txt -o cancel.img
expect 0 "... so its volume need not exist" hybrid_check cancel.img
write_log_dump cancel2.txt 's/where=230401 sectors=1/where=256000 sectors=1/; s/vblock=2600 where=230401 sectors=0/vblock=2600 where=256000 sectors=0/'
expect 0 "... nor its SSD block lie on the SSD" \
	hybrid_restore -q -i cancel2.txt -o cancel2.img

# forged logs: each written with --force, each a broken log (exit 2)
forged() {	# forged NAME SED-SCRIPT MESSAGE DESC
	write_log_dump "$1.txt" "$2"
	hybrid_restore -q -f -i "$1.txt" -o "$1.img" 2>/dev/null
	expect 2 "check: staging log $4" hybrid_check "$1.img"
	check "... says why" "grep -q \"BROKEN: staging log $3\" out.log"
}
forged ssdmapped 's/vblock=2563/vblock=3/' \
	"record 0 .*: its chunk of the volume is mapped to the SSD, not the HDD" \
	"record of a chunk on the SSD"
forged unmapped 's/vol=1 vblock=2563/vol=7 vblock=12800/' \
	"record 0 .*: its chunk of the volume is not mapped" \
	"record of an unmapped chunk"
forged owned 's/where=230400/where=5/' \
	"record 0 .*SSD block 5,.*: its SSD block lies in a chunk the reverse map gives a volume" \
	"record in an SSD chunk of the reverse map"
forged beyond 's/where=230401 sectors=1/where=256000 sectors=1/' \
	"record 1 .*: its SSD block lies beyond the SSD" \
	"record past the SSD"
forged dupkey 's/vblock=2601 where=230402/vblock=2563 where=230402/' \
	"record 3 .*: another SSD block holds the same block of the volume" \
	"two dirty records of one block"
forged sectors 's/sectors=255/sectors=256/' \
	"record 0 .*sectors 0x100): its sectors are not within the 8 of a 4 KiB block" \
	"record of sectors past 0xff"
forged reserved 's/sectors=3$/sectors=3 reserved=1/' \
	"record 3 .*: its reserved field is not zero" "record with reserved bits"
forged novol 's/vol=1 vblock=2563/vol=99 vblock=2563/' \
	"record 0 .*: its volume does not exist" "record of a missing volume"
forged pastvol 's/vblock=2563/vblock=25600/' \
	"record 0 .*: its block lies beyond the end of its volume" \
	"record past its volume's end"
forged txhigh 's/block=1 txid=9/block=1 txid=10/' \
	"block 18 (block 1 of the 2 the superblock counts, stamped 10) is stamped outside" \
	"block stamped after the superblock"
forged txbase 's/txid=7/txid=6/' \
	"block 17 .* is stamped outside" "block stamped at slog_base"
forged txorder 's/txid=7/txid=9/; s/block=1 txid=9/block=1 txid=8/' \
	"block 18 .* is stamped before the block ahead of it" \
	"block older than the one before it"
forged hole 's/used=2/used=3/' "block 19 .* is all zeroes" \
	"block of the used count never written"

# hybrid_metadata_size --persistent-staging: a log whose half holds a
# record of every slot of the block tier, and one more (the kernel stages
# half_records - 1): 64 MiB is 16384 slots, 97 blocks a half
got=$(hybrid_metadata_size -s 1000M -d 10000M --persistent-staging 64M -n)
check "metadata_size --persistent-staging 64M: 8 blocks of room a log block, 194 of them" \
	'[ "$got" = $(( ($(need 1000 10000) + 8 * 194) * 4096 )) ]'
write_dump ps.txt 5
expect 0 "... and the formatter's layout of that size" \
	hybrid_restore -i ps.txt -o ps.img --md-blocks $((got / 4096))
check "... has a log of 194 blocks" \
	'hybrid_dump ps.img | grep -q "^layout .* slog_blocks=194$"'
got=$(hybrid_metadata_size -s 1000M -d 10000M -p 64M -g 50 -n)
hybrid_restore -q -i ps.txt -o psg.img --md-blocks $((got / 4096))
layout psg.img
check "metadata_size --persistent-staging with 50% growth: both fit" \
	'[ "${L_slog_blocks:-0}" -ge 194 ] && [ $((${L_ssd_rmap_blocks:-0} * 508)) -ge 1500 ] &&
	 [ $((${L_hdd_rmap_blocks:-0} * 508)) -ge 15000 ]'
got=$(hybrid_metadata_size -s 1000M -d 10000M -p 4T -n 2>ps.err)
check "metadata_size --persistent-staging 4T: the largest log, and a note" \
	'[ "$got" = $(( ($(need 1000 10000) + 8 * 8192) * 4096 )) ] &&
	 grep -q "a staging log holds at most 692223 dirty blocks" ps.err'
expect 2 "metadata_size rejects a bad --persistent-staging" \
	hybrid_metadata_size -s 1T -d 1T -p 12Q
layout log.img
L_slog_start=${L_slog_start:-0}

# blocks forged and sealed again (tests/reseal): only the rule at stake
# refuses them.  A log block's header: csum, type, txid, blocknr, then the
# record count at byte 24; the superblock (slot 9 & 1) has slog_used at
# byte 240, slog_half at 256 and slog_reserved at 260.
resealed() {	# resealed NAME BLOCK OFFSET BYTE...
	local img=$1
	shift
	cp log.img "$img"
	"$here/reseal" "$img" "$@"
}
resealed count0.img $((L_slog_start + 18)) 24 00
expect 2 "check: a log block counting no records is broken" hybrid_check count0.img
check "... and says why" \
	'grep -q "BROKEN: staging log block 18 .* counts no records, or more than a block holds" out.log'
resealed count170.img $((L_slog_start + 18)) 24 aa
expect 2 "check: a log block counting 170 records (169 fit) is broken" \
	hybrid_check count170.img
resealed tail.img $((L_slog_start + 17)) 4000 5a
expect 0 "check: bytes after a log block's records are only info" \
	hybrid_check -v tail.img
check "... which says the kernel ignores them" \
	'grep -q "info: staging log block 17 is not zero after its records, as the format wants; the kernel ignores those bytes" out.log'
resealed count1.img $((L_slog_start + 17)) 24 01
expect 0 "check: a record past its block's count is not part of the log" \
	hybrid_check count1.img
check "... 3 records are" 'grep -q "staging log 2 blocks 3 records$" out.log'
resealed used18.img 1 240 12
expect 2 "check: slog_used past a half (18 of 17) is a broken superblock" \
	hybrid_check used18.img
check "... for the kernel's reason" \
	'grep -q "Metadata staging log state is out of range.*staging log 366+34; log half 1 used 18 base 6" out.log'
resealed half2.img 1 256 02
expect 2 "check: slog_half 2 is a broken superblock" hybrid_check half2.img
resealed slogres.img 1 260 01
expect 2 "check: slog_reserved not 0 is a broken superblock" \
	hybrid_check slogres.img
resealed flagonly.img 1 240 00
expect 1 "check: the flag set on an empty log is repairable" \
	hybrid_check flagonly.img
check "... and says so" \
	'grep -q "staging log flag is set but the log holds 0 blocks; repair would clear it" out.log'
expect 0 "repair clears it" hybrid_repair -i flagonly.img
check "... leaving an empty log" \
	'hybrid_dump flagonly.img | grep -q "^superblock txid=10 flags=0 " &&
	 ! hybrid_dump flagonly.img | grep -q "^slogrec"'

# the other half and the blocks past slog_used are not part of the log
cp log.img other.img
flip_byte other.img "$L_slog_start" 100
flip_byte other.img $((L_slog_start + 19)) 100
expect 0 "check: damage outside the live blocks of the log is harmless" \
	hybrid_check other.img

cp log.img logflip.img
flip_byte logflip.img $((L_slog_start + 18)) 100
expect 2 "check: a damaged live log block is broken (staged writes lost)" \
	hybrid_check logflip.img
check "... and says so" \
	'grep -q "BROKEN: staging log block 18 .* fails its checksum: the staged writes it records cannot be replayed; hybrid_repair --drop-staged can drop the log" out.log'
expect 2 "dump of a damaged log exits 2" hybrid_dump -o logflip.txt logflip.img
check "... printing the damaged block as a comment, the other's records" \
	'grep -q "^# staging log block 18 fails its checksum: its records are lost" logflip.txt &&
	 [ "$(grep -c "^slogrec block=0 " logflip.txt)" = 2 ] && ! grep -q "^slogrec block=1 " logflip.txt'
cp logflip.img logflip2.img
expect 2 "repair refuses to drop staged writes unasked" hybrid_repair -i logflip2.img
check "... telling how to drop them" \
	'grep -q "fails its checksum: the staged writes it records cannot be replayed; hybrid_repair --drop-staged can drop the log" out.log'
check "... and leaves the image untouched" 'cmp -s logflip.img logflip2.img'
expect 0 "repair --drop-staged drops the log" \
	hybrid_repair --drop-staged -i logflip2.img
check "... naming each staged write it loses, and the damaged block's unknown ones" \
	'grep -q "dropped staged write: volume 1 block 2563, sectors 0xff, from SSD block 230400; the HDD holds an older copy" out.log &&
	 [ "$(grep -c "dropped staged write" out.log)" = 2 ] &&
	 grep -q "the records of 1 damaged staging log blocks are lost unread" out.log &&
	 ! grep -q "staging log flag" out.log'
check "... leaving an empty log, its flag clear, base at the old transaction" \
	'hybrid_dump logflip2.img | grep -q "^slog half=1 used=0 base=9$" &&
	 hybrid_dump logflip2.img | grep -q "^superblock txid=10 flags=0 "'
expect 0 "... and a clean pool" hybrid_check logflip2.img
cp ssdmapped.img drop.img
expect 0 "repair --drop-staged drops a log the maps contradict" \
	hybrid_repair --drop-staged -i drop.img
expect 0 "... and the pool is clean" hybrid_check drop.img

write_log_dump noflag.txt 's/flags=65536/flags=0/'
expect 1 "restore refuses records without the staging log flag" \
	hybrid_restore -i noflag.txt -o noflag.img
check "... and says why" 'grep -q "staging log flag is clear but the log holds 2 blocks" out.log'
hybrid_restore -q -f -i noflag.txt -o noflag.img 2>/dev/null
expect 1 "check: a clear staging log flag with records is repairable" \
	hybrid_check noflag.img
check "... and says so" \
	'grep -q "staging log flag is clear but the log holds 2 blocks; repair would set it" out.log'
expect 0 "repair sets the flag" hybrid_repair -i noflag.img
check "... keeping the records" \
	'[ "$(hybrid_dump noflag.img | grep "^slog")" = "$(grep "^slog" log.txt)" ] &&
	 hybrid_dump noflag.img | grep -q "^superblock txid=10 flags=65536 "'
write_log_dump badstate.txt 's/used=2/used=18/'
expect 1 "restore refuses a log state out of range (used past a half)" \
	hybrid_restore -f -i badstate.txt -o badstate.img
check "... and says why" 'grep -q "staging log state is out of range" out.log'

# ---- pool evacuate (issue 20 item 4): the status' last two fields ----
# e0 is evacuated (36 fields, "evacuating 0"), e1 still has 12 chunks and
# slots on the SSD, o0 is a kernel without the fields (34).
L='81/4096 128 80/128 304/2048 2 48 0 0 rw 0 - - on 0 48 6144 0 4 60 1 1024 4 200 30 0 1 0/4096 900 4000 0 345 - 0/97'
cat > evac.dm <<EOF
dev e0 254 30 1 hybrid-pool 278528|254:1 254:2 254:3 128 0|14 $L evacuating 0
dev e1 254 31 1 hybrid-pool 278528|254:4 254:5 254:6 128 0|14 $L evacuating 12
dev o0 254 32 1 hybrid-pool 278528|254:7 254:8 254:9 128 0|14 $L
msg e0 evacuate on|-
msg e0 evacuate off|-
msg e1 evacuate on|-
msg o0 evacuate on|-
msg e1 list_volumes|1 2048 vm1 100 normal 0 0 0 0 0 0
msg o0 list_volumes|1 2048 vm1 100 normal 0 0 0 0 0 0
EOF
evac() {
	HCTL_FAKE_DM=$work/evac.dm HCTL_LIBVIRT_RUN=$work/libvirt "$here/hybridctl_fake" "$@"
}
expect 0 "pool evacuate --wait: an evacuated pool" evac pool evacuate e0 --wait 2
check "... says the SSD can be replaced" \
	'grep -q "nothing of the volumes is left on the SSD; reload the pool with the new SSD" out.log'
expect 1 "pool evacuate --wait 1: data left" evac pool evacuate e1 --wait 1
check "... says how much is left, and that it keeps evacuating" \
	'grep -q "pool e1: 12 chunks and block slots still on the SSD after 1 s; it keeps evacuating" out.log'
expect 0 "pool evacuate without --wait returns at once" evac pool evacuate e1
check "... with the count" 'grep -q "evacuating its SSD: 12 chunks and block slots left" out.log'
expect 0 "pool evacuate --off" evac pool evacuate e0 --off
expect 1 "pool evacuate on a kernel without the status fields" evac pool evacuate o0
check "... says so" 'grep -q "does not report evacuation" out.log'
for a in "" "e0 --wait x" "e0 --off --wait 3" "e0 e1"; do
	# shellcheck disable=SC2086
	expect 2 "pool evacuate $a: usage" evac pool evacuate $a
done
expect 0 "pool status shows the evacuation (fields 24 and 25)" evac pool status e1 o0
check "... on and what is left for e1" \
	'grep -q "^  evacuation:  on, 12 chunks and block slots still to move off the SSD$" out.log'
check "... and nothing for o0, whose kernel lacks the fields" \
	'[ "$(grep -c "evacuation:" out.log)" = 1 ]'
evac pool status e1 o0 --json > status.json
check "pool status --json: evacuating and ssd_data_left, null without the fields" \
	"python3 -c '
import json, sys
j = json.load(open(\"status.json\"))
e1, o0 = j[\"pools\"] if \"pools\" in j else j
sys.exit(not (e1[\"evacuating\"] is True and e1[\"ssd_data_left\"] == 12 and
	      o0[\"evacuating\"] is None and o0[\"ssd_data_left\"] is None))'"

# ---- pool replace-ssd: refusals before anything changes ----
expect 1 "pool replace-ssd onto a device that does not exist" \
	evac pool replace-ssd e1 "$work/nosuch"
check "... says so" 'grep -q "new SSD device .*nosuch does not exist" out.log'
: > notblock
expect 1 "pool replace-ssd onto a file" evac pool replace-ssd e1 "$work/notblock"
check "... says it is no block device" 'grep -q "notblock is not a block device" out.log'
expect 1 "pool replace-ssd on a kernel without the evacuation fields" \
	evac pool replace-ssd o0 "$work/notblock"
check "... says so" 'grep -q "does not report evacuation" out.log'
for a in "" "e1" "e1 x y" "e1 x --wait z" "e1 x --off"; do
	# shellcheck disable=SC2086
	expect 2 "pool replace-ssd $a: usage" evac pool replace-ssd $a
done

# ---- --json of the commands that change something (hctl-result.c) ----

# canned pool p0 (volumes vm1 and 2, device p0-2) that accepts two messages;
# every other change fails in tests/fake_dm.c with EPERM
cat > act.dm <<'EOF'
dev p0 254 0 2 hybrid-pool 278528|254:1 254:2 254:3 128 0|14 81/4096 128 80/128 304/2048 2 48 0 0 rw 0 - - on 1 48 6144 0 4 60 1 1024 4 200 30 3 5
dev vm1 254 4 1 hybrid 41943040|254:0 1|256 64 192 27350 256 218800 32768 26930 676 48 0 240 27350-0-256-0-0-0 100 0 0 normal
dev p0-2 254 5 0 hybrid 2048|254:0 2|10 5 5 400 200 3200 2400 450 150 3 4 150 100-200-300-0-0-0 200 10 50 high
msg p0 list_volumes|1 41943040 vm1 100 normal 0 0 1 20 5 15\n2 2048 - 200 high 10 50 0 0 0 0
msg p0 set migration_rate 5|-
msg p0 pin 1 0 41943040 ssd|-
EOF
act() {
	HCTL_FAKE_DM=$work/act.dm HCTL_LIBVIRT_RUN=$work/libvirt "$here/hybridctl_fake" "$@"
}
# jexpect STATUS DESC PYTHON-CONDITION CMD...: stdout is one JSON object j
# for which the condition holds; stderr still gets the error sentences
jexpect() {
	local want=$1 desc=$2 cond=$3 rc
	shift 3
	"$@" > out.json 2> err.log
	rc=$?
	python3 -c '
import json, sys
j = json.load(open("out.json"))
sys.exit(0 if eval("(" + sys.argv[1] + ")") else 1)' "$cond" && [ "$rc" -eq "$want" ] &&
		[ "$(jq_status)" = "$want" ]
	rc=$?
	[ "$rc" -eq 0 ] || sed 's/^/# /' out.json err.log
	report $rc "$desc"
}
jq_status() {
	python3 -c 'import json; print(json.load(open("out.json"))["exit_status"])'
}
jexpect 0 "pool set --json: the result as one object" \
	'j == {"command": "pool set", "ok": True, "exit_status": 0, "pool": "p0",
	       "knob": "migration_rate", "value": "5", "messages": [], "errors": []}' \
	act pool set p0 migration_rate 5 --json
jexpect 1 "pool set --json refused: ok false, the sentence in errors" \
	'not j["ok"] and len(j["errors"]) == 1 and "refused migration_rate=7" in j["errors"][0]' \
	act pool set --json p0 migration_rate 7
check "... and on stderr" 'grep -q "refused migration_rate=7" err.log'
jexpect 0 "pool evacuate --json: pool, evacuate, ssd_left" \
	'j["ok"] and j["command"] == "pool evacuate" and j["pool"] == "e1" and
	 j["evacuate"] == "on" and j["ssd_left"] == 12' \
	evac pool evacuate e1 --json
jexpect 1 "pool replace-ssd --json refused: pool, old and new SSD, the error" \
	'not j["ok"] and j["command"] == "pool replace-ssd" and j["pool"] == "e1" and
	 j["old_ssd"] == "254:5" and j["new_ssd"].endswith("nosuch") and
	 "does not exist" in j["errors"][0]' \
	evac pool replace-ssd e1 "$work/nosuch" --json
jexpect 0 "vol pin --json: pool and volume" \
	'j["ok"] and j["command"] == "vol pin" and j["pool"] == "p0" and j["volume"] == "vm1"' \
	act vol pin p0 vm1 ssd --json
jexpect 0 "pool deactivate --json: a pool not active, the sentence in messages" \
	'j["ok"] and j["not_active"] == ["nosuch"] and j["messages"] == ["Pool nosuch is not active."]' \
	act pool deactivate --json nosuch
check "... on one line (a JSON Lines record after import's progress lines)" \
	'[ "$(wc -l < out.json)" = 1 ]'
jexpect 0 "vol resize --json to its size: old and new size in bytes" \
	'j["ok"] and j["old_size_bytes"] == j["size_bytes"] == 21474836480 and
	 j["messages"] == ["Volume vm1 is already 20G."]' \
	act vol resize p0 vm1 20G --json
jexpect 1 "vol delete --json that fails: ok false, exit_status 1, the error" \
	'not j["ok"] and j["volume"] == "2" and "cannot remove device p0-2" in j["errors"][0]' \
	act vol delete p0 2 --json
jexpect 2 "vol set --json with a usage error: exit_status 2" \
	'not j["ok"] and j["command"] == "vol set"' act vol set p0 web weight --json
# a command that exit()s on its way (no device-mapper here, or no pool x)
jexpect 1 "pool set --json with no kernel to talk to still writes its object" \
	'not j["ok"] and j["errors"]' hybridctl pool set x migration on --json
expect 0 "pool set without --json: no JSON, no sentence" act pool set p0 migration_rate 5
check "... as before" '[ ! -s out.log ]'
expect 0 "vol resize without --json: the sentence" act vol resize p0 vm1 20G
check "... alone" '[ "$(cat out.log)" = "Volume vm1 is already 20G." ]'
expect 0 "pool status --json is still its own report" act pool status --json p0
check "... not wrapped" 'python3 -c "import json; j = json.load(open(\"out.log\")); assert \"command\" not in j"'
expect 2 "metrics --json is refused (Prometheus' text is its format)" act metrics --json
jexpect 1 "vol import --json of a missing file: the object, with the source" \
	'not j["ok"] and j["source"] == "no-such.img" and j["volume"] == "web" and
	 "cannot open no-such.img" in j["errors"][0]' \
	act vol import --json p0 web no-such.img
jexpect 1 "vol export --json of no such volume: the object, with the destination" \
	'not j["ok"] and j["dest"] == "x.img" and "has no volume" in j["errors"][0]' \
	act vol export p0 nosuch x.img --json
check "... and no x.img" '[ ! -e x.img ]'

# vol delete waiting for migrations: volume 2 has no device here, and its
# delete_volume is refused with EBUSY 3 times (0.75 s) before it passes
grep -v '^dev p0-2 ' act.dm > busy.dm
echo 'msg p0 delete_volume 2|!busy 3' >> busy.dm
busy() {
	HCTL_FAKE_DM=$work/busy.dm "$here/hybridctl_fake" "$@"
}
expect 0 "vol delete of a volume whose chunks migrate: waits, then deletes" busy vol delete p0 2
check "... saying so, with no progress line off a terminal" \
	'grep -q "^Volume 2 is busy (chunks being migrated); waiting up to 30 s.$" out.log &&
	 grep -q "^Volume 2 deleted from pool p0.$" out.log && ! grep -q waited out.log'
echo "pw $work/no-md $work/no-ssd $work/no-hdd" > wait.tab
if command -v script >/dev/null; then
	# script(1) gives it a terminal
	expect 0 "vol delete on a terminal" script -qec \
		"HCTL_FAKE_DM=$work/busy.dm $here/hybridctl_fake vol delete p0 2" /dev/null
	check "... shows how long it waited, 0.75 s, and that it is done" \
		'tr "\r" "\n" < out.log | grep -q "^volume 2: waited 0.75 s of 30 s: done"'
	# pool activate --wait: devices that never come
	expect 1 "pool activate --wait 2 on a terminal, devices that never come" \
		script -qec "HCTL_FAKE_DM=$work/busy.dm $here/hybridctl_fake --tab $work/wait.tab pool activate pw --wait 2" /dev/null
	check "... shows each second waited and the end" \
		'tr "\r" "\n" < out.log > wait.lines &&
		 grep -q "^pool pw: its devices: waited 1.00 s of 2 s" wait.lines &&
		 grep -q "^pool pw: its devices: waited 2.00 s of 2 s: not there" wait.lines &&
		 grep -q "did not all appear in time" wait.lines'
	# ... and devices that come after a second
	rm -f no-md no-ssd no-hdd
	(sleep 1.2; : > no-md; : > no-ssd; : > no-hdd) &
	expect 1 "pool activate --wait 5 on a terminal, devices that come" \
		script -qec "HCTL_FAKE_DM=$work/busy.dm $here/hybridctl_fake --tab $work/wait.tab pool activate pw --wait 5" /dev/null
	wait
	check "... ends its line when they are there" \
		'tr "\r" "\n" < out.log | grep -q "^pool pw: its devices: waited [1-4]\.[0-9]* s of 5 s: there"'
fi
rm -f no-md no-ssd no-hdd
expect 1 "pool activate --wait 1 off a terminal: no progress line" \
	busy --tab wait.tab pool activate pw --wait 1
check "... only the error" '! grep -q waited out.log && grep -q "did not all appear in time" out.log'
# Pool s0 has 48K staged: a command that suspends or removes its volume
# devices shows on a terminal what is left to write back, then "done",
# then its sentence.  One row a command: the ms each device change takes
# (HCTL_FAKE_CHANGE_MS), the canned devices, how many such lines at least
# (the "done" one counts), the command and its sentence.  vol delete and
# vol resize act on vm6 (1 s); pool deactivate of s0 with none of its
# volumes open (wb2.dm) removes its three volume devices (0.3 s each).
{ cat stage.dm; echo 'msg s0 delete_volume 2|-'; } > wb.dm
sed 's/^\(dev vm[57] [0-9]* [0-9]*\) 1 /\1 0 /' wb.dm > wb2.dm
wb_lines='^pool s0: staged data not yet on the HDD: 48K (was 48K)'
while IFS='|' read -r -u 3 ms dm min cmd sentence; do
	command -v script >/dev/null || break
	expect 0 "${cmd% s0*} on a terminal while the pool has staged data" \
		script -qec "HCTL_FAKE_CHANGE_MS=$ms HCTL_FAKE_DM=$work/$dm $here/hybridctl_fake $cmd" /dev/null
	check "... shows what is left to write back, then done, then its sentence" \
		'tr "\r" "\n" < out.log > wb.lines &&
		 [ "$(grep -c "$wb_lines" wb.lines)" -ge "$min" ] &&
		 grep -q "$wb_lines: done" wb.lines && grep -qxF "$sentence" wb.lines'
done 3<<'EOF'
1000|wb.dm|2|vol delete s0 vm6|Volume vm6 deleted from pool s0.
1000|wb.dm|1|vol resize s0 vm6 2M|Volume vm6 resized from 1M to 2M.
300|wb2.dm|1|pool deactivate s0|Pool s0 deactivated (3 volume devices removed).
EOF
expect 0 "vol delete off a terminal while the pool has staged data" \
	env HCTL_FAKE_CHANGE_MS=10 HCTL_FAKE_DM="$work/wb.dm" "$here/hybridctl_fake" vol delete s0 vm6
check "... only its sentence" '[ "$(cat out.log)" = "Volume vm6 deleted from pool s0." ]'
jexpect 0 "vol delete --json after waiting: the sentences in messages" \
	'j["ok"] and j["messages"] == ["Volume 2 is busy (chunks being migrated); waiting up to 30 s.",
	                              "Volume 2 deleted from pool p0."]' \
	busy vol delete p0 2 --json

# ---- --json of the metadata tools (jexpect above) ----

write_dump j.txt 5
hybrid_restore -q -i j.txt -o jbase.img
write_dump jleak.txt 5 "map vol=99 vchunk=0 tier=hdd pchunk=0 len=2"
hybrid_restore -q -f -i jleak.txt -o jleak.img 2>/dev/null
jexpect 0 "check --json of a clean image: the verdict and the pool summary" \
	'j["command"] == "hybrid_check" and j["ok"] and j["verdict"] == "clean" and
	 j["path"] == "jbase.img" and j["problems"] == 0 and j["findings"] == [] and
	 j["pool"] == {"transaction": 5, "volumes": 2,
	               "ssd": {"mapped": 13, "free": 987},
	               "hdd": {"mapped": 90, "free": 9910},
	               "staging_log": {"blocks": 0, "records": 0}}' \
	hybrid_check --json jbase.img
check "... on one line, and nothing on stderr" \
	'[ "$(wc -l < out.json)" = 1 ] && [ ! -s err.log ]'
jexpect 1 "check --json of a leak: repairable, the counts and the findings" \
	'not j["ok"] and j["verdict"] == "repairable" and j["problems"] == 2 and
	 j["counts"] == {"info": 0, "repairable": 2, "data_loss": 0, "broken": 0} and
	 j["pool"]["hdd"]["mapped"] == 92 and j["findings"][0] == {"severity":
	 "repairable", "message": "leaked chunk: hdd chunk 0 belongs to volume 99, which does not exist"}' \
	hybrid_check --json jleak.img
jexpect 1 "check --json --quiet: the counts, no findings" \
	'j["counts"]["repairable"] == 2 and j["findings"] == []' \
	hybrid_check --json -q jleak.img
write_dump jmany.txt 5 "map vol=99 vchunk=0 tier=hdd pchunk=0 len=150"
hybrid_restore -q -f -i jmany.txt -o jmany.img 2>/dev/null
jexpect 1 "check --json of 150 leaks: 100 findings and 50 not shown, as the text" \
	'j["counts"]["repairable"] == 150 and len(j["findings"]) == 100 and
	 j["findings_not_shown"] == 50' \
	hybrid_check --json jmany.img
jexpect 1 "... all 150 with --verbose" \
	'len(j["findings"]) == 150 and j["findings_not_shown"] == 0' \
	hybrid_check --json -v jmany.img
layout jbase.img
cp jbase.img jflip.img
flip_byte jflip.img $((L_ssd_rmap_start + (5 & 1))) 100
jexpect 2 "check --json of a bit flip in the live rmap: broken" \
	'j["verdict"] == "broken" and j["counts"]["broken"] == 1 and
	 "no usable copy" in j["findings"][0]["message"] and
	 j["findings"][0]["severity"] == "broken"' \
	hybrid_check --json jflip.img
cp jbase.img jnosb.img
zero_block jnosb.img 1
jexpect 2 "check --json without a superblock: broken, no pool summary" \
	'j["verdict"] == "broken" and j["pool"] is None and
	 "no valid superblock" in j["findings"][0]["message"]' \
	hybrid_check --json jnosb.img
jexpect 3 "check --json of a missing file: io_error, the error on stderr" \
	'j["verdict"] == "io_error" and j["pool"] is None' \
	hybrid_check --json no-such.img
check "... which says why" 'grep -q "cannot open no-such.img" err.log'
expect 2 "check --json without a device: a usage error, no object" \
	hybrid_check --json
check "... only the usage" '! grep -q "{" out.log && grep -q "^Usage" out.log'

cp jleak.img jleak2.img
jexpect 0 "repair --json of a leak: committed, what it fixed, the check after" \
	'j["command"] == "hybrid_repair" and j["verdict"] == "clean" and
	 j["committed"] and j["transaction"] == 6 and j["fixed"] == 2 and
	 j["input"] == "jleak2.img" and j["output"] is None and
	 j["counts"]["repairable"] == 2 and len(j["findings"]) == 2 and
	 j["after"]["problems"] == 0 and j["after"]["findings"] == []' \
	hybrid_repair --json -i jleak2.img
check "... on one line, and the image is clean" \
	'[ "$(wc -l < out.json)" = 1 ] && hybrid_check -q jleak2.img'
jexpect 0 "repair --json of a clean image: nothing committed" \
	'j["ok"] and not j["committed"] and j["transaction"] is None and
	 j["fixed"] == 0 and j["after"]["problems"] == 0' \
	hybrid_repair --json -i jleak2.img
jexpect 0 "repair --json -o: the output named, the input left alone" \
	'j["output"] == "jleak-fixed.img" and j["committed"] and j["fixed"] == 2' \
	hybrid_repair --json -i jleak.img -o jleak-fixed.img
check "... which still has its leak" 'hybrid_check -q jleak.img; [ $? = 1 ]'
cp jflip.img jflip2.img
jexpect 2 "repair --json of broken metadata: nothing committed, no check after" \
	'j["verdict"] == "broken" and not j["committed"] and
	 j["counts"]["broken"] == 1 and j["after"] is None' \
	hybrid_repair --json -i jflip2.img
check "... and the image untouched" 'cmp -s jflip.img jflip2.img'

jexpect 0 "restore --json: what it wrote" \
	'j["command"] == "hybrid_restore" and j["ok"] and j["written"] and
	 j["parsed"] and j["input"] == "j.txt" and j["output"] == "jr.img" and
	 j["md_blocks"] == 200 and j["transaction"] == 5 and j["volumes"] == 2 and
	 j["problems"] == 0' \
	hybrid_restore --json -i j.txt -o jr.img
check "... on one line, the same image as without --json" \
	'[ "$(wc -l < out.json)" = 1 ] && cmp -s jr.img jbase.img'
jexpect 1 "restore --json of an inconsistent dump: nothing written, the findings" \
	'not j["written"] and j["parsed"] and j["counts"]["repairable"] == 2 and
	 "leaked chunk" in j["findings"][1]["message"]' \
	hybrid_restore --json -i jleak.txt -o jr2.img
check "... and no image" '[ ! -e jr2.img ] && grep -q "nothing written" err.log'
jexpect 0 "restore --json --force: written anyway, with its findings" \
	'j["written"] and j["problems"] == 2' \
	hybrid_restore --json -f -i jleak.txt -o jr2.img
echo "volume id=1" > jbad.txt
jexpect 1 "restore --json of a dump that does not parse: parsed false, nulls" \
	'not j["parsed"] and not j["written"] and j["transaction"] is None' \
	hybrid_restore --json -i jbad.txt -o jr3.img
check "... the reason on stderr" 'grep -q "jbad.txt:1:" err.log'

got=$(hybrid_metadata_size -s 1T -d 16T -n)
jexpect 0 "metadata_size --json: the size --numeric gives and what it was asked" \
	'j["command"] == "hybrid_metadata_size" and
	 j["metadata_bytes"] == j["metadata_blocks"] * 4096 == '"$got"' and
	 j["ssd_bytes"] == 1 << 40 and j["hdd_bytes"] == 16 << 40 and
	 j["chunk_bytes"] == 1 << 20 and j["ssd_chunks"] == 1 << 20 and
	 j["hdd_chunks"] == 1 << 24 and j["staging_log_blocks"] is None' \
	hybrid_metadata_size -s 1T -d 16T --json
got=$(hybrid_metadata_size -s 1000M -d 10000M -p 64M -g 50 -n)
jexpect 0 "metadata_size --json with growth and persistent staging" \
	'j["metadata_bytes"] == '"$got"' and j["growth_percent"] == 50 and
	 j["ssd_chunks"] == 1500 and j["hdd_chunks"] == 15000 and
	 j["persistent_staging_bytes"] == 64 << 20 and
	 j["staging_log_blocks"] == 194' \
	hybrid_metadata_size -s 1000M -d 10000M -p 64M -g 50 --json
check "... on one line" '[ "$(wc -l < out.json)" = 1 ]'
expect 2 "metadata_size --json with a bad size: a usage error, no object" \
	hybrid_metadata_size -s 12Q -d 1T --json
check "... only the sentence" '! grep -q "{" out.log && grep -q "invalid size" out.log'

# ---- man pages render (man -l), without warnings ----

for page in "$tools"/../Documentation/man/*.8; do
	if ! command -v man >/dev/null; then
		report 1 "man page ${page##*/} renders (man is not installed)"
		continue
	fi
	check "man page ${page##*/} renders without warnings" \
		"LC_ALL=C.UTF-8 MANWIDTH=80 man --warnings -l '$page' 2>man.err >man.out &&
		 [ ! -s man.err ] && [ \$(wc -l < man.out) -gt 20 ]"
done

echo "1..$n"
echo "$pass passed, $fail failed"
if [ "$fail" -eq 0 ]; then
	cd "$here" && rm -rf "$work"
fi
[ "$fail" -eq 0 ]
