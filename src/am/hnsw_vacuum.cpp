// quarry_hnsw VACUUM: ambulkdelete and amvacuumcleanup.
//
// The cost is in proportion to what was deleted, not to the index:
//   1. Find dead rows by reading only the TID stream (8 bytes a node, no
//      vectors) and mark their nodes kDeleted: from then on no scan returns
//      them (a dead heap TID is never returned again, since the heap may reuse
//      it) and no insert links to them; they are still walked through.
//   2. Wait for inserts in flight (take the update lock exclusively once).
//   3. If the entry point died, promote a live node of the highest level.
//   4. Repair locally: for each dead node d and level l, each live neighbour x
//      of d that links back to d gets a new list on l: its live links plus
//      the live neighbours of its dead neighbours, shrunk with the heuristic
//      (Malkov & Yashunin 2018, Algorithm 4) - FreshDiskANN's delete
//      consolidation, restricted to the nodes the dead ones point to.
//   5. Mark the slots kFree: later inserts reuse them, so an index under churn
//      stays the same size.
// Duplicates (rows whose vector equals a graph node's, kDuplicateLevel) are
// not in the graph: a dead one is taken out of its primary's chain and freed;
// a dead primary with a live duplicate takes over that duplicate's row (same
// vector) and stays in the graph, with nothing to repair.
// A node that links to a dead node without being linked back keeps that link
// until the slot is reused; it then points to an unrelated live node, which
// costs search quality, never correctness (REINDEX restores the graph).
#include "am/hnsw.h"

extern "C" {
#include "commands/vacuum.h"
#include "storage/freespace.h"
#include "storage/lmgr.h"
}

#include "am/hnsw_disk_graph.h"
#include "am/hnsw_graph_write.h"
#include "hnsw/arena_vector.h"
#include "hnsw/neighbors.h"
#include "pg/guard.h"
#include "pg/memory_glue.h"

#include <algorithm>
#include <cstring>

namespace quarry::am {

namespace {

using hnsw::ArenaVector;
using hnsw::Candidate;

struct VacuumState {
	Relation index;
	mem::ScanArena *arena;	 // for the whole VACUUM
	mem::ScanArena *scratch; // per repaired node, reset each time
	DiskGraph *graph;
	GraphWriter *writer;
	HnswMetaPageData *meta;
	hnsw::VisitedMap *dead; // dead graph nodes
	ArenaVector<uint32> *dead_ids; // dead graph nodes
	ArenaVector<uint32> *dead_duplicates;
	ArenaVector<uint32> *dead_reserved; // slots of inserts that failed before writing the node
	double live;
	int max_dead_level;
};

bool
IsLive(uint8 state)
{
	return state == static_cast<uint8>(NodeState::kLive);
}

// The entries of TID page `page` below the node count that VACUUM must look
// at (dead rows, and nodes left kDeleted by an interrupted VACUUM) into
// found/states/levels; counts the live ones it keeps. C-shaped.
uint32
CollectDeadEntries(VacuumState &v, uint32 page, IndexBulkDeleteCallback callback, void *callback_state,
				   uint32 *found, uint8 *states, uint8 *levels)
{
	const HnswMetaPageData &meta = *v.meta;
	ItemPointerData tid;
	uint32 nfound = 0;
	Buffer buffer = ReadTidPage(v.index, meta, page);
	const auto *entries = reinterpret_cast<const TidEntry *>(StreamPayload(BufferGetPage(buffer)));
	const uint32 end = std::min(meta.node_count - page * kTidEntriesPerPage, kTidEntriesPerPage);
	for (uint32 i = 0; i < end; i++)
	{
		const uint32 id = page * kTidEntriesPerPage + i;
		if (!TidEntryLooksSane(entries[i]))
			HnswCorrupt(v.index, "the TID entry of node %u has state %u and level %u", id, entries[i].state,
						entries[i].level);
		const uint8 state = entries[i].state;
		const bool deleted = state == static_cast<uint8>(NodeState::kDeleted);
		if (!deleted && state != static_cast<uint8>(NodeState::kLive) &&
			state != static_cast<uint8>(NodeState::kReserved))
			continue;
		GetHeapTid(entries[i].heap_tid, &tid);
		if (deleted || callback(&tid, callback_state))
		{
			states[nfound] = state;
			levels[nfound] = entries[i].level;
			found[nfound++] = id;
		}
		else if (state == static_cast<uint8>(NodeState::kLive))
			v.live++;
	}
	UnlockReleaseBuffer(buffer);
	return nfound;
}

// Step 1: reads the TID stream, marks dead nodes kDeleted.
void
FindDeadNodes(VacuumState &v, IndexBulkDeleteCallback callback, void *callback_state)
{
	for (uint32 page = 0; page * kTidEntriesPerPage < v.meta->node_count; page++)
	{
		vacuum_delay_point();
		uint32 found[kTidEntriesPerPage];
		uint8 states[kTidEntriesPerPage];
		uint8 levels[kTidEntriesPerPage];
		const uint32 nfound = CollectDeadEntries(v, page, callback, callback_state, found, states, levels);
		for (uint32 i = 0; i < nfound; i++)
		{
			// A reserved slot whose row is dead belongs to an insert that
			// failed before it wrote the node (the row's transaction aborted,
			// so the insert is over): nothing links to it, and its record may
			// lie on a page nobody wrote. It is only freed.
			if (states[i] == static_cast<uint8>(NodeState::kReserved))
				v.dead_reserved->push_back(found[i]);
			else if (levels[i] == kDuplicateLevel)
			{
				v.writer->SetNodeState(found[i], NodeState::kDeleted);
				v.dead_duplicates->push_back(found[i]);
			}
			else
				v.dead_ids->push_back(found[i]); // marked by KeepOrMarkPrimaries
		}
	}
}

// Step 1 for dead graph nodes: one with a live duplicate takes over its row;
// the others are marked kDeleted and collected in `dead`. Run again after the
// barrier: an insert in flight may have hung a duplicate on a dead node.
void
KeepOrMarkPrimaries(VacuumState &v)
{
	auto *still_dead = v.arena->Make<ArenaVector<uint32>>(*v.arena, v.dead_ids->size() + 1);
	v.dead = v.arena->Make<hnsw::VisitedMap>(*v.arena, v.dead_ids->size() + 1);
	v.max_dead_level = -1;
	for (uint32 id : *v.dead_ids)
	{
		vacuum_delay_point();
		NodeHeader header;
		v.writer->ReadHeader(id, &header);
		uint32 next = header.next_duplicate;
		bool taken_over = false;
		for (uint32 steps = 0; next != hnsw::kInvalidNode && steps <= v.meta->node_count && !taken_over; steps++)
		{
			if (!v.graph->ValidNode(next))
				break;
			NodeHeader dup;
			v.writer->ReadHeader(next, &dup);
			if (dup.level != kDuplicateLevel || dup.upper_block != id)
				break;
			if (IsLive(dup.state))
			{
				// The scan skips a chain member with its primary's TID, so the
				// row is never returned twice in between.
				v.writer->TakeOverRow(id, dup.heap_tid);
				v.writer->SetNodeState(next, NodeState::kDeleted);
				v.dead_duplicates->push_back(next);
				taken_over = true;
			}
			next = dup.next_duplicate;
		}
		if (taken_over)
			continue; // its new row was counted live already
		if (header.state != static_cast<uint8>(NodeState::kDeleted))
			v.writer->SetNodeState(id, NodeState::kDeleted);
		v.dead->TryVisit(id);
		still_dead->push_back(id);
		v.max_dead_level = std::max<int>(v.max_dead_level, header.level);
	}
	v.dead_ids = still_dead;
}

// Step 5 for duplicates: out of the chain (unless the primary is dead too and
// freed with it), then free.
void
FreeDuplicates(VacuumState &v)
{
	for (uint32 id : *v.dead_duplicates)
	{
		vacuum_delay_point();
		NodeHeader header;
		v.writer->ReadHeader(id, &header);
		const uint32 primary = header.upper_block;
		if (header.level == kDuplicateLevel && v.graph->ValidNode(primary) && !v.dead->Contains(primary))
		{
			uint32 previous = primary;
			for (uint32 steps = 0; steps <= v.meta->node_count; steps++)
			{
				NodeHeader at;
				v.writer->ReadHeader(previous, &at);
				if (at.next_duplicate == id)
				{
					if (v.writer->UnlinkDuplicate(previous, id))
						break;
					continue; // changed under us: look again
				}
				if (at.next_duplicate == hnsw::kInvalidNode || !v.graph->ValidNode(at.next_duplicate))
					break;
				previous = at.next_duplicate;
			}
		}
		v.writer->SetNodeState(id, NodeState::kFree);
	}
}

// Step 3: a live node of the highest level, from the TID stream.
uint32
FindNewEntryPoint(VacuumState &v, int *level)
{
	const HnswMetaPageData &meta = *v.meta;
	uint32 best = hnsw::kInvalidNode;
	*level = -1;
	for (uint32 page = 0; page * kTidEntriesPerPage < meta.node_count; page++)
	{
		Buffer buffer = ReadTidPage(v.index, meta, page);
		const auto *entries = reinterpret_cast<const TidEntry *>(StreamPayload(BufferGetPage(buffer)));
		const uint32 end = std::min(meta.node_count - page * kTidEntriesPerPage, kTidEntriesPerPage);
		for (uint32 i = 0; i < end; i++)
		{
			// Levels above kMaxLevel other than kDuplicateLevel were refused
			// by FindDeadNodes on this same stream.
			if (IsLive(entries[i].state) && entries[i].level <= hnsw::kMaxLevel && entries[i].level > *level)
			{
				*level = entries[i].level;
				best = page * kTidEntriesPerPage + i;
			}
		}
		UnlockReleaseBuffer(buffer);
	}
	return best;
}

/// A vector read for the repair of one node (in the scratch arena).
const float *
LoadVector(VacuumState &v, hnsw::VisitedMap &cache, uint32 id, bool *live)
{
	if (!cache.TryVisit(id))
	{
		auto packed = cache.Payload(id);
		*live = (packed & 1) != 0;
		return reinterpret_cast<const float *>(packed & ~uint64{1});
	}
	float *vector = v.scratch->MakeArray<float>(v.graph->dims());
	NodeHeader header;
	*live = v.graph->ReadNode(id, &header, vector) && IsLive(header.state);
	cache.SetPayload(id, reinterpret_cast<uint64>(vector) | (*live ? 1 : 0));
	return vector;
}

// The list of `base` on a level of `capacity` links chosen from `ids` by
// Algorithm 4 (dead and non-live candidates left out), filled up with the
// nearest of the others when `fill` (keepPrunedConnections).
LinkList
ShrunkList(VacuumState &v, hnsw::VisitedMap &cache, uint32 base, const uint32 *ids, uint32 n, uint32 capacity,
		   bool fill)
{
	bool live;
	const float *base_vector = LoadVector(v, cache, base, &live);
	Candidate pool[hnsw::kMaxNeighbors * 4];
	std::size_t count = 0;
	for (uint32 i = 0; i < n && count < lengthof(pool); i++)
	{
		if (ids[i] == base || v.dead->Contains(ids[i]) || !v.graph->ValidNode(ids[i]))
			continue;
		const float *vector = LoadVector(v, cache, ids[i], &live);
		if (live)
			pool[count++] = Candidate{v.graph->Distance(base_vector, vector), ids[i]};
	}
	std::sort(pool, pool + count, hnsw::Nearer);
	Candidate kept[hnsw::kMaxNeighbors * 4];
	auto pair = [&](uint32 a, uint32 b) {
		bool ignored;
		return v.graph->Distance(LoadVector(v, cache, a, &ignored), LoadVector(v, cache, b, &ignored));
	};
	std::size_t selected =
		hnsw::SelectNeighborsHeuristic(std::span<const Candidate>(pool, count), capacity, pair, kept);
	LinkList list;
	for (std::size_t i = 0; i < selected; i++)
		list.ids[i] = kept[i].id;
	for (std::size_t i = 0; fill && i < count && selected < capacity; i++)
	{
		if (std::find(list.ids, list.ids + selected, pool[i].id) == list.ids + selected)
			list.ids[selected++] = pool[i].id;
	}
	list.count = static_cast<uint32>(selected);
	return list;
}

constexpr uint32 kRepairPool = hnsw::kMaxNeighbors * 4;

// The candidates for a new list of a node whose list is `current`: its live
// links first, then the links of its dead neighbours, each id once (a list
// names a node once, and ShrunkList keeps the whole pool when it fits), at
// most kRepairPool.
uint32
RepairPool(VacuumState &v, const LinkList &current, int level, uint32 *pool, bool *any_dead)
{
	uint32 n = 0;
	for (uint32 i = 0; i < current.count; i++)
	{
		if (!v.dead->Contains(current.ids[i]) && std::find(pool, pool + n, current.ids[i]) == pool + n)
			pool[n++] = current.ids[i];
	}
	for (uint32 i = 0; i < current.count; i++)
	{
		if (!v.dead->Contains(current.ids[i]))
			continue;
		*any_dead = true;
		NodeHeader dead_header;
		LinkList dead_links;
		v.writer->ReadLinks(current.ids[i], level, &dead_header, &dead_links);
		for (uint32 j = 0; j < dead_links.count && n < kRepairPool; j++)
		{
			if (std::find(pool, pool + n, dead_links.ids[j]) == pool + n)
				pool[n++] = dead_links.ids[j];
		}
	}
	return n;
}

// Step 4 for one node `x` on `level`: if it links to dead nodes, its new list
// comes from its live links and the dead nodes' live links, filled up to
// capacity so that the dead nodes' neighbours keep their way in through x.
// Returns whether it wrote a new list.
bool
RepairNode(VacuumState &v, uint32 x, int level)
{
	const uint32 capacity = level == 0 ? 2u * v.meta->m : v.meta->m;
	for (int attempt = 0; attempt < 4; attempt++)
	{
		v.scratch->Reset();
		NodeHeader header;
		LinkList current;
		v.writer->ReadLinks(x, level, &header, &current);
		if (!IsLive(header.state))
			return false;
		uint32 pool[kRepairPool];
		bool any_dead = false;
		const uint32 n = RepairPool(v, current, level, pool, &any_dead);
		if (!any_dead)
			return false;
		auto *cache = v.scratch->Make<hnsw::VisitedMap>(*v.scratch, 4 * capacity);
		const LinkList replacement = ShrunkList(v, *cache, x, pool, n, capacity, true);
		if (v.writer->ReplaceLinks(x, level, current, replacement))
			return true;
	}
	return false;
}

// Step 4, second half: the live neighbours of dead node `dead` on `level` may
// have had their only way in through it. Each gets a link from the nearest of
// the others (kept only if that node's list, shrunk with the heuristic, keeps
// it).
void
BridgeNeighbors(VacuumState &v, uint32 dead, int level)
{
	NodeHeader header;
	LinkList links;
	v.writer->ReadLinks(dead, level, &header, &links);
	uint32 live_ids[hnsw::kMaxNeighbors];
	uint32 n = 0;
	for (uint32 i = 0; i < links.count; i++)
	{
		if (!v.dead->Contains(links.ids[i]) && v.graph->ValidNode(links.ids[i]))
			live_ids[n++] = links.ids[i];
	}
	const uint32 capacity = level == 0 ? 2u * v.meta->m : v.meta->m;
	for (uint32 i = 0; n >= 2 && i < n; i++)
	{
		v.scratch->Reset();
		auto *cache = v.scratch->Make<hnsw::VisitedMap>(*v.scratch, 4 * capacity);
		bool live;
		const float *y = LoadVector(v, *cache, live_ids[i], &live);
		Candidate nearest{0, hnsw::kInvalidNode};
		for (uint32 j = 0; live && j < n; j++)
		{
			bool other_live;
			const float *z = LoadVector(v, *cache, live_ids[j], &other_live);
			const Candidate c{v.graph->Distance(y, z), live_ids[j]};
			if (j != i && other_live && (nearest.id == hnsw::kInvalidNode || hnsw::Nearer(c, nearest)))
				nearest = c;
		}
		LinkList current;
		if (nearest.id == hnsw::kInvalidNode || v.writer->AppendLink(nearest.id, level, live_ids[i], &current))
			continue;
		// Full: shrink the list with the new candidate in it, as an insert does.
		uint32 pool[hnsw::kMaxNeighbors + 1];
		std::memcpy(pool, current.ids, sizeof(uint32) * current.count);
		pool[current.count] = live_ids[i];
		const LinkList replacement = ShrunkList(v, *cache, nearest.id, pool, current.count + 1, capacity, false);
		v.writer->ReplaceLinks(nearest.id, level, current, replacement);
	}
}

// Step 4: the live neighbours of every dead node, level by level.
void
RepairNeighbors(VacuumState &v)
{
	for (int level = v.max_dead_level; level >= 0; level--)
	{
		auto *done = v.arena->Make<hnsw::VisitedMap>(*v.arena, v.dead_ids->size() * 8);
		for (uint32 dead : *v.dead_ids)
		{
			vacuum_delay_point();
			NodeHeader header;
			LinkList links;
			v.writer->ReadLinks(dead, level, &header, &links);
			for (uint32 i = 0; i < links.count; i++)
			{
				const uint32 x = links.ids[i];
				if (v.dead->Contains(x) || !v.graph->ValidNode(x) || !done->TryVisit(x))
					continue;
				RepairNode(v, x, level);
			}
			BridgeNeighbors(v, dead, level);
		}
	}
}

// Step 5: the slots of the dead nodes become free for inserts.
void
FreeSlots(VacuumState &v)
{
	for (uint32 dead : *v.dead_ids)
	{
		vacuum_delay_point();
		NodeHeader header;
		LinkList ignored;
		v.writer->ReadLinks(dead, 0, &header, &ignored);
		v.writer->SetNodeState(dead, NodeState::kFree);
		if (header.level > 0 && header.upper_offset != InvalidOffsetNumber)
			v.writer->FreeUpperItem(header.upper_block, header.upper_offset);
	}
	for (uint32 reserved : *v.dead_reserved)
		v.writer->SetNodeState(reserved, NodeState::kFree);
	if (!v.dead_ids->empty() || !v.dead_duplicates->empty())
		FreeSpaceMapVacuum(v.index);
	Buffer buffer = ReadBuffer(v.index, kHnswMetaBlock);
	LockBuffer(buffer, BUFFER_LOCK_EXCLUSIVE);
	CheckMetaPage(v.index, BufferGetPage(buffer));
	PageEdit edit(v.index, false);
	HnswMetaPageData *meta = HnswMeta(edit.Register(buffer));
	meta->free_count +=
		static_cast<uint32>(v.dead_ids->size() + v.dead_duplicates->size() + v.dead_reserved->size());
	meta->free_search_start = 0;
	edit.Finish();
	UnlockReleaseBuffer(buffer);
}

} // namespace

IndexBulkDeleteResult *
HnswBulkDelete(IndexVacuumInfo *info, IndexBulkDeleteResult *stats, IndexBulkDeleteCallback callback,
			   void *callback_state)
{
	return pg::Boundary("quarry_hnsw bulkdelete", [&]() -> IndexBulkDeleteResult * {
		Relation index = info->index;
		if (stats == nullptr)
			stats = static_cast<IndexBulkDeleteResult *>(palloc0(sizeof(IndexBulkDeleteResult)));
		MemoryContext context = AllocSetContextCreate(CurrentMemoryContext, "quarry_hnsw vacuum",
													  ALLOCSET_DEFAULT_SIZES);
		VacuumState v{};
		v.index = index;
		v.arena = pg::CreateScanArena(context, 256 * 1024);
		v.scratch = pg::CreateScanArena(context, 256 * 1024);
		v.graph = v.arena->Make<DiskGraph>(index, *v.arena);
		v.graph->UseConstructionMetric();
		v.meta = v.arena->Make<HnswMetaPageData>(v.graph->meta());
		v.writer = v.arena->Make<GraphWriter>(index, false, v.meta);
		v.dead = v.arena->Make<hnsw::VisitedMap>(*v.arena, 1024);
		v.dead_ids = v.arena->Make<ArenaVector<uint32>>(*v.arena, 1024);
		v.dead_duplicates = v.arena->Make<ArenaVector<uint32>>(*v.arena, 64);
		v.dead_reserved = v.arena->Make<ArenaVector<uint32>>(*v.arena, 16);
		v.max_dead_level = -1;

		FindDeadNodes(v, callback, callback_state);
		const double removed =
			static_cast<double>(v.dead_ids->size() + v.dead_duplicates->size() + v.dead_reserved->size());
		KeepOrMarkPrimaries(v);
		if (!v.dead_ids->empty() || !v.dead_duplicates->empty() || !v.dead_reserved->empty())
		{
			// Step 2: inserts that started before the marks are done after this.
			LockPage(index, kHnswUpdateLock, ExclusiveLock);
			v.writer->RefreshMeta();
			v.graph->LoadMeta();
			KeepOrMarkPrimaries(v);
			if (v.meta->entry_node != hnsw::kInvalidNode && v.dead->Contains(v.meta->entry_node))
			{
				int level;
				uint32 entry = FindNewEntryPoint(v, &level);
				v.writer->SetEntryPoint(entry, level, true);
			}
			UnlockPage(index, kHnswUpdateLock, ExclusiveLock);
			RepairNeighbors(v);
			FreeDuplicates(v);
			FreeSlots(v);
		}
		stats->num_pages = RelationGetNumberOfBlocks(index);
		stats->num_index_tuples = v.live;
		stats->tuples_removed += removed;
		stats->estimated_count = false;
		MemoryContextDelete(context);
		return stats;
	});
}

IndexBulkDeleteResult *
HnswVacuumCleanup(IndexVacuumInfo *info, IndexBulkDeleteResult *stats)
{
	return pg::Boundary("quarry_hnsw vacuumcleanup", [&]() -> IndexBulkDeleteResult * {
		if (info->analyze_only || stats != nullptr)
			return stats;
		// No bulkdelete ran (nothing was dead): count the live nodes.
		stats = static_cast<IndexBulkDeleteResult *>(palloc0(sizeof(IndexBulkDeleteResult)));
		HnswMetaPageData meta;
		ReadMetaPage(info->index, &meta);
		double live = 0;
		for (uint32 page = 0; page * kTidEntriesPerPage < meta.node_count; page++)
		{
			Buffer buffer = ReadTidPage(info->index, meta, page);
			const auto *entries = reinterpret_cast<const TidEntry *>(StreamPayload(BufferGetPage(buffer)));
			const uint32 end = std::min(meta.node_count - page * kTidEntriesPerPage, kTidEntriesPerPage);
			for (uint32 i = 0; i < end; i++)
				live += IsLive(entries[i].state) ? 1 : 0;
			UnlockReleaseBuffer(buffer);
		}
		stats->num_pages = RelationGetNumberOfBlocks(info->index);
		stats->num_index_tuples = live;
		stats->estimated_count = false;
		return stats;
	});
}

} // namespace quarry::am
