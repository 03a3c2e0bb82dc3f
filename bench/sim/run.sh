#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-only
#
# make sim: the placement lab (bench/README.md, "Placement lab") over every
# trace of a directory, in user space, in seconds.
#
#   BENCH_TRACES=DIR  traces to replay (default ../shared/traces); files of
#                     an unknown format (by name, see trace.c) are skipped
#   SIM_OUT=DIR       results: sim.txt (the table) and sim.tsv
#                     (default bench/results/sim-<UTC date-time>)
#   SIM_ARGS="..."    more options for bench/sim/sim (-c CHUNK_KIB, -p PCTS,
#                     -t TICK_MS, -r RATE_MIB_S)
set -euo pipefail
top=$(cd "$(dirname "$0")/../.." && pwd)
traces=${BENCH_TRACES:-$top/../shared/traces}
out=${SIM_OUT:-$top/bench/results/sim-$(date -u +%Y%m%d-%H%M%S)}

make -s -C "$top/bench/sim"
files=()
for f in "$traces"/*; do
	[ -f "$f" ] || continue
	case ${f##*/} in
	[Mm][Ss][Rr]* | [Tt][Ee][Nn][Cc][Ee][Nn][Tt]* | [Cc][Ll][Oo][Uu][Dd]* | *.[Ss][Pp][Cc])
		files+=("$f") ;;
	README* | *.md) ;;
	*) echo "sim: skipping ${f##*/}: not a trace format the lab knows" >&2 ;;
	esac
done
if [ ${#files[@]} -eq 0 ]; then
	echo "sim: no traces in $traces" >&2
	exit 1
fi
mkdir -p "$out"
# shellcheck disable=SC2086 # SIM_ARGS is a list of options
"$top/bench/sim/sim" ${SIM_ARGS:-} -o "$out" "${files[@]}" | tee "$out/sim.txt"
echo "sim: results in ${out#"$top"/}"
