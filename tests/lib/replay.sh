# SPDX-License-Identifier: GPL-2.0-only
# shellcheck shell=sh
#
# Write-log replay (issue 7), sourced after guest.sh, hybrid.sh, mixed.sh.
#
#   replay_campaign SECONDS NFLUSH NRANDOM
#
# Lab disks: d (the pool's one disk, >= mixed_disk_sectors), log (the
# dm-log-writes log), rep (replay target, as big as d), cow (dm-snapshot
# exceptions).  The mixed workload runs SECONDS on slices of dm-log-writes
# over d, with a log mark after each completed dmh-stamp flush.  The log is
# then replayed onto rep, in order, to NFLUSH flush entries (every one
# after the "ready" mark when NFLUSH is 0, else that many spread evenly)
# and NRANDOM random points.  At each point, on a snapshot of rep (so
# the activation does not touch the replayed state):
#   - hybrid_check of the metadata slice must exit 0 (clean);
#   - the pool must activate and the volumes map;
#   - dmh-stamp verify of each volume, with the last flush whose mark is in
#     the replayed prefix, must find every acknowledged write.
# Prints "DMH-REL replay_points=N replay_failed=N lost=N" at the end, and
# the same as DMH-REL-PARTIAL after each point (tests/reliability-report.sh
# sums them, the partial ones when a run did not end).

# _replay_ks P: the flush op of each volume's last mark before entry P, as
# "K1 K2 K3" (-1: none).  With P "-", prints "P K1 K2 K3" for each point
# P of /tmp/points.s, in one pass over the listed log.
_replay_ks() {
	awk -v p="$1" -v t1="st.$(mixed_tag 1)." -v t2="st.$(mixed_tag 2)." \
		-v t3="st.$(mixed_tag 3)." 'BEGIN { k[1] = k[2] = k[3] = -1
		t[1] = t1; t[2] = t2; t[3] = t3
		if (p == "-") { while ((getline q < "/tmp/points.s") > 0) pt[++np] = q + 0
			p = 999999999999 } }
		function out(e) { while (j < np && pt[j + 1] <= e) print pt[++j], k[1], k[2], k[3] }
		np > 0 { out($1) }
		$1 < p && $2 ~ /M/ { for (i = 1; i <= 3; i++) if (index($5, t[i]) == 1)
			k[i] = substr($5, length(t[i]) + 1) }
		END { if (np > 0) out(999999999999); else print k[1], k[2], k[3] }' /tmp/log.txt
}

_replay_migrated() {
	[ "$(pool_promotions pool)" -gt "$_pro0" ] && [ "$(pool_demotions pool)" -gt "$_dem0" ]
}

# _replay_cs: guest uptime in centiseconds, without a fork (the uptime is
# well above 1 s here, so the digits have no leading zero).
_replay_cs() {
	read -r _up _ < /proc/uptime
	_cs=${_up%.*}${_up#*.}
}

# The checking stack stays up from the first replay to the end, so that a
# point costs one table swap instead of nine device creations and removals
# (each dmsetup run costs 0.1-0.3 s under TCG):
#   rm           dm-linear over rep's metadata slice, for hybrid_check;
#   cowa, cowb   the two halves of the cow disk;
#   snap         a non-persistent dm-snapshot of rep, reloaded before each
#                point with the other half as its exception store, so it
#                starts empty: reads see the replayed rep, and what the
#                last point's activation wrote is gone (the COW devices
#                alternate because a new snapshot table on the live one's
#                COW device would take its exceptions over);
#   hm, hs, hh   the pool's slices over snap;
#   rw           dm-linear over all of rep, which dmh-logreplay writes (rep
#                itself is claimed by rm and snap, and the kernel refuses
#                BLKZEROOUT, which replays discards, on a claimed disk).
# Nothing holds a view of rep across a replay step but rm's page cache,
# dropped before each hybrid_check.
_replay_stack() {
	_rep=$(disk rep) _cow=$(disk cow)
	_repn=$(sectors "$_rep") _cown=$(( $(sectors "$_cow") / 2 ))
	make_linear rw "$_rep" "$_repn" 0 >/dev/null || return 1
	make_linear rm "$_rep" "$MIXED_META" 0 >/dev/null || return 1
	make_linear cowa "$_cow" "$_cown" 0 >/dev/null || return 1
	make_linear cowb "$_cow" "$_cown" "$_cown" >/dev/null || return 1
	dmsetup create snap --table "0 $_repn snapshot $_rep /dev/mapper/cowa N 8" || return 1
	dmsetup mknodes snap
	_snapcow=a
	mixed_slices /dev/mapper/snap
}

# _replay_fresh: snap gets an empty exception store (see _replay_stack).
_replay_fresh() {
	if [ "$_snapcow" = a ]; then _snapcow=b; else _snapcow=a; fi
	dmsetup load snap --table "0 $_repn snapshot $_rep /dev/mapper/cow$_snapcow N 8" &&
		dmsetup resume snap
}

_replay_unstack() {
	for _d in hm hs hh snap cowa cowb rm rw; do
		dmsetup remove $_d 2>/dev/null || true
	done
}

# _replay_dev NAME: _dev (major:minor) and _node (/dev/dm-N, made by
# devtmpfs) of dm device NAME, from sysfs without a fork.
_replay_dev() {
	_dev="" _node=""
	for _b in /sys/block/dm-*; do
		read -r _nm < "$_b/dm/name" || continue
		if [ "$_nm" = "$1" ]; then
			read -r _dev < "$_b/dev"
			_node=/dev/${_b##*/}
			return 0
		fi
	done
	echo "$1: not in sysfs"
	return 1
}

# _replay_activate: the pool on hm, hs, hh with migration off, and the
# volumes mapped (they exist in every replayed state, created before
# "ready": map them without create_volume, which would try to commit),
# named by device number, in one dmsetup run; sets _vnodes to their
# /dev/dm-N nodes (no /dev/mapper nodes: no dmsetup mknodes run).
_replay_activate() {
	dmsetup create pool --table "0 $((MIXED_SSD + MIXED_HDD)) hybrid-pool $META $SSD $HDD $MIXED_CHUNK 0" ||
		return 1
	_replay_dev pool || return 1
	dmsetup message pool 0 migration off || return 1
	_spec="" _i=1
	for _s in $MIXED_VSIZE; do
		_spec="$_spec${_spec:+;}vm$_i,,,rw,0 $_s hybrid $_dev $_i"
		_i=$((_i + 1))
	done
	dmsetup create --concise "$_spec" || return 1
	_vnodes=""
	for _i in 1 2 3; do
		_replay_dev vm$_i || return 1
		_vnodes="$_vnodes $_node"
	done
}

# _replay_deactivate: one dmsetup run for all four; one by one if that
# fails (a device missing after a failed activation).
_replay_deactivate() {
	dmsetup remove vm1 vm2 vm3 pool 2>/dev/null && return 0
	for _d in vm1 vm2 vm3 pool; do
		dmsetup remove $_d 2>/dev/null || true
	done
}

# _replay_verify V NODE K: dmh-stamp verify of volume V at NODE, K = last
# completed flush (mixed_verify, without its /dev/mapper node).
_replay_verify() {
	dmh-stamp verify "$2" --tag "$(mixed_tag "$1")" --flushed "$3"
}

# _replay_check P K1 K2 K3: check the replayed state of entries 0..P-1 (on
# rep); Kv is volume v's last completed flush in it.  The offline check
# reads the metadata slice of rep itself (rm; nothing writes rep until the
# next replay step) in the background while the pool is activated on snap
# and the three volumes are verified in parallel.
_replay_check() {
	_p=$1 _bad=""
	shift
	_replay_cs; _t0=$_cs
	_rc=0
	_replay_fresh || { echo "dmh: replay point $_p: FAILED: snapshot reload"; return 1; }
	echo 1 > /proc/sys/vm/drop_caches
	hybrid_check /dev/mapper/rm >/tmp/chk 2>&1 &
	_chk=$!
	_replay_cs; _t1=$_cs _t2=$_cs
	if _replay_activate >/tmp/act 2>&1; then
		_replay_cs; _t2=$_cs
		_vp="" _v=1
		for _nd in $_vnodes; do
			_replay_verify $_v "$_nd" "$1" >/tmp/v$_v.out 2>&1 &
			_vp="$_vp $!"
			_v=$((_v + 1))
			shift
		done
		_v=1
		for _pid in $_vp; do
			if ! wait "$_pid"; then
				cat /tmp/v$_v.out
				_bad="$_bad vm$_v"
			fi
			# "dmh-stamp: verify ... lost N stale ..."
			while read -r _l; do
				case $_l in
				*" lost "*) _n=${_l##* lost }; REPLAY_LOST=$((REPLAY_LOST + ${_n%% *})) ;;
				esac
			done < /tmp/v$_v.out
			_v=$((_v + 1))
		done
	else
		cat /tmp/act
		dmesg | tail -n 5
		_bad="$_bad activation"
	fi
	wait $_chk || _rc=$?
	if [ $_rc -ne 0 ]; then
		cat /tmp/chk
		_bad="$_bad hybrid_check=$_rc"
	fi
	_replay_deactivate
	if [ -n "$_bad" ]; then
		echo "dmh: replay point $_p (entry $(sed -n "$_p"p /tmp/log.txt)): FAILED:$_bad"
		return 1
	fi
	_replay_cs
	echo "dmh: replay point $_p ok (activate $((_t2 - _t1)) all $((_cs - _t0)) cs)"
	return 0
}

replay_campaign() {
	_secs=$1 _nflush=$2 _nrand=$3
	REPLAY_LOST=0
	_n=$(mixed_disk_sectors)
	dmsetup create lw --table "0 $_n log-writes $(disk d) $(disk log)" || fail "log-writes"
	dmsetup mknodes lw
	mixed_slices /dev/mapper/lw || fail "slices"
	mixed_pool || fail "pool"
	mixed_volumes || fail "volumes"
	[ -z "${MIXED_FILLER:-}" ] || mixed_filler "$MIXED_FILLER" || fail "filler"
	dmsetup message lw 0 mark ready || fail "mark"
	_replay_cs
	_pro0=$(pool_promotions pool) _dem0=$(pool_demotions pool)
	log "workload: start at $_cs cs"
	mixed_start lw
	sleep "$_secs"
	# With MIXED_OPS the writers run to their last flush (under a loaded
	# host 1 s is not enough), and the log must hold migrations both ways.
	if [ -n "${MIXED_OPS:-}" ]; then
		mixed_wait_writers || fail "a stamp writer failed"
	fi
	wait_until 30 _replay_migrated ||
		not_ok "the logged workload promotes and demotes" "$(dmsetup status pool)"
	mixed_stop
	[ -n "${MIXED_NO_CHURN:-}" ] ||
		check "volume 9: new incarnations read zeros, then their own stamps" mixed_churn_ok
	log "workload done: $(dmsetup status pool)"
	for _v in 1 2 3; do
		log "vm$_v: flushes up to op $(mixed_flushed $_v): $(dmsetup status vm$_v)"
	done
	mixed_teardown
	log "log-writes: $(dmsetup status lw)"
	dmsetup remove lw || fail "remove log-writes"

	dmh-logreplay list "$(disk log)" > /tmp/log.txt || fail "the log does not list"
	_ready=$(awk '$2 ~ /M/ && $5 == "ready" { print $1; exit }' /tmp/log.txt)
	[ -n "$_ready" ] || fail "no ready mark in the log"
	_last=$(tail -n1 /tmp/log.txt | cut -d' ' -f1)
	log "log: $((_last + 1)) entries, $(grep -c ' F' /tmp/log.txt) flushes, $(grep -c ' M' /tmp/log.txt) marks, ready at $_ready"
	# Points are prefix lengths: a flush entry i gives point i + 1.  A
	# flush with no write, discard or mark since the previous point (the
	# data-device flushes of one commit come in pairs) replays the same
	# state with the same marks, so it is checked once.
	_nfa=$(awk -v r="$_ready" '$1 > r && $2 ~ /F/' /tmp/log.txt | wc -l)
	awk -v r="$_ready" 'BEGIN { ch = 1 } $1 > r {
		if ($4 > 0 || $2 ~ /[DM]/) ch = 1
		if ($2 ~ /F/ && ch) { print $1 + 1; ch = 0 } }' /tmp/log.txt > /tmp/flushes
	_nf=$(wc -l < /tmp/flushes)
	[ "$_nf" -gt 0 ] || fail "no flush after the ready mark"
	if [ "$_nflush" -eq 0 ] || [ "$_nflush" -ge "$_nf" ]; then
		cp /tmp/flushes /tmp/points
	else
		awk -v n="$_nf" -v m="$_nflush" 'BEGIN { s = n / m }
			NR == int((c + 1) * s) || NR == n { print; c++ }' /tmp/flushes > /tmp/points
	fi
	awk -v r="$_ready" -v l="$_last" -v n="$_nrand" -v s="${DMH_SEED:-1}" 'BEGIN {
		srand(s); for (i = 0; i < n; i++) print r + 2 + int(rand() * (l - r - 1)) }' >> /tmp/points
	sort -n -u /tmp/points > /tmp/points.s
	log "replay: $(wc -l < /tmp/points.s) points ($_nfa flushes after ready, $_nf distinct states, $_nrand random)"

	dmh-logreplay replay "$(disk log)" "$(disk rep)" 0 $((_ready + 1)) || fail "replay to ready"
	_replay_stack || fail "the checking stack (rm, cowa, cowb, snap, slices)"
	_replay_cs
	log "replay: first point at $_cs cs"
	_prev=$((_ready + 1)) _pts=0 _failed=0
	_replay_ks - > /tmp/points.k
	[ "$(wc -l < /tmp/points.k)" -eq "$(wc -l < /tmp/points.s)" ] || fail "flush ops of the points"
	while read -r _p _k1 _k2 _k3; do
		dmh-logreplay replay "$(disk log)" /dev/mapper/rw "$_prev" "$_p" || fail "replay to $_p"
		_prev=$_p
		_pts=$((_pts + 1))
		_replay_check "$_p" "$_k1" "$_k2" "$_k3" || _failed=$((_failed + 1))
		echo "DMH-REL-PARTIAL replay_points=$_pts replay_failed=$_failed lost=$REPLAY_LOST case=$DMH_CASE"
	done < /tmp/points.k
	# Negative control: the state at the first flush after "ready",
	# verified as if all of vm1's flushes in the log had been replayed,
	# must show lost writes, or the verify proves nothing.
	# shellcheck disable=SC2046 # three numbers
	set -- $(_replay_ks 999999999)
	_kl=$1
	if [ "$_kl" -ge 0 ]; then
		dd if=/dev/zero of=/dev/mapper/rw bs=1M count=$(( $(mixed_disk_sectors) / 2048 )) \
			oflag=direct 2>/dev/null || fail "zero the replay disk"
		dmh-logreplay replay "$(disk log)" /dev/mapper/rw 0 "$(head -n1 /tmp/flushes)" ||
			fail "replay for the negative control"
		if ! { _replay_fresh && _replay_activate; }; then
			fail "activation for the negative control"
		fi
		# shellcheck disable=SC2086 # three nodes
		set -- $_vnodes
		if _replay_verify 1 "$1" "$_kl" >/tmp/v.out 2>&1; then
			not_ok "negative control: verify finds writes missing" "$(tail -n1 /tmp/v.out)"
		else
			ok "negative control: verify finds writes missing ($(tail -n1 /tmp/v.out | sed 's/.*\(lost [0-9]*\).*/\1/'))"
		fi
		_replay_deactivate
	else
		not_ok "negative control: vm1 has a completed flush in the log"
	fi
	_replay_unstack
	_replay_cs
	log "replay: done at $_cs cs"
	echo "DMH-REL replay_points=$_pts replay_failed=$_failed lost=$REPLAY_LOST case=$DMH_CASE"
	check "replay: $_pts points, every one clean, activates, verifies" test "$_failed" -eq 0
	check "replay: acknowledged writes lost = 0 (got $REPLAY_LOST)" test "$REPLAY_LOST" -eq 0
}
