// Citus distributed tables, recognised without linking Citus: a table is
// distributed when pg_dist_partition (Citus's catalog) has a row for it with
// a hash, range or append method. On the coordinator such a table holds no
// rows; Citus sends each statement to its shards, which plan it again, so
// quarry's planner hooks leave the statement for the shards to rewrite
// (bm25_planner.cpp, hybrid_plan.cpp; README "Scaling out with Citus").
#pragma once

#include "pg/postgres_api.h"

namespace quarry::am {

/// Whether table `relid` is distributed by Citus (its shards hold different
/// rows). Reference and Citus local tables are not: each copy is whole.
bool IsDistributedTable(Oid relid);

} // namespace quarry::am
