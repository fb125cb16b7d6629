// The hybrid scan's path and plan (hybrid.h): choosing the two indexes,
// the sort key the scan provides, its cost, and the CustomScan plan node.
//
// The plan's custom_exprs are the request's arguments that the executor
// evaluates (text query, vector query, depth, fusion, k, weight); its
// custom_private the OIDs of the two indexes and the site number.
#include "am/hybrid/hybrid.h"

#include "am/bm25/bm25_query.h"
#include "am/index_kind.h"
#include "pg/compat.h"
#include "pg/guard.h"

#include <algorithm>

extern "C" {
#include "nodes/makefuncs.h"
#include "nodes/nodeFuncs.h"
#include "optimizer/cost.h"
#include "optimizer/optimizer.h"
#include "optimizer/pathnode.h"
#include "optimizer/paths.h"
#include "optimizer/restrictinfo.h"
#include "utils/lsyscache.h"
}

namespace quarry::am::hybrid {
namespace {

// PlanCustomPath: the CustomScan for the path.
Plan *
PlanPath(PlannerInfo *root, RelOptInfo *rel, CustomPath *path, List *tlist, List *clauses, List *custom_plans)
{
	CustomScan *scan = makeNode(CustomScan);
	auto *call = static_cast<FuncExpr *>(linitial(path->custom_private));
	scan->scan.plan.targetlist = tlist;
	scan->scan.plan.qual = extract_actual_clauses(clauses, false);
	scan->scan.scanrelid = rel->relid;
	scan->flags = path->flags;
	for (int arg : {kTextQuery, kVectorQuery, kDepth, kFusion, kK, kWeight})
		scan->custom_exprs = lappend(scan->custom_exprs, copyObjectImpl(list_nth(call->args, arg)));
	scan->custom_private = static_cast<List *>(lsecond(path->custom_private));
	scan->methods = &kScanMethods;
	return &scan->scan.plan;
}

const CustomPathMethods kPathMethods = {
	.CustomName = "QuarryHybrid",
	.PlanCustomPath = PlanPath,
};

// The index of `kind` on column `attno` of the relation: the one `named`
// (when valid), else the only one. ERRORs when there is none, or several.
Oid
ChooseIndex(RelOptInfo *rel, RangeTblEntry *rte, IndexKind kind, AttrNumber attno, Oid named)
{
	const Oid am = AccessMethodOid(kind);
	Oid chosen = InvalidOid;
	int count = 0;
	ListCell *lc;
	foreach (lc, rel->indexlist)
	{
		auto *index = static_cast<IndexOptInfo *>(lfirst(lc));
		if (index->relam != am || index->ncolumns != 1 || index->indexkeys[0] != attno ||
			(index->indpred != NIL && !index->predOK))
			continue;
		if (named != InvalidOid && index->indexoid != named)
			continue;
		chosen = index->indexoid;
		count++;
	}
	const char *column = get_attname(rte->relid, attno, false);
	const char *table = get_rel_name(rte->relid);
	if (named != InvalidOid && count == 0)
		pg::ThrowError(ERRCODE_FEATURE_NOT_SUPPORTED, "quarry_hybrid: index \"%s\" is not a %s index on column \"%s\" of table \"%s\"",
					   get_rel_name(named), AccessMethodName(kind), column, table);
	if (count == 0)
		throw pg::Error(ERRCODE_UNDEFINED_OBJECT,
						pg::Format("quarry_hybrid: column \"%s\" of table \"%s\" has no %s index", column, table, AccessMethodName(kind)).text,
						"A partial index counts only when the query's WHERE implies its predicate.",
						pg::Format("CREATE INDEX ON %s USING %s (%s ...)", table, AccessMethodName(kind), column).text);
	if (count > 1)
		throw pg::Error(ERRCODE_AMBIGUOUS_PARAMETER,
						pg::Format("quarry_hybrid: column \"%s\" of table \"%s\" has several %s indexes", column, table, AccessMethodName(kind)).text,
						nullptr,
						kind == IndexKind::kBm25 ? "Name one in the query: quarry_query('words', 'index_name')." : "Keep one quarry_hnsw index on the column.");
	return chosen;
}

// The index a text query names, or InvalidOid: a constant's, or the
// constant index argument of quarry_query(text, regclass) or
// quarry_query_parse(text, regclass) whose text is not known yet (a
// parameter of a generic plan).
Oid
NamedIndex(Node *query)
{
	if (query != nullptr && IsA(query, FuncExpr))
	{
		auto *call = reinterpret_cast<FuncExpr *>(query);
		Node *index = list_length(call->args) == 2 ? static_cast<Node *>(lsecond(call->args)) : nullptr;
		if (call->funcresulttype == bm25::QueryTypeOid() && index != nullptr && IsA(index, Const) &&
			reinterpret_cast<Const *>(index)->consttype == REGCLASSOID && !reinterpret_cast<Const *>(index)->constisnull)
			return DatumGetObjectId(reinterpret_cast<Const *>(index)->constvalue);
		return InvalidOid;
	}
	if (query == nullptr || !IsA(query, Const) || reinterpret_cast<Const *>(query)->constisnull)
		return InvalidOid;
	return bm25::DecodeQuery(reinterpret_cast<Const *>(query)->constvalue).index;
}

// The statement's first sort key when it is `call` ascending with NULLs last
// (ORDER BY quarry_hybrid(...)), as a list of that key; NIL otherwise.
List *
ProvidedPathKeys(PlannerInfo *root, List *calls)
{
	if (root->query_pathkeys == NIL)
		return NIL;
	auto *key = static_cast<PathKey *>(linitial(root->query_pathkeys));
	if (!pg::PathKeyAscending(key) || key->pk_nulls_first)
		return NIL;
	ListCell *lc;
	foreach (lc, key->pk_eclass->ec_members)
	{
		auto *member = static_cast<EquivalenceMember *>(lfirst(lc));
		Node *expr = reinterpret_cast<Node *>(member->em_expr);
		while (IsA(expr, RelabelType))
			expr = reinterpret_cast<Node *>(reinterpret_cast<RelabelType *>(expr)->arg);
		ListCell *c;
		foreach (c, calls)
			if (equal(expr, lfirst(c)) && exprType(expr) == FLOAT8OID)
				return list_make1(key);
	}
	return NIL;
}

} // namespace

// Makes the hybrid scan the only path of `rel` (hybrid_plan.cpp's hook).
void
AddHybridPath(PlannerInfo *root, RelOptInfo *rel, RangeTblEntry *rte, List *calls)
{
	auto *call = static_cast<FuncExpr *>(linitial(calls));
	ListCell *lc;
	foreach (lc, calls)
	{
		auto *other = static_cast<FuncExpr *>(lfirst(lc));
		if (!equal(list_nth(other->args, kSite), list_nth(call->args, kSite)))
			pg::ThrowError(ERRCODE_FEATURE_NOT_SUPPORTED, "quarry_hybrid: one table reference has two hybrid rankings");
	}
	if (rte->inh)
		pg::ThrowError(ERRCODE_FEATURE_NOT_SUPPORTED, "quarry_hybrid: table \"%s\" has inheritance children or partitions, which it does not rank",
					   get_rel_name(rte->relid));
	if (!bms_is_empty(rel->lateral_relids))
		throw pg::Error(ERRCODE_FEATURE_NOT_SUPPORTED, "quarry_hybrid: its queries must not refer to another table of the same FROM list",
						nullptr, "Rank in a LATERAL subquery with its own ORDER BY quarry_hybrid(...) LIMIT n.");
	auto *text = reinterpret_cast<Var *>(strip_implicit_coercions(static_cast<Node *>(list_nth(call->args, kTextColumn))));
	auto *vector = reinterpret_cast<Var *>(strip_implicit_coercions(static_cast<Node *>(list_nth(call->args, kVectorColumn))));
	const Oid bm25_index = ChooseIndex(rel, rte, IndexKind::kBm25, text->varattno,
									   NamedIndex(static_cast<Node *>(list_nth(call->args, kTextQuery))));
	const Oid hnsw_index = ChooseIndex(rel, rte, IndexKind::kHnsw, vector->varattno, InvalidOid);
	Node *depth_arg = static_cast<Node *>(list_nth(call->args, kDepth));
	double depth = 100;
	if (IsA(depth_arg, Const) && !reinterpret_cast<Const *>(depth_arg)->constisnull)
		depth = DatumGetInt32(reinterpret_cast<Const *>(depth_arg)->constvalue);

	CustomPath *path = makeNode(CustomPath);
	path->path.pathtype = T_CustomScan;
	path->path.parent = rel;
	path->path.pathtarget = rel->reltarget;
	path->path.param_info = nullptr;
	path->path.parallel_aware = false;
	path->path.parallel_safe = false;
	path->path.parallel_workers = 0;
	path->path.rows = clamp_row_est(std::min(rel->rows, 2 * depth));
	// Two index scans that fetch `depth` rows each (more when filters reject some).
	const double fetched = 2 * depth;
	path->path.startup_cost = fetched * (random_page_cost + cpu_index_tuple_cost + cpu_tuple_cost);
	path->path.total_cost = path->path.startup_cost + path->path.rows * cpu_tuple_cost;
	path->path.pathkeys = ProvidedPathKeys(root, calls);
	path->flags = CUSTOMPATH_SUPPORT_PROJECTION;
	path->custom_private = list_make2(call, list_make3_oid(bm25_index, hnsw_index,
														   static_cast<Oid>(DatumGetInt32(reinterpret_cast<Const *>(list_nth(call->args, kSite))->constvalue))));
	path->methods = &kPathMethods;
	// The fused values exist only where this scan runs: no other path.
	rel->pathlist = NIL;
	rel->partial_pathlist = NIL;
	add_path(rel, &path->path);
}

} // namespace quarry::am::hybrid
