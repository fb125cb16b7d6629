// The shared graph of a parallel build: threads inserting at once into one
// region (as the processes of a parallel CREATE INDEX do), then the links
// checked node by node and the recall compared with the serial builder's.
#include "hnsw/builder.h"
#include "hnsw/graph.h"
#include "hnsw/level.h"
#include "hnsw/shared_graph.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <atomic>
#include <cstdio>
#include <cstring>
#include <random>
#include <set>
#include <thread>
#include <vector>

using namespace quarry::hnsw;
using quarry::mem::BuildArena;

namespace {

constexpr std::uint64_t kSeed = 42;

// Clustered points on a 12-dimensional subspace of `dims` (like embeddings,
// whose intrinsic dimension is far below the ambient one), a few repeated.
std::vector<std::vector<float>>
Data(std::size_t n, std::size_t dims, std::uint32_t seed)
{
	std::mt19937 basis_rng(99);
	std::normal_distribution<float> normal(0.0f, 1.0f);
	std::vector<std::vector<float>> basis(12, std::vector<float>(dims));
	for (auto &row : basis)
		for (float &x : row)
			x = normal(basis_rng);
	std::mt19937 rng(seed);
	std::vector<std::vector<float>> data(n, std::vector<float>(dims));
	for (std::size_t i = 0; i < n; i++)
	{
		if (i % 97 == 5 && i > 0)
		{
			data[i] = data[i / 2]; // a duplicate
			continue;
		}
		float centre = static_cast<float>(rng() % 8);
		for (std::size_t d = 0; d < dims; d++)
		{
			float x = 0.05f * normal(rng);
			for (std::size_t l = 0; l < 12; l++)
				x += (normal(rng) + centre) * basis[l][d] * 0.3f;
			data[i][d] = x;
		}
	}
	return data;
}

struct Region {
	std::vector<std::byte> bytes;
	Region(const GraphParams &params, std::uint32_t capacity) : bytes(SharedGraph::RegionBytes(params, capacity))
	{
		SharedGraph::Initialize(bytes, params, capacity);
	}
};

// Inserts rows [0, n) from `threads` threads, each taking the next row from a
// shared counter (as processes take heap blocks). Returns how many were
// refused.
std::uint32_t
InsertConcurrently(std::byte *region, const std::vector<std::vector<float>> &data, int threads)
{
	std::atomic<std::size_t> next{0};
	std::atomic<std::uint32_t> refused{0};
	const double ml = LevelMultiplier(SharedGraph(region).params().m);
	std::vector<std::thread> pool;
	for (int t = 0; t < threads; t++)
		pool.emplace_back([&] {
			BuildArena arena; // this thread's scratch
			SharedGraph graph(region);
			SharedInserter inserter(arena, graph);
			for (std::size_t i; (i = next.fetch_add(1)) < data.size();)
			{
				if (!inserter.Insert(data[i], i, LevelOfLabel(i, kSeed, ml)))
					refused++;
			}
		});
	for (auto &t : pool)
		t.join();
	return refused.load();
}

// Every link names another graph node of the layer, no list repeats one or
// exceeds its capacity, duplicates hang on a primary with their vector, and
// the entry point holds the top level.
void
CheckLinks(const SharedGraph &g)
{
	const std::uint32_t n = g.size();
	int top = -1;
	for (std::uint32_t id = 0; id < n; id++)
	{
		if (g.is_duplicate(id))
		{
			const std::uint32_t p = g.duplicate_of(id);
			ASSERT_LT(p, n);
			EXPECT_FALSE(g.is_duplicate(p));
			EXPECT_EQ(std::memcmp(g.vector(id), g.vector(p), sizeof(float) * g.params().dims), 0);
			continue;
		}
		top = std::max(top, g.level(id));
		for (int l = 0; l <= g.level(id); l++)
		{
			const std::uint32_t *list = g.links(id, l);
			ASSERT_LE(list[0], static_cast<std::uint32_t>(g.params().max_links(l)));
			std::set<std::uint32_t> seen;
			for (std::uint32_t i = 0; i < list[0]; i++)
			{
				const std::uint32_t to = list[1 + i];
				ASSERT_LT(to, n);
				EXPECT_NE(to, id);
				EXPECT_TRUE(seen.insert(to).second) << "repeated link";
				EXPECT_GE(g.level(to), l) << "link to a node not on layer " << l;
				EXPECT_FALSE(g.is_duplicate(to));
			}
		}
	}
	EXPECT_EQ(g.max_level(), top);
	EXPECT_EQ(g.level(g.entry_point()), top);
	for (std::uint32_t id = 0; id < n; id++) // every duplicate is on its chain
	{
		if (!g.is_duplicate(id))
			continue;
		bool found = false;
		for (std::uint32_t d = g.next_duplicate(g.duplicate_of(id)); d != kInvalidNode && !found;
			 d = g.next_duplicate(d))
			found = d == id;
		EXPECT_TRUE(found);
	}
}

std::set<std::uint64_t>
Truth(const std::vector<std::vector<float>> &data, const std::vector<float> &q, std::size_t k)
{
	std::vector<Candidate> all;
	for (std::uint32_t i = 0; i < data.size(); i++)
		all.push_back(Candidate{InternalDistance(BestKernels(), Metric::kL2, q.data(), data[i].data(), q.size()), i});
	std::partial_sort(all.begin(), all.begin() + k, all.end(), Nearer);
	std::set<std::uint64_t> ids;
	for (std::size_t i = 0; i < k; i++)
		ids.insert(all[i].id);
	return ids;
}

template <typename SearchFn, typename LabelFn>
double
Recall(const std::vector<std::vector<float>> &data, const std::vector<std::vector<float>> &queries, SearchFn &&search,
	   LabelFn &&label)
{
	std::size_t hits = 0;
	for (const auto &q : queries)
	{
		const std::set<std::uint64_t> truth = Truth(data, q, 10);
		const std::vector<Candidate> found = search(q);
		for (std::size_t i = 0; i < std::min<std::size_t>(10, found.size()); i++)
			hits += truth.count(label(found[i].id));
	}
	return static_cast<double>(hits) / static_cast<double>(10 * queries.size());
}

} // namespace

TEST(SharedGraph, ConcurrentInsertsKeepLinksValid)
{
	const GraphParams params{24, 8, 32, Metric::kL2};
	const auto data = Data(6000, params.dims, 1);
	Region region(params, 6000);
	EXPECT_EQ(InsertConcurrently(region.bytes.data(), data, 4), 0u);
	SharedGraph g(region.bytes.data());
	ASSERT_EQ(g.size(), 6000u);
	CheckLinks(g);
	std::set<std::uint64_t> labels;
	for (std::uint32_t id = 0; id < g.size(); id++)
		labels.insert(g.label(id));
	EXPECT_EQ(labels.size(), 6000u); // each row once
	// Breadth-first order from the entry point reaches every linked node.
	std::vector<std::uint32_t> order(g.size());
	std::vector<std::uint8_t> seen(g.size());
	BreadthFirstOrder(g, order, seen);
	EXPECT_EQ(order[0], g.entry_point());
}

TEST(SharedGraph, RecallEqualsTheSerialBuilders)
{
	const GraphParams params{32, 12, 64, Metric::kL2};
	const auto data = Data(8000, params.dims, 2);
	const auto queries = Data(200, params.dims, 3);

	Region region(params, 8000);
	InsertConcurrently(region.bytes.data(), data, 4);
	BuildArena arena;
	SharedGraph shared(region.bytes.data());
	SharedInserter searcher(arena, shared);
	const double parallel = Recall(
		data, queries, [&](const std::vector<float> &q) { return searcher.Search(q, 64); },
		[&](std::uint32_t id) { return shared.label(id); });

	BuildArena serial_arena;
	BuildGraph graph(serial_arena, params);
	GraphBuilder builder(serial_arena, graph, kSeed);
	for (std::size_t i = 0; i < data.size(); i++)
		builder.Insert(data[i], i);
	const double serial = Recall(
		data, queries, [&](const std::vector<float> &q) { return builder.Search(q, 64); },
		[&](std::uint32_t id) { return graph.label(id); });
	std::printf("recall@10 at ef 64: parallel %.4f, serial %.4f\n", parallel, serial);
	EXPECT_GT(serial, 0.9);
	EXPECT_NEAR(parallel, serial, 0.02) << "parallel " << parallel << ", serial " << serial;
}

TEST(SharedGraph, AFullRegionRefusesTheRest)
{
	const GraphParams params{16, 6, 24, Metric::kL2};
	const auto data = Data(3000, params.dims, 4);
	const std::size_t bytes = SharedGraph::RegionBytes(params, 1000);
	EXPECT_EQ(SharedGraph::CapacityFor(params, bytes), 1000u);
	Region region(params, 1000);
	EXPECT_EQ(InsertConcurrently(region.bytes.data(), data, 3), 2000u);
	SharedGraph g(region.bytes.data());
	EXPECT_EQ(g.size(), 1000u);
	EXPECT_EQ(g.refused(), 2000u);
	EXPECT_LE(g.used_bytes(), bytes);
	CheckLinks(g);
}

TEST(SharedGraph, CosineGraphOfOneThreadIsSound)
{
	GraphParams params{20, 8, 32, Metric::kCosine};
	auto data = Data(2000, params.dims, 5);
	for (auto &v : data)
	{
		float norm2 = 0;
		ASSERT_EQ(CheckVector(Metric::kCosine, v, norm2), VectorProblem::kNone);
		std::vector<float> out(v.size());
		Normalize(v, norm2, out);
		v = out;
	}
	Region region(params, 2000);
	EXPECT_EQ(InsertConcurrently(region.bytes.data(), data, 1), 0u);
	CheckLinks(SharedGraph(region.bytes.data()));
}

TEST(SharedGraph, LevelOfLabelFollowsTheGeometricDistribution)
{
	const double ml = LevelMultiplier(16);
	int above = 0;
	const int n = 200000;
	for (int i = 0; i < n; i++)
		above += LevelOfLabel(static_cast<std::uint64_t>(i) << 16, kSeed, ml) > 0;
	EXPECT_NEAR(static_cast<double>(above) / n, 1.0 / 16, 0.005);
	EXPECT_EQ(LevelOfLabel(77, kSeed, ml), LevelOfLabel(77, kSeed, ml));
}
