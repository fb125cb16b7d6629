// quarry_hnsw amcostestimate.
//
// An HNSW scan does all its work before the first row: it scores about
// ef_search * 2m / 2 nodes on layer 0 (half of each neighbour list is new) plus
// m per upper layer, and touches about one page per scored node. That is what
// genericcostestimate is told; the start-up cost is the whole cost. Without an
// ORDER BY on the distance operator (or with more than one) the index is
// useless, and costs as much.
#include "am/hnsw/hnsw.h"

extern "C" {
#include "access/relation.h"
#include "optimizer/cost.h"
#include "utils/selfuncs.h"
}

#include "pg/guard.h"

#include <algorithm>
#include <cmath>

namespace quarry::am::hnsw {

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

	const double tuples = std::max(path->indexinfo->tuples, 1.0);
	const double ef = std::max(ef_search, 1);
	const double levels = std::max(0.0, std::log(tuples) / std::log(std::max(m, 2.0)));
	const double scored = std::min(tuples, ef * m + levels * m + 1);

	GenericCosts costs{};
	costs.numIndexTuples = scored;
	genericcostestimate(root, path, loop_count, &costs);

	*startup_cost = costs.indexTotalCost;
	*total_cost = costs.indexTotalCost;
	*selectivity = costs.indexSelectivity;
	*correlation = 0;
	*pages = costs.numIndexPages;
}

} // namespace quarry::am::hnsw
