// The SQL functions of quarry_bm25 that read an index: the <@> and @@@
// operators evaluated outside an index scan, quarry_bm25_scored (a returned
// row's score from the scan; for a row of several fields too),
// quarry_bm25_merge and quarry_bm25_stats.
//
// <@> (text, quarry_query) returns minus the row's BM25 score with the index's
// statistics, computed exactly as the index scan computes it (same terms, same
// N, average length and document frequencies, same summation order), so a score
// in the SELECT list equals the one the ordering used. Rows without any query
// term score 0.
#include "am/bm25/bm25.h"
#include "am/bm25/bm25_fields.h"
#include "am/bm25/bm25_maintenance.h"
#include "am/bm25/bm25_query.h"
#include "am/bm25/bm25_scan_notes.h"
#include "am/returned_rows.h"
#include "am/bm25/bm25_search.h"
#include "am/index_kind.h"

#include "pg/guard.h"
#include "pg/memory_glue.h"
#include "pg/privileges.h"
#include "pg/result_row.h"

extern "C" {
#include "access/htup_details.h"
#include "access/relation.h"
#include "access/table.h"
#include "funcapi.h"
#include "catalog/pg_type.h"
#include "nodes/makefuncs.h"
#include "nodes/primnodes.h"
#include "parser/parse_func.h"
#include "utils/lsyscache.h"
#include "storage/itemptr.h"
#include "utils/builtins.h"
#include "utils/typcache.h"
#include "catalog/pg_type.h"
#include "utils/lsyscache.h"
#include "miscadmin.h"
}

#include <algorithm>
#include <cstring>
#include <type_traits>

namespace quarry::am::bm25 {

namespace {

// A prepared query cached across calls of one expression (fn_extra), valid
// while the same query (index, text, syntax, statistics, column read) and
// user come back.
struct ScoreCache {
	Oid index;
	Oid user; // the current user when the access was checked
	bool column_operand;
	Oid check_as_user;
	bool parsed;
	char *text;
	int bytes;
	uint64_t stats_hash; // of the statistics the query carries (0: none)
	MemoryContext cxt;
	mem::ScanArena *arena;
	PreparedQuery *query;
	double *term_scores;
	// The last access check passed without preparing a query (a score taken
	// from the scan): for this index, marks and user.
	Oid checked_index;
	Oid checked_user;
	bool checked_column_operand;
	Oid checked_as_user;
};
static_assert(std::is_trivially_destructible_v<ScoreCache>);

// Whether the cache holds query `q` for the current user.
bool
Holds(const ScoreCache *cache, const QueryValue &q)
{
	return cache != nullptr && cache->query != nullptr && cache->index == q.index && cache->user == GetUserId() &&
		   cache->column_operand == q.column_operand && cache->check_as_user == q.check_as_user &&
		   cache->parsed == q.parsed && cache->bytes == static_cast<int>(q.text.size()) &&
		   cache->stats_hash == StatisticsHash(q.stats) &&
		   std::memcmp(cache->text, q.text.data(), q.text.size()) == 0;
}

// The call site's cache, made on first use (its arena when a query is first
// prepared: scores taken from the scan need none).
ScoreCache *
CacheOf(FunctionCallInfo fcinfo)
{
	auto *cache = static_cast<ScoreCache *>(fcinfo->flinfo->fn_extra);
	if (cache != nullptr)
		return cache;
	cache = static_cast<ScoreCache *>(MemoryContextAllocZero(fcinfo->flinfo->fn_mcxt, sizeof(ScoreCache)));
	fcinfo->flinfo->fn_extra = cache;
	return cache;
}

// CheckMayScore for a score the scan already has (nothing to prepare): once
// per call site while the index, the marks and the user stay the same.
void
CheckMayScoreOnce(ScoreCache *cache, const QueryValue &q)
{
	if (cache->checked_index == q.index && cache->checked_user == GetUserId() &&
		cache->checked_column_operand == q.column_operand && cache->checked_as_user == q.check_as_user)
		return;
	CheckIndexKind(q.index, IndexKind::kBm25);
	CheckMayScore(q);
	cache->checked_index = q.index;
	cache->checked_user = GetUserId();
	cache->checked_column_operand = q.column_operand;
	cache->checked_as_user = q.check_as_user;
}

ScoreCache *
CachedQuery(FunctionCallInfo fcinfo, const QueryValue &q)
{
	ScoreCache *cache = CacheOf(fcinfo);
	if (Holds(cache, q))
		return cache;
	if (cache->arena == nullptr)
	{
		cache->cxt = AllocSetContextCreate(fcinfo->flinfo->fn_mcxt, "quarry_bm25 score", ALLOCSET_SMALL_SIZES);
		cache->arena = pg::CreateScanArena(cache->cxt);
	}
	// A new query: the arena starts over (keeping its block), nothing else is
	// allocated, so a nested loop over many queries takes no new memory.
	cache->query = nullptr;
	cache->arena->Reset();
	CheckIndexKind(q.index, IndexKind::kBm25);
	CheckMayScore(q);
	mem::ScanArena &arena = *cache->arena;
	Relation index = index_open(q.index, AccessShareLock);
	PreparedQuery *prepared;
	{
		pg::IndexErrorContext context("quarry_bm25 scoring", RelationGetRelationName(index));
		IndexView *view = OpenIndexView(index, arena);
		prepared = PrepareQuery(view, q.text, q.parsed, q.stats, arena);
	}
	UseScanStatistics(q.index, q, *prepared);
	index_close(index, NoLock);
	IndexView *view = prepared->view;
	view->index = nullptr; // closed: only the prepared terms are used from here on
	cache->text = static_cast<char *>(arena.Allocate(q.text.size() + 1, 1));
	std::memcpy(cache->text, q.text.data(), q.text.size());
	cache->index = q.index;
	cache->user = GetUserId();
	cache->column_operand = q.column_operand;
	cache->check_as_user = q.check_as_user;
	cache->parsed = q.parsed;
	cache->bytes = static_cast<int>(q.text.size());
	cache->stats_hash = StatisticsHash(q.stats);
	cache->term_scores = arena.MakeArray<double>(std::max<uint32_t>(prepared->scored_count, 1));
	cache->query = prepared;
	return cache;
}

} // namespace

// The statistics tell what the table holds. A row the statement reads from
// the index's column (the planner marked the query) may be scored with them
// by whoever may read the column that way (a view's owner, or the current
// user); anything else reads them on its own, which needs what pg_stats
// needs (pg::CheckIndexStatisticsReadable).
void
CheckMayScore(const QueryValue &q)
{
	if (!q.column_operand)
	{
		pg::CheckIndexStatisticsReadable(q.index);
		return;
	}
	pg::CheckIndexReadable(q.index, q.check_as_user != InvalidOid ? q.check_as_user : GetUserId());
}

} // namespace quarry::am::bm25

namespace quarry::am::bm25 {

namespace {

// A column compared with a query scored by an index of several fields: the
// row of its fields must be (a text alone would score as if the other
// fields were empty).
void
CheckOneField(const ScoreCache &cache, const QueryValue &q)
{
	if (cache.query->view->field_count < 2)
		return;
	const char *name = pg::PgCall([&] { return get_rel_name(q.index); });
	throw pg::Error(ERRCODE_WRONG_OBJECT_TYPE,
					pg::Format("index \"%s\" has %u fields: a single column cannot be scored with it", name,
							   cache.query->view->field_count)
						.text,
					nullptr,
					"Compare the row of the index's columns with the query, as in (title, body) <@> 'q'.");
}

// The values of `row` (a record) as the `fields` columns of index `index`;
// false when every one is NULL (such a row is not in the index).
bool
RowValues(Datum row, Oid index, uint32_t fields, Datum *values, bool *nulls)
{
	return pg::PgCall([&] {
		HeapTupleHeader header = DatumGetHeapTupleHeader(row);
		TupleDesc desc = lookup_rowtype_tupdesc(HeapTupleHeaderGetTypeId(header), HeapTupleHeaderGetTypMod(header));
		if (static_cast<uint32_t>(desc->natts) != fields)
			ereport(ERROR, (errcode(ERRCODE_DATATYPE_MISMATCH),
							errmsg("a row of %d values compared with index \"%s\", which has %u fields", desc->natts,
								   get_rel_name(index), fields),
							errhint("Write the row of the index's columns, in its order.")));
		for (int i = 0; i < desc->natts; i++)
		{
			Oid type = TupleDescAttr(desc, i)->atttypid;
			if (type != TEXTOID && type != VARCHAROID && type != BPCHAROID)
				ereport(ERROR, (errcode(ERRCODE_DATATYPE_MISMATCH),
								errmsg("value %d of the row compared with index \"%s\" is of type %s, not text", i + 1,
									   get_rel_name(index), format_type_be(type))));
		}
		HeapTupleData tuple;
		tuple.t_len = HeapTupleHeaderGetDatumLength(header);
		ItemPointerSetInvalid(&tuple.t_self);
		tuple.t_tableOid = InvalidOid;
		tuple.t_data = header;
		heap_deform_tuple(&tuple, desc, values, nulls);
		ReleaseTupleDesc(desc);
		return !RowIsNull(nulls, fields);
	});
}

// Minus the BM25F score of a row (a record of the index's fields) for `q`
// (0 when it does not match, as ComputedScore); null when every field is NULL.
double
ComputedRowScore(FunctionCallInfo fcinfo, Datum row, QueryValue q, bool *null)
{
	q.index = IndexOfQuery(q);
	ScoreCache *cache = CachedQuery(fcinfo, q);
	const uint32_t fields = cache->query->view->field_count;
	Datum values[kMaxFields];
	bool nulls[kMaxFields];
	*null = !RowValues(row, q.index, fields, values, nulls);
	if (*null)
		return 0;
	Tokens doc = pg::PgCall([&] { return TokenizeRow(cache->query->view->config, values, nulls, fields); });
	const double score = ScoreTokens(*cache->query, doc, cache->term_scores);
	return score > 0 ? -score : 0.0;
}

} // namespace

} // namespace quarry::am::bm25

using namespace quarry::am::bm25;
using quarry::am::CheckIndexKind;
using quarry::am::IndexKind;
using quarry::pg::Boundary;
using quarry::pg::IndexBoundary;

namespace {

// Minus the BM25 score of `text` for query `q` (0 when it does not match),
// computed from the row's tokens.
double
ComputedScore(FunctionCallInfo fcinfo, Datum text, QueryValue q)
{
	q.index = IndexOfQuery(q);
	ScoreCache *cache = CachedQuery(fcinfo, q);
	CheckOneField(*cache, q);
	Tokens doc = TokenizeDatum(cache->query->view->config, text, false);
	double score = ScoreTokens(*cache->query, doc, cache->term_scores);
	return score > 0 ? -score : 0.0;
}

// quarry_bm25_scored's fast path (argument 0 the row's ctid): the value the
// scan ranked the row with, when it is the row the scan returned last
// (privileges checked once per call site); false otherwise.
bool
ScanValue(FunctionCallInfo fcinfo, const QueryValue &q, double *value, bool *null)
{
	if (q.index == InvalidOid ||
		!quarry::am::ValueOfReturnedRow(q.index, q.parsed, q.text, reinterpret_cast<ItemPointer>(PG_GETARG_POINTER(0)),
										value, null, q.stats))
	{
		*null = false;
		return false;
	}
	CheckMayScoreOnce(CacheOf(fcinfo), q);
	return true;
}

} // namespace

// text <@> quarry_query: minus the BM25 score (0 when the row does not match).
QUARRY_FUNCTION(quarry_bm25_score)
{
	return Boundary("quarry_bm25_score", [&]() -> Datum {
		PG_RETURN_FLOAT8(ComputedScore(fcinfo, PG_GETARG_DATUM(0), DecodeQuery(PG_GETARG_DATUM(1))));
	});
}

// quarry_bm25_scored(ctid, text, quarry_query): what the planner puts in an
// ordered quarry_bm25 scan's projection in place of `text <@> query`: the
// value the scan ranked the row with when the row is the one it returned last
// (no tokenizing: a returned row costs nothing however long its text), else
// the same value computed as <@> computes it. Equal to `text <@> query` bit
// for bit either way, and asks the same privileges.
QUARRY_FUNCTION(quarry_bm25_scored)
{
	return Boundary("quarry_bm25_scored", [&]() -> Datum {
		QueryValue q = DecodeQuery(PG_GETARG_DATUM(2));
		double value;
		bool null;
		if (!ScanValue(fcinfo, q, &value, &null))
			value = ComputedScore(fcinfo, PG_GETARG_DATUM(1), q);
		if (null)
			PG_RETURN_NULL();
		PG_RETURN_FLOAT8(value);
	});
}

// text @@@ quarry_query: whether the text matches: holds at least one query
// term (a parsed query: and passes its MUST and MUST_NOT clauses).
QUARRY_FUNCTION(quarry_bm25_match)
{
	return Boundary("quarry_bm25_match", [&]() -> Datum {
		QueryValue q = DecodeQuery(PG_GETARG_DATUM(1));
		q.index = IndexOfQuery(q);
		ScoreCache *cache = CachedQuery(fcinfo, q);
		CheckOneField(*cache, q);
		Tokens doc = TokenizeDatum(cache->query->view->config, PG_GETARG_DATUM(0), false);
		double score = ScoreTokens(*cache->query, doc, cache->term_scores);
		PG_RETURN_BOOL(score > 0);
	});
}

// record <@> quarry_query: minus the BM25F score of a row of an index's
// fields, as in (title, body) <@> 'q' (0 when it does not match, NULL when
// every field is NULL).
QUARRY_FUNCTION(quarry_bm25_row_score)
{
	return Boundary("quarry_bm25_row_score", [&]() -> Datum {
		bool null;
		double score = ComputedRowScore(fcinfo, PG_GETARG_DATUM(0), DecodeQuery(PG_GETARG_DATUM(1)), &null);
		if (null)
			PG_RETURN_NULL();
		PG_RETURN_FLOAT8(score);
	});
}

// quarry_bm25_row_scored(ctid, record, quarry_query): the row form of
// quarry_bm25_scored (the scan's value for the row it returned last, else
// computed as record <@> quarry_query computes it).
QUARRY_FUNCTION(quarry_bm25_row_scored)
{
	return Boundary("quarry_bm25_row_scored", [&]() -> Datum {
		QueryValue q = DecodeQuery(PG_GETARG_DATUM(2));
		double value;
		bool null;
		if (!ScanValue(fcinfo, q, &value, &null))
			value = ComputedRowScore(fcinfo, PG_GETARG_DATUM(1), q, &null);
		if (null)
			PG_RETURN_NULL();
		PG_RETURN_FLOAT8(value);
	});
}

// record @@@ quarry_query: whether a row of an index's fields matches.
QUARRY_FUNCTION(quarry_bm25_row_match)
{
	return Boundary("quarry_bm25_row_match", [&]() -> Datum {
		bool null;
		double score = ComputedRowScore(fcinfo, PG_GETARG_DATUM(0), DecodeQuery(PG_GETARG_DATUM(1)), &null);
		if (null)
			PG_RETURN_NULL();
		PG_RETURN_BOOL(score < 0);
	});
}

// quarry_bm25_merge(regclass): flush and merge everything into one segment.
QUARRY_FUNCTION(quarry_bm25_merge)
{
	return IndexBoundary("quarry_bm25_merge", quarry::pg::IndexNameForContext(PG_GETARG_OID(0)), [&]() -> Datum {
		Oid oid = PG_GETARG_OID(0);
		CheckIndexKind(oid, IndexKind::kBm25);
		// What REINDEX asks, checked before any lock is taken; then, as
		// REINDEX does, the work runs as the table's owner.
		quarry::pg::CheckIndexMaintainable(oid);
		Relation table = table_open(quarry::pg::IndexTable(oid), AccessShareLock);
		quarry::pg::CheckIndexMaintainable(oid); // again, now that nothing can change it (as REINDEX)
		quarry::pg::SavedUser saved = quarry::pg::SwitchToTableOwner(table);
		Relation index = index_open(oid, RowExclusiveLock);
		uint32_t segments = MergeEverything(index);
		index_close(index, RowExclusiveLock);
		quarry::pg::RestoreUser(saved);
		table_close(table, AccessShareLock);
		PG_RETURN_INT32(static_cast<int32_t>(segments));
	});
}

// quarry_bm25_stats(regclass): the index's statistics and structure.
constexpr int kStatsColumns01 = 12; // its columns in quarry 0.1.x
QUARRY_FUNCTION(quarry_bm25_stats)
{
	return IndexBoundary("quarry_bm25_stats", quarry::pg::IndexNameForContext(PG_GETARG_OID(0)), [&]() -> Datum {
		Oid oid = PG_GETARG_OID(0);
		CheckIndexKind(oid, IndexKind::kBm25);
		quarry::pg::CheckIndexStatisticsReadable(oid);
		Relation index = index_open(oid, AccessShareLock);
		MetaPage meta;
		ReadMeta(index, &meta);
		BlockNumber pages = RelationGetNumberOfBlocks(index);
		// Its OID in this cluster; NULL when it is gone (the statistics stay readable).
		Oid config = IndexTextConfig(index, meta, true);
		index_close(index, AccessShareLock);
		uint64_t removed = 0, stored = 0;
		for (uint32_t i = 0; i < meta.segment_count; i++)
		{
			removed += meta.segments[i].dead_count;
			stored += meta.segments[i].doc_count;
		}
		Datum values[] = {
			Int64GetDatum(static_cast<int64_t>(meta.doc_count)),
			Int64GetDatum(static_cast<int64_t>(meta.total_length)),
			Float8GetDatum(meta.doc_count ? double(meta.total_length) / double(meta.doc_count) : 0.0),
			Int32GetDatum(static_cast<int32_t>(meta.segment_count)),
			Int64GetDatum(static_cast<int64_t>(stored)),
			Int64GetDatum(static_cast<int64_t>(removed)),
			Int32GetDatum(static_cast<int32_t>(meta.pending_docs)),
			Int64GetDatum(static_cast<int64_t>(meta.pending_bytes)),
			Int32GetDatum(static_cast<int32_t>(meta.retired_count)),
			Int64GetDatum(static_cast<int64_t>(pages)),
			ObjectIdGetDatum(config),
			Int64GetDatum(static_cast<int64_t>(meta.null_rows.count)),
			BoolGetDatum((meta.flags & kMetaPositions) != 0),
			Int32GetDatum(static_cast<int32_t>(FieldCount(meta))),
		};
		bool nulls[lengthof(values)] = {};
		nulls[10] = config == InvalidOid; // text_config
		// 14 columns; 12 under 0.1.x's declaration: the same first 12.
		return quarry::pg::ResultRow(fcinfo, "quarry_bm25_stats", values, nulls, kStatsColumns01);
	});
}

// quarry_bm25_fields(regclass): one row per field of the index (its key
// columns, in order): name, weight (the `weights` option; 1 when unnamed),
// and the field's total and average length over the N rows.
QUARRY_FUNCTION(quarry_bm25_fields)
{
	return IndexBoundary("quarry_bm25_fields", quarry::pg::IndexNameForContext(PG_GETARG_OID(0)), [&]() -> Datum {
		Oid oid = PG_GETARG_OID(0);
		CheckIndexKind(oid, IndexKind::kBm25);
		quarry::pg::CheckIndexStatisticsReadable(oid);
		InitMaterializedSRF(fcinfo, 0);
		auto *rsinfo = reinterpret_cast<ReturnSetInfo *>(fcinfo->resultinfo);
		if (rsinfo->setDesc->natts != 5)
			quarry::pg::ThrowError(ERRCODE_INTERNAL_ERROR, "quarry_bm25_fields: expected 5 columns");
		Relation index = index_open(oid, AccessShareLock);
		MetaPage meta;
		ReadMeta(index, &meta);
		const uint32_t fields = FieldCount(meta);
		double weights[kMaxFields];
		FieldWeights(index, fields, weights);
		for (uint32_t f = 0; f < fields; f++)
		{
			const uint64_t total = fields >= 2 ? meta.field_total_length[f] : meta.total_length;
			Datum values[] = {
				Int32GetDatum(static_cast<int32_t>(f + 1)),
				NameGetDatum(&TupleDescAttr(RelationGetDescr(index), f)->attname),
				Float8GetDatum(weights[f]),
				Int64GetDatum(static_cast<int64_t>(total)),
				Float8GetDatum(meta.doc_count ? double(total) / double(meta.doc_count) : 0.0),
			};
			bool nulls[lengthof(values)] = {};
			tuplestore_putvalues(rsinfo->setResult, rsinfo->setDesc, values, nulls);
		}
		index_close(index, AccessShareLock);
		return static_cast<Datum>(0);
	});
}
