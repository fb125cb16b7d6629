# shellcheck shell=bash
# PostgreSQL major versions for quarry's tests: 15 is the system's server (Debian
# bookworm's packages), 17 and 18 are built from Debian's source packages by
# test/build_pg.sh into a cache outside the clone. Source this after cluster.sh,
# with $repo set to the repository. It defines:
#
#   quarry_sync_tree SRC DEST     makes DEST a copy of SRC's source files (tracked and
#                                 untracked-but-not-ignored, as they are in the working
#                                 tree, uncommitted changes included), copying only the
#                                 files whose content changed (so they get a new mtime
#                                 and make rebuilds exactly what depends on them) and
#                                 deleting those no longer in SRC. Build outputs in
#                                 DEST (.o, .d, .so) are left alone.
#   pg_prepare_built N LOG        for N = 17 or 18: builds the server if needed
#                                 (test/build_pg.sh N), builds quarry against it in
#                                 $repo/build/pgN (a copy of the tree: PGXS compiles
#                                 next to the sources, and the tree's own objects are
#                                 the PostgreSQL 15 ones) and installs it, and pgvector
#                                 (test/build_pgvector.sh), into the
#                                 server's prefix, or into a private copy of that
#                                 prefix under $QUARRY_DESTDIR when that is set. Prints
#                                 what it does and each part's time; on success sets
#                                 pg_bindir[N]; on failure prints why and returns 1.
#   pg_reachable BINDIR           whether the cluster user can run BINDIR's server and
#                                 read its modules; prints why not
#
# pg_config of an installation built by test/build_pg.sh reports the real directory
# (CACHE/pgN-VERSION), not the CACHE/pgN link: paths below come from pg_config.

declare -gA pg_bindir=()

quarry_sync_tree() { # SRC DEST
	local src=$1 dest=$2 rec name copied=0 removed=0
	local -A want=() have=()
	mkdir -p "$dest" || return 1
	# What SRC has, with each file's SHA-1 ("HASH  NAME" records, NUL-terminated,
	# names unescaped). Files git tracks but the working tree deleted are left out.
	if git -C "$src" rev-parse --git-dir >/dev/null 2>&1; then
		while IFS= read -r -d '' rec; do
			want[${rec:42}]=${rec:0:40}
		done < <(cd "$src" && git ls-files -z --cached --others --exclude-standard |
			while IFS= read -r -d '' name; do
				[[ -f $name ]] && printf '%s\0' "$name"
			done | xargs -0 -r sha1sum -z --)
	else
		while IFS= read -r -d '' rec; do
			want[${rec:42}]=${rec:0:40}
		done < <(cd "$src" && find . \( -path ./build -o -path ./.git \) -prune -o -type f \
			! -name '*.o' ! -name '*.d' ! -name '*.so' ! -name '*.bc' ! -name .pg-config-stamp -printf '%P\0' |
			xargs -0 -r sha1sum -z --)
	fi
	if [[ ${#want[@]} -eq 0 ]]; then
		echo "quarry_sync_tree: no source files found in $src" >&2
		return 1
	fi
	# What DEST has of the files the last sync copied.
	if [[ -f $dest/.quarry-tree ]]; then
		while IFS= read -r -d '' rec; do
			have[${rec:42}]=${rec:0:40}
		done < <(cd "$dest" && while IFS= read -r -d '' name; do
			[[ -f $name ]] && printf '%s\0' "$name"
		done <.quarry-tree | xargs -0 -r sha1sum -z --)
		while IFS= read -r -d '' name; do
			[[ -n ${want[$name]+x} ]] && continue
			rm -f -- "$dest/$name"
			# A deleted source must not leave its object behind for the link.
			[[ $name == *.cpp || $name == *.c ]] && rm -f -- "$dest/${name%.*}.o" "$dest/${name%.*}.d"
			removed=$((removed + 1))
		done <"$dest/.quarry-tree"
	fi
	# The changed files in one tar pipe; --touch: extracted files get the current
	# time, newer than any object made from their previous content.
	local -a changed=()
	for name in "${!want[@]}"; do
		[[ ${have[$name]:-} == "${want[$name]}" ]] || changed+=("$name")
	done
	copied=${#changed[@]}
	if [[ $copied -gt 0 ]]; then
		printf '%s\0' "${changed[@]}" | (cd "$src" && tar --null --ignore-failed-read -T - -cf -) |
			(cd "$dest" && tar --touch --no-same-owner -xf -) || return 1
	fi
	printf '%s\0' "${!want[@]}" >"$dest/.quarry-tree"
	echo "  source tree synced into $dest: ${#want[@]} files, $copied copied, $removed removed"
}

pg_reachable() { # BINDIR
	local bindir=$1 pkglibdir sharedir
	pkglibdir=$("$bindir/pg_config" --pkglibdir 2>/dev/null) &&
		sharedir=$("$bindir/pg_config" --sharedir 2>/dev/null) || {
		echo "  $bindir/pg_config does not run"
		return 1
	}
	if ! as_cluster_user test -x "$bindir/postgres" -a -r "$pkglibdir/quarry.so" \
		-a -r "$sharedir/extension/quarry.control"; then
		echo "  the cluster user ($(cluster_user)) cannot run $bindir/postgres or read quarry in $pkglibdir, $sharedir:"
		echo "  every directory above them must be searchable by it (e.g. /root is mode 700);"
		echo "  point QUARRY_PG_CACHE (test/build_pg.sh's cache) or QUARRY_DESTDIR at a directory it can reach"
		return 1
	fi
}

pg_prepare_built() { # N LOG
	local n=$1 log=$2 t0 prefix pg_config version tree real bindir status
	local -a make_args install_prefix=()
	t0=$SECONDS
	: >"$log"
	# The server, built once into the cache (quiet when it is there).
	"$repo/test/build_pg.sh" "$n" 2>&1 | tee -a "$log" | sed 's/^/  /'
	status=${PIPESTATUS[0]}
	prefix=$("$repo/test/build_pg.sh" --prefix "$n" 2>/dev/null)
	pg_config="$prefix/bin/pg_config"
	if [[ $status -ne 0 || ! -x $pg_config ]]; then
		echo "  PostgreSQL $n could not be built (test/build_pg.sh $n exited $status; its output is above and in $log)"
		return 1
	fi
	version=$("$pg_config" --version)
	echo "  server: $version in $prefix ($((SECONDS - t0)) s)"

	# quarry, in a copy of the tree of its own.
	t0=$SECONDS
	tree=$repo/build/pg$n
	quarry_sync_tree "$repo" "$tree" || return 1
	# Another server build under the same build/pgN (a new minor release): the
	# Makefile's .pg-config-stamp recompiles everything.
	# -Werror: no compiler warning is tolerated (15's build has none either).
	make_args=(-C "$tree" PG_CONFIG="$pg_config" JEMALLOC_DIR="$repo/build/jemalloc" QUARRY_CXXFLAGS=-Werror)
	if ! make -s -j"$(nproc)" "${make_args[@]}" >>"$log" 2>&1; then
		tail -40 "$log" | sed 's/^/    /'
		echo "  quarry does not build against PostgreSQL $n (make in $tree; log: $log)"
		return 1
	fi
	echo "  quarry built against PostgreSQL $n in $tree ($((SECONDS - t0)) s)"

	# Installed into the server's prefix, or into a private copy of it.
	t0=$SECONDS
	bindir=$("$pg_config" --bindir)
	real=$(dirname "$bindir")
	if [[ -n ${QUARRY_DESTDIR:-} ]]; then
		# The copy's programs find share/ and lib/ next to their bin/ (the libpq
		# they load through their RUNPATH stays the original's: the same version).
		if [[ ! -f $QUARRY_DESTDIR$real/.quarry-built ]] ||
			! cmp -s "$real/.quarry-built" "$QUARRY_DESTDIR$real/.quarry-built"; then
			rm -rf "${QUARRY_DESTDIR:?}$real"
			mkdir -p "$QUARRY_DESTDIR$(dirname "$real")"
			cp -a "$real" "$QUARRY_DESTDIR$(dirname "$real")/" || return 1
			chmod -R a+rX "$QUARRY_DESTDIR$real"
		fi
		make_args+=(DESTDIR="$QUARRY_DESTDIR")
		bindir=$QUARRY_DESTDIR$bindir
	fi
	if [[ ! -w ${QUARRY_DESTDIR:-}$("$pg_config" --pkglibdir) ]]; then
		install_prefix=(sudo)
	fi
	if ! "${install_prefix[@]}" make -s "${make_args[@]}" install >>"$log" 2>&1; then
		tail -20 "$log" | sed 's/^/    /'
		echo "  make install into PostgreSQL $n failed (log: $log)"
		return 1
	fi
	# pgvector for quarry_pgvector's tests, built once per server into the cache.
	# Without it pg_regress's pgvector tests fail; the server's other stages
	# (crash recovery, replica, upgrade) still run.
	if ! "$repo/test/build_pgvector.sh" "$pg_config" "${QUARRY_DESTDIR:-}" >>"$log" 2>&1; then
		tail -8 "$log" | sed 's/^/    /'
		echo "  WARNING: pgvector could not be built or installed for PostgreSQL $n (log: $log);" \
			"pg_regress's pgvector tests fail there"
	fi
	pg_reachable "$bindir" || return 1
	echo "  installed into $(dirname "$bindir") ($((SECONDS - t0)) s)"
	pg_bindir[$n]=$bindir
}
