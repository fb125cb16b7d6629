#!/usr/bin/env bash
# Builds Citus (the distributed engine quarry's scale-out tests run on; quarry
# never links it) from the source kept in ../shared/vendor/citus, once, and
# installs it into a PostgreSQL.
#
#   test/build_citus.sh PG_CONFIG [DESTDIR]
#
# Installs citus.so, its control file and scripts into the PostgreSQL that
# PG_CONFIG describes, under DESTDIR when given (test/run.sh's private copies
# with QUARRY_DESTDIR), else into that installation itself (with sudo when it is
# not writable). Prints nothing when that PostgreSQL already has this build.
# Citus 13.2.2 supports PostgreSQL 15, 16 and 17; for another version, or when
# the source is not there, the script says so and exits 3 (callers skip).
#
# Source: $QUARRY_CITUS_TARBALL, else ../shared/vendor/citus/citus-13.2.2.tar.xz
# next to the clone (its README: a `git archive` of upstream tag v13.2.2),
# checked against the SHA-256 that README gives. Build dependencies (liblz4-dev,
# libzstd-dev, libkrb5-dev; configured --without-libcurl) come from
# test/deps.sh's test profile. A cold build takes about 35 s here.
#
# One patch: Debian's PostgreSQL 15 (15.18 and later) declares
# have_createdb_privilege() in commands/dbcommands.h, and Citus 13.2.2's
# src/include/pg_version_compat.h defines a static inline fallback of that name
# for 15 ("static declaration follows non-static declaration"). When the server
# headers declare it, the fallback is renamed (unused).
#
# Cache: the one test/build_pg.sh uses ($QUARRY_PG_CACHE, else /var/cache/quarry
# as root, else ${XDG_CACHE_HOME:-$HOME/.cache}/quarry):
#   CACHE/citus-13.2.2/pgMAJOR-KEY/   `make install DESTDIR=` of one build for one
#                                     PostgreSQL (KEY: a hash of its pg_config
#                                     --version and --includedir-server), with
#                                     .quarry-built as the stamp
#   CACHE/citus.lock                  serialises concurrent runs
set -euo pipefail

version=13.2.2
sha256=6ffb1af003e08550f20e34a1544d77d82cf92ed896293d44676e2547d1d3372f
repo=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)

pg_config=${1:?usage: test/build_citus.sh PG_CONFIG [DESTDIR]}
destdir=${2:-}
[[ -x $pg_config ]] || pg_config=$(command -v "$pg_config") || {
	echo "build_citus.sh: no pg_config at '$1'" >&2
	exit 2
}
[[ -z $destdir || $destdir == /* ]] || destdir=$PWD/$destdir
tarball=${QUARRY_CITUS_TARBALL:-$(cd "$repo/.." && pwd)/shared/vendor/citus/citus-$version.tar.xz}

say() { echo "citus: $*"; }
source "$repo/test/lib/extension_build.sh"
dir=$cache/citus-$version/pg$major-$key

if ((major < 15 || major > 17)); then
	say "Citus $version supports PostgreSQL 15 to 17, not $major"
	exit 3
fi

if [[ -f $dir/.quarry-built ]]; then
	installed "$dir" || install_build "$dir"
	exit 0
fi

if [[ ! -f $tarball ]]; then
	echo "build_citus.sh: no Citus source at $tarball (set QUARRY_CITUS_TARBALL); the Citus tests will skip" >&2
	exit 3
fi
if [[ $(sha256sum "$tarball" | cut -d' ' -f1) != "$sha256" ]]; then
	echo "build_citus.sh: $tarball is not the Citus $version archive its README describes (SHA-256 differs)" >&2
	exit 1
fi

mkdir -p "$cache"
[[ $(id -u) -eq 0 && -z ${QUARRY_PG_CACHE:-} ]] && chmod 755 "$cache"
exec 9>"$cache/citus.lock"
if ! flock -n 9; then
	say "waiting for another build_citus.sh to finish"
	flock 9
fi
if [[ -f $dir/.quarry-built ]]; then
	installed "$dir" || install_build "$dir"
	exit 0
fi

start=$SECONDS
work="$cache/citus.build.$$"
rm -rf "$work" && mkdir -p "$work/src"
trap 'rm -rf "$work"' EXIT
fail() {
	echo "build_citus.sh: $1 failed; the last lines of its log:" >&2
	tail -30 "$work/$2" >&2
	exit 1
}

say "building Citus $version for $pg_version"
tar -xJf "$tarball" -C "$work/src" --strip-components=1
compat=$work/src/src/include/pg_version_compat.h
if grep -qs 'have_createdb_privilege' "$("$pg_config" --includedir-server)/commands/dbcommands.h" &&
	grep -q 'have_createdb_privilege' "$compat"; then
	# The fallback gets another name (it is static inline: unused, it costs
	# nothing); Citus's calls then reach the server's function.
	sed 's/^have_createdb_privilege(void)$/quarry_unused_have_createdb_privilege(void)/' "$compat" >"$compat.new"
	grep -q '^quarry_unused_have_createdb_privilege(void)$' "$compat.new" || {
		echo "build_citus.sh: could not find have_createdb_privilege's fallback in $compat" >&2
		exit 1
	}
	mv "$compat.new" "$compat"
fi
(cd "$work/src" && ./configure PG_CONFIG="$pg_config" --without-libcurl >"$work/configure.log" 2>&1) ||
	fail configure configure.log
nice -n 10 make -C "$work/src" -j"$(nproc)" with_llvm=no >"$work/make.log" 2>&1 || fail make make.log
rm -rf "$dir" && mkdir -p "$dir"
make -C "$work/src" with_llvm=no DESTDIR="$dir/stage" install >"$work/install.log" 2>&1 || fail "make install" install.log
rm -rf "$dir/stage$("$pg_config" --includedir-server)" "$dir/stage$("$pg_config" --includedir)"
find "$dir/stage" -depth -type d -empty -delete
[[ -f $dir/stage$pkglibdir/citus.so && -f $dir/stage$sharedir/extension/citus.control ]] ||
	fail "make install (no citus.so or citus.control)" install.log
chmod -R a+rX "$cache/citus-$version"
echo "Citus $version ($(basename "$tarball")) for $pg_version" >"$dir/.quarry-built"
say "built in $((SECONDS - start)) s"
installed "$dir" || install_build "$dir"
