// Searches over a graph with stale links (src/hnsw/search.h): on disk a link
// may lead to a slot VACUUM freed or one reused by a node of a lower level. A
// search must never walk through such a slot, and one bad link must never
// leave a search with no results.
#include "hnsw/builder.h"
#include "hnsw/graph.h"
#include "hnsw/search.h"

#include <gtest/gtest.h>

#include <cmath>
#include <random>
#include <set>
#include <unordered_set>
#include <vector>

using namespace quarry::hnsw;
using quarry::mem::BuildArena;

namespace {

/// A small hand-made graph: each node has a vector, a level (kNotInGraph for
/// a free slot), a live flag and its lists per layer.
struct ToyGraph {
	struct Node {
		std::vector<float> vector;
		std::int8_t level;
		bool live;
		std::vector<std::vector<std::uint32_t>> links; // per layer 0..level
	};
	std::vector<Node> nodes;
	int entered_free = 0; // Neighbors() asked of a slot that is no node

	std::uint32_t
	Add(std::vector<float> v, std::int8_t level, bool live = true)
	{
		nodes.push_back(Node{std::move(v), level, live, std::vector<std::vector<std::uint32_t>>(level + 1)});
		return static_cast<std::uint32_t>(nodes.size() - 1);
	}
	void Link(std::uint32_t from, int level, std::uint32_t to) { nodes[from].links[level].push_back(to); }

	void
	Neighbors(std::uint32_t node, int level, NeighborBuffer &out)
	{
		out.count = 0;
		if (nodes[node].level < level)
		{
			entered_free++;
			return;
		}
		for (std::uint32_t id : nodes[node].links[level])
			out.ids[out.count++] = id;
	}

	void
	Score(const float *query, std::span<const std::uint32_t> ids, Scored *out)
	{
		for (std::size_t i = 0; i < ids.size(); i++)
		{
			const Node &n = nodes[ids[i]];
			float d = 0;
			for (std::size_t k = 0; k < n.vector.size(); k++)
				d += (n.vector[k] - query[k]) * (n.vector[k] - query[k]);
			out[i] = Scored{d, n.live && n.level >= 0, n.level};
		}
	}
};

struct SetVisited {
	std::unordered_set<std::uint32_t> seen;
	bool TryVisit(std::uint32_t id) { return seen.insert(id).second; }
};

/// Algorithm 5 as the scan does it: descent, then layer 0 from its end and,
/// if that runs short, from the nodes of the descent.
template <typename Graph>
std::vector<Candidate>
Knn(Graph &graph, const float *query, std::uint32_t entry_id, int top, std::size_t ef)
{
	Scored scored;
	graph.Score(query, std::span<const std::uint32_t>(&entry_id, 1), &scored);
	const Descent descent = GreedyDescent(graph, query, Candidate{scored.distance, entry_id}, top, 0);
	SetVisited visited;
	std::vector<Candidate> results, candidates;
	SearchLayerFrom(graph, query, descent, 0, ef, visited, results, candidates);
	std::sort(results.begin(), results.end(), Nearer);
	return results;
}

} // namespace

// The crash test's failure: the entry point links on layer 2 to a freed slot
// whose old vector is the nearest to the query. The descent must not step
// into it (it has no lists: every search would end there with no result).
TEST(StaleLinks, DescentNeverEntersAFreedSlot)
{
	ToyGraph g;
	const std::uint32_t entry = g.Add({10, 10}, 2);
	const std::uint32_t freed = g.Add({0, 0}, kNotInGraph, false);
	const std::uint32_t far = g.Add({8, 8}, 2);
	std::uint32_t chain[4];
	for (int i = 0; i < 4; i++)
		chain[i] = g.Add({static_cast<float>(6 - 2 * i), static_cast<float>(6 - 2 * i)}, 0);
	g.Link(entry, 2, freed);
	g.Link(entry, 2, far);
	g.Link(entry, 1, far);
	g.Link(entry, 0, far);
	g.Link(far, 2, entry);
	g.Link(far, 1, entry);
	g.Link(far, 0, chain[0]);
	for (int i = 0; i + 1 < 4; i++)
		g.Link(chain[i], 0, chain[i + 1]);
	const float query[2] = {0.1f, 0.1f};
	std::vector<Candidate> found = Knn(g, query, entry, 2, 3);
	ASSERT_EQ(found.size(), 3u);
	EXPECT_EQ(found[0].id, chain[3]);
	EXPECT_EQ(g.entered_free, 0);
}

// A slot reused by a level-0 node is no node of the upper layers: the greedy
// search on those layers must not move to it, however near it is.
TEST(StaleLinks, GreedyStaysOnNodesOfTheLayer)
{
	ToyGraph g;
	const std::uint32_t entry = g.Add({10, 10}, 1);
	const std::uint32_t reused = g.Add({0, 0}, 0);
	const std::uint32_t upper = g.Add({5, 5}, 1);
	g.Link(entry, 1, reused);
	g.Link(entry, 1, upper);
	const float query[2] = {0, 0};
	Scored scored;
	g.Score(query, std::span<const std::uint32_t>(&entry, 1), &scored);
	const Candidate stop = GreedyClosest(g, query, Candidate{scored.distance, entry}, 1);
	EXPECT_EQ(stop.id, upper);
}

// The descent ends on a node whose layer-0 list leads nowhere (all its links
// went to freed slots): the layer-0 search starts again from the nodes the
// descent passed, and finds the rest of the graph.
TEST(StaleLinks, ShortSearchRestartsFromTheDescent)
{
	ToyGraph g;
	const std::uint32_t entry = g.Add({10, 10}, 1);
	const std::uint32_t cut_off = g.Add({0, 0}, 1);
	const std::uint32_t freed = g.Add({0.5f, 0.5f}, kNotInGraph, false);
	g.Link(entry, 1, cut_off);
	g.Link(cut_off, 0, freed);
	std::vector<std::uint32_t> rest;
	for (int i = 0; i < 5; i++)
	{
		rest.push_back(g.Add({static_cast<float>(9 - i), 9}, 0));
		g.Link(entry, 0, rest.back());
	}
	const float query[2] = {0, 0};
	std::vector<Candidate> found = Knn(g, query, entry, 1, 4);
	ASSERT_EQ(found.size(), 4u);
	EXPECT_EQ(found[0].id, cut_off);
	EXPECT_EQ(g.entered_free, 0);
}

namespace {

/// A built graph after VACUUM freed some slots without repairing the lists
/// that point to them (the old, local repair): the freed slots keep their
/// vectors, lose their lists and are no nodes any more.
class DamagedGraph {
public:
	DamagedGraph(const BuildGraph &graph, std::vector<bool> freed) : graph_(graph), freed_(std::move(freed)) {}

	void
	Neighbors(std::uint32_t node, int level, NeighborBuffer &out) const
	{
		out.count = 0;
		if (freed_[node])
			return;
		const std::uint32_t *list = graph_.links(node, level);
		out.count = list[0];
		std::copy(list + 1, list + 1 + list[0], out.ids);
	}

	void
	Score(const float *query, std::span<const std::uint32_t> ids, Scored *out) const
	{
		for (std::size_t i = 0; i < ids.size(); i++)
		{
			const float *v = graph_.vector(ids[i]);
			float d = 0;
			for (std::size_t k = 0; k < graph_.params().dims; k++)
				d += (v[k] - query[k]) * (v[k] - query[k]);
			const bool freed = freed_[ids[i]];
			out[i] = Scored{d, !freed, freed ? kNotInGraph : static_cast<std::int8_t>(graph_.level(ids[i]))};
		}
	}

private:
	const BuildGraph &graph_;
	std::vector<bool> freed_;
};

} // namespace

// A fifth of the slots freed with every link to them left in place: no search
// ends empty, and nearly every live node is still found by its own vector.
TEST(StaleLinks, EveryLiveNodeFindsItselfInADamagedGraph)
{
	GraphParams params{16, 6, 32, Metric::kL2};
	BuildArena arena;
	BuildGraph graph(arena, params);
	GraphBuilder builder(arena, graph, 7);
	std::mt19937 rng(3);
	std::uniform_real_distribution<float> uniform(0.0f, 100.0f);
	const std::uint32_t n = 3000;
	for (std::uint32_t i = 0; i < n; i++)
	{
		std::vector<float> v(params.dims);
		for (float &x : v)
			x = uniform(rng);
		builder.Insert(v, i);
	}
	std::vector<bool> freed(n);
	for (std::uint32_t i = 0; i < n; i++)
		freed[i] = i != graph.entry_point() && rng() % 5 == 0;
	DamagedGraph damaged(graph, freed);
	std::size_t live = 0, empty = 0, missed = 0;
	for (std::uint32_t i = 0; i < n; i++)
	{
		if (freed[i])
			continue;
		live++;
		std::vector<Candidate> found = Knn(damaged, graph.vector(i), graph.entry_point(), graph.max_level(), 16);
		empty += found.empty() ? 1 : 0;
		missed += found.empty() || found[0].id != i ? 1 : 0;
		for (const Candidate &c : found)
			ASSERT_FALSE(freed[c.id]) << "a freed slot returned";
	}
	// Without the level checks and the restart, 800 of the 2,411 live nodes
	// were missed here, most of them with no result at all; with them, 40
	// (nodes whose every way in went through freed slots, which VACUUM's
	// repair would have rebuilt).
	EXPECT_EQ(empty, 0u);
	EXPECT_LE(missed, live * 3 / 100) << missed << " of " << live << " live nodes not found by their own vector";
}
