// Scores that come from the scan: after planning, every ordered quarry_bm25
// index scan (ORDER BY col <@> q) gets `col <@> q` in its projection and its
// filter replaced by quarry_bm25_scored(ctid, col, q), which returns the value
// the scan ranked the row with instead of tokenizing the row again (a 70 kB
// document took 8 ms to tokenize per returned row). The expression replaced
// is the one the scan orders by, node for node, so it is the same query with
// the same statistics: the value is the same to the last bit, and for a row
// the scan did not just return (a rescan, a row filtered and re-read), the
// function computes it as <@> does.
#include "am/bm25/bm25.h"
#include "am/bm25/bm25_planner.h"
#include "am/bm25/bm25_query.h"
#include "am/index_kind.h"

extern "C" {
#include "access/htup_details.h"
#include "access/sysattr.h"
#include "catalog/pg_class.h"
#include "catalog/pg_type.h"
#include "nodes/makefuncs.h"
#include "nodes/nodeFuncs.h"
#include "nodes/plannodes.h"
#include "parser/parse_func.h"
#include "utils/lsyscache.h"
#include "utils/syscache.h"
}

namespace quarry::am::bm25 {

namespace {

struct ScoreRewrite {
	Oid score_op;
	Oid scored_fn;
};

struct Replace {
	Node *ordering; // the scan's ORDER BY expression: col <@> q
	Node *scored;	// quarry_bm25_scored(ctid, col, q)
};

using MutatorFn = Node *(*)();

Node *
ReplaceMutator(Node *node, Replace *r)
{
	if (node == nullptr)
		return nullptr;
	if (equal(node, r->ordering))
		return static_cast<Node *>(copyObjectImpl(r->scored));
	return expression_tree_mutator(node, reinterpret_cast<MutatorFn>(reinterpret_cast<void (*)()>(ReplaceMutator)),
								   r);
}

// One index scan: its projection and filter take the scan's scores.
void
RewriteIndexScan(IndexScan *scan, const ScoreRewrite &rw)
{
	if (scan->indexorderbyorig == NIL || KindOfIndex(scan->indexid) != IndexKind::kBm25)
		return;
	auto *op = static_cast<OpExpr *>(linitial(scan->indexorderbyorig));
	if (!IsA(op, OpExpr) || op->opno != rw.score_op || list_length(op->args) != 2)
		return;
	Var *ctid = makeVar(scan->scan.scanrelid, SelfItemPointerAttributeNumber, TIDOID, -1, InvalidOid, 0);
	List *args = list_make3(ctid, copyObjectImpl(linitial(op->args)), copyObjectImpl(lsecond(op->args)));
	Replace r{reinterpret_cast<Node *>(op),
			  reinterpret_cast<Node *>(makeFuncExpr(rw.scored_fn, FLOAT8OID, args, InvalidOid, InvalidOid,
													COERCE_EXPLICIT_CALL))};
	scan->scan.plan.targetlist = reinterpret_cast<List *>(ReplaceMutator(reinterpret_cast<Node *>(scan->scan.plan.targetlist), &r));
	scan->scan.plan.qual = reinterpret_cast<List *>(ReplaceMutator(reinterpret_cast<Node *>(scan->scan.plan.qual), &r));
}

void RewritePlan(Plan *plan, const ScoreRewrite &rw);

void
RewritePlans(List *plans, const ScoreRewrite &rw)
{
	ListCell *lc;
	foreach (lc, plans)
		RewritePlan(static_cast<Plan *>(lfirst(lc)), rw);
}

// Every plan node below `plan` (the node kinds that hold other plans).
void
RewritePlan(Plan *plan, const ScoreRewrite &rw)
{
	if (plan == nullptr)
		return;
	switch (nodeTag(plan))
	{
		case T_IndexScan:
			RewriteIndexScan(reinterpret_cast<IndexScan *>(plan), rw);
			break;
		case T_Append:
			RewritePlans(reinterpret_cast<Append *>(plan)->appendplans, rw);
			break;
		case T_MergeAppend:
			RewritePlans(reinterpret_cast<MergeAppend *>(plan)->mergeplans, rw);
			break;
		case T_SubqueryScan:
			RewritePlan(reinterpret_cast<SubqueryScan *>(plan)->subplan, rw);
			break;
		case T_CustomScan:
			RewritePlans(reinterpret_cast<CustomScan *>(plan)->custom_plans, rw);
			break;
		default:
			break;
	}
	RewritePlan(plan->lefttree, rw);
	RewritePlan(plan->righttree, rw);
}

} // namespace

void
UseScanScores(PlannedStmt *stmt, Oid score_op)
{
	Oid schema = ExtensionSchema();
	if (stmt == nullptr || schema == InvalidOid)
		return;
	Oid args[3] = {TIDOID, TEXTOID, QueryTypeOid()};
	List *name = list_make2(makeString(get_namespace_name(schema)), makeString(const_cast<char *>("quarry_bm25_scored")));
	const ScoreRewrite rw{score_op, LookupFuncName(name, 3, args, true)};
	if (rw.scored_fn == InvalidOid)
		return; // an install whose script predates quarry_bm25_scored
	RewritePlan(stmt->planTree, rw);
	RewritePlans(stmt->subplans, rw);
}

} // namespace quarry::am::bm25
