#!/usr/bin/env bash
# Builds the private jemalloc that quarry links statically, from Debian's source package.
#
#   src/memory/build_jemalloc.sh OUT_DIR
#
# Result: OUT_DIR/include/jemalloc/jemalloc.h (every symbol prefixed qje_) and
# OUT_DIR/lib/libjemalloc_pic.a. The result is cached: a second run with the same
# OUT_DIR returns at once and fetches nothing.
#
# Why a private build: Debian's libjemalloc uses initial-exec TLS and cannot be
# dlopen()ed into a running backend ("cannot allocate memory in static TLS block"),
# and it exports malloc/free, which would take the backend's allocator over.
# This build uses global-dynamic TLS (--disable-initial-exec-tls), prefixes every
# public symbol with qje_ and every internal one with qje_ (private namespace),
# exports nothing and has no C++ operators, so only quarry's explicit qje_mallocx
# calls ever reach it.
#
# The source comes from the Debian archive through a private deb-src list kept in
# OUT_DIR: the system's apt configuration is not read or changed.
set -euo pipefail

out=${1:?usage: build_jemalloc.sh OUT_DIR}
version=5.3.0
prefix=qje_
mkdir -p "$out"
out=$(cd "$out" && pwd)
stamp="$out/.built-$version-$prefix"

if [[ -f "$stamp" && -f "$out/lib/libjemalloc_pic.a" ]]; then
	exit 0
fi
work="$out/src"
rm -rf "$work" && mkdir -p "$work/apt/lists/partial"

mirror=${QUARRY_DEBIAN_MIRROR:-http://deb.debian.org/debian}
keyring=/usr/share/keyrings/debian-archive-keyring.gpg
signed=""
[[ -r $keyring ]] && signed="[signed-by=$keyring] "
echo "deb-src ${signed}$mirror bookworm main" >"$work/apt/sources.list"

apt_private=(
	-o "Dir::Etc::SourceList=$work/apt/sources.list"
	-o "Dir::Etc::SourceParts=/dev/null"
	-o "Dir::State::Lists=$work/apt/lists"
	-o "Dir::Cache=$work/apt/cache"
	-o "Debug::NoLocking=true"
	-qq
)

echo "jemalloc: fetching Debian source package jemalloc ($version) from $mirror"
apt-get "${apt_private[@]}" update
(cd "$work" && apt-get "${apt_private[@]}" source "jemalloc=$version-1" 2>&1 |
	grep -v -e 'unsandboxed as root' -e '^dpkg-source: info' || true)

srcdir="$work/jemalloc-$version"
if [[ ! -x "$srcdir/configure" ]]; then
	echo "jemalloc: source package did not unpack into $srcdir" >&2
	exit 1
fi

echo "jemalloc: configuring and building (about 30 s)"
cd "$srcdir"
CFLAGS="-O2 -g0 -fPIC" ./configure \
	--with-jemalloc-prefix=$prefix \
	--with-private-namespace=$prefix \
	--without-export \
	--disable-cxx \
	--disable-initial-exec-tls \
	--disable-shared \
	--disable-prof \
	--disable-libdl \
	--disable-zone-allocator >configure.log 2>&1 || {
	tail -30 configure.log >&2
	exit 1
}
make -j"$(nproc)" build_lib_static >make.log 2>&1 || {
	tail -30 make.log >&2
	exit 1
}

mkdir -p "$out/include/jemalloc" "$out/lib"
cp include/jemalloc/jemalloc.h "$out/include/jemalloc/jemalloc.h"
cp lib/libjemalloc_pic.a "$out/lib/libjemalloc_pic.a"
rm -rf "$work"
touch "$stamp"
echo "jemalloc: $out/lib/libjemalloc_pic.a ready"
