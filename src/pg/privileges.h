// What a caller must be allowed to do before quarry reads or maintains an
// index: the checks PostgreSQL itself makes, with PostgreSQL's own errors.
//
//   reading   statistics, scores and index structure reveal what the table
//             holds, so they need what reading the table needs: SELECT on the
//             table, or SELECT on every column the index reads (as pg_stats
//             shows a column's statistics to whoever may read the column);
//   maintaining   what REINDEX asks: ownership of the table (PostgreSQL 15 and
//             16), the MAINTAIN privilege on it (17 and later);
//   running user code   index expressions and predicates evaluated by a
//             maintenance call run as the table's owner, in a security-
//             restricted operation with a nested GUC level (and, on 17 and
//             later, a safe search_path), as REINDEX, VACUUM and amcheck do.
//
// Every check reads the catalog only, before any lock on the table or index
// is taken, so a caller without the privilege cannot make others wait either.
// Version differences (object_ownercheck, ACL_MAINTAIN, RestrictSearchPath)
// stay in privileges.cpp.
#pragma once

#include "pg/postgres_api.h"

extern "C" {
#include "utils/rel.h"
}

namespace quarry::pg {

/// The table index `index` belongs to. ERRORs with PostgreSQL's messages when
/// there is no such relation or it is not an index.
Oid IndexTable(Oid index);

/// ERRORs ("permission denied for table t") unless the current user may read
/// the rows index `index` is built from: SELECT on the table, or SELECT on
/// every column its keys, expressions and predicate use.
void CheckIndexReadable(Oid index);

/// ERRORs ("must be owner of table t" on 15 and 16, "permission denied for
/// table t" on 17 and later) unless the current user may REINDEX the table of
/// `index`.
void CheckIndexMaintainable(Oid index);

/// The user and security context a maintenance call runs under while it
/// evaluates the table's code; see SwitchToTableOwner. Trivially destructible:
/// an ERROR restores both (the transaction abort resets the user and the GUC
/// nesting), the normal path calls RestoreUser.
struct SavedUser {
	Oid user;
	int security_context;
	int guc_nest_level;
};

/// From here on, run as the owner of `table` in a security-restricted
/// operation, with GUC changes confined to a new nesting level (and on 17 and
/// later a restricted search_path). Call after locking the table.
SavedUser SwitchToTableOwner(Relation table);

/// Undoes SwitchToTableOwner on the normal path.
void RestoreUser(const SavedUser &saved);

} // namespace quarry::pg
