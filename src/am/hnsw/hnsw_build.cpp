// quarry_hnsw ambuild: CREATE INDEX.
//
// The graph is built in memory, in the build's jemalloc arena (src/memory),
// with src/hnsw's GraphBuilder: contiguous fixed-size records, SIMD distance
// kernels, no function-manager call per distance. Then the nodes are renumbered
// in breadth-first order (neighbours get nearby ids, so they share pages) and
// written to pages in one pass, block after block, without WAL; every page is
// WAL-logged once at the end (LogNewIndexPages).
//
// Memory: the graph may use maintenance_work_mem. When the next node would
// not fit, a NOTICE says so, the graph built so far is written to pages, the
// arena is dropped, and the remaining rows go through the on-disk insert path
// (much slower, but it works with any amount of memory).
//
// The arena belongs to a memory context of the build: deleting it at the end,
// or the abort of an ERROR or a cancel, hands the memory back to the OS.
#include "am/hnsw/hnsw.h"

extern "C" {
#include "access/tableam.h"
#include "access/xloginsert.h"
#include "commands/progress.h"
#include "miscadmin.h"
#include "pgstat.h"
#include "storage/bufmgr.h"
#include "storage/smgr.h"
}

#include "am/hnsw/hnsw_build.h"
#include "am/hnsw/hnsw_insert.h"
#include "am/hnsw/hnsw_pages.h"
#include "hnsw/builder.h"
#include "hnsw/graph.h"
#include "hnsw/shared_graph.h"
#include "pg/compat.h"
#include "pg/guard.h"
#include "pg/index_pages.h"
#include "pg/memory_glue.h"
#include "pg/owned.h"

#include <algorithm>
#include <cstring>
#include <type_traits>

namespace quarry::am::hnsw {

namespace {

void
ReportProgress(int param, int64_t value)
{
	pgstat_progress_update_param(param, value);
}

// Creates the graph once the dimensions are known.
void
StartGraph(BuildState *s)
{
	quarry::hnsw::GraphParams params{s->dims, s->m, s->ef_construction, s->metric};
	s->graph = pg::MakeOwned<quarry::hnsw::BuildGraph>(s->graph_context, *s->arena, params);
	s->builder = pg::MakeOwned<quarry::hnsw::GraphBuilder>(s->graph_context, *s->arena, *s->graph, kBuildSeed);
	s->vector = static_cast<float *>(MemoryContextAlloc(s->build_context, sizeof(float) * s->dims));
}

void FlushGraph(BuildState *s);

// The graph is full: write it out and switch to on-disk inserts.
void
SpillToDisk(BuildState *s)
{
	const double per_node = quarry::hnsw::BuildGraph::EstimateBytesPerNode(s->graph->params());
	const double rows = std::max(s->expected_rows, s->indexed);
	ereport(NOTICE,
			(errmsg("quarry_hnsw graph no longer fits into maintenance_work_mem after %.0f rows", s->indexed),
			 errdetail("The in-memory graph needs about %.0f MB for %.0f rows; maintenance_work_mem is %zu MB. "
					   "The remaining rows are inserted on disk, which is much slower.",
					   per_node * rows / (1024.0 * 1024.0) + 1, rows, s->budget >> 20),
			 errhint("Increase maintenance_work_mem to about %.0f MB to build in memory.",
					 per_node * rows * 1.25 / (1024.0 * 1024.0) + 1)));
	FlushGraph(s);
	s->peak_arena_bytes = s->arena->peak_bytes();
	// Builder, graph, then the arena (reverse order of creation): the graph's
	// memory goes back to the OS now.
	MemoryContextDelete(s->graph_context);
	s->graph_context = nullptr;
	s->builder = nullptr;
	s->graph = nullptr;
	s->arena = nullptr;
	s->on_disk = true;
	s->insert_arena = pg::CreateScanArena(s->build_context, 256 * 1024);
	ReportProgress(PROGRESS_CREATEIDX_SUBPHASE, kPhaseOnDisk);
}

// A row kept apart in the null-row list, for ordered scans
// (am/null_row_list.h): its vector is NULL, or held as NULL (HeldAsNullRow).
void
AppendNullRow(BuildState *s, ItemPointer tid)
{
	if (s->null_count == s->null_capacity)
	{
		s->null_capacity = std::max<uint64_t>(1024, s->null_capacity * 2);
		s->null_rows = static_cast<ItemPointerData *>(
			s->null_rows == nullptr
				? MemoryContextAllocHuge(s->build_context, sizeof(ItemPointerData) * s->null_capacity)
				: repalloc_huge(s->null_rows, sizeof(ItemPointerData) * s->null_capacity));
	}
	s->null_rows[s->null_count++] = *tid;
}

// Adds a row's vector to the graph (or on disk); returns true, adding
// nothing, for a vector the null-row list holds instead.
bool
AddRow(BuildState *s, Datum value, ItemPointer tid)
{
	VectorArg v = DatumGetVector(value, s->format);
	if (s->dims != 0 && static_cast<uint32_t>(v.dims) != s->dims)
		pg::ThrowError(ERRCODE_DATA_EXCEPTION, "vector has %d dimensions, but index \"%s\" has %u", v.dims, RelationGetRelationName(s->index), s->dims);
	if (HeldAsNullRow(v, s->metric))
	{
		s->holds_zero_vectors = true;
		return true;
	}
	if (s->dims == 0)
	{
		CheckIndexableDims(v.dims);
		s->dims = static_cast<uint32_t>(v.dims);
		StartGraph(s);
	}
	if (s->on_disk)
	{
		InsertVectorOnDisk(s->index, *s->insert_arena, v, tid, true);
		return false;
	}
	PrepareIndexVector(v, s->metric, s->vector);
	const int level = s->builder->NextLevel();
	const std::size_t grow = 24 * static_cast<std::size_t>(s->graph->size()); // per-node arrays doubling
	if (s->arena->bytes_allocated() + s->graph->NextNodeBytes(level) + grow > s->budget)
	{
		SpillToDisk(s);
		InsertVectorOnDisk(s->index, *s->insert_arena, v, tid, true);
		return false;
	}
	s->builder->InsertAtLevel(std::span<const float>(s->vector, s->dims), pg::PackTid(tid), level);
	return false;
}

// table_index_build_scan's callback: one heap tuple.
void
BuildCallback(Relation index, ItemPointer tid, Datum *values, bool *isnull, bool alive, void *state)
{
	auto *s = static_cast<BuildState *>(state);
	if (isnull[0])
	{
		AppendNullRow(s, tid);
		return;
	}
	if (s->graph_tids != nullptr && std::binary_search(s->graph_tids, s->graph_tids + s->graph_tid_count, pg::PackTid(tid)))
		return; // a parallel build's graph has it
	MemoryContext old = MemoryContextSwitchTo(s->tuple_context);
	const bool held_as_null = pg::Boundary("quarry_hnsw build", [&] { return AddRow(s, values[0], tid); });
	if (held_as_null)
	{
		MemoryContextSwitchTo(old);
		MemoryContextReset(s->tuple_context);
		AppendNullRow(s, tid);
		return;
	}
	MemoryContextSwitchTo(old);
	MemoryContextReset(s->tuple_context);
	s->indexed++;
	if (static_cast<int64_t>(s->indexed) % 1000 == 0)
		ReportProgress(PROGRESS_CREATEIDX_TUPLES_DONE, static_cast<int64_t>(s->indexed));
	CHECK_FOR_INTERRUPTS();
}

/// Appends new pages to the index, one after the other, without WAL.
class PageSink {
public:
	explicit PageSink(Relation index) : index_(index) {}

	/// Writes `image` as block `expected` (the next one).
	void
	Write(Page image, BlockNumber expected)
	{
		pg::PgCall([&] {
			Buffer buffer = ReadBufferExtended(index_, MAIN_FORKNUM, P_NEW, RBM_NORMAL, nullptr);
			if (BufferGetBlockNumber(buffer) != expected)
				pg::ThrowError(ERRCODE_INTERNAL_ERROR, "quarry_hnsw build: expected to write block %u, got %u", expected, BufferGetBlockNumber(buffer));
			LockBuffer(buffer, BUFFER_LOCK_EXCLUSIVE);
			std::memcpy(BufferGetPage(buffer), image, BLCKSZ);
			MarkBufferDirty(buffer);
			UnlockReleaseBuffer(buffer);
		});
		if (++written_ % 1024 == 0)
			pg::CheckForInterrupts();
	}

private:
	Relation index_;
	uint64_t written_ = 0;
};

/// Where the build puts each page kind.
struct Layout {
	uint32_t nodes;
	uint32_t record_size;
	uint32_t node_pages;
	uint32_t tid_pages;
	BlockNumber node_first;
	BlockNumber tid_first;
	BlockNumber upper_first;
};

template <typename T>
using ArenaVec = std::vector<T, mem::BuildAllocator<T>>;

/// The upper-layer items of all nodes with a level above 0, packed on page
/// images in new-id order; remembers where each went.
struct UpperPages {
	ArenaVec<Page> images;
	ArenaVec<uint32_t> page_of;	   // by new id
	ArenaVec<uint16_t> offset_of;	   // by new id; 0 for level-0 nodes
	explicit UpperPages(mem::BuildArena &arena)
		: images(mem::BuildAllocator<Page>(arena)),
		  page_of(mem::BuildAllocator<uint32_t>(arena)),
		  offset_of(mem::BuildAllocator<uint16_t>(arena))
	{
	}
};

template <typename Graph>
void
PackUpperItems(const Graph &graph, std::span<const uint32_t> old_of_new, std::span<const uint32_t> new_of_old,
			   mem::BuildArena &arena, UpperPages &out)
{
	const int m = graph.params().m;
	const uint32_t n = graph.size();
	out.page_of.assign(n, 0);
	out.offset_of.assign(n, 0);
	ArenaVec<uint32_t> item{mem::BuildAllocator<uint32_t>(arena)};
	for (uint32_t k = 0; k < n; k++)
	{
		const uint32_t old = old_of_new[k];
		const int level = graph.level(old);
		if (level == 0)
			continue;
		item.assign(static_cast<std::size_t>(level) * (1 + m), 0);
		for (int l = 1; l <= level; l++)
		{
			const uint32_t *from = graph.links(old, l);
			uint32_t *to = item.data() + static_cast<std::size_t>(l - 1) * (1 + m);
			to[0] = from[0];
			for (uint32_t i = 0; i < from[0]; i++)
				to[1 + i] = new_of_old[from[1 + i]];
		}
		const std::size_t size = UpperItemSize(level, m);
		if (out.images.empty() || PageGetFreeSpace(out.images.back()) < MAXALIGN(size))
		{
			auto page = static_cast<Page>(arena.Allocate(BLCKSZ, 64));
			InitPage(page, PageType::kUpper);
			out.images.push_back(page);
		}
		OffsetNumber offset =
			PageAddItem(out.images.back(), reinterpret_cast<char *>(item.data()), size, InvalidOffsetNumber, false,
						false);
		if (offset == InvalidOffsetNumber)
			pg::ThrowError(ERRCODE_INTERNAL_ERROR, "quarry_hnsw build: an upper-layer item does not fit");
		out.page_of[k] = static_cast<uint32_t>(out.images.size() - 1);
		out.offset_of[k] = offset;
	}
}

void
WriteMetaPage(BuildState *s, const Layout &layout, uint32_t entry, int entry_level, const UpperPages *upper,
			  PageSink &sink)
{
	auto *image = static_cast<Page>(palloc0(BLCKSZ));
	InitMetaPage(image, s->dims, s->m, s->ef_construction, s->metric, OptionStorage(s->index));
	MetaPage *meta = MetaOf(image);
	meta->entry_node = entry;
	meta->entry_level = entry_level;
	meta->node_count = layout.nodes;
	if (layout.node_pages > 0)
	{
		meta->nodes.nextents = 1;
		meta->nodes.npages = layout.node_pages;
		meta->nodes.extents[0] = Extent{0, layout.node_first, layout.node_pages};
		meta->tids.nextents = 1;
		meta->tids.npages = layout.tid_pages;
		meta->tids.extents[0] = Extent{0, layout.tid_first, layout.tid_pages};
	}
	if (upper != nullptr && !upper->images.empty())
		meta->upper_insert_block = layout.upper_first + static_cast<uint32_t>(upper->images.size()) - 1;
	sink.Write(image, kMetaBlock);
	pfree(image);
}

// Node records in new-id order, as one byte stream over the node pages.
template <typename Graph>
void
WriteNodePages(BuildState *s, const Graph &graph, const Layout &layout, std::span<const uint32_t> old_of_new,
			   std::span<const uint32_t> new_of_old, const UpperPages &upper, PageSink &sink)
{
	auto *image = static_cast<Page>(s->arena->Allocate(BLCKSZ, 64));
	auto *record = static_cast<char *>(s->arena->Allocate(layout.record_size, 64));
	uint32_t current = 0;
	const quarry::hnsw::Storage storage = OptionStorage(s->index);
	InitStreamPage(image, PageType::kNode);
	for (uint32_t k = 0; k < layout.nodes; k++)
	{
		const uint32_t old = old_of_new[k];
		std::memset(record, 0, VectorOffset(s->m));
		NodeHeader header{};
		const bool duplicate = graph.is_duplicate(old);
		header.level = duplicate ? kDuplicateLevel : static_cast<uint8_t>(graph.level(old));
		header.state = static_cast<uint8_t>(NodeState::kLive);
		const uint32_t *links = graph.links(old, 0);
		header.count0 = static_cast<uint16_t>(links[0]);
		const uint32_t next = graph.next_duplicate(old);
		header.next_duplicate = next == quarry::hnsw::kInvalidNode ? quarry::hnsw::kInvalidNode : new_of_old[next];
		if (duplicate)
			header.upper_block = new_of_old[graph.duplicate_of(old)];
		pg::StorePackedTid(header.heap_tid, graph.label(old));
		if (!duplicate && header.level > 0)
		{
			header.upper_block = layout.upper_first + upper.page_of[k];
			header.upper_offset = upper.offset_of[k];
		}
		std::memcpy(record, &header, sizeof(header));
		auto *out_links = reinterpret_cast<uint32_t *>(record + LinksOffset());
		for (uint32_t i = 0; i < links[0]; i++)
			out_links[i] = new_of_old[links[1 + i]];
		StoreVector(storage, s->metric, s->dims, graph.vector(old), record + VectorOffset(s->m));

		uint64_t byte = static_cast<uint64_t>(k) * layout.record_size;
		uint32_t done = 0;
		while (done < layout.record_size)
		{
			const StreamPosition at = StreamPositionOf(byte + done);
			if (at.page != current)
			{
				sink.Write(image, layout.node_first + current);
				current = at.page;
				InitStreamPage(image, PageType::kNode);
			}
			const uint32_t piece = std::min<uint32_t>(layout.record_size - done, kStreamPayloadBytes - at.offset);
			std::memcpy(StreamPayload(image) + at.offset, record + done, piece);
			done += piece;
		}
	}
	sink.Write(image, layout.node_first + current);
}

template <typename Graph>
void
WriteTidPages(BuildState *s, const Graph &graph, const Layout &layout, std::span<const uint32_t> old_of_new,
			  PageSink &sink)
{
	auto *image = static_cast<Page>(s->arena->Allocate(BLCKSZ, 64));
	for (uint32_t page = 0; page < layout.tid_pages; page++)
	{
		InitStreamPage(image, PageType::kTid);
		auto *entries = reinterpret_cast<TidEntry *>(StreamPayload(image));
		const uint32_t end = std::min(layout.nodes, (page + 1) * kTidEntriesPerPage);
		for (uint32_t k = page * kTidEntriesPerPage; k < end; k++)
		{
			const uint32_t old = old_of_new[k];
			TidEntry &e = entries[k % kTidEntriesPerPage];
			pg::StorePackedTid(e.heap_tid, graph.label(old));
			e.level = graph.is_duplicate(old) ? kDuplicateLevel : static_cast<uint8_t>(graph.level(old));
			e.state = static_cast<uint8_t>(NodeState::kLive);
		}
		sink.Write(image, layout.tid_first + page);
	}
}

// Writes the in-memory graph (or, without one, an empty index) to pages.
void
FlushGraph(BuildState *s)
{
	if (s->graph != nullptr && s->graph->size() > 0)
		WriteGraph(s, *s->graph);
	else
		WriteEmptyGraph(s);
}

// The rows whose vector is NULL (or held as NULL), after everything else (no
// WAL: the build logs every page at the end); the metapage says whether zero
// vectors are among them.
void
WriteNullRows(BuildState *s)
{
	if (s->null_count == 0)
		return;
	Buffer buffer = ReadBuffer(s->index, kMetaBlock);
	LockBuffer(buffer, BUFFER_LOCK_EXCLUSIVE);
	MetaPage *meta = MetaOf(BufferGetPage(buffer));
	am::WriteNullRowsForBuild(NullRowFormat(), s->index, s->null_rows, s->null_count, &meta->null_rows);
	if (s->holds_zero_vectors)
		meta->zero_vectors = static_cast<uint8_t>(ZeroVectors::kHeld);
	MarkBufferDirty(buffer);
	UnlockReleaseBuffer(buffer);
}

} // namespace

void
AddNullRow(BuildState *s, ItemPointer tid)
{
	AppendNullRow(s, tid);
}

void
WriteEmptyGraph(BuildState *s)
{
	ReportProgress(PROGRESS_CREATEIDX_SUBPHASE, kPhaseWrite);
	PageSink sink(s->index);
	WriteMetaPage(s, Layout{}, quarry::hnsw::kInvalidNode, -1, nullptr, sink);
}

template <typename Graph>
void
WriteGraph(BuildState *s, const Graph &graph)
{
	ReportProgress(PROGRESS_CREATEIDX_SUBPHASE, kPhaseWrite);
	PageSink sink(s->index);
	const uint32_t n = graph.size();
	Layout layout;
	layout.nodes = n;
	layout.record_size = RecordSize(s->dims, s->m, OptionStorage(s->index));
	layout.node_pages = StreamPagesFor(n, layout.record_size);
	layout.tid_pages = (n + kTidEntriesPerPage - 1) / kTidEntriesPerPage;
	layout.node_first = kMetaBlock + 1;
	layout.tid_first = layout.node_first + layout.node_pages;
	layout.upper_first = layout.tid_first + layout.tid_pages;

	mem::BuildArena &arena = *s->arena;
	ArenaVec<uint32_t> old_of_new(n, 0, mem::BuildAllocator<uint32_t>(arena));
	ArenaVec<uint32_t> new_of_old(n, 0, mem::BuildAllocator<uint32_t>(arena));
	{
		ArenaVec<uint8_t> seen(n, 0, mem::BuildAllocator<uint8_t>(arena));
		quarry::hnsw::BreadthFirstOrder(graph, old_of_new, seen);
	}
	for (uint32_t k = 0; k < n; k++)
		new_of_old[old_of_new[k]] = k;
	UpperPages upper(arena);
	PackUpperItems(graph, old_of_new, new_of_old, arena, upper);

	const uint32_t entry = new_of_old[graph.entry_point()];
	WriteMetaPage(s, layout, entry, graph.max_level(), &upper, sink);
	WriteNodePages(s, graph, layout, old_of_new, new_of_old, upper, sink);
	WriteTidPages(s, graph, layout, old_of_new, sink);
	for (std::size_t j = 0; j < upper.images.size(); j++)
		sink.Write(upper.images[j], layout.upper_first + static_cast<BlockNumber>(j));
}

template void WriteGraph<quarry::hnsw::SharedGraph>(BuildState *s, const quarry::hnsw::SharedGraph &graph);

void
AddLeftoverRows(BuildState *s, IndexInfo *index_info)
{
	s->on_disk = true;
	s->insert_arena = pg::CreateScanArena(s->build_context, 256 * 1024);
	ReportProgress(PROGRESS_CREATEIDX_SUBPHASE, kPhaseOnDisk);
	table_index_build_scan(s->heap, s->index, index_info, true, true, BuildCallback, s, nullptr);
}

IndexBuildResult *
Build(Relation heap, Relation index, IndexInfo *index_info)
{
	if (RelationGetNumberOfBlocks(index) != 0)
		pg::ThrowError(ERRCODE_INTERNAL_ERROR, "index \"%s\" already contains data", RelationGetRelationName(index));
	auto *s = static_cast<BuildState *>(palloc0(sizeof(BuildState)));
	s->heap = heap;
	s->index = index;
	s->metric = OpclassMetric(index);
	s->format = OpclassFormat(index);
	s->m = OptionM(index);
	s->ef_construction = OptionEfConstruction(index);
	s->dims = static_cast<uint32_t>(OptionDims(index));
	s->budget = static_cast<std::size_t>(maintenance_work_mem) * 1024;
	s->expected_rows = heap->rd_rel->reltuples;
	s->build_context = AllocSetContextCreate(CurrentMemoryContext, "quarry_hnsw build", ALLOCSET_DEFAULT_SIZES);
	s->tuple_context = AllocSetContextCreate(s->build_context, "quarry_hnsw build tuple", ALLOCSET_DEFAULT_SIZES);
	s->graph_context = AllocSetContextCreate(s->build_context, "quarry_hnsw graph", ALLOCSET_SMALL_SIZES);
	s->arena = pg::CreateBuildArena(s->graph_context);
	if (s->expected_rows > 0)
		ReportProgress(PROGRESS_CREATEIDX_TUPLES_TOTAL, static_cast<int64_t>(s->expected_rows));
	ReportProgress(PROGRESS_CREATEIDX_SUBPHASE, kPhaseLoad);

	double heap_tuples = 0;
	const int workers = pg::ParallelBuildWorkers(heap, index, index_info);
	if (workers > 0 && s->dims == 0)
		s->dims = ProbeDims(s, index_info);
	if (workers > 0 && s->dims > 0 && BuildParallel(s, index_info, workers, &heap_tuples))
		elog(DEBUG1, "quarry_hnsw build of \"%s\": %.0f rows in the graph, %d workers and the leader, "
			 "shared graph %zu kB", RelationGetRelationName(index), s->indexed, s->workers_launched,
			 s->peak_arena_bytes >> 10);
	else
	{
		if (s->dims > 0)
			StartGraph(s);
		heap_tuples = table_index_build_scan(heap, index, index_info, true, true, BuildCallback, s, nullptr);
		if (!s->on_disk)
		{
			FlushGraph(s);
			s->peak_arena_bytes = s->arena->peak_bytes();
		}
		elog(DEBUG1, "quarry_hnsw build of \"%s\": %.0f rows, %s, graph arena peak %zu kB",
			 RelationGetRelationName(index), s->indexed,
			 s->on_disk ? "spilled to on-disk inserts" : "built in memory", s->peak_arena_bytes >> 10);
	}
	ReportProgress(PROGRESS_CREATEIDX_TUPLES_DONE, static_cast<int64_t>(s->indexed));
	WriteNullRows(s);
	ReportProgress(PROGRESS_CREATEIDX_SUBPHASE, kPhaseWalLog);
	pg::LogNewIndexPages(index);
	MemoryContextDelete(s->build_context); // the build arena goes with it

	auto *result = static_cast<IndexBuildResult *>(palloc(sizeof(IndexBuildResult)));
	result->heap_tuples = heap_tuples;
	result->index_tuples = s->indexed + static_cast<double>(s->null_count);
	return result;
}

void
BuildEmpty(Relation index)
{
	Buffer buffer = pg::NewInitForkBuffer(index);
	InitMetaPage(BufferGetPage(buffer), static_cast<uint32_t>(OptionDims(index)), OptionM(index),
				 OptionEfConstruction(index), OpclassMetric(index), OptionStorage(index));
	pg::FinishNewPage(buffer, true);
	UnlockReleaseBuffer(buffer);
}

} // namespace quarry::am::hnsw
