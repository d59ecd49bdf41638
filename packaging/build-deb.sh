#!/bin/sh
# build-deb.sh -- build keyadm's Debian package (Debian 12).
#
#   packaging/build-deb.sh [OUTDIR]
#
# dpkg-buildpackage wants debian/ at the top of the source tree, and ours
# lives in packaging/debian.  So: copy the source tree (what git tracks
# plus new files it does not ignore, or everything but build directories
# when this is no git checkout) to a temporary directory, put
# packaging/debian at its top, run `dpkg-buildpackage -us -uc -b` there,
# and move the .deb (with its .buildinfo and .changes) to OUTDIR (default:
# the current directory).  The source tree itself is not touched.
#
# INSTALL_DEPS=1 first installs the build dependencies with apt-get (root).
# KEEP=1 keeps the temporary directory.
set -eu

top=$(cd "$(dirname "$0")/.." && pwd)
out=${1:-.}
mkdir -p "$out"
out=$(cd "$out" && pwd)

if [ "${INSTALL_DEPS:-0}" = 1 ]; then
	export DEBIAN_FRONTEND=noninteractive
	apt-get install -y --no-install-recommends build-essential \
	    dpkg-dev debhelper fakeroot cmake pkg-config libssh-dev \
	    libsqlite3-dev libssl-dev libpam0g-dev
fi
for tool in dpkg-buildpackage dh; do
	if ! command -v "$tool" >/dev/null 2>&1; then
		echo "build-deb.sh: $tool is missing: apt-get install dpkg-dev" \
		    "debhelper (or run with INSTALL_DEPS=1)" >&2
		exit 1
	fi
done

version=$(dpkg-parsechangelog -l "$top/packaging/debian/changelog" -S Version)
upstream=${version%-*}
work=$(mktemp -d "${TMPDIR:-/tmp}/keyadm-deb.XXXXXX")
if [ "${KEEP:-0}" = 1 ]; then
	echo "build-deb.sh: keeping $work"
else
	trap 'rm -rf "$work"' EXIT
fi
src="$work/keyadm-$upstream"
mkdir "$src"

echo "== copying the source tree to $src"
if git -C "$top" rev-parse --is-inside-work-tree >/dev/null 2>&1; then
	# tracked files and new ones not ignored; files deleted in the
	# working tree are skipped
	# shellcheck disable=SC2016
	(cd "$top" && git ls-files -z --cached --others --exclude-standard |
	    xargs -0 sh -c 'for f; do [ -e "$f" ] || [ -L "$f" ] &&
	        printf "%s\0" "$f"; done; exit 0' sh |
	    tar --null -T - -cf -) | tar -C "$src" -xf -
else
	tar -C "$top" --exclude=./.git --exclude='./build*' \
	    --exclude='./_build*' --exclude=./debian -cf - . |
	    tar -C "$src" -xf -
fi
rm -rf "$src/debian"
cp -R "$top/packaging/debian" "$src/debian"
chmod 0755 "$src/debian/rules"

echo "== dpkg-buildpackage -us -uc -b in $src"
(cd "$src" && dpkg-buildpackage -us -uc -b)

n=0
for f in "$work"/keyadm*_"$version"_*.deb "$work"/keyadm_"$version"_*.buildinfo \
    "$work"/keyadm_"$version"_*.changes; do
	[ -e "$f" ] || continue
	mv -f "$f" "$out/"
	echo "== $out/$(basename "$f")"
	n=$((n + 1))
done
[ "$n" -gt 0 ] || { echo "build-deb.sh: no package was built" >&2; exit 1; }
