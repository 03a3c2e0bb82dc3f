#!/bin/sh
# SPDX-License-Identifier: GPL-2.0-only
# In-guest power cuts with dm-flakey: the pool's one disk sits
# under dm-flakey; the mixed workload (tests/lib/mixed.sh) runs a random
# 3-10 s, the last completed flush of each volume is read, then flakey is
# switched to drop_writes, so from that instant nothing more reaches the
# disk although every write still "succeeds" (a disk that lost power; the
# dying pool's own commits are dropped too).  The pool is torn down and
# reassembled on the bare disk: hybrid_check must be clean and every block
# acknowledged before the flush read must hold its stamp.  ROUNDS rounds,
# each on a freshly zeroed disk; reliability-flakey-long does more.
# kernels: debian debug
# disks: d=128M
# tier: quick
# debug-tier: long
# timeout: 900
. /lib/dmh/guest.sh
. /lib/dmh/hybrid.sh
. /lib/dmh/mixed.sh
ROUNDS=2
. /lib/dmh/flakey-rounds.sh
