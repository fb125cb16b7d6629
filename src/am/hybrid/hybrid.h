// Hybrid search (README "Hybrid search"): ORDER BY quarry_hybrid(text_col,
// text_query, vector_col, vector_query [, depth, fusion, k, weight]) on one
// table runs one CustomScan that pulls `depth` candidates from the table's
// quarry_bm25 index and `depth` from its quarry_hnsw index (WHERE filters
// applied to each side as it is read), fuses the two rankings
// (src/fusion) and returns the rows in fused order.
//
//   hybrid_plan.cpp       the planner hook (quarry_hybrid(...) ->
//                         quarry_hybrid_scored(ctid, site, ...)) and the
//                         set_rel_pathlist hook that plans the scan
//   hybrid_exec.cpp       the CustomScan's executor callbacks and EXPLAIN
//   hybrid_functions.cpp  the SQL functions, and the registry through which
//                         they read a scan's fused values
#pragma once

#include "pg/postgres_api.h"

#include "fusion/fusion.h"

extern "C" {
#include "nodes/extensible.h"
#include "nodes/pathnodes.h"
#include "storage/itemptr.h"
#include "utils/memutils.h"
}

#include <cstdint>
#include <span>
#include <string_view>

namespace quarry::am::hybrid {

/// Installs the planner hooks and registers the CustomScan (from _PG_init).
void Initialize();

/// Arguments of quarry_hybrid_scored(ctid, site, text_col, text_query,
/// vector_col, vector_query, depth, fusion, k, weight), by position.
enum Arg : int {
	kCtid = 0,
	kSite = 1,
	kTextColumn = 2,
	kTextQuery = 3,
	kVectorColumn = 4,
	kVectorQuery = 5,
	kDepth = 6,
	kFusion = 7,
	kK = 8,
	kWeight = 9,
	kArgCount = 10,
};

/// The values a hybrid ranking is asked with (the query arguments and the
/// fusion parameters), as the scan evaluated them or a function received
/// them. `null[i]` for a NULL argument i (only the two queries may be NULL).
struct Request {
	Datum values[kArgCount];
	bool null[kArgCount];
};

/// The identity of a request, a byte string (queries' bytes, parameters);
/// palloc'd in the current memory context.
std::string_view RequestKey(const Request &request);

/// The fusion options of a request; ERRORs (thrown) on a bad depth, fusion
/// name, k or weight.
fusion::Options RequestOptions(const Request &request, uint32_t *depth);

/// A registered scan's fused rows (hybrid_functions.cpp).
struct Ranking;

/// Makes the fused rows `by_row` (sorted by row) of the scan `site` for `key`
/// readable by the functions until `owner` is reset or deleted. Throws when
/// too many hybrid scans are running at once.
Ranking *RegisterRanking(MemoryContext owner, int32_t site, std::string_view key, std::span<const fusion::Fused> by_row);

/// Notes that the row fused as `root` (the TID the indexes hold: the root of
/// a HOT chain) was returned as the tuple version at `actual`, so that the
/// functions, given the returned row's ctid, find it. At most one per fused
/// row.
void AddAlias(Ranking *ranking, uint64_t actual, uint64_t root);

/// The fused row `tid` of the running scan `site` for `key`, or nullptr
/// when no such scan runs (or it did not rank the row).
const fusion::Fused *FindRanked(int32_t site, std::string_view key, ItemPointer tid, bool *scan_found);

/// Makes the hybrid scan the only path of `rel`, for the rewritten calls
/// `calls` on it (hybrid_path.cpp; called by the set_rel_pathlist hook).
void AddHybridPath(PlannerInfo *root, RelOptInfo *rel, RangeTblEntry *rte, List *calls);

/// The CustomScan's plan and executor methods (hybrid_exec.cpp).
extern const CustomScanMethods kScanMethods;
extern const CustomExecMethods kExecMethods;

} // namespace quarry::am::hybrid
