// SQL functions over the allocator counters: quarry_memory_stats() and
// quarry_memory_stats_reset().
#include "pg/postgres_api.h"

extern "C" {
#include "access/htup_details.h"
#include "funcapi.h"
}

#include "memory/memory_stats.h"
#include "pg/guard.h"
#include "pg/memory_glue.h"
#include "pg/result_row.h"

namespace {

Datum
Counter(uint64_t value)
{
	return Int64GetDatum(static_cast<int64_t>(value));
}

} // namespace

// One row with this backend's counters; see sql/quarry--0.1.0.sql for the columns.
QUARRY_FUNCTION(quarry_memory_stats)
{
	return quarry::pg::Boundary("quarry_memory_stats", [&]() -> Datum {
		quarry::mem::MemoryStats s = quarry::mem::ReadMemoryStats();
		uint64_t live = s.build_arenas_created - s.build_arenas_destroyed;
		Datum values[] = {
			Counter(s.build_arenas_created),
			Counter(s.build_arenas_destroyed),
			Counter(live),
			Counter(s.build_bytes_current),
			Counter(s.build_bytes_peak),
			Counter(s.scan_arenas_created),
			Counter(s.scan_arena_resets),
			Counter(s.scan_blocks_allocated),
			Counter(s.scan_allocations),
			Counter(s.scan_bytes_peak),
			Counter(quarry::pg::BackendRssBytes()),
			Counter(quarry::pg::BackendAnonBytes()),
		};
		bool nulls[lengthof(values)] = {};
		return quarry::pg::ResultRow(fcinfo, "quarry_memory_stats", values, nulls);
	});
}

// Sets the peak counters back to the current values.
QUARRY_FUNCTION(quarry_memory_stats_reset)
{
	return quarry::pg::Boundary("quarry_memory_stats_reset", [&]() -> Datum {
		quarry::mem::ResetMemoryStatsPeaks();
		PG_RETURN_VOID();
	});
}
