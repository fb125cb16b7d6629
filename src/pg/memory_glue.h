// PostgreSQL side of src/memory: the build arena and the scan arena bound to
// MemoryContexts.
#pragma once

#include "pg/postgres_api.h"

#include "memory/build_arena.h"
#include "memory/scan_arena.h"

#include <cstddef>

namespace quarry::pg {

/// A BuildArena destroyed when `owner` is reset or deleted: at the end of the
/// build, or by the abort of an ERROR or a cancel. Typical use in ambuild:
///
///   MemoryContext cxt = AllocSetContextCreate(CurrentMemoryContext, "quarry build",
///                                             ALLOCSET_DEFAULT_SIZES);
///   mem::BuildArena *arena = CreateBuildArena(cxt);
///   ...                       // build structures allocate from *arena
///   MemoryContextDelete(cxt); // arena destroyed; memory back to the OS
mem::BuildArena *CreateBuildArena(MemoryContext owner);

/// A BlockSource that pallocs blocks in `context` (MCXT_ALLOC_NO_OOM, so a failure
/// is a nullptr and never a longjmp).
mem::BlockSource PallocBlockSource(MemoryContext context);

/// A ScanArena whose blocks live in `owner`; deleting `owner` frees everything.
mem::ScanArena *CreateScanArena(MemoryContext owner,
								std::size_t first_block = mem::ScanArena::kDefaultFirstBlock);

/// Resident set size of this backend process (VmRSS), shared memory pages it
/// touched included; 0 if unavailable.
std::size_t BackendRssBytes();

/// Private anonymous memory of this backend (RssAnon): what malloc, palloc and
/// jemalloc use, without shared_buffers. 0 if unavailable.
std::size_t BackendAnonBytes();

} // namespace quarry::pg
