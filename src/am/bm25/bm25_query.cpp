// SQL functions of quarry_bm25: the quarry_query type, the <@> and @@@
// operators evaluated outside an index scan, and index statistics.
//
// <@> (text, quarry_query) returns minus the row's BM25 score with the index's
// statistics, computed exactly as the index scan computes it (same terms, same
// N, average length and document frequencies, same summation order), so a score
// in the SELECT list equals the one the ordering used. Rows without any query
// term score 0.
//
// Storage of a quarry_query (a varlena, 4-byte aligned):
//
//   int32_t  vl_len_   varlena header
//   Oid    index     the scoring index, InvalidOid while unresolved
//   uint8_t  flags     kParsedFlag: the text is read with the query syntax
//                    (quarry_query_parse); other bits are zero
//   char   text[]    the query text as given (not NUL-terminated)
//
// Text form (quarry_query_in / quarry_query_out): a plain query prints as its
// text, a parsed one as "parsed:" followed by its text; a plain query whose text
// itself starts with "parsed:" or "plain:" prints with "plain:" in front. Input
// reads the same forms, so every value prints and reads back to itself (the
// index is not part of the text form: it is resolved again from the column).
#include "am/bm25/bm25.h"
#include "am/bm25/bm25_merge.h"
#include "am/bm25/bm25_query.h"
#include "am/bm25/bm25_search.h"
#include "am/index_kind.h"

#include "pg/guard.h"
#include "pg/memory_glue.h"
#include "pg/privileges.h"

extern "C" {
#include "access/htup_details.h"
#include "miscadmin.h"
#include "access/relation.h"
#include "access/table.h"
#include "catalog/pg_am.h"
#include "catalog/pg_class.h"
#include "catalog/pg_type.h"
#include "commands/defrem.h"
#include "funcapi.h"
#include "utils/builtins.h"
#include "utils/lsyscache.h"
#include "utils/syscache.h"
#include "utils/timestamp.h"
#include "access/xact.h"
}

#include <cstring>

namespace quarry::am::bm25 {

namespace {

struct QueryVarlena {
	int32_t vl_len_;
	Oid index;
	uint8_t flags;
	char text[FLEXIBLE_ARRAY_MEMBER];
};
constexpr std::size_t kQueryHeader = offsetof(QueryVarlena, text);
constexpr uint8_t kParsedFlag = 0x01;

constexpr std::string_view kParsedPrefix = "parsed:";
constexpr std::string_view kPlainPrefix = "plain:";

// A prepared query cached across calls of one expression (fn_extra), valid
// while the same index, query text and user come back.
struct ScoreCache {
	Oid index;
	Oid user; // who was allowed to read the index's statistics
	bool parsed;
	char *text;
	int bytes;
	MemoryContext cxt;
	mem::ScanArena *arena;
	PreparedQuery *query;
	double *term_scores;
};

bool ScannedByThisUser(Oid index, const QueryValue &q);

ScoreCache *
CachedQuery(FunctionCallInfo fcinfo, const QueryValue &q)
{
	auto *cache = static_cast<ScoreCache *>(fcinfo->flinfo->fn_extra);
	if (cache != nullptr && cache->query != nullptr && cache->index == q.index && cache->user == GetUserId() &&
		cache->parsed == q.parsed && cache->bytes == static_cast<int>(q.text.size()) && std::memcmp(cache->text, q.text.data(), q.text.size()) == 0)
		return cache;
	if (cache == nullptr)
	{
		cache = static_cast<ScoreCache *>(MemoryContextAllocZero(fcinfo->flinfo->fn_mcxt, sizeof(ScoreCache)));
		cache->cxt = AllocSetContextCreate(fcinfo->flinfo->fn_mcxt, "quarry_bm25 score", ALLOCSET_SMALL_SIZES);
		cache->arena = pg::CreateScanArena(cache->cxt);
		fcinfo->flinfo->fn_extra = cache;
	}
	// A new query: the arena starts over (keeping its block), nothing else is
	// allocated, so a nested loop over many queries takes no new memory.
	cache->query = nullptr;
	cache->arena->Reset();
	CheckIndexKind(q.index, IndexKind::kBm25);
	// The statistics tell what the table holds: reading them needs what reading
	// the table needs, unless an index scan of this statement, which the
	// executor allowed (perhaps through a view), ranked with them already.
	if (!ScannedByThisUser(q.index, q))
		pg::CheckIndexReadable(q.index);
	mem::ScanArena &arena = *cache->arena;
	Relation index = index_open(q.index, AccessShareLock);
	PreparedQuery *prepared;
	{
		pg::IndexErrorContext context("quarry_bm25 scoring", RelationGetRelationName(index));
		IndexView *view = OpenIndexView(index, arena);
		prepared = PrepareQuery(view, q.text, q.parsed, arena);
	}
	UseScanStatistics(q.index, q, *prepared);
	index_close(index, NoLock);
	IndexView *view = prepared->view;
	view->index = nullptr; // closed: only the prepared terms are used from here on
	cache->text = static_cast<char *>(arena.Allocate(q.text.size() + 1, 1));
	std::memcpy(cache->text, q.text.data(), q.text.size());
	cache->index = q.index;
	cache->user = GetUserId();
	cache->parsed = q.parsed;
	cache->bytes = static_cast<int>(q.text.size());
	cache->term_scores = arena.MakeArray<double>(std::max<uint32_t>(prepared->scored_count, 1));
	cache->query = prepared;
	return cache;
}

// Index scans of the current statement: which index ran which query text, and
// the statistics it ranked with (see bm25_query.h).
struct ScanNote {
	TimestampTz statement;
	Oid user; // the user the scan ran for
	Oid index;
	bool parsed;
	uint32_t bytes;
	char *text; // in TopMemoryContext, like doc_freqs
	fts::CollectionStats stats;
	uint32_t term_count;
	uint64_t *doc_freqs;
};
constexpr int kScanNotes = 16;
ScanNote scan_notes[kScanNotes];
int next_note = 0;

bool
SameQuery(const ScanNote &n, const QueryValue &q)
{
	return n.parsed == q.parsed && n.bytes == q.text.size() && std::memcmp(n.text, q.text.data(), q.text.size()) == 0;
}

// Whether note `n` was made in this statement, for the current user.
bool
NoteIsCurrent(const ScanNote &n)
{
	return n.statement == GetCurrentStatementStartTimestamp() && n.user == GetUserId();
}

ScanNote *
FindNote(Oid index, const QueryValue &q)
{
	for (ScanNote &n : scan_notes)
		if (NoteIsCurrent(n) && n.index == index && SameQuery(n, q))
			return &n;
	return nullptr;
}

// Whether an index scan of this statement, run for the current user, ranked
// query `q` with index `index`.
bool
ScannedByThisUser(Oid index, const QueryValue &q)
{
	return FindNote(index, q) != nullptr;
}

[[noreturn]] void
ReportUnresolved(std::string_view text)
{
	throw pg::Error(ERRCODE_INVALID_PARAMETER_VALUE, pg::Format("could not determine which quarry_bm25 index scores the query \"%.*s\"", static_cast<int>(std::min<std::size_t>(text.size(), 60)), text.data()).text, "The left operand is not a column (or expression) with exactly one quarry_bm25 index, "
					   "or quarry was not loaded when the statement was planned.", "Name the index: quarry_query('...', 'index_name'). Adding quarry to "
					 "session_preload_libraries resolves unnamed queries in every statement.");
	pg_unreachable();
}

} // namespace

void
NoteScanQuery(Oid index, const QueryValue &q, const PreparedQuery &query)
{
	std::string_view text = q.text;
	ScanNote *n = FindNote(index, q);
	if (n == nullptr)
	{
		n = &scan_notes[next_note];
		next_note = (next_note + 1) % kScanNotes;
		if (n->text != nullptr)
			pfree(n->text);
		if (n->doc_freqs != nullptr)
			pfree(n->doc_freqs);
		n->text = static_cast<char *>(MemoryContextAlloc(TopMemoryContext, text.size() + 1));
		std::memcpy(n->text, text.data(), text.size());
		n->bytes = static_cast<uint32_t>(text.size());
		n->index = index;
		n->parsed = q.parsed;
		n->statement = GetCurrentStatementStartTimestamp();
		n->user = GetUserId();
		n->doc_freqs = static_cast<uint64_t *>(
			MemoryContextAlloc(TopMemoryContext, sizeof(uint64_t) * std::max<uint32_t>(query.term_count, 1)));
	}
	else if (n->term_count != query.term_count)
		return; // cannot happen: same text, same configuration
	n->stats = query.view->stats;
	n->term_count = query.term_count;
	for (uint32_t t = 0; t < query.term_count; t++)
		n->doc_freqs[t] = query.terms[t].doc_freq;
}

Oid
IndexScannedInThisStatement(const QueryValue &q)
{
	Oid found = InvalidOid;
	for (const ScanNote &n : scan_notes)
	{
		if (!NoteIsCurrent(n) || !SameQuery(n, q))
			continue;
		if (found != InvalidOid && found != n.index)
			return InvalidOid; // two indexes ran it: ambiguous
		found = n.index;
	}
	return found;
}

void
UseScanStatistics(Oid index, const QueryValue &q, PreparedQuery &query)
{
	const ScanNote *n = FindNote(index, q);
	if (n == nullptr || n->term_count != query.term_count)
		return;
	query.view->stats = n->stats;
	for (uint32_t t = 0; t < query.term_count; t++)
	{
		QueryTerm &qt = query.terms[t];
		qt.doc_freq = n->doc_freqs[t];
		qt.scorer = fts::TermScorer(query.view->params, n->stats, qt.doc_freq, qt.query_tf);
	}
}

QueryValue
DecodeQuery(Datum value)
{
	auto *q = reinterpret_cast<QueryVarlena *>(PG_DETOAST_DATUM(value));
	if (VARSIZE(q) < kQueryHeader)
		pg::ThrowError(ERRCODE_DATA_CORRUPTED, "malformed quarry_query value");
	if ((q->flags & ~kParsedFlag) != 0)
		pg::ThrowError(ERRCODE_DATA_CORRUPTED, "malformed quarry_query value");
	return QueryValue{q->index, {q->text, VARSIZE(q) - kQueryHeader}, (q->flags & kParsedFlag) != 0};
}

Datum
EncodeQuery(const QueryValue &value)
{
	std::size_t size = kQueryHeader + value.text.size();
	if (size > MaxAllocSize)
		pg::ThrowError(ERRCODE_PROGRAM_LIMIT_EXCEEDED, "quarry_query text is too long");
	auto *q = static_cast<QueryVarlena *>(palloc(size));
	SET_VARSIZE(q, size);
	q->index = value.index;
	q->flags = value.parsed ? kParsedFlag : 0;
	std::memcpy(q->text, value.text.data(), value.text.size());
	return PointerGetDatum(q);
}

namespace {

QueryValue
ReadQueryText(std::string_view s)
{
	if (s.starts_with(kParsedPrefix))
		return QueryValue{InvalidOid, s.substr(kParsedPrefix.size()), true};
	if (s.starts_with(kPlainPrefix))
		return QueryValue{InvalidOid, s.substr(kPlainPrefix.size()), false};
	return QueryValue{InvalidOid, s, false};
}

std::string_view
QueryTextPrefix(const QueryValue &q)
{
	if (q.parsed)
		return kParsedPrefix;
	if (q.text.starts_with(kParsedPrefix) || q.text.starts_with(kPlainPrefix))
		return kPlainPrefix;
	return {};
}

} // namespace

// The schema of the access method's handler function is the extension's.
Oid
ExtensionSchema()
{
	Oid am = AccessMethodOid(IndexKind::kBm25);
	if (am == InvalidOid)
		return InvalidOid;
	HeapTuple tuple = SearchSysCache1(AMOID, ObjectIdGetDatum(am));
	if (!HeapTupleIsValid(tuple))
		return InvalidOid;
	Oid handler = reinterpret_cast<Form_pg_am>(GETSTRUCT(tuple))->amhandler;
	ReleaseSysCache(tuple);
	return get_func_namespace(handler);
}

Oid
QueryTypeOid()
{
	Oid ext_schema = ExtensionSchema();
	if (ext_schema == InvalidOid)
		return InvalidOid;
	return GetSysCacheOid2(TYPENAMENSP, Anum_pg_type_oid, CStringGetDatum("quarry_query"),
						   ObjectIdGetDatum(ext_schema));
}

} // namespace quarry::am::bm25

using namespace quarry::am::bm25;
using quarry::am::CheckIndexKind;
using quarry::am::IndexKind;
using quarry::pg::Boundary;
using quarry::pg::IndexBoundary;

QUARRY_FUNCTION(quarry_query_in)
{
	return Boundary("quarry_query_in", [&]() -> Datum {
		const char *s = PG_GETARG_CSTRING(0);
		return EncodeQuery(ReadQueryText(s));
	});
}

QUARRY_FUNCTION(quarry_query_out)
{
	return Boundary("quarry_query_out", [&]() -> Datum {
		QueryValue q = DecodeQuery(PG_GETARG_DATUM(0));
		std::string_view prefix = QueryTextPrefix(q);
		auto *out = static_cast<char *>(palloc(prefix.size() + q.text.size() + 1));
		std::memcpy(out, prefix.data(), prefix.size());
		std::memcpy(out + prefix.size(), q.text.data(), q.text.size());
		out[prefix.size() + q.text.size()] = '\0';
		PG_RETURN_CSTRING(out);
	});
}

// The four constructors: the text of argument 0, read with the query syntax
// or not, for the index named by argument 1 when there is one (checked).
static Datum
MakeQuery(FunctionCallInfo fcinfo, bool parsed)
{
	text *t = PG_GETARG_TEXT_PP(0);
	Oid index = InvalidOid;
	if (PG_NARGS() > 1)
	{
		index = PG_GETARG_OID(1);
		CheckIndexKind(index, IndexKind::kBm25);
	}
	return EncodeQuery({index, {VARDATA_ANY(t), VARSIZE_ANY_EXHDR(t)}, parsed});
}

// quarry_query(text): the cast from text; the index is resolved later.
QUARRY_FUNCTION(quarry_query_from_text)
{
	return Boundary("quarry_query", [&] { return MakeQuery(fcinfo, false); });
}

// quarry_query(text, regclass): a query scored with the statistics of the named index.
QUARRY_FUNCTION(quarry_query_for_index)
{
	return Boundary("quarry_query", [&] { return MakeQuery(fcinfo, false); });
}

// quarry_query_parse(text): a query read with the query syntax; the index is
// resolved later.
QUARRY_FUNCTION(quarry_query_parse)
{
	return Boundary("quarry_query_parse", [&] { return MakeQuery(fcinfo, true); });
}

// quarry_query_parse(text, regclass): the same, scored with the named index.
QUARRY_FUNCTION(quarry_query_parse_for_index)
{
	return Boundary("quarry_query_parse", [&] { return MakeQuery(fcinfo, true); });
}

// quarry_query_is_parsed(quarry_query): whether the query is read with the syntax.
QUARRY_FUNCTION(quarry_query_is_parsed)
{
	return Boundary("quarry_query_is_parsed", [&]() -> Datum {
		PG_RETURN_BOOL(DecodeQuery(PG_GETARG_DATUM(0)).parsed);
	});
}

// quarry_query_resolve(quarry_query, oid): names the index unless the query
// already names one (used by the planner's rewrite).
QUARRY_FUNCTION(quarry_query_resolve)
{
	return Boundary("quarry_query_resolve", [&]() -> Datum {
		QueryValue q = DecodeQuery(PG_GETARG_DATUM(0));
		if (q.index != InvalidOid)
			return PG_GETARG_DATUM(0);
		CheckIndexKind(PG_GETARG_OID(1), IndexKind::kBm25);
		q.index = PG_GETARG_OID(1);
		return EncodeQuery(q);
	});
}

QUARRY_FUNCTION(quarry_query_index)
{
	return Boundary("quarry_query_index", [&]() -> Datum {
		QueryValue q = DecodeQuery(PG_GETARG_DATUM(0));
		if (q.index == InvalidOid)
			PG_RETURN_NULL();
		PG_RETURN_OID(q.index);
	});
}

QUARRY_FUNCTION(quarry_query_text)
{
	return Boundary("quarry_query_text", [&]() -> Datum {
		QueryValue q = DecodeQuery(PG_GETARG_DATUM(0));
		PG_RETURN_TEXT_P(cstring_to_text_with_len(q.text.data(), static_cast<int>(q.text.size())));
	});
}

// text <@> quarry_query: minus the BM25 score (0 when the row does not match).
QUARRY_FUNCTION(quarry_bm25_score)
{
	return Boundary("quarry_bm25_score", [&]() -> Datum {
		QueryValue q = DecodeQuery(PG_GETARG_DATUM(1));
		if (q.index == InvalidOid)
			q.index = IndexScannedInThisStatement(q);
		if (q.index == InvalidOid)
			ReportUnresolved(q.text);
		ScoreCache *cache = CachedQuery(fcinfo, q);
		Oid config = cache->query->view->config;
		Tokens doc = TokenizeDatum(config, PG_GETARG_DATUM(0), false);
		double score = ScoreTokens(*cache->query, doc, cache->term_scores);
		PG_RETURN_FLOAT8(score > 0 ? -score : 0.0);
	});
}

// text @@@ quarry_query: whether the text matches: holds at least one query
// term (a parsed query: and passes its MUST and MUST_NOT clauses).
QUARRY_FUNCTION(quarry_bm25_match)
{
	return Boundary("quarry_bm25_match", [&]() -> Datum {
		QueryValue q = DecodeQuery(PG_GETARG_DATUM(1));
		if (q.index == InvalidOid)
			q.index = IndexScannedInThisStatement(q);
		if (q.index == InvalidOid)
			ReportUnresolved(q.text);
		ScoreCache *cache = CachedQuery(fcinfo, q);
		Tokens doc = TokenizeDatum(cache->query->view->config, PG_GETARG_DATUM(0), false);
		double score = ScoreTokens(*cache->query, doc, cache->term_scores);
		PG_RETURN_BOOL(score > 0);
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
QUARRY_FUNCTION(quarry_bm25_stats)
{
	return IndexBoundary("quarry_bm25_stats", quarry::pg::IndexNameForContext(PG_GETARG_OID(0)), [&]() -> Datum {
		Oid oid = PG_GETARG_OID(0);
		CheckIndexKind(oid, IndexKind::kBm25);
		quarry::pg::CheckIndexReadable(oid);
		TupleDesc desc;
		if (get_call_result_type(fcinfo, nullptr, &desc) != TYPEFUNC_COMPOSITE)
			quarry::pg::ThrowError(ERRCODE_INTERNAL_ERROR, "quarry_bm25_stats: return type must be a row type");
		desc = BlessTupleDesc(desc);
		Relation index = index_open(oid, AccessShareLock);
		MetaPage meta;
		ReadMeta(index, &meta);
		BlockNumber pages = RelationGetNumberOfBlocks(index);
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
			ObjectIdGetDatum(meta.text_config),
			Int64GetDatum(static_cast<int64_t>(meta.null_rows.count)),
		};
		bool nulls[lengthof(values)] = {};
		if (desc->natts != lengthof(values))
			quarry::pg::ThrowError(ERRCODE_INTERNAL_ERROR, "quarry_bm25_stats: expected %d columns", static_cast<int>(lengthof(values)));
		return HeapTupleGetDatum(heap_form_tuple(desc, values, nulls));
	});
}
