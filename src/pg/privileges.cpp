// Privilege checks and the switch to the table's owner (privileges.h).
#include "pg/privileges.h"

#include "pg/guard.h"

extern "C" {
#include "access/htup_details.h"
#include "catalog/index.h"
#include "catalog/pg_class.h"
#include "catalog/pg_index.h"
#include "miscadmin.h"
#include "nodes/nodes.h"
#include "optimizer/optimizer.h"
#include "utils/acl.h"
#include "utils/builtins.h"
#include "utils/guc.h"
#include "utils/lsyscache.h"
#include "utils/syscache.h"
#include "utils/rls.h"
#include "parser/parsetree.h"
#if PG_VERSION_NUM >= 160000
#include "parser/parse_relation.h" // getRTEPermissionInfo, PostgreSQL 16
#endif
#include "catalog/pg_proc.h"
}

namespace quarry::pg {

namespace {

[[noreturn]] void
ReportNoSuchRelation(Oid relation)
{
	ThrowError(ERRCODE_UNDEFINED_TABLE, "relation with OID %u does not exist", relation);
	pg_unreachable();
}

// PostgreSQL's own error for `result` on relation `relation` ("permission
// denied for table t", "must be owner of table t").
[[noreturn]] void
ReportDenied(AclResult result, Oid relation)
{
	char relkind = get_rel_relkind(relation);
	const char *name = get_rel_name(relation);
	if (name == nullptr)
		ReportNoSuchRelation(relation);
	aclcheck_error(result, get_relkind_objtype(relkind), name);
	pg_unreachable();
}

// Adds the columns that expression column `column` (indexprs or indpred) of
// the pg_index row uses to `columns` (offset by FirstLowInvalidHeapAttributeNumber,
// as pull_varattnos does).
Bitmapset *
AddExpressionColumns(HeapTuple index_tuple, int column, Bitmapset *columns)
{
	bool isnull = true;
	Datum value = SysCacheGetAttr(INDEXRELID, index_tuple, column, &isnull);
	if (isnull)
		return columns;
	auto *node = static_cast<Node *>(stringToNode(TextDatumGetCString(value)));
	pull_varattnos(node, 1, &columns);
	return columns;
}

// Whether `user` may SELECT every column index `index` reads from `table`.
bool
MayReadIndexedColumns(Oid index, Oid table, Oid user)
{
	HeapTuple tuple = SearchSysCache1(INDEXRELID, ObjectIdGetDatum(index));
	if (!HeapTupleIsValid(tuple))
		ReportNoSuchRelation(index);
	auto *form = reinterpret_cast<Form_pg_index>(GETSTRUCT(tuple));
	Bitmapset *columns = nullptr;
	for (int i = 0; i < form->indnatts; i++)
		if (form->indkey.values[i] != 0)
			columns = bms_add_member(columns, form->indkey.values[i] - FirstLowInvalidHeapAttributeNumber);
	columns = AddExpressionColumns(tuple, Anum_pg_index_indexprs, columns);
	columns = AddExpressionColumns(tuple, Anum_pg_index_indpred, columns);
	ReleaseSysCache(tuple);
	if (bms_is_empty(columns))
		return false; // an index on constants only: the table privilege decides
	int member = -1;
	while ((member = bms_next_member(columns, member)) >= 0)
	{
		auto column = static_cast<AttrNumber>(member + FirstLowInvalidHeapAttributeNumber);
		// A whole-row reference (column 0) needs every column: the table privilege.
		if (column <= 0 || pg_attribute_aclcheck(table, column, user, ACL_SELECT) != ACLCHECK_OK)
			return false;
	}
	return true;
}

} // namespace

Oid
IndexTable(Oid index)
{
	Oid table = IndexGetRelation(index, true);
	if (table != InvalidOid)
		return table;
	const char *name = get_rel_name(index);
	if (name == nullptr)
		ReportNoSuchRelation(index);
	ThrowError(ERRCODE_WRONG_OBJECT_TYPE, "\"%s\" is not an index", name);
	pg_unreachable();
}

bool
IndexReadable(Oid index, Oid user)
{
	Oid table = IndexTable(index);
	return pg_class_aclcheck(table, user, ACL_SELECT) == ACLCHECK_OK || MayReadIndexedColumns(index, table, user);
}

void
CheckIndexReadable(Oid index, Oid user)
{
	if (!IndexReadable(index, user))
		ReportDenied(ACLCHECK_NO_PRIV, IndexTable(index));
}

void
CheckIndexStatisticsReadable(Oid index)
{
	CheckIndexReadable(index, GetUserId());
	if (RowSecurityActive(IndexTable(index)))
		throw Error(ERRCODE_INSUFFICIENT_PRIVILEGE,
					Format("the statistics of index \"%s\" count rows that row-level security hides from you",
						   get_rel_name(index))
						.text,
					nullptr, "Score rows you read from the table (ORDER BY column <@> query), or ask its owner.");
}

bool
RowSecurityActive(Oid table)
{
	return check_enable_rls(table, InvalidOid, true) == RLS_ENABLED;
}

Oid
RangeTableCheckAsUser(const Query *query, const RangeTblEntry *rte)
{
#if PG_VERSION_NUM >= 160000
	// PostgreSQL 16 moved the permission fields into RTEPermissionInfo.
	if (rte->perminfoindex == 0)
		return InvalidOid;
	return getRTEPermissionInfo(query->rteperminfos, const_cast<RangeTblEntry *>(rte))->checkAsUser;
#else
	(void)query;
	return rte->checkAsUser;
#endif
}

void
CheckNotGrantedToPublic(Oid function, const char *update_hint)
{
	if (superuser())
		return;
#if PG_VERSION_NUM >= 160000
	// PostgreSQL 16 replaced pg_proc_aclcheck with object_aclcheck.
	AclResult result = object_aclcheck(ProcedureRelationId, function, ACL_ID_PUBLIC, ACL_EXECUTE);
#else
	AclResult result = pg_proc_aclcheck(function, ACL_ID_PUBLIC, ACL_EXECUTE);
#endif
	if (result == ACLCHECK_OK)
		throw Error(ERRCODE_INSUFFICIENT_PRIVILEGE,
					Format("%s may be run by everyone in this database", get_func_name(function)).text,
					"Its install script predates the REVOKE that keeps it from PUBLIC.", update_hint);
}

void
CheckIndexMaintainable(Oid index)
{
	Oid user = GetUserId();
	const char *name = get_rel_name(index);
	if (name == nullptr)
		ReportNoSuchRelation(index);
#if PG_VERSION_NUM >= 170000
	// PostgreSQL 17 added the MAINTAIN privilege (held by owners and
	// pg_maintain); REINDEX INDEX asks for it on the table.
	AclResult result = pg_class_aclcheck(IndexTable(index), user, ACL_MAINTAIN);
	if (result != ACLCHECK_OK)
		aclcheck_error(result, OBJECT_INDEX, name);
#elif PG_VERSION_NUM >= 160000
	// PostgreSQL 16 replaced pg_class_ownercheck with object_ownercheck.
	if (!object_ownercheck(RelationRelationId, index, user))
		aclcheck_error(ACLCHECK_NOT_OWNER, OBJECT_INDEX, name);
#else
	// REINDEX INDEX on 15 asks for ownership of the index (its table's owner).
	if (!pg_class_ownercheck(index, user))
		aclcheck_error(ACLCHECK_NOT_OWNER, OBJECT_INDEX, name);
#endif
}

SavedUser
SwitchToTableOwner(Relation table)
{
	SavedUser saved{};
	GetUserIdAndSecContext(&saved.user, &saved.security_context);
	SetUserIdAndSecContext(table->rd_rel->relowner, saved.security_context | SECURITY_RESTRICTED_OPERATION);
	saved.guc_nest_level = NewGUCNestLevel();
#if PG_VERSION_NUM >= 170000
	// PostgreSQL 17: maintenance operations run with search_path = pg_catalog, pg_temp.
	RestrictSearchPath();
#endif
	return saved;
}

void
RestoreUser(const SavedUser &saved)
{
	AtEOXact_GUC(false, saved.guc_nest_level);
	SetUserIdAndSecContext(saved.user, saved.security_context);
}

} // namespace quarry::pg
