#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-only
#
# Interactive lab VM: scripts/vm-shell.sh [debian|debug]
# Builds what is needed, then boots with three disks (meta, ssd, hdd) kept
# in tests/work/shell/<kernel>/.  The guest drops to a shell; leave it with
# "poweroff -f" (or Ctrl-A x).
set -euo pipefail
cd "$(dirname "$0")/.."
k=${1:-debian}
tests/run --prepare --kernel "$k"
case $k in
debian) img=/var/cache/dm-hybrid/stock/current/vmlinuz ;;
debug) img=$(cat tests/.build/debug-kdir)/arch/x86/boot/bzImage ;;
*) echo "usage: $0 [debian|debug]" >&2; exit 2 ;;
esac
w=tests/work/shell/$k
mkdir -p "$w"
for d in meta=16M ssd=256M hdd=1G; do
	[ -f "$w/${d%%=*}.img" ] || truncate -s "${d#*=}" "$w/${d%%=*}.img"
done
echo "DMH_DISKS='meta ssd hdd'" > "$w/case.env"
(cd "$w" && echo case.env | cpio -o -H newc -R 0:0 --quiet) > "$w/env.cpio"
cat "tests/.build/$k/initramfs.cpio" "$w/env.cpio" > "$w/initrd.cpio"
exec tests/lab/vm.sh --interactive --kernel "$img" --initrd "$w/initrd.cpio" \
	--disk "meta=$w/meta.img" --disk "ssd=$w/ssd.img" --disk "hdd=$w/hdd.img"
