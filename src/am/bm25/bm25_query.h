// The quarry_query type: a BM25 query's text, whether the text is read with
// the query syntax (fts/query_syntax.h), and, once resolved, the quarry_bm25
// index whose statistics score it.
//
//   'allocator fragmentation'::quarry_query           index not named yet
//   quarry_query('allocator fragmentation', 'docs_body_idx')   index named
//   quarry_query_parse('+allocator -jemalloc')        read with the syntax
//   quarry_query_with_statistics(q, 'n=... df=...')  scored with given statistics
//
// An unnamed index is filled in by the planner from the column the query is
// compared with, when that column has exactly one quarry_bm25 index
// (bm25_planner.cpp). Storage: a varlena holding the index OID and the text
// (layout in bm25_query_type.cpp).
#pragma once

#include "pg/postgres_api.h"


#include <cstdint>
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
	// BM25 statistics to score with instead of the index's own (a distributed
	// table's, fts/term_statistics.h): validated text, empty when none.
	std::string_view stats = {};
};

/// Whether the current user may score `q` with its index's statistics (a
/// row the statement reads from the index's column, or what pg_stats needs);
/// ERRORs if not (bm25_functions.cpp).
void CheckMayScore(const QueryValue &q);

/// `q` without the planner's column-read mark.
QueryValue WithoutColumnRead(QueryValue q);

/// `text` if it is well-formed statistics (fts/term_statistics.h); ERRORs if
/// not (bm25_global_stats.cpp).
std::string_view CheckStatistics(std::string_view text);

/// A hash of the statistics a query carries (FNV-1a; 0 for none): cached
/// scorers are reused only for the same statistics.
inline uint64_t
StatisticsHash(std::string_view stats)
{
	if (stats.empty())
		return 0;
	uint64_t h = 1469598103934665603ULL;
	for (char c : stats)
		h = (h ^ static_cast<unsigned char>(c)) * 1099511628211ULL;
	return h | 1;
}

/// Reads a quarry_query datum (detoasting if needed, in the current context).
QueryValue DecodeQuery(Datum value);
/// A new quarry_query datum, palloc'd in the current context.
Datum EncodeQuery(const QueryValue &query);

/// OIDs of the schema quarry is installed in and of the quarry_query type;
/// InvalidOid if the extension is not installed in this database.
Oid ExtensionSchema();
Oid QueryTypeOid();

} // namespace quarry::am::bm25
