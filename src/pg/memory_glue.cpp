#include "pg/memory_glue.h"

#include "pg/owned.h"

#include <cstdio>
#include <cstdlib>
#include <cstring>
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

namespace {

// A "Name:   123 kB" line of /proc/self/status, in bytes.
std::size_t
StatusKilobytes(const char *name)
{
	FILE *f = std::fopen("/proc/self/status", "r");
	if (f == nullptr)
		return 0;
	char line[256];
	std::size_t name_len = std::strlen(name);
	std::size_t bytes = 0;
	while (std::fgets(line, sizeof line, f) != nullptr)
	{
		if (std::strncmp(line, name, name_len) == 0 && line[name_len] == ':')
		{
			bytes = static_cast<std::size_t>(std::strtoull(line + name_len + 1, nullptr, 10)) * 1024;
			break;
		}
	}
	std::fclose(f);
	return bytes;
}

} // namespace

std::size_t
BackendRssBytes()
{
	return StatusKilobytes("VmRSS");
}

std::size_t
BackendAnonBytes()
{
	return StatusKilobytes("RssAnon");
}

} // namespace quarry::pg
