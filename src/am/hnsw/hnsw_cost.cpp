// quarry_hnsw amcostestimate.
//
// An HNSW scan does its work before the first row: a greedy descent through
// the upper layers (about one page per layer), then a search of layer 0 that
// scores about ef_search * 2m / 2 nodes (half of each neighbour list is new).
// Rows after the first come from the iterative scan, so every row of the
// table can come out of the index (selectivity 1), and a LIMIT takes only
// its share of the run cost.
//
// A scored node is charged as CPU work (an index tuple and a distance of a
// few operator costs), not as a random page read: a graph index is only fast
// when it is cached, and charging random_page_cost for each of the thousands
// of records an ef_search of 100 or more scores (genericcostestimate's
// model, used before) priced it above a sequential scan that computes the
// distance to every row (PostgreSQL charges one cpu_operator_cost for that
// distance, detoasting included), so a user raising ef_search on a table of
// 60,000 784-d vectors silently got an exact scan a hundred times slower. The
// descent is charged random_page_cost per layer. A table of a few hundred
// rows still gets the exact sequential scan (it costs less than scoring the
// same rows through the graph), as it should.
// Without an ORDER BY on the distance operator (or with more than one) the
// index is useless, and costs as much.
#include "am/hnsw/hnsw.h"

extern "C" {
#include "access/relation.h"
#include "optimizer/cost.h"
#include "utils/spccache.h"
}

#include "pg/guard.h"

#include <algorithm>
#include <cmath>

namespace quarry::am::hnsw {

namespace {

/// Operator costs of scoring one node: the distance, and the candidate and
/// visited-set bookkeeping around it.
constexpr double kOperatorsPerScoredNode = 4.0;

} // namespace

void
CostEstimate(PlannerInfo *root, IndexPath *path, double loop_count, Cost *startup_cost, Cost *total_cost,
				 Selectivity *selectivity, double *correlation, double *pages)
{
	// The scan orders by one distance; ORDER BY two distances needs a sort
	// (ties on the first would not be ordered by the second).
	if (path->indexorderbys == NIL || list_length(path->indexorderbys) > 1)
	{
		*startup_cost = disable_cost;
		*total_cost = disable_cost;
		*selectivity = 0;
		*correlation = 0;
		*pages = 0;
		return;
	}
	Relation index = index_open(path->indexinfo->indexoid, NoLock);
	const double m = OptionM(index);
	index_close(index, NoLock);

	IndexOptInfo *info = path->indexinfo;
	const double tuples = std::max(info->tuples, 1.0);
	const double ef = std::max(ef_search, 1);
	const double levels = std::max(0.0, std::log(tuples) / std::log(std::max(m, 2.0)));
	const double scored = std::min(tuples, ef * m + levels * m + 1);
	double random_page_cost;
	double seq_page_cost;
	get_tablespace_page_costs(info->reltablespace, &random_page_cost, &seq_page_cost);

	const Cost descent = (levels + 1) * random_page_cost;
	const Cost search = scored * (cpu_index_tuple_cost + kOperatorsPerScoredNode * cpu_operator_cost);
	*startup_cost = descent + search;
	*total_cost = *startup_cost;
	*selectivity = 1.0;
	*correlation = 0;
	*pages = std::min<double>(std::max<double>(info->pages, 1), levels + 1 + scored * info->pages / tuples);
}

} // namespace quarry::am::hnsw
