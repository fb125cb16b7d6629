// The in-memory graph of an index build, laid out as hnswlib lays it out.
//
// Every node has one fixed-size layer-0 record
//     [ uint32 count | uint32 links[2m] | float vector[dims] ]
// stored in chunks of about kChunkBytes, so that one hop reads one record and
// the records never move. Nodes with a level above 0 also have an upper-layer
// block, levels 1..L one after the other, each [ uint32 count | uint32 links[m] ].
// Everything comes from the build's BuildArena (src/memory), which the
// PostgreSQL side destroys with the build's memory context.
//
// Node ids are dense, 0..size()-1, in insertion order. Each node carries a
// 64-bit label (the heap TID on the PostgreSQL side).
#pragma once

#include "hnsw/candidates.h"
#include "hnsw/distance.h"
#include "memory/build_arena.h"

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <span>
#include <vector>

namespace quarry::hnsw {

struct GraphParams {
	std::size_t dims = 0;
	int m = 16;
	int ef_construction = 64;
	Metric metric = Metric::kL2;

	int max_links(int level) const { return level == 0 ? 2 * m : m; }
};

/// Bytes of one layer-0 record: count + 2m links + the vector.
inline std::size_t
Level0RecordBytes(std::size_t dims, int m)
{
	return sizeof(std::uint32_t) * (1 + 2 * static_cast<std::size_t>(m)) + sizeof(float) * dims;
}

/// Bytes of one upper layer of a node: count + m links.
inline std::size_t
UpperLevelBytes(int m)
{
	return sizeof(std::uint32_t) * (1 + static_cast<std::size_t>(m));
}

class BuildGraph {
public:
	/// Records are allocated in chunks of about this many bytes (at least one
	/// record, a power of two of them).
	static constexpr std::size_t kChunkBytes = 4 << 20;

	BuildGraph(mem::BuildArena &arena, const GraphParams &params);

	BuildGraph(const BuildGraph &) = delete;
	BuildGraph &operator=(const BuildGraph &) = delete;

	const GraphParams &params() const { return params_; }
	std::uint32_t size() const { return size_; }

	/// Appends a node with no links; returns its id. Throws std::bad_alloc.
	std::uint32_t Append(std::span<const float> vector, std::uint64_t label, int level);

	int level(std::uint32_t id) const { return levels_[id]; }
	std::uint64_t label(std::uint32_t id) const { return labels_[id]; }

	/// Duplicates: a node whose vector equals an earlier node's (its primary)
	/// is not linked into the graph; it hangs on its primary's chain.
	bool is_duplicate(std::uint32_t id) const { return duplicate_of_[id] != kInvalidNode; }
	std::uint32_t duplicate_of(std::uint32_t id) const { return duplicate_of_[id]; }
	/// The first duplicate of a primary, or the next one of a duplicate.
	std::uint32_t next_duplicate(std::uint32_t id) const { return next_duplicate_[id]; }
	/// Makes `id` (just appended, no links yet) a duplicate of `primary`.
	void MarkDuplicate(std::uint32_t id, std::uint32_t primary);

	const float *
	vector(std::uint32_t id) const
	{
		return reinterpret_cast<const float *>(Record(id) + links_bytes_);
	}

	/// The list of `id` on `level`: [count, links...] (level <= level(id)).
	std::uint32_t *
	links(std::uint32_t id, int level)
	{
		if (level == 0)
			return reinterpret_cast<std::uint32_t *>(Record(id));
		return upper_[id] + static_cast<std::size_t>(level - 1) * (1 + params_.m);
	}
	const std::uint32_t *
	links(std::uint32_t id, int level) const
	{
		return const_cast<BuildGraph *>(this)->links(id, level);
	}

	/// The whole layer-0 record of `id` (see the file comment).
	const unsigned char *record(std::uint32_t id) const { return Record(id); }
	std::size_t record_bytes() const { return record_bytes_; }

	/// Upper layers of `id`, levels 1..level(id), or nullptr at level 0.
	const std::uint32_t *upper(std::uint32_t id) const { return upper_[id]; }

	std::uint32_t entry_point() const { return entry_point_; }
	int max_level() const { return max_level_; }
	void
	SetEntryPoint(std::uint32_t id)
	{
		entry_point_ = id;
		max_level_ = levels_[id];
	}

	/// Bytes this graph holds in its arena, and what one more node costs at
	/// most (a new chunk of records included).
	std::size_t memory_bytes() const { return memory_bytes_; }
	std::size_t NextNodeBytes(int level) const;

	/// Expected bytes per node (records, upper layers at the expected level
	/// distribution, per-node arrays, visited tags), for up-front estimates.
	static double EstimateBytesPerNode(const GraphParams &params);

private:
	unsigned char *
	Record(std::uint32_t id) const
	{
		return chunks_[id >> chunk_shift_] + (id & (chunk_nodes_ - 1)) * record_bytes_;
	}

	mem::BuildArena &arena_;
	GraphParams params_;
	std::size_t links_bytes_;
	std::size_t record_bytes_;
	std::uint32_t chunk_shift_;
	std::uint32_t chunk_nodes_;
	std::uint32_t size_ = 0;
	std::uint32_t entry_point_ = kInvalidNode;
	int max_level_ = -1;
	std::size_t memory_bytes_ = 0;
	std::vector<unsigned char *, mem::BuildAllocator<unsigned char *>> chunks_;
	std::vector<std::uint32_t *, mem::BuildAllocator<std::uint32_t *>> upper_;
	std::vector<std::uint64_t, mem::BuildAllocator<std::uint64_t>> labels_;
	std::vector<std::uint8_t, mem::BuildAllocator<std::uint8_t>> levels_;
	std::vector<std::uint32_t, mem::BuildAllocator<std::uint32_t>> duplicate_of_;
	std::vector<std::uint32_t, mem::BuildAllocator<std::uint32_t>> next_duplicate_;
};

} // namespace quarry::hnsw

namespace quarry::hnsw {

/// A breadth-first order of the layer-0 graph from the entry point (nodes it
/// cannot reach follow in id order): old_of_new[k] is the node that becomes
/// node k. Neighbours get nearby ids, so on disk they share pages more often.
/// `old_of_new` must have graph.size() elements; `seen` is scratch of the same
/// size. `Graph` is a BuildGraph or a SharedGraph (size, entry_point, links),
/// read when no insert runs.
template <typename Graph>
void
BreadthFirstOrder(const Graph &graph, std::span<std::uint32_t> old_of_new, std::span<std::uint8_t> seen)
{
	const std::uint32_t n = graph.size();
	std::fill(seen.begin(), seen.end(), 0);
	std::uint32_t head = 0, tail = 0;
	// The output doubles as the queue: nodes are numbered as they are queued.
	auto visit_from = [&](std::uint32_t start) {
		seen[start] = 1;
		old_of_new[tail++] = start;
		while (head < tail)
		{
			const std::uint32_t *list = graph.links(old_of_new[head++], 0);
			for (std::uint32_t i = 0; i < list[0]; i++)
			{
				std::uint32_t next = list[1 + i];
				if (!seen[next])
				{
					seen[next] = 1;
					old_of_new[tail++] = next;
				}
			}
		}
	};
	if (graph.entry_point() != kInvalidNode)
		visit_from(graph.entry_point());
	for (std::uint32_t id = 0; id < n; id++)
	{
		if (!seen[id])
			visit_from(id);
	}
}

} // namespace quarry::hnsw
