#!/bin/sh
# SPDX-License-Identifier: GPL-2.0-only
# Write-log replay, quick variant: the metadata, SSD and HDD are
# slices of one disk under dm-log-writes, so one log orders all three.  A
# cold filler volume takes 56 of the SSD's 64 chunks first; then a short
# mixed workload (three stamped volumes of 16 ops each, ending with a
# flush, with discards; hot readers, so chunks are promoted and the filler
# demoted; no volume 9 churn) runs until the writers are done and the pool
# has promoted and demoted at least once each (asserted).  The log is
# replayed to every flush point after the set-up (each distinct state
# once) and 3 random points, and each state is checked offline, activated
# on a snapshot and verified with the stamps (tests/lib/replay.sh); a
# negative control must find writes lost.  reliability-logwrites-long does
# the same with a 10 s unbounded workload and the churn.
# Stock kernel only: the debug kernel has no dm-snapshot.
# kernels: debian
# disks: d=128M log=2G rep=128M cow=64M
# tier: quick
# timeout: 600
. /lib/dmh/guest.sh
. /lib/dmh/hybrid.sh
. /lib/dmh/mixed.sh
. /lib/dmh/replay.sh

load_dm_hybrid
need_mod dm-snapshot
# shellcheck disable=SC2034 # read by mixed.sh and replay.sh
MIXED_OPS=16 MIXED_NO_CHURN=1 MIXED_FILLER=56
replay_campaign 0 0 3
pass
