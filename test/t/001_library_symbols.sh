#!/usr/bin/env bash
# The installed quarry.so carries its private jemalloc without leaking it:
#   - no dynamic dependency on any libjemalloc,
#   - no exported allocator symbol (malloc/free/calloc/realloc/..., operator
#     new/delete), so loading quarry cannot take the backend's allocator over,
#   - no exported jemalloc symbol at all, prefixed or not,
#   - the entry points PostgreSQL needs are exported.
# (That the backend still allocates through glibc after LOAD is checked in
# sql/memory_arenas.sql.)
set -euo pipefail
so="$("${PG_BINDIR:-$(pg_config --bindir)}/pg_config" --pkglibdir)/quarry.so"
[[ -f $so ]] || { echo "not installed: $so"; exit 1; }
status=0

needed=$(readelf -d "$so" | awk '/NEEDED/ {print $5}' | tr -d '[]')
echo "NEEDED: $(echo $needed)"
if grep -qi jemalloc <<<"$needed"; then
	echo "FAIL: quarry.so depends on a shared jemalloc"
	status=1
fi

exported=$(nm -D --defined-only "$so" | awk '{print $3}')
for sym in malloc free calloc realloc posix_memalign aligned_alloc memalign valloc \
	malloc_usable_size mallocx dallocx sdallocx mallctl _Znwm _Znam _ZdlPv _ZdaPv _ZdlPvm _ZdaPvm \
	_ZnwmRKSt9nothrow_t _ZnwmSt11align_val_t; do
	if grep -qx "$sym" <<<"$exported"; then
		echo "FAIL: quarry.so exports $sym"
		status=1
	fi
done
if grep -qi "je_\|jemalloc" <<<"$exported"; then
	echo "FAIL: quarry.so exports jemalloc symbols:"
	echo "$exported" | grep -i "je_\|jemalloc" | head
	status=1
fi
for sym in Pg_magic_func _PG_init quarry_memory_stats pg_finfo_quarry_memory_stats; do
	if ! grep -qx "$sym" <<<"$exported"; then
		echo "FAIL: quarry.so does not export $sym"
		status=1
	fi
done
# The private jemalloc is really inside, as local symbols (unless stripped).
local_je=$(nm "$so" 2>/dev/null | awk '$2 == "t" && $3 == "qje_mallocx"' | wc -l)
if [[ $local_je -eq 1 ]]; then
	echo "private jemalloc linked in: qje_mallocx is a local symbol"
elif grep -q "no symbols" <<<"$(nm "$so" 2>&1)"; then
	echo "note: quarry.so is stripped; the private jemalloc cannot be seen by name"
else
	echo "FAIL: the private jemalloc (qje_mallocx) is not linked into quarry.so"
	status=1
fi
echo "exported symbols: $(echo "$exported" | wc -l)"
[[ $status -eq 0 ]] && echo "ok"
exit $status
