// Planning a hybrid search (hybrid.h).
//
// Before planning (planner_hook), every quarry_hybrid(text_col, q, vec_col,
// v, ...) and quarry_hybrid_detail(...) whose two columns are Vars of one
// table's range table entry becomes quarry_hybrid_scored(ctid, site, ...):
// the ctid names the row whose fused values the function reads, `site`
// (one number per range table entry in the statement) the scan that ranks
// it. Two calls on one entry must ask the same (same arguments).
//
// Then, for that table (set_rel_pathlist_hook), the hybrid scan is the only
// path: the fused values exist only where it runs. It takes the statement's
// first sort key when that is the call, ascending (ORDER BY quarry_hybrid(...)),
// so the Limit above it stops after k rows. It uses the table's quarry_bm25
// index on the text column (the one the query names, if it names one) and
// its quarry_hnsw index on the vector column; a missing or ambiguous index,
// a call in the table's own WHERE, or query arguments that depend on the
// row or on another table of the same FROM list are ERRORs.
#include "am/hybrid/hybrid.h"

#include "am/bm25/bm25_query.h"
#include "am/distributed_table.h"
#include "am/index_kind.h"
#include "pg/compat.h"
#include "pg/catalog_lookup.h"
#include "pg/guard.h"

extern "C" {
#include "catalog/namespace.h"
#include "catalog/pg_class.h"
#include "catalog/pg_type.h"
#include "nodes/makefuncs.h"
#include "nodes/nodeFuncs.h"
#include "optimizer/optimizer.h"
#include "optimizer/pathnode.h"
#include "optimizer/paths.h"
#include "optimizer/planner.h"
#include "optimizer/restrictinfo.h"
#include "parser/parse_func.h"
#include "parser/parsetree.h"
#include "utils/lsyscache.h"
#include "utils/syscache.h"
}

#include <type_traits>

namespace quarry::am::hybrid {
namespace {

planner_hook_type previous_planner = nullptr;
set_rel_pathlist_hook_type previous_rel_pathlist = nullptr;

// The functions, by OID (InvalidOid: quarry is not installed here).
struct Catalog {
	Oid hybrid_fn;
	Oid detail_fn;
	Oid scored_fn;
	Oid detail_scored_fn;
};
static_assert(std::is_trivially_destructible_v<Catalog>);

// The catalog of the statement being planned, and how many calls it
// rewrote (0: the set_rel_pathlist hook has nothing to do).
Catalog planning{};
int planning_sites = 0;

// Looks up quarry's hybrid functions in its schema.
Catalog
LoadCatalog()
{
	Catalog cat{};
	const Oid query_type = bm25::QueryTypeOid();
	if (query_type == InvalidOid)
		return cat;
	// pg/catalog_lookup.h: no permission check (this runs for every statement
	// of every role, and a role may have no USAGE on quarry's schema).
	const Oid schema = bm25::ExtensionSchema();
	const Oid args[kArgCount] = {TIDOID, INT4OID, TEXTOID, query_type, ANYELEMENTOID, ANYELEMENTOID, INT4OID, TEXTOID, FLOAT8OID, FLOAT8OID};
	const std::span<const Oid> user_args(args + 2, kArgCount - 2);
	cat.hybrid_fn = pg::FunctionInSchema(schema, "quarry_hybrid", user_args);
	cat.detail_fn = pg::FunctionInSchema(schema, "quarry_hybrid_detail", user_args);
	cat.scored_fn = pg::FunctionInSchema(schema, "quarry_hybrid_scored", args);
	cat.detail_scored_fn = pg::FunctionInSchema(schema, "quarry_hybrid_detail_scored", args);
	return cat;
}

// A table reference that hybrid calls were found on: its site number and the
// first call's arguments (every other call on it must have the same).
struct Site {
	Query *query;
	Index varno;
	List *args;
};

struct Rewrite {
	Catalog cat;
	Query *query; // the query whose expressions are being walked
	Site *sites;
	int count;
	int capacity;
};

using WalkerFn = bool (*)();

// query_tree_walker and friends take the old-style `bool (*)()`.
template <typename Context>
WalkerFn
AsWalker(bool (*fn)(Node *, Context *))
{
	return reinterpret_cast<WalkerFn>(reinterpret_cast<void (*)()>(fn));
}

// The column Var under implicit casts (varchar -> text), or nullptr.
Var *
ColumnVar(Node *node)
{
	while (node != nullptr && IsA(node, RelabelType))
		node = reinterpret_cast<Node *>(reinterpret_cast<RelabelType *>(node)->arg);
	return node != nullptr && IsA(node, Var) ? reinterpret_cast<Var *>(node) : nullptr;
}

// The site of (query, varno), added when new; ERRORs when a call on it asks
// differently from the first.
int
SiteOf(Rewrite *w, Index varno, List *args)
{
	for (int i = 0; i < w->count; i++)
		if (w->sites[i].query == w->query && w->sites[i].varno == varno)
		{
			if (!equal(w->sites[i].args, args))
				throw pg::Error(ERRCODE_FEATURE_NOT_SUPPORTED, "quarry_hybrid: calls on one table reference must have the same arguments",
								nullptr, "Compute the ranking once, in a subquery, and refer to its columns.");
			return i + 1;
		}
	if (w->count == w->capacity)
	{
		w->capacity = w->capacity == 0 ? 4 : w->capacity * 2;
		w->sites = static_cast<Site *>(w->sites == nullptr ? palloc(sizeof(Site) * w->capacity)
														   : repalloc(w->sites, sizeof(Site) * w->capacity));
	}
	w->sites[w->count] = Site{w->query, varno, static_cast<List *>(copyObjectImpl(args))};
	return ++w->count;
}

// Puts the defaults of the arguments a call leaves out (depth, fusion, k,
// weight) in its argument list, in order (named arguments included), as the
// planner would later.
void
ExpandArguments(FuncExpr *call)
{
	HeapTuple proc = SearchSysCache1(PROCOID, ObjectIdGetDatum(call->funcid));
	if (!HeapTupleIsValid(proc))
		pg::ThrowError(ERRCODE_INTERNAL_ERROR, "cache lookup failed for function %u", call->funcid);
	call->args = expand_function_arguments(call->args, false, call->funcresulttype, proc);
	ReleaseSysCache(proc);
	if (list_length(call->args) != kArgCount - 2)
		pg::ThrowError(ERRCODE_INTERNAL_ERROR, "quarry_hybrid: %d arguments", list_length(call->args));
}

// Rewrites one call of quarry_hybrid or quarry_hybrid_detail in place.
void
RewriteCall(FuncExpr *call, Rewrite *w)
{
	Var *text = ColumnVar(static_cast<Node *>(linitial(call->args)));
	Var *vector = ColumnVar(static_cast<Node *>(lthird(call->args)));
	const RangeTblEntry *rte = text != nullptr && text->varlevelsup == 0 && text->varattno > 0
								   ? rt_fetch(text->varno, w->query->rtable)
								   : nullptr;
	if (rte == nullptr || vector == nullptr || vector->varlevelsup != 0 || vector->varno != text->varno ||
		vector->varattno <= 0 || rte->rtekind != RTE_RELATION ||
		(rte->relkind != RELKIND_RELATION && rte->relkind != RELKIND_MATVIEW))
		throw pg::Error(ERRCODE_FEATURE_NOT_SUPPORTED, "quarry_hybrid: the text and vector arguments must be two columns of one table",
						"A hybrid scan reads that table's quarry_bm25 and quarry_hnsw indexes.",
						"Call it in the query whose FROM list names the table (not a view, a subquery's column or an outer query's).");
	for (Node *arg : {static_cast<Node *>(lsecond(call->args)), static_cast<Node *>(lfourth(call->args))})
		if (contain_vars_of_level(arg, 0))
			pg::ThrowError(ERRCODE_FEATURE_NOT_SUPPORTED, "quarry_hybrid: the text and vector queries must not depend on the rows of the query that ranks them");
	if (IsDistributedTable(rte->relid))
		return; // Citus sends the call to the shards, whose planners rewrite it
	const int site = SiteOf(w, text->varno, call->args);
	Var *ctid = static_cast<Var *>(copyObjectImpl(text));
	ctid->varattno = SelfItemPointerAttributeNumber;
	ctid->vartype = TIDOID;
	ctid->vartypmod = -1;
	ctid->varcollid = InvalidOid;
	ctid->varattnosyn = SelfItemPointerAttributeNumber;
	Const *site_const = makeConst(INT4OID, -1, InvalidOid, sizeof(int32), Int32GetDatum(site), false, true);
	call->args = lcons(ctid, lcons(site_const, call->args));
	call->funcid = call->funcid == w->cat.hybrid_fn ? w->cat.scored_fn : w->cat.detail_scored_fn;
}

bool
RewriteWalker(Node *node, Rewrite *w)
{
	if (node == nullptr)
		return false;
	if (IsA(node, Query))
	{
		Query *outer = w->query;
		w->query = reinterpret_cast<Query *>(node);
		bool result = query_tree_walker(w->query, AsWalker(RewriteWalker), w, 0);
		w->query = outer;
		return result;
	}
	if (IsA(node, FuncExpr))
	{
		auto *call = reinterpret_cast<FuncExpr *>(node);
		if (call->funcid != InvalidOid && (call->funcid == w->cat.hybrid_fn || call->funcid == w->cat.detail_fn))
			pg::Boundary("quarry planner hook", [&] {
				ExpandArguments(call);
				RewriteCall(call, w);
			});
	}
	return expression_tree_walker(node, AsWalker(RewriteWalker), w);
}

// `x IN (SELECT ...)` in the WHERE of a query that ranks x's table with a
// hybrid call: PostgreSQL would plan it as a semi-join above the hybrid scan,
// checked after fusion, and return fewer rows than LIMIT asks while more
// match. Uncorrelated, it is the same condition as
// `x = ANY (ARRAY(SELECT ...))`: an InitPlan computed once, which the scan
// checks on every candidate before fusion, as any condition on the table.
// nullptr when `qual` is not such a condition on range table entry `varno`.
Node *
InAsArrayCondition(Node *qual, Index varno)
{
	if (!IsA(qual, SubLink))
		return nullptr;
	auto *sub = reinterpret_cast<SubLink *>(qual);
	if (sub->subLinkType != ANY_SUBLINK || sub->testexpr == nullptr || !IsA(sub->testexpr, OpExpr))
		return nullptr;
	auto *op = reinterpret_cast<OpExpr *>(sub->testexpr);
	if (list_length(op->args) != 2)
		return nullptr;
	Var *column = ColumnVar(static_cast<Node *>(linitial(op->args)));
	Node *right = static_cast<Node *>(lsecond(op->args));
	while (IsA(right, RelabelType))
		right = reinterpret_cast<Node *>(reinterpret_cast<RelabelType *>(right)->arg);
	auto *subselect = reinterpret_cast<Query *>(sub->subselect);
	if (column == nullptr || column->varlevelsup != 0 || static_cast<Index>(column->varno) != varno ||
		!IsA(right, Param) || reinterpret_cast<Param *>(right)->paramkind != PARAM_SUBLINK ||
		contain_vars_of_level(reinterpret_cast<Node *>(subselect), 1) || list_length(subselect->targetList) != 1)
		return nullptr;
	const Oid element = exprType(static_cast<Node *>(lsecond(op->args)));
	if (get_array_type(element) == InvalidOid)
		return nullptr;
	SubLink *array = makeNode(SubLink);
	array->subLinkType = ARRAY_SUBLINK;
	array->subselect = reinterpret_cast<Node *>(subselect);
	array->location = sub->location;
	ScalarArrayOpExpr *any = makeNode(ScalarArrayOpExpr);
	any->opno = op->opno;
	any->opfuncid = op->opfuncid;
	any->useOr = true;
	any->inputcollid = op->inputcollid;
	any->args = list_make2(linitial(op->args), array);
	any->location = sub->location;
	return reinterpret_cast<Node *>(any);
}

// Applies InAsArrayCondition to the top-level conditions of each ranked
// table's WHERE.
void
RewriteInConditions(const Rewrite &w)
{
	for (int i = 0; i < w.count; i++)
	{
		FromExpr *from = w.sites[i].query->jointree;
		if (from == nullptr || from->quals == nullptr)
			continue;
		Node *quals = from->quals;
		if (IsA(quals, BoolExpr) && reinterpret_cast<BoolExpr *>(quals)->boolop == AND_EXPR)
		{
			ListCell *lc;
			foreach (lc, reinterpret_cast<BoolExpr *>(quals)->args)
				if (Node *any = InAsArrayCondition(static_cast<Node *>(lfirst(lc)), w.sites[i].varno))
					lfirst(lc) = any;
		}
		else if (Node *any = InAsArrayCondition(quals, w.sites[i].varno))
			from->quals = any;
	}
}

// planner_hook: rewrites the hybrid calls, then plans with the previous hook.
PlannedStmt *
Planner(Query *parse, const char *query_string, int cursor_options, ParamListInfo bound_params)
{
	const Catalog outer_catalog = planning;
	const int outer_sites = planning_sites;
	Rewrite w{};
	pg::Boundary("quarry planner hook", [&] {
		if (parse->commandType == CMD_UTILITY)
			return;
		w.cat = LoadCatalog();
		if (w.cat.hybrid_fn == InvalidOid || w.cat.scored_fn == InvalidOid)
			return;
		RewriteWalker(reinterpret_cast<Node *>(parse), &w);
		RewriteInConditions(w);
	});
	planning = w.cat;
	planning_sites = w.count;
	// An ERROR below leaves `planning` as it is: the next statement sets it.
	PlannedStmt *stmt = previous_planner != nullptr
							? previous_planner(parse, query_string, cursor_options, bound_params)
							: standard_planner(parse, query_string, cursor_options, bound_params);
	planning = outer_catalog;
	planning_sites = outer_sites;
	return stmt;
}

// Calls of the rewritten functions on range table entry `rti` of the query
// being planned (not in sub-selects: they are planned on their own).
struct Found {
	Index rti;
	List *calls;
};

bool
FindWalker(Node *node, Found *found)
{
	if (node == nullptr || IsA(node, Query))
		return false;
	if (IsA(node, FuncExpr))
	{
		auto *call = reinterpret_cast<FuncExpr *>(node);
		if ((call->funcid == planning.scored_fn || call->funcid == planning.detail_scored_fn) &&
			list_length(call->args) == kArgCount)
		{
			Var *ctid = ColumnVar(static_cast<Node *>(linitial(call->args)));
			if (ctid != nullptr && ctid->varlevelsup == 0 && static_cast<Index>(ctid->varno) == found->rti)
				found->calls = lappend(found->calls, call);
		}
	}
	return expression_tree_walker(node, AsWalker(FindWalker), found);
}


// set_rel_pathlist_hook: the hybrid scan for a table hybrid calls rank.
void
RelPathlist(PlannerInfo *root, RelOptInfo *rel, Index rti, RangeTblEntry *rte)
{
	if (previous_rel_pathlist != nullptr)
		previous_rel_pathlist(root, rel, rti, rte);
	if (planning_sites == 0 || rte->rtekind != RTE_RELATION || rel->reloptkind != RELOPT_BASEREL)
		return;
	pg::Boundary("quarry_hybrid planning", [&] {
		Found found{rti, NIL};
		Query *parse = root->parse;
		FindWalker(reinterpret_cast<Node *>(parse->targetList), &found);
		FindWalker(parse->havingQual, &found);
		FindWalker(reinterpret_cast<Node *>(parse->jointree), &found);
		FindWalker(reinterpret_cast<Node *>(parse->returningList), &found);
		if (found.calls == NIL)
			return;
		// A filter of the table itself would judge candidates by a fused
		// score that exists only after fusion.
		Found in_where{rti, NIL};
		ListCell *lc;
		foreach (lc, rel->baserestrictinfo)
			FindWalker(reinterpret_cast<Node *>(static_cast<RestrictInfo *>(lfirst(lc))->clause), &in_where);
		if (in_where.calls != NIL)
			throw pg::Error(ERRCODE_FEATURE_NOT_SUPPORTED, "quarry_hybrid: the fused score cannot filter its own table's rows",
							"WHERE filters the candidates before they are fused.",
							"Filter the ranked rows in an outer query: SELECT * FROM (SELECT ... ORDER BY quarry_hybrid(...) LIMIT n) r WHERE ...");
		AddHybridPath(root, rel, rte, found.calls);
	});
}

} // namespace

void
Initialize()
{
	previous_planner = planner_hook;
	planner_hook = Planner;
	previous_rel_pathlist = set_rel_pathlist_hook;
	set_rel_pathlist_hook = RelPathlist;
	RegisterCustomScanMethods(&kScanMethods);
}

} // namespace quarry::am::hybrid
