#!/bin/sh
# SPDX-License-Identifier: GPL-2.0-only
# In-guest power cuts with dm-flakey, long run: the pool's one disk sits
# under dm-flakey; the mixed workload (tests/lib/mixed.sh) runs a random
# 3-10 s, the last completed flush of each volume is read, then flakey is
# switched to drop_writes, so from that instant nothing more reaches the
# disk although every write still "succeeds" (a disk that lost power; the
# dying pool's own commits are dropped too).  The pool is torn down and
# reassembled on the bare disk: hybrid_check must be clean and every block
# acknowledged before the flush read must hold its stamp.  ROUNDS rounds,
# each on a freshly zeroed disk (the quick tier has reliability-flakey, 2 rounds).
# A round takes ~30 s on the stock kernel but ~400 s on the debug kernel
# (reliability-flakey there: 2 rounds in 800 s), so the debug kernel runs 4
# rounds (~30 min: lockdep, KASAN and kmemleak over the cut and reassembly
# paths) and the stock kernel 25 (the count of cuts).
# kernels: debian debug
# disks: d=128M
# tier: long
# timeout: 3600
. /lib/dmh/guest.sh
. /lib/dmh/hybrid.sh
. /lib/dmh/mixed.sh
ROUNDS=25
[ "$DMH_KERNEL" != debug ] || ROUNDS=4
. /lib/dmh/flakey-rounds.sh
