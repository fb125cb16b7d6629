// PostgreSQL's API as quarry uses it on every supported version (15, 17, 18;
// 16 in between): each difference behind a small function named for what it
// does, with the version that changed it. src/am never tests
// PG_VERSION_NUM itself; it calls these.
//
// C-shaped: they call PostgreSQL directly.
#pragma once

#include "pg/postgres_api.h"

extern "C" {
#include "access/amapi.h"
#include "access/genam.h"
#include "catalog/namespace.h"
#include "commands/explain.h"
#include "miscadmin.h"
#include "nodes/execnodes.h"
#include "optimizer/optimizer.h"
#include "commands/vacuum.h"
#if PG_VERSION_NUM >= 180000
// ExplainProperty*() moved here in PostgreSQL 18.
#include "commands/explain_format.h"
#endif
#include "access/stratnum.h"
#include "nodes/pathnodes.h"
#include "nodes/pg_list.h"
#include "storage/bufmgr.h"
#include "utils/rel.h"
#include "utils/regproc.h"
}

namespace quarry::pg {

/// vacuum_delay_point(): PostgreSQL 18 added its `is_analyze` argument.
inline void
VacuumDelayPoint()
{
#if PG_VERSION_NUM >= 180000
	vacuum_delay_point(false);
#else
	vacuum_delay_point();
#endif
}

/// A possibly qualified name ("schema.name") as a name list, raising an
/// ERROR when it is malformed. PostgreSQL 16 added the soft-error argument.
inline List *
QualifiedNameList(const char *name)
{
#if PG_VERSION_NUM >= 160000
	return stringToQualifiedNameList(name, nullptr);
#else
	return stringToQualifiedNameList(name);
#endif
}

/// ReadRecentBuffer() of a block of `relation`'s main fork: pins `recent` if
/// it still holds that block. PostgreSQL 16 renamed RelFileNode (rd_node) to
/// RelFileLocator (rd_locator).
inline bool
ReadRecentMainBuffer(Relation relation, BlockNumber block, Buffer recent)
{
#if PG_VERSION_NUM >= 160000
	return ReadRecentBuffer(relation->rd_locator, MAIN_FORKNUM, block, recent);
#else
	return ReadRecentBuffer(relation->rd_node, MAIN_FORKNUM, block, recent);
#endif
}

/// index_beginscan() without instrumentation: PostgreSQL 18 added its
/// `instrument` argument.
inline IndexScanDesc
IndexBeginScan(Relation heap, Relation index, Snapshot snapshot, int nkeys, int norderbys)
{
#if PG_VERSION_NUM >= 180000
	return index_beginscan(heap, index, snapshot, nullptr, nkeys, norderbys);
#else
	return index_beginscan(heap, index, snapshot, nkeys, norderbys);
#endif
}

/// Whether a path key sorts ascending: PostgreSQL 18 replaced its
/// btree strategy number (pk_strategy) with a compare type (pk_cmptype).
inline bool
PathKeyAscending(const PathKey *key)
{
#if PG_VERSION_NUM >= 180000
	return key->pk_cmptype == COMPARE_LT;
#else
	return key->pk_strategy == BTLessStrategyNumber;
#endif
}

/// Tells PostgreSQL that the access method builds in parallel (CREATE INDEX
/// then plans workers for it). PostgreSQL 17 added amcanbuildparallel;
/// before, only btree got workers from the core.
inline void
SetCanBuildParallel(IndexAmRoutine *am, bool value)
{
#if PG_VERSION_NUM >= 170000
	am->amcanbuildparallel = value;
#else
	(void)am;
	(void)value;
#endif
}

/// How many parallel workers a CREATE INDEX of `index` on `heap` should ask
/// for (0: build serially). PostgreSQL 17 plans them itself for access
/// methods with amcanbuildparallel (ii_ParallelWorkers; 0 when the caller
/// asked for a serial build); on 15 and 16 the core plans them for btree
/// only, so the access method calls plan_create_index_workers itself, as
/// pgvector does (max_parallel_maintenance_workers, the table's
/// parallel_workers, min_parallel_table_scan_size, parallel safety).
inline int
ParallelBuildWorkers(Relation heap, Relation index, IndexInfo *info)
{
#if PG_VERSION_NUM >= 170000
	(void)heap;
	(void)index;
	return info->ii_ParallelWorkers;
#else
	(void)info;
	if (!IsNormalProcessingMode())
		return 0;
	return plan_create_index_workers(RelationGetRelid(heap), RelationGetRelid(index));
#endif
}

} // namespace quarry::pg
