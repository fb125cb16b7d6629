// quarry_hnsw amvalidate: checks an operator class the way contrib/bloom's
// blvalidate does. Every problem is reported with an INFO message; the result
// is false if there was any.
//
// A quarry_hnsw opclass has
//   - support function 1: (internal) -> int4, returning the metric code
//     (1 L2, 2 inner product, 3 cosine);
//   - operator strategy 1: an ORDER BY operator (real[], real[]) -> float8
//     whose sort family is a btree family (float_ops).
#include "am/hnsw/hnsw.h"

extern "C" {
#include "access/amvalidate.h"
#include "access/htup_details.h"
#include "catalog/pg_am_d.h"
#include "catalog/pg_amop.h"
#include "catalog/pg_amproc.h"
#include "catalog/pg_opclass.h"
#include "catalog/pg_opfamily.h"
#include "catalog/pg_type.h"
#include "utils/builtins.h"
#include "utils/lsyscache.h"
#include "utils/regproc.h"
#include "utils/syscache.h"
}

#include "pg/guard.h"

namespace quarry::am::hnsw {

namespace {

// The access method of an operator family, or InvalidOid.
Oid
FamilyMethod(Oid family)
{
	HeapTuple tuple = SearchSysCache1(OPFAMILYOID, ObjectIdGetDatum(family));
	if (!HeapTupleIsValid(tuple))
		return InvalidOid;
	Oid method = reinterpret_cast<Form_pg_opfamily>(GETSTRUCT(tuple))->opfmethod;
	ReleaseSysCache(tuple);
	return method;
}

bool
CheckProcs(const char *family, Oid opcintype, CatCList *procs)
{
	bool ok = true;
	for (int i = 0; i < procs->n_members; i++)
	{
		auto *proc = reinterpret_cast<Form_pg_amproc>(GETSTRUCT(&procs->members[i]->tuple));
		if (proc->amproclefttype != proc->amprocrighttype)
		{
			ereport(INFO,
					(errcode(ERRCODE_INVALID_OBJECT_DEFINITION),
					 errmsg("quarry_hnsw opfamily %s contains support function %s with cross-type registration",
							family, format_procedure(proc->amproc))));
			ok = false;
		}
		if (proc->amproclefttype != opcintype)
			continue;
		if (proc->amprocnum != kMetricProc && proc->amprocnum != kFormatProc)
		{
			ereport(INFO,
					(errcode(ERRCODE_INVALID_OBJECT_DEFINITION),
					 errmsg("quarry_hnsw opfamily %s contains function %s with invalid support number %d", family,
							format_procedure(proc->amproc), proc->amprocnum)));
			ok = false;
			continue;
		}
		if (!check_amproc_signature(proc->amproc, INT4OID, true, 1, 1, INTERNALOID))
		{
			ereport(INFO,
					(errcode(ERRCODE_INVALID_OBJECT_DEFINITION),
					 errmsg("quarry_hnsw opfamily %s contains function %s with wrong signature for support "
							"number %d",
							family, format_procedure(proc->amproc), proc->amprocnum)));
			ok = false;
		}
	}
	return ok;
}

bool
CheckOperators(const char *family, CatCList *operators)
{
	bool ok = true;
	for (int i = 0; i < operators->n_members; i++)
	{
		auto *op = reinterpret_cast<Form_pg_amop>(GETSTRUCT(&operators->members[i]->tuple));
		if (op->amopstrategy != kDistanceStrategy)
		{
			ereport(INFO,
					(errcode(ERRCODE_INVALID_OBJECT_DEFINITION),
					 errmsg("quarry_hnsw opfamily %s contains operator %s with invalid strategy number %d", family,
							format_operator(op->amopopr), op->amopstrategy)));
			ok = false;
		}
		if (op->amoppurpose != AMOP_ORDER || !OidIsValid(op->amopsortfamily) ||
			FamilyMethod(op->amopsortfamily) != BTREE_AM_OID)
		{
			ereport(INFO,
					(errcode(ERRCODE_INVALID_OBJECT_DEFINITION),
					 errmsg("quarry_hnsw opfamily %s contains operator %s that is not an ORDER BY operator "
							"sorted by a btree family",
							family, format_operator(op->amopopr))));
			ok = false;
		}
		if (!check_amop_signature(op->amopopr, FLOAT8OID, op->amoplefttype, op->amoprighttype))
		{
			ereport(INFO,
					(errcode(ERRCODE_INVALID_OBJECT_DEFINITION),
					 errmsg("quarry_hnsw opfamily %s contains operator %s with wrong signature", family,
							format_operator(op->amopopr))));
			ok = false;
		}
	}
	return ok;
}

} // namespace

bool
Validate(Oid opclass_oid)
{
	HeapTuple class_tuple = SearchSysCache1(CLAOID, ObjectIdGetDatum(opclass_oid));
	if (!HeapTupleIsValid(class_tuple))
		pg::ThrowError(ERRCODE_INTERNAL_ERROR, "cache lookup failed for operator class %u", opclass_oid);
	auto *opclass = reinterpret_cast<Form_pg_opclass>(GETSTRUCT(class_tuple));
	const Oid family_oid = opclass->opcfamily;
	const Oid opcintype = opclass->opcintype;
	const char *class_name = NameStr(opclass->opcname);
	HeapTuple family_tuple = SearchSysCache1(OPFAMILYOID, ObjectIdGetDatum(family_oid));
	if (!HeapTupleIsValid(family_tuple))
		pg::ThrowError(ERRCODE_INTERNAL_ERROR, "cache lookup failed for operator family %u", family_oid);
	const char *family = NameStr(reinterpret_cast<Form_pg_opfamily>(GETSTRUCT(family_tuple))->opfname);

	CatCList *operators = SearchSysCacheList1(AMOPSTRATEGY, ObjectIdGetDatum(family_oid));
	CatCList *procs = SearchSysCacheList1(AMPROCNUM, ObjectIdGetDatum(family_oid));
	bool ok = CheckProcs(family, opcintype, procs);
	ok = CheckOperators(family, operators) && ok;

	// The opclass's own group must be complete: support function 1 and the
	// distance operator.
	OpFamilyOpFuncGroup *group = nullptr;
	List *groups = identify_opfamily_groups(operators, procs);
	ListCell *cell;
	foreach (cell, groups)
	{
		auto *g = static_cast<OpFamilyOpFuncGroup *>(lfirst(cell));
		if (g->lefttype == opcintype && g->righttype == opcintype)
			group = g;
	}
	// real[], unless support function 2 names another input format (pgvector's
	// vector and halfvec: quarry_pgvector's opclasses), which the values are
	// checked against when they are read.
	const bool has_format = group != nullptr && (group->functionset & (UINT64CONST(1) << kFormatProc)) != 0;
	if (opcintype != FLOAT4ARRAYOID && !has_format)
	{
		ereport(INFO,
				(errcode(ERRCODE_INVALID_OBJECT_DEFINITION),
				 errmsg("quarry_hnsw opclass %s is for type %s; quarry_hnsw indexes real[], or another type "
						"whose input format support function 2 names",
						class_name, format_type_be(opcintype))));
		ok = false;
	}
	if (group == nullptr || (group->functionset & (UINT64CONST(1) << kMetricProc)) == 0)
	{
		ereport(INFO,
				(errcode(ERRCODE_INVALID_OBJECT_DEFINITION),
				 errmsg("quarry_hnsw opclass %s is missing support function %d", class_name, kMetricProc)));
		ok = false;
	}
	if (group == nullptr || (group->operatorset & (UINT64CONST(1) << kDistanceStrategy)) == 0)
	{
		ereport(INFO,
				(errcode(ERRCODE_INVALID_OBJECT_DEFINITION),
				 errmsg("quarry_hnsw opclass %s is missing operator %d", class_name, kDistanceStrategy)));
		ok = false;
	}
	ReleaseCatCacheList(procs);
	ReleaseCatCacheList(operators);
	ReleaseSysCache(family_tuple);
	ReleaseSysCache(class_tuple);
	return ok;
}

} // namespace quarry::am::hnsw
