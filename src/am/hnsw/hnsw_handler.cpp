// quarry_hnsw: the access method handler, reloptions and build phase names.
#include "am/hnsw/hnsw.h"

extern "C" {
#include "access/reloptions.h"
#include "catalog/pg_type.h"
#include "commands/progress.h"
#include "utils/lsyscache.h"
#include "commands/vacuum.h"
#include "utils/guc.h"
}

#include "pg/guard.h"

namespace quarry::am {

namespace {

relopt_kind hnsw_relopt_kind;

} // namespace

void
RegisterHnswOptions()
{
	hnsw_relopt_kind = add_reloption_kind();
	add_int_reloption(hnsw_relopt_kind, "m", "Neighbours per node on the upper layers (2m on layer 0)",
					  kHnswDefaultM, kHnswMinM, kHnswMaxM, AccessExclusiveLock);
	add_int_reloption(hnsw_relopt_kind, "ef_construction", "Candidate list size while building",
					  kHnswDefaultEfConstruction, kHnswMinEfConstruction, kHnswMaxEfConstruction,
					  AccessExclusiveLock);
	// Default 0: the first vector fixes the dimensions.
	add_int_reloption(hnsw_relopt_kind, "dims", "Dimensions of the indexed vectors",
					  0, 1, static_cast<int>(hnsw::kMaxDimensions), AccessExclusiveLock);
}

bytea *
HnswOptionsParse(Datum reloptions, bool validate)
{
	static const relopt_parse_elt table[] = {
		{"m", RELOPT_TYPE_INT, offsetof(HnswOptions, m)},
		{"ef_construction", RELOPT_TYPE_INT, offsetof(HnswOptions, ef_construction)},
		{"dims", RELOPT_TYPE_INT, offsetof(HnswOptions, dims)},
	};
	auto *options = static_cast<HnswOptions *>(
		build_reloptions(reloptions, validate, hnsw_relopt_kind, sizeof(HnswOptions), table, lengthof(table)));
	if (validate && options != nullptr && options->ef_construction < 2 * options->m)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("ef_construction must be at least 2 * m (here %d < 2 * %d)", options->ef_construction,
						options->m)));
	return reinterpret_cast<bytea *>(options);
}

int
HnswGetM(Relation index)
{
	auto *options = reinterpret_cast<HnswOptions *>(index->rd_options);
	return options != nullptr ? options->m : kHnswDefaultM;
}

int
HnswGetEfConstruction(Relation index)
{
	auto *options = reinterpret_cast<HnswOptions *>(index->rd_options);
	return options != nullptr ? options->ef_construction : kHnswDefaultEfConstruction;
}

int
HnswGetDims(Relation index)
{
	auto *options = reinterpret_cast<HnswOptions *>(index->rd_options);
	return options != nullptr ? options->dims : 0;
}

hnsw::Metric
HnswOpclassMetric(Relation index)
{
	// Call support function 1 only if it has the documented signature (a
	// broken opclass, which amvalidate reports, must not crash a build).
	const Oid proc_oid = index_getprocid(index, 1, kHnswMetricProc);
	if (!OidIsValid(proc_oid) || get_func_rettype(proc_oid) != INT4OID || get_func_nargs(proc_oid) != 1)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_OBJECT_DEFINITION),
				 errmsg("the operator class of index \"%s\" has no valid support function 1",
						RelationGetRelationName(index)),
				 errhint("Check it with amvalidate().")));
	Oid *arg_types;
	int nargs;
	get_func_signature(proc_oid, &arg_types, &nargs);
	if (nargs != 1 || arg_types[0] != INTERNALOID)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_OBJECT_DEFINITION),
				 errmsg("support function 1 of the operator class of index \"%s\" must take internal",
						RelationGetRelationName(index))));
	FmgrInfo *proc = index_getprocinfo(index, 1, kHnswMetricProc);
	int32 code = DatumGetInt32(FunctionCall1Coll(proc, InvalidOid, PointerGetDatum(nullptr)));
	if (!hnsw::IsValidMetric(code))
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_OBJECT_DEFINITION),
				 errmsg("support function 1 of the operator class of index \"%s\" returned %d, not a metric",
						RelationGetRelationName(index), code),
				 errdetail("It must return 1 (L2), 2 (inner product) or 3 (cosine).")));
	return static_cast<hnsw::Metric>(code);
}

char *
HnswBuildPhaseName(int64 phase)
{
	switch (phase)
	{
		case PROGRESS_CREATEIDX_SUBPHASE_INITIALIZE:
			return const_cast<char *>("initializing");
		case kHnswPhaseLoad:
			return const_cast<char *>("building graph");
		case kHnswPhaseWrite:
			return const_cast<char *>("writing index pages");
		case kHnswPhaseOnDisk:
			return const_cast<char *>("inserting on disk");
		case kHnswPhaseWalLog:
			return const_cast<char *>("WAL-logging index pages");
		default:
			return nullptr;
	}
}

} // namespace quarry::am

// The index access method handler: what quarry_hnsw can do, and its callbacks.
QUARRY_FUNCTION(quarry_hnsw_handler)
{
	using namespace quarry::am;
	IndexAmRoutine *am = makeNode(IndexAmRoutine);

	am->amstrategies = 0;
	am->amsupport = kHnswNumProcs;
	am->amoptsprocnum = 0;
	am->amcanorder = false;
	am->amcanorderbyop = true; // ORDER BY col <-> const LIMIT k
	am->amcanbackward = false;
	am->amcanunique = false;
	am->amcanmulticol = false;
	am->amoptionalkey = true;
	am->amsearcharray = false;
	am->amsearchnulls = false;
	am->amstorage = false;
	am->amclusterable = false;
	am->ampredlocks = false;
	am->amcanparallel = false;
	am->amcaninclude = false;
	am->amusemaintenanceworkmem = false; // VACUUM does not use it
	am->amparallelvacuumoptions = VACUUM_OPTION_PARALLEL_BULKDEL;
	am->amkeytype = InvalidOid;

	am->ambuild = HnswBuild;
	am->ambuildempty = HnswBuildEmpty;
	am->aminsert = HnswInsert;
	am->ambulkdelete = HnswBulkDelete;
	am->amvacuumcleanup = HnswVacuumCleanup;
	am->amcanreturn = nullptr; // the index does not return the vector
	am->amcostestimate = HnswCostEstimate;
	am->amoptions = HnswOptionsParse;
	am->amproperty = nullptr;
	am->ambuildphasename = HnswBuildPhaseName;
	am->amvalidate = HnswValidate;
	am->amadjustmembers = nullptr;
	am->ambeginscan = HnswBeginScan;
	am->amrescan = HnswRescan;
	am->amgettuple = HnswGetTuple;
	am->amgetbitmap = nullptr;
	am->amendscan = HnswEndScan;
	am->ammarkpos = nullptr;
	am->amrestrpos = nullptr;
	am->amestimateparallelscan = nullptr;
	am->aminitparallelscan = nullptr;
	am->amparallelrescan = nullptr;

	PG_RETURN_POINTER(am);
}
