# What test/build_pgvector.sh and test/build_citus.sh share: the cache they
# build into, the PostgreSQL they build for, and installing a cached build.
# Source it after setting pg_config (a pg_config path) and destdir (a
# DESTDIR, or empty for the installation itself), and defining say(); it sets
#   cache                       $QUARRY_PG_CACHE, else /var/cache/quarry as root,
#                               else ${XDG_CACHE_HOME:-$HOME/.cache}/quarry (absolute)
#   pg_version major key        pg_config --version, its major version, and a hash
#                               of the version and server include directory (a
#                               build is kept per key)
#   pkglibdir sharedir          where the PostgreSQL installs extensions
# and defines
#   installed DIR               whether the target has every file of DIR/stage, equal
#   install_build DIR           copies DIR/stage into the target (sudo when it is
#                               not writable) and says so with DIR/.quarry-built

if [[ -n ${QUARRY_PG_CACHE:-} ]]; then
	cache=$QUARRY_PG_CACHE
elif [[ $(id -u) -eq 0 ]]; then
	cache=/var/cache/quarry
else
	cache=${XDG_CACHE_HOME:-$HOME/.cache}/quarry
fi
[[ $cache == /* ]] || cache=$PWD/$cache

pg_version=$("$pg_config" --version)
major=$(sed -E 's/^PostgreSQL ([0-9]+).*/\1/' <<<"$pg_version")
key=$(printf '%s\n%s\n' "$pg_version" "$("$pg_config" --includedir-server)" | sha1sum | cut -c1-12)
pkglibdir=$("$pg_config" --pkglibdir)
sharedir=$("$pg_config" --sharedir)

installed() {
	local dir=$1 f
	while IFS= read -r -d '' f; do
		cmp -s "$dir/stage/$f" "$destdir/$f" || return 1
	done < <(cd "$dir/stage" && find . -type f -printf '%P\0')
}

install_build() {
	local dir=$1 sudo=()
	if [[ ! -w ${destdir:-/}$pkglibdir || ! -w ${destdir:-/}$sharedir/extension ]]; then
		[[ $(id -u) -ne 0 ]] && sudo=(sudo)
	fi
	[[ -z $destdir ]] || mkdir -p "$destdir"
	(cd "$dir/stage" && tar -cf - .) | "${sudo[@]}" tar --no-same-owner -xf - -C "${destdir:-/}"
	say "$(cat "$dir/.quarry-built") installed into ${destdir:+$destdir }$(dirname "$pkglibdir")"
}
