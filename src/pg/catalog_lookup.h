// Catalog objects of an extension, looked up by schema OID and name without
// the permission checks of PostgreSQL's name lookup.
//
// OpernameGetOprid and LookupFuncName with a schema-qualified name go through
// LookupExplicitNamespace, which raises "permission denied for schema" for a
// role without USAGE on it, even when asked to return InvalidOid instead. The
// planner hooks look quarry's operators and functions up for every statement
// of every role, and quarry (or pgvector) may live in a schema some roles may
// not use: such a role could then run no statement at all. These look the
// catalog up directly (syscache, pg_extension), as the executor does when it
// runs a function an owner's view or a rewritten plan names; using what they
// find is still checked where PostgreSQL checks it (EXECUTE at run time).
#pragma once

#include "pg/postgres_api.h"

#include <span>

namespace quarry::pg {

/// Operator `name`(left, right) in `schema`, or InvalidOid.
Oid OperatorInSchema(Oid schema, const char *name, Oid left, Oid right);

/// Function `name` in `schema` with exactly the argument types `args`, or
/// InvalidOid.
Oid FunctionInSchema(Oid schema, const char *name, std::span<const Oid> args);

/// Type `name` in `schema`, or InvalidOid.
Oid TypeInSchema(Oid schema, const char *name);

/// The schema of extension `extension`, or InvalidOid if not installed.
Oid SchemaOfExtension(const char *extension);

} // namespace quarry::pg
