// How the planner sees a quarry_bm25 index on several fields (BM25F).
//
// An index on (title, body) is queried with the row of its key columns as the
// left operand: ORDER BY (title, body) <@> q, WHERE (title, body) @@@ q. The
// planner matches an operator's left operand against ONE index column, so
// once it has read the table's indexes (get_relation_info_hook) each
// quarry_bm25 index with two key columns or more is presented to it as a
// one-column expression index whose column is that row, equal() to what the
// parser makes of `(title, body)` and `ROW(title, body)`: a RowExpr of type
// record with columns f1, f2, ... (transformRowExpr), holding each key column
// in order (a Var of the table's column, or the index expression). The
// operator family holds <@> and @@@ (record, quarry_query), so the index
// scan, the bitmap scan and the ORDER BY are PostgreSQL's own paths; the
// executor finds the operator in the index's rd_opfamily[0] and gives the
// access method scan keys on attribute 1 (sk_argument the query), whose value
// the access method splits into fields itself.
//
// Consequences: a one-column operand (`title <@> q`) never matches such an
// index (no column of it is `title` any more), and only a row of exactly its
// columns, in their order, does. The index's collation is left out (the
// record operators have none). The row has no statistics of its own: the
// index statistics ANALYZE keeps for an expression column belong to that
// column, not to the row, and are withheld from the planner
// (get_index_stats_hook) so that no estimate reads a column's values as rows.
// Indexes on one column are left exactly as PostgreSQL describes them.
#include "am/bm25/bm25_planner.h"
#include "am/index_kind.h"

#include "pg/guard.h"

extern "C" {
#include "access/htup_details.h"
#include "catalog/pg_index.h"
#include "catalog/pg_type.h"
#include "nodes/makefuncs.h"
#include "nodes/pathnodes.h"
#include "optimizer/plancat.h"
#include "utils/lsyscache.h"
#include "utils/selfuncs.h"
#include "utils/syscache.h"
}

#include <cstdio>

namespace quarry::am::bm25 {

namespace {

get_relation_info_hook_type previous_relation_info = nullptr;
get_index_stats_hook_type previous_index_stats = nullptr;

// The row of the key columns of `info`, an index of table `table` (range
// table index rel->relid), as the parser makes it of (c1, c2, ...): a Var per
// plain column (the table's type, typmod and collation), the index expression
// (already on rel->relid) per expression column, type record, columns named
// f1, f2, ... C-shaped; throws for a description without its expressions.
RowExpr *
FieldsRow(Oid table, const RelOptInfo *rel, const IndexOptInfo *info)
{
	RowExpr *row = makeNode(RowExpr);
	ListCell *expr = list_head(info->indexprs);
	for (int i = 0; i < info->nkeycolumns; i++)
	{
		const AttrNumber attno = static_cast<AttrNumber>(info->indexkeys[i]);
		Node *field;
		if (attno != 0)
		{
			Oid type, collation;
			int32 typmod;
			get_atttypetypmodcoll(table, attno, &type, &typmod, &collation);
			field = reinterpret_cast<Node *>(makeVar(rel->relid, attno, type, typmod, collation, 0));
		}
		else
		{
			if (expr == nullptr)
				pg::ThrowError(ERRCODE_INTERNAL_ERROR, "too few entries in indexprs list of index %u", info->indexoid);
			field = static_cast<Node *>(copyObjectImpl(lfirst(expr)));
			expr = lnext(info->indexprs, expr);
		}
		row->args = lappend(row->args, field);
		char name[16];
		snprintf(name, sizeof(name), "f%d", i + 1);
		row->colnames = lappend(row->colnames, makeString(pstrdup(name)));
	}
	row->row_typeid = RECORDOID;
	row->row_format = COERCE_IMPLICIT_CAST; // as transformRowExpr sets it
	row->location = -1;
	return row;
}

// Presents index `info` to the planner as one expression column holding the
// row of its key columns (see the file comment). C-shaped.
void
PresentAsRow(Oid table, const RelOptInfo *rel, IndexOptInfo *info)
{
	RowExpr *row = FieldsRow(table, rel, info);
	info->ncolumns = info->nkeycolumns = 1;
	info->indexkeys[0] = 0;
	info->indexcollations[0] = InvalidOid; // the record operators take no collation
	info->canreturn[0] = false;
	info->indexprs = list_make1(row);
	info->indextlist = list_make1(makeTargetEntry(reinterpret_cast<Expr *>(row), 1, nullptr, false));
}

// get_relation_info_hook: every quarry_bm25 index of the relation with more
// than one key column becomes a one-column index on their row.
void
RelationInfo(PlannerInfo *root, Oid table, bool inhparent, RelOptInfo *rel)
{
	if (previous_relation_info != nullptr)
		previous_relation_info(root, table, inhparent, rel);
	pg::Boundary("quarry_bm25 get_relation_info hook", [&] {
		Oid am = InvalidOid;
		ListCell *lc;
		foreach (lc, rel->indexlist)
		{
			auto *info = static_cast<IndexOptInfo *>(lfirst(lc));
			if (info->nkeycolumns < 2)
				continue;
			if (am == InvalidOid)
				am = AccessMethodOid(IndexKind::kBm25);
			if (am != InvalidOid && info->relam == am)
				PresentAsRow(table, rel, info);
		}
	});
}

// Whether `index` is a quarry_bm25 index with more than one key column.
// C-shaped.
bool
IsFieldsIndex(Oid index)
{
	HeapTuple tuple = SearchSysCache1(INDEXRELID, ObjectIdGetDatum(index));
	if (!HeapTupleIsValid(tuple))
		return false;
	const int keys = reinterpret_cast<Form_pg_index>(GETSTRUCT(tuple))->indnkeyatts;
	ReleaseSysCache(tuple);
	return keys >= 2 && KindOfIndex(index) == IndexKind::kBm25;
}

// get_index_stats_hook: no statistics for the row column of a fields index
// (the ones stored for its first index column describe that column's
// values); any other index as before.
bool
IndexStats(PlannerInfo *root, Oid index, AttrNumber column, VariableStatData *vardata)
{
	const bool fields = pg::Boundary("quarry_bm25 get_index_stats hook", [&] { return IsFieldsIndex(index); });
	if (fields)
	{
		vardata->statsTuple = nullptr;
		vardata->freefunc = nullptr;
		return true;
	}
	return previous_index_stats != nullptr && previous_index_stats(root, index, column, vardata);
}

} // namespace

void
InstallFieldsPlanHooks()
{
	previous_relation_info = get_relation_info_hook;
	get_relation_info_hook = RelationInfo;
	previous_index_stats = get_index_stats_hook;
	get_index_stats_hook = IndexStats;
}

} // namespace quarry::am::bm25
