#!/bin/sh
# SPDX-License-Identifier: GPL-2.0-only
# Load and unload dm_hybrid; both targets must register and go away again.
# kernels: debian debug
# tier: quick
# timeout: 240
. /lib/dmh/guest.sh

has_target() { dmsetup targets | grep -q "^$1 "; }
loaded() { lsmod | grep -q '^dm_hybrid '; }

loaded && fail "dm_hybrid loaded before the case ran"
for round in 1 2; do
	check "round $round: modprobe dm-hybrid" load_dm_hybrid
	check "round $round: dm_hybrid in lsmod" loaded
	check "round $round: hybrid-pool target registered" has_target hybrid-pool
	check "round $round: hybrid target registered" has_target hybrid
	check "round $round: rmmod dm_hybrid" rmmod dm_hybrid
	if loaded; then not_ok "round $round: unloaded" "still in lsmod"; else ok "round $round: unloaded"; fi
	if has_target hybrid-pool || has_target hybrid; then
		not_ok "round $round: targets unregistered" "still listed"
	else
		ok "round $round: targets unregistered"
	fi
done
pass
