// pgvector's own value of the ordering operator for the rows an ordered scan
// returns, for the projection (quarry_hnsw_scored on pgvector's types, see
// am/plan_scores.cpp).
//
// quarry's kernels sum in another order than pgvector's (which its compiler
// vectorises), so a distance the scan computed is not pgvector's to the last
// bit, and `SELECT v <-> q` must not depend on the plan. But an index with
// `storage = 'full'` holds each row's vector exactly as the table does (a
// vector's floats; a halfvec's halves, each exactly a float) unless the
// metric is cosine (stored normalised). So for L2, inner product and L1 the
// scan rebuilds the row's value of the column from its node and calls
// pgvector's operator function on it, the one the executor gave the scan
// (ScanKey sk_func): the same function on the same bytes, the same value,
// without the row's vector being detoasted from the table (a 784-d vector is
// stored out of line: a TOAST index lookup and two chunk reads per row).
//
// C-shaped: the state is trivially destructible and lives in the scan's
// memory context; pgvector's function may raise an ERROR.
#pragma once

#include "am/hnsw/hnsw_disk_graph.h"
#include "hnsw/vector_formats.h"

extern "C" {
#include "access/relscan.h"
}

namespace quarry::am::hnsw {

struct OperatorValue;

/// The scan's ORDER BY key when its function is pgvector's operator of the
/// index's opclass (the executor's keys carry it; quarry's hybrid scan builds
/// one without), on an opclass reading `format` (a pgvector type): the key
/// whose function computes the values the scan gives; else nullptr.
ScanKey PgvectorOrderingKey(IndexScanDesc scan, quarry::hnsw::InputFormat format);

/// The state for `scan` of an index of `graph`, whose opclass reads values
/// of `format`, if the scan can give them as pgvector's operator computes
/// them (a pgvector type, storage 'full', not cosine), in `arena` (for one
/// rescan); nullptr for any other index.
OperatorValue *BeginOperatorValue(IndexScanDesc scan, const DiskGraph &graph, mem::ScanArena &arena,
								  quarry::hnsw::InputFormat format);

/// pgvector's operator on the vector of `node`, which holds the row at heap
/// TID `tid` (pg::PackTid), and the scan's query, into *out. False when it
/// cannot be had exactly: the slot holds another row by now, or a stored
/// float is not exactly a half. Call after graph.BeginCall() in the same
/// callback.
bool OperatorValueOf(OperatorValue *state, DiskGraph &graph, uint32_t node, uint64_t tid, double *out);

} // namespace quarry::am::hnsw
