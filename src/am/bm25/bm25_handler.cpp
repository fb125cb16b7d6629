// The quarry_bm25 access method: its IndexAmRoutine, reloptions and build
// phase names.
//
// Every callback PostgreSQL calls is a thin wrapper that runs the real work in
// quarry::pg::Boundary (src/pg/guard.h): no C++ exception reaches PostgreSQL.
#include "am/bm25/bm25.h"

#include "pg/guard.h"

extern "C" {
#include "access/relscan.h"
#include "access/reloptions.h"
#include "catalog/namespace.h"
#include "commands/vacuum.h"
#include "tsearch/ts_cache.h"
#include "utils/regproc.h"
}

namespace quarry::am::bm25 {

namespace {

relopt_kind options_kind;

constexpr double kDefaultK1 = 1.2;
constexpr double kDefaultB = 0.75;

void
ValidateTextConfig(const char *value)
{
	if (value == nullptr)
		return;
	// ERRORs with "text search configuration ... does not exist" if unknown.
	get_ts_config_oid(stringToQualifiedNameList(value), false);
}

// --- wrappers: PostgreSQL calls these -----------------------------------------------

IndexBuildResult *
bm25_build(Relation heap, Relation index, IndexInfo *info)
{
	return pg::IndexBoundary("quarry_bm25 build", RelationGetRelationName(index), [&] { return Build(heap, index, info); });
}

void
bm25_buildempty(Relation index)
{
	pg::IndexBoundary("quarry_bm25 buildempty", RelationGetRelationName(index), [&] { BuildEmpty(index); });
}

bool
bm25_insert(Relation index, Datum *values, bool *isnull, ItemPointer tid, Relation heap,
			IndexUniqueCheck check_unique, bool index_unchanged, IndexInfo *info)
{
	return pg::IndexBoundary("quarry_bm25 insert", RelationGetRelationName(index), [&] {
		return Insert(index, values, isnull, tid, heap, check_unique, index_unchanged, info);
	});
}

IndexBulkDeleteResult *
bm25_bulkdelete(IndexVacuumInfo *info, IndexBulkDeleteResult *stats, IndexBulkDeleteCallback callback,
				void *callback_state)
{
	return pg::IndexBoundary("quarry_bm25 bulkdelete", RelationGetRelationName(info->index), [&] { return BulkDelete(info, stats, callback, callback_state); });
}

IndexBulkDeleteResult *
bm25_vacuumcleanup(IndexVacuumInfo *info, IndexBulkDeleteResult *stats)
{
	return pg::IndexBoundary("quarry_bm25 vacuumcleanup", RelationGetRelationName(info->index), [&] { return VacuumCleanup(info, stats); });
}

void
bm25_costestimate(PlannerInfo *root, IndexPath *path, double loop_count, Cost *startup, Cost *total,
				  Selectivity *selectivity, double *correlation, double *pages)
{
	pg::Boundary("quarry_bm25 costestimate", [&] {
		CostEstimate(root, path, loop_count, startup, total, selectivity, correlation, pages);
	});
}

bytea *
bm25_options(Datum reloptions, bool validate)
{
	return pg::Boundary("quarry_bm25 options", [&] { return OptionsParse(reloptions, validate); });
}

bool
bm25_validate(Oid opclass)
{
	return pg::Boundary("quarry_bm25 validate", [&] { return Validate(opclass); });
}

char *
bm25_buildphasename(int64 phase)
{
	return BuildPhaseName(phase);
}

IndexScanDesc
bm25_beginscan(Relation index, int nkeys, int norderbys)
{
	return pg::IndexBoundary("quarry_bm25 beginscan", RelationGetRelationName(index), [&] { return BeginScan(index, nkeys, norderbys); });
}

void
bm25_rescan(IndexScanDesc scan, ScanKey keys, int nkeys, ScanKey orderbys, int norderbys)
{
	pg::IndexBoundary("quarry_bm25 rescan", RelationGetRelationName(scan->indexRelation), [&] { Rescan(scan, keys, nkeys, orderbys, norderbys); });
}

bool
bm25_gettuple(IndexScanDesc scan, ScanDirection direction)
{
	return pg::IndexBoundary("quarry_bm25 gettuple", RelationGetRelationName(scan->indexRelation), [&] { return GetTuple(scan, direction); });
}

int64
bm25_getbitmap(IndexScanDesc scan, TIDBitmap *tbm)
{
	return pg::IndexBoundary("quarry_bm25 getbitmap", RelationGetRelationName(scan->indexRelation), [&] { return GetBitmap(scan, tbm); });
}

void
bm25_endscan(IndexScanDesc scan)
{
	pg::IndexBoundary("quarry_bm25 endscan", RelationGetRelationName(scan->indexRelation), [&] { EndScan(scan); });
}

} // namespace

void
RegisterOptions()
{
	options_kind = add_reloption_kind();
	add_string_reloption(options_kind, "text_config",
						 "Text search configuration (parser, dictionaries) the index tokenizes with", nullptr,
						 ValidateTextConfig, AccessExclusiveLock);
	add_real_reloption(options_kind, "k1", "BM25 term frequency saturation (k1)", kDefaultK1, 0.0, 1000.0,
					   ShareUpdateExclusiveLock);
	add_real_reloption(options_kind, "b", "BM25 length normalization (b)", kDefaultB, 0.0, 1.0,
					   ShareUpdateExclusiveLock);
}

bytea *
OptionsParse(Datum reloptions, bool validate)
{
	static const relopt_parse_elt table[] = {
		{"text_config", RELOPT_TYPE_STRING, offsetof(Options, text_config_offset)},
		{"k1", RELOPT_TYPE_REAL, offsetof(Options, k1)},
		{"b", RELOPT_TYPE_REAL, offsetof(Options, b)},
	};
	return static_cast<bytea *>(
		build_reloptions(reloptions, validate, options_kind, sizeof(Options), table, lengthof(table)));
}

fts::Bm25Params
ParamsOf(Relation index)
{
	auto *options = reinterpret_cast<Options *>(index->rd_options);
	if (options == nullptr)
		return fts::Bm25Params{kDefaultK1, kDefaultB};
	return fts::Bm25Params{options->k1, options->b};
}

char *
BuildPhaseName(int64 phase)
{
	switch (phase)
	{
		case kPhaseTokenizing:
			return const_cast<char *>("tokenizing rows");
		case kPhaseSpilling:
			return const_cast<char *>("writing a segment (memory limit reached)");
		case kPhaseWriting:
			return const_cast<char *>("writing the index");
		case kPhaseLogging:
			return const_cast<char *>("WAL-logging the index");
		default:
			return nullptr;
	}
}

} // namespace quarry::am::bm25

// The handler: fills an IndexAmRoutine with quarry_bm25's capabilities and callbacks.
QUARRY_FUNCTION(quarry_bm25_handler)
{
	using namespace quarry::am::bm25;
	IndexAmRoutine *am = makeNode(IndexAmRoutine);
	am->amstrategies = 0; // strategies: 1 = @@@ (match), 2 = <@> (ordering)
	am->amsupport = 0;
	am->amoptsprocnum = 0;
	am->amcanorder = false;
	am->amcanorderbyop = true; // ORDER BY col <@> query
	am->amcanbackward = false;
	am->amcanunique = false;
	am->amcanmulticol = false;
	am->amoptionalkey = true; // ORDER BY without a WHERE key
	am->amsearcharray = false;
	am->amsearchnulls = false;
	am->amstorage = false;
	am->amclusterable = false;
	am->ampredlocks = false;
	am->amcanparallel = false;
	am->amcaninclude = false;
	am->amusemaintenanceworkmem = false;
	am->amparallelvacuumoptions = VACUUM_OPTION_PARALLEL_BULKDEL;
	am->amkeytype = InvalidOid;

	am->ambuild = bm25_build;
	am->ambuildempty = bm25_buildempty;
	am->aminsert = bm25_insert;
	am->ambulkdelete = bm25_bulkdelete;
	am->amvacuumcleanup = bm25_vacuumcleanup;
	am->amcanreturn = nullptr;
	am->amcostestimate = bm25_costestimate;
	am->amoptions = bm25_options;
	am->amproperty = nullptr;
	am->ambuildphasename = bm25_buildphasename;
	am->amvalidate = bm25_validate;
	am->amadjustmembers = nullptr;
	am->ambeginscan = bm25_beginscan;
	am->amrescan = bm25_rescan;
	am->amgettuple = bm25_gettuple;
	am->amgetbitmap = bm25_getbitmap;
	am->amendscan = bm25_endscan;
	am->ammarkpos = nullptr;
	am->amrestrpos = nullptr;
	am->amestimateparallelscan = nullptr;
	am->aminitparallelscan = nullptr;
	am->amparallelrescan = nullptr;
	PG_RETURN_POINTER(am);
}
