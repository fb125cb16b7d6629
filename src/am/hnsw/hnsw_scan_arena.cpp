// The kept first block of quarry_hnsw scan arenas (hnsw_scan_arena.h).
#include "am/hnsw/hnsw_scan_arena.h"

#include "pg/owned.h"

extern "C" {
#include "utils/memutils.h"
}

namespace quarry::am::hnsw {

namespace {

// The first block of every scan arena comes from one block this backend keeps
// (in TopMemoryContext) between scans: a query then costs no malloc at all
// (a scan needs a few hundred kB; fresh blocks of that size come from mmap or
// brk and fault in page by page). Other blocks, and the first block of a scan
// started while another one holds the kept block, are palloc'd in the scan's
// context.
constexpr std::size_t kKeptBlockBytes = 512 * 1024;
void *kept_block = nullptr;
bool kept_block_in_use = false;

void *
AllocateScanBlock(void *state, std::size_t bytes)
{
	if (!kept_block_in_use && bytes <= kKeptBlockBytes)
	{
		if (kept_block == nullptr)
			kept_block = MemoryContextAllocExtended(TopMemoryContext, kKeptBlockBytes, MCXT_ALLOC_NO_OOM);
		if (kept_block != nullptr)
		{
			kept_block_in_use = true;
			return kept_block;
		}
	}
	return MemoryContextAllocExtended(static_cast<MemoryContext>(state), bytes, MCXT_ALLOC_HUGE | MCXT_ALLOC_NO_OOM);
}

void
ReleaseScanBlock(void *, void *block)
{
	if (block == kept_block)
		kept_block_in_use = false;
	else
		pfree(block);
}

} // namespace

mem::ScanArena *
NewScanArena(MemoryContext context)
{
	mem::BlockSource source;
	source.allocate = AllocateScanBlock;
	source.release = ReleaseScanBlock;
	source.state = context;
	return pg::MakeOwned<mem::ScanArena>(context, source, kKeptBlockBytes - 64);
}

} // namespace quarry::am::hnsw
