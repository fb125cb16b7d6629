// quarry_bm25 on Citus distributed tables (README "Scaling out with Citus").
//
// A distributed table's rows live in shards, each a table with its own
// quarry_bm25 index, so each shard scores with its own N, average length and
// document frequencies. With quarry.bm25_statistics = 'global' the planner
// hook on the node that plans the statement (the coordinator) gives every
// scored query on a distributed table the table's statistics: it runs
//   SELECT quarry_bm25_shard_statistics(<key>, '<query>') FROM <table>
// which Citus sends to every shard over its cached connections, and which
// the planner hook on each worker turns into one row of that shard's
// statistics (bm25_planner.cpp); it sums them and replaces the query constant
// by one carrying the sum, which Citus then sends to every shard with the
// statement. Citus is never linked: a distributed table is recognised by its
// row in pg_dist_partition, and everything else is SQL Citus distributes.
#pragma once

#include "am/distributed_table.h"
#include "pg/postgres_api.h"

namespace quarry::am::bm25 {

enum class StatisticsMode { kShard, kGlobal };

/// quarry.bm25_statistics.
extern int statistics_mode;

/// Defines quarry.bm25_statistics (called from _PG_init).
void DefineDistributedSettings();

/// The statistics (a text datum, fts/term_statistics.h) of the whole table
/// of `index` for `query` (a quarry_query datum): the sum of one row per
/// shard of a distributed table, through Citus's executor and its cached
/// connections; the index's own on any other table.
Datum GlobalStatistics(Oid query_type, Oid index, Datum query);

/// `query` carrying GlobalStatistics.
Datum WithGlobalStatistics(Oid query_type, Oid index, Datum query);

} // namespace quarry::am::bm25
