// Tokenizing with a PostgreSQL text search configuration.
//
// parsetext() runs the configuration's parser and dictionaries (stemming, stop
// words), exactly as to_tsvector does. A lexeme's tf is its number of distinct
// positions, as in the tsvector. Two limits of tsvector do not apply here: it
// keeps at most 256 positions per lexeme and clamps positions at 16383, so for a
// document longer than 16383 words to_tsvector undercounts; we count every
// occurrence past that point. The document length is the sum of the tfs.
#include "am/bm25/bm25.h"
#include "pg/compat.h"

extern "C" {
#include "tsearch/ts_cache.h"
#include "tsearch/ts_utils.h"
#include "utils/builtins.h"
#include "utils/guc.h"
#include "utils/regproc.h"
#include "catalog/namespace.h"
#include "access/htup_details.h"
#include "catalog/pg_ts_config.h"
#include "utils/lsyscache.h"
#include "utils/syscache.h"
#include "access/genam.h"
#include "access/table.h"
#include "catalog/dependency.h"
#include "catalog/indexing.h"
#include "catalog/pg_depend.h"
#include "utils/fmgroids.h"
#include "utils/rel.h"
}

#include <cstdlib>
#include <cstdio>
#include <cstring>
#include <string_view>

namespace quarry::am::bm25 {

namespace {

// parsetext stores positions clamped to this value (LIMITPOS).
constexpr uint16_t kClampedPosition = MAXENTRYPOS - 1;

struct Occurrence {
	const char *text;
	uint32_t bytes;
	uint16_t position;
	uint32_t order; // index of the occurrence in the text
};

int
CompareText(const char *a, uint32_t alen, const char *b, uint32_t blen)
{
	int c = std::memcmp(a, b, alen < blen ? alen : blen);
	if (c != 0)
		return c;
	return alen < blen ? -1 : (alen > blen ? 1 : 0);
}

int
CompareOccurrence(const void *pa, const void *pb)
{
	const auto *a = static_cast<const Occurrence *>(pa);
	const auto *b = static_cast<const Occurrence *>(pb);
	int c = CompareText(a->text, a->bytes, b->text, b->bytes);
	if (c != 0)
		return c;
	if (a->position != b->position)
		return a->position < b->position ? -1 : 1;
	return a->order < b->order ? -1 : (a->order > b->order ? 1 : 0);
}

struct Grouped {
	Lexeme lexeme;
	uint32_t first; // order of the lexeme's first occurrence in the text
};

int
CompareFirstOccurrence(const void *pa, const void *pb)
{
	uint32_t a = static_cast<const Grouped *>(pa)->first;
	uint32_t b = static_cast<const Grouped *>(pb)->first;
	return a < b ? -1 : (a > b ? 1 : 0);
}

} // namespace

Tokens
Tokenize(Oid config, const char *text, int bytes, bool in_text_order)
{
	ParsedText parsed;
	parsed.lenwords = bytes / 6 + 2;
	parsed.curwords = 0;
	parsed.pos = 0;
	parsed.words = static_cast<ParsedWord *>(palloc(sizeof(ParsedWord) * parsed.lenwords));
	parsetext(config, &parsed, const_cast<char *>(text), bytes);

	Tokens tokens{nullptr, 0, 0};
	if (parsed.curwords == 0)
		return tokens;

	uint32_t n = static_cast<uint32_t>(parsed.curwords);
	auto *occ = static_cast<Occurrence *>(palloc(sizeof(Occurrence) * n));
	for (uint32_t i = 0; i < n; i++)
		occ[i] = {parsed.words[i].word, parsed.words[i].len, parsed.words[i].pos.pos, i};
	qsort(occ, n, sizeof(Occurrence), CompareOccurrence);

	auto *grouped = static_cast<Grouped *>(palloc(sizeof(Grouped) * n));
	uint32_t count = 0;
	for (uint32_t i = 0; i < n; i++)
	{
		bool same_lexeme = i > 0 && CompareText(occ[i].text, occ[i].bytes, occ[i - 1].text, occ[i - 1].bytes) == 0;
		if (!same_lexeme)
			grouped[count++] = {{occ[i].text, occ[i].bytes, 0}, occ[i].order};
		Grouped &g = grouped[count - 1];
		if (occ[i].order < g.first)
			g.first = occ[i].order;
		// One position counts once (as in a tsvector), except the clamped last
		// position, which stands for every position from there on.
		if (same_lexeme && occ[i].position == occ[i - 1].position && occ[i].position != kClampedPosition)
			continue;
		g.lexeme.tf++;
		tokens.length++;
	}
	if (in_text_order)
		qsort(grouped, count, sizeof(Grouped), CompareFirstOccurrence);

	tokens.lexemes = static_cast<Lexeme *>(palloc(sizeof(Lexeme) * count));
	tokens.count = count;
	for (uint32_t i = 0; i < count; i++)
		tokens.lexemes[i] = grouped[i].lexeme;
	pfree(grouped);
	pfree(occ);
	pfree(parsed.words);
	return tokens;
}

Tokens
TokenizeDatum(Oid config, Datum value, bool in_text_order)
{
	text *t = DatumGetTextPP(value);
	Tokens tokens = Tokenize(config, VARDATA_ANY(t), static_cast<int>(VARSIZE_ANY_EXHDR(t)), in_text_order);
	return tokens;
}

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

} // namespace

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

namespace {

// The configuration index `index` depends on (RecordConfigDependency), or
// InvalidOid: an index written by quarry 0.1.0 and updated in place has none.
Oid
DependedOnConfig(Oid index)
{
	Relation catalog = table_open(DependRelationId, AccessShareLock);
	ScanKeyData keys[2];
	ScanKeyInit(&keys[0], Anum_pg_depend_classid, BTEqualStrategyNumber, F_OIDEQ,
				ObjectIdGetDatum(RelationRelationId));
	ScanKeyInit(&keys[1], Anum_pg_depend_objid, BTEqualStrategyNumber, F_OIDEQ, ObjectIdGetDatum(index));
	SysScanDesc scan = systable_beginscan(catalog, DependDependerIndexId, true, nullptr, 2, keys);
	Oid config = InvalidOid;
	for (HeapTuple tuple; HeapTupleIsValid(tuple = systable_getnext(scan));)
	{
		auto *form = reinterpret_cast<Form_pg_depend>(GETSTRUCT(tuple));
		if (form->refclassid == TSConfigRelationId && form->deptype == DEPENDENCY_NORMAL)
			config = form->refobjid;
	}
	systable_endscan(scan);
	table_close(catalog, AccessShareLock);
	return config;
}

// The configuration the metapage names, in this cluster: see IndexTextConfig.
Oid
ResolveTextConfig(Relation index, const MetaPage &meta)
{
	std::string_view schema = StoredName(meta.text_config_schema);
	std::string_view name = StoredName(meta.text_config_name);
	// The dependency the build recorded follows the configuration through a
	// rename; pg_upgrade and a restore record it again, on the configuration
	// the index's text_config names there (another OID).
	Oid depended = DependedOnConfig(RelationGetRelid(index));
	bool oid_exists = SearchSysCacheExists1(TSCONFIGOID, ObjectIdGetDatum(meta.text_config));
	// In the cluster it was built in (renamed or not): its OID, which it
	// depends on. An index written by quarry 0.1.0 and updated in place has
	// no dependency and its OID.
	if (oid_exists && (depended == InvalidOid || depended == meta.text_config))
		return meta.text_config;
	// In another cluster (pg_upgrade): the name it recorded, which holds even
	// where the restore resolved text_config otherwise (an index without
	// text_config takes default_text_search_config, which may differ there).
	if (!name.empty())
	{
		List *names = list_make2(makeString(pnstrdup(schema.data(), schema.size())),
								 makeString(pnstrdup(name.data(), name.size())));
		Oid config = get_ts_config_oid(names, true);
		if (config != InvalidOid)
			return config;
	}
	// A format 2 index after pg_upgrade: the configuration its text_config
	// names in the new cluster. (Its OID would not do: built-in
	// configurations get other OIDs, user ones do as the restore assigns.)
	if (name.empty() && depended != InvalidOid && SearchSysCacheExists1(TSCONFIGOID, ObjectIdGetDatum(depended)))
		return depended;
	return InvalidOid;
}

// Throws the ERROR for an index whose configuration is gone.
[[noreturn]] void
ThrowConfigMissing(Relation index, const MetaPage &meta)
{
	const char *index_name = RelationGetRelationName(index);
	std::string_view schema = StoredName(meta.text_config_schema);
	std::string_view name = StoredName(meta.text_config_name);
	if (!name.empty())
		throw pg::Error(ERRCODE_UNDEFINED_OBJECT,
						pg::Format("text search configuration \"%s.%s\" of quarry_bm25 index \"%s\" does not exist",
								   quote_identifier(pnstrdup(schema.data(), schema.size())),
								   quote_identifier(pnstrdup(name.data(), name.size())), index_name)
							.text,
						nullptr,
						pg::Format("Create it again, or REINDEX INDEX %s to build the index with another one.", index_name)
							.text);
	throw pg::Error(ERRCODE_UNDEFINED_OBJECT,
					pg::Format("quarry_bm25 index \"%s\" was built with text search configuration OID %u, which does "
							   "not exist",
							   index_name, meta.text_config)
						.text,
					"An index written by quarry 0.1.0 knows its configuration by OID, which pg_upgrade does not keep.",
					pg::Format("REINDEX INDEX %s.", index_name).text);
}

// rd_amcache of a quarry_bm25 index: the configuration resolved once per
// relcache entry. A rebuild (REINDEX) gives the index a new relfilenode,
// which flushes the entry and this with it; nothing else changes the
// configuration an index was built with.
struct AmCache {
	Oid text_config;
};

} // namespace

Oid
IndexTextConfig(Relation index, const MetaPage &meta)
{
	if (index->rd_amcache != nullptr)
		return static_cast<const AmCache *>(index->rd_amcache)->text_config;
	Oid config = ResolveTextConfig(index, meta);
	if (config == InvalidOid)
		ThrowConfigMissing(index, meta);
	auto *cache = static_cast<AmCache *>(MemoryContextAlloc(index->rd_indexcxt, sizeof(AmCache)));
	cache->text_config = config;
	index->rd_amcache = cache;
	return config;
}

void
ForgetTextConfig(Relation index)
{
	if (index->rd_amcache != nullptr)
		pfree(index->rd_amcache);
	index->rd_amcache = nullptr;
}

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

} // namespace quarry::am::bm25
