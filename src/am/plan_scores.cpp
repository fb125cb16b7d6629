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
//                 again). On pgvector's vector and halfvec (quarry_pgvector's
//                 opclasses) the same: the scan gives pgvector's own value,
//                 computed by pgvector's operator function on the row's
//                 vector rebuilt from the index (storage 'full', not <=>,
//                 whose index holds normalised vectors:
//                 am/hnsw/hnsw_operator_value.h) or read by the rerank of a
//                 compressed index (am/hnsw/hnsw_rerank.h); otherwise the
//                 function calls pgvector's operator, as the projection did
//
// Before that, at the top of a plain `SELECT id ... ORDER BY v <-> q LIMIT k`
// (Limit over the scan), the ORDER BY expression PostgreSQL keeps in the
// scan's projection as a junk column, read by nobody, becomes a NULL: for
// every metric and type (pgvector's operators detoasted and compared the
// row's vector for it).
//
// The expression replaced is the one the scan orders by, and the same
// operator on the same indexed value with any query (see ReplaceMutator):
// the function returns the scan's value only for the row the scan returned
// last and only for the scan's query (quarry_bm25: its index, text, syntax
// and the statistics it carries; quarry_hnsw: the query vector's bytes), so
// the value is the same to the last bit. Otherwise (another query, as in
// `v <-> $1 ... ORDER BY v <-> $2` when the two parameters differ; a rescan;
// a row filtered and re-read) it computes the value as the operator does.
#include "am/bm25/bm25_planner.h"
#include "am/bm25/bm25_query.h"
#include "am/catalog_generation.h"
#include "am/index_kind.h"
#include "hnsw/distance.h"
#include "pg/catalog_lookup.h"

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
	// pgvector's vector and halfvec (InvalidOid without pgvector or
	// quarry_pgvector): the types, their <->, <#>, <=>, <+> (metrics 1 to 4),
	// quarry_pgvector's quarry_hnsw_scored on each.
	Oid pgvector_types[2];
	Oid pgvector_ops[2][4];
	Oid pgvector_scored_fn[2];
};

struct Replace {
	const OpExpr *ordering;	 // the scan's ORDER BY expression
	const FuncExpr *scanned; // the function that takes its value from the scan
};

using MutatorFn = Node *(*)();

Node *
ReplaceMutator(Node *node, Replace *r)
{
	if (node == nullptr)
		return nullptr;
	if (equal(node, r->ordering))
		return static_cast<Node *>(copyObjectImpl(r->scanned));
	if (IsA(node, OpExpr))
	{
		// The ordering operator on the indexed value, with any query. The
		// function takes the scan's value only when the query is the
		// scan's (so `v <-> $1 ... ORDER BY v <-> $2`, two parameters of
		// one value as drivers send them, takes it too), else computes:
		// quarry_hnsw compares the query vector's bytes, quarry_bm25 the
		// index, text, syntax and statistics of the query (everything its
		// score depends on).
		const auto *op = reinterpret_cast<const OpExpr *>(node);
		if (op->opno == r->ordering->opno && op->inputcollid == r->ordering->inputcollid &&
			list_length(op->args) == 2 && equal(linitial(op->args), linitial(r->ordering->args)))
		{
			auto *call = static_cast<FuncExpr *>(copyObjectImpl(r->scanned));
			lfirst(list_nth_cell(call->args, 2)) = copyObjectImpl(lsecond(op->args));
			return reinterpret_cast<Node *>(call);
		}
	}
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
	if (kind != IndexKind::kHnsw || op->opno == InvalidOid)
		return nullptr;
	Oid scored = fns.hnsw_scored_fn;
	const Oid *ops = fns.hnsw_ops;
	const Oid type = exprType(static_cast<Node *>(linitial(op->args)));
	for (int i = 0; i < 2; i++)
	{
		if (type != InvalidOid && type == fns.pgvector_types[i])
		{
			scored = fns.pgvector_scored_fn[i];
			ops = fns.pgvector_ops[i];
		}
	}
	if (scored == InvalidOid)
		return nullptr;
	for (int32 metric = 1; metric <= 4; metric++)
	{
		if (op->opno != ops[metric - 1])
			continue;
		args = lappend(args, makeConst(REGCLASSOID, -1, InvalidOid, sizeof(Oid), ObjectIdGetDatum(scan->indexid),
									   false, true));
		args = lappend(args, makeConst(INT4OID, -1, InvalidOid, sizeof(int32), Int32GetDatum(metric), false, true));
		return makeFuncExpr(scored, FLOAT8OID, args, InvalidOid, InvalidOid, COERCE_EXPLICIT_CALL);
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
	Replace r{op, call};
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

// pgvector's types and operators, and quarry_pgvector's functions, when both
// are installed (each in its extension's schema).
void
LookUpPgvector(ScanValueFunctions *fns)
{
	const Oid types_schema = pg::SchemaOfExtension("vector");
	const Oid functions_schema = pg::SchemaOfExtension("quarry_pgvector");
	if (types_schema == InvalidOid || functions_schema == InvalidOid)
		return;
	const char *types[2] = {"vector", "halfvec"};
	const char *ops[4] = {"<->", "<#>", "<=>", "<+>"};
	for (int i = 0; i < 2; i++)
	{
		const Oid type = pg::TypeInSchema(types_schema, types[i]);
		if (type == InvalidOid)
			continue;
		fns->pgvector_types[i] = type;
		for (int m = 0; m < 4; m++)
			fns->pgvector_ops[i][m] = pg::OperatorInSchema(types_schema, ops[m], type, type);
		const Oid args[5] = {TIDOID, type, type, REGCLASSOID, INT4OID};
		fns->pgvector_scored_fn[i] = pg::FunctionInSchema(functions_schema, "quarry_hnsw_scored", args);
	}
}

// This install's operators and functions, in its schema (pg/catalog_lookup.h:
// no permission check, this runs for every statement of every role).
ScanValueFunctions
LookUpFunctions(Oid schema)
{
	const Oid vector = FLOAT4ARRAYOID;
	const Oid query = bm25::QueryTypeOid();
	ScanValueFunctions fns{};
	fns.bm25_score_op = pg::OperatorInSchema(schema, "<@>", TEXTOID, query);
	Oid bm25_args[3] = {TIDOID, TEXTOID, query};
	fns.bm25_scored_fn = pg::FunctionInSchema(schema, "quarry_bm25_scored", bm25_args);
	fns.bm25_row_score_op = pg::OperatorInSchema(schema, "<@>", RECORDOID, query);
	bm25_args[1] = RECORDOID;
	fns.bm25_row_scored_fn = pg::FunctionInSchema(schema, "quarry_bm25_scored", bm25_args);
	const char *hnsw_ops[4] = {"<->", "<#>", "<=>", "<+>"};
	for (int i = 0; i < 4; i++)
		fns.hnsw_ops[i] = pg::OperatorInSchema(schema, hnsw_ops[i], vector, vector);
	const Oid hnsw_args[5] = {TIDOID, vector, vector, REGCLASSOID, INT4OID};
	fns.hnsw_scored_fn = pg::FunctionInSchema(schema, "quarry_hnsw_scored", hnsw_args);
	LookUpPgvector(&fns);
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
