// Graph construction and search of the in-memory builder: structure invariants
// and recall against brute force on random data.
#include "hnsw/builder.h"
#include "hnsw/graph.h"
#include "hnsw/level.h"
#include "hnsw/neighbors.h"
#include "hnsw/search.h"
#include "hnsw/visited.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <random>
#include <set>
#include <vector>

using namespace quarry::hnsw;
using quarry::mem::BuildArena;

namespace {

// Points on a random 14-dimensional linear subspace of `dims` dimensions, plus a
// little noise: like real embeddings, the intrinsic dimension is far below the
// ambient one (HNSW on i.i.d. Gaussian noise in 64 dimensions is hard for every
// implementation: hnswlib also stays near 0.8 recall there). `clustered` adds
// 16 cluster centres; `scale_spread` gives norms from 0.5x to 1.5x.
std::vector<std::vector<float>>
RandomData(std::size_t n, std::size_t dims, std::uint32_t seed, bool clustered = false, bool scale_spread = false)
{
	constexpr std::size_t kLatent = 14;
	std::mt19937 basis_rng(1234); // the same subspace for data and queries
	std::normal_distribution<float> normal(0.0f, 1.0f);
	std::vector<std::vector<float>> basis(kLatent, std::vector<float>(dims));
	for (auto &row : basis)
		for (float &x : row)
			x = normal(basis_rng);
	std::vector<std::vector<float>> centres(16, std::vector<float>(kLatent));
	for (auto &c : centres)
		for (float &x : c)
			x = normal(basis_rng) * 3;
	std::mt19937 rng(seed);
	std::uniform_real_distribution<float> spread(0.5f, 1.5f);
	std::vector<std::vector<float>> data(n, std::vector<float>(dims));
	for (std::size_t i = 0; i < n; i++)
	{
		float latent[kLatent];
		for (std::size_t l = 0; l < kLatent; l++)
			latent[l] = normal(rng) + (clustered ? centres[rng() % 16][l] : 0.0f);
		float scale = scale_spread ? spread(rng) : 1.0f;
		for (std::size_t d = 0; d < dims; d++)
		{
			float x = 0.05f * normal(rng);
			for (std::size_t l = 0; l < kLatent; l++)
				x += latent[l] * basis[l][d];
			data[i][d] = x * scale;
		}
	}
	return data;
}

void
NormalizeAll(std::vector<std::vector<float>> &data)
{
	for (auto &v : data)
	{
		float norm2 = 0;
		ASSERT_EQ(CheckVector(Metric::kCosine, v, norm2), VectorProblem::kNone);
		std::vector<float> out(v.size());
		Normalize(v, norm2, out);
		v = out;
	}
}

std::vector<std::uint32_t>
BruteForce(const std::vector<std::vector<float>> &data, const std::vector<float> &q, Metric metric, std::size_t k)
{
	std::vector<Candidate> all;
	for (std::uint32_t i = 0; i < data.size(); i++)
		all.push_back(Candidate{InternalDistance(BestKernels(), metric, q.data(), data[i].data(), q.size()), i});
	std::partial_sort(all.begin(), all.begin() + k, all.end(), Nearer);
	std::vector<std::uint32_t> ids;
	for (std::size_t i = 0; i < k; i++)
		ids.push_back(all[i].id);
	return ids;
}

struct Built {
	BuildArena arena;
	BuildGraph graph;
	GraphBuilder builder;
	Built(const GraphParams &params, std::uint64_t seed) : graph(arena, params), builder(arena, graph, seed) {}
};

double
Recall(Built &b, const std::vector<std::vector<float>> &data, const std::vector<std::vector<float>> &queries,
	   Metric metric, std::size_t k, std::size_t ef)
{
	std::size_t hits = 0;
	for (const auto &q : queries)
	{
		std::vector<std::uint32_t> truth = BruteForce(data, q, metric, k);
		std::vector<Candidate> found = b.builder.Search(q, ef);
		std::set<std::uint32_t> truth_set(truth.begin(), truth.end());
		for (std::size_t i = 0; i < std::min(k, found.size()); i++)
			hits += truth_set.count(static_cast<std::uint32_t>(b.graph.label(found[i].id)));
	}
	return static_cast<double>(hits) / static_cast<double>(k * queries.size());
}

} // namespace

TEST(Level, RandomLevelFollowsTheGeometricDistribution)
{
	double ml = LevelMultiplier(16);
	std::mt19937_64 rng(1);
	std::vector<int> counts(kMaxLevel + 1);
	const int n = 200000;
	for (int i = 0; i < n; i++)
		counts[RandomLevel(static_cast<double>((rng() >> 11) + 1) * 0x1.0p-53, ml)]++;
	// P(level >= 1) = 1/16.
	double above = static_cast<double>(n - counts[0]) / n;
	EXPECT_NEAR(above, 1.0 / 16, 0.005);
	EXPECT_EQ(RandomLevel(1e-300, ml), kMaxLevel); // capped
	EXPECT_EQ(RandomLevel(1.0, ml), 0);
}

TEST(Heuristic, KeepsDiverseNeighbours)
{
	// Base at the origin; candidates at x = 1, 1.1 (right behind the first) and
	// y = 2. The second is nearer to the first than to the base: dropped.
	std::vector<std::vector<float>> pts = {{1, 0}, {1.1f, 0}, {0, 2}};
	auto dist = [&](std::uint32_t a, std::uint32_t b) {
		return BestKernels().l2_squared(pts[a].data(), pts[b].data(), 2);
	};
	std::vector<Candidate> sorted = {{1.0f, 0}, {1.21f, 1}, {4.0f, 2}};
	Candidate out[3];
	std::size_t n = SelectNeighborsHeuristic(std::span<const Candidate>(sorted), 2, dist, out);
	ASSERT_EQ(n, 2u);
	EXPECT_EQ(out[0].id, 0u);
	EXPECT_EQ(out[1].id, 2u);
	// No more candidates than wanted: all kept.
	n = SelectNeighborsHeuristic(std::span<const Candidate>(sorted), 3, dist, out);
	EXPECT_EQ(n, 3u);
}

TEST(BuildGraph, LinksAreValidSymmetricEnoughAndBounded)
{
	GraphParams params{32, 8, 32, Metric::kL2};
	Built b(params, 3);
	auto data = RandomData(2000, params.dims, 11);
	for (std::uint32_t i = 0; i < data.size(); i++)
		b.builder.Insert(data[i], 1000 + i);
	ASSERT_EQ(b.graph.size(), data.size());
	EXPECT_EQ(b.graph.max_level(), b.graph.level(b.graph.entry_point()));
	std::size_t links = 0, back = 0;
	for (std::uint32_t id = 0; id < b.graph.size(); id++)
	{
		EXPECT_EQ(b.graph.label(id), 1000u + id);
		EXPECT_LE(b.graph.level(id), b.graph.max_level());
		for (int level = 0; level <= b.graph.level(id); level++)
		{
			const std::uint32_t *list = b.graph.links(id, level);
			ASSERT_LE(list[0], static_cast<std::uint32_t>(params.max_links(level)));
			if (b.graph.size() > 1 && level == 0)
			{
				EXPECT_GT(list[0], 0u) << "node " << id << " has no layer-0 link";
			}
			std::set<std::uint32_t> seen;
			for (std::uint32_t i = 0; i < list[0]; i++)
			{
				std::uint32_t to = list[1 + i];
				ASSERT_LT(to, b.graph.size());
				EXPECT_NE(to, id);
				EXPECT_GE(b.graph.level(to), level) << "link to a node without this layer";
				EXPECT_TRUE(seen.insert(to).second) << "duplicate link";
				links++;
				const std::uint32_t *rev = b.graph.links(to, level);
				back += std::count(rev + 1, rev + 1 + rev[0], id);
			}
		}
	}
	// Links are made both ways; pruning drops some of the reverse ones.
	EXPECT_GT(static_cast<double>(back) / links, 0.5);
	// Vectors are stored as given.
	EXPECT_EQ(0, std::memcmp(b.graph.vector(17), data[17].data(), params.dims * sizeof(float)));
}

TEST(BuildGraph, SameSeedSameGraph)
{
	GraphParams params{16, 6, 24, Metric::kL2};
	auto data = RandomData(500, params.dims, 5);
	Built a(params, 9), b(params, 9);
	for (std::uint32_t i = 0; i < data.size(); i++)
	{
		a.builder.Insert(data[i], i);
		b.builder.Insert(data[i], i);
	}
	for (std::uint32_t id = 0; id < data.size(); id++)
	{
		ASSERT_EQ(a.graph.level(id), b.graph.level(id));
		const std::uint32_t *la = a.graph.links(id, 0), *lb = b.graph.links(id, 0);
		ASSERT_EQ(std::vector<std::uint32_t>(la, la + 1 + la[0]), std::vector<std::uint32_t>(lb, lb + 1 + lb[0]));
	}
}

TEST(BuildGraph, RecallAgainstBruteForce)
{
	struct Case {
		Metric metric;
		bool clustered;
		std::size_t dims;
	};
	for (Case c : {Case{Metric::kL2, false, 24}, Case{Metric::kL2, true, 64}, Case{Metric::kInnerProduct, true, 32},
				   Case{Metric::kCosine, true, 48}})
	{
		GraphParams params{c.dims, 16, 64, c.metric};
		Built b(params, 42);
		bool spread = c.metric == Metric::kInnerProduct;
		auto data = RandomData(5000, c.dims, 21, c.clustered, spread);
		auto queries = RandomData(100, c.dims, 99, c.clustered, spread);
		if (c.metric == Metric::kCosine)
		{
			NormalizeAll(data);
			NormalizeAll(queries);
		}
		for (std::uint32_t i = 0; i < data.size(); i++)
			b.builder.Insert(data[i], i);
		double recall = Recall(b, data, queries, c.metric, 10, 64);
		std::printf("%s %s dims=%zu: recall@10 at ef=64: %.4f\n", MetricName(c.metric),
					c.clustered ? "clustered" : "uniform", c.dims, recall);
		// Inner product searches a graph linked by L2 (see ConstructionMetric):
		// navigable everywhere, a little less precise at equal ef.
		EXPECT_GE(recall, c.metric == Metric::kInnerProduct ? 0.92 : 0.95) << MetricName(c.metric);
		// A wider search finds at least as much, and nearly everything.
		double wide = Recall(b, data, queries, c.metric, 10, 256);
		EXPECT_GE(wide, 0.99) << MetricName(c.metric);
	}
}

TEST(BuildGraph, SearchResultsAreSortedAndDistinct)
{
	GraphParams params{8, 4, 16, Metric::kL2};
	Built b(params, 1);
	auto data = RandomData(300, params.dims, 2);
	for (std::uint32_t i = 0; i < data.size(); i++)
		b.builder.Insert(data[i], i);
	std::vector<Candidate> found = b.builder.Search(data[5], 40);
	ASSERT_EQ(found.size(), 40u);
	EXPECT_EQ(found[0].id, 5u); // the vector itself, at distance 0
	EXPECT_EQ(found[0].distance, 0.0f);
	std::set<std::uint32_t> ids;
	for (std::size_t i = 0; i < found.size(); i++)
	{
		EXPECT_TRUE(ids.insert(found[i].id).second);
		if (i > 0)
		{
			EXPECT_LE(found[i - 1].distance, found[i].distance);
		}
		EXPECT_FLOAT_EQ(found[i].distance, b.builder.NodeDistance(5, found[i].id));
	}
}

TEST(BuildGraph, EmptyAndSingleNode)
{
	GraphParams params{4, 4, 8, Metric::kL2};
	Built b(params, 1);
	std::vector<float> q = {1, 2, 3, 4};
	EXPECT_TRUE(b.builder.Search(q, 10).empty());
	b.builder.Insert(q, 77);
	std::vector<Candidate> found = b.builder.Search(q, 10);
	ASSERT_EQ(found.size(), 1u);
	EXPECT_EQ(b.graph.label(found[0].id), 77u);
}

TEST(VisitedMap, GrowsAndKeepsPayloads)
{
	quarry::mem::ScanArena arena(quarry::mem::HeapBlockSource());
	VisitedMap visited(arena, 4);
	for (std::uint32_t i = 0; i < 10000; i += 3)
	{
		EXPECT_TRUE(visited.TryVisit(i));
		visited.SetPayload(i, i * 7ull + 1);
	}
	for (std::uint32_t i = 0; i < 10000; i++)
	{
		EXPECT_EQ(visited.Contains(i), i % 3 == 0) << i;
		EXPECT_EQ(visited.Payload(i), i % 3 == 0 ? i * 7ull + 1 : 0u);
	}
	EXPECT_FALSE(visited.TryVisit(3));
	EXPECT_EQ(visited.size(), 3334u);
}

TEST(VisitedEpochs, ClearForgetsEverythingAcrossWraparound)
{
	VisitedEpochs<> visited;
	visited.Resize(10);
	for (int round = 0; round < 70000; round++)
	{
		visited.Clear();
		ASSERT_TRUE(visited.TryVisit(round % 10));
		ASSERT_FALSE(visited.TryVisit(round % 10));
		ASSERT_FALSE(visited.Contains((round + 1) % 10));
	}
}

// Inner product is not a metric: graphs linked by it lose most links to
// Algorithm 4 and most nodes become unreachable on uniform positive data.
// quarry links inner-product graphs by L2, so every node stays reachable.
TEST(BuildGraph, InnerProductGraphsStayConnected)
{
	GraphParams params{8, 16, 32, Metric::kInnerProduct};
	Built b(params, 1);
	std::mt19937 rng(3);
	std::uniform_real_distribution<float> uniform(0, 100);
	const std::uint32_t n = 2000;
	for (std::uint32_t i = 0; i < n; i++)
	{
		std::vector<float> v(params.dims);
		for (float &x : v)
			x = uniform(rng);
		b.builder.Insert(v, i);
	}
	// Breadth-first over layer 0 from the entry point.
	std::vector<std::uint8_t> reached(n, 0);
	std::vector<std::uint32_t> queue = {b.graph.entry_point()};
	reached[b.graph.entry_point()] = 1;
	for (std::size_t head = 0; head < queue.size(); head++)
	{
		const std::uint32_t *list = b.graph.links(queue[head], 0);
		for (std::uint32_t i = 0; i < list[0]; i++)
		{
			if (!reached[list[1 + i]])
			{
				reached[list[1 + i]] = 1;
				queue.push_back(list[1 + i]);
			}
		}
	}
	const std::size_t reachable = queue.size();
	EXPECT_EQ(reachable, n);
	// And the search by inner product finds the true maximum inner products.
	std::vector<float> q = {1, 2, 3, 4, 5, 6, 7, 8};
	std::vector<Candidate> found = b.builder.Search(q, 100);
	ASSERT_FALSE(found.empty());
	float best = 0;
	for (std::uint32_t i = 0; i < n; i++)
		best = std::min(best, -BestKernels().dot(q.data(), b.graph.vector(i), q.size()));
	EXPECT_EQ(found[0].distance, best);
}

TEST(BuildGraph, BreadthFirstOrderIsAPermutationStartingAtTheEntryPoint)
{
	GraphParams params{8, 4, 16, Metric::kL2};
	Built b(params, 4);
	auto data = RandomData(700, params.dims, 8);
	for (std::uint32_t i = 0; i < data.size(); i++)
		b.builder.Insert(data[i], i);
	std::vector<std::uint32_t> order(b.graph.size());
	std::vector<std::uint8_t> seen(b.graph.size());
	BreadthFirstOrder(b.graph, order, seen);
	EXPECT_EQ(order[0], b.graph.entry_point());
	std::vector<std::uint32_t> sorted = order;
	std::sort(sorted.begin(), sorted.end());
	for (std::uint32_t i = 0; i < sorted.size(); i++)
		ASSERT_EQ(sorted[i], i) << "not a permutation";
	// Breadth-first: every node but the first is a layer-0 neighbour of a node
	// placed before it (the graph is connected).
	std::vector<std::uint32_t> position(order.size());
	for (std::uint32_t k = 0; k < order.size(); k++)
		position[order[k]] = k;
	for (std::uint32_t k = 1; k < order.size(); k++)
	{
		bool reached = false;
		for (std::uint32_t j = 0; j < k && !reached; j++)
		{
			const std::uint32_t *list = b.graph.links(order[j], 0);
			reached = std::find(list + 1, list + 1 + list[0], order[k]) != list + 1 + list[0];
		}
		ASSERT_TRUE(reached) << "node at position " << k;
	}
}
