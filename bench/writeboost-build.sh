#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-only
#
# Build dm-writeboost (a benchmark peer, bench-setups' "writeboost") out of
# tree for the lab's stock kernel:
#   bench/writeboost-build.sh [KERNEL_RELEASE]    (default: the lab's stock
#                                                  kernel, else Debian's 6.12)
# Prints the path of the built dm-writeboost.ko.
#
# Debian 12's dm-writeboost-dkms (2.2.17-0.2~deb12u1) does not build for
# 6.12, so it is not installed: its .deb is fetched from the Debian archive
# with apt-get download, unpacked with dpkg-deb -x in tests/.build/writeboost
# (git-ignored), given our two 6.12 compatibility edits below and built with
# the kernel's headers.  Nothing is installed on the host.
set -euo pipefail

TOP=$(cd "$(dirname "$0")/.." && pwd)
STOCK=${DMH_CACHE:-/var/cache/dm-hybrid}/stock/current
REL=${1:-$(cat "$STOCK/release" 2>/dev/null ||
	ls -d /usr/src/linux-headers-6.12*-amd64 | sed -n '$s|.*/linux-headers-||p')}
KDIR=/usr/src/linux-headers-$REL
[ -d "$KDIR" ] || KDIR=/lib/modules/$REL/build
W=$TOP/tests/.build/writeboost
OUT=$W/$REL
# the build tree; only the finished module is renamed into $OUT, so that
# an initramfs built meanwhile (another run) sees the old one or the new
BLD=$W/build-$REL-$$

log() { printf 'writeboost-build: %s\n' "$*" >&2; }

# built already (and not older than this script, which holds the edits)
if [ "$OUT/dm-writeboost.ko" -nt "$0" ]; then
	echo "$OUT/dm-writeboost.ko"
	exit 0
fi
[ -d "$KDIR" ] || { log "no kernel headers for $REL ($KDIR)"; exit 1; }
mkdir -p "$W"
deb=$(ls "$W"/dm-writeboost-dkms_*.deb 2>/dev/null | tail -n1 || true)
if [ -z "$deb" ]; then
	log "fetching dm-writeboost-dkms from the Debian archive"
	(cd "$W" && apt-get download dm-writeboost-dkms >&2)
	deb=$(ls "$W"/dm-writeboost-dkms_*.deb | tail -n1)
fi
rm -rf "$BLD"
trap 'rm -rf "$BLD"' EXIT
mkdir -p "$BLD"
dpkg-deb -x "$deb" "$BLD/x"
src=$(ls -d "$BLD"/x/usr/src/dm-writeboost-*)
cp "$src"/*.c "$src"/*.h "$BLD/"
printf 'obj-m := dm-writeboost.o\ndm-writeboost-objs := dm-writeboost-target.o dm-writeboost-metadata.o dm-writeboost-daemon.o\n' \
	> "$BLD/Kbuild"

# Compatibility with the 6.12 block layer (each edit must apply once):
# 1. struct block_device lost bd_inode (6.10): the cache device's size
#    comes from bdev_nr_sectors(), which reads the same i_size in sectors.
# 2. blk_limits_io_opt() is gone (6.11, limits are now set as a whole):
#    the io_hints hook gets the queue_limits to fill, so its 4 KiB
#    optimal I/O size is written to limits->io_opt directly.
edit() {	# edit FILE OLD NEW (fixed strings; OLD must occur exactly once)
	local f=$BLD/$1
	[ "$(grep -cF -- "$2" "$f")" = 1 ] || { log "$1: '$2' not found once"; exit 1; }
	OLD=$2 NEW=$3 perl -0pi -e 's/\Q$ENV{OLD}\E/$ENV{NEW}/' "$f"
}
edit dm-writeboost-target.c 'return i_size_read(dev->bdev->bd_inode) >> 9;' \
	'return bdev_nr_sectors(dev->bdev);'
edit dm-writeboost-target.c 'blk_limits_io_opt(limits, 4096);' \
	'limits->io_opt = 4096;'

log "building for $REL from ${deb##*/}"
mkdir -p "$OUT"
make -C "$KDIR" M="$BLD" modules > "$OUT/build.log" 2>&1 ||
	{ cat "$OUT/build.log" >&2; log "build failed: $OUT/build.log"; exit 1; }
echo "${deb##*/}" > "$OUT/SOURCE"
cp "$BLD/dm-writeboost.ko" "$OUT/dm-writeboost.ko.tmp"
mv -f "$OUT/dm-writeboost.ko.tmp" "$OUT/dm-writeboost.ko"
echo "$OUT/dm-writeboost.ko"
