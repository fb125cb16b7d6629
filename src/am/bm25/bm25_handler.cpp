// The quarry_bm25 access method: its IndexAmRoutine, reloptions and build
// phase names.
//
// PostgreSQL calls every callback through am/am_routine.h's wrappers, which
// run it in pg::IndexBoundary: no C++ exception reaches PostgreSQL.
#include "am/bm25/bm25.h"
#include "am/bm25/bm25_distributed.h"

#include "am/am_routine.h"
#include "am/bm25/bm25_planner.h"

#include "pg/compat.h"
#include "pg/guard.h"

extern "C" {
#include "access/relscan.h"
#include "access/reloptions.h"
#include "catalog/namespace.h"
#include "commands/vacuum.h"
#include "tsearch/ts_cache.h"
#include "utils/guc.h"
#include "access/htup_details.h"
#include "access/genam.h"
#include "access/stratnum.h"
#include "access/table.h"
#include "catalog/pg_ts_config.h"
#include "utils/fmgroids.h"
#include "catalog/pg_namespace.h"
#include "catalog/pg_ts_config.h"
#include "utils/lsyscache.h"
#include "utils/syscache.h"
#include "utils/regproc.h"
#include "utils/builtins.h"
}

namespace quarry::am::bm25 {

namespace {

relopt_kind options_kind;

constexpr double kDefaultK1 = 1.2;
constexpr double kDefaultB = 0.75;

// The schema of a text search configuration named `name`, in any schema,
// or InvalidOid (pg_catalog first when it has one). C-shaped.
Oid
SchemaOfConfigNamed(const char *name)
{
	Relation catalog = table_open(TSConfigRelationId, AccessShareLock);
	ScanKeyData key;
	ScanKeyInit(&key, Anum_pg_ts_config_cfgname, BTEqualStrategyNumber, F_NAMEEQ, CStringGetDatum(name));
	SysScanDesc scan = systable_beginscan(catalog, TSConfigNameNspIndexId, true, nullptr, 1, &key);
	Oid schema = InvalidOid;
	for (HeapTuple tuple; HeapTupleIsValid(tuple = systable_getnext(scan));)
	{
		Oid found = reinterpret_cast<Form_pg_ts_config>(GETSTRUCT(tuple))->cfgnamespace;
		if (schema == InvalidOid || found == PG_CATALOG_NAMESPACE)
			schema = found;
	}
	systable_endscan(scan);
	table_close(catalog, AccessShareLock);
	return schema;
}

// text_config names an existing configuration, and names it the same way
// wherever the index is built again: a built-in one (pg_catalog) by its
// name, any other schema-qualified. Indexes are rebuilt, restored and
// upgraded under other search paths (a restore and pg_upgrade use an empty
// one; PostgreSQL 17 and later build indexes with pg_catalog only), where an
// unqualified "my_config" is not found, or is another configuration. The
// answer does not depend on the search path in force. C-shaped: PostgreSQL
// calls it from build_reloptions; it raises PostgreSQL's errors.
void
ValidateTextConfig(const char *value)
{
	if (value == nullptr)
		return;
	List *names = pg::QualifiedNameList(value);
	if (list_length(names) > 1)
	{
		// ERRORs with "text search configuration ... does not exist" if unknown.
		get_ts_config_oid(names, false);
		return;
	}
	Oid schema = SchemaOfConfigNamed(strVal(linitial(names)));
	if (schema == InvalidOid)
		ereport(ERROR, (errcode(ERRCODE_UNDEFINED_OBJECT),
						errmsg("text search configuration \"%s\" does not exist", value)));
	if (schema != PG_CATALOG_NAMESPACE)
		ereport(ERROR, (errcode(ERRCODE_INVALID_PARAMETER_VALUE),
						errmsg("text_config \"%s\" must be schema-qualified", value),
						errdetail("Only PostgreSQL's built-in configurations may be named without their schema: "
								  "indexes are rebuilt, restored and upgraded with other search paths."),
						errhint("Write text_config = '%s.%s'.", quote_identifier(get_namespace_name(schema)), value)));
}

} // namespace

int pending_limit_kb = 1024;
int max_expansions = 50;

namespace {

void
DefineSettings()
{
	DefineCustomIntVariable("quarry.bm25_pending_limit",
							"Size at which a quarry_bm25 index flushes its pending list into a segment.",
							"Rows inserted after CREATE INDEX wait in the pending list, which every query "
							"reads in full; a smaller limit keeps queries fast, a larger one makes fewer segments.",
							&pending_limit_kb, 1024, 64, 1024 * 1024, PGC_USERSET, GUC_UNIT_KB, nullptr, nullptr,
							nullptr);
	DefineCustomIntVariable("quarry.bm25_max_expansions",
							"Most index terms a prefix (word*) or fuzzy (word~N) term of a quarry_bm25 query expands to.",
							"Prefixes keep their most frequent terms, fuzzy terms the closest; the limit is "
							"Elasticsearch's max_expansions default, its maximum Lucene's default clause limit.",
							&max_expansions, 50, 1, 1024, PGC_USERSET, 0, nullptr, nullptr, nullptr);
}

} // namespace

void
Initialize()
{
	RegisterOptions();
	DefineSettings();
	DefineDistributedSettings();
	InstallPlannerHook();
	InstallFieldsPlanHooks();
}

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
	add_string_reloption(options_kind, "weights",
						 "Field weights of an index of several columns, as 'title=3, body=1' (read at query time)",
						 nullptr, ValidateFieldWeights, ShareUpdateExclusiveLock);
	add_bool_reloption(options_kind, "positions",
					   "Store term positions, for phrase queries (takes effect at CREATE INDEX and REINDEX)", true,
					   AccessExclusiveLock);
}

bytea *
OptionsParse(Datum reloptions, bool validate)
{
	static const relopt_parse_elt table[] = {
		{"text_config", RELOPT_TYPE_STRING, offsetof(Options, text_config_offset)},
		{"k1", RELOPT_TYPE_REAL, offsetof(Options, k1)},
		{"b", RELOPT_TYPE_REAL, offsetof(Options, b)},
		{"positions", RELOPT_TYPE_BOOL, offsetof(Options, positions)},
		{"weights", RELOPT_TYPE_STRING, offsetof(Options, weights_offset)},
	};
	return static_cast<bytea *>(
		build_reloptions(reloptions, validate, options_kind, sizeof(Options), table, lengthof(table)));
}

bool
PositionsOptionOf(Relation index)
{
	auto *options = reinterpret_cast<Options *>(index->rd_options);
	return options == nullptr || options->positions;
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
BuildPhaseName(int64_t phase)
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

namespace {

// quarry_bm25 for am::MakeIndexAmRoutine (am/am_routine.h).
struct Callbacks {
	static constexpr const char *kName = "quarry_bm25";
	static constexpr uint16_t kSupportProcs = 0; // strategies: 1 = @@@ (match), 2 = <@> (ordering)
	static constexpr bool kParallelBuild = false; // parallel CREATE INDEX
	static constexpr bool kMultiColumn = true;	  // several text columns: fields (BM25F)
	QUARRY_INDEX_CALLBACKS(QUARRY_BIND_CALLBACK)
	static constexpr auto getbitmap = GetBitmap;
};

} // namespace

} // namespace quarry::am::bm25

// The handler: quarry_bm25's capabilities and callbacks.
QUARRY_FUNCTION(quarry_bm25_handler)
{
	PG_RETURN_POINTER(quarry::am::MakeIndexAmRoutine<quarry::am::bm25::Callbacks>());
}
