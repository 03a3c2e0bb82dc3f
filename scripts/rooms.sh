#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-only
#
# The module's rooms call in one direction only: prints which object file
# calls which (from the built .o files' symbol tables) and fails when two
# files call each other, directly or around a longer loop.  Run after
# "make module".  Prints TAP.
set -u
cd "$(dirname "$0")/.."
objs=$(ls dm-hybrid*.o 2>/dev/null | grep -v '^dm_hybrid')
[ -n "$objs" ] || { echo "not ok 1 - rooms: build the module first"; exit 1; }
edges=$(for o in $objs; do
	nm "$o" | awk '$1 == "U" {print $2}' | sort -u > /tmp/rooms.u.$$
	for d in $objs; do
		[ "$d" = "$o" ] && continue
		nm --defined-only "$d" | awk '$2 ~ /[TDRB]/ {print $3}' |
			sort -u | comm -12 - /tmp/rooms.u.$$ | grep -q . &&
			echo "${o%.o} ${d%.o}"
	done
done; rm -f /tmp/rooms.u.$$)
echo "# calls (caller callee):"
echo "$edges" | sed 's/^/#   /'
rc=0
# tsort reports a loop on stderr.
if loops=$(echo "$edges" | tsort 2>&1 >/dev/null) && [ -z "$loops" ]; then
	echo "ok 1 - rooms: no two kernel files call each other in a loop"
else
	echo "$loops" | sed 's/^/# /'
	echo "not ok 1 - rooms: the calls between kernel files have a loop"
	rc=1
fi
# DKMS and the packages install the Makefile's KMODSRC, not the tree: a
# room missing there builds here and fails on the admin's machine.
inst=" $(make -s --no-print-directory print-kmodsrc) "
miss=
for f in dm-hybrid*.[ch]; do
	case $inst in *" $f "*) ;; *) miss="$miss $f" ;; esac
done
if [ -z "$miss" ]; then
	echo "ok 2 - rooms: every kernel file is in KMODSRC, which DKMS and the packages install"
else
	echo "not ok 2 - rooms: not in the Makefile's KMODSRC (DKMS would not build):$miss"
	rc=1
fi
exit $rc
