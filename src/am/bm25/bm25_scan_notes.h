// What this statement's index scans ranked with (bm25_scan_notes.cpp).
#pragma once

#include "am/bm25/bm25_query.h"

extern "C" {
#include "storage/itemptr.h"
#include "utils/memutils.h"
}

namespace quarry::am::bm25 {

struct PreparedQuery;

/// Index scans record, for the current statement, which index ran which query
/// (text, syntax flag and the statistics it carries: a parsed and a plain
/// query with the same text are different queries) and with which statistics
/// (N, total length, document
/// frequencies). <@> and @@@ use them: an unresolved query (for example inside
/// a SQL function PostgreSQL inlined) takes the index that ran it, if exactly
/// one did; and a score computed while rows are being inserted concurrently
/// uses the statistics the ordering used, so the two agree exactly.
void NoteScanQuery(Oid index, const QueryValue &q, const PreparedQuery &query);
Oid IndexScannedInThisStatement(const QueryValue &q);
/// The index of query `q`: the one it names, else the one that ran it in this
/// statement; else a clear ERROR saying to name it.
Oid IndexOfQuery(const QueryValue &q);
void UseScanStatistics(Oid index, const QueryValue &q, PreparedQuery &query);

} // namespace quarry::am::bm25
