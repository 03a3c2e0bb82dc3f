# SPDX-License-Identifier: GPL-2.0-only
# shellcheck shell=sh
#
# Guest-side fuzzer of dm-hybrid's table lines and pool messages (issue 7),
# sourced after guest.sh and hybrid.sh by the fuzz-* cases.
#
# fuzz_gen SEED N > FILE writes N cases, one per line:
#     <kind> <expect> <text...>
# kind:   msg     a pool message       (as dmsetup message pool 0 <text>)
#         vol     a volume table line  (as dmsetup create fz --table <text>)
#         pool    a pool table line on the scratch devices
#         reload  a table line loaded into the live pool (then cleared)
# expect: ok      must be accepted (and then is checked where it can be)
#         err     must be refused
#         any     either; a refusal must still change nothing
# Text is split into words (no globbing), never evaluated.  Note that
# device-mapper itself takes a backslash as an escape ("\x01" arrives as
# "x01").  Placeholders
# @M @S @H (the live pool's devices), @M2 @S2 @H2 (scratch devices), @LEN
# (the live pool's table length), @SLEN (scratch SSD + HDD) are replaced
# at run time.  The generator is awk with srand(SEED): the same SEED gives
# the same cases on every run.
#
# The live pool must have volumes 1 (size FZ_V1 sectors, with an active
# device) and 2, 3 (no device).  Migration stays off (no case turns it on),
# so that nothing but the cases changes the pool's status.  fuzz_run FILE runs the cases; it counts
# them in FUZZ_CASES and records a subtest for each failure (FUZZ_BAD).

# knob_col N: column N of the knob table (dmh-knobs, from DMH_KNOBS in
# dm-hybrid-format.h: name, min, max, ...), space-separated.
knob_col() {
	dmh-knobs | awk -v c="$1" '{ printf "%s%s", (NR > 1 ? " " : ""), $c }'
}

fuzz_gen() {
	awk -v seed="$1" -v n="$2" -v v1="${FZ_V1:-8192}" -v cs="${FZ_CS:-128}" \
	    -v knobs="$(knob_col 1)" -v kmins="$(knob_col 2)" -v kmaxs="$(knob_col 3)" '
	function pick(a, k) { return a[1 + int(rand() * k)] }
	function r(k) { return int(rand() * k) }
	function junk(   j) {
		j = r(24)
		if (j == 0) return "-1"
		if (j == 1) return "18446744073709551615"
		if (j == 2) return "18446744073709551616"
		if (j == 3) return "+5"
		if (j == 4) return "0x10"
		if (j == 5) return "1e3"
		if (j == 6) return "%s%s%n"
		if (j == 7) return "../../x"
		if (j == 8) return "4294967296"
		if (j == 9) return "4294967295"
		if (j == 10) return "16777215"
		if (j == 11) return "16777216"
		if (j == 12) return "2147483648"
		if (j == 13) return "9223372036854775807"
		if (j == 14) return "-"
		if (j == 15) return "00000000000000000000001"
		if (j == 16) return "SSD"
		if (j == 17) return "auto"
		if (j == 18) return "weight"
		if (j == 19) return "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"
		if (j == 20) return "0"
		if (j == 21) return "1"
		if (j == 22) return "*"
		return "\\x01"
	}
	# reset_limits(): cases that set both limits of volumes 1-3 to 0.
	function reset_limits(   v) {
		for (v = 1; v <= 3; v++) {
			print "msg", "ok", "set_volume " v " ssd_max 0"
			print "msg", "ok", "set_volume " v " ssd_min 0"
			mn[v] = 0; mx[v] = 0
		}
	}
	# mutate(s): drop, duplicate, swap or replace one word, or change case.
	function mutate(s,   w, k, i, j, t, o) {
		k = split(s, w, " ")
		j = r(5)
		i = 1 + r(k)
		if (j == 0 && k > 1) { w[i] = "" }
		else if (j == 1) { w[i] = w[i] " " w[i] }
		else if (j == 2 && k > 1) { t = 1 + r(k); o = w[i]; w[i] = w[t]; w[t] = o }
		else if (j == 3) { w[i] = junk() }
		else { w[i] = toupper(w[i]) }
		o = ""
		for (t = 1; t <= k; t++) if (w[t] != "") o = o (o == "" ? "" : " ") w[t]
		return o == "" ? "x" : o
	}
	BEGIN {
		srand(seed)
		split("16777216 -1 abc 0x10 18446744073709551616 1.5 \\x01", bid, " ")
		split("low normal high HIGH", pr, " ")
		split("0 1001 -5 4294967297 w", bw, " ")
		split("urgent 2 lowest -", bp, " ")
		split("12345 a/b a..b@@b?! bad*name " sprintf("%070d", 7) "x a,b", bn, " ")
		split("ssd hdd auto HDD", ti, " ")
		split("0 1025 -1 x", bb, " ")
		split("frobnicate|CREATE|create_volumes 5|x y z|pin|set", un, "|")
		split("0 100 96 262144 x 64 -128", bc, " ")
		nk = split(knobs, knob, " ")
		split(kmins, kmin, " ")
		split(kmaxs, kmax, " ")
		if (!nk) { print "fuzz_gen: dmh-knobs printed no knobs" | "cat 1>&2"; exit 1 }
		# The ssd_min <= ssd_max (0 = no cap) rule needs both values known.
		reset_limits()
		for (c = 0; c < n; c++) {
			kind = "msg"; e = "err"; t = ""; pv = 0
			g = r(100)
			if (g < 8) {			# create/delete of scratch ids: state decides
				t = (r(2) ? "create_volume " : "delete_volume ") (100 + r(4)); e = "any"
			} else if (g < 14) {		# bad ids
				t = (r(2) ? "create_volume " : "delete_volume ") pick(bid, 7)
			} else if (g < 24) {		# set_volume, valid unless min > max
				vid = 1 + r(3); k = r(5); e = "ok"
				if (k == 0) t = "set_volume " vid " weight " (1 + r(1000))
				else if (k == 1) { x = r(100000); t = "set_volume " vid " ssd_min " x
					if (mx[vid] && x > mx[vid]) e = "err"; else { pv = vid; pmn = x; pmx = mx[vid] } }
				else if (k == 2) { x = r(100000); t = "set_volume " vid " ssd_max " x
					if (x && mn[vid] > x) e = "err"; else { pv = vid; pmn = mn[vid]; pmx = x } }
				else if (k == 3) t = "set_volume " vid " priority " pick(pr, 4)
				else { t = "set_volume " vid " name vm" vid "-" r(1000); e = "any" }
			} else if (g < 34) {		# set_volume, invalid
				vid = 1 + r(3); k = r(9)
				if (k == 0) t = "set_volume " vid " weight " pick(bw, 5)
				else if (k == 1) t = "set_volume " vid " priority " pick(bp, 4)
				else if (k == 2) t = "set_volume " vid " colour 3"
				else if (k == 3) { x = 4 + r(1000); if (x >= 100) x += 4	# 100-103 may exist
					t = "set_volume " x " weight 50" }
				else if (k == 4) t = "set_volume " vid " name " pick(bn, 6)
				else if (k == 5) t = "set_volume " vid " ssd_min -1"
				else if (k == 6) t = "set_volume " vid " weight"
				else if (k == 7 && mx[vid]) t = "set_volume " vid " ssd_min " (mx[vid] + 1 + r(1000))
				else if (k == 7 && mn[vid] > 1) t = "set_volume " vid " ssd_max " (1 + r(mn[vid] - 1))
				else if (k == 7) t = "set_volume " vid " colour 3"
				else t = "set_volume " vid " ssd_max 18446744073709551616"
			} else if (g < 44) {		# pin, valid (volume 1 has a known size)
				# at most 8 ranges per volume: a random pin may not fit
				st = r(v1); ln = 1 + r(v1 - st)
				t = "pin 1 " st " " ln " " pick(ti, 4); e = "any"
				if (r(3) == 0) { t = "pin 1 0 " v1 " " (r(2) ? "auto" : "hdd"); e = "ok" }
			} else if (g < 54) {		# pin, invalid
				k = r(7)
				if (k == 0) t = "pin 1 0 0 ssd"
				else if (k == 1) t = "pin 1 " v1 " 1 ssd"
				else if (k == 2) t = "pin 1 0 " (v1 + 1) " hdd"
				else if (k == 3) t = "pin 1 18446744073709551615 2 ssd"
				else if (k == 4) t = "pin 1 255 18446744073709551490 ssd"	# wraps past 2^64
				else if (k == 5) t = "pin 1 0 8 nvme"
				else t = "pin 1 0 8"
			} else if (g < 62) {		# knobs
				i = 1 + r(nk)
				if (r(2)) { t = "set " knob[i] " " (kmin[i] + r(kmax[i] - kmin[i] + 1)); e = "ok"
					if (knob[i] == "tick_ms" && r(2)) t = "set tick_ms " (10 + r(2000))
				} else {
					k = r(5)
					if (k == 0 && kmin[i] > 0) t = "set " knob[i] " " (kmin[i] - 1)
					else if (k == 1) t = "set " knob[i] " " (kmax[i] + 1 + r(10))
					else if (k == 2) t = "set " toupper(knob[i]) " 5"
					else if (k == 3) t = "set no_such_knob 1"
					else t = "set " knob[i] " " junk()
					if (t ~ / (0|1|16777215|16777216|4294967295|2147483648|SSD|on|weight|-|00000000000000000000001|4294967296|\+5)$/) e = "any"
					if (k == 0 && kmin[i] == 0) e = "any"
				}
			} else if (g < 66) {		# migration
				k = r(4)
				if (k == 0) { t = "migration off"; e = "ok" }	# never on: see fuzz_run
				else if (k == 1) { t = "migration OFF"; e = "ok" }
				else if (k == 2) t = "migration maybe"
				else t = "migration"
			} else if (g < 72) {		# read-only messages
				k = r(5)
				if (k == 0) { t = "placement_map 1"; e = "ok" }
				else if (k == 1) { t = "placement_map 1 " (1 + r(v1 / cs)); e = "ok" }
				else if (k == 2) t = "placement_map 1 " pick(bb, 4)
				else if (k == 3) { t = "list_volumes"; e = "ok" }
				else t = "list_volumes 1"
			} else if (g < 76) {		# unknown or empty-ish messages
				t = pick(un, 6)
			} else if (g < 84) {		# volume table lines
				kind = "vol"; k = r(8)
				if (k == 0) { t = "0 4096 hybrid /dev/mapper/pool " (2 + r(2)); e = "ok" }
				else if (k == 1) t = "0 4096 hybrid /dev/mapper/pool"
				else if (k == 2) t = "0 4096 hybrid /dev/mapper/pool 2 3"
				else if (k == 3) t = "0 4096 hybrid @S 2"
				else if (k == 4) t = "0 4096 hybrid /dev/mapper/pool " pick(bid, 7)
				else if (k == 5) t = "0 4096 hybrid /dev/nonexistent 2"
				else if (k == 6) t = "0 4096 hybrid /dev/mapper/pool 55"
				else { t = mutate("0 4096 hybrid /dev/mapper/pool 2"); e = "any" }
			} else if (g < 92) {		# pool table lines on the scratch devices
				kind = "pool"; k = r(9)
				ch = 128; for (i = r(8); i > 0; i--) ch *= 2
				if (k == 0) { t = "0 @SLEN hybrid-pool @M2 @S2 @H2 " ch; e = "ok" }
				else if (k == 1) { t = "0 @SLEN hybrid-pool @M2 @S2 @H2 " ch " 2 error_if_no_space no_discard_passdown"; e = "ok" }
				else if (k == 2) t = "0 @SLEN hybrid-pool @M2 @S2 @H2 " pick(bc, 7)
				else if (k == 3) t = "0 @SLEN hybrid-pool @M2 @S2 @S2 " ch
				else if (k == 4) t = "0 @SLEN hybrid-pool @M2 @S2 @H2 " ch " 1 read_only"
				else if (k == 5) t = "0 @SLEN hybrid-pool @M2 @S2 @H2 " ch " 2 bogus"
				else if (k == 6) t = "0 @SLEN hybrid-pool @M @S2 @H2 " ch
				else if (k == 7) t = "0 @SLEN hybrid-pool @M2 @S2 " ch
				else { t = mutate("0 @SLEN hybrid-pool @M2 @S2 @H2 " ch " 1 error_if_no_space"); e = "any" }
			} else {			# reloads of the live pool (then cleared)
				kind = "reload"; k = r(5)
				if (k == 0) { t = "0 @LEN hybrid-pool @M @S @H " cs; e = "ok" }
				else if (k == 1) { t = "0 @LEN hybrid-pool @M @S @H " cs " 1 no_discard_passdown"; e = "ok" }
				else if (k == 2) t = "0 @LEN hybrid-pool @M @S @H " (cs * 2)
				else if (k == 3) t = "0 @LEN hybrid-pool @M2 @S @H " cs
				else { t = mutate("0 @LEN hybrid-pool @M @S @H " cs " 1 error_if_no_space"); e = "any" }
			}
			if (kind == "msg" && r(10) == 0) { t = mutate(t); e = "any"; pv = 0 }
			print kind, e, t
			if (pv) { mn[pv] = pmn; mx[pv] = pmx }
			# A mutation may still set a limit: re-establish known values.
			if (e == "any" && toupper(t) ~ /SSD_M(IN|AX)/) reset_limits()
		}
	}
	'
}

# fuzz_run FILE: needs M S H M2 S2 H2 (devices) set.  The cases run in one
# process, dmh-fuzz (tests/tools/dmh-fuzz.c: dm ioctls, no dmsetup; about
# 0.03-0.07 s a case on the debug kernel instead of 1.1-1.3 s with a
# dmsetup run or three per case), each kind meaning what it meant with
# dmsetup.  Its oracle: ok accepted, err refused; a refused
# case leaves every dm device (dev_t, flags, open count, status and table
# lines, so the pool's txid) and the volume list as they were; an
# accepted vol has the asked length and an accepted pool is rw, both
# removable; the live pool stays rw.  Each failure is one subtest (the
# first 30; the rest only count).
FUZZ_CASES=0
FUZZ_BAD=0
fuzz_run() {
	_len=$(dmsetup table pool | cut -d' ' -f2)
	_slen=$(($(sectors "$S2") + $(sectors "$H2")))
	sed "s#@SLEN#$_slen#g; s#@LEN#$_len#g; s#@M2#$M2#g; s#@S2#$S2#g; s#@H2#$H2#g; s#@M#$M#g; s#@S#$S#g; s#@H#$H#g" \
		"$1" > /tmp/fz.cases
	_rc=0
	dmh-fuzz -o /tmp/fz.res -z "$M2" -c /tmp/fz.cur -p "${DMH_CASE:-fuzz}" /tmp/fz.cases || _rc=$?
	_end=""
	while IFS='	' read -r _tag _n _what _why; do
		case $_tag in
		bad)
			FUZZ_BAD=$((FUZZ_BAD + 1))
			if [ $FUZZ_BAD -le 30 ]; then
				not_ok "fuzz case $_n: $_what" "$_why"
			else
				echo "fuzz case $_n: $_why" >> "$DMH_NOTOK_FILE"
			fi ;;
		end)
			_end=$_n
			[ "$_what" = "$FUZZ_BAD" ] || not_ok "dmh-fuzz counted $_what failures" "the result file has $FUZZ_BAD" ;;
		esac
	done < /tmp/fz.res
	if [ -n "$_end" ]; then
		FUZZ_CASES=$_end
		[ "$_rc" -le 1 ] || not_ok "dmh-fuzz ended with status $_rc"
	else
		FUZZ_CASES=$(cat /tmp/fz.cur 2>/dev/null || echo 0)
		FUZZ_BAD=$((FUZZ_BAD + 1))
		not_ok "dmh-fuzz stopped (status $_rc) in case $FUZZ_CASES" \
			"$(sed -n "$((FUZZ_CASES > 0 ? FUZZ_CASES : 1))p" /tmp/fz.cases)"
	fi
	return 0
}
