// quarry_hnsw: the access method handler, reloptions and build phase names.
//
// PostgreSQL calls every callback through am/am_routine.h's wrappers, which
// run it in pg::IndexBoundary: no C++ exception reaches PostgreSQL.
#include "am/hnsw/hnsw.h"

#include "am/am_routine.h"

extern "C" {
#include "access/reloptions.h"
#include "catalog/pg_type.h"
#include "commands/progress.h"
#include "utils/lsyscache.h"
#include "commands/vacuum.h"
#include "utils/guc.h"
}

#include "pg/guard.h"

#include <climits>

namespace quarry::am::hnsw {

namespace {

relopt_kind hnsw_relopt_kind;

// The validator of the storage option (PostgreSQL calls it while parsing
// WITH (...) and ALTER INDEX ... SET): an unknown layout is an ERROR.
void
ValidateStorage(const char *value)
{
	pg::Boundary("quarry_hnsw storage option", [&] {
		quarry::hnsw::Storage storage;
		if (value != nullptr && !quarry::hnsw::ParseStorage(value, &storage))
			pg::ThrowError(ERRCODE_INVALID_PARAMETER_VALUE,
						   "invalid value for quarry_hnsw option \"storage\": \"%s\" (expected full, sq8 or sq4)", value);
	});
}

} // namespace

int ef_search = 40;
int max_scan_tuples = 20000;

namespace {

void
DefineSettings()
{
	DefineCustomIntVariable("quarry.hnsw_ef_search", "Size of the candidate list of a quarry_hnsw scan.",
							"Larger finds more of the true nearest neighbours, more slowly (1 to 1000).",
							&ef_search, 40, 1, 1000, PGC_USERSET, 0, nullptr, nullptr, nullptr);
	DefineCustomIntVariable("quarry.hnsw_max_scan_tuples",
							"Most index entries a quarry_hnsw scan looks at to find more rows.",
							"When a query filters the rows an ORDER BY ... LIMIT scan returns, the scan "
							"goes on past ef_search until this many entries were scored.",
							&max_scan_tuples, 20000, 1, INT_MAX, PGC_USERSET, 0, nullptr, nullptr, nullptr);
}

} // namespace

void
Initialize()
{
	RegisterOptions();
	DefineSettings();
}

void
RegisterOptions()
{
	hnsw_relopt_kind = add_reloption_kind();
	add_int_reloption(hnsw_relopt_kind, "m", "Neighbours per node on the upper layers (2m on layer 0)",
					  kDefaultM, kMinM, kMaxM, AccessExclusiveLock);
	add_int_reloption(hnsw_relopt_kind, "ef_construction", "Candidate list size while building",
					  kDefaultEfConstruction, kMinEfConstruction, kMaxEfConstruction,
					  AccessExclusiveLock);
	// Default 0: the first vector fixes the dimensions.
	add_int_reloption(hnsw_relopt_kind, "dims", "Dimensions of the indexed vectors",
					  0, 1, static_cast<int>(quarry::hnsw::kMaxDimensions), AccessExclusiveLock);
	// How vectors are stored: full floats, or 8- or 4-bit codes (reranked
	// from the heap). Fixed at build: a change needs REINDEX to take effect.
	add_string_reloption(hnsw_relopt_kind, "storage", "Vector layout: full, sq8 or sq4", "full", ValidateStorage,
						 AccessExclusiveLock);
}

bytea *
OptionsParse(Datum reloptions, bool validate)
{
	static const relopt_parse_elt table[] = {
		{"m", RELOPT_TYPE_INT, offsetof(Options, m)},
		{"ef_construction", RELOPT_TYPE_INT, offsetof(Options, ef_construction)},
		{"dims", RELOPT_TYPE_INT, offsetof(Options, dims)},
		{"storage", RELOPT_TYPE_STRING, offsetof(Options, storage_offset)},
	};
	auto *options = static_cast<Options *>(
		build_reloptions(reloptions, validate, hnsw_relopt_kind, sizeof(Options), table, lengthof(table)));
	if (validate && options != nullptr && options->ef_construction < 2 * options->m)
		pg::ThrowError(ERRCODE_INVALID_PARAMETER_VALUE, "ef_construction must be at least 2 * m (here %d < 2 * %d)", options->ef_construction, options->m);
	return reinterpret_cast<bytea *>(options);
}

int
OptionM(Relation index)
{
	auto *options = reinterpret_cast<Options *>(index->rd_options);
	return options != nullptr ? options->m : kDefaultM;
}

int
OptionEfConstruction(Relation index)
{
	auto *options = reinterpret_cast<Options *>(index->rd_options);
	return options != nullptr ? options->ef_construction : kDefaultEfConstruction;
}

int
OptionDims(Relation index)
{
	auto *options = reinterpret_cast<Options *>(index->rd_options);
	return options != nullptr ? options->dims : 0;
}

quarry::hnsw::Storage
OptionStorage(Relation index)
{
	auto *options = reinterpret_cast<Options *>(index->rd_options);
	quarry::hnsw::Storage storage = quarry::hnsw::Storage::kFull;
	if (options != nullptr && options->storage_offset != 0)
	{
		const char *name = reinterpret_cast<const char *>(options) + options->storage_offset;
		if (!quarry::hnsw::ParseStorage(name, &storage))
			pg::ThrowError(ERRCODE_INVALID_PARAMETER_VALUE, "invalid value for quarry_hnsw option \"storage\": \"%s\"", name);
	}
	return storage;
}

quarry::hnsw::Metric
OpclassMetric(Relation index)
{
	// Call support function 1 only if it has the documented signature (a
	// broken opclass, which amvalidate reports, must not crash a build).
	const Oid proc_oid = index_getprocid(index, 1, kMetricProc);
	if (!OidIsValid(proc_oid) || get_func_rettype(proc_oid) != INT4OID || get_func_nargs(proc_oid) != 1)
		throw pg::Error(ERRCODE_INVALID_OBJECT_DEFINITION, pg::Format("the operator class of index \"%s\" has no valid support function 1", RelationGetRelationName(index)).text, nullptr, "Check it with amvalidate().");
	Oid *arg_types;
	int nargs;
	get_func_signature(proc_oid, &arg_types, &nargs);
	if (nargs != 1 || arg_types[0] != INTERNALOID)
		pg::ThrowError(ERRCODE_INVALID_OBJECT_DEFINITION, "support function 1 of the operator class of index \"%s\" must take internal", RelationGetRelationName(index));
	FmgrInfo *proc = index_getprocinfo(index, 1, kMetricProc);
	int32_t code = DatumGetInt32(FunctionCall1Coll(proc, InvalidOid, PointerGetDatum(nullptr)));
	if (!quarry::hnsw::IsValidMetric(code))
		throw pg::Error(ERRCODE_INVALID_OBJECT_DEFINITION, pg::Format("support function 1 of the operator class of index \"%s\" returned %d, not a metric", RelationGetRelationName(index), code).text, "It must return 1 (L2), 2 (inner product), 3 (cosine) or 4 (L1).", nullptr);
	return static_cast<quarry::hnsw::Metric>(code);
}

quarry::hnsw::InputFormat
OpclassFormat(Relation index)
{
	const Oid proc_oid = index_getprocid(index, 1, kFormatProc);
	if (!OidIsValid(proc_oid))
		return quarry::hnsw::InputFormat::kRealArray;
	Oid *arg_types;
	int nargs;
	get_func_signature(proc_oid, &arg_types, &nargs);
	if (get_func_rettype(proc_oid) != INT4OID || nargs != 1 || arg_types[0] != INTERNALOID)
		throw pg::Error(ERRCODE_INVALID_OBJECT_DEFINITION, pg::Format("support function 2 of the operator class of index \"%s\" must take internal and return int4", RelationGetRelationName(index)).text, nullptr, "Check it with amvalidate().");
	FmgrInfo *proc = index_getprocinfo(index, 1, kFormatProc);
	int32_t code = DatumGetInt32(FunctionCall1Coll(proc, InvalidOid, PointerGetDatum(nullptr)));
	if (!quarry::hnsw::IsValidInputFormat(code))
		throw pg::Error(ERRCODE_INVALID_OBJECT_DEFINITION, pg::Format("support function 2 of the operator class of index \"%s\" returned %d, not an input format", RelationGetRelationName(index), code).text, "It must return 1 (real[]), 2 (pgvector's vector) or 3 (pgvector's halfvec).", nullptr);
	return static_cast<quarry::hnsw::InputFormat>(code);
}

char *
BuildPhaseName(int64_t phase)
{
	switch (phase)
	{
		case PROGRESS_CREATEIDX_SUBPHASE_INITIALIZE:
			return const_cast<char *>("initializing");
		case kPhaseLoad:
			return const_cast<char *>("building graph");
		case kPhaseWrite:
			return const_cast<char *>("writing index pages");
		case kPhaseOnDisk:
			return const_cast<char *>("inserting on disk");
		case kPhaseWalLog:
			return const_cast<char *>("WAL-logging index pages");
		default:
			return nullptr;
	}
}

namespace {

// quarry_hnsw for am::MakeIndexAmRoutine (am/am_routine.h).
struct Callbacks {
	static constexpr const char *kName = "quarry_hnsw";
	static constexpr uint16_t kSupportProcs = kNumProcs;
	static constexpr bool kParallelBuild = true; // parallel CREATE INDEX
	static constexpr bool kMultiColumn = false;
	QUARRY_INDEX_CALLBACKS(QUARRY_BIND_CALLBACK)
	static constexpr std::nullptr_t getbitmap = nullptr; // ORDER BY only: no bitmap scans
};

} // namespace

} // namespace quarry::am::hnsw

// The handler: quarry_hnsw's capabilities and callbacks.
QUARRY_FUNCTION(quarry_hnsw_handler)
{
	PG_RETURN_POINTER(quarry::am::MakeIndexAmRoutine<quarry::am::hnsw::Callbacks>());
}
