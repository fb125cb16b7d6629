// quarry_hnsw scans: ORDER BY col <op> query [LIMIT k].
//
// The first amgettuple descends the upper layers greedily and searches layer 0
// with ef = quarry.hnsw_ef_search (Malkov & Yashunin 2018, Algorithm 5), then
// returns the results nearest first with their exact distances
// (xs_recheckorderby = false). All scratch (query, visited map, candidate and
// result heaps, discarded nodes) lives in the scan's ScanArena, reset by every
// rescan; nothing is palloc'd per candidate.
//
// Iterative scan: when the executor wants more rows than ef_search produced
// (a WHERE clause filters them), the scan goes on as a best-first search over
// layer 0 from every node it has scored but not expanded, with the same visited
// set, until the rows run out or quarry.hnsw_max_scan_tuples nodes have been
// scored. A further row is returned only when no unexpanded node is nearer
// than it, so rows keep coming in distance order. A node that still turns up
// nearer than a row already returned (reachable only through farther nodes)
// is skipped: the executor relies on the order (xs_recheckorderby = false).
#include "am/hnsw/hnsw.h"
#include "am/returned_rows.h"

extern "C" {
#include "access/relscan.h"
#include "miscadmin.h"
#include "pgstat.h"
}

#include "am/hnsw/hnsw_disk_graph.h"
#include "am/hnsw/hnsw_operator_value.h"
#include "am/hnsw/hnsw_rerank.h"
#include "am/hnsw/hnsw_scan_arena.h"
#include "hnsw/arena_vector.h"
#include "hnsw/search.h"
#include "pg/guard.h"
#include "pg/privileges.h"
#include "pg/memory_glue.h"
#include "pg/owned.h"

#include <algorithm>
#include <cmath>
#include <cstring>
#include <type_traits>

namespace quarry::am::hnsw {

namespace {

using quarry::hnsw::ArenaVector;
using quarry::hnsw::Candidate;
using quarry::hnsw::Discarded;

/// A candidate of the first search with a lower bound of its exact distance.
struct Bounded {
	float bound;
	quarry::hnsw::Candidate candidate;
	bool operator<(const Bounded &o) const { return bound < o.bound || (bound == o.bound && candidate.id < o.candidate.id); }
};

/// A reranked row: its exact distance and heap TID, and on pgvector's types
/// pgvector's value of the operator (HeapVectors::value_key).
struct Reranked {
	float distance;
	uint64_t tid;
	double value;
	bool operator>(const Reranked &o) const { return distance > o.distance || (distance == o.distance && tid > o.tid); }
};

/// What a scan keeps between calls. Trivially destructible: it lives in the
/// scan's memory context; the arena (a context-owned object) holds the rest.
struct ScanState {
	MemoryContext context;
	am::ReturnedRow *returned_row; // where each returned row's distance is noted, or nullptr
	// A pgvector type: what computes the value pgvector's operator gives the
	// row returned last, from its node (row_node; kInvalidNode for a row
	// read from the table) and heap TID, when the projection asks for it; or
	// nullptr where the scan cannot compute it exactly
	// (hnsw_operator_value.h). In the arena.
	OperatorValue *operator_value;
	uint32_t row_node;
	uint64_t row_tid;
	// The value pgvector's operator gave the row returned last, when the
	// rerank computed it (row_value_set; HeapVectors::value_key).
	double row_value;
	bool row_value_set;
	mem::ScanArena *arena;
	// Reset by every rescan (all in the arena):
	DiskGraph *graph;
	float *query;
	bool query_null; // a NULL query, or a zero one under cosine (query_nan)
	bool query_nan;	 // a zero query under cosine: every distance is NaN
	quarry::hnsw::InputFormat format; // the opclass's, read by SetQuery for a non-NULL query
	bool searched;
	quarry::hnsw::VisitedMap *visited;
	ArenaVector<Candidate> *results;
	ArenaVector<Candidate> *candidates;
	ArenaVector<Candidate> *ready; // the first search's results, ascending
	std::size_t ready_next;
	// The continuation: scored nodes not expanded yet (a min-heap); live nodes
	// found but not returned yet: the ef nearest in `window` (ascending, from
	// window_start) and the others in `overflow` (a min-heap, all farther).
	ArenaVector<Candidate> *frontier;
	// What the first search discarded, kept as found (no heap work) until a
	// query wants more rows than it returned: most LIMIT k queries never do.
	ArenaVector<Discarded> *first_discards;
	bool continued;
	ArenaVector<Candidate> *window;
	std::size_t window_start;
	ArenaVector<Candidate> *overflow;
	float last_distance;
	uint32_t null_cursor; // next node id of a NULL-query scan
	bool walk_exhausted; // the continuation expanded every node it found
	// Nodes the continuation may score: quarry.hnsw_max_scan_tuples, or no
	// limit when row-level security filters the table for this user (a policy
	// must not make a LIMIT k query return fewer than k rows when k exist).
	uint64_t budget;
	am::NullRowReader *null_rows; // rows whose vector is NULL, returned last
	uint64_t returned;
	uint64_t skipped_late;
	// The duplicate chain of the row returned last, and its distance.
	DuplicateChain chain;
	float chain_distance;
	// A compressed index on a plain column: candidates are reranked by their
	// exact distance from the table (hnsw_rerank.h, NextRerankedRow);
	// nullptr otherwise. Set up once, by the first rescan.
	HeapVectors *heap;
	ArenaVector<Reranked> *reranked; // reranked rows not returned yet (a min-heap)
	ArenaVector<Bounded> *bounded; // the first search's candidates not reranked yet, by lower bound
	std::size_t bounded_next;
	float query_norm;
	float rerank_threshold; // the largest distance to the codes of a candidate reranked
	float rerank_slack; // the most a reranked row's exact distance fell below its distance to the codes
	bool rerank_started;
	bool candidates_done; // the graph search has no candidate left
	uint64_t rows_read; // rows whose vector the rerank read from the table
	Snapshot snapshot;
};
static_assert(std::is_trivially_destructible_v<ScanState>);

std::size_t
EfSearch()
{
	return static_cast<std::size_t>(std::max(ef_search, 1));
}

std::size_t
WindowSize(const ScanState *s)
{
	return s->window->size() - s->window_start;
}

// A live node found and not returned yet: into the window if it is among the
// ef nearest, else into the overflow.
void
AddPending(ScanState *s, Candidate c)
{
	ArenaVector<Candidate> &w = *s->window;
	if (WindowSize(s) >= EfSearch() && !quarry::hnsw::Nearer(c, w.back()))
	{
		quarry::hnsw::HeapPush(*s->overflow, c, quarry::hnsw::NearerFirst{});
		return;
	}
	if (s->window_start > 0 && s->window_start * 2 >= w.size())
	{
		// Compact the consumed front.
		std::size_t n = WindowSize(s);
		std::memmove(w.begin(), w.begin() + s->window_start, n * sizeof(Candidate));
		while (w.size() > n)
			w.pop_back();
		s->window_start = 0;
	}
	w.push_back(c);
	Candidate *i = w.end() - 1;
	for (; i > w.begin() + s->window_start && quarry::hnsw::Nearer(c, *(i - 1)); i--)
		*i = *(i - 1);
	*i = c;
	if (WindowSize(s) > EfSearch())
	{
		quarry::hnsw::HeapPush(*s->overflow, w.back(), quarry::hnsw::NearerFirst{});
		w.pop_back();
	}
}

// Takes the nearest pending node; refills the window from the overflow.
Candidate
TakePending(ScanState *s)
{
	const Candidate c = (*s->window)[s->window_start++];
	if (!s->overflow->empty())
		s->window->push_back(quarry::hnsw::HeapPop(*s->overflow, quarry::hnsw::NearerFirst{}));
	return c;
}

/// Where the first search leaves what it did not keep.
struct KeepDiscarded {
	ScanState *s;
	void operator()(const Discarded &d) const { s->first_discards->push_back(d); }
};

/// Where the continuation puts what it finds: every such node may still be
/// expanded; the live ones may still be returned.
struct KeepFound {
	ScanState *s;
	void
	operator()(const Discarded &d) const
	{
		const Candidate c{d.distance, d.id};
		quarry::hnsw::HeapPush(*s->frontier, c, quarry::hnsw::NearerFirst{});
		if (d.live)
			AddPending(s, c);
	}
};

// The first search: greedy descent, then layer 0 with ef_search (again from
// the nodes the descent passed if that runs out of nodes early; see
// quarry::hnsw::SearchLayerFrom); its results go to `ready`, sorted.
void
FirstSearch(ScanState *s)
{
	DiskGraph &graph = *s->graph;
	Candidate entry;
	int top;
	if (!FindEntryPoint(graph, s->query, &entry, &top))
		return;
	const quarry::hnsw::Descent descent = quarry::hnsw::GreedyDescent(graph, s->query, entry, top, 0);
	// The layer-0 entry is scored again, with the visited map as TID sink.
	quarry::hnsw::SearchLayerFrom(graph, s->query, descent, 0, EfSearch(), *s->visited, *s->results, *s->candidates,
						  KeepDiscarded{s});
	for (const Candidate &c : *s->results)
		s->ready->push_back(c);
	std::sort(s->ready->begin(), s->ready->end(), quarry::hnsw::Nearer);
	s->ready_next = 0;
}

// The continuation: the next live node in distance order, by best-first
// search. The nearest pending node is returned once the ef nearest pending
// ones are all nearer than every unexpanded node: Algorithm 2's stopping rule,
// applied to a window that slides with the rows returned. False when nothing
// is left or the budget is spent.
bool
NextFound(ScanState *s, Candidate *out)
{
	const uint64_t budget = s->budget;
	if (!s->continued)
	{
		KeepFound keep{s};
		for (const Discarded &d : *s->first_discards)
			keep(d);
		s->continued = true;
	}
	for (;;)
	{
		const bool can_expand = !s->frontier->empty() && s->graph->scored() < budget;
		const std::size_t pending = WindowSize(s);
		if (pending > 0 &&
			(!can_expand || (pending >= EfSearch() && !quarry::hnsw::Nearer(s->frontier->front(), s->window->back()))))
		{
			*out = TakePending(s);
			return true;
		}
		if (!can_expand)
		{
			s->walk_exhausted = s->frontier->empty(); // not stopped by the budget
			return false;
		}
		const Candidate next = quarry::hnsw::HeapPop(*s->frontier, quarry::hnsw::NearerFirst{});
		quarry::hnsw::ExpandNode(*s->graph, s->query, next.id, 0, *s->visited, KeepFound{s});
		CHECK_FOR_INTERRUPTS();
	}
}

// A slot whose header was never written must be reserved by an insert that
// has not written it yet (else its page was zeroed). Its TID entry says so;
// if not, the header is read again (the insert may have written it since)
// before this is called corruption.
void
CheckUnwrittenSlot(IndexScanDesc scan, DiskGraph &graph, uint32_t node, NodeHeader *header)
{
	if (graph.TidState(node) == static_cast<uint8_t>(NodeState::kReserved))
		return;
	graph.ReadNode(node, header, nullptr, true);
	if (NeverWritten(*header))
		pg::ThrowCorrupt(scan->indexRelation, "node %u was never written, but its TID entry says state %u", node,
					graph.TidState(node));
}

// A row the scan returns without scoring it: a NULL distance (what the
// operator gives for a NULL vector or query), or, where the operator may give
// NaN instead (cosine: a zero vector, a zero query), NaN as a bound for
// PostgreSQL to check (xs_recheckorderby, in GetTuple). NaN sorts after every
// number and before NULL: the reorder queue returns the rows whose distance
// is NaN at once and holds those whose distance is NULL until the scan ends,
// which is the order a sort gives (nodeIndexscan.c, IndexNextWithReorder).
void
ReturnUnscored(IndexScanDesc scan, bool maybe_nan)
{
	scan->xs_orderbyvals[0] = maybe_nan ? Float8GetDatum(std::numeric_limits<double>::quiet_NaN()) : (Datum) 0;
	scan->xs_orderbynulls[0] = !maybe_nan;
}

// Rows of a scan ordered by a NULL (or zero) query: every live node, in node
// order, unscored (ReturnUnscored).
bool
NextNullQueryRow(IndexScanDesc scan, ScanState *s)
{
	DiskGraph &graph = *s->graph;
	for (;; s->null_cursor++)
	{
		if (!graph.ValidNode(s->null_cursor))
			return false;
		NodeHeader header;
		// Every slot is read here, including one an insert has claimed but
		// not written yet (maybe on a page nobody wrote yet).
		graph.ReadNode(s->null_cursor, &header, nullptr, true);
		if (NeverWritten(header))
			CheckUnwrittenSlot(scan, graph, s->null_cursor, &header);
		if (header.state != static_cast<uint8_t>(NodeState::kLive))
			continue;
		pg::LoadTid(header.heap_tid, &scan->xs_heaptid);
		ReturnUnscored(scan, s->query_nan);
		s->null_cursor++;
		return true;
	}
}

void
ResetScan(IndexScanDesc scan, ScanState *s)
{
	s->arena->Reset();
	mem::ScanArena &arena = *s->arena;
	const bool filtered = scan->heapRelation != nullptr &&
						  pg::PgCall([&] { return pg::RowSecurityActive(RelationGetRelid(scan->heapRelation)); });
	s->budget = filtered ? UINT64_MAX : static_cast<uint64_t>(max_scan_tuples);
	s->graph = arena.Make<DiskGraph>(scan->indexRelation, arena);
	const std::size_t ef = EfSearch();
	const std::size_t m = std::max<std::size_t>(s->graph->meta().m, 2);
	s->visited = arena.Make<quarry::hnsw::VisitedMap>(arena, ef * m);
	s->results = arena.Make<ArenaVector<Candidate>>(arena, ef + 1);
	s->candidates = arena.Make<ArenaVector<Candidate>>(arena, ef * 2);
	s->ready = arena.Make<ArenaVector<Candidate>>(arena, ef);
	s->frontier = arena.Make<ArenaVector<Candidate>>(arena, ef * m);
	s->first_discards = arena.Make<ArenaVector<Discarded>>(arena, ef * m);
	s->continued = false;
	s->window = arena.Make<ArenaVector<Candidate>>(arena, ef * 2 + 1);
	s->window_start = 0;
	s->overflow = arena.Make<ArenaVector<Candidate>>(arena, ef * m);
	s->ready_next = 0;
	s->searched = false;
	s->last_distance = -std::numeric_limits<float>::infinity();
	s->null_cursor = 0;
	s->walk_exhausted = false;
	s->null_rows = nullptr;
	s->returned = 0;
	s->skipped_late = 0;
	s->reranked = arena.Make<ArenaVector<Reranked>>(arena, ef + 1);
	s->bounded = arena.Make<ArenaVector<Bounded>>(arena, ef);
	s->bounded_next = 0;
	s->rerank_threshold = -std::numeric_limits<float>::infinity();
	s->rerank_slack = 0.0f;
	s->rows_read = 0;
	s->rerank_started = false;
	s->candidates_done = false;
	s->chain.next = quarry::hnsw::kInvalidNode;
	s->query = nullptr;
	s->query_null = true;
	s->query_nan = false;
}

// Whether the scan returns lower bounds of the distance (a compressed index
// it cannot rerank from the table: on an expression), for PostgreSQL to
// rerank, rather than the operator's value.
bool
ReturnsLowerBounds(const ScanState *s)
{
	return s->graph->storage() != quarry::hnsw::Storage::kFull && s->heap == nullptr;
}

void
SetQuery(IndexScanDesc scan, ScanState *s)
{
	// No ORDER BY: a full scan the planner chose without one (an index-only
	// scan that needs no column, or one of a partial index whose predicate
	// the query implies; amcostestimate prices it out, but PostgreSQL 18
	// prefers it to a disabled sequential scan). Every row, as for a NULL
	// query.
	if (scan->numberOfOrderBys == 0)
		return;
	ScanKey key = &scan->orderByData[0];
	if (key->sk_strategy != kDistanceStrategy)
		pg::ThrowError(ERRCODE_INTERNAL_ERROR, "quarry_hnsw: unexpected ORDER BY strategy %d", key->sk_strategy);
	if (key->sk_flags & SK_ISNULL)
		return;
	const quarry::hnsw::InputFormat format = OpclassFormat(scan->indexRelation);
	s->format = format;
	VectorArg v = DatumGetVector(key->sk_argument, format);
	const MetaPage &meta = s->graph->meta();
	if (meta.dims != 0 && static_cast<uint32_t>(v.dims) != meta.dims)
		pg::ThrowError(ERRCODE_DATA_EXCEPTION, "query vector has %d dimensions, but index \"%s\" has %u", v.dims, RelationGetRelationName(scan->indexRelation), meta.dims);
	// A zero query under cosine: every distance is NaN (the operators'
	// value), except NULL for a NULL vector. Every row is returned as for a
	// NULL query, with NaN bounds (ReturnUnscored).
	if (HeldAsNullRow(v, s->graph->metric()))
	{
		s->query_nan = true;
		return;
	}
	s->query = s->arena->MakeArray<float>(v.dims);
	PrepareIndexVector(v, s->graph->metric(), s->query);
	if (s->graph->storage() != quarry::hnsw::Storage::kFull)
	{
		const float norm2 = quarry::hnsw::BestKernels().dot(s->query, s->query, static_cast<std::size_t>(v.dims));
		s->query_norm = std::sqrt(norm2);
		if (ReturnsLowerBounds(s))
			s->graph->UseLowerBounds(s->query_norm);
	}
	if (format == quarry::hnsw::InputFormat::kHalfvec)
		pfree(const_cast<float *>(v.data)); // converted for this rescan only
	s->query_null = false;
}

// Returns the row at heap TID `tid`, of node `node` (kInvalidNode: a row the
// rerank read from the table), at internal distance `distance`.
void
ReturnRow(IndexScanDesc scan, ScanState *s, uint32_t node, uint64_t tid, float distance)
{
	pg::UnpackTid(tid, &scan->xs_heaptid);
	s->row_node = node;
	s->row_tid = tid;
	scan->xs_orderbyvals[0] = Float8GetDatum(quarry::hnsw::SqlDistance(s->graph->metric(), distance));
	scan->xs_orderbynulls[0] = false;
	s->returned++;
}

// The next live duplicate on the chain of the row returned last, if any.
bool
NextDuplicate(IndexScanDesc scan, ScanState *s)
{
	uint64_t tid;
	uint32_t node;
	if (!NextOnChain(*s->graph, &s->chain, &tid, &node))
		return false;
	ReturnRow(scan, s, node, tid, s->chain_distance);
	return true;
}

// After every other row, the rows whose vector is NULL (or held as NULL),
// unscored (ReturnUnscored), as the query without the index returns them.
// Only after a walk that ended because nothing was left: one the budget
// stopped may have nearer rows left.
bool
NextNullVectorRow(IndexScanDesc scan, ScanState *s)
{
	if (!s->query_null && !s->walk_exhausted)
		return false;
	if (s->null_rows == nullptr)
	{
		const am::NullRowListFormat &format = NullRowFormat();
		s->null_rows = s->arena->Make<am::NullRowReader>(format, scan->indexRelation, s->graph->meta().null_rows,
														 s->arena->MakeArray<ItemPointerData>(format.capacity()));
	}
	if (!s->null_rows->Next(&scan->xs_heaptid))
		return false;
	// Under cosine the list may also hold zero vectors (HeldAsNullRow), whose
	// distance is NaN unless the query is NULL. The metapage says whether it
	// ever did (ZeroVectors); if not, every row's distance is NULL, exactly,
	// and none waits in the reorder queue. (The mark is set before a zero
	// vector's row is added, so a copy read after the scan's snapshot has it.)
	ReturnUnscored(scan, NullRowsMayHoldZeroVectors(s->graph->meta()) && (!s->query_null || s->query_nan));
	return true;
}

// The next candidate in the order the graph search finds them: the first
// search's results, then the continuation's. False when none is left.
bool
NextCandidate(ScanState *s, Candidate *c)
{
	if (s->ready_next < s->ready->size())
	{
		*c = (*s->ready)[s->ready_next++];
		return true;
	}
	return NextFound(s, c);
}

// Adds the row at `tid`, found at distance `approximate` to its codes, to the
// pool with its exact distance, unless no version of it is visible to the
// scan's snapshot.
void
AddReranked(ScanState *s, uint64_t tid, float approximate)
{
	float distance;
	double value = 0;
	s->rows_read++;
	if (!ExactDistance(s->heap, tid, s->snapshot, s->query, &distance, &value))
		return;
	s->rerank_slack = std::max(s->rerank_slack, approximate - distance);
	s->reranked->push_back(Reranked{distance, tid, value});
	std::push_heap(s->reranked->begin(), s->reranked->end(), std::greater<>{});
}

// Reranks candidate `c`: the row of its node and the live rows on its
// duplicate chain (their vectors encode to the same codes but may differ).
void
Rerank(ScanState *s, const Candidate &c)
{
	s->rerank_threshold = std::max(s->rerank_threshold, c.distance);
	DuplicateChain chain = StartChain(*s->graph, c.id, s->visited->Payload(c.id));
	AddReranked(s, chain.primary_tid, c.distance);
	uint64_t tid;
	uint32_t node;
	while (NextOnChain(*s->graph, &chain, &tid, &node))
		AddReranked(s, tid, c.distance);
}

// The first search's candidates, each with a lower bound of its exact
// distance from its codes (quantizer.h), nearest bound first.
void
BoundFirstCandidates(ScanState *s)
{
	Candidate c;
	while (s->ready_next < s->ready->size() && NextCandidate(s, &c))
	{
		float bound;
		if (!s->graph->LowerBound(s->query, s->query_norm, c.id, &bound))
			continue;
		s->bounded->push_back(Bounded{bound, c});
		s->rerank_threshold = std::max(s->rerank_threshold, c.distance);
	}
	std::sort(s->bounded->begin(), s->bounded->end());
}

// Whether the nearest reranked row can be returned: no candidate still to
// come is nearer, or likely to be. Of the first search's candidates none is
// (each not reranked yet has a lower bound at least that of the next one in
// line); the continuation's come in the order of their distance to the
// codes, at least as far by that measure as the farthest taken so far, and
// are taken to fall below that by no more than any reranked row did.
bool
NearestIsNext(const ScanState *s)
{
	const float nearest = s->reranked->front().distance;
	if (s->bounded_next < s->bounded->size() && nearest > (*s->bounded)[s->bounded_next].bound)
		return false;
	return s->candidates_done || nearest <= s->rerank_threshold - s->rerank_slack;
}

// The next row of a scan that reranks from the table. The row returned is
// the nearest reranked one once NearestIsNext; until then the first search's
// candidates are reranked in the order of their lower bounds (a LIMIT 10
// query with tight bounds reads little more than 10 rows from the table, and
// never more than ef_search), then the continuation's. A row whose exact
// distance still falls below one already returned is skipped: the executor
// relies on the order.
bool
NextRerankedRow(IndexScanDesc scan, ScanState *s)
{
	ArenaVector<Reranked> &pool = *s->reranked;
	if (!s->rerank_started)
	{
		BoundFirstCandidates(s);
		s->rerank_started = true;
	}
	for (;;)
	{
		if (s->null_rows != nullptr)
			return NextNullVectorRow(scan, s);
		if (!pool.empty() && NearestIsNext(s))
		{
			std::pop_heap(pool.begin(), pool.end(), std::greater<>{});
			const Reranked r = pool.back();
			pool.pop_back();
			if (r.distance < s->last_distance)
			{
				s->skipped_late++;
				continue;
			}
			s->last_distance = r.distance;
			ReturnRow(scan, s, quarry::hnsw::kInvalidNode, r.tid, r.distance);
			s->row_value = r.value;
			s->row_value_set = s->heap->value_key != nullptr;
			return true;
		}
		if (s->bounded_next < s->bounded->size())
		{
			Rerank(s, (*s->bounded)[s->bounded_next++].candidate);
			continue;
		}
		Candidate c;
		if (s->candidates_done || !NextCandidate(s, &c))
		{
			if (pool.empty())
				return NextNullVectorRow(scan, s);
			s->candidates_done = true;
			continue;
		}
		Rerank(s, c);
	}
}

bool
NextRow(IndexScanDesc scan, ScanState *s)
{
	s->graph->BeginCall();
	if (s->query_null)
		return (s->null_rows == nullptr && NextNullQueryRow(scan, s)) || NextNullVectorRow(scan, s);
	if (!s->searched)
	{
		pgstat_count_index_scan(scan->indexRelation);
		s->graph->set_tid_sink(s->visited);
		FirstSearch(s);
		s->searched = true;
	}
	if (s->heap != nullptr)
		return NextRerankedRow(scan, s);
	if (NextDuplicate(scan, s))
		return true;
	for (;;)
	{
		Candidate c;
		if (s->null_rows != nullptr)
			return NextNullVectorRow(scan, s);
		if (s->ready_next < s->ready->size())
			c = (*s->ready)[s->ready_next++];
		else if (!NextFound(s, &c))
			return NextNullVectorRow(scan, s);
		if (c.distance < s->last_distance)
		{
			s->skipped_late++; // found late, nearer than a row already returned
			continue;
		}
		s->last_distance = c.distance;
		s->chain = StartChain(*s->graph, c.id, s->visited->Payload(c.id));
		s->chain_distance = c.distance;
		ReturnRow(scan, s, c.id, s->chain.primary_tid, c.distance);
		return true;
	}
}

} // namespace

IndexScanDesc
BeginScan(Relation index, int nkeys, int norderbys)
{
	IndexScanDesc scan = RelationGetIndexScan(index, nkeys, norderbys);
	MemoryContext context =
		AllocSetContextCreate(CurrentMemoryContext, "quarry_hnsw scan", ALLOCSET_DEFAULT_SIZES);
	auto *s = static_cast<ScanState *>(MemoryContextAllocZero(context, sizeof(ScanState)));
	s->context = context;
	s->arena = NewScanArena(context);
	scan->opaque = s;
	scan->xs_orderbyvals = static_cast<Datum *>(palloc0(sizeof(Datum) * std::max(norderbys, 1)));
	scan->xs_orderbynulls = static_cast<bool *>(palloc(sizeof(bool) * std::max(norderbys, 1)));
	std::fill(scan->xs_orderbynulls, scan->xs_orderbynulls + std::max(norderbys, 1), true);
	return scan;
}

void
Rescan(IndexScanDesc scan, ScanKey keys, int nkeys, ScanKey orderbys, int norderbys)
{
	auto *s = static_cast<ScanState *>(scan->opaque);
	if (keys != nullptr && scan->numberOfKeys > 0)
		memmove(scan->keyData, keys, scan->numberOfKeys * sizeof(ScanKeyData));
	if (orderbys != nullptr && scan->numberOfOrderBys > 0)
		memmove(scan->orderByData, orderbys, scan->numberOfOrderBys * sizeof(ScanKeyData));
	// The row the last pass returned is gone with its arena: no projection
	// may take its value, or compute it, after this (whether or not this
	// pass registers again: a NULL query does not; an ERROR may come first).
	if (s->returned_row != nullptr)
		am::ForgetReturnedRow(s->returned_row);
	s->returned_row = nullptr;
	s->operator_value = nullptr;
	s->row_node = quarry::hnsw::kInvalidNode;
	s->row_value_set = false;
	MemoryContext old = MemoryContextSwitchTo(s->context);
	ResetScan(scan, s);
	if (s->heap == nullptr && s->graph->storage() != quarry::hnsw::Storage::kFull && s->graph->meta().dims != 0 &&
		scan->heapRelation != nullptr && CanRerankFromTable(scan->indexRelation))
	{
		s->heap = static_cast<HeapVectors *>(palloc0(sizeof(HeapVectors)));
		BeginHeapVectors(s->heap, scan->heapRelation, scan->indexRelation, s->graph->metric(), s->graph->meta().dims);
	}
	s->snapshot = scan->xs_snapshot;
	SetQuery(scan, s);
	// pgvector's types: only the values pgvector's operator gives, and only
	// where the scan can compute them: from the index (full layout, not
	// cosine: hnsw_operator_value.h) or from the row its rerank reads
	// (compressed layouts, any metric: hnsw_rerank.h). (A non-NULL query:
	// SetQuery read the opclass's format.)
	const bool pgvector = !s->query_null && s->format != quarry::hnsw::InputFormat::kRealArray;
	if (s->heap != nullptr)
		s->heap->value_key = pgvector ? PgvectorOrderingKey(scan, s->format) : nullptr;
	else if (pgvector && scan->numberOfOrderBys > 0)
		s->operator_value = BeginOperatorValue(scan, *s->graph, *s->arena, s->format);
	const bool pgvector_values =
		pgvector && (s->operator_value != nullptr || (s->heap != nullptr && s->heap->value_key != nullptr));
	// A compressed index reranked by PostgreSQL returns lower bounds, not the
	// operator's value: quarry_hnsw_scored must compute the distance itself.
	if (scan->numberOfOrderBys > 0 && !s->query_null && !ReturnsLowerBounds(s) && (!pgvector || pgvector_values))
	{
		// The projection takes each returned row's distance from here
		// (quarry_hnsw_scored): the query's bytes identify it.
		struct varlena *query = PG_DETOAST_DATUM_PACKED(scan->orderByData[0].sk_argument);
		s->returned_row = am::RegisterRankingScan(s->context, RelationGetRelid(scan->indexRelation),
												  static_cast<uint32_t>(s->graph->metric()),
												  {VARDATA_ANY(query), VARSIZE_ANY_EXHDR(query)});
	}
	if (s->returned_row == nullptr && s->heap != nullptr)
		s->heap->value_key = nullptr; // nobody to give the values to
	MemoryContextSwitchTo(old);
}

namespace {

// The value pgvector's operator gives the row returned last
// (am::ComputeReturnedValue), when quarry_hnsw_scored asks for it.
bool
ComputeRowValue(void *scan_state, double *out)
{
	auto *s = static_cast<ScanState *>(scan_state);
	if (s->operator_value == nullptr || s->graph == nullptr || s->row_node == quarry::hnsw::kInvalidNode)
		return false;
	s->graph->BeginCall();
	return OperatorValueOf(s->operator_value, *s->graph, s->row_node, s->row_tid, out);
}

// Notes the distance of the row GetTuple returns for the projection: the
// operator's value, exactly; NULL for a NULL vector (every operator is
// strict). On pgvector's types, pgvector's value: the rerank's, or computed
// from the row's node only if the projection asks for it (ComputeRowValue,
// which declines a row the scan has no node of); never the scan's own
// distance. Nothing (the projection computes) for a NaN bound.
void
NoteValue(IndexScanDesc scan, ScanState *s, bool nan_bound)
{
	const bool null = scan->xs_orderbynulls[0];
	// A row the rerank gave no pgvector value (never quarry's kernels' own).
	const bool reranked_without_value = s->heap != nullptr && s->heap->value_key != nullptr && !s->row_value_set;
	if (nan_bound || (!null && reranked_without_value))
		am::ForgetReturnedRow(s->returned_row);
	else if (s->row_value_set && !null)
		am::NoteReturnedRow(s->returned_row, &scan->xs_heaptid, s->row_value, false);
	else if (s->operator_value != nullptr && !null)
		am::NoteReturnedRowLazily(s->returned_row, &scan->xs_heaptid, ComputeRowValue, s);
	else
		am::NoteReturnedRow(s->returned_row, &scan->xs_heaptid, DatumGetFloat8(scan->xs_orderbyvals[0]), null);
}

} // namespace

bool
GetTuple(IndexScanDesc scan, ScanDirection direction)
{
	if (!ScanDirectionIsForward(direction))
		pg::ThrowError(ERRCODE_FEATURE_NOT_SUPPORTED, "quarry_hnsw scans only go forward");
	auto *s = static_cast<ScanState *>(scan->opaque);
	scan->xs_recheck = false;
	MemoryContext old = MemoryContextSwitchTo(s->context);
	s->row_node = quarry::hnsw::kInvalidNode;
	s->row_value_set = false;
	bool found = NextRow(scan, s);
	MemoryContextSwitchTo(old);
	// Compressed layouts: the distances are lower bounds of the exact ones,
	// and PostgreSQL's reorder queue reranks the rows by the exact distance,
	// computed from the heap tuple (nodeIndexscan.c, IndexNextWithReorder).
	// Rows returned unscored: a NULL distance is exact, a NaN one a bound
	// (ReturnUnscored; a scored row's distance is always finite).
	const bool nan_bound =
		found && !scan->xs_orderbynulls[0] && std::isnan(DatumGetFloat8(scan->xs_orderbyvals[0]));
	scan->xs_recheckorderby =
		found && (nan_bound || (!scan->xs_orderbynulls[0] && s->graph != nullptr && ReturnsLowerBounds(s)));
	if (found && s->returned_row != nullptr)
		NoteValue(scan, s, nan_bound);
	if (found)
		pgstat_count_index_tuples(scan->indexRelation, 1);
	return found;
}

void
EndScan(IndexScanDesc scan)
{
	auto *s = static_cast<ScanState *>(scan->opaque);
	if (s->graph != nullptr && s->searched)
		elog(DEBUG1, "quarry_hnsw scan of \"%s\": scored %llu nodes, read %llu rows to rerank, returned %llu rows, skipped %llu found late",
			 RelationGetRelationName(scan->indexRelation),
			 static_cast<unsigned long long>(s->graph->scored()), static_cast<unsigned long long>(s->rows_read),
			 static_cast<unsigned long long>(s->returned), static_cast<unsigned long long>(s->skipped_late));
	if (s->heap != nullptr)
		EndHeapVectors(s->heap);
	MemoryContextDelete(s->context); // the arena goes with it
	scan->opaque = nullptr;
}

} // namespace quarry::am::hnsw
