#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-only
#
# The benchmark suite (make bench / make bench-quick):
#   bench/run.sh quick|full|smoke, or BENCH_OUT=DIR bench/run.sh report
# 1. converts every trace of ../shared/traces (or BENCH_TRACES=DIR) whole
#    into fio iologs, each also cut in tenths (bench/trace2iolog.py; the
#    traces are only read), prints their reuse profiles (bench/sim) and
#    writes the run's config;
# 2. boots the bench cases on the stock kernel, one VM at a time:
#    bench-calib (device calibration), bench-setups (set-ups side by side),
#    bench-datapath (dm-hybrid on SSD vs dm-linear), bench-scale (a
#    64 TiB + 4 TiB pool on dm-zero);
# 3. writes bench/results/<UTC date>-<mode>/report.md with their tables,
#    the execution times normalised to SSD only and the paper's figures,
#    and results.tsv (one row per workload, VMs, SSD %, pass and set-up).
# Nothing here asserts performance: a case fails only if a run broke.
set -euo pipefail

TOP=$(cd "$(dirname "$0")/.." && pwd)
MODE=${1:-quick}
TRACES=${BENCH_TRACES:-${DMH_TRACES:-$TOP/../shared/traces}}
OUT=${BENCH_OUT:-$TOP/bench/results/$(date -u +%Y%m%d-%H%M)-$MODE}
# This run's iologs and config (baked into the initramfs): one directory
# per run, so that two runs (e.g. another one narrowed with BENCH_*) do
# not replace each other's config.
DATA=$TOP/tests/.build/bench-data-$$
# The cases' logs and disks: this run's own (tests/run's DMH_LOGS and
# DMH_WORK), so that another bench run of the same case cannot remove
# them mid-run; the logs stay for a look after the run.
RUNLOGS=$TOP/tests/logs-bench/$(basename "$OUT")

# rows CASE: the case's DMH-BENCH lines, from the copy this run kept in
# OUT (CASE.txt); only "report" (rebuilding an older run's report) falls
# back on the case's last log (the run's own, else tests/logs').
rows() {
	local log=$RUNLOGS/debian/$1/boot1.log
	[ -f "$log" ] || log=$TOP/tests/logs/debian/$1/boot1.log
	if [ -f "$OUT/$1.txt" ]; then
		sed -n '1s/^# /(/p' "$OUT/$1.txt" | sed 's/$/)/'
		echo
		sed -n 's/^DMH-BENCH //p' "$OUT/$1.txt"
		return
	fi
	[ "$MODE" = report ] && [ -f "$log" ] || { echo "(not run)"; return; }
	echo "(log ${log#"$TOP"/}, $(date -u -r "$log" '+%H:%M UTC'))"
	echo
	tr -d '\r' < "$log" | sed -n 's/^DMH-BENCH //p'
}

report() {
	results_tsv > "$OUT/results.tsv"
	{
		echo "# dm-hybrid benchmark, $MODE run, $(date -u '+%Y-%m-%d %H:%M UTC')"
		echo
		echo "Emulated devices under QEMU TCG (one vCPU, -icount ${BENCH_ICOUNT:-shift=1, sleep=off for calib/set-ups}) on a 2-core"
		echo "host shared with other VMs (load average at the end: $(cut -d' ' -f1-3 /proc/loadavg))."
		echo "Absolute figures are emulation figures, not hardware; compare only ratios from one run."
		cat "$OUT/commit" 2>/dev/null ||
			echo "Commit $(git -C "$TOP" rev-parse --short HEAD) (when the report was written)."
		[ -s "$OUT/times.txt" ] && { echo; echo "Wall time on the host:"; echo; cat "$OUT/times.txt"; }
		echo
		headline
		mixed_headline
		echo
		echo "## Traces (compacted, see bench/trace2iolog.py)"
		echo
		echo '```'
		cat "$OUT/traces.txt" 2>/dev/null || echo "(no traces.txt)"
		echo '```'
		echo
		echo "## Reuse profile of each whole trace (bench/sim, 4 KiB blocks, one pass)"
		echo
		echo '```'
		cat "$OUT/reuse.txt" 2>/dev/null || echo "(no reuse.txt)"
		echo '```'
		echo
		echo "## Calibration (bench-calib)"
		echo
		rows bench-calib
		echo
		echo "## Set-ups (bench-setups)"
		echo
		rows bench-setups | mixed_table
		echo
		echo "## Normalised execution time (set-up / SSD only, same workload, VMs and pass)"
		echo
		echo "Paper (figures 5-8): SSD only was 2.2x faster than its 50/50 hybrid on web search"
		echo "and 1.3x on OLTP, i.e. hybrid/SSD = 2.2 and 1.3.  Pass 1 is cold (data on the HDD),"
		echo "the last warm; SSD % = each VM's SSD share as % of its workload's 4 KiB footprint."
		echo
		norm_rows | awk '
			{ k = $1 "|" $2 "|" $3 "|" $4; K[k] = 1; T[k, $5] = $6
			  if (!($5 in O)) { O[$5] = ++ns; L[ns] = $5 } }
			END {
				printf "0| workload | VMs | pass | SSD %% |"
				for (i = 1; i <= ns; i++) printf " %s |", L[i]
				printf "\n0|---|---|---|---|"
				for (i = 1; i <= ns; i++) printf "---|"
				printf "\n"
				for (k in K) {
					split(k, a, "|")
					printf "1| %s | %s | %s | %s |", a[1], a[2], a[3], a[4]
					for (i = 1; i <= ns; i++)
							printf " %s |", (((k SUBSEP L[i]) in T) && T[k, L[i]] != "-") ? sprintf("%.2f", T[k, L[i]]) : "-"
					printf "\n"
				}
			}' | sort | cut -c2-
		echo
		warm_table
		echo
		echo "## Data path: dm-hybrid all on SSD vs dm-linear (bench-datapath)"
		echo
		rows bench-datapath
		echo
		echo "## Scale: 64 TiB HDD + 4 TiB SSD on dm-zero (bench-scale)"
		echo
		rows bench-scale
	} > "$OUT/report.md"
}

# headline: the report's first table (issue 18 item 9), from results.tsv:
# per workload, VM count and SSD %, each set-up's time / SSD only, cold and
# warm; the best peer (warm); dm-hybrid's warm SSD hit % beside the
# placement lab's for the same trace and SSD % (dm-hybrid's own policy and
# the chunk optimum, from the run's sim.tsv when it has one); the paper's
# figure (its 50/50 hybrid / SSD only: web search 2.2, OLTP 1.3).
headline() {
	local tsv=$OUT/results.tsv sim=$OUT/sim.tsv tr=$OUT/traces.txt
	[ "$(wc -l < "$tsv" 2>/dev/null || echo 0)" -gt 1 ] || { echo "(no results.tsv rows)"; return; }
	[ -s "$sim" ] || sim=/dev/null
	[ -s "$tr" ] || tr=/dev/null
	echo "## Headline: set-up / SSD only, cold / warm pass"
	echo
	echo "Exec time over SSD only's in the same boot (lower is better; 1.00 = SSD speed), pass 1"
	echo "(cold: data on the HDD) / last pass (warm).  SSD % = each VM's SSD share as % of its"
	echo "workload's 4 KiB footprint.  Best peer: the fastest other tiering set-up, warm."
	echo "Hit %: dm-hybrid's warm SSD hit % in the VM / the placement lab's for the same trace and"
	echo "SSD % (one volume, 1 MiB chunks: dm-hybrid's own policy / the chunk optimum, sim.tsv)."
	echo "Paper: its 50/50 hybrid / SSD only (figures 5-8)."
	echo
	awk -F'\t' -v trf="$tr" -v simf="$sim" '
		BEGIN {
			while ((getline l < trf) > 0) { split(l, a, " "); TR[a[1]] = a[2] }
			while ((getline l < simf) > 0) { split(l, a, "\t"); LAB[a[1], a[2], a[3]] = a[4] }
			n = split("hdd hybrid hybrid-256k hybrid-nomig dmcache bcache writeboost", L, " ")
			for (i = 1; i <= n; i++) O[L[i]] = i
			PAPER["websearch"] = "2.2"; PAPER["oltp"] = "1.3"
		}
		FNR == 1 { next }
		{
			k = $1 SUBSEP $2 SUBSEP $3
			if (!(k in K)) { K[k] = 1; KL[++nk] = k; if (!($1 in W)) W[$1] = ++nw }
			R[k, $5, $4] = $6; H[k, $5, $4] = $7
			if ($5 != "ssd" && !($5 in O)) { O[$5] = ++n; L[n] = $5 }
			if ($5 != "ssd") U[$5] = 1
		}
		function f(x) { return (x == "" || x == "-") ? "-" : sprintf("%.2f", x) }
		function lab(w, p, pol,   x) {
			x = LAB[TR[w], p, pol]
			return x == "" ? "-" : sprintf("%.0f", x)
		}
		END {
			printf "0|| workload | VMs | SSD %% |"
			for (i = 1; i <= n; i++) if (L[i] in U) printf " %s |", L[i]
			printf " best peer | hit %%: dm-hybrid / lab / optimum | paper |\n0||---|---|---|"
			for (i = 1; i <= n; i++) if (L[i] in U) printf "---|"
			printf "---|---|---|\n"
			for (j = 1; j <= nk; j++) {
				k = KL[j]; split(k, a, SUBSEP)
				printf "%d %d %s|| %s | %s | %s |", W[a[1]], a[2], a[3], a[1], a[2], a[3]
				best = ""
				for (i = 1; i <= n; i++) {
					s = L[i]
					if (!(s in U)) continue
					printf " %s / %s |", f(R[k, s, "cold"]), f(R[k, s, "warm"])
					x = R[k, s, "warm"]
					if (s ~ /^(hdd|hybrid.*)$/ || x == "" || x == "-") continue
					if (best == "" || x + 0 < bx + 0) { best = s; bx = x }
				}
				h = H[k, "hybrid", "warm"]
				printf " %s | %s / %s / %s | %s |\n", best == "" ? "-" : best " " f(bx),
					(h == "" ? "-" : h), lab(a[1], a[3], "dm-hybrid"), lab(a[1], a[3], "optimum"),
					(a[1] in PAPER) ? PAPER[a[1]] : "-"
			}
		}' "$tsv" | sort -t'|' -k1,1V | sed 's/^[^|]*||/|/'
}

# norm_rows: bench-setups' rows normalised to SSD only in the same boot,
# "workload VMs pass ssd_pct set-up time/SSD hit% p99us" ("-" where there
# is none); SSD and HDD only, which have no SSD share, once per SSD % of
# the others ("-" in rows from before BENCH_SSD_PCT); p99 = the highest
# of the VMs' read and write p99.
AWK_P99='
		function p99(s,   a, n, i, m, x) {
			n = split(s, a, /[ ,]/); m = -1
			for (i = 1; i <= n; i++) {
				x = a[i]; sub(/^[0-9]*\//, "", x)
				if (x ~ /^[0-9]+[rw]$/ && x + 0 > m) m = x + 0
			}
			return m < 0 ? "-" : m
		}'
norm_rows() {
	rows bench-setups | awk -F'|' "$AWK_P99"'
		/^\| *[a-z]/ && NF >= 13 && $5 + 0 > 0 {
			for (i = 2; i < NF; i++) gsub(/^ +| +$/, "", $i)
			pc = (NF >= 19 && $14 != "") ? $14 : "-"
			b = $2 " " $3 " " $5
			if (!(b in B)) { B[b] = 1; BL[++nb] = b }
			T[b, $4, pc] = $6; H[b, $4, pc] = $10; L[b, $4, pc] = $9
			if (!((b, $4) in S)) { S[b, $4] = 1; SL[b] = SL[b] " " $4 }
			if (pc != "-" && !((b, pc) in P)) { P[b, pc] = 1; PL[b] = PL[b] " " pc }
		}
		END {
			# SSD only may have run one pass (SSD_PASSES=1: it keeps
			# no state between passes): that pass is the baseline of
			# every pass, and its row stands for the later passes too
			for (k = 1; k <= nb; k++) {
				b = BL[k]; b1 = b; sub(/ [0-9]+$/, " 1", b1)
				if ((b, "ssd", "-") in T || !((b1, "ssd", "-") in T)) continue
				T[b, "ssd", "-"] = T[b1, "ssd", "-"]; L[b, "ssd", "-"] = L[b1, "ssd", "-"]
				H[b, "ssd", "-"] = "-"; SL[b] = " ssd" SL[b]
			}
			for (k = 1; k <= nb; k++) {
				b = BL[k]; base = T[b, "ssd", "-"]
				np = split(PL[b] == "" ? "-" : PL[b], pcs, " ")
				ns = split(SL[b], sus, " ")
				for (j = 1; j <= np; j++)
					for (i = 1; i <= ns; i++) {
						q = ((b SUBSEP sus[i] SUBSEP pcs[j]) in T) ? pcs[j] : "-"
						if (!((b, sus[i], q) in T)) continue
						h = H[b, sus[i], q]; sub(/%$/, "", h)
						r = (base > 0) ? sprintf("%.6f", T[b, sus[i], q] / base) : "-"
						printf "%s %s %s %s %s %s\n", b, pcs[j], sus[i], r,
							(h == "") ? "-" : h, p99(L[b, sus[i], q])
					}
			}
		}'
}

# norm_tsv: "workload VMs set-up time/SSD ssd_pct" for the last (warmest)
# pass of every workload and VM count.
norm_tsv() {
	norm_rows | awk '{ k = $1 " " $2; if ($3 + 0 > P[k] + 0) P[k] = $3; R[NR] = $0 }
		END { for (i = 1; i <= NR; i++) { split(R[i], a, " ")
			if (a[3] == P[a[1] " " a[2]] && a[6] != "-")
				printf "%s %s %s %.3f %s\n", a[1], a[2], a[5], a[6], a[4] } }' |
		sort -k1,1 -k2,2n
}

# results_tsv: results.tsv, the contract of issue 18 (columns are appended,
# never renamed or reordered): pass 1 is "cold", the last pass "warm".
results_tsv() {
	printf 'workload\tvms\tssd_pct\tpass\tsetup\tratio_to_ssd\thit_pct\tp99_us\n'
	norm_rows | awk '{ k = $1 " " $2; if ($3 + 0 > P[k] + 0) P[k] = $3; R[NR] = $0 }
		END { for (i = 1; i <= NR; i++) { split(R[i], a, " ")
			ps = (a[3] == 1) ? "cold" : (a[3] == P[a[1] " " a[2]]) ? "warm" : ""
			r = (a[6] == "-") ? "-" : sprintf("%.3f", a[6])
			if (ps != "") printf "%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\n",
				a[1], a[2], a[4], ps, a[5], r, a[7], a[8] } }'
	mixed_rows | awk '{ printf "%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\n", $1, $2, $3, $4, $5, $6, $7, $8 }'
}

# mixed_rows: the mixed tenants' per-VM rows (bench-setups' "mixed-vm"
# lines) normalised to the same VM under SSD only in the same boot (its
# pass 1 where SSD only ran one), pass 1 "cold" and the last "warm":
# "workload VMs ssd_pct pass set-up time/SSD hit% p99us VM its-workload
# p99/SSD-p99".  The workload is mixed-<the VM's workload>, and
# mixed-<workload>-vm<K> for a later VM with the same workload (8 VMs run
# the mix twice); SSD only's rows once per SSD % of the others.
mixed_rows() {
	rows bench-setups | awk -F'|' "$AWK_P99"'
		function nm(n, v, w) { return F[n, w] == v ? "mixed-" w : "mixed-" w "-vm" v }
		function ps(n, p) { return p == 1 ? "cold" : p == P[n] ? "warm" : "" }
		function out(n, v, w, pc, q, su, r, h, l, pr) {
			printf "%s %s %s %s %s %s %s %s %s %s %s\n", nm(n, v, w), n, pc, q, su, r, h, l, v, w, pr
		}
		/^mixed-vm \|/ && NF >= 11 {
			for (i = 2; i < NF; i++) gsub(/^ +| +$/, "", $i)
			n = $3; v = $6 + 0; w = $2
			if (!((n, w) in F) || v < F[n, w]) F[n, w] = v
			if ($5 + 0 > P[n] + 0) P[n] = $5 + 0
			if ($4 == "ssd") {
				T0[n, v, $5] = $7; L0[n, v, $5] = p99($8)
				if ($5 == 1) { ns++; SN[ns] = n; SV[ns] = v; SW[ns] = w }
				next
			}
			nr++; RN[nr] = n; RV[nr] = v; RW[nr] = w; RU[nr] = $4; RP[nr] = $5
			RT[nr] = $7; RL[nr] = p99($8); RH[nr] = $9; RC[nr] = $10
			sub(/%$/, "", RH[nr])
			if (RH[nr] == "") RH[nr] = "-"
			if (!((n, $10) in C)) { C[n, $10] = 1; CL[n] = CL[n] " " $10 }
		}
		END {
			for (k = 1; k <= ns; k++) {
				n = SN[k]; v = SV[k]; l = L0[n, v, 1]
				m = split(CL[n] == "" ? "-" : CL[n], pcs, " ")
				for (j = 1; j <= m; j++) {
					out(n, v, SW[k], pcs[j], "cold", "ssd", "1.000", "-", l, "1.000")
					if (P[n] > 1) out(n, v, SW[k], pcs[j], "warm", "ssd", "1.000", "-", l, "1.000")
				}
			}
			for (k = 1; k <= nr; k++) {
				n = RN[k]; v = RV[k]; q = ps(n, RP[k])
				if (q == "") continue
				b = ((n, v, RP[k]) in T0) ? RP[k] : 1
				t = T0[n, v, b] + 0; l = L0[n, v, b] + 0
				out(n, v, RW[k], RC[k], q, RU[k], t > 0 ? sprintf("%.3f", RT[k] / t) : "-", RH[k],
					RL[k], (l > 0 && RL[k] != "-") ? sprintf("%.3f", RL[k] / l) : "-")
			}
		}'
}

# mixed_table: the rows on stdin, with bench-setups' per-VM rows of the
# mixed tenants moved out of the main table into their own after it.
mixed_table() {
	awk '/^mixed-vm \|/ { sub(/^mixed-vm /, ""); m[++n] = $0; next } { print }
		END {
			if (!n) exit
			print ""
			print "Mixed tenants, one row per VM (its own workload; SSD % of the mix'"'"'s mean 4 KiB footprint):"
			print ""
			print "| workload | VMs | set-up | pass | VM | exec time ms | p50/p99 us | SSD hit | SSD % of 4K footprint (asked) | SSD MiB per VM | SSD / 4K footprint % | SSD / chunk footprint % |"
			print "|---|---|---|---|---|---|---|---|---|---|---|---|"
			for (i = 1; i <= n; i++) print m[i]
		}'
}

# mixed_headline: issue 18 item 4's table from mixed_rows: per VM count,
# SSD % and VM, each set-up's time / the VM's own SSD-only time, cold /
# warm; the best peer (warm); the best dm-hybrid set-up over it; Jain's
# index of the VMs' speeds (SSD-only time / time) per set-up; then each
# VM's p99 over its SSD-only p99, warm (issue 21: the OLTP VM at priority
# high <= 1.5).
mixed_headline() {
	local m
	m=$(mixed_rows)
	[ -n "$m" ] || return 0
	echo
	echo "## Headline: mixed tenants, each VM's time / its time under SSD only"
	echo
	echo "VM K runs the K-th workload of the mix at once with the others (one dm-hybrid pool or"
	echo "bcache cache set for all; dm-cache one cache each), SSD % of the mix's mean 4 KiB"
	echo "footprint per VM.  Cold / warm pass; best peer: the fastest other tiering set-up, warm;"
	echo "hybrid / peer: the best dm-hybrid set-up's warm time over the best peer's (issue 21: <= 1)."
	echo "Jain: Jain's index of the VMs' speeds (SSD-only time / time), cold / warm."
	echo
	echo "$m" | awk '
		function f(x) { return (x == "" || x == "-") ? "-" : sprintf("%.2f", x) }
		function jain(g, s, q,   i, x, a, b, c) {
			a = 0; b = 0; c = 0
			for (i = 1; i <= NV[g]; i++) {
				x = R[g, VL[g, i], s, q]
				if (x == "" || x == "-" || x <= 0) return "-"
				a += 1 / x; b += 1 / (x * x); c++
			}
			return c ? sprintf("%.3f", a * a / (c * b)) : "-"
		}
		{
			g = $2 SUBSEP $3
			if (!(g in G)) { G[g] = 1; GL[++ng] = g }
			if (!((g, $9) in V)) { V[g, $9] = $10; VL[g, ++NV[g]] = $9 }
			if ($5 != "ssd" && !($5 in O)) { O[$5] = ++ns; L[ns] = $5 }
			R[g, $9, $5, $4] = $6; Q[g, $9, $5, $4] = $11
		}
		END {
			printf "| VMs | SSD %% | VM | workload |"
			for (i = 1; i <= ns; i++) printf " %s |", L[i]
			printf " best peer | hybrid / peer |\n|---|---|---|---|"
			for (i = 1; i <= ns; i++) printf "---|"
			printf "---|---|\n"
			for (j = 1; j <= ng; j++) {
				g = GL[j]; split(g, a, SUBSEP)
				for (k = 1; k <= NV[g]; k++) {
					v = VL[g, k]; bp = ""; bh = ""
					printf "| %s | %s | %s | %s |", a[1], a[2], v, V[g, v]
					for (i = 1; i <= ns; i++) {
						s = L[i]; x = R[g, v, s, "warm"]
						printf " %s / %s |", f(R[g, v, s, "cold"]), f(x)
						if (x == "" || x == "-") continue
						if (s ~ /^hybrid/) { if (bh == "" || x + 0 < bh + 0) bh = x }
						else if (s != "hdd" && (bp == "" || x + 0 < bx + 0)) { bp = s; bx = x }
					}
					printf " %s | %s |\n", bp == "" ? "-" : bp " " f(bx),
						(bp == "" || bh == "") ? "-" : sprintf("%.2f", bh / bx)
				}
				printf "| %s | %s | Jain | |", a[1], a[2]
				for (i = 1; i <= ns; i++) printf " %s / %s |", jain(g, L[i], "cold"), jain(g, L[i], "warm")
				printf " | |\n"
			}
			printf "\nEach VM'"'"'s p99 (the higher of read and write) over its SSD-only p99, warm:\n\n"
			printf "| VMs | SSD %% | VM | workload |"
			for (i = 1; i <= ns; i++) printf " %s |", L[i]
			printf "\n|---|---|---|---|"
			for (i = 1; i <= ns; i++) printf "---|"
			printf "\n"
			for (j = 1; j <= ng; j++) {
				g = GL[j]; split(g, a, SUBSEP)
				for (k = 1; k <= NV[g]; k++) {
					v = VL[g, k]
					printf "| %s | %s | %s | %s |", a[1], a[2], v, V[g, v]
					for (i = 1; i <= ns; i++) printf " %s |", f(Q[g, v, L[i], "warm"])
					printf "\n"
				}
			}
		}'
}

# warm_table: the last pass normalised to SSD only, the paper's figure
# beside (its hybrid was 2.2x slower than SSD only on web search and 1.3x
# on OLTP), and one PNG per workload (time/SSD vs VMs, one line per set-up).
warm_table() {
	local tsv=$OUT/normalised.tsv wl su
	norm_tsv > "$tsv"
	[ -s "$tsv" ] || { echo "(no bench-setups rows)"; return; }
	echo "## Normalised execution time, last (warm) pass: set-up / SSD only"
	echo
	echo "Paper (figures 5-8, its 50/50 hybrid / SSD only): web search 2.2, OLTP 1.3 (1 to 4 VMs)."
	echo "Here: dm-hybrid = the 'hybrid' column (1 MiB chunks), 'hybrid-256k' the same pool"
	echo "with 256 KiB chunks; every set-up with each VM's SSD share at 'SSD %' of its"
	echo "workload's 4 KiB footprint (the paper's hybrid: SSD = 50 % of the volumes)."
	echo "results.tsv has these rows, the cold ones, hit ratios and p99."
	echo
	awk 'BEGIN { n = split("hdd ssd hybrid hybrid-256k hybrid-nomig dmcache bcache writeboost", L, " ")
			for (i = 1; i <= n; i++) O[L[i]] = i }
		{ k = $1 " " $2 " " $5; K[k] = 1; V[k, $3] = $4; if (!($3 in O)) { O[$3] = ++n; L[n] = $3 } }
		END {
			printf "0 0 0 0| workload | VMs | SSD %% |"; for (i = 1; i <= n; i++) printf " %s |", L[i]
			printf " paper hybrid |\n0 0 0 1|---|---|---|"; for (i = 1; i <= n; i++) printf "---|"
			printf "---|\n"
			for (k in K) {
				split(k, a, " "); p = a[1] == "websearch" ? "2.2" : a[1] == "oltp" ? "1.3" : "-"
				printf "1 %s| %s | %s | %s |", k, a[1], a[2], a[3]
				for (i = 1; i <= n; i++) printf " %s |", (k SUBSEP L[i]) in V ? sprintf("%.2f", V[k, L[i]]) : "-"
				printf " %s |\n", p
			}
		}' "$tsv" | sort -k1,1n -k2,2 -k3,3n -k4,4n | sed 's/^[^|]*|/|/'
	command -v gnuplot >/dev/null || { echo; echo "(gnuplot missing: no plots)"; return; }
	echo
	local pcs pc title
	for wl in $(cut -d' ' -f1 "$tsv" | sort -u); do
		pcs=$(awk -v w="$wl" '$1 == w { print $5 }' "$tsv" | sort -un)
		{
			echo "set terminal pngcairo size 960,540"
			echo "set output '$OUT/norm-$wl.png'"
			echo "set title 'dm-hybrid bench: $wl, last pass, execution time / SSD only (emulated devices)'"
			echo "set xlabel 'VMs'; set ylabel 'normalised execution time (log)'; set logscale y"
			echo "set xtics 1; set key outside right; set grid"
			printf "plot "
			sep=""
			for su in hdd ssd hybrid hybrid-256k hybrid-nomig dmcache bcache writeboost; do
				for pc in $pcs; do
					awk -v w="$wl" -v s="$su" -v p="$pc" '$1 == w && $3 == s && $5 == p { print $2, $4 }' \
						"$tsv" > "$OUT/.plot-$wl-$su-$pc.dat"
					[ -s "$OUT/.plot-$wl-$su-$pc.dat" ] || continue
					title="$su at SSD $pc %"
					case $su in hdd|ssd) title=$su ;; esac
					printf "%s'%s' using 1:2 with linespoints title '%s'" "$sep" \
						"$OUT/.plot-$wl-$su-$pc.dat" "$title"
					sep=", "
					# SSD and HDD only are the same at every SSD %
					case $su in hdd|ssd) break ;; esac
				done
			done
			case $wl in
			websearch) printf ", 2.2 with lines dt 2 lc 'black' title 'paper hybrid (2.2)'" ;;
			oltp) printf ", 1.3 with lines dt 2 lc 'black' title 'paper hybrid (1.3)'" ;;
			esac
			echo
		} | gnuplot && echo "![$wl](norm-$wl.png)"
		rm -f "$OUT"/.plot-"$wl"-*.dat
	done
}

# "report": rebuild report.md in BENCH_OUT from the cases' last logs.
if [ "$MODE" = report ]; then
	[ -n "${BENCH_OUT:-}" ] || { echo "report needs BENCH_OUT" >&2; exit 2; }
	mkdir -p "$OUT"
	report
	echo "report: ${OUT#"$TOP"/}/report.md"
	exit 0
fi
rm -rf "$DATA" && mkdir -p "$DATA" "$OUT"
# dm-writeboost (a peer set-up) is built out of tree once; the initramfs
# ships it when it exists (bench/writeboost-build.sh says why)
"$TOP/bench/writeboost-build.sh" >/dev/null ||
	echo "bench: dm-writeboost did not build: its set-up will fail" >&2
trap 'rm -rf "$DATA" "$DATA-work" "$DATA".s*' EXIT
T0=$SECONDS
L0=$(cut -d' ' -f1-3 /proc/loadavg)
# bench-setups as this many VMs side by side (setups_sharded): two, one
# per core of the hosts here
SHARDS=${BENCH_SHARDS:-2}
case $MODE in
quick)	# issue 18's quick run: 1 VM, the whole web search trace and the OLTP
	# job (20,000 I/Os), SSD 50 % of each footprint, SSD only, dm-hybrid,
	# bcache: 16 min at load 9 with the calibration (2026-12-06: 223 s of
	# it), so the calibration (256 MiB devices, 1 s per SSD job) only with
	# BENCH_CASES="bench-calib bench-setups"
	MAX=0
	# guest RAM: grown below to hold the web search volume (958 MiB) twice
	MEM=3072
	CASES=${BENCH_CASES:-bench-setups}
	cat > "$DATA/config" <<-EOF
		VMS="1"
		SETUPS="ssd hybrid bcache"
		WORKLOADS="websearch oltp"
		SSD_PCT="50"
		PASSES=2
		SSD_PASSES=1
		OLTP_IOS=20000
		ZIPF_IOS=20000
		VOL_MB=128
		CALIB_RUNTIME=2
		CALIB_SSD_RUNTIME=1
		CALIB_MB=256
		WARM_SETUPS="none"
		BCACHE_SETTLE=14
		EOF
	;;
full)
	# every shared trace whole, the synthetic jobs 20,000 I/Os per VM and
	# pass on 256 MiB volumes, SSD 25 and 50 % of each footprint; the
	# flush-bound oltp-fsync (an fsync every 4 writes) on 1 and 4 VMs
	MAX=0
	MEM=3072
	CASES=${BENCH_CASES:-bench-calib bench-setups bench-datapath bench-scale}
	cat > "$DATA/config" <<-EOF
		VMS="1 2 3 4"
		SETUPS="hdd ssd hybrid hybrid-256k hybrid-nomig dmcache bcache writeboost"
		WORKLOADS="websearch msr msrrand tencent cloudphysics oltp oltp-fsync zipf shift scan"
		FSYNC_VMS="1 4"
		FSYNC_N=4
		SSD_PCT="25 50"
		PASSES=2
		OLTP_IOS=20000
		ZIPF_IOS=20000
		SHIFT_IOS=20000
		VOL_MB=256
		CALIB_RUNTIME=4
		WARM_PHASES=10
		WARM_SECS=3
		BCACHE_SETTLE=14
		DP_RUNTIME=2
		DP_ROUNDS=8
		EOF
	;;
smoke)	# every set-up once, tiny: checks that the machinery works
	MAX=200
	MEM=1536
	CASES=${BENCH_CASES:-bench-setups}
	cat > "$DATA/config" <<-EOF
		VMS="1"
		SETUPS="hdd ssd hybrid hybrid-256k hybrid-nomig dmcache bcache writeboost"
		WORKLOADS="oltp websearch"
		PASSES=1
		OLTP_IOS=200
		ZIPF_IOS=200
		SHIFT_IOS=200
		VOL_MB=64
		SSD_PCT="50"
		WARM_SETUPS="ssd hybrid"
		WARM_PHASES=2
		WARM_SECS=1
		EOF
	;;
*) echo "usage: $0 quick|full|smoke" >&2; exit 2 ;;
esac
# BENCH_SETUPS / BENCH_WORKLOADS / BENCH_VMS narrow a run (debugging);
# BENCH_WARM_SETUPS the warm-up ("none": no warm-up table); BENCH_SSD_PCT
# the SSD shares (% of each workload's 4 KiB footprint; 100 = fits);
# BENCH_BLK_PCT the block tier's % of that SSD in hybrid-blk, -stage and
# -persist (default 50); BENCH_MIX the workloads of BENCH_WORKLOADS=mixed,
# VM K the K-th (default "websearch oltp msr scan", repeated for more VMs);
# BENCH_MIX_PRIO the priority of its oltp VMs in hybrid-persist-prio
# (default high).
for v in SETUPS WORKLOADS VMS WARM_SETUPS SSD_PCT BLK_PCT MIX MIX_PRIO; do
	eval "x=\${BENCH_$v:-}"
	x=${x//,/ }	# "3,4" or "3 4"
	# shellcheck disable=SC2154 # x is set by the eval
	[ -z "$x" ] || echo "$v=\"$x\"" >> "$DATA/config"
done

# run_wls: " <the run's workloads> ", the mix's after them when one is
# "mixed" (its traces are converted, shipped and sized for like the others).
run_wls() {
	local w m
	w=$(sed -n 's/^WORKLOADS="\(.*\)"$/\1/p' "$DATA/config" | tail -1)
	m=$(sed -n 's/^MIX="\(.*\)"$/\1/p' "$DATA/config" | tail -1)
	case " $w " in *" mixed "*) w="$w ${m:-websearch oltp msr scan}" ;; esac
	echo " $w "
}

# trace_name FILE: the workload name of a trace file: the shared traces'
# names as before, else the file's name in lower case without its
# extension, other characters than letters and digits as "-"; nothing for
# a file in no format trace2iolog.py knows.
trace_name() {
	local f=${1##*/}
	case $f in
	websearch1-60s.spc) echo websearch ;;
	msr-rw20-80.trace) echo msr ;;
	msr-rand-iops.trace) echo msrrand ;;
	cloudphysics-vm.csv) echo cloudphysics ;;
	tencent-rw75-25.trace) echo tencent ;;
	[Mm][Ss][Rr]* | [Tt][Ee][Nn][Cc][Ee][Nn][Tt]* | [Cc][Ll][Oo][Uu][Dd]* | *.[Ss][Pp][Cc])
		f=${f%.*}
		f=${f,,}
		echo "${f//[^a-z0-9]/-}"
		;;
	esac
}
# Every trace of TRACES whole (smoke: its first MAX requests), cut in
# tenths too; the workloads default to them with BENCH_TRACES.
# Only the traces among the run's workloads (quick: web search alone),
# all of them where BENCH_TRACES names the workloads.
want=$(run_wls)
[ -n "${BENCH_TRACES:-}" ] && [ -z "${BENCH_WORKLOADS:-}" ] && want=""
files=() names=""
{
	echo "iolog trace requests compacted-bytes read% footprint-bytes footprint-256k-bytes footprint-1m-bytes"
	for f in "$TRACES"/*; do
		name=$(trace_name "$f")
		[ -f "$f" ] && [ -n "$name" ] || continue
		[ -z "$want" ] || case $want in *" $name "*) ;; *) continue ;; esac
		python3 "$TOP/bench/trace2iolog.py" --max "$MAX" --parts 10 "$f" "$DATA/$name.iolog"
		echo "$name ${f##*/} $(cat "$DATA/$name.meta")"
		files+=("$f")
		names="$names $name"
	done
} > "$OUT/traces.txt"
[ -n "$names" ] || echo "bench: no traces in $TRACES" >&2
if [ -n "${BENCH_TRACES:-}" ] && [ -z "${BENCH_WORKLOADS:-}" ]; then
	echo "WORKLOADS=\"${names# }\"" >> "$DATA/config"
fi
# their reuse profiles, whole, from the placement lab (bench/sim prints
# them before its table; one SSD size is the least it replays)
simok=""
if [ ${#files[@]} -gt 0 ] && make -s -C "$TOP/bench/sim" >/dev/null; then
	simok=1
	"$TOP/bench/sim/sim" -p 100 "${files[@]}" | grep -E '^(== |reuse)' > "$OUT/reuse.txt" ||
		echo "bench: bench/sim failed: no reuse profile" >&2
fi
# Each trace gets a volume of its compacted size (bench-setups): two RAM
# disks hold the largest of the run's once per VM; 1.5 GiB for the rest.
wls=$(run_wls)
need=$(awk -v w="$wls" 'NR > 1 && index(w, " " $1 " ") { if ($4 > m) m = $4 }
	END { print int(m / 1048576) + 1 }' "$OUT/traces.txt")
nmax=$(sed -n 's/^VMS="\(.*\)"$/\1/p' "$DATA/config" | tail -1 | tr ' ' '\n' | sort -n | tail -1)
[ $((2 * ${nmax:-1} * need + 1536)) -le "$MEM" ] || MEM=$((2 * ${nmax:-1} * need + 1536))
# The boot's cpio carries the run's own workloads' iologs only, in tenths
# (the guest replays the whole trace only where there are no parts).
keep=" "
for w in $wls; do
	if [ -f "$DATA/$w-1.iolog" ]; then
		for f in "$DATA/$w"-[0-9]*.iolog; do keep="$keep${f##*/} "; done
	else
		keep="$keep$w.iolog "
	fi
done
for f in "$DATA"/*.iolog; do
	case $keep in *" ${f##*/} "*) ;; *) rm -f "$f" ;; esac
done
cp "$DATA/config" "$OUT/config"
# The placement lab (make sim) on the run's own traces, at make sim's SSD
# sizes and the run's, beside the VMs (it takes one core for seconds):
# OUT/sim.txt and sim.tsv, for the report's headline.
labfiles=() labpid=""
for f in "${files[@]}"; do
	case $wls in *" $(trace_name "$f") "*) labfiles+=("$f") ;; esac
done
if [ -n "$simok" ] && [ ${#labfiles[@]} -gt 0 ]; then
	# shellcheck disable=SC2046 # SSD_PCT is a list
	pcts=$(printf '%s\n' 10 25 50 100 $(sed -n 's/^SSD_PCT="\(.*\)"$/\1/p' "$DATA/config" | tail -1) |
		sort -un | paste -sd,)
	"$TOP/bench/sim/sim" -p "$pcts" -o "$OUT" "${labfiles[@]}" > "$OUT/sim.txt" 2>&1 &
	labpid=$!
fi
echo "Commit $(git -C "$TOP" rev-parse --short HEAD), $(git -C "$TOP" status --porcelain \
	--untracked-files=no | wc -l) files modified in the working tree (the run built it as it was)." > "$OUT/commit"

rc=0
: > "$OUT/tap.txt"
: > "$OUT/times.txt"
# Every bench VM counts instructions: one vCPU, single-threaded TCG and
# -icount, so guest time advances with instructions executed (and with
# real time only while the guest idles).  CPU-bound paths (the virtio
# "SSD", dm targets, fio) then cost the same guest time however loaded the
# shared host is; dm-hddsim's timers run in guest time too.  bench-calib
# and bench-setups keep every disk in guest RAM, so with sleep=off an idle
# guest's clock jumps to its next timer (the disk models' service times
# cost no wall time, and host load none of guest time).  The others use
# virtio disks, whose host-side time must pass in guest time too: sleep=on.
icount_of() {
	case $1 in
	bench-calib|bench-setups) echo shift=1,sleep=off ;;
	*) echo shift=1,sleep=on ;;
	esac
}
# bench_run DATA LOGS CASE...: one tests/run of the cases, on one vCPU
# under -icount, with this run's data, logs and disks.
bench_run() {
	local data=$1 logs=$2 ic
	shift 2
	ic=$(icount_of "$1")
	VM_ACCEL=tcg,thread=single VM_CPUS=1 VM_ICOUNT=${BENCH_ICOUNT:-$ic} VM_MEM=${BENCH_MEM:-$MEM} \
		DMH_CASE_DATA="$data" DMH_BENCH_DIR="$data" DMH_LOGS="$logs" DMH_WORK="$data-work" \
		"$TOP/tests/run" --kernel debian --tier bench -j 1 "$@"
}

# keep_rows CASE LOGS T0: this run's rows of CASE in OUT (LOGS is not
# kept in git), if its log is newer than T0 (SECONDS).
keep_rows() {
	local log=$2/debian/$1/boot1.log
	[ -f "$log" ] && [ "$(stat -c %Y "$log")" -ge $(($(date +%s) - SECONDS + $3)) ] || return 0
	echo "# log ${log#"$TOP"/}, $(date -u -r "$log" '+%H:%M UTC')"
	tr -d '\r' < "$log" | grep -a '^DMH-BENCH '
}

# stamps LOG TAG PID: the host's time of each case line (dmh:, DMH-) of the
# console LOG as it is written, in OUT/stamps.txt, until PID ends: with
# the guest's "cost" lines it says where a run's wall time went.  Never
# fails (tail -F ends with status 1 when LOG did not exist at first).
stamps() {
	local l
	{ tail --pid="$3" -n +1 -F "$1" 2>/dev/null || :; } | while IFS= read -r l; do
		l=${l%$'\r'}
		case $l in dmh:* | DMH-*) printf '%(%H:%M:%S)T %s %s\n' -1 "$2" "$l" ;; esac
	done >> "$OUT/stamps.txt"
	return 0
}

case_time() {	# case_time CASE: its boot-to-power-off time from tap.txt
	local t
	t=$(sed -n "s|^.*ok [0-9]* - debian/$1 # \([0-9]*\)s\$|\1|p" "$OUT/tap.txt" | tail -1)
	echo "  - $1: ${t:-?} s (boot to power-off)" >> "$OUT/times.txt"
}

# shard_vms N VMS...: the VM counts split into N shards of about the same
# work (a shard's work grows with its VMs): the largest count first, each
# into the shard with the smallest sum so far.  One line per shard.
shard_vms() {
	local n=$1
	shift
	printf '%s\n' "$@" | sort -rn | awk -v n="$n" '
		{ b = 1; for (i = 2; i <= n; i++) if (sum[i] < sum[b]) b = i
		  sum[b] += $1; s[b] = s[b] " " $1 }
		END { for (i = 1; i <= n; i++) if (s[i] != "") print substr(s[i], 2) }'
}

# merge_rows FILE...: one bench-setups table from the shards' rows (each
# FILE as keep_rows wrote it): the first shard's lines, with every
# shard's per-pass rows in the main table, ordered by VM count, and every
# shard's settled bcache hit ratios after it (they came between the rows,
# which split the table, and the other shards' were lost), then every
# shard's per-VM rows of the mixed tenants (the report tables them apart).
merge_rows() {
	awk -F'|' '
		FNR == 1 { f++; next }	# "# log ..." (the caller says where)
		/^DMH-BENCH \| *[a-z]/ && NF >= 13 && $3 + 0 > 0 {
			row[$3 + 0] = row[$3 + 0] $0 "\n"; if (f == 1) last = FNR; next
		}
		# after a blank line: a line right after a table row joins the table
		/^DMH-BENCH bcache hit ratio/ { notes = (notes == "" ? "DMH-BENCH \n" : notes) $0 "\n"; next }
		/^DMH-BENCH mixed-vm / { mv = mv $0 "\n"; next }
		f == 1 { pre[FNR] = $0; n1 = FNR }
		f > 1 && /^DMH-BENCH config:/ { extra = extra $0 "\n" }
		END {
			for (i = 2; i <= n1; i++) {
				if (i > last && !done) {
					for (v = 1; v <= 64; v++) printf "%s", row[v]
					printf "%s", notes
					done = 1
				}
				if (i in pre) print pre[i]
				if (i == 2) printf "%s", extra
			}
			if (!done) {
				for (v = 1; v <= 64; v++) printf "%s", row[v]
				printf "%s", notes
			}
			printf "%s", mv
		}' "$@"
}

# setups_sharded: bench-setups as BENCH_SHARDS VMs side by side, each on
# its own share of the VM counts with its own config, logs and disks (the
# first shard alone makes the warm-up table).  Each shard normalises to
# its own SSD only rows, as one run does: every ratio stays within one
# boot.  The tests/runs share the module build (tests/run locks it), and
# the next shard starts once the previous one has booted.
setups_sharded() {
	local t0=$SECONDS k=0 pids=() spids=() files=() vms d log
	# shellcheck disable=SC2046 # the VM counts are a list
	while read -r vms; do
		k=$((k + 1))
		d=$DATA.s$k
		rm -rf "$d" "$d-work" && cp -r "$DATA" "$d"
		echo "VMS=\"$vms\"" >> "$d/config"
		[ $k -eq 1 ] || echo 'WARM_SETUPS="none"' >> "$d/config"
		bench_run "$d" "$RUNLOGS/s$k" bench-setups | sed "s/^/shard $k ($vms VMs): /" >> "$OUT/tap-s$k.txt" &
		pids+=($!)
		files+=("$OUT/rows-s$k.txt")
		log=$RUNLOGS/s$k/debian/bench-setups/boot1.log
		stamps "$log" "s$k" $! &
		spids+=($!)
		for _ in $(seq 600); do [ -s "$log" ] || ! kill -0 $! 2>/dev/null && break; sleep 1; done
		sleep 5	# QEMU has read this shard's initramfs
	done < <(shard_vms "$SHARDS" $(sed -n 's/^VMS="\(.*\)"$/\1/p' "$DATA/config" | tail -1))
	for p in "${pids[@]}"; do wait "$p" || rc=1; done
	wait "${spids[@]}"
	for ((i = 1; i <= k; i++)); do
		cat "$OUT/tap-s$i.txt" >> "$OUT/tap.txt"
		grep -q "ok [0-9]* - debian/bench-setups" "$OUT/tap-s$i.txt" || rc=1
		grep -q "not ok [0-9]* - debian/bench-setups" "$OUT/tap-s$i.txt" && rc=1
		keep_rows bench-setups "$RUNLOGS/s$i" "$t0" > "$OUT/rows-s$i.txt"
		rm -rf "$DATA.s$i" "$DATA.s$i-work"
	done
	{
		echo "# logs ${RUNLOGS#"$TOP"/}/s1-s$k (one per shard), $(date -u '+%H:%M UTC')"
		merge_rows "${files[@]}"
	} > "$OUT/bench-setups.txt"
	rm -f "${files[@]}" "$OUT"/tap-s*.txt
	echo "- bench-setups in $k shards side by side: $((SECONDS - t0)) s of wall time" >> "$OUT/times.txt"
	for ((i = 1; i <= k; i++)); do
		bad=$(sed -n "s|^shard $i (.*): not ok [0-9]* - debian/bench-setups # ||p" "$OUT/tap.txt")
		if [ -n "$bad" ]; then
			# A shard that failed keeps the rows it made; say so.
			echo "  - shard $i: **FAILED** ($bad): its rows stop where it failed" >> "$OUT/times.txt"
			continue
		fi
		echo "  - shard $i: $(sed -n "s|^shard $i (\(.*\)): .*ok [0-9]* - debian/bench-setups # \([0-9]*\)s\$|\1, \2 s (boot to power-off)|p" "$OUT/tap.txt")" >> "$OUT/times.txt"
	done
}

# Consecutive cases with the same -icount share one tests/run (one build
# of the module and initramfs); with BENCH_SHARDS > 1, bench-setups runs
# on its own, sharded.
# shellcheck disable=SC2086 # CASES is a list
set -- $CASES
while [ $# -gt 0 ]; do
	if [ "$1" = bench-setups ] && [ "$SHARDS" -gt 1 ]; then
		shift
		setups_sharded
		continue
	fi
	ic=$(icount_of "$1") group=""
	while [ $# -gt 0 ] && [ "$(icount_of "$1")" = "$ic" ] &&
		! { [ "$1" = bench-setups ] && [ "$SHARDS" -gt 1 ]; }; do
		group="$group $1"
		shift
	done
	t0=$SECONDS
	# shellcheck disable=SC2086 # group is a list
	bench_run "$DATA" "$RUNLOGS" $group | tee -a "$OUT/tap.txt" &
	bp=$! sp=()
	for c in $group; do
		stamps "$RUNLOGS/debian/$c/boot1.log" "$c" $bp &
		sp+=($!)
	done
	wait $bp || rc=$?
	wait "${sp[@]}"
	echo "- build + ${group# }: $((SECONDS - t0)) s of wall time" >> "$OUT/times.txt"
	for c in $group; do
		keep_rows "$c" "$RUNLOGS" "$t0" > "$OUT/$c.txt"
		[ -s "$OUT/$c.txt" ] || rm -f "$OUT/$c.txt"
		case_time "$c"
	done
done
# The processes' CPU time (user + sys: the builds and the single-threaded
# QEMU) is about what the run takes on an idle host; the wall time grows
# with the host's load (guest time does not: -icount).
# (times must run in this shell, not in a pipeline's subshell)
times > "$OUT/.times"
cpu=$(tail -1 "$OUT/.times" | awk '{ for (i = 1; i <= 2; i++) { split($i, a, /[ms]/); t += a[1] * 60 + a[2] }
	printf "%d", t }')
rm -f "$OUT/.times"
echo "- whole run: $((SECONDS - T0)) s of wall time, $cpu s of CPU time (user + sys of every process it ran); load average $L0 at the start, $(cut -d' ' -f1-3 /proc/loadavg) at the end" >> "$OUT/times.txt"

[ -z "$labpid" ] || wait "$labpid" || echo "bench: the placement lab failed (see sim.txt)" >&2
report
echo "report: ${OUT#"$TOP"/}/report.md"
exit $rc
