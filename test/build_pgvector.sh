#!/usr/bin/env bash
# Builds pgvector from Debian's source package against a PostgreSQL and installs
# it there, once, for the tests of quarry_pgvector (quarry_hnsw's operator classes
# for pgvector's types). quarry never links against pgvector: only the tests need
# the `vector` extension in the server.
#
#   test/build_pgvector.sh PG_CONFIG [DESTDIR]
#
# Installs vector.so, vector.control and its scripts into the PostgreSQL that
# PG_CONFIG describes, under DESTDIR when given (the private copies test/run.sh
# makes with QUARRY_DESTDIR: test/private_pg.sh for 15, copies of the cached 17
# and 18 prefixes), else into that installation itself (with sudo when it is not
# writable). Prints nothing when that PostgreSQL already has this build.
#
# Source: the newest pgvector 0.8.x among Debian trixie's and sid's source
# indexes (trixie 0.8.0, sid 0.8.7 when this was written), fetched with
# `apt-get source --download-only` through a private deb-src list and private apt
# state in the cache (the system's sources lists and apt state are not read or
# changed); the suites' InRelease is checked against
# /usr/share/keyrings/debian-archive-keyring.gpg and apt checks the files' hashes
# against the signed index. When the mirror does not serve the newest version's
# files, the next older 0.8.x of the indexes is tried. PostgreSQL 18 needs
# pgvector 0.8.1 or later (0.8.0 does not compile against it); on 2026-12-05
# deb.debian.org listed sid's 0.8.7 but served only trixie's 0.8.0 (a 404 for
# 0.8.7's files, still on 2026-12-06). For 18, 0.8.0 is built with
# test/patches/pgvector-0.8.0-pg18.patch: the two API changes 0.8.1 made for it
# (vacuum_delay_point's argument, TupleDescAttr), nothing in the types or
# operators the tests use. Only the upstream orig
# tarball is built (Debian's packaging builds for its own PostgreSQL layout), with
# `make OPTFLAGS=` (no -march=native: the build is cached and may be copied to
# another machine; pgvector still picks its FMA kernels at run time).
#
# Cache: the cache test/build_pg.sh uses ($QUARRY_PG_CACHE, else /var/cache/quarry
# as root, else ${XDG_CACHE_HOME:-$HOME/.cache}/quarry):
#   CACHE/pgvector-VERSION.tar.gz         the orig tarball (fetched once)
#   CACHE/pgvector-VERSION/pgMAJOR-KEY/   `make install DESTDIR=` of one build for one
#                                         PostgreSQL (KEY: a hash of its pg_config
#                                         --version and --includedir-server), with
#                                         .quarry-built as the stamp
#   CACHE/pgvector.lock                   serialises concurrent runs
# Installing is copying that tree's files into the target; a target whose files
# are already equal is left alone.
set -euo pipefail

pg_config=${1:?usage: test/build_pgvector.sh PG_CONFIG [DESTDIR]}
destdir=${2:-}
[[ -x $pg_config ]] || pg_config=$(command -v "$pg_config") || {
	echo "build_pgvector.sh: no pg_config at '$1'" >&2
	exit 2
}
[[ -z $destdir || $destdir == /* ]] || destdir=$PWD/$destdir


say() { echo "pgvector: $*"; }
source "$(dirname "${BASH_SOURCE[0]}")/lib/extension_build.sh"

# 0.8.0 for PostgreSQL 18 or later is built with this patch; its hash is in
# the build's stamp, so a changed patch means a new build.
patch_file=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)/patches/pgvector-0.8.0-pg18.patch
patch_sha=$(sha1sum "$patch_file" | cut -c1-12)
needs_patch() { [[ $1 == 0.8.0 ]] && ((major >= 18)); }

# The build of VERSION for this PostgreSQL, if it is in the cache.
build_dir() { echo "$cache/pgvector-$1/pg$major-$key"; }
built() {
	local stamp
	stamp=$(build_dir "$1")/.quarry-built
	[[ -f $stamp ]] || return 1
	! needs_patch "$1" || grep -qF "patch $patch_sha" "$stamp"
}

# The newest cached build for this PostgreSQL: nothing to fetch. (A newer
# 0.8.x the mirror starts serving later is not looked for while one is cached.)
latest_cached() {
	local d version
	for d in $(ls -d "$cache"/pgvector-0.8.*/"pg$major-$key" 2>/dev/null | sort -V -r); do
		version=${d#"$cache"/pgvector-}
		version=${version%%/*}
		built "$version" && {
			echo "$d"
			return 0
		}
	done
	return 1
}

if dir=$(latest_cached); then
	installed "$dir" || install_build "$dir"
	exit 0
fi

mkdir -p "$cache"
[[ $(id -u) -eq 0 && -z ${QUARRY_PG_CACHE:-} ]] && chmod 755 "$cache"
exec 9>"$cache/pgvector.lock"
if ! flock -n 9; then
	say "waiting for another build_pgvector.sh to finish"
	flock 9
fi
if dir=$(latest_cached); then
	installed "$dir" || install_build "$dir"
	exit 0
fi

start=$SECONDS
work="$cache/pgvector.build.$$"
rm -rf "$work" && mkdir -p "$work/apt/lists/partial" "$work/apt/cache"
trap 'rm -rf "$work"' EXIT

mirror=${QUARRY_DEBIAN_MIRROR:-http://deb.debian.org/debian}
keyring=/usr/share/keyrings/debian-archive-keyring.gpg
signed=""
[[ -r $keyring ]] && signed="[signed-by=$keyring] "
for suite in trixie sid; do
	echo "deb-src ${signed}$mirror $suite main"
done >"$work/apt/sources.list"
apt_private=(
	-o "Dir::Etc::SourceList=$work/apt/sources.list"
	-o "Dir::Etc::SourceParts=/dev/null"
	-o "Dir::State::Lists=$work/apt/lists"
	-o "Dir::Cache=$work/apt/cache"
	-o "Debug::NoLocking=true"
	-o "APT::Sandbox::User=root" # the cache need not be writable by _apt
	-qq
)

say "reading Debian trixie's and sid's source indexes from $mirror"
if ! apt-get "${apt_private[@]}" --error-on=any update; then
	echo "build_pgvector.sh: could not fetch or verify Debian's source indexes from $mirror" \
		"(no network, or a mirror that is down: set QUARRY_DEBIAN_MIRROR)" >&2
	exit 1
fi
mapfile -t versions < <( (apt-cache "${apt_private[@]}" showsrc --only-source pgvector 2>/dev/null || true) |
	awk '/^Version:/ { print $2 }' | grep -E '^0\.8\.' | sort -V -r -u)
if [[ ${#versions[@]} -eq 0 ]]; then
	echo "build_pgvector.sh: Debian trixie and sid have no pgvector 0.8.x source package" >&2
	exit 1
fi

debver=""
for v in "${versions[@]}"; do
	version=${v#*:}
	version=${version%-*}
	if built "$version"; then
		debver=$v
		break
	fi
	if [[ -f $cache/pgvector-$version.tar.gz ]]; then
		debver=$v
		break
	fi
	say "fetching Debian source package pgvector $v"
	if out=$(cd "$work" && apt-get "${apt_private[@]}" source --download-only "pgvector=$v" 2>&1); then
		orig=("$work/pgvector_$version".orig.tar.*)
		if [[ -f ${orig[0]} ]]; then
			cp "${orig[0]}" "$cache/pgvector-$version.tar.gz.new"
			mv "$cache/pgvector-$version.tar.gz.new" "$cache/pgvector-$version.tar.gz"
			debver=$v
			break
		fi
	fi
	if ! grep -q ' 404 ' <<<"$out"; then
		echo "$out" >&2
		echo "build_pgvector.sh: could not download pgvector $v from $mirror" >&2
		exit 1
	fi
	say "$v is in the index but not on the mirror (404); trying an older one"
done
if [[ -z $debver ]]; then
	echo "build_pgvector.sh: the mirror $mirror serves none of pgvector ${versions[*]}" >&2
	exit 1
fi

dir=$(build_dir "$version")
if ! built "$version"; then
	say "building pgvector $version for $pg_version"
	mkdir -p "$work/src"
	tar -xzf "$cache/pgvector-$version.tar.gz" -C "$work/src" --strip-components=1
	fail() {
		echo "build_pgvector.sh: $1 failed; the last lines of its log:" >&2
		tail -30 "$work/$2" >&2
		exit 1
	}
	patched=""
	if needs_patch "$version"; then
		# 0.8.0 does not compile against 18; the two changes 0.8.1 made for it
		# (test/patches/pgvector-0.8.0-pg18.patch says which).
		say "applying $(basename "$patch_file") (0.8.0 for PostgreSQL $major)"
		GIT_CEILING_DIRECTORIES=$work git -C "$work/src" apply -p1 "$patch_file" >"$work/patch.log" 2>&1 ||
			fail "git apply $patch_file" patch.log
		patched=", with test/patches/$(basename "$patch_file") (patch $patch_sha)"
	fi
	nice -n 10 make -C "$work/src" -j"$(nproc)" PG_CONFIG="$pg_config" OPTFLAGS= with_llvm=no \
		>"$work/make.log" 2>&1 || fail make make.log
	rm -rf "$dir" && mkdir -p "$dir"
	make -C "$work/src" PG_CONFIG="$pg_config" OPTFLAGS= with_llvm=no DESTDIR="$dir/stage" install \
		>"$work/install.log" 2>&1 || fail "make install" install.log
	# Only the extension itself: the headers are for other extensions' builds.
	rm -rf "$dir/stage$("$pg_config" --includedir-server)"
	find "$dir/stage" -depth -type d -empty -delete
	[[ -f $dir/stage$pkglibdir/vector.so && -f $dir/stage$sharedir/extension/vector.control ]] ||
		fail "make install (no vector.so or vector.control)" install.log
	chmod -R a+rX "$cache/pgvector-$version"
	echo "pgvector $version (Debian $debver, $mirror$patched) for $pg_version" >"$dir/.quarry-built"
	say "built in $((SECONDS - start)) s"
fi
installed "$dir" || install_build "$dir"
