// The hybrid scan's executor (hybrid.h). On its first row it evaluates the
// request, reads `depth` candidates from each index's ordered scan (each
// candidate's heap row must be visible and pass the scan's quals, WHERE and
// row-level security policies, or the scan goes on), fuses the two lists in
// a scan arena, registers them for quarry_hybrid_scored, and then returns
// the rows in fused order. A rescan starts again from the request.
//
// Candidates are named by the TID their index entries hold (for a row
// updated in place, HOT, the root of its chain: the same in both indexes).
// When the scan has no quals, a candidate on a page the visibility map marks
// all-visible is taken without reading its heap row, as an index-only scan
// does; the rows returned are read (following the HOT chain) at the end.
//
// The callbacks are C-shaped: every object on their stacks is trivially
// destructible, so they call PostgreSQL directly, in a pg::Boundary.
#include "am/hybrid/hybrid.h"

#include "am/bm25/bm25.h"

#include "memory/scan_arena.h"
#include "pg/compat.h"
#include "pg/guard.h"
#include "pg/heap_tid.h"
#include "pg/memory_glue.h"

extern "C" {
#include "access/relscan.h"
#include "access/tableam.h"
#include "access/visibilitymap.h"
#include "commands/explain.h"
#include "executor/executor.h"
#include "miscadmin.h"
#include "nodes/nodeFuncs.h"
#include "storage/bufmgr.h"
#include "storage/predicate.h"
#include "utils/datum.h"
#include "utils/lsyscache.h"
#include "utils/rel.h"
#include "utils/snapmgr.h"
}

#include <cmath>
#include <type_traits>

namespace quarry::am::hybrid {
namespace {

constexpr int kExprCount = 6; // text query, vector query, depth, fusion, k, weight
constexpr uint16_t kBm25Strategy = 2;	 // quarry_bm25_ops: OPERATOR 2 <@>
constexpr uint16_t kDistanceStrategy = 1; // every quarry_hnsw operator class

struct ScanState {
	CustomScanState css; // first: PostgreSQL sees a CustomScanState
	ExprState *exprs[kExprCount];
	Relation bm25_index;
	Relation hnsw_index;
	int32_t site;
	TupleTableSlot *fetch_slot; // of the table's access method, for index and TID fetches
	IndexFetchTableData *fetch; // reads the returned rows
	Ranking *ranking; // the last run's registration
	MemoryContext scan_cxt; // the arena's blocks: for the node's life
	MemoryContext run_cxt;	// the registration: reset at each run
	mem::ScanArena *arena;	// candidates and fused rows; Reset() at each run
	bool ran;
	const fusion::Fused *fused;
	std::size_t count;
	std::size_t next;
	// EXPLAIN ANALYZE: candidates of the last run per side, and the request.
	std::size_t text_candidates;
	std::size_t vector_candidates;
	uint32_t depth;
	fusion::Options options;
};
static_assert(std::is_trivially_destructible_v<ScanState>);

// CreateCustomScanState.
Node *
CreateState(CustomScan *plan)
{
	auto *s = static_cast<ScanState *>(palloc0(sizeof(ScanState)));
	NodeSetTag(&s->css, T_CustomScanState);
	s->css.methods = &kExecMethods;
	return reinterpret_cast<Node *>(&s->css);
}

// BeginCustomScan: opens the two indexes and prepares the request.
void
Begin(CustomScanState *node, EState *estate, int eflags)
{
	auto *s = reinterpret_cast<ScanState *>(node);
	auto *plan = reinterpret_cast<CustomScan *>(node->ss.ps.plan);
	List *ids = plan->custom_private;
	s->site = static_cast<int32_t>(lthird_oid(ids));
	for (int i = 0; i < kExprCount; i++)
		s->exprs[i] = ExecInitExpr(static_cast<Expr *>(list_nth(plan->custom_exprs, i)), &node->ss.ps);
	if (eflags & EXEC_FLAG_EXPLAIN_ONLY)
		return;
	s->bm25_index = index_open(linitial_oid(ids), AccessShareLock);
	s->hnsw_index = index_open(lsecond_oid(ids), AccessShareLock);
	// The scan slot of the table's access method, not the virtual one the
	// custom scan was given: rows are fetched into it, and the projection
	// reads their ctid. Projection and quals are built again for it.
	Relation rel = node->ss.ss_currentRelation;
	ExecInitScanTupleSlot(estate, &node->ss, RelationGetDescr(rel), table_slot_callbacks(rel));
	ExecAssignScanProjectionInfo(&node->ss);
	node->ss.ps.qual = ExecInitQual(plan->scan.plan.qual, &node->ss.ps);
	s->fetch_slot = node->ss.ss_ScanTupleSlot;
	s->fetch = table_index_fetch_begin(rel);
	s->scan_cxt = AllocSetContextCreate(estate->es_query_cxt, "quarry_hybrid scan", ALLOCSET_DEFAULT_SIZES);
	s->run_cxt = AllocSetContextCreate(s->scan_cxt, "quarry_hybrid run", ALLOCSET_SMALL_SIZES);
}

// The request argument each of the node's expressions computes.
constexpr int kArgOf[kExprCount] = {kTextQuery, kVectorQuery, kDepth, kFusion, kK, kWeight};

// Evaluates the request's arguments in the node's expression context.
Request
Evaluate(ScanState *s)
{
	Request r{};
	ExprContext *econtext = s->css.ss.ps.ps_ExprContext;
	for (int i = 0; i < kExprCount; i++)
	{
		const int arg = kArgOf[i];
		r.values[arg] = ExecEvalExprSwitchContext(s->exprs[i], econtext, &r.null[arg]);
		if (r.null[arg] && arg != kTextQuery && arg != kVectorQuery)
			pg::ThrowError(ERRCODE_NULL_VALUE_NOT_ALLOWED, "quarry_hybrid: %s must not be NULL",
						   arg == kDepth ? "depth" : arg == kFusion ? "fusion" : arg == kK ? "k" : "weight");
	}
	return r;
}

// Copies the request's values passed by reference (the queries, the fusion
// name) into the current memory context (the run's): they were evaluated in
// the expression context, which Collect resets for every candidate it
// filters, while the index scans and the registration still read them.
void
KeepRequest(ScanState *s, Request &r)
{
	for (int i = 0; i < kExprCount; i++)
	{
		const int arg = kArgOf[i];
		if (r.null[arg])
			continue;
		int16 length;
		bool by_value;
		get_typlenbyval(exprType(reinterpret_cast<Node *>(s->exprs[i]->expr)), &length, &by_value);
		if (!by_value)
			r.values[arg] = datumCopy(r.values[arg], by_value, length);
	}
}

// Whether the row at the index entry `scan` returned last is visible and
// passes the node's quals. Without quals, a row on an all-visible page is
// taken as visible without reading it (`vm`: the visibility map buffer kept
// pinned across calls).
bool
Qualifies(ScanState *s, IndexScanDesc scan, ItemPointer tid, bool visibility_only, Buffer *vm)
{
	Relation heap = s->css.ss.ss_currentRelation;
	if (visibility_only && VM_ALL_VISIBLE(heap, ItemPointerGetBlockNumber(tid), vm))
	{
		// Not reading the row: lock what reading it would have (nodeIndexonlyscan.c).
		PredicateLockPage(heap, ItemPointerGetBlockNumber(tid), s->css.ss.ps.state->es_snapshot);
		return true;
	}
	TupleTableSlot *slot = s->fetch_slot;
	bool visible = index_fetch_heap(scan, slot);
	while (!visible && scan->xs_heap_continue)
		visible = index_fetch_heap(scan, slot);
	if (!visible)
		return false;
	ExprState *qual = s->css.ss.ps.qual;
	if (qual == nullptr)
		return true;
	ExprContext *econtext = s->css.ss.ps.ps_ExprContext;
	ResetExprContext(econtext);
	econtext->ecxt_scantuple = slot;
	if (ExecQual(qual, econtext))
		return true;
	InstrCountFiltered1(s, 1);
	return false;
}

// Reads up to `depth` candidates from an ordered scan of `index` by the
// query `query` into `out`: visible rows that pass the node's quals, in the
// index's order, until a row the side does not rank (no score: a NULL value,
// a BM25 score of 0, a NaN distance). Returns how many.
std::size_t
Collect(ScanState *s, Relation index, uint16_t strategy, Datum query, bool bm25, std::span<fusion::Candidate> out)
{
	EState *estate = s->css.ss.ps.state;
	IndexScanDesc scan = pg::IndexBeginScan(s->css.ss.ss_currentRelation, index, estate->es_snapshot, 0, 1);
	ScanKeyData key;
	ScanKeyEntryInitialize(&key, 0, 1, strategy, InvalidOid, index->rd_indcollation[0], InvalidOid, query);
	index_rescan(scan, nullptr, 0, &key, 1);
	if (bm25)
		bm25::ExpectRows(scan, static_cast<uint32_t>(out.size()));
	const bool visibility_only = s->css.ss.ps.qual == nullptr && IsMVCCSnapshot(estate->es_snapshot);
	Buffer vm = InvalidBuffer;
	std::size_t n = 0;
	while (n < out.size())
	{
		ItemPointer tid = index_getnext_tid(scan, ForwardScanDirection);
		if (tid == nullptr)
			break;
		CHECK_FOR_INTERRUPTS();
		if (scan->xs_orderbynulls[0])
			break;
		const double value = DatumGetFloat8(scan->xs_orderbyvals[0]);
		if (std::isnan(value) || (bm25 && !(value < 0)))
			break;
		const uint64_t row = pg::PackTid(tid); // before the fetch moves it along a HOT chain
		if (Qualifies(s, scan, tid, visibility_only, &vm))
			out[n++] = fusion::Candidate{row, bm25 ? -value : value};
	}
	if (vm != InvalidBuffer)
		ReleaseBuffer(vm);
	index_endscan(scan);
	return n;
}

// The first row's work: candidates from both indexes, fused, registered.
void
Run(ScanState *s)
{
	MemoryContextReset(s->run_cxt); // forgets the last run's registration and request
	MemoryContext old = MemoryContextSwitchTo(s->run_cxt);
	Request r = Evaluate(s);
	KeepRequest(s, r);
	fusion::Options options = RequestOptions(r, &s->depth);
	s->options = options;
	if (s->arena == nullptr)
		s->arena = pg::CreateScanArena(s->scan_cxt);
	else
		s->arena->Reset(); // a rescan: one block kept, as the index scans do
	mem::ScanArena *arena = s->arena;
	std::span<fusion::Candidate> text{arena->MakeArray<fusion::Candidate>(s->depth), s->depth};
	std::span<fusion::Candidate> vector{arena->MakeArray<fusion::Candidate>(s->depth), s->depth};
	s->text_candidates = r.null[kTextQuery] ? 0 : Collect(s, s->bm25_index, kBm25Strategy, r.values[kTextQuery], true, text);
	s->vector_candidates =
		r.null[kVectorQuery] ? 0 : Collect(s, s->hnsw_index, kDistanceStrategy, r.values[kVectorQuery], false, vector);
	const std::size_t total = s->text_candidates + s->vector_candidates;
	auto *fused = arena->MakeArray<fusion::Fused>(std::max<std::size_t>(total, 1));
	auto *by_row = arena->MakeArray<fusion::Fused>(std::max<std::size_t>(total, 1));
	s->count = fusion::Fuse(text.first(s->text_candidates), vector.first(s->vector_candidates), options, {fused, total});
	std::copy(fused, fused + s->count, by_row);
	fusion::SortByRow({by_row, s->count});
	s->ranking = RegisterRanking(s->run_cxt, s->site, RequestKey(r), {by_row, s->count});
	MemoryContextSwitchTo(old);
	s->fused = fused;
	s->next = 0;
	s->ran = true;
}

// ExecCustomScan: the next row in fused order, projected.
TupleTableSlot *
Exec(CustomScanState *node)
{
	auto *s = reinterpret_cast<ScanState *>(node);
	return pg::Boundary("quarry_hybrid scan", [&]() -> TupleTableSlot * {
		// A FOR UPDATE/SHARE re-check would rank a different candidate set.
		if (node->ss.ps.state->es_epq_active != nullptr)
			pg::ThrowError(ERRCODE_FEATURE_NOT_SUPPORTED, "quarry_hybrid cannot re-check rows locked by FOR UPDATE or FOR SHARE");
		if (!s->ran)
			Run(s);
		TupleTableSlot *slot = s->fetch_slot;
		ExprContext *econtext = node->ss.ps.ps_ExprContext;
		while (s->next < s->count)
		{
			const uint64_t row = s->fused[s->next++].row;
			ItemPointerData tid;
			pg::UnpackTid(row, &tid);
			// The version of the row visible to the snapshot, along its HOT
			// chain from the TID the indexes hold.
			bool call_again = false;
			bool all_dead = false;
			if (!table_index_fetch_tuple(s->fetch, &tid, node->ss.ps.state->es_snapshot, slot, &call_again, &all_dead))
				continue;
			if (pg::PackTid(&slot->tts_tid) != row)
				AddAlias(s->ranking, pg::PackTid(&slot->tts_tid), row);
			ResetExprContext(econtext);
			econtext->ecxt_scantuple = slot;
			if (node->ss.ps.ps_ProjInfo == nullptr)
				return slot;
			return ExecProject(node->ss.ps.ps_ProjInfo);
		}
		return static_cast<TupleTableSlot *>(nullptr);
	});
}

// EndCustomScan.
void
End(CustomScanState *node)
{
	auto *s = reinterpret_cast<ScanState *>(node);
	if (s->fetch != nullptr)
		table_index_fetch_end(s->fetch);
	if (s->hnsw_index != nullptr)
		index_close(s->hnsw_index, AccessShareLock);
	if (s->bm25_index != nullptr)
		index_close(s->bm25_index, AccessShareLock);
	if (s->scan_cxt != nullptr)
		MemoryContextDelete(s->scan_cxt);
}

// ReScanCustomScan: the next row runs the request again (its parameters may
// have changed).
void
Rescan(CustomScanState *node)
{
	reinterpret_cast<ScanState *>(node)->ran = false;
}

// ExplainCustomScan: the two indexes; under ANALYZE the request and how many
// candidates each side gave.
void
Explain(CustomScanState *node, List *ancestors, ExplainState *es)
{
	auto *s = reinterpret_cast<ScanState *>(node);
	auto *plan = reinterpret_cast<CustomScan *>(node->ss.ps.plan);
	ExplainPropertyText("Text Index", get_rel_name(linitial_oid(plan->custom_private)), es);
	ExplainPropertyText("Vector Index", get_rel_name(lsecond_oid(plan->custom_private)), es);
	if (!es->analyze || !s->ran)
		return;
	char fusion[96];
	if (s->options.method == fusion::Method::kRrf)
		snprintf(fusion, sizeof(fusion), "rrf (k=%g)", s->options.k);
	else
		snprintf(fusion, sizeof(fusion), "linear (weight=%g)", s->options.weight);
	ExplainPropertyText("Fusion", fusion, es);
	ExplainPropertyInteger("Depth", nullptr, s->depth, es);
	ExplainPropertyInteger("Text Candidates", nullptr, static_cast<int64>(s->text_candidates), es);
	ExplainPropertyInteger("Vector Candidates", nullptr, static_cast<int64>(s->vector_candidates), es);
}

} // namespace

const CustomExecMethods kExecMethods = {
	.CustomName = "QuarryHybrid",
	.BeginCustomScan = Begin,
	.ExecCustomScan = Exec,
	.EndCustomScan = End,
	.ReScanCustomScan = Rescan,
	.ExplainCustomScan = Explain,
};

const CustomScanMethods kScanMethods = {
	.CustomName = "QuarryHybrid",
	.CreateCustomScanState = CreateState,
};

} // namespace quarry::am::hybrid
