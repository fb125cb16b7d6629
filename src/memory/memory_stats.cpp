#include "memory/memory_stats.h"

#include <atomic>

namespace quarry::mem {

namespace {

struct BuildCounters {
	std::atomic<uint64_t> created{0};
	std::atomic<uint64_t> destroyed{0};
	std::atomic<int64_t> current{0};
	std::atomic<int64_t> peak{0};
};

struct ScanCounters {
	uint64_t created = 0;
	uint64_t resets = 0;
	uint64_t blocks = 0;
	uint64_t peak = 0;
};

BuildCounters build;
ScanCounters scan;

} // namespace

namespace detail {

uint64_t scan_allocations = 0;

void
NoteBuildArenaCreated()
{
	build.created.fetch_add(1, std::memory_order_relaxed);
}

void
NoteBuildArenaDestroyed()
{
	build.destroyed.fetch_add(1, std::memory_order_relaxed);
}

void
AddBuildBytes(int64_t delta)
{
	int64_t now = build.current.fetch_add(delta, std::memory_order_relaxed) + delta;
	int64_t peak = build.peak.load(std::memory_order_relaxed);
	while (now > peak && !build.peak.compare_exchange_weak(peak, now, std::memory_order_relaxed))
	{
	}
}

void
NoteScanArenaCreated()
{
	scan.created++;
}

void
NoteScanArenaReset()
{
	scan.resets++;
}

void
NoteScanBlock()
{
	scan.blocks++;
}

void
NoteScanFootprint(uint64_t bytes)
{
	if (bytes > scan.peak)
		scan.peak = bytes;
}

} // namespace detail

void
AddWorkerBuildArenas(uint64_t created, uint64_t destroyed)
{
	build.created.fetch_add(created, std::memory_order_relaxed);
	build.destroyed.fetch_add(destroyed, std::memory_order_relaxed);
}

MemoryStats
ReadMemoryStats()
{
	MemoryStats s;
	s.build_arenas_created = build.created.load(std::memory_order_relaxed);
	s.build_arenas_destroyed = build.destroyed.load(std::memory_order_relaxed);
	int64_t current = build.current.load(std::memory_order_relaxed);
	s.build_bytes_current = current > 0 ? static_cast<uint64_t>(current) : 0;
	s.build_bytes_peak = static_cast<uint64_t>(build.peak.load(std::memory_order_relaxed));
	s.scan_arenas_created = scan.created;
	s.scan_arena_resets = scan.resets;
	s.scan_blocks_allocated = scan.blocks;
	s.scan_allocations = detail::scan_allocations;
	s.scan_bytes_peak = scan.peak;
	return s;
}

void
ResetMemoryStatsPeaks()
{
	build.peak.store(build.current.load(std::memory_order_relaxed), std::memory_order_relaxed);
	scan.peak = 0;
}

} // namespace quarry::mem
