// Neighbour selection (Malkov & Yashunin 2018, Algorithm 4
// SELECT-NEIGHBORS-HEURISTIC, without extendCandidates and
// keepPrunedConnections, as hnswlib does).
//
// A candidate joins the selection only if it is nearer to the base element than
// to every neighbour selected before it. This keeps links pointing in diverse
// directions, which is what makes the graph navigable on clustered data.
#pragma once

#include "hnsw/candidates.h"

#include <cstddef>
#include <span>

namespace quarry::hnsw {

/// Selects up to `max_count` of `sorted` (ascending by distance to the base
/// element) into `out`; returns how many. `pair_distance(a, b)` is the internal
/// distance between nodes a and b. When there are no more candidates than
/// `max_count`, all are kept (as hnswlib does).
template <typename PairDistance>
std::size_t
SelectNeighborsHeuristic(std::span<const Candidate> sorted, std::size_t max_count, PairDistance &&pair_distance,
						 Candidate *out)
{
	if (sorted.size() <= max_count)
	{
		for (std::size_t i = 0; i < sorted.size(); i++)
			out[i] = sorted[i];
		return sorted.size();
	}
	std::size_t count = 0;
	for (const Candidate &e : sorted)
	{
		if (count >= max_count)
			break;
		bool keep = true;
		for (std::size_t r = 0; r < count; r++)
		{
			if (pair_distance(e.id, out[r].id) < e.distance)
			{
				keep = false;
				break;
			}
		}
		if (keep)
			out[count++] = e;
	}
	return count;
}

} // namespace quarry::hnsw
