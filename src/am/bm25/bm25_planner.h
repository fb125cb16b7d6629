// The planner hooks of quarry_bm25: the planner hook (bm25_planner.cpp;
// after planning it calls am/plan_scores.h), and the hooks that present an
// index on several fields as one column holding their row
// (bm25_fields_plan.cpp).
#pragma once

#include "pg/postgres_api.h"

extern "C" {
#include "nodes/plannodes.h"
}

namespace quarry::am::bm25 {

/// Installs the planner hook (called from _PG_init).
void InstallPlannerHook();

/// Installs get_relation_info_hook and get_index_stats_hook for indexes on
/// several fields (called from _PG_init).
void InstallFieldsPlanHooks();

} // namespace quarry::am::bm25
