// quarry_hnsw aminsert: online insertion into the on-disk graph (Malkov &
// Yashunin 2018, Algorithm 1), safe with many concurrent sessions.
//
//   1. Draw the node's level. Take the update lock (a heavyweight lock on a
//      fake block): shared, or exclusive when the node will be the new entry
//      point (its level is above the entry level), as pgvector does.
//   2. Claim a slot: a free one left by VACUUM, or a new one at the end.
//   3. Search each of the node's layers from the entry point (greedy above,
//      ef_construction on its own layers) and select neighbours with the
//      heuristic (Algorithm 4).
//   4. Write the node whole (its upper-layer lists first), and only then
//      link it from its neighbours: a full neighbour list is shrunk with the
//      heuristic and replaced only if nobody changed it meanwhile (else it is
//      recomputed).
//   5. Move the entry point if needed; release the update lock.
//
// Holding the update lock shared for the whole insert keeps VACUUM from
// freeing slots under it (VACUUM takes it exclusively before it frees any).
#include "am/hnsw/hnsw_insert.h"

extern "C" {
#include "nodes/execnodes.h"
#include "storage/lmgr.h"
}

#include "am/hnsw/hnsw_disk_graph.h"
#include "am/hnsw/hnsw_graph_write.h"
#include "hnsw/arena_vector.h"
#include "hnsw/level.h"
#include "hnsw/neighbors.h"
#include "hnsw/search.h"
#include "pg/guard.h"
#include "pg/memory_glue.h"

#include <algorithm>
#include <cstring>
#include <type_traits>

namespace quarry::am::hnsw {

namespace {

using quarry::hnsw::ArenaVector;
using quarry::hnsw::Candidate;

/// A node's vector, state and level, read once per insert.
struct CachedNode {
	uint8_t state;
	uint8_t level;
	float *vector;
};

/// Everything one insert works with; all in the arena.
struct Insertion {
	Relation index;
	mem::ScanArena *arena;
	DiskGraph *graph;
	GraphWriter *writer;
	MetaPage *meta; // the writer's copy
	const float *query;
	const char *stored; // the query as the record stores it (floats or codes)
	uint32_t id;
	int level;
	quarry::hnsw::VisitedMap *cache; // node id -> CachedNode *
	ArenaVector<Candidate> *results;
	ArenaVector<Candidate> *candidates;
	// Selected neighbours per level 0..level.
	LinkList *selected;
	uint32_t nearest0; // the nearest node found on layer 0
	bool duplicate; // the vector equals nearest0's: join its chain
	float *selected_distance; // [(level + 1) * kMaxNeighbors]
};
// Alive across LockPage and buffer reads made without PgCall.
static_assert(std::is_trivially_destructible_v<Insertion>);

const CachedNode *
Cached(Insertion &in, uint32_t node)
{
	if (!in.cache->TryVisit(node))
		return reinterpret_cast<const CachedNode *>(in.cache->Payload(node));
	auto *cached = in.arena->Make<CachedNode>();
	cached->vector = in.arena->MakeArray<float>(in.graph->dims());
	NodeHeader header;
	if (node == in.id)
	{
		std::memcpy(cached->vector, in.query, sizeof(float) * in.graph->dims());
		cached->state = static_cast<uint8_t>(NodeState::kLive);
		cached->level = static_cast<uint8_t>(in.level);
	}
	else if (in.graph->ReadNode(node, &header, cached->vector))
	{
		cached->state = header.state;
		cached->level = header.level;
	}
	else
	{
		cached->state = static_cast<uint8_t>(NodeState::kFree);
		cached->level = 0;
	}
	in.cache->SetPayload(node, reinterpret_cast<uint64_t>(cached));
	return cached;
}

float
PairDistance(Insertion &in, uint32_t a, uint32_t b)
{
	return in.graph->Distance(Cached(in, a)->vector, Cached(in, b)->vector);
}

// Whether `node` stores exactly what the new row would: equal floats, or in
// a compressed index equal codes *and* code header (so the duplicate's own
// quantization error is its primary's, and a scan's lower bound for the
// primary holds for it too).
bool
SameStoredVector(Insertion &in, uint32_t node)
{
	const uint32_t bytes = in.graph->stored_vector_bytes();
	if (in.graph->storage() == quarry::hnsw::Storage::kFull)
		return std::memcmp(Cached(in, node)->vector, in.query, bytes) == 0;
	char *stored = in.arena->MakeArray<char>(bytes);
	return in.graph->ReadStoredVector(node, stored) && std::memcmp(stored, in.stored, bytes) == 0;
}

// Algorithm 2 on `level` from descent.end (and from the nodes of its path if
// it runs out of nodes early); the results end up ascending in in.results.
void
SearchLevel(Insertion &in, const quarry::hnsw::Descent &descent, int level)
{
	mem::ScanArena &arena = *in.arena;
	const std::size_t ef = in.meta->ef_construction;
	auto *visited = arena.Make<quarry::hnsw::VisitedMap>(arena, ef * in.meta->m * 2);
	visited->TryVisit(in.id); // never link to ourselves through a stale link
	in.results->clear();
	in.candidates->clear();
	quarry::hnsw::SearchLayerFrom(*in.graph, in.query, descent, level, ef, *visited, *in.results, *in.candidates);
	std::sort(in.results->begin(), in.results->end(), quarry::hnsw::Nearer);
}

// Algorithm 1 lines 1-17 without the writes: the neighbours of the new node
// on each of its levels.
void
FindNeighbors(Insertion &in)
{
	const MetaPage &meta = *in.meta;
	for (int lc = 0; lc <= in.level; lc++)
		in.selected[lc].count = 0;
	Candidate entry;
	int top;
	if (meta.entry_node == quarry::hnsw::kInvalidNode || !FindEntryPoint(*in.graph, in.query, &entry, &top))
		return;
	quarry::hnsw::Descent descent = quarry::hnsw::GreedyDescent(*in.graph, in.query, entry, top, std::min(in.level, top));
	for (int lc = std::min(in.level, top); lc >= 0; lc--)
	{
		SearchLevel(in, descent, lc);
		if (in.results->empty())
			continue;
		if (lc == 0)
		{
			// Algorithm 1 would link a copy of an indexed vector next to it;
			// a chain keeps clusters of equal vectors out of the graph.
			in.nearest0 = in.results->front().id;
			in.duplicate = SameStoredVector(in, in.nearest0);
			if (in.duplicate)
				return;
		}
		Candidate chosen[quarry::hnsw::kMaxNeighbors];
		std::size_t n = quarry::hnsw::SelectNeighborsHeuristic(
			std::span<const Candidate>(in.results->begin(), in.results->size()), meta.m,
			[&in](uint32_t a, uint32_t b) { return PairDistance(in, a, b); }, chosen);
		in.selected[lc].count = static_cast<uint32_t>(n);
		for (std::size_t i = 0; i < n; i++)
		{
			in.selected[lc].ids[i] = chosen[i].id;
			in.selected_distance[lc * quarry::hnsw::kMaxNeighbors + i] = chosen[i].distance;
		}
		descent.end = in.results->front();
	}
}

// The new node's record and upper-layer item; writes both.
void
WriteNewNode(Insertion &in, ItemPointer tid)
{
	const MetaPage &meta = *in.meta;
	char *record = in.arena->MakeArray<char>(meta.record_size);
	std::memset(record, 0, meta.record_size);
	NodeHeader header{};
	header.level = static_cast<uint8_t>(in.level);
	header.state = static_cast<uint8_t>(NodeState::kLive);
	header.count0 = static_cast<uint16_t>(in.selected[0].count);
	header.next_duplicate = quarry::hnsw::kInvalidNode;
	pg::StoreTid(header.heap_tid, tid);
	if (in.duplicate)
	{
		header.level = kDuplicateLevel;
		header.count0 = 0;
		header.upper_block = in.nearest0;
		std::memcpy(record, &header, sizeof(header));
		std::memcpy(record + VectorOffset(meta.m), in.stored, in.graph->stored_vector_bytes());
		in.writer->WriteNode(in.id, record);
		in.writer->LinkDuplicate(in.nearest0, in.id);
		return;
	}
	if (in.level > 0)
	{
		const std::size_t size = UpperItemSize(in.level, meta.m);
		auto *item = in.arena->MakeArray<uint32_t>(size / sizeof(uint32_t));
		std::memset(item, 0, size);
		for (int lc = 1; lc <= in.level; lc++)
		{
			uint32_t *list = item + static_cast<std::size_t>(lc - 1) * (1 + meta.m);
			list[0] = in.selected[lc].count;
			std::memcpy(list + 1, in.selected[lc].ids, sizeof(uint32_t) * list[0]);
		}
		BlockNumber block;
		OffsetNumber offset;
		in.writer->AddUpperItem(reinterpret_cast<const char *>(item), size, &block, &offset);
		header.upper_block = block;
		header.upper_offset = offset;
	}
	std::memcpy(record, &header, sizeof(header));
	std::memcpy(record + LinksOffset(), in.selected[0].ids, sizeof(uint32_t) * in.selected[0].count);
	std::memcpy(record + VectorOffset(meta.m), in.stored, in.graph->stored_vector_bytes());
	in.writer->WriteNode(in.id, record);
}

// Algorithm 1 lines 12-16 for one neighbour: link `neighbor` to the new node,
// shrinking its list with the heuristic when it is full.
void
AddBackLink(Insertion &in, uint32_t neighbor, int level, float distance)
{
	const uint32_t capacity = level == 0 ? 2u * in.meta->m : in.meta->m;
	for (int attempt = 0; attempt < 4; attempt++)
	{
		LinkList current;
		if (in.writer->AppendLink(neighbor, level, in.id, &current))
			return;
		const float *base = Cached(in, neighbor)->vector;
		Candidate pool[quarry::hnsw::kMaxNeighbors + 1];
		std::size_t count = 0;
		for (uint32_t i = 0; i < current.count; i++)
		{
			const uint32_t other = current.ids[i];
			if (other == neighbor || other == in.id || !in.graph->ValidNode(other))
				continue;
			const CachedNode *cached = Cached(in, other);
			if ((cached->state != static_cast<uint8_t>(NodeState::kLive) &&
				 cached->state != static_cast<uint8_t>(NodeState::kDeleted)) ||
				cached->level < level || cached->level > quarry::hnsw::kMaxLevel)
				continue; // a stale link into a free slot or one reused by a lower node: drop it
			pool[count++] = Candidate{in.graph->Distance(base, cached->vector), other};
		}
		pool[count++] = Candidate{distance, in.id};
		std::sort(pool, pool + count, quarry::hnsw::Nearer);
		Candidate kept[quarry::hnsw::kMaxNeighbors + 1];
		std::size_t n = quarry::hnsw::SelectNeighborsHeuristic(
			std::span<const Candidate>(pool, count), capacity,
			[&in](uint32_t a, uint32_t b) { return PairDistance(in, a, b); }, kept);
		LinkList replacement;
		replacement.count = static_cast<uint32_t>(n);
		for (std::size_t i = 0; i < n; i++)
			replacement.ids[i] = kept[i].id;
		if (in.writer->ReplaceLinks(neighbor, level, current, replacement))
			return;
		// Changed under us: read it again.
	}
}

// The uniform draw for a new node's level, from its heap TID (SplitMix64):
// the same rows give the same graph, whatever the backend, and no random
// state is shared between sessions.
double
LevelDraw(ItemPointer tid)
{
	uint16_t packed[3];
	pg::StoreTid(packed, tid);
	uint64_t x = pg::PackTid(packed) ^ 0x9E3779B97F4A7C15ull;
	x = (x ^ (x >> 30)) * 0xBF58476D1CE4E5B9ull;
	x = (x ^ (x >> 27)) * 0x94D049BB133111EBull;
	x ^= x >> 31;
	return static_cast<double>((x >> 11) + 1) * 0x1.0p-53;
}

// Reads the metapage, fixes the dimensions of an index created empty, checks
// and prepares the vector.
void
StartInsertion(Insertion &in, const VectorArg &vector, bool building)
{
	mem::ScanArena &arena = *in.arena;
	in.graph = arena.Make<DiskGraph>(in.index, arena);
	in.meta = arena.Make<MetaPage>(in.graph->meta());
	in.writer = arena.Make<GraphWriter>(in.index, building, in.meta);
	uint32_t dims = in.meta->dims;
	if (dims == 0)
	{
		CheckIndexableDims(vector.dims);
		dims = in.writer->FixDims(static_cast<uint32_t>(vector.dims));
		in.graph->LoadMeta();
	}
	if (static_cast<uint32_t>(vector.dims) != dims)
		pg::ThrowError(ERRCODE_DATA_EXCEPTION, "vector has %d dimensions, but index \"%s\" has %u", vector.dims, RelationGetRelationName(in.index), dims);
	float *query = arena.MakeArray<float>(dims);
	PrepareIndexVector(vector, in.graph->metric(), query);
	in.query = query;
	char *stored = arena.MakeArray<char>(in.graph->stored_vector_bytes());
	StoreVector(in.graph->storage(), in.graph->metric(), dims, query, stored);
	in.stored = stored;
	in.graph->UseConstructionMetric();
}

// Takes the update lock: exclusive when the new node will be the entry point.
LOCKMODE
LockForUpdate(Insertion &in)
{
	LOCKMODE mode = in.level > in.meta->entry_level ? ExclusiveLock : ShareLock;
	LockPage(in.index, kUpdateLock, mode);
	in.graph->LoadMeta();
	if (mode == ShareLock && in.level > in.graph->meta().entry_level)
	{
		// The entry point moved down meanwhile (VACUUM): we are the new top.
		UnlockPage(in.index, kUpdateLock, mode);
		mode = ExclusiveLock;
		LockPage(in.index, kUpdateLock, mode);
		in.graph->LoadMeta();
	}
	return mode;
}

} // namespace

void
InsertVectorOnDisk(Relation index, mem::ScanArena &arena, const VectorArg &vector, ItemPointer tid, bool building)
{
	arena.Reset();
	Insertion in{};
	in.index = index;
	in.arena = &arena;
	StartInsertion(in, vector, building);
	in.level = quarry::hnsw::RandomLevel(LevelDraw(tid), quarry::hnsw::LevelMultiplier(in.meta->m));
	const LOCKMODE mode = building ? NoLock : LockForUpdate(in);
	if (building)
		in.graph->LoadMeta();
	*in.meta = in.graph->meta();
	in.id = in.writer->AllocateSlot(tid, in.level);
	in.graph->LoadMeta();

	const std::size_t ef = in.meta->ef_construction;
	in.cache = arena.Make<quarry::hnsw::VisitedMap>(arena, ef * 4);
	in.results = arena.Make<ArenaVector<Candidate>>(arena, ef + 1);
	in.candidates = arena.Make<ArenaVector<Candidate>>(arena, ef * 2);
	in.selected = arena.MakeArray<LinkList>(in.level + 1);
	in.selected_distance = arena.MakeArray<float>(static_cast<std::size_t>(in.level + 1) * quarry::hnsw::kMaxNeighbors);
	in.nearest0 = quarry::hnsw::kInvalidNode;
	in.duplicate = false;
	FindNeighbors(in);
	WriteNewNode(in, tid);
	if (!in.duplicate)
	{
		for (int lc = 0; lc <= in.level; lc++)
		{
			for (uint32_t i = 0; i < in.selected[lc].count; i++)
				AddBackLink(in, in.selected[lc].ids[i], lc, in.selected_distance[lc * quarry::hnsw::kMaxNeighbors + i]);
		}
		if (in.level > in.meta->entry_level || in.meta->entry_node == quarry::hnsw::kInvalidNode)
			in.writer->SetEntryPoint(in.id, in.level, false);
	}
	if (!building)
		UnlockPage(index, kUpdateLock, mode);
}

bool
Insert(Relation index, Datum *values, bool *isnull, ItemPointer heap_tid, Relation heap,
		   IndexUniqueCheck check_unique, bool index_unchanged, IndexInfo *index_info)
{
	if (isnull[0])
	{
		am::AppendNullRow(NullRowFormat(), index, heap_tid); // ordered scans return it last
		return false;
	}
	// Scratch for the whole statement, kept in the IndexInfo's context.
	auto *arena = static_cast<mem::ScanArena *>(index_info->ii_AmCache);
	if (arena == nullptr)
	{
		arena = pg::CreateScanArena(index_info->ii_Context, 256 * 1024);
		index_info->ii_AmCache = arena;
	}
	const quarry::hnsw::InputFormat format = OpclassFormat(index);
	VectorArg vector = DatumGetVector(values[0], format);
	if (HeldAsNullRow(vector, OpclassMetric(index)))
	{
		MetaPage meta;
		ReadMeta(index, &meta);
		if (meta.dims != 0 && static_cast<uint32_t>(vector.dims) != meta.dims)
			pg::ThrowError(ERRCODE_DATA_EXCEPTION, "vector has %d dimensions, but index \"%s\" has %u", vector.dims, RelationGetRelationName(index), meta.dims);
		if (meta.zero_vectors != static_cast<uint8_t>(ZeroVectors::kHeld))
			MarkZeroVectorsHeld(index);
		am::AppendNullRow(NullRowFormat(), index, heap_tid); // as a NULL vector: no direction to rank by
		return false;
	}
	InsertVectorOnDisk(index, *arena, vector, heap_tid, false);
	return false;
}

} // namespace quarry::am::hnsw
