// Candidates of a graph search and the binary heaps that order them.
#pragma once

#include <algorithm>
#include <cstdint>
#include <limits>

namespace quarry::hnsw {

/// Largest m (neighbours per node on the upper layers; layer 0 holds 2m).
inline constexpr int kMaxM = 100;
/// Largest neighbour list of any layer.
inline constexpr int kMaxNeighbors = 2 * kMaxM;
/// No node.
inline constexpr std::uint32_t kInvalidNode = std::numeric_limits<std::uint32_t>::max();

/// A node and its internal distance to the query (smaller is nearer).
struct Candidate {
	float distance;
	std::uint32_t id;
};

/// Strict order: by distance, ties by node id, so searches are deterministic.
inline bool
Nearer(const Candidate &a, const Candidate &b)
{
	return a.distance < b.distance || (a.distance == b.distance && a.id < b.id);
}

/// std heap comparators: NearerFirst makes a min-heap (nearest on top),
/// FartherFirst a max-heap (farthest on top).
struct NearerFirst {
	bool operator()(const Candidate &a, const Candidate &b) const { return Nearer(b, a); }
};
struct FartherFirst {
	bool operator()(const Candidate &a, const Candidate &b) const { return Nearer(a, b); }
};

/// Binary heap operations over any vector-like container of Candidates.
template <typename Vec, typename Order>
inline void
HeapPush(Vec &heap, Candidate c, Order order)
{
	heap.push_back(c);
	std::push_heap(heap.begin(), heap.end(), order);
}

template <typename Vec, typename Order>
inline Candidate
HeapPop(Vec &heap, Order order)
{
	std::pop_heap(heap.begin(), heap.end(), order);
	Candidate top = heap.back();
	heap.pop_back();
	return top;
}

/// The ids of one neighbour list, copied out of the graph.
struct NeighborBuffer {
	std::uint32_t count = 0;
	std::uint32_t ids[kMaxNeighbors];
};

/// The level of a slot that is not a node of the graph (free, being written,
/// a duplicate): a search reaches one only through a stale link and never
/// walks through it.
inline constexpr std::int8_t kNotInGraph = -1;

/// A scored node: its internal distance to the query, whether a search may
/// return it (false for nodes deleted by VACUUM, which are still traversed),
/// and the highest layer it is a node of (kNotInGraph if none): a search on
/// layer l walks only through nodes of level >= l.
struct Scored {
	Scored() = default;
	// All three, always: a level left at 0 would keep searches off the upper
	// layers without any other sign.
	Scored(float d, bool l, std::int8_t lv) : distance(d), live(l), level(lv) {}

	float distance;
	bool live;
	std::int8_t level;
};

} // namespace quarry::hnsw
