#!/bin/sh
# SPDX-License-Identifier: GPL-2.0-only
# Write-log replay, long variant: the metadata, SSD and HDD are
# slices of one disk under dm-log-writes, so one log orders all three.  The
# mixed workload (three stamped volumes with flushes and discards, fast
# migrations, volume 9 created and deleted) runs 10 s; the log is then
# replayed to every flush point and 30 random points, and each state
# is checked offline, activated on a snapshot and verified with the stamps
# (tests/lib/replay.sh).  The quick tier has reliability-logwrites.
# Stock kernel only: the debug kernel has no dm-snapshot.
# kernels: debian
# disks: d=128M log=4G rep=128M cow=64M
# tier: long
# timeout: 3600
. /lib/dmh/guest.sh
. /lib/dmh/hybrid.sh
. /lib/dmh/mixed.sh
. /lib/dmh/replay.sh

load_dm_hybrid
need_mod dm-snapshot
replay_campaign 10 0 30
pass
