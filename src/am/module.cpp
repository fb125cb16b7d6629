// The module: PG_MODULE_MAGIC and _PG_init. Each access method registers its
// own reloptions and settings (bm25/bm25_handler.cpp, hnsw/hnsw_handler.cpp).
#include "pg/postgres_api.h"

#include "am/bm25/bm25.h"
#include "am/hnsw/hnsw.h"
#include "am/hybrid/hybrid.h"

extern "C" {
#include "utils/guc.h"

PG_MODULE_MAGIC;

PGDLLEXPORT void _PG_init(void);
}

// Runs when a backend loads quarry.so. jemalloc initialises itself lazily, at
// the first build arena.
extern "C" void
_PG_init(void)
{
	quarry::am::bm25::Initialize();
	quarry::am::hnsw::Initialize();
	quarry::am::hybrid::Initialize(); // after bm25's planner hook: it runs first
	MarkGUCPrefixReserved("quarry");
}
