// quarry_hnsw VACUUM: ambulkdelete and amvacuumcleanup.
//
//   1. Find dead rows by reading only the TID stream (8 bytes a node, no
//      vectors) and mark their nodes kDeleted: from then on no scan returns
//      them (a dead heap TID is never returned again, since the heap may reuse
//      it) and no insert links to them; they are still walked through.
//   2. Wait for inserts in flight (take the update lock exclusively once):
//      after that no insert can add a link to a dead node.
//   3. If the entry point died (or is no node of its level), promote a live
//      node of the highest level.
//   4. Repair the graph (pgvector's RepairGraph, FreshDiskANN's delete
//      consolidation): one pass over every live node's lists, on every layer.
//      A list without a link to a dead node or to a slot that is no node of
//      its layer is only read (no vector, no distance). One that has such
//      links gets a new list: its good links plus the live neighbours of its
//      dead ones, shrunk with the heuristic (Malkov & Yashunin 2018,
//      Algorithm 4) and filled up to capacity; links to other bad slots are
//      dropped. Then the live neighbours of each dead node that may have had
//      their only way in through it get a link from the nearest of the others.
//   5. Mark the slots kFree: later inserts reuse them, so an index under churn
//      stays the same size. By then no list of a live node links to them.
// Every change is one GenericXLog record; a crash in between leaves the dead
// nodes kDeleted (walked through, never returned) and the next VACUUM starts
// over with them, so the graph stays searchable.
// Duplicates (rows whose vector equals a graph node's, kDuplicateLevel) are
// not in the graph: a dead one is taken out of its primary's chain and freed;
// a dead primary with a live duplicate takes over that duplicate's row (same
// vector) and stays in the graph, with nothing to repair. A slot left
// kReserved by an insert that failed or was killed before it wrote the node
// is not in the graph either: it is freed once its row is dead.
#include "am/hnsw/hnsw.h"

extern "C" {
#include "commands/vacuum.h"
#include "storage/freespace.h"
#include "storage/lmgr.h"
}

#include "am/hnsw/hnsw_disk_graph.h"
#include "am/hnsw/hnsw_graph_write.h"
#include "hnsw/arena_vector.h"
#include "hnsw/neighbors.h"
#include "pg/compat.h"
#include "pg/guard.h"
#include "pg/memory_glue.h"

#include <algorithm>
#include <cstring>
#include <type_traits>

namespace quarry::am::hnsw {

namespace {

using quarry::hnsw::ArenaVector;
using quarry::hnsw::Candidate;

struct VacuumState {
	Relation index;
	mem::ScanArena *arena;	 // for the whole VACUUM
	mem::ScanArena *scratch; // per repaired node, reset each time
	DiskGraph *graph;
	GraphWriter *writer;
	MetaPage *meta;
	quarry::hnsw::VisitedMap *dead; // dead graph nodes
	ArenaVector<uint32_t> *dead_ids; // dead graph nodes
	ArenaVector<uint32_t> *dead_duplicates;
	ArenaVector<uint32_t> *dead_reserved; // slots of inserts that never wrote their node
	uint32_t slot_count; // node ids in the slot table (read after step 2)
	uint8_t *slot_state;
	uint8_t *slot_level;
	double live;
	int max_dead_level;
	uint64_t lists_read; // step 4, for the DEBUG1 line
	uint64_t lists_repaired;
};
static_assert(std::is_trivially_destructible_v<VacuumState>);

bool
IsLive(uint8_t state)
{
	return state == static_cast<uint8_t>(NodeState::kLive);
}

// The entries of TID page `page` below the node count that VACUUM must look
// at (dead rows, and nodes left kDeleted by an interrupted VACUUM) into
// found/states/levels; counts the live ones it keeps. C-shaped.
uint32_t
CollectDeadEntries(VacuumState &v, uint32_t page, IndexBulkDeleteCallback callback, void *callback_state,
				   uint32_t *found, uint8_t *states, uint8_t *levels)
{
	const MetaPage &meta = *v.meta;
	ItemPointerData tid;
	uint32_t nfound = 0;
	Buffer buffer = ReadTidPage(v.index, meta, page);
	const auto *entries = reinterpret_cast<const TidEntry *>(StreamPayload(BufferGetPage(buffer)));
	const uint32_t end = std::min(meta.node_count - page * kTidEntriesPerPage, kTidEntriesPerPage);
	for (uint32_t i = 0; i < end; i++)
	{
		const uint32_t id = page * kTidEntriesPerPage + i;
		if (!TidEntryLooksSane(entries[i]))
			pg::ThrowCorrupt(v.index, "the TID entry of node %u has state %u and level %u", id, entries[i].state,
						entries[i].level);
		const uint8_t state = entries[i].state;
		const bool deleted = state == static_cast<uint8_t>(NodeState::kDeleted);
		if (!deleted && state != static_cast<uint8_t>(NodeState::kLive) &&
			state != static_cast<uint8_t>(NodeState::kReserved))
			continue;
		pg::LoadTid(entries[i].heap_tid, &tid);
		// Deleted ones are left over from an interrupted VACUUM.
		if (deleted || callback(&tid, callback_state))
		{
			states[nfound] = state;
			levels[nfound] = entries[i].level;
			found[nfound++] = id;
		}
		else if (state == static_cast<uint8_t>(NodeState::kLive))
			v.live++;
	}
	UnlockReleaseBuffer(buffer);
	return nfound;
}

// Step 1: reads the TID stream, marks dead nodes kDeleted.
void
FindDeadNodes(VacuumState &v, IndexBulkDeleteCallback callback, void *callback_state)
{
	for (uint32_t page = 0; page * kTidEntriesPerPage < v.meta->node_count; page++)
	{
		pg::VacuumDelayPoint();
		uint32_t found[kTidEntriesPerPage];
		uint8_t states[kTidEntriesPerPage];
		uint8_t levels[kTidEntriesPerPage];
		const uint32_t nfound = CollectDeadEntries(v, page, callback, callback_state, found, states, levels);
		for (uint32_t i = 0; i < nfound; i++)
		{
			// A reserved slot whose row is dead belongs to an insert that
			// failed before it wrote the node (the row's transaction aborted,
			// so the insert is over): nothing links to it, and its record may
			// lie on a page nobody wrote. It is only freed.
			if (states[i] == static_cast<uint8_t>(NodeState::kReserved))
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
	auto *still_dead = v.arena->Make<ArenaVector<uint32_t>>(*v.arena, v.dead_ids->size() + 1);
	v.dead = v.arena->Make<quarry::hnsw::VisitedMap>(*v.arena, v.dead_ids->size() + 1);
	v.max_dead_level = -1;
	for (uint32_t id : *v.dead_ids)
	{
		pg::VacuumDelayPoint();
		NodeHeader header;
		v.writer->ReadHeader(id, &header);
		uint32_t next = header.next_duplicate;
		bool taken_over = false;
		for (uint32_t steps = 0; next != quarry::hnsw::kInvalidNode && steps <= v.meta->node_count && !taken_over; steps++)
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
		if (header.state != static_cast<uint8_t>(NodeState::kDeleted))
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
	for (uint32_t id : *v.dead_duplicates)
	{
		pg::VacuumDelayPoint();
		NodeHeader header;
		v.writer->ReadHeader(id, &header);
		const uint32_t primary = header.upper_block;
		if (header.level == kDuplicateLevel && v.graph->ValidNode(primary) && !v.dead->Contains(primary))
		{
			uint32_t previous = primary;
			for (uint32_t steps = 0; steps <= v.meta->node_count; steps++)
			{
				NodeHeader at;
				v.writer->ReadHeader(previous, &at);
				if (at.next_duplicate == id)
				{
					if (v.writer->UnlinkDuplicate(previous, id))
						break;
					continue; // changed under us: look again
				}
				if (at.next_duplicate == quarry::hnsw::kInvalidNode || !v.graph->ValidNode(at.next_duplicate))
					break;
				previous = at.next_duplicate;
			}
		}
		v.writer->SetNodeState(id, NodeState::kFree);
	}
}

// Step 4: the slot states and levels of every node id, from the TID stream,
// read once after step 2 (the repair looks up every link in them).
void
ReadSlotTable(VacuumState &v)
{
	const MetaPage &meta = *v.meta;
	v.slot_count = meta.node_count;
	v.slot_state = v.arena->MakeArray<uint8_t>(std::max<uint32_t>(meta.node_count, 1));
	v.slot_level = v.arena->MakeArray<uint8_t>(std::max<uint32_t>(meta.node_count, 1));
	for (uint32_t page = 0; page * kTidEntriesPerPage < meta.node_count; page++)
	{
		const uint32_t first = page * kTidEntriesPerPage;
		const uint32_t end = std::min(meta.node_count - first, kTidEntriesPerPage);
		Buffer buffer = ReadTidPage(v.index, meta, page);
		const auto *entries = reinterpret_cast<const TidEntry *>(StreamPayload(BufferGetPage(buffer)));
		for (uint32_t i = 0; i < end; i++)
		{
			v.slot_state[first + i] = entries[i].state;
			v.slot_level[first + i] = entries[i].level;
		}
		UnlockReleaseBuffer(buffer);
	}
}

// Step 3: a dead entry point, or one that is no node of the entry level,
// gives way to a live node of the highest level.
void
FixEntryPoint(VacuumState &v)
{
	const uint32_t entry = v.meta->entry_node;
	if (entry == quarry::hnsw::kInvalidNode)
		return;
	NodeHeader header;
	if (entry < v.meta->node_count && !v.dead->Contains(entry))
	{
		v.writer->ReadHeader(entry, &header);
		if (IsLive(header.state) && header.level <= quarry::hnsw::kMaxLevel && header.level >= v.meta->entry_level)
			return;
	}
	int level;
	const uint32_t top = FindTopNode(v.index, *v.meta, false, &level);
	v.writer->SetEntryPoint(top, level, true);
}

/// A node read for the repair of one list (in the scratch arena).
struct LoadedNode {
	const float *vector;
	bool live;
	uint8_t level;
};

const LoadedNode &
LoadNode(VacuumState &v, quarry::hnsw::VisitedMap &cache, uint32_t id)
{
	if (!cache.TryVisit(id))
		return *reinterpret_cast<const LoadedNode *>(cache.Payload(id));
	auto *node = v.scratch->Make<LoadedNode>();
	float *vector = v.scratch->MakeArray<float>(v.graph->dims());
	NodeHeader header;
	node->live = v.graph->ReadNode(id, &header, vector) && IsLive(header.state);
	node->level = node->live ? header.level : 0;
	node->vector = vector;
	cache.SetPayload(id, reinterpret_cast<uint64_t>(node));
	return *node;
}

// The list of `base` on `level` chosen from `ids` by Algorithm 4 (only live
// nodes of that layer, never a dead one), filled up with the nearest of the
// others when `fill` (keepPrunedConnections).
LinkList
ShrunkList(VacuumState &v, quarry::hnsw::VisitedMap &cache, uint32_t base, const uint32_t *ids, uint32_t n, int level, bool fill)
{
	const uint32_t capacity = level == 0 ? 2u * v.meta->m : v.meta->m;
	const float *base_vector = LoadNode(v, cache, base).vector;
	Candidate pool[quarry::hnsw::kMaxNeighbors * 4];
	std::size_t count = 0;
	for (uint32_t i = 0; i < n && count < lengthof(pool); i++)
	{
		if (ids[i] == base || v.dead->Contains(ids[i]) || !v.graph->ValidNode(ids[i]))
			continue;
		const LoadedNode &node = LoadNode(v, cache, ids[i]);
		if (node.live && node.level >= level && node.level <= quarry::hnsw::kMaxLevel)
			pool[count++] = Candidate{v.graph->Distance(base_vector, node.vector), ids[i]};
	}
	// Sorted, a repeated id is next to itself (same distance): keep one.
	std::sort(pool, pool + count, quarry::hnsw::Nearer);
	count = static_cast<std::size_t>(
		std::unique(pool, pool + count, [](const Candidate &a, const Candidate &b) { return a.id == b.id; }) - pool);
	Candidate kept[quarry::hnsw::kMaxNeighbors * 4];
	auto pair = [&](uint32_t a, uint32_t b) {
		return v.graph->Distance(LoadNode(v, cache, a).vector, LoadNode(v, cache, b).vector);
	};
	std::size_t selected =
		quarry::hnsw::SelectNeighborsHeuristic(std::span<const Candidate>(pool, count), capacity, pair, kept);
	LinkList list;
	for (std::size_t i = 0; i < selected; i++)
		list.ids[i] = kept[i].id;
	for (std::size_t i = 0; fill && i < count && selected < capacity; i++)
	{
		if (std::find(list.ids, list.ids + selected, pool[i].id) == list.ids + selected)
			list.ids[selected++] = pool[i].id;
	}
	list.count = static_cast<uint32_t>(selected);
	return list;
}

enum class LinkKind : uint8_t {
	kGood,	// a node of the list's layer
	kDead,	// a node this VACUUM frees: its neighbours stand in for it
	kStale, // not a node of the layer (free, reserved, reused by a lower node, a
			// duplicate, the list's own node, a repeat): dropped
};

// What the link from `x` to `to` on `level` leads to. The slot table answers
// for nearly every link; a slot it has as no node of the layer may have been
// reused since (an insert links to its new node), so its header decides.
LinkKind
ClassifyLink(VacuumState &v, uint32_t x, uint32_t to, int level)
{
	if (v.dead->Contains(to))
		return LinkKind::kDead;
	if (to == x)
		return LinkKind::kStale;
	if (to < v.slot_count && IsLive(v.slot_state[to]) && v.slot_level[to] >= level &&
		v.slot_level[to] <= quarry::hnsw::kMaxLevel)
		return LinkKind::kGood;
	if (!v.graph->ValidNode(to))
		return LinkKind::kStale;
	NodeHeader header;
	v.writer->ReadHeader(to, &header);
	const bool in_graph = IsLive(header.state) || header.state == static_cast<uint8_t>(NodeState::kDeleted);
	return in_graph && header.level >= level && header.level <= quarry::hnsw::kMaxLevel ? LinkKind::kGood
																				 : LinkKind::kStale;
}

// Sorts the links of `current` (a list of `x` on `level`) into `pool` (the
// good ones, then the live neighbours of the dead ones) and `bad` (the dead
// and stale ones). Returns the number of bad links.
uint32_t
SortLinks(VacuumState &v, uint32_t x, int level, const LinkList &current, uint32_t *pool, uint32_t *pool_count,
		  uint32_t *bad)
{
	uint32_t n = 0, nbad = 0;
	for (uint32_t i = 0; i < current.count; i++)
	{
		const uint32_t to = current.ids[i];
		const bool repeat = std::find(current.ids, current.ids + i, to) != current.ids + i;
		const LinkKind kind = repeat ? LinkKind::kStale : ClassifyLink(v, x, to, level);
		if (kind == LinkKind::kGood)
			pool[n++] = to;
		else
			bad[nbad++] = to;
	}
	for (uint32_t i = 0; i < nbad; i++)
	{
		if (!v.dead->Contains(bad[i]))
			continue;
		NodeHeader dead_header;
		LinkList dead_links;
		v.writer->ReadLinks(bad[i], level, &dead_header, &dead_links);
		for (uint32_t j = 0; j < dead_links.count && n < quarry::hnsw::kMaxNeighbors * 4; j++)
		{
			if (std::find(pool, pool + n, dead_links.ids[j]) == pool + n)
				pool[n++] = dead_links.ids[j];
		}
	}
	*pool_count = n;
	return nbad;
}

// Step 4 for one list: `x`'s on `level`. Only read if all its links are good;
// else replaced by its good links and its dead links' neighbours, shrunk with
// Algorithm 4 and filled up to capacity, so that the dead nodes' neighbours
// keep a way in through x. If inserts keep changing the list, the bad links
// are removed under one lock instead. Returns whether it changed the list.
bool
RepairList(VacuumState &v, uint32_t x, int level)
{
	uint32_t bad[quarry::hnsw::kMaxNeighbors];
	uint32_t nbad = 0;
	for (int attempt = 0; attempt < 4; attempt++)
	{
		v.scratch->Reset();
		NodeHeader header;
		LinkList current;
		v.writer->ReadLinks(x, level, &header, &current);
		if (!IsLive(header.state) || level > header.level)
			return false;
		uint32_t pool[quarry::hnsw::kMaxNeighbors * 4];
		uint32_t n;
		nbad = SortLinks(v, x, level, current, pool, &n, bad);
		if (nbad == 0)
			return false;
		auto *cache = v.scratch->Make<quarry::hnsw::VisitedMap>(*v.scratch, 4 * quarry::hnsw::kMaxNeighbors);
		const LinkList replacement = ShrunkList(v, *cache, x, pool, n, level, true);
		if (v.writer->ReplaceLinks(x, level, current, replacement))
			return true;
	}
	return v.writer->RemoveLinks(x, level, bad, nbad);
}

// Step 4, second half: the live neighbours of dead node `dead` on `level` may
// have had their only way in through it. Each gets a link from the nearest of
// the others (kept only if that node's list, shrunk with the heuristic, keeps
// it).
void
BridgeNeighbors(VacuumState &v, uint32_t dead, int level)
{
	NodeHeader header;
	LinkList links;
	v.writer->ReadLinks(dead, level, &header, &links);
	uint32_t live_ids[quarry::hnsw::kMaxNeighbors];
	uint32_t n = 0;
	for (uint32_t i = 0; i < links.count; i++)
	{
		if (!v.dead->Contains(links.ids[i]) && v.graph->ValidNode(links.ids[i]) &&
			std::find(live_ids, live_ids + n, links.ids[i]) == live_ids + n)
			live_ids[n++] = links.ids[i];
	}
	for (uint32_t i = 0; n >= 2 && i < n; i++)
	{
		v.scratch->Reset();
		auto *cache = v.scratch->Make<quarry::hnsw::VisitedMap>(*v.scratch, 4 * quarry::hnsw::kMaxNeighbors);
		const LoadedNode &y = LoadNode(v, *cache, live_ids[i]);
		Candidate nearest{0, quarry::hnsw::kInvalidNode};
		for (uint32_t j = 0; y.live && y.level >= level && j < n; j++)
		{
			const LoadedNode &z = LoadNode(v, *cache, live_ids[j]);
			const Candidate c{v.graph->Distance(y.vector, z.vector), live_ids[j]};
			if (j != i && z.live && z.level >= level && z.level <= quarry::hnsw::kMaxLevel &&
				(nearest.id == quarry::hnsw::kInvalidNode || quarry::hnsw::Nearer(c, nearest)))
				nearest = c;
		}
		LinkList current;
		if (nearest.id == quarry::hnsw::kInvalidNode || v.writer->AppendLink(nearest.id, level, live_ids[i], &current))
			continue;
		// Full: shrink the list with the new candidate in it, as an insert does.
		uint32_t pool[quarry::hnsw::kMaxNeighbors + 1];
		std::memcpy(pool, current.ids, sizeof(uint32_t) * current.count);
		pool[current.count] = live_ids[i];
		const LinkList replacement = ShrunkList(v, *cache, nearest.id, pool, current.count + 1, level, false);
		v.writer->ReplaceLinks(nearest.id, level, current, replacement);
	}
}

// Step 4: every list of every live node (node order: the node pages are read
// one after the other), then the bridges around each dead node.
void
RepairGraph(VacuumState &v)
{
	for (uint32_t x = 0; x < v.slot_count; x++)
	{
		if (x % 256 == 0)
			pg::VacuumDelayPoint();
		if (!IsLive(v.slot_state[x]) || v.slot_level[x] > quarry::hnsw::kMaxLevel)
			continue;
		for (int level = 0; level <= v.slot_level[x]; level++)
		{
			v.lists_read++;
			v.lists_repaired += RepairList(v, x, level) ? 1 : 0;
		}
	}
	for (int level = v.max_dead_level; level >= 0; level--)
	{
		for (uint32_t dead : *v.dead_ids)
		{
			pg::VacuumDelayPoint();
			BridgeNeighbors(v, dead, level);
		}
	}
}

// Step 5: the slots of the dead nodes become free for inserts.
void
FreeSlots(VacuumState &v)
{
	for (uint32_t dead : *v.dead_ids)
	{
		pg::VacuumDelayPoint();
		NodeHeader header;
		LinkList ignored;
		v.writer->ReadLinks(dead, 0, &header, &ignored);
		v.writer->SetNodeState(dead, NodeState::kFree);
		if (header.level > 0 && header.upper_offset != InvalidOffsetNumber)
			v.writer->FreeUpperItem(header.upper_block, header.upper_offset);
	}
	for (uint32_t id : *v.dead_reserved)
		v.writer->SetNodeState(id, NodeState::kFree);
	const std::size_t freed = v.dead_ids->size() + v.dead_duplicates->size() + v.dead_reserved->size();
	if (freed > 0)
		FreeSpaceMapVacuum(v.index);
	Buffer buffer = ReadBuffer(v.index, kMetaBlock);
	LockBuffer(buffer, BUFFER_LOCK_EXCLUSIVE);
	CheckMetaPage(v.index, BufferGetPage(buffer));
	PageEdit edit(v.index, false);
	MetaPage *meta = MetaOf(edit.Register(buffer));
	meta->free_count += static_cast<uint32_t>(freed);
	meta->free_search_start = 0;
	edit.Finish();
	UnlockReleaseBuffer(buffer);
}

// Steps 2 to 5, once dead nodes are marked.
void
RemoveDeadNodes(VacuumState &v)
{
	// Step 2: inserts that started before the marks are done after this.
	LockPage(v.index, kUpdateLock, ExclusiveLock);
	v.writer->RefreshMeta();
	v.graph->LoadMeta();
	KeepOrMarkPrimaries(v);
	FixEntryPoint(v);
	UnlockPage(v.index, kUpdateLock, ExclusiveLock);
	ReadSlotTable(v);
	RepairGraph(v);
	elog(DEBUG1, "quarry_hnsw vacuum of \"%s\": %zu dead nodes, %llu lists read, %llu repaired",
		 RelationGetRelationName(v.index), v.dead_ids->size(), static_cast<unsigned long long>(v.lists_read),
		 static_cast<unsigned long long>(v.lists_repaired));
	FreeDuplicates(v);
	FreeSlots(v);
}

} // namespace

IndexBulkDeleteResult *
BulkDelete(IndexVacuumInfo *info, IndexBulkDeleteResult *stats, IndexBulkDeleteCallback callback,
			   void *callback_state)
{
	Relation index = info->index;
	stats = StatsOrNew(stats);
	MemoryContext context = AllocSetContextCreate(CurrentMemoryContext, "quarry_hnsw vacuum",
												  ALLOCSET_DEFAULT_SIZES);
	VacuumState v{};
	v.index = index;
	v.arena = pg::CreateScanArena(context, 256 * 1024);
	v.scratch = pg::CreateScanArena(context, 256 * 1024);
	v.graph = v.arena->Make<DiskGraph>(index, *v.arena);
	v.graph->UseConstructionMetric();
	v.meta = v.arena->Make<MetaPage>(v.graph->meta());
	v.writer = v.arena->Make<GraphWriter>(index, false, v.meta);
	v.dead = v.arena->Make<quarry::hnsw::VisitedMap>(*v.arena, 1024);
	v.dead_ids = v.arena->Make<ArenaVector<uint32_t>>(*v.arena, 1024);
	v.dead_duplicates = v.arena->Make<ArenaVector<uint32_t>>(*v.arena, 64);
	v.dead_reserved = v.arena->Make<ArenaVector<uint32_t>>(*v.arena, 16);
	v.max_dead_level = -1;

	FindDeadNodes(v, callback, callback_state);
	const double removed =
		static_cast<double>(v.dead_ids->size() + v.dead_duplicates->size() + v.dead_reserved->size());
	KeepOrMarkPrimaries(v);
	if (removed > 0)
		RemoveDeadNodes(v);
	const uint64_t null_rows_removed =
		pg::PgCall([&] { return am::VacuumNullRows(NullRowFormat(), index, callback, callback_state); });
	MetaPage meta;
	pg::PgCall([&] { ReadMeta(index, &meta); });
	stats->num_pages = RelationGetNumberOfBlocks(index);
	stats->num_index_tuples = v.live + static_cast<double>(meta.null_rows.count);
	stats->tuples_removed += removed + static_cast<double>(null_rows_removed);
	stats->estimated_count = false;
	MemoryContextDelete(context);
	return stats;
}

IndexBulkDeleteResult *
VacuumCleanup(IndexVacuumInfo *info, IndexBulkDeleteResult *stats)
{
	if (info->analyze_only || stats != nullptr)
		return stats;
	// No bulkdelete ran (nothing was dead): count the live nodes.
	stats = static_cast<IndexBulkDeleteResult *>(palloc0(sizeof(IndexBulkDeleteResult)));
	MetaPage meta;
	ReadMeta(info->index, &meta);
	double live = 0;
	for (uint32_t page = 0; page * kTidEntriesPerPage < meta.node_count; page++)
	{
		Buffer buffer = ReadTidPage(info->index, meta, page);
		const auto *entries = reinterpret_cast<const TidEntry *>(StreamPayload(BufferGetPage(buffer)));
		const uint32_t end = std::min(meta.node_count - page * kTidEntriesPerPage, kTidEntriesPerPage);
		for (uint32_t i = 0; i < end; i++)
			live += IsLive(entries[i].state) ? 1 : 0;
		UnlockReleaseBuffer(buffer);
	}
	stats->num_pages = RelationGetNumberOfBlocks(info->index);
	stats->num_index_tuples = live + static_cast<double>(meta.null_rows.count);
	stats->estimated_count = false;
	return stats;
}

} // namespace quarry::am::hnsw
