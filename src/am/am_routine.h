// The index access method handler both quarry_bm25 and quarry_hnsw use: the
// capabilities they share (an index that orders by an operator, one column,
// no uniqueness, no index-only scans) and the wrappers through which
// PostgreSQL calls every callback. One wrapper per callback kind, for both:
// each runs the callback in pg::IndexBoundary (or pg::Boundary when there is
// no index), so no C++ exception reaches PostgreSQL and every ERROR names
// the index ("quarry_bm25 gettuple of index "docs_body_idx"").
//
// The callbacks are listed once, in QUARRY_INDEX_CALLBACKS: each access
// method declares them in its namespace (bm25.h, hnsw.h) and binds them in a
// struct its handler passes to MakeIndexAmRoutine:
//
//   namespace quarry::am::bm25 {
//   QUARRY_INDEX_CALLBACKS(QUARRY_DECLARE_CALLBACK)       // bm25.h: Build, Insert, ...
//   struct Callbacks {                                    // bm25_handler.cpp
//       static constexpr const char *kName = "quarry_bm25";
//       static constexpr uint16_t kSupportProcs = 0;
//       static constexpr bool kMultiColumn = false;
//       static constexpr bool kParallelBuild = false;   // CREATE INDEX with workers
//       QUARRY_INDEX_CALLBACKS(QUARRY_BIND_CALLBACK)
//       static constexpr auto getbitmap = GetBitmap;      // or nullptr
//   };
//   }
//   QUARRY_FUNCTION(quarry_bm25_handler) { PG_RETURN_POINTER(am::MakeIndexAmRoutine<bm25::Callbacks>()); }
#pragma once

#include "pg/compat.h"
#include "pg/guard.h"
#include "pg/index_pages.h"
#include "pg/postgres_api.h"

extern "C" {
#include "access/amapi.h"
#include "access/relscan.h"
#include "commands/vacuum.h"
#include "nodes/pathnodes.h"
#include "utils/rel.h"
}

#include <cstdint>

/// Every callback both access methods implement: X(member, Function, return
/// type, parameters). amgetbitmap is bm25's alone and bound by hand.
#define QUARRY_INDEX_CALLBACKS(X)                                                                                    \
	X(build, Build, IndexBuildResult *, (Relation heap, Relation index, IndexInfo *info))                           \
	X(buildempty, BuildEmpty, void, (Relation index))                                                                \
	X(insert, Insert, bool,                                                                                          \
	  (Relation index, Datum *values, bool *isnull, ItemPointer tid, Relation heap, IndexUniqueCheck check_unique, \
	   bool index_unchanged, IndexInfo *info))                                                                       \
	X(bulkdelete, BulkDelete, IndexBulkDeleteResult *,                                                               \
	  (IndexVacuumInfo * info, IndexBulkDeleteResult * stats, IndexBulkDeleteCallback callback, void *state))        \
	X(vacuumcleanup, VacuumCleanup, IndexBulkDeleteResult *, (IndexVacuumInfo * info, IndexBulkDeleteResult * stats)) \
	X(costestimate, CostEstimate, void,                                                                              \
	  (PlannerInfo * root, IndexPath * path, double loop_count, Cost *startup, Cost *total,                         \
	   Selectivity *selectivity, double *correlation, double *pages))                                                \
	X(options, OptionsParse, bytea *, (Datum reloptions, bool validate))                                            \
	X(validate, Validate, bool, (Oid opclass))                                                                       \
	X(buildphasename, BuildPhaseName, char *, (int64_t phase))                                                       \
	X(beginscan, BeginScan, IndexScanDesc, (Relation index, int nkeys, int norderbys))                               \
	X(rescan, Rescan, void, (IndexScanDesc scan, ScanKey keys, int nkeys, ScanKey orderbys, int norderbys))          \
	X(gettuple, GetTuple, bool, (IndexScanDesc scan, ScanDirection direction))                                       \
	X(endscan, EndScan, void, (IndexScanDesc scan))

/// Declares a callback (in the access method's namespace).
#define QUARRY_DECLARE_CALLBACK(member, Function, Result, Params) Result Function Params;
/// Binds a callback to its member in the access method's callbacks struct.
#define QUARRY_BIND_CALLBACK(member, Function, Result, Params) static constexpr auto member = Function;

namespace quarry::am {

namespace detail {

/// An index-only scan: PostgreSQL plans one on these indexes (amcanreturn is
/// unset) only when the query reads no column of the table (SELECT count(*)
/// with enable_seqscan off on PostgreSQL 18, which prefers any path to a
/// disabled one), and still wants an index tuple per row: one whose only
/// column is NULL (the planner sees one column of every quarry index).
void SetNoColumnsTuple(IndexScanDesc scan);

template <class Am>
struct Wrapped {
	static IndexBuildResult *
	build(Relation heap, Relation index, IndexInfo *info)
	{
		return pg::IndexBoundary(Am::kName, "build", RelationGetRelationName(index),
								 [&] { return Am::build(heap, index, info); });
	}
	static void
	buildempty(Relation index)
	{
		pg::IndexBoundary(Am::kName, "buildempty", RelationGetRelationName(index), [&] { Am::buildempty(index); });
	}
	static bool
	insert(Relation index, Datum *values, bool *isnull, ItemPointer tid, Relation heap, IndexUniqueCheck check_unique,
		   bool index_unchanged, IndexInfo *info)
	{
		return pg::IndexBoundary(Am::kName, "insert", RelationGetRelationName(index), [&] {
			return Am::insert(index, values, isnull, tid, heap, check_unique, index_unchanged, info);
		});
	}
	static IndexBulkDeleteResult *
	bulkdelete(IndexVacuumInfo *info, IndexBulkDeleteResult *stats, IndexBulkDeleteCallback callback, void *state)
	{
		return pg::IndexBoundary(Am::kName, "bulkdelete", RelationGetRelationName(info->index),
								 [&] { return Am::bulkdelete(info, stats, callback, state); });
	}
	static IndexBulkDeleteResult *
	vacuumcleanup(IndexVacuumInfo *info, IndexBulkDeleteResult *stats)
	{
		return pg::IndexBoundary(Am::kName, "vacuumcleanup", RelationGetRelationName(info->index),
								 [&] { return Am::vacuumcleanup(info, stats); });
	}
	static void
	costestimate(PlannerInfo *root, IndexPath *path, double loop_count, Cost *startup, Cost *total,
				 Selectivity *selectivity, double *correlation, double *pages)
	{
		pg::Boundary(Am::kName, "costestimate", [&] {
			Am::costestimate(root, path, loop_count, startup, total, selectivity, correlation, pages);
		});
	}
	static bytea *
	options(Datum reloptions, bool validate)
	{
		return pg::Boundary(Am::kName, "options", [&] { return Am::options(reloptions, validate); });
	}
	static bool
	validate(Oid opclass)
	{
		return pg::Boundary(Am::kName, "validate", [&] { return Am::validate(opclass); });
	}
	static char *
	buildphasename(int64_t phase)
	{
		return pg::Boundary(Am::kName, "buildphasename", [&] { return Am::buildphasename(phase); });
	}
	static IndexScanDesc
	beginscan(Relation index, int nkeys, int norderbys)
	{
		return pg::IndexBoundary(Am::kName, "beginscan", RelationGetRelationName(index),
								 [&] { return Am::beginscan(index, nkeys, norderbys); });
	}
	static void
	rescan(IndexScanDesc scan, ScanKey keys, int nkeys, ScanKey orderbys, int norderbys)
	{
		pg::IndexBoundary(Am::kName, "rescan", RelationGetRelationName(scan->indexRelation),
						  [&] { Am::rescan(scan, keys, nkeys, orderbys, norderbys); });
	}
	static bool
	gettuple(IndexScanDesc scan, ScanDirection direction)
	{
		const bool found = pg::IndexBoundary(Am::kName, "gettuple", RelationGetRelationName(scan->indexRelation),
											 [&] { return Am::gettuple(scan, direction); });
		if (found && scan->xs_want_itup)
			SetNoColumnsTuple(scan);
		return found;
	}
	static int64_t
	getbitmap(IndexScanDesc scan, TIDBitmap *tbm)
	{
		return pg::IndexBoundary(Am::kName, "getbitmap", RelationGetRelationName(scan->indexRelation),
								 [&] { return Am::getbitmap(scan, tbm); });
	}
	static void
	endscan(IndexScanDesc scan)
	{
		pg::IndexBoundary(Am::kName, "endscan", RelationGetRelationName(scan->indexRelation),
						  [&] { Am::endscan(scan); });
	}
};

} // namespace detail

/// The statistics ambulkdelete and amvacuumcleanup add to: PostgreSQL's, or
/// new ones on the first call.
inline IndexBulkDeleteResult *
StatsOrNew(IndexBulkDeleteResult *stats)
{
	return stats != nullptr ? stats : static_cast<IndexBulkDeleteResult *>(palloc0(sizeof(IndexBulkDeleteResult)));
}

/// A new IndexAmRoutine for access method `Am` (see the file comment).
template <class Am>
IndexAmRoutine *
MakeIndexAmRoutine()
{
	using W = detail::Wrapped<Am>;
	pg::NameAccessMethod(reinterpret_cast<const void *>(W::build), Am::kName);
	IndexAmRoutine *am = makeNode(IndexAmRoutine);
	am->amstrategies = 0; // no fixed strategy numbers
	am->amsupport = Am::kSupportProcs;
	am->amoptsprocnum = 0;
	am->amcanorder = false;
	am->amcanorderbyop = true; // ORDER BY column <op> constant LIMIT k
	am->amcanbackward = false;
	am->amcanunique = false;
	am->amcanmulticol = Am::kMultiColumn; // quarry_bm25: several fields (BM25F)
	am->amoptionalkey = true; // ORDER BY without a WHERE key
	am->amsearcharray = false;
	am->amsearchnulls = false;
	am->amstorage = false;
	am->amclusterable = false;
	am->ampredlocks = false;
	am->amcanparallel = false;
	pg::SetCanBuildParallel(am, Am::kParallelBuild);
	am->amcaninclude = false;
	am->amusemaintenanceworkmem = false; // VACUUM does not use it
	am->amparallelvacuumoptions = VACUUM_OPTION_PARALLEL_BULKDEL;
	am->amkeytype = InvalidOid;

	am->ambuild = W::build;
	am->ambuildempty = W::buildempty;
	am->aminsert = W::insert;
	am->ambulkdelete = W::bulkdelete;
	am->amvacuumcleanup = W::vacuumcleanup;
	am->amcanreturn = nullptr; // index-only scans only when no column is read (SetNoColumnsTuple)
	am->amcostestimate = W::costestimate;
	am->amoptions = W::options;
	am->amproperty = nullptr;
	am->ambuildphasename = W::buildphasename;
	am->amvalidate = W::validate;
	am->amadjustmembers = nullptr;
	am->ambeginscan = W::beginscan;
	am->amrescan = W::rescan;
	am->amgettuple = W::gettuple;
	if constexpr (Am::getbitmap != nullptr)
		am->amgetbitmap = W::getbitmap;
	else
		am->amgetbitmap = nullptr;
	am->amendscan = W::endscan;
	am->ammarkpos = nullptr;
	am->amrestrpos = nullptr;
	am->amestimateparallelscan = nullptr;
	am->aminitparallelscan = nullptr;
	am->amparallelrescan = nullptr;
	return am;
}

} // namespace quarry::am
