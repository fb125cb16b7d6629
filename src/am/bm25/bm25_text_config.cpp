// Which text search configuration a quarry_bm25 index tokenizes with.
//
// A build chooses it (ChooseTextConfig: the text_config option, else
// default_text_search_config), records it in the metapage (OID, schema, name:
// RecordTextConfig) and makes the index depend on it (RecordConfigDependency:
// DROP refuses, pg_dump restores the configuration first). Every later use
// finds it again (IndexTextConfig): in the cluster the index was built in by
// its OID; in another one (pg_upgrade copies index files, OIDs differ there)
// by the schema and name; for an index written by quarry 0.1.0 (format 2, OID
// only) through the dependency the restore gives it.
#include "am/bm25/bm25.h"
#include "pg/compat.h"

extern "C" {
#include "access/genam.h"
#include "access/htup_details.h"
#include "access/table.h"
#include "catalog/dependency.h"
#include "catalog/indexing.h"
#include "catalog/namespace.h"
#include "catalog/pg_depend.h"
#include "catalog/pg_namespace.h"
#include "catalog/pg_ts_config.h"
#include "tsearch/ts_cache.h"
#include "utils/builtins.h"
#include "utils/fmgroids.h"
#include "utils/lsyscache.h"
#include "utils/rel.h"
#include "utils/syscache.h"
}

#include <cstring>
#include <string_view>
#include <type_traits>

namespace quarry::am::bm25 {

namespace {

// Copies `name` (at most NAMEDATALEN - 1 bytes, as every catalog name is)
// into a metapage field.
void
StoreName(const char *name, char (&out)[NAMEDATALEN])
{
	std::memset(out, 0, sizeof out);
	std::memcpy(out, name, strnlen(name, sizeof out - 1));
}

// A metapage name field, bounded by the field even where the page lacks the NUL.
std::string_view
StoredName(const char (&field)[NAMEDATALEN])
{
	return {field, strnlen(field, sizeof field - 1)};
}

// A palloc'd C string of `s`.
char *
CString(std::string_view s)
{
	return pnstrdup(s.data(), s.size());
}

} // namespace

Oid
ChooseTextConfig(Relation index)
{
	auto *options = reinterpret_cast<Options *>(index->rd_options);
	if (options != nullptr && options->text_config_offset != 0)
	{
		// An unqualified name is a built-in configuration (the option's
		// validator allows no other), whatever the search path says.
		const char *name = reinterpret_cast<const char *>(options) + options->text_config_offset;
		List *names = pg::QualifiedNameList(name);
		if (list_length(names) == 1)
			names = lcons(makeString(pstrdup("pg_catalog")), names);
		return get_ts_config_oid(names, false);
	}
	return getTSCurrentConfig(true);
}

void
RecordTextConfig(Oid config, MetaPage *meta)
{
	HeapTuple tuple = SearchSysCache1(TSCONFIGOID, ObjectIdGetDatum(config));
	if (!HeapTupleIsValid(tuple))
		pg::ThrowError(ERRCODE_UNDEFINED_OBJECT, "text search configuration with OID %u does not exist", config);
	auto *form = reinterpret_cast<Form_pg_ts_config>(GETSTRUCT(tuple));
	meta->text_config = config;
	StoreName(get_namespace_name(form->cfgnamespace), meta->text_config_schema);
	StoreName(NameStr(form->cfgname), meta->text_config_name);
	ReleaseSysCache(tuple);
}

// A rebuild replaces the dependency: every dependency of the index on a text
// search configuration goes (one recorded by an expression or predicate of
// the index too: quarry_bm25 indexes text columns, where none is expected).
// PostgreSQL records none on a pinned configuration (simple).
void
RecordConfigDependency(Relation index, Oid config)
{
	deleteDependencyRecordsForClass(RelationRelationId, RelationGetRelid(index), TSConfigRelationId,
									DEPENDENCY_NORMAL);
	const ObjectAddress self{RelationRelationId, RelationGetRelid(index), 0};
	const ObjectAddress referenced{TSConfigRelationId, config, 0};
	recordDependencyOn(&self, &referenced, DEPENDENCY_NORMAL);
}

namespace {

// The index's dependencies on text search configurations.
struct ConfigDependencies {
	bool any = false;		 // on some configuration
	bool on_oid = false;	 // on the one asked about
	Oid some = InvalidOid;	 // one of them (the lowest OID: a stable choice)
};

ConfigDependencies
DependenciesOf(Oid index, Oid config)
{
	ConfigDependencies deps;
	Relation catalog = table_open(DependRelationId, AccessShareLock);
	ScanKeyData keys[2];
	ScanKeyInit(&keys[0], Anum_pg_depend_classid, BTEqualStrategyNumber, F_OIDEQ,
				ObjectIdGetDatum(RelationRelationId));
	ScanKeyInit(&keys[1], Anum_pg_depend_objid, BTEqualStrategyNumber, F_OIDEQ, ObjectIdGetDatum(index));
	SysScanDesc scan = systable_beginscan(catalog, DependDependerIndexId, true, nullptr, 2, keys);
	for (HeapTuple tuple; HeapTupleIsValid(tuple = systable_getnext(scan));)
	{
		auto *form = reinterpret_cast<Form_pg_depend>(GETSTRUCT(tuple));
		if (form->refclassid != TSConfigRelationId || form->deptype != DEPENDENCY_NORMAL)
			continue;
		deps.on_oid |= form->refobjid == config;
		if (!deps.any || form->refobjid < deps.some)
			deps.some = form->refobjid;
		deps.any = true;
	}
	systable_endscan(scan);
	table_close(catalog, AccessShareLock);
	return deps;
}

// Whether configuration `config` exists and is called schema.name.
bool
ConfigIsNamed(Oid config, std::string_view schema, std::string_view name)
{
	HeapTuple tuple = SearchSysCache1(TSCONFIGOID, ObjectIdGetDatum(config));
	if (!HeapTupleIsValid(tuple))
		return false;
	auto *form = reinterpret_cast<Form_pg_ts_config>(GETSTRUCT(tuple));
	bool same_name = name == NameStr(form->cfgname);
	Oid namespace_oid = form->cfgnamespace;
	ReleaseSysCache(tuple);
	const char *actual_schema = same_name ? get_namespace_name(namespace_oid) : nullptr;
	return actual_schema != nullptr && schema == actual_schema;
}

// The configuration called schema.name, or InvalidOid. Catalog lookups only:
// no privilege on the schema is asked of whoever first uses the index (the
// configuration is the index's, not the user's choice).
Oid
ConfigNamed(std::string_view schema, std::string_view name)
{
	Oid namespace_oid = get_namespace_oid(CString(schema), true);
	if (namespace_oid == InvalidOid)
		return InvalidOid;
	return GetSysCacheOid2(TSCONFIGNAMENSP, Anum_pg_ts_config_oid, CStringGetDatum(CString(name)),
						   ObjectIdGetDatum(namespace_oid));
}

// The configuration the metapage means, in this cluster: see IndexTextConfig.
Oid
ResolveTextConfig(Relation index, const MetaPage &meta)
{
	std::string_view schema = StoredName(meta.text_config_schema);
	std::string_view name = StoredName(meta.text_config_name);
	const bool named = !name.empty();
	ConfigDependencies deps = DependenciesOf(RelationGetRelid(index), meta.text_config);
	// The cluster it was built in: its OID, when the index depends on it
	// (renamed or not); a pinned configuration (simple) records no dependency,
	// so also when it still has the recorded name; a 0.1.0 index updated in
	// place (no name) recorded no dependency at all.
	if (SearchSysCacheExists1(TSCONFIGOID, ObjectIdGetDatum(meta.text_config)) &&
		(deps.on_oid || (named ? ConfigIsNamed(meta.text_config, schema, name) : !deps.any)))
		return meta.text_config;
	// Another cluster (pg_upgrade): the recorded name, which holds even where
	// the restore resolved text_config otherwise (an index without text_config
	// takes default_text_search_config, which may differ there).
	if (named)
		return ConfigNamed(schema, name);
	// A format 2 index after pg_upgrade: the configuration its text_config
	// names in the new cluster (README's pre-upgrade query makes that the one
	// it was built with). Its OID would not do: built-in configurations get
	// other OIDs in a new cluster, user ones what the restore assigns.
	if (deps.any && SearchSysCacheExists1(TSCONFIGOID, ObjectIdGetDatum(deps.some)))
		return deps.some;
	return InvalidOid;
}

// Throws the ERROR for an index whose configuration is gone.
[[noreturn]] void
ThrowConfigMissing(Relation index, const MetaPage &meta)
{
	const char *index_name = quote_identifier(RelationGetRelationName(index));
	std::string_view schema = StoredName(meta.text_config_schema);
	std::string_view name = StoredName(meta.text_config_name);
	if (!name.empty())
		throw pg::Error(ERRCODE_UNDEFINED_OBJECT,
						pg::Format("text search configuration %s.%s of quarry_bm25 index %s does not exist",
								   quote_identifier(CString(schema)), quote_identifier(CString(name)), index_name)
							.text,
						nullptr,
						pg::Format("Create it again, or REINDEX INDEX %s to build the index with another one.", index_name)
							.text);
	throw pg::Error(ERRCODE_UNDEFINED_OBJECT,
					pg::Format("quarry_bm25 index %s was built with text search configuration OID %u, which does "
							   "not exist",
							   index_name, meta.text_config)
						.text,
					"An index written by quarry 0.1.0 knows its configuration by OID, which pg_upgrade does not keep.",
					pg::Format("REINDEX INDEX %s.", index_name).text);
}

// rd_amcache of a quarry_bm25 index: the configuration resolved once per
// relcache entry. A rebuild (REINDEX) gives the index a new relfilenode,
// which flushes the entry and this with it. Found by name (after pg_upgrade,
// until a REINDEX), it may be one the index does not depend on: each use
// checks it still exists.
struct AmCache {
	Oid text_config;
};
// Kept in rd_amcache: freed with the relcache entry's memory, never destroyed.
static_assert(std::is_trivially_destructible_v<AmCache>);

} // namespace

Oid
IndexTextConfig(Relation index, const MetaPage &meta, bool missing_ok)
{
	auto *cache = static_cast<AmCache *>(index->rd_amcache);
	if (cache != nullptr && SearchSysCacheExists1(TSCONFIGOID, ObjectIdGetDatum(cache->text_config)))
		return cache->text_config;
	Oid config = ResolveTextConfig(index, meta);
	if (config == InvalidOid)
	{
		if (missing_ok)
			return InvalidOid;
		ThrowConfigMissing(index, meta);
	}
	if (cache == nullptr)
	{
		cache = static_cast<AmCache *>(MemoryContextAlloc(index->rd_indexcxt, sizeof(AmCache)));
		index->rd_amcache = cache;
	}
	cache->text_config = config;
	return config;
}

void
ForgetTextConfig(Relation index)
{
	if (index->rd_amcache != nullptr)
		pfree(index->rd_amcache);
	index->rd_amcache = nullptr;
}

} // namespace quarry::am::bm25
