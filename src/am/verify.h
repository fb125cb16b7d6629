// quarry_verify_index(): checks an index against its table and its own
// invariants. Each access method has its checker; problems are reported as
// rows of text (no rows: the index is sound).
#pragma once

#include "pg/postgres_api.h"

extern "C" {
#include "utils/rel.h"
}

namespace quarry::am {

/// Collects problems found by a checker.
class VerifyReport {
public:
	virtual void Problem(const char *fmt, ...) pg_attribute_printf(2, 3) = 0;
	/// Stops listing after this many problems of one kind (a broken index can
	/// have millions).
	static constexpr int kMaxPerKind = 20;

protected:
	~VerifyReport() = default;
};

namespace bm25 {
/// Checks a quarry_bm25 index: page identities and the metapage; every
/// segment's dictionary, posting lists (sorted, decodable, within the segment,
/// document frequencies and the sum of each row's tfs equal to its length),
/// lengths and heap TIDs; the pending list; N and the total length; and, against
/// the table (with a ShareLock held), that every row the index should hold is
/// in it exactly once with the right length, and that no entry points to a
/// heap slot that no longer holds its row.
void Verify(Relation index, Relation heap, VerifyReport &report);
} // namespace bm25

namespace hnsw {
/// Checks a quarry_hnsw index: the metapage and the page of every block;
/// every slot's TID entry and record (states, levels, heap TIDs, vectors);
/// neighbour lists, upper-layer items, duplicate chains, the entry point;
/// and, against the table (with a ShareLock held), that every row the index
/// should hold is in it exactly once with its vector, and that no entry
/// points to a heap slot that no longer holds its row. What the design allows
/// (links into freed slots, unreachable nodes) is not reported: see
/// hnsw_verify.cpp.
void Verify(Relation index, Relation heap, VerifyReport &report);
} // namespace hnsw

} // namespace quarry::am
