// Citus distributed tables, recognised by their row in pg_dist_partition
// (see distributed_table.h).
#include "am/distributed_table.h"

extern "C" {
#include "access/genam.h"
#include "access/htup_details.h"
#include "access/stratnum.h"
#include "access/table.h"
#include "catalog/pg_namespace.h"
#include "utils/fmgroids.h"
#include "utils/lsyscache.h"
#include "utils/rel.h"
}

namespace quarry::am {

namespace {

// pg_dist_partition's columns read here (Citus's catalog, stable since 6.0).
constexpr AttrNumber kLogicalRelid = 1;
constexpr AttrNumber kPartMethod = 2;

} // namespace

// C-shaped: raises PostgreSQL's errors (callers run it from their hooks).
bool
IsDistributedTable(Oid relid)
{
	const Oid catalog = get_relname_relid("pg_dist_partition", PG_CATALOG_NAMESPACE);
	if (catalog == InvalidOid)
		return false; // Citus is not installed in this database
	Relation rel = table_open(catalog, AccessShareLock);
	ScanKeyData key;
	ScanKeyInit(&key, kLogicalRelid, BTEqualStrategyNumber, F_OIDEQ, ObjectIdGetDatum(relid));
	SysScanDesc scan = systable_beginscan(rel, InvalidOid, false, nullptr, 1, &key);
	bool distributed = false;
	if (HeapTuple tuple = systable_getnext(scan); HeapTupleIsValid(tuple))
	{
		bool isnull;
		Datum method = heap_getattr(tuple, kPartMethod, RelationGetDescr(rel), &isnull);
		// 'h' hash, 'r' range, 'a' append: shards of different rows; 'n': a
		// reference or Citus local table, whole wherever it is.
		distributed = !isnull && DatumGetChar(method) != 'n';
	}
	systable_endscan(scan);
	table_close(rel, AccessShareLock);
	return distributed;
}

} // namespace quarry::am
