// One row returned by an SQL function declared with OUT columns.
//
// C-shaped: calls PostgreSQL directly (an ERROR is a longjmp); call it from a
// frame with only trivially destructible locals.
#pragma once

#include "pg/postgres_api.h"

#include <span>

namespace quarry::pg {

/// The row `values` / `nulls` (values.size() of each) as the result of the
/// function `fcinfo` calls, which `function` names in errors. Its declaration
/// must have values.size() columns, or `older_columns`: the leading ones, as
/// an older extension script declared it (a library updated before ALTER
/// EXTENSION quarry UPDATE ran); 0 when there is no such script.
Datum ResultRow(FunctionCallInfo fcinfo, const char *function, std::span<const Datum> values, const bool *nulls,
				int older_columns = 0);

} // namespace quarry::pg
