#!/bin/sh
# SPDX-License-Identifier: GPL-2.0-only
# Progress of a large pool's activation (issue 20 item 5): a pool of
# 2 TiB SSD + 32 TiB HDD (dm-zero) with 1 MiB chunks, whose activation
# reads and checks 598 MiB of metadata (5 s on a quiet host); "hybridctl pool activate
# --progress" shows, on stderr although it is not a terminal, at least
# two lines while the kernel reads, their bytes growing and below the
# total, the last before the end at over half of it (so the total is
# what the kernel reads, not a guess off by far), then a line at 100 %
# ending in "done"; without --progress and off a terminal it shows none;
# "pool deactivate --progress" is a usage error that changes nothing.
# kernels: debian
# disks: meta=600M
# tier: quick
# timeout: 300
. /lib/dmh/guest.sh
. /lib/dmh/hybrid.sh
. /lib/dmh/hctl.sh
need_mod dm-zero || fail "dm-zero"
dmsetup create zssd --table "0 $((2 << 31)) zero" || fail zssd
dmsetup create zhdd --table "0 $((32 << 31)) zero" || fail zhdd
dmsetup mknodes

# run_split CMD...: run, stdout in /tmp/out, stderr (the progress) in /tmp/err.
run_split() { "$@" >/tmp/out 2>/tmp/err; }
ms() { awk '{ printf "%d\n", $1 * 1000 }' /proc/uptime; }
# bytes LINE: "412.0M of 1.1G ..." -> the numbers of bytes of both sizes
bytes() { echo "$1" | sed 's/.*activating: //' | awk '
	function b(s) {
		u = substr(s, length(s)); v = substr(s, 1, length(s) - 1)
		m = u == "K" ? 1024 : u == "M" ? 1048576 : u == "G" ? 1073741824 : u == "T" ? 1099511627776 : 1
		if (m == 1) v = s + 0
		return int(v * m)
	}
	{ print b($1), b($3) }'; }

check "pool create big (2 TiB + 32 TiB, 1 MiB chunks)" run_split $H pool create big \
	--metadata "$(disk meta)" --ssd /dev/mapper/zssd --hdd /dev/mapper/zhdd \
	--chunk-size 1M --wipe
cat /tmp/out /tmp/err
check "pool deactivate big" run_split $H pool deactivate big
sync
echo 3 >/proc/sys/vm/drop_caches

# ---- with --progress ------------------------------------------------------------
t0=$(ms)
check "pool activate big --progress" run_split $H pool activate big --progress
t1=$(ms)
echo "# activation took $((t1 - t0)) ms; stderr:"
sed 's/^/#   /' /tmp/err
grep 'activating:' /tmp/err >/tmp/lines || true
n=$(grep -vc ': done$' /tmp/lines || true)
check "at least 2 progress lines while the kernel reads ($n)" test "$n" -ge 2
check "one line at 100 % ending in done, the last" \
	sh -c "tail -n 1 /tmp/lines | grep -q ' 100%.*: done\$'"
check "the pool is active" dmsetup status big
prev=-1 total=0 mono=1 below=1 last=0
while read -r line; do
	case $line in *": done") continue ;; esac
	# shellcheck disable=SC2046 # two numbers, split on purpose
	set -- $(bytes "$line")
	[ "$1" -ge "$prev" ] || mono=0
	[ "$1" -lt "$2" ] || below=0
	prev=$1 total=$2 last=$1
done </tmp/lines
echo "# last line before the end: $last of $total bytes"
check "bytes never go back" test "$mono" = 1
check "bytes stay below the total while the ioctl runs" test "$below" = 1
check "the total is over 500 MiB ($total)" test "$total" -gt $((500 << 20))
check "the last line before the end is over half the total ($last of $total)" \
	test "$((last * 2))" -gt "$total"
check "deactivate" run_split $H pool deactivate big

# ---- without --progress, off a terminal: nothing on stderr ----------------------
check "pool activate big" run_split $H pool activate big
check "no progress line without --progress off a terminal" \
	sh -c "! grep -q activating: /tmp/err"

# ---- deactivate takes no --progress ------------------------------------------------
rc=0
run_split $H pool deactivate big --progress || rc=$?
check "pool deactivate --progress: usage error (exit $rc)" test $rc -eq 2
check "... and the pool is still active" dmsetup status big
check "deactivate" run_split $H pool deactivate big
pass
