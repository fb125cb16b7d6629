// quarry_hnsw parallel CREATE INDEX.
//
// As pgvector's parallel build does (src/hnswbuild.c), the leader sets up a
// ParallelContext whose DSM segment holds a parallel heap scan and the graph,
// launches the workers and scans with them: every participant takes heap
// blocks from the shared scan and inserts its rows into the one shared graph
// (src/hnsw/shared_graph.h: offsets instead of pointers, a spinlock per
// node, the entry point under its own lock). When all are done, the leader
// writes the graph to pages as the serial build does (breadth-first order,
// no WAL, every page logged at the end).
//
// Memory: the graph is the DSM segment (the parallel analogue of the serial
// build's arena), at most maintenance_work_mem less every participant's
// visited tags; it goes away with the parallel context at the end of the
// build, or with the transaction when the build fails or is cancelled. Each
// participant's private scratch (visited tags, candidate heaps) comes from
// its own build arena: the leader's goes with its memory context; a worker
// destroys its own when its share is done or, when it ends with an ERROR or
// is stopped (the leader's cancel), in a before_shmem_exit callback. Workers
// report their arenas, created and destroyed, in the segment; the leader
// adds them to its own counters once every worker has exited
// (quarry_memory_stats() shows them), on success and on failure alike.
//
// Rows the graph does not hold (a NULL vector, a zero vector held as NULL,
// rows past the segment's capacity) are taken by a second, serial scan of
// the leader after the graph is written: NULL rows to the null-row list, the
// others inserted on disk, as the serial build does past
// maintenance_work_mem.
//
// Errors: every callback runs its C++ through pg::Boundary; a worker's ERROR
// reaches the leader through the parallel machinery, which aborts the build.
#include "am/hnsw/hnsw_build.h"

extern "C" {
#include "access/parallel.h"
#include "access/relscan.h"
#include "access/table.h"
#include "access/tableam.h"
#include "catalog/index.h"
#include "commands/progress.h"
#include "executor/executor.h"
#include "miscadmin.h"
#include "pgstat.h"
#include "postmaster/bgworker.h"
#include "storage/condition_variable.h"
#include "storage/ipc.h"
#include "storage/shm_mq.h"
#include "storage/spin.h"
#include "tcop/tcopprot.h"
#include "utils/snapmgr.h"
}

#include "hnsw/shared_graph.h"
#include "memory/memory_stats.h"
#include "pg/guard.h"
#include "pg/heap_tid.h"
#include "pg/memory_glue.h"
#include "pg/owned.h"

#include <algorithm>
#include <cstring>
#include <type_traits>

namespace quarry::am::hnsw {

namespace {

constexpr uint64_t kKeyShared = UINT64CONST(0xB200000000000001);
constexpr uint64_t kKeyGraph = UINT64CONST(0xB200000000000002);
constexpr uint64_t kKeyQueryText = UINT64CONST(0xB200000000000003);
constexpr uint64_t kKeyNullRows = UINT64CONST(0xB200000000000004);

/// Rows ProbeDims reads at most looking for a first vector.
constexpr int kProbeRows = 10000;

/// The build's state in the DSM segment, followed by the parallel heap scan.
struct ParallelShared {
	Oid heap_oid;
	Oid index_oid;
	bool concurrent;
	int32_t metric;
	int32_t format;
	uint32_t dims;
	slock_t mutex;
	ConditionVariable done_cv;
	int participants_done;	// under mutex
	double heap_tuples;		// under mutex
	pg_atomic_uint64 added; // rows in the graph (progress)
	pg_atomic_uint64 left;	// rows the graph refused: for the leader's second scan
	pg_atomic_uint64 nulls; // rows held in the null-row list (NULL or held as NULL)
	pg_atomic_uint32 zero_vectors; // 1 once a zero vector went to the null-row list
	pg_atomic_uint32 worker_arenas_created; // build arenas of workers (not the leader's)
	pg_atomic_uint32 worker_arenas_destroyed;
	uint64_t null_capacity; // heap TIDs the null_rows chunk holds
};

ParallelTableScanDesc
ScanOf(ParallelShared *shared)
{
	return reinterpret_cast<ParallelTableScanDesc>(reinterpret_cast<char *>(shared) +
												  BUFFERALIGN(sizeof(ParallelShared)));
}

/// One process inserting into the shared graph. C-shaped.
struct Participant {
	ParallelShared *shared;
	ItemPointerData *null_rows; // in the segment: null_capacity entries
	Relation index;
	quarry::hnsw::Metric metric;
	quarry::hnsw::InputFormat format;
	uint32_t dims;
	bool leader;
	double level_multiplier;
	MemoryContext context; // owns the arena and the inserter
	MemoryContext tuple_context;
	mem::BuildArena *arena;
	quarry::hnsw::SharedGraph *graph;
	quarry::hnsw::SharedInserter *inserter;
	float *vector;
	uint64_t own_rows;
};
static_assert(std::is_trivially_destructible_v<Participant>);

// Sets up a participant over `region` in memory of `parent`.
void
StartParticipant(Participant *p, ParallelShared *shared, ItemPointerData *null_rows, std::byte *region,
				 Relation index, bool leader, MemoryContext parent)
{
	std::memset(p, 0, sizeof(*p));
	p->shared = shared;
	p->null_rows = null_rows;
	p->index = index;
	p->metric = static_cast<quarry::hnsw::Metric>(shared->metric);
	p->format = static_cast<quarry::hnsw::InputFormat>(shared->format);
	p->dims = shared->dims;
	p->leader = leader;
	p->context = AllocSetContextCreate(parent, "quarry_hnsw parallel build", ALLOCSET_SMALL_SIZES);
	p->tuple_context = AllocSetContextCreate(p->context, "quarry_hnsw build tuple", ALLOCSET_DEFAULT_SIZES);
	p->vector = static_cast<float *>(MemoryContextAlloc(p->context, sizeof(float) * p->dims));
	pg::Boundary("quarry_hnsw parallel build", [&] {
		p->arena = pg::CreateBuildArena(p->context);
		p->graph = pg::MakeOwned<quarry::hnsw::SharedGraph>(p->context, region);
		p->inserter = pg::MakeOwned<quarry::hnsw::SharedInserter>(p->context, *p->arena, *p->graph);
		p->level_multiplier = quarry::hnsw::LevelMultiplier(p->graph->params().m);
	});
}

/// What became of a row.
enum class Placed { kGraph, kNullRow, kLeft };

// Inserts one row's vector into the graph; kNullRow for a vector held as
// NULL, kLeft when the segment is full (the second scan takes it).
Placed
InsertRow(Participant *p, Datum value, ItemPointer tid)
{
	VectorArg v = DatumGetVector(value, p->format);
	if (static_cast<uint32_t>(v.dims) != p->dims)
		pg::ThrowError(ERRCODE_DATA_EXCEPTION, "vector has %d dimensions, but index \"%s\" has %u", v.dims,
					   RelationGetRelationName(p->index), p->dims);
	if (HeldAsNullRow(v, p->metric))
		return Placed::kNullRow;
	PrepareIndexVector(v, p->metric, p->vector);
	const uint64_t label = pg::PackTid(tid);
	const int level = quarry::hnsw::LevelOfLabel(label, kBuildSeed, p->level_multiplier);
	return p->inserter->Insert(std::span<const float>(p->vector, p->dims), label, level) ? Placed::kGraph
																						 : Placed::kLeft;
}

// A row for the null-row list: into the segment's list while it has room
// (past it the second scan collects them all).
void
AddSharedNullRow(Participant *p, ItemPointer tid)
{
	const uint64_t slot = pg_atomic_fetch_add_u64(&p->shared->nulls, 1);
	if (slot < p->shared->null_capacity)
		p->null_rows[slot] = *tid;
}

// table_index_build_scan's callback in every participant: one heap tuple.
void
ParallelCallback(Relation index, ItemPointer tid, Datum *values, bool *isnull, bool alive, void *state)
{
	auto *p = static_cast<Participant *>(state);
	(void)index;
	(void)alive;
	Placed placed = Placed::kNullRow;
	if (!isnull[0])
	{
		MemoryContext old = MemoryContextSwitchTo(p->tuple_context);
		placed = pg::Boundary("quarry_hnsw parallel build", [&] { return InsertRow(p, values[0], tid); });
		MemoryContextSwitchTo(old);
		MemoryContextReset(p->tuple_context);
	}
	if (placed == Placed::kNullRow)
	{
		if (!isnull[0])
			pg_atomic_write_u32(&p->shared->zero_vectors, 1);
		AddSharedNullRow(p, tid);
		return;
	}
	if (placed == Placed::kLeft)
	{
		pg_atomic_fetch_add_u64(&p->shared->left, 1);
		return;
	}
	const uint64_t all = pg_atomic_add_fetch_u64(&p->shared->added, 1);
	if (p->leader && ++p->own_rows % 1000 == 0)
		pgstat_progress_update_param(PROGRESS_CREATEIDX_TUPLES_DONE, static_cast<int64_t>(all));
	CHECK_FOR_INTERRUPTS();
}

// A participant's share of the scan; tells the leader when it is done.
void
ScanAndInsert(Participant *p, Relation heap, IndexInfo *index_info)
{
	TableScanDesc scan = table_beginscan_parallel(heap, ScanOf(p->shared));
	const double tuples =
		table_index_build_scan(heap, p->index, index_info, true, p->leader, ParallelCallback, p, scan);
	SpinLockAcquire(&p->shared->mutex);
	p->shared->participants_done++;
	p->shared->heap_tuples += tuples;
	SpinLockRelease(&p->shared->mutex);
	ConditionVariableSignal(&p->shared->done_cv);
}

// The leader, after its own share: waits for the workers' shares, showing
// the rows all participants added in pg_stat_progress_create_index.
void
WaitForParticipants(ParallelShared *shared, int participants)
{
	for (;;)
	{
		SpinLockAcquire(&shared->mutex);
		const int done = shared->participants_done;
		SpinLockRelease(&shared->mutex);
		pgstat_progress_update_param(PROGRESS_CREATEIDX_TUPLES_DONE,
									 static_cast<int64_t>(pg_atomic_read_u64(&shared->added)));
		if (done == participants)
			break;
		ConditionVariableTimedSleep(&shared->done_cv, 100, WAIT_EVENT_PARALLEL_CREATE_INDEX_SCAN);
	}
	ConditionVariableCancelSleep();
}

// Rows the build may expect: the planner's estimate of the heap's rows now
// (its density from the last ANALYZE times its blocks, or a guess from the
// row width), with a margin.
double
ExpectedRows(Relation heap)
{
	BlockNumber pages;
	double tuples;
	double allvisfrac;
	table_relation_estimate_size(heap, nullptr, &pages, &tuples, &allvisfrac);
	return tuples * 1.1 + 1000;
}

// Bytes of the shared graph for `participants` processes: room for the
// expected rows, within maintenance_work_mem less each participant's
// visited tags (2 bytes a node). 0 if not even a few nodes fit.
std::size_t
GraphBytes(const BuildState *s, const quarry::hnsw::GraphParams &params, int participants, uint32_t *capacity)
{
	const double expected = std::min(ExpectedRows(s->heap), 4.0e9);
	uint32_t n = quarry::hnsw::SharedGraph::CapacityFor(params, s->budget);
	n = std::min<uint32_t>(n, static_cast<uint32_t>(expected));
	while (n > 0 && quarry::hnsw::SharedGraph::RegionBytes(params, n) + 2ull * participants * n > s->budget)
		n -= n / 64 + 1;
	*capacity = n;
	return n < 16 ? 0 : quarry::hnsw::SharedGraph::RegionBytes(params, n);
}

// Heap TIDs of NULL rows the segment keeps: 1 % of the expected rows, at
// least 1,024 (past them the second scan collects the NULL rows).
uint64_t
NullRowCapacity(const BuildState *s)
{
	return static_cast<uint64_t>(std::min(ExpectedRows(s->heap) / 100, 4.0e6)) + 1024;
}

// Leaves parallel mode (the DSM segment goes with the context).
void
EndParallel(ParallelContext *pcxt, Snapshot snapshot)
{
	if (IsMVCCSnapshot(snapshot))
		UnregisterSnapshot(snapshot);
	DestroyParallelContext(pcxt);
	ExitParallelMode();
}

// Fills the shared state (the parallel scan included) in the new segment.
ParallelShared *
InitShared(BuildState *s, IndexInfo *index_info, ParallelContext *pcxt, Size shared_bytes, Snapshot snapshot)
{
	auto *shared = static_cast<ParallelShared *>(shm_toc_allocate(pcxt->toc, shared_bytes));
	std::memset(shared, 0, sizeof(ParallelShared));
	shared->heap_oid = RelationGetRelid(s->heap);
	shared->index_oid = RelationGetRelid(s->index);
	shared->concurrent = index_info->ii_Concurrent;
	shared->metric = static_cast<int32_t>(s->metric);
	shared->format = static_cast<int32_t>(s->format);
	shared->dims = s->dims;
	SpinLockInit(&shared->mutex);
	ConditionVariableInit(&shared->done_cv);
	pg_atomic_init_u64(&shared->added, 0);
	pg_atomic_init_u64(&shared->left, 0);
	pg_atomic_init_u64(&shared->nulls, 0);
	pg_atomic_init_u32(&shared->zero_vectors, 0);
	pg_atomic_init_u32(&shared->worker_arenas_created, 0);
	pg_atomic_init_u32(&shared->worker_arenas_destroyed, 0);
	table_parallelscan_initialize(s->heap, ScanOf(shared), snapshot);
	shm_toc_insert(pcxt->toc, kKeyShared, shared);
	if (debug_query_string != nullptr)
	{
		const std::size_t length = std::strlen(debug_query_string) + 1;
		auto *text = static_cast<char *>(shm_toc_allocate(pcxt->toc, length));
		std::memcpy(text, debug_query_string, length);
		shm_toc_insert(pcxt->toc, kKeyQueryText, text);
	}
	return shared;
}

// Adds the workers' build arenas, as they reported them in the segment, to
// this backend's counters. Call once every worker has exited.
void
CountWorkerArenas(ParallelShared *shared)
{
	mem::AddWorkerBuildArenas(pg_atomic_read_u32(&shared->worker_arenas_created),
							  pg_atomic_read_u32(&shared->worker_arenas_destroyed));
}

// The leader's ERROR or cancel: stops every worker and waits until each has
// exited (so its before_shmem_exit callback has run). Call with interrupts
// held (a second cancel must not cut the wait short). As
// DestroyParallelContext does, it detaches each worker's error queue first:
// a worker blocked on a full queue would never exit. DestroyParallelContext
// alone would not do: it detaches the segment, and the workers' reports in
// it, before it waits.
void
StopWorkers(ParallelContext *pcxt)
{
	for (int i = 0; i < pcxt->nworkers_launched; i++)
	{
		if (pcxt->worker[i].error_mqh != nullptr)
		{
			TerminateBackgroundWorker(pcxt->worker[i].bgwhandle);
			shm_mq_detach(pcxt->worker[i].error_mqh);
			pcxt->worker[i].error_mqh = nullptr;
		}
	}
	for (int i = 0; i < pcxt->nworkers_launched; i++)
	{
		if (pcxt->worker[i].bgwhandle != nullptr)
			(void) WaitForBackgroundWorkerShutdown(pcxt->worker[i].bgwhandle);
	}
}

// A worker's build arena destroyed and reported: at the end of its share,
// or at its exit on an ERROR or when stopped, before the process goes (the
// segment is still attached: before_shmem_exit callbacks run before DSM
// detach). Nothing to do when it is gone already. C-shaped.
void
DestroyWorkerArena(int, Datum arg)
{
	auto *p = reinterpret_cast<Participant *>(DatumGetPointer(arg));
	if (p->arena == nullptr || !p->arena->alive())
		return;
	p->arena->Destroy();
	pg_atomic_fetch_add_u32(&p->shared->worker_arenas_destroyed, 1);
}

// Whether rows are left for a second scan: refused by a full graph, or
// NULL rows past the segment's list.
bool
NeedsSecondScan(ParallelShared *shared)
{
	return pg_atomic_read_u64(&shared->left) > 0 || pg_atomic_read_u64(&shared->nulls) > shared->null_capacity;
}

// After the graph: its rows' heap TIDs, sorted, for the second scan.
void
KeepGraphTids(BuildState *s, const quarry::hnsw::SharedGraph &graph)
{
	const uint32_t n = graph.size();
	pg::Boundary("quarry_hnsw parallel build", [&] {
		auto *tids = static_cast<uint64_t *>(s->arena->Allocate(sizeof(uint64_t) * std::max<uint32_t>(n, 1)));
		for (uint32_t id = 0; id < n; id++)
			tids[id] = graph.label(id);
		std::sort(tids, tids + n);
		s->graph_tids = tids;
		s->graph_tid_count = n;
	});
}

// The leader's part once the segment is set up and the workers launched:
// its share of the scan, the wait, the pages. Returns the heap's tuples.
double
LeadBuild(BuildState *s, IndexInfo *index_info, ParallelContext *pcxt, ParallelShared *shared,
		  ItemPointerData *null_rows, std::byte *region, int participants)
{
	Participant leader;
	StartParticipant(&leader, shared, null_rows, region, s->index, true, s->build_context);
	ScanAndInsert(&leader, s->heap, index_info);
	// A worker that was launched but failed to start would never report:
	// this raises an ERROR for it instead of waiting forever (as btree).
	WaitForParallelWorkersToAttach(pcxt);
	WaitForParticipants(shared, participants);
	const quarry::hnsw::SharedGraph &graph = *leader.graph;
	s->indexed = graph.size();
	s->holds_zero_vectors = pg_atomic_read_u32(&shared->zero_vectors) != 0;
	s->peak_arena_bytes = graph.used_bytes();
	if (graph.refused() > 0)
		ereport(NOTICE,
				(errmsg("quarry_hnsw graph no longer fits into maintenance_work_mem after %u rows", graph.size()),
				 errdetail("%u more rows are inserted on disk, which is much slower.", graph.refused()),
				 errhint("Increase maintenance_work_mem to build in memory.")));
	pg::Boundary("quarry_hnsw parallel build", [&] {
		if (graph.size() > 0)
			WriteGraph(s, graph);
		else
			WriteEmptyGraph(s);
	});
	if (NeedsSecondScan(shared))
		KeepGraphTids(s, graph);
	else
	{
		const uint64_t nulls = pg_atomic_read_u64(&shared->nulls);
		for (uint64_t i = 0; i < nulls; i++)
			AddNullRow(s, &null_rows[i]);
	}
	MemoryContextDelete(leader.context);
	return shared->heap_tuples;
}

} // namespace

uint32_t
ProbeDims(BuildState *s, IndexInfo *index_info)
{
	Snapshot snapshot = RegisterSnapshot(GetTransactionSnapshot());
	TableScanDesc scan = table_beginscan(s->heap, snapshot, 0, nullptr);
	TupleTableSlot *slot = table_slot_create(s->heap, nullptr);
	EState *estate = CreateExecutorState();
	ExprContext *econtext = GetPerTupleExprContext(estate);
	econtext->ecxt_scantuple = slot;
	ExprState *predicate = ExecPrepareQual(index_info->ii_Predicate, estate);
	uint32_t dims = 0;
	for (int seen = 0; dims == 0 && seen < kProbeRows && table_scan_getnextslot(scan, ForwardScanDirection, slot);
		 seen++)
	{
		CHECK_FOR_INTERRUPTS();
		ResetPerTupleExprContext(estate);
		MemoryContext old = MemoryContextSwitchTo(s->tuple_context);
		if (predicate == nullptr || ExecQual(predicate, econtext))
		{
			Datum values[INDEX_MAX_KEYS];
			bool isnull[INDEX_MAX_KEYS];
			FormIndexDatum(index_info, slot, estate, values, isnull);
			if (!isnull[0])
			{
				VectorArg v = DatumGetVector(values[0], s->format);
				if (!HeldAsNullRow(v, s->metric))
				{
					CheckIndexableDims(v.dims);
					dims = static_cast<uint32_t>(v.dims);
				}
			}
		}
		MemoryContextSwitchTo(old);
		MemoryContextReset(s->tuple_context);
	}
	// FormIndexDatum cached expression states in `estate`: drop them with it.
	index_info->ii_ExpressionsState = NIL;
	ExecDropSingleTupleTableSlot(slot);
	FreeExecutorState(estate);
	table_endscan(scan);
	UnregisterSnapshot(snapshot);
	return dims;
}

bool
BuildParallel(BuildState *s, IndexInfo *index_info, int workers, double *heap_tuples)
{
	const quarry::hnsw::GraphParams params{s->dims, s->m, s->ef_construction, s->metric};
	uint32_t capacity;
	const std::size_t graph_bytes = GraphBytes(s, params, workers + 1, &capacity);
	if (graph_bytes == 0)
		return false;
	EnterParallelMode();
	ParallelContext *pcxt = CreateParallelContext("quarry", "quarry_hnsw_parallel_build_main", workers);
	Snapshot snapshot = index_info->ii_Concurrent ? RegisterSnapshot(GetTransactionSnapshot()) : SnapshotAny;
	const Size shared_bytes =
		add_size(BUFFERALIGN(sizeof(ParallelShared)), table_parallelscan_estimate(s->heap, snapshot));
	shm_toc_estimate_chunk(&pcxt->estimator, shared_bytes);
	shm_toc_estimate_chunk(&pcxt->estimator, graph_bytes);
	const uint64_t null_capacity = NullRowCapacity(s);
	shm_toc_estimate_chunk(&pcxt->estimator, sizeof(ItemPointerData) * null_capacity);
	shm_toc_estimate_keys(&pcxt->estimator, 3);
	if (debug_query_string != nullptr)
	{
		shm_toc_estimate_chunk(&pcxt->estimator, std::strlen(debug_query_string) + 1);
		shm_toc_estimate_keys(&pcxt->estimator, 1);
	}
	InitializeParallelDSM(pcxt);
	if (pcxt->seg == nullptr)
	{
		EndParallel(pcxt, snapshot); // no segment: build serially
		return false;
	}
	ParallelShared *shared = InitShared(s, index_info, pcxt, shared_bytes, snapshot);
	auto *region = static_cast<std::byte *>(shm_toc_allocate(pcxt->toc, graph_bytes));
	quarry::hnsw::SharedGraph::Initialize(std::span<std::byte>(region, graph_bytes), params, capacity);
	shm_toc_insert(pcxt->toc, kKeyGraph, region);
	shared->null_capacity = null_capacity;
	auto *null_rows =
		static_cast<ItemPointerData *>(shm_toc_allocate(pcxt->toc, sizeof(ItemPointerData) * null_capacity));
	shm_toc_insert(pcxt->toc, kKeyNullRows, null_rows);
	LaunchParallelWorkers(pcxt);
	if (pcxt->nworkers_launched == 0)
	{
		WaitForParallelWorkersToFinish(pcxt);
		EndParallel(pcxt, snapshot);
		return false;
	}
	s->workers_launched = pcxt->nworkers_launched;
	ereport(DEBUG1, (errmsg_internal("quarry_hnsw parallel build of \"%s\": %d workers launched",
									 RelationGetRelationName(s->index), pcxt->nworkers_launched)));
	PG_TRY();
	{
		*heap_tuples = LeadBuild(s, index_info, pcxt, shared, null_rows, region, pcxt->nworkers_launched + 1);
		WaitForParallelWorkersToFinish(pcxt);
	}
	PG_CATCH();
	{
		// Nothing here may raise another ERROR (a worker's message waiting
		// to be rethrown, a second cancel): interrupts are held.
		HOLD_INTERRUPTS();
		StopWorkers(pcxt);
		CountWorkerArenas(shared);
		RESUME_INTERRUPTS();
		PG_RE_THROW();
	}
	PG_END_TRY();
	CountWorkerArenas(shared);
	const bool leftovers = NeedsSecondScan(shared);
	EndParallel(pcxt, snapshot);
	if (leftovers)
		AddLeftoverRows(s, index_info);
	return true;
}

} // namespace quarry::am::hnsw

// A parallel worker of a quarry_hnsw build (CreateParallelContext names it).
extern "C" PGDLLEXPORT void
quarry_hnsw_parallel_build_main(dsm_segment *seg, shm_toc *toc)
{
	using namespace quarry::am::hnsw;
	(void)seg;
	debug_query_string = static_cast<char *>(shm_toc_lookup(toc, kKeyQueryText, true));
	pgstat_report_activity(STATE_RUNNING, debug_query_string);
	auto *shared = static_cast<ParallelShared *>(shm_toc_lookup(toc, kKeyShared, false));
	// The lock modes index.c took in the leader (as btree's workers do).
	const LOCKMODE heap_lock = shared->concurrent ? ShareUpdateExclusiveLock : ShareLock;
	const LOCKMODE index_lock = shared->concurrent ? RowExclusiveLock : AccessExclusiveLock;
	Relation heap = table_open(shared->heap_oid, heap_lock);
	Relation index = index_open(shared->index_oid, index_lock);
	auto *region = static_cast<std::byte *>(shm_toc_lookup(toc, kKeyGraph, false));
	IndexInfo *index_info = BuildIndexInfo(index);
	index_info->ii_Concurrent = shared->concurrent;
	auto *null_rows = static_cast<ItemPointerData *>(shm_toc_lookup(toc, kKeyNullRows, false));
	// Not on the stack: an ERROR unwinds this frame before the exit callback
	// reads it. It stays registered (cancel_before_shmem_exit would fail if
	// anything registered a callback after it) and finds nothing to do once
	// the arena is gone.
	auto *p = static_cast<Participant *>(MemoryContextAllocZero(TopMemoryContext, sizeof(Participant)));
	StartParticipant(p, shared, null_rows, region, index, false, CurrentMemoryContext);
	before_shmem_exit(DestroyWorkerArena, PointerGetDatum(p));
	pg_atomic_fetch_add_u32(&shared->worker_arenas_created, 1);
	ScanAndInsert(p, heap, index_info);
	// Destroyed and reported as on an exit; the context's objects give their
	// memory back to it afterwards, which a destroyed arena ignores.
	DestroyWorkerArena(0, PointerGetDatum(p));
	MemoryContextDelete(p->context);
	p->arena = nullptr;
	index_close(index, index_lock);
	table_close(heap, heap_lock);
}
