#!/bin/sh
# SPDX-License-Identifier: GPL-2.0-only
# Write-log replay, quick variant (issue 7): the metadata, SSD and HDD are
# slices of one disk under dm-log-writes, so one log orders all three.  The
# mixed workload (three stamped volumes with flushes and discards, fast
# migrations, volume 9 created and deleted) runs 12 s; the log is then
# replayed to 12 of its flush points and 4 random points, and each state
# is checked offline, activated on a snapshot and verified with the stamps
# (tests/lib/replay.sh).  reliability-logwrites-long replays to every flush.
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
replay_campaign 12 12 4
pass
