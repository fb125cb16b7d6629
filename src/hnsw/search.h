// Graph search (Malkov & Yashunin 2018, Algorithm 2 SEARCH-LAYER, and the greedy
// descent of Algorithms 1 and 5), written once for every graph quarry searches:
// the in-memory graph of a build and the on-disk graph of scans and inserts.
//
// A Graph provides
//   void Neighbors(std::uint32_t node, int level, NeighborBuffer &out);
//       the ids of `node`'s neighbours on `level`
//   void Score(const float *query, std::span<const std::uint32_t> ids, Scored *out);
//       the internal distance of every id to `query`, whether it is live (a
//       search returns only live nodes, but walks through deleted ones too)
//       and its level
// and a Visited set provides  bool TryVisit(std::uint32_t id).
//
// A search on layer l walks only through nodes whose level is at least l.
// On disk a link can be stale: it may lead to a slot VACUUM freed, to one an
// insert is writing, or to one reused by a node of a lower level. Such a slot
// is scored (its vector may still be there) but never entered: one bad link
// must not end a greedy descent on a node without neighbours, which would
// leave the layer-0 search with nothing to expand.
//
// Score gets all the unvisited neighbours of a node at once, so that a graph
// can group the reads by page and prefetch (the on-disk one does).
//
// No local here has a destructor: a Graph may call PostgreSQL functions that
// raise an ERROR (a longjmp) from inside these loops.
#pragma once

#include "hnsw/candidates.h"
#include "hnsw/level.h"

#include <cstddef>
#include <cstdint>
#include <span>

namespace quarry::hnsw {

/// A node a search looked at but did not keep: farther than the ef-th result
/// when it was found, pushed out of the results by nearer ones, or still
/// waiting in the candidate queue when the search stopped. An iterative scan
/// resumes from these. `live` is false for nodes only good as a way through.
struct Discarded {
	float distance;
	std::uint32_t id;
	bool live;
};

/// A discard sink that keeps nothing (builds and inserts).
struct IgnoreDiscarded {
	void operator()(const Discarded &) const {}
};

/// Algorithm 2 SEARCH-LAYER(q, ep, ef, lc). On entry `candidates` (C, a
/// min-heap: NearerFirst) holds the entry points, `results` (W, a max-heap:
/// FartherFirst) those of them that are live, and `visited` contains them all.
/// On return `results` holds up to `ef` nearest live nodes found; `candidates`
/// is empty (its leftovers went to `discard`).
template <typename Graph, typename Visited, typename Heap, typename Discard = IgnoreDiscarded>
void
SearchLayer(Graph &graph, const float *query, int level, std::size_t ef, Visited &visited, Heap &results,
			Heap &candidates, Discard &&discard = Discard())
{
	NeighborBuffer neighbors;
	std::uint32_t fresh[kMaxNeighbors];
	Scored scored[kMaxNeighbors];

	while (!candidates.empty())
	{
		// Line 6-8: nearest candidate; stop when it is farther than the
		// farthest result (and the result set is full).
		const Candidate nearest = candidates.front();
		if (results.size() >= ef && Nearer(results.front(), nearest))
			break;
		HeapPop(candidates, NearerFirst{});

		// Lines 9-11: its neighbours not seen yet, scored in one batch.
		graph.Neighbors(nearest.id, level, neighbors);
		std::uint32_t n = 0;
		for (std::uint32_t i = 0; i < neighbors.count; i++)
		{
			if (visited.TryVisit(neighbors.ids[i]))
				fresh[n++] = neighbors.ids[i];
		}
		if (n == 0)
			continue;
		graph.Score(query, std::span<const std::uint32_t>(fresh, n), scored);

		// Lines 12-17: keep those nearer than the farthest result.
		for (std::uint32_t i = 0; i < n; i++)
		{
			if (scored[i].level < level)
				continue; // not a node of this layer: a stale link
			const Candidate e{scored[i].distance, fresh[i]};
			if (results.size() >= ef && !Nearer(e, results.front()))
			{
				discard(Discarded{e.distance, e.id, scored[i].live});
				continue;
			}
			HeapPush(candidates, e, NearerFirst{});
			if (!scored[i].live)
				continue;
			HeapPush(results, e, FartherFirst{});
			if (results.size() > ef)
			{
				const Candidate out = HeapPop(results, FartherFirst{});
				discard(Discarded{out.distance, out.id, true});
			}
		}
	}
	for (const Candidate &c : candidates)
		discard(Discarded{c.distance, c.id, false});
	candidates.clear();
}

/// Scores the neighbours of `node` on `level` that are not visited yet and
/// hands each to `found` (as a Discarded: distance, id, live). One step of a
/// best-first search; an iterative scan continues with it past SearchLayer.
template <typename Graph, typename Visited, typename Found>
void
ExpandNode(Graph &graph, const float *query, std::uint32_t node, int level, Visited &visited, Found &&found)
{
	NeighborBuffer neighbors;
	std::uint32_t fresh[kMaxNeighbors];
	Scored scored[kMaxNeighbors];
	graph.Neighbors(node, level, neighbors);
	std::uint32_t n = 0;
	for (std::uint32_t i = 0; i < neighbors.count; i++)
	{
		if (visited.TryVisit(neighbors.ids[i]))
			fresh[n++] = neighbors.ids[i];
	}
	if (n == 0)
		return;
	graph.Score(query, std::span<const std::uint32_t>(fresh, n), scored);
	for (std::uint32_t i = 0; i < n; i++)
	{
		if (scored[i].level >= level)
			found(Discarded{scored[i].distance, fresh[i], scored[i].live});
	}
}

/// Greedy search with ef = 1 on one upper layer (Algorithm 1 lines 5-7,
/// Algorithm 5 lines 3-5): moves to the nearest neighbour of level >= `level`
/// while that gets nearer to the query. Returns the node where it stops.
template <typename Graph>
Candidate
GreedyClosest(Graph &graph, const float *query, Candidate entry, int level)
{
	NeighborBuffer neighbors;
	Scored scored[kMaxNeighbors];
	for (;;)
	{
		graph.Neighbors(entry.id, level, neighbors);
		if (neighbors.count == 0)
			return entry;
		graph.Score(query, std::span<const std::uint32_t>(neighbors.ids, neighbors.count), scored);
		Candidate best = entry;
		for (std::uint32_t i = 0; i < neighbors.count; i++)
		{
			const Candidate c{scored[i].distance, neighbors.ids[i]};
			if (scored[i].level >= level && Nearer(c, best))
				best = c;
		}
		if (best.id == entry.id)
			return entry;
		entry = best;
	}
}

/// Where a greedy descent went: the node it stopped at (the entry point for
/// the layer below), and the nodes it stood on, from the entry point down.
struct Descent {
	Candidate end;
	Candidate path[kMaxLevel + 1];
	int path_count = 0;
};

/// The greedy descent of Algorithm 5 lines 1-5 (Algorithm 1 lines 5-7): from
/// `entry`, a node of level >= `top`, down to layer `bottom` + 1. Every node
/// of the path has a level above `bottom`: further entry points for a search
/// on `bottom` that runs out of nodes (see SearchLayerFrom).
template <typename Graph>
Descent
GreedyDescent(Graph &graph, const float *query, Candidate entry, int top, int bottom)
{
	Descent descent;
	descent.path[descent.path_count++] = entry;
	for (int level = top; level > bottom; level--)
	{
		entry = GreedyClosest(graph, query, entry, level);
		if (entry.id != descent.path[descent.path_count - 1].id && descent.path_count <= kMaxLevel)
			descent.path[descent.path_count++] = entry;
	}
	descent.end = entry;
	return descent;
}

/// Adds `node` as an entry point of a search on `level` (Algorithm 2's ep):
/// marks it visited, scores it, pushes it on `candidates` and, if it is live
/// and `results` has room for `ef`, on `results`. False (and nothing pushed)
/// if it was visited already or is not a node of `level`.
template <typename Graph, typename Visited, typename Heap>
bool
AddEntryPoint(Graph &graph, const float *query, std::uint32_t node, int level, std::size_t ef, Visited &visited,
			  Heap &results, Heap &candidates)
{
	if (!visited.TryVisit(node))
		return false;
	Scored scored;
	graph.Score(query, std::span<const std::uint32_t>(&node, 1), &scored);
	if (scored.level < level)
		return false;
	const Candidate c{scored.distance, node};
	HeapPush(candidates, c, NearerFirst{});
	if (scored.live && results.size() < ef)
		HeapPush(results, c, FartherFirst{});
	return true;
}

/// Algorithm 2 on `level` from `descent.end` and, while it has found fewer
/// than `ef` live nodes, again from each node of the descent's path not
/// reached yet (the nearest first). A search that runs out of nodes has
/// explored all it could reach, so this costs nothing in a sound graph; in a
/// damaged one, a node cut off by stale links is not where every search ends.
template <typename Graph, typename Visited, typename Heap, typename Discard = IgnoreDiscarded>
void
SearchLayerFrom(Graph &graph, const float *query, const Descent &descent, int level, std::size_t ef,
				Visited &visited, Heap &results, Heap &candidates, Discard &&discard = Discard())
{
	if (AddEntryPoint(graph, query, descent.end.id, level, ef, visited, results, candidates))
		SearchLayer(graph, query, level, ef, visited, results, candidates, discard);
	for (int i = descent.path_count - 1; i >= 0 && results.size() < ef; i--)
	{
		if (AddEntryPoint(graph, query, descent.path[i].id, level, ef, visited, results, candidates))
			SearchLayer(graph, query, level, ef, visited, results, candidates, discard);
	}
}

} // namespace quarry::hnsw
