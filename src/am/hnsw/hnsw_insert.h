// Inserting one vector into the on-disk graph: aminsert, and a build that ran
// out of maintenance_work_mem.
#pragma once

#include "am/hnsw/hnsw.h"

#include "memory/scan_arena.h"

namespace quarry::am::hnsw {

/// Inserts `vector` (a real[] value already detoasted) for heap tuple `tid`
/// (Malkov & Yashunin 2018, Algorithm 1, on disk). Scratch comes from `arena`,
/// which this resets first. `building`: part of CREATE INDEX (no WAL, no
/// concurrent sessions).
void InsertVectorOnDisk(Relation index, mem::ScanArena &arena, const VectorArg &vector, ItemPointer tid,
						bool building);

} // namespace quarry::am::hnsw
