// The memory of a quarry_hnsw scan: a ScanArena (src/memory/scan_arena.h)
// whose first block is one this backend keeps between scans.
#pragma once

#include "pg/postgres_api.h"

#include "memory/scan_arena.h"

namespace quarry::am::hnsw {

/// A scan arena owned by `context` (destroyed with it). Its first block is
/// the backend's kept block when no other scan holds it, so a query
/// allocates nothing from the system (hnsw_scan_arena.cpp).
mem::ScanArena *NewScanArena(MemoryContext context);

} // namespace quarry::am::hnsw
