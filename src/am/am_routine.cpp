// What am_routine.h's wrappers share that is not a template.
#include "am/am_routine.h"

extern "C" {
#include "access/itup.h"
#include "utils/memutils.h"
}

namespace quarry::am::detail {

void
SetNoColumnsTuple(IndexScanDesc scan)
{
	// Formed once per backend, in TopMemoryContext: a one-column tuple whose
	// column is NULL reads the same under any one-column descriptor.
	static IndexTuple no_columns = nullptr;
	TupleDesc desc = RelationGetDescr(scan->indexRelation);
	if (no_columns == nullptr)
	{
		Datum values[1] = {0};
		bool nulls[1] = {true};
		MemoryContext old = MemoryContextSwitchTo(TopMemoryContext);
		no_columns = index_form_tuple(desc, values, nulls);
		MemoryContextSwitchTo(old);
	}
	scan->xs_itup = no_columns;
	scan->xs_itupdesc = desc;
}

} // namespace quarry::am::detail
