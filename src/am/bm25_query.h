// The quarry_query type: a BM25 query's text and, once resolved, the
// quarry_bm25 index whose statistics score it.
//
//   'allocator fragmentation'::quarry_query           index not named yet
//   quarry_query('allocator fragmentation', 'docs_body_idx')   index named
//
// An unnamed index is filled in by the planner from the column the query is
// compared with, when that column has exactly one quarry_bm25 index
// (bm25_planner.cpp). Storage: a varlena holding the index OID and the text.
#pragma once

#include "pg/postgres_api.h"

#include <string_view>

namespace quarry::am::bm25 {

struct QueryValue {
	Oid index; // InvalidOid when not resolved
	std::string_view text;
};

/// Reads a quarry_query datum (detoasting if needed, in the current context).
QueryValue DecodeQuery(Datum value);
/// A new quarry_query datum, palloc'd in the current context.
Datum EncodeQuery(Oid index, std::string_view text);

/// ERRORs unless `index` is a quarry_bm25 index.
void CheckIsBm25Index(Oid index);

/// OIDs of the quarry_bm25 access method, the schema quarry is installed in,
/// and the quarry_query type; InvalidOid if the extension is not installed in
/// this database.
Oid Bm25AmOid();
Oid ExtensionSchema();
Oid QueryTypeOid();

/// Installs the planner hook (called from _PG_init).
void InstallPlannerHook();

/// The fallback for queries the planner could not resolve (for example inside
/// a SQL function PostgreSQL inlined): index scans record which index runs
/// which query text in the current statement, and <@> / @@@ use that index if
/// exactly one did.
void NoteScanQuery(Oid index, std::string_view text);
Oid IndexScannedInThisStatement(std::string_view text);

} // namespace quarry::am::bm25
