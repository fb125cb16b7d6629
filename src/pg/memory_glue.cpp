#include "pg/memory_glue.h"

#include "pg/owned.h"

#include <cstdio>
#include <unistd.h>

namespace quarry::pg {

namespace {

void *
PallocBlock(void *state, std::size_t bytes)
{
	return MemoryContextAllocExtended(static_cast<MemoryContext>(state), bytes,
									  MCXT_ALLOC_HUGE | MCXT_ALLOC_NO_OOM);
}

void
PfreeBlock(void *, void *block)
{
	pfree(block);
}

} // namespace

mem::BuildArena *
CreateBuildArena(MemoryContext owner)
{
	return MakeOwned<mem::BuildArena>(owner);
}

mem::BlockSource
PallocBlockSource(MemoryContext context)
{
	mem::BlockSource source;
	source.allocate = PallocBlock;
	source.release = PfreeBlock;
	source.state = context;
	return source;
}

mem::ScanArena *
CreateScanArena(MemoryContext owner, std::size_t first_block)
{
	return MakeOwned<mem::ScanArena>(owner, PallocBlockSource(owner), first_block);
}

std::size_t
BackendRssBytes()
{
	FILE *f = std::fopen("/proc/self/statm", "r");
	if (f == nullptr)
		return 0;
	unsigned long size = 0, resident = 0;
	int n = std::fscanf(f, "%lu %lu", &size, &resident);
	std::fclose(f);
	if (n != 2)
		return 0;
	return static_cast<std::size_t>(resident) * static_cast<std::size_t>(sysconf(_SC_PAGESIZE));
}

} // namespace quarry::pg
