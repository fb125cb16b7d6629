// Catalog lookups without permission checks (catalog_lookup.h). C-shaped:
// the catalog calls may raise ERRORs; no C++ object with a destructor lives
// in these frames.
#include "pg/catalog_lookup.h"

extern "C" {
#include "access/genam.h"
#include "access/stratnum.h"
#include "access/table.h"
#include "catalog/indexing.h"
#include "catalog/pg_extension.h"
#include "catalog/pg_operator.h"
#include "catalog/pg_proc.h"
#include "catalog/pg_type.h"
#include "utils/builtins.h"
#include "utils/fmgroids.h"
#include "utils/syscache.h"
}

namespace quarry::pg {

Oid
OperatorInSchema(Oid schema, const char *name, Oid left, Oid right)
{
	if (schema == InvalidOid)
		return InvalidOid;
	return GetSysCacheOid4(OPERNAMENSP, Anum_pg_operator_oid, CStringGetDatum(name), ObjectIdGetDatum(left),
						   ObjectIdGetDatum(right), ObjectIdGetDatum(schema));
}

Oid
FunctionInSchema(Oid schema, const char *name, std::span<const Oid> args)
{
	if (schema == InvalidOid)
		return InvalidOid;
	oidvector *types = buildoidvector(args.data(), static_cast<int>(args.size()));
	const Oid function = GetSysCacheOid3(PROCNAMEARGSNSP, Anum_pg_proc_oid, CStringGetDatum(name),
										 PointerGetDatum(types), ObjectIdGetDatum(schema));
	pfree(types);
	return function;
}

Oid
TypeInSchema(Oid schema, const char *name)
{
	if (schema == InvalidOid)
		return InvalidOid;
	return GetSysCacheOid2(TYPENAMENSP, Anum_pg_type_oid, CStringGetDatum(name), ObjectIdGetDatum(schema));
}

// pg_extension has no syscache: an index scan by name, as get_extension_oid.
Oid
SchemaOfExtension(const char *extension)
{
	Relation catalog = table_open(ExtensionRelationId, AccessShareLock);
	ScanKeyData key;
	ScanKeyInit(&key, Anum_pg_extension_extname, BTEqualStrategyNumber, F_NAMEEQ, CStringGetDatum(extension));
	SysScanDesc scan = systable_beginscan(catalog, ExtensionNameIndexId, true, nullptr, 1, &key);
	HeapTuple tuple = systable_getnext(scan);
	const Oid schema =
		HeapTupleIsValid(tuple) ? reinterpret_cast<Form_pg_extension>(GETSTRUCT(tuple))->extnamespace : InvalidOid;
	systable_endscan(scan);
	table_close(catalog, AccessShareLock);
	return schema;
}

} // namespace quarry::pg
