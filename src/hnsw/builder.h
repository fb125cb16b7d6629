// Building the in-memory graph one node at a time (Malkov & Yashunin 2018,
// Algorithm 1 INSERT, with Algorithm 2 for the layer searches and Algorithm 4
// for neighbour selection). Single-threaded: one builder per graph.
#pragma once

#include "hnsw/candidates.h"
#include "hnsw/distance.h"
#include "hnsw/graph.h"
#include "hnsw/level.h"
#include "hnsw/visited.h"
#include "memory/build_arena.h"

#include <cstdint>
#include <random>
#include <span>
#include <vector>

namespace quarry::hnsw {

class GraphBuilder {
public:
	/// Levels are drawn from a generator seeded with `seed`, so a build of the
	/// same rows in the same order gives the same graph.
	GraphBuilder(mem::BuildArena &arena, BuildGraph &graph, std::uint64_t seed);

	/// Inserts `vector` (dims floats; unit length under cosine) with `label` at
	/// a random level. Returns the new node's id. A vector equal to one in the
	/// graph becomes a duplicate of that node (BuildGraph::is_duplicate).
	/// Throws std::bad_alloc.
	std::uint32_t Insert(std::span<const float> vector, std::uint64_t label);

	/// The same at a given level (tests).
	std::uint32_t InsertAtLevel(std::span<const float> vector, std::uint64_t label, int level);

	/// The level the next Insert will use.
	int NextLevel();

	/// Internal distance between two stored nodes.
	float
	NodeDistance(std::uint32_t a, std::uint32_t b) const
	{
		return Distance(graph_.vector(a), graph_.vector(b));
	}

	/// The construction distance (see ConstructionMetric).
	float Distance(const float *a, const float *b) const { return build_distance_(a, b); }

	/// A search by the index's own metric, as a scan does it, for tests: up to
	/// `ef` nearest nodes to `query`, ascending.
	std::vector<Candidate> Search(std::span<const float> query, std::size_t ef);

private:
	class View;
	using CandidateVector = std::vector<Candidate, mem::BuildAllocator<Candidate>>;

	Candidate DescendTo(const float *query, int target_level, const MetricDistance &distance);
	void SearchLevel(const float *query, Candidate entry, int level, std::size_t ef, const MetricDistance &distance);
	void Connect(std::uint32_t id, int level, std::span<const Candidate> found);
	void AddLink(std::uint32_t from, std::uint32_t to, float distance, int level);

	BuildGraph &graph_;
	MetricDistance build_distance_;
	MetricDistance query_distance_;
	double level_multiplier_;
	std::mt19937_64 random_;
	VisitedEpochs<mem::BuildAllocator<std::uint16_t>> visited_;
	CandidateVector results_;
	CandidateVector candidates_;
	CandidateVector sorted_;
	CandidateVector found_; // per level: the search results, before linking
	std::size_t found_start_[kMaxLevel + 2];
};

} // namespace quarry::hnsw
