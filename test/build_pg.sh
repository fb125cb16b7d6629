#!/usr/bin/env bash
# Builds PostgreSQL 17 or 18 from Debian's source package into a private prefix,
# once, so quarry can be built and tested against a server other than the system's
# PostgreSQL 15.
#
#   test/build_pg.sh 17|18             build if needed; prints nothing when already built
#   test/build_pg.sh --prefix 17|18    print the prefix; never builds, never fetches
#
# Contract: after `test/build_pg.sh N` exits 0, `$(test/build_pg.sh --prefix N)/bin/pg_config`
# exists, and PGXS (pg_config --pgxs) has pg_regress and the TAP test modules.
# Any other version is refused (exit 2).
#
# Sources: postgresql-17 from Debian trixie, postgresql-18 from Debian sid, fetched
# with `apt-get source --download-only` through a private deb-src list and private
# apt state in the build directory (${QUARRY_DEBIAN_MIRROR:-http://deb.debian.org/debian});
# the system's sources lists and apt state are not read or changed (its apt.conf.d
# settings, such as proxies, still apply). The suites' InRelease is
# checked against /usr/share/keyrings/debian-archive-keyring.gpg (bookworm's
# 2023.3+deb12u2 carries the trixie keys and verifies both suites) and apt checks the
# downloaded files' hashes against the signed index.
# Fallback: when the mirror does not serve the files of the version in the index
# (a 404: trixie's index has listed 17.12-0+deb13u1 while deb.debian.org served only
# 17.9 to 17.11), the script tries the earlier Debian versions pinned in fallback_N
# below, newest first, from MIRROR/pool/main/p/postgresql-N/. Those are no longer in
# a signed index, so they are verified as Debian verifies a standalone source
# package: the .dsc's OpenPGP signature with gpgv against debian-keyring.gpg (then
# debian-maintainers.gpg; package debian-keyring is installed if missing), then the
# SHA-256 of every file in the signed Checksums-Sha256. Any verification failure
# stops the script (exit 1); nothing unverified is built. Any other download error
# (e.g. a hash mismatch against the signed index) is not a reason to fall back.
# Which version was used and why is printed and kept in build-log/summary.
# Only the upstream orig tarball is built (Debian's patches are not applied: they
# move files into Debian's multi-version layout), with
#   configure --prefix=PREFIX --enable-tap-tests --without-icu --without-readline CFLAGS=-O2
# then `make` + `make install` of the tree and of the contrib modules in
# `contrib` below only, under `nice -n 10`. Missing build dependencies
# are installed from the system's (bookworm) archive with apt-get, as test/deps.sh does.
#
# Cache policy. CACHE is outside the clone, so a fresh clone and every later run reuse it:
#   $QUARRY_PG_CACHE if set; else, as root, /var/cache/quarry (created mode 755, so
#   the postgres user the test clusters run as can reach it: /root is mode 700);
#   else ${XDG_CACHE_HOME:-$HOME/.cache}/quarry.
#   CACHE/pgN-VERSION/       the installation (VERSION = exact upstream version, e.g. 17.11),
#                            world-readable (a+rX); .quarry-built is its stamp (a copy of
#                            build-log/summary), build-log/ its compressed logs
#   CACHE/pgN -> pgN-VERSION the stable name --prefix prints; it is made only after
#                            the build and its checks succeed
#   CACHE/pgN.build/         scratch (apt state, downloads, source tree, logs) while
#                            building; removed on success, kept after a failure
#   CACHE/pgN.lock           serialises concurrent runs for the same N
# Once CACHE/pgN exists with its stamp the script does nothing, even when Debian has
# moved on to a newer minor release. To pick that up, `rm CACHE/pgN` and rerun: it
# builds the new version into its own directory (or just relinks if that version is
# already built); old pgN-VERSION directories can then be deleted by hand.
# One build takes 2 to 4 minutes on 2 cores (17.11: 197 s, 18.6: 132 s here) and leaves about 35 MB. The prefix names
# neither "postgres" nor "pgsql", so PostgreSQL puts its files one level down:
# PREFIX/lib/postgresql (modules, pgxs/), PREFIX/share/postgresql (extension/),
# PREFIX/include/postgresql/server; ask pg_config rather than assuming.
#
# initdb refuses root, so as root run the server as postgres; the default root CACHE
# is reachable by it. An installation cannot be moved or copied elsewhere: pg_config
# and the server find share/ and lib/ relative to bin/, but the programs' RUNPATH
# names PREFIX/lib, and a moved psql, pg_dump or pg_regress silently loads the
# system's libpq (PostgreSQL 15) instead. Rebuild (or point QUARRY_PG_CACHE at the
# place) rather than move.
set -euo pipefail

usage() {
	echo "usage: test/build_pg.sh [--prefix] 17|18" >&2
	exit 2
}

print_prefix=0
if [[ ${1:-} == --prefix ]]; then
	print_prefix=1
	shift
fi
[[ $# -eq 1 ]] || usage
major=$1

# Earlier Debian versions of postgresql-N to fall back to, newest first, when the
# mirror does not serve the files of the version in the suite's index (see the
# header), each as VERSION=SHA-256 of its .dsc. Each must still be in
# MIRROR/pool/main/p/postgresql-N/; they are fetched by URL, not through a signed
# index, so the .dsc must have the SHA-256 pinned here (and a valid signature by
# a key in bookworm's debian-keyring), and every file it lists its SHA-256.
# 17.11 and 18.6 are the versions tested here.
fallback_17=(17.11-0+deb13u1=bf148ae423a982707c3f60672c3a072ef62b701bd9f5df847d9f4b8c9b3e3b18
	17.10-0+deb13u1=5bc74b90b27b78101b93d04645fc5db8671713ae88b4836decacc7204464b708)
fallback_18=(18.6-3=a4254c4548ebeea683832de193460ee8a9f1271418e884803b44ded1aead1776)

case $major in
17) suite=trixie fallbacks=("${fallback_17[@]}") ;;
18) suite=sid fallbacks=("${fallback_18[@]}") ;;
*)
	echo "build_pg.sh: unsupported PostgreSQL version '$major' (only 17 and 18)" >&2
	exit 2
	;;
esac

# Points $link at $1 in one step (a reader never finds it missing).
relink() {
	ln -sfn "$1" "$link.new.$$" && mv -T "$link.new.$$" "$link"
}

root_default_cache=0
if [[ -n ${QUARRY_PG_CACHE:-} ]]; then
	cache=$QUARRY_PG_CACHE
elif [[ $(id -u) -eq 0 ]]; then
	cache=/var/cache/quarry
	root_default_cache=1
else
	cache=${XDG_CACHE_HOME:-$HOME/.cache}/quarry
fi
[[ $cache == /* ]] || cache=$PWD/$cache
link="$cache/pg$major"
if ((print_prefix)); then
	echo "$link"
	exit 0
fi

# Contrib modules the tests use (pageinspect and pg_freespacemap, by the
# corruption and churn scripts); a cached build that lacks one is built again.
contrib=(pageinspect pg_freespacemap)
built() {
	[[ -f $1/.quarry-built && -x $1/bin/pg_config ]] || return 1
	local m share
	share=$("$1/bin/pg_config" --sharedir)
	for m in "${contrib[@]}"; do [[ -e $share/extension/$m.control ]] || return 1; done
}
built "$link" && exit 0

mkdir -p "$cache"
((root_default_cache)) && chmod 755 "$cache"
exec 9>"$cache/pg$major.lock"
if ! flock -n 9; then
	echo "pg$major: waiting for another build_pg.sh $major to finish"
	flock 9
fi
built "$link" && exit 0

start=$SECONDS
say() { echo "pg$major: $*"; }

# Installs the missing ones of the given Debian packages (as test/deps.sh does).
install_missing() {
	local p status missing=() sudo=()
	for p in "$@"; do
		status=$(dpkg-query -W -f='${db:Status-Status}' "$p" 2>/dev/null || true)
		[[ $status == installed ]] || missing+=("$p")
	done
	[[ ${#missing[@]} -eq 0 ]] && return 0
	if [[ $(id -u) -ne 0 ]]; then
		if ! command -v sudo >/dev/null; then
			echo "build_pg.sh: missing packages (${missing[*]}) and not root; install them or run as root" >&2
			exit 1
		fi
		sudo=(sudo)
	fi
	say "installing ${missing[*]}"
	export DEBIAN_FRONTEND=noninteractive
	"${sudo[@]}" apt-get update -qq
	"${sudo[@]}" apt-get -o DPkg::Lock::Timeout=600 install -y -qq --no-install-recommends "${missing[@]}" >/dev/null \
		2> >(grep -v -e "^debconf: delaying" >&2)
}

# bzip2 unpacks the orig tarball; libipc-run-perl is for --enable-tap-tests.
install_missing gcc make perl bzip2 zlib1g-dev libipc-run-perl

work="$cache/pg$major.build"
rm -rf "$work" && mkdir -p "$work/apt/lists/partial" "$work/apt/cache"

mirror=${QUARRY_DEBIAN_MIRROR:-http://deb.debian.org/debian}
keyring=/usr/share/keyrings/debian-archive-keyring.gpg
signed=""
[[ -r $keyring ]] && signed="[signed-by=$keyring] "
echo "deb-src ${signed}$mirror $suite main" >"$work/apt/sources.list"

apt_private=(
	-o "Dir::Etc::SourceList=$work/apt/sources.list"
	-o "Dir::Etc::SourceParts=/dev/null"
	-o "Dir::State::Lists=$work/apt/lists"
	-o "Dir::Cache=$work/apt/cache"
	-o "Debug::NoLocking=true"
	-o "APT::Sandbox::User=root" # the build directory need not be writable by _apt
	-qq
)

say "reading Debian $suite's source index from $mirror"
# --error-on=any: without it an unreachable mirror is only a warning.
if ! apt-get "${apt_private[@]}" --error-on=any update; then
	echo "build_pg.sh: could not fetch or verify Debian $suite's index from $mirror (no network," \
		"a mirror that is down: set QUARRY_DEBIAN_MIRROR; or a keyring in $keyring too old for $suite)" >&2
	exit 1
fi
debver=$( (apt-cache "${apt_private[@]}" showsrc --only-source "postgresql-$major" 2>/dev/null || true) |
	awk '/^Version:/ { print $2 }' | sort -V | tail -1)
if [[ -z $debver ]]; then
	echo "build_pg.sh: Debian $suite has no source package postgresql-$major" >&2
	exit 1
fi
version=${debver#*:}    # no epoch
version=${version%-*}   # upstream part, e.g. 17.12
name="pg$major-$version"
prefix="$cache/$name"

if built "$prefix"; then
	relink "$name"
	rm -rf "$work"
	say "PostgreSQL $version was already built; $link -> $name"
	exit 0
fi

# Downloads Debian version $1 of postgresql-$major by URL from the pool into
# $work/pool-$1 and verifies it (signature of the .dsc, then the SHA-256 of every file
# it lists). Returns 1 if the mirror does not serve a file of it; exits 1 on any
# verification failure. Sets dsc_signer and dsc_keyring.
fetch_verified() {
	local v=$1 pinned_sha256=$2 src="postgresql-$major"
	local dir="$work/pool-$v" url="$mirror/pool/main/${src:0:1}/$src"
	local dsc="${src}_${v#*:}.dsc" kr ok=0 sums f h
	mkdir -p "$dir"
	if ! curl -fsS --retry 2 -o "$dir/$dsc" "$url/$dsc" 2>"$dir/curl.err"; then
		say "$v is not on the mirror either ($(tr -d '\n' <"$dir/curl.err"))"
		return 1
	fi
	if [[ $(sha256sum <"$dir/$dsc" | cut -d' ' -f1) != "$pinned_sha256" ]]; then
		echo "build_pg.sh: REFUSING to build: $url/$dsc is not the .dsc whose SHA-256 this script pins" \
			"($pinned_sha256; files kept in $dir)" >&2
		exit 1
	fi
	: >"$dir/gpgv-tried.log"
	for kr in /usr/share/keyrings/debian-keyring.gpg /usr/share/keyrings/debian-maintainers.gpg; do
		[[ -r $kr ]] || continue
		rm -f "$dir/dsc.signed" "$dir/gpgv.status"
		if gpgv --status-fd 3 --keyring "$kr" --output "$dir/dsc.signed" "$dir/$dsc" \
			3>"$dir/gpgv.status" 2>"$dir/gpgv.log" &&
			grep -q '^\[GNUPG:\] GOODSIG ' "$dir/gpgv.status" &&
			grep -q '^\[GNUPG:\] VALIDSIG ' "$dir/gpgv.status"; then
			ok=1
			break
		fi
		{ echo "gpgv --keyring $kr:"; cat "$dir/gpgv.log"; } >>"$dir/gpgv-tried.log"
	done
	if ((!ok)); then
		cat "$dir/gpgv-tried.log" >&2
		echo "build_pg.sh: REFUSING to build: $url/$dsc is not signed by a valid key in" \
			"/usr/share/keyrings/debian-{keyring,maintainers}.gpg (files kept in $dir)" >&2
		exit 1
	fi
	dsc_keyring=$kr
	dsc_signer=$(sed -n 's/^\[GNUPG:\] GOODSIG [0-9A-F]* //p' "$dir/gpgv.status" | head -1)
	dsc_signer+=", key $(awk '$2 == "VALIDSIG" { print $NF; exit }' "$dir/gpgv.status")"
	# From here on only the signed text is read.
	if ! grep -qx "Source: $src" "$dir/dsc.signed" || ! grep -qxF "Version: $v" "$dir/dsc.signed"; then
		echo "build_pg.sh: REFUSING to build: the signed $dsc is not $src version $v (files kept in $dir)" >&2
		exit 1
	fi
	sums=$(awk '/^Checksums-Sha256:/ { s = 1; next } /^[^ ]/ { s = 0 } s && NF == 3 { print $1 "  " $3 }' \
		"$dir/dsc.signed")
	if [[ -z $sums ]] || ! grep -q '\.orig\.tar\.' <<<"$sums"; then
		echo "build_pg.sh: REFUSING to build: the signed $dsc lists no orig tarball in Checksums-Sha256 (files kept in $dir)" >&2
		exit 1
	fi
	while read -r h f; do
		if [[ ! $h =~ ^[0-9a-f]{64}$ || ! $f =~ ^${src}_[A-Za-z0-9.+~-]+$ ]]; then
			echo "build_pg.sh: REFUSING to build: unexpected Checksums-Sha256 line in $dsc: $h $f" >&2
			exit 1
		fi
		if ! curl -fsS --retry 2 -o "$dir/$f" "$url/$f" 2>"$dir/curl.err"; then
			say "$f is not on the mirror ($(tr -d '\n' <"$dir/curl.err"))"
			return 1
		fi
	done <<<"$sums"
	if ! (cd "$dir" && sha256sum --strict --quiet -c - <<<"$sums" >&2); then
		echo "build_pg.sh: REFUSING to build: SHA-256 mismatch against the signed $dsc (files kept in $dir)" >&2
		exit 1
	fi
}

say "fetching Debian source package postgresql-$major $debver"
srcpkgdir=$work
fallback_note=""
if ! apt_out=$(cd "$work" && apt-get "${apt_private[@]}" source --download-only "postgresql-$major=$debver" 2>&1); then
	if ! grep -q ' 404 ' <<<"$apt_out" || [[ ${#fallbacks[@]} -eq 0 ]]; then
		echo "$apt_out" >&2
		echo "build_pg.sh: could not download postgresql-$major $debver from $mirror (set QUARRY_DEBIAN_MIRROR to a mirror that has it)" >&2
		exit 1
	fi
	index_debver=$debver
	say "$index_debver is in $suite's index but not on the mirror (404); trying ${fallbacks[*]%%=*}"
	debver=""
	install_missing curl gpgv debian-keyring
	for pinned in "${fallbacks[@]}"; do
		v=${pinned%%=*}
		dsc_sha256=${pinned#*=}
		dpkg --compare-versions "$v" lt "$index_debver" || continue
		version=${v#*:}
		version=${version%-*}
		if built "$cache/pg$major-$version"; then
			relink "pg$major-$version"
			rm -rf "$work"
			say "$index_debver is in $suite's index but not on the mirror; PostgreSQL $version ($v) was already built; $link -> pg$major-$version"
			exit 0
		fi
		if fetch_verified "$v" "$dsc_sha256"; then
			debver=$v
			break
		fi
	done
	if [[ -z $debver ]]; then
		echo "$apt_out" >&2
		echo "build_pg.sh: the mirror $mirror serves neither postgresql-$major $index_debver nor any of the fallbacks (${fallbacks[*]}); set QUARRY_DEBIAN_MIRROR or update fallback_$major" >&2
		exit 1
	fi
	srcpkgdir="$work/pool-$debver"
	name="pg$major-$version"
	prefix="$cache/$name"
	fallback_note="$index_debver is in $suite's index but not on the mirror; using $debver (the .dsc SHA-256 pinned here, its signature and every file's SHA-256 verified)"
	say "$fallback_note"
	say "signature: $(grep -m1 'Good signature' "$srcpkgdir/gpgv.log" | sed 's/^gpgv: //') ($dsc_keyring)"
else
	[[ -z $apt_out ]] || grep -v -e 'download only mode' <<<"$apt_out" || true
fi
orig=("$srcpkgdir/postgresql-${major}_$version".orig.tar.*)
if [[ ! -f ${orig[0]} ]]; then
	echo "build_pg.sh: no orig tarball postgresql-${major}_$version.orig.tar.* was downloaded" >&2
	exit 1
fi
tar -xf "${orig[0]}" -C "$work"
srcdir="$work/postgresql-$version"
if [[ ! -x $srcdir/configure ]]; then
	echo "build_pg.sh: ${orig[0]} did not unpack into $srcdir" >&2
	exit 1
fi
# Tarballs since 17 no longer ship the bison/flex output.
[[ -f $srcdir/src/backend/parser/gram.c ]] || install_missing bison flex

fail() {
	echo "build_pg.sh: $1 failed; the last lines of $work/$2 (build directory kept):" >&2
	tail -40 "$work/$2" >&2
	exit 1
}

configure_flags=(--prefix="$prefix" --enable-tap-tests --without-icu --without-readline CFLAGS=-O2)
jobs=$(nproc)

say "configuring and building PostgreSQL $version into $prefix (a few minutes)"
(cd "$srcdir" && nice -n 10 ./configure "${configure_flags[@]}") >"$work/configure.log" 2>&1 ||
	fail configure configure.log
(
	nice -n 10 make -C "$srcdir" -j"$jobs" || exit 1
	for m in "${contrib[@]}"; do nice -n 10 make -C "$srcdir/contrib/$m" -j"$jobs" || exit 1; done
) >"$work/make.log" 2>&1 || fail make make.log
(
	nice -n 10 make -C "$srcdir" install || exit 1
	for m in "${contrib[@]}"; do nice -n 10 make -C "$srcdir/contrib/$m" install || exit 1; done
) >"$work/install.log" 2>&1 || fail "make install" install.log

chmod -R a+rX "$prefix"

# The installation has what quarry's build and tests use.
pg_config="$prefix/bin/pg_config"
pgxs=$("$pg_config" --pgxs)
pgxsdir=${pgxs%/src/makefiles/pgxs.mk}
sharedir=$("$pg_config" --sharedir)
pkglibdir=$("$pg_config" --pkglibdir)
missing=()
for f in postgres initdb pg_ctl psql pg_basebackup pgbench pg_upgrade pg_dump pg_restore pg_config; do
	[[ -x $prefix/bin/$f ]] || missing+=("$prefix/bin/$f")
done
for f in "$pgxs" "$pgxsdir/src/test/regress/pg_regress" \
	"$pgxsdir/src/test/perl/PostgreSQL/Test/Cluster.pm" \
	"$("$pg_config" --includedir-server)/postgres.h"; do
	[[ -e $f ]] || missing+=("$f")
done
for m in "${contrib[@]}"; do
	[[ -e $sharedir/extension/$m.control ]] || missing+=("$sharedir/extension/$m.control")
	[[ -e $pkglibdir/$m.so ]] || missing+=("$pkglibdir/$m.so")
done
if [[ ${#missing[@]} -gt 0 ]]; then
	echo "build_pg.sh: the installation in $prefix lacks: ${missing[*]}" >&2
	exit 1
fi
"$prefix/bin/postgres" --version >/dev/null

elapsed=$((SECONDS - start))
mkdir -p "$prefix/build-log"
for log in configure make install; do
	gzip -9c "$work/$log.log" >"$prefix/build-log/$log.log.gz"
done
{
	if [[ -n $fallback_note ]]; then
		echo "postgresql-$major $debver from $mirror/pool/main/p/postgresql-$major/ (by URL, not from a signed index), orig tarball only"
		echo "fallback: $fallback_note"
		echo "verified: .dsc signed by $dsc_signer (gpgv, $dsc_keyring, debian-keyring $(dpkg-query -W -f='${Version}' debian-keyring));" \
			"SHA-256 of every file in its Checksums-Sha256 matched"
		cp "$srcpkgdir/gpgv.log" "$prefix/build-log/gpgv.log"
	else
		echo "postgresql-$major $debver from Debian $suite ($mirror), orig tarball only"
	fi
	echo "configure ${configure_flags[*]}"
	echo "built $(date -u +%FT%TZ) in ${elapsed} s with make -j$jobs"
} >"$prefix/build-log/summary"
cp "$prefix/build-log/summary" "$prefix/.quarry-built"
rm -rf "$work"
relink "$name"
say "PostgreSQL $version ready in $link -> $name ($((elapsed / 60)) min $((elapsed % 60)) s)"
