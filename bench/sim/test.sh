#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-only
#
# Host tests of the placement lab: tiny hand-made traces whose answers are
# known.  Prints TAP and ends with "N passed, N failed"; exits non-zero if
# anything failed.
#
# Usage: bench/sim/test.sh   (builds bench/sim/sim first; "make -C bench/sim test")

# The conditions are eval'ed by check(), so they are single-quoted.
# shellcheck disable=SC2016
set -u
here=$(cd "$(dirname "$0")" && pwd)
make -s -C "$here" sim || exit 1
work=$here/test-work
rm -rf "$work"
mkdir -p "$work"
cd "$work" || exit 1

pass=0
fail=0
n=0

check() {	# check DESC SHELL-CONDITION
	n=$((n + 1))
	if eval "$2"; then
		pass=$((pass + 1))
		echo "ok $n - $1"
	else
		fail=$((fail + 1))
		echo "not ok $n - $1"
		echo "#   failed: $2"
	fi
}

# sim OUT ARGS...: run the lab, its table into OUT.
sim() {
	local out=$1
	shift
	"$here/sim" "$@" > "$out" 2> "$out.err" || echo "# sim $* failed: $(cat "$out.err")"
}

# field OUT PCT POLICY COLUMN: one number of the table (3 cold hit %,
# 4 cold MiB, 5 warm hit %, 6 warm MiB, 7 % of optimum).
field() {
	awk -v p="$2" -v pol="$3" -v c="$4" '$1 == p && $2 == pol { print $c }' "$1"
}

# msr FILE "OFFSET[:SIZE[:OP]] ...": an MSR-format trace, 1 ms apart; OP 1
# reads (default), 0 writes.
msr() {
	local f=$1 t=0 r
	: > "$f"
	for r in $2; do
		IFS=: read -r off size op <<< "$r"
		echo "$t.000 0 $off ${size:-4096} ${op:-1}" >> "$f"
		t=$((t + 1))
	done
}

blocks() {	# blocks "N ...": offsets of 4 KiB blocks N...
	local b
	for b in $1; do
		echo $((b * 4096))
	done
}

# ---- the reuse profile and compaction ----

msr msr-profile.trace "0 0 0 $((10 << 30)):8192"
sim p.out msr-profile.trace
check "profile: 5 accesses, 3 distinct blocks, 40 % re-references" \
	'grep -q "5 accesses, 3 distinct blocks (0.0 MiB), 40.0 % re-references" p.out'
check "profile: the top 10/25/50 % of blocks take 60/60/80 %" \
	'grep -q "top 10/25/50 % of blocks take 60.0/60.0/80.0 %" p.out'
check "compaction: 10 GiB apart, two 64 KiB granules end to end" \
	'grep -q "compacted space 0.1 MiB" p.out &&
	 grep -q "1 chunks of 1024 KiB touched" p.out'

# ---- a trace that fits ----

msr msr-fits.trace "$(blocks "0 1 2 3 0 1 2 3 7 7 0")"
sim fits.out -c 4 -p 100 msr-fits.trace
for pol in lru-4k arc-4k optimum; do
	check "fits: $pol serves every warm access from the SSD" \
		'[ "$(field fits.out 100 $pol 5)" = 100.00 ]'
done
check "fits: lru-4k copies nothing in the warm pass" \
	'[ "$(field fits.out 100 lru-4k 6)" = 0.0 ]'

# ---- a loop one block larger than the cache: LRU never hits ----

msr msr-loop.trace "$(blocks "0 1 2 3 4 0 1 2 3 4 0 1 2 3 4 0 1 2 3 4")"
sim loop.out -c 4 -p 80 msr-loop.trace
check "loop of 5 over 4 blocks: lru-4k hits nothing, cold or warm" \
	'[ "$(field loop.out 80 lru-4k 3)" = 0.00 ] &&
	 [ "$(field loop.out 80 lru-4k 5)" = 0.00 ]'
check "... while optimum hits" \
	'[ "$(field loop.out 80 optimum 5 | tr -d .)" -gt 0 ]'

# ---- scan resistance: ARC keeps a block seen twice through a scan ----

msr msr-scan.trace "$(blocks "0 1 0 1 $(seq -s ' ' 10 27) 0 1")"
sim scan.out -c 4 -p 20 msr-scan.trace
check "scan: lru-4k 4 of 24 warm hits, arc-4k 6 of 24" \
	'[ "$(field scan.out 20 lru-4k 5)" = 16.67 ] &&
	 [ "$(field scan.out 20 arc-4k 5)" = 25.00 ]'

# ---- opcodes without case, read fills and write misses ----

spc() {	# spc FILE OP: 256 distinct 4 KiB requests on ASU 1
	local i
	for i in $(seq 0 255); do
		echo "1,$((i * 8)),4096,$2,0.$i"
	done > "$1"
}
spc r.spc r
spc w.spc W
sim spc.out -p 100 r.spc w.spc
check "SPC: 'r' reads, each read miss fills 4 KiB into lru-4k" \
	'[ "$(sed -n "/== r.spc/,/== w.spc/p" spc.out | field - 100 lru-4k 4)" = 1.0 ]'
check "SPC: 'W' writes, which copy nothing" \
	'[ "$(sed -n "/== w.spc/,\$p" spc.out | field - 100 lru-4k 4)" = 0.0 ]'
{
	echo "version,time,op,size,lbn"
	for i in $(seq 0 255); do echo "1,$i,2A,4096,$((i * 8))"; done
} > cloudphysics-w.csv
sim cp.out -p 100 cloudphysics-w.csv
check "CloudPhysics: header skipped, '2A' writes" \
	'grep -q "256 requests" cp.out && [ "$(field cp.out 100 lru-4k 4)" = 0.0 ]'

# ---- the optimum is optimal among demand policies at its granularity ----

# 3000 requests of 1-4 blocks over 300 blocks, skewed; at 4 KiB units every
# piece is one block, where Belady's MIN with bypass maximises the hits.
awk 'BEGIN { srand(7); for (i = 0; i < 3000; i++)
	printf "%d.000 0 %d %d %d\n", i, int(rand() ^ 3 * 300) * 4096,
	       (1 + int(rand() * 4)) * 4096, rand() < 0.7 }' > msr-rand.trace
sim rand.out -c 4 -r 0 msr-rand.trace
opt_wins() {	# opt_wins PCT: optimum's cold + warm hits >= the caches'
	awk -v p="$1" '$1 == p { h[$2] = $3 + $5 }
		END { exit !(h["optimum"] >= h["lru-4k"] &&
			     h["optimum"] >= h["arc-4k"] && h["lru-4k"] > 0) }' rand.out
}
for pct in 10 25 50 100; do
	check "random trace, SSD $pct %: optimum's hits >= lru-4k's and arc-4k's (both passes)" \
		"opt_wins $pct"
done

# ---- dm-hybrid: the module's own policy, known answers ----

# has_dmh OUT DESC: does OUT have a dm-hybrid row?  If not, DESC is a TAP
# skip line (sim was built without it).
has_dmh() {
	grep -q " dm-hybrid " "$1" && return 0
	n=$((n + 1))
	pass=$((pass + 1))
	echo "ok $n - $2 # SKIP sim built without the dm-hybrid row"
	return 1
}

# One block read ten times, a second apart; an SSD of three chunks (the
# reserve keeps one free): heat 1 >= promote_free_threshold 1 makes the
# chunk a candidate for free space, promoted at the first tick.
msr msr-dmh-one.trace "$(printf '0 %.0s' $(seq 10))"
sed -i 's/^\([0-9]*\)\.000/\1000.000/' msr-dmh-one.trace
sim dmh-one.out -p 100000 msr-dmh-one.trace
if has_dmh dmh-one.out "dm-hybrid: a chunk read once is promoted at the next tick"; then
	check "dm-hybrid: a chunk read once is promoted at the next tick (9 of 10 cold, 10 of 10 warm, one chunk moved)" \
		'[ "$(field dmh-one.out 100000 dm-hybrid 3)" = 90.00 ] &&
		 [ "$(field dmh-one.out 100000 dm-hybrid 5)" = 100.00 ] &&
		 [ "$(field dmh-one.out 100000 dm-hybrid 4)" = 1.0 ] &&
		 [ "$(field dmh-one.out 100000 dm-hybrid 6)" = 0.0 ]'
fi

# A 2 MiB sequential read in 4 KiB requests, 1 ms apart: the first 1 MiB
# (2048 sectors, the default seq_cutoff) heats chunk 0, the rest is a
# stream and leaves chunk 1 cold; so half the warm pass hits.
msr msr-dmh-seq.trace "$(blocks "$(seq -s ' ' 0 511)")"
sim dmh-seq.out -p 100000 msr-dmh-seq.trace
if has_dmh dmh-seq.out "dm-hybrid: a stream beyond seq_cutoff adds no heat"; then
	check "dm-hybrid: a stream beyond seq_cutoff adds no heat (warm: chunk 0 on the SSD, chunk 1 not)" \
		'[ "$(field dmh-seq.out 100000 dm-hybrid 5)" = 50.00 ]'
fi

# ---- the fast-tier variants (policy-subchunk.c), known answers ----

# The token bucket starts empty, as the pool's: a miss at time 0 cannot be
# filled.  One 4 KiB block read at 0, 1 and 2 ms into a huge SSD: the
# block tier takes it into free space at its miss at 1 ms (one 16 KiB
# fill), so the third read hits; the warm pass hits throughout and copies
# nothing.
msr msr-sub-one.trace "0 0 0"
sim sub-one.out -p 100000 msr-sub-one.trace
check "sub-16k: a block enters free space at a miss the bucket pays for (1 of 3 cold, 3 of 3 warm, nothing copied warm)" \
	'[ "$(field sub-one.out 100000 sub-16k 3)" = 33.33 ] &&
	 [ "$(field sub-one.out 100000 sub-16k 5)" = 100.00 ] &&
	 [ "$(field sub-one.out 100000 sub-16k 6)" = 0.0 ]'

# Block size: 4 KiB blocks 0-3 read once then again, SSD 100 % of them.
# 16 KiB: the read of block 1 (the first the bucket pays for) fills the
# block holding all four, so 6 of 8 hit; 4 KiB: every block misses once
# and block 0 twice, 3 of 8.
msr msr-sub-gran.trace "$(blocks "0 1 2 3 0 1 2 3")"
sim sub-gran.out -p 100 msr-sub-gran.trace
check "block size: sub-16k hits 6 of 8 cold, sub-4k 3 of 8" \
	'[ "$(field sub-gran.out 100 sub-16k 3)" = 75.00 ] &&
	 [ "$(field sub-gran.out 100 sub-4k 3)" = 37.50 ]'

# Settling: a block tier of one 16 KiB slot (SSD 5 of 7 4 KiB blocks, 10 %
# staging rounds to 0).  Block 0 is read four times (filled at the
# second), then six other 16 KiB blocks twice each, then block 0 again.
# With admit-on-2nd-access and beat-the-victim, none of them displaces
# block 0 (heat 4 > 2): 3 of 17 cold, 5 of 17 warm, and the warm pass
# copies nothing.  A plain CLOCK that admits every miss swaps the slot
# for each newcomer and copies 8 x 16 KiB in the warm pass.
msr msr-sub-settle.trace "$(blocks "0 0 0 0 4 4 8 8 12 12 16 16 20 20 24 24 0")"
sim sub-settle.out -p 80 msr-sub-settle.trace
check "settling: sub-16k+stage keeps the hot block (3/17 cold, 5/17 warm hits) and copies nothing warm" \
	'[ "$(field sub-settle.out 80 sub-16k+stage 3)" = 17.65 ] &&
	 [ "$(field sub-settle.out 80 sub-16k+stage 5)" = 29.41 ] &&
	 [ "$(field sub-settle.out 80 sub-16k+stage 6)" = 0.0 ]'
check "... while sub-16k+stage-clock refills the slot for each newcomer (0.1 MiB warm)" \
	'[ "$(field sub-settle.out 80 sub-16k+stage-clock 6)" = 0.1 ]'

# Write staging degrades gracefully: 200 distinct 4 KiB writes (8 KiB
# apart, no stream) into a staging area of 20 blocks (10 % of an SSD of
# 100 % of the footprint): the first 20 are absorbed, the rest go to the
# HDD, none waits: 10 % of the cold pass hits.
msr msr-sub-stage.trace "$(for i in $(seq 0 199); do printf '%d:4096:0 ' $((i * 8192)); done)"
sim sub-stage.out -p 100 msr-sub-stage.trace
check "staging: a full area passes writes to the HDD (stage-only: 20 of 200 cold writes absorbed)" \
	'[ "$(field sub-stage.out 100 stage-only 3)" = 10.00 ]'

# Write-back: 20 writes 8 KiB apart fill a staging area of 20 blocks (10 %
# of an SSD 10 times the footprint); at the tick (250 ms) it is over half
# full and writes back in address order down to a quarter: the lowest 15
# blocks leave.  Reads of the upper 10 at 300 ms then hit the highest 5:
# 25 of 30 cold (in the wrong order, the lowest 5 would stay: 20 of 30).
awk 'BEGIN { for (i = 0; i < 20; i++) printf "%d.000 0 %d 4096 0\n", i, i * 8192
	     for (i = 10; i < 20; i++) printf "%d.000 0 %d 4096 1\n", 300 + i, i * 8192 }' \
	> msr-sub-wb.trace
sim sub-wb.out -p 1000 msr-sub-wb.trace
check "staging: written back in address order down to a quarter at the tick (stage-only: 25 of 30 cold)" \
	'[ "$(field sub-wb.out 1000 stage-only 3)" = 83.33 ]'

# Folding: every 16 KiB block of chunk 0 read twice, 1 ms apart (whole
# blocks, huge SSD): each enters the block tier at its first read (block
# 0 at its second: the bucket starts empty) and 63 of 64 are used again,
# 63/128 cold hits and 63 fills (1.0 MiB).  At the first tick (250 ms,
# after the cold pass's last read, so charged to the warm pass) the chunk
# (98 % of its blocks used again >= 90 %) moves whole: 1 MiB, and the
# warm pass hits throughout.
msr msr-sub-fold.trace "$(for i in $(seq 0 63); do printf '%d:16384 %d:16384 ' $((i * 16384)) $((i * 16384)); done)"
sim sub-fold.out -p 100000 msr-sub-fold.trace
check "folding: a chunk whose blocks were used again moves whole at the next tick (1.0 MiB of fills cold, the 1 MiB chunk warm, 100 % warm)" \
	'[ "$(field sub-fold.out 100000 sub-16k 3)" = 49.22 ] &&
	 [ "$(field sub-fold.out 100000 sub-16k 4)" = 1.0 ] &&
	 [ "$(field sub-fold.out 100000 sub-16k 5)" = 100.00 ] &&
	 [ "$(field sub-fold.out 100000 sub-16k 6)" = 1.0 ]'

# A capped block tier leaves room that chunks fill by heat: one block read
# ten times, a second apart, into a huge SSD.  sub-16k+stage-cap25 moves
# its chunk (heat 1) into that room at the first tick: 9 of 10 cold, 1 MiB.
# Uncapped, the chunk can only fold: its one block is filled at the read
# at 1 s (the bucket is empty at 0), 8 of 10 cold.
sim sub-cap.out -p 100000 msr-dmh-one.trace
check "cap: chunks fill the room a capped block tier leaves (cap25 9 of 10 cold, 1.0 MiB; uncapped 8 of 10)" \
	'[ "$(field sub-cap.out 100000 sub-16k+stage-cap25 3)" = 90.00 ] &&
	 [ "$(field sub-cap.out 100000 sub-16k+stage-cap25 4)" = 1.0 ] &&
	 [ "$(field sub-cap.out 100000 sub-16k+stage 3)" = 80.00 ]'

# The model of the chunk tier against the kernel's own policy.
if has_dmh rand.out "chunk-only: the same as dm-hybrid on a random trace"; then
	check "chunk-only (the lab's model of the chunk tier) matches dm-hybrid's row on a random trace" \
		'[ "$(awk "\$2 == \"dm-hybrid\" { print \$3, \$4, \$5, \$6 }" rand.out)" = \
		   "$(awk "\$2 == \"chunk-only\" { print \$3, \$4, \$5, \$6 }" rand.out)" ]'
fi

# ---- sim.tsv ----

mkdir -p out
sim tsv.out -o out msr-fits.trace
check "sim.tsv: the issue's header, then one warm row per size and policy" \
	'[ "$(head -n1 out/sim.tsv)" = "$(printf "trace\tssd_pct\tpolicy\thit_pct\tmoved_mib\tpct_of_optimum")" ] &&
	 [ "$(awk -F"\t" "NR > 1 && NF == 6" out/sim.tsv | wc -l)" = $((4 * $(grep -c "^ *100 " tsv.out))) ] &&
	 grep -q "	sub-16k+stage	" out/sim.tsv'
check "sim rejects a trace of unknown format" \
	'! "$here/sim" README.md > /dev/null 2>&1'

# ---- the zipf pseudo-trace ----

sim zipf.out -p 100 zipf:16:1.1:75:1000
sim zipf2.out -p 100 zipf:16:1.1:75:1000
check "zipf: 1000 requests 1 ms apart over the whole 16 MiB volume, the hot blocks spread over all 16 chunks" \
	'grep -q "== zipf:16:1.1:75:1000: 1000 requests over 1.0 s, compacted space 16.0 MiB" zipf.out &&
	 grep -q "16 chunks of 1024 KiB touched" zipf.out'
check "zipf: a fixed seed, the same spec gives the same table" \
	'diff <(grep -v "traces in" zipf.out) <(grep -v "traces in" zipf2.out) > /dev/null'
check "zipf: theta 0 spreads the accesses evenly, theta 1.1 concentrates them" \
	'"$here/sim" -p 100 zipf:16:0:75:20000 | grep -q "top 10/25/50 % of blocks take 1[0-9]\." &&
	 "$here/sim" -p 100 zipf:16:1.1:75:20000 | grep -q "top 10/25/50 % of blocks take [6-9][0-9]\."'
for bad in zipf:16:1.1 zipf:0:1:50 zipf:16:1.1:101 zipf:16:1.1:50:0 zipf:16:1.1:50:10x; do
	check "zipf: '$bad' is refused" '! "$here/sim" "$bad" > /dev/null 2>&1'
done

# ---- the multi-volume mode (--mix) ----

# The mode needs the dm-hybrid row (SIM_DMHYBRID=1): without it, one skip.
mix_tests() {
	# mixrow OUT PCT VOL COLUMN: one number of a mix table (5 requests,
	# 7 hit % over the whole run, 8 hit % after the warm-up, 9 mean ms,
	# 10 SSD chunks at the end, 11 share of the SSD %, 13 alone's SSD chunks,
	# 14 alone's hit %, 15 heat: hottest HDD chunk / coldest SSD chunk).
	mixrow() {
		awk -v p="$2" -v vol="$3" -v c="$4" '
			/^# SSD / { cur = $3 }
			cur == p && $1 == vol && NF == 15 { print $c }' "$1"
	}

	# The closed loop's clock: two volumes, each one 4 KiB block read over and
	# over; 4 KiB chunks and an SSD of 2 chunks (100 % of the 2 blocks), one of
	# them the reserve.  Volume 1 (first at equal heat) is promoted at the
	# first tick (250 ms) and served by the SSD (100 us) once its request in
	# flight then completes (issued at 248 ms, done at 256 ms); volume 2 by
	# the HDD (8 ms) throughout: in 100 s, 32 + 99.744 s / 100 us = 997,472
	# against 100 s / 8 ms = 12,500 requests, a ratio of 79.8.
	sim mix-clock.out --mix --seconds 100 -c 4 -p 100 msr-mix-one.trace msr-mix-one.trace
	check "mix clock: the SSD-served volume completes ~80x the HDD-served one's requests (997,472 against 12,500)" \
		'[ "$(mixrow mix-clock.out 100 1 5)" = 997472 ] &&
		 [ "$(mixrow mix-clock.out 100 2 5)" = 12500 ]'
	check "mix clock: ... holding the SSD's one free chunk, hits 100 % warm; the other none, 0 %" \
		'[ "$(mixrow mix-clock.out 100 1 10)" = 1 ] &&
		 [ "$(mixrow mix-clock.out 100 1 8)" = 100.00 ] &&
		 [ "$(mixrow mix-clock.out 100 2 10)" = 0 ] &&
		 [ "$(mixrow mix-clock.out 100 2 8)" = 0.00 ] &&
		 [ "$(mixrow mix-clock.out 100 2 9)" = 8.000 ]'
	# SSD 50 us, HDD 4 ms: 63 HDD requests up to 252 ms, then 99.748 s / 50 us.
	check "mix clock: the service times are options and are printed (SSD 50 us, HDD 4 ms: 1,995,023 and 25,000)" \
		'"$here/sim" --mix --seconds 100 --ssd-us 50 --hdd-us 4000 -c 4 -p 100 msr-mix-one.trace msr-mix-one.trace > mix-clock2.out &&
		 grep -q "50 us from the SSD .*, else 4000 us" mix-clock2.out &&
		 [ "$(mixrow mix-clock2.out 100 1 5)" = 1995023 ] &&
		 [ "$(mixrow mix-clock2.out 100 2 5)" = 25000 ]'
	check "mix heat: the SSD-served volume's coldest SSD chunk and the other's hottest HDD chunk saturated (0/255, 255/-)" \
		'[ "$(mixrow mix-clock.out 100 1 15)" = 0/255 ] &&
		 [ "$(mixrow mix-clock.out 100 2 15)" = 255/- ]'
	# No SSD chunk (1 % of 2 blocks): both on the HDD, 12,500 requests each
	# in 100 s; with --hdd-queue they take turns on it, 6,250 each at 16 ms.
	sim mix-hq0.out --mix --seconds 100 -c 4 -p 1 msr-mix-one.trace msr-mix-one.trace
	sim mix-hq.out --mix --seconds 100 --hdd-queue -c 4 -p 1 msr-mix-one.trace msr-mix-one.trace
	check "mix --hdd-queue: two HDD-served volumes share one HDD (6,250 requests each at 16 ms; 12,500 at 8 ms without)" \
		'[ "$(mixrow mix-hq0.out 1 1 5)" = 12500 ] &&
		 [ "$(mixrow mix-hq.out 1 1 5)" = 6250 ] &&
		 [ "$(mixrow mix-hq.out 1 2 5)" = 6250 ] &&
		 [ "$(mixrow mix-hq.out 1 2 9)" = 16.000 ] &&
		 grep -q "one at a time for all volumes" mix-hq.out'
	sim mix-depth.out --mix --seconds 100 --depth 4 -c 4 -p 100 msr-mix-one.trace msr-mix-one.trace
	check "mix depth 4: four requests outstanding per volume, four times the requests (no queueing)" \
		'[ "$(mixrow mix-depth.out 100 2 5)" = 50000 ] &&
		 grep -q "one of its 4 outstanding" mix-depth.out'

	# An idle volume (no requests) gets no SSD, a busy one next to it does.
	sim mix-idle.out --mix --seconds 60 -p 100 zipf:16:1.1:75:5000 idle:64
	check "mix: an idle volume gets no SSD and completes nothing; the busy one gets SSD chunks" \
		'[ "$(mixrow mix-idle.out 100 2 10)" = 0 ] &&
		 [ "$(mixrow mix-idle.out 100 2 5)" = 0 ] &&
		 [ "$(mixrow mix-idle.out 100 1 10)" -gt 0 ]'

	# Two identical volumes: everything fits (SSD 10x the 4 KiB footprint, more
	# than both volumes' chunks): each gets all 64 of its chunks and the same
	# hits; contended (SSD 10, 25 and 50 %: 3, 7 and 15 chunks, one the
	# reserve), their shares differ by at most 2 chunks.
	sim mix-same.out --mix -p 1000,10,25,50 zipf:64:1.1:75:20000 zipf:64:1.1:75:20000
	check "mix: two identical volumes in an SSD that holds both get all their chunks and equal hits" \
		'[ "$(mixrow mix-same.out 1000 1 10)" = 64 ] &&
		 [ "$(mixrow mix-same.out 1000 2 10)" = 64 ] &&
		 [ "$(mixrow mix-same.out 1000 1 8)" = "$(mixrow mix-same.out 1000 2 8)" ]'
	for pct in 10 25 50; do
		check "mix: two identical volumes share an SSD of $pct % within 2 chunks, both holding some" \
			'a=$(mixrow mix-same.out $pct 1 10); b=$(mixrow mix-same.out $pct 2 10)
			 [ "$a" -gt 0 ] && [ "$b" -gt 0 ] && [ $((a > b ? a - b : b - a)) -le 2 ]'
	done

	# A mix of three different volumes: every hit ratio within [0, 100], the
	# chunks held within the SSD, and "alone" a volume in its own pool.
	sim mix-three.out --mix --seconds 120 -p 10,25,50,100 -o . zipf:16:1.1:75:5000 zipf:32:0.8:25:5000 msr-rand.trace
	mix_sane() {	# mix_sane PCT
		awk -v p="$1" '/^# SSD / { cur = $3; ssd = $13 + 0 }
			cur == p && NF == 15 && $1 ~ /^[0-9]+$/ {
				n++; held += $10
				for (c = 7; c <= 8; c++) if ($c < 0 || $c > 100) bad = 1
				if ($14 < 0 || $14 > 100) bad = 1 }
			END { exit !(n == 3 && !bad && held <= ssd) }' mix-three.out
	}
	for pct in 10 25 50 100; do
		check "mix of three, SSD $pct %: hit ratios within [0, 100], chunks held <= the SSD's" "mix_sane $pct"
	done
	check "mix: jain's indices within [1/3, 1]" \
		'awk "/^pool:/ { for (i = 1; i <= NF; i++) if (\$i ~ /^[0-9.]+,?\$/ && \$(i-1) != \"pool:\") { x = \$i + 0; if (x < 0.333 || x > 1) bad = 1; k++ } }
		      END { exit !(k >= 12 && !bad) }" mix-three.out'
	check "mix.tsv: its header, then one row per SSD size and volume" \
		'[ "$(head -n1 mix.tsv | cut -f1-5)" = "$(printf "ssd_pct\tvol\ttrace\trequests\thit_pct")" ] &&
		 [ "$(awk -F"\t" "NR > 1 && NF == 14" mix.tsv | wc -l)" = 12 ]'
	check "mix.tsv: every row of an SSD size carries the pool line's Jain index over the hit ratios" \
		'(for pct in 10 25 50 100; do
			want=$(awk -v p=$pct "/^# SSD / { cur = \$3 } cur == p && /^pool:/ { sub(/,/, \"\", \$11); print \$11 }" mix-three.out)
			got=$(awk -F"\t" -v p=$pct "NR > 1 && \$1 == p { print \$12 }" mix.tsv | sort -u)
			[ -n "$want" ] && [ "$got" = "$want" ] || exit 1
		 done)'
	check "mix: the same volume alone (alone_hit) is the single-volume pool: idle neighbours change nothing" \
		'"$here/sim" --mix --seconds 120 -p 25 zipf:16:1.1:75:5000 > mix-solo.out &&
		 "$here/sim" --mix --seconds 120 -p 25 zipf:16:1.1:75:5000 idle:1 > mix-solo2.out &&
		 [ "$(mixrow mix-solo.out 25 1 8)" = "$(mixrow mix-solo.out 25 1 14)" ] &&
		 [ "$(mixrow mix-solo.out 25 1 8)" = "$(mixrow mix-solo2.out 25 1 8)" ]'

	# Bad input: a clear error, nothing run.
	check "mix options without --mix are refused" \
		'! "$here/sim" --seconds 10 msr-mix-one.trace > /dev/null 2>&1'
	for bad in "--seconds 0" "--seconds x" "--depth 0" "--hdd-us 1.5" "--warm 600"; do
		check "mix: '$bad' is refused" \
			"! \"\$here/sim\" --mix $bad msr-mix-one.trace > /dev/null 2>&1"
	done
	check "the single-volume mode refuses an idle volume, saying so" \
		'! "$here/sim" idle:64 > /dev/null 2> idle.err && grep -q "only with --mix" idle.err'
}

msr msr-mix-one.trace "0"
if "$here/sim" --mix --seconds 1 msr-mix-one.trace > /dev/null 2>&1; then
	mix_tests
else
	n=$((n + 1))
	pass=$((pass + 1))
	echo "ok $n - the multi-volume mode # SKIP sim built without the dm-hybrid row"
fi

echo "1..$n"
echo "$pass passed, $fail failed"
[ "$fail" -eq 0 ]
