#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-only
#
# Install everything dm-hybrid needs to build, test and demo, from Debian's
# registry only.  Idempotent: a second run does nothing but check.
#
# The stock kernel the VM lab boots (linux-image-*-amd64-unsigned) is
# extracted into the cache, never installed as the host kernel.
set -euo pipefail

CACHE=${DMH_CACHE:-/var/cache/dm-hybrid}
STAMP=$CACHE/setup.stamp
PKGS=(
	build-essential bc bison flex libelf-dev libssl-dev dwarves kmod cpio
	xz-utils zstd rsync python3 perl
	linux-headers-6.12-amd64 linux-source-6.12
	qemu-system-x86 busybox-static dmsetup fio libdevmapper-dev libpng-dev
	e2fsprogs sparse bcache-tools gnuplot-nox
)

log() { printf 'setup: %s\n' "$*" >&2; }

need_pkgs() {
	local p missing=()
	for p in "${PKGS[@]}"; do
		dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'ok installed' ||
			missing+=("$p")
	done
	printf '%s\n' "${missing[@]}"
}

install_pkgs() {
	local missing
	missing=$(need_pkgs)
	[ -z "$missing" ] && return 0
	log "installing: $(echo $missing)"
	export DEBIAN_FRONTEND=noninteractive
	apt-get update -qq
	# shellcheck disable=SC2086
	apt-get install -y -qq --no-install-recommends $missing >/dev/null
}

# The stock kernel matching the installed headers, unpacked into the cache.
stock_kernel() {
	local abi dir deb
	abi=$(readlink -f /usr/src/linux-headers-6.12*-amd64 | head -n1)
	abi=${abi##*/linux-headers-}
	dir=$CACHE/stock/$abi
	if [ -f "$dir/vmlinuz" ] && [ -d "$dir/lib/modules/$abi" ]; then
		ln -sfn "$dir" "$CACHE/stock/current"
		return 0
	fi
	log "unpacking stock kernel $abi"
	rm -rf "$dir.tmp" && mkdir -p "$dir.tmp"
	(cd "$dir.tmp" && apt-get download -qq "linux-image-$abi-unsigned")
	deb=$(ls "$dir.tmp"/linux-image-*.deb)
	dpkg-deb -x "$deb" "$dir.tmp/root"
	mkdir -p "$dir/lib"
	cp "$dir.tmp/root/boot/vmlinuz-$abi" "$dir/vmlinuz"
	cp "$dir.tmp/root/boot/config-$abi" "$dir/config"
	rm -rf "$dir/lib/modules"
	mv "$dir.tmp/root/lib/modules" "$dir/lib/modules"
	echo "$abi" > "$dir/release"
	rm -rf "$dir.tmp"
	ln -sfn "$dir" "$CACHE/stock/current"
}

# The kernel source tree, unpacked once into the cache (checkpatch and the
# debug kernel come from it; nothing of it is ever copied into the repo).
kernel_source() {
	local tarball dir
	tarball=$(ls /usr/src/linux-source-6.12.tar.* | head -n1)
	dir=$CACHE/src/$(basename "$tarball" | sed 's/\.tar\..*//')-$(stat -c %Y "$tarball")
	if [ ! -f "$dir/.unpacked" ]; then
		log "unpacking $tarball"
		rm -rf "$dir" && mkdir -p "$dir"
		tar -xf "$tarball" -C "$dir" --strip-components=1
		touch "$dir/.unpacked"
	fi
	ln -sfn "$dir" "$CACHE/src/current"
}

main() {
	[ "$(id -u)" = 0 ] || { log "must run as root"; exit 1; }
	mkdir -p "$CACHE/stock" "$CACHE/src"
	install_pkgs
	stock_kernel
	kernel_source
	touch "$STAMP"
}

main "$@"
