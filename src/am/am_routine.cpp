// What am_routine.h's wrappers share that is not a template.
#include "am/am_routine.h"

extern "C" {
#include "access/itup.h"
#include "access/tupdesc.h"
#include "catalog/pg_type_d.h"
#include "utils/memutils.h"
}

namespace quarry::am::detail {

void
SetNoColumnsTuple(IndexScanDesc scan)
{
	// Formed once per backend, in TopMemoryContext. One column: PostgreSQL
	// plans the scan's slot from the index's target list, which has one entry
	// for every quarry index (quarry_hnsw indexes one column; a quarry_bm25
	// index on several fields is presented to the planner as one column of
	// their row, bm25_fields_plan.cpp), so the descriptor is ours, not the
	// index's. Its type does not matter: the column is NULL.
	static TupleDesc one_column = nullptr;
	static IndexTuple no_columns = nullptr;
	if (no_columns == nullptr)
	{
		MemoryContext old = MemoryContextSwitchTo(TopMemoryContext);
		TupleDesc desc = CreateTemplateTupleDesc(1);
		TupleDescInitEntry(desc, 1, "none", INT4OID, -1, 0);
		Datum values[1] = {0};
		bool nulls[1] = {true};
		no_columns = index_form_tuple(desc, values, nulls);
		one_column = desc;
		MemoryContextSwitchTo(old);
	}
	scan->xs_itup = no_columns;
	scan->xs_itupdesc = one_column;
}

} // namespace quarry::am::detail
