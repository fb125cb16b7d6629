#include "pg/postgres_api.h"

extern "C" {
#include "utils/guc.h"
}

#include "pg/gucs.h"

namespace quarry::pg {

void
DefineGucs()
{
	MarkGUCPrefixReserved("quarry");
}

} // namespace quarry::pg
