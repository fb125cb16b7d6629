// Resolving which quarry_bm25 index scores an unnamed query.
//
// `body <@> 'q'` does not say which index's statistics (N, document
// frequencies, text search configuration) score it. Before planning, this hook
// walks the query tree and, for every <@> or @@@ whose query does not name an
// index, finds the quarry_bm25 indexes on its left operand: a column (through
// views, subqueries, CTEs and joins down to a table column) or an expression
// equal to an index expression; for an index on several fields, the row of
// its key columns in their order, `(title, body) <@> 'q'`, each element
// followed that way to a column (or index expression) of one and the same
// table. Indexes on one column answer a column, indexes on several fields
// only such a row. If there is exactly one, the query operand
// names it: a constant is replaced by the resolved constant, anything else
// becomes quarry_query_resolve(q, resolved). Otherwise it is left alone, and
// the operator reports at run time that the index must be named with
// quarry_query('q', 'index').
//
// A resolved query also carries the column read (bm25_query_type.cpp): the
// rows it scores are rows the statement reads from the index's table, through
// the range table entry found here, which the executor checks as its
// checkAsUser (a view's owner) or the current user. Scoring them needs
// exactly that permission, no more: views that rank work for their users as
// any view does. A query that names the index itself gets the mark when the
// operand resolves to that same index.
//
// The rewrite happens in every planned statement, including those of
// PL/pgSQL functions and prepared statements, as long as quarry is loaded when
// the statement is planned. A literal query loads it by itself (the parser
// calls quarry_query_in); for a query passed as a parameter the first statement
// of a session may be planned before quarry is loaded, hence the advice to add
// quarry to session_preload_libraries.
#include "am/bm25/bm25.h"
#include "am/bm25/bm25_distributed.h"
#include "am/bm25/bm25_planner.h"
#include "am/bm25/bm25_query.h"
#include "am/catalog_generation.h"
#include "am/index_kind.h"
#include "am/plan_scores.h"

#include "pg/catalog_lookup.h"
#include "pg/guard.h"
#include "pg/privileges.h"

#include <cstring>
#include <type_traits>

extern "C" {
#include "access/relation.h"
#include "catalog/index.h"
#include "catalog/namespace.h"
#include "access/htup_details.h"
#include "catalog/pg_class.h"
#include "catalog/pg_index.h"
#include "catalog/pg_type.h"
#include "commands/extension.h"
#include "nodes/makefuncs.h"
#include "nodes/nodeFuncs.h"
#include "optimizer/optimizer.h"
#include "optimizer/planner.h"
#include "parser/parse_func.h"
#include "parser/parse_oper.h"
#include "parser/parsetree.h"
#include "rewrite/rewriteManip.h"
#include "utils/array.h"
#include "utils/datum.h"
#include "utils/fmgroids.h"
#include "utils/plancache.h"
#include "utils/lsyscache.h"
#include "utils/rel.h"
#include "utils/relcache.h"
#include "utils/syscache.h"
}

namespace quarry::am::bm25 {

namespace {

planner_hook_type previous_planner = nullptr;

constexpr int kMaxDepth = 32;

struct Catalog {
	Oid am;
	Oid query_type;
	Oid score_op;
	Oid match_op;
	Oid row_score_op; // <@> (record, quarry_query): an index on several fields; InvalidOid before they came
	Oid row_match_op; // @@@ (record, quarry_query)
	Oid snippet_fn;	   // quarry_snippet(text, quarry_query, ...), InvalidOid if not installed
	Oid highlights_fn; // quarry_highlights(text, quarry_query)
	Oid resolve_fn;	  // quarry_query_resolve(quarry_query, quarry_query), 0.2.0 and later
	Oid shard_stats_fn; // quarry_bm25_shard_statistics("any", quarry_query), InvalidOid before 0.2.0
	Oid term_stats_fn;	// quarry_bm25_term_statistics(regclass[], quarry_query)
	bool resolve_oid; // an install of 0.1.0: quarry_query_resolve(quarry_query, oid), no column read
	// While the values an INSERT, UPDATE or MERGE writes and its RETURNING
	// list are walked: that query's result relation (and ON CONFLICT's
	// EXCLUDED), whose Vars there are rows being written, not rows read.
	const Query *writing;
	Index written;
	Index excluded;
};
static_assert(std::is_trivially_destructible_v<Catalog>);

// The index an operand resolved to, and who the executor checks its read as.
struct Resolution {
	Oid index = InvalidOid;
	Oid check_as_user = InvalidOid;
};
static_assert(std::is_trivially_destructible_v<Resolution>);

struct Walk {
	Catalog cat;
	Query *stack[kMaxDepth];
	int depth;
	// The statement's parameter values (a custom plan), or null; and whether
	// a scored query on a distributed table is a parameter without a value
	// here (a generic plan: it must not be chosen, bm25_distributed.h).
	ParamListInfo params;
	bool needs_custom_plan;
	// Statistics collected for this statement: a query scored twice (ORDER
	// BY and the SELECT list) is collected once.
	struct Collected {
		Oid index;
		Const *query;
		Node *with_statistics;
	} collected[8];
	int collected_count;
};
static_assert(std::is_trivially_destructible_v<Walk>);

using WalkerFn = bool (*)();

// query_tree_walker and friends take the old-style `bool (*)()`.
WalkerFn
AsWalker(bool (*fn)(Node *, struct Walk *))
{
	return reinterpret_cast<WalkerFn>(reinterpret_cast<void (*)()>(fn));
}

// A table column, or an expression of one table's columns, that an operand
// (or an element of a row operand) stands for.
struct Column {
	const RangeTblEntry *rte; // the table's range table entry
	AttrNumber attno;		  // 0: an expression
	Node *expr;				  // the expression, on varno 1
	Oid check_as_user;
};

// What an operand stands for: one column, or (a row) each of its elements.
struct Operand {
	bool row;
	int count;
	Column columns[INDEX_MAX_KEYS];
};
static_assert(std::is_trivially_destructible_v<Operand>);

// Whether index key column `key` (0: the next expression of `exprs`, which
// `expr` walks) is column `c`.
bool
KeyMatches(AttrNumber key, List *exprs, ListCell **expr, const Column &c)
{
	if (key != 0)
		return c.attno != 0 && key == c.attno;
	if (*expr == nullptr)
		return false;
	Node *index_expr = static_cast<Node *>(lfirst(*expr));
	*expr = lnext(exprs, *expr);
	return c.expr != nullptr && equal(strip_implicit_coercions(index_expr), c.expr);
}

// The quarry_bm25 index of table `relid` whose key columns are exactly the
// operand's columns, in order, if exactly one exists. A column matches
// indexes on that column alone, a row only indexes on several fields.
Oid
UniqueIndex(const Catalog &cat, Oid relid, const Operand &operand)
{
	Relation rel = relation_open(relid, NoLock);
	List *indexes = RelationGetIndexList(rel);
	relation_close(rel, NoLock);
	Oid found = InvalidOid;
	int matches = 0;
	ListCell *lc;
	foreach (lc, indexes)
	{
		Oid index_oid = lfirst_oid(lc);
		if (KindOfIndex(index_oid) != IndexKind::kBm25)
			continue;
		Relation index = index_open(index_oid, AccessShareLock);
		bool match = index->rd_index->indnkeyatts == operand.count;
		List *exprs = match ? RelationGetIndexExpressions(index) : NIL;
		ListCell *expr = list_head(exprs);
		for (int i = 0; match && i < operand.count; i++)
			match = KeyMatches(index->rd_index->indkey.values[i], exprs, &expr, operand.columns[i]);
		index_close(index, NoLock);
		if (match)
		{
			found = index_oid;
			matches++;
		}
	}
	return matches == 1 ? found : InvalidOid;
}

bool ResolveOperand(const Catalog &cat, Node *operand, Query **stack, int depth, Operand *out);

// Appends the table column of range table entry `rte` (of `query`) to `out`.
bool
AddColumn(Query *query, const RangeTblEntry *rte, AttrNumber attno, Node *expr, Operand *out)
{
	if (out->count >= INDEX_MAX_KEYS)
		return false;
	out->columns[out->count++] = Column{rte, attno, expr, pg::RangeTableCheckAsUser(query, rte)};
	return true;
}

// Follows the column `tle` of a subquery or CTE (at `level`, below `query`).
bool
ResolveTarget(const Catalog &cat, TargetEntry *tle, Query *query, Query **stack, int level, Operand *out)
{
	if (tle == nullptr || level >= kMaxDepth)
		return false;
	stack[level] = query;
	return ResolveOperand(cat, reinterpret_cast<Node *>(tle->expr), stack, level + 1, out);
}

// Follows a CTE's column to the table column (or expression) it stands for.
bool
ResolveCte(const Catalog &cat, const RangeTblEntry *rte, AttrNumber attno, Query **stack, int level, Operand *out)
{
	if (rte->ctelevelsup > static_cast<Index>(level))
		return false;
	int cte_level = level - static_cast<int>(rte->ctelevelsup);
	ListCell *lc;
	foreach (lc, stack[cte_level]->cteList)
	{
		auto *cte = static_cast<CommonTableExpr *>(lfirst(lc));
		if (strcmp(cte->ctename, rte->ctename) != 0 || !IsA(cte->ctequery, Query))
			continue;
		auto *cte_query = reinterpret_cast<Query *>(cte->ctequery);
		// A data-modifying CTE's rows are what it wrote (its RETURNING
		// list), and a set operation's are every leg's: neither is a
		// column the statement reads from one table.
		if (cte_query->commandType != CMD_SELECT || cte_query->setOperations != nullptr)
			return false;
		return ResolveTarget(cat, get_tle_by_resno(cte_query->targetList, attno), cte_query, stack, cte_level + 1,
							 out);
	}
	return false;
}

// Follows a Var to the table column (or expression, or row) it stands for.
bool
ResolveVar(const Catalog &cat, Var *var, Query **stack, int depth, Operand *out)
{
	if (var->varlevelsup >= static_cast<Index>(depth))
		return false;
	int level = depth - 1 - static_cast<int>(var->varlevelsup);
	Query *query = stack[level];
	if (var->varno < 1 || static_cast<int>(var->varno) > list_length(query->rtable))
		return false;
	RangeTblEntry *rte = rt_fetch(var->varno, query->rtable);
	switch (rte->rtekind)
	{
		case RTE_RELATION:
			if (query == cat.writing &&
				(static_cast<Index>(var->varno) == cat.written || static_cast<Index>(var->varno) == cat.excluded))
				return false;
			return var->varattno > 0 && AddColumn(query, rte, var->varattno, nullptr, out);
		case RTE_JOIN:
		{
			if (var->varattno < 1 || var->varattno > list_length(rte->joinaliasvars))
				return false;
			Node *alias = static_cast<Node *>(list_nth(rte->joinaliasvars, var->varattno - 1));
			return alias != nullptr && ResolveOperand(cat, alias, stack, level + 1, out);
		}
		case RTE_SUBQUERY:
			// A set operation's column holds every leg's rows, and its target
			// list names the first leg's only: not one table's column.
			if (rte->subquery->setOperations != nullptr)
				return false;
			return ResolveTarget(cat, get_tle_by_resno(rte->subquery->targetList, var->varattno), rte->subquery,
								 stack, level + 1, out);
		case RTE_CTE:
			return ResolveCte(cat, rte, var->varattno, stack, level, out);
		default:
			return false;
	}
}

// The only relation (varno, at this level) an expression's Vars come from.
bool
SingleRelation(Node *expr, Query *query, RangeTblEntry **relation, Index *varno)
{
	List *vars = pull_var_clause(expr, PVC_RECURSE_AGGREGATES | PVC_RECURSE_WINDOWFUNCS | PVC_RECURSE_PLACEHOLDERS);
	*varno = 0;
	ListCell *lc;
	foreach (lc, vars)
	{
		Var *v = static_cast<Var *>(lfirst(lc));
		if (v->varlevelsup != 0 || (*varno != 0 && static_cast<Index>(v->varno) != *varno))
			return false;
		*varno = static_cast<Index>(v->varno);
	}
	if (*varno == 0 || static_cast<int>(*varno) > list_length(query->rtable))
		return false;
	RangeTblEntry *rte = rt_fetch(*varno, query->rtable);
	if (rte->rtekind != RTE_RELATION)
		return false;
	*relation = rte;
	return true;
}

// Resolves the elements of row operand `row` (which must come first: a row
// is never an element of another), each to a column.
bool
ResolveRow(const Catalog &cat, RowExpr *row, Query **stack, int depth, Operand *out)
{
	if (out->count != 0 || out->row)
		return false;
	out->row = true;
	ListCell *lc;
	foreach (lc, row->args)
	{
		const int before = out->count;
		if (!ResolveOperand(cat, static_cast<Node *>(lfirst(lc)), stack, depth, out) || out->count != before + 1)
			return false;
	}
	return true;
}

// Appends what `operand` stands for to `out`: a table column (through views,
// subqueries, CTEs and joins), an expression of one table, or a row of those.
bool
ResolveOperand(const Catalog &cat, Node *operand, Query **stack, int depth, Operand *out)
{
	operand = strip_implicit_coercions(operand);
	if (IsA(operand, Var))
		return ResolveVar(cat, reinterpret_cast<Var *>(operand), stack, depth, out);
	if (IsA(operand, RowExpr))
		return ResolveRow(cat, reinterpret_cast<RowExpr *>(operand), stack, depth, out);
	// An expression: match it against index expressions of its one table.
	RangeTblEntry *rte;
	Index varno;
	if (!SingleRelation(operand, stack[depth - 1], &rte, &varno))
		return false;
	auto *normalized = static_cast<Node *>(copyObjectImpl(operand));
	if (varno != 1)
		ChangeVarNodes(normalized, static_cast<int>(varno), 1, 0);
	return AddColumn(stack[depth - 1], rte, 0, normalized, out);
}

// The index an operator's left operand resolves to: a column's only
// quarry_bm25 index, or for a row (title, body) of columns of one table (one
// range table entry: not two rows of a self-join), the only index on exactly
// those fields in that order.
Resolution
ResolveIndex(const Catalog &cat, Node *operand, Query **stack, int depth)
{
	Operand resolved;
	resolved.row = false;
	resolved.count = 0;
	if (!ResolveOperand(cat, operand, stack, depth, &resolved) || resolved.count == 0)
		return {};
	if (resolved.row != (resolved.count >= 2))
		return {}; // a row of one element, or a column that is a row
	const Column &first = resolved.columns[0];
	for (int i = 1; i < resolved.count; i++)
		if (resolved.columns[i].rte != first.rte)
			return {};
	return {UniqueIndex(cat, first.rte->relid, resolved), first.check_as_user};
}

// A constant query with the resolution filled in.
Node *
ResolvedConst(const Catalog &cat, QueryValue q, const Resolution &r)
{
	q.index = r.index;
	q.column_operand = true;
	q.check_as_user = r.check_as_user;
	return reinterpret_cast<Node *>(makeConst(cat.query_type, -1, InvalidOid, -1, EncodeQuery(q), false, false));
}

// The query operand with the resolution filled in, or nullptr to leave it.
Node *
ResolvedQuery(const Catalog &cat, Node *query, const Resolution &r)
{
	if (IsA(query, Const))
	{
		Const *c = reinterpret_cast<Const *>(query);
		if (c->constisnull)
			return nullptr;
		QueryValue q = DecodeQuery(c->constvalue);
		if (q.index != InvalidOid && q.index != r.index)
			return nullptr; // it names another index: scored on its own
		return ResolvedConst(cat, q, r);
	}
	Node *resolved = cat.resolve_oid
						 ? reinterpret_cast<Node *>(makeConst(OIDOID, -1, InvalidOid, sizeof(Oid),
															  ObjectIdGetDatum(r.index), false, true))
						 : ResolvedConst(cat, QueryValue{InvalidOid, {}, false}, r);
	FuncExpr *call = makeFuncExpr(cat.resolve_fn, cat.query_type, list_make2(query, resolved), InvalidOid,
								  InvalidOid, COERCE_EXPLICIT_CALL);
	return reinterpret_cast<Node *>(call);
}

bool Walker(Node *node, Walk *walk);

// The parts of a data-modifying query that hold the rows it writes (the
// values of INSERT and UPDATE, MERGE's actions, ON CONFLICT, RETURNING):
// walked with its result relation marked as written, then set aside so the
// rest of the query is walked as usual. (A constant inserted through a view
// and scored in RETURNING is not a row the view lets its users read.)
void
WalkWrittenRows(Query *query, Walk *walk)
{
	const Catalog saved = walk->cat;
	walk->cat.writing = query;
	walk->cat.written = static_cast<Index>(query->resultRelation);
	walk->cat.excluded = query->onConflict != nullptr ? static_cast<Index>(query->onConflict->exclRelIndex) : 0;
	Walker(reinterpret_cast<Node *>(query->targetList), walk);
	Walker(reinterpret_cast<Node *>(query->returningList), walk);
	Walker(reinterpret_cast<Node *>(query->onConflict), walk);
	Walker(reinterpret_cast<Node *>(query->mergeActionList), walk);
	walk->cat = saved;
}

bool
WalkQuery(Query *query, Walk *walk)
{
	if (walk->depth >= kMaxDepth)
		return false;
	walk->stack[walk->depth++] = query;
	const bool writes = query->commandType == CMD_INSERT || query->commandType == CMD_UPDATE ||
						query->commandType == CMD_DELETE || query->commandType == CMD_MERGE;
	List *target_list = query->targetList, *returning = query->returningList, *actions = query->mergeActionList;
	OnConflictExpr *on_conflict = query->onConflict;
	if (writes)
	{
		WalkWrittenRows(query, walk);
		query->targetList = query->returningList = query->mergeActionList = NIL;
		query->onConflict = nullptr;
	}
	bool result = query_tree_walker(query, AsWalker(Walker), walk, QTW_IGNORE_RANGE_TABLE);
	if (writes)
	{
		query->targetList = target_list;
		query->returningList = returning;
		query->mergeActionList = actions;
		query->onConflict = on_conflict;
	}
	// Subqueries in FROM, with this query on the stack for their outer Vars.
	ListCell *lc;
	foreach (lc, query->rtable)
	{
		auto *rte = static_cast<RangeTblEntry *>(lfirst(lc));
		if (rte->rtekind == RTE_SUBQUERY)
			WalkQuery(rte->subquery, walk);
		else if (rte->rtekind == RTE_FUNCTION || rte->rtekind == RTE_VALUES || rte->rtekind == RTE_TABLEFUNC)
			range_table_entry_walker(rte, AsWalker(Walker), walk, 0);
	}
	walk->depth--;
	return result;
}

// Whether `node` holds a parameter of the statement ($1).
bool
HasExternParam(Node *node, Walk *unused)
{
	if (node == nullptr)
		return false;
	if (IsA(node, Param))
		return reinterpret_cast<Param *>(node)->paramkind == PARAM_EXTERN;
	return expression_tree_walker(node, AsWalker(HasExternParam), unused);
}

// The query operand as a constant, folded with the statement's parameter
// values as the planner will fold it (a custom plan), or null if it is not
// one (a generic plan's parameter, a subquery, a column).
Const *
FoldedQuery(Node *query, const Walk *walk)
{
	if (IsA(query, Const))
		return reinterpret_cast<Const *>(query);
	PlannerGlobal *glob = makeNode(PlannerGlobal);
	glob->boundParams = walk->params;
	PlannerInfo *root = makeNode(PlannerInfo);
	root->glob = glob;
	Node *folded = eval_const_expressions(root, static_cast<Node *>(copyObjectImpl(query)));
	return IsA(folded, Const) ? reinterpret_cast<Const *>(folded) : nullptr;
}

// Raised when quarry.bm25_statistics = 'global' cannot be honoured: scoring
// with each shard's statistics instead would be a silent wrong answer.
[[noreturn]] void
ThrowNoGlobalStatistics(const char *why)
{
	throw pg::Error(ERRCODE_FEATURE_NOT_SUPPORTED,
					"quarry.bm25_statistics = 'global' cannot collect the statistics of this query", why,
					"Compute the query first (quarry_global_query(query, index) gives it with the table's "
					"statistics), or SET quarry.bm25_statistics = 'shard'.");
}

// The query operand of a scored query on a distributed table (quarry.
// bm25_statistics = 'global'): a constant carrying the table's statistics,
// or nullptr to leave it (a NULL query, one that carries statistics already,
// or a parameter of a generic plan, which the plan cache will not choose).
Node *
GlobalStatisticsQuery(Node *query, Oid index, Walk *walk)
{
	Const *value = FoldedQuery(query, walk);
	if (value == nullptr)
	{
		if (walk->params != nullptr || !HasExternParam(query, nullptr))
			ThrowNoGlobalStatistics("On a distributed table the query must be a constant or a parameter: it is "
									"collected when the statement is planned, before the shards run.");
		if (plan_cache_mode == PLAN_CACHE_MODE_FORCE_GENERIC_PLAN)
			ThrowNoGlobalStatistics("plan_cache_mode = force_generic_plan plans the statement without its "
									"parameters' values.");
		walk->needs_custom_plan = true;
		return nullptr;
	}
	if (value->constisnull)
		return nullptr;
	QueryValue q = DecodeQuery(value->constvalue);
	if (!q.stats.empty())
		return nullptr;
	if (q.index != InvalidOid && q.index != index)
		throw pg::Error(ERRCODE_FEATURE_NOT_SUPPORTED,
						pg::Format("the query names index \"%s\", but the column's quarry_bm25 index is \"%s\"",
								   get_rel_name(q.index), get_rel_name(index))
							.text,
						"On a distributed table each shard scores with its own index on the column.",
						"Name the column's index, or none.");
	for (int i = 0; i < walk->collected_count; i++)
	{
		const auto &c = walk->collected[i];
		if (c.index == index && datumIsEqual(c.query->constvalue, value->constvalue, false, -1))
			return static_cast<Node *>(copyObjectImpl(c.with_statistics));
	}
	Node *result = reinterpret_cast<Node *>(
		makeConst(walk->cat.query_type, -1, InvalidOid, -1,
				  WithGlobalStatistics(walk->cat.query_type, index, value->constvalue), false, false));
	if (walk->collected_count < static_cast<int>(std::size(walk->collected)))
		walk->collected[walk->collected_count++] = {index, value, result};
	return result;
}

// Names the index of the query in args[1] from the text operand args[0] (of
// an operator, or of a highlighting function). `scored`: the operator scores
// (<@>), which on a distributed table may need the table's statistics.
void
RewriteQueryArgument(List *args, Walk *walk, bool scored)
{
	if (list_length(args) < 2)
		return;
	Node *query = static_cast<Node *>(lsecond(args));
	if (exprType(query) != walk->cat.query_type)
		return;
	if (IsA(query, Const) && reinterpret_cast<Const *>(query)->constisnull)
		return;
	Query *stack[kMaxDepth];
	std::memcpy(stack, walk->stack, sizeof(Query *) * walk->depth);
	Resolution r = ResolveIndex(walk->cat, static_cast<Node *>(linitial(args)), stack, walk->depth);
	if (r.index == InvalidOid)
		return;
	if (IsDistributedTable(pg::IndexTable(r.index)))
	{
		// Each shard resolves its own index; the coordinator's OID means
		// nothing there. Only the statistics may be added here.
		Node *global = scored && statistics_mode == static_cast<int>(StatisticsMode::kGlobal)
						   ? GlobalStatisticsQuery(query, r.index, walk)
						   : nullptr;
		if (global != nullptr)
			list_nth_cell(args, 1)->ptr_value = global;
		return;
	}
	Node *resolved = ResolvedQuery(walk->cat, query, r);
	if (resolved != nullptr)
		list_nth_cell(args, 1)->ptr_value = resolved;
}

bool
Walker(Node *node, Walk *walk)
{
	if (node == nullptr)
		return false;
	if (IsA(node, Query))
		return WalkQuery(reinterpret_cast<Query *>(node), walk);
	if (IsA(node, OpExpr))
	{
		auto *op = reinterpret_cast<OpExpr *>(node);
		// Called back by PostgreSQL's tree walker: a throw must not cross it.
		const bool scored = op->opno == walk->cat.score_op ||
							(op->opno != InvalidOid && op->opno == walk->cat.row_score_op);
		if (scored || op->opno == walk->cat.match_op ||
			(op->opno != InvalidOid && op->opno == walk->cat.row_match_op))
			pg::Boundary("quarry planner hook", [&] { RewriteQueryArgument(op->args, walk, scored); });
	}
	if (IsA(node, FuncExpr))
	{
		auto *call = reinterpret_cast<FuncExpr *>(node);
		if (call->funcid != InvalidOid &&
			(call->funcid == walk->cat.snippet_fn || call->funcid == walk->cat.highlights_fn))
			pg::Boundary("quarry planner hook", [&] { RewriteQueryArgument(call->args, walk, false); });
	}
	return expression_tree_walker(node, AsWalker(Walker), walk);
}

// SELECT quarry_bm25_shard_statistics(<key>, q) FROM t, as the coordinator
// sends it to each shard of a distributed table (bm25_distributed.h), becomes
// one row: quarry_bm25_term_statistics(ARRAY[<t's index on key>], q), with t
// left in the range table (its SELECT permission still checked) but out of
// the FROM list. Anything else calling the function is left alone (it ERRORs).
bool
RewriteShardStatistics(Query *parse, Walk *walk)
{
	const Catalog &cat = walk->cat;
	if (cat.shard_stats_fn == InvalidOid || parse->commandType != CMD_SELECT || list_length(parse->rtable) != 1 ||
		list_length(parse->targetList) != 1 || parse->hasAggs || parse->hasWindowFuncs || parse->hasTargetSRFs ||
		parse->hasSubLinks || parse->groupClause != NIL || parse->havingQual != nullptr || parse->sortClause != NIL ||
		parse->distinctClause != NIL || parse->limitCount != nullptr || parse->limitOffset != nullptr ||
		parse->setOperations != nullptr || parse->cteList != NIL || parse->rowMarks != NIL)
		return false;
	auto *rte = static_cast<RangeTblEntry *>(linitial(parse->rtable));
	auto *tle = static_cast<TargetEntry *>(linitial(parse->targetList));
	Node *quals = parse->jointree->quals;
	if (rte->rtekind != RTE_RELATION || tle->resjunk || !IsA(tle->expr, FuncExpr) ||
		reinterpret_cast<FuncExpr *>(tle->expr)->funcid != cat.shard_stats_fn ||
		list_length(parse->jointree->fromlist) != 1 ||
		(quals != nullptr && !(IsA(quals, Const) && DatumGetBool(reinterpret_cast<Const *>(quals)->constvalue) &&
							   !reinterpret_cast<Const *>(quals)->constisnull)))
		return false;
	if (IsDistributedTable(rte->relid))
		return false; // the coordinator: Citus sends it to the shards
	List *args = reinterpret_cast<FuncExpr *>(tle->expr)->args;
	// The query must not depend on the table's rows: the table leaves the
	// FROM list (a query that does is left alone, and the function ERRORs).
	if (contain_vars_of_level(static_cast<Node *>(lsecond(args)), 0) ||
		contain_volatile_functions(static_cast<Node *>(lsecond(args))))
		return false;
	walk->stack[0] = parse;
	const Resolution r = ResolveIndex(cat, static_cast<Node *>(linitial(args)), walk->stack, 1);
	if (r.index == InvalidOid)
		return false;
	Datum oid = ObjectIdGetDatum(r.index);
	ArrayType *array = construct_array(&oid, 1, REGCLASSOID, sizeof(Oid), true, TYPALIGN_INT);
	Node *indexes = reinterpret_cast<Node *>(
		makeConst(REGCLASSARRAYOID, -1, InvalidOid, -1, PointerGetDatum(array), false, false));
	tle->expr = reinterpret_cast<Expr *>(makeFuncExpr(cat.term_stats_fn, TEXTOID,
													   list_make2(indexes, lsecond(args)), InvalidOid, InvalidOid,
													   COERCE_EXPLICIT_CALL));
	parse->jointree->fromlist = NIL;
	parse->jointree->quals = nullptr;
	return true;
}

// Looks the catalog of this install up by name (LoadCatalog caches it).
bool
LookUpCatalog(Catalog *cat)
{
	*cat = Catalog{};
	cat->am = AccessMethodOid(IndexKind::kBm25);
	cat->query_type = QueryTypeOid();
	if (cat->am == InvalidOid || cat->query_type == InvalidOid)
		return false;
	// pg/catalog_lookup.h: no permission check (this runs for every statement
	// of every role, and a role may have no USAGE on quarry's schema).
	const Oid schema = ExtensionSchema();
	cat->score_op = pg::OperatorInSchema(schema, "<@>", TEXTOID, cat->query_type);
	cat->match_op = pg::OperatorInSchema(schema, "@@@", TEXTOID, cat->query_type);
	cat->row_score_op = pg::OperatorInSchema(schema, "<@>", RECORDOID, cat->query_type);
	cat->row_match_op = pg::OperatorInSchema(schema, "@@@", RECORDOID, cat->query_type);
	const Oid snippet_args[6] = {TEXTOID, cat->query_type, TEXTOID, TEXTOID, INT4OID, INT4OID};
	cat->snippet_fn = pg::FunctionInSchema(schema, "quarry_snippet", snippet_args);
	cat->highlights_fn = pg::FunctionInSchema(schema, "quarry_highlights", std::span(snippet_args, 2));
	Oid stats_args[2] = {ANYOID, cat->query_type};
	cat->shard_stats_fn = pg::FunctionInSchema(schema, "quarry_bm25_shard_statistics", stats_args);
	stats_args[0] = REGCLASSARRAYOID;
	cat->term_stats_fn = pg::FunctionInSchema(schema, "quarry_bm25_term_statistics", stats_args);
	Oid args[2] = {cat->query_type, cat->query_type};
	cat->resolve_fn = pg::FunctionInSchema(schema, "quarry_query_resolve", args);
	cat->resolve_oid = cat->resolve_fn == InvalidOid;
	if (cat->resolve_oid)
	{
		args[1] = OIDOID;
		cat->resolve_fn = pg::FunctionInSchema(schema, "quarry_query_resolve", args);
	}
	return cat->score_op != InvalidOid && cat->match_op != InvalidOid && cat->resolve_fn != InvalidOid;
}

// The catalog of this install: looked up once per backend and again after
// a catalog change (am/catalog_generation.h), not for every planned statement.
bool
LoadCatalog(Catalog *cat)
{
	static Catalog cached;
	static bool cached_found = false;
	static uint64_t cached_at = 0;
	const uint64_t now = CatalogGeneration();
	if (cached_at != now)
	{
		cached_found = LookUpCatalog(&cached);
		cached_at = now; // a change during the lookup left CatalogGeneration() ahead: looked up again
	}
	*cat = cached;
	return cached_found;
}

PlannedStmt *
Planner(Query *parse, const char *query_string, int cursor_options, ParamListInfo bound_params)
{
	Walk walk;
	walk.depth = 0;
	walk.params = bound_params;
	walk.needs_custom_plan = false;
	walk.collected_count = 0;
	const bool loaded = pg::Boundary("quarry planner hook", [&] {
		if (parse->commandType == CMD_UTILITY || !LoadCatalog(&walk.cat))
			return false;
		if (RewriteShardStatistics(parse, &walk))
			return true;
		WalkQuery(parse, &walk);
		return true;
	});
	PlannedStmt *stmt = previous_planner != nullptr
							? previous_planner(parse, query_string, cursor_options, bound_params)
							: standard_planner(parse, query_string, cursor_options, bound_params);
	if (loaded)
		pg::Boundary("quarry planner hook", [&] { am::UseScanValues(stmt); });
	// A generic plan would score with each shard's statistics: priced so
	// that the plan cache always makes custom plans (as Citus does for
	// parameters it cannot route).
	if (walk.needs_custom_plan && stmt->planTree != nullptr)
		stmt->planTree->total_cost += 1e10;
	return stmt;
}

} // namespace

void
InstallPlannerHook()
{
	previous_planner = planner_hook;
	planner_hook = Planner;
}

} // namespace quarry::am::bm25
