#!/bin/sh
# SPDX-License-Identifier: GPL-2.0-only
# Run the KUnit suites of tests/kunit: each runs when its module loads and
# prints KTAP, which the host turns into one TAP line per test case.
# kernels: debug
# tier: quick
# timeout: 300
. /lib/dmh/guest.sh

set -- /lib/dmh/kunit/*.ko
[ -f "$1" ] || fail "no KUnit module was built (tests/kunit/*.c)"
load_dm_hybrid
for ko in "$@"; do
	m=$(basename "$ko" .ko)
	before=$(ls /sys/kernel/debug/kunit | sort)
	check "insmod $m" insmod "$ko"
	suites=$(ls /sys/kernel/debug/kunit | sort | grep -vxF "$before" || true)
	[ -n "$suites" ] && ok "$m: suites registered" || not_ok "$m: suites registered" "none in debugfs"
	for s in $suites; do
		if grep -q 'not ok' "/sys/kernel/debug/kunit/$s/results"; then
			not_ok "suite $s" "a test failed"
		else
			ok "suite $s"
		fi
	done
	check "rmmod $m" rmmod "$m"
done
rmmod dm_hybrid
pass
