// amvalidate for quarry_bm25: checks that an operator class holds exactly what
// the access method understands (after contrib/bloom's blvalidate):
//   strategy 1  @@@ (text, quarry_query) -> boolean, for search
//   strategy 2  <@> (text, quarry_query) -> double precision, for ORDER BY,
//               sorted by the float8 btree family
// and no support functions. The family may also hold the same two strategies
// with a record left operand, (record, quarry_query): the row of an index's
// key columns, which is how an index on several fields (BM25F) is queried
// (bm25_fields_plan.cpp); the operator class itself must have the text ones.
// Problems are reported as INFO, and the result is false.
#include "am/bm25/bm25.h"
#include "am/bm25/bm25_query.h"

extern "C" {
#include "access/amvalidate.h"
#include "access/htup_details.h"
#include "catalog/pg_am.h"
#include "catalog/pg_amop.h"
#include "catalog/pg_amproc.h"
#include "catalog/pg_opclass.h"
#include "catalog/pg_opfamily.h"
#include "catalog/pg_type.h"
#include "commands/defrem.h"
#include "utils/builtins.h"
#include "utils/lsyscache.h"
#include "utils/regproc.h"
#include "utils/syscache.h"
}

namespace quarry::am::bm25 {

namespace {

constexpr int kStrategyMatch = 1;
constexpr int kStrategyScore = 2;

// Checks one member of the family: strategy, purpose, input and result types.
// Marks the text members seen; INFO and false for a wrong one.
bool
CheckOperator(Form_pg_amop op, const char *family, Oid query_type, Oid float8_family, bool *seen)
{
	bool ok = true;
	auto report = [&](const char *what) {
		ereport(INFO, (errcode(ERRCODE_INVALID_OBJECT_DEFINITION),
					   errmsg("quarry_bm25 operator family \"%s\" contains operator %s with %s", family,
							  format_operator(op->amopopr), what)));
		ok = false;
	};
	// A text column, or the row of an index's fields.
	const bool row = op->amoplefttype == RECORDOID;
	if ((op->amoplefttype != TEXTOID && !row) || op->amoprighttype != query_type)
		report("wrong input types (expected text or record, quarry_query)");
	const Oid left = row ? RECORDOID : TEXTOID;
	switch (op->amopstrategy)
	{
		case kStrategyMatch:
			if (op->amoppurpose != AMOP_SEARCH)
				report("strategy 1, which must be a search operator");
			else if (!check_amop_signature(op->amopopr, BOOLOID, left, query_type))
				report("a wrong signature for strategy 1 (expected boolean result)");
			break;
		case kStrategyScore:
			if (op->amoppurpose != AMOP_ORDER || op->amopsortfamily != float8_family)
				report("strategy 2, which must order by the float8 btree family");
			else if (!check_amop_signature(op->amopopr, FLOAT8OID, left, query_type))
				report("a wrong signature for strategy 2 (expected double precision result)");
			break;
		default:
			report("an invalid strategy number");
			return false;
	}
	// The operator class needs its own (text) members; the row ones are extra.
	if (!row)
		seen[op->amopstrategy] = true;
	return ok;
}

} // namespace

bool
Validate(Oid opclass)
{
	HeapTuple class_tuple = SearchSysCache1(CLAOID, ObjectIdGetDatum(opclass));
	if (!HeapTupleIsValid(class_tuple))
		pg::ThrowError(ERRCODE_INTERNAL_ERROR, "cache lookup failed for operator class %u", opclass);
	auto *class_form = reinterpret_cast<Form_pg_opclass>(GETSTRUCT(class_tuple));
	Oid family_oid = class_form->opcfamily;
	char *class_name = pstrdup(NameStr(class_form->opcname));
	bool ok = true;
	if (class_form->opcintype != TEXTOID)
	{
		ereport(INFO, (errcode(ERRCODE_INVALID_OBJECT_DEFINITION),
					   errmsg("quarry_bm25 operator class \"%s\" must index type text", class_name)));
		ok = false;
	}
	ReleaseSysCache(class_tuple);

	HeapTuple family_tuple = SearchSysCache1(OPFAMILYOID, ObjectIdGetDatum(family_oid));
	if (!HeapTupleIsValid(family_tuple))
		pg::ThrowError(ERRCODE_INTERNAL_ERROR, "cache lookup failed for operator family %u", family_oid);
	char *family_name = pstrdup(NameStr(reinterpret_cast<Form_pg_opfamily>(GETSTRUCT(family_tuple))->opfname));
	ReleaseSysCache(family_tuple);

	Oid query_type = QueryTypeOid();
	Oid float8_family = get_opfamily_oid(BTREE_AM_OID, list_make1(makeString(const_cast<char *>("float_ops"))), true);
	bool seen[kStrategyScore + 1] = {};

	CatCList *procs = SearchSysCacheList1(AMPROCNUM, ObjectIdGetDatum(family_oid));
	if (procs->n_members > 0)
	{
		ereport(INFO, (errcode(ERRCODE_INVALID_OBJECT_DEFINITION),
					   errmsg("quarry_bm25 operator family \"%s\" has support functions; it takes none", family_name)));
		ok = false;
	}
	ReleaseSysCacheList(procs);

	CatCList *ops = SearchSysCacheList1(AMOPSTRATEGY, ObjectIdGetDatum(family_oid));
	for (int i = 0; i < ops->n_members; i++)
	{
		auto *op = reinterpret_cast<Form_pg_amop>(GETSTRUCT(&ops->members[i]->tuple));
		ok = CheckOperator(op, family_name, query_type, float8_family, seen) && ok;
	}
	ReleaseSysCacheList(ops);

	for (int s : {kStrategyMatch, kStrategyScore})
	{
		if (seen[s])
			continue;
		ereport(INFO, (errcode(ERRCODE_INVALID_OBJECT_DEFINITION),
					   errmsg("quarry_bm25 operator class \"%s\" is missing operator strategy %d", class_name, s)));
		ok = false;
	}
	return ok;
}

} // namespace quarry::am::bm25
