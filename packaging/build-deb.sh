#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-only
#
# make deb: build the dm-hybrid-dkms and dm-hybrid-tools packages with
# debhelper, then check them with lintian (errors and warnings fail).
#
# Usage: packaging/build-deb.sh [OUTDIR]   (default: build/deb, ignored by git)
#
# The packaging lives in packaging/debian/ rather than debian/: a build
# in the source tree itself would run "debian/rules clean" there and put
# its products in the parent directory, beside other people's work.  The
# tracked files of the working tree are copied to OUTDIR/dm-hybrid-VERSION
# with packaging/debian/ as debian/, and debian/changelog is written with
# dkms.conf's PACKAGE_VERSION, the one place the version is kept (the
# module, DKMS and both packages take it from there).  The .debs, the
# .changes and .buildinfo end up in OUTDIR.

set -euo pipefail
src=$(cd "$(dirname "$0")/.." && pwd)
out=$(mkdir -p "${1:-$src/build/deb}" && cd "${1:-$src/build/deb}" && pwd)
version=$(sed -n 's/^PACKAGE_VERSION="\(.*\)"/\1/p' "$src/dkms.conf")
[ -n "$version" ] || { echo "build-deb: no PACKAGE_VERSION in dkms.conf" >&2; exit 1; }
tree=$out/dm-hybrid-$version

# The sources: the tracked files (not build products or untracked work);
# without git, everything but the output directory.
rm -rf "$tree"
mkdir -p "$tree"
if git -C "$src" rev-parse --git-dir >/dev/null 2>&1; then
	git -C "$src" ls-files -z |
		tar -C "$src" --null -T - --ignore-failed-read -cf - |
		tar -C "$tree" -xf -
	when=$(git -C "$src" log -1 --format=%cD)
	what="commit $(git -C "$src" rev-parse --short HEAD)"
else
	tar -C "$src" --exclude=./build --exclude-vcs -cf - . | tar -C "$tree" -xf -
	when=$(date -R)
	what="a source tree without git"
fi
rm -rf "$tree/debian"
cp -a "$src/packaging/debian" "$tree/debian"

maint=$(sed -n 's/^Maintainer: //p' "$tree/debian/control")
cat > "$tree/debian/changelog" <<END
dm-hybrid ($version) unstable; urgency=medium

  * Built from the dm-hybrid sources, $what.

 -- $maint  $when
END

rm -f "$out"/dm-hybrid*_"$version"_*.deb "$out"/dm-hybrid_"$version"_*.changes \
	"$out"/dm-hybrid_"$version"_*.buildinfo
(cd "$tree" && dpkg-buildpackage -b -us -uc)
changes=$(ls "$out"/dm-hybrid_"$version"_*.changes)
echo "build-deb: lintian $changes"
lintian --fail-on error,warning "$changes"
rm -rf "$tree"
ls -l "$out"/*.deb
