#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-only
#
# Build the lab initramfs for one kernel:
#   mkinitramfs.sh <debian|debug> <out.cpio>
#
# The output is a concatenation of compressed cpio layers (Linux unpacks
# them in order):
#   1. userspace: busybox, dmsetup, fio, e2fsprogs, util-linux bits + libs
#                 (cached: changes only when those binaries change)
#   2. kmods:     decompressed stock modules (debian) or modules.builtin
#                 (debug) (cached per kernel release)
#   3. local:     /init, tests/lib, our module, our tools, KUnit modules
#                 (rebuilt every call; small)
# The case runner appends a 4th, per-boot layer holding the case script.
#
# Environment: DMH_MODULE (path of dm_hybrid.ko for this kernel),
# DMH_KUNIT_DIR (dir of KUnit .ko files, debug only), DMH_KDIR (debug
# kernel build tree).
set -euo pipefail

HERE=$(cd "$(dirname "$0")" && pwd)
TOP=$(cd "$HERE/../.." && pwd)
CACHE=${DMH_CACHE:-/var/cache/dm-hybrid}
STOCK=$CACHE/stock/current
LAYERS=$CACHE/initramfs

BINS=(
	/usr/sbin/dmsetup /usr/bin/fio /usr/sbin/mke2fs /usr/sbin/e2fsck
	/usr/sbin/losetup /usr/sbin/blkdiscard /usr/sbin/blockdev
	/usr/sbin/dumpe2fs /usr/sbin/debugfs
)
# Copied when the host has them (bcache-tools, for the benchmarks).
OPT_BINS=(/usr/sbin/make-bcache)
# Stock modules loaded at boot (their dependencies come along).
BOOT_MODS=(virtio_blk dm-mod dm-bufio dm-delay dm-flakey dm-log-writes
	dm-cache dm-cache-smq dm-thin-pool loop ext4 crc32c_generic)
# Stock modules shipped for cases to modprobe on demand.
EXTRA_MODS=(bcache brd null_blk dm-dust lkdtm dm-snapshot dm-zero dm-raid raid1)

log() { printf 'mkinitramfs: %s\n' "$*" >&2; }

# cpio + compress a staging dir into $2 (4-byte aligned for concatenation).
pack() {
	local dir=$1 out=$2
	(cd "$dir" && find . -mindepth 1 | LC_ALL=C sort |
		cpio -o -H newc -R 0:0 --quiet) | zstd -q -T0 -3 > "$out.tmp.$$"
	truncate -s %4 "$out.tmp.$$"
	mv "$out.tmp.$$" "$out"
}

copy_with_libs() {
	local root=$1 bin=$2 lib
	install -D -m 0755 "$bin" "$root$bin"
	for lib in $(ldd "$bin" | awk '/=> \//{print $3} /^[ \t]*\/lib/{print $1}'); do
		[ -e "$root$lib" ] || install -D -m 0755 "$(readlink -f "$lib")" "$root$lib"
	done
}

userspace_key() {
	{ cat "$0"; stat -c '%n %s %Y' /usr/bin/busybox "${BINS[@]}" "${OPT_BINS[@]}" 2>/dev/null || true; } |
		sha256sum | cut -c1-16
}

build_userspace() {
	local out=$1 root applet b
	root=$(mktemp -d)
	mkdir -p "$root"/{bin,sbin,usr/bin,usr/sbin,usr/local/bin,proc,sys,dev,tmp,run,mnt,etc,lib/dmh}
	install -m 0755 /usr/bin/busybox "$root/bin/busybox"
	for b in "${BINS[@]}"; do copy_with_libs "$root" "$b"; done
	for b in "${OPT_BINS[@]}"; do [ ! -x "$b" ] || copy_with_libs "$root" "$b"; done
	ln -s mke2fs "$root/usr/sbin/mkfs.ext4"
	ln -s e2fsck "$root/usr/sbin/fsck.ext4"
	cp /etc/mke2fs.conf "$root/etc/" 2>/dev/null || true
	echo 'root:x:0:0:root:/root:/bin/sh' > "$root/etc/passwd"
	echo 'root:x:0:' > "$root/etc/group"
	for applet in $(/usr/bin/busybox --list-full); do
		[ -e "$root/$applet" ] || ln -s /bin/busybox "$root/$applet"
	done
	pack "$root" "$out"
	rm -rf "$root"
}

# The stock module layer changes with the module lists.
kmods_key() { echo "${BOOT_MODS[*]} ${EXTRA_MODS[*]}" | sha256sum | cut -c1-8; }

stock_mod_files() {
	local rel=$1 m
	for m in "${BOOT_MODS[@]}" "${EXTRA_MODS[@]}"; do
		modprobe -S "$rel" -d "$STOCK" --show-depends "$m" 2>/dev/null |
			awk '$1 == "insmod" {print $2}'
	done | awk '!seen[$0]++'
}

build_kmods_debian() {
	local out=$1 rel root f dst
	rel=$(cat "$STOCK/release")
	[ -f "$STOCK/lib/modules/$rel/modules.dep" ] || depmod -b "$STOCK" "$rel"
	root=$(mktemp -d)
	for f in $(stock_mod_files "$rel"); do
		dst=$root/lib/modules/$rel/${f#"$STOCK"/lib/modules/"$rel"/}
		mkdir -p "$(dirname "$dst")"
		xz -dc "$f" > "${dst%.xz}"
	done
	cp "$STOCK/lib/modules/$rel"/modules.{builtin,order} "$root/lib/modules/$rel/"
	printf '%s\n' "${BOOT_MODS[@]}" > "$root/lib/modules/$rel/dmh-boot-modules"
	pack "$root" "$out"
	rm -rf "$root"
}

build_kmods_debug() {
	local out=$1 kdir=${DMH_KDIR:?} rel root
	rel=$(cat "$kdir/include/config/kernel.release")
	root=$(mktemp -d)
	mkdir -p "$root/lib/modules/$rel"
	cp "$kdir/modules.builtin" "$root/lib/modules/$rel/"
	: > "$root/lib/modules/$rel/dmh-boot-modules"
	pack "$root" "$out"
	rm -rf "$root"
}

# Cached layer: build $2 with function $3 unless it exists.
cached() {
	local out=$1 fn=$2
	if [ ! -s "$out" ]; then
		log "building layer ${out##*/}"
		mkdir -p "$(dirname "$out")"
		"$fn" "$out"
	fi
	echo "$out"
}

build_local() {
	local kernel=$1 out=$2 root f rel
	root=$(mktemp -d)
	mkdir -p "$root/lib/dmh/kunit" "$root/usr/local/bin"
	install -m 0755 "$HERE/init" "$root/init"
	install -m 0644 "$TOP"/tests/lib/*.sh "$root/lib/dmh/"
	echo "$kernel" > "$root/lib/dmh/kernel"
	if [ -n "${DMH_MODULE:-}" ]; then
		rel=$(modinfo -F vermagic "$DMH_MODULE" | awk '{print $1}')
		install -D -m 0644 "$DMH_MODULE" "$root/lib/modules/$rel/extra/dm_hybrid.ko"
		# DMH_EXTRA_KO: test-only modules (the benchmarks' dm-hddsim)
		for f in ${DMH_EXTRA_KO:-}; do
			[ -f "$f" ] && install -D -m 0644 "$f" "$root/lib/modules/$rel/extra/${f##*/}"
		done
		# dm-writeboost, a benchmark peer, once bench/writeboost-build.sh built it
		f=$TOP/tests/.build/writeboost/$rel/dm-writeboost.ko
		[ ! -f "$f" ] || install -D -m 0644 "$f" "$root/lib/modules/$rel/extra/${f##*/}"
	fi
	# DMH_BENCH_DIR: fio iologs made by bench/run.sh from the traces
	for f in "${DMH_BENCH_DIR:-/nonexistent}"/*; do
		[ -f "$f" ] && install -D -m 0644 "$f" "$root/lib/dmh/bench/${f##*/}"
	done
	# Test-only guest tools (static): dmh-stamp, dmh-logreplay.
	make -s -C "$TOP/tests/tools" >&2
	for f in "$TOP"/tests/tools/dmh-*; do
		[ -x "$f" ] && [ ! -d "$f" ] && install -m 0755 "$f" "$root/usr/local/bin/"
	done
	for f in "${DMH_KUNIT_DIR:-/nonexistent}"/*.ko; do
		[ -f "$f" ] && install -m 0644 "$f" "$root/lib/dmh/kunit/"
	done
	# The admin tools (hybrid_check, hybridctl, ...): built here too, so
	# that a run without "make tools" before it (make test-case,
	# make powercut-campaign on a fresh clone) does not boot without them.
	make -s -C "$TOP/tools" >&2
	for f in "$TOP"/tools/*; do
		[ -f "$f" ] && [ -x "$f" ] || continue
		case $f in
		*.sh) install -m 0755 "$f" "$root/usr/local/bin/" ;;
		*) head -c4 "$f" | grep -q ELF && install -m 0755 "$f" "$root/usr/local/bin/" ;;
		esac
	done
	# The tools' shared libraries the userspace layer lacks (hybridctl:
	# libpng, zlib; libdevmapper already comes with dmsetup).
	have=$(for f in "${BINS[@]}"; do ldd "$f"; done | awk '/=> \//{print $3}' | sort -u)
	for f in "$root"/usr/local/bin/*; do
		head -c4 "$f" | grep -q ELF || continue
		for lib in $(ldd "$f" 2>/dev/null | awk '/=> \//{print $3}'); do
			printf '%s\n' "$have" | grep -qxF "$lib" || [ -e "$root$lib" ] ||
				install -D -m 0755 "$(readlink -f "$lib")" "$root$lib"
		done
	done
	(cd "$root" && find . -mindepth 1 | LC_ALL=C sort |
		cpio -o -H newc -R 0:0 --quiet) | gzip -1 > "$out"
	truncate -s %4 "$out"
	rm -rf "$root"
}

main() {
	local kernel=${1:?usage: $0 <debian|debug> <out.cpio>} out=${2:?out} us km
	us=$(cached "$LAYERS/userspace-$(userspace_key).cpio.zst" build_userspace)
	case $kernel in
	debian) km=$(cached "$LAYERS/kmods-debian-$(cat "$STOCK/release")-$(kmods_key).cpio.zst" build_kmods_debian) ;;
	debug) km=$(cached "$LAYERS/kmods-debug-$(basename "$(readlink -f "${DMH_KDIR:?}")").cpio.zst" build_kmods_debug) ;;
	*) log "unknown kernel $kernel"; exit 1 ;;
	esac
	build_local "$kernel" "$out.local.$$"
	cat "$us" "$km" "$out.local.$$" > "$out.tmp.$$"
	rm -f "$out.local.$$"
	mv "$out.tmp.$$" "$out"
}

main "$@"
