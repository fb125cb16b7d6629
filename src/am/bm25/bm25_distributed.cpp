// quarry_bm25 on Citus distributed tables: recognising them, and collecting
// a table's statistics from its shards (see bm25_distributed.h).
#include "am/bm25/bm25_distributed.h"
#include "am/bm25/bm25_query.h"

#include "fts/term_statistics.h"
#include "pg/guard.h"
#include "pg/privileges.h"

extern "C" {
#include "access/genam.h"
#include "access/htup_details.h"
#include "access/table.h"
#include "catalog/namespace.h"
#include "catalog/pg_index.h"
#include "lib/stringinfo.h"
#include "catalog/pg_namespace.h"
#include "catalog/pg_type.h"
#include "executor/spi.h"
#include "utils/builtins.h"
#include "utils/datum.h"
#include "utils/fmgroids.h"
#include "utils/guc.h"
#include "utils/lsyscache.h"
#include "utils/ruleutils.h"
#include "utils/syscache.h"
}

#include <algorithm>
#include <string>

namespace quarry::am::bm25 {

int statistics_mode = static_cast<int>(StatisticsMode::kShard);

namespace {

const struct config_enum_entry kStatisticsModes[] = {
	{"shard", static_cast<int>(StatisticsMode::kShard), false},
	{"global", static_cast<int>(StatisticsMode::kGlobal), false},
	{nullptr, 0, false},
};

} // namespace

void
DefineDistributedSettings()
{
	DefineCustomEnumVariable("quarry.bm25_statistics",
							 "Which statistics score a quarry_bm25 query on a Citus distributed table.",
							 "shard: each shard's own (no extra work); global: the table's, collected from "
							 "every shard when the statement is planned (one more round trip to the workers).",
							 &statistics_mode, static_cast<int>(StatisticsMode::kShard), kStatisticsModes,
							 PGC_USERSET, 0, nullptr, nullptr, nullptr);
}

namespace {

// SELECT quarry_bm25_shard_statistics(<the index's key>, '<query>') FROM
// <its table>: on a distributed table Citus sends it to every shard, where
// the planner hook makes it one row of that shard's statistics
// (RewriteShardStatistics); on any other table it is that one row.
char *
StatisticsQuery(Oid index, Datum query, Oid query_type)
{
	const Oid table = pg::IndexTable(index);
	HeapTuple tuple = SearchSysCache1(INDEXRELID, ObjectIdGetDatum(index));
	if (!HeapTupleIsValid(tuple))
		elog(ERROR, "cache lookup failed for index %u", index);
	const int keys = reinterpret_cast<Form_pg_index>(GETSTRUCT(tuple))->indnkeyatts;
	ReleaseSysCache(tuple);
	StringInfoData key;
	initStringInfo(&key);
	for (int k = 1; k <= keys; k++)
	{
		Datum column = DirectFunctionCall3(pg_get_indexdef_ext, ObjectIdGetDatum(index), Int32GetDatum(k),
										   BoolGetDatum(true));
		appendStringInfo(&key, "%s%s", k == 1 ? (keys > 1 ? "ROW(" : "") : ", ", TextDatumGetCString(column));
	}
	if (keys > 1)
		appendStringInfoChar(&key, ')');
	Oid output;
	bool varlena;
	getTypeOutputInfo(query_type, &output, &varlena);
	const char *schema = quote_identifier(get_namespace_name(ExtensionSchema()));
	return psprintf("SELECT %s.quarry_bm25_shard_statistics(%s, %s::%s.quarry_query) FROM %s", schema, key.data,
					quote_literal_cstr(OidOutputFunctionCall(output, query)), schema,
					quote_qualified_identifier(get_namespace_name(get_rel_namespace(table)), get_rel_name(table)));
}

// Runs StatisticsQuery; its rows (one per shard), palloc'd in the caller's context.
text **
ShardStatistics(Oid index, Datum query, Oid query_type, uint64_t *count)
{
	char *sql = StatisticsQuery(index, query, query_type);
	MemoryContext outer = CurrentMemoryContext;
	if (SPI_connect() != SPI_OK_CONNECT)
		elog(ERROR, "SPI_connect failed");
	if (SPI_execute(sql, true, 0) != SPI_OK_SELECT)
		elog(ERROR, "quarry_bm25 statistics query failed: %s", sql);
	*count = SPI_processed;
	auto **rows = static_cast<text **>(MemoryContextAlloc(outer, sizeof(text *) * std::max<uint64_t>(*count, 1)));
	for (uint64_t i = 0; i < *count; i++)
	{
		bool isnull;
		Datum d = SPI_getbinval(SPI_tuptable->vals[i], SPI_tuptable->tupdesc, 1, &isnull);
		if (isnull)
			elog(ERROR, "quarry_bm25 statistics query returned NULL");
		MemoryContext spi = MemoryContextSwitchTo(outer);
		rows[i] = DatumGetTextPCopy(d);
		MemoryContextSwitchTo(spi);
	}
	SPI_finish();
	return rows;
}

} // namespace

Datum
GlobalStatistics(Oid query_type, Oid index, Datum query)
{
	uint64_t count = 0;
	text **rows = pg::PgCall([&] { return ShardStatistics(index, query, query_type, &count); });
	if (count == 0)
		pg::ThrowError(ERRCODE_NO_DATA_FOUND, "no shard of the table of index \"%s\" answered",
					   pg::PgCall([&] { return get_rel_name(index); }));
	fts::StatisticsSum sum;
	for (uint64_t i = 0; i < count; i++)
	{
		fts::TermStatistics stats;
		const char *error = nullptr;
		std::string_view s(VARDATA_ANY(rows[i]), VARSIZE_ANY_EXHDR(rows[i]));
		if (!fts::TermStatistics::Parse(s, &stats, &error) || !sum.Add(stats, &error))
			pg::ThrowError(ERRCODE_INVALID_PARAMETER_VALUE, "a shard's quarry_bm25 statistics: %s", error);
	}
	const std::string total = sum.Format();
	return pg::PgCall([&] { return PointerGetDatum(cstring_to_text_with_len(total.data(), int(total.size()))); });
}

Datum
WithGlobalStatistics(Oid query_type, Oid index, Datum query)
{
	Datum stats = GlobalStatistics(query_type, index, query);
	QueryValue q = WithoutColumnRead(DecodeQuery(query));
	text *t = DatumGetTextPP(stats);
	q.stats = {VARDATA_ANY(t), VARSIZE_ANY_EXHDR(t)};
	return EncodeQuery(q);
}

} // namespace quarry::am::bm25
