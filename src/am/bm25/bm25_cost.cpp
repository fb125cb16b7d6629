// amcostestimate for quarry_bm25.
//
// An ordered scan (ORDER BY col <@> q) does its work when the first row is
// asked for, in proportion to the postings of the query's terms; the rows then
// come cheaply. The generic estimate over the whole index stands for the total,
// a tenth of it for the start-up, so that a LIMIT makes the ordered scan win
// over computing <@> for every row and sorting. A query that names another
// index is never served by this one.
#include "am/bm25/bm25.h"
#include "am/bm25/bm25_query.h"

extern "C" {
#include "catalog/pg_type.h"
#include "nodes/primnodes.h"
#include "optimizer/cost.h"
#include "optimizer/optimizer.h"
#include "utils/selfuncs.h"
}

namespace quarry::am::bm25 {

namespace {

// The index a query operand names, when planning can tell: a constant
// quarry_query, quarry_query(text, 'index'), or the planner's
// quarry_query_resolve(q, index) around a query that names none.
Oid
NamedIndex(Node *expr)
{
	if (expr == nullptr)
		return InvalidOid;
	if (IsA(expr, Const))
	{
		Const *c = reinterpret_cast<Const *>(expr);
		if (c->constisnull || c->consttype != QueryTypeOid())
			return InvalidOid;
		return DecodeQuery(c->constvalue).index;
	}
	if (!IsA(expr, FuncExpr))
		return InvalidOid;
	FuncExpr *f = reinterpret_cast<FuncExpr *>(expr);
	if (list_length(f->args) != 2 || f->funcresulttype != QueryTypeOid())
		return InvalidOid;
	Node *first = static_cast<Node *>(linitial(f->args));
	Node *second = static_cast<Node *>(lsecond(f->args));
	if (!IsA(second, Const) || reinterpret_cast<Const *>(second)->constisnull)
		return InvalidOid;
	Oid second_type = reinterpret_cast<Const *>(second)->consttype;
	Oid named = DatumGetObjectId(reinterpret_cast<Const *>(second)->constvalue);
	if (second_type == REGCLASSOID)
		return named; // quarry_query(text, regclass)
	if (second_type == OIDOID)
	{
		Oid inner = NamedIndex(first); // quarry_query_resolve: an inner name wins
		return inner != InvalidOid ? inner : named;
	}
	return InvalidOid;
}

bool
NamesOtherIndex(Node *expr, Oid index)
{
	Oid named = NamedIndex(expr);
	return named != InvalidOid && named != index;
}

bool
AnyNamesOtherIndex(IndexPath *path)
{
	Oid index = path->indexinfo->indexoid;
	ListCell *lc;
	foreach (lc, path->indexorderbys)
	{
		Node *clause = static_cast<Node *>(lfirst(lc));
		if (IsA(clause, OpExpr) && NamesOtherIndex(static_cast<Node *>(lsecond(reinterpret_cast<OpExpr *>(clause)->args)), index))
			return true;
	}
	foreach (lc, path->indexclauses)
	{
		IndexClause *ic = static_cast<IndexClause *>(lfirst(lc));
		ListCell *lc2;
		foreach (lc2, ic->indexquals)
		{
			RestrictInfo *ri = static_cast<RestrictInfo *>(lfirst(lc2));
			Node *clause = reinterpret_cast<Node *>(ri->clause);
			if (IsA(clause, OpExpr) && NamesOtherIndex(static_cast<Node *>(lsecond(reinterpret_cast<OpExpr *>(clause)->args)), index))
				return true;
		}
	}
	return false;
}

} // namespace

void
CostEstimate(PlannerInfo *root, IndexPath *path, double loop_count, Cost *startup, Cost *total,
			 Selectivity *selectivity, double *correlation, double *pages)
{
	GenericCosts costs;
	MemSet(&costs, 0, sizeof(costs));
	genericcostestimate(root, path, loop_count, &costs);

	*startup = costs.indexTotalCost * 0.1;
	*total = costs.indexTotalCost;
	*selectivity = costs.indexSelectivity;
	*correlation = 0;
	*pages = costs.numIndexPages;

	// No key and no ordering: a full index scan is never better than the heap.
	if (path->indexclauses == NIL && path->indexorderbys == NIL)
	{
		*startup = disable_cost;
		*total = disable_cost;
	}
	if (AnyNamesOtherIndex(path))
	{
		*startup = disable_cost;
		*total = disable_cost;
	}
}

} // namespace quarry::am::bm25
