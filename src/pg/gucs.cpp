#include "pg/postgres_api.h"

extern "C" {
#include "utils/guc.h"
}

#include "pg/gucs.h"

#include <climits>

namespace quarry::pg {

// --- quarry_bm25 ---------------------------------------------------------------
int bm25_pending_limit_kb = 1024;

// --- quarry_hnsw ---------------------------------------------------------------
int hnsw_ef_search = 40;
int hnsw_max_scan_tuples = 20000;

namespace {

void
DefineBm25Gucs()
{
	DefineCustomIntVariable("quarry.bm25_pending_limit",
							"std::size_t at which a quarry_bm25 index flushes its pending list into a segment.",
							"Rows inserted after CREATE INDEX wait in the pending list, which every query "
							"reads in full; a smaller limit keeps queries fast, a larger one makes fewer segments.",
							&bm25_pending_limit_kb, 1024, 64, 1024 * 1024, PGC_USERSET, GUC_UNIT_KB, nullptr, nullptr,
							nullptr);
}

void
DefineHnswGucs()
{
	DefineCustomIntVariable("quarry.hnsw_ef_search", "std::size_t of the candidate list of a quarry_hnsw scan.",
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
	DefineBm25Gucs();
	DefineHnswGucs();
	MarkGUCPrefixReserved("quarry");
}

} // namespace quarry::pg
