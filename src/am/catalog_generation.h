// A counter of catalog changes that can move what quarry's planner hook
// looks up by name (its operators, functions, types, the extension's
// schema), so the hook looks them up once per backend instead of once per
// planned statement (every statement of a session that loaded quarry paid
// 3 to 6 us for it, quarry's or not).
#pragma once

#include "pg/postgres_api.h"

#include <cstdint>

namespace quarry::am {

/// The current generation: it changes whenever a row of pg_proc,
/// pg_operator, pg_type, pg_namespace or pg_am is invalidated in this
/// backend (created, changed, dropped: CREATE/DROP/ALTER EXTENSION, SET
/// SCHEMA, ...). A value looked up by name at generation g is current while
/// CatalogGeneration() == g. Never 0, so 0 can mean "not looked up".
uint64_t CatalogGeneration();

} // namespace quarry::am
