// The second half of the quarry_hnsw checker (see hnsw_verify.cpp for what is
// and is not reported): neighbour lists, upper-layer items, duplicate chains
// and the entry point, from the node information hnsw_verify.cpp collected;
// then the index against its table.
#include "am/hnsw/hnsw_verify.h"

#include "am/hnsw/hnsw.h"
#include "pg/guard.h"

extern "C" {
#include "access/tableam.h"
#include "catalog/index.h"
#include "miscadmin.h"
#include "storage/bufmgr.h"
#include "utils/memutils.h"
}

#include <cmath>
#include <cstdlib>
#include <cstring>
#include <type_traits>

namespace quarry::am::hnsw {

namespace {

bool
IsLive(const NodeInfo &n)
{
	return n.state == static_cast<uint8_t>(NodeState::kLive);
}

UpperEntry *
FindUpper(Checker &c, BlockNumber block, OffsetNumber offset)
{
	uint32_t lo = 0, hi = c.nuppers;
	while (lo < hi)
	{
		const uint32_t mid = lo + (hi - lo) / 2;
		const UpperEntry &e = c.uppers[mid];
		if (e.block < block || (e.block == block && e.offset < offset))
			lo = mid + 1;
		else
			hi = mid;
	}
	if (lo < c.nuppers && c.uppers[lo].block == block && c.uppers[lo].offset == offset)
		return &c.uppers[lo];
	return nullptr;
}

// One neighbour list of node `id` on `level`.
void
CheckList(Checker &c, uint32_t id, int level, const uint32_t *ids, uint32_t count)
{
	for (uint32_t i = 0; i < count; i++)
	{
		const uint32_t to = ids[i];
		if (to >= c.meta.node_count)
		{
			c.report->Problem(VerifyKind::kLink, "node %u links to node %u on layer %d; the index has %u slots", id, to, level,
					c.meta.node_count);
			continue;
		}
		if (to == id)
		{
			c.report->Problem(VerifyKind::kLink, "node %u links to itself on layer %d", id, level);
			continue;
		}
		bool twice = false;
		for (uint32_t j = 0; j < i && !twice; j++)
			twice = ids[j] == to;
		if (twice)
		{
			c.report->Problem(VerifyKind::kLink, "node %u links to node %u twice on layer %d", id, to, level);
			continue;
		}
		const NodeInfo &target = c.nodes[to];
		if ((target.flags & kReadable) == 0)
			continue; // its own problem was reported
		if ((target.flags & kWritten) == 0)
			c.report->Problem(VerifyKind::kLink, "node %u links to slot %u on layer %d, which never held a node", id, to, level);
		else if (!IsGraphNode(target) || target.level < level)
			c.stale_links++; // into a slot freed by VACUUM, maybe reused since: accepted
	}
}

// The upper-layer item of graph node `id`: it exists, has the node's level,
// belongs to it alone; its lists.
void
CheckUpperLists(Checker &c, uint32_t id, const NodeHeader &h)
{
	UpperEntry *e = FindUpper(c, h.upper_block, h.upper_offset);
	if (e == nullptr)
	{
		c.report->Problem(VerifyKind::kUpperItem, "node %u (level %u) names upper-layer item (%u,%u), which does not exist", id,
				h.level, h.upper_block, h.upper_offset);
		return;
	}
	if (e->refs++ > 0)
	{
		c.report->Problem(VerifyKind::kUpperItem, "upper-layer item (%u,%u) belongs to two nodes (the second one: %u)", e->block,
				e->offset, id);
		return;
	}
	if (e->levels != h.level)
		c.report->Problem(VerifyKind::kUpperItem, "node %u has level %u, its upper-layer item (%u,%u) holds %u levels", id, h.level,
				e->block, e->offset, e->levels);
	for (int level = 1; level <= std::min<int>(h.level, e->levels); level++)
	{
		const uint32_t *list = e->lists + static_cast<std::size_t>(level - 1) * (1 + c.meta.m);
		if (list[0] > c.meta.m)
			c.report->Problem(VerifyKind::kUpperItem, "node %u has %u links on layer %d (at most %u)", id, list[0], level, c.meta.m);
		else
			CheckList(c, id, level, list + 1, list[0]);
	}
}

/// Layer 0 as adjacency lists, kept while the lists are checked when they
/// fit in maintenance_work_mem, for CountUnreachable.
struct Layer0 {
	uint64_t *offsets; // node_count + 1, or nullptr when not kept
	uint32_t *links;
};

Layer0
StartLayer0(const Checker &c)
{
	const uint64_t bytes = static_cast<uint64_t>(c.meta.node_count) * (sizeof(uint64_t) + sizeof(uint32_t) * c.capacity0);
	if (bytes > static_cast<uint64_t>(maintenance_work_mem) * 1024)
		return Layer0{nullptr, nullptr};
	return Layer0{static_cast<uint64_t *>(palloc_extended(sizeof(uint64_t) * (c.meta.node_count + 1), MCXT_ALLOC_HUGE)),
				  static_cast<uint32_t *>(palloc_extended(
					  sizeof(uint32_t) * (static_cast<uint64_t>(c.meta.node_count) * c.capacity0 + 1), MCXT_ALLOC_HUGE))};
}

// Neighbour lists of every graph node.
void
CheckLinks(Checker &c, Layer0 &layer0)
{
	uint32_t links[quarry::hnsw::kMaxNeighbors];
	uint64_t kept = 0;
	for (uint32_t id = 0; id < c.meta.node_count; id++)
	{
		if (id % 1024 == 0)
			CHECK_FOR_INTERRUPTS();
		if (layer0.offsets != nullptr)
			layer0.offsets[id] = kept;
		if (!IsGraphNode(c.nodes[id]) || !ReadRecord(c, id))
			continue;
		const NodeHeader h = RecordHeader(c);
		std::memcpy(links, RecordLinks(c), sizeof(uint32_t) * h.count0); // count0 <= 2m: checked
		CheckList(c, id, 0, links, h.count0);
		if (h.level > 0)
			CheckUpperLists(c, id, h);
		for (uint32_t i = 0; layer0.offsets != nullptr && i < h.count0; i++)
		{
			if (links[i] < c.meta.node_count)
				layer0.links[kept++] = links[i];
		}
	}
	if (layer0.offsets != nullptr)
		layer0.offsets[c.meta.node_count] = kept;
	for (uint32_t i = 0; i < c.nuppers; i++)
		c.orphan_items += c.uppers[i].refs == 0 ? 1 : 0;
}

// Live graph nodes a breadth-first walk of layer 0 from the entry point does
// not reach (through deleted nodes and stale links too, as a scan walks).
// Counted for the DEBUG1 message only: the design does not promise zero.
void
CountUnreachable(Checker &c, const Layer0 &layer0)
{
	const uint32_t n = c.meta.node_count;
	if (layer0.offsets == nullptr || c.meta.entry_node == quarry::hnsw::kInvalidNode)
		return;
	auto *queue = static_cast<uint32_t *>(palloc_extended(sizeof(uint32_t) * (n + 1), MCXT_ALLOC_HUGE));
	auto *seen = static_cast<bool *>(palloc_extended(n + 1, MCXT_ALLOC_HUGE | MCXT_ALLOC_ZERO));
	uint32_t head = 0, tail = 0;
	queue[tail++] = c.meta.entry_node;
	seen[c.meta.entry_node] = true;
	while (head < tail)
	{
		const uint32_t x = queue[head++];
		for (uint64_t i = layer0.offsets[x]; i < layer0.offsets[x + 1]; i++)
		{
			const uint32_t y = layer0.links[i];
			if (!seen[y])
			{
				seen[y] = true;
				queue[tail++] = y;
			}
		}
	}
	uint64_t unreachable = 0;
	for (uint32_t id = 0; id < n; id++)
		unreachable += IsGraphNode(c.nodes[id]) && IsLive(c.nodes[id]) && !seen[id] ? 1 : 0;
	c.unreachable = static_cast<int64_t>(unreachable);
	pfree(queue);
	pfree(seen);
}

// The chain of live primary `p`: its own duplicates, each once, with its vector.
void
WalkChain(Checker &c, uint32_t p)
{
	for (uint32_t next = c.nodes[p].next; next != quarry::hnsw::kInvalidNode;)
	{
		if (next >= c.meta.node_count)
		{
			c.report->Problem(VerifyKind::kChain, "the duplicate chain of node %u names slot %u, past the node count", p, next);
			return;
		}
		NodeInfo &d = c.nodes[next];
		if ((d.flags & kReadable) == 0)
			return;
		if (d.level != kDuplicateLevel || d.primary != p ||
			!(IsLive(d) || d.state == static_cast<uint8_t>(NodeState::kDeleted)))
		{
			c.report->Problem(VerifyKind::kChain, "the duplicate chain of node %u reaches node %u, which is not one of its duplicates",
					p, next);
			return;
		}
		if (d.flags & kOnChain)
		{
			c.report->Problem(VerifyKind::kChain, "the duplicate chain of node %u loops at node %u", p, next);
			return;
		}
		d.flags |= kOnChain;
		if (d.vector_hash != c.nodes[p].vector_hash)
			c.report->Problem(VerifyKind::kChain, "duplicate %u holds a vector other than its primary %u's", next, p);
		next = d.next;
	}
}

// Chains of live primaries; every live duplicate must be on its chain (a
// scan returns a duplicate's row only from there). Chains of deleted
// primaries are VACUUM's work in progress.
void
CheckChains(Checker &c)
{
	for (uint32_t p = 0; p < c.meta.node_count; p++)
	{
		if (IsGraphNode(c.nodes[p]) && IsLive(c.nodes[p]))
			WalkChain(c, p);
	}
	for (uint32_t id = 0; id < c.meta.node_count; id++)
	{
		const NodeInfo &d = c.nodes[id];
		if ((d.flags & kReadable) == 0 || d.level != kDuplicateLevel || !IsLive(d) || (d.flags & kOnChain))
			continue;
		const NodeInfo &primary = c.nodes[d.primary];
		if (IsGraphNode(primary) && IsLive(primary))
			c.report->Problem(VerifyKind::kChain, "duplicate %u is not on the chain of its primary %u: its row is never returned",
					id, d.primary);
		else if ((primary.flags & kReadable) && !IsGraphNode(primary))
			c.report->Problem(VerifyKind::kChain, "duplicate %u hangs on node %u, which is not in the graph", id, d.primary);
	}
}

void
CheckEntryPoint(Checker &c)
{
	const uint32_t entry = c.meta.entry_node;
	uint32_t free_slots = 0;
	uint32_t live_graph_node = quarry::hnsw::kInvalidNode;
	for (uint32_t id = 0; id < c.meta.node_count; id++)
	{
		const NodeInfo &n = c.nodes[id];
		free_slots += (n.flags & kTidReadable) && n.state == static_cast<uint8_t>(NodeState::kFree) ? 1 : 0;
		if (live_graph_node == quarry::hnsw::kInvalidNode && IsGraphNode(n) && IsLive(n))
			live_graph_node = id;
	}
	if (c.meta.free_count > free_slots)
		c.report->Problem(VerifyKind::kMetapage, "metapage: %u free slots, the TID stream has %u", c.meta.free_count, free_slots);
	if (entry == quarry::hnsw::kInvalidNode)
	{
		if (live_graph_node != quarry::hnsw::kInvalidNode)
			c.report->Problem(VerifyKind::kEntryPoint, "the metapage names no entry point, but node %u is live", live_graph_node);
		return;
	}
	const NodeInfo &n = c.nodes[entry];
	if ((n.flags & kReadable) == 0)
		return;
	if (!IsGraphNode(n))
		c.report->Problem(VerifyKind::kEntryPoint, "the entry point, node %u, is not in the graph (state %u, level %u)", entry, n.state,
				n.level);
	else if (n.level != c.meta.entry_level)
		c.report->Problem(VerifyKind::kEntryPoint, "the entry point, node %u, has level %u; the metapage says %d", entry, n.level,
				c.meta.entry_level);
}

} // namespace

void
CheckGraph(Checker &c)
{
	Layer0 layer0 = StartLayer0(c);
	CheckLinks(c, layer0);
	CountUnreachable(c, layer0);
	CheckChains(c);
	CheckEntryPoint(c);
}

// --- the index against its table ------------------------------------------------

namespace {

struct RowCheckState {
	Checker *c;
	float *vector; // dims floats
	quarry::hnsw::InputFormat format;
	char *stored; // the vector encoded (compressed indexes)
	bool zero_vector_reported; // a zero vector the metapage denies (once)
};
static_assert(std::is_trivially_destructible_v<RowCheckState>);

// The row's vector against the one node `id` holds, bit for bit (as the
// index would store it: normalised under cosine).
void
CompareVector(RowCheckState &state, ItemPointer tid, Datum value, uint32_t id)
{
	Checker &c = *state.c;
	const VectorArg v = DatumGetVector(value, state.format);
	const auto metric = static_cast<quarry::hnsw::Metric>(c.meta.metric);
	bool storable = static_cast<uint32_t>(v.dims) == c.meta.dims;
	double norm = 0;
	for (int i = 0; storable && i < v.dims; i++)
	{
		storable = std::isfinite(v.data[i]);
		norm += static_cast<double>(v.data[i]) * v.data[i];
	}
	if (!storable || (metric == quarry::hnsw::Metric::kCosine && norm == 0))
	{
		c.report->Problem(VerifyKind::kVector,
						  "row (%u,%u) has a vector the index cannot hold (%d dimensions; the index has %u)",
						  ItemPointerGetBlockNumber(tid), ItemPointerGetOffsetNumber(tid), v.dims, c.meta.dims);
		return;
	}
	PrepareIndexVector(v, metric, state.vector);
	if (!ReadRecord(c, id))
		return;
	// A compressed index holds the codes of that vector: encoding is
	// deterministic, so they must match byte for byte too.
	const quarry::hnsw::Storage storage = StorageOf(c.meta);
	const std::size_t bytes = quarry::hnsw::StoredVectorBytes(storage, c.meta.dims);
	const char *expected = reinterpret_cast<const char *>(state.vector);
	if (storage != quarry::hnsw::Storage::kFull)
	{
		StoreVector(storage, metric, c.meta.dims, state.vector, state.stored);
		expected = state.stored;
	}
	if (std::memcmp(expected, c.record + VectorOffset(c.meta.m), bytes) != 0)
		c.report->Problem(VerifyKind::kVector, "row (%u,%u): node %u holds another vector",
						  ItemPointerGetBlockNumber(tid), ItemPointerGetOffsetNumber(tid), id);
}

// am::RowCheck: a row of the table held by node row.value.
void
CheckRow(void *arg, const IndexedRow &row, ItemPointer tid, const Datum *values, const bool *, bool,
		 VerifyReport &report)
{
	const Datum value = values[0];
	auto &state = *static_cast<RowCheckState *>(arg);
	const NodeInfo &n = state.c->nodes[row.value];
	if (!IsLive(n))
	{
		report.Problem(VerifyKind::kMissingRow, "row (%u,%u) is in the table, but its node %u is marked deleted",
					   ItemPointerGetBlockNumber(tid), ItemPointerGetOffsetNumber(tid), row.value);
		return;
	}
	if ((n.flags & kReadable) != 0)
		CompareVector(state, tid, value, row.value);
}

// am::HeldAsNull: a zero vector under cosine. One in the null-row list of an
// index whose metapage says it never held one is a problem: scans return it
// as a NULL vector's row.
bool
RowHeldAsNull(void *arg, const IndexedRow &row, const Datum *values)
{
	auto &state = *static_cast<RowCheckState *>(arg);
	const bool held = HeldAsNullRow(DatumGetVector(values[0], state.format),
									static_cast<quarry::hnsw::Metric>(state.c->meta.metric));
	if (held && row.null_row && !NullRowsMayHoldZeroVectors(state.c->meta) && !state.zero_vector_reported)
	{
		state.c->report->Problem(VerifyKind::kNullRows,
								 "the null-row list holds a zero vector, but the metapage says it never held one");
		state.zero_vector_reported = true;
	}
	return held;
}

} // namespace

void
CheckAgainstTable(Checker &c)
{
	// The live and deleted nodes by heap TID, and the null-row list.
	IndexedRows rows = IndexedRows::Make();
	for (uint32_t id = 0; id < c.meta.node_count; id++)
	{
		const NodeInfo &n = c.nodes[id];
		if ((n.flags & kTidReadable) && (IsLive(n) || n.state == static_cast<uint8_t>(NodeState::kDeleted)))
			rows.Add(c.heap_tids[id], id, false);
	}
	for (uint64_t i = 0; i < c.null_count; i++)
		rows.Add(c.null_tids[i], 0, true);
	RowCheckState state{&c, static_cast<float *>(palloc(sizeof(float) * (c.meta.dims + 1))), OpclassFormat(c.index),
						static_cast<char *>(palloc(quarry::hnsw::StoredVectorBytes(StorageOf(c.meta), c.meta.dims) + 4)), false};
	am::CheckTable(c.heap, c.index, rows, *c.report, CheckRow, &state, true, RowHeldAsNull);
	// A live row's node may not sit above the entry level: a search would
	// start below it.
	for (uint64_t i = 0; i < rows.count; i++)
	{
		const IndexedRow &row = rows.items[i];
		if (row.null_row || !row.seen)
			continue;
		const NodeInfo &n = c.nodes[row.value];
		if (IsGraphNode(n) && IsLive(n) && n.level > c.meta.entry_level)
			c.report->Problem(VerifyKind::kEntryPoint, "node %u has level %u, above the entry level %d", row.value,
							  n.level, c.meta.entry_level);
	}
}

} // namespace quarry::am::hnsw
