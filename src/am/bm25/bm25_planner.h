// The planner hook of quarry_bm25 (bm25_planner.cpp); after planning it
// calls am/plan_scores.h.
#pragma once

#include "pg/postgres_api.h"

extern "C" {
#include "nodes/plannodes.h"
}

namespace quarry::am::bm25 {

/// Installs the planner hook (called from _PG_init).
void InstallPlannerHook();

} // namespace quarry::am::bm25
