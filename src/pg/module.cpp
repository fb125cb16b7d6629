// The module: PG_MODULE_MAGIC and _PG_init.
#include "pg/postgres_api.h"

#include "am/bm25/bm25.h"
#include "am/bm25/bm25_query.h"
#include "am/hnsw/hnsw.h"
#include "pg/gucs.h"

extern "C" {
PG_MODULE_MAGIC;

PGDLLEXPORT void _PG_init(void);
}

// Runs when a backend loads quarry.so: registers settings, reloptions and the
// planner hook. jemalloc initialises itself lazily, at the first build arena.
extern "C" void
_PG_init(void)
{
	quarry::pg::DefineGucs();
	quarry::am::bm25::RegisterOptions();
	quarry::am::bm25::InstallPlannerHook();
	quarry::am::hnsw::RegisterOptions(); // quarry_hnsw's reloptions
}
