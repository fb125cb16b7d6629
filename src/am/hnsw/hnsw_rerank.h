// Exact distances for the scan of a compressed quarry_hnsw index, read from
// the vectors in the table.
//
// A compressed index (storage = 'sq8' or 'sq4') keeps codes, not vectors: its
// scan walks the graph by the distance to the decoded codes, then reranks
// its candidates by the exact distance to the row's
// vector, fetched from the table under the scan's snapshot (as pgvectorscale
// rescores and VectorChord reranks from the heap), and returns them in that
// order with xs_recheckorderby = false (hnsw_scan.cpp, NextRerankedRow). The
// full vectors are not kept a second time in the index: the table already
// has them, and a LIMIT k query reads ef_search of them.
//
// On pgvector's types the rerank also gives each row pgvector's own value of
// the ordering operator, for the projection (am/plan_scores.cpp): the scan
// key's function on the row's value it just read, where the projection would
// have read and detoasted that value again (a 784-d vector is stored out of
// line). It orders by quarry's kernels on the same vectors, as the full
// layout does (hnsw_operator_value.h). The value is computed for every row
// read, as the scan cannot know whether the projection will ask: about
// 0.1 us a row at 784 dimensions, against about 4 us to read the row.
//
// Only an index on a plain column can do this; an index on an expression
// leaves the rerank to PostgreSQL's reorder queue instead (the scan returns
// lower bounds: quantizer.h).
#pragma once

#include "am/hnsw/hnsw.h"

extern "C" {
#include "access/relscan.h"
#include "executor/tuptable.h"
#include "utils/snapshot.h"
}

#include <cstdint>

namespace quarry::am::hnsw {

/// What a scan needs to read vectors from its table. Trivially destructible:
/// it lives in the scan's memory context; EndHeapVectors releases what
/// PostgreSQL holds for it.
struct HeapVectors {
	IndexFetchTableData *fetch;
	TupleTableSlot *slot;
	MemoryContext batch_context; // a detoasted value, reset after each distance
	AttrNumber column; // the indexed column of the table
	quarry::hnsw::InputFormat format;
	quarry::hnsw::Metric metric;
	uint32_t dims;
	float *scratch; // dims floats: the row's vector as the index stores it
	// The scan's ORDER BY key when it is pgvector's operator
	// (PgvectorOrderingKey): ExactDistance then also gives its value. Set
	// by every rescan; nullptr otherwise.
	ScanKey value_key;
};
static_assert(std::is_trivially_destructible_v<HeapVectors>);

/// Whether a scan of `index` can rerank from the table: the index is on a
/// plain column, not an expression.
bool CanRerankFromTable(Relation index);

/// Sets up `h` for a scan of `index` on `heap` (in the current memory
/// context), for vectors of `dims` dimensions.
void BeginHeapVectors(HeapVectors *h, Relation heap, Relation index, quarry::hnsw::Metric metric, uint32_t dims);

/// The internal distance (distance.h) between `query` (as the index stores
/// it) and the vector of the row at `tid`, as the SQL operator computes it;
/// false when no version of the row is visible to `snapshot` (the executor
/// would not return it either) or its vector is NULL. With a value_key, also
/// the value of its function on the row's vector and the key's query into
/// *value (pgvector's operator, to the last bit).
bool ExactDistance(HeapVectors *h, uint64_t tid, Snapshot snapshot, const float *query, float *distance,
				   double *value);

/// Releases the slot, its buffer pin and the fetch state.
void EndHeapVectors(HeapVectors *h);

} // namespace quarry::am::hnsw
