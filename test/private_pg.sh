#!/usr/bin/env bash
# Makes DIR a private copy of the system's PostgreSQL 15 installation (binaries,
# libraries, share files), so quarry can be installed into it with
#   make install DESTDIR=DIR
# and tested without touching the system installation. PostgreSQL finds its
# share and lib directories relative to its binaries, so the copy is
# self-contained. Idempotent. Used by test/run.sh when QUARRY_DESTDIR is set.
set -euo pipefail
dir=${1:?usage: private_pg.sh DIR}
bindir=$(pg_config --bindir)
libdir=$(dirname "$bindir")   # /usr/lib/postgresql/15
sharedir=$(pg_config --sharedir)
if [[ -x $dir$bindir/postgres && -d $dir$sharedir ]]; then
	exit 0
fi
mkdir -p "$dir$(dirname "$libdir")" "$dir$(dirname "$sharedir")"
cp -a "$libdir" "$dir$(dirname "$libdir")/"
cp -a "$sharedir" "$dir$(dirname "$sharedir")/"
# Whatever quarry the system has (other checkouts install theirs there) is
# not copied: only what `make install DESTDIR=DIR` puts in is quarry here.
rm -f "$dir$sharedir"/extension/quarry.control "$dir$sharedir"/extension/quarry--*.sql \
	"$dir$sharedir"/extension/quarry_pgvector.control "$dir$sharedir"/extension/quarry_pgvector--*.sql "$dir$libdir"/lib/quarry.so
chmod -R a+rX "$dir"
