#include "pg/postgres_api.h"

extern "C" {
#include "utils/guc.h"
}

#include "pg/gucs.h"

#include <climits>

namespace quarry::pg {

// --- quarry_hnsw ---------------------------------------------------------------
int hnsw_ef_search = 40;
int hnsw_max_scan_tuples = 20000;

namespace {

void
DefineHnswGucs()
{
	DefineCustomIntVariable("quarry.hnsw_ef_search", "Size of the candidate list of a quarry_hnsw scan.",
							"Larger finds more of the true nearest neighbours, more slowly (1 to 1000).",
							&hnsw_ef_search, 40, 1, 1000, PGC_USERSET, 0, nullptr, nullptr, nullptr);
	DefineCustomIntVariable("quarry.hnsw_max_scan_tuples",
							"Most index entries a quarry_hnsw scan looks at to find more rows.",
							"When a query filters the rows an ORDER BY ... LIMIT scan returns, the scan "
							"goes on past ef_search until this many entries were scored.",
							&hnsw_max_scan_tuples, 20000, 1, INT_MAX, PGC_USERSET, 0, nullptr, nullptr, nullptr);
}

} // namespace

void
DefineGucs()
{
	DefineHnswGucs();
	MarkGUCPrefixReserved("quarry");
}

} // namespace quarry::pg
