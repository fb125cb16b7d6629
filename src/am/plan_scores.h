// After planning: ordered quarry index scans' projections take the values the
// scans ordered by (plan_scores.cpp, am/returned_rows.h).
#pragma once

#include "pg/postgres_api.h"

extern "C" {
#include "nodes/plannodes.h"
}

namespace quarry::am {

/// Rewrites `stmt` so that the projection and filter of every ordered
/// quarry_bm25 and quarry_hnsw index scan evaluate quarry_bm25_scored /
/// quarry_hnsw_scored in place of the ordering operator. Called by the
/// planner hook (bm25_planner.cpp) for every planned statement.
void UseScanValues(PlannedStmt *stmt);

} // namespace quarry::am
