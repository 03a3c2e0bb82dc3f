#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-only
#
# One-time, idempotent set-up of the Xen lab (make check-xen):
#   1. installs Debian's Xen 4.17 hypervisor and toolstack (Debian registry);
#   2. builds, under /var/cache/dm-hybrid/xen/<key>/:
#        xen          the hypervisor, decompressed (QEMU's multiboot loader
#                     cannot take the .gz)
#        dom0.cpio.zst  an initramfs layer with the Xen toolstack (xl,
#                     xenstored, xenconsoled, xenstore-*, hotplug scripts,
#                     bash for them, their libraries) and the stock Xen
#                     backend modules; it goes on top of the lab initramfs
#        guest.cpio   the PV guests' initramfs: busybox, fio, xen-blkfront,
#                     tests/xen/guest-init and the WebSearch1 trace as a
#                     fio iolog (bench/trace2iolog.py, /lib/dmh/web.iolog)
#      and prints that directory.  <key> hashes the package versions, the
#      stock kernel release, this script and the guest init.
# Why an initramfs and not a debootstrap image: see Documentation/xen-lab.rst.
set -euo pipefail

HERE=$(cd "$(dirname "$0")" && pwd)
TOP=$(cd "$HERE/../.." && pwd)
CACHE=${DMH_CACHE:-/var/cache/dm-hybrid}
STOCK=$CACHE/stock/current
XV=4.17
PKGS=("xen-hypervisor-$XV-amd64" "xen-utils-$XV" xenstore-utils busybox-static fio)
XBIN=/usr/lib/xen-$XV/bin
# Dom0 toolstack binaries (paths kept: xl finds its helpers there).
DOM0_BINS=("$XBIN/xl" "$XBIN/xenstored" "$XBIN/xenconsoled" "$XBIN/xen-init-dom0"
	"$XBIN/libxl-save-helper" "$XBIN/xenstore-control" /usr/bin/xenstore
	/bin/bash /usr/bin/flock)
DOM0_MODS=(xen-evtchn xen-gntdev xen-gntalloc xenfs xen-privcmd xen-blkback)
GUEST_MODS=(xen-blkfront)
# The replaying guest's trace: the first 200 requests (99 % reads).
TRACE=$TOP/../shared/traces/websearch1-60s.spc
TRACE_MAX=200

log() { printf 'setup-xen: %s\n' "$*" >&2; }

install_pkgs() {
	local missing=() p
	for p in "${PKGS[@]}"; do
		dpkg-query -W -f '${Status}' "$p" 2>/dev/null | grep -q 'ok installed' || missing+=("$p")
	done
	[ ${#missing[@]} -eq 0 ] && return 0
	log "installing ${missing[*]}"
	DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends "${missing[@]}" >&2
}

key() {
	{
		dpkg-query -W "${PKGS[@]}"
		cat "$STOCK/release" "$0" "$TOP/tests/xen/guest-init" "$TOP/tests/xen/block-phy" \
			"$TOP/bench/trace2iolog.py" "$TRACE"
	} | sha256sum | cut -c1-16
}

copy_with_libs() {
	local root=$1 bin=$2 lib
	install -D -m 0755 "$(readlink -f "$bin")" "$root$bin"
	for lib in $(ldd "$bin" | awk '/=> \//{print $3} /^[ \t]*\/lib/{print $1}'); do
		[ -e "$root$lib" ] || install -D -m 0755 "$(readlink -f "$lib")" "$root$lib"
	done
}

# stock_mods ROOT MOD...: decompressed stock modules and their dependencies.
stock_mods() {
	local root=$1 rel f dst
	shift
	rel=$(cat "$STOCK/release")
	[ -f "$STOCK/lib/modules/$rel/modules.dep" ] || depmod -b "$STOCK" "$rel"
	for f in $(for m in "$@"; do
		modprobe -S "$rel" -d "$STOCK" --show-depends "$m" | awk '$1 == "insmod" {print $2}'
	done | awk '!seen[$0]++'); do
		dst=$root/lib/modules/$rel/${f#"$STOCK"/lib/modules/"$rel"/}
		mkdir -p "$(dirname "$dst")"
		xz -dc "$f" > "${dst%.xz}"
	done
	printf '%s\n' "$@" > "$root/lib/modules/$rel/dmh-xen-modules"
}

# pack DIR OUT zstd|none: zstd layers are concatenated (4-byte aligned);
# the guest's ramdisk is a plain cpio: libxenguest inflates a gzip one in
# Dom0 for every guest it creates (88 MiB, most of it fio's libraries),
# which took 20-60 s per guest under nested TCG, and it reads the size of
# a gzip one from its last 4 bytes, so a padded gzip broke it.
pack() {
	(cd "$1" && find . -mindepth 1 | LC_ALL=C sort | cpio -o -H newc -R 0:0 --quiet) |
		if [ "$3" = zstd ]; then zstd -q -T0 -3; else cat; fi > "$2.tmp.$$"
	[ "$3" = zstd ] && truncate -s %4 "$2.tmp.$$"
	mv "$2.tmp.$$" "$2"
}

build_dom0_layer() {
	local out=$1 root b t
	root=$(mktemp -d)
	for b in "${DOM0_BINS[@]}"; do copy_with_libs "$root" "$b"; done
	mkdir -p "$root/usr/sbin" "$root/usr/bin" "$root/var/lib/xen" "$root/var/lib/xenstored" \
		"$root/var/log/xen/console" "$root/var/run/xen" "$root/etc/xen"
	ln -s "$XBIN/xl" "$root/usr/sbin/xl"
	for t in read write rm ls list exists chmod watch; do
		ln -s xenstore "$root/usr/bin/xenstore-$t"
	done
	cp -a /etc/xen/scripts "$root/etc/xen/"
	mv "$root/etc/xen/scripts/block" "$root/etc/xen/scripts/block.debian"
	install -m 0755 "$TOP/tests/xen/block-phy" "$root/etc/xen/scripts/block"
	cp /etc/xen/xl.conf "$root/etc/xen/"
	stock_mods "$root" "${DOM0_MODS[@]}"
	pack "$root" "$out" zstd
	rm -rf "$root"
}

build_guest_initrd() {
	local out=$1 root a
	root=$(mktemp -d)
	mkdir -p "$root"/{bin,sbin,usr/bin,usr/sbin,proc,sys,dev,tmp,run,mnt,etc}
	install -m 0755 /usr/bin/busybox "$root/bin/busybox"
	for a in $(/usr/bin/busybox --list-full); do
		[ -e "$root/$a" ] || ln -s /bin/busybox "$root/$a"
	done
	copy_with_libs "$root" /usr/bin/fio
	install -m 0755 "$TOP/tests/xen/guest-init" "$root/init"
	mkdir -p "$root/lib/dmh"
	python3 "$TOP/bench/trace2iolog.py" --max "$TRACE_MAX" "$TRACE" "$root/lib/dmh/web.iolog" >&2
	rm -f "$root/lib/dmh/web.meta"
	stock_mods "$root" "${GUEST_MODS[@]}"
	pack "$root" "$out" none
	rm -rf "$root"
}

main() {
	local dir
	install_pkgs
	[ -f "$STOCK/vmlinuz" ] || { log "no stock kernel in $STOCK: run scripts/setup.sh first"; exit 1; }
	dir=$CACHE/xen/$(key)
	if [ ! -f "$dir/.done" ]; then
		log "building $dir"
		rm -rf "$dir"
		mkdir -p "$dir"
		gzip -dc /boot/xen-$XV-amd64.gz > "$dir/xen"
		build_dom0_layer "$dir/dom0.cpio.zst"
		build_guest_initrd "$dir/guest.cpio"
		touch "$dir/.done"
	fi
	echo "$dir"
}

main "$@"
