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
# Prints "DMH-REL replay_points=N replay_failed=N lost=N" at the end
# (tests/reliability-report.sh sums them).

_replay_k() {	# _replay_k P TAG: flush op of TAG's last mark before entry P
	awk -v p="$1" -v t="st.$2." '$1 < p && $2 ~ /M/ && index($5, t) == 1 {
		k = substr($5, length(t) + 1) } END { print (k == "" ? -1 : k) }' /tmp/log.txt
}

# _replay_check P: check the replayed state of entries 0..P-1 (on rep).
# The offline check reads the metadata slice of rep itself (rm; nothing
# writes rep until the next replay step), in the
# background while the pool is activated on a snapshot of rep and the
# three volumes are verified in parallel.
_replay_check() {
	_p=$1 _bad="" _t0=$(uptime_cs)
	_rc=0
	make_linear rm "$(disk rep)" "$MIXED_META" 0 >/dev/null || { echo "point $_p: rm failed"; return 1; }
	hybrid_check /dev/mapper/rm >/tmp/chk 2>&1 &
	_chk=$!
	if ! dmsetup create snap --table "0 $(sectors "$(disk rep)") snapshot $(disk rep) $(disk cow) N 8"; then
		wait $_chk || true
		echo "point $_p: snapshot failed"
		return 1
	fi
	dmsetup mknodes snap
	mixed_slices /dev/mapper/snap || { _bad="slices"; }
	_t1=$(uptime_cs) _t2=$_t1
	if make_pool pool "$MIXED_CHUNK" >/tmp/act 2>&1; then
		dmsetup message pool 0 migration off || _bad="$_bad migration-off"
		if _replay_volumes >/tmp/act 2>&1; then
			_t2=$(uptime_cs)
			_vp=""
			for _v in 1 2 3; do
				mixed_verify $_v "$(_replay_k "$_p" "$(mixed_tag $_v)")" >/tmp/v$_v.out 2>&1 &
				_vp="$_vp $!"
			done
			_v=1
			for _pid in $_vp; do
				if ! wait "$_pid"; then
					cat /tmp/v$_v.out
					_bad="$_bad vm$_v"
				fi
				_n=$(sed -n 's/.* lost \([0-9]*\) .*/\1/p' /tmp/v$_v.out | tail -n1)
				REPLAY_LOST=$((REPLAY_LOST + ${_n:-0}))
				_v=$((_v + 1))
			done
		else
			cat /tmp/act
			_bad="$_bad volumes"
		fi
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
	# rep must have no holder when the next step replays onto it.
	for _d in vm1 vm2 vm3 pool hm hs hh snap rm; do
		dmsetup remove $_d 2>/dev/null || true
	done
	if [ -n "$_bad" ]; then
		echo "dmh: replay point $_p (entry $(sed -n "$_p"p /tmp/log.txt)): FAILED:$_bad"
		return 1
	fi
	echo "dmh: replay point $_p ok (activate $((_t2 - _t1)) all $(($(uptime_cs) - _t0)) cs)"
	return 0
}

# The volumes exist in every replayed state (created before "ready"): map
# them without create_volume, which would try to commit.
_replay_volumes() {
	_i=1
	for _s in $MIXED_VSIZE; do
		dmsetup create vm$_i --table "0 $_s hybrid /dev/mapper/pool $_i" || return 1
		dmsetup mknodes vm$_i
		_i=$((_i + 1))
	done
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
	mixed_start lw
	sleep "$_secs"
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
	_prev=$((_ready + 1)) _pts=0 _failed=0
	while read -r _p; do
		dmh-logreplay replay "$(disk log)" "$(disk rep)" "$_prev" "$_p" || fail "replay to $_p"
		_prev=$_p
		_pts=$((_pts + 1))
		_replay_check "$_p" || _failed=$((_failed + 1))
	done < /tmp/points.s
	# Negative control: the state at the first flush after "ready",
	# verified as if all of vm1's flushes in the log had been replayed,
	# must show lost writes, or the verify proves nothing.
	_kl=$(_replay_k 999999999 "$(mixed_tag 1)")
	if [ "$_kl" -ge 0 ]; then
		dd if=/dev/zero of="$(disk rep)" bs=1M count=$(( $(mixed_disk_sectors) / 2048 )) \
			oflag=direct 2>/dev/null || fail "zero the replay disk"
		dmh-logreplay replay "$(disk log)" "$(disk rep)" 0 "$(head -n1 /tmp/flushes)" ||
			fail "replay for the negative control"
		dmsetup create snap --table "0 $(sectors "$(disk rep)") snapshot $(disk rep) $(disk cow) N 8" &&
			dmsetup mknodes snap && mixed_slices /dev/mapper/snap && make_pool pool "$MIXED_CHUNK" &&
			_replay_volumes || fail "activation for the negative control"
		dmsetup message pool 0 migration off
		if mixed_verify 1 "$_kl" >/tmp/v.out 2>&1; then
			not_ok "negative control: verify finds writes missing" "$(tail -n1 /tmp/v.out)"
		else
			ok "negative control: verify finds writes missing ($(tail -n1 /tmp/v.out | sed 's/.*\(lost [0-9]*\).*/\1/'))"
		fi
		for _d in vm1 vm2 vm3 pool hm hs hh snap; do dmsetup remove $_d 2>/dev/null || true; done
	fi
	echo "DMH-REL replay_points=$_pts replay_failed=$_failed lost=$REPLAY_LOST case=$DMH_CASE"
	check "replay: $_pts points, every one clean, activates, verifies" test "$_failed" -eq 0
	check "replay: acknowledged writes lost = 0 (got $REPLAY_LOST)" test "$REPLAY_LOST" -eq 0
}
