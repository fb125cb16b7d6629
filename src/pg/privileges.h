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
// A caller may also not run quarry_verify_index while PUBLIC may (a 0.1.0
// install script not yet updated): CheckNotGrantedToPublic.
//
// Every check reads the catalog only, before any lock on the table or index
// is taken, so a caller without the privilege cannot make others wait either.
// Version differences (object_ownercheck, ACL_MAINTAIN, RestrictSearchPath)
// stay in privileges.cpp.
#pragma once

#include "pg/postgres_api.h"

extern "C" {
#include "nodes/parsenodes.h"
#include "utils/rel.h"
}

#include <type_traits>

namespace quarry::pg {

/// The table index `index` belongs to. ERRORs with PostgreSQL's messages when
/// there is no such relation or it is not an index.
Oid IndexTable(Oid index);

/// ERRORs ("permission denied for table t") unless `user` may read the rows
/// index `index` is built from: SELECT on the table, or SELECT on every
/// column its keys, expressions and predicate use. For a row the query reads
/// from the table anyway, through a range table entry the executor checks as
/// `user` (the current user, or a view's owner).
void CheckIndexReadable(Oid index, Oid user);
/// Whether CheckIndexReadable would pass.
bool IndexReadable(Oid index, Oid user);

/// What reading an index's statistics without reading its rows needs (a
/// constant scored with them, quarry_bm25_stats, quarry_hnsw_index_info):
/// CheckIndexReadable as the current user, and no row-level security policy
/// in force for the current user on the table (pg_stats hides the statistics
/// of such a table likewise: they count rows the policies hide).
void CheckIndexStatisticsReadable(Oid index);

/// Whether row-level security policies filter `table` for the current user.
bool RowSecurityActive(Oid table);

/// The user PostgreSQL's executor checks a range table entry's privileges as
/// (a view's owner for the tables the view reads), or InvalidOid for the
/// current user. PostgreSQL 16 moved it into RTEPermissionInfo.
Oid RangeTableCheckAsUser(const Query *query, const RangeTblEntry *rte);

/// ERRORs unless the current user may REINDEX `index`, with REINDEX INDEX's
/// own error ("must be owner of index i" on 15 and 16, "permission denied for
/// index i" on 17 and later).
void CheckIndexMaintainable(Oid index);

/// ERRORs unless function `function` is kept from PUBLIC or the caller is a
/// superuser: for functions the install script revokes from PUBLIC, so an
/// install whose script predates the REVOKE is not open to everyone.
void CheckNotGrantedToPublic(Oid function, const char *update_hint);

/// The user and security context a maintenance call runs under while it
/// evaluates the table's code; see SwitchToTableOwner. Trivially destructible:
/// an ERROR restores both (the transaction abort resets the user and the GUC
/// nesting), the normal path calls RestoreUser.
struct SavedUser {
	Oid user;
	int security_context;
	int guc_nest_level;
};
static_assert(std::is_trivially_destructible_v<SavedUser>);

/// From here on, run as the owner of `table` in a security-restricted
/// operation, with GUC changes confined to a new nesting level (and on 17 and
/// later a restricted search_path). Call after locking the table.
SavedUser SwitchToTableOwner(Relation table);

/// Undoes SwitchToTableOwner on the normal path.
void RestoreUser(const SavedUser &saved);

} // namespace quarry::pg
