// Scoring with statistics from elsewhere: a distributed table's shards each
// hold a quarry_bm25 index of their own rows, and score with the table's
// statistics when the query carries them (README "Scaling out with Citus").
//
//   quarry_bm25_term_statistics(indexes, query)  on a node: the sum of these
//       indexes' N, total lengths and the document frequency of every term
//       the query looks up in them (prefix and fuzzy expansions included)
//   quarry_bm25_sum_statistics(texts)            the sum of several of those
//   quarry_query_with_statistics(query, text)    the query, scored with them
//   quarry_query_statistics(query)               what a query carries
//
// The coordinator-side collection (which shard lives where) is SQL in the
// install script (quarry_bm25_global_statistics); the text form is
// fts/term_statistics.h. A term the statistics lack (a row written after they
// were collected) keeps the index's own document frequency.
#include "am/bm25/bm25_distributed.h"
#include "am/bm25/bm25_query.h"
#include "am/bm25/bm25_search.h"
#include "am/index_kind.h"
#include "fts/term_statistics.h"
#include "memory/scan_arena.h"
#include "pg/memory_glue.h"
#include "pg/guard.h"
#include "pg/privileges.h"

extern "C" {
#include "access/genam.h"
#include "catalog/pg_type.h"
#include "utils/array.h"
#include "utils/builtins.h"
#include "utils/lsyscache.h"
#include "utils/memutils.h"
#include "utils/rel.h"
}

namespace quarry::am::bm25 {

std::string_view
CheckStatistics(std::string_view text)
{
	fts::TermStatistics stats;
	const char *error = nullptr;
	if (!fts::TermStatistics::Parse(text, &stats, &error))
		throw pg::Error(ERRCODE_INVALID_PARAMETER_VALUE, pg::Format("malformed quarry_bm25 statistics: %s", error).text,
						nullptr, "Statistics come from quarry_bm25_term_statistics or quarry_bm25_global_statistics.");
	return text;
}

bool
ReadQueryStatistics(std::string_view text, fts::TermStatistics *out)
{
	if (text.empty())
		return false;
	const char *error = nullptr;
	if (!fts::TermStatistics::Parse(text, out, &error))
		pg::ThrowError(ERRCODE_DATA_CORRUPTED, "malformed quarry_query value: its statistics: %s", error);
	return true;
}

void
SetViewStatistics(IndexView *view, const fts::TermStatistics *given)
{
	const uint32_t fields = std::max<uint32_t>(view->field_count, 1);
	if (given != nullptr && given->field_count != fields)
		pg::ThrowError(ERRCODE_INVALID_PARAMETER_VALUE,
					   "the query's statistics are for an index of %u fields, index \"%s\" has %u",
					   given->field_count, RelationGetRelationName(view->index), fields);
	const uint64_t n = given != nullptr ? given->doc_count : view->meta.doc_count;
	view->stats = fts::CollectionStats{n, given != nullptr ? given->total_length : view->meta.total_length};
	for (uint32_t f = 0; view->field_count >= 2 && f < view->field_count; f++)
	{
		const uint64_t total = given != nullptr ? given->field_length[f] : view->meta.field_total_length[f];
		view->field_stats[f] = fts::CollectionStats{n, total};
		view->field_norms[f].avg_length = total == 0 || n == 0 ? 1.0 : view->field_stats[f].AverageLength();
	}
}

void
ApplyTermStatistics(const fts::TermStatistics *given, QueryTerm **lookups, uint32_t count)
{
	if (given == nullptr)
		return;
	for (uint32_t i = 0; i < count; i++)
	{
		uint64_t df;
		if (given->Find(lookups[i]->text, &df))
			lookups[i]->doc_freq = df;
	}
}

namespace {

// Adds index `oid`'s statistics for `q` to `sum`.
void
AddIndexStatistics(Oid oid, const QueryValue &q, fts::StatisticsSum &sum, MemoryContext cxt)
{
	mem::ScanArena *arena = nullptr;
	Relation index = pg::PgCall([&] {
		CheckIndexKind(oid, IndexKind::kBm25);
		pg::CheckIndexStatisticsReadable(oid);
		arena = pg::CreateScanArena(cxt);
		return index_open(oid, AccessShareLock);
	});
	const char *error = nullptr;
	{
		pg::IndexErrorContext context("quarry_bm25 statistics", RelationGetRelationName(index));
		IndexView *view = OpenIndexView(index, *arena);
		PreparedQuery *prepared = PrepareQuery(view, q.text, q.parsed, {}, *arena);
		const uint32_t fields = std::max<uint32_t>(view->field_count, 1);
		if (!sum.AddTotals(view->meta.doc_count, view->meta.total_length, fields, view->meta.field_total_length,
						   &error))
			pg::ThrowError(ERRCODE_INVALID_PARAMETER_VALUE, "quarry_bm25_term_statistics: %s", error);
		for (uint32_t i = 0; i < prepared->lookup_count; i++)
			if (!sum.AddTerm(prepared->lookups[i]->text, prepared->lookups[i]->doc_freq, &error))
				pg::ThrowError(ERRCODE_NUMERIC_VALUE_OUT_OF_RANGE, "quarry_bm25_term_statistics: %s", error);
	}
	pg::PgCall([&] {
		index_close(index, AccessShareLock);
		MemoryContextReset(cxt);
	});
}

Datum
ToText(const std::string &s)
{
	return pg::PgCall([&] { return PointerGetDatum(cstring_to_text_with_len(s.data(), static_cast<int>(s.size()))); });
}

} // namespace

} // namespace quarry::am::bm25

using namespace quarry::am::bm25;
using quarry::pg::Boundary;

// quarry_bm25_term_statistics(regclass[], quarry_query): the sum of the
// indexes' statistics for the query's terms (a node's shards of one table).
QUARRY_FUNCTION(quarry_bm25_term_statistics)
{
	return Boundary("quarry_bm25_term_statistics", [&]() -> Datum {
		ArrayType *array = PG_GETARG_ARRAYTYPE_P(0);
		QueryValue q = DecodeQuery(PG_GETARG_DATUM(1));
		Datum *oids;
		bool *nulls;
		int count;
		deconstruct_array(array, REGCLASSOID, sizeof(Oid), true, TYPALIGN_INT, &oids, &nulls, &count);
		MemoryContext cxt = AllocSetContextCreate(CurrentMemoryContext, "quarry_bm25 statistics", ALLOCSET_DEFAULT_SIZES);
		quarry::fts::StatisticsSum sum;
		for (int i = 0; i < count; i++)
		{
			if (nulls[i])
				quarry::pg::ThrowError(ERRCODE_NULL_VALUE_NOT_ALLOWED, "quarry_bm25_term_statistics: an index is NULL");
			AddIndexStatistics(DatumGetObjectId(oids[i]), q, sum, cxt);
		}
		if (count == 0)
			quarry::pg::ThrowError(ERRCODE_INVALID_PARAMETER_VALUE, "quarry_bm25_term_statistics needs an index");
		return ToText(sum.Format());
	});
}

// quarry_bm25_sum_statistics(text[]): the sum of several indexes' statistics.
QUARRY_FUNCTION(quarry_bm25_sum_statistics)
{
	return Boundary("quarry_bm25_sum_statistics", [&]() -> Datum {
		ArrayType *array = PG_GETARG_ARRAYTYPE_P(0);
		Datum *texts;
		bool *nulls;
		int count;
		deconstruct_array(array, TEXTOID, -1, false, TYPALIGN_INT, &texts, &nulls, &count);
		for (int i = 0; i < count; i++)
			if (!nulls[i])
				texts[i] = PointerGetDatum(PG_DETOAST_DATUM_PACKED(texts[i]));
		quarry::fts::StatisticsSum sum;
		for (int i = 0; i < count; i++)
		{
			if (nulls[i])
				quarry::pg::ThrowError(ERRCODE_NULL_VALUE_NOT_ALLOWED, "quarry_bm25_sum_statistics: an element is NULL");
			auto *t = reinterpret_cast<text *>(DatumGetPointer(texts[i]));
			std::string_view s(VARDATA_ANY(t), VARSIZE_ANY_EXHDR(t));
			quarry::fts::TermStatistics stats;
			const char *error = nullptr;
			if (!quarry::fts::TermStatistics::Parse(CheckStatistics(s), &stats, &error) || !sum.Add(stats, &error))
				quarry::pg::ThrowError(ERRCODE_INVALID_PARAMETER_VALUE, "quarry_bm25_sum_statistics: %s", error);
		}
		if (count == 0)
			quarry::pg::ThrowError(ERRCODE_INVALID_PARAMETER_VALUE, "quarry_bm25_sum_statistics needs statistics");
		return ToText(sum.Format());
	});
}

// quarry_query_with_statistics(quarry_query, text): the query, scored with
// the given statistics (NULL: with the index's own).
QUARRY_FUNCTION(quarry_query_with_statistics)
{
	return Boundary("quarry_query_with_statistics", [&]() -> Datum {
		if (PG_ARGISNULL(0))
			PG_RETURN_NULL();
		QueryValue q = WithoutColumnRead(DecodeQuery(PG_GETARG_DATUM(0)));
		q.stats = {};
		if (!PG_ARGISNULL(1))
		{
			text *t = PG_GETARG_TEXT_PP(1);
			q.stats = CheckStatistics({VARDATA_ANY(t), VARSIZE_ANY_EXHDR(t)});
		}
		return EncodeQuery(q);
	});
}

// quarry_bm25_shard_statistics("any", quarry_query): only ever planned as
// SELECT quarry_bm25_shard_statistics(<key>, q) FROM <table>, which the
// planner hook turns into a call of quarry_bm25_term_statistics on the
// table's index (bm25_planner.cpp); called any other way it ERRORs.
QUARRY_FUNCTION(quarry_bm25_shard_statistics)
{
	return Boundary("quarry_bm25_shard_statistics", [&]() -> Datum {
		throw quarry::pg::Error(ERRCODE_FEATURE_NOT_SUPPORTED,
								"quarry_bm25_shard_statistics(key, query) must be the only column of SELECT ... FROM one table, with a query that does not depend on its rows",
								"It stands for the statistics of the table's quarry_bm25 index on its first argument, "
								"once per table (per shard of a distributed table).",
								"Call quarry_bm25_global_statistics(index, query) instead.");
		return Datum(0);
	});
}

// quarry_bm25_global_statistics(regclass, quarry_query): the statistics of
// the whole table of the index for the query (bm25_distributed.h).
QUARRY_FUNCTION(quarry_bm25_global_statistics)
{
	return Boundary("quarry_bm25_global_statistics", [&]() -> Datum {
		const Oid index = PG_GETARG_OID(0);
		quarry::am::CheckIndexKind(index, quarry::am::IndexKind::kBm25);
		return GlobalStatistics(QueryTypeOid(), index, PG_GETARG_DATUM(1));
	});
}

// quarry_query_statistics(quarry_query): the statistics a query carries, or NULL.
QUARRY_FUNCTION(quarry_query_statistics)
{
	return Boundary("quarry_query_statistics", [&]() -> Datum {
		QueryValue q = DecodeQuery(PG_GETARG_DATUM(0));
		if (q.stats.empty())
			PG_RETURN_NULL();
		PG_RETURN_TEXT_P(cstring_to_text_with_len(q.stats.data(), static_cast<int>(q.stats.size())));
	});
}
