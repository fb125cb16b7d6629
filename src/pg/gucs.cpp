#include "pg/postgres_api.h"

extern "C" {
#include "utils/guc.h"
}

#include "pg/gucs.h"

namespace quarry::pg {

int bm25_pending_limit_kb = 1024;

namespace {

void
DefineBm25Gucs()
{
	DefineCustomIntVariable("quarry.bm25_pending_limit",
							"Size at which a quarry_bm25 index flushes its pending list into a segment.",
							"Rows inserted after CREATE INDEX wait in the pending list, which every query "
							"reads in full; a smaller limit keeps queries fast, a larger one makes fewer segments.",
							&bm25_pending_limit_kb, 1024, 64, 1024 * 1024, PGC_USERSET, GUC_UNIT_KB, nullptr, nullptr,
							nullptr);
}

} // namespace

void
DefineGucs()
{
	DefineBm25Gucs();
	MarkGUCPrefixReserved("quarry");
}

} // namespace quarry::pg
