// The quarry_query type: a BM25 query's text, whether the text is read with
// the query syntax (fts/query_syntax.h), and, once resolved, the quarry_bm25
// index whose statistics score it.
//
//   'allocator fragmentation'::quarry_query           index not named yet
//   quarry_query('allocator fragmentation', 'docs_body_idx')   index named
//   quarry_query_parse('+allocator -jemalloc')        read with the syntax
//
// An unnamed index is filled in by the planner from the column the query is
// compared with, when that column has exactly one quarry_bm25 index
// (bm25_planner.cpp). Storage: a varlena holding the index OID and the text
// (layout in bm25_query_type.cpp).
#pragma once

#include "pg/postgres_api.h"

extern "C" {
#include "nodes/plannodes.h"
#include "storage/itemptr.h"
#include "utils/memutils.h"
}

#include <string_view>

namespace quarry::am::bm25 {

struct QueryValue {
	Oid index; // InvalidOid when not resolved
	std::string_view text;
	bool parsed; // read with the query syntax (quarry_query_parse), else a bag of words
	// Set by the planner only: the operator's left operand is the index's
	// column, read by the statement through a range table entry the executor
	// checks as check_as_user (InvalidOid: the current user). See
	// bm25_query_type.cpp.
	bool column_operand = false;
	Oid check_as_user = InvalidOid;
};

/// `q` without the planner's column-read mark.
QueryValue WithoutColumnRead(QueryValue q);

/// Reads a quarry_query datum (detoasting if needed, in the current context).
QueryValue DecodeQuery(Datum value);
/// A new quarry_query datum, palloc'd in the current context.
Datum EncodeQuery(const QueryValue &query);

/// OIDs of the schema quarry is installed in and of the quarry_query type;
/// InvalidOid if the extension is not installed in this database.
Oid ExtensionSchema();
Oid QueryTypeOid();

/// Installs the planner hook (called from _PG_init).
void InstallPlannerHook();

/// After planning: the projection and filter of every ordered quarry_bm25
/// index scan take the scan's scores (bm25_plan_scores.cpp).
void UseScanScores(PlannedStmt *stmt, Oid am, Oid score_op);

struct PreparedQuery;

/// Index scans record, for the current statement, which index ran which query
/// (text and syntax flag: a parsed and a plain query with the same text are
/// different queries) and with which statistics (N, total length, document
/// frequencies). <@> and @@@ use them: an unresolved query (for example inside
/// a SQL function PostgreSQL inlined) takes the index that ran it, if exactly
/// one did; and a score computed while rows are being inserted concurrently
/// uses the statistics the ordering used, so the two agree exactly.
void NoteScanQuery(Oid index, const QueryValue &q, const PreparedQuery &query);
Oid IndexScannedInThisStatement(const QueryValue &q);
void UseScanStatistics(Oid index, const QueryValue &q, PreparedQuery &query);

/// The row a ranking scan (ORDER BY col <@> q) returned last, with the value
/// it ranked it with, so the same <@> evaluated for that row in the scan's
/// projection (rewritten by the planner into quarry_bm25_scored) takes that
/// value instead of tokenizing the row again (bm25_scan_notes.cpp). A scan
/// registers at each rescan (its query copied in `owner`'s memory) and is
/// forgotten when `owner` (its memory context) is reset or deleted, on
/// every path.
struct ReturnedRow;
ReturnedRow *RegisterRankingScan(MemoryContext owner, Oid index, const QueryValue &q);
void NoteReturnedRow(ReturnedRow *slot, ItemPointer tid, double value, bool null);
/// The value the scan ranking query `q` ranked row `tid` with, if that row
/// is the one it returned last.
bool ValueOfReturnedRow(const QueryValue &q, ItemPointer tid, double *value, bool *null);

} // namespace quarry::am::bm25
