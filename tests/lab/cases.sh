# SPDX-License-Identifier: GPL-2.0-only
# shellcheck shell=bash
#
# Where the VM cases live, for tests/run and tests/reliability-report.sh.
# A case is tests/cases/<area>/<name>.sh; another case directory (make
# demo's scripts/demo) may hold its cases directly.  Everything else names
# a case by <name> alone (make test-case CASES=..., the logs, bench/run.sh,
# the campaign), so a name is unique across areas.

# case_files DIR: the case scripts of DIR and of its area folders, one path
# a line, in the order of their names (the order of the TAP lines).  Fails,
# naming them, if two cases share a name.
case_files() {
	local list dups
	list=$(find "$1" -mindepth 1 -maxdepth 2 -type f -name '*.sh' \
		-printf '%f\t%p\n' | LC_ALL=C sort) || return 1
	[ -n "$list" ] || return 0
	dups=$(cut -f1 <<<"$list" | uniq -d)
	if [ -n "$dups" ]; then
		echo "case files of the same name under $1: ${dups//$'\n'/ }" >&2
		return 1
	fi
	cut -f2 <<<"$list"
}

# case_area FILE: the area folder of a case ("lab", "migrate", ...).
case_area() { basename "$(dirname "$1")"; }
