// Index scans of quarry_bm25.
//
// ORDER BY col <@> q: amrescan opens a view of the index (frozen statistics)
// and prepares the query; amgettuple runs block-max WAND for the best k rows
// (k = 16 first), returns them, and when the executor asks for more (a LIMIT
// beyond k, or a filter on other columns that rejects rows) runs it again for
// 4k rows resuming strictly after the last row returned, so rows come out in
// exact score order however many are wanted. When no row with a query term is
// left, the scan goes on with the remaining rows at score 0 in index order:
// the same rows, in the same order, as the query without the index. Rows whose
// value is NULL come last, with a NULL score (the null-row list).
//
// WHERE col @@@ q (amgettuple without ORDER BY, or amgetbitmap): the rows that
// match every such query, in index order.
//
// A row matches a plain query when it holds one of its terms; a parsed query
// (quarry_query_parse) also needs every required term and no excluded one: its
// ranked runs admit documents through FilteredAdmission (so pruning stays
// rank-safe), and rows that do not match are, like rows without a query term,
// in the zero-score tail.
//
// Per-scan memory: everything comes from the scan's bump arena (ScanArena),
// reset at amrescan and freed with the scan's memory context; a query does not
// allocate per posting or per candidate.
#include "am/bm25/bm25.h"
#include "am/bm25/bm25_query.h"
#include "am/bm25/bm25_scan_notes.h"
#include "am/bm25/bm25_search.h"
#include "am/returned_rows.h"

#include "pg/guard.h"
#include "pg/memory_glue.h"

extern "C" {
#include "access/relscan.h"
#include "miscadmin.h"
#include "nodes/tidbitmap.h"
#include "pgstat.h"
#include "utils/lsyscache.h"
#include "utils/memutils.h"
#include "utils/snapmgr.h"
}

#include <algorithm>
#include <cstring>
#include <type_traits>

namespace quarry::am::bm25 {

namespace {

constexpr std::size_t kFirstBatch = 16;
constexpr std::size_t kBatchGrowth = 4;

void
ScanInterruptCheck(void *)
{
	pg::CheckForInterrupts();
}

// Admission for ranked and matching results: not removed by VACUUM, and
// matches every WHERE @@@ query.
class ScanAdmission final : public fts::DocAdmission {
public:
	ScanAdmission(ViewDocs *docs, PreparedQuery **quals, uint32_t qual_count)
		: docs_(docs), quals_(quals), qual_count_(qual_count)
	{
	}
	bool
	Admit(fts::DocId doc) override
	{
		if (!docs_->Admit(doc))
			return false;
		for (uint32_t i = 0; i < qual_count_; i++)
			if (!MatchesDoc(*quals_[i], doc))
				return false;
		return true;
	}

private:

	ViewDocs *docs_;
	PreparedQuery **quals_;
	uint32_t qual_count_;
};

// Walks the union of a query's scored term cursors in doc order (every row
// that matches holds a scored term).
struct UnionWalk {
	PreparedQuery *query;
	fts::DocId
	Current() const
	{
		fts::DocId d = fts::kEndDoc;
		for (uint32_t t = 0; t < query->scored_count; t++)
			d = std::min(d, query->terms[t].cursor.doc());
		return d;
	}
	void
	Skip(fts::DocId doc)
	{
		for (uint32_t t = 0; t < query->scored_count; t++)
			query->terms[t].cursor.NextGeq(doc + 1);
	}
};

struct ScanState {
	MemoryContext cxt;
	mem::ScanArena *arena;
	bool ready;	// rescan done
	bool done;
	IndexView *view;
	ViewDocs *docs;
	ScanAdmission *admission;
	fts::DocAdmission *ranked_admission; // admission, and the ranking query's clause filter
	PreparedQuery *ranking; // ORDER BY query; nullptr without ORDER BY
	am::ReturnedRow *returned;	// where each row's ranking value is noted for the projection
	bool ranking_null;		// ORDER BY col <@> NULL
	PreparedQuery **quals;
	uint32_t qual_count;
	bool empty_qual; // a WHERE query without terms: nothing matches
	// ranked phase
	fts::ScoredDoc *batch;
	uint32_t batch_count;
	uint32_t batch_next;
	std::size_t k;
	bool ranked_done;
	fts::ResumeAfter after;
	double *term_scores;
	fts::MaxScoreScratch maxscore;
	// zero-score phase (ORDER BY) / matching phase (WHERE only)
	fts::DocId next_doc;
	bool walk_open;
	// NULL rows (ORDER BY without WHERE @@@), read once the rest is done
	am::NullRowReader *null_rows;
};
static_assert(std::is_trivially_destructible_v<ScanState>);

// Zero-filled MaxScore scratch for windows of one lengths page; made once per
// rescan and left zeroed by every run.
fts::MaxScoreScratch
MakeMaxScoreScratch(mem::ScanArena &arena, uint32_t terms)
{
	fts::MaxScoreScratch s{};
	if (terms < 2)
		return s;
	s.capacity = kLengthsPerPage;
	s.partial = arena.MakeArray<double>(s.capacity);
	s.tfs = arena.MakeArray<double>(std::size_t{terms} * s.capacity);
	s.marks = arena.MakeArray<uint64_t>((s.capacity + 63) / 64);
	s.prefix = arena.MakeArray<double>(terms + 1);
	s.window_prefix = arena.MakeArray<double>(terms + 1);
	std::memset(s.partial, 0, sizeof(double) * s.capacity);
	std::memset(s.tfs, 0, sizeof(double) * terms * s.capacity);
	std::memset(s.marks, 0, sizeof(uint64_t) * ((s.capacity + 63) / 64));
	return s;
}

Oid
ScanIndexOid(IndexScanDesc scan)
{
	return RelationGetRelid(scan->indexRelation);
}

PreparedQuery *
PrepareKey(ScanState *st, IndexScanDesc scan, ScanKey key)
{
	QueryValue q = DecodeQuery(key->sk_argument);
	if (q.index != InvalidOid && q.index != ScanIndexOid(scan))
		pg::ThrowError(ERRCODE_FEATURE_NOT_SUPPORTED, "quarry_bm25 index \"%s\" cannot run a query that names index \"%s\"", RelationGetRelationName(scan->indexRelation), get_rel_name(q.index));
	PreparedQuery *prepared = PrepareQuery(st->view, q.text, q.parsed, q.stats, *st->arena);
	NoteScanQuery(ScanIndexOid(scan), q, *prepared);
	return prepared;
}

// Unpins what the last rescan's view and cursors pinned.
void
ReleaseScan(ScanState *st)
{
	if (!st->ready)
		return;
	st->docs->Release();
	if (st->ranking != nullptr)
		ReleaseCursors(st->ranking);
	for (uint32_t i = 0; i < st->qual_count; i++)
		ReleaseCursors(st->quals[i]);
}

void
RescanState(ScanState *st, IndexScanDesc scan, ScanKey keys, int nkeys, ScanKey orderbys, int norderbys)
{
	ReleaseScan(st);
	st->arena->Reset();
	mem::ScanArena &arena = *st->arena;
	st->view = OpenIndexView(scan->indexRelation, arena);
	st->docs = arena.Make<ViewDocs>(st->view, arena);
	st->quals = arena.MakeArray<PreparedQuery *>(std::max(nkeys, 1));
	st->qual_count = 0;
	st->empty_qual = false;
	for (int i = 0; i < nkeys; i++)
	{
		if (keys[i].sk_flags & SK_ISNULL)
		{
			st->empty_qual = true; // col @@@ NULL is never true
			continue;
		}
		PreparedQuery *q = PrepareKey(st, scan, &keys[i]);
		OpenCursors(q, arena);
		if (q->scored_count == 0)
			st->empty_qual = true; // no positive term: nothing matches
		st->quals[st->qual_count++] = q;
	}
	st->ranking = nullptr;
	st->returned = nullptr;
	st->ranking_null = false;
	if (norderbys > 0)
	{
		if (norderbys > 1)
			pg::ThrowError(ERRCODE_FEATURE_NOT_SUPPORTED, "quarry_bm25 orders by one query only");
		if (orderbys[0].sk_flags & SK_ISNULL)
			st->ranking_null = true;
		else
		{
			st->ranking = PrepareKey(st, scan, &orderbys[0]);
			st->returned = pg::PgCall([&] {
				QueryValue q = DecodeQuery(orderbys[0].sk_argument);
				return am::RegisterRankingScan(st->cxt, ScanIndexOid(scan), q.parsed, q.text, q.stats);
			});
		}
	}
	st->admission = arena.Make<ScanAdmission>(st->docs, st->quals, st->qual_count);
	st->ranked_admission = st->admission;
	if (st->ranking != nullptr && !st->ranking->filter.empty())
		st->ranked_admission = arena.Make<fts::FilteredAdmission>(st->admission, st->ranking->filter);
	uint32_t terms = st->ranking != nullptr ? st->ranking->scored_count : 0;
	st->term_scores = arena.MakeArray<double>(std::max<uint32_t>(terms, 1));
	st->maxscore = MakeMaxScoreScratch(arena, terms);
	st->batch = nullptr;
	st->batch_count = st->batch_next = 0;
	st->k = kFirstBatch;
	st->ranked_done = st->ranking == nullptr;
	st->after = fts::ResumeAfter{};
	st->next_doc = 0;
	st->walk_open = false;
	st->null_rows = nullptr;
	st->done = st->empty_qual;
	st->ready = true;
}

// Runs block-max WAND for the next batch of ranked rows.
void
NextBatch(ScanState *st)
{
	PreparedQuery *q = st->ranking;
	OpenCursors(q, *st->arena);
	st->batch = st->arena->MakeArray<fts::ScoredDoc>(st->k);
	fts::TopK top(st->batch, st->k);
	auto **cursors = st->arena->MakeArray<fts::TermCursor *>(std::max<uint32_t>(q->scored_count, 1));
	for (uint32_t t = 0; t < q->scored_count; t++)
		cursors[t] = &q->terms[t].cursor;
	fts::WandInput in;
	in.cursors = {cursors, q->scored_count};
	in.term_count = q->scored_count;
	in.term_scores = st->term_scores;
	in.lengths = st->docs;
	in.admission = st->ranked_admission;
	in.after = st->after;
	in.interrupt = {ScanInterruptCheck, nullptr};
	// One term: block-max WAND skips whole blocks. Several: windowed MaxScore
	// walks the essential terms' postings in bulk and probes the others.
	if (q->scored_count >= 2 && st->maxscore.capacity > 0)
		fts::MaxScoreTopK(in, st->maxscore, top);
	else
		fts::BlockMaxWand(in, top);
	for (uint32_t t = 0; t < q->term_count; t++)
		if (q->terms[t].cursor.failed())
			pg::ThrowCorrupt(st->view->index, "An unreadable posting list of term \"%.*s\".",
							 static_cast<int>(q->terms[t].text.size()), q->terms[t].text.data());
	ReleaseCursors(q);
	std::span<fts::ScoredDoc> results = top.Finalize();
	st->batch_count = static_cast<uint32_t>(results.size());
	st->batch_next = 0;
	if (results.size() < st->k)
		st->ranked_done = true;
	if (!results.empty())
		st->after = {true, results.back().score, results.back().doc};
	st->k *= kBatchGrowth;
}

// ORDER BY scans, once the ranked rows are exhausted: the remaining rows, in
// index order, that do not match (score 0). Also the whole index for
// ORDER BY col <@> NULL, or a scan with neither keys nor ordering.
bool
NextZeroDoc(ScanState *st, fts::DocId *out)
{
	PreparedQuery *q = st->ranking;
	if (q != nullptr && !st->walk_open)
	{
		OpenCursors(q, *st->arena);
		st->walk_open = true;
	}
	UnionWalk walk{q};
	while (st->next_doc < st->view->doc_end)
	{
		fts::DocId doc = st->next_doc++;
		if ((doc & 4095) == 0)
			pg::CheckForInterrupts();
		if (q != nullptr)
		{
			for (uint32_t t = 0; t < q->scored_count; t++)
				q->terms[t].cursor.NextGeq(doc);
			if (walk.Current() == doc && q->filter.Matches(doc))
				continue; // matches: ranked already
		}
		if (st->admission->Admit(doc))
		{
			*out = doc;
			return true;
		}
	}
	return false;
}

// WHERE-only scans: rows holding a scored term of the first query, in index
// order (admission checks that they match every query, and removed rows).
bool
NextMatchDoc(ScanState *st, fts::DocId *out)
{
	UnionWalk walk{st->quals[0]};
	for (uint64_t steps = 0;; steps++)
	{
		if ((steps & 4095) == 0)
			pg::CheckForInterrupts();
		fts::DocId doc = walk.Current();
		if (doc == fts::kEndDoc)
			return false;
		walk.Skip(doc);
		if (st->admission->Admit(doc))
		{
			*out = doc;
			return true;
		}
	}
}

bool
NextUnrankedDoc(ScanState *st, fts::DocId *out)
{
	if (st->ranking == nullptr && !st->ranking_null && st->qual_count > 0)
		return NextMatchDoc(st, out);
	return NextZeroDoc(st, out);
}

bool
Emit(IndexScanDesc scan, ScanState *st, fts::DocId doc, double score, bool score_null)
{
	st->docs->Tid(doc, &scan->xs_heaptid);
	scan->xs_recheck = false;
	if (scan->numberOfOrderBys > 0)
	{
		scan->xs_recheckorderby = false;
		const double value = score > 0 ? -score : 0.0;
		scan->xs_orderbyvals[0] = Float8GetDatum(value);
		scan->xs_orderbynulls[0] = score_null;
		if (st->returned != nullptr)
			am::NoteReturnedRow(st->returned, &scan->xs_heaptid, value, score_null);
	}
	return true;
}

// The next row whose value is NULL (into *tid), for scans without a WHERE
// @@@ (which NULL never satisfies): after every other row.
bool
NextNullTid(IndexScanDesc scan, ScanState *st, ItemPointer tid)
{
	if (st->qual_count > 0)
		return false;
	if (st->null_rows == nullptr)
	{
		auto *buffer = st->arena->MakeArray<ItemPointerData>(NullRowFormat().capacity());
		st->null_rows = st->arena->Make<am::NullRowReader>(NullRowFormat(), scan->indexRelation,
														   st->view->meta.null_rows, buffer);
	}
	return st->null_rows->Next(tid);
}

// Scans without a WHERE @@@ (an ORDER BY, or a partial index's predicate
// alone), after every other row: the rows whose value is NULL, with a NULL
// score.
bool
NextNullRow(IndexScanDesc scan, ScanState *st)
{
	if (!NextNullTid(scan, st, &scan->xs_heaptid))
		return false;
	scan->xs_recheck = false;
	scan->xs_recheckorderby = false;
	if (scan->numberOfOrderBys == 0)
		return true;
	scan->xs_orderbyvals[0] = (Datum) 0;
	scan->xs_orderbynulls[0] = true;
	if (st->returned != nullptr)
		am::NoteReturnedRow(st->returned, &scan->xs_heaptid, 0.0, true);
	return true;
}

bool
GetTupleImpl(IndexScanDesc scan)
{
	auto *st = static_cast<ScanState *>(scan->opaque);
	if (!st->ready)
		pg::ThrowError(ERRCODE_INTERNAL_ERROR, "quarry_bm25: scan used before amrescan");
	if (!IsMVCCSnapshot(scan->xs_snapshot))
		pg::ThrowError(ERRCODE_FEATURE_NOT_SUPPORTED, "quarry_bm25 index scans need an MVCC snapshot");
	if (st->done)
		return false;
	while (!st->ranked_done || st->batch_next < st->batch_count)
	{
		if (st->batch_next < st->batch_count)
		{
			const fts::ScoredDoc &d = st->batch[st->batch_next++];
			return Emit(scan, st, d.doc, d.score, false);
		}
		NextBatch(st);
	}
	fts::DocId doc;
	if (st->null_rows == nullptr && NextUnrankedDoc(st, &doc))
		return Emit(scan, st, doc, 0.0, st->ranking_null);
	if (NextNullRow(scan, st))
		return true;
	st->done = true;
	return false;
}

int64_t
GetBitmapImpl(IndexScanDesc scan, TIDBitmap *tbm)
{
	auto *st = static_cast<ScanState *>(scan->opaque);
	if (!st->ready || st->done)
		return 0;
	int64_t count = 0;
	constexpr int kBatch = 256;
	ItemPointerData tids[kBatch];
	int n = 0;
	fts::DocId doc;
	// Without a WHERE @@@ (a partial index's predicate alone): every row,
	// those whose value is NULL included.
	const bool all = st->qual_count == 0;
	while (all ? NextZeroDoc(st, &doc) || NextNullTid(scan, st, &tids[n]) : NextMatchDoc(st, &doc))
	{
		if (all && st->null_rows != nullptr)
		{
			count++;
			if (++n == kBatch)
			{
				pg::PgCall([&] { tbm_add_tuples(tbm, tids, n, false); });
				n = 0;
			}
			continue;
		}
		st->docs->Tid(doc, &tids[n++]);
		count++;
		if (n == kBatch)
		{
			pg::PgCall([&] { tbm_add_tuples(tbm, tids, n, false); });
			n = 0;
		}
	}
	if (n > 0)
		pg::PgCall([&] { tbm_add_tuples(tbm, tids, n, false); });
	st->done = true;
	return count;
}

} // namespace

IndexScanDesc
BeginScan(Relation index, int nkeys, int norderbys)
{
	IndexScanDesc scan = RelationGetIndexScan(index, nkeys, norderbys);
	if (norderbys > 0)
	{
		// The access method provides the ORDER BY value arrays (as GiST does).
		scan->xs_orderbyvals = static_cast<Datum *>(palloc0(sizeof(Datum) * norderbys));
		scan->xs_orderbynulls = static_cast<bool *>(palloc(sizeof(bool) * norderbys));
		memset(scan->xs_orderbynulls, true, sizeof(bool) * norderbys);
	}
	MemoryContext cxt = AllocSetContextCreate(CurrentMemoryContext, "quarry_bm25 scan", ALLOCSET_SMALL_SIZES);
	auto *st = static_cast<ScanState *>(MemoryContextAllocZero(cxt, sizeof(ScanState)));
	st->cxt = cxt;
	st->arena = pg::CreateScanArena(cxt, 32 * 1024);
	scan->opaque = st;
	return scan;
}

void
Rescan(IndexScanDesc scan, ScanKey keys, int nkeys, ScanKey orderbys, int norderbys)
{
	auto *st = static_cast<ScanState *>(scan->opaque);
	if (keys != nullptr && scan->numberOfKeys > 0)
		memmove(scan->keyData, keys, scan->numberOfKeys * sizeof(ScanKeyData));
	if (orderbys != nullptr && scan->numberOfOrderBys > 0)
		memmove(scan->orderByData, orderbys, scan->numberOfOrderBys * sizeof(ScanKeyData));
	RescanState(st, scan, scan->keyData, scan->numberOfKeys, scan->orderByData, scan->numberOfOrderBys);
}

void
ExpectRows(IndexScanDesc scan, uint32_t rows)
{
	auto *st = static_cast<ScanState *>(scan->opaque);
	if (st != nullptr && st->ready && st->batch == nullptr)
		st->k = std::max<std::size_t>(kFirstBatch, rows);
}

bool
GetTuple(IndexScanDesc scan, ScanDirection direction)
{
	if (direction != ForwardScanDirection)
		pg::ThrowError(ERRCODE_FEATURE_NOT_SUPPORTED, "quarry_bm25 scans forward only");
	return GetTupleImpl(scan);
}

int64_t
GetBitmap(IndexScanDesc scan, TIDBitmap *tbm)
{
	return GetBitmapImpl(scan, tbm);
}

void
EndScan(IndexScanDesc scan)
{
	auto *st = static_cast<ScanState *>(scan->opaque);
	ReleaseScan(st);
	MemoryContextDelete(st->cxt);
	scan->opaque = nullptr;
}

} // namespace quarry::am::bm25
