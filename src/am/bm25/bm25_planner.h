// The planner hook of quarry_bm25 (bm25_planner.cpp) and the rewrite after
// planning that gives ordered scans' projections the scans' scores
// (bm25_plan_scores.cpp).
#pragma once

#include "pg/postgres_api.h"

extern "C" {
#include "nodes/plannodes.h"
}

namespace quarry::am::bm25 {

/// Installs the planner hook (called from _PG_init).
void InstallPlannerHook();

/// After planning: the projection and filter of every ordered quarry_bm25
/// index scan take the scan's scores (bm25_plan_scores.cpp).
void UseScanScores(PlannedStmt *stmt, Oid score_op);

} // namespace quarry::am::bm25
