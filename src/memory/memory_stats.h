// Per-process allocator counters, read by quarry_memory_stats().
//
// A PostgreSQL backend is one process, so "per process" is "per backend". Build
// arenas may be used from helper threads, so their counters are atomic; scan arenas
// live in one backend thread and use plain counters.
#pragma once

#include <cstdint>

namespace quarry::mem {

struct MemoryStats {
	uint64_t build_arenas_created = 0;
	uint64_t build_arenas_destroyed = 0;
	uint64_t build_bytes_current = 0;	// live bytes in all build arenas
	uint64_t build_bytes_peak = 0;		// high-water mark of build_bytes_current
	uint64_t scan_arenas_created = 0;
	uint64_t scan_arena_resets = 0;
	uint64_t scan_blocks_allocated = 0; // blocks taken from the block source
	uint64_t scan_allocations = 0;		// Allocate() calls served by scan arenas
	uint64_t scan_bytes_peak = 0;		// largest block footprint of one scan arena
};

/// A snapshot of this process's counters.
MemoryStats ReadMemoryStats();

/// Counts build arenas that parallel workers of a build this process led
/// created and destroyed (their processes' counters, reported back through
/// the build's shared memory) as this process's own, so that
/// quarry_memory_stats() in the leader covers every participant.
void AddWorkerBuildArenas(uint64_t created, uint64_t destroyed);

/// Sets the peak counters back to the current values (the other counters keep
/// counting), so a test or a user can measure one piece of work.
void ResetMemoryStatsPeaks();

namespace detail {
void NoteBuildArenaCreated();
void NoteBuildArenaDestroyed();
void AddBuildBytes(int64_t delta);
void NoteScanArenaCreated();
void NoteScanArenaReset();
void NoteScanBlock();
void NoteScanFootprint(uint64_t bytes);
extern uint64_t scan_allocations;
} // namespace detail

} // namespace quarry::mem
