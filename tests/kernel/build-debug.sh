#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-only
#
# Build (or reuse) the dm-hybrid debug kernel: "make tinyconfig" plus
# tests/kernel/debug.config, from the unpacked Debian linux-source.
#
# Output tree: $DMH_CACHE/debug/<hash>/ where <hash> covers the config
# fragment and the source version; $DMH_CACHE/debug/current points at it.
# The tree doubles as KDIR for out-of-tree modules.  Prints its path last.
#
# usage: build-debug.sh [--print-dir]   (--print-dir: no build, just the path)
set -euo pipefail

HERE=$(cd "$(dirname "$0")" && pwd)
CACHE=${DMH_CACHE:-/var/cache/dm-hybrid}
SRC=${KSRC:-$CACHE/src/current}
FRAG=$HERE/debug.config
JOBS=${JOBS:-$(nproc)}

log() { printf 'debug-kernel: %s\n' "$*" >&2; }

src_version() {
	local v
	v=$(dpkg-query -W -f='${Version}' linux-source-6.12 2>/dev/null || true)
	printf '%s %s\n' "$(readlink -f "$SRC")" "$v"
}

build_hash() {
	{ cat "$FRAG"; src_version; } | sha256sum | cut -c1-16
}

# Every CONFIG_ line of the fragment must hold in the final .config.
verify_config() {
	local cfg=$1 line sym val bad=0
	while IFS= read -r line; do
		[[ $line =~ ^(CONFIG_[A-Za-z0-9_]+)=(.*)$ ]] || continue
		sym=${BASH_REMATCH[1]} val=${BASH_REMATCH[2]}
		if [ "$val" = n ]; then
			grep -q "^$sym=" "$cfg" && { log "dropped: $sym=n"; bad=1; }
		else
			grep -qx "$sym=$val" "$cfg" || {
				log "dropped: $sym=$val (have: $(grep "^$sym=\|^# $sym " "$cfg" || echo unset))"
				bad=1
			}
		fi
	done < "$FRAG"
	return $bad
}

configure() {
	local out=$1
	make -s -C "$SRC" O="$out" tinyconfig >/dev/null
	"$SRC"/scripts/kconfig/merge_config.sh -m -O "$out" "$out/.config" "$FRAG" >/dev/null
	make -s -C "$SRC" O="$out" olddefconfig >/dev/null
	verify_config "$out/.config" || { log "config check failed"; return 1; }
}

build() {
	local out=$1 t0 t1
	t0=$(date +%s)
	log "configuring in $out"
	configure "$out"
	log "building bzImage + modules with -j$JOBS (this takes a while)"
	make -s -C "$SRC" O="$out" -j"$JOBS" bzImage modules >"$out/build.log" 2>&1 || {
		tail -n 30 "$out/build.log" >&2
		log "build failed, log: $out/build.log"
		return 1
	}
	t1=$(date +%s)
	echo $((t1 - t0)) > "$out/build-seconds"
	touch "$out/.built"
	log "built in $((t1 - t0)) s"
}

main() {
	local hash out
	[ -f "$SRC/Makefile" ] || { log "no kernel source at $SRC: run scripts/setup.sh"; exit 1; }
	hash=$(build_hash)
	out=$CACHE/debug/$hash
	if [ "${1:-}" = --print-dir ]; then echo "$out"; return 0; fi
	mkdir -p "$CACHE/debug"
	exec 9>"$CACHE/debug/.lock"
	flock 9
	if [ ! -f "$out/.built" ]; then
		rm -rf "$out" && mkdir -p "$out"
		build "$out"
	fi
	verify_config "$out/.config"
	ln -sfn "$out" "$CACHE/debug/current"
	echo "$out"
}

main "$@"
