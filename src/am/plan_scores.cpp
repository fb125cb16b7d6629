// Values that come from the scan: after planning, every ordered quarry index
// scan gets its ordering expression, wherever the projection or the filter
// evaluates it, replaced by a function that returns the value the scan
// ordered the row by (am/returned_rows.h) instead of computing it again:
//
//   quarry_bm25   col <@> q   ->  quarry_bm25_scored(ctid, col, q)
//                 (a 70 kB document took 8 ms to tokenize per returned row);
//                 for an index on several fields the row of them, (a, b) <@> q
//                 ->  quarry_bm25_scored(ctid, ROW(a, b), q)
//   quarry_hnsw   col <-> q   ->  quarry_hnsw_scored(ctid, col, q, index, metric)
//                 (and <#>, <=>, <+>; a 784-d vector compressed in the row
//                 cost a third of a top-100 query to decompress and compare
//                 again). Only quarry's own operators on real[]: pgvector's
//                 (quarry_pgvector's opclasses) are left to compute their
//                 value, which quarry's kernels need not match to the last bit
//
// Before that, at the top of a plain `SELECT id ... ORDER BY v <-> q LIMIT k`
// (Limit over the scan), the ORDER BY expression PostgreSQL keeps in the
// scan's projection as a junk column, read by nobody, becomes a NULL: for
// every metric and type (pgvector's operators detoasted and compared the
// row's vector for it).
//
// The expression replaced is the one the scan orders by, node for node, so it
// is the same query: the value is the same to the last bit (quarry_bm25 with
// the same statistics; quarry_hnsw's scans report exactly the operator's
// value), and for a row the scan did not just return (a rescan, a row
// filtered and re-read) the function computes it as the operator does.
#include "am/bm25/bm25_planner.h"
#include "am/bm25/bm25_query.h"
#include "am/catalog_generation.h"
#include "am/index_kind.h"
#include "hnsw/distance.h"

extern "C" {
#include "access/sysattr.h"
#include "catalog/pg_type.h"
#include "nodes/makefuncs.h"
#include "nodes/nodeFuncs.h"
#include "nodes/plannodes.h"
#include "parser/parse_func.h"
#include "parser/parse_oper.h"
#include "utils/lsyscache.h"
}

namespace quarry::am {

namespace {

// The operators and functions of this install (InvalidOid where an older
// install script lacks them).
struct ScanValueFunctions {
	Oid bm25_score_op;
	Oid bm25_scored_fn;
	Oid bm25_row_score_op;	// <@> (record, quarry_query): several fields
	Oid bm25_row_scored_fn; // quarry_bm25_scored(tid, record, quarry_query)
	Oid hnsw_ops[4]; // <->, <#>, <=>, <+> on real[]: metrics 1, 2, 3, 4 (InvalidOid: an install without <+>)
	Oid hnsw_scored_fn;
};

struct Replace {
	Node *ordering; // the scan's ORDER BY expression
	Node *scanned;	// the function that takes its value from the scan
};

using MutatorFn = Node *(*)();

Node *
ReplaceMutator(Node *node, Replace *r)
{
	if (node == nullptr)
		return nullptr;
	if (equal(node, r->ordering))
		return static_cast<Node *>(copyObjectImpl(r->scanned));
	return expression_tree_mutator(node, reinterpret_cast<MutatorFn>(reinterpret_cast<void (*)()>(ReplaceMutator)),
								   r);
}

// The call that replaces ordering operator `op` of an index scan of `kind`,
// or nullptr.
FuncExpr *
ScanValueCall(const IndexScan *scan, IndexKind kind, const OpExpr *op, const ScanValueFunctions &fns)
{
	Var *ctid = makeVar(scan->scan.scanrelid, SelfItemPointerAttributeNumber, TIDOID, -1, InvalidOid, 0);
	List *args = list_make3(ctid, copyObjectImpl(linitial(op->args)), copyObjectImpl(lsecond(op->args)));
	if (kind == IndexKind::kBm25 && op->opno == fns.bm25_score_op && fns.bm25_scored_fn != InvalidOid)
		return makeFuncExpr(fns.bm25_scored_fn, FLOAT8OID, args, InvalidOid, InvalidOid, COERCE_EXPLICIT_CALL);
	if (kind == IndexKind::kBm25 && op->opno != InvalidOid && op->opno == fns.bm25_row_score_op &&
		fns.bm25_row_scored_fn != InvalidOid)
		return makeFuncExpr(fns.bm25_row_scored_fn, FLOAT8OID, args, InvalidOid, InvalidOid, COERCE_EXPLICIT_CALL);
	if (kind != IndexKind::kHnsw || fns.hnsw_scored_fn == InvalidOid)
		return nullptr;
	for (int32 metric = 1; metric <= 4; metric++)
	{
		if (op->opno != fns.hnsw_ops[metric - 1] || op->opno == InvalidOid)
			continue;
		args = lappend(args, makeConst(REGCLASSOID, -1, InvalidOid, sizeof(Oid), ObjectIdGetDatum(scan->indexid),
									   false, true));
		args = lappend(args, makeConst(INT4OID, -1, InvalidOid, sizeof(int32), Int32GetDatum(metric), false, true));
		return makeFuncExpr(fns.hnsw_scored_fn, FLOAT8OID, args, InvalidOid, InvalidOid, COERCE_EXPLICIT_CALL);
	}
	return nullptr;
}

// One index scan: its projection and filter take the scan's values.
void
RewriteIndexScan(IndexScan *scan, const ScanValueFunctions &fns)
{
	if (list_length(scan->indexorderbyorig) != 1)
		return;
	const IndexKind kind = KindOfIndex(scan->indexid);
	auto *op = static_cast<OpExpr *>(linitial(scan->indexorderbyorig));
	if (kind == IndexKind::kOther || !IsA(op, OpExpr) || list_length(op->args) != 2)
		return;
	FuncExpr *call = ScanValueCall(scan, kind, op, fns);
	if (call == nullptr)
		return;
	Replace r{reinterpret_cast<Node *>(op), reinterpret_cast<Node *>(call)};
	scan->scan.plan.targetlist = reinterpret_cast<List *>(ReplaceMutator(reinterpret_cast<Node *>(scan->scan.plan.targetlist), &r));
	scan->scan.plan.qual = reinterpret_cast<List *>(ReplaceMutator(reinterpret_cast<Node *>(scan->scan.plan.qual), &r));
}

// The ordered quarry_hnsw index scan at the top of a plain
// `SELECT ... ORDER BY v <-> q LIMIT k`: the scan itself, or a Limit right
// above it (k rows; not WITH TIES, which compares the ordering column). No
// node of these shapes reads a junk column: the executor's junk filter
// drops it. nullptr for any other shape.
IndexScan *
TopOrderedScan(const PlannedStmt *stmt)
{
	Plan *top = stmt->planTree;
	if (stmt->commandType != CMD_SELECT || top == nullptr)
		return nullptr;
	if (IsA(top, Limit))
	{
		if (reinterpret_cast<Limit *>(top)->limitOption != LIMIT_OPTION_COUNT)
			return nullptr;
		top = top->lefttree;
	}
	if (top == nullptr || !IsA(top, IndexScan))
		return nullptr;
	auto *scan = reinterpret_cast<IndexScan *>(top);
	if (list_length(scan->indexorderbyorig) != 1 || KindOfIndex(scan->indexid) != IndexKind::kHnsw)
		return nullptr;
	return scan;
}

// PostgreSQL keeps the ORDER BY expression in the scan's projection as a junk
// column even when the SELECT list leaves it out, and evaluates it for every
// returned row: with pgvector's types that is pgvector's operator on the row's
// vector, detoasted (a 784-d vector is stored out of line), for a value
// nobody reads. In the shapes of TopOrderedScan, the scan projects a NULL in
// its place instead.
void
DropUnreadOrderingColumn(PlannedStmt *stmt)
{
	IndexScan *scan = TopOrderedScan(stmt);
	if (scan == nullptr)
		return;
	Node *ordering = static_cast<Node *>(linitial(scan->indexorderbyorig));
	List *top = stmt->planTree->targetlist;
	ListCell *lc;
	foreach (lc, scan->scan.plan.targetlist)
	{
		auto *te = static_cast<TargetEntry *>(lfirst(lc));
		const int i = foreach_current_index(lc);
		if (!te->resjunk || i >= list_length(top) || !static_cast<TargetEntry *>(list_nth(top, i))->resjunk ||
			!equal(te->expr, ordering))
			continue;
		te->expr = reinterpret_cast<Expr *>(
			makeNullConst(exprType(ordering), exprTypmod(ordering), exprCollation(ordering)));
	}
}

void RewritePlan(Plan *plan, const ScanValueFunctions &fns);

void
RewritePlans(List *plans, const ScanValueFunctions &fns)
{
	ListCell *lc;
	foreach (lc, plans)
		RewritePlan(static_cast<Plan *>(lfirst(lc)), fns);
}

// Every plan node below `plan` (the node kinds that hold other plans).
void
RewritePlan(Plan *plan, const ScanValueFunctions &fns)
{
	if (plan == nullptr)
		return;
	switch (nodeTag(plan))
	{
		case T_IndexScan:
			RewriteIndexScan(reinterpret_cast<IndexScan *>(plan), fns);
			break;
		case T_Append:
			RewritePlans(reinterpret_cast<Append *>(plan)->appendplans, fns);
			break;
		case T_MergeAppend:
			RewritePlans(reinterpret_cast<MergeAppend *>(plan)->mergeplans, fns);
			break;
		case T_SubqueryScan:
			RewritePlan(reinterpret_cast<SubqueryScan *>(plan)->subplan, fns);
			break;
		case T_CustomScan:
			RewritePlans(reinterpret_cast<CustomScan *>(plan)->custom_plans, fns);
			break;
		default:
			break;
	}
	RewritePlan(plan->lefttree, fns);
	RewritePlan(plan->righttree, fns);
}

// This install's operators and functions, found by schema-qualified name.
ScanValueFunctions
LookUpFunctions(Oid schema)
{
	char *schema_name = get_namespace_name(schema);
	auto name = [&](const char *n) { return list_make2(makeString(schema_name), makeString(const_cast<char *>(n))); };
	const Oid vector = FLOAT4ARRAYOID;
	ScanValueFunctions fns{};
	fns.bm25_score_op = OpernameGetOprid(name("<@>"), TEXTOID, bm25::QueryTypeOid());
	Oid bm25_args[3] = {TIDOID, TEXTOID, bm25::QueryTypeOid()};
	fns.bm25_scored_fn = LookupFuncName(name("quarry_bm25_scored"), 3, bm25_args, true);
	fns.bm25_row_score_op = OpernameGetOprid(name("<@>"), RECORDOID, bm25::QueryTypeOid());
	bm25_args[1] = RECORDOID;
	fns.bm25_row_scored_fn = LookupFuncName(name("quarry_bm25_scored"), 3, bm25_args, true);
	const char *hnsw_ops[4] = {"<->", "<#>", "<=>", "<+>"};
	for (int i = 0; i < 4; i++)
		fns.hnsw_ops[i] = OpernameGetOprid(name(hnsw_ops[i]), vector, vector);
	Oid hnsw_args[5] = {TIDOID, vector, vector, REGCLASSOID, INT4OID};
	fns.hnsw_scored_fn = LookupFuncName(name("quarry_hnsw_scored"), 5, hnsw_args, true);
	return fns;
}

// This install's functions: looked up once per backend and again after a
// catalog change (am/catalog_generation.h). False without the extension.
bool
LoadFunctions(ScanValueFunctions *fns)
{
	static ScanValueFunctions cached;
	static bool cached_found = false;
	static uint64_t cached_at = 0;
	const uint64_t now = CatalogGeneration();
	if (cached_at != now)
	{
		const Oid schema = bm25::ExtensionSchema();
		cached_found = schema != InvalidOid;
		if (cached_found)
			cached = LookUpFunctions(schema);
		cached_at = now; // a change during the lookup left CatalogGeneration() ahead: looked up again
	}
	*fns = cached;
	return cached_found;
}

} // namespace

void
UseScanValues(PlannedStmt *stmt)
{
	ScanValueFunctions fns;
	if (stmt == nullptr || !LoadFunctions(&fns))
		return;
	DropUnreadOrderingColumn(stmt);
	RewritePlan(stmt->planTree, fns);
	RewritePlans(stmt->subplans, fns);
}

} // namespace quarry::am
