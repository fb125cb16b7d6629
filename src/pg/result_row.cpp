#include "pg/result_row.h"

extern "C" {
#include "access/htup_details.h"
#include "funcapi.h"
}

#include "pg/guard.h"

namespace quarry::pg {

Datum
ResultRow(FunctionCallInfo fcinfo, const char *function, std::span<const Datum> values, const bool *nulls,
		  int older_columns)
{
	TupleDesc desc;
	if (get_call_result_type(fcinfo, nullptr, &desc) != TYPEFUNC_COMPOSITE)
		ThrowError(ERRCODE_INTERNAL_ERROR, "%s: return type must be a row type", function);
	const int columns = static_cast<int>(values.size());
	if (desc->natts != columns && (older_columns == 0 || desc->natts != older_columns))
		ThrowError(ERRCODE_INTERNAL_ERROR, "%s: expected %d result columns, found %d", function, columns, desc->natts);
	desc = BlessTupleDesc(desc);
	// heap_form_tuple reads desc->natts of each array.
	return HeapTupleGetDatum(heap_form_tuple(desc, const_cast<Datum *>(values.data()), const_cast<bool *>(nulls)));
}

} // namespace quarry::pg
