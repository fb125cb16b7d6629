// The catalog generation (catalog_generation.h): syscache invalidation
// callbacks, registered once per backend on first use, bump a counter.
#include "am/catalog_generation.h"

extern "C" {
#include "utils/inval.h"
#include "utils/syscache.h"
}

namespace quarry::am {

namespace {

uint64_t generation = 1;
bool registered = false;

// Any invalidation of the caches below: the names may resolve differently.
void
BumpGeneration(Datum, int, uint32)
{
	generation++;
}

} // namespace

uint64_t
CatalogGeneration()
{
	if (!registered)
	{
		const SysCacheIdentifier caches[] = {PROCOID, OPEROID, TYPEOID, NAMESPACEOID, AMOID};
		for (SysCacheIdentifier cache : caches)
			CacheRegisterSyscacheCallback(cache, BumpGeneration, (Datum) 0);
		registered = true;
		generation++;
	}
	return generation;
}

} // namespace quarry::am
