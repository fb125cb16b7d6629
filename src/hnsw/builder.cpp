#include "hnsw/builder.h"

#include "hnsw/level.h"
#include "hnsw/neighbors.h"
#include "hnsw/search.h"

#include <algorithm>
#include <cstring>

namespace quarry::hnsw {

/// The in-memory graph as search.h's Graph.
class GraphBuilder::View {
public:
	View(const BuildGraph &graph, const MetricDistance &distance) : graph_(graph), distance_(distance) {}

	void
	Neighbors(std::uint32_t node, int level, NeighborBuffer &out) const
	{
		const std::uint32_t *list = graph_.links(node, level);
		out.count = list[0];
		std::memcpy(out.ids, list + 1, sizeof(std::uint32_t) * list[0]);
	}

	void
	Score(const float *query, std::span<const std::uint32_t> ids, Scored *out) const
	{
		for (std::size_t i = 0; i < ids.size(); i++)
		{
			// hnswlib's trick: fetch the next vector while this one is scored.
			if (i + 1 < ids.size())
			{
				const char *next = reinterpret_cast<const char *>(graph_.vector(ids[i + 1]));
				__builtin_prefetch(next);
				__builtin_prefetch(next + 64);
			}
			out[i] = Scored{distance_(query, graph_.vector(ids[i])), true,
							static_cast<std::int8_t>(graph_.level(ids[i]))};
		}
	}

private:
	const BuildGraph &graph_;
	const MetricDistance &distance_;
};

GraphBuilder::GraphBuilder(mem::BuildArena &arena, BuildGraph &graph, std::uint64_t seed)
	: graph_(graph),
	  build_distance_(BestKernels(), ConstructionMetric(graph.params().metric), graph.params().dims),
	  query_distance_(BestKernels(), graph.params().metric, graph.params().dims),
	  level_multiplier_(LevelMultiplier(graph.params().m)),
	  random_(seed),
	  visited_(mem::BuildAllocator<std::uint16_t>(arena)),
	  results_(mem::BuildAllocator<Candidate>(arena)),
	  candidates_(mem::BuildAllocator<Candidate>(arena)),
	  sorted_(mem::BuildAllocator<Candidate>(arena)),
	  found_(mem::BuildAllocator<Candidate>(arena))
{
}

int
GraphBuilder::NextLevel()
{
	// A uniform double in (0, 1] from the top 53 bits.
	double uniform = static_cast<double>((random_() >> 11) + 1) * 0x1.0p-53;
	return RandomLevel(uniform, level_multiplier_);
}

std::uint32_t
GraphBuilder::Insert(std::span<const float> vector, std::uint64_t label)
{
	return InsertAtLevel(vector, label, NextLevel());
}

std::uint32_t
GraphBuilder::InsertAtLevel(std::span<const float> vector, std::uint64_t label, int level)
{
	const std::uint32_t id = graph_.Append(vector, label, level);
	visited_.Resize(graph_.size());
	if (graph_.entry_point() == kInvalidNode)
	{
		graph_.SetEntryPoint(id);
		return id;
	}
	const float *query = graph_.vector(id);
	const int top = graph_.max_level();
	const int first = std::min(level, top);

	// Lines 5-7: greedy descent to the node's own top layer. Lines 8-9 on each
	// of its layers, all before any link is made: if the nearest node found
	// on layer 0 has this very vector, the new node only joins its chain.
	Candidate entry = DescendTo(query, level, build_distance_);
	found_.clear();
	for (int lc = first; lc >= 0; lc--)
	{
		SearchLevel(query, entry, lc, static_cast<std::size_t>(graph_.params().ef_construction), build_distance_);
		found_start_[lc + 1] = found_.size();
		found_.insert(found_.end(), sorted_.begin(), sorted_.end());
		entry = sorted_.front();
	}
	found_start_[0] = found_.size();
	const std::uint32_t nearest = found_[found_start_[1]].id;
	if (std::memcmp(query, graph_.vector(nearest), sizeof(float) * graph_.params().dims) == 0)
	{
		graph_.MarkDuplicate(id, nearest);
		return id;
	}
	// Lines 10-17: select neighbours, link both ways.
	for (int lc = first; lc >= 0; lc--)
	{
		const std::size_t begin = found_start_[lc + 1];
		const std::size_t end = lc > 0 ? found_start_[lc] : found_start_[0];
		Connect(id, lc, std::span<const Candidate>(found_.data() + begin, end - begin));
	}
	if (level > top)
		graph_.SetEntryPoint(id);
	return id;
}

Candidate
GraphBuilder::DescendTo(const float *query, int target_level, const MetricDistance &distance)
{
	const std::uint32_t ep = graph_.entry_point();
	Candidate entry{distance(query, graph_.vector(ep)), ep};
	View view(graph_, distance);
	for (int lc = graph_.max_level(); lc > target_level; lc--)
		entry = GreedyClosest(view, query, entry, lc);
	return entry;
}

// Algorithm 2 from one entry point; leaves the result ascending in sorted_.
void
GraphBuilder::SearchLevel(const float *query, Candidate entry, int level, std::size_t ef,
						  const MetricDistance &distance)
{
	View view(graph_, distance);
	visited_.Clear();
	visited_.TryVisit(entry.id);
	results_.clear();
	candidates_.clear();
	results_.push_back(entry);
	candidates_.push_back(entry);
	SearchLayer(view, query, level, ef, visited_, results_, candidates_);
	sorted_.assign(results_.begin(), results_.end());
	std::sort(sorted_.begin(), sorted_.end(), Nearer);
}

// Algorithm 1 lines 10-16: the new node's neighbours (Algorithm 4, m of them)
// and the links back, shrinking lists that overflow with Algorithm 4 again.
void
GraphBuilder::Connect(std::uint32_t id, int level, std::span<const Candidate> found)
{
	Candidate selected[kMaxNeighbors];
	auto pair_distance = [this](std::uint32_t a, std::uint32_t b) { return NodeDistance(a, b); };
	std::size_t n = SelectNeighborsHeuristic(found, graph_.params().m, pair_distance, selected);
	std::uint32_t *list = graph_.links(id, level);
	list[0] = static_cast<std::uint32_t>(n);
	for (std::size_t i = 0; i < n; i++)
		list[1 + i] = selected[i].id;
	for (std::size_t i = 0; i < n; i++)
		AddLink(selected[i].id, id, selected[i].distance, level);
}

void
GraphBuilder::AddLink(std::uint32_t from, std::uint32_t to, float distance, int level)
{
	std::uint32_t *list = graph_.links(from, level);
	const std::uint32_t capacity = static_cast<std::uint32_t>(graph_.params().max_links(level));
	if (list[0] < capacity)
	{
		list[1 + list[0]] = to;
		list[0]++;
		return;
	}
	// Full: keep the best `capacity` of the old links and the new one.
	Candidate pool[kMaxNeighbors + 1];
	std::size_t count = 0;
	const float *base = graph_.vector(from);
	for (std::uint32_t i = 0; i < list[0]; i++)
		pool[count++] = Candidate{Distance(base, graph_.vector(list[1 + i])), list[1 + i]};
	pool[count++] = Candidate{distance, to};
	std::sort(pool, pool + count, Nearer);
	Candidate kept[kMaxNeighbors + 1];
	auto pair_distance = [this](std::uint32_t a, std::uint32_t b) { return NodeDistance(a, b); };
	std::size_t n = SelectNeighborsHeuristic(std::span<const Candidate>(pool, count), capacity, pair_distance, kept);
	list[0] = static_cast<std::uint32_t>(n);
	for (std::size_t i = 0; i < n; i++)
		list[1 + i] = kept[i].id;
}

std::vector<Candidate>
GraphBuilder::Search(std::span<const float> query, std::size_t ef)
{
	if (graph_.entry_point() == kInvalidNode)
		return {};
	Candidate entry = DescendTo(query.data(), 0, query_distance_);
	SearchLevel(query.data(), entry, 0, ef, query_distance_);
	return std::vector<Candidate>(sorted_.begin(), sorted_.end());
}

} // namespace quarry::hnsw
